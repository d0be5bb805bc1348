//! [`Scheduler`]: one type for every PyTorch learning-rate scheduler, following PyTorch's
//! protocol: construction writes the lr for t = 0 into the optimizer, `step()` advances t and
//! writes the next lr, [`Scheduler::last_lr`] is the lr in use. There is deliberately no
//! `get_lr()` (in PyTorch it re-applies the chainable rule and returns an lr that is not in use).
//!
//! One file per scheduler class (`step_lr.rs`, `exponential_lr.rs`, ...) holds its arguments,
//! their checks, its chainable rule (`get_lr`) and its closed form, with PyTorch's formula at
//! the top. Around them: `config` ([`SchedulerConfig`], which names the classes), `rule` (the
//! formula schedulers as the tree stores them), `checks` (the range checks, for configs and
//! saved states), `arguments` and `lr_lambda` (argument types several classes share), `restore`
//! (the checks a saved state passes), and this file: the stepping protocol and the state.
//!
//! Adding a scheduler: a new file like `exponential_lr.rs`, then one line in each list the
//! compiler or a test points at (see the README's "Adding a scheduler").

pub(crate) mod arguments;
mod chained_scheduler;
mod checks;
mod config;
mod constant_lr;
mod cosine_annealing_lr;
mod cosine_annealing_warm_restarts;
mod cyclic_lr;
mod exponential_lr;
mod lambda_lr;
mod linear_lr;
mod lr_lambda;
mod multi_step_lr;
mod multiplicative_lr;
mod one_cycle_lr;
mod polynomial_lr;
mod reduce_lr_on_plateau;
mod restore;
mod rule;
mod sequential_lr;
mod step_lr;

use serde::{Deserialize, Serialize};

pub use arguments::PerGroup;
pub use chained_scheduler::ChainedScheduler;
pub use config::SchedulerConfig;
pub use constant_lr::ConstantLR;
pub use cosine_annealing_lr::CosineAnnealingLR;
pub use cosine_annealing_warm_restarts::CosineAnnealingWarmRestarts;
pub use cyclic_lr::{CyclicLR, CyclicMode, ScaleFn, ScaleMode};
pub use exponential_lr::ExponentialLR;
pub use lambda_lr::LambdaLR;
pub use linear_lr::LinearLR;
pub use lr_lambda::LrLambda;
pub use multi_step_lr::MultiStepLR;
pub use multiplicative_lr::MultiplicativeLR;
pub use one_cycle_lr::{AnnealStrategy, OneCycleLR};
pub use polynomial_lr::PolynomialLR;
pub use reduce_lr_on_plateau::{PlateauEvent, PlateauMode, ReduceLROnPlateau, ThresholdMode};
pub use sequential_lr::SequentialLR;
pub use step_lr::StepLR;

use crate::error::ScheduleError;
use crate::param_groups::ParamGroups;
use cosine_annealing_warm_restarts as warm_restarts;
use reduce_lr_on_plateau::Plateau;
use rule::{At, Rule, Values};

/// What kind of mistake a [`Warning`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WarningKind {
    /// The scheduler was stepped before any optimizer step: the schedule's first value is skipped
    /// (PyTorch's "Detected call of `lr_scheduler.step()` before `optimizer.step()`").
    StepBeforeOptimizerStep,
    /// A `ChainedScheduler` child sets the lr from its base lr alone and so overwrites what the
    /// children before it did (PyTorch issue #129565).
    ChainedAbsoluteChild,
    /// A `SequentialLR` milestone at 0: PyTorch still initialises with the first child
    /// (PyTorch issue #185872).
    SequentialMilestoneZero,
}

/// A recorded warning (PyTorch emits these as `UserWarning`s; here they are queryable events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The kind of mistake.
    pub kind: WarningKind,
    /// The scheduler step count (user `step` calls) when it was recorded.
    pub at_step: u64,
    /// A human-readable explanation with what to do.
    pub message: String,
}

