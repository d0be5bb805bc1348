//! autograd-lite: a hand-written GEMM, the layers of an MLP with their backward passes, and a
//! small reverse-mode tape.
//!
//! # The math
//!
//! For a batch of `N` images `x [N, I]` (u8 pixels / 255), labels `y`, and PyTorch's parameter
//! layout (`W1 [H, I]`, `b1 [H]`, `W2 [C, H]`, `b2 [C]`):
//!
//! ```text
//! forward                                   backward (reverse order)
//! a  = x W1^T + b1        [N, H]            dW1 = da^T x           db1 = sum_i da[i, :]
//! h  = max(a, 0)          [N, H]            da  = dh ⊙ [h > 0]
//! z  = h W2^T + b2        [N, C]            dW2 = dz^T h           db2 = sum_i dz[i, :]
//!                                           dh  = dz W2
//! p  = softmax(z)         [N, C]            p_ij = exp(z_ij - m_i) / s_i
//! L  = (1/N) sum_i (m_i + ln s_i - z[i, y_i])  with m_i = max_j z_ij, s_i = sum_j exp(z_ij - m_i)
//!                                           dz  = (p - onehot(y)) / N
//! ```
//! `dx` is never formed (nothing needs it). Every product is a GEMM (`C <- alpha op(A) op(B) +
//! beta C`): `x W1^T` reads the u8 pixels with `alpha = 1/255`, the bias and ReLU are fused into
//! the epilogue, and backward products accumulate with `beta = 1` when a value is used twice.
//!
//! [`plain_step()`] runs these lines, one layer function each, for each half of the batch, with
//! the `1/N` of the whole batch, and adds the two halves' gradients: the sums over `i` above are
//! taken half by half. [`TrainStep`] computes the same bits with a tape, reused buffers and the
//! two halves at once (two rayon tasks).
//!
//! # Module map
//!
//! - [`plain_step`](mod@plain_step): **start here**. The training step in one page: forward and
//!   backward of a batch through the layer functions, in order, with the shape of every value;
//!   [`TrainStep`] computes the same bits fast.
//! - [`gemm`]: the matrix multiply (BLIS-style blocking, runtime-dispatched microkernels, rayon
//!   over disjoint blocks of `C`) and its naive oracle.
//! - [`linear`]: `y = x W^T + b`, forward and backward (weight, bias, input); [`linear::Operand`]
//!   lets the left operand be u8 pixels.
//! - [`relu`]: `max(x, 0)`, forward and backward.
//! - [`cross_entropy`]: softmax cross-entropy (log-sum-exp forward, fused backward), arg-max.
//! - [`exp_log`]: `exp` (f32) and `ln` (f64) in plain arithmetic, the same bits on every CPU.
//! - [`tape`]: the reverse-mode tape ([`Tape`], [`Session`], [`Var`]): records ops, `backward()`
//!   in reverse topological order with gradient accumulation; buffers reused across passes.
//! - [`mlp`]: [`Mlp`] (`fc1`, `fc2`), PyTorch's names, `nn.Linear` initialisation.
//! - [`init`]: the seeded [`SplitMix64`] generator and the `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`
//!   initialisation.
//! - [`weights`]: safetensors load/save with PyTorch's names; [`WeightsError`].
//! - [`step`]: [`TrainStep`] (the allocation-free forward/backward workspace, two halves of the
//!   batch in parallel; `update` runs the optimizer beside other work) and [`evaluate`].
//! - [`join`](mod@join): `rayon::join` whose caller waits for the other part awake, for the
//!   training step's two meetings of the cores.
//!
//! Runnable examples: [`gemm::gemm`] on small matrices (checked against the oracle), and the
//! [`tape`] module's graph with its gradients. `cargo run --example tape_fd` (in the workspace
//! root) checks the tape against finite differences; `cargo run --release --example train_step`
//! prints the shape of every value of one training step.

pub mod gemm;

pub mod cross_entropy;
pub mod exp_log;
pub mod init;
pub mod join;
pub mod linear;
pub mod mlp;
pub mod plain_step;
pub mod relu;
pub mod step;
pub mod tape;
pub mod weights;

pub use init::SplitMix64;
pub use linear::{Linear, Operand, PIXEL_SCALE};
pub use mlp::Mlp;
pub use plain_step::plain_step;
pub use step::{evaluate, Evaluation, Fresh, StepOutput, TrainStep};
pub use tape::{Session, Tape, Var};
pub use weights::WeightsError;
