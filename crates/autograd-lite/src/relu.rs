//! ReLU, `y = max(x, 0)`, forward and backward side by side.
//!
//! PyTorch's backward (`threshold_backward(grad, result, 0)`) passes the gradient where the output
//! is positive and gives 0 elsewhere, including at exactly `x = 0`; so does ours. The backward
//! reads the *output* `y` (`y > 0` exactly when `x > 0`), which is what a fused
//! linear+ReLU keeps, so the pre-activation never needs to be stored.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

/// Forward: `y[N, F] = max(x[N, F], 0)`, written `x > 0 ? x : 0` so that `-0` gives `+0` on
/// every CPU, as the GEMM's fused ReLU does (`f32::max` leaves the sign of a zero open).
pub fn relu_forward(x: ArrayView2<'_, f32>, y: ArrayViewMut2<'_, f32>) {
    Zip::from(y)
        .and(x)
        .for_each(|y, &x| *y = if x > 0.0 { x } else { 0.0 });
}

/// Backward: `dx[N, F] = beta dx + dy ⊙ [y > 0]`, where `y` is the forward's output.
/// `beta = 0` overwrites `dx` (ignoring its old contents), `beta = 1` accumulates.
pub fn relu_backward(
    y: ArrayView2<'_, f32>,
    dy: ArrayView2<'_, f32>,
    beta: f32,
    dx: ArrayViewMut2<'_, f32>,
) {
    let local = |y: f32, g: f32| if y > 0.0 { g } else { 0.0 };
    if beta == 0.0 {
        Zip::from(dx)
            .and(y)
            .and(dy)
            .for_each(|d, &y, &g| *d = local(y, g));
    } else {
        Zip::from(dx)
            .and(y)
            .and(dy)
            .for_each(|d, &y, &g| *d = beta * *d + local(y, g));
    }
}
