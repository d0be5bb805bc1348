//! The unpacked path for short reductions (`k <= 16` with row-contiguous `B` and `C`, taken by
//! the AVX-512 and AVX2 kernels): the same bits as the packed path, on every awkward shape,
//! epilogue and alpha/beta (`gemm_threads.rs` checks it for any thread count).

mod gemm_common;

use autograd_lite::gemm::{gemm_with_kernel, naive_gemm_epilogue, Epilogue, Kernel};
use gemm_common::{assert_close, bound, stored, Rng};

/// The AVX-512 and AVX2 kernels take the unpacked path on these operands (16- and 8-lane
/// vectors, so the shapes straddle both widths); the portable kernel packs them and sums every
/// element in the same order with the same fused multiply-adds, so they must agree to the bit.
/// All must also be within rounding of the oracle.
#[test]
fn unpacked_path_equals_the_packed_path_bit_for_bit() {
    let unpacked_kernels: Vec<Kernel> = [Kernel::Avx512, Kernel::Avx2]
        .into_iter()
        .filter(|k| k.is_supported())
        .collect();
    if unpacked_kernels.is_empty() {
        eprintln!("skipped: this CPU lacks AVX-512F and AVX2, so there is no unpacked path");
        return;
    }
    let mut rng = Rng::new(21);
    let dims = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100];
    let mut cases = 0;
    for k in 1..=16 {
        for (idx, &m) in dims.iter().enumerate() {
            let n = dims[(idx * 7 + k) % dims.len()];
            let alpha = [1.0, 2.5][k % 2];
            let beta = [0.0, 1.0, 2.5][(k + idx) % 3];
            let a = rng.matrix(m, k);
            let b = rng.matrix(k, n);
            let c0 = rng.matrix(m, n);
            let bias: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
            let epilogues = [
                Epilogue::None,
                Epilogue::AddBias(&bias),
                Epilogue::AddBiasRelu(&bias),
            ];
            for epilogue in epilogues {
                for a_transposed in [false, true] {
                    let a_store = stored(&a, a_transposed);
                    let a_view = if a_transposed {
                        a_store.t()
                    } else {
                        a_store.view()
                    };
                    let run = |kernel| {
                        let mut c = c0.clone();
                        gemm_with_kernel(
                            kernel,
                            alpha,
                            a_view,
                            b.view(),
                            beta,
                            c.view_mut(),
                            epilogue,
                        );
                        c
                    };
                    let packed = run(Kernel::Portable);
                    let mut want = c0.clone();
                    naive_gemm_epilogue(alpha, a.view(), b.view(), beta, want.view_mut(), epilogue);
                    let tol = bound(alpha, a.view(), b.view(), beta, c0.view());
                    for &kernel in &unpacked_kernels {
                        let unpacked = run(kernel);
                        let what = format!(
                            "{kernel} m={m} k={k} n={n} alpha={alpha} beta={beta} {epilogue:?} \
                             a^T={a_transposed}"
                        );
                        assert!(
                            unpacked
                                .iter()
                                .zip(packed.iter())
                                .all(|(x, y)| x.to_bits() == y.to_bits()),
                            "{what}: the unpacked path differs from the packed one"
                        );
                        assert_close(unpacked.view(), want.view(), &tol, &what);
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 16 * dims.len() * 3 * 2);
}
