//! The blocked GEMM against the naive oracle and `matrixmultiply`, over awkward shapes,
//! transposes, strides, alpha/beta and epilogues, for every microkernel this CPU supports.

mod gemm_common;

use autograd_lite::gemm::{
    gemm, gemm_epilogue, gemm_u8, gemm_u8_with_kernel, gemm_with_kernel, naive_gemm,
    naive_gemm_epilogue, naive_gemm_u8, Epilogue, Kernel,
};
use gemm_common::{assert_close, bound, stored, Rng};
use ndarray::{s, Array2, ArrayView2};

fn kernels() -> Vec<Kernel> {
    [Kernel::Avx512, Kernel::Avx2, Kernel::Portable]
        .into_iter()
        .filter(|k| k.is_supported())
        .collect()
}

/// Runs one case with every transpose combination of A and B and compares with the oracle.
fn check_case(kernel: Kernel, m: usize, k: usize, n: usize, alpha: f32, beta: f32, rng: &mut Rng) {
    let a = rng.matrix(m, k);
    let b = rng.matrix(k, n);
    let c0 = rng.matrix(m, n);
    let mut want = c0.clone();
    naive_gemm(alpha, a.view(), b.view(), beta, want.view_mut());
    let tol = bound(alpha, a.view(), b.view(), beta, c0.view());
    for ta in [false, true] {
        for tb in [false, true] {
            let a_store = stored(&a, ta);
            let b_store = stored(&b, tb);
            let a_view = if ta { a_store.t() } else { a_store.view() };
            let b_view = if tb { b_store.t() } else { b_store.view() };
            let mut got = c0.clone();
            gemm_with_kernel(
                kernel,
                alpha,
                a_view,
                b_view,
                beta,
                got.view_mut(),
                Epilogue::None,
            );
            let what =
                format!("{kernel:?} m={m} k={k} n={n} alpha={alpha} beta={beta} ta={ta} tb={tb}");
            assert_close(got.view(), want.view(), &tol, &what);
        }
    }
}

#[test]
fn awkward_shapes_every_transpose_match_the_oracle() {
    let mut rng = Rng::new(1);
    for kernel in kernels() {
        let (mr, nr) = kernel.tile();
        let dims = [1, 2, 7, mr - 1, mr, mr + 1, nr - 1, nr + 1, 63, 65, 67];
        for (idx, &m) in dims.iter().enumerate() {
            let n = dims[(idx * 7 + 3) % dims.len()];
            let k = dims[(idx * 5 + 1) % dims.len()];
            check_case(kernel, m, k, n, 1.0, 0.0, &mut rng);
            check_case(kernel, n, m, k, 2.5, 1.0, &mut rng);
        }
        // Tall and wide, and a reduction of three KC blocks (k > 2 * 1024).
        check_case(kernel, 300, 13, 3, 1.0, 2.5, &mut rng);
        check_case(kernel, 3, 13, 300, 2.5, 0.0, &mut rng);
        check_case(kernel, 37, 2100, 29, 1.0, 1.0, &mut rng);
    }
}

#[test]
fn alpha_beta_grid_matches_the_oracle() {
    let mut rng = Rng::new(2);
    for kernel in kernels() {
        for alpha in [0.0, 1.0, 2.5] {
            for beta in [0.0, 1.0, 2.5] {
                check_case(kernel, 41, 53, 47, alpha, beta, &mut rng);
            }
        }
    }
}

#[test]
fn empty_dimensions() {
    let mut rng = Rng::new(3);
    // k = 0: C <- beta * C.
    let c0 = rng.matrix(5, 4);
    let mut c = c0.clone();
    gemm(
        1.0,
        Array2::zeros((5, 0)).view(),
        Array2::zeros((0, 4)).view(),
        2.5,
        c.view_mut(),
    );
    assert_eq!(c, c0.mapv(|x| 2.5 * x));
    // m = 0 and n = 0: nothing to do, nothing read.
    let mut c = Array2::<f32>::zeros((0, 4));
    gemm(
        1.0,
        rng.matrix(0, 3).view(),
        rng.matrix(3, 4).view(),
        1.0,
        c.view_mut(),
    );
    let mut c = Array2::<f32>::zeros((4, 0));
    gemm(
        1.0,
        rng.matrix(4, 3).view(),
        rng.matrix(3, 0).view(),
        1.0,
        c.view_mut(),
    );
    // k = 0 with beta = 0 ignores NaN in C.
    let mut c = Array2::from_elem((3, 2), f32::NAN);
    gemm(
        1.0,
        Array2::zeros((3, 0)).view(),
        Array2::zeros((0, 2)).view(),
        0.0,
        c.view_mut(),
    );
    assert!(c.iter().all(|&x| x == 0.0));
}

