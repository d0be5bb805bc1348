//! AVX2 transposing packers: `pack_avx512.rs` for 8-lane vectors. Where the operand is
//! contiguous along `k` (row-major `X` in `X W^T`), each panel is a transpose: 8 rows x 8 steps
//! are loaded as 8 vectors (u8 pixels widened and scaled on the way), transposed in registers
//! and stored as 8 vectors, instead of one scalar store per element.
//!
//! AVX2 has no masked store that is cheap on every CPU (`vmaskmovps` to memory is slow on AMD),
//! so a panel narrower than a multiple of 8 (the kernel's `NR = 6`) is written with full
//! vectors in ascending order: the lanes past the panel's width spill into the next step, which
//! the next store (or `pack_one`, for the steps after the last block) overwrites. Only a spill
//! past the end of the panel is written with a masked store.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, __m256i, _mm256_cvtepi32_ps, _mm256_cvtepu8_epi32, _mm256_loadu_ps, _mm256_loadu_si256,
    _mm256_maskstore_ps, _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_set1_ps, _mm256_setzero_ps,
    _mm256_shuffle_ps, _mm256_storeu_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps, _mm_loadl_epi64,
};

/// Packs `rows` rows starting at `src` (row `r` at `src + r * rs`, contiguous along `k`) and
/// the first `8 * blocks` steps into a panel of width `w >= rows` (step `p`, row `r` at
/// `p * w + r`), writing zeros to the rows `rows..w` of the panel. Values of `panel` past the
/// `8 * blocks` steps may be overwritten (with zeros); the caller packs those steps after.
///
/// # Safety
/// AVX2 must be available; rows `0..rows` and steps `0..8 * blocks` of `src` must be readable;
/// `panel` must hold at least `8 * blocks * w` values.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn transpose_f32(
    src: *const f32,
    rs: usize,
    rows: usize,
    blocks: usize,
    panel: &mut [f32],
    w: usize,
) {
    // SAFETY: each offset `row * rs + step` names 8 readable steps of a row below `rows`
    // (this function's contract, passed on to `transpose_rows`).
    let load = |offset: usize| unsafe { _mm256_loadu_ps(src.add(offset)) };
    // SAFETY: AVX2 is available and `load` reads inside the rows (contract).
    unsafe { transpose_rows(rs, rows, blocks, panel, w, load) };
}

/// [`transpose_f32`] for u8 pixels, each widened to f32 and multiplied by `scale` (the same
/// conversion and single rounding as `f32::from(x) * scale`).
///
/// # Safety
/// As for [`transpose_f32`].
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn transpose_u8(
    src: *const u8,
    rs: usize,
    rows: usize,
    blocks: usize,
    scale: f32,
    panel: &mut [f32],
    w: usize,
) {
    let s = _mm256_set1_ps(scale);
    let load = |offset: usize| {
        // SAFETY: as in `transpose_f32`: 8 readable bytes of a row below `rows`.
        let bytes = unsafe { _mm_loadl_epi64(src.add(offset).cast()) };
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), s)
    };
    // SAFETY: AVX2 is available and `load` reads inside the rows (contract).
    unsafe { transpose_rows(rs, rows, blocks, panel, w, load) };
}

/// The loop of both packers: `load(r * rs + 8 * blk)` gives steps `8 blk..8 blk + 8` of row
/// `r` as 8 floats. The panel is cut into groups of 8 rows, the last possibly partial; a
/// group's missing rows are zero vectors. Within a block the groups run last to first, so the
/// spill of the partial (last) group into the next step lands on lanes of group 0 that are
/// written after it.
///
/// # Safety
/// AVX2 must be available, and `load` sound for every offset `r * rs + 8 * blk` with
/// `r < rows` and `blk < blocks` (the only ones it is called with).
#[target_feature(enable = "avx2")]
unsafe fn transpose_rows(
    rs: usize,
    rows: usize,
    blocks: usize,
    panel: &mut [f32],
    w: usize,
    load: impl Fn(usize) -> __m256,
) {
    assert!(panel.len() >= 8 * blocks * w && w >= rows);
    for blk in 0..blocks {
        for g in (0..w.div_ceil(8)).rev() {
            let live = rows.saturating_sub(8 * g).min(8);
            let block: [__m256; 8] = std::array::from_fn(|r| {
                if r < live {
                    load((8 * g + r) * rs + 8 * blk)
                } else {
                    _mm256_setzero_ps()
                }
            });
            for (p, v) in transpose8(block).into_iter().enumerate() {
                let at = (8 * blk + p) * w + 8 * g;
                if at + 8 <= panel.len() {
                    // SAFETY: `at + 8 <= panel.len()`. Lanes past the panel's width (a partial
                    // group) land on the next step, which a later store overwrites.
                    unsafe { _mm256_storeu_ps(panel.as_mut_ptr().add(at), v) };
                } else {
                    // SAFETY: the mask writes lanes `at..panel.len()` only (fewer than 8).
                    unsafe {
                        _mm256_maskstore_ps(panel.as_mut_ptr().add(at), mask(panel.len() - at), v)
                    };
                }
            }
        }
    }
}

/// The mask of the first `lanes` (0 to 8) lanes, for the masked loads and stores.
#[target_feature(enable = "avx2")]
pub(crate) fn mask(lanes: usize) -> __m256i {
    const ONES_THEN_ZEROS: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
    let from = 8 - lanes.min(8);
    // SAFETY: `from <= 8`, so the 8 values from there lie inside the 16-value table.
    unsafe { _mm256_loadu_si256(ONES_THEN_ZEROS.as_ptr().add(from).cast()) }
}

/// The 8 x 8 transpose: element `l` of `r[i]` becomes element `i` of `out[l]`.
#[target_feature(enable = "avx2")]
pub(crate) fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    // Interleave row pairs within each 128-bit lane.
    let t: [__m256; 8] = std::array::from_fn(|i| {
        let (x, y) = (r[i & !1], r[i | 1]);
        if i % 2 == 0 {
            _mm256_unpacklo_ps(x, y)
        } else {
            _mm256_unpackhi_ps(x, y)
        }
    });
    // s[4h + q] holds steps q (low lane) and q + 4 (high lane) of rows 4h..4h + 4.
    let s: [__m256; 8] = std::array::from_fn(|idx| {
        let (h, q) = (idx / 4, idx % 4);
        let (x, y) = (t[4 * h + q / 2], t[4 * h + 2 + q / 2]);
        if q % 2 == 0 {
            _mm256_shuffle_ps::<0x44>(x, y)
        } else {
            _mm256_shuffle_ps::<0xEE>(x, y)
        }
    });
    std::array::from_fn(|l| {
        let q = l % 4;
        if l < 4 {
            _mm256_permute2f128_ps::<0x20>(s[q], s[4 + q])
        } else {
            _mm256_permute2f128_ps::<0x31>(s[q], s[4 + q])
        }
    })
}
