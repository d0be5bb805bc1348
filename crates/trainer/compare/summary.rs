//! The summary of a comparison: one row per setting, over its seeds, as `summary.csv`, as the
//! terminal table and as the rows of the report's HTML table.
//!
//! Per setting, over the seeds whose run finished (mean, and the sample standard deviation
//! with n − 1 when there are several seeds):
//! - final test accuracy: the last epoch's;
//! - best test accuracy and its epoch: the epoch where the mean over seeds of the test accuracy
//!   is highest, and the accuracies at that epoch (one seed: simply the best epoch);
//! - final train loss: the last epoch's mean training cross-entropy;
//! - seconds: seconds per run, the sum of its epochs' `epoch_seconds` in `metrics.csv` (mean
//!   over every finished or failed run of the setting).

use std::fmt::Write as _;
use std::path::PathBuf;

use super::finished::{MissingRun, NOT_STARTED};
use super::grid::{value_text, Plan};
use crate::outputs::EpochMetrics;

/// How one run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Index into the plan's runs.
    pub run: usize,
    /// The run folder.
    pub dir: PathBuf,
    /// Seconds of the run: the sum of its epochs' seconds.
    pub seconds: f64,
    /// Its metrics, one row per epoch, or the first line of its error.
    pub result: Result<Vec<EpochMetrics>, String>,
}

/// Mean and (sample) standard deviation of some values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (n − 1); `None` for fewer than two values.
    pub std: Option<f64>,
}

impl Stat {
    /// `None` when there are no values.
    pub fn of(values: &[f64]) -> Option<Stat> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.len() > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1.0)).sqrt()
        });
        Some(Stat { mean, std })
    }
}

