//! [`SchedulerConfig`]: any scheduler's arguments, keyed exactly as PyTorch's keyword arguments,
//! with `name` choosing the class (`name = "StepLR"`, `step_size = 4`, ...). Unknown names and
//! keys are errors that list the allowed ones; ranges are checked when the scheduler is built
//! ([`crate::Scheduler::new`]). Each class's arguments, checks and formulas are in its own file
//! (`step_lr.rs`, ...); this enum only names them.

use std::fmt;

use serde::Deserialize;

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::{
    ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR,
    ExponentialLR, LambdaLR, LinearLR, MultiStepLR, MultiplicativeLR, Node, OneCycleLR,
    PolynomialLR, ReduceLROnPlateau, SequentialLR, StepLR, Warning,
};

/// What every scheduler's arguments can do: name their class, and build the scheduler (in
/// PyTorch's constructor order: argument checks, class-specific writes into the groups, then
/// the base constructor's bookkeeping and the initial step at t = 0).
pub(crate) trait Arguments: fmt::Display {
    /// The PyTorch class name.
    fn name(&self) -> &'static str;
    /// Check the arguments and build the scheduler against `opt` (writing its t = 0 lr).
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        warnings: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError>;
}

/// Every PyTorch learning-rate scheduler with its keyword arguments and defaults, spelled as in
/// `torch.optim.lr_scheduler` (`T_max`, `T_0`, `eta_min`, ...). `name` picks the class.
/// `last_epoch` is not offered: resume through [`crate::Scheduler::load_state`] instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "name")]
pub enum SchedulerConfig {
    /// lr = base·λ(t).
    LambdaLR(LambdaLR),
    /// lr = lr·λ(t) for t ≥ 1.
    MultiplicativeLR(MultiplicativeLR),
    /// lr·gamma every `step_size` steps.
    StepLR(StepLR),
    /// lr·gamma at each milestone (a multiset).
    MultiStepLR(MultiStepLR),
    /// lr·factor until `total_iters`, then lr.
    ConstantLR(ConstantLR),
    /// Factor moving linearly from `start_factor` to `end_factor` over `total_iters` steps.
    LinearLR(LinearLR),
    /// lr·gamma every step.
    ExponentialLR(ExponentialLR),
    /// Children one after another, switching at the milestones.
    SequentialLR(SequentialLR),
    /// (1 − t/T)^power decay to 0 over `total_iters` steps.
    PolynomialLR(PolynomialLR),
    /// Cosine from the base lr to `eta_min` over `T_max` steps (PyTorch's recursive form).
    CosineAnnealingLR(CosineAnnealingLR),
    /// Every child's step, in order, on the same lr.
    ChainedScheduler(ChainedScheduler),
    /// Reduce the lr when a metric stops improving.
    ReduceLROnPlateau(ReduceLROnPlateau),
    /// Cyclical learning rate (and inverse momentum).
    CyclicLR(CyclicLR),
    /// The 1cycle policy.
    OneCycleLR(OneCycleLR),
    /// SGDR cosine with warm restarts.
    CosineAnnealingWarmRestarts(CosineAnnealingWarmRestarts),
}

impl SchedulerConfig {
    /// The arguments of the class this config names.
    pub(crate) fn arguments(&self) -> &dyn Arguments {
        match self {
            SchedulerConfig::LambdaLR(a) => a,
            SchedulerConfig::MultiplicativeLR(a) => a,
            SchedulerConfig::StepLR(a) => a,
            SchedulerConfig::MultiStepLR(a) => a,
            SchedulerConfig::ConstantLR(a) => a,
            SchedulerConfig::LinearLR(a) => a,
            SchedulerConfig::ExponentialLR(a) => a,
            SchedulerConfig::SequentialLR(a) => a,
            SchedulerConfig::PolynomialLR(a) => a,
            SchedulerConfig::CosineAnnealingLR(a) => a,
            SchedulerConfig::ChainedScheduler(a) => a,
            SchedulerConfig::ReduceLROnPlateau(a) => a,
            SchedulerConfig::CyclicLR(a) => a,
            SchedulerConfig::OneCycleLR(a) => a,
            SchedulerConfig::CosineAnnealingWarmRestarts(a) => a,
        }
    }

    /// The PyTorch class name.
    pub fn name(&self) -> &'static str {
        self.arguments().name()
    }

    /// Build against `opt` (writing the t = 0 lr into it); warnings go to `warnings`.
    pub(crate) fn build(
        &self,
        opt: &mut dyn ParamGroups,
        warnings: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        self.arguments().build(opt, warnings)
    }
}

/// The chosen class with its arguments, as Python writes the call (those left at PyTorch's
/// defaults left out): `StepLR(step_size=4, gamma=0.96)`.
impl fmt::Display for SchedulerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.arguments(), f)
    }
}

/// A list of schedulers written as their calls: `[LinearLR(...), CosineAnnealingLR(...)]`.
pub(crate) struct Calls<'a>(pub(crate) &'a [SchedulerConfig]);

impl fmt::Debug for Calls<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, child) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{child}")?;
        }
        f.write_str("]")
    }
}
