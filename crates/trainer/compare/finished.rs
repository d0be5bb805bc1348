//! Which runs of a comparison have finished, read from their folders: what `trainer report`
//! and the end of `trainer compare` summarise.
//!
//! A run is
//! - finished when its folder holds `model.safetensors` (written after the last epoch) and a
//!   `metrics.csv` with all its epochs (or at least one, for a config with `max_steps`);
//! - failed when its folder holds `failed.txt` (written by `compare` with the first line of the
//!   error);
//! - missing otherwise: no folder yet, or a run still under way or interrupted (`compare`
//!   writes `interrupted.txt` into the run it stopped after Ctrl-C).

use std::path::Path;

use anyhow::{bail, Context};

use super::grid::Plan;
use super::summary::RunOutcome;
use crate::outputs::{EpochMetrics, METRICS_HEADER};

/// The file `compare` writes into a run folder when the run fails.
pub const FAILED_FILE: &str = "failed.txt";

/// The file `compare` writes into the run it stopped after Ctrl-C (how far it got).
pub const INTERRUPTED_FILE: &str = "interrupted.txt";

/// The reason of a run whose folder does not exist.
pub const NOT_STARTED: &str = "not started (no folder)";

/// A run that is neither finished nor failed.
#[derive(Debug, Clone)]
pub struct MissingRun {
    /// Index into the plan's runs.
    pub run: usize,
    /// Why: [`NOT_STARTED`], `1 of 5 epochs done`, `interrupted after step 300 (checkpointed)`,
    /// ...
    pub reason: String,
}

/// The runs of a plan as found on disk, in plan order.
#[derive(Debug, Clone)]
pub struct Found {
    /// Finished and failed runs.
    pub outcomes: Vec<RunOutcome>,
    /// The others.
    pub missing: Vec<MissingRun>,
}

/// What one run's folder says about it.
#[derive(Debug, Clone)]
pub enum RunState {
    /// Finished or failed: its outcome.
    Done(RunOutcome),
    /// Neither: why (see [`MissingRun::reason`]).
    Missing(String),
}

/// Reads every run folder of `plan` in `dir`. Reads only; a run being written meanwhile is
/// seen as it was (every file of a run is replaced whole).
pub fn read(dir: &Path, plan: &Plan) -> Found {
    let mut found = Found {
        outcomes: Vec::new(),
        missing: Vec::new(),
    };
    for index in 0..plan.runs.len() {
        match state(dir, plan, index) {
            RunState::Done(outcome) => found.outcomes.push(outcome),
            RunState::Missing(reason) => found.missing.push(MissingRun { run: index, reason }),
        }
    }
    found
}

/// The state of run `index` of `plan`, from its folder in `dir` (reads only).
pub fn state(dir: &Path, plan: &Plan, index: usize) -> RunState {
    let run = &plan.runs[index];
    let folder = dir.join(&run.dir_name);
    if !folder.is_dir() {
        return RunState::Missing(NOT_STARTED.to_string());
    }
    let metrics = match folder.join("metrics.csv").exists() {
        true => Some(read_metrics(&folder.join("metrics.csv"))),
        false => None,
    };
    let failed = folder.join(FAILED_FILE);
    if failed.exists() {
        let error = first_line(&failed).unwrap_or_else(|e| format!("failed ({e:#})"));
        let seconds = match &metrics {
            Some(Ok(rows)) => total_seconds(rows),
            _ => 0.0,
        };
        return RunState::Done(RunOutcome {
            run: index,
            dir: folder,
            seconds,
            result: Err(error),
        });
    }
    let rows = match metrics {
        None => return RunState::Missing("no metrics.csv yet".to_string()),
        Some(Err(e)) => return RunState::Missing(format!("{e:#}")),
        Some(Ok(rows)) => rows,
    };
    let epochs = run.config.epochs;
    let complete = match run.config.max_steps {
        None => rows.len() as u64 == epochs,
        Some(_) => !rows.is_empty(),
    };
    if !complete || !folder.join("model.safetensors").exists() {
        let interrupted = folder.join(INTERRUPTED_FILE);
        return RunState::Missing(match first_line(&interrupted) {
            Ok(line) if interrupted.exists() => line,
            _ if complete => format!(
                "{} of {epochs} epochs done (no model.safetensors)",
                rows.len()
            ),
            _ => format!("{} of {epochs} epochs done", rows.len()),
        });
    }
    RunState::Done(RunOutcome {
        run: index,
        dir: folder,
        seconds: total_seconds(&rows),
        result: Ok(rows),
    })
}

/// The first line of a small text file `compare` wrote.
fn first_line(path: &Path) -> anyhow::Result<String> {
    let text =
        crate::input_file::read_text(path, "the run's note", crate::input_file::CONFIG_MAX_BYTES)?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// A run's seconds: the sum of its epochs' (so a resumed run counts every epoch once).
fn total_seconds(rows: &[EpochMetrics]) -> f64 {
    // Folded from +0.0: `sum` of no values is -0.0, which would print as "-0.000".
    rows.iter().fold(0.0, |total, r| total + r.epoch_seconds)
}

/// Parses a run's `metrics.csv` (the format [`crate::outputs::metrics_csv`] writes).
pub fn read_metrics(path: &Path) -> anyhow::Result<Vec<EpochMetrics>> {
    let text = crate::input_file::read_text(path, "the metrics", crate::input_file::CSV_MAX_BYTES)?;
    let mut lines = text.lines();
    if lines.next() != Some(METRICS_HEADER) {
        bail!(
            "{} does not start with the header {METRICS_HEADER}",
            path.display()
        );
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            parse_row(line).with_context(|| format!("{} line {}", path.display(), i + 2))
        })
        .collect()
}

fn parse_row(line: &str) -> anyhow::Result<EpochMetrics> {
    let cells: Vec<&str> = line.split(',').collect();
    if cells.len() != 8 {
        bail!("{} cells where metrics.csv has 8", cells.len());
    }
    let num = |i: usize| -> anyhow::Result<f64> {
        cells[i]
            .parse::<f64>()
            .with_context(|| format!("{:?} is not a number", cells[i]))
    };
    Ok(EpochMetrics {
        epoch: cells[0]
            .parse()
            .with_context(|| format!("{:?} is not an epoch number", cells[0]))?,
        lr: num(1)?,
        train_loss: num(2)?,
        train_accuracy: num(3)?,
        test_loss: num(4)?,
        test_accuracy: num(5)?,
        train_seconds: num(6)?,
        epoch_seconds: num(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::metrics_csv;

    #[test]
    fn metrics_read_back_bit_for_bit() {
        let rows = vec![EpochMetrics {
            epoch: 1,
            lr: 0.1,
            train_loss: 0.123456789012345,
            train_accuracy: 83.41666666666667,
            test_loss: 0.4567,
            test_accuracy: 84.13,
            train_seconds: 1.5,
            epoch_seconds: 1.75,
        }];
        let dir = std::env::temp_dir().join(format!("finished-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        std::fs::write(&path, metrics_csv(&rows)).unwrap();
        assert_eq!(read_metrics(&path).unwrap(), rows);
        std::fs::write(&path, format!("{METRICS_HEADER}\n1,0.1,x,1,1,1,1,1\n")).unwrap();
        let err = format!("{:#}", read_metrics(&path).unwrap_err());
        assert!(err.contains("line 2") && err.contains("\"x\""), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
