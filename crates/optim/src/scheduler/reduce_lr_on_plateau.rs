//! `ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
//! threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`: cut the lr by `factor` once the monitored metric has not improved for
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

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::arguments::{choice, write_choice, Call, PerGroup};
use super::checks::Checking;
use super::config::Arguments;
use super::{Node, Warning};

/// `ReduceLROnPlateau`'s arguments, with PyTorch's keyword names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReduceLROnPlateau {
    /// `min` or `max` (default `min`).
    #[serde(default = "default_mode")]
    pub mode: PlateauMode,
    /// new lr = lr·factor, factor < 1 (default 0.1).
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// Bad steps tolerated before a reduction (default 10).
    #[serde(default = "default_patience")]
    pub patience: i64,
    /// Significance threshold (default 1e-4).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// `rel` or `abs` (default `rel`).
    #[serde(default = "default_threshold_mode")]
    pub threshold_mode: ThresholdMode,
    /// Steps without counting after a reduction (default 0).
    #[serde(default)]
    pub cooldown: i64,
    /// Lower bound, one or per group (default 0).
    #[serde(default = "default_min_lr")]
    pub min_lr: PerGroup<f64>,
    /// Reductions smaller than this are skipped (default 1e-8).
    #[serde(default = "default_eps")]
    pub eps: f64,
}

fn default_mode() -> PlateauMode {
    PlateauMode::Min
}
fn default_factor() -> f64 {
    0.1
}
fn default_patience() -> i64 {
    10
}
fn default_threshold() -> f64 {
    1e-4
}
fn default_threshold_mode() -> ThresholdMode {
    ThresholdMode::Rel
}
fn default_min_lr() -> PerGroup<f64> {
    PerGroup::All(0.0)
}
fn default_eps() -> f64 {
    1e-8
}

/// `ReduceLROnPlateau(mode=...)`.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// `ReduceLROnPlateau(threshold_mode=...)`.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// Improvement relative to the best value (best·(1 ± threshold)).
    Rel,
    /// Improvement by an absolute amount (best ± threshold).
    Abs,
}

/// The names a config gives `PlateauMode`'s values.
const PLATEAU_MODES: [(&str, PlateauMode); 2] =
    [("min", PlateauMode::Min), ("max", PlateauMode::Max)];

/// The names a config gives `ThresholdMode`'s values.
const THRESHOLD_MODES: [(&str, ThresholdMode); 2] =
    [("rel", ThresholdMode::Rel), ("abs", ThresholdMode::Abs)];

impl<'de> Deserialize<'de> for PlateauMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(deserializer, "mode", &PLATEAU_MODES)
    }
}

impl<'de> Deserialize<'de> for ThresholdMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(deserializer, "threshold_mode", &THRESHOLD_MODES)
    }
}

/// As a config writes it: `"min"`.
impl fmt::Debug for PlateauMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_choice(f, self, &PLATEAU_MODES)
    }
}

/// As a config writes it: `"rel"`.
impl fmt::Debug for ThresholdMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_choice(f, self, &THRESHOLD_MODES)
    }
}

impl ReduceLROnPlateau {
    /// The PyTorch class name.
    pub const NAME: &'static str = "ReduceLROnPlateau";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `ReduceLROnPlateau(mode="max", factor=0.5, patience=1)`.
impl fmt::Display for ReduceLROnPlateau {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg_unless_default("mode", &self.mode, &default_mode())?
            .arg_unless_default("factor", &self.factor, &default_factor())?
            .arg_unless_default("patience", &self.patience, &default_patience())?
            .arg_unless_default("threshold", &self.threshold, &default_threshold())?
            .arg_unless_default(
                "threshold_mode",
                &self.threshold_mode,
                &default_threshold_mode(),
            )?
            .arg_unless_default("cooldown", &self.cooldown, &0)?
            .arg_unless_default("min_lr", &self.min_lr, &default_min_lr())?
            .arg_unless_default("eps", &self.eps, &default_eps())?
            .end()
    }
}

impl Arguments for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let checking = Checking::Config(Self::NAME);
        let factor = self.factor;
        checking.require(
            (0.0..1.0).contains(&factor),
            "factor",
            factor,
            "a number in [0, 1) (new lr = lr * factor)",
        )?;
        let min_lrs = checking.per_group("min_lr", &self.min_lr, opt.num_groups())?;
        if let Some(bad) = min_lrs.iter().find(|&&m| m < 0.0) {
            return Err(checking.fail("min_lr", bad, "numbers >= 0"));
        }
        for (key, v) in [("threshold", self.threshold), ("eps", self.eps)] {
            checking.require(v.is_finite() && v >= 0.0, key, v, "a finite number >= 0")?;
        }
        Ok(Node::Plateau(Plateau {
            mode: self.mode,
            factor,
            patience: checking.at_least("patience", self.patience, 0)?,
            threshold: self.threshold,
            threshold_mode: self.threshold_mode,
            cooldown: checking.at_least("cooldown", self.cooldown, 0)?,
            min_lrs,
            eps: self.eps,
            last_epoch: 0,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_lr: opt.lrs(),
        }))
    }
}

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
    /// The checks a saved state passes (the counters as well as the arguments).
    pub(crate) fn check(&self, checking: &Checking, groups: usize) -> Result<(), ScheduleError> {
        let factor = self.factor;
        checking.require(
            (0.0..1.0).contains(&factor),
            "factor",
            factor,
            "a number in [0, 1)",
        )?;
        checking.at_least("patience", self.patience, 0)?;
        checking.at_least("cooldown", self.cooldown, 0)?;
        for (key, v) in [("threshold", self.threshold), ("eps", self.eps)] {
            checking.require(v.is_finite() && v >= 0.0, key, v, "a finite number >= 0")?;
        }
        checking.lrs("min_lrs", &self.min_lrs, groups)?;
        checking.lrs("last_lr", &self.last_lr, groups)?;
        checking.at_least("last_epoch", self.last_epoch, 0)?;
        if let Some(best) = self.best.filter(|b| !b.is_finite()) {
            return Err(checking.fail("best", best, "a finite number"));
        }
        checking.at_least("num_bad_epochs", self.num_bad_epochs, 0)?;
        let counter = self.cooldown_counter;
        checking.require(
            (0..=self.cooldown).contains(&counter),
            "cooldown_counter",
            counter,
            &format!("an integer from 0 to cooldown = {}", self.cooldown),
        )?;
        Ok(())
    }

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
