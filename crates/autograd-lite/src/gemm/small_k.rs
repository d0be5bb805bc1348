//! Short reductions without packing: `C <- epilogue(alpha * A * B + beta * C)` for
//! `k <= SMALL_K`, when the rows of `B` and `C` are contiguous.
//!
//! With `k = 10` (the MLP's `dh = dz W2`, the ten classes being the reduction) a packed tile
//! does ten steps of arithmetic and is then transposed and stored: packing and storing cost
//! more than the products. Here a block of `ROWS` rows x one or two vectors of `LANES` columns of
//! `C` is summed in registers straight from `A` (one scalar per row and step) and the rows of
//! `B` (one or two vectors per step), then written with the blocked path's row store (or, when
//! the product is stored alone, one masked store per vector):
//!
//! ```text
//! for each block of ROWS rows i and LANES columns j of C:
//!     acc[i][j] = 0
//!     for p in 0..k:  acc[i][j] = acc[i][j] + A[i, p] * B[p, j]     (the kernel's multiply-add)
//!     C[i, j] = epilogue(alpha * acc[i][j] + beta * C[i, j])
//! ```
//!
//! Each element is summed from zero in the order `p = 0..k` with fused multiply-adds, exactly
//! as the AVX-512 microkernel sums a packed tile of a single reduction block: the result is
//! bit-identical to the blocked path, and rows are split among threads only as whole blocks,
//! so also to any thread count. The path exists for the AVX-512 kernel only (the CPU this
//! project is tuned on); with the other kernels every product takes the blocked path.
//!
//! Written with intrinsics for the reason `kernel_avx512.rs` gives: in plain Rust LLVM
//! vectorised this loop across the rows of the block, with a gather per step.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::blocking::loops::split_rows;
use super::blocking::PAR_MIN_FLOPS;
use super::epilogue::Activation;
use super::kernel_choice::Kernel;
use super::small_k_job::{Job, ROWS, SMALL_K};

/// Whether this path can run the product: the AVX-512 or AVX2 kernel, a short reduction and unit
/// stride along the rows of `B` and `C` (a dimension of length 1 has no stride to speak of).
pub(crate) fn applies(
    kernel: Kernel,
    k: usize,
    b: &ArrayView2<'_, f32>,
    c: &ArrayViewMut2<'_, f32>,
) -> bool {
    let unit = |stride: isize, len: usize| stride == 1 || len <= 1;
    matches!(kernel, Kernel::Avx512 | Kernel::Avx2)
        && k <= SMALL_K
        && unit(b.strides()[1], b.ncols())
        && unit(c.strides()[1], c.ncols())
}

/// Runs the product with `kernel`'s instructions. The caller has checked [`applies`], that
/// this CPU runs `kernel`, the shapes, and that `k > 0`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_small_k(
    kernel: Kernel,
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    bias: Option<&[f32]>,
    activation: Activation,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    debug_assert!(k <= SMALL_K);
    let threads = rayon::current_num_threads();
    let blocks = m.div_ceil(ROWS);
    let chunks = if 2 * m * n * k >= PAR_MIN_FLOPS {
        threads.min(blocks)
    } else {
        1
    };
    // The rows of B as slices (contiguous, checked by `applies`; at most SMALL_K of them).
    let mut b_rows: [&[f32]; SMALL_K] = [&[]; SMALL_K];
    for (slot, row) in b_rows.iter_mut().zip(b.rows()) {
        let Some(row) = row.to_slice() else {
            unreachable!("`applies` checked that the rows of B are contiguous")
        };
        *slot = row;
    }
    let rows = |block_range: std::ops::Range<usize>, c_rows: ArrayViewMut2<'_, f32>| {
        let first_row = block_range.start * ROWS;
        let a_rows = a.slice(ndarray::s![first_row..first_row + c_rows.nrows(), ..]);
        let job = Job {
            alpha,
            a: a_rows,
            b_rows,
            beta,
            bias,
            activation,
        };
        // SAFETY: `applies` chose this path only for the AVX-512 and AVX2 kernels, and the
        // dispatcher runs a kernel only where its instruction set was detected.
        #[cfg(target_arch = "x86_64")]
        match kernel {
            Kernel::Avx512 => unsafe { super::small_k_avx512::rows_avx512(job, c_rows) },
            _ => unsafe { super::small_k_avx2::rows_avx2(job, c_rows) },
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (kernel, job, c_rows);
            unreachable!("`applies` is false off x86-64, where there are no vector kernels");
        }
    };
    split_rows::<ROWS>(c, 0..blocks, chunks, &rows);
}
