//! `checkpoint.safetensors`: everything `--resume` needs to continue a run exactly.
//!
//! One file, written atomically (format 2):
//! - the four weight tensors under PyTorch's names (so any safetensors reader can load the model
//!   from it; `Mlp::from_safetensors` skips the optimizer's tensors);
//! - SGD's momentum buffers as tensors `optimizer.momentum_buffer.<param>` (absent before a
//!   tensor's first momentum step), f32 with the parameter's shape;
//! - in the header's `__metadata__`, the key `trainer_state` holding JSON: the format number,
//!   the run's resolved config (TOML text, checked against `config.toml` on resume), progress
//!   counters, the partial epoch's accumulators, the metrics rows so far, the SGD groups and the
//!   scheduler state.
//!
//! The shuffle order needs no saved RNG: it is a pure function of (seed, epoch). Format 1 (the
//! momentum buffers as JSON text, no config) is refused with a message: it cannot be checked
//! against the run's config.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};
use autograd_lite::Mlp;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::outputs::{write_atomic, EpochMetrics};

/// The file name inside a run folder.
pub const FILE_NAME: &str = "checkpoint.safetensors";
const STATE_KEY: &str = "trainer_state";
const FORMAT: u32 = 2;
/// The name prefix of the momentum buffer tensors.
const BUFFER_PREFIX: &str = "optimizer.momentum_buffer.";

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
    /// JSON their list is empty).
    pub sgd: optim::SgdState,
    /// The scheduler's state, if the run has one.
    pub scheduler: Option<optim::SchedulerState>,
}

/// Writes the checkpoint atomically into `dir`.
pub fn save(dir: &Path, mlp: &Mlp, state: &TrainingState) -> anyhow::Result<()> {
    let buffers = &state.sgd.momentum_buffers;
    let mut header = state.clone();
    header.sgd.momentum_buffers = Vec::new();
    let json = serde_json::to_string(&header).context("cannot encode the training state")?;
    let metadata = HashMap::from([(STATE_KEY.to_string(), json)]);
    let shapes = mlp.param_shapes();
    let params = mlp.params();
    let mut names = Vec::new();
    let mut data: Vec<(Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, name) in Mlp::PARAM_NAMES.iter().enumerate() {
        names.push(name.to_string());
        data.push((shapes[i].clone(), le_bytes(params[i])));
    }
    for (i, name) in Mlp::PARAM_NAMES.iter().enumerate() {
        if let Some(Some(buffer)) = buffers.get(i) {
            names.push(format!("{BUFFER_PREFIX}{name}"));
            data.push((shapes[i].clone(), le_bytes(buffer)));
        }
    }
    let mut views = Vec::with_capacity(names.len());
    for (name, (shape, bytes)) in names.iter().zip(&data) {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
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
        if self.sgd.step_count != self.step {
            return Err(bad(
                "sgd.step_count",
                self.sgd.step_count.to_string(),
                format!("the optimizer steps once per step ({})", self.step),
            ));
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
    if !state.sgd.momentum_buffers.is_empty() {
        bail!(
            "{}: sgd.momentum_buffers must be empty in the training state (format {FORMAT} keeps them as {BUFFER_PREFIX}* tensors)",
            damaged()
        );
    }
    let mlp = Mlp::from_safetensors(&bytes).with_context(damaged)?;
    crate::input_file::check_finite_mlp("the checkpoint", &path, &mlp)?;
    state.sgd.momentum_buffers = momentum_buffers(&bytes, &mlp).with_context(damaged)?;
    let buffers = Mlp::PARAM_NAMES.iter().zip(&state.sgd.momentum_buffers);
    for (name, buffer) in buffers {
        if let Some(values) = buffer {
            let tensor = format!("{BUFFER_PREFIX}{name}");
            crate::input_file::check_finite("the checkpoint", &path, &tensor, values)?;
        }
    }
    Ok(Some((mlp, state)))
}

/// The `optimizer.momentum_buffer.<param>` tensors, one entry per parameter (`None` where a
/// parameter has none yet); each must be f32 with its parameter's shape.
fn momentum_buffers(bytes: &[u8], mlp: &Mlp) -> anyhow::Result<Vec<Option<Vec<f32>>>> {
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let known: Vec<String> = Mlp::PARAM_NAMES
        .iter()
        .map(|n| format!("{BUFFER_PREFIX}{n}"))
        .collect();
    if let Some(name) = file
        .names()
        .into_iter()
        .find(|n| n.starts_with("optimizer.") && !known.iter().any(|k| k == *n))
    {
        bail!(
            "unexpected tensor `{name}`; the optimizer's tensors are {}",
            known.join(", ")
        );
    }
    let shapes = mlp.param_shapes();
    let mut buffers = Vec::with_capacity(known.len());
    for (name, shape) in known.iter().zip(&shapes) {
        let Ok(t) = file.tensor(name) else {
            buffers.push(None);
            continue;
        };
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
        buffers.push(Some(values));
    }
    Ok(buffers)
}

/// A fresh state for a run that has not taken a step yet.
pub fn initial_state(
    config: String,
    hidden: u64,
    sgd: optim::SgdState,
    scheduler: Option<optim::SchedulerState>,
) -> TrainingState {
    TrainingState {
        format: FORMAT,
        config,
        hidden,
        epochs_done: 0,
        step: 0,
        progress: EpochProgress::default(),
        metrics: Vec::new(),
        sgd,
        scheduler,
    }
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
        let sgd = optim::Sgd::new(&optim::SgdConfig::default(), &[8 * 784, 8, 80, 10]).unwrap();
        for i in 0..200u32 {
            // Loss sums of the size an epoch builds up (30 000 and more), in awkward fractions.
            let loss_sum = 30965.5 + f64::from(i) * 0.123_456_789_012_345;
            let mut state = initial_state(String::new(), 8, sgd.state(), None);
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
            initial_state("epochs = 1\n".into(), 8, sgd.state(), None),
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
    type Tensors = Vec<(String, Vec<usize>, Vec<u8>)>;
    /// An edit of a checkpoint's tensors and state JSON.
    type Edit = dyn Fn(&mut Tensors, &mut String);

    /// Rewrites the checkpoint in `dir` with the tensors and state JSON `edit` makes.
    fn rewrite(dir: &Path, edit: &Edit) {
        let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut tensors: Tensors = file
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.shape().to_vec(), t.data().to_vec()))
            .collect();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let mut json = meta.metadata().as_ref().unwrap()[STATE_KEY].clone();
        edit(&mut tensors, &mut json);
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, s, d)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
                )
            })
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
                b.1 = vec![5];
                b.2.truncate(20);
            }),
            ("optimizer.velocity", &|t, _| {
                t.push(("optimizer.velocity".into(), vec![1], vec![0; 4]))
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
