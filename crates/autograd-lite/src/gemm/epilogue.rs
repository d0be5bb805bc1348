//! What happens to a finished tile (the epilogue's types, at the bottom of the import tree):
//! how it combines with the old `C` (`Step`), the bias and activation after the last
//! reduction block (`Finish`), where the tile sits (`TileWrite`), and the same resolved for one
//! vector of the vector stores (`RowWrite`). `store.rs` and the vector stores import these.

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

impl TileWrite<'_> {
    /// Whether the write is `C' = alpha * T` and nothing else: a first (or only) reduction
    /// block with `beta = 0`, then no bias and no activation (a product into a fresh `C`, as
    /// every gradient is).
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self.step, Step::First { beta } if beta == 0.0)
            && self.finish.is_none_or(|f| {
                matches!((f.bias, f.activation), (Bias::None, Activation::Identity))
            })
    }
}

/// The bias of one row of a vector store: one value per lane, or one for the whole row.
#[derive(Clone, Copy)]
pub(crate) enum RowBias<'a> {
    /// No bias.
    None,
    /// `bias[j]` for tile column `j` (exactly `nr` values).
    PerColumn(&'a [f32]),
    /// `bias[i]` for tile row `i` (exactly `mr` values).
    PerRow(&'a [f32]),
}

/// How to combine and finish one vector of a tile in the vector stores (the fields of
/// [`TileWrite`], resolved for this tile).
#[derive(Clone, Copy)]
pub(crate) struct RowWrite<'a> {
    pub(crate) alpha: f32,
    pub(crate) step: Step,
    /// `None` before the last reduction block.
    pub(crate) finish: Option<(RowBias<'a>, Activation)>,
}
