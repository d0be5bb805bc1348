//! `ReduceLROnPlateau`: cut the lr by `factor` once the monitored metric has not improved for
//! more than `patience` steps. Not a real `LRScheduler` in PyTorch: no construction step, no
//! `initial_lr`; the lr is changed only by a reduction.
//!
//! ```text
//! better(a, best):  min/rel a < best·(1 − threshold)   min/abs a < best − threshold
//!                   max/rel a > best·(1 + threshold)   max/abs a > best + threshold   (strict)
//! step(metric):     better ? (best = metric, bad = 0) : bad += 1
//!                   if cooldown_counter > 0: cooldown_counter −= 1, bad = 0
//!                   if bad > patience: lr = max(lr·factor, min_lr) if that lowers it by > eps;
//!                                      cooldown_counter = cooldown, bad = 0
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{PlateauMode, ThresholdMode};
use crate::param_groups::ParamGroups;

/// The state of a `ReduceLROnPlateau`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plateau {
    pub mode: PlateauMode,
    pub factor: f64,
    pub patience: i64,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: i64,
    pub min_lrs: Vec<f64>,
    pub eps: f64,
    pub last_epoch: i64,
    /// `None` until the first metric (PyTorch's `mode_worse`, ±inf).
    pub best: Option<f64>,
    pub num_bad_epochs: i64,
    pub cooldown_counter: i64,
    pub last_lr: Vec<f64>,
}

/// What one `ReduceLROnPlateau` step saw and did; `describe` words it for a log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateauEvent {
    /// The scheduler's step count after this step (PyTorch's `last_epoch`).
    pub step: i64,
    /// The metric passed in.
    pub metric: f64,
    /// The best value before this step (`None` for the first metric).
    pub previous_best: Option<f64>,
    /// Whether the metric beat the best by more than the threshold.
    pub improved: bool,
    /// Consecutive bad steps counted at this step (before a reduction resets the count).
    pub bad_epochs: i64,
    /// The patience setting.
    pub patience: i64,
    /// Whether this step fell in the cooldown after a reduction (bad steps not counted).
    pub in_cooldown: bool,
    /// The groups whose lr was cut: (group, old lr, new lr).
    pub reductions: Vec<(usize, f64, f64)>,
    /// Groups where a cut was due but skipped (already at `min_lr`, or change ≤ `eps`).
    pub skipped: Vec<usize>,
}

impl PlateauEvent {
    /// True if some group's lr was lowered.
    pub fn reduced(&self) -> bool {
        !self.reductions.is_empty()
    }

    /// A one-line explanation, e.g. `test_accuracy 88 did not improve on 88 for 2 epochs
    /// (patience 1); lr 0.1 -> 0.05`.
    pub fn describe(&self, metric_name: &str) -> String {
        let mut line = match (self.improved, self.previous_best) {
            (true, None) => format!(
                "{metric_name} {} is the first value (best so far)",
                self.metric
            ),
            (true, Some(best)) => format!("{metric_name} {} improved on {best}", self.metric),
            (false, best) => {
                let best = best.map_or("nothing".to_string(), |b| b.to_string());
                if self.in_cooldown {
                    format!(
                        "{metric_name} {} did not improve on {best} (in cooldown, not counted)",
                        self.metric
                    )
                } else {
                    format!(
                        "{metric_name} {} did not improve on {best} for {} epoch{} (patience {})",
                        self.metric,
                        self.bad_epochs,
                        if self.bad_epochs == 1 { "" } else { "s" },
                        self.patience
                    )
                }
            }
        };
        for (group, old, new) in &self.reductions {
            if self.reductions.len() == 1 {
                line.push_str(&format!("; lr {old} -> {new}"));
            } else {
                line.push_str(&format!("; group {group} lr {old} -> {new}"));
            }
        }
        if !self.skipped.is_empty() {
            line.push_str("; lr already at min_lr (or the cut is below eps), unchanged");
        }
        line
    }
}

impl fmt::Display for PlateauEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("metric"))
    }
}

impl Plateau {
    fn is_better(&self, a: f64, best: Option<f64>) -> bool {
        let Some(best) = best else {
            return !a.is_nan(); // anything beats PyTorch's ±inf start except NaN
        };
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// PyTorch's `step(metrics)`; the metric is already known not to be NaN.
    pub(crate) fn step(&mut self, opt: &mut dyn ParamGroups, metric: f64) -> PlateauEvent {
        self.last_epoch += 1;
        let previous_best = self.best;
        let improved = self.is_better(metric, self.best);
        if improved {
            self.best = Some(metric);
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        let bad_epochs = self.num_bad_epochs;
        let in_cooldown = self.cooldown_counter > 0;
        if in_cooldown {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        let mut reductions = Vec::new();
        let mut skipped = Vec::new();
        if self.num_bad_epochs > self.patience {
            for (group, &min_lr) in self.min_lrs.iter().enumerate().take(opt.num_groups()) {
                let old = opt.lr(group);
                let new = (old * self.factor).max(min_lr);
                if old - new > self.eps {
                    // group < num_groups, so set_lr cannot fail
                    let _ = opt.set_lr(group, new);
                    reductions.push((group, old, new));
                } else {
                    skipped.push(group);
                }
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lr = opt.lrs();
        PlateauEvent {
            step: self.last_epoch,
            metric,
            previous_best,
            improved,
            bad_epochs,
            patience: self.patience,
            in_cooldown,
            reductions,
            skipped,
        }
    }
}
