//! `trainer bench train`: seconds per training epoch and per test pass of the default job.
//!
//! It runs the real job (`training::run`, the same code as `trainer train`) on the real data,
//! silently, into a temporary folder, and reports each epoch's `train_seconds` (the 235
//! optimizer steps: gather, forward, backward, SGD) and test pass (10,000 images), then the
//! median and the spread. Compare with `benches/pytorch_reference.py`, run in the same session.

use crate::console;
use std::path::PathBuf;

use anyhow::Context;
use autograd_lite::gemm::Kernel;
use clap::Args;

use crate::config::RunConfig;
use crate::run_folder::RunFolder;
use crate::training::{self, Console, RunOptions};

/// Flags of `trainer bench train`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  trainer bench train --epochs 5 --threads 2\n  trainer bench train --kernel avx2"
)]
pub struct BenchTrainArgs {
    /// Epochs to time (each is a full pass over the 60,000 training images plus a test pass).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub epochs: u64,
    /// Samples per optimizer step.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub batch_size: u64,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Folder with the Fashion-MNIST files [default: searched].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// GEMM kernel: avx512, avx2 or portable [default: $AUTOGRAD_LITE_KERNEL, else the best
    /// this CPU runs]. Every kernel gives the same bits; only the seconds differ.
    #[arg(long, value_name = "K", value_parser = crate::bench_cmd::parse_kernel)]
    pub kernel: Option<Kernel>,
}

/// Runs `trainer bench train` on `--threads` threads.
pub fn run(args: BenchTrainArgs) -> anyhow::Result<()> {
    if let Some(kernel) = args.kernel {
        Kernel::set_active(kernel)?;
    }
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        crate::limits::check_threads(n)?;
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start the worker threads")?;
    pool.install(|| bench(args))
}

fn bench(args: BenchTrainArgs) -> anyhow::Result<()> {
    let mut config = RunConfig {
        epochs: args.epochs,
        ..RunConfig::default()
    };
    config.data.batch_size = args.batch_size;
    config.data.dir = args.data_dir;
    config.validate()?;
    let load_start = std::time::Instant::now();
    let data = training::load_data(config.data.dir.as_deref())?;
    let load_seconds = load_start.elapsed().as_secs_f64();
    let out = std::env::temp_dir().join(format!("trainer-bench-{}", std::process::id()));
    let mut folder = RunFolder::create(&out, false, "remove it and run the benchmark again")?;
    let opts = RunOptions {
        config,
        quiet: true,
        console: Console::Silent,
        resume_from: None,
        progress: None,
    };
    let result = training::run(&opts, &mut folder, &data);
    drop(folder);
    let _ = std::fs::remove_dir_all(&out);
    let summary = result?;

    console::println(format_args!(
        "default job: 784-100-10 MLP, SGD(lr=0.1, momentum=0.9, nesterov), StepLR, batch {}, {} threads, GEMM kernel {}",
        args.batch_size,
        rayon::current_num_threads(),
        Kernel::active()
    ));
    console::println(format_args!(
        "data load (4 files, decompress + parse): {load_seconds:.3} s"
    ));
    console::println(format_args!(
        "{:>5}  {:>12}  {:>12}  {:>10}",
        "epoch", "train (s)", "test pass (s)", "test_acc"
    ));
    let mut train = Vec::new();
    let mut test = Vec::new();
    for m in &summary.metrics {
        let test_seconds = m.epoch_seconds - m.train_seconds;
        console::println(format_args!(
            "{:>5}  {:>12.4}  {:>12.4}  {:>9.2}%",
            m.epoch, m.train_seconds, test_seconds, m.test_accuracy
        ));
        train.push(m.train_seconds);
        test.push(test_seconds);
    }
    let (train_median, train_lo, train_hi) = median_and_range(&mut train);
    let (test_median, test_lo, test_hi) = median_and_range(&mut test);
    console::println(format_args!(
        "median train epoch {train_median:.4} s (range {train_lo:.4}-{train_hi:.4}), {:.0} samples/s",
        data.train.len() as f64 / train_median
    ));
    console::println(format_args!(
        "median test pass {test_median:.4} s (range {test_lo:.4}-{test_hi:.4})"
    ));
    Ok(())
}

/// (median, min, max) of a non-empty list; zeros for an empty one.
fn median_and_range(values: &mut [f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    };
    (median, values[0], values[n - 1])
}

#[cfg(test)]
mod tests {
    use super::median_and_range;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median_and_range(&mut [3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(median_and_range(&mut [4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
        assert_eq!(median_and_range(&mut []), (0.0, 0.0, 0.0));
    }
}
