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

use super::plateau::Plateau;
use super::rules::{CyclicScale, Rule};
use super::{Base, Node};

/// Checks `node` (at `path`) for an optimizer with `groups` parameter groups.
pub(super) fn check(node: &Node, path: &str, groups: usize) -> Result<(), ScheduleError> {
    match node {
        Node::Formula { base, rule } => {
            check_base(base, path, groups)?;
            check_rule(rule, path, groups)
        }
        Node::WarmRestarts {
            base,
            t_0,
            t_i,
            t_mult,
            eta_min,
            t_cur,
        } => {
            check_base(base, path, groups)?;
            at_least(path, "T_0", *t_0, 1)?;
            at_least(path, "T_i", *t_i, 1)?;
            at_least(path, "T_mult", *t_mult, 1)?;
            finite(path, "eta_min", *eta_min)?;
            if !(t_cur.is_finite() && *t_cur >= -1.0) {
                return Err(bad(path, "T_cur", t_cur, "a finite number >= -1"));
            }
            Ok(())
        }
        Node::Sequential {
            last_epoch,
            milestones,
            children,
            last_lr,
        } => {
            if children.is_empty() {
                return Err(bad(path, "schedulers", "[]", "at least one scheduler"));
            }
            if milestones.len() + 1 != children.len() {
                return Err(bad(
                    path,
                    "milestones",
                    format!("{milestones:?}"),
                    &format!(
                        "exactly one fewer milestone than schedulers ({} schedulers)",
                        children.len()
                    ),
                ));
            }
            if milestones.windows(2).any(|w| w[0] >= w[1]) || milestones.iter().any(|&m| m < 0) {
                return Err(bad(
                    path,
                    "milestones",
                    format!("{milestones:?}"),
                    "strictly increasing integers >= 0",
                ));
            }
            at_least(path, "last_epoch", *last_epoch, 0)?;
            lrs(path, "last_lr", last_lr, groups)?;
            for (i, child) in children.iter().enumerate() {
                check(child, &format!("{path}.schedulers[{i}]"), groups)?;
            }
            Ok(())
        }
        Node::Chained { children, last_lr } => {
            if children.is_empty() {
                return Err(bad(path, "schedulers", "[]", "at least one scheduler"));
            }
            lrs(path, "last_lr", last_lr, groups)?;
            for (i, child) in children.iter().enumerate() {
                check(child, &format!("{path}.schedulers[{i}]"), groups)?;
            }
            Ok(())
        }
        Node::Plateau(p) => check_plateau(p, path, groups),
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

fn check_base(base: &Base, path: &str, groups: usize) -> Result<(), ScheduleError> {
    lrs(path, "base_lrs", &base.base_lrs, groups)?;
    lrs(path, "last_lr", &base.last_lr, groups)?;
    at_least(path, "last_epoch", base.last_epoch, -1)?;
    Ok(())
}

fn check_rule(rule: &Rule, path: &str, groups: usize) -> Result<(), ScheduleError> {
    match rule {
        Rule::Step { step_size, gamma } => {
            at_least(path, "step_size", *step_size, 1)?;
            positive(path, "gamma", *gamma)
        }
        Rule::MultiStep { milestones, gamma } => {
            if milestones.windows(2).any(|w| w[0] > w[1]) {
                return Err(bad(
                    path,
                    "milestones",
                    format!("{milestones:?}"),
                    "sorted integers",
                ));
            }
            positive(path, "gamma", *gamma)
        }
        Rule::Constant {
            factor,
            total_iters,
        } => {
            if !(*factor > 0.0 && *factor <= 1.0) {
                return Err(bad(path, "factor", factor, "a number in (0, 1]"));
            }
            at_least(path, "total_iters", *total_iters, 0)
        }
        Rule::Linear {
            start_factor,
            end_factor,
            total_iters,
        } => {
            if !(*start_factor > 0.0 && *start_factor <= 1.0) {
                return Err(bad(
                    path,
                    "start_factor",
                    start_factor,
                    "a number in (0, 1]",
                ));
            }
            if !(*end_factor >= 0.0 && *end_factor <= 1.0) {
                return Err(bad(path, "end_factor", end_factor, "a number in [0, 1]"));
            }
            at_least(path, "total_iters", *total_iters, 0)
        }
        Rule::Exponential { gamma } => positive(path, "gamma", *gamma),
        Rule::Polynomial { total_iters, power } => {
            at_least(path, "total_iters", *total_iters, 0)?;
            finite(path, "power", *power)
        }
        Rule::Cosine { t_max, eta_min } => {
            at_least(path, "T_max", *t_max, 1)?;
            finite(path, "eta_min", *eta_min)
        }
        Rule::Lambda { .. } | Rule::Multiplicative { .. } => Ok(()),
        Rule::Cyclic(c) => {
            lrs(path, "max_lr", &c.max_lrs, groups)?;
            if !(c.total_size.is_finite() && c.total_size > 0.0) {
                return Err(bad(path, "total_size", c.total_size, "a finite number > 0"));
            }
            if !(c.step_ratio > 0.0 && c.step_ratio <= 1.0) {
                return Err(bad(path, "step_ratio", c.step_ratio, "a number in (0, 1]"));
            }
            if let CyclicScale::ExpRange { gamma } = c.scale {
                positive(path, "gamma", gamma)?;
            }
            momenta(path, c.momentum.as_ref(), groups)
        }
        Rule::OneCycle(o) => {
            at_least(path, "total_steps", o.total_steps, 1)?;
            if o.phases.is_empty() || o.phases.iter().any(|p| !p.end_step.is_finite()) {
                return Err(bad(
                    path,
                    "phases",
                    format!("{} phases", o.phases.len()),
                    "two or three phases with finite ends",
                ));
            }
            lrs(path, "max_lr", &o.max_lrs, groups)?;
            lrs(path, "min_lr", &o.min_lrs, groups)?;
            momenta(path, o.momentum.as_ref(), groups)
        }
    }
}

fn check_plateau(p: &Plateau, path: &str, groups: usize) -> Result<(), ScheduleError> {
    if !(p.factor >= 0.0 && p.factor < 1.0) {
        return Err(bad(path, "factor", p.factor, "a number in [0, 1)"));
    }
    at_least(path, "patience", p.patience, 0)?;
    at_least(path, "cooldown", p.cooldown, 0)?;
    for (key, v) in [("threshold", p.threshold), ("eps", p.eps)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(path, key, v, "a finite number >= 0"));
        }
    }
    lrs(path, "min_lrs", &p.min_lrs, groups)?;
    lrs(path, "last_lr", &p.last_lr, groups)?;
    at_least(path, "last_epoch", p.last_epoch, 0)?;
    if let Some(best) = p.best.filter(|b| !b.is_finite()) {
        return Err(bad(path, "best", best, "a finite number"));
    }
    at_least(path, "num_bad_epochs", p.num_bad_epochs, 0)?;
    if !(0..=p.cooldown).contains(&p.cooldown_counter) {
        return Err(bad(
            path,
            "cooldown_counter",
            p.cooldown_counter,
            &format!("an integer from 0 to cooldown = {}", p.cooldown),
        ));
    }
    Ok(())
}

