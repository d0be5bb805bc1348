//! `PolynomialLR(optimizer, total_iters=5, power=1.0)`: decay the lr to 0 over `total_iters`
//! steps along (1 − t/T)^power.
//!
//! ```text
//! get_lr:       L for t > T (and at the constructor's step);
//!               else L·((1 − t/T) / (1 − (t − 1)/T))^power          (T = total_iters)
//! closed form:  B·(1 − min(t, T)/T)^power
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::math::pow;
use crate::param_groups::ParamGroups;

use super::arguments::Call;
use super::checks::Checking;
use super::config::Arguments;
use super::rule::{construct, each_base, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `PolynomialLR`'s arguments (also its saved rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolynomialLR {
    /// Steps to reach 0 (default 5).
    #[serde(default = "default_total_iters")]
    pub total_iters: i64,
    /// The power (default 1).
    #[serde(default = "default_power")]
    pub power: f64,
}

fn default_total_iters() -> i64 {
    5
}

fn default_power() -> f64 {
    1.0
}

impl PolynomialLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "PolynomialLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `PolynomialLR(total_iters=1175, power=2.0)`.
impl fmt::Display for PolynomialLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg_unless_default("total_iters", &self.total_iters, &default_total_iters())?
            .arg_unless_default("power", &self.power, &default_power())?
            .end()
    }
}

impl Arguments for PolynomialLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        self.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::Polynomial(self.clone()), opt)
    }
}

impl Schedule for PolynomialLR {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        if at.initial || at.t > self.total_iters {
            return Ok(Values::each(opt, at.base_lrs, |l, _| l));
        }
        let (t, total) = (at.t, self.total_iters as f64);
        let decay = pow(
            (1.0 - t as f64 / total) / (1.0 - (t - 1) as f64 / total),
            self.power,
        );
        Ok(Values::each(opt, at.base_lrs, |l, _| l * decay))
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        if self.total_iters == 0 {
            return Some(Err(ScheduleError::DivisionByZero {
                scheduler: at.name,
                what: "the closed form (total_iters = 0)".into(),
            }));
        }
        let reached = self.total_iters.min(at.t) as f64;
        Some(Ok(each_base(at.base_lrs, |b| {
            b * pow(1.0 - reached / self.total_iters as f64, self.power)
        })))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        checking.at_least("total_iters", self.total_iters, 0)?;
        checking.finite("power", self.power)?;
        Ok(())
    }
}
