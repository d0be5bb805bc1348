//! General matrix multiply: `C <- alpha * op(A) * op(B) + beta * C` on f32, BLIS style.
//!
//! Operands are ndarray views with any strides, so `op(A) = A^T` is just `a.t()`. The work is
//! done by the five labelled BLIS loops in [`blocking::loops`](self): both operands are packed
//! into panels (`pack.rs`; an f32 `A'` whose panels already lie contiguous in memory, like
//! `x^T` of a row-major `x`, and an f32 `B'` whose rows run along `k`, like `W1` in `x W1^T`,
//! are read in place instead, unless a stride is a multiple of 256 bytes), a register-blocked
//! `MR x NR` microkernel multiplies a pair of panels
//! (`kernel_avx512.rs`, `kernel_avx2.rs`, `kernel_portable.rs`; `kernel_choice.rs` picks one
//! at run time: the best the CPU supports, or the one `AUTOGRAD_LITE_KERNEL` names), and the
//! finished tile is written back with the fused epilogue (`store.rs`). Rayon splits only
//! disjoint row blocks of `C`, never the reduction, so results are bit-identical for any number
//! of threads. `naive.rs` holds the triple-loop oracle.
//!
//! Same bits on every CPU: every kernel and every path computes each element of `C` as one
//! chain of fused multiply-adds from zero, `acc = fma(A[i, p], B[p, j], acc)` for `p` in order,
//! over reduction blocks cut from `k` alone (`KC_MAX` in `blocking/mod.rs`), then applies
//! `alpha`, `beta`, the bias and ReLU with the same separately rounded operations (`store.rs`
//! says which). The kernel's tile and the CPU's vector width decide only which elements are
//! computed together.
//!
//! Short reductions (`k <= 16`, like the MLP's `dh = dz W2` over ten classes) skip packing:
//! `small_k.rs` sums blocks of `C` in registers straight from the operands, with the same
//! arithmetic, so the result is the same to the bit.
//!
//! Module map, as an import tree (each file imports only files below it): `mod.rs` (public
//! API, orientation, dispatch); `small_k.rs` (the unpacked path for short reductions, its work
//! in `small_k_job.rs`, its vector code in `small_k_avx512.rs` and `small_k_avx2.rs`);
//! `blocking/mod.rs` (block sizes) and `blocking/loops.rs` (the loops); `pack.rs` (panel
//! packing, u8 conversion) over `pack_avx512.rs` and `pack_avx2.rs` (16 x 16 and 8 x 8
//! register transposes for operands contiguous along k); `store.rs` (tile write-back) over
//! `store_avx512.rs` and `store_avx2.rs` (the same in vectors, transposing the tile in
//! registers for a row-major `C`); one file per microkernel; `buffers.rs` (thread-local
//! packing buffers); and at the bottom `contract.rs` (what a kernel is: `KernelFn`, `BPanel`,
//! `Kernels`), `epilogue.rs` (what happens to a finished tile), `kernel_choice.rs` (which
//! kernel runs; the one place CPU features are detected) and `naive.rs` (the oracle). The
//! packers, stores and `small_k` use the instructions of the kernel that was chosen, never
//! more, so `Kernel::Portable` is plain Rust on every CPU. `unsafe` lives only in the kernels
//! (`small_k*.rs` included), the packers and the stores.
//!
//! Peak of this machine, for reference: 118 GFLOP/s per core (32 f32 flops per cycle at about
//! 3.7 GHz), measured with 24 independent register-only `vfmadd231ps zmm` chains (and the same
//! with 12 ymm chains); the kernel reaches about 105 GFLOP/s (89 %) on 512^3, one thread.
//!
//! Orientation: the kernel vectorises along the rows of its tile. Computing `C^T = B^T A^T`
//! instead of `C = A B` swaps which dimension of `C` is vectorised; we pick the one with the
//! lower estimated cost: zero padding (e.g. m = 100, n = 784 vectorises along n) and, for short
//! reductions, the cost of storing tiles across the contiguous direction of `C`. The choice
//! depends on shapes and strides only, never on the thread count.

