//! `checkpoint.safetensors`: everything `--resume` needs to continue a run exactly.
//!
//! One file, written atomically (format 2):
//! - the four weight tensors under PyTorch's names (so any safetensors reader can load the model
//!   from it; `Mlp::from_safetensors` skips the optimizer's tensors);
//! - SGD's momentum buffers as tensors `optimizer.momentum_buffer.<param>` (absent before a
//!   tensor's first momentum step), f32 with the parameter's shape; or Adam's (and AdamW's)
//!   moments `optimizer.exp_avg.<param>`, `optimizer.exp_avg_sq.<param>` and, with AMSGrad,
//!   `optimizer.max_exp_avg_sq.<param>` (f32, the parameter's shape), with the tensor's step
//!   count `optimizer.step.<param>` (one i64), all absent before the tensor's first step;
//! - in the header's `__metadata__`, the key `trainer_state` holding JSON: the format number,
//!   the run's resolved config (TOML text, checked against `config.toml` on resume), progress
//!   counters, the partial epoch's accumulators, the metrics rows so far, the optimizer's groups
//!   (under `sgd` or `adam`) and the scheduler state.
//!
//! The shuffle order needs no saved RNG: it is a pure function of (seed, epoch). Format 1 (the
//! momentum buffers as JSON text, no config) is refused with a message: it cannot be checked
//! against the run's config.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};
use autograd_lite::Mlp;
use optim::Optimizer;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::outputs::{write_atomic, EpochMetrics};

/// The file name inside a run folder.
pub const FILE_NAME: &str = "checkpoint.safetensors";
const STATE_KEY: &str = "trainer_state";
const FORMAT: u32 = 2;
/// The name prefix of the momentum buffer tensors.
const BUFFER_PREFIX: &str = "optimizer.momentum_buffer.";
/// The name prefixes of Adam's tensors: first moment, second moment, AMSGrad's maximum, step.
const ADAM_PREFIXES: [&str; 4] = [
    "optimizer.exp_avg.",
    "optimizer.exp_avg_sq.",
    "optimizer.max_exp_avg_sq.",
    "optimizer.step.",
];

/// The running sums of an epoch that is under way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochProgress {
    /// Optimizer steps (batches) of this epoch already taken.
    pub batches_done: u64,
    /// Sum over the epoch's samples of their cross-entropy (batch mean x batch size).
    pub loss_sum: f64,
    /// Training samples classified correctly so far this epoch.
    pub correct: u64,
    /// Training samples seen so far this epoch.
    pub seen: u64,
    /// Seconds spent in this epoch's training steps so far.
    pub train_seconds: f64,
    /// The lr the epoch's first step used.
    pub first_lr: Option<f64>,
}

/// Everything besides the weights that a resumed run needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingState {
    /// Checkpoint layout version.
    pub format: u32,
    /// The resolved run config (`config.toml`'s TOML text) the state belongs to.
    pub config: String,
    /// Width of the hidden layer, checked against the run's config on resume.
    pub hidden: u64,
    /// Epochs completed (their test pass and scheduler step included).
    pub epochs_done: u64,
    /// Optimizer steps taken since the start of the run.
    pub step: u64,
    /// The epoch under way (all zero at an epoch boundary).
    pub progress: EpochProgress,
    /// The rows of `metrics.csv` so far.
    pub metrics: Vec<EpochMetrics>,
    /// SGD's state: group hyper-parameters (the momentum buffers are tensors in the file; in the
    /// JSON their list is empty). Absent for Adam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sgd: Option<optim::SgdState>,
    /// Adam's or AdamW's state: groups and step count (the moments are tensors in the file; in
    /// the JSON their list is empty). Absent for SGD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adam: Option<optim::AdamState>,
    /// The scheduler's state, if the run has one.
    pub scheduler: Option<optim::SchedulerState>,
}

