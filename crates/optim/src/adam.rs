//! `torch.optim.Adam` and `torch.optim.AdamW` on plain slices: bias-corrected moments, L2 or
//! decoupled weight decay, AMSGrad, maximize, parameter groups and a serialisable state.
//!
//! PyTorch's update (`_single_tensor_adam`), for each tensor `p` with gradient `g`, at step
//! `t = 1, 2, ...` of that tensor, in this order:
//! ```text
//! g = maximize ? -g : g
//! Adam,  λ ≠ 0:  g = g + λ·p                        (coupled L2, folded into the moments)
//! AdamW, λ ≠ 0:  p = p·(1 − lr·λ)                   (decoupled, before the update)
//! m = lerp(m, g, 1 − β1)  = m + (1 − β1)·(g − m)
//! v = v·β2 + (1 − β2)·g·g
//! v̂ = amsgrad ? (v_max = max(v_max, v)) : v
//! p = p − (lr / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + ε)
//! ```
//! Tensors are f32 and every tensor operation rounds to f32; the scalars (`1 − β1`, `β2`,
//! `1 − β2`, `1 − lr·λ`, the bias corrections and the step size) are Python floats (f64),
//! computed in f64 and cast to f32 where they meet a tensor, as ATen does. Three sums are one
//! fused multiply-add each, as ATen's CPU kernels compute them: `lerp` (`m + w·(g − m)`),
//! `g + λ·p`, and `addcmul` (`v·β2 + ((1 − β2)·g)·g`, the product `(1 − β2)·g` rounded first).
//! The division in `addcdiv` keeps the last sum unfused: `p + (−step·m) / denom`. `tests/pytorch_adam.rs` checks every case of PyTorch's trajectories.

use serde::{Deserialize, Serialize};

use crate::error::{check_non_negative, check_tensors, OptimError};
use crate::math::pow;
use crate::sgd::{StepReport, TensorReport};

/// The keyword arguments of `torch.optim.Adam` and `torch.optim.AdamW`. `Default` gives Adam's
/// defaults; [`AdamConfig::adamw_default`] AdamW's (the same but `weight_decay = 1e-2`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate (≥ 0). Default 1e-3.
    pub lr: f64,
    /// `(β1, β2)`, each in [0, 1). Default `[0.9, 0.999]`.
    pub betas: [f64; 2],
    /// Added to the denominator (≥ 0). Default 1e-8.
    pub eps: f64,
    /// Weight decay λ (≥ 0): L2 for Adam, decoupled for AdamW. Default 0 (Adam), 1e-2 (AdamW).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad). Default false.
    pub amsgrad: bool,
    /// Maximise the objective instead of minimising it. Default false.
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamConfig {
    /// `torch.optim.AdamW`'s defaults: Adam's, with `weight_decay = 1e-2`.
    pub fn adamw_default() -> AdamConfig {
        AdamConfig {
            weight_decay: 1e-2,
            ..AdamConfig::default()
        }
    }

    /// PyTorch's constructor checks, as errors: `lr`, `eps`, `weight_decay` ≥ 0 and finite, each
    /// beta in [0, 1).
    pub fn validate(&self) -> Result<(), OptimError> {
        let non_negative = [
            ("lr", self.lr),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
        ];
        check_non_negative(&non_negative)?;
        for (key, value) in [("betas[0]", self.betas[0]), ("betas[1]", self.betas[1])] {
            if !(0.0..1.0).contains(&value) {
                return Err(OptimError::InvalidArgument {
                    key,
                    value: value.to_string(),
                    allowed: "a number in [0, 1)",
                });
            }
        }
        Ok(())
    }
}

/// How the weight decay λ acts: Adam's coupled L2 or AdamW's decoupled decay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeightDecay {
    /// `torch.optim.Adam`: `g = g + λ·p`, so the decay goes through the moments.
    L2,
    /// `torch.optim.AdamW`: `p = p·(1 − lr·λ)`, beside the moments.
    Decoupled,
}

/// One parameter group: its hyper-parameters (read afresh at every step, so whatever a scheduler
/// wrote last is used) and the lengths of its tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamGroup {
    /// Current learning rate (`group['lr']`).
    pub lr: f64,
    /// The lr a scheduler recorded as its base (`group['initial_lr']`).
    pub initial_lr: Option<f64>,
    /// `(β1, β2)`; `CyclicLR` and `OneCycleLR` cycle `β1` as they cycle SGD's momentum.
    pub betas: [f64; 2],
    /// ε.
    pub eps: f64,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// AMSGrad.
    pub amsgrad: bool,
    /// Maximise instead of minimise.
    pub maximize: bool,
    /// Lengths of the group's tensors; tensors are numbered over all groups in order.
    pub tensor_lens: Vec<usize>,
}

