//! The AVX2 + FMA microkernel: a 16 x 6 tile of `C` in 12 ymm registers.
//!
//! With 16 ymm registers the classic choice is two 8-lane vectors of A by six broadcast
//! columns of B: 12 accumulators, 2 for the A column, 1 for the broadcast, leaving one spare.
//! 12 independent FMA chains cover the 4-5 cycle FMA latency on two FMA ports. Written with
//! intrinsics for the reason given in `kernel_avx512.rs` (plain Rust kept the accumulators in
//! memory).

use super::contract::{BPanel, ColumnsOut};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps,
    _mm256_storeu_ps,
};

/// Rows of the tile (the vectorised direction).
pub(crate) const MR: usize = 16;
/// Columns of the tile (the broadcast direction).
pub(crate) const NR: usize = 6;

/// `tile <- sum_p a[p] (outer) b[p]` over the `b.kc` steps of the B panel, with the A and B
/// layouts of `kernel_avx512::kernel`.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the dispatcher checks with `is_x86_feature_detected!`),
/// and the `MR` floats of every A step and the `NR` values of every B step must be readable.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn kernel(a: *const f32, a_step: usize, b: BPanel, tile: &mut [[f32; MR]; NR]) {
    // SAFETY: AVX2 and FMA are available and the panels are readable (contract).
    let (lo, hi) = unsafe { accumulate(a, a_step, b) };
    for ((col, l), h) in tile.iter_mut().zip(lo).zip(hi) {
        // SAFETY: `col` holds MR = 16 floats, so both 8-float stores are in bounds.
        unsafe {
            _mm256_storeu_ps(col.as_mut_ptr(), l);
            _mm256_storeu_ps(col.as_mut_ptr().add(8), h);
        }
    }
}

/// [`kernel`] for a full tile of a `C'` with contiguous columns whose write is `C' = alpha * T`
/// and nothing else (`kernel_avx512::kernel_to_columns` for this tile): each column's 16
/// values go from the registers to `C'` as `alpha * T`, the multiply of the column store's
/// plain case, so the same bits.
///
/// # Safety
/// As for [`kernel`]; and the 16 floats at `c.ptr + j * c.cs` must be writable for `j < NR`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn kernel_to_columns(a: *const f32, a_step: usize, b: BPanel, c: ColumnsOut) {
    // SAFETY: AVX2 and FMA are available and the panels are readable (contract).
    let (lo, hi) = unsafe { accumulate(a, a_step, b) };
    let alpha = _mm256_set1_ps(c.alpha);
    for (j, (l, h)) in lo.into_iter().zip(hi).enumerate() {
        let col = c.ptr.wrapping_add(j * c.cs);
        // SAFETY: the 16 floats of column j < NR at `col` are writable (contract).
        unsafe {
            _mm256_storeu_ps(col, _mm256_mul_ps(alpha, l));
            _mm256_storeu_ps(col.add(8), _mm256_mul_ps(alpha, h));
        }
    }
}

/// The loop of [`kernel`] and [`kernel_to_columns`]: the tile's 16 rows as two vectors per
/// column, `(lo, hi)`, summed from zero over the steps in order with one FMA each.
///
/// # Safety
/// As for [`kernel`].
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn accumulate(a: *const f32, a_step: usize, b: BPanel) -> ([__m256; NR], [__m256; NR]) {
    let mut lo: [__m256; NR] = [_mm256_setzero_ps(); NR];
    let mut hi: [__m256; NR] = [_mm256_setzero_ps(); NR];
    let (mut at, mut bt) = (a, b.ptr);
    for _ in 0..b.kc {
        // SAFETY: the MR = 16 floats of this step at `at = a + p * a_step` are readable
        // (contract), so both 8-float loads are in bounds.
        let (a_lo, a_hi) = unsafe { (_mm256_loadu_ps(at), _mm256_loadu_ps(at.add(8))) };
        at = at.wrapping_add(a_step);
        for j in 0..NR {
            // SAFETY: value j of this step of the B panel is readable (contract).
            let bj = _mm256_set1_ps(unsafe { *bt.add(j * b.col) });
            lo[j] = _mm256_fmadd_ps(a_lo, bj, lo[j]);
            hi[j] = _mm256_fmadd_ps(a_hi, bj, hi[j]);
        }
        bt = bt.wrapping_add(b.step);
    }
    (lo, hi)
}

/// [`kernel`] for a panel whose rows 8..16 are all zero padding (as the last panel of the
/// forward pass's 100 rows, 6.25 x 16): the same FMAs, in the same order, on the top 8 rows
/// only, so half the work and the same bits. Rows 8..16 of `tile` are left as they were; the
/// store writes only the panel's real rows.
///
/// # Safety
/// As for [`kernel`], with the 8 floats at `a + p * a_step` readable for every step `p < b.kc`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn kernel_top_half(
    a: *const f32,
    a_step: usize,
    b: BPanel,
    tile: &mut [[f32; MR]; NR],
) {
    let mut acc: [__m256; NR] = [_mm256_setzero_ps(); NR];
    let (mut at, mut bt) = (a, b.ptr);
    for _ in 0..b.kc {
        // SAFETY: the first 8 floats of this step at `at = a + p * a_step` are readable
        // (contract).
        let a_top = unsafe { _mm256_loadu_ps(at) };
        at = at.wrapping_add(a_step);
        for (j, acc_j) in acc.iter_mut().enumerate() {
            // SAFETY: value j of this step of the B panel is readable (contract).
            let bj = _mm256_set1_ps(unsafe { *bt.add(j * b.col) });
            *acc_j = _mm256_fmadd_ps(a_top, bj, *acc_j);
        }
        bt = bt.wrapping_add(b.step);
    }
    for (col, t) in tile.iter_mut().zip(acc) {
        // SAFETY: `col` holds MR = 16 floats; the store writes the first 8.
        unsafe { _mm256_storeu_ps(col.as_mut_ptr(), t) };
    }
}
