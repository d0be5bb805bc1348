//! What a learning-rate scheduler reads and writes of an optimizer, as PyTorch's schedulers touch
//! `optimizer.param_groups`: each group's `lr` and `initial_lr`, and the momentum that `CyclicLR`
//! and `OneCycleLR` cycle, which is SGD's `momentum` and Adam's `betas[0]` (PyTorch's
//! `use_beta1`). [`crate::Sgd`] and [`crate::Adam`] implement it, so every scheduler drives
//! either.

use crate::error::OptimError;

/// The parameter groups of an optimizer, as a scheduler sees them.
pub trait ParamGroups {
    /// Number of parameter groups.
    fn num_groups(&self) -> usize;
    /// Current lr of `group` (`group['lr']`). Panics if `group >= num_groups()`.
    fn lr(&self, group: usize) -> f64;
    /// Set the lr of `group`.
    fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), OptimError>;
    /// The lr a scheduler recorded as the group's base (`group['initial_lr']`).
    fn initial_lr(&self, group: usize) -> Option<f64>;
    /// Record the group's base lr (what attaching a scheduler does in PyTorch).
    fn set_initial_lr(&mut self, group: usize, lr: Option<f64>);
    /// The momentum a cyclic scheduler reads and writes: SGD's `momentum`, Adam's `betas[0]`.
    fn momentum(&self, group: usize) -> f64;
    /// Set that momentum.
    fn set_momentum(&mut self, group: usize, momentum: f64) -> Result<(), OptimError>;
    /// How many optimizer steps have run (for the "scheduler stepped first" warning).
    fn step_count(&self) -> u64;
    /// Current lr of every group.
    fn lrs(&self) -> Vec<f64> {
        (0..self.num_groups()).map(|g| self.lr(g)).collect()
    }
}

impl ParamGroups for crate::Sgd {
    fn num_groups(&self) -> usize {
        crate::Sgd::num_groups(self)
    }
    fn lr(&self, group: usize) -> f64 {
        crate::Sgd::lr(self, group)
    }
    fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), OptimError> {
        crate::Sgd::set_lr(self, group, lr)
    }
    fn initial_lr(&self, group: usize) -> Option<f64> {
        crate::Sgd::initial_lr(self, group)
    }
    fn set_initial_lr(&mut self, group: usize, lr: Option<f64>) {
        crate::Sgd::set_initial_lr(self, group, lr)
    }
    fn momentum(&self, group: usize) -> f64 {
        crate::Sgd::momentum(self, group)
    }
    fn set_momentum(&mut self, group: usize, momentum: f64) -> Result<(), OptimError> {
        crate::Sgd::set_momentum(self, group, momentum)
    }
    fn step_count(&self) -> u64 {
        crate::Sgd::step_count(self)
    }
}

impl ParamGroups for crate::Adam {
    fn num_groups(&self) -> usize {
        self.groups().len()
    }
    fn lr(&self, group: usize) -> f64 {
        self.groups()[group].lr
    }
    fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), OptimError> {
        crate::Adam::set_lr(self, group, lr)
    }
    fn initial_lr(&self, group: usize) -> Option<f64> {
        self.groups()[group].initial_lr
    }
    fn set_initial_lr(&mut self, group: usize, lr: Option<f64>) {
        crate::Adam::set_initial_lr(self, group, lr)
    }
    fn momentum(&self, group: usize) -> f64 {
        self.groups()[group].betas[0]
    }
    fn set_momentum(&mut self, group: usize, momentum: f64) -> Result<(), OptimError> {
        self.set_beta1(group, momentum)
    }
    fn step_count(&self) -> u64 {
        crate::Adam::step_count(self)
    }
}
