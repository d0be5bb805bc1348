//! The training step in one page: forward and backward of the whole batch through the layer
//! functions, in order, each buffer allocated where it is first needed. Read this first; the
//! fast step ([`TrainStep`](crate::TrainStep)) computes the same bits with a tape, reused
//! buffers and two cores, and `tests/plain_step_same_bits.rs` proves it.
//!
//! With `x [n, I]` the pixels / 255, `y` the labels, `N` the batch size (`n = N` below, except
//! for the one thing the fast step imposes on the arithmetic, next paragraph):
//! ```text
//! a  = x W1^T + b1,  h = max(a, 0)   [n, H]    (one GEMM, bias and ReLU in its epilogue)
//! z  = h W2^T + b2                   [n, C]
//! L  = (1/N) sum_i CE(z_i, y_i)                 (this part's share of the batch mean)
//! dz = (softmax(z) - onehot(y)) / N  [n, C]
//! dW2 = dz^T h  [C, H],  db2 = colsum(dz)  [C],  dh = dz W2  [n, H]
//! da = dh ⊙ [h > 0]                  [n, H]
//! dW1 = da^T x  [H, I],  db1 = colsum(da)  [H]  (dx is not needed: x is data)
//! ```
//! The sums over the batch (the loss, `dW = dy^T x`, `db = colsum(dy)`) are taken in two
//! halves, samples `0..ceil(N/2)` and the rest, and then added, first half first: the fast step
//! runs the halves on two cores, and a float sum depends on where it is cut. So this step runs
//! the lines above for each half ([`halves`]) and adds.
//!
//! Then the update, with any optimizer, e.g. `optim::Sgd::step(&mut mlp.params_mut(), &grads)`
//! (`examples/train_step.rs` does the whole loop body: batch, `plain_step`, update).
//!
//! It allocates every buffer on each call: it is for reading and for tests, not for training.

use ndarray::{Array2, ArrayView2};

use crate::cross_entropy::{
    count_correct, cross_entropy_share_backward, cross_entropy_share_forward,
};
use crate::linear::{
    linear_backward_bias, linear_backward_input, linear_backward_weight, linear_forward,
    linear_relu_forward, Operand, PIXEL_SCALE,
};
use crate::mlp::Mlp;
use crate::relu::relu_backward;
use crate::step::{batch_size, halves, StepOutput};

/// Loss, correct count and the four gradients (in [`Mlp::PARAM_NAMES`] order, row-major like
/// the parameters) of one batch: `images` are `N * inputs` u8 pixels, `labels` the `N` classes.
/// Panics if the sizes disagree or a label is `>= classes`.
///
/// ```
/// use autograd_lite::plain_step::plain_step;
/// use autograd_lite::{Mlp, TrainStep};
///
/// let mlp = Mlp::new(784, 16, 10, 0);
/// let images: Vec<u8> = (0..3 * 784).map(|i| (i * 7 % 256) as u8).collect();
/// let labels = [3u8, 0, 9];
/// let (out, grads) = plain_step(&mlp, &images, &labels);
/// assert!((out.loss - 10f32.ln()).abs() < 0.2, "a fresh net is guessing: {}", out.loss);
/// assert_eq!(grads[0].len(), 16 * 784); // dW1 has W1's shape
///
/// // The fast step computes the same bits.
/// let mut fast = TrainStep::new(&mlp, 3);
/// assert_eq!(fast.forward_backward(&mlp, &images, &labels), out);
/// assert!(fast.grads().iter().zip(&grads).all(|(f, p)| *f == p.as_slice()));
/// ```
pub fn plain_step(mlp: &Mlp, images: &[u8], labels: &[u8]) -> (StepOutput, [Vec<f32>; 4]) {
    let batch = batch_size(mlp, images, labels);
    let [(images_a, labels_a), (images_b, labels_b)] = halves(mlp.inputs(), images, labels);
    let (a, mut grads) = forward_backward(mlp, images_a, labels_a, batch);
    if labels_b.is_empty() {
        return (a, grads);
    }
    let (b, grads_b) = forward_backward(mlp, images_b, labels_b, batch);
    for (sum, g) in grads.iter_mut().zip(&grads_b) {
        sum.iter_mut().zip(g).for_each(|(s, &g)| *s += g);
    }
    let out = StepOutput {
        loss: a.loss + b.loss,
        correct: a.correct + b.correct,
    };
    (out, grads)
}

/// The lines of the module comment for `n` samples of a batch of `batch`: their share of the
/// loss, their correct count and their gradients.
fn forward_backward(
    mlp: &Mlp,
    images: &[u8],
    labels: &[u8],
    batch: usize,
) -> (StepOutput, [Vec<f32>; 4]) {
    let (n, inputs, hidden, classes) = (labels.len(), mlp.inputs(), mlp.hidden(), mlp.classes());
    let pixels = ArrayView2::from_shape((n, inputs), images).expect("images must be N x inputs");
    let x = Operand::U8 {
        pixels,
        scale: PIXEL_SCALE,
    }; //                                                          x   [n, I]  u8 / 255
    let (w1, w2) = (mlp.fc1.weight.view(), mlp.fc2.weight.view()); // W1 [H, I], W2 [C, H]
    let b1 = mlp.fc1.bias.as_slice().expect("row-major bias"); //     b1 [H]
    let b2 = mlp.fc2.bias.as_slice().expect("row-major bias"); //     b2 [C]

    // Forward.
    let mut h = Array2::<f32>::zeros((n, hidden));
    linear_relu_forward(x, w1, b1, h.view_mut()); //                 h = max(x W1^T + b1, 0)  [n, H]
    let mut z = Array2::<f32>::zeros((n, classes));
    linear_forward(Operand::F32(h.view()), w2, b2, z.view_mut()); // z = h W2^T + b2  [n, C]
    let mut p = Array2::<f32>::zeros((n, classes));
    let loss = cross_entropy_share_forward(z.view(), labels, batch, p.view_mut()); // p = softmax(z)
    let correct = count_correct(z.view(), labels);

    // Backward (there is nothing to zero: every gradient is written, not added to).
    let mut dz = Array2::<f32>::zeros((n, classes));
    cross_entropy_share_backward(p.view(), labels, batch, 1.0, 0.0, dz.view_mut()); // (p - onehot(y)) / N
    let mut dw2 = Array2::<f32>::zeros((classes, hidden));
    linear_backward_weight(Operand::F32(h.view()), dz.view(), 0.0, dw2.view_mut()); // dz^T h  [C, H]
    let mut db2 = vec![0.0f32; classes];
    linear_backward_bias(dz.view(), 0.0, &mut db2); //               colsum(dz)  [C]
    let mut dh = Array2::<f32>::zeros((n, hidden));
    linear_backward_input(dz.view(), w2, 0.0, dh.view_mut()); //     dz W2  [n, H]
    let mut da = Array2::<f32>::zeros((n, hidden));
    relu_backward(h.view(), dh.view(), 0.0, da.view_mut()); //       dh ⊙ [h > 0]  [n, H]
    let mut dw1 = Array2::<f32>::zeros((hidden, inputs));
    linear_backward_weight(x, da.view(), 0.0, dw1.view_mut()); //    da^T x  [H, I]
    let mut db1 = vec![0.0f32; hidden];
    linear_backward_bias(da.view(), 0.0, &mut db1); //               colsum(da)  [H]

    let grads = [
        dw1.into_raw_vec_and_offset().0,
        db1,
        dw2.into_raw_vec_and_offset().0,
        db2,
    ];
    (StepOutput { loss, correct }, grads)
}
