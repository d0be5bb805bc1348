//! Same bits on every CPU: every kernel this CPU can run gives, for every element of `C`, the
//! bits of the straight-line oracle (`naive_gemm*`, which spells out the fused multiply-adds
//! every path must do) and so of the portable kernel, which is what a CPU without AVX2 or an
//! aarch64 machine runs. Checked on the MLP's training shapes as the training lays them out,
//! on odd shapes around every kernel's tile edges, on reductions cut into several blocks
//! (`k > 1024`), on the short reductions of the unpacked `small_k` path, with every
//! transposition of A, B and C, every epilogue, several alpha and beta, and f32 and u8 A.

mod gemm_common;

use autograd_lite::gemm::{
    gemm_u8_with_kernel, gemm_with_kernel, naive_gemm_epilogue, naive_gemm_u8, Epilogue, Kernel,
};
use gemm_common::Rng;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// How the three operands are stored: `true` means transposed (column-major storage).
#[derive(Clone, Copy, Debug)]
struct Layout {
    a_t: bool,
    b_t: bool,
    c_t: bool,
}

const ALL_LAYOUTS: [Layout; 8] = {
    let mut all = [Layout {
        a_t: false,
        b_t: false,
        c_t: false,
    }; 8];
    let mut i = 0;
    while i < 8 {
        all[i] = Layout {
            a_t: i & 1 != 0,
            b_t: i & 2 != 0,
            c_t: i & 4 != 0,
        };
        i += 1;
    }
    all
};

/// `(m, k, n)`, the layout, the epilogue, and whether A holds u8 pixels.
type Case = ((usize, usize, usize), Layout, Ep, bool);

#[derive(Clone, Copy, Debug)]
enum Ep {
    None,
    Bias,
    BiasRelu,
}

/// Stores `x` (logically `rows x cols`) as given, or transposed in memory with a view back.
fn stored<T: Clone>(x: &Array2<T>, transposed: bool) -> Array2<T> {
    if transposed {
        x.t().to_owned()
    } else {
        x.clone()
    }
}

fn view<T>(x: &Array2<T>, transposed: bool) -> ArrayView2<'_, T> {
    if transposed {
        x.t()
    } else {
        x.view()
    }
}

fn view_mut<T>(x: &mut Array2<T>, transposed: bool) -> ArrayViewMut2<'_, T> {
    if transposed {
        x.view_mut().reversed_axes()
    } else {
        x.view_mut()
    }
}

