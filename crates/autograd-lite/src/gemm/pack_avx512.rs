//! AVX-512 transposing packers: the case where the operand is contiguous along `k` (row-major
//! `X` in `X W^T`), so each panel is a transpose. Scalar code would spend one store per element;
//! here 16 rows x 16 steps are loaded as 16 vectors (u8 pixels widened and scaled on the way),
//! transposed in registers with the usual unpack/shuffle network, and stored as 16 vectors.
//!
//! AVX-512 intrinsics and `target_feature(enable = "avx512f")` are stable since Rust 1.89, so
//! this file needs 1.89 (the workspace's `rust-version` must say so; `mod.rs` tells clippy).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_castpd_ps, _mm512_castps_pd, _mm512_cvtepi32_ps, _mm512_cvtepu8_epi32,
    _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_shuffle_f32x4,
    _mm512_storeu_ps, _mm512_unpackhi_pd, _mm512_unpackhi_ps, _mm512_unpacklo_pd,
    _mm512_unpacklo_ps, _mm_loadu_si128,
};

/// Whether this CPU can run the packers in this file (detected once).
pub(crate) fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f"))
}

/// Packs `16 * groups` rows starting at `src` (row `r` at `src + r * rs`, contiguous along
/// `k`) and the first `16 * blocks` steps into `panel` (step `p`, row `r` at `p * w + r`).
///
/// # Safety
/// AVX-512F must be available; rows `0..16 * groups` and steps `0..16 * blocks` of `src` must
/// be readable; `panel` must hold `16 * blocks * w` values with `w >= 16 * groups`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn transpose_f32(
    src: *const f32,
    rs: usize,
    groups: usize,
    blocks: usize,
    panel: &mut [f32],
    w: usize,
) {
    assert!(panel.len() >= 16 * blocks * w && w >= 16 * groups);
    for g in 0..groups {
        for blk in 0..blocks {
            // SAFETY: rows 16g..16g+16 and steps 16blk..16blk+16 are readable (contract).
            let rows: [__m512; 16] = std::array::from_fn(|r| unsafe {
                _mm512_loadu_ps(src.add((16 * g + r) * rs + 16 * blk))
            });
            // SAFETY: AVX-512F is available (contract); the panel bounds were asserted.
            unsafe { store_transposed(rows, panel, 16 * blk * w + 16 * g, w) };
        }
    }
}

/// [`transpose_f32`] for u8 pixels, each widened to f32 and multiplied by `scale`.
///
/// # Safety
/// As for [`transpose_f32`].
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn transpose_u8(
    src: *const u8,
    rs: usize,
    groups: usize,
    blocks: usize,
    scale: f32,
    panel: &mut [f32],
    w: usize,
) {
    assert!(panel.len() >= 16 * blocks * w && w >= 16 * groups);
    let s = _mm512_set1_ps(scale);
    for g in 0..groups {
        for blk in 0..blocks {
            // SAFETY: 16 bytes of each of the 16 rows are readable (contract).
            let rows: [__m512; 16] = std::array::from_fn(|r| unsafe {
                let bytes = _mm_loadu_si128(src.add((16 * g + r) * rs + 16 * blk).cast());
                _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)), s)
            });
            // SAFETY: AVX-512F is available (contract); the panel bounds were asserted.
            unsafe { store_transposed(rows, panel, 16 * blk * w + 16 * g, w) };
        }
    }
}

/// Transposes 16 x 16 (`r[row]` holds 16 steps) and stores step `p` at `panel[at + p * w..]`.
///
/// # Safety
/// AVX-512F must be available and `panel[at + 15 * w + 16]` in bounds.
#[target_feature(enable = "avx512f")]
unsafe fn store_transposed(r: [__m512; 16], panel: &mut [f32], at: usize, w: usize) {
    assert!(at + 15 * w + 16 <= panel.len());
    for (p, v) in transpose16(r).into_iter().enumerate() {
        // SAFETY: `at + p * w + 16 <= panel.len()` by the assertion above (p <= 15).
        unsafe { _mm512_storeu_ps(panel.as_mut_ptr().add(at + p * w), v) };
    }
}

/// The 16 x 16 transpose: element `l` of `r[i]` becomes element `i` of `out[l]`.
#[target_feature(enable = "avx512f")]
pub(crate) fn transpose16(r: [__m512; 16]) -> [__m512; 16] {
    // Stage 1: interleave row pairs (within each 128-bit lane).
    let a: [__m512; 16] = std::array::from_fn(|i| {
        let (x, y) = (r[i & !1], r[i | 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_ps(x, y)
        } else {
            _mm512_unpackhi_ps(x, y)
        }
    });
    // Stage 2: interleave pairs of pairs; b[4i + q] holds step 4L + q of rows 4i..4i+4 in lane L.
    let b: [__m512; 16] = std::array::from_fn(|idx| {
        let (i, q) = (idx / 4, idx % 4);
        let (x, y) = (
            _mm512_castps_pd(a[4 * i + q / 2]),
            _mm512_castps_pd(a[4 * i + 2 + q / 2]),
        );
        _mm512_castpd_ps(if q % 2 == 0 {
            _mm512_unpacklo_pd(x, y)
        } else {
            _mm512_unpackhi_pd(x, y)
        })
    });
    // Stage 3: a 4 x 4 transpose of 128-bit lanes for each q.
    let mut out = [_mm512_setzero_ps(); 16];
    for q in 0..4 {
        let (b0, b1, b2, b3) = (b[q], b[4 + q], b[8 + q], b[12 + q]);
        let t0 = _mm512_shuffle_f32x4::<0x44>(b0, b1);
        let t1 = _mm512_shuffle_f32x4::<0xEE>(b0, b1);
        let t2 = _mm512_shuffle_f32x4::<0x44>(b2, b3);
        let t3 = _mm512_shuffle_f32x4::<0xEE>(b2, b3);
        out[q] = _mm512_shuffle_f32x4::<0x88>(t0, t2);
        out[4 + q] = _mm512_shuffle_f32x4::<0xDD>(t0, t2);
        out[8 + q] = _mm512_shuffle_f32x4::<0x88>(t1, t3);
        out[12 + q] = _mm512_shuffle_f32x4::<0xDD>(t1, t3);
    }
    out
}
