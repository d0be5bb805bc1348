//! Counts in printed messages: "1 step", "2 steps", never "1 steps".

/// `n` followed by `noun`, in the plural unless `n` is 1: `plural(1, "run")` is "1 run",
/// `plural(0, "run")` is "0 runs". `noun` is one that takes a plain `-s` plural.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "step"), "1 step");
        assert_eq!(plural(0, "run"), "0 runs");
        assert_eq!(plural(2, "epoch"), "2 epochs");
        assert_eq!(plural(5875, "step"), "5875 steps");
    }
}