#[test]
fn beta_zero_ignores_nan_in_c_and_beta_one_propagates_it() {
    let mut rng = Rng::new(4);
    for kernel in kernels() {
        let (a, b) = (rng.matrix(70, 45), rng.matrix(45, 33));
        let mut want = Array2::zeros((70, 33));
        naive_gemm(1.0, a.view(), b.view(), 0.0, want.view_mut());
        let mut got = Array2::from_elem((70, 33), f32::NAN);
        gemm_with_kernel(
            kernel,
            1.0,
            a.view(),
            b.view(),
            0.0,
            got.view_mut(),
            Epilogue::None,
        );
        let tol = bound(1.0, a.view(), b.view(), 0.0, want.view());
        assert_close(got.view(), want.view(), &tol, "beta = 0 over NaN");
        let mut got = Array2::from_elem((70, 33), f32::NAN);
        gemm_with_kernel(
            kernel,
            1.0,
            a.view(),
            b.view(),
            1.0,
            got.view_mut(),
            Epilogue::None,
        );
        assert!(got.iter().all(|x| x.is_nan()), "beta = 1 must keep NaN");
    }
}

#[test]
fn non_contiguous_views_match_the_oracle() {
    let mut rng = Rng::new(5);
    for kernel in kernels() {
        let big_a = rng.matrix(90, 130);
        let big_b = rng.matrix(140, 80);
        // Every other row of A, every third column; B from an offset with a column step.
        let a = big_a.slice(s![..;2, 1..;3]); // 45 x 43
        let b = big_b.slice(s![3..46, ..;2]); // 43 x 40
        let bt_store = big_b.t().to_owned();
        let b_alt = bt_store.slice(s![..;2, 3..46]).reversed_axes(); // 43 x 40, strided transpose
        let mut big_c = rng.matrix(100, 90);
        let c0 = big_c.slice(s![5..95;2, 7..87;2]).to_owned(); // 45 x 40
        let original = big_c.clone();
        let mut want = c0.clone();
        naive_gemm(2.5, a, b, 2.5, want.view_mut());
        let tol = bound(2.5, a, b, 2.5, c0.view());
        for bv in [b, b_alt.view()] {
            big_c.slice_mut(s![5..95;2, 7..87;2]).assign(&c0);
            gemm_with_kernel(
                kernel,
                2.5,
                a,
                bv,
                2.5,
                big_c.slice_mut(s![5..95;2, 7..87;2]),
                Epilogue::None,
            );
            assert_close(
                big_c.slice(s![5..95;2, 7..87;2]),
                want.view(),
                &tol,
                "strided views",
            );
            // The elements between the strided ones are untouched.
            let mut expect = original.clone();
            expect
                .slice_mut(s![5..95;2, 7..87;2])
                .assign(&big_c.slice(s![5..95;2, 7..87;2]));
            assert_eq!(big_c, expect);
        }
    }
}

#[test]
fn epilogues_match_the_oracle() {
    let mut rng = Rng::new(6);
    for kernel in kernels() {
        for (m, k, n) in [(67, 45, 10), (10, 33, 100), (129, 600, 31)] {
            let (a, b, c0) = (rng.matrix(m, k), rng.matrix(k, n), rng.matrix(m, n));
            let bias: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
            for epilogue in [Epilogue::AddBias(&bias), Epilogue::AddBiasRelu(&bias)] {
                for beta in [0.0, 1.0] {
                    let mut want = c0.clone();
                    naive_gemm_epilogue(1.0, a.view(), b.view(), beta, want.view_mut(), epilogue);
                    let mut got = c0.clone();
                    gemm_with_kernel(
                        kernel,
                        1.0,
                        a.view(),
                        b.view(),
                        beta,
                        got.view_mut(),
                        epilogue,
                    );
                    let tol = bound(1.0, a.view(), b.view(), beta, c0.view());
                    assert_close(
                        got.view(),
                        want.view(),
                        &tol,
                        &format!("{kernel:?} {epilogue:?}"),
                    );
                    if let Epilogue::AddBiasRelu(_) = epilogue {
                        assert!(got.iter().all(|&x| x >= 0.0));
                        assert!(got.iter().any(|&x| x == 0.0) && got.iter().any(|&x| x > 0.0));
                    }
                }
            }
        }
    }
}

