//! `trainer bench gemm [--threads N]`: our GEMM against `matrixmultiply` on the MLP's shapes.
//!
//! For each shape it prints GFLOP/s (`2 m n k / t`, best of several repetitions) of our GEMM
//! and of `matrixmultiply::sgemm` with the same thread count, their ratio, and the largest
//! absolute difference of our result from the naive triple loop (on every row for small
//! shapes, on a sample of rows for the big ones, as the table says).

use crate::console;
use std::time::{Duration, Instant};

use anyhow::Context;
use autograd_lite::gemm::ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use autograd_lite::gemm::{gemm_with_kernel, naive_gemm, Epilogue, Kernel};
use clap::{Args, Subcommand};

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// GEMM throughput against matrixmultiply on the MLP's shapes and on squares.
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

/// One row of the table: `C[m, n] = op(A) op(B)` laid out as the MLP lays it out.
struct Case {
    what: &'static str,
    m: usize,
    k: usize,
    n: usize,
    /// A is stored `k x m` and used as `A^T` (the weight gradient's `dY^T`).
    a_transposed: bool,
    /// B is stored `n x k` and used as `B^T` (the forward pass's `W^T`).
    b_transposed: bool,
}

const CASES: [Case; 9] = [
    case("forward x W1^T", 256, 784, 100, false, true),
    case("grad W1 = dZ^T x", 100, 256, 784, true, false),
    case("forward h W2^T", 256, 100, 10, false, true),
    case("grad h = dZ W2", 256, 10, 100, false, false),
    case("grad W2 = dZ^T h", 10, 256, 100, true, false),
    case("test pass", 10000, 784, 100, false, true),
    case("square", 256, 256, 256, false, false),
    case("square", 512, 512, 512, false, false),
    case("square", 1024, 1024, 1024, false, false),
];

const fn case(what: &'static str, m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Case {
    Case {
        what,
        m,
        k,
        n,
        a_transposed: ta,
        b_transposed: tb,
    }
}

/// Rows of C checked against the naive loop when the whole product would take too long.
const SAMPLE_ROWS: usize = 64;

fn bench_gemm(args: GemmArgs) -> anyhow::Result<()> {
    let threads = match args.threads {
        Some(t) => usize::from(t),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    crate::limits::check_threads(threads)?;
    // matrixmultiply reads its thread count once, from this variable, at its first call.
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
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
    console::println(format_args!(
        "{:<18} {:>17} {:>9} {:>9} {:>7} {:>10}  checked",
        "op", "m x k x n", "ours", "mmul", "ratio", "max|diff|"
    ));
    for case in &CASES {
        let row = pool.install(|| measure(case, kernel));
        let shape = format!("{}x{}x{}", case.m, case.k, case.n);
        console::println(format_args!(
            "{:<18} {:>17} {:>9.1} {:>9.1} {:>7.2} {:>10.2e}  {}",
            case.what,
            shape,
            row.ours,
            row.mmul,
            row.ours / row.mmul,
            row.max_diff,
            row.checked
        ));
    }
    Ok(())
}

struct Row {
    ours: f64,
    mmul: f64,
    max_diff: f32,
    checked: String,
}

fn measure(case: &Case, kernel: Kernel) -> Row {
    let Case { m, k, n, .. } = *case;
    let a_store = filled(if case.a_transposed { (k, m) } else { (m, k) }, 1);
    let b_store = filled(if case.b_transposed { (n, k) } else { (k, n) }, 2);
    let a = if case.a_transposed {
        a_store.t()
    } else {
        a_store.view()
    };
    let b = if case.b_transposed {
        b_store.t()
    } else {
        b_store.view()
    };
    let mut c = Array2::<f32>::zeros((m, n));
    let flops = 2.0 * (m * n * k) as f64;
    let mut mmul_c = c.clone();
    let (ours, mmul) = best_seconds_of_both(
        || gemm_with_kernel(kernel, 1.0, a, b, 0.0, c.view_mut(), Epilogue::None),
        || sgemm(a, b, mmul_c.view_mut()),
    );
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
    Row {
        ours: flops / ours / 1e9,
        mmul: flops / mmul / 1e9,
        max_diff,
        checked,
    }
}

/// Deterministic values in [-1, 1).
fn filled(dim: (usize, usize), seed: u32) -> Array2<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    Array2::from_shape_fn(dim, |_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    })
}

/// The best per-call times of `ours` and `theirs`, measured in alternation: 25 rounds, each
/// timing a batch of at least ~4 ms of one and then of the other. Alternating exposes both to
/// the same interference from other processes, and the minimum filters most of it out, so the
/// ratio of the two is steadier than that of two separate series.
fn best_seconds_of_both(mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (f64, f64) {
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
    let (ours_calls, theirs_calls) = (calls_per_batch(&mut ours), calls_per_batch(&mut theirs));
    let (mut best_ours, mut best_theirs) = (f64::INFINITY, f64::INFINITY);
    // A pause before each batch lets the other library's worker threads stop spinning and go
    // to sleep, so that they do not compete for the cores with the batch being timed.
    let pause = || std::thread::sleep(Duration::from_millis(5));
    for _ in 0..25 {
        pause();
        best_ours = best_ours.min(batch(&mut ours, ours_calls));
        pause();
        best_theirs = best_theirs.min(batch(&mut theirs, theirs_calls));
    }
    (best_ours, best_theirs)
}

/// `C = A B` with `matrixmultiply`.
fn sgemm(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, mut c: ArrayViewMut2<'_, f32>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (rsa, csa) = (a.strides()[0], a.strides()[1]);
    let (rsb, csb) = (b.strides()[0], b.strides()[1]);
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides describe live ndarray views of shapes m x k, k x n and
    // m x n, and `c` is borrowed mutably for the call.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}
