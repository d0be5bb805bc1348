//! Limits that follow from the machine, checked before any work, each named in its message:
//! the model and batch must fit in memory, a batch cannot hold more images than the training
//! set has, threads are capped per core, and the sizes of `compare` grids and `schedule`
//! tables are bounded. Without them `--hidden 5000000` ran into the OOM killer after a minute,
//! `--hidden 100000000000` aborted on a failed allocation, `--hidden 18446744073709551615`
//! panicked on an overflow and `--threads 100000` made no progress.

use anyhow::bail;

/// Images in the training set: no batch can be larger.
pub const TRAIN_IMAGES: u64 = 60_000;

/// Inputs of the model (28 x 28 pixels) and its outputs (classes).
const INPUTS: u64 = 784;
const CLASSES: u64 = 10;

/// Worker threads allowed per core: more only adds switching (the results do not depend on
/// the count), and 100,000 threads make no progress at all.
pub const THREADS_PER_CORE: usize = 4;

/// The most runs one `trainer compare` may hold (configs x grid values x seeds): each run
/// trains for minutes, so more is a typo, not a plan.
pub const MAX_COMPARE_RUNS: usize = 10_000;

/// The most steps `trainer schedule --steps` tabulates (4,255 epochs of the default job):
/// the table is built in memory, about 100 bytes a step with its row, so it stays near
/// 100 MB.
pub const MAX_SCHEDULE_STEPS: u64 = 1_000_000;

/// Memory assumed available when `/proc/meminfo` cannot be read (not Linux, or no /proc).
pub const FALLBACK_MEMORY: u64 = 8 << 30;

/// Memory the process needs besides the model: the data set (55 MB), code, thread stacks.
const BASE_BYTES: u64 = 256 << 20;

/// Rows evaluated at once on the test set (autograd-lite's `EVAL_CHUNK`).
const EVAL_ROWS: u64 = 10_000;

/// The memory this process can use, and where the figure comes from.
pub fn available_memory() -> (u64, &'static str) {
    let from_proc = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .map(|kb| kb.saturating_mul(1024))
        });
    match from_proc {
        Some(bytes) => (bytes, "MemAvailable in /proc/meminfo"),
        None => (
            FALLBACK_MEMORY,
            "an assumed 8 GiB: /proc/meminfo is unreadable",
        ),
    }
}

/// An estimate (on the high side) of the bytes training a 784-`hidden`-10 MLP with batches
/// of `batch` needs: six copies of the parameters (weights, gradients, momentum, the step's
/// mirror, the GEMM's packed panels, the saved model), four f32 activations per hidden unit
/// for the larger of a batch and an evaluation chunk, and the base. `None` if it overflows.
pub fn training_bytes(hidden: u64, batch: u64) -> Option<u64> {
    let params = hidden
        .checked_mul(INPUTS + 1 + CLASSES)?
        .checked_add(CLASSES)?;
    let activations = batch.max(EVAL_ROWS).checked_mul(hidden)?.checked_mul(4)?;
    params
        .checked_mul(6)?
        .checked_add(activations)?
        .checked_mul(4)?
        .checked_add(BASE_BYTES)
}

/// The widest hidden layer that fits in `available` bytes with batches of `batch`.
pub fn widest_hidden(batch: u64, available: u64) -> u64 {
    let (mut lo, mut hi) = (0u64, u64::MAX / 2);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        match training_bytes(mid, batch) {
            Some(b) if b <= available => lo = mid,
            _ => hi = mid - 1,
        }
    }
    lo
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Checks `model.hidden` and `data.batch_size` against the training set and the memory.
pub fn check_model(hidden: u64, batch: u64) -> anyhow::Result<()> {
    if batch > TRAIN_IMAGES {
        bail!(
            "data.batch_size = {batch} is more than the {TRAIN_IMAGES} training images: use at most {TRAIN_IMAGES} (the whole set in one batch)"
        );
    }
    let (available, source) = available_memory();
    let needed = training_bytes(hidden, batch);
    if needed.is_none_or(|n| n > available) {
        let needs = needed.map_or_else(
            || "more memory than a 64-bit machine can address".to_string(),
            |n| format!("about {} of memory", gib(n)),
        );
        bail!(
            "model.hidden = {hidden} with batch {batch} needs {needs}; {} is available ({source}): use at most --hidden {}",
            gib(available),
            widest_hidden(batch, available)
        );
    }
    Ok(())
}

/// Checks `--threads` against the cores.
pub fn check_threads(threads: usize) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cores.saturating_mul(THREADS_PER_CORE);
    if threads == 0 {
        bail!("--threads 0 is not allowed: give at least 1 (or leave it out to use every core)");
    }
    if threads > max {
        bail!(
            "--threads {threads} is more than {THREADS_PER_CORE} per core ({cores} cores here): use at most --threads {max}; the results are the same for any count"
        );
    }
    Ok(())
}

/// Checks the number of runs of a `compare` grid.
pub fn check_compare_runs(runs: u128) -> anyhow::Result<()> {
    if runs > MAX_COMPARE_RUNS as u128 {
        bail!(
            "this comparison has {runs} runs (configs x grid values x seeds), more than the {MAX_COMPARE_RUNS} allowed; split it into smaller comparisons"
        );
    }
    Ok(())
}

/// Checks `schedule --steps`.
pub fn check_schedule_steps(steps: u64) -> anyhow::Result<()> {
    if steps > MAX_SCHEDULE_STEPS {
        bail!(
            "--steps {steps} is more than the {MAX_SCHEDULE_STEPS} steps a schedule table may have (one line each); use fewer"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_needs_little_and_huge_ones_overflow_to_none() {
        let default = training_bytes(100, 256).unwrap();
        assert!(default < 512 << 20, "{default}");
        assert_eq!(training_bytes(u64::MAX, 256), None);
        assert!(training_bytes(5_000_000, 256).unwrap() > 90 << 30);
    }

    #[test]
    fn widest_hidden_is_the_largest_that_fits() {
        let available = 4u64 << 30;
        let w = widest_hidden(256, available);
        assert!(training_bytes(w, 256).unwrap() <= available);
        assert!(training_bytes(w + 1, 256).unwrap() > available);
    }
}
