//! The AVX-512F microkernel: a 32 x 10 tile of `C` held in 20 zmm registers.
//!
//! Shape choice (this CPU: AMD EPYC Zen 4, 32 zmm registers, one 512-bit FMA per cycle with a
//! 4-cycle latency): the tile is `MR = 32` rows (two zmm vectors of 16 lanes) by `NR = 10`
//! columns, so 20 accumulators, 2 registers for the A column and one broadcast of B at a time.
//! 20 independent FMA chains hide the latency five times over, and per `k` step the kernel
//! issues 20 FMAs against 2 vector loads and 10 broadcast loads (well within the load ports).
//! `NR = 10` divides the MLP's widths exactly (100 hidden units, 10 classes), and `MR = 32`
//! divides the batch (256) and nearly 784; wider tiles such as 16 x 28 or 48 x 8 would waste
//! 10-30 % of the work on zero padding for those shapes.
//!
//! Plain Rust on `[[f32; 32]; 10]` accumulators was tried first: LLVM vectorised the 32-wide
//! rows but did not unroll the 10 columns, so it kept the accumulators in memory (a load and a
//! store around every FMA, about a third of peak). The intrinsics below are the same loop with
//! the registers spelled out.
//!
//! AVX-512 intrinsics and `target_feature(enable = "avx512f")` are stable since Rust 1.89, so
//! this file needs 1.89 (the workspace's `rust-version` must say so; `mod.rs` tells clippy).

use super::contract::{BPanel, ColumnsOut};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_storeu_ps,
};

/// Rows of the tile (the vectorised direction).
pub(crate) const MR: usize = 32;
/// Columns of the tile (the broadcast direction).
pub(crate) const NR: usize = 10;

/// `tile <- sum_p a[p] (outer) b[p]` over the `b.kc` steps of the B panel; step `p` of the A
/// panel is the `MR` values at `a + p * a_step` (`a_step = MR` in a packed panel, the operand's
/// own stride when it is read in place), and value `j` of step `p` of the B panel is at
/// `b.ptr + p * b.step + j * b.col` (`step = NR`, `col = 1` when packed). B is broadcast one
/// value at a time, so its layout costs nothing here.
///
/// # Safety
/// The CPU must support AVX-512F (the dispatcher checks with `is_x86_feature_detected!`), the
/// `MR` floats at `a + p * a_step` must be readable for every step `p < b.kc`, and so must the
/// `NR` values of every step of `b`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn kernel(a: *const f32, a_step: usize, b: BPanel, tile: &mut [[f32; MR]; NR]) {
    // SAFETY: AVX-512F is available and the panels are readable (contract).
    let (lo, hi) = unsafe { accumulate(a, a_step, b) };
    for ((col, l), h) in tile.iter_mut().zip(lo).zip(hi) {
        // SAFETY: `col` holds MR = 32 floats, so both 16-float stores are in bounds.
        unsafe {
            _mm512_storeu_ps(col.as_mut_ptr(), l);
            _mm512_storeu_ps(col.as_mut_ptr().add(16), h);
        }
    }
}

/// [`kernel`] for a full tile of a `C'` with contiguous columns (`C' = C^T` of a row-major `C`,
/// as in `grad W1`) whose write is `C' = alpha * T` and nothing else: each column's 32 values
/// go from the registers to `C'` (`alpha * T`, the multiply of the column store's plain case,
/// so the same bits), without the round trip through `tile` and the store pass. On `grad W1`
/// (250 tiles of k = 256) that was 2% of the time: one thread went from 110 to 112.6 GFLOP/s.
///
/// # Safety
/// As for [`kernel`]; and the 32 floats at `c.ptr + j * c.cs` must be writable for `j < NR`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn kernel_to_columns(a: *const f32, a_step: usize, b: BPanel, c: ColumnsOut) {
    // SAFETY: AVX-512F is available and the panels are readable (contract).
    let (lo, hi) = unsafe { accumulate(a, a_step, b) };
    let alpha = _mm512_set1_ps(c.alpha);
    for (j, (l, h)) in lo.into_iter().zip(hi).enumerate() {
        let col = c.ptr.wrapping_add(j * c.cs);
        // SAFETY: the 32 floats of column j < NR at `col` are writable (contract).
        unsafe {
            _mm512_storeu_ps(col, _mm512_mul_ps(alpha, l));
            _mm512_storeu_ps(col.add(16), _mm512_mul_ps(alpha, h));
        }
    }
}

/// The loop of [`kernel`] and [`kernel_to_columns`]: the tile's 32 rows as two vectors per
/// column, `(lo, hi)`, summed from zero over the steps in order with one FMA each.
///
/// # Safety
/// As for [`kernel`].
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn accumulate(a: *const f32, a_step: usize, b: BPanel) -> ([__m512; NR], [__m512; NR]) {
    let mut lo: [__m512; NR] = [_mm512_setzero_ps(); NR];
    let mut hi: [__m512; NR] = [_mm512_setzero_ps(); NR];
    let (mut at, mut bt) = (a, b.ptr);
    for _ in 0..b.kc {
        // SAFETY: the MR = 32 floats of this step at `at = a + p * a_step` are readable
        // (contract), so both 16-float loads are in bounds.
        let (a_lo, a_hi) = unsafe { (_mm512_loadu_ps(at), _mm512_loadu_ps(at.add(16))) };
        at = at.wrapping_add(a_step);
        for j in 0..NR {
            // SAFETY: value j of this step of the B panel is readable (contract).
            let bj = _mm512_set1_ps(unsafe { *bt.add(j * b.col) });
            lo[j] = _mm512_fmadd_ps(a_lo, bj, lo[j]);
            hi[j] = _mm512_fmadd_ps(a_hi, bj, hi[j]);
        }
        bt = bt.wrapping_add(b.step);
    }
    (lo, hi)
}

/// [`kernel`] for a panel whose rows 16..32 are all zero padding, as the last panel of `grad
/// W1`'s 784 rows (24.5 x 32): the same FMAs, in the same order, on the top 16 rows only, so
/// half the work and the same bits. Rows 16..32 of `tile` are left as they were; the store
/// writes only the panel's real rows.
///
/// # Safety
/// As for [`kernel`], with the 16 floats at `a + p * a_step` readable for every step `p < b.kc`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn kernel_top_half(
    a: *const f32,
    a_step: usize,
    b: BPanel,
    tile: &mut [[f32; MR]; NR],
) {
    let mut acc: [__m512; NR] = [_mm512_setzero_ps(); NR];
    let (mut at, mut bt) = (a, b.ptr);
    for _ in 0..b.kc {
        // SAFETY: the first 16 floats of this step at `at = a + p * a_step` are readable
        // (contract).
        let a_top = unsafe { _mm512_loadu_ps(at) };
        at = at.wrapping_add(a_step);
        for (j, acc_j) in acc.iter_mut().enumerate() {
            // SAFETY: value j of this step of the B panel is readable (contract).
            let bj = _mm512_set1_ps(unsafe { *bt.add(j * b.col) });
            *acc_j = _mm512_fmadd_ps(a_top, bj, *acc_j);
        }
        bt = bt.wrapping_add(b.step);
    }
    for (col, t) in tile.iter_mut().zip(acc) {
        // SAFETY: `col` holds MR = 32 floats; the store writes the first 16.
        unsafe { _mm512_storeu_ps(col.as_mut_ptr(), t) };
    }
}
