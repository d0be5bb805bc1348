//! Every packing route writes the same panels: the product is the same to the bit whether an
//! operand is row-major (packed by the vectorised transpose), column-major (packed by
//! contiguous runs, or read in place: `A'` with contiguous panels, `B'` with contiguous rows),
//! or strided both ways (packed element by element), for full and partial panels (`rows < MR`
//! or `< NR`), reduction lengths with and without a tail of fewer than 16 steps, and a
//! reduction cut into several blocks (`k > KC_MAX`, where an in-place panel starts mid-row).
//! The first layout is also checked against the oracle.

mod gemm_common;

use autograd_lite::gemm::{gemm_u8_with_kernel, gemm_with_kernel, naive_gemm, Epilogue, Kernel};
use gemm_common::{assert_close, bound, Rng};
use ndarray::{s, Array2, ArrayView2};

fn kernels() -> Vec<Kernel> {
    [Kernel::Avx512, Kernel::Avx2, Kernel::Portable]
        .into_iter()
        .filter(|k| k.is_supported())
        .collect()
}

/// `x` (`rows x cols`) stored three ways; `views` gives the same logical matrix from each.
struct Layouts<T> {
    row_major: Array2<T>,
    column_major: Array2<T>,
    /// Every other row and column of a larger array: no unit stride either way.
    spread: Array2<T>,
}

impl<T: Copy + Default> Layouts<T> {
    fn of(x: &Array2<T>) -> Layouts<T> {
        let (rows, cols) = x.dim();
        let mut spread = Array2::from_elem((2 * rows, 2 * cols), T::default());
        spread.slice_mut(s![..;2, ..;2]).assign(x);
        Layouts {
            row_major: x.clone(),
            column_major: x.t().to_owned(),
            spread,
        }
    }

    fn views(&self) -> [ArrayView2<'_, T>; 3] {
        [
            self.row_major.view(),
            self.column_major.t(),
            self.spread.slice(s![..;2, ..;2]),
        ]
    }
}

/// Shapes around the tile edges of every kernel (10, 16, 32), reduction tails (`k % 16`) and
/// reduction blocks (`k = 2100`: three blocks of 700).
const SHAPES: [(usize, usize, usize); 10] = [
    (100, 40, 784),
    (33, 2100, 47),
    (784, 47, 100),
    (33, 17, 11),
    (9, 31, 47),
    (17, 16, 10),
    (47, 15, 33),
    (1, 50, 1),
    (70, 1, 5),
    (256, 100, 10),
];

