//! `StepLR(optimizer, step_size, gamma=0.1)`: decay the lr by `gamma` every `step_size` steps.
//!
//! ```text
//! get_lr:       L·γ  if t ≠ 0 and t % step_size == 0,  else L
//! closed form:  B·γ^⌊t / step_size⌋
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

/// `StepLR`'s arguments (also its saved rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepLR {
    /// Period of decay (≥ 1).
    pub step_size: i64,
    /// Decay factor (default 0.1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

fn default_gamma() -> f64 {
    0.1
}

impl StepLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "StepLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `StepLR(step_size=4, gamma=0.96)`.
impl fmt::Display for StepLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("step_size", &self.step_size)?
            .arg_unless_default("gamma", &self.gamma, &default_gamma())?
            .end()
    }
}

impl Arguments for StepLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        self.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::Step(self.clone()), opt)
    }
}

impl Schedule for StepLR {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let decay = at.t != 0 && at.t.rem_euclid(self.step_size) == 0;
        Ok(Values::each(opt, at.base_lrs, |l, _| {
            if decay {
                l * self.gamma
            } else {
                l
            }
        }))
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        let factor = pow(self.gamma, at.t.div_euclid(self.step_size) as f64);
        Some(Ok(each_base(at.base_lrs, |b| b * factor)))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        checking.at_least("step_size", self.step_size, 1)?;
        checking.positive_factor("gamma", self.gamma)?;
        Ok(())
    }
}
