//! The linear layer `y = x W^T + b`, PyTorch's `nn.Linear` with its weight layout `[out, in]`.
//!
//! Forward and backward are plain functions over ndarray views, side by side. Every matrix
//! product goes through the GEMM; the bias (and for a hidden layer the ReLU) is applied by the
//! GEMM's epilogue while the output tile is still hot, and a u8 input is scaled on the fly by
//! `gemm_u8`, so pixels are never materialised as f32.
//!
//! Backward functions take the GEMM's `beta`: `0.0` overwrites the destination (whatever it held,
//! even NaN), `1.0` adds to it (gradient accumulation when a value is used twice).

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::gemm::{gemm, gemm_epilogue, gemm_u8, Epilogue};

/// `ToTensor()`'s pixel scaling: a u8 pixel `p` enters the network as `p / 255`.
pub const PIXEL_SCALE: f32 = 1.0 / 255.0;

/// A fully connected layer with PyTorch's parameter layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// `W`, shape `[out, in]` (row-major, PyTorch's `weight`).
    pub weight: Array2<f32>,
    /// `b`, shape `[out]` (PyTorch's `bias`).
    pub bias: Array1<f32>,
}

impl Linear {
    /// Number of inputs (`in`, the weight's column count).
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of outputs (`out`, the weight's row count).
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }
}

/// The left operand of a layer: f32 activations, or u8 pixels read as `scale * p`.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// f32 values, shape `[N, in]`.
    F32(ArrayView2<'a, f32>),
    /// u8 values, shape `[N, in]`, meaning `scale * pixels` (use [`PIXEL_SCALE`] for `/255`).
    U8 {
        /// The raw bytes.
        pixels: ArrayView2<'a, u8>,
        /// The factor applied to every byte.
        scale: f32,
    },
}

impl Operand<'_> {
    /// The same operand, borrowed for a shorter lifetime.
    pub fn reborrow(&self) -> Operand<'_> {
        match self {
            Operand::F32(x) => Operand::F32(x.view()),
            Operand::U8 { pixels, scale } => Operand::U8 {
                pixels: pixels.view(),
                scale: *scale,
            },
        }
    }

    /// `(rows, cols)` of the operand.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Operand::F32(x) => x.dim(),
            Operand::U8 { pixels, .. } => pixels.dim(),
        }
    }
}

/// `y = epilogue(x W^T)`, the product shared by the forward functions.
fn x_times_wt(
    x: Operand<'_>,
    w: ArrayView2<'_, f32>,
    y: ArrayViewMut2<'_, f32>,
    epi: Epilogue<'_>,
) {
    match x {
        Operand::F32(x) => gemm_epilogue(1.0, x, w.t(), 0.0, y, epi),
        Operand::U8 { pixels, scale } => gemm_u8(scale, pixels, w.t(), 0.0, y, epi),
    }
}

/// Forward, no bias: `y[N, out] = x[N, in] W[out, in]^T`.
pub fn matmul_t_forward(x: Operand<'_>, w: ArrayView2<'_, f32>, y: ArrayViewMut2<'_, f32>) {
    x_times_wt(x, w, y, Epilogue::None);
}

/// Forward: `y[N, out] = x[N, in] W[out, in]^T + b[out]` (bias added in the GEMM epilogue).
pub fn linear_forward(
    x: Operand<'_>,
    w: ArrayView2<'_, f32>,
    b: &[f32],
    y: ArrayViewMut2<'_, f32>,
) {
    x_times_wt(x, w, y, Epilogue::AddBias(b));
}

/// Forward of linear then ReLU: `h[N, out] = max(x W^T + b, 0)` (both in the GEMM epilogue).
/// Its backward is [`relu_backward`](crate::relu::relu_backward) on `h`, then the linear backward.
pub fn linear_relu_forward(
    x: Operand<'_>,
    w: ArrayView2<'_, f32>,
    b: &[f32],
    h: ArrayViewMut2<'_, f32>,
) {
    x_times_wt(x, w, h, Epilogue::AddBiasRelu(b));
}

/// Backward, weight: `dW[out, in] = beta dW + dy[N, out]^T x[N, in]`.
///
/// For u8 pixels the GEMM's u8 operand must be the left one, so this computes the transpose
/// `dW^T[in, out] = scale * x^T dy` into the transposed view of `dW` (same numbers, same memory).
pub fn linear_backward_weight(
    x: Operand<'_>,
    dy: ArrayView2<'_, f32>,
    beta: f32,
    dw: ArrayViewMut2<'_, f32>,
) {
    match x {
        Operand::F32(x) => gemm(1.0, dy.t(), x, beta, dw),
        Operand::U8 { pixels, scale } => gemm_u8(
            scale,
            pixels.t(),
            dy,
            beta,
            dw.reversed_axes(),
            Epilogue::None,
        ),
    }
}

/// Backward, bias: `db[j] = beta db[j] + sum_i dy[i, j]`.
///
/// The column sums are taken in f32 in row order `i = 0, 1, ...` (whole rows at a time, which
/// vectorises); with `beta != 0` they are complete before they are added, so accumulating the
/// same gradient twice gives exactly twice the value.
pub fn linear_backward_bias(dy: ArrayView2<'_, f32>, beta: f32, db: &mut [f32]) {
    assert_eq!(
        dy.ncols(),
        db.len(),
        "bias gradient: dy has {} columns",
        dy.ncols()
    );
    if beta == 0.0 {
        db.fill(0.0);
        let mut sums = ArrayViewMut1::from(db);
        for row in dy.rows() {
            sums += &row;
        }
    } else {
        for (d, column) in db.iter_mut().zip(dy.columns()) {
            let sum = column.iter().fold(0.0f32, |s, &g| s + g);
            *d = beta * *d + sum;
        }
    }
}

/// Backward, input: `dx[N, in] = beta dx + dy[N, out] W[out, in]`.
/// (Not needed for a first layer, whose input is data.)
pub fn linear_backward_input(
    dy: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    beta: f32,
    dx: ArrayViewMut2<'_, f32>,
) {
    gemm(1.0, dy, w, beta, dx);
}
