//! `ExponentialLR(optimizer, gamma)`: decay the lr by `gamma` every step.
//!
//! ```text
//! get_lr:       L·γ   (L at the constructor's step)
//! closed form:  B·γ^t
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

/// `ExponentialLR`'s arguments (also its saved rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialLR {
    /// Decay factor (required).
    pub gamma: f64,
}

impl ExponentialLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "ExponentialLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `ExponentialLR(gamma=0.95)`.
impl fmt::Display for ExponentialLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?.arg("gamma", &self.gamma)?.end()
    }
}

impl Arguments for ExponentialLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        self.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::Exponential(self.clone()), opt)
    }
}

impl Schedule for ExponentialLR {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let initial = at.initial;
        Ok(Values::each(opt, at.base_lrs, |l, _| {
            if initial {
                l
            } else {
                l * self.gamma
            }
        }))
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        let factor = pow(self.gamma, at.t as f64);
        Some(Ok(each_base(at.base_lrs, |b| b * factor)))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        checking.positive_factor("gamma", self.gamma)?;
        Ok(())
    }
}
