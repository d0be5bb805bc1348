//! `ConstantLR(optimizer, factor=1/3, total_iters=5)`: the lr times `factor` until `total_iters`
//! steps, then the lr again.
//!
//! ```text
//! get_lr:       L·factor at t = 0,  L·(1/factor) at t = total_iters,  else L
//! closed form:  B·(factor + (t ≥ total_iters ? 1 − factor : 0))
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

/// `ConstantLR`'s arguments (also its saved rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantLR {
    /// Factor in (0, 1] (default 1/3).
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// Steps at the reduced lr (default 5).
    #[serde(default = "default_total_iters")]
    pub total_iters: i64,
}

fn default_factor() -> f64 {
    1.0 / 3.0
}

fn default_total_iters() -> i64 {
    5
}

impl ConstantLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "ConstantLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `ConstantLR(factor=0.5, total_iters=4)`.
impl fmt::Display for ConstantLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg_unless_default("factor", &self.factor, &default_factor())?
            .arg_unless_default("total_iters", &self.total_iters, &default_total_iters())?
            .end()
    }
}

impl Arguments for ConstantLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        self.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::Constant(self.clone()), opt)
    }
}

impl Schedule for ConstantLR {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let factor = self.factor;
        Ok(if at.t == 0 {
            Values::each(opt, at.base_lrs, |l, _| l * factor)
        } else if at.t != self.total_iters {
            Values::each(opt, at.base_lrs, |l, _| l)
        } else {
            let inverse = 1.0 / factor;
            Values::each(opt, at.base_lrs, |l, _| l * inverse)
        })
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        let factor = self.factor;
        let restore = if at.t >= self.total_iters {
            1.0 - factor
        } else {
            0.0
        };
        Some(Ok(each_base(at.base_lrs, |b| b * (factor + restore))))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        checking.require(
            self.factor > 0.0 && self.factor <= 1.0,
            "factor",
            self.factor,
            "a number in (0, 1] (PyTorch accepts 0 but then divides by it at total_iters)",
        )?;
        checking.at_least("total_iters", self.total_iters, 0)?;
        Ok(())
    }
}
