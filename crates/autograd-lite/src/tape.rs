//! A small reverse-mode tape (Wengert list).
//!
//! A [`Session`] records each operation of a forward pass as a node while computing it; every
//! value it produces is a [`Var`]. `backward(loss)` then walks the nodes in reverse record order,
//! which is a reverse topological order (a node's inputs were always recorded before it), and
//! applies each op's backward function from [`linear`](crate::linear), [`relu`](crate::relu) and
//! [`cross_entropy`](crate::cross_entropy). Gradients flow only into values that need them:
//! parameters, and whatever was computed from a parameter. Data inputs get none, so the first
//! layer's input gradient is never computed. The first contribution to a gradient overwrites its
//! buffer (`beta = 0`), later ones add to it (`beta = 1`): that is the accumulation a value used
//! twice needs.
//!
//! Storage: the tape owns an arena of `Vec<f32>` buffers for values, gradients and scratch. A new
//! session clears the list of nodes and rewinds the arena without freeing anything, and recording
//! the same graph again reuses the same buffers in the same order, so a training loop allocates
//! only during its first step.
//!
//! Parameters and inputs are not copied onto the tape: a session borrows them (`params`, `inputs`)
//! and the nodes refer to them by index.
//!
//! ```
//! use autograd_lite::{Operand, Tape};
//! use ndarray::array;
//!
//! let w = array![[0.5f32, -1.0], [2.0, 0.0]]; // [out = 2, in = 2]
//! let b = array![[0.1f32, 0.2]]; // a bias is a [1, out] row
//! let x = array![[1.0f32, 2.0]]; // one sample
//! let (params, inputs) = ([w.view(), b.view()], [Operand::F32(x.view())]);
//! let mut tape = Tape::new();
//! let mut s = tape.session(&params, &inputs);
//! let (w, b, x) = (s.param(0), s.param(1), s.input(0));
//! let z = s.linear(x, w, b); // [-1.4, 2.2]
//! let loss = s.cross_entropy(z, &[1]);
//! s.backward(loss);
//! // dL/dz = softmax(z) - onehot(1), and dL/db = dL/dz for one sample.
//! let p1 = 1.0 / (1.0 + (-3.6f32).exp());
//! let db = s.grad(b).unwrap();
//! assert!((db[[0, 1]] - (p1 - 1.0)).abs() < 1e-6);
//! assert!((db[[0, 0]] - (1.0 - p1)).abs() < 1e-6);
//! assert!(s.grad(x).is_none()); // data gets no gradient
//! ```

use std::mem;

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use crate::cross_entropy::{cross_entropy_share_backward, cross_entropy_share_forward};
use crate::linear::{
    linear_backward_bias, linear_backward_input, linear_backward_weight, linear_forward,
    linear_relu_forward, matmul_t_forward, Operand,
};
use crate::relu::{relu_backward, relu_forward};

/// A value recorded on a tape: a handle valid in the session that created it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var(usize);

/// Where a value lives.
#[derive(Clone, Copy, Debug)]
enum Storage {
    /// `params[k]` of the session (needs a gradient).
    Param(usize),
    /// `inputs[k]` of the session (data, no gradient).
    Input(usize),
    /// A buffer of the tape's arena (an op's result).
    Slot(usize),
}

/// What the tape knows about one value.
#[derive(Clone, Copy, Debug)]
struct VarInfo {
    storage: Storage,
    rows: usize,
    cols: usize,
    /// The arena buffer of `dL/dvalue`, or `None` if no gradient flows into this value.
    grad: Option<usize>,
    /// Whether the gradient buffer holds a contribution yet (then further ones accumulate).
    grad_written: bool,
}

