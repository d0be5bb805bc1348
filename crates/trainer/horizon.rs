//! Schedule horizons: the scheduler arguments that count `scheduler.step()` calls up to some end
//! (`T_max`, `total_steps`, `total_iters`, `milestones`, `step_size`), against the run's own
//! number of scheduler steps.
//!
//! A horizon sized for one run length silently distorts another: cosine sized for 5 epochs and
//! run for 2 stops at two thirds of its lr; OneCycleLR run past its `total_steps` fails at that
//! step, after hours of training. So before any training the horizons are checked: OneCycleLR
//! too short is an error (PyTorch would fail at that step), any other mismatch a warning that
//! names the key, its value and the run's number of scheduler steps.
//!
//! `"auto"` (for `T_max`, `total_steps` and `total_iters` of the classes where a whole-run
//! length makes sense) stands for the run's number of scheduler steps; it is replaced by the
//! number before the scheduler is built, so the run's `config.toml` holds the number. Inside
//! `SequentialLR` the "run" of a child is its stretch between two milestones.

use anyhow::{bail, Context};
use optim::scheduler::{
    ChainedScheduler, ConstantLR, CosineAnnealingLR, LinearLR, MultiStepLR, OneCycleLR,
    PolynomialLR, SequentialLR, StepLR,
};
use optim::SchedulerConfig;
use toml::{Table, Value};

use crate::config::{Interval, RunConfig};

/// The keys that may be `"auto"`, by class.
const AUTO_KEYS: [(&str, &str); 4] = [
    ("CosineAnnealingLR", "T_max"),
    ("OneCycleLR", "total_steps"),
    ("PolynomialLR", "total_iters"),
    ("LinearLR", "total_iters"),
];

/// How many times a run calls `scheduler.step()`, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLength {
    /// The number of scheduler steps.
    pub steps: u64,
    /// How that number comes about, e.g. `2 epochs × 235 optimizer steps, stepped per
    /// optimizer step`.
    pub why: String,
}

impl RunLength {
    /// The run `config` describes on a training set of `train_images` images: per optimizer
    /// step, `epochs × ⌈images / batch_size⌉` (fewer with `max_steps`); per epoch, the epochs
    /// (fewer when `max_steps` ends the run early).
    pub fn of_run(config: &RunConfig, train_images: usize) -> anyhow::Result<RunLength> {
        let per_epoch = (train_images as u64)
            .div_ceil(config.data.batch_size.max(1))
            .max(1);
        let epochs = config.epochs;
        let all_steps = epochs.saturating_mul(per_epoch);
        let capped = config.max_steps.filter(|&m| m < all_steps);
        let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        Ok(match (config.interval()?, capped) {
            (Interval::Step, None) => RunLength {
                steps: all_steps,
                why: format!(
                    "{} × {per_epoch} optimizer steps, stepped per optimizer step",
                    plural(epochs, "epoch")
                ),
            },
            (Interval::Step, Some(max)) => RunLength {
                steps: max,
                why: format!("max_steps = {max}, stepped per optimizer step"),
            },
            (Interval::Epoch, None) => RunLength {
                steps: epochs,
                why: format!("{}, stepped per epoch", plural(epochs, "epoch")),
            },
            (Interval::Epoch, Some(max)) => {
                let run = max.div_ceil(per_epoch);
                RunLength {
                    steps: run,
                    why: format!(
                        "{} before max_steps = {max} ends the run, stepped per epoch",
                        plural(run, "epoch")
                    ),
                }
            }
        })
    }

    /// `trainer schedule --steps N`: N scheduler steps.
    pub fn of_steps(steps: u64) -> RunLength {
        RunLength {
            steps,
            why: format!("--steps {steps}"),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} ({})",
            crate::plural::plural(self.steps, "scheduler step"),
            self.why
        )
    }
}

/// Replaces `"auto"` in the run's `[scheduler]` table by the run's number of scheduler steps,
/// checks every horizon against that number, and returns the warnings (one sentence each,
/// naming the key). OneCycleLR shorter than the run is an error.
pub fn settle(config: &mut RunConfig, train_images: usize) -> anyhow::Result<Vec<String>> {
    let length = RunLength::of_run(config, train_images)?;
    if config.scheduler_class_table().is_none() {
        return Ok(Vec::new());
    }
    resolve_auto(&mut config.scheduler, length.steps, "scheduler")?;
    let Some(scheduler) = crate::training::scheduler_config(config)? else {
        return Ok(Vec::new());
    };
    check(&scheduler, &length)
}