impl Stat {
    /// `mean ± std` with `digits` decimals (`86.42 ± 0.48`), or the mean alone for one value.
    pub fn text(&self, digits: usize) -> String {
        match self.std {
            None => format!("{:.digits$}", self.mean),
            Some(sd) => format!("{:.digits$} ± {sd:.digits$}", self.mean),
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct SettingSummary {
    /// The setting's name.
    pub name: String,
    /// The config file's stem.
    pub config: String,
    /// The grid values, as text, one per axis.
    pub values: Vec<String>,
    /// The seeds run.
    pub seeds: Vec<u64>,
    /// Last epoch's test accuracy (%).
    pub final_test_accuracy: Option<Stat>,
    /// Test accuracy (%) at `best_epoch`.
    pub best_test_accuracy: Option<Stat>,
    /// The epoch (1-based) with the highest mean test accuracy.
    pub best_epoch: Option<u64>,
    /// Last epoch's mean train loss.
    pub final_train_loss: Option<Stat>,
    /// Mean wall-clock seconds per run.
    pub seconds: f64,
    /// Runs that failed.
    pub runs_failed: usize,
    /// `ok`, or the first failure: `seed=S: <first line of the error>`.
    pub status: String,
    /// The setting's schedule horizons that do not fit its runs, `; `-separated (empty when
    /// they all fit).
    pub notes: String,
}

/// Summarises every setting of `plan` from its runs' outcomes; `missing` are the runs neither
/// finished nor failed (named in the status).
pub fn summarise(
    plan: &Plan,
    outcomes: &[RunOutcome],
    missing: &[MissingRun],
) -> Vec<SettingSummary> {
    plan.settings
        .iter()
        .enumerate()
        .map(|(index, setting)| {
            let mine: Vec<&RunOutcome> = outcomes
                .iter()
                .filter(|o| plan.runs[o.run].setting == index)
                .collect();
            let ok: Vec<&Vec<EpochMetrics>> = mine
                .iter()
                .filter_map(|o| o.result.as_ref().ok())
                .filter(|m| !m.is_empty())
                .collect();
            let failures: Vec<String> = mine
                .iter()
                .filter_map(|o| {
                    let seed = plan.runs[o.run].seed;
                    o.result.as_ref().err().map(|e| format!("seed={seed}: {e}"))
                })
                .collect();
            let last = |f: fn(&EpochMetrics) -> f64| -> Vec<f64> {
                ok.iter().filter_map(|m| m.last().map(f)).collect()
            };
            let best_epoch = best_epoch(&ok);
            let at_best: Vec<f64> = best_epoch
                .map(|e| {
                    ok.iter()
                        .filter_map(|m| m.iter().find(|r| r.epoch == e))
                        .map(|r| r.test_accuracy)
                        .collect()
                })
                .unwrap_or_default();
            let absent: Vec<&MissingRun> = missing
                .iter()
                .filter(|m| plan.runs[m.run].setting == index)
                .collect();
            let started = absent.iter().any(|m| m.reason != NOT_STARTED);
            let seconds: Vec<f64> = mine.iter().map(|o| o.seconds).collect();
            SettingSummary {
                name: setting.name.clone(),
                config: setting.config_name.clone(),
                values: setting.values.iter().map(value_text).collect(),
                seeds: mine.iter().map(|o| plan.runs[o.run].seed).collect(),
                final_test_accuracy: Stat::of(&last(|r| r.test_accuracy)),
                best_test_accuracy: Stat::of(&at_best),
                best_epoch,
                final_train_loss: Stat::of(&last(|r| r.train_loss)),
                seconds: Stat::of(&seconds).map_or(0.0, |s| s.mean),
                runs_failed: failures.len(),
                status: match failures.first() {
                    None if mine.is_empty() && !started => "not run".to_string(),
                    None if !absent.is_empty() => format!(
                        "not finished: {}",
                        absent
                            .iter()
                            .map(|m| format!("seed={}: {}", plan.runs[m.run].seed, m.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    None => "ok".to_string(),
                    Some(first) if failures.len() == 1 => format!("failed: {first}"),
                    Some(first) => format!("{} runs failed; {first}", failures.len()),
                },
                notes: setting.notes.join("; "),
            }
        })
        .collect()
}

/// The epoch whose test accuracy, averaged over the runs that reached it, is highest (the
/// earliest on ties).
fn best_epoch(runs: &[&Vec<EpochMetrics>]) -> Option<u64> {
    let epochs = runs.iter().map(|m| m.len()).min()?;
    (0..epochs)
        .map(|i| {
            let mean = runs.iter().map(|m| m[i].test_accuracy).sum::<f64>() / runs.len() as f64;
            (runs[0][i].epoch, mean)
        })
        .fold(None, |best: Option<(u64, f64)>, (e, acc)| match best {
            Some((_, b)) if b >= acc => best,
            _ => Some((e, acc)),
        })
        .map(|(e, _)| e)
}

/// The metric columns: plain names with one seed per setting, `_mean`/`_std` pairs with several.
fn metric_columns(several_seeds: bool) -> Vec<String> {
    let mut cols = Vec::new();
    for (name, paired) in [
        ("final_test_accuracy", true),
        ("best_test_accuracy", true),
        ("best_epoch", false),
        ("final_train_loss", true),
    ] {
        if paired && several_seeds {
            cols.push(format!("{name}_mean"));
            cols.push(format!("{name}_std"));
        } else {
            cols.push(name.to_string());
        }
    }
    cols
}

/// The header of the summary table: `name,config,<grid keys>,seeds,<metrics>,seconds,runs_failed,status`.
pub fn header(plan: &Plan) -> Vec<String> {
    let mut h = vec!["name".to_string(), "config".to_string()];
    h.extend(plan.axes.iter().map(|a| a.key.clone()));
    h.push("seeds".to_string());
    h.extend(metric_columns(plan.seeds_per_setting > 1));
    h.extend(["seconds", "runs_failed", "status"].map(String::from));
    h
}

/// One summary row as cells, in [`header`]'s order (empty where nothing finished).
pub fn cells(row: &SettingSummary, several_seeds: bool) -> Vec<String> {
    let mut c = vec![row.name.clone(), row.config.clone()];
    c.extend(row.values.iter().cloned());
    c.push(
        row.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(";"),
    );
    let stat = |s: Option<Stat>, c: &mut Vec<String>| {
        c.push(s.map_or(String::new(), |s| format!("{:.4}", s.mean)));
        if several_seeds {
            c.push(
                s.and_then(|s| s.std)
                    .map_or(String::new(), |v| format!("{v:.4}")),
            );
        }
    };
    stat(row.final_test_accuracy, &mut c);
    stat(row.best_test_accuracy, &mut c);
    c.push(row.best_epoch.map_or(String::new(), |e| e.to_string()));
    stat(row.final_train_loss, &mut c);
    c.push(format!("{:.3}", row.seconds));
    c.push(row.runs_failed.to_string());
    c.push(row.status.clone());
    c
}

/// The text of `summary.csv`: the table's columns and `notes` (the setting's horizon
/// warnings), with RFC 4180 quoting where a cell needs it.
pub fn csv(plan: &Plan, rows: &[SettingSummary]) -> String {
    let several = plan.seeds_per_setting > 1;
    let mut text = String::new();
    let mut line = |cells: &[String]| {
        let quoted: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        let _ = writeln!(text, "{}", quoted.join(","));
    };
    let mut head = header(plan);
    head.push("notes".to_string());
    line(&head);
    for row in rows {
        let mut c = cells(row, several);
        c.push(row.notes.clone());
        line(&c);
    }
    text
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// The table printed on the terminal: one line per setting, `mean ± std` with several seeds.
pub fn terminal_table(rows: &[SettingSummary]) -> String {
    let stat = |s: Option<Stat>, digits: usize| s.map_or("-".to_string(), |s| s.text(digits));
    let header = [
        "setting",
        "final test acc %",
        "best test acc % (epoch)",
        "final train loss",
        "s/run",
        "status",
    ];
    let body: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let best = match (r.best_test_accuracy, r.best_epoch) {
                (Some(s), Some(e)) => format!("{} ({e})", stat(Some(s), 2)),
                _ => "-".to_string(),
            };
            [
                r.name.clone(),
                stat(r.final_test_accuracy, 2),
                best,
                stat(r.final_train_loss, 4),
                format!("{:.1}", r.seconds),
                r.status.clone(),
            ]
        })
        .collect();
    let width = |i: usize| {
        body.iter()
            .map(|row| row[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..6).map(width).collect();
    let mut text = String::new();
    let mut line = |cells: &[String]| {
        let mut l = format!("{:<w$}", cells[0], w = widths[0]);
        for (cell, w) in cells[1..5].iter().zip(&widths[1..5]) {
            let pad = w.saturating_sub(cell.chars().count());
            let _ = write!(l, "  {}{cell}", " ".repeat(pad));
        }
        let _ = writeln!(l, "  {}", cells[5]);
        text.push_str(&l);
    };
    line(&header.map(String::from));
    for row in &body {
        line(row);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_mean_and_sample_std() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.mean, 2.5);
        // sum of squares 5, n - 1 = 3
        assert!((s.std.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(Stat::of(&[7.0]).unwrap().std, None);
        assert_eq!(Stat::of(&[]), None);
    }

    fn epoch(e: u64, acc: f64) -> EpochMetrics {
        EpochMetrics {
            epoch: e,
            lr: 0.1,
            train_loss: 0.5,
            train_accuracy: 80.0,
            test_loss: 0.5,
            test_accuracy: acc,
            train_seconds: 1.0,
            epoch_seconds: 1.0,
        }
    }

    #[test]
    fn best_epoch_is_that_of_the_mean_curve() {
        // seed A peaks at epoch 1, seed B at epoch 3; the mean peaks at epoch 2.
        let a = vec![epoch(1, 90.0), epoch(2, 88.0), epoch(3, 80.0)];
        let b = vec![epoch(1, 70.0), epoch(2, 80.0), epoch(3, 85.0)];
        assert_eq!(best_epoch(&[&a, &b]), Some(2));
        assert_eq!(best_epoch(&[&a]), Some(1));
        assert_eq!(best_epoch(&[]), None);
    }

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell("ok"), "ok");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