/// One finite lr >= 0 per group.
fn lrs(path: &str, key: &str, values: &[f64], groups: usize) -> Result<(), ScheduleError> {
    if values.len() != groups {
        return Err(bad(
            path,
            key,
            format!("{values:?}"),
            &format!("one value per parameter group ({groups})"),
        ));
    }
    if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
        return Err(bad(path, key, v, "finite numbers >= 0"));
    }
    Ok(())
}

fn momenta(
    path: &str,
    momentum: Option<&(Vec<f64>, Vec<f64>)>,
    groups: usize,
) -> Result<(), ScheduleError> {
    if let Some((base, max)) = momentum {
        lrs(path, "base_momentum", base, groups)?;
        lrs(path, "max_momentum", max, groups)?;
    }
    Ok(())
}

fn at_least(path: &str, key: &str, v: i64, min: i64) -> Result<(), ScheduleError> {
    if v >= min {
        Ok(())
    } else {
        Err(bad(path, key, v, &format!("an integer >= {min}")))
    }
}

fn positive(path: &str, key: &str, v: f64) -> Result<(), ScheduleError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(bad(path, key, v, "a finite number > 0"))
    }
}

fn finite(path: &str, key: &str, v: f64) -> Result<(), ScheduleError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(bad(path, key, v, "a finite number"))
    }
}

fn bad(path: &str, key: &str, value: impl ToString, allowed: &str) -> ScheduleError {
    ScheduleError::BadState {
        field: format!("{path}.{key}"),
        value: value.to_string(),
        allowed: allowed.to_string(),
    }
}