mod blocking;
mod buffers;
mod contract;
mod epilogue;
#[cfg(target_arch = "x86_64")]
mod kernel_avx2;
#[cfg(target_arch = "x86_64")]
mod kernel_avx512;
mod kernel_choice;
mod kernel_portable;
mod naive;
mod pack;
#[cfg(target_arch = "x86_64")]
mod pack_avx2;
#[cfg(target_arch = "x86_64")]
mod pack_avx512;
pub mod shapes;
mod small_k;
#[cfg(target_arch = "x86_64")]
mod small_k_avx2;
#[cfg(target_arch = "x86_64")]
mod small_k_avx512;
mod small_k_job;
mod store;
#[cfg(target_arch = "x86_64")]
mod store_avx2;
#[cfg(target_arch = "x86_64")]
mod store_avx512;

/// The `ndarray` this API is written against, re-exported so that callers without their own
/// dependency on it (the `trainer` binary's `bench gemm`, the criterion benches) build views of
/// the same version.
pub use ndarray;

use ndarray::{ArrayView2, ArrayViewMut2};

use blocking::loops::{gemm_blocked, Problem};
pub(crate) use blocking::KC_MAX;
use contract::Kernels;
use epilogue::{Activation, Bias, Finish};
use pack::Source;

pub use kernel_choice::{Kernel, KernelChoiceError, KERNEL_VARIABLE};

/// What to do to each element of `C` after `alpha * A * B + beta * C` is complete.
#[derive(Clone, Copy, Debug)]
pub enum Epilogue<'a> {
    /// Leave `C` as computed.
    None,
    /// `C[i, j] += bias[j]` (a linear layer's bias, one value per output column).
    AddBias(&'a [f32]),
    /// `C[i, j] = max(C[i, j] + bias[j], 0)` (a linear layer followed by ReLU).
    AddBiasRelu(&'a [f32]),
}

/// `C <- alpha * A * B + beta * C`. Panics if the shapes do not agree (a programming error).
/// With `beta == 0`, `C` is not read (NaN there does not propagate), as in BLAS.
///
/// ```
/// use autograd_lite::gemm::{gemm, naive_gemm};
/// use ndarray::{array, Array2};
///
/// let a = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]; // A [3, 2]
/// let b = array![[1.0f32, 0.0, -1.0], [0.5, 1.0, 2.0]]; // B [2, 3]
/// let mut c = Array2::<f32>::ones((3, 3));
/// gemm(2.0, a.view(), b.view(), 1.0, c.view_mut()); // C <- 2 A B + C
/// assert_eq!(c, array![[5.0, 5.0, 7.0], [11.0, 9.0, 11.0], [17.0, 13.0, 15.0]]);
///
/// // A transpose is just a view with swapped strides: G = A^T A, C not read (beta = 0).
/// let mut g = Array2::from_elem((2, 2), f32::NAN);
/// gemm(1.0, a.t(), a.view(), 0.0, g.view_mut());
/// assert_eq!(g, array![[35.0, 44.0], [44.0, 56.0]]);
///
/// // The triple-loop oracle agrees.
/// let mut oracle = Array2::zeros((2, 2));
/// naive_gemm(1.0, a.t(), a.view(), 0.0, oracle.view_mut());
/// assert_eq!(g, oracle);
/// ```
pub fn gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) {
    gemm_epilogue(alpha, a, b, beta, c, Epilogue::None);
}

/// `C <- epilogue(alpha * A * B + beta * C)`.
pub fn gemm_epilogue(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    gemm_with_kernel(Kernel::active(), alpha, a, b, beta, c, epilogue);
}

