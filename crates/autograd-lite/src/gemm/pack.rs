//! Packing: copy a block of an operand into the panel layout the microkernel streams.
//!
//! Both operands are seen as a `len x k` matrix (A as `op(A)`, B as `op(B)^T`). A block of rows
//! `rows` and reduction steps `ks` is cut into panels of `W` rows (`W = MR` for A, `NR` for B);
//! panel `q` stores, for each `p` in `ks` in order, the `W` values of column `p`, so the kernel
//! reads one contiguous `W`-vector per step. Rows past the end of the matrix are zero, which
//! lets every tile run the full-size kernel. Pixels (`u8`) are converted and scaled here, so
//! the training input is never materialised as f32.

use std::ops::Range;

use ndarray::ArrayView2;

use super::contract::BPanel;
use super::kernel_choice::Kernel;

#[cfg(target_arch = "x86_64")]
use super::{pack_avx2, pack_avx512};

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
/// the front of `dst` (which must hold at least that many values), with the vector transposes
/// of `kernel`'s instruction set where they apply (none for `Kernel::Portable`).
pub(crate) fn pack_panels<const W: usize>(
    kernel: Kernel,
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
                let block = Raw::of(v, r0..r1, ks.clone());
                let done = transpose_fast_f32::<W>(kernel, &block, panel);
                pack_one::<f32, W>(block.skip_steps(done), &mut panel[done * W..], |x| x);
            }
            Source::U8 { view, scale } => {
                let block = Raw::of(view, r0..r1, ks.clone());
                let done = transpose_fast_u8::<W>(kernel, &block, scale, panel);
                let convert = |x: u8| f32::from(x) * scale;
                pack_one::<u8, W>(block.skip_steps(done), &mut panel[done * W..], convert);
            }
        }
    }
}

/// A block of an operand as a pointer and strides, so the per-element loops of `pack_one`
/// run on plain pointer arithmetic (ndarray's per-lane iterators cost more than the copy).
struct Raw<T> {
    ptr: *const T,
    rs: isize,
    ks: isize,
    rows: usize,
    kc: usize,
}

impl<T> Raw<T> {
    /// Rows `rows` and steps `ks` of `view` (panics if they are out of range).
    fn of(view: ArrayView2<'_, T>, rows: Range<usize>, ks: Range<usize>) -> Raw<T> {
        let (len, k) = view.dim();
        assert!(rows.start <= rows.end && rows.end <= len && ks.start <= ks.end && ks.end <= k);
        let (rs, kstride) = (view.strides()[0], view.strides()[1]);
        let offset = rows.start as isize * rs + ks.start as isize * kstride;
        Raw {
            ptr: view
                .as_ptr()
                .wrapping_offset(if rows.is_empty() || ks.is_empty() {
                    0
                } else {
                    offset
                }),
            rs,
            ks: kstride,
            rows: rows.len(),
            kc: ks.len(),
        }
    }

    /// Steps `from..` of this block.
    fn skip_steps(&self, from: usize) -> Raw<T> {
        let from = from.min(self.kc);
        Raw {
            ptr: self.ptr.wrapping_offset(from as isize * self.ks),
            kc: self.kc - from,
            ..*self
        }
    }
}

impl<T> Clone for Raw<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Raw<T> {}

/// The vector width of the transposing packer of `kernel`'s instruction set when it can pack
/// `block` (rows contiguous along `k`, at least one vector of steps long, any panel width, full
/// or partial), on a CPU that runs it; `None` for `Kernel::Portable`.
#[cfg(target_arch = "x86_64")]
fn fast_transpose_lanes<T>(kernel: Kernel, block: &Raw<T>) -> Option<usize> {
    let lanes = match kernel {
        Kernel::Avx512 if kernel.runs_here() => 16,
        Kernel::Avx2 if kernel.runs_here() => 8,
        _ => return None,
    };
    (block.ks == 1 && block.rs > 0 && block.kc >= lanes).then_some(lanes)
}