#[test]
fn u8_packing_equals_converting_first() {
    let mut rng = Rng::new(7);
    let alpha = 1.0 / 255.0;
    for kernel in kernels() {
        for (m, k, n, transposed) in [
            (67, 784, 100, false),
            (100, 45, 784, true),
            (33, 9, 11, false),
        ] {
            let x = rng.pixels(m, k);
            let x_store = if transposed {
                x.t().to_owned()
            } else {
                x.clone()
            };
            let x_view = if transposed {
                x_store.t()
            } else {
                x_store.view()
            };
            let w = rng.matrix(k, n);
            let bias: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
            let epilogue = Epilogue::AddBiasRelu(&bias);
            let mut got = Array2::from_elem((m, n), f32::NAN);
            gemm_u8_with_kernel(
                kernel,
                alpha,
                x_view,
                w.view(),
                0.0,
                got.view_mut(),
                epilogue,
            );
            // Bit for bit the same as materialising the f32 input and multiplying with alpha 1.
            let xf = x.mapv(|p| f32::from(p) * alpha);
            let mut converted = Array2::zeros((m, n));
            gemm_with_kernel(
                kernel,
                1.0,
                xf.view(),
                w.view(),
                0.0,
                converted.view_mut(),
                epilogue,
            );
            assert_eq!(got, converted, "{kernel:?} {m}x{k}x{n}");
            // And close to the oracle.
            let mut want = Array2::zeros((m, n));
            naive_gemm_u8(alpha, x.view(), w.view(), 0.0, want.view_mut(), epilogue);
            let tol = bound(1.0, xf.view(), w.view(), 0.0, want.view());
            assert_close(got.view(), want.view(), &tol, "gemm_u8 vs oracle");
        }
    }
    // The public entry point uses the detected kernel.
    let (x, w) = (rng.pixels(20, 30), rng.matrix(30, 7));
    let mut got = Array2::zeros((20, 7));
    gemm_u8(
        alpha,
        x.view(),
        w.view(),
        0.0,
        got.view_mut(),
        Epilogue::None,
    );
    let mut want = Array2::zeros((20, 7));
    gemm(
        1.0,
        x.mapv(|p| f32::from(p) * alpha).view(),
        w.view(),
        0.0,
        want.view_mut(),
    );
    assert_eq!(got, want);
}

fn sgemm_reference(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: &mut Array2<f32>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let s = |v: &ArrayView2<'_, f32>| (v.strides()[0], v.strides()[1]);
    let ((rsa, csa), (rsb, csb)) = (s(&a), s(&b));
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides describe live ndarray views of the stated shapes.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

#[test]
fn matches_matrixmultiply_on_the_mlp_shapes() {
    let mut rng = Rng::new(8);
    // (m, k, n, transpose A, transpose B): forward x W^T, weight gradient dY^T x, input gradient.
    for (m, k, n, ta, tb) in [
        (256, 784, 100, false, true),
        (100, 256, 784, true, false),
        (256, 100, 10, false, true),
        (10, 256, 100, true, false),
        (256, 10, 100, false, false),
    ] {
        let a = stored(&rng.matrix(m, k), ta);
        let b = stored(&rng.matrix(k, n), tb);
        let (a, b) = (
            if ta { a.t() } else { a.view() },
            if tb { b.t() } else { b.view() },
        );
        let c0 = rng.matrix(m, n);
        let mut want = c0.clone();
        sgemm_reference(1.0, a, b, 1.0, &mut want);
        let mut got = c0.clone();
        gemm_epilogue(1.0, a, b, 1.0, got.view_mut(), Epilogue::None);
        let tol = bound(1.0, a, b, 1.0, c0.view());
        assert_close(
            got.view(),
            want.view(),
            &tol,
            &format!("vs matrixmultiply {m}x{k}x{n}"),
        );
    }
}
