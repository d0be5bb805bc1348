//! Construction of a scheduler tree from a [`SchedulerConfig`], in PyTorch's constructor order:
//! argument checks, class-specific writes into the groups (CyclicLR / OneCycleLR), then the base
//! constructor (`initial_lr` set-default, `base_lrs`, the initial step at t = 0). Composites are
//! built after their children, exactly as Python evaluates `SequentialLR(opt, [A(opt), B(opt)])`.

use crate::config::{CyclicMode, PerGroup, SchedulerConfig};
use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;

use super::plateau::Plateau;
use super::rules::{Anchor, Cyclic, CyclicScale, OneCycle, Phase, Rule};
use super::{Base, Node, Warning, WarningKind};

fn invalid(
    scheduler: &'static str,
    key: &'static str,
    value: impl ToString,
    allowed: &str,
) -> ScheduleError {
    ScheduleError::InvalidArgument {
        scheduler,
        key,
        value: value.to_string(),
        allowed: allowed.to_string(),
    }
}

fn finite(scheduler: &'static str, key: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(invalid(scheduler, key, v, "a finite number"))
    }
}

/// A decay factor: the lr is multiplied by it, so it must be a finite number above zero (a
/// negative one would flip the sign of the lr, zero would stop training after one decay).
fn positive_factor(
    scheduler: &'static str,
    key: &'static str,
    v: f64,
) -> Result<f64, ScheduleError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(invalid(
            scheduler,
            key,
            v,
            "a finite number > 0 (the lr is multiplied by it; < 1 decays)",
        ))
    }
}

fn at_least(
    scheduler: &'static str,
    key: &'static str,
    v: i64,
    min: i64,
) -> Result<i64, ScheduleError> {
    if v >= min {
        Ok(v)
    } else {
        Err(invalid(scheduler, key, v, &format!("an integer >= {min}")))
    }
}

fn per_group(
    scheduler: &'static str,
    key: &'static str,
    v: &PerGroup<f64>,
    groups: usize,
) -> Result<Vec<f64>, ScheduleError> {
    let values = v.expand(groups).ok_or_else(|| {
        let given = match v {
            PerGroup::Each(list) => format!("{list:?} ({} values)", list.len()),
            PerGroup::All(x) => x.to_string(),
        };
        invalid(
            scheduler,
            key,
            given,
            &format!("one number, or a list of {groups} (one per parameter group)"),
        )
    })?;
    for &x in &values {
        finite(scheduler, key, x)?;
    }
    Ok(values)
}