#[test]
fn f32_layouts_give_the_same_bits() {
    let mut rng = Rng::new(11);
    for kernel in kernels() {
        for (m, k, n) in SHAPES {
            let (a, b) = (rng.matrix(m, k), rng.matrix(k, n));
            let (a_all, b_all) = (Layouts::of(&a), Layouts::of(&b));
            let mut first: Option<Array2<f32>> = None;
            for (ai, a_view) in a_all.views().into_iter().enumerate() {
                for (bi, b_view) in b_all.views().into_iter().enumerate() {
                    let mut got = Array2::from_elem((m, n), f32::NAN);
                    gemm_with_kernel(
                        kernel,
                        1.0,
                        a_view,
                        b_view,
                        0.0,
                        got.view_mut(),
                        Epilogue::None,
                    );
                    match &first {
                        None => {
                            let mut want = Array2::zeros((m, n));
                            naive_gemm(1.0, a.view(), b.view(), 0.0, want.view_mut());
                            let tol = bound(1.0, a.view(), b.view(), 0.0, want.view());
                            assert_close(got.view(), want.view(), &tol, "row-major vs oracle");
                            first = Some(got);
                        }
                        Some(first) => assert_eq!(
                            &got, first,
                            "{kernel:?} {m}x{k}x{n}: layout A#{ai} B#{bi} differs from row-major"
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn u8_layouts_give_the_same_bits() {
    let mut rng = Rng::new(12);
    let scale = 1.0 / 255.0;
    for kernel in kernels() {
        for (m, k, n) in SHAPES {
            let (x, w) = (rng.pixels(m, k), rng.matrix(k, n));
            let x_all = Layouts::of(&x);
            let mut first: Option<Array2<f32>> = None;
            for (xi, x_view) in x_all.views().into_iter().enumerate() {
                let mut got = Array2::from_elem((m, n), f32::NAN);
                gemm_u8_with_kernel(
                    kernel,
                    scale,
                    x_view,
                    w.view(),
                    0.0,
                    got.view_mut(),
                    Epilogue::None,
                );
                match &first {
                    None => first = Some(got),
                    Some(first) => assert_eq!(
                        &got, first,
                        "{kernel:?} {m}x{k}x{n}: pixel layout #{xi} differs from row-major"
                    ),
                }
            }
        }
    }
}

/// A last panel that is at most half full (784 = 24.5 x 32 rows, as in `grad W1`) goes to the
/// AVX-512 kernel's top-half variant, and one of at most 8 of 16 rows (100 = 6.25 x 16) to the
/// AVX2 kernel's. Its rows must come out exactly as when the same rows sit in a full panel:
/// here the 784 columns of `C = A B` against the first 784 of 800 (25 full panels), 100
/// against 112 (7 full AVX2 panels), and 1..16 against 17..32 columns, for f32 and u8 operands.
#[test]
fn a_half_empty_last_panel_gives_the_bits_of_a_full_one() {
    let mut rng = Rng::new(13);
    let scale = 1.0 / 255.0;
    for kernel in kernels() {
        for (m, k, n, wide) in [
            (100, 256, 784, 800),
            (10, 40, 16, 32),
            (3, 600, 1, 17),
            (20, 64, 100, 112),
        ] {
            let a = rng.matrix(m, k);
            let b_wide = rng.matrix(k, wide);
            let x_wide = rng.pixels(wide, k);
            let mut narrow = Array2::from_elem((m, n), f32::NAN);
            let mut full = Array2::from_elem((m, wide), f32::NAN);
            for (b, c) in [
                (b_wide.slice(s![.., ..n]), &mut narrow),
                (b_wide.view(), &mut full),
            ] {
                gemm_with_kernel(kernel, 1.0, a.view(), b, 0.0, c.view_mut(), Epilogue::None);
            }
            assert_eq!(
                narrow,
                full.slice(s![.., ..n]),
                "{kernel:?} f32 {m}x{k}x{n} against {wide} columns"
            );
            // u8 on the left: the same cut along the rows of `C = x W`.
            let w = rng.matrix(k, m);
            let mut narrow = Array2::from_elem((n, m), f32::NAN);
            let mut full = Array2::from_elem((wide, m), f32::NAN);
            for (x, c) in [
                (x_wide.slice(s![..n, ..]), &mut narrow),
                (x_wide.view(), &mut full),
            ] {
                gemm_u8_with_kernel(
                    kernel,
                    scale,
                    x,
                    w.view(),
                    0.0,
                    c.view_mut(),
                    Epilogue::None,
                );
            }
            assert_eq!(
                narrow,
                full.slice(s![..n, ..]),
                "{kernel:?} u8 {n}x{k}x{m} against {wide} rows"
            );
        }
    }
}

/// Full tiles of a `C'` with contiguous columns (`C' = C^T` of a row-major `C`, as in `grad W1`,
/// 100 x 256 x 784) that take `alpha * T` and nothing else are written by the AVX-512 and AVX2
/// kernels straight from their registers. They must get the bits of the same product written through
/// the tile store, here into every other column of a wider array (no contiguous column): for
/// `alpha` 1 and 0.5, and, where the store must not be skipped, `beta = 0.5` and a bias + ReLU.
#[test]
fn tiles_stored_from_the_registers_get_the_bits_of_the_tile_store() {
    let mut rng = Rng::new(14);
    let (m, k, n) = (100, 256, 784);
    let (a, b) = (rng.matrix(m, k), rng.matrix(k, n));
    let c0 = rng.matrix(m, n);
    let bias = rng.matrix(1, n).into_raw_vec_and_offset().0;
    let cases: [(f32, f32, Epilogue<'_>); 4] = [
        (1.0, 0.0, Epilogue::None),
        (0.5, 0.0, Epilogue::None),
        (1.0, 0.5, Epilogue::None),
        (1.0, 0.0, Epilogue::AddBiasRelu(&bias)),
    ];
    for kernel in kernels() {
        for (alpha, beta, epilogue) in cases {
            let mut direct = c0.clone();
            let mut spread = Array2::from_elem((m, 2 * n), f32::NAN);
            spread.slice_mut(s![.., ..;2]).assign(&c0);
            gemm_with_kernel(
                kernel,
                alpha,
                a.view(),
                b.view(),
                beta,
                direct.view_mut(),
                epilogue,
            );
            let strided = spread.slice_mut(s![.., ..;2]);
            gemm_with_kernel(kernel, alpha, a.view(), b.view(), beta, strided, epilogue);
            assert_eq!(
                direct,
                spread.slice(s![.., ..;2]),
                "{kernel:?} alpha {alpha} beta {beta} {epilogue:?}"
            );
        }
    }
}