/// One tensor's moments, as PyTorch's `state[p]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamMoments {
    /// How many steps this tensor has taken (`state['step']`).
    pub step: u64,
    /// First moment `m` (`exp_avg`).
    pub exp_avg: Vec<f32>,
    /// Second moment `v` (`exp_avg_sq`).
    pub exp_avg_sq: Vec<f32>,
    /// The running maximum of `v` (`max_exp_avg_sq`), kept only with AMSGrad.
    pub max_exp_avg_sq: Option<Vec<f32>>,
}

/// Everything needed to resume an Adam or AdamW run bit-identically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamState {
    /// Adam or AdamW.
    pub weight_decay: WeightDecay,
    /// The parameter groups with their current hyper-parameters.
    pub groups: Vec<AdamGroup>,
    /// One entry per tensor (over all groups in order), `None` before its first step.
    pub moments: Vec<Option<AdamMoments>>,
    /// How many times `step` has run.
    pub step_count: u64,
}

/// Adam's own norms of one tensor after a step (accumulated in f64), beside the gradient,
/// update and parameter norms every optimizer reports in [`TensorReport`]: what shows how the
/// schedule's lr meets Adam's per-parameter step sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AdamNorms {
    /// ‖m‖ of the first moment (`exp_avg`).
    pub exp_avg_norm: f64,
    /// ‖v‖ of the second moment (`exp_avg_sq`).
    pub exp_avg_sq_norm: f64,
    /// ‖lr / (1 − β1^t) · m / (√v̂ / √(1 − β2^t) + ε)‖, the step the moments make: the whole
    /// update for Adam, the update without the decoupled decay for AdamW.
    pub step_norm: f64,
}

/// Adam or AdamW exactly as `torch.optim.Adam` / `torch.optim.AdamW` (single-tensor CPU path).
#[derive(Debug, Clone)]
pub struct Adam {
    weight_decay: WeightDecay,
    groups: Vec<AdamGroup>,
    moments: Vec<Option<AdamMoments>>,
    step_count: u64,
    report: StepReport,
}

impl Adam {
    /// `torch.optim.Adam` with one group holding every tensor (`param_lens[i]` = length of
    /// tensor i).
    pub fn new(config: &AdamConfig, param_lens: &[usize]) -> Result<Adam, OptimError> {
        Adam::with_groups(WeightDecay::L2, &[(*config, param_lens.to_vec())])
    }

    /// `torch.optim.AdamW` with one group holding every tensor.
    pub fn adamw(config: &AdamConfig, param_lens: &[usize]) -> Result<Adam, OptimError> {
        Adam::with_groups(WeightDecay::Decoupled, &[(*config, param_lens.to_vec())])
    }

    /// Several parameter groups, each with its own hyper-parameters and tensor lengths; tensors
    /// are numbered over all groups in order (group 0's tensors first).
    pub fn with_groups(
        weight_decay: WeightDecay,
        groups: &[(AdamConfig, Vec<usize>)],
    ) -> Result<Adam, OptimError> {
        if groups.is_empty() {
            return Err(OptimError::NoGroups);
        }
        let mut built = Vec::with_capacity(groups.len());
        for (config, lens) in groups {
            config.validate()?;
            built.push(AdamGroup {
                lr: config.lr,
                initial_lr: None,
                betas: config.betas,
                eps: config.eps,
                weight_decay: config.weight_decay,
                amsgrad: config.amsgrad,
                maximize: config.maximize,
                tensor_lens: lens.clone(),
            });
        }
        let tensors: usize = built.iter().map(|g| g.tensor_lens.len()).sum();
        Ok(Adam {
            weight_decay,
            groups: built,
            moments: vec![None; tensors],
            step_count: 0,
            report: StepReport {
                tensors: vec![TensorReport::default(); tensors],
            },
        })
    }

    /// Adam (L2) or AdamW (decoupled).
    pub fn weight_decay_kind(&self) -> WeightDecay {
        self.weight_decay
    }

    /// The parameter groups (read-only).
    pub fn groups(&self) -> &[AdamGroup] {
        &self.groups
    }

    /// Current lr of every group.
    pub fn lrs(&self) -> Vec<f64> {
        self.groups.iter().map(|g| g.lr).collect()
    }

