//! One training step of the MLP through the tape, with a workspace that is reused from batch to
//! batch, and the evaluation pass over a whole test set.
//!
//! The same bits as [`plain_step()`](crate::plain_step()), the straight-line step (read that
//! first): everything below is about speed, nothing about arithmetic
//! (`tests/plain_step_same_bits.rs` proves it, weights after several updates included).
//!
//! A step cuts its batch into two halves (shards) and runs each half's forward and backward as
//! its own rayon task, on its own tape; the two halves' gradients are then added, first half
//! first. On two cores each task keeps one core busy for the whole step with single-threaded
//! GEMMs, instead of every GEMM waking the second core and waiting for it (about a quarter of
//! the step's time went to that). The cut depends on the batch size only, never on the thread
//! count, so the results are the same to the bit with one thread or many. The two tasks meet
//! through [`crate::join::join`], whose caller waits awake for the other half. The second half
//! reads a copy of the weights, so that the other core never holds the lines of `W1` that the
//! optimizer then writes; [`TrainStep::update`] runs the update and makes that copy, and its
//! [`Fresh`] proof lets the next [`TrainStep::forward_backward_fresh`] skip copying again.

use ndarray::{Array2, ArrayView2};

use crate::cross_entropy::{argmax, count_correct, cross_entropy_sum};
use crate::linear::{linear_forward, linear_relu_forward, Operand, PIXEL_SCALE};
use crate::mlp::Mlp;
use crate::tape::Tape;

/// What one forward/backward reports about its batch (before any update).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutput {
    /// Mean cross-entropy of the batch (PyTorch's `CrossEntropyLoss()`): the sum of the two
    /// halves' shares, each the f32 rounding of its f64 sum divided by the batch size.
    pub loss: f32,
    /// Samples whose arg-max logit is their label.
    pub correct: usize,
}

/// The reusable workspace of a training step: one tape per half of the batch, with every
/// activation, gradient and scratch buffer, and the summed gradients. Built once (sized by a
/// warm-up pass of `max_batch` samples), it allocates nothing in later steps of at most
/// `max_batch` samples.
#[derive(Debug)]
pub struct TrainStep {
    halves: [Tape; 2],
    grads: [Vec<f32>; 4],
    /// The second half's copy of the parameters (see [`TrainStep::forward_backward`]).
    mirror: Mlp,
    max_batch: usize,
}

/// Proof that a [`TrainStep`]'s copy of the parameters equals `mlp`: returned by
/// [`TrainStep::update`], which has just made the copy, and holding `mlp` borrowed, so that
/// the model cannot change until [`TrainStep::forward_backward_fresh`] takes the proof and
/// skips its own copy.
#[derive(Debug)]
pub struct Fresh<'m> {
    mlp: &'m Mlp,
}

/// Checks a batch against the model; panics (a caller's bug) on a size mismatch.
pub(crate) fn batch_size(mlp: &Mlp, images: &[u8], labels: &[u8]) -> usize {
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

/// A batch of `images` (`inputs` pixels per sample) and `labels` cut into its two halves, as
/// `(images, labels)`: samples `0..ceil(N / 2)` and the rest (empty for `N < 2`, when the first
/// half is the whole batch). Panics if `images` holds fewer than `N * inputs` pixels.
pub fn halves<'a>(inputs: usize, images: &'a [u8], labels: &'a [u8]) -> [(&'a [u8], &'a [u8]); 2] {
    let mid = labels.len().div_ceil(2);
    let (images_a, images_b) = images.split_at(mid * inputs);
    let (labels_a, labels_b) = labels.split_at(mid);
    [(images_a, labels_a), (images_b, labels_b)]
}

impl TrainStep {
    /// A workspace for `mlp`'s shapes and batches of up to `max_batch` samples. Runs one pass
    /// on a blank batch so every buffer is allocated here; gradients start at zero.
    ///
    /// The GEMM keeps its packing buffers per thread and creates them on first use, so they are
    /// first reserved on every rayon thread for any shape ([`crate::gemm::reserve_buffers`]):
    /// a blank pass alone would size them for the full batch only, and a short last batch can
    /// pack differently (its halves may turn the forward's orientation, packing the pixels as
    /// `B`). No worker thread allocates in a later step either. Build it, and run the steps,
    /// inside the rayon pool (`ThreadPool::install`, or `rayon::scope` for the global pool): a
    /// task sent from a thread outside the pool goes through rayon's global job queue, which
    /// allocates a block of slots every 63 jobs.
    pub fn new(mlp: &Mlp, max_batch: usize) -> TrainStep {
        let mut step = TrainStep {
            halves: [Tape::new(), Tape::new()],
            grads: mlp.param_shapes().map(|s| vec![0.0; s.iter().product()]),
            mirror: mlp.clone(),
            max_batch,
        };
        if max_batch > 0 {
            let images = vec![0u8; max_batch * mlp.inputs()];
            let labels = vec![0u8; max_batch];
            crate::gemm::reserve_buffers();
            step.forward_backward(mlp, &images, &labels);
            step.grads.iter_mut().for_each(|g| g.fill(0.0));
        }
        step
    }

