//! Writing a finished microkernel tile back into `C`, with the fused epilogue.
//!
//! For reduction block `pc = 0` the tile becomes `alpha * T + beta * C` (with `beta = 0` the old
//! `C` is not read, so NaN there is ignored as BLAS does); for later blocks `C + alpha * T`.
//! After the last block the epilogue adds the bias and applies ReLU, while the tile is still in
//! L1. Every element goes through the same operations in the same order whatever the thread
//! count or the block boundaries of M and N, which keeps results bit-identical.

use ndarray::{ArrayViewMut1, ArrayViewMut2};

/// How a tile combines with what `C` already holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    /// The first reduction block: `C = alpha * T + beta * C`.
    First {
        /// Scale of the old `C` (0 means overwrite without reading).
        beta: f32,
    },
    /// A later reduction block: `C = C + alpha * T`.
    Accumulate,
}

/// A bias in the kernel's orientation (`C'` is `C` or `C^T`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Bias<'a> {
    /// No bias.
    None,
    /// `C'[i, j] += bias[j]` (the orientation where `C' = C`).
    PerColumn(&'a [f32]),
    /// `C'[i, j] += bias[i]` (the orientation where `C' = C^T`).
    PerRow(&'a [f32]),
}

/// The elementwise function applied after the bias.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Activation {
    /// Leave the value.
    Identity,
    /// `max(x, 0)`.
    Relu,
}

/// What happens to a tile after its last reduction block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Finish<'a> {
    /// The bias to add.
    pub(crate) bias: Bias<'a>,
    /// Then this function.
    pub(crate) activation: Activation,
}

/// Where a tile sits in `C'` and how to write it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TileWrite<'a> {
    /// First row of the tile in `C'` (indexes a per-row bias).
    pub(crate) i0: usize,
    /// First column of the tile in `C'` (indexes a per-column bias).
    pub(crate) j0: usize,
    /// Multiplies the tile.
    pub(crate) alpha: f32,
    /// Overwrite or accumulate.
    pub(crate) step: Step,
    /// `Some` on the last reduction block.
    pub(crate) finish: Option<Finish<'a>>,
}

/// Writes the top-left `c.dim()` corner of `tile` (column `j` of the tile is `tile[j]`) into
/// `c`, the matching block of `C'`.
pub(crate) fn store_tile<const MR: usize, const NR: usize>(
    tile: &[[f32; MR]; NR],
    mut c: ArrayViewMut2<'_, f32>,
    w: TileWrite<'_>,
) {
    let (mr, nr) = c.dim();
    for (j, t) in tile.iter().enumerate().take(nr) {
        let t = &t[..mr];
        let col = c.column_mut(j);
        store_column::<MR>(col, t, j, mr, w);
    }
}

fn store_column<const MR: usize>(
    mut col: ArrayViewMut1<'_, f32>,
    t: &[f32],
    j: usize,
    mr: usize,
    w: TileWrite<'_>,
) {
    if let Some(dst) = col.as_slice_mut() {
        write_run(dst, t, j, w);
    } else {
        // Strided column of `C'`: gather, update as a contiguous run, scatter back.
        let mut run = [0.0f32; MR];
        let run = &mut run[..mr];
        if !matches!(w.step, Step::First { beta } if beta == 0.0) {
            for (r, &x) in run.iter_mut().zip(col.iter()) {
                *r = x;
            }
        }
        write_run(run, t, j, w);
        for (x, &r) in col.iter_mut().zip(run.iter()) {
            *x = r;
        }
    }
}

/// The element operations on one contiguous run of a column, each a separate vectorisable loop.
fn write_run(dst: &mut [f32], t: &[f32], j: usize, w: TileWrite<'_>) {
    let alpha = w.alpha;
    match w.step {
        Step::First { beta: 0.0 } => {
            for (d, &x) in dst.iter_mut().zip(t) {
                *d = alpha * x;
            }
        }
        Step::First { beta } => {
            for (d, &x) in dst.iter_mut().zip(t) {
                *d = alpha * x + beta * *d;
            }
        }
        Step::Accumulate => {
            for (d, &x) in dst.iter_mut().zip(t) {
                *d += alpha * x;
            }
        }
    }
    let Some(finish) = w.finish else { return };
    match finish.bias {
        Bias::None => {}
        Bias::PerColumn(bias) => {
            let b = bias[w.j0 + j];
            for d in dst.iter_mut() {
                *d += b;
            }
        }
        Bias::PerRow(bias) => {
            for (d, &b) in dst.iter_mut().zip(&bias[w.i0..]) {
                *d += b;
            }
        }
    }
    if let Activation::Relu = finish.activation {
        for d in dst.iter_mut() {
            *d = d.max(0.0);
        }
    }
}