/// The base-class fields of PyTorch's `LRScheduler`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Base {
    pub name: static_name::ClassName,
    pub base_lrs: Vec<f64>,
    pub last_epoch: i64,
    pub step_count: u64,
    pub last_lr: Vec<f64>,
}

/// One scheduler in the tree (composites hold children).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Node {
    /// Every scheduler that uses PyTorch's base `step()`.
    Formula { base: Base, rule: Rule },
    /// CosineAnnealingWarmRestarts (overrides `step()`).
    WarmRestarts {
        base: Base,
        t_0: i64,
        t_i: i64,
        t_mult: i64,
        eta_min: f64,
        t_cur: f64,
    },
    /// SequentialLR.
    Sequential {
        last_epoch: i64,
        milestones: Vec<i64>,
        children: Vec<Node>,
        last_lr: Vec<f64>,
    },
    /// ChainedScheduler.
    Chained {
        children: Vec<Node>,
        last_lr: Vec<f64>,
    },
    /// ReduceLROnPlateau.
    Plateau(Plateau),
}

/// Write `values` into the groups (PyTorch zips groups and values) and record `last_lr`.
fn apply(base: &mut Base, opt: &mut dyn ParamGroups, values: Values) {
    for (group, lr) in values.lrs.into_iter().enumerate().take(opt.num_groups()) {
        let _ = opt.set_lr(group, lr);
    }
    if let Some(momenta) = values.momenta {
        for (group, m) in momenta.into_iter().enumerate().take(opt.num_groups()) {
            let _ = opt.set_momentum(group, m);
        }
    }
    base.last_lr = opt.lrs();
}

