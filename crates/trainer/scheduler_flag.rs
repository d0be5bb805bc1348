//! `--scheduler NAME` and the scheduler flags of `trainer train`: what a name stands for, and
//! errors that say what was meant (`platue`: did you mean `plateau`?) and what to do (a class
//! with required arguments needs a config file; ReduceLROnPlateau's cut is `--factor`).

use anyhow::bail;
use optim::{SchedulerConfig, SCHEDULER_NAMES};
use toml::{Table, Value};

use crate::config::scheduler_shorthand;

/// The shorthands `--scheduler` takes besides the class names, with what they stand for.
const SHORTHANDS: [(&str, &str); 3] = [
    ("step", "the tutorial's StepLR(step_size=4, gamma=0.96)"),
    (
        "plateau",
        "the tutorial's ReduceLROnPlateau(mode='max', factor=0.5, patience=1) on test accuracy",
    ),
    ("none", "a constant lr"),
];

/// Common short names of the classes (what people type), lower case.
const ALIASES: [(&str, &str); 10] = [
    ("cosine", "CosineAnnealingLR"),
    ("cos", "CosineAnnealingLR"),
    ("onecycle", "OneCycleLR"),
    ("one-cycle", "OneCycleLR"),
    ("exponential", "ExponentialLR"),
    ("multistep", "MultiStepLR"),
    ("cyclic", "CyclicLR"),
    ("linear", "LinearLR"),
    ("warmrestarts", "CosineAnnealingWarmRestarts"),
    ("polynomial", "PolynomialLR"),
];

/// The `[scheduler]` table `--scheduler NAME` starts from: a shorthand's table, or
/// `{ name = NAME }` for a PyTorch class name. Anything else is an error that suggests the
/// closest name and lists what is accepted.
pub fn table_of(name: &str) -> anyhow::Result<Table> {
    if let Some(table) = scheduler_shorthand(name) {
        return Ok(table);
    }
    if SCHEDULER_NAMES.contains(&name) {
        return Ok(Table::from_iter([(
            "name".to_string(),
            Value::String(name.to_string()),
        )]));
    }
    let hint = match suggestion(name) {
        Some(meant) => format!("did you mean `--scheduler {meant}`? "),
        None => String::new(),
    };
    let shorthands: Vec<String> = SHORTHANDS
        .iter()
        .map(|(name, what)| format!("{name} ({what})"))
        .collect();
    bail!(
        "unknown scheduler `{name}`; {hint}--scheduler takes {}, or a PyTorch class name: {}",
        shorthands.join(", "),
        SCHEDULER_NAMES.join(", ")
    )
}

/// The accepted name closest to `typed`: a class name that differs only in case, a common
/// alias, else the nearest name within three edits and less than half its length (case
/// ignored).
fn suggestion(typed: &str) -> Option<&'static str> {
    let lower = typed.to_lowercase();
    if let Some(class) = SCHEDULER_NAMES.iter().find(|c| c.to_lowercase() == lower) {
        return Some(class);
    }
    if let Some((_, class)) = ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(class);
    }
    let names = SHORTHANDS.iter().map(|(name, _)| *name);
    let candidates = names.chain(SCHEDULER_NAMES.iter().copied());
    candidates
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 3 && 2 * d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting insertions, deletions, substitutions and swaps of two neighbouring
/// characters, each character edited at most once (`platue` is three edits from `plateau`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: the distance between the first i characters of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The scheduler flags of `trainer train` and the `[scheduler]` keys they set.
pub const FLAG_KEYS: [(&str, &str); 7] = [
    ("--step-size", "step_size"),
    ("--gamma", "gamma"),
    ("--mode", "mode"),
    ("--factor", "factor"),
    ("--patience", "patience"),
    ("--monitor", "monitor"),
    ("--interval", "interval"),
];

/// Checks a `[scheduler]` table built from `--scheduler` and the scheduler flags (no config
/// file), so that its errors speak of the flags: a class whose required arguments no flag
/// gives needs a config file, and a flag the class does not take is named with what to use.
/// `flags` are the flags given, as in [`FLAG_KEYS`].
pub fn check_flags(table: &Table, flags: &[&str]) -> anyhow::Result<()> {
    let Some(name) = table.get("name").and_then(Value::as_str) else {
        return Ok(());
    };
    if name == "none" {
        if let Some(flag) = flags.first() {
            bail!("{flag} sets a scheduler argument, but --scheduler none has no scheduler");
        }
        return Ok(());
    }
    let mut arguments = table.clone();
    // The trainer's own keys, not the class's.
    arguments.remove("interval");
    arguments.remove("monitor");
    let Err(e) = Value::Table(arguments).try_into::<SchedulerConfig>() else {
        return Ok(());
    };
    let message = e.message().trim().to_string();
    if let Some(field) = quoted_after(&message, "missing field ") {
        bail!(
            "{name} needs `{field}`, which no flag of `trainer train` sets: give it in the \
             [scheduler] table of a config file (PyTorch's argument names) and pass --config \
             FILE; configs/ holds examples, e.g. --config configs/cosine.toml for \
             CosineAnnealingLR, and `trainer schedule --config FILE --steps N` previews one"
        );
    }
    if let Some(field) = quoted_after(&message, "unknown field ") {
        let flag = FLAG_KEYS
            .iter()
            .find(|(_, key)| *key == field)
            .map_or(String::new(), |(flag, _)| {
                format!("{flag} sets `{field}`, but ")
            });
        let instead = match (name, field.as_str()) {
            ("ReduceLROnPlateau", "gamma") => {
                "; its cut is `factor`: use --factor (lr × factor after `patience` bad epochs)"
            }
            ("StepLR" | "MultiStepLR" | "ExponentialLR", "factor") => {
                "; its cut is `gamma`: use --gamma"
            }
            _ => "",
        };
        bail!("{flag}{name} takes no `{field}`{instead} ({message})");
    }
    Ok(())
}

/// The backquoted word after `prefix` in a serde message (`missing field `T_max``).
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(rest[..rest.find('`')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_what_was_meant() {
        assert_eq!(suggestion("platue"), Some("plateau"));
        assert_eq!(suggestion("steplr"), Some("StepLR"));
        assert_eq!(suggestion("cosine"), Some("CosineAnnealingLR"));
        assert_eq!(suggestion("OneCycle"), Some("OneCycleLR"));
        assert_eq!(suggestion("StepLRR"), Some("StepLR"));
        assert_eq!(suggestion("nonee"), Some("none"));
        assert_eq!(suggestion("banana"), None);
        assert_eq!(suggestion("x"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("platue", "plateau"), 3);
        assert_eq!(edit_distance("plateu", "plateau"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