fn bits(x: ArrayView2<'_, f32>) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// One product with every kernel this CPU runs, checked against the oracle bit for bit.
#[allow(clippy::too_many_arguments)]
fn check(
    rng: &mut Rng,
    (m, k, n): (usize, usize, usize),
    layout: Layout,
    ep: Ep,
    alpha: f32,
    beta: f32,
    pixels: bool,
) {
    let a_f = rng.matrix(m, k);
    let a_u = rng.pixels(m, k);
    let b = rng.matrix(k, n);
    let c0 = rng.matrix(m, n);
    let bias: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
    let epilogue = match ep {
        Ep::None => Epilogue::None,
        Ep::Bias => Epilogue::AddBias(&bias),
        Ep::BiasRelu => Epilogue::AddBiasRelu(&bias),
    };
    let (a_f_s, a_u_s) = (stored(&a_f, layout.a_t), stored(&a_u, layout.a_t));
    let b_s = stored(&b, layout.b_t);
    let run = |kernel: Option<Kernel>| -> Vec<u32> {
        let c0_s = stored(&c0, layout.c_t);
        let mut c = c0_s.clone();
        let a = view(&a_f_s, layout.a_t);
        let au = view(&a_u_s, layout.a_t);
        let bv = view(&b_s, layout.b_t);
        let cv = view_mut(&mut c, layout.c_t);
        match (kernel, pixels) {
            (Some(kernel), false) => gemm_with_kernel(kernel, alpha, a, bv, beta, cv, epilogue),
            (Some(kernel), true) => gemm_u8_with_kernel(kernel, alpha, au, bv, beta, cv, epilogue),
            (None, false) => naive_gemm_epilogue(alpha, a, bv, beta, cv, epilogue),
            (None, true) => naive_gemm_u8(alpha, au, bv, beta, cv, epilogue),
        }
        bits(view(&c, layout.c_t))
    };
    let oracle = run(None);
    let portable = run(Some(Kernel::Portable));
    let what = format!(
        "{m}x{k}x{n} {layout:?} {ep:?} alpha {alpha} beta {beta} {}",
        if pixels { "u8 A" } else { "f32 A" }
    );
    let first_diff = |got: &[u32]| {
        got.iter()
            .zip(&oracle)
            .position(|(g, w)| g != w)
            .map(|i| (i, f32::from_bits(got[i]), f32::from_bits(oracle[i])))
    };
    assert_eq!(
        first_diff(&portable),
        None,
        "portable kernel vs oracle: {what}"
    );
    for kernel in Kernel::supported() {
        let got = run(Some(kernel));
        assert_eq!(first_diff(&got), None, "{kernel} kernel vs oracle: {what}");
    }
}

/// The MLP's products as `TrainStep` and `evaluate` lay them out: the forward `x W1^T` with
/// u8 pixels, bias and ReLU; `h W2^T` with bias; the weight gradients `dZ^T x` and `dZ^T h`
/// (A transposed); `dh = dz W2` (k = 10, the unpacked path); a test-pass chunk.
#[test]
fn the_training_products_have_the_oracles_bits_with_every_kernel() {
    let mut rng = Rng::new(15);
    let natural = |a_t, b_t| Layout {
        a_t,
        b_t,
        c_t: false,
    };
    let cases: [Case; 9] = [
        ((256, 784, 100), natural(false, true), Ep::BiasRelu, true),
        ((128, 784, 100), natural(false, true), Ep::BiasRelu, true),
        ((100, 128, 784), natural(true, false), Ep::None, true),
        ((128, 100, 10), natural(false, true), Ep::Bias, false),
        ((10, 128, 100), natural(true, false), Ep::None, false),
        ((128, 10, 100), natural(false, false), Ep::None, false),
        ((100, 256, 784), natural(true, false), Ep::None, false),
        ((48, 784, 100), natural(false, true), Ep::BiasRelu, true),
        ((1000, 784, 100), natural(false, true), Ep::BiasRelu, true),
    ];
    for (shape, layout, ep, pixels) in cases {
        let alpha = if pixels { 1.0 / 255.0 } else { 1.0 };
        check(&mut rng, shape, layout, ep, alpha, 0.0, pixels);
        // The second use of a value accumulates into its gradient (beta = 1).
        check(&mut rng, shape, layout, Ep::None, alpha, 1.0, pixels);
    }
}

/// Odd shapes around the tiles (8x4, 16x6, 32x10), reductions of one to three blocks, short
/// reductions, with every layout, epilogue, alpha and beta, and both kinds of A.
#[test]
fn odd_shapes_have_the_oracles_bits_with_every_kernel_layout_and_epilogue() {
    let mut rng = Rng::new(16);
    let shapes = [
        (1, 1, 1),
        (33, 17, 11),
        (17, 16, 10),
        (7, 5, 40),
        (45, 10, 33),
        (31, 100, 9),
        (9, 2100, 13),
        (40, 1025, 7),
        (3, 3001, 35),
    ];
    for shape in shapes {
        for layout in ALL_LAYOUTS {
            for ep in [Ep::None, Ep::Bias, Ep::BiasRelu] {
                for (alpha, beta) in [(1.0, 0.0), (0.5, 1.0), (-1.25, 0.75)] {
                    for pixels in [false, true] {
                        check(&mut rng, shape, layout, ep, alpha, beta, pixels);
                    }
                }
            }
        }
    }
}

/// `alpha = 0` and `k = 0` skip the product; every kernel still writes the same `C`.
#[test]
fn degenerate_products_have_the_oracles_bits() {
    let mut rng = Rng::new(17);
    for layout in ALL_LAYOUTS {
        for ep in [Ep::None, Ep::BiasRelu] {
            check(&mut rng, (5, 0, 7), layout, ep, 1.0, 0.5, false);
            check(&mut rng, (6, 9, 5), layout, ep, 0.0, 0.5, false);
            check(&mut rng, (6, 9, 5), layout, ep, 0.0, 0.0, true);
        }
    }
}