/// `C <- epilogue(alpha * A * B + beta * C)` where `A` holds u8 pixels. Each pixel is read as
/// `f32::from(x) * alpha` while A is packed (pass `1.0 / 255.0` for `ToTensor()`'s scaling), so
/// the result equals [`gemm_epilogue`] with `alpha = 1` on `A.mapv(|x| f32::from(x) * alpha)`,
/// bit for bit, without materialising that f32 matrix.
pub fn gemm_u8(
    alpha: f32,
    a: ArrayView2<'_, u8>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    gemm_u8_with_kernel(Kernel::active(), alpha, a, b, beta, c, epilogue);
}

/// [`gemm_epilogue`] with a chosen microkernel (for tests and benchmarks of each kernel).
/// Panics if the CPU does not support `kernel` or the shapes do not agree.
pub fn gemm_with_kernel(
    kernel: Kernel,
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    run(kernel, Source::F32(a), b, alpha, alpha, beta, c, epilogue);
}

/// [`gemm_u8`] with a chosen microkernel. Panics if the CPU does not support `kernel` or the
/// shapes do not agree.
pub fn gemm_u8_with_kernel(
    kernel: Kernel,
    alpha: f32,
    a: ArrayView2<'_, u8>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    let a = Source::U8 {
        view: a,
        scale: alpha,
    };
    run(kernel, a, b, 1.0, alpha, beta, c, epilogue);
}

/// Sizes the packing buffers of every thread of the current rayon pool (and of the calling
/// thread) for any GEMM with `k <= 100_000` (B is packed in column blocks of at most 2^20
/// floats, A in blocks of `MC x KC`), so that later calls allocate nothing whichever thread
/// runs which block. Call it once inside
/// `ThreadPool::install` before a loop that must not allocate (the training step); without it
/// each thread allocates its buffers the first time it packs.
pub fn reserve_buffers() {
    use buffers::{reserve, Slot};
    let a_len = blocking::MC * KC_MAX;
    let b_len = blocking::B_BLOCK_FLOATS;
    let both = || {
        reserve(Slot::A, a_len);
        reserve(Slot::B, b_len);
    };
    both();
    rayon::broadcast(|_| both());
}

/// The oracle: a plain triple loop, summing over k in order.
pub fn naive_gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) {
    naive::naive_with(|i, p| a[[i, p]], a.dim(), alpha, b, beta, c, Epilogue::None);
}

/// The oracle with an epilogue and the same `u8` reading as [`gemm_u8`]: `A[i, p]` is
/// `f32::from(x) * alpha`, and the product is then not scaled again.
pub fn naive_gemm_u8(
    alpha: f32,
    a: ArrayView2<'_, u8>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    let at = |i, p| f32::from(a[[i, p]]) * alpha;
    naive::naive_with(at, a.dim(), 1.0, b, beta, c, epilogue);
}

/// The oracle with an epilogue.
pub fn naive_gemm_epilogue(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    naive::naive_with(|i, p| a[[i, p]], a.dim(), alpha, b, beta, c, epilogue);
}

