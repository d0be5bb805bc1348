//! `trainer bench gemm [--threads N]`: our GEMM on the MLP's shapes, against `matrixmultiply`
//! in a build with `--features matrixmultiply`.
//!
//! For each shape of `autograd_lite::gemm::shapes` (the list the criterion bench
//! `benches/gemm.rs` measures too) it prints GFLOP/s (`2 m n k / t`, best of several
//! repetitions) of our GEMM, and of `matrixmultiply::sgemm` with the same thread count and
//! their ratio when it is built in, and the largest absolute difference of our result from
//! the naive triple loop (on every row for small shapes, on a sample of rows for the big ones,
//! as the table says).

use crate::console;
use std::time::{Duration, Instant};

use anyhow::Context;
use autograd_lite::gemm::ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use autograd_lite::gemm::shapes::{Shape, SHAPES};
use autograd_lite::gemm::{gemm_with_kernel, naive_gemm, Epilogue, Kernel};
use clap::{Args, Subcommand};

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// GEMM throughput on the MLP's shapes and on squares (against matrixmultiply in a build
    /// with `--features matrixmultiply`).
    #[command(
        after_help = "Examples:\n  trainer bench gemm\n  trainer bench gemm --threads 1\n  trainer bench gemm --kernel avx2"
    )]
    Gemm(GemmArgs),
    /// Seconds per training epoch and per test pass of the default job (median and range).
    Train(crate::bench_train::BenchTrainArgs),
}

/// Flags of `trainer bench gemm`.
#[derive(Args)]
pub struct GemmArgs {
    /// Threads for both libraries (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    /// Our GEMM's kernel: avx512, avx2 or portable [default: $AUTOGRAD_LITE_KERNEL, else the
    /// best this CPU runs].
    #[arg(long, value_name = "K", value_parser = parse_kernel)]
    kernel: Option<Kernel>,
}

/// `--kernel K`: a kernel that exists and that this CPU can run, else the error that says which
/// it can.
pub fn parse_kernel(name: &str) -> Result<Kernel, String> {
    Kernel::checked(name).map_err(|e| e.to_string())
}

/// Runs one bench subcommand.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Gemm(args) => bench_gemm(args),
        BenchCommand::Train(args) => crate::bench_train::run(args),
    }
}

/// `C = A B` by another library, to measure ours against.
type Sgemm = for<'a, 'b, 'c> fn(ArrayView2<'a, f32>, ArrayView2<'b, f32>, ArrayViewMut2<'c, f32>);

/// matrixmultiply, when the binary is built with `--features matrixmultiply` (it is not linked
/// otherwise, and the table has our column only).
#[cfg(feature = "matrixmultiply")]
const THEIRS: Option<Sgemm> = Some(autograd_lite::gemm::shapes::matrixmultiply_sgemm);
#[cfg(not(feature = "matrixmultiply"))]
const THEIRS: Option<Sgemm> = None;

/// Rows of C checked against the naive loop when the whole product would take too long.
const SAMPLE_ROWS: usize = 64;