/// The vectorised transpose for a panel (full or partial) contiguous along `k`; returns how
/// many leading steps it packed (a multiple of the vector width, or 0 when it does not apply).
fn transpose_fast_f32<const W: usize>(
    kernel: Kernel,
    block: &Raw<f32>,
    panel: &mut [f32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(lanes) = fast_transpose_lanes(kernel, block) {
        let Raw {
            ptr, rs, rows, kc, ..
        } = *block;
        let (rs, blocks) = (rs as usize, kc / lanes);
        // SAFETY: `fast_transpose_lanes` detected the instruction set; the block's `rows <= W`
        // rows hold `kc` contiguous steps at offsets `r * rs`, of which the first
        // `lanes * blocks` are read; the panel holds `kc * W` values.
        unsafe {
            if lanes == 16 {
                pack_avx512::transpose_f32(ptr, rs, rows, blocks, panel, W)
            } else {
                pack_avx2::transpose_f32(ptr, rs, rows, blocks, panel, W)
            }
        };
        return blocks * lanes;
    }
    let _ = (kernel, block, panel);
    0
}

/// [`transpose_fast_f32`] for pixels scaled by `scale`.
fn transpose_fast_u8<const W: usize>(
    kernel: Kernel,
    block: &Raw<u8>,
    scale: f32,
    panel: &mut [f32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(lanes) = fast_transpose_lanes(kernel, block) {
        let Raw {
            ptr, rs, rows, kc, ..
        } = *block;
        let (rs, blocks) = (rs as usize, kc / lanes);
        // SAFETY: as in `transpose_fast_f32`, with `lanes`-byte reads inside each row's steps.
        unsafe {
            if lanes == 16 {
                pack_avx512::transpose_u8(ptr, rs, rows, blocks, scale, panel, W)
            } else {
                pack_avx2::transpose_u8(ptr, rs, rows, blocks, scale, panel, W)
            }
        };
        return blocks * lanes;
    }
    let _ = (kernel, block, scale, panel);
    0
}

/// Packs one panel: `block` is at most `W x kc`; `panel` holds `W * kc` values.
fn pack_one<T: Copy, const W: usize>(block: Raw<T>, panel: &mut [f32], convert: impl Fn(T) -> f32) {
    let Raw {
        ptr,
        rs,
        ks,
        rows,
        kc,
    } = block;
    if kc == 0 {
        return;
    }
    let panel = &mut panel[..W * kc];
    if rows < W {
        for col in panel.chunks_exact_mut(W) {
            col[rows..].fill(0.0);
        }
    }
    if rs == 1 && rows == W {
        // The panel direction is contiguous and the panel full: each step converts a run of
        // exactly `W` values, a fixed-length loop the compiler unrolls into a few vector moves
        // (a run of variable length becomes a call to `memcpy` per step).
        for (p, col) in panel.chunks_exact_mut(W).enumerate() {
            // SAFETY: step p < kc of the block starts at `ptr + p * ks` and its W = rows values
            // are contiguous (rs == 1), all inside the operand's view.
            let src = unsafe { &*ptr.offset(p as isize * ks).cast::<[T; W]>() };
            for (d, &x) in col.iter_mut().zip(src) {
                *d = convert(x);
            }
        }
    } else if rs == 1 || rows == 1 {
        // The panel direction is contiguous: each step copies one run of `rows` values.
        for (p, col) in panel.chunks_exact_mut(W).enumerate() {
            // SAFETY: step p < kc of the block starts at `ptr + p * ks` and its `rows` values
            // are contiguous (rs == 1, or a single row), all inside the operand's view.
            let src = unsafe { std::slice::from_raw_parts(ptr.offset(p as isize * ks), rows) };
            for (d, &x) in col[..rows].iter_mut().zip(src) {
                *d = convert(x);
            }
        }
    } else if ks == 1 {
        // Each row is contiguous along k: read rows, write with a stride of `W` (a transpose).
        for r in 0..rows {
            // SAFETY: row r < rows starts at `ptr + r * rs` and holds `kc` contiguous steps.
            let src = unsafe { std::slice::from_raw_parts(ptr.offset(r as isize * rs), kc) };
            for (col, &x) in panel.chunks_exact_mut(W).zip(src) {
                col[r] = convert(x);
            }
        }
    } else {
        for (p, col) in panel.chunks_exact_mut(W).enumerate() {
            for (r, d) in col[..rows].iter_mut().enumerate() {
                // SAFETY: (r, p) is inside the block, which lies inside the operand's view.
                *d = convert(unsafe { *ptr.offset(r as isize * rs + p as isize * ks) });
            }
        }
    }
}

/// A block of `A'` that the kernel reads where it lies instead of from a packed copy: f32, each
/// step's panel values contiguous (unit row stride), as in `x^T` for a row-major `x`. Skipping
/// the copy saves a pass over the block; the kernel then reads step `p` of panel `q` at
/// `ptr + q * W + p * step`.
///
/// Only for step strides that are not a multiple of 64 floats (256 bytes): with such a stride
/// (the rows of a 256 x 256 or 512 x 512 matrix) successive steps fall into the same few cache
/// sets and evict each other, which is why BLIS always packs; packing is kept for those.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InPlace {
    /// The block's first value.
    ptr: *const f32,
    /// Floats from one step to the next.
    pub(crate) step: usize,
}

impl InPlace {
    /// The block `src[rows, ks]` in place, when it qualifies and holds at least one full panel
    /// of `W` rows; `None` means pack it.
    pub(crate) fn of<const W: usize>(
        src: Source<'_>,
        rows: Range<usize>,
        ks: Range<usize>,
    ) -> Option<InPlace> {
        let Source::F32(view) = src else {
            return None;
        };
        let (len, k) = view.dim();
        let (rs, step) = (view.strides()[0], view.strides()[1]);
        let qualifies = rs == 1
            && step >= W as isize
            && step % 64 != 0
            && rows.len() >= W
            && rows.end <= len
            && !ks.is_empty()
            && ks.end <= k;
        qualifies.then(|| InPlace {
            ptr: view
                .as_ptr()
                .wrapping_offset(rows.start as isize + ks.start as isize * step),
            step: step as usize,
        })
    }

    /// Panel `q` (rows `q * W..`) of the block: its first value.
    pub(crate) fn panel<const W: usize>(&self, q: usize) -> *const f32 {
        self.ptr.wrapping_add(q * W)
    }
}

/// A block of `B'` that the kernel reads where it lies instead of from a packed copy: f32, each
/// row contiguous along `k`, as `W1` in the forward `x W1^T` (value `j` of step `p` at
/// `j * 784 + p`). The kernel broadcasts B one value at a time, so it reads the panel's `NR`
/// rows side by side, each a stream of consecutive floats: as many cache lines as the packed
/// copy, which is therefore not made. Other layouts are packed: a `B'` with contiguous steps
/// (`grad W1`'s `dZ`, step `p` at `p * 100`) touches a new line for every step or two, 2.5x
/// the lines of its packed panel, and that measured 1% slower on the training's `k = 128`;
/// a row stride of a multiple of 64 floats would put the `NR` rows into the same few cache sets
/// (as for [`InPlace`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct InPlaceB {
    /// Value 0 of step 0 of the block.
    ptr: *const f32,
    /// Floats from one row of `B'` (one value of a step) to the next.
    col: usize,
}

