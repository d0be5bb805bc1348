//! Packing: copy a block of an operand into the panel layout the microkernel streams.
//!
//! Both operands are seen as a `len x k` matrix (A as `op(A)`, B as `op(B)^T`). A block of rows
//! `rows` and reduction steps `ks` is cut into panels of `W` rows (`W = MR` for A, `NR` for B);
//! panel `q` stores, for each `p` in `ks` in order, the `W` values of column `p`, so the kernel
//! reads one contiguous `W`-vector per step. Rows past the end of the matrix are zero, which
//! lets every tile run the full-size kernel. Pixels (`u8`) are converted and scaled here, so
//! the training input is never materialised as f32.

use std::ops::Range;

use ndarray::{s, ArrayView2};

#[cfg(target_arch = "x86_64")]
use super::pack_avx512;

/// A `len x k` operand as the packer reads it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source<'a> {
    /// f32 values, used as they are.
    F32(ArrayView2<'a, f32>),
    /// u8 values, each read as `f32::from(x) * scale`.
    U8 {
        /// The pixels.
        view: ArrayView2<'a, u8>,
        /// Applied during packing (e.g. `1 / 255`).
        scale: f32,
    },
}

impl Source<'_> {
    /// `(len, k)`.
    pub(crate) fn dim(&self) -> (usize, usize) {
        match self {
            Source::F32(v) => v.dim(),
            Source::U8 { view, .. } => view.dim(),
        }
    }
}

/// Packs `src[rows, ks]` into `ceil(rows.len() / W)` panels of `W x ks.len()` values, written to
/// the front of `dst` (which must hold at least that many values).
pub(crate) fn pack_panels<const W: usize>(
    src: Source<'_>,
    rows: Range<usize>,
    ks: Range<usize>,
    dst: &mut [f32],
) {
    let kc = ks.len();
    if kc == 0 {
        return;
    }
    let panel_len = W * kc;
    for (q, panel) in dst
        .chunks_exact_mut(panel_len)
        .take(rows.len().div_ceil(W))
        .enumerate()
    {
        let r0 = rows.start + q * W;
        let r1 = (r0 + W).min(rows.end);
        match src {
            Source::F32(v) => {
                let block = v.slice(s![r0..r1, ks.clone()]);
                let done = transpose_fast_f32::<W>(block, panel);
                let rest = block.slice(s![.., done..]);
                pack_one::<f32, W>(rest, &mut panel[done * W..], |x| x);
            }
            Source::U8 { view, scale } => {
                let block = view.slice(s![r0..r1, ks.clone()]);
                let done = transpose_fast_u8::<W>(block, scale, panel);
                let rest = block.slice(s![.., done..]);
                pack_one::<u8, W>(rest, &mut panel[done * W..], |x| f32::from(x) * scale);
            }
        }
    }
}

/// The vectorised transpose for a full panel contiguous along `k`; returns how many leading
/// steps it packed (a multiple of 16, or 0 when it does not apply).
fn transpose_fast_f32<const W: usize>(block: ArrayView2<'_, f32>, panel: &mut [f32]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let (rows, kc) = block.dim();
        let (rs, ks) = (block.strides()[0], block.strides()[1]);
        if rows == W && W % 16 == 0 && ks == 1 && rs > 0 && kc >= 16 && pack_avx512::available() {
            // SAFETY: AVX-512F was detected; the block's W rows hold `kc` contiguous steps at
            // offsets `r * rs`, of which the first `16 * (kc / 16)` are read; the panel holds
            // `kc * W` values.
            unsafe {
                pack_avx512::transpose_f32(block.as_ptr(), rs as usize, W / 16, kc / 16, panel, W)
            };
            return kc / 16 * 16;
        }
    }
    let _ = (block, panel);
    0
}

/// [`transpose_fast_f32`] for pixels scaled by `scale`.
fn transpose_fast_u8<const W: usize>(
    block: ArrayView2<'_, u8>,
    scale: f32,
    panel: &mut [f32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let (rows, kc) = block.dim();
        let (rs, ks) = (block.strides()[0], block.strides()[1]);
        if rows == W && W % 16 == 0 && ks == 1 && rs > 0 && kc >= 16 && pack_avx512::available() {
            // SAFETY: as in `transpose_fast_f32`, with 16-byte reads inside each row's steps.
            unsafe {
                pack_avx512::transpose_u8(
                    block.as_ptr(),
                    rs as usize,
                    W / 16,
                    kc / 16,
                    scale,
                    panel,
                    W,
                )
            };
            return kc / 16 * 16;
        }
    }
    let _ = (block, scale, panel);
    0
}

/// Packs one panel: `block` is at most `W x kc`; `panel` is exactly `W * kc` values.
fn pack_one<T: Copy, const W: usize>(
    block: ArrayView2<'_, T>,
    panel: &mut [f32],
    convert: impl Fn(T) -> f32,
) {
    let (rows, _) = block.dim();
    if rows < W {
        for col in panel.chunks_exact_mut(W) {
            col[rows..].fill(0.0);
        }
    }
    let (rs, ks) = (block.strides()[0], block.strides()[1]);
    if rs == 1 || rows == 1 {
        // The panel direction is contiguous: each step copies one run of `rows` values.
        for (col, src) in panel.chunks_exact_mut(W).zip(block.columns()) {
            if let Some(src) = src.as_slice() {
                for (d, &x) in col[..rows].iter_mut().zip(src) {
                    *d = convert(x);
                }
            } else {
                for (d, &x) in col.iter_mut().zip(src.iter()) {
                    *d = convert(x);
                }
            }
        }
    } else if ks == 1 {
        // Each row is contiguous along k: read rows, write with a stride of `W` (a transpose).
        for (r, src) in block.rows().into_iter().enumerate() {
            if let Some(src) = src.as_slice() {
                for (col, &x) in panel.chunks_exact_mut(W).zip(src) {
                    col[r] = convert(x);
                }
            } else {
                for (col, &x) in panel.chunks_exact_mut(W).zip(src.iter()) {
                    col[r] = convert(x);
                }
            }
        }
    } else {
        for ((r, p), &x) in block.indexed_iter() {
            panel[p * W + r] = convert(x);
        }
    }
}