fn bench_gemm(args: GemmArgs) -> anyhow::Result<()> {
    let threads = match args.threads {
        Some(t) => usize::from(t),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    crate::limits::check_threads(threads)?;
    // matrixmultiply reads its thread count once, from this variable, at its first call.
    if THEIRS.is_some() && std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("could not start the rayon thread pool")?;
    let kernel = match args.kernel {
        Some(k) => k,
        None => Kernel::active(),
    };
    console::println(format_args!(
        "GEMM, {threads} thread(s), kernel {kernel} (MR x NR = {:?}); GFLOP/s = 2mnk / best time",
        kernel.tile()
    ));
    match THEIRS {
        Some(_) => console::println(format_args!(
            "{:<18} {:>17} {:>9} {:>9} {:>7} {:>10}  checked",
            "op", "m x k x n", "ours", "mmul", "ratio", "max|diff|"
        )),
        None => {
            console::println(format_args!(
                "(matrixmultiply's column: build with `--features matrixmultiply`)"
            ));
            console::println(format_args!(
                "{:<18} {:>17} {:>9} {:>10}  checked",
                "op", "m x k x n", "ours", "max|diff|"
            ));
        }
    }
    for shape in &SHAPES {
        let row = pool.install(|| measure(shape, kernel));
        match row.theirs {
            Some(theirs) => console::println(format_args!(
                "{:<18} {:>17} {:>9.1} {:>9.1} {:>7.2} {:>10.2e}  {}",
                shape.what,
                shape.dims(),
                row.ours,
                theirs,
                row.ours / theirs,
                row.max_diff,
                row.checked
            )),
            None => console::println(format_args!(
                "{:<18} {:>17} {:>9.1} {:>10.2e}  {}",
                shape.what,
                shape.dims(),
                row.ours,
                row.max_diff,
                row.checked
            )),
        }
    }
    Ok(())
}

/// GFLOP/s of ours (and of [`THEIRS`]) on one shape, and how far our result is from the naive
/// loop's.
struct Row {
    ours: f64,
    theirs: Option<f64>,
    max_diff: f32,
    checked: String,
}

fn measure(shape: &Shape, kernel: Kernel) -> Row {
    let (m, k, n) = (shape.m, shape.k, shape.n);
    let operands = shape.operands();
    let (a, b) = (operands.a(), operands.b());
    let mut c = Array2::<f32>::zeros((m, n));
    let mut theirs_c = c.clone();
    let mut ours = || gemm_with_kernel(kernel, 1.0, a, b, 0.0, c.view_mut(), Epilogue::None);
    let seconds = match THEIRS {
        Some(sgemm) => best_seconds(&mut [&mut ours, &mut || sgemm(a, b, theirs_c.view_mut())]),
        None => best_seconds(&mut [&mut ours]),
    };
    let ours_c = c;
    // Naive check: all rows when cheap, else a sample of rows spread over C.
    let (rows, checked): (Vec<usize>, String) = if m * n * k <= 40_000_000 {
        ((0..m).collect(), "all".into())
    } else {
        let step = m.div_ceil(SAMPLE_ROWS);
        (
            (0..m).step_by(step).collect(),
            format!("{} rows", m.div_ceil(step)),
        )
    };
    let mut max_diff = 0.0f32;
    let mut want = Array2::<f32>::zeros((1, n));
    for &i in &rows {
        naive_gemm(1.0, a.slice(s![i..i + 1, ..]), b, 0.0, want.view_mut());
        for (x, y) in ours_c.row(i).iter().zip(want.row(0).iter()) {
            max_diff = max_diff.max((x - y).abs());
        }
    }
    let gflops = |seconds: f64| shape.flops() / seconds / 1e9;
    Row {
        ours: gflops(seconds[0]),
        theirs: seconds.get(1).copied().map(gflops),
        max_diff,
        checked,
    }
}

/// The best per-call time of each of `calls`, measured in alternation: 25 rounds, each timing
/// a batch of at least ~4 ms of every one in turn. Alternating exposes them to the same
/// interference from other processes, and the minimum filters most of it out, so their ratio
/// is steadier than that of separate series.
fn best_seconds(calls: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let calls_per_batch = |f: &mut dyn FnMut()| {
        f(); // warm caches and buffers
        let start = Instant::now();
        f();
        let once = start.elapsed().max(Duration::from_nanos(100));
        let calls = (Duration::from_millis(4).as_secs_f64() / once.as_secs_f64()).ceil();
        (calls as usize).clamp(1, 10_000)
    };
    let batch = |f: &mut dyn FnMut(), calls: usize| {
        let start = Instant::now();
        for _ in 0..calls {
            f();
        }
        start.elapsed().as_secs_f64() / calls as f64
    };
    let sizes: Vec<usize> = calls.iter_mut().map(|f| calls_per_batch(*f)).collect();
    let mut best = vec![f64::INFINITY; calls.len()];
    // A pause before each batch lets the other library's worker threads stop spinning and go
    // to sleep, so that they do not compete for the cores with the batch being timed.
    let pause = || std::thread::sleep(Duration::from_millis(5));
    for _ in 0..25 {
        for ((f, &size), best) in calls.iter_mut().zip(&sizes).zip(&mut best) {
            pause();
            *best = best.min(batch(*f, size));
        }
    }
    best
}