/// One recorded operation. Shapes: `x [N, in]`, `w [out, in]`, `b [1, out]`, `out [N, out]`.
#[derive(Clone, Copy, Debug)]
enum Node {
    /// `out = x W^T`.
    MatMulT { x: Var, w: Var, out: Var },
    /// `out = x + b` (the row vector `b` added to every row).
    AddBias { x: Var, b: Var, out: Var },
    /// `out = x W^T + b`, fused.
    Linear { x: Var, w: Var, b: Var, out: Var },
    /// `out = max(x W^T + b, 0)`, fused; `pre_grad` is a scratch buffer for `dL/d(x W^T + b)`.
    LinearRelu {
        x: Var,
        w: Var,
        b: Var,
        out: Var,
        pre_grad: usize,
    },
    /// `out = max(x, 0)`.
    Relu { x: Var, out: Var },
    /// `out = a + b` (same shapes).
    Add { a: Var, b: Var, out: Var },
    /// `out [1, 1] = (1 / batch) sum_i CE(logits_i, label_i)` (the mean when `batch = N`);
    /// `probs` holds the softmax, the labels are `labels[label_start..label_start + N]` of the
    /// tape.
    CrossEntropy {
        logits: Var,
        out: Var,
        probs: usize,
        label_start: usize,
        batch: usize,
    },
}

/// The reusable storage of a tape: nodes, value handles, buffers. Create it once, then open one
/// [`Session`] per forward/backward pass.
#[derive(Debug, Default)]
pub struct Tape {
    nodes: Vec<Node>,
    vars: Vec<VarInfo>,
    /// The arena; `slots[..live]` are in use by the current session.
    slots: Vec<Vec<f32>>,
    live: usize,
    /// Copies of the labels given to cross-entropy nodes.
    labels: Vec<u8>,
    /// The `Var` of each parameter in the current session, once asked for.
    param_vars: Vec<Option<Var>>,
}

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Starts recording a new forward pass over `params` (trainable, gradients wanted) and
    /// `inputs` (data). Forgets the previous session's nodes but keeps every buffer for reuse.
    pub fn session<'t, 'a>(
        &'t mut self,
        params: &'a [ArrayView2<'a, f32>],
        inputs: &'a [Operand<'a>],
    ) -> Session<'t, 'a> {
        self.nodes.clear();
        self.vars.clear();
        self.labels.clear();
        self.live = 0;
        self.param_vars.clear();
        self.param_vars.resize(params.len(), None);
        Session {
            tape: self,
            params,
            inputs,
        }
    }

    /// The gradient of parameter `k` from the last `backward` (row-major, the parameter's shape);
    /// zeros if the parameter was recorded but no gradient reached it, empty if it was never used.
    pub fn param_grad(&self, k: usize) -> &[f32] {
        match self.param_vars.get(k).copied().flatten() {
            Some(v) => match self.vars[v.0].grad {
                Some(slot) => &self.slots[slot],
                None => &[],
            },
            None => &[],
        }
    }

    /// Sets every parameter gradient to zero (their buffers stay allocated).
    pub fn zero_param_grads(&mut self) {
        for v in self.param_vars.iter().flatten() {
            if let Some(slot) = self.vars[v.0].grad {
                self.slots[slot].fill(0.0);
            }
        }
    }

    /// Takes the next arena buffer, sized `len` (reused as is when it already has that length).
    fn take_slot(&mut self, len: usize) -> usize {
        if self.live == self.slots.len() {
            self.slots.push(Vec::new());
        }
        let slot = &mut self.slots[self.live];
        if slot.len() != len {
            slot.clear();
            slot.resize(len, 0.0);
        }
        self.live += 1;
        self.live - 1
    }
}

/// One forward pass being recorded on a [`Tape`], then differentiated by [`Session::backward`].
#[derive(Debug)]
pub struct Session<'t, 'a> {
    tape: &'t mut Tape,
    params: &'a [ArrayView2<'a, f32>],
    inputs: &'a [Operand<'a>],
}

/// A row-major view of an arena buffer.
fn view(buf: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), buf).expect("arena buffers are sized rows * cols")
}