/// Writes the checkpoint atomically into `dir`.
pub fn save(dir: &Path, mlp: &Mlp, state: &TrainingState) -> anyhow::Result<()> {
    let mut header = state.clone();
    if let Some(sgd) = header.sgd.as_mut() {
        sgd.momentum_buffers = Vec::new();
    }
    if let Some(adam) = header.adam.as_mut() {
        adam.moments = Vec::new();
    }
    let json = serde_json::to_string(&header).context("cannot encode the training state")?;
    let metadata = HashMap::from([(STATE_KEY.to_string(), json)]);
    let shapes = mlp.param_shapes();
    let params = mlp.params();
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, name) in Mlp::PARAM_NAMES.iter().enumerate() {
        tensors.push((
            name.to_string(),
            Dtype::F32,
            shapes[i].clone(),
            le_bytes(params[i]),
        ));
    }
    let buffers = state.sgd.as_ref().map_or(&[][..], |s| &s.momentum_buffers);
    for (i, name) in Mlp::PARAM_NAMES.iter().enumerate() {
        if let Some(Some(buffer)) = buffers.get(i) {
            let tensor = format!("{BUFFER_PREFIX}{name}");
            tensors.push((tensor, Dtype::F32, shapes[i].clone(), le_bytes(buffer)));
        }
    }
    let moments = state.adam.as_ref().map_or(&[][..], |a| &a.moments);
    for (i, name) in Mlp::PARAM_NAMES.iter().enumerate() {
        let Some(Some(m)) = moments.get(i) else {
            continue;
        };
        let [exp_avg, exp_avg_sq, max_exp_avg_sq, step] = ADAM_PREFIXES;
        let f32s = [
            (exp_avg, Some(&m.exp_avg)),
            (exp_avg_sq, Some(&m.exp_avg_sq)),
            (max_exp_avg_sq, m.max_exp_avg_sq.as_ref()),
        ];
        for (prefix, values) in f32s {
            if let Some(values) = values {
                let tensor = format!("{prefix}{name}");
                tensors.push((tensor, Dtype::F32, shapes[i].clone(), le_bytes(values)));
            }
        }
        let count = (m.step as i64).to_le_bytes().to_vec();
        tensors.push((format!("{step}{name}"), Dtype::I64, vec![1], count));
    }
    let mut views = Vec::with_capacity(tensors.len());
    for (name, dtype, shape, bytes) in &tensors {
        let view = TensorView::new(*dtype, shape.clone(), bytes)
            .map_err(|e| anyhow::anyhow!("cannot describe tensor {name}: {e}"))?;
        views.push((name.as_str(), view));
    }
    let file = safetensors::serialize(views, Some(metadata))
        .map_err(|e| anyhow::anyhow!("cannot encode the checkpoint: {e}"))?;
    write_atomic(&dir.join(FILE_NAME), &file)
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl TrainingState {
    /// Checks the counters against each other and against the run's data (`examples` training
    /// images in batches of `batch_size`): a damaged or edited state is refused naming the
    /// field, before it can index past the end of an epoch or skew the metrics.
    pub fn check(&self, examples: u64, batch_size: u64) -> anyhow::Result<()> {
        let batches_per_epoch = examples.div_ceil(batch_size.max(1));
        let p = &self.progress;
        let bad = |field: &str, value: String, allowed: String| {
            anyhow::anyhow!("{field} = {value} is not possible: {allowed}")
        };
        if p.batches_done > batches_per_epoch {
            return Err(bad(
                "progress.batches_done",
                p.batches_done.to_string(),
                format!("an epoch has {batches_per_epoch} batches of {batch_size}"),
            ));
        }
        let seen = (p.batches_done * batch_size).min(examples);
        if p.seen != seen {
            return Err(bad(
                "progress.seen",
                p.seen.to_string(),
                format!(
                    "{} batches of {batch_size} hold {seen} images",
                    p.batches_done
                ),
            ));
        }
        if p.correct > p.seen {
            return Err(bad(
                "progress.correct",
                p.correct.to_string(),
                format!("at most the {} images seen", p.seen),
            ));
        }
        for (field, value) in [
            ("progress.loss_sum", p.loss_sum),
            ("progress.train_seconds", p.train_seconds),
            ("progress.first_lr", p.first_lr.unwrap_or(0.0)),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(bad(field, value.to_string(), "a finite number >= 0".into()));
            }
        }
        if self.metrics.len() as u64 != self.epochs_done
            || self
                .metrics
                .iter()
                .zip(1..)
                .any(|(row, epoch)| row.epoch != epoch)
        {
            return Err(bad(
                "metrics",
                format!("{} rows", self.metrics.len()),
                format!("one row per epoch done, numbered 1 to {}", self.epochs_done),
            ));
        }
        let most = self.epochs_done * batches_per_epoch + p.batches_done;
        if self.step < p.batches_done || self.step > most {
            return Err(bad(
                "step",
                self.step.to_string(),
                format!(
                    "between {} and {most} after {} epochs and {} batches",
                    p.batches_done, self.epochs_done, p.batches_done
                ),
            ));
        }
        let (field, step_count) = match (&self.sgd, &self.adam) {
            (Some(sgd), None) => ("sgd.step_count", sgd.step_count),
            (None, Some(adam)) => ("adam.step_count", adam.step_count),
            _ => {
                return Err(anyhow::anyhow!(
                    "the state must hold exactly one optimizer's state, `sgd` or `adam`"
                ))
            }
        };
        if step_count != self.step {
            return Err(bad(
                field,
                step_count.to_string(),
                format!("the optimizer steps once per step ({})", self.step),
            ));
        }
        Ok(())
    }

    /// Copies the optimizer's state (its groups, buffers or moments and step count) in.
    pub fn record_optimizer(&mut self, optimizer: &Optimizer) {
        (self.sgd, self.adam) = match optimizer {
            Optimizer::Sgd(sgd) => (Some(sgd.state()), None),
            Optimizer::Adam(adam) => (None, Some(adam.state())),
        };
    }

    /// Loads the saved optimizer state into `optimizer` (built from the run's config), which
    /// checks it; a state of another optimizer is refused.
    pub fn restore_optimizer(&self, optimizer: &mut Optimizer) -> anyhow::Result<()> {
        match (optimizer, &self.sgd, &self.adam) {
            (Optimizer::Sgd(sgd), Some(saved), None) => sgd.load_state(saved.clone())?,
            (Optimizer::Adam(adam), None, Some(saved)) => adam.load_state(saved.clone())?,
            (optimizer, _, _) => bail!(
                "it holds the state of {} but the run's config uses {}",
                match (&self.sgd, &self.adam) {
                    (Some(_), None) => "SGD",
                    (None, Some(_)) => "Adam",
                    _ => "no single optimizer",
                },
                optimizer.name()
            ),
        }
        Ok(())
    }
}

