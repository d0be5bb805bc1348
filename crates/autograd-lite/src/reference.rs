//! The MLP's backward derived by hand, step by step, without the tape: the second reference the
//! tape is tested against (it calls the same layer functions, and cuts the batch into the same
//! two halves as [`TrainStep`](crate::TrainStep), so the two agree bit for bit).
//!
//! With `x [n, I]` the pixels / 255 of one half of a batch of `N`, `y` its labels:
//! ```text
//! h  = max(x W1^T + b1, 0)         [n, H]
//! z  = h W2^T + b2                 [n, C]
//! L  = (1/N) sum_i CE(z_i, y_i)    (this half's share of the batch mean)
//! dz = (softmax(z) - onehot(y)) / N
//! dW2 = dz^T h,  db2 = colsum(dz),  dh = dz W2
//! da = dh ⊙ [h > 0]
//! dW1 = da^T x,  db1 = colsum(da)  (dx is not needed)
//! ```
//! The batch's loss and gradients are the first half's plus the second half's.
//! It allocates every buffer on each call: it is for tests, not for training.

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

/// Loss, accuracy and the four gradients (in [`Mlp::PARAM_NAMES`] order) of one batch, by the
/// hand-derived chain rule above, half by half. Panics if the sizes disagree or a label is
/// `>= classes`.
pub fn reference_forward_backward(
    mlp: &Mlp,
    images: &[u8],
    labels: &[u8],
) -> (StepOutput, [Vec<f32>; 4]) {
    let batch = batch_size(mlp, images, labels);
    let [(images_a, labels_a), (images_b, labels_b)] = halves(mlp.inputs(), images, labels);
    let (a, mut grads) = reference_half(mlp, images_a, labels_a, batch);
    if labels_b.is_empty() {
        return (a, grads);
    }
    let (b, grads_b) = reference_half(mlp, images_b, labels_b, batch);
    for (sum, g) in grads.iter_mut().zip(&grads_b) {
        sum.iter_mut().zip(g).for_each(|(s, &g)| *s += g);
    }
    let out = StepOutput {
        loss: a.loss + b.loss,
        correct: a.correct + b.correct,
    };
    (out, grads)
}

/// One half of a batch of `batch` samples: its share of the loss, its correct count and its
/// gradients.
fn reference_half(
    mlp: &Mlp,
    images: &[u8],
    labels: &[u8],
    batch: usize,
) -> (StepOutput, [Vec<f32>; 4]) {
    let (n, hidden, classes) = (labels.len(), mlp.hidden(), mlp.classes());
    let pixels =
        ArrayView2::from_shape((n, mlp.inputs()), images).expect("images must be N x inputs");
    let x = Operand::U8 {
        pixels,
        scale: PIXEL_SCALE,
    };
    let (w1, w2) = (mlp.fc1.weight.view(), mlp.fc2.weight.view());
    let b1 = mlp.fc1.bias.as_slice().expect("row-major bias");
    let b2 = mlp.fc2.bias.as_slice().expect("row-major bias");

    // Forward.
    let mut h = Array2::<f32>::zeros((n, hidden));
    linear_relu_forward(x, w1, b1, h.view_mut());
    let mut z = Array2::<f32>::zeros((n, classes));
    linear_forward(Operand::F32(h.view()), w2, b2, z.view_mut());
    let mut p = Array2::<f32>::zeros((n, classes));
    let loss = cross_entropy_share_forward(z.view(), labels, batch, p.view_mut());
    let correct = count_correct(z.view(), labels);

    // Backward.
    let mut dz = Array2::<f32>::zeros((n, classes));
    cross_entropy_share_backward(p.view(), labels, batch, 1.0, 0.0, dz.view_mut());
    let mut dw2 = Array2::<f32>::zeros((classes, hidden));
    linear_backward_weight(Operand::F32(h.view()), dz.view(), 0.0, dw2.view_mut());
    let mut db2 = vec![0.0f32; classes];
    linear_backward_bias(dz.view(), 0.0, &mut db2);
    let mut dh = Array2::<f32>::zeros((n, hidden));
    linear_backward_input(dz.view(), w2, 0.0, dh.view_mut());
    let mut da = Array2::<f32>::zeros((n, hidden));
    relu_backward(h.view(), dh.view(), 0.0, da.view_mut());
    let mut dw1 = Array2::<f32>::zeros((hidden, mlp.inputs()));
    linear_backward_weight(x, da.view(), 0.0, dw1.view_mut());
    let mut db1 = vec![0.0f32; hidden];
    linear_backward_bias(da.view(), 0.0, &mut db1);

    let grads = [
        dw1.into_raw_vec_and_offset().0,
        db1,
        dw2.into_raw_vec_and_offset().0,
        db2,
    ];
    (StepOutput { loss, correct }, grads)
}
