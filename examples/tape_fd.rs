//! Lesson: the reverse-mode tape on a two-op expression, its gradients checked by finite
//! differences.
//!
//! ```sh
//! cargo run --example tape_fd
//! ```
//!
//! The expression is `L = CE(x W^T + b, y)`: op 1 is a linear layer, op 2 the mean softmax
//! cross-entropy. The tape records both ops on the way forward and `backward` walks them in
//! reverse. Every gradient entry is then compared with the central difference
//! `(L(θ + ε) - L(θ - ε)) / 2ε`, which needs no calculus at all.

use std::error::Error;

use autograd_lite::gemm::ndarray::{array, Array2, ArrayView2};
use autograd_lite::Tape;

/// The perturbation. L is computed in f32, so ε must be large enough that L(θ ± ε) differ by
/// many ulps, and small enough that the ε² error term stays small.
const EPS: f32 = 1e-2;

fn main() -> Result<(), Box<dyn Error>> {
    let w = array![[0.5f32, -1.0, 0.3], [2.0, 0.0, -0.7]]; // W [out = 2, in = 3]
    let b = array![[0.1f32, -0.2]]; // b, a [1, out] row
    let x = array![[1.0f32, 2.0, -1.0], [0.5, -0.3, 0.8]]; // x [N = 2, in = 3]
    let labels = [1u8, 0];

    // Forward and backward on the tape. x is given as a parameter too, so that the tape also
    // computes dL/dx = dz W (the input gradient a hidden layer would pass down).
    let params = [w.view(), b.view(), x.view()];
    let mut tape = Tape::new();
    let mut s = tape.session(&params, &[]);
    let (wv, bv, xv) = (s.param(0), s.param(1), s.param(2));
    let z = s.linear(xv, wv, bv); // op 1: z = x W^T + b   [2, 2]
    let loss = s.cross_entropy(z, &labels); // op 2: L = mean_i CE(z_i, y_i)   [1, 1]
    println!("z = {}\nL = {}\n", s.value(z), s.value(loss)[[0, 0]]);
    s.backward(loss);
    // Backward, by hand: dz = (softmax(z) - onehot(y)) / N; dW = dz^T x; db = sum_i dz[i, :];
    // dx = dz W.
    let analytic = [
        ("W", s.grad(wv).ok_or("no dW")?.to_owned()),
        ("b", s.grad(bv).ok_or("no db")?.to_owned()),
        ("x", s.grad(xv).ok_or("no dx")?.to_owned()),
    ];

    let mut worst = 0.0f32;
    println!(
        "{:<8} {:>12} {:>12} {:>10}",
        "entry", "tape", "finite diff", "abs error"
    );
    for (k, (name, grad)) in analytic.iter().enumerate() {
        for ((i, j), &g) in grad.indexed_iter() {
            let mut plus = [w.clone(), b.clone(), x.clone()];
            let mut minus = plus.clone();
            plus[k][[i, j]] += EPS;
            minus[k][[i, j]] -= EPS;
            let numeric = (loss_of(&plus, &labels) - loss_of(&minus, &labels)) / (2.0 * EPS);
            let err = (g - numeric).abs();
            worst = worst.max(err);
            println!(
                "{:<8} {g:>12.6} {numeric:>12.6} {err:>10.2e}",
                format!("d{name}[{i},{j}]")
            );
        }
    }
    println!("\nlargest difference: {worst:.2e}");
    // With ε = 1e-2 in f32 the two agree to a few 1e-6; a wrong backward is off by O(0.01).
    if worst > 1e-4 {
        return Err(
            format!("the tape's gradients disagree with finite differences by {worst}").into(),
        );
    }
    println!("the tape's gradients agree with finite differences");
    Ok(())
}

/// L = CE(x W^T + b, y) for the given `[W, b, x]`, forward only, on a fresh tape.
fn loss_of(p: &[Array2<f32>; 3], labels: &[u8]) -> f32 {
    let params: [ArrayView2<'_, f32>; 3] = [p[0].view(), p[1].view(), p[2].view()];
    let mut tape = Tape::new();
    let mut s = tape.session(&params, &[]);
    let (w, b, x) = (s.param(0), s.param(1), s.param(2));
    let z = s.linear(x, w, b);
    let loss = s.cross_entropy(z, labels);
    s.value(loss)[[0, 0]]
}
