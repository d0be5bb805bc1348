//! The schedulers that follow PyTorch's base `LRScheduler.step()`: each one's file implements
//! [`Schedule`] (its chainable `get_lr`, its closed form if PyTorch has one, and the checks a
//! saved state passes), and [`Rule`] holds any of them, as the scheduler tree stores and saves
//! it. Notation in the files: `L` the current lr of a group, `B` its base lr (`initial_lr`), `t`
//! = `last_epoch` after the increment. Operation order follows `torch/optim/lr_scheduler.py` so
//! that results agree to the last bit.

use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::checks::Checking;
use super::constant_lr::ConstantLR;
use super::cosine_annealing_lr::Cosine;
use super::cyclic_lr::Cyclic;
use super::exponential_lr::ExponentialLR;
use super::lambda_lr::Lambda;
use super::linear_lr::LinearLR;
use super::multi_step_lr::MultiStepLR;
use super::multiplicative_lr::Multiplicative;
use super::one_cycle_lr::OneCycle;
use super::polynomial_lr::PolynomialLR;
use super::step_lr::StepLR;
use super::{Base, Node};

/// What a formula scheduler does at a step.
pub(crate) trait Schedule {
    /// PyTorch's `get_lr()`: the lrs (and momenta, for the cycling schedulers) at step `at.t`.
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError>;
    /// PyTorch's `_get_closed_form_lr()` (used by `SequentialLR` when it restarts a child at a
    /// milestone), for the classes that have one.
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>>;
    /// True if it sets the lr from the base lr alone, and so overwrites whatever an earlier
    /// child of a `ChainedScheduler` did.
    fn sets_lr_from_base(&self) -> bool;
    /// The checks its arguments pass (as a config, or in a saved state with `groups` groups).
    fn check(&self, checking: &Checking, groups: usize) -> Result<(), ScheduleError>;
}

/// Where a scheduler is when `get_lr` runs.
pub(crate) struct At<'a> {
    /// The PyTorch class name (for errors).
    pub name: &'static str,
    /// `last_epoch` after the increment.
    pub t: i64,
    /// The constructor's step (PyTorch's `_is_initial`).
    pub initial: bool,
    /// Every group's base lr.
    pub base_lrs: &'a [f64],
}

/// The lrs (and momenta, for the cycling schedulers) one `get_lr` call computes.
pub(crate) struct Values {
    pub lrs: Vec<f64>,
    pub momenta: Option<Vec<f64>>,
}

impl Values {
    /// `f(L, B)` for every group.
    pub(crate) fn each(
        opt: &dyn ParamGroups,
        base_lrs: &[f64],
        f: impl Fn(f64, f64) -> f64,
    ) -> Values {
        Values {
            lrs: opt
                .lrs()
                .into_iter()
                .zip(base_lrs)
                .map(|(l, &b)| f(l, b))
                .collect(),
            momenta: None,
        }
    }
}

/// `f(B)` for every group: a closed form.
pub(crate) fn each_base(base_lrs: &[f64], f: impl Fn(f64) -> f64) -> Vec<f64> {
    base_lrs.iter().map(|&b| f(b)).collect()
}

/// One formula scheduler's fixed arguments (its varying state lives in `Base`). The variant
/// names are what a saved state calls them: they must not change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Rule {
    Step(StepLR),
    MultiStep(MultiStepLR),
    Constant(ConstantLR),
    Linear(LinearLR),
    Exponential(ExponentialLR),
    Polynomial(PolynomialLR),
    Cosine(Cosine),
    Lambda(Lambda),
    Multiplicative(Multiplicative),
    Cyclic(Cyclic),
    OneCycle(OneCycle),
}

impl Rule {
    /// The scheduler this rule is.
    pub(crate) fn schedule(&self) -> &dyn Schedule {
        match self {
            Rule::Step(r) => r,
            Rule::MultiStep(r) => r,
            Rule::Constant(r) => r,
            Rule::Linear(r) => r,
            Rule::Exponential(r) => r,
            Rule::Polynomial(r) => r,
            Rule::Cosine(r) => r,
            Rule::Lambda(r) => r,
            Rule::Multiplicative(r) => r,
            Rule::Cyclic(r) => r,
            Rule::OneCycle(r) => r,
        }
    }
}

/// The base constructor's bookkeeping (before the initial step): `initial_lr` set-default,
/// `base_lrs = initial_lr`, `last_epoch = -1`.
pub(crate) fn attach(name: &'static str, opt: &mut dyn ParamGroups) -> Base {
    let mut base_lrs = Vec::with_capacity(opt.num_groups());
    for g in 0..opt.num_groups() {
        let initial = opt.initial_lr(g).unwrap_or_else(|| opt.lr(g));
        opt.set_initial_lr(g, Some(initial));
        base_lrs.push(initial);
    }
    Base {
        name: super::static_name::ClassName(name),
        base_lrs,
        last_epoch: -1,
        step_count: 0,
        last_lr: Vec::new(),
    }
}

/// PyTorch's base constructor for a formula scheduler: attach, then the initial step (t = 0).
pub(crate) fn construct(
    name: &'static str,
    rule: Rule,
    opt: &mut dyn ParamGroups,
) -> Result<Node, ScheduleError> {
    let base = attach(name, opt);
    let mut node = Node::Formula { base, rule };
    node.initial_step(opt)?;
    Ok(node)
}