/// Only the format number, read first so that an old layout gets its own message.
#[derive(Deserialize)]
struct FormatOnly {
    format: u32,
}

/// Reads `dir/checkpoint.safetensors`; `Ok(None)` when there is none yet. Errors name the file
/// and what is wrong in it.
pub fn load(dir: &Path) -> anyhow::Result<Option<(Mlp, TrainingState)>> {
    let path = dir.join(FILE_NAME);
    let limit = crate::input_file::checkpoint_max_bytes();
    let Some(bytes) = crate::input_file::read_optional(&path, "the checkpoint", limit)? else {
        return Ok(None);
    };
    let damaged = || format!("the checkpoint {} is damaged", path.display());
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: not a valid safetensors file ({e})", damaged()))?;
    let Some(json) = meta.metadata().as_ref().and_then(|m| m.get(STATE_KEY)) else {
        bail!(
            "{} has no training state: it is not a checkpoint written by trainer",
            path.display()
        );
    };
    let format: FormatOnly = serde_json::from_str(json)
        .with_context(|| format!("the training state in {} is damaged", path.display()))?;
    if format.format != FORMAT {
        bail!(
            "{} has checkpoint format {}; this trainer reads format {FORMAT} only (format 1 was written by an older trainer and cannot be checked against the run's config). Start the run again; its weights can still seed a new run with --init-weights {}",
            path.display(),
            format.format,
            path.display()
        );
    }
    let mut state: TrainingState = serde_json::from_str(json)
        .with_context(|| format!("the training state in {} is damaged", path.display()))?;
    let kept_in_json = match (&state.sgd, &state.adam) {
        (Some(sgd), _) if !sgd.momentum_buffers.is_empty() => Some("sgd.momentum_buffers"),
        (_, Some(adam)) if !adam.moments.is_empty() => Some("adam.moments"),
        _ => None,
    };
    if let Some(field) = kept_in_json {
        bail!(
            "{}: {field} must be empty in the training state (format {FORMAT} keeps them as optimizer.* tensors)",
            damaged()
        );
    }
    let mlp = Mlp::from_safetensors(&bytes).with_context(damaged)?;
    crate::input_file::check_finite_mlp("the checkpoint", &path, &mlp)?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", damaged()))?;
    let tensors =
        OptimizerTensors::read(&file, &mlp, state.adam.is_some()).with_context(damaged)?;
    for (name, values) in &tensors.f32s {
        crate::input_file::check_finite("the checkpoint", &path, name, values)?;
    }
    if let Some(sgd) = state.sgd.as_mut() {
        sgd.momentum_buffers = tensors.momentum_buffers();
    }
    if let Some(adam) = state.adam.as_mut() {
        adam.moments = tensors.adam_moments().with_context(damaged)?;
    }
    Ok(Some((mlp, state)))
}

