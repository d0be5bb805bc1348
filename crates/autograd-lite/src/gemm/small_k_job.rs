//! The shape of `small_k`'s work, shared by the dispatcher and the vector paths: the block
//! sizes and one thread's share of the product (`Job`).

use ndarray::ArrayView2;

use super::epilogue::Activation;

/// Longest reduction this path takes (the MLP's is 10). The longer the reduction, the more
/// the packed kernel's arithmetic dominates its packing and storing, and the less this pays.
pub(crate) const SMALL_K: usize = 16;
/// Rows of `C` summed together: six rows of one or two vectors are 6 or 12 independent
/// accumulator chains, enough to hide the 4-cycle latency of the multiply-add. Of 4 to 10
/// rows, 6 measured fastest on `grad h` (256 x 10 x 100) alternated with matrixmultiply:
/// 77-79 GFLOP/s against 74 for 8 rows, 71 for 7 and 60 for 10.
pub(crate) const ROWS: usize = 6;
/// Rows of the block after the full ones, when that many are left.
pub(crate) const TAIL_ROWS: usize = 4;

/// One thread's share of the product: its rows of `A` (the matching rows of `C` travel
/// separately), all of `B`, and the store's parameters.
#[derive(Clone, Copy)]
pub(crate) struct Job<'a> {
    pub(crate) alpha: f32,
    pub(crate) a: ArrayView2<'a, f32>,
    /// The first `k` (`a.ncols()`) entries are the rows of `B`.
    pub(crate) b_rows: [&'a [f32]; SMALL_K],
    pub(crate) beta: f32,
    /// The bias per column of `C`, if any.
    pub(crate) bias: Option<&'a [f32]>,
    pub(crate) activation: Activation,
}
