//! One training step of the MLP through the tape, with a workspace that is reused from batch to
//! batch, and the evaluation pass over a whole test set.

use ndarray::{Array2, ArrayView2};

use crate::cross_entropy::{argmax, count_correct, cross_entropy_sum};
use crate::linear::{linear_forward, linear_relu_forward, Operand, PIXEL_SCALE};
use crate::mlp::Mlp;
use crate::tape::Tape;

/// What one forward/backward reports about its batch (before any update).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutput {
    /// Mean cross-entropy of the batch (PyTorch's `CrossEntropyLoss()`).
    pub loss: f32,
    /// Samples whose arg-max logit is their label.
    pub correct: usize,
}

/// The reusable workspace of a training step: the tape with every activation, gradient and
/// scratch buffer. Built once (sized by a warm-up pass of `max_batch` samples), it allocates
/// nothing in later steps of at most `max_batch` samples.
#[derive(Debug)]
pub struct TrainStep {
    tape: Tape,
    max_batch: usize,
}

/// Checks a batch against the model; panics (a caller's bug) on a size mismatch.
fn batch_size(mlp: &Mlp, images: &[u8], labels: &[u8]) -> usize {
    let n = labels.len();
    assert_eq!(
        images.len(),
        n * mlp.inputs(),
        "a batch of {n} labels needs {n} x {} pixel bytes, got {}",
        mlp.inputs(),
        images.len()
    );
    n
}

impl TrainStep {
    /// A workspace for `mlp`'s shapes and batches of up to `max_batch` samples. Runs one pass
    /// on a blank batch so every buffer is allocated here; gradients start at zero.
    ///
    /// The GEMM keeps its packing buffers per thread and creates them on first use, so the
    /// blank pass also runs once on every rayon thread (as the caller of each GEMM shape): no
    /// worker thread allocates in a later step either. Build it, and run the steps, inside the
    /// rayon pool (`ThreadPool::install`, or `rayon::scope` for the global pool): a parallel
    /// GEMM called from a thread outside the pool is sent through rayon's global job queue,
    /// which allocates a block of slots every 63 jobs.
    pub fn new(mlp: &Mlp, max_batch: usize) -> TrainStep {
        let mut tape = Tape::new();
        if max_batch > 0 {
            let images = vec![0u8; max_batch * mlp.inputs()];
            let labels = vec![0u8; max_batch];
            rayon::broadcast(|_| record_and_backward(&mut Tape::new(), mlp, &images, &labels));
            record_and_backward(&mut tape, mlp, &images, &labels);
            tape.zero_param_grads();
        }
        TrainStep { tape, max_batch }
    }

    /// The largest batch the workspace was sized for (larger batches work but allocate).
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Forward through the tape, loss, backward: fills the gradients ([`TrainStep::grads`]).
    ///
    /// `images` are `N * inputs` u8 pixels (row-major, read as `p / 255`), `labels` the `N`
    /// classes. The graph is `loss = CE(fc2(relu(fc1(x))), labels)` with fc1 and its ReLU in one
    /// GEMM; no gradient is computed for `x`. Panics if the sizes disagree or a label is
    /// `>= classes`.
    pub fn forward_backward(&mut self, mlp: &Mlp, images: &[u8], labels: &[u8]) -> StepOutput {
        record_and_backward(&mut self.tape, mlp, images, labels)
    }

    /// The gradients of the last [`TrainStep::forward_backward`], in [`Mlp::PARAM_NAMES`] order,
    /// row-major like the parameters (zeros before the first step).
    pub fn grads(&self) -> [&[f32]; 4] {
        [0, 1, 2, 3].map(|k| self.tape.param_grad(k))
    }
}

/// Records `loss = CE(fc2(relu(fc1(x))), labels)` on `tape` and runs its backward.
fn record_and_backward(tape: &mut Tape, mlp: &Mlp, images: &[u8], labels: &[u8]) -> StepOutput {
    let n = batch_size(mlp, images, labels);
    let pixels =
        ArrayView2::from_shape((n, mlp.inputs()), images).expect("length checked by batch_size");
    let params = mlp.param_views();
    let inputs = [Operand::U8 {
        pixels,
        scale: PIXEL_SCALE,
    }];
    let mut s = tape.session(&params, &inputs);
    let (w1, b1, w2, b2) = (s.param(0), s.param(1), s.param(2), s.param(3));
    let x = s.input(0);
    let h = s.linear_relu(x, w1, b1);
    let logits = s.linear(h, w2, b2);
    let loss = s.cross_entropy(logits, labels);
    let output = StepOutput {
        loss: s.value(loss)[[0, 0]],
        correct: count_correct(s.value(logits), labels),
    };
    s.backward(loss);
    output
}

/// The result of [`evaluate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy over all samples (accumulated in f64).
    pub loss: f64,
    /// Samples whose arg-max logit is their label.
    pub correct: usize,
    /// Samples evaluated.
    pub total: usize,
}

impl Evaluation {
    /// `correct / total` as a fraction in `[0, 1]` (NaN for an empty set).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }
}

/// Rows per evaluation GEMM: the whole Fashion-MNIST test set (10,000) in one product, with
/// 4 MB of hidden activations at H = 100.
pub const EVAL_CHUNK: usize = 10_000;

/// Loss, accuracy and predicted classes of `mlp` on a data set (`images`: `N * inputs` u8
/// pixels, `labels`: `N` classes). `predictions` is cleared and filled with the `N` arg-max
/// classes (for a confusion matrix). The forward pass runs in chunks of [`EVAL_CHUNK`] rows, each
/// one GEMM per layer. Panics if the sizes disagree or a label is `>= classes`.
pub fn evaluate(mlp: &Mlp, images: &[u8], labels: &[u8], predictions: &mut Vec<u8>) -> Evaluation {
    let n = batch_size(mlp, images, labels);
    predictions.clear();
    predictions.reserve(n);
    let rows = n.min(EVAL_CHUNK);
    let mut hidden = Array2::<f32>::zeros((rows, mlp.hidden()));
    let mut logits = Array2::<f32>::zeros((rows, mlp.classes()));
    let mut loss_sum = 0.0f64;
    let mut correct = 0;
    for (pixels, labels) in images
        .chunks(EVAL_CHUNK * mlp.inputs())
        .zip(labels.chunks(EVAL_CHUNK))
    {
        let m = labels.len();
        let pixels = ArrayView2::from_shape((m, mlp.inputs()), pixels).expect("chunk sizes agree");
        let x = Operand::U8 {
            pixels,
            scale: PIXEL_SCALE,
        };
        let mut h = hidden.slice_mut(ndarray::s![..m, ..]);
        linear_relu_forward(x, mlp.fc1.weight.view(), bias(&mlp.fc1), h.view_mut());
        let mut z = logits.slice_mut(ndarray::s![..m, ..]);
        linear_forward(
            Operand::F32(h.view()),
            mlp.fc2.weight.view(),
            bias(&mlp.fc2),
            z.view_mut(),
        );
        loss_sum += cross_entropy_sum(z.view(), labels);
        correct += count_correct(z.view(), labels);
        // Class indices fit a u8: labels are u8, and every label is checked to be < classes.
        predictions.extend(z.rows().into_iter().map(|r| argmax(r) as u8));
    }
    Evaluation {
        loss: loss_sum / n as f64,
        correct,
        total: n,
    }
}

/// A layer's bias as a slice.
fn bias(layer: &crate::linear::Linear) -> &[f32] {
    layer
        .bias
        .as_slice()
        .expect("Mlp parameters must be row-major (standard layout)")
}
