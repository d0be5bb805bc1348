//! The AVX2 + FMA microkernel: a 16 x 6 tile of `C` in 12 ymm registers.
//!
//! With 16 ymm registers the classic choice is two 8-lane vectors of A by six broadcast
//! columns of B: 12 accumulators, 2 for the A column, 1 for the broadcast, leaving one spare.
//! 12 independent FMA chains cover the 4-5 cycle FMA latency on two FMA ports. Written with
//! intrinsics for the reason given in `kernel_avx512.rs` (plain Rust kept the accumulators in
//! memory).

use super::blocking::loops::BPanel;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
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
    for ((col, l), h) in tile.iter_mut().zip(lo).zip(hi) {
        // SAFETY: `col` holds MR = 16 floats, so both 8-float stores are in bounds.
        unsafe {
            _mm256_storeu_ps(col.as_mut_ptr(), l);
            _mm256_storeu_ps(col.as_mut_ptr().add(8), h);
        }
    }
}