/// Replaces every `"auto"` in the scheduler table `table` (found at the dotted `path`) by
/// `steps`, or by the child's stretch inside `SequentialLR`. `"auto"` anywhere else is an error
/// that says where it is allowed.
pub fn resolve_auto(table: &mut Table, steps: u64, path: &str) -> anyhow::Result<()> {
    let name = table
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for (key, value) in table.iter_mut() {
        if value.as_str() != Some("auto") {
            continue;
        }
        if !AUTO_KEYS.contains(&(name.as_str(), key.as_str())) {
            let allowed: Vec<String> = AUTO_KEYS
                .iter()
                .map(|(class, key)| format!("{key} of {class}"))
                .collect();
            bail!(
                "{path}.{key} = \"auto\" is not allowed for {name}: \"auto\" stands for the run's number of scheduler steps and is allowed for {}",
                allowed.join(", ")
            );
        }
        let steps = i64::try_from(steps).context("the run has too many scheduler steps")?;
        *value = Value::Integer(steps);
    }
    let stretches = match name.as_str() {
        "SequentialLR" => sequential_stretches(table, steps),
        _ => None,
    };
    if let Some(Value::Array(children)) = table.get_mut("schedulers") {
        for (i, child) in children.iter_mut().enumerate() {
            let Value::Table(child) = child else { continue };
            let child_steps = match &stretches {
                Some(s) => s.get(i).copied().unwrap_or(0),
                None => steps,
            };
            let child_path = format!("{path}.schedulers.{i}");
            if child_steps == 0 && has_auto(child) {
                bail!(
                    "{child_path} has \"auto\" but never runs: the run's {steps} scheduler steps end before its milestone; lower the milestones or give a number"
                );
            }
            resolve_auto(child, child_steps, &child_path)?;
        }
    }
    Ok(())
}

fn has_auto(table: &Table) -> bool {
    table.values().any(|v| v.as_str() == Some("auto"))
}

/// How many scheduler steps each child of a SequentialLR table runs within `steps`: the first
/// until the first milestone, each next one until the next milestone, the last to the end.
/// `None` when the milestones are not a list of whole numbers (building the scheduler reports
/// that).
fn sequential_stretches(table: &Table, steps: u64) -> Option<Vec<u64>> {
    let milestones: Vec<u64> = table
        .get("milestones")?
        .as_array()?
        .iter()
        .map(|m| m.as_integer().and_then(|m| u64::try_from(m).ok()))
        .collect::<Option<_>>()?;
    Some(stretches(&milestones, steps))
}

fn stretches(milestones: &[u64], steps: u64) -> Vec<u64> {
    let mut bounds = vec![0];
    bounds.extend(milestones.iter().map(|&m| m.min(steps)));
    bounds.push(steps);
    bounds
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .collect()
}

/// Checks the horizons of `scheduler` against a run of `length`: the warnings, or the error of
/// a OneCycleLR that the run would step past its end.
pub fn check(scheduler: &SchedulerConfig, length: &RunLength) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    check_node(scheduler, length.steps, "scheduler", length, &mut notes)?;
    Ok(notes)
}