/// A mutable row-major view of an arena buffer.
fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), buf).expect("arena buffers are sized rows * cols")
}

impl<'a> Session<'_, 'a> {
    // ---- leaves ------------------------------------------------------------------------------

    /// The value `params[k]` (the same `Var` every time it is asked for in this session).
    pub fn param(&mut self, k: usize) -> Var {
        if let Some(v) = self.tape.param_vars[k] {
            return v;
        }
        let (rows, cols) = self.params[k].dim();
        let grad = Some(self.tape.take_slot(rows * cols));
        let v = self.push_var(Storage::Param(k), rows, cols, grad);
        self.tape.param_vars[k] = Some(v);
        v
    }

    /// The value `inputs[k]` (data: no gradient is computed for it).
    pub fn input(&mut self, k: usize) -> Var {
        let (rows, cols) = self.inputs[k].dim();
        self.push_var(Storage::Input(k), rows, cols, None)
    }

    // ---- operations (forward now, backward recorded) -----------------------------------------

    /// `x [N, in] W^T [in, out]`.
    pub fn matmul_t(&mut self, x: Var, w: Var) -> Var {
        let out = self.result_of(&[x, w], self.rows(x), self.rows(w));
        self.write(out, |s, y| matmul_t_forward(s.operand(x), s.value(w), y));
        self.tape.nodes.push(Node::MatMulT { x, w, out });
        out
    }

    /// `x [N, F] + b [1, F]` (the bias row added to every row).
    pub fn add_bias(&mut self, x: Var, b: Var) -> Var {
        let out = self.result_of(&[x, b], self.rows(x), self.cols(x));
        self.write(out, |s, mut y| {
            y.assign(&s.value(x));
            let bias = s.row(b);
            for mut r in y.rows_mut() {
                r.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
            }
        });
        self.tape.nodes.push(Node::AddBias { x, b, out });
        out
    }

    /// `x [N, in] W^T + b`, a linear layer in one GEMM (bias in the epilogue).
    pub fn linear(&mut self, x: Var, w: Var, b: Var) -> Var {
        let out = self.result_of(&[x, w, b], self.rows(x), self.rows(w));
        self.write(out, |s, y| {
            linear_forward(s.operand(x), s.value(w), s.row(b), y)
        });
        self.tape.nodes.push(Node::Linear { x, w, b, out });
        out
    }

    /// `max(x W^T + b, 0)`, a hidden layer in one GEMM (bias and ReLU in the epilogue).
    pub fn linear_relu(&mut self, x: Var, w: Var, b: Var) -> Var {
        let (rows, cols) = (self.rows(x), self.rows(w));
        let out = self.result_of(&[x, w, b], rows, cols);
        self.write(out, |s, h| {
            linear_relu_forward(s.operand(x), s.value(w), s.row(b), h)
        });
        let pre_grad = self.tape.take_slot(rows * cols);
        self.tape.nodes.push(Node::LinearRelu {
            x,
            w,
            b,
            out,
            pre_grad,
        });
        out
    }

    /// `max(x, 0)`.
    pub fn relu(&mut self, x: Var) -> Var {
        let out = self.result_of(&[x], self.rows(x), self.cols(x));
        self.write(out, |s, y| relu_forward(s.value(x), y));
        self.tape.nodes.push(Node::Relu { x, out });
        out
    }

    /// `a + b`, elementwise (same shapes).
    pub fn add(&mut self, a: Var, b: Var) -> Var {
        assert_eq!(
            self.shape(a),
            self.shape(b),
            "add: operands differ in shape"
        );
        let out = self.result_of(&[a, b], self.rows(a), self.cols(a));
        self.write(out, |s, y| {
            Zip::from(y)
                .and(s.value(a))
                .and(s.value(b))
                .for_each(|y, &a, &b| *y = a + b);
        });
        self.tape.nodes.push(Node::Add { a, b, out });
        out
    }

    /// The mean softmax cross-entropy of `logits [N, C]` against `labels` (N values `< C`), a
    /// `[1, 1]` value. Panics if a label is out of range.
    pub fn cross_entropy(&mut self, logits: Var, labels: &[u8]) -> Var {
        let rows = self.rows(logits);
        self.cross_entropy_share(logits, labels, rows)
    }

    /// This shard's share of the mean cross-entropy of a batch of `batch` rows: the sum over the
    /// shard's rows `logits [N, C]` divided by `batch`, a `[1, 1]` value. The shares of the
    /// shards of a batch add up to its mean, and each row gets the gradient the whole batch
    /// would give it. Panics if a label is out of range.
    pub fn cross_entropy_share(&mut self, logits: Var, labels: &[u8], batch: usize) -> Var {
        let (rows, cols) = self.shape(logits);
        let out = self.result_of(&[logits], 1, 1);
        let probs = self.tape.take_slot(rows * cols);
        let label_start = self.tape.labels.len();
        self.tape.labels.extend_from_slice(labels);
        let mut p = mem::take(&mut self.tape.slots[probs]);
        let loss = cross_entropy_share_forward(
            self.value(logits),
            labels,
            batch,
            view_mut(&mut p, rows, cols),
        );
        self.tape.slots[probs] = p;
        self.write(out, |_, mut y| y[[0, 0]] = loss);
        self.tape.nodes.push(Node::CrossEntropy {
            logits,
            out,
            probs,
            label_start,
            batch,
        });
        out
    }

    // ---- reading values ----------------------------------------------------------------------

    /// `(rows, cols)` of a value.
    pub fn shape(&self, v: Var) -> (usize, usize) {
        let info = &self.tape.vars[v.0];
        (info.rows, info.cols)
    }

    /// A view of an f32 value. Panics for a u8 input (use the operand itself).
    pub fn value(&self, v: Var) -> ArrayView2<'_, f32> {
        match self.operand(v) {
            Operand::F32(x) => x,
            Operand::U8 { .. } => panic!("value: input {v:?} is u8 pixels, not f32"),
        }
    }

    /// The gradient of the last `backward`'s loss with respect to `v`, or `None` if no gradient
    /// flows into `v` (a data input, or a value not depending on any parameter). Zeros if it
    /// needs a gradient but the loss does not depend on it.
    pub fn grad(&self, v: Var) -> Option<ArrayView2<'_, f32>> {
        let info = &self.tape.vars[v.0];
        info.grad
            .map(|slot| view(&self.tape.slots[slot], info.rows, info.cols))
    }

    // ---- backward ----------------------------------------------------------------------------

    /// Fills the gradients of everything `loss` (a `[1, 1]` value) depends on, walking the
    /// recorded nodes in reverse. Gradients of values the loss does not reach are set to zero.
    pub fn backward(&mut self, loss: Var) {
        assert_eq!(
            self.shape(loss),
            (1, 1),
            "backward: the loss must be a scalar [1, 1] value"
        );
        for info in &mut self.tape.vars {
            info.grad_written = false;
        }
        self.accumulate(loss, |_, _, mut g| g[[0, 0]] = 1.0);
        for i in (0..self.tape.nodes.len()).rev() {
            let node = self.tape.nodes[i];
            self.backward_node(node);
        }
        for i in 0..self.tape.vars.len() {
            let info = self.tape.vars[i];
            if let (Some(slot), false) = (info.grad, info.grad_written) {
                self.tape.slots[slot].fill(0.0);
            }
        }
    }

    /// One node's backward: reads `dL/dout`, adds each input's share to that input's gradient.
    fn backward_node(&mut self, node: Node) {
        let out = match node {
            Node::MatMulT { out, .. }
            | Node::AddBias { out, .. }
            | Node::Linear { out, .. }
            | Node::LinearRelu { out, .. }
            | Node::Relu { out, .. }
            | Node::Add { out, .. }
            | Node::CrossEntropy { out, .. } => out,
        };
        if !self.tape.vars[out.0].grad_written {
            return; // the loss does not depend on this node
        }
        match node {
            Node::MatMulT { x, w, out } => {
                let dy = self.grad_slot(out);
                self.linear_backward(x, w, None, dy);
            }
            Node::AddBias { x, b, out } => {
                let dy = self.grad_slot(out);
                self.pass_through(x, dy);
                self.bias_backward(b, dy, self.rows(x));
            }
            Node::Linear { x, w, b, out } => {
                let dy = self.grad_slot(out);
                self.linear_backward(x, w, Some(b), dy);
            }
            Node::LinearRelu {
                x,
                w,
                b,
                out,
                pre_grad,
            } => {
                // dL/d(pre-activation) = dL/dh ⊙ [h > 0], into the node's scratch buffer.
                let (rows, cols) = self.shape(out);
                let mut dz = mem::take(&mut self.tape.slots[pre_grad]);
                let dy = self.grad_slot(out);
                relu_backward(
                    self.value(out),
                    view(&self.tape.slots[dy], rows, cols),
                    0.0,
                    view_mut(&mut dz, rows, cols),
                );
                self.tape.slots[pre_grad] = dz;
                self.linear_backward(x, w, Some(b), pre_grad);
            }
            Node::Relu { x, out } => {
                let dy = self.grad_slot(out);
                self.accumulate(x, |s, beta, dx| {
                    relu_backward(s.value(out), s.slot_view(dy, out), beta, dx)
                });
            }
            Node::Add { a, b, out } => {
                let dy = self.grad_slot(out);
                self.pass_through(a, dy);
                self.pass_through(b, dy);
            }
            Node::CrossEntropy {
                logits,
                out,
                probs,
                label_start,
                batch,
            } => {
                let (rows, cols) = self.shape(logits);
                let dloss = self.tape.slots[self.grad_slot(out)][0];
                self.accumulate(logits, |s, beta, dz| {
                    let labels = &s.tape.labels[label_start..label_start + rows];
                    let p = view(&s.tape.slots[probs], rows, cols);
                    cross_entropy_share_backward(p, labels, batch, dloss, beta, dz);
                });
            }
        }
    }

    /// Backward of `y = x W^T (+ b)` given the arena buffer `dy` holding `dL/dy [N, out]`:
    /// `dW += dy^T x`, `db += colsum(dy)`, `dx += dy W` (each only if it needs a gradient).
    fn linear_backward(&mut self, x: Var, w: Var, b: Option<Var>, dy: usize) {
        let (rows, cols) = (self.rows(x), self.rows(w));
        self.accumulate(w, |s, beta, dw| {
            linear_backward_weight(s.operand(x), view(&s.tape.slots[dy], rows, cols), beta, dw)
        });
        if let Some(b) = b {
            self.bias_backward(b, dy, rows);
        }
        self.accumulate(x, |s, beta, dx| {
            linear_backward_input(view(&s.tape.slots[dy], rows, cols), s.value(w), beta, dx)
        });
    }

    /// `db [1, F] += colsum(dy [N, F])`, `dy` the arena buffer of `N = rows` rows.
    fn bias_backward(&mut self, b: Var, dy: usize, rows: usize) {
        let (_, cols) = self.shape(b);
        self.accumulate(b, |s, beta, mut db| {
            let db = db.as_slice_mut().expect("arena buffers are contiguous");
            linear_backward_bias(view(&s.tape.slots[dy], rows, cols), beta, db);
        });
    }

    /// `dx += dy` (same shapes): the backward of each operand of an addition.
    fn pass_through(&mut self, x: Var, dy: usize) {
        self.accumulate(x, |s, beta, mut dx| {
            let g = view(&s.tape.slots[dy], dx.nrows(), dx.ncols());
            if beta == 0.0 {
                dx.assign(&g);
            } else {
                dx.zip_mut_with(&g, |d, &g| *d = beta * *d + g);
            }
        });
    }

    // ---- bookkeeping -------------------------------------------------------------------------

    /// Runs `f(session, beta, dL/dv)` if `v` needs a gradient: `beta` is 0 for the first
    /// contribution (overwrite) and 1 afterwards (accumulate).
    fn accumulate(&mut self, v: Var, f: impl FnOnce(&Self, f32, ArrayViewMut2<'_, f32>)) {
        let info = self.tape.vars[v.0];
        let Some(slot) = info.grad else { return };
        let beta = if info.grad_written { 1.0 } else { 0.0 };
        let mut g = mem::take(&mut self.tape.slots[slot]);
        f(self, beta, view_mut(&mut g, info.rows, info.cols));
        self.tape.slots[slot] = g;
        self.tape.vars[v.0].grad_written = true;
    }

    /// The arena buffer holding `dL/dv` (only called for values that have one).
    fn grad_slot(&self, v: Var) -> usize {
        self.tape.vars[v.0]
            .grad
            .expect("a node whose output has a gradient")
    }

    /// Arena buffer `slot` viewed with `v`'s shape.
    fn slot_view(&self, slot: usize, v: Var) -> ArrayView2<'_, f32> {
        let (rows, cols) = self.shape(v);
        view(&self.tape.slots[slot], rows, cols)
    }

    fn rows(&self, v: Var) -> usize {
        self.tape.vars[v.0].rows
    }

    fn cols(&self, v: Var) -> usize {
        self.tape.vars[v.0].cols
    }

    fn push_var(&mut self, storage: Storage, rows: usize, cols: usize, grad: Option<usize>) -> Var {
        self.tape.vars.push(VarInfo {
            storage,
            rows,
            cols,
            grad,
            grad_written: false,
        });
        Var(self.tape.vars.len() - 1)
    }

    /// A new `[rows, cols]` result of an op on `operands`: it needs a gradient iff one of them does.
    fn result_of(&mut self, operands: &[Var], rows: usize, cols: usize) -> Var {
        let needs_grad = operands.iter().any(|v| self.tape.vars[v.0].grad.is_some());
        let value = self.tape.take_slot(rows * cols);
        let grad = needs_grad.then(|| self.tape.take_slot(rows * cols));
        self.push_var(Storage::Slot(value), rows, cols, grad)
    }

    /// Runs `f(session, value)` on a mutable view of `v`'s value buffer (an op's result).
    fn write(&mut self, v: Var, f: impl FnOnce(&Self, ArrayViewMut2<'_, f32>)) {
        let VarInfo {
            storage: Storage::Slot(slot),
            rows,
            cols,
            ..
        } = self.tape.vars[v.0]
        else {
            unreachable!("only op results are written");
        };
        let mut buf = mem::take(&mut self.tape.slots[slot]);
        f(self, view_mut(&mut buf, rows, cols));
        self.tape.slots[slot] = buf;
    }

    /// A value as the left operand of a layer (u8 inputs stay u8).
    fn operand(&self, v: Var) -> Operand<'_> {
        let info = &self.tape.vars[v.0];
        match info.storage {
            Storage::Param(k) => Operand::F32(self.params[k].view()),
            Storage::Input(k) => self.inputs[k].reborrow(),
            Storage::Slot(slot) => Operand::F32(view(&self.tape.slots[slot], info.rows, info.cols)),
        }
    }

    /// A `[1, F]` value as a bias slice.
    fn row(&self, b: Var) -> &[f32] {
        assert_eq!(self.rows(b), 1, "a bias must be a [1, F] value");
        match self.operand(b) {
            Operand::F32(v) => v.to_slice().expect("a bias must be contiguous"),
            Operand::U8 { .. } => panic!("a bias must be f32"),
        }
    }
}
