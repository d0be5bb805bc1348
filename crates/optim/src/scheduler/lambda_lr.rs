//! `LambdaLR(optimizer, lr_lambda)`: the base lr times a function of the step.
//!
//! ```text
//! get_lr:       B·λ(t)        (no closed form in PyTorch; it is one already)
//! ```
//!
//! A config writes λ as a formula in `t` or a named lambda ([`LrLambda`]). The functions are
//! not saved in a state (as in PyTorch): the scheduler a state is loaded into keeps its own.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::arguments::{Call, PerGroup};
use super::checks::Checking;
use super::config::Arguments;
use super::lr_lambda::LrLambda;
use super::rule::{construct, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `LambdaLR`'s arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaLR {
    /// One function for every group, or one per group.
    pub lr_lambda: PerGroup<LrLambda>,
}

/// The saved rule: the functions, one per group (not written to a state).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Lambda {
    #[serde(skip)]
    pub(crate) lambdas: Vec<LrLambda>,
}

impl LambdaLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "LambdaLR";
}

/// One checked function per group, from one function or a list of them.
pub(crate) fn per_group_lambdas(
    name: &'static str,
    lr_lambda: &PerGroup<LrLambda>,
    groups: usize,
) -> Result<Vec<LrLambda>, ScheduleError> {
    let lambdas = lr_lambda.expand(groups).ok_or_else(|| {
        Checking::Config(name).fail(
            "lr_lambda",
            "a list of the wrong length",
            format!("one function, or {groups} (one per parameter group)"),
        )
    })?;
    for f in &lambdas {
        f.check(name)?;
    }
    Ok(lambdas)
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `LambdaLR(lr_lambda="0.95 ^ t")`.
impl fmt::Display for LambdaLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("lr_lambda", &self.lr_lambda)?
            .end()
    }
}

impl Arguments for LambdaLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let lambdas = per_group_lambdas(Self::NAME, &self.lr_lambda, opt.num_groups())?;
        construct(Self::NAME, Rule::Lambda(Lambda { lambdas }), opt)
    }
}

impl Schedule for Lambda {
    fn get_lr(&self, at: &At, _opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        Ok(Values {
            lrs: at
                .base_lrs
                .iter()
                .zip(&self.lambdas)
                .map(|(&b, f)| b * f.eval(at.t))
                .collect(),
            momenta: None,
        })
    }
    fn closed_form(&self, _at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        None
    }
    fn sets_lr_from_base(&self) -> bool {
        true
    }
    fn check(&self, _checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        Ok(())
    }
}