/// Checks shapes, handles the degenerate cases, picks the orientation and runs the kernel.
/// `alpha` scales the product at the store; `alpha_in` is the caller's alpha (for alpha == 0).
#[allow(clippy::too_many_arguments)]
fn run<'a>(
    kernel: Kernel,
    a: Source<'a>,
    b: ArrayView2<'a, f32>,
    alpha: f32,
    alpha_in: f32,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'a>,
) {
    let (m, k) = a.dim();
    let (kb, n) = b.dim();
    assert_eq!(k, kb, "gemm: A is {m}x{k} but B is {kb}x{n}");
    assert_eq!(
        c.dim(),
        (m, n),
        "gemm: C is {:?} but must be {m}x{n}",
        c.dim()
    );
    let (bias, activation) = match epilogue {
        Epilogue::None => (None, Activation::Identity),
        Epilogue::AddBias(bias) => (Some(bias), Activation::Identity),
        Epilogue::AddBiasRelu(bias) => (Some(bias), Activation::Relu),
    };
    if let Some(bias) = bias {
        assert_eq!(
            bias.len(),
            n,
            "gemm: the bias has {} values, C has {n} columns",
            bias.len()
        );
    }
    assert!(
        kernel.is_supported(),
        "gemm: this CPU cannot run the {kernel:?} kernel"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha_in == 0.0 {
        scale_only(beta, c, bias, activation);
        return;
    }
    if let Source::F32(a) = a {
        if small_k::applies(kernel, k, &b, &c) {
            small_k::gemm_small_k(kernel, alpha, a, b, beta, c, bias, activation);
            return;
        }
    }
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    let cost_m = orientation_cost(kernel, m, n, k, rs == 1);
    let cost_n = orientation_cost(kernel, n, m, k, cs == 1);
    let vectorise_n = cost_n < cost_m || (cost_n == cost_m && cs == 1 && rs != 1);
    let b_t = Source::F32(b.reversed_axes());
    let prob = if vectorise_n {
        // C^T = B^T A^T: the kernel's rows run along n.
        let finish = Finish {
            bias: bias.map_or(Bias::None, Bias::PerRow),
            activation,
        };
        Problem {
            a: b_t,
            b: a,
            alpha,
            beta,
            finish,
        }
    } else {
        let finish = Finish {
            bias: bias.map_or(Bias::None, Bias::PerColumn),
            activation,
        };
        Problem {
            a,
            b: b_t,
            alpha,
            beta,
            finish,
        }
    };
    let c = if vectorise_n { c.reversed_axes() } else { c };
    // SAFETY: each arm runs a kernel whose target features `kernel.is_supported()` confirmed.
    unsafe {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                let kernels = Kernels {
                    kernel,
                    full: kernel_avx512::kernel,
                    top_half: kernel_avx512::kernel_top_half,
                    to_columns: Some(kernel_avx512::kernel_to_columns),
                };
                gemm_blocked(kernels, &prob, c)
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                let kernels = Kernels {
                    kernel,
                    full: kernel_avx2::kernel,
                    top_half: kernel_avx2::kernel_top_half,
                    to_columns: Some(kernel_avx2::kernel_to_columns),
                };
                gemm_blocked(kernels, &prob, c)
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => unreachable!("not supported off x86-64"),
            Kernel::Portable => {
                gemm_blocked(Kernels::only(kernel, kernel_portable::kernel), &prob, c)
            }
        }
    }
}

/// Estimated cost, in 16-lane FMA cycles, of running the kernel with its rows along the
/// `rows` dimension of `C` (so `C'` is `rows x cols`): every tile computes `MR x NR x k` products
/// including the zero padding, and is stored once per reduction block. Storing costs about
/// 0.2 cycles per element when the columns of `C'` are contiguous (vector stores) and about
/// 0.3 when they are not (the tile is transposed in registers first), fitted on this machine
/// from the `k = 10` shapes, where the store weighs as much as the arithmetic.
fn orientation_cost(
    kernel: Kernel,
    rows: usize,
    cols: usize,
    k: usize,
    columns_contiguous: bool,
) -> f64 {
    let (mr, nr) = kernel.tile();
    let tiles = (rows.div_ceil(mr) * cols.div_ceil(nr)) as f64;
    let per_element = if columns_contiguous { 0.2 } else { 0.3 };
    let compute = (k * mr * nr) as f64 / 16.0;
    let store = (mr * nr) as f64 * per_element * k.div_ceil(KC_MAX) as f64;
    tiles * (compute + store)
}

/// `C <- epilogue(beta * C)` when the product is empty (`k = 0`) or scaled away (`alpha = 0`).
fn scale_only(
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
    bias: Option<&[f32]>,
    activation: Activation,
) {
    for mut row in c.rows_mut() {
        for (j, x) in row.iter_mut().enumerate() {
            let mut v = if beta == 0.0 { 0.0 } else { beta * *x };
            if let Some(bias) = bias {
                v += bias[j];
            }
            if let Activation::Relu = activation {
                v = naive::relu(v);
            }
            *x = v;
        }
    }
}
