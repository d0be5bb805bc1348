//! `MultiplicativeLR(optimizer, lr_lambda)`: the lr times a function of the step, every step.
//!
//! ```text
//! get_lr:       L·λ(t)   (L at the constructor's step; no closed form in PyTorch)
//! ```
//!
//! λ is written as in `LambdaLR` ([`LrLambda`]); the functions are not saved in a state.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::arguments::{Call, PerGroup};
use super::checks::Checking;
use super::config::Arguments;
use super::lambda_lr::per_group_lambdas;
use super::lr_lambda::LrLambda;
use super::rule::{construct, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `MultiplicativeLR`'s arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiplicativeLR {
    /// One function for every group, or one per group.
    pub lr_lambda: PerGroup<LrLambda>,
}

/// The saved rule: the functions, one per group (not written to a state).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Multiplicative {
    #[serde(skip)]
    pub(crate) lambdas: Vec<LrLambda>,
}

impl MultiplicativeLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "MultiplicativeLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `MultiplicativeLR(lr_lambda=constant(factor=0.95))`.
impl fmt::Display for MultiplicativeLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("lr_lambda", &self.lr_lambda)?
            .end()
    }
}

impl Arguments for MultiplicativeLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let lambdas = per_group_lambdas(Self::NAME, &self.lr_lambda, opt.num_groups())?;
        construct(
            Self::NAME,
            Rule::Multiplicative(Multiplicative { lambdas }),
            opt,
        )
    }
}

impl Schedule for Multiplicative {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        if at.initial {
            return Ok(Values::each(opt, at.base_lrs, |l, _| l));
        }
        Ok(Values {
            lrs: opt
                .lrs()
                .iter()
                .zip(&self.lambdas)
                .map(|(&l, f)| l * f.eval(at.t))
                .collect(),
            momenta: None,
        })
    }
    fn closed_form(&self, _at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        None
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, _checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        Ok(())
    }
}