/// The base constructor's bookkeeping (before the initial step): `initial_lr` set-default,
/// `base_lrs = initial_lr`, `last_epoch = -1`.
fn attach(name: &'static str, opt: &mut dyn ParamGroups) -> Base {
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

fn formula(
    name: &'static str,
    rule: Rule,
    opt: &mut dyn ParamGroups,
) -> Result<Node, ScheduleError> {
    let base = attach(name, opt);
    let mut node = Node::Formula { base, rule };
    node.initial_step(opt)?;
    Ok(node)
}

/// Build `config` against `opt` (writing the t = 0 lr into it); warnings go to `warnings`.
pub(crate) fn build(
    config: &SchedulerConfig,
    opt: &mut dyn ParamGroups,
    warnings: &mut Vec<Warning>,
) -> Result<Node, ScheduleError> {
    let name = config.name();
    let groups = opt.num_groups();
    match config {
        SchedulerConfig::LambdaLR { lr_lambda }
        | SchedulerConfig::MultiplicativeLR { lr_lambda } => {
            let lambdas = lr_lambda.expand(groups).ok_or_else(|| {
                invalid(
                    name,
                    "lr_lambda",
                    "a list of the wrong length",
                    &format!("one function, or {groups} (one per parameter group)"),
                )
            })?;
            for f in &lambdas {
                f.check(name)?;
            }
            let rule = if matches!(config, SchedulerConfig::LambdaLR { .. }) {
                Rule::Lambda { lambdas }
            } else {
                Rule::Multiplicative { lambdas }
            };
            formula(name, rule, opt)
        }
        SchedulerConfig::StepLR { step_size, gamma } => {
            let rule = Rule::Step {
                step_size: at_least(name, "step_size", *step_size, 1)?,
                gamma: positive_factor(name, "gamma", *gamma)?,
            };
            formula(name, rule, opt)
        }
        SchedulerConfig::MultiStepLR { milestones, gamma } => {
            let mut sorted = milestones.clone();
            sorted.sort_unstable();
            formula(
                name,
                Rule::MultiStep {
                    milestones: sorted,
                    gamma: positive_factor(name, "gamma", *gamma)?,
                },
                opt,
            )
        }
        SchedulerConfig::ConstantLR {
            factor,
            total_iters,
        } => {
            if !(*factor > 0.0 && *factor <= 1.0) {
                return Err(invalid(
                    name,
                    "factor",
                    factor,
                    "a number in (0, 1] (PyTorch accepts 0 but then divides by it at total_iters)",
                ));
            }
            let rule = Rule::Constant {
                factor: *factor,
                total_iters: at_least(name, "total_iters", *total_iters, 0)?,
            };
            formula(name, rule, opt)
        }
        SchedulerConfig::LinearLR {
            start_factor,
            end_factor,
            total_iters,
        } => {
            if !(*start_factor > 0.0 && *start_factor <= 1.0) {
                return Err(invalid(
                    name,
                    "start_factor",
                    start_factor,
                    "a number in (0, 1]",
                ));
            }
            if !(*end_factor >= 0.0 && *end_factor <= 1.0) {
                return Err(invalid(
                    name,
                    "end_factor",
                    end_factor,
                    "a number in [0, 1]",
                ));
            }
            let rule = Rule::Linear {
                start_factor: *start_factor,
                end_factor: *end_factor,
                total_iters: at_least(name, "total_iters", *total_iters, 0)?,
            };
            formula(name, rule, opt)
        }
        SchedulerConfig::ExponentialLR { gamma } => formula(
            name,
            Rule::Exponential {
                gamma: positive_factor(name, "gamma", *gamma)?,
            },
            opt,
        ),
        SchedulerConfig::PolynomialLR { total_iters, power } => {
            let rule = Rule::Polynomial {
                total_iters: at_least(name, "total_iters", *total_iters, 0)?,
                power: finite(name, "power", *power)?,
            };
            formula(name, rule, opt)
        }
        SchedulerConfig::CosineAnnealingLR { t_max, eta_min } => {
            let rule = Rule::Cosine {
                t_max: at_least(name, "T_max", *t_max, 1)?,
                eta_min: finite(name, "eta_min", *eta_min)?,
            };
            formula(name, rule, opt)
        }
        SchedulerConfig::CosineAnnealingWarmRestarts {
            t_0,
            t_mult,
            eta_min,
        } => {
            let t_0 = at_least(name, "T_0", *t_0, 1)?;
            let t_mult = at_least(name, "T_mult", *t_mult, 1)?;
            let eta_min = finite(name, "eta_min", *eta_min)?;
            let base = attach(name, opt);
            let mut node = Node::WarmRestarts {
                base,
                t_0,
                t_i: t_0,
                t_mult,
                eta_min,
                t_cur: -1.0,
            };
            node.initial_step(opt)?;
            Ok(node)
        }
        SchedulerConfig::CyclicLR {
            base_lr,
            max_lr,
            step_size_up,
            step_size_down,
            mode,
            gamma,
            scale_mode,
            cycle_momentum,
            base_momentum,
            max_momentum,
            scale_fn,
        } => {
            let base_lrs = per_group(name, "base_lr", base_lr, groups)?;
            let max_lrs = per_group(name, "max_lr", max_lr, groups)?;
            let up = at_least(name, "step_size_up", *step_size_up, 1)? as f64;
            let down = match step_size_down {
                Some(d) => at_least(name, "step_size_down", *d, 0)? as f64,
                None => up,
            };
            let gamma = positive_factor(name, "gamma", *gamma)?;
            let scale = match (scale_fn, mode) {
                (Some(f), _) => CyclicScale::Custom {
                    f: Some(f.clone()),
                    mode: *scale_mode,
                },
                (None, CyclicMode::Triangular) => CyclicScale::Triangular,
                (None, CyclicMode::Triangular2) => CyclicScale::Triangular2,
                (None, CyclicMode::ExpRange) => CyclicScale::ExpRange { gamma },
            };
            // PyTorch overwrites every group's lr with base_lr before the base constructor.
            for (g, &lr) in base_lrs.iter().enumerate() {
                let _ = opt.set_lr(g, lr);
            }
            let momentum = if *cycle_momentum {
                let base_m = per_group(name, "base_momentum", base_momentum, groups)?;
                let max_m = per_group(name, "max_momentum", max_momentum, groups)?;
                for (g, &m) in max_m.iter().enumerate() {
                    let _ = opt.set_momentum(g, m);
                }
                Some((base_m, max_m))
            } else {
                None
            };
            let total_size = up + down;
            let rule = Rule::Cyclic(Cyclic {
                max_lrs,
                total_size,
                step_ratio: up / total_size,
                scale,
                momentum,
            });
            let mut node = formula(name, rule, opt)?;
            if let Node::Formula { base, .. } = &mut node {
                base.base_lrs = base_lrs;
            }
            Ok(node)
        }
        SchedulerConfig::OneCycleLR {
            max_lr,
            total_steps,
            epochs,
            steps_per_epoch,
            pct_start,
            anneal_strategy,
            cycle_momentum,
            base_momentum,
            max_momentum,
            div_factor,
            final_div_factor,
            three_phase,
        } => {
            let total = match (total_steps, epochs, steps_per_epoch) {
                (Some(t), _, _) => at_least(name, "total_steps", *t, 1)?,
                (None, Some(e), Some(s)) => {
                    at_least(name, "epochs", *e, 1)? * at_least(name, "steps_per_epoch", *s, 1)?
                }
                _ => {
                    return Err(invalid(
                        name,
                        "total_steps",
                        "nothing",
                        "give total_steps, or both epochs and steps_per_epoch",
                    ))
                }
            };
            if !(*pct_start >= 0.0 && *pct_start <= 1.0) {
                return Err(invalid(name, "pct_start", pct_start, "a number in [0, 1]"));
            }
            for (key, v) in [
                ("div_factor", *div_factor),
                ("final_div_factor", *final_div_factor),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(invalid(name, key, v, "a finite number > 0"));
                }
            }
            let max_lrs = per_group(name, "max_lr", max_lr, groups)?;
            let pct_total = pct_start * total as f64;
            let phases = if *three_phase {
                vec![
                    Phase {
                        end_step: pct_total - 1.0,
                        lr: (Anchor::Initial, Anchor::Max),
                        momentum: (true, false),
                    },
                    Phase {
                        end_step: 2.0 * pct_start * total as f64 - 2.0,
                        lr: (Anchor::Max, Anchor::Initial),
                        momentum: (false, true),
                    },
                    Phase {
                        end_step: (total - 1) as f64,
                        lr: (Anchor::Initial, Anchor::Min),
                        momentum: (true, true),
                    },
                ]
            } else {
                vec![
                    Phase {
                        end_step: pct_total - 1.0,
                        lr: (Anchor::Initial, Anchor::Max),
                        momentum: (true, false),
                    },
                    Phase {
                        end_step: (total - 1) as f64,
                        lr: (Anchor::Max, Anchor::Min),
                        momentum: (false, true),
                    },
                ]
            };
            // PyTorch writes initial_lr = max_lr/div_factor (overwriting), max_lr and min_lr into the groups.
            let mut min_lrs = Vec::with_capacity(groups);
            for (g, &m) in max_lrs.iter().enumerate() {
                let initial = m / div_factor;
                opt.set_initial_lr(g, Some(initial));
                min_lrs.push(initial / final_div_factor);
            }
            let momentum = if *cycle_momentum {
                let base_m = per_group(name, "base_momentum", base_momentum, groups)?;
                let max_m = per_group(name, "max_momentum", max_momentum, groups)?;
                for (g, &m) in max_m.iter().enumerate() {
                    let _ = opt.set_momentum(g, m);
                }
                Some((base_m, max_m))
            } else {
                None
            };
            let rule = Rule::OneCycle(OneCycle {
                total_steps: total,
                phases,
                anneal: *anneal_strategy,
                max_lrs,
                min_lrs,
                momentum,
            });
            formula(name, rule, opt)
        }
        SchedulerConfig::ReduceLROnPlateau {
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            min_lr,
            eps,
        } => {
            if !(*factor >= 0.0 && *factor < 1.0) {
                return Err(invalid(
                    name,
                    "factor",
                    factor,
                    "a number in [0, 1) (new lr = lr * factor)",
                ));
            }
            let min_lrs = per_group(name, "min_lr", min_lr, groups)?;
            if let Some(bad) = min_lrs.iter().find(|&&m| m < 0.0) {
                return Err(invalid(name, "min_lr", bad, "numbers >= 0"));
            }
            for (key, v) in [("threshold", *threshold), ("eps", *eps)] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(invalid(name, key, v, "a finite number >= 0"));
                }
            }
            Ok(Node::Plateau(Plateau {
                mode: *mode,
                factor: *factor,
                patience: at_least(name, "patience", *patience, 0)?,
                threshold: *threshold,
                threshold_mode: *threshold_mode,
                cooldown: at_least(name, "cooldown", *cooldown, 0)?,
                min_lrs,
                eps: *eps,
                last_epoch: 0,
                best: None,
                num_bad_epochs: 0,
                cooldown_counter: 0,
                last_lr: opt.lrs(),
            }))
        }
        SchedulerConfig::SequentialLR {
            schedulers,
            milestones,
        } => {
            check_children(name, schedulers)?;
            if milestones.len() + 1 != schedulers.len() {
                return Err(invalid(
                    name,
                    "milestones",
                    format!("{milestones:?}"),
                    &format!(
                        "exactly one fewer milestone than schedulers ({} schedulers)",
                        schedulers.len()
                    ),
                ));
            }
            if milestones.windows(2).any(|w| w[0] >= w[1])
                || milestones.first().is_some_and(|&m| m < 0)
            {
                return Err(invalid(
                    name,
                    "milestones",
                    format!("{milestones:?}"),
                    "strictly increasing integers >= 0",
                ));
            }
            for (i, child) in schedulers.iter().enumerate().skip(1) {
                if matches!(
                    child,
                    SchedulerConfig::SequentialLR { .. } | SchedulerConfig::ChainedScheduler { .. }
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
                children.push(build(child, opt, warnings)?);
            }
            // PyTorch: reset lrs to initial_lr, undo every child's construction step, rerun the first's.
            for g in 0..groups {
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
        SchedulerConfig::ChainedScheduler { schedulers } => {
            check_children(name, schedulers)?;
            let mut children = Vec::with_capacity(schedulers.len());
            for (i, child) in schedulers.iter().enumerate() {
                let node = build(child, opt, warnings)?;
                let absolute = match &node {
                    Node::Formula { rule, .. } => rule.is_absolute(),
                    Node::WarmRestarts { .. } => true,
                    _ => false,
                };
                if absolute && i > 0 {
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
}

fn check_children(name: &'static str, schedulers: &[SchedulerConfig]) -> Result<(), ScheduleError> {
    if schedulers.is_empty() {
        return Err(invalid(name, "schedulers", "[]", "at least one scheduler"));
    }
    if let Some(i) = schedulers
        .iter()
        .position(|s| matches!(s, SchedulerConfig::ReduceLROnPlateau { .. }))
    {
        return Err(ScheduleError::Unsupported(format!(
            "{name}: schedulers[{i}] is ReduceLROnPlateau, which needs a metric at every step and \
             cannot be sequenced or chained (PyTorch refuses it too)"
        )));
    }
    Ok(())
}