impl Node {
    fn name(&self) -> &'static str {
        match self {
            Node::Formula { base, .. } | Node::WarmRestarts { base, .. } => base.name.0,
            Node::Sequential { .. } => "SequentialLR",
            Node::Chained { .. } => "ChainedScheduler",
            Node::Plateau(_) => "ReduceLROnPlateau",
        }
    }

    fn last_lr(&self) -> &[f64] {
        match self {
            Node::Formula { base, .. } | Node::WarmRestarts { base, .. } => &base.last_lr,
            Node::Sequential { last_lr, .. } | Node::Chained { last_lr, .. } => last_lr,
            Node::Plateau(p) => &p.last_lr,
        }
    }

    /// PyTorch's `step()` without an epoch.
    fn step(&mut self, opt: &mut dyn ParamGroups) -> Result<(), ScheduleError> {
        match self {
            Node::Formula { base, rule } => {
                let at = At {
                    name: base.name.0,
                    t: base.last_epoch + 1,
                    initial: false,
                    base_lrs: &base.base_lrs,
                };
                let values = rule.schedule().get_lr(&at, opt)?;
                let t = at.t;
                base.step_count += 1;
                base.last_epoch = t;
                apply(base, opt, values);
            }
            Node::WarmRestarts {
                base,
                t_i,
                t_mult,
                eta_min,
                t_cur,
                t_0,
            } => {
                if base.last_epoch < 0 {
                    // the construction step takes PyTorch's explicit `epoch = 0` branch
                    *t_i = *t_0;
                    *t_cur = 0.0;
                    base.last_epoch = 0;
                } else {
                    base.last_epoch += 1;
                    (*t_cur, *t_i) = warm_restarts::next(*t_cur, *t_i, *t_mult);
                }
                let values = warm_restarts::lrs(base, *eta_min, *t_cur, *t_i);
                apply(base, opt, values);
            }
            Node::Sequential {
                last_epoch,
                milestones,
                children,
                last_lr,
            } => {
                *last_epoch += 1;
                let idx = milestones.partition_point(|&m| m <= *last_epoch);
                let child = &mut children[idx];
                if idx > 0 && milestones[idx - 1] == *last_epoch {
                    child.restart_at_zero(opt)?;
                } else {
                    child.step(opt)?;
                }
                *last_lr = child.last_lr().to_vec();
            }
            Node::Chained { children, last_lr } => {
                for child in children.iter_mut() {
                    child.step(opt)?;
                }
                *last_lr = opt.lrs();
            }
            Node::Plateau(_) => return Err(ScheduleError::NeedsMetric),
        }
        Ok(())
    }

    /// PyTorch's `_initial_step()`: `_step_count = 0`, then `step()` in initial mode.
    fn initial_step(&mut self, opt: &mut dyn ParamGroups) -> Result<(), ScheduleError> {
        match self {
            Node::Formula { base, rule } => {
                let at = At {
                    name: base.name.0,
                    t: base.last_epoch + 1,
                    initial: true,
                    base_lrs: &base.base_lrs,
                };
                let values = rule.schedule().get_lr(&at, opt)?;
                let t = at.t;
                base.step_count = 1;
                base.last_epoch = t;
                apply(base, opt, values);
                Ok(())
            }
            _ => self.step(opt),
        }
    }

    /// `SequentialLR` at a milestone: PyTorch's `child._update_lr(0)` — t = 0, the closed form
    /// if the class has one, else `get_lr()`; the child's step count is not touched.
    fn restart_at_zero(&mut self, opt: &mut dyn ParamGroups) -> Result<(), ScheduleError> {
        match self {
            Node::Formula { base, rule } => {
                let at = At {
                    name: base.name.0,
                    t: 0,
                    initial: false,
                    base_lrs: &base.base_lrs,
                };
                let lrs = match rule.schedule().closed_form(&at) {
                    Some(lrs) => Values {
                        lrs: lrs?,
                        momenta: None,
                    },
                    None => rule.schedule().get_lr(&at, opt)?,
                };
                base.last_epoch = 0;
                apply(base, opt, lrs);
                Ok(())
            }
            Node::WarmRestarts {
                base,
                eta_min,
                t_cur,
                t_i,
                ..
            } => {
                base.last_epoch = 0;
                let values = warm_restarts::lrs(base, *eta_min, *t_cur, *t_i);
                apply(base, opt, values);
                Ok(())
            }
            other => Err(ScheduleError::Unsupported(format!(
                "SequentialLR cannot restart a nested {} at a milestone (PyTorch raises \
                 NotImplementedError); put it first or flatten the sequence",
                other.name()
            ))),
        }
    }

    /// `SequentialLR.recursive_undo`: take back the construction step of every leaf.
    fn undo(&mut self) {
        match self {
            Node::Sequential { children, .. } | Node::Chained { children, .. } => {
                children.iter_mut().for_each(Node::undo)
            }
            Node::Formula { base, .. } | Node::WarmRestarts { base, .. } => base.last_epoch -= 1,
            Node::Plateau(p) => p.last_epoch -= 1,
        }
    }

    /// Check that `other` (a saved state) has this tree's shape, then move this tree's closures
    /// (lambdas, custom scale functions: not saved, as in PyTorch) into it.
    fn adopt_closures_into(&self, other: &mut Node, path: &str) -> Result<(), ScheduleError> {
        let mismatch = |why: String| Err(ScheduleError::StateMismatch(format!("{path}: {why}")));
        if self.name() != other.name() {
            return mismatch(format!(
                "it holds a {}, this is a {}",
                other.name(),
                self.name()
            ));
        }
        if self.last_lr().len() != other.last_lr().len() {
            return mismatch(format!(
                "it has {} parameter groups, this {}",
                other.last_lr().len(),
                self.last_lr().len()
            ));
        }
        match (self, other) {
            (
                Node::Sequential { children: mine, .. },
                Node::Sequential {
                    children: theirs, ..
                },
            )
            | (
                Node::Chained { children: mine, .. },
                Node::Chained {
                    children: theirs, ..
                },
            ) => {
                if mine.len() != theirs.len() {
                    return mismatch(format!(
                        "it has {} children, this {}",
                        theirs.len(),
                        mine.len()
                    ));
                }
                for (i, (m, t)) in mine.iter().zip(theirs.iter_mut()).enumerate() {
                    m.adopt_closures_into(t, &format!("{path}.schedulers[{i}]"))?;
                }
            }
            (Node::Formula { rule: mine, .. }, Node::Formula { rule: theirs, .. }) => {
                match (mine, theirs) {
                    (Rule::Lambda(m), Rule::Lambda(t)) => t.lambdas = m.lambdas.clone(),
                    (Rule::Multiplicative(m), Rule::Multiplicative(t)) => {
                        t.lambdas = m.lambdas.clone()
                    }
                    (Rule::Cyclic(m), Rule::Cyclic(t)) => {
                        if let (
                            cyclic_lr::CyclicScale::Custom { f: mf, .. },
                            cyclic_lr::CyclicScale::Custom { f: tf, .. },
                        ) = (&m.scale, &mut t.scale)
                        {
                            *tf = mf.clone();
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Any PyTorch learning-rate scheduler attached to an optimizer ([`crate::Sgd`] or
/// [`crate::Adam`], through [`ParamGroups`]); build it with [`Scheduler::new`].
#[derive(Debug, Clone)]
pub struct Scheduler {
    node: Node,
    user_steps: u64,
    warnings: Vec<Warning>,
}

/// A scheduler's complete state (serialisable), for resuming a run exactly. Closures (custom
/// lambdas and scale functions) are not saved, as in PyTorch: the scheduler you restore into
/// keeps its own. As with [`crate::SgdState`], JSON through serde_json needs its
/// `float_roundtrip` feature to give the f64 values back exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchedulerState {
    node: Node,
    user_steps: u64,
    warnings: Vec<Warning>,
}

impl Scheduler {
    /// Build the scheduler and attach it to `opt`; like PyTorch's constructor this writes the
    /// lr for t = 0 into the optimizer (except `ReduceLROnPlateau`, which leaves it alone), and
    /// records `initial_lr` in each group.
    ///
    /// The description uses PyTorch's class and keyword names, from TOML (see the crate's quick
    /// start) or, as here, JSON: a 3-step linear warm-up from 0.1·lr, then exponential decay.
    /// ```
    /// use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};
    ///
    /// let json = r#"{"name": "SequentialLR", "milestones": [3], "schedulers": [
    ///     {"name": "LinearLR", "start_factor": 0.1, "total_iters": 3},
    ///     {"name": "ExponentialLR", "gamma": 0.9}]}"#;
    /// let config: SchedulerConfig = serde_json::from_str(json)?;
    /// let mut opt = Sgd::new(&SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }, &[1])?;
    /// let mut sched = Scheduler::new(&config, &mut opt)?; // writes lr(t = 0)
    /// let mut lrs = vec![sched.last_lr()[0]];
    /// let mut w = [0.0f32];
    /// for _ in 0..5 {
    ///     opt.step(&mut [&mut w], &[&[0.0]])?; // optimizer first,
    ///     sched.step(&mut opt)?; //                then the scheduler
    ///     lrs.push(opt.lr(0));
    /// }
    /// let expected = [0.01, 0.04, 0.07, 0.1, 0.09, 0.081];
    /// assert!(lrs.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-12), "{lrs:?}");
    /// assert!(sched.warnings().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        config: &SchedulerConfig,
        opt: &mut dyn ParamGroups,
    ) -> Result<Scheduler, ScheduleError> {
        let mut warnings = Vec::new();
        let node = config.build(opt, &mut warnings)?;
        Ok(Scheduler {
            node,
            user_steps: 0,
            warnings,
        })
    }

    /// The PyTorch class name (`"StepLR"`, ...).
    pub fn name(&self) -> &'static str {
        self.node.name()
    }

    /// True for `ReduceLROnPlateau`, which must be stepped with [`Scheduler::step_with_metric`].
    pub fn needs_metric(&self) -> bool {
        matches!(self.node, Node::Plateau(_))
    }

    /// Advance one step (call it after `opt.step()`) and write the new lr (and momentum, for
    /// `CyclicLR` / `OneCycleLR`) into the optimizer. `ReduceLROnPlateau` refuses: it needs the
    /// metric. On an error nothing changes.
    ///
    /// `ExponentialLR(gamma=0.9)` on `SGD(lr=0.1)` for 12 steps, against the lrs PyTorch 2.15
    /// printed (the `exponential` case of `tests/fixtures/pytorch_schedules.json`):
    /// ```
    /// use optim::scheduler::ExponentialLR;
    /// use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};
    ///
    /// let pytorch = [
    ///     0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002,
    ///     0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002,
    ///     0.043046721000000024, 0.03874204890000002, 0.03486784401000002, 0.03138105960900001,
    ///     0.028242953648100012,
    /// ];
    /// let mut opt = Sgd::new(&SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }, &[3])?;
    /// let config = SchedulerConfig::ExponentialLR(ExponentialLR { gamma: 0.9 });
    /// let mut sched = Scheduler::new(&config, &mut opt)?;
    /// let mut w = [0.5f32, -0.25, 1.0];
    /// let mut lrs = vec![opt.lr(0)];
    /// for _ in 0..12 {
    ///     opt.step(&mut [&mut w], &[&[0.1, 0.2, -0.3]])?;
    ///     sched.step(&mut opt)?;
    ///     lrs.push(opt.lr(0));
    /// }
    /// assert_eq!(lrs, pytorch); // to the last bit here; the fixture test allows 1e-12
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step(&mut self, opt: &mut dyn ParamGroups) -> Result<(), ScheduleError> {
        if self.needs_metric() {
            return Err(ScheduleError::NeedsMetric);
        }
        let before_node = self.node.clone();
        let before_groups = (
            opt.lrs(),
            (0..opt.num_groups())
                .map(|g| opt.momentum(g))
                .collect::<Vec<_>>(),
        );
        self.check_order(opt);
        if let Err(err) = self.node.step(opt) {
            self.node = before_node;
            for (g, (lr, m)) in before_groups.0.into_iter().zip(before_groups.1).enumerate() {
                let _ = opt.set_lr(g, lr);
                let _ = opt.set_momentum(g, m);
            }
            if self.user_steps == 0 {
                self.warnings
                    .retain(|w| w.kind != WarningKind::StepBeforeOptimizerStep);
            }
            return Err(err);
        }
        self.user_steps += 1;
        Ok(())
    }

    /// `ReduceLROnPlateau.step(metric)`: returns what it saw and whether (and why) it cut the lr.
    /// A NaN metric is an error (PyTorch silently counts it as a bad epoch); other schedulers
    /// refuse a metric.
    ///
    /// The tutorial's plateau experiment (`mode = "max"`, `factor = 0.5`, `patience = 1`) fed
    /// test accuracies, against PyTorch's lrs (the fixture's `plateau_seed` case):
    /// ```
    /// use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};
    ///
    /// let config: SchedulerConfig = serde_json::from_str(
    ///     r#"{"name": "ReduceLROnPlateau", "mode": "max", "factor": 0.5, "patience": 1}"#,
    /// )?;
    /// let mut opt = Sgd::new(&SgdConfig { lr: 0.1, ..SgdConfig::default() }, &[1])?;
    /// let mut sched = Scheduler::new(&config, &mut opt)?;
    /// let mut lrs = vec![];
    /// for accuracy in [88.0, 88.0, 88.0, 89.0, 89.0, 89.0, 89.0, 90.0] {
    ///     opt.step(&mut [&mut [0.0f32]], &[&[0.0]])?;
    ///     let event = sched.step_with_metric(&mut opt, accuracy)?;
    ///     if event.reduced() {
    ///         println!("{}", event.describe("test_accuracy")); // "... for 2 epochs (patience 1); lr 0.1 -> 0.05"
    ///     }
    ///     lrs.push(opt.lr(0));
    /// }
    /// assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]);
    /// assert!(sched.step(&mut opt).is_err()); // it needs the metric
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step_with_metric(
        &mut self,
        opt: &mut dyn ParamGroups,
        metric: f64,
    ) -> Result<PlateauEvent, ScheduleError> {
        if !self.needs_metric() {
            return Err(ScheduleError::MetricNotAccepted {
                scheduler: self.name(),
            });
        }
        if metric.is_nan() {
            return Err(ScheduleError::NanMetric);
        }
        self.check_order(opt);
        let Node::Plateau(plateau) = &mut self.node else {
            return Err(ScheduleError::NeedsMetric);
        };
        let event = plateau.step(opt, metric);
        self.user_steps += 1;
        Ok(event)
    }

    /// `CosineAnnealingWarmRestarts.step(epoch)`: jump to a (possibly fractional) epoch, e.g.
    /// `epoch + i / iters` per batch, with PyTorch's formulas (including its logarithm, which can
    /// truncate wrongly at restart boundaries). Later plain `step()`s continue from
    /// `floor(epoch) + 1` but keep the fractional `T_cur`, as in PyTorch. Other schedulers refuse:
    /// `step(epoch)` is deprecated in PyTorch.
    pub fn step_to_epoch(
        &mut self,
        opt: &mut dyn ParamGroups,
        epoch: f64,
    ) -> Result<(), ScheduleError> {
        if !matches!(self.node, Node::WarmRestarts { .. }) {
            return Err(ScheduleError::Unsupported(format!(
                "{}: step_to_epoch is only for CosineAnnealingWarmRestarts (PyTorch deprecated \
                 step(epoch) elsewhere); call step()",
                self.node.name()
            )));
        }
        if !(epoch.is_finite() && epoch >= 0.0) {
            return Err(ScheduleError::InvalidArgument {
                scheduler: "CosineAnnealingWarmRestarts",
                key: "epoch",
                value: epoch.to_string(),
                allowed: "a finite number >= 0".into(),
            });
        }
        self.check_order(opt);
        let Node::WarmRestarts {
            base,
            t_0,
            t_i,
            t_mult,
            eta_min,
            t_cur,
        } = &mut self.node
        else {
            return Ok(());
        };
        (*t_cur, *t_i) = warm_restarts::at_epoch(epoch, *t_0, *t_i, *t_mult);
        base.last_epoch = epoch.floor() as i64;
        let values = warm_restarts::lrs(base, *eta_min, *t_cur, *t_i);
        apply(base, opt, values);
        self.user_steps += 1;
        Ok(())
    }

    /// PyTorch warns once, on the first user step, if the optimizer has not stepped yet. (Here
    /// this also covers `ReduceLROnPlateau` and `CosineAnnealingWarmRestarts`, whose own `step`
    /// skips PyTorch's check.)
    fn check_order(&mut self, opt: &dyn ParamGroups) {
        if self.user_steps == 0 && opt.step_count() == 0 {
            self.warnings.push(Warning {
                kind: WarningKind::StepBeforeOptimizerStep,
                at_step: 0,
                message: format!(
                    "{}.step() was called before any optimizer step; call opt.step() first, then \
                     scheduler.step(), or the first value of the schedule is skipped",
                    self.name()
                ),
            });
        }
    }

    /// The lr of every group as the scheduler last set it: the lr in use for the next
    /// optimizer step (PyTorch's `get_last_lr()`).
    pub fn last_lr(&self) -> Vec<f64> {
        self.node.last_lr().to_vec()
    }

    /// True if the scheduler writes the momentum of the groups (`CyclicLR` and `OneCycleLR` with
    /// `cycle_momentum`, alone or inside a composite); otherwise the momentum stays as configured.
    pub fn writes_momentum(&self) -> bool {
        fn walk(node: &Node) -> bool {
            match node {
                Node::Formula {
                    rule: Rule::Cyclic(c),
                    ..
                } => c.momentum.is_some(),
                Node::Formula {
                    rule: Rule::OneCycle(o),
                    ..
                } => o.momentum.is_some(),
                Node::Sequential { children, .. } | Node::Chained { children, .. } => {
                    children.iter().any(walk)
                }
                _ => false,
            }
        }
        walk(&self.node)
    }

    /// Checks that `opt` holds the lr this scheduler set last (after a restore, a saved optimizer
    /// state whose lr was changed by hand, or that belongs to another run, is refused).
    pub fn check_optimizer(&self, opt: &dyn ParamGroups) -> Result<(), ScheduleError> {
        let mine = self.node.last_lr();
        let theirs = opt.lrs();
        let same = mine.len() == theirs.len()
            && mine
                .iter()
                .zip(&theirs)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if same {
            Ok(())
        } else {
            Err(ScheduleError::StateMismatch(format!(
                "the optimizer's lr {theirs:?} is not the lr {} set last ({mine:?})",
                self.name()
            )))
        }
    }

    /// How many times `step` / `step_with_metric` has been called.
    pub fn steps(&self) -> u64 {
        self.user_steps
    }

    /// Warnings recorded so far (PyTorch's `UserWarning`s, as events).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// A copy of the complete state.
    pub fn state(&self) -> SchedulerState {
        SchedulerState {
            node: self.node.clone(),
            user_steps: self.user_steps,
            warnings: self.warnings.clone(),
        }
    }

    /// Restore a state saved by [`Scheduler::state`] into a scheduler built from the same config.
    /// Like PyTorch's `load_state_dict` this does not write lrs into the optimizer: restore the
    /// optimizer's own state ([`crate::Sgd::load_state`]) after constructing the scheduler. The state
    /// must have this scheduler's shape and pass the checks of a fresh config (see
    /// `scheduler/restore.rs`); on an error nothing changes.
    pub fn load_state(&mut self, state: SchedulerState) -> Result<(), ScheduleError> {
        let mut node = state.node;
        self.node.adopt_closures_into(&mut node, self.node.name())?;
        restore::check(&node, self.node.name(), self.node.last_lr().len())?;
        restore::check_arguments(&self.node, &node, self.node.name())?;
        self.node = node;
        self.user_steps = state.user_steps;
        self.warnings = state.warnings;
        Ok(())
    }
}

/// Every scheduler class this crate has, by its PyTorch name (what `name = ...` accepts, and
/// what a saved state may name). The one list of names: checkpoints, the trainer's
/// `--scheduler` flag and the tests read it, and a test (`every_scheduler_is_covered.rs`) fails
/// if a scheduler file is missing from it.
pub const SCHEDULER_NAMES: &[&str] = &[
    LambdaLR::NAME,
    MultiplicativeLR::NAME,
    StepLR::NAME,
    MultiStepLR::NAME,
    ConstantLR::NAME,
    LinearLR::NAME,
    ExponentialLR::NAME,
    SequentialLR::NAME,
    PolynomialLR::NAME,
    CosineAnnealingLR::NAME,
    ChainedScheduler::NAME,
    ReduceLROnPlateau::NAME,
    CyclicLR::NAME,
    OneCycleLR::NAME,
    CosineAnnealingWarmRestarts::NAME,
];

/// Serialise a scheduler's class name; deserialise it back to the `'static` name.
mod static_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::SCHEDULER_NAMES as NAMES;

    /// A PyTorch class name.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct ClassName(pub &'static str);

    impl serde::Serialize for ClassName {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.0)
        }
    }

    impl<'de> Deserialize<'de> for ClassName {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ClassName, D::Error> {
            let name = String::deserialize(d)?;
            NAMES
                .iter()
                .copied()
                .find(|n| *n == name)
                .map(ClassName)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown scheduler name `{name}`, expected one of {NAMES:?}"
                    ))
                })
        }
    }
}
