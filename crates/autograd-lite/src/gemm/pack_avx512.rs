//! AVX-512 transposing packers: the case where the operand is contiguous along `k` (row-major
//! `X` in `X W^T`), so each panel is a transpose. Scalar code would spend one store per element;
//! here 16 rows x 16 steps are loaded as 16 vectors (u8 pixels widened and scaled on the way),
//! transposed in registers with the usual unpack/shuffle network, and stored as 16 vectors.
//!
//! AVX-512 intrinsics and `target_feature(enable = "avx512f")` are stable since Rust 1.89, so
//! this file needs 1.89 (the workspace's `rust-version` must say so; `mod.rs` tells clippy).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, __mmask16, _mm512_castpd_ps, _mm512_castps_pd, _mm512_cvtepi32_ps,
    _mm512_cvtepu8_epi32, _mm512_loadu_ps, _mm512_mask_storeu_ps, _mm512_mul_ps, _mm512_set1_ps,
    _mm512_setzero_ps, _mm512_shuffle_f32x4, _mm512_unpackhi_pd, _mm512_unpackhi_ps,
    _mm512_unpacklo_pd, _mm512_unpacklo_ps, _mm_loadu_si128,
};

/// Packs `rows` rows starting at `src` (row `r` at `src + r * rs`, contiguous along `k`) and
/// the first `16 * blocks` steps into a panel of width `w >= rows` (step `p`, row `r` at
/// `p * w + r`), writing zeros to the rows `rows..w` of the panel.
///
/// # Safety
/// AVX-512F must be available; rows `0..rows` and steps `0..16 * blocks` of `src` must be
/// readable; `panel` must hold `16 * blocks * w` values.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn transpose_f32(
    src: *const f32,
    rs: usize,
    rows: usize,
    blocks: usize,
    panel: &mut [f32],
    w: usize,
) {
    // SAFETY: each offset `row * rs + step` names 16 readable steps of a row below `rows`
    // (this function's contract, passed on to `transpose_rows`).
    let load = |offset: usize| unsafe { _mm512_loadu_ps(src.add(offset)) };
    // SAFETY: AVX-512F is available and `load` reads inside the rows (contract).
    unsafe { transpose_rows(rs, rows, blocks, panel, w, load) };
}

/// [`transpose_f32`] for u8 pixels, each widened to f32 and multiplied by `scale`.
///
/// # Safety
/// As for [`transpose_f32`].
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn transpose_u8(
    src: *const u8,
    rs: usize,
    rows: usize,
    blocks: usize,
    scale: f32,
    panel: &mut [f32],
    w: usize,
) {
    let s = _mm512_set1_ps(scale);
    let load = |offset: usize| {
        // SAFETY: as in `transpose_f32`: 16 readable bytes of a row below `rows`.
        let bytes = unsafe { _mm_loadu_si128(src.add(offset).cast()) };
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)), s)
    };
    // SAFETY: AVX-512F is available and `load` reads inside the rows (contract).
    unsafe { transpose_rows(rs, rows, blocks, panel, w, load) };
}

/// The loop of both packers: `load(r * rs + 16 * blk)` gives steps `16 blk..16 blk + 16` of
/// row `r` as 16 floats. The panel is cut into groups of 16 rows; a group's missing rows are
/// zero vectors and its steps are stored with a mask of the group's width, so narrow panels
/// (`w = 10`) and the last, partial panel of an operand take this path too.
///
/// # Safety
/// AVX-512F must be available, and `load` sound for every offset `r * rs + 16 * blk` with
/// `r < rows` and `blk < blocks` (the only ones it is called with).
#[target_feature(enable = "avx512f")]
unsafe fn transpose_rows(
    rs: usize,
    rows: usize,
    blocks: usize,
    panel: &mut [f32],
    w: usize,
    load: impl Fn(usize) -> __m512,
) {
    assert!(panel.len() >= 16 * blocks * w && w >= rows);
    for g in 0..w.div_ceil(16) {
        let live = rows.saturating_sub(16 * g).min(16);
        for blk in 0..blocks {
            let block: [__m512; 16] = std::array::from_fn(|r| {
                if r < live {
                    load((16 * g + r) * rs + 16 * blk)
                } else {
                    _mm512_setzero_ps()
                }
            });
            let steps = &mut panel[16 * blk * w..16 * (blk + 1) * w];
            // SAFETY: AVX-512F is available (contract); `16 * g < w`.
            unsafe { store_transposed(block, steps, 16 * g, w) };
        }
    }
}

/// Transposes 16 x 16 (`r[row]` holds 16 steps) and stores step `p`'s lanes at
/// `steps[p * w + col..]`, as many as fit in the panel's width: `min(16, w - col)`.
///
/// # Safety
/// AVX-512F must be available and `col < w`.
#[target_feature(enable = "avx512f")]
unsafe fn store_transposed(r: [__m512; 16], steps: &mut [f32], col: usize, w: usize) {
    assert!(col < w && steps.len() >= 16 * w);
    let lanes = (w - col).min(16);
    let mask: __mmask16 = if lanes == 16 { !0 } else { (1 << lanes) - 1 };
    for (p, v) in transpose16(r).into_iter().enumerate() {
        // SAFETY: lanes `p * w + col .. + lanes` end at most at `(p + 1) * w <= 16 * w`,
        // inside `steps` by the assertion above (p <= 15).
        unsafe { _mm512_mask_storeu_ps(steps.as_mut_ptr().add(p * w + col), mask, v) };
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
