//! `ChainedScheduler(schedulers)`: every child's `step()`, in order, on the same lr, so that
//! their chainable rules multiply (a warm-up factor times a decay, say).
//!
//! ```text
//! step():  for child in children: child.step()        (lr = what the last child wrote)
//! ```
//! A child that sets the lr from its base lr alone (`LambdaLR`, `CyclicLR`, `OneCycleLR`,
//! `CosineAnnealingWarmRestarts`) overwrites what the children before it did: that is recorded
//! as a warning (PyTorch issue #129565).

use std::fmt;

use serde::Deserialize;

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::arguments::Call;
use super::config::{Arguments, Calls, SchedulerConfig};
use super::sequential_lr::check_children;
use super::{Node, Warning, WarningKind};

/// `ChainedScheduler`'s arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedScheduler {
    /// The children (at least one; no ReduceLROnPlateau).
    pub schedulers: Vec<SchedulerConfig>,
}

impl ChainedScheduler {
    /// The PyTorch class name.
    pub const NAME: &'static str = "ChainedScheduler";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `ChainedScheduler(schedulers=[ConstantLR(factor=0.1, total_iters=2), ExponentialLR(gamma=0.9)])`.
impl fmt::Display for ChainedScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("schedulers", &Calls(&self.schedulers))?
            .end()
    }
}

impl Arguments for ChainedScheduler {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        warnings: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        check_children(Self::NAME, &self.schedulers)?;
        let mut children = Vec::with_capacity(self.schedulers.len());
        for (i, child) in self.schedulers.iter().enumerate() {
            let node = child.build(opt, warnings)?;
            let from_base = match &node {
                Node::Formula { rule, .. } => rule.schedule().sets_lr_from_base(),
                Node::WarmRestarts { .. } => true,
                _ => false,
            };
            if from_base && i > 0 {
                warnings.push(Warning {
                    kind: WarningKind::ChainedAbsoluteChild,
                    at_step: 0,
                    message: format!(
                        "ChainedScheduler: schedulers[{i}] ({}) sets the lr from its base lr alone and \
                         overwrites what the schedulers before it did",
                        child.name()
                    ),
                });
            }
            children.push(node);
        }
        Ok(Node::Chained {
            children,
            last_lr: opt.lrs(),
        })
    }
}