/// The optimizer's tensors of a checkpoint, checked: only the names of the run's optimizer,
/// f32 with their parameter's shape (the step counts: one i64 >= 1).
struct OptimizerTensors {
    /// The f32 tensors by name.
    f32s: HashMap<String, Vec<f32>>,
    /// Adam's step counts by parameter name.
    steps: HashMap<String, u64>,
}

impl OptimizerTensors {
    fn read(file: &safetensors::SafeTensors, mlp: &Mlp, adam: bool) -> anyhow::Result<Self> {
        let prefixes: &[&str] = if adam {
            &ADAM_PREFIXES
        } else {
            &[BUFFER_PREFIX]
        };
        let known: Vec<String> = prefixes
            .iter()
            .flat_map(|p| Mlp::PARAM_NAMES.iter().map(move |n| format!("{p}{n}")))
            .collect();
        // The first such name in sorted order, so that the message does not depend on the
        // file's (hashed) order.
        if let Some(name) = file
            .names()
            .into_iter()
            .filter(|n| n.starts_with("optimizer.") && !known.iter().any(|k| k == *n))
            .min()
        {
            bail!(
                "unexpected tensor `{name}`; the optimizer's tensors are {}",
                known.join(", ")
            );
        }
        let shapes = mlp.param_shapes();
        let mut f32s = HashMap::new();
        let mut steps = HashMap::new();
        for prefix in prefixes {
            for (param, shape) in Mlp::PARAM_NAMES.iter().zip(&shapes) {
                let name = format!("{prefix}{param}");
                let Ok(t) = file.tensor(&name) else {
                    continue;
                };
                if *prefix == ADAM_PREFIXES[3] {
                    let count = match (t.dtype(), t.shape(), t.data()) {
                        (Dtype::I64, [1], bytes) if bytes.len() == 8 => {
                            let mut le = [0u8; 8];
                            le.copy_from_slice(bytes);
                            i64::from_le_bytes(le)
                        }
                        _ => bail!(
                            "tensor `{name}` is {:?} {:?}; it must be I64 [1], the tensor's step count",
                            t.dtype(),
                            t.shape()
                        ),
                    };
                    let Ok(count @ 1..) = u64::try_from(count) else {
                        bail!("tensor `{name}` holds {count}; a step count is at least 1");
                    };
                    steps.insert(param.to_string(), count);
                    continue;
                }
                if t.dtype() != Dtype::F32 || t.shape() != shape.as_slice() {
                    bail!(
                        "tensor `{name}` is {:?} {:?}; it must be F32 {:?}, the shape of its parameter",
                        t.dtype(),
                        t.shape(),
                        shape
                    );
                }
                let values = t
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                f32s.insert(name, values);
            }
        }
        Ok(OptimizerTensors { f32s, steps })
    }

