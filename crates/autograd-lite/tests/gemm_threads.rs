//! Bit-identical results for any thread count: 1 thread vs 2 and 3, on shapes big enough to
//! take the parallel path, in both kernel orientations, with several reduction blocks, and on
//! the unpacked path for short reductions.

mod gemm_common;

use autograd_lite::gemm::{gemm_epilogue, gemm_u8, Epilogue};
use gemm_common::{stored, Rng};
use ndarray::Array2;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

#[test]
fn one_thread_equals_two_and_three_bit_for_bit() {
    let mut rng = Rng::new(11);
    let pools = [pool(1), pool(2), pool(3)];
    // (m, k, n, B stored transposed): forward, weight gradient (other orientation), k over
    // two KC blocks, ragged, and a short reduction (the unpacked path, which needs B's rows
    // contiguous) large enough to be split.
    for (m, k, n, b_transposed) in [
        (256, 784, 100, true),
        (100, 256, 784, true),
        (97, 1100, 131, true),
        (301, 67, 257, true),
        (5001, 10, 100, false),
    ] {
        let a = rng.matrix(m, k);
        let b_store = stored(&rng.matrix(k, n), b_transposed);
        let b = if b_transposed {
            b_store.t()
        } else {
            b_store.view()
        };
        let c0 = rng.matrix(m, n);
        let bias: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
        let results: Vec<Array2<f32>> = pools
            .iter()
            .map(|p| {
                let mut c = c0.clone();
                p.install(|| {
                    gemm_epilogue(
                        2.5,
                        a.view(),
                        b,
                        1.0,
                        c.view_mut(),
                        Epilogue::AddBiasRelu(&bias),
                    )
                });
                c
            })
            .collect();
        assert!(results[0].iter().any(|&x| x > 0.0));
        for (t, r) in results.iter().enumerate().skip(1) {
            assert!(
                r.iter()
                    .zip(results[0].iter())
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{m}x{k}x{n}: {} threads differ from 1",
                t + 1
            );
        }
    }
}

#[test]
fn u8_input_is_thread_count_independent() {
    let mut rng = Rng::new(12);
    let x = rng.pixels(512, 784);
    let w = rng.matrix(100, 784);
    let run = |threads: usize| {
        let mut c = Array2::zeros((512, 100));
        pool(threads).install(|| {
            gemm_u8(
                1.0 / 255.0,
                x.view(),
                w.t(),
                0.0,
                c.view_mut(),
                Epilogue::None,
            )
        });
        c
    };
    let one = run(1);
    assert!(one.iter().any(|&v| v != 0.0));
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}