    /// Set the lr of `group` (as writing `group['lr']` in PyTorch; no range check, like PyTorch).
    pub fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), OptimError> {
        self.group_mut(group)?.lr = lr;
        Ok(())
    }

    /// Set `β1` of `group` (what `CyclicLR` and `OneCycleLR` cycle on Adam).
    pub fn set_beta1(&mut self, group: usize, beta1: f64) -> Result<(), OptimError> {
        self.group_mut(group)?.betas[0] = beta1;
        Ok(())
    }

    /// How many times `step` has run.
    pub fn step_count(&self) -> u64 {
        self.step_count
    }

    pub(crate) fn set_initial_lr(&mut self, group: usize, lr: Option<f64>) {
        self.groups[group].initial_lr = lr;
    }

    /// The moments of tensor `index` (`None` before its first step or past the last tensor).
    pub fn moments(&self, index: usize) -> Option<&AdamMoments> {
        self.moments.get(index).and_then(Option::as_ref)
    }

    fn group_mut(&mut self, group: usize) -> Result<&mut AdamGroup, OptimError> {
        let groups = self.groups.len();
        self.groups
            .get_mut(group)
            .ok_or(OptimError::NoSuchGroup { group, groups })
    }

    /// The per-tensor report of the last step (all zero before the first).
    pub fn last_report(&self) -> &StepReport {
        &self.report
    }

    /// One step over every tensor; `params[i]` / `grads[i]` is tensor i (over all groups in
    /// order). Allocates a tensor's moments once, on its first step. Returns the norms of each
    /// tensor's gradient, update, parameters, moments and step.
    ///
    /// ```
    /// use optim::{Adam, AdamConfig};
    ///
    /// // torch.optim.Adam([p], lr=0.1): the first step moves each value by lr·sign(g)
    /// // (m̂ = g and √v̂ = |g|, up to ε).
    /// let mut adam = Adam::new(&AdamConfig { lr: 0.1, ..AdamConfig::default() }, &[2])?;
    /// let mut p = vec![1.0f32, -2.0];
    /// adam.step(&mut [&mut p], &[&[0.5, -0.25]])?;
    /// assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6);
    /// # Ok::<(), optim::OptimError>(())
    /// ```
    pub fn step(
        &mut self,
        params: &mut [&mut [f32]],
        grads: &[&[f32]],
    ) -> Result<&StepReport, OptimError> {
        let lens = self
            .groups
            .iter()
            .flat_map(|g| g.tensor_lens.iter().copied());
        check_tensors(self.moments.len(), lens, params, grads)?;
        let mut index = 0;
        for group in &self.groups {
            for _ in 0..group.tensor_lens.len() {
                let moments = self.moments[index].get_or_insert_with(|| {
                    let len = grads[index].len();
                    AdamMoments {
                        step: 0,
                        exp_avg: vec![0.0; len],
                        exp_avg_sq: vec![0.0; len],
                        max_exp_avg_sq: group.amsgrad.then(|| vec![0.0; len]),
                    }
                });
                self.report.tensors[index] = adam_update(
                    self.weight_decay,
                    group,
                    params[index],
                    grads[index],
                    moments,
                );
                index += 1;
            }
        }
        self.step_count += 1;
        Ok(&self.report)
    }

    /// A copy of everything needed to resume (groups, moments, step count).
    pub fn state(&self) -> AdamState {
        AdamState {
            weight_decay: self.weight_decay,
            groups: self.groups.clone(),
            moments: self.moments.clone(),
            step_count: self.step_count,
        }
    }

    /// Restore a state from [`Adam::state`], refusing one that does not fit this optimizer
    /// (another kind, other groups or tensor lengths) or holds values no run can reach.
    pub fn load_state(&mut self, state: AdamState) -> Result<(), OptimError> {
        let mismatch = |what: String| Err(OptimError::StateMismatch(what));
        if state.weight_decay != self.weight_decay {
            return mismatch(format!(
                "the state is for {:?} weight decay, this optimizer uses {:?}",
                state.weight_decay, self.weight_decay
            ));
        }
        let shape = |groups: &[AdamGroup]| -> Vec<Vec<usize>> {
            groups.iter().map(|g| g.tensor_lens.clone()).collect()
        };
        if shape(&state.groups) != shape(&self.groups) {
            return mismatch(format!(
                "the state's groups hold tensors of lengths {:?}, this optimizer's {:?}",
                shape(&state.groups),
                shape(&self.groups)
            ));
        }
        for group in &state.groups {
            AdamConfig {
                lr: group.lr,
                betas: group.betas,
                eps: group.eps,
                weight_decay: group.weight_decay,
                amsgrad: group.amsgrad,
                maximize: group.maximize,
            }
            .validate()?;
        }
        if state.moments.len() != self.moments.len() {
            return mismatch(format!(
                "the state holds moments for {} tensors, this optimizer has {}",
                state.moments.len(),
                self.moments.len()
            ));
        }
        let lens = self.groups.iter().flat_map(|g| g.tensor_lens.iter());
        let amsgrad = self
            .groups
            .iter()
            .flat_map(|g| g.tensor_lens.iter().map(|_| g.amsgrad));
        for (index, ((moments, &len), amsgrad)) in
            state.moments.iter().zip(lens).zip(amsgrad).enumerate()
        {
            let Some(m) = moments else { continue };
            let max_ok = match &m.max_exp_avg_sq {
                Some(max) => amsgrad && max.len() == len,
                None => !amsgrad,
            };
            if m.step == 0 || m.exp_avg.len() != len || m.exp_avg_sq.len() != len || !max_ok {
                return mismatch(format!(
                    "tensor {index}'s moments do not fit a tensor of {len} values{} (step {})",
                    if amsgrad { " with AMSGrad" } else { "" },
                    m.step
                ));
            }
            let mut squares = m.exp_avg_sq.iter().chain(m.max_exp_avg_sq.iter().flatten());
            if m.exp_avg.iter().any(|v| !v.is_finite()) || squares.any(|v| v.is_nan() || *v < 0.0) {
                return mismatch(format!(
                    "tensor {index}'s moments hold a value no run can reach (NaN, infinite, or a \
                     negative second moment)"
                ));
            }
        }
        self.groups = state.groups;
        self.moments = state.moments;
        self.step_count = state.step_count;
        Ok(())
    }
}