/// One scheduler (`path` is its dotted key) that is stepped `steps` times.
fn check_node(
    scheduler: &SchedulerConfig,
    steps: u64,
    path: &str,
    run: &RunLength,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    // Where the run's length is stated: the whole run, or a child's stretch of it.
    let within = if path == "scheduler" {
        format!("the run has {}", run.describe())
    } else {
        format!("{path} runs for {steps} of the run's {}", run.describe())
    };
    let s = i64::try_from(steps).unwrap_or(i64::MAX);
    let auto = |key: &str| format!("set {path}.{key} = {steps}, or {path}.{key} = \"auto\"");
    match scheduler {
        SchedulerConfig::CosineAnnealingLR(CosineAnnealingLR { t_max, eta_min }) if *t_max != s => {
            let what = if *t_max > s {
                format!("the run stops at step {s} of the cosine's {t_max}, before it reaches eta_min = {eta_min}")
            } else {
                format!(
                    "the cosine reaches eta_min = {eta_min} at step {t_max} and climbs back up for the last {}",
                    crate::plural::plural((s - t_max) as u64, "step")
                )
            };
            notes.push(format!(
                "{path}.T_max = {t_max} but {within}: {what}; {}",
                auto("T_max")
            ));
        }
        SchedulerConfig::OneCycleLR(OneCycleLR {
            total_steps,
            epochs,
            steps_per_epoch,
            ..
        }) => {
            let (key, total) = match (total_steps, epochs, steps_per_epoch) {
                (Some(t), _, _) => (format!("{path}.total_steps = {t}"), *t),
                (None, Some(e), Some(p)) => (
                    format!("{path}.epochs × {path}.steps_per_epoch = {e} × {p}"),
                    e.saturating_mul(*p),
                ),
                // Building the scheduler says what is missing.
                _ => return Ok(()),
            };
            if total < s {
                bail!(
                    "{key} but {within}: OneCycleLR cannot step past its total steps (PyTorch fails at step {}); {}",
                    total + 1,
                    auto("total_steps")
                );
            }
            if total > s {
                notes.push(format!(
                    "{key} but {within}: the run stops at step {s} of the cycle's {total}, before the lr is annealed to its minimum; {}",
                    auto("total_steps")
                ));
            }
        }
        SchedulerConfig::PolynomialLR(PolynomialLR { total_iters, .. }) if *total_iters != s => {
            let what = if *total_iters > s {
                format!("the run stops at step {s} of the decay's {total_iters}, before the lr reaches 0")
            } else {
                format!(
                    "the lr is 0 from step {total_iters} on, for the last {}",
                    crate::plural::plural((s - total_iters) as u64, "step")
                )
            };
            notes.push(format!(
                "{path}.total_iters = {total_iters} but {within}: {what}; {}",
                auto("total_iters")
            ));
        }
        SchedulerConfig::LinearLR(LinearLR { total_iters, .. })
        | SchedulerConfig::ConstantLR(ConstantLR { total_iters, .. })
            if *total_iters > s =>
        {
            notes.push(format!(
                "{path}.total_iters = {total_iters} but {within}: the run stops at step {s} of {}'s {total_iters}; set {path}.total_iters to at most {steps}",
                scheduler.name()
            ));
        }
        SchedulerConfig::StepLR(StepLR { step_size, .. }) if *step_size >= s => {
            let fix = if steps > 1 {
                format!("; set {path}.step_size to at most {}", steps - 1)
            } else {
                String::new()
            };
            notes.push(format!(
                "{path}.step_size = {step_size} but {within}: StepLR never lowers the lr during the run (its first decay comes after step {step_size}){fix}"
            ));
        }
        SchedulerConfig::MultiStepLR(MultiStepLR { milestones, .. })
            if milestones.iter().any(|&m| m >= s) =>
        {
            notes.push(format!(
                "{path}.milestones = {milestones:?} but {within}: the decays at {} never happen during the run{}",
                late(milestones, s),
                below(steps)
            ));
        }
        SchedulerConfig::SequentialLR(SequentialLR {
            schedulers,
            milestones,
        }) => {
            if milestones.iter().any(|&m| m >= s) {
                notes.push(format!(
                    "{path}.milestones = {milestones:?} but {within}: the switches at {} never happen, so some of its schedulers never run{}",
                    late(milestones, s),
                    below(steps)
                ));
            }
            let bounds: Vec<u64> = milestones
                .iter()
                .map(|&m| u64::try_from(m).unwrap_or(0))
                .collect();
            for (i, (child, child_steps)) in
                schedulers.iter().zip(stretches(&bounds, steps)).enumerate()
            {
                if child_steps > 0 {
                    let child_path = format!("{path}.schedulers.{i}");
                    check_node(child, child_steps, &child_path, run, notes)?;
                }
            }
        }
        SchedulerConfig::ChainedScheduler(ChainedScheduler { schedulers }) => {
            for (i, child) in schedulers.iter().enumerate() {
                let child_path = format!("{path}.schedulers.{i}");
                check_node(child, steps, &child_path, run, notes)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The advice for milestones past a run of `steps` scheduler steps (none when the run is one
/// step long: no milestone can take effect then).
fn below(steps: u64) -> String {
    if steps > 1 {
        format!("; give milestones below {steps}")
    } else {
        String::new()
    }
}

/// The milestones at or past step `s`, as text.
fn late(milestones: &[i64], s: i64) -> String {
    milestones
        .iter()
        .filter(|&&m| m >= s)
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> RunConfig {
        RunConfig::parse(text).unwrap()
    }

    const COSINE: &str = "epochs = 2\n[scheduler]\nname = \"CosineAnnealingLR\"\nT_max = \"auto\"\ninterval = \"step\"\n";

    #[test]
    fn the_run_length_follows_the_interval_and_max_steps() {
        let c = config(COSINE);
        assert_eq!(RunLength::of_run(&c, 60_000).unwrap().steps, 470);
        let c = config(&format!("max_steps = 30\n{COSINE}"));
        assert_eq!(RunLength::of_run(&c, 60_000).unwrap().steps, 30);
        let c = config("epochs = 3\n");
        assert_eq!(RunLength::of_run(&c, 60_000).unwrap().steps, 3);
        // 236 steps cross into the second epoch, which still ends with its scheduler step.
        let c = config("epochs = 3\nmax_steps = 236\n");
        assert_eq!(RunLength::of_run(&c, 60_000).unwrap().steps, 2);
    }

    #[test]
    fn auto_becomes_the_number_of_scheduler_steps() {
        let mut c = config(COSINE);
        let notes = settle(&mut c, 60_000).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(c.scheduler["T_max"], Value::Integer(470));
        assert!(c.to_toml().unwrap().contains("T_max = 470"));
        // Stepped per epoch, the run has one scheduler step per epoch.
        let mut c = config(&COSINE.replace("\"step\"", "\"epoch\""));
        assert!(settle(&mut c, 60_000).unwrap().is_empty());
        assert_eq!(c.scheduler["T_max"], Value::Integer(2));
        // PolynomialLR and LinearLR take "auto" for total_iters (a decay over the whole run).
        for class in ["PolynomialLR", "LinearLR"] {
            let mut c = config(&format!(
                "epochs = 2\n[scheduler]\nname = \"{class}\"\ntotal_iters = \"auto\"\ninterval = \"step\"\n"
            ));
            assert!(settle(&mut c, 60_000).unwrap().is_empty());
            assert_eq!(c.scheduler["total_iters"], Value::Integer(470));
        }
    }

    #[test]
    fn a_sequential_child_gets_its_stretch() {
        let mut c = config(
            "epochs = 2\n[scheduler]\nname = \"SequentialLR\"\nmilestones = [235]\ninterval = \"step\"\n\
             [[scheduler.schedulers]]\nname = \"LinearLR\"\nstart_factor = 0.1\ntotal_iters = 235\n\
             [[scheduler.schedulers]]\nname = \"CosineAnnealingLR\"\nT_max = \"auto\"\n",
        );
        let notes = settle(&mut c, 60_000).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            c.scheduler["schedulers"][1]["T_max"],
            Value::Integer(470 - 235)
        );
    }

    #[test]
    fn auto_elsewhere_says_where_it_is_allowed() {
        let mut c = config("[scheduler]\nname = \"StepLR\"\nstep_size = \"auto\"\n");
        let err = settle(&mut c, 60_000).unwrap_err().to_string();
        assert!(err.contains("scheduler.step_size = \"auto\""), "{err}");
        assert!(err.contains("T_max of CosineAnnealingLR"), "{err}");
    }

    #[test]
    fn mismatches_name_the_key_its_value_and_the_run_length() {
        let mut c = config(&COSINE.replace("\"auto\"", "1175"));
        let notes = settle(&mut c, 60_000).unwrap();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("scheduler.T_max = 1175 but the run has 470 scheduler steps (2 epochs × 235 optimizer steps, stepped per optimizer step)"),
            "{}",
            notes[0]
        );
        assert!(notes[0].contains("T_max = \"auto\""), "{}", notes[0]);
        let mut c =
            config("epochs = 2\n[scheduler]\nname = \"MultiStepLR\"\nmilestones = [1, 2, 4]\n");
        let notes = settle(&mut c, 60_000).unwrap();
        assert!(
            notes[0].contains("the decays at 2, 4 never happen"),
            "{notes:?}"
        );
    }

    #[test]
    fn one_cycle_shorter_than_the_run_is_an_error() {
        let text = "epochs = 6\n[scheduler]\nname = \"OneCycleLR\"\nmax_lr = 0.2\ntotal_steps = 1175\ninterval = \"step\"\n";
        let err = settle(&mut config(text), 60_000).unwrap_err().to_string();
        assert!(err.contains("scheduler.total_steps = 1175"), "{err}");
        assert!(err.contains("1410 scheduler steps"), "{err}");
        assert!(err.contains("fails at step 1176"), "{err}");
        assert!(err.contains("total_steps = \"auto\""), "{err}");
        // PyTorch's other spelling of the length: epochs × steps_per_epoch.
        let spelled = text.replace("total_steps = 1175", "epochs = 5\nsteps_per_epoch = 235");
        let err = settle(&mut config(&spelled), 60_000)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("scheduler.epochs × scheduler.steps_per_epoch = 5 × 235"),
            "{err}"
        );
        // Inside ChainedScheduler a child steps with the run.
        let chained = "epochs = 6\n[scheduler]\nname = \"ChainedScheduler\"\ninterval = \"step\"\n[[scheduler.schedulers]]\nname = \"OneCycleLR\"\nmax_lr = 0.2\ntotal_steps = 1175\n";
        let err = settle(&mut config(chained), 60_000)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("scheduler.schedulers.0.total_steps = 1175"),
            "{err}"
        );
        let mut c = config(&text.replace("1175", "\"auto\""));
        assert!(settle(&mut c, 60_000).unwrap().is_empty());
        assert_eq!(c.scheduler["total_steps"], Value::Integer(1410));
    }
}
