//! The checks a saved scheduler state passes before [`super::Scheduler::load_state`] takes it.
//!
//! A saved state is input like a config: each node gets the range checks its constructor makes
//! (`StepLR.step_size = 0` or `CosineAnnealingLR.T_max = 0` would divide by zero at the next
//! step), and what only a state can get wrong is checked too: `SequentialLR` milestones that do
//! not match its children (an index out of bounds at the next step), per-group lists of the wrong
//! length, non-finite lrs, negative counters. Errors name the field by its path in the tree,
//! e.g. `SequentialLR.schedulers[1].T_max`.
//!
//! Then [`check_arguments`]: a scheduler's fixed arguments (everything its constructor computes
//! from the config, as opposed to the counters and lrs that stepping changes) must equal those of
//! the scheduler the state is loaded into, which was built from the run's config. A state that
//! belongs to another config is refused instead of silently replacing the configured schedule.

use crate::error::ScheduleError;

use super::checks::Checking;
use super::reduce_lr_on_plateau::Plateau;
use super::{cosine_annealing_warm_restarts, sequential_lr, Base, Node};

/// Checks `node` (at `path`) for an optimizer with `groups` parameter groups.
pub(super) fn check(node: &Node, path: &str, groups: usize) -> Result<(), ScheduleError> {
    let checking = Checking::State(path);
    match node {
        Node::Formula { base, rule } => {
            check_base(base, &checking, groups)?;
            rule.schedule().check(&checking, groups)
        }
        Node::WarmRestarts {
            base,
            t_0,
            t_i,
            t_mult,
            eta_min,
            t_cur,
        } => {
            check_base(base, &checking, groups)?;
            let counters = (*t_0, *t_i, *t_mult, *eta_min, *t_cur);
            cosine_annealing_warm_restarts::check(&checking, counters)
        }
        Node::Sequential {
            last_epoch,
            milestones,
            children,
            last_lr,
        } => {
            sequential_lr::check_milestones(&checking, milestones, children.len())?;
            checking.at_least("last_epoch", *last_epoch, 0)?;
            checking.lrs("last_lr", last_lr, groups)?;
            for (i, child) in children.iter().enumerate() {
                check(child, &format!("{path}.schedulers[{i}]"), groups)?;
            }
            Ok(())
        }
        Node::Chained { children, last_lr } => {
            if children.is_empty() {
                return Err(checking.fail("schedulers", "[]", "at least one scheduler"));
            }
            checking.lrs("last_lr", last_lr, groups)?;
            for (i, child) in children.iter().enumerate() {
                check(child, &format!("{path}.schedulers[{i}]"), groups)?;
            }
            Ok(())
        }
        Node::Plateau(p) => p.check(&checking, groups),
    }
}

/// Checks that `saved` has the fixed arguments of `mine` (same tree shape: checked before).
pub(super) fn check_arguments(mine: &Node, saved: &Node, path: &str) -> Result<(), ScheduleError> {
    let differ = |what: &str, mine: String, saved: String| {
        Err(ScheduleError::StateMismatch(format!(
            "{path}: the saved {what} {saved} differ from the config's {mine}"
        )))
    };
    match (mine, saved) {
        (Node::Formula { base: mb, rule: mr }, Node::Formula { base: sb, rule: sr }) => {
            // Debug prints every f64 exactly (shortest round-trip form), and the closures,
            // which are not saved, were copied from `mine` already.
            let (m, s) = (format!("{mr:?}"), format!("{sr:?}"));
            if m != s {
                return differ("arguments", m, s);
            }
            same_lrs(&mb.base_lrs, &sb.base_lrs, path)
        }
        (
            Node::WarmRestarts {
                base: mb,
                t_0: m0,
                t_mult: mm,
                eta_min: me,
                ..
            },
            Node::WarmRestarts {
                base: sb,
                t_0: s0,
                t_mult: sm,
                eta_min: se,
                ..
            },
        ) => {
            let (m, s) = (
                format!("({m0}, {mm}, {me:?})"),
                format!("({s0}, {sm}, {se:?})"),
            );
            if m != s {
                return differ("(T_0, T_mult, eta_min)", m, s);
            }
            same_lrs(&mb.base_lrs, &sb.base_lrs, path)
        }
        (
            Node::Sequential {
                milestones: mm,
                children: mc,
                ..
            },
            Node::Sequential {
                milestones: sm,
                children: sc,
                ..
            },
        ) => {
            if mm != sm {
                return differ("milestones", format!("{mm:?}"), format!("{sm:?}"));
            }
            children_arguments(mc, sc, path)
        }
        (Node::Chained { children: mc, .. }, Node::Chained { children: sc, .. }) => {
            children_arguments(mc, sc, path)
        }
        (Node::Plateau(m), Node::Plateau(s)) => {
            let fixed = |p: &Plateau| {
                format!(
                    "(mode {:?}, factor {:?}, patience {}, threshold {:?}, threshold_mode {:?}, cooldown {}, min_lr {:?}, eps {:?})",
                    p.mode, p.factor, p.patience, p.threshold, p.threshold_mode, p.cooldown, p.min_lrs, p.eps
                )
            };
            let (m, s) = (fixed(m), fixed(s));
            if m != s {
                return differ("arguments", m, s);
            }
            Ok(())
        }
        _ => Err(ScheduleError::StateMismatch(format!(
            "{path}: it holds a {}, this is a {}",
            saved.name(),
            mine.name()
        ))),
    }
}

fn children_arguments(mine: &[Node], saved: &[Node], path: &str) -> Result<(), ScheduleError> {
    for (i, (m, s)) in mine.iter().zip(saved).enumerate() {
        check_arguments(m, s, &format!("{path}.schedulers[{i}]"))?;
    }
    Ok(())
}

fn same_lrs(mine: &[f64], saved: &[f64], path: &str) -> Result<(), ScheduleError> {
    let same = mine.len() == saved.len()
        && mine
            .iter()
            .zip(saved)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    if same {
        Ok(())
    } else {
        Err(ScheduleError::StateMismatch(format!(
            "{path}: the saved base_lrs {saved:?} differ from the config's {mine:?}"
        )))
    }
}

fn check_base(base: &Base, checking: &Checking, groups: usize) -> Result<(), ScheduleError> {
    checking.lrs("base_lrs", &base.base_lrs, groups)?;
    checking.lrs("last_lr", &base.last_lr, groups)?;
    checking.at_least("last_epoch", base.last_epoch, -1)?;
    Ok(())
}