/// One tensor's update, in PyTorch's operation order (see the module docs), returning its
/// norms (their sums of squares in f64, which does not touch the update's arithmetic).
fn adam_update(
    weight_decay: WeightDecay,
    group: &AdamGroup,
    p: &mut [f32],
    g: &[f32],
    moments: &mut AdamMoments,
) -> TensorReport {
    moments.step += 1;
    let [beta1, beta2] = group.betas;
    let lr = group.lr;
    let lambda = group.weight_decay as f32;
    let decay = (1.0 - lr * group.weight_decay) as f32;
    let one_minus_beta1 = (1.0 - beta1) as f32;
    let beta2_f32 = beta2 as f32;
    let one_minus_beta2 = (1.0 - beta2) as f32;
    let step = moments.step as f64;
    let bias_correction1 = 1.0 - pow(beta1, step);
    let bias_correction2_sqrt = (1.0 - pow(beta2, step)).sqrt() as f32;
    let neg_step_size = (-(lr / bias_correction1)) as f32;
    let eps = group.eps as f32;
    // Sums of squares: gradient, update, parameters, m, v, the moments' step.
    let mut sums = [0.0f64; 6];
    for i in 0..p.len() {
        let before = p[i];
        let mut grad = if group.maximize { -g[i] } else { g[i] };
        if group.weight_decay != 0.0 {
            match weight_decay {
                WeightDecay::L2 => grad = p[i].mul_add(lambda, grad),
                WeightDecay::Decoupled => p[i] *= decay,
            }
        }
        let m = &mut moments.exp_avg[i];
        *m = one_minus_beta1.mul_add(grad - *m, *m);
        let v = &mut moments.exp_avg_sq[i];
        *v = (one_minus_beta2 * grad).mul_add(grad, *v * beta2_f32);
        let v_hat = match &mut moments.max_exp_avg_sq {
            Some(max) => {
                max[i] = if *v > max[i] { *v } else { max[i] };
                max[i]
            }
            None => *v,
        };
        let denom = v_hat.sqrt() / bias_correction2_sqrt + eps;
        let step = neg_step_size * *m / denom;
        p[i] += step;
        let squares = [
            f64::from(g[i]),
            f64::from(p[i]) - f64::from(before),
            f64::from(p[i]),
            f64::from(*m),
            f64::from(moments.exp_avg_sq[i]),
            f64::from(step),
        ];
        for (sum, x) in sums.iter_mut().zip(squares) {
            *sum += x * x;
        }
    }
    TensorReport {
        lr,
        grad_norm: sums[0].sqrt(),
        update_norm: sums[1].sqrt(),
        param_norm: sums[2].sqrt(),
        buffer_norm: 0.0,
        adam: Some(AdamNorms {
            exp_avg_norm: sums[3].sqrt(),
            exp_avg_sq_norm: sums[4].sqrt(),
            step_norm: sums[5].sqrt(),
        }),
    }
}