    /// SGD's momentum buffers, one entry per parameter (`None` where it has none yet).
    fn momentum_buffers(&self) -> Vec<Option<Vec<f32>>> {
        Mlp::PARAM_NAMES
            .iter()
            .map(|n| self.f32s.get(&format!("{BUFFER_PREFIX}{n}")).cloned())
            .collect()
    }

    /// Adam's moments, one entry per parameter: all of a parameter's tensors, or none of them
    /// (before its first step). Whether AMSGrad's maximum belongs is checked when the state is
    /// loaded into the optimizer.
    fn adam_moments(&self) -> anyhow::Result<Vec<Option<optim::AdamMoments>>> {
        let [exp_avg, exp_avg_sq, max_exp_avg_sq, step] = ADAM_PREFIXES;
        let mut moments = Vec::new();
        for n in Mlp::PARAM_NAMES {
            let get = |prefix: &str| self.f32s.get(&format!("{prefix}{n}")).cloned();
            let found = (
                get(exp_avg),
                get(exp_avg_sq),
                get(max_exp_avg_sq),
                self.steps.get(n).copied(),
            );
            moments.push(match found {
                (None, None, None, None) => None,
                (Some(exp_avg), Some(exp_avg_sq), max_exp_avg_sq, Some(step)) => {
                    Some(optim::AdamMoments {
                        step,
                        exp_avg,
                        exp_avg_sq,
                        max_exp_avg_sq,
                    })
                }
                _ => bail!(
                    "the Adam tensors of {n} are incomplete: {exp_avg}{n}, {exp_avg_sq}{n} and {step}{n} come together"
                ),
            });
        }
        Ok(moments)
    }
}