impl InPlaceB {
    /// Rows `rows` (all of `k`) of `src` in place, when they qualify and hold at least one full
    /// panel of `W` rows; `None` means pack them. Only the full panels are read in place.
    pub(crate) fn of<const W: usize>(src: Source<'_>, rows: Range<usize>) -> Option<InPlaceB> {
        let Source::F32(view) = src else {
            return None;
        };
        let (len, k) = view.dim();
        let (col, step) = (view.strides()[0], view.strides()[1]);
        let qualifies =
            step == 1 && col > 0 && col % 64 != 0 && rows.len() >= W && rows.end <= len && k > 0;
        qualifies.then(|| InPlaceB {
            ptr: view.as_ptr().wrapping_offset(rows.start as isize * col),
            col: col as usize,
        })
    }

    /// Panel `q` (rows `q * W..`), steps `pc..pc + kc`.
    pub(crate) fn panel<const W: usize>(&self, q: usize, pc: usize, kc: usize) -> BPanel {
        BPanel {
            ptr: self.ptr.wrapping_add(q * W * self.col + pc),
            kc,
            step: 1,
            col: self.col,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Packs rows `rows` and steps `ks` of `src` with `kernel` into an exactly sized buffer
    /// followed by sentinels, checks that no sentinel was written, and returns the panels.
    fn packed<const W: usize>(
        kernel: Kernel,
        src: Source<'_>,
        rows: Range<usize>,
        ks: Range<usize>,
    ) -> Vec<u32> {
        let len = rows.len().div_ceil(W) * W * ks.len();
        let mut buf = vec![f32::NAN; len + 64];
        buf[len..].fill(-7.0);
        pack_panels::<W>(kernel, src, rows, ks, &mut buf[..len]);
        assert!(
            buf[len..].iter().all(|&x| x == -7.0),
            "{kernel}: wrote past the panels"
        );
        buf[..len].iter().map(|x| x.to_bits()).collect()
    }

    /// Every kernel's packer (the AVX-512 and AVX2 register transposes where this CPU runs
    /// them) writes the portable packer's panels, bit for bit, for f32 and u8 operands that are
    /// contiguous along `k`: panel widths of both kernels' tiles (and ones that are not a
    /// multiple of any vector), full and partial panels, reductions shorter than a vector,
    /// exactly a vector, and with tails, and a block starting mid-row; nothing is written past
    /// the panels.
    #[test]
    fn every_packer_writes_the_portable_panels() {
        let (len, k) = (70, 53);
        let mut rng = crate::SplitMix64::new(5);
        let f = Array2::from_shape_fn((len, k), |_| rng.uniform_symmetric(1.0));
        let pixels = Array2::from_shape_fn((len, k), |(i, p)| ((i * 31 + p * 7) % 256) as u8);
        let sources = [
            Source::F32(f.view()),
            Source::U8 {
                view: pixels.view(),
                scale: 1.0 / 255.0,
            },
        ];
        let cases = [
            (0..70, 0..53),
            (3..9, 0..8),
            (0..6, 1..17),
            (5..6, 0..16),
            (40..70, 13..53),
            (0..32, 0..7),
            (17..70, 0..24),
        ];
        for kernel in Kernel::supported() {
            for src in sources {
                for (rows, ks) in cases.clone() {
                    let what = format!("{kernel} rows {rows:?} steps {ks:?}");
                    let (r, s) = (rows.clone(), ks.clone());
                    let p = Kernel::Portable;
                    assert_eq!(
                        packed::<6>(kernel, src, r.clone(), s.clone()),
                        packed::<6>(p, src, r.clone(), s.clone()),
                        "W 6, {what}"
                    );
                    assert_eq!(
                        packed::<10>(kernel, src, r.clone(), s.clone()),
                        packed::<10>(p, src, r.clone(), s.clone()),
                        "W 10, {what}"
                    );
                    assert_eq!(
                        packed::<12>(kernel, src, r.clone(), s.clone()),
                        packed::<12>(p, src, r.clone(), s.clone()),
                        "W 12, {what}"
                    );
                    assert_eq!(
                        packed::<16>(kernel, src, r.clone(), s.clone()),
                        packed::<16>(p, src, r.clone(), s.clone()),
                        "W 16, {what}"
                    );
                    assert_eq!(
                        packed::<32>(kernel, src, r.clone(), s.clone()),
                        packed::<32>(p, src, r, s),
                        "W 32, {what}"
                    );
                }
            }
        }
    }
}
