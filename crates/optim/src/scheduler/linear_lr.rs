//! `LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)`: the lr times a factor
//! that moves linearly from `start_factor` to `end_factor` over `total_iters` steps.
//!
//! ```text
//! get_lr:       L·s at t = 0;  L for t > total_iters;
//!               else L·(1 + (e − s) / (total_iters·s + (t − 1)·(e − s)))   (s, e: the factors)
//! closed form:  B·(s + (e − s)·min(t, total_iters) / total_iters)
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::arguments::Call;
use super::checks::Checking;
use super::config::Arguments;
use super::rule::{construct, each_base, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `LinearLR`'s arguments (also its saved rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearLR {
    /// In (0, 1] (default 1/3).
    #[serde(default = "default_start_factor")]
    pub start_factor: f64,
    /// In [0, 1] (default 1).
    #[serde(default = "default_end_factor")]
    pub end_factor: f64,
    /// Length of the ramp (default 5).
    #[serde(default = "default_total_iters")]
    pub total_iters: i64,
}

fn default_start_factor() -> f64 {
    1.0 / 3.0
}

fn default_end_factor() -> f64 {
    1.0
}

fn default_total_iters() -> i64 {
    5
}

impl LinearLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "LinearLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `LinearLR(start_factor=0.1, total_iters=235)`.
impl fmt::Display for LinearLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg_unless_default("start_factor", &self.start_factor, &default_start_factor())?
            .arg_unless_default("end_factor", &self.end_factor, &default_end_factor())?
            .arg_unless_default("total_iters", &self.total_iters, &default_total_iters())?
            .end()
    }
}

impl Arguments for LinearLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        self.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::Linear(self.clone()), opt)
    }
}

impl Schedule for LinearLR {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let (s, e) = (self.start_factor, self.end_factor);
        Ok(if at.t == 0 {
            Values::each(opt, at.base_lrs, |l, _| l * s)
        } else if at.initial || at.t > self.total_iters {
            Values::each(opt, at.base_lrs, |l, _| l)
        } else {
            let ratio = 1.0 + (e - s) / (self.total_iters as f64 * s + (at.t - 1) as f64 * (e - s));
            Values::each(opt, at.base_lrs, |l, _| l * ratio)
        })
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        if self.total_iters == 0 {
            return Some(Err(ScheduleError::DivisionByZero {
                scheduler: at.name,
                what: "the closed form (total_iters = 0)".into(),
            }));
        }
        let (s, e) = (self.start_factor, self.end_factor);
        let reached = self.total_iters.min(at.t) as f64;
        Some(Ok(each_base(at.base_lrs, |b| {
            b * (s + (e - s) * reached / self.total_iters as f64)
        })))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        let (s, e) = (self.start_factor, self.end_factor);
        checking.require(s > 0.0 && s <= 1.0, "start_factor", s, "a number in (0, 1]")?;
        checking.require(
            (0.0..=1.0).contains(&e),
            "end_factor",
            e,
            "a number in [0, 1]",
        )?;
        checking.at_least("total_iters", self.total_iters, 0)?;
        Ok(())
    }
}
