//! Which settings' curves coincide, said in words under a chart: a line drawn exactly over
//! another hides it, and a reader cannot tell "StepLR is missing" from "StepLR and plateau gave
//! the same lr until the plateau's first cut". The report says so instead.
//!
//! Curves are compared bit for bit (the same computation gives the same bits here: same seed,
//! same schedule up to a point), on the points both curves have.

/// Curves longer than their common part by this fraction or less are not worth a "the same
/// until" note: a shared first few points is what every run with one seed has.
const MIN_SHARED_FRACTION: f64 = 0.05;

/// The sentences for one chart: `names[i]`'s curve is `curves[i]` at the x values `x` (`None`
/// where the setting has no point); `what` names the quantity ("lr"), `x_unit` the x axis
/// ("step"). Identical curves are grouped ("A, B and C have identical lr curves (drawn on top
/// of each other)"); of the others, each pair that agrees on a long first stretch gets "A and B
/// have the same lr until step N".
pub fn notes(
    names: &[&str],
    x: &[f64],
    curves: &[Vec<Option<f64>>],
    what: &str,
    x_unit: &str,
) -> Vec<String> {
    // group[i]: the first setting whose curve equals i's over their common points.
    let mut group: Vec<usize> = (0..curves.len()).collect();
    for i in 0..curves.len() {
        for j in 0..i {
            if group[j] == j && shared_prefix(&curves[i], &curves[j]).identical {
                group[i] = j;
                break;
            }
        }
    }
    let mut out = Vec::new();
    for lead in (0..curves.len()).filter(|&i| group[i] == i) {
        let members: Vec<&str> = (0..curves.len())
            .filter(|&i| group[i] == lead)
            .map(|i| names[i])
            .collect();
        if members.len() > 1 {
            out.push(format!(
                "{} have identical {what} curves (drawn on top of each other).",
                and_list(&members)
            ));
        }
    }
    let leads: Vec<usize> = (0..curves.len()).filter(|&i| group[i] == i).collect();
    for (k, &i) in leads.iter().enumerate() {
        for &j in &leads[..k] {
            let shared = shared_prefix(&curves[j], &curves[i]);
            let Some(last) = shared.last_equal else {
                continue;
            };
            if (shared.equal as f64) < MIN_SHARED_FRACTION * shared.common as f64
                || shared.equal < 2
            {
                continue;
            }
            out.push(format!(
                "{} and {} have the same {what} until {x_unit} {}.",
                names[j],
                names[i],
                crate::plot::tick(x[last])
            ));
        }
    }
    out
}

/// How far two curves agree.
struct Shared {
    /// Points both curves have.
    common: usize,
    /// Of those, how many agree before the first difference.
    equal: usize,
    /// The index (into x) of the last agreeing point before the first difference.
    last_equal: Option<usize>,
    /// Every common point agrees (and there is at least one).
    identical: bool,
}

fn shared_prefix(a: &[Option<f64>], b: &[Option<f64>]) -> Shared {
    let mut shared = Shared {
        common: 0,
        equal: 0,
        last_equal: None,
        identical: true,
    };
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        let (Some(p), Some(q)) = (p, q) else {
            continue;
        };
        shared.common += 1;
        if shared.identical && p.to_bits() == q.to_bits() {
            shared.equal += 1;
            shared.last_equal = Some(i);
        } else {
            shared.identical = false;
        }
    }
    shared.identical &= shared.common > 0;
    shared
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().map(|&v| Some(v)).collect()
    }

    #[test]
    fn identical_curves_are_grouped_and_named_once() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let same = curve(&[0.1, 0.1, 0.05, 0.05]);
        let other = curve(&[0.2, 0.1, 0.1, 0.1]);
        let notes = notes(
            &["steplr", "cosine", "plateau", "multistep"],
            &x,
            &[same.clone(), other, same.clone(), same],
            "lr",
            "step",
        );
        assert_eq!(
            notes,
            ["steplr, plateau and multistep have identical lr curves (drawn on top of each other)."]
        );
    }

    #[test]
    fn a_long_shared_start_is_said_with_its_last_step() {
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        let step: Vec<f64> = (1..=100)
            .map(|s| if s <= 60 { 0.1 } else { 0.01 })
            .collect();
        let plateau: Vec<f64> = (1..=100)
            .map(|s| if s <= 80 { 0.1 } else { 0.05 })
            .collect();
        let cosine: Vec<f64> = (1..=100).map(|s| 0.1 / f64::from(s)).collect();
        let notes = notes(
            &["StepLR", "ReduceLROnPlateau", "cosine"],
            &x,
            &[curve(&step), curve(&plateau), curve(&cosine)],
            "lr",
            "step",
        );
        // cosine shares one point with the others: not worth saying.
        assert_eq!(
            notes,
            ["StepLR and ReduceLROnPlateau have the same lr until step 60."]
        );
    }

    #[test]
    fn missing_points_are_skipped_and_nothing_shared_says_nothing() {
        let x = [1.0, 2.0, 3.0];
        let a = vec![Some(1.0), None, Some(3.0)];
        let b = vec![Some(1.0), Some(2.0), Some(3.0)];
        assert_eq!(
            notes(&["a", "b"], &x, &[a, b], "test accuracy", "epoch"),
            ["a and b have identical test accuracy curves (drawn on top of each other)."]
        );
        let c = curve(&[1.0, 2.0, 3.0]);
        let d = curve(&[2.0, 2.0, 3.0]);
        assert!(notes(&["c", "d"], &x, &[c, d], "lr", "step").is_empty());
        assert!(notes(&["e"], &x, &[curve(&[1.0; 3])], "lr", "step").is_empty());
    }
}
