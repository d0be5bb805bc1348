//! General matrix multiply: `C <- alpha * op(A) * op(B) + beta * C` on f32.
//!
//! PUBLIC CONTRACT (other modules build on it; keep the signatures):
//! - operands are ndarray views with any strides, so `op(A) = A^T` is just `a.t()`;
//! - `gemm_u8` reads the left operand as u8 pixels and multiplies them by `alpha`
//!   (pass `1.0 / 255.0` to get `ToTensor()`'s scaling), so the input is never materialised as f32;
//! - the epilogue is applied to the finished `C` tile: `C[i, j] += bias[j]`, then optionally ReLU;
//! - results are bit-identical for any number of rayon threads.
//!
//! This first version is the naive oracle behind the final interface; the blocked BLIS-style
//! implementation replaces the bodies.

use ndarray::{ArrayView2, ArrayViewMut2};

/// What to do to each element of `C` after `alpha * A * B + beta * C` is complete.
#[derive(Clone, Copy, Debug)]
pub enum Epilogue<'a> {
    /// Leave `C` as computed.
    None,
    /// `C[i, j] += bias[j]` (a linear layer's bias, one value per output column).
    AddBias(&'a [f32]),
    /// `C[i, j] = max(C[i, j] + bias[j], 0)` (a linear layer followed by ReLU).
    AddBiasRelu(&'a [f32]),
}

/// `C <- alpha * A * B + beta * C`. Panics if the shapes do not agree (a programming error).
pub fn gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) {
    gemm_epilogue(alpha, a, b, beta, c, Epilogue::None);
}

/// `C <- epilogue(alpha * A * B + beta * C)`.
pub fn gemm_epilogue(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    naive(|i, p| a[[i, p]], a.dim(), alpha, b, beta, c, epilogue);
}

/// `C <- epilogue(alpha * A * B + beta * C)` where `A` holds u8 pixels, read as f32 on the fly.
pub fn gemm_u8(
    alpha: f32,
    a: ArrayView2<'_, u8>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    naive(
        |i, p| f32::from(a[[i, p]]),
        a.dim(),
        alpha,
        b,
        beta,
        c,
        epilogue,
    );
}

/// The oracle: a plain triple loop, summing over k in order.
pub fn naive_gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) {
    naive(|i, p| a[[i, p]], a.dim(), alpha, b, beta, c, Epilogue::None);
}

fn naive(
    a_at: impl Fn(usize, usize) -> f32,
    (m, k): (usize, usize),
    alpha: f32,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    let (kb, n) = b.dim();
    assert_eq!(k, kb, "gemm: A is {m}x{k} but B is {kb}x{n}");
    assert_eq!(c.dim(), (m, n), "gemm: C must be {m}x{n}");
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for p in 0..k {
                acc += a_at(i, p) * b[[p, j]];
            }
            let old = if beta == 0.0 { 0.0 } else { beta * c[[i, j]] };
            let mut v = alpha * acc + old;
            match epilogue {
                Epilogue::None => {}
                Epilogue::AddBias(bias) => v += bias[j],
                Epilogue::AddBiasRelu(bias) => v = (v + bias[j]).max(0.0),
            }
            c[[i, j]] = v;
        }
    }
}
