//! [`Optimizer`]: SGD or Adam, whichever a config chose, as one value a training loop holds.

use crate::adam::Adam;
use crate::error::OptimError;
use crate::param_groups::ParamGroups;
use crate::sgd::{Sgd, StepReport};

/// An optimizer built from an [`crate::OptimizerConfig`].
#[derive(Debug, Clone)]
pub enum Optimizer {
    /// `torch.optim.SGD`.
    Sgd(Sgd),
    /// `torch.optim.Adam` or `torch.optim.AdamW` ([`Adam::weight_decay_kind`] tells which).
    Adam(Adam),
}

impl Optimizer {
    /// The PyTorch class name: `SGD`, `Adam` or `AdamW`.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd(_) => "SGD",
            Optimizer::Adam(adam) => match adam.weight_decay_kind() {
                crate::WeightDecay::L2 => "Adam",
                crate::WeightDecay::Decoupled => "AdamW",
            },
        }
    }

    /// One step over every tensor (`params[i]` / `grads[i]` is tensor i), with the norms of
    /// what it did.
    pub fn step(
        &mut self,
        params: &mut [&mut [f32]],
        grads: &[&[f32]],
    ) -> Result<&StepReport, OptimError> {
        match self {
            Optimizer::Sgd(sgd) => sgd.step(params, grads),
            Optimizer::Adam(adam) => adam.step(params, grads),
        }
    }

    /// What a scheduler reads and writes.
    pub fn param_groups(&self) -> &dyn ParamGroups {
        match self {
            Optimizer::Sgd(sgd) => sgd,
            Optimizer::Adam(adam) => adam,
        }
    }

    /// What a scheduler reads and writes, to step it.
    pub fn param_groups_mut(&mut self) -> &mut dyn ParamGroups {
        match self {
            Optimizer::Sgd(sgd) => sgd,
            Optimizer::Adam(adam) => adam,
        }
    }

    /// The lr of `group`.
    pub fn lr(&self, group: usize) -> f64 {
        self.param_groups().lr(group)
    }

    /// SGD's momentum, or Adam's `betas[0]`, of `group` (what cyclic schedulers cycle).
    pub fn momentum(&self, group: usize) -> f64 {
        self.param_groups().momentum(group)
    }
}
