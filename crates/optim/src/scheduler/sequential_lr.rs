//! `SequentialLR(optimizer, schedulers, milestones)`: the children one after another, switching
//! to child i at `milestones[i − 1]`. At a switch the new child restarts at t = 0 with its
//! closed form (PyTorch's `_update_lr(0)`); between switches the active child steps as usual.
//!
//! ```text
//! step():  t += 1;  i = how many milestones are ≤ t
//!          t == milestones[i − 1] ? children[i] restarts at 0 : children[i].step()
//! ```
//! Construction follows PyTorch: every child is built (each writing its t = 0 lr), then the lrs
//! go back to `initial_lr`, every child's construction step is undone and the first one's rerun.

use std::fmt;

use serde::Deserialize;

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::arguments::Call;
use super::checks::Checking;
use super::config::{Arguments, Calls, SchedulerConfig};
use super::{Node, Warning, WarningKind};

/// `SequentialLR`'s arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialLR {
    /// The children (at least one; no ReduceLROnPlateau).
    pub schedulers: Vec<SchedulerConfig>,
    /// One fewer than the children.
    pub milestones: Vec<i64>,
}

impl SequentialLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "SequentialLR";
}

/// The checks of the milestones against the children (for a config and a saved state).
pub(crate) fn check_milestones(
    checking: &Checking,
    milestones: &[i64],
    children: usize,
) -> Result<(), ScheduleError> {
    if children == 0 {
        return Err(checking.fail("schedulers", "[]", "at least one scheduler"));
    }
    if milestones.len() + 1 != children {
        return Err(checking.fail(
            "milestones",
            format!("{milestones:?}"),
            format!("exactly one fewer milestone than schedulers ({children} schedulers)"),
        ));
    }
    if milestones.windows(2).any(|w| w[0] >= w[1]) || milestones.iter().any(|&m| m < 0) {
        return Err(checking.fail(
            "milestones",
            format!("{milestones:?}"),
            "strictly increasing integers >= 0",
        ));
    }
    Ok(())
}

/// The children of a composite: at least one, and no `ReduceLROnPlateau` (it needs a metric).
pub(crate) fn check_children(
    name: &'static str,
    schedulers: &[SchedulerConfig],
) -> Result<(), ScheduleError> {
    if schedulers.is_empty() {
        return Err(Checking::Config(name).fail("schedulers", "[]", "at least one scheduler"));
    }
    if let Some(i) = schedulers
        .iter()
        .position(|s| matches!(s, SchedulerConfig::ReduceLROnPlateau(_)))
    {
        return Err(ScheduleError::Unsupported(format!(
            "{name}: schedulers[{i}] is ReduceLROnPlateau, which needs a metric at every step and \
             cannot be sequenced or chained (PyTorch refuses it too)"
        )));
    }
    Ok(())
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `SequentialLR(schedulers=[LinearLR(start_factor=0.1, total_iters=235), CosineAnnealingLR(T_max=940)], milestones=[235])`.
impl fmt::Display for SequentialLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("schedulers", &Calls(&self.schedulers))?
            .arg("milestones", &self.milestones)?
            .end()
    }
}

impl Arguments for SequentialLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        warnings: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let (schedulers, milestones) = (&self.schedulers, &self.milestones);
        check_children(Self::NAME, schedulers)?;
        check_milestones(&Checking::Config(Self::NAME), milestones, schedulers.len())?;
        for (i, child) in schedulers.iter().enumerate().skip(1) {
            if matches!(
                child,
                SchedulerConfig::SequentialLR(_) | SchedulerConfig::ChainedScheduler(_)
            ) {
                return Err(ScheduleError::Unsupported(format!(
                    "SequentialLR: schedulers[{i}] is a {}; PyTorch cannot restart it at its \
                     milestone (NotImplementedError). Only the first child may be a composite.",
                    child.name()
                )));
            }
        }
        if milestones.first() == Some(&0) {
            warnings.push(Warning {
                kind: WarningKind::SequentialMilestoneZero,
                at_step: 0,
                message: "SequentialLR: milestone 0 — PyTorch still sets the t = 0 lr with the first \
                          scheduler, then switches at the first step; drop the first scheduler instead"
                    .into(),
            });
        }
        let mut children = Vec::with_capacity(schedulers.len());
        for child in schedulers {
            children.push(child.build(opt, warnings)?);
        }
        // PyTorch: reset lrs to initial_lr, undo every child's construction step, rerun the first's.
        for g in 0..opt.num_groups() {
            if let Some(initial) = opt.initial_lr(g) {
                let _ = opt.set_lr(g, initial);
            }
        }
        children.iter_mut().for_each(Node::undo);
        children[0].initial_step(opt)?;
        let last_lr = children[0].last_lr().to_vec();
        Ok(Node::Sequential {
            last_epoch: 0,
            milestones: milestones.clone(),
            children,
            last_lr,
        })
    }
}