/// A fresh state for a run that has not taken a step yet.
pub fn initial_state(
    config: String,
    hidden: u64,
    optimizer: &Optimizer,
    scheduler: Option<optim::SchedulerState>,
) -> TrainingState {
    let mut state = TrainingState {
        format: FORMAT,
        config,
        hidden,
        epochs_done: 0,
        step: 0,
        progress: EpochProgress::default(),
        metrics: Vec::new(),
        sgd: None,
        adam: None,
        scheduler,
    };
    state.record_optimizer(optimizer);
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--resume` must continue bit for bit, so every f64 in the state has to survive the JSON
    /// text exactly. serde_json's default float parser is off by one ulp for about one value in
    /// seven of this kind; the workspace enables its `float_roundtrip` feature for that reason.
    #[test]
    fn save_then_load_restores_every_float_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let mlp = Mlp::new(784, 8, 10, 3);
        let sgd = Optimizer::Sgd(
            optim::Sgd::new(&optim::SgdConfig::default(), &[8 * 784, 8, 80, 10]).unwrap(),
        );
        for i in 0..200u32 {
            // Loss sums of the size an epoch builds up (30 000 and more), in awkward fractions.
            let loss_sum = 30965.5 + f64::from(i) * 0.123_456_789_012_345;
            let mut state = initial_state(String::new(), 8, &sgd, None);
            state.progress.loss_sum = loss_sum;
            state.progress.train_seconds = loss_sum / 7.0;
            save(dir.path(), &mlp, &state).unwrap();
            let (loaded_mlp, loaded) = load(dir.path()).unwrap().unwrap();
            assert_eq!(loaded.sgd, state.sgd);
            assert_eq!(loaded.progress.loss_sum.to_bits(), loss_sum.to_bits());
            assert_eq!(
                loaded.progress.train_seconds.to_bits(),
                (loss_sum / 7.0).to_bits()
            );
            assert_eq!(loaded_mlp.params(), mlp.params());
        }
    }

    /// A state after one momentum step: every tensor has a buffer.
    fn stepped() -> (Mlp, TrainingState) {
        let mut mlp = Mlp::new(784, 8, 10, 3);
        let lens: Vec<usize> = mlp.params().iter().map(|p| p.len()).collect();
        let config = optim::SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..optim::SgdConfig::default()
        };
        let mut sgd = optim::Sgd::new(&config, &lens).unwrap();
        let grads: Vec<Vec<f32>> = lens.iter().map(|&n| vec![0.25; n]).collect();
        let grad_refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let mut params: Vec<Vec<f32>> = mlp.params().iter().map(|p| p.to_vec()).collect();
        let mut param_refs: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
        sgd.step(&mut param_refs, &grad_refs).unwrap();
        mlp = Mlp::new(784, 8, 10, 4);
        (
            mlp,
            initial_state("epochs = 1\n".into(), 8, &Optimizer::Sgd(sgd), None),
        )
    }

    #[test]
    fn momentum_buffers_are_tensors_not_json() {
        let dir = tempfile::tempdir().unwrap();
        let (mlp, state) = stepped();
        save(dir.path(), &mlp, &state).unwrap();
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names = file.names();
        names.sort();
        assert!(
            names.contains(&"optimizer.momentum_buffer.fc1.weight"),
            "{names:?}"
        );
        assert_eq!(names.len(), 8, "{names:?}");
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let json = &meta.metadata().as_ref().unwrap()[STATE_KEY];
        assert!(
            json.len() < 2_000,
            "the header holds no buffers: {} bytes",
            json.len()
        );
        // Any safetensors reader sees them; the model loader skips them.
        assert_eq!(
            Mlp::from_safetensors(&bytes).unwrap().params(),
            mlp.params()
        );
        let (_, loaded) = load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.sgd, state.sgd);
    }

    /// A checkpoint's tensors as (name, shape, bytes).
    type Tensors = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;
    /// An edit of a checkpoint's tensors and state JSON.
    type Edit = dyn Fn(&mut Tensors, &mut String);

    /// Rewrites the checkpoint in `dir` with the tensors and state JSON `edit` makes.
    fn rewrite(dir: &Path, edit: &Edit) {
        let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut tensors: Tensors = file
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
            .collect();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let mut json = meta.metadata().as_ref().unwrap()[STATE_KEY].clone();
        edit(&mut tensors, &mut json);
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, t, s, d)| (n.clone(), TensorView::new(*t, s.clone(), d).unwrap()))
            .collect();
        let meta = HashMap::from([(STATE_KEY.to_string(), json)]);
        std::fs::write(
            dir.join(FILE_NAME),
            safetensors::serialize(views, Some(meta)).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn old_formats_and_bad_buffers_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (mlp, state) = stepped();
        let cases: [(&str, &Edit); 3] = [
            ("format 1", &|_, json| {
                *json = json.replace("\"format\":2", "\"format\":1")
            }),
            ("optimizer.momentum_buffer.fc2.bias", &|t, _| {
                let b = t
                    .iter_mut()
                    .find(|t| t.0 == "optimizer.momentum_buffer.fc2.bias")
                    .unwrap();
                b.2 = vec![5];
                b.3.truncate(20);
            }),
            ("optimizer.velocity", &|t, _| {
                t.push(("optimizer.velocity".into(), Dtype::F32, vec![1], vec![0; 4]))
            }),
        ];
        for (needle, edit) in cases {
            save(dir.path(), &mlp, &state).unwrap();
            rewrite(dir.path(), edit);
            let err = format!("{:#}", load(dir.path()).unwrap_err());
            assert!(
                err.contains(needle) && err.contains(FILE_NAME),
                "{needle}: {err}"
            );
        }
    }
}