    /// The largest batch the workspace was sized for (larger batches work but allocate).
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Forward through the tapes, loss, backward: fills the gradients ([`TrainStep::grads`]).
    ///
    /// `images` are `N * inputs` u8 pixels (row-major, read as `p / 255`), `labels` the `N`
    /// classes. The graph is `loss = CE(fc2(relu(fc1(x))), labels)` with fc1 and its ReLU in one
    /// GEMM; no gradient is computed for `x`. The two halves of the batch ([`halves`]) run as two
    /// rayon tasks, each recording the graph with its share of the mean loss; their gradients
    /// are added in order. Panics if the sizes disagree or a label is `>= classes`.
    ///
    /// The second half reads a copy of the parameters that this thread makes first, not `mlp`
    /// itself. If the other core read `W1` where it lies, the optimizer's update on this core
    /// would afterwards have to take every line of it back from that core's cache before
    /// writing it: on the project's 2-core machine that made the update take 50-55 µs instead
    /// of 28-31. The copy (318 KB for the default MLP, about 9 µs) is made off the critical
    /// path when the update goes through [`TrainStep::update`], whose proof of a fresh copy
    /// [`TrainStep::forward_backward_fresh`] takes instead of `mlp`.
    pub fn forward_backward(&mut self, mlp: &Mlp, images: &[u8], labels: &[u8]) -> StepOutput {
        refresh(&mut self.mirror, mlp);
        self.halves_forward_backward(mlp, images, labels)
    }

    /// [`TrainStep::forward_backward`] on the model whose copy [`TrainStep::update`] has just
    /// made, without copying it again.
    pub fn forward_backward_fresh(
        &mut self,
        fresh: Fresh<'_>,
        images: &[u8],
        labels: &[u8],
    ) -> StepOutput {
        self.halves_forward_backward(fresh.mlp, images, labels)
    }

    /// Runs `update(params, grads)` on this thread, with the gradients of the last
    /// forward/backward (either form) and `mlp`'s parameters (both in [`Mlp::PARAM_NAMES`]
    /// order), then copies the updated parameters for the second half of the next step; on
    /// another thread, `beside` runs meanwhile (the trainer gathers the next batch there).
    /// Returns the update's result and the proof that the copy is fresh.
    pub fn update<'m, R: Send>(
        &mut self,
        mlp: &'m mut Mlp,
        update: impl FnOnce(&mut [&mut [f32]; 4], &[&[f32]; 4]) -> R + Send,
        beside: impl FnOnce() + Send,
    ) -> (R, Fresh<'m>) {
        let TrainStep { grads, mirror, .. } = self;
        let grads = [0, 1, 2, 3].map(|k| grads[k].as_slice());
        let model = &mut *mlp;
        let (result, ()) = crate::join::join(
            || {
                let result = update(&mut model.params_mut(), &grads);
                refresh(mirror, model);
                result
            },
            beside,
        );
        (result, Fresh { mlp })
    }

    /// The two halves' forward and backward, the second reading `self.mirror`, which must
    /// equal `mlp`.
    fn halves_forward_backward(&mut self, mlp: &Mlp, images: &[u8], labels: &[u8]) -> StepOutput {
        let n = batch_size(mlp, images, labels);
        let [(images_a, labels_a), (images_b, labels_b)] = halves(mlp.inputs(), images, labels);
        let [tape_a, tape_b] = &mut self.halves;
        if labels_b.is_empty() {
            let out = record_and_backward(tape_a, mlp, images, labels, n);
            for (k, sum) in self.grads.iter_mut().enumerate() {
                sum.copy_from_slice(tape_a.param_grad(k));
            }
            return out;
        }
        let mirror = &self.mirror;
        let (a, b) = crate::join::join(
            || record_and_backward(tape_a, mlp, images_a, labels_a, n),
            || record_and_backward(tape_b, mirror, images_b, labels_b, n),
        );
        for (k, sum) in self.grads.iter_mut().enumerate() {
            let (ga, gb) = (tape_a.param_grad(k), tape_b.param_grad(k));
            for ((s, &x), &y) in sum.iter_mut().zip(ga).zip(gb) {
                *s = x + y;
            }
        }
        StepOutput {
            loss: a.loss + b.loss,
            correct: a.correct + b.correct,
        }
    }

    /// The gradients of the last forward/backward ([`TrainStep::forward_backward`] or
    /// [`TrainStep::forward_backward_fresh`]), in [`Mlp::PARAM_NAMES`] order,
    /// row-major like the parameters (zeros before the first step).
    pub fn grads(&self) -> [&[f32]; 4] {
        [0, 1, 2, 3].map(|k| self.grads[k].as_slice())
    }
}

/// Copies `mlp`'s parameters into `mirror` (a clone if their shapes differ), allocating
/// nothing when they agree.
fn refresh(mirror: &mut Mlp, mlp: &Mlp) {
    let same_shapes = mirror.fc1.weight.dim() == mlp.fc1.weight.dim()
        && mirror.fc2.weight.dim() == mlp.fc2.weight.dim()
        && mirror.params().map(<[f32]>::len) == mlp.params().map(<[f32]>::len);
    if !same_shapes {
        *mirror = mlp.clone();
        return;
    }
    for (copy, original) in mirror.params_mut().into_iter().zip(mlp.params()) {
        copy.copy_from_slice(original);
    }
}

/// Records `loss = CE(fc2(relu(fc1(x))), labels)` for the rows of one half of a batch of
/// `batch` samples on `tape` (the loss being this half's share of the batch mean), and runs its
/// backward. The returned loss is that share.
fn record_and_backward(
    tape: &mut Tape,
    mlp: &Mlp,
    images: &[u8],
    labels: &[u8],
    batch: usize,
) -> StepOutput {
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
    let loss = s.cross_entropy_share(logits, labels, batch);
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
