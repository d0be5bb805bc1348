//! `MultiStepLR(optimizer, milestones, gamma=0.1)`: decay the lr by `gamma` at each milestone.
//! The milestones are a multiset (PyTorch keeps a `Counter`): a milestone given twice decays
//! twice.
//!
//! ```text
//! get_lr:       L·γ^c  where c = how many milestones equal t (L if none)
//! closed form:  B·γ^(how many milestones are ≤ t)
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

/// `MultiStepLR`'s arguments (also its saved rule, with the milestones sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStepLR {
    /// Steps at which to decay (in any order, repeats allowed).
    pub milestones: Vec<i64>,
    /// Decay factor (default 0.1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

fn default_gamma() -> f64 {
    0.1
}

impl MultiStepLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "MultiStepLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `MultiStepLR(milestones=[2, 4], gamma=0.5)`.
impl fmt::Display for MultiStepLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("milestones", &self.milestones)?
            .arg_unless_default("gamma", &self.gamma, &default_gamma())?
            .end()
    }
}

impl Arguments for MultiStepLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let mut rule = self.clone();
        rule.milestones.sort_unstable();
        rule.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::MultiStep(rule), opt)
    }
}

impl Schedule for MultiStepLR {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let count = self.milestones.iter().filter(|&&m| m == at.t).count();
        if count == 0 {
            return Ok(Values::each(opt, at.base_lrs, |l, _| l));
        }
        let factor = pow(self.gamma, count as f64);
        Ok(Values::each(opt, at.base_lrs, |l, _| l * factor))
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        let passed = self.milestones.iter().filter(|&&m| m <= at.t).count();
        let factor = pow(self.gamma, passed as f64);
        Some(Ok(each_base(at.base_lrs, |b| b * factor)))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        if self.milestones.windows(2).any(|w| w[0] > w[1]) {
            let milestones = format!("{:?}", self.milestones);
            return Err(checking.fail("milestones", milestones, "sorted integers"));
        }
        checking.positive_factor("gamma", self.gamma)?;
        Ok(())
    }
}
