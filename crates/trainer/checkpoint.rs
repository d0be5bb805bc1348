//! `checkpoint.safetensors`: everything `--resume` needs to continue a run exactly.
//!
//! One file, written atomically: the four weight tensors under PyTorch's names (so any
//! safetensors reader can load the model from it), and in the header's `__metadata__` the key
//! `trainer_state` holding JSON: progress counters, the partial epoch's accumulators, the
//! metrics rows so far, the SGD state (momentum buffers included) and the scheduler state.
//! The shuffle order needs no saved RNG: it is a pure function of (seed, epoch).

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
const FORMAT: u32 = 1;

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
    /// SGD's state: group hyper-parameters and momentum buffers.
    pub sgd: optim::SgdState,
    /// The scheduler's state, if the run has one.
    pub scheduler: Option<optim::SchedulerState>,
}

/// Writes the checkpoint atomically into `dir`.
pub fn save(dir: &Path, mlp: &Mlp, state: &TrainingState) -> anyhow::Result<()> {
    let json = serde_json::to_string(state).context("cannot encode the training state")?;
    let metadata = HashMap::from([(STATE_KEY.to_string(), json)]);
    let shapes = [
        mlp.fc1.weight.shape().to_vec(),
        mlp.fc1.bias.shape().to_vec(),
        mlp.fc2.weight.shape().to_vec(),
        mlp.fc2.bias.shape().to_vec(),
    ];
    let bytes: Vec<Vec<u8>> = mlp
        .params()
        .iter()
        .map(|p| p.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::with_capacity(4);
    for ((name, shape), data) in Mlp::PARAM_NAMES.iter().zip(shapes.iter()).zip(bytes.iter()) {
        let view = TensorView::new(Dtype::F32, shape.clone(), data)
            .map_err(|e| anyhow::anyhow!("cannot describe tensor {name}: {e}"))?;
        views.push((*name, view));
    }
    let file = safetensors::serialize(views, Some(metadata))
        .map_err(|e| anyhow::anyhow!("cannot encode the checkpoint: {e}"))?;
    write_atomic(&dir.join(FILE_NAME), &file)
}

/// Reads `dir/checkpoint.safetensors`; `Ok(None)` when there is none yet.
pub fn load(dir: &Path) -> anyhow::Result<Option<(Mlp, TrainingState)>> {
    let path = dir.join(FILE_NAME);
    let limit = crate::input_file::checkpoint_max_bytes();
    let Some(bytes) = crate::input_file::read_optional(&path, "the checkpoint", limit)? else {
        return Ok(None);
    };
    let mlp = Mlp::from_safetensors(&bytes)
        .with_context(|| format!("the checkpoint {} is damaged", path.display()))?;
    crate::input_file::check_finite_mlp("the checkpoint", &path, &mlp)?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| anyhow::anyhow!("the checkpoint {} is damaged: {e}", path.display()))?;
    let Some(json) = meta.metadata().as_ref().and_then(|m| m.get(STATE_KEY)) else {
        bail!(
            "{} has no training state: it is not a checkpoint written by trainer",
            path.display()
        );
    };
    let state: TrainingState = serde_json::from_str(json)
        .with_context(|| format!("the training state in {} is damaged", path.display()))?;
    if state.format != FORMAT {
        bail!(
            "{} has checkpoint format {}, this trainer reads format {FORMAT}",
            path.display(),
            state.format
        );
    }
    Ok(Some((mlp, state)))
}

/// A fresh state for a run that has not taken a step yet.
pub fn initial_state(
    hidden: u64,
    sgd: optim::SgdState,
    scheduler: Option<optim::SchedulerState>,
) -> TrainingState {
    TrainingState {
        format: FORMAT,
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
            let mut state = initial_state(8, sgd.state(), None);
            state.progress.loss_sum = loss_sum;
            state.progress.train_seconds = loss_sum / 7.0;
            save(dir.path(), &mlp, &state).unwrap();
            let (loaded_mlp, loaded) = load(dir.path()).unwrap().unwrap();
            assert_eq!(loaded.progress.loss_sum.to_bits(), loss_sum.to_bits());
            assert_eq!(
                loaded.progress.train_seconds.to_bits(),
                (loss_sum / 7.0).to_bits()
            );
            assert_eq!(loaded_mlp.params(), mlp.params());
        }
    }
}
