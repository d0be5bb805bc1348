//! The GEMM shapes of the MLP (batch 256, 784-100-10) and of squares, with operands filled for
//! measuring them: the one list that the criterion bench (`benches/gemm.rs`) and the table of
//! `trainer bench gemm` both measure, so the two always time the same products.

use ndarray::{Array2, ArrayView2};

/// One product `C[m, n] = op(A) op(B)`, laid out as the MLP lays it out.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// What it is, for a table ("forward x W1^T").
    pub what: &'static str,
    /// The same as an identifier, for a benchmark id ("forward_x_w1t").
    pub label: &'static str,
    /// Rows of `C`.
    pub m: usize,
    /// The reduction.
    pub k: usize,
    /// Columns of `C`.
    pub n: usize,
    /// A is stored `k x m` and used as `A^T` (the weight gradient's `dY^T`).
    pub a_transposed: bool,
    /// B is stored `n x k` and used as `B^T` (the forward pass's `W^T`).
    pub b_transposed: bool,
}

/// The MLP's five products of a training step, its test pass, and three squares.
pub const SHAPES: [Shape; 9] = [
    shape(
        "forward x W1^T",
        "forward_x_w1t",
        256,
        784,
        100,
        false,
        true,
    ),
    shape("grad W1 = dZ^T x", "grad_w1", 100, 256, 784, true, false),
    shape("forward h W2^T", "forward_h_w2t", 256, 100, 10, false, true),
    shape("grad h = dZ W2", "grad_h", 256, 10, 100, false, false),
    shape("grad W2 = dZ^T h", "grad_w2", 10, 256, 100, true, false),
    shape("test pass", "test_pass", 10000, 784, 100, false, true),
    shape("square", "square", 256, 256, 256, false, false),
    shape("square", "square", 512, 512, 512, false, false),
    shape("square", "square", 1024, 1024, 1024, false, false),
];

const fn shape(
    what: &'static str,
    label: &'static str,
    m: usize,
    k: usize,
    n: usize,
    a_transposed: bool,
    b_transposed: bool,
) -> Shape {
    Shape {
        what,
        label,
        m,
        k,
        n,
        a_transposed,
        b_transposed,
    }
}

impl Shape {
    /// `2 m n k`: the flops of one product.
    pub fn flops(&self) -> f64 {
        2.0 * (self.m * self.n * self.k) as f64
    }

    /// `"256x784x100"`.
    pub fn dims(&self) -> String {
        format!("{}x{}x{}", self.m, self.k, self.n)
    }

    /// A and B stored as this shape stores them, filled with fixed values in [-1, 1).
    pub fn operands(&self) -> Operands {
        let (m, k, n) = (self.m, self.k, self.n);
        Operands {
            a_store: filled(if self.a_transposed { (k, m) } else { (m, k) }, 1),
            b_store: filled(if self.b_transposed { (n, k) } else { (k, n) }, 2),
            a_transposed: self.a_transposed,
            b_transposed: self.b_transposed,
        }
    }
}

/// The operands of one [`Shape`], as stored; [`Operands::a`] and [`Operands::b`] are `op(A)`
/// and `op(B)`.
pub struct Operands {
    /// A as stored (`k x m` when the shape uses `A^T`).
    pub a_store: Array2<f32>,
    /// B as stored (`n x k` when the shape uses `B^T`).
    pub b_store: Array2<f32>,
    a_transposed: bool,
    b_transposed: bool,
}

impl Operands {
    /// `op(A)`, `m x k`.
    pub fn a(&self) -> ArrayView2<'_, f32> {
        if self.a_transposed {
            self.a_store.t()
        } else {
            self.a_store.view()
        }
    }

    /// `op(B)`, `k x n`.
    pub fn b(&self) -> ArrayView2<'_, f32> {
        if self.b_transposed {
            self.b_store.t()
        } else {
            self.b_store.view()
        }
    }
}

/// Deterministic values in [-1, 1) (an xorshift sequence from `seed`).
pub fn filled(dim: (usize, usize), seed: u32) -> Array2<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    Array2::from_shape_fn(dim, |_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    })
}

/// `C = A B` with `matrixmultiply::sgemm` (the crate's `threading` feature; its thread count
/// comes from `MATMUL_NUM_THREADS`, read once per process): the library ours is measured
/// against. Only with this crate's `matrixmultiply` feature, so that a program that does not
/// compare does not link it.
#[cfg(feature = "matrixmultiply")]
pub fn matrixmultiply_sgemm(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    mut c: ndarray::ArrayViewMut2<'_, f32>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!((b.nrows(), c.dim()), (k, (m, n)), "shapes of A B = C");
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides describe live ndarray views of shapes m x k, k x n and
    // m x n (checked above), and `c` is borrowed mutably for the call.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            a.strides()[0],
            a.strides()[1],
            b.as_ptr(),
            b.strides()[0],
            b.strides()[1],
            0.0,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shapes_operands_multiply_to_its_m_by_n() {
        for shape in &SHAPES {
            let operands = shape.operands();
            assert_eq!(operands.a().dim(), (shape.m, shape.k), "{}", shape.what);
            assert_eq!(operands.b().dim(), (shape.k, shape.n), "{}", shape.what);
            // The stored layout is the MLP's: a transposed operand is a view, not a copy.
            assert_eq!(operands.a().is_standard_layout(), !shape.a_transposed);
            assert_eq!(operands.b().is_standard_layout(), !shape.b_transposed);
        }
    }

    #[cfg(feature = "matrixmultiply")]
    #[test]
    fn matrixmultiply_sgemm_matches_the_naive_loop_on_transposed_operands() {
        let shape = SHAPES[1]; // grad W1 = dZ^T x: A is used transposed
        let operands = shape.operands();
        let (a, b) = (operands.a(), operands.b());
        let mut want = Array2::zeros((shape.m, shape.n));
        crate::gemm::naive_gemm(1.0, a, b, 0.0, want.view_mut());
        let mut got = Array2::zeros((shape.m, shape.n));
        matrixmultiply_sgemm(a, b, got.view_mut());
        let worst = (&got - &want).fold(0.0f32, |m, d| m.max(d.abs()));
        assert!(worst < 1e-3, "max |diff| {worst}");
    }
}
