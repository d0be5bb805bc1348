//! `trainer train --resume DIR`: continue exactly the run the folder describes, or refuse.
//!
//! The checkpoint carries the config the run was made with. `config.toml` must agree with it on
//! every key but the few that do not change what was computed so far: `epochs` (never below the
//! epochs done), `max_steps` (never below the steps done), `data.dir` (where the same files
//! are). Any other difference is refused, naming the key and both values. Flags given with
//! `--resume` (`--epochs`, `--max-steps`, `--data-dir`; `--trace` while no step is taken) change
//! those keys, and the result is written back to `config.toml` (atomically) once the folder is
//! locked, so that the folder keeps describing the run.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use autograd_lite::Mlp;
use toml::Value;

use crate::checkpoint::{self, TrainingState};
use crate::config::RunConfig;

/// The keys that may differ between `config.toml` and the checkpoint.
const MAY_CHANGE: [&str; 3] = ["epochs", "max_steps", "data.dir"];

/// A run folder's config and checkpoint, checked against each other.
pub struct Resumed {
    /// The config to continue with (flags applied).
    pub config: RunConfig,
    /// The checkpoint, if the run wrote one.
    pub checkpoint: Option<(Mlp, TrainingState)>,
    /// `config.toml` must be rewritten (the flags changed it).
    pub config_changed: bool,
}

/// Reads `dir`'s `config.toml` and checkpoint, checks them against each other and applies the
/// flags (`apply`), checking what they may change.
pub fn resume(
    dir: &Path,
    apply: impl FnOnce(&mut RunConfig) -> anyhow::Result<()>,
    trace_flag: bool,
) -> anyhow::Result<Resumed> {
    let path = dir.join("config.toml");
    let on_disk = RunConfig::load(&path).with_context(|| {
        format!(
            "cannot resume {}: it has no readable config.toml",
            dir.display()
        )
    })?;
    let checkpoint = checkpoint::load(dir)?;
    if let Some((_, state)) = &checkpoint {
        let file = dir.join(checkpoint::FILE_NAME);
        let made_with = RunConfig::parse(&state.config).with_context(|| {
            format!(
                "the checkpoint {} is damaged: its config is not a valid run config",
                file.display()
            )
        })?;
        let differences = differences(&on_disk, &made_with)?;
        if !differences.is_empty() {
            bail!(
                "cannot resume {}: its config.toml does not describe the run in its checkpoint: {}. A run folder is one run: put the value back in {}, or start a new run from the edited config (trainer train --config {} --out NEW_DIR)",
                dir.display(),
                differences.join("; "),
                path.display(),
                path.display()
            );
        }
    }
    let mut config = on_disk.clone();
    apply(&mut config)?;
    let steps_done = checkpoint.as_ref().map_or(0, |(_, s)| s.step);
    let epochs_done = checkpoint.as_ref().map_or(0, |(_, s)| s.epochs_done);
    if trace_flag && !on_disk.trace && steps_done > 0 {
        bail!(
            "cannot add --trace to {}: the run was started without it, so trace.csv would miss steps 1 to {steps_done}; start a new run with --trace",
            dir.display()
        );
    }
    config.trace |= trace_flag;
    if config.epochs < epochs_done {
        bail!(
            "cannot resume {} with epochs = {}: the run has done {} already; give --epochs {epochs_done} or more (or leave it out)",
            dir.display(),
            config.epochs,
            crate::plural::plural(epochs_done as u64, "epoch")
        );
    }
    if let Some(max_steps) = config.max_steps.filter(|&m| m < steps_done) {
        bail!(
            "cannot resume {} with max_steps = {max_steps}: the run has taken {} already; give --max-steps {steps_done} or more (or leave it out)",
            dir.display(),
            crate::plural::plural(steps_done as u64, "step")
        );
    }
    config.validate()?;
    Ok(Resumed {
        config_changed: config != on_disk,
        config,
        checkpoint,
    })
}

/// "`key` is A in config.toml but B in the checkpoint", for every key outside [`MAY_CHANGE`]
/// whose values differ (numbers compare by value: `1` and `1.0` agree).
fn differences(on_disk: &RunConfig, made_with: &RunConfig) -> anyhow::Result<Vec<String>> {
    differences_between(on_disk, made_with, "config.toml", "the checkpoint")
}

/// "`key` is A in `a_is` but B in `b_is`", for every key outside [`MAY_CHANGE`] whose values
/// differ (`trainer compare --resume` checks a run's `config.toml` against its sweep's plan).
pub fn differences_between(
    a: &RunConfig,
    b: &RunConfig,
    a_is: &str,
    b_is: &str,
) -> anyhow::Result<Vec<String>> {
    let a = flatten(a)?;
    let b = flatten(b)?;
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let show = |v: Option<&Value>| v.map_or("absent".to_string(), |v| v.to_string());
    Ok(keys
        .into_iter()
        .filter(|k| !MAY_CHANGE.contains(&k.as_str()))
        .filter(|k| !same(a.get(*k), b.get(*k)))
        .map(|k| {
            format!(
                "{k} is {} in {a_is} but {} in {b_is}",
                show(a.get(k)),
                show(b.get(k))
            )
        })
        .collect())
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Integer(i)), Some(Value::Float(f)))
        | (Some(Value::Float(f)), Some(Value::Integer(i))) => *i as f64 == *f,
        _ => a == b,
    }
}

/// The config as `dotted.key -> value` (tables flattened; arrays are values).
fn flatten(config: &RunConfig) -> anyhow::Result<BTreeMap<String, Value>> {
    let value = Value::try_from(config).context("cannot read the run config as TOML")?;
    let mut out = BTreeMap::new();
    walk("", &value, &mut out);
    Ok(out)
}

fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_key_and_both_values_and_skip_what_may_change() {
        let a = RunConfig::parse("epochs = 3\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.5\n[data]\ndir = \"x\"\n").unwrap();
        let b =
            RunConfig::parse("epochs = 6\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n")
                .unwrap();
        let d = differences(&a, &b).unwrap();
        assert_eq!(
            d,
            ["optimizer.momentum is 0.5 in config.toml but 0.9 in the checkpoint"]
        );
        let c = RunConfig::parse(
            "[scheduler]\nname = \"StepLR\"\nstep_size = 4\ngamma = 1\ninterval = \"epoch\"\n",
        )
        .unwrap();
        let e = RunConfig::parse(
            "[scheduler]\nname = \"StepLR\"\nstep_size = 4\ngamma = 1.0\ninterval = \"epoch\"\n",
        )
        .unwrap();
        assert!(differences(&c, &e).unwrap().is_empty());
        let f = RunConfig::parse(
            "[scheduler]\nname = \"StepLR\"\nstep_size = 4\ninterval = \"epoch\"\n",
        )
        .unwrap();
        let d = differences(&c, &f).unwrap();
        assert_eq!(
            d,
            ["scheduler.gamma is 1 in config.toml but absent in the checkpoint"]
        );
    }
}
