//! Criterion benches of the GEMM on the MLP's real shapes and on squares.
//!
//! Throughput is set to `2 m n k` elements per call, so criterion's "elem/s" reads as FLOP/s.
//! For each shape: our GEMM on 1 thread and on all threads (rayon pools built here),
//! `matrixmultiply::sgemm` (its thread count comes from `MATMUL_NUM_THREADS`, read once per
//! process; by default all physical cores, so run `MATMUL_NUM_THREADS=1 cargo bench --bench
//! gemm` for its single-thread figures), and the naive triple loop on the small shapes only.
//! `trainer bench gemm --threads N` prints the same comparison as a table in a few seconds.

use std::hint::black_box;
use std::time::Duration;

use autograd_lite::gemm::ndarray::{Array2, ArrayView2, ArrayViewMut2};
use autograd_lite::gemm::{gemm, gemm_u8, naive_gemm, Epilogue};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// `(label, m, k, n, A stored transposed, B stored transposed)` as the MLP lays them out.
const SHAPES: [(&str, usize, usize, usize, bool, bool); 9] = [
    ("forward_x_w1t", 256, 784, 100, false, true),
    ("grad_w1", 100, 256, 784, true, false),
    ("forward_h_w2t", 256, 100, 10, false, true),
    ("grad_h", 256, 10, 100, false, false),
    ("grad_w2", 10, 256, 100, true, false),
    ("test_pass", 10000, 784, 100, false, true),
    ("square", 256, 256, 256, false, false),
    ("square", 512, 512, 512, false, false),
    ("square", 1024, 1024, 1024, false, false),
];

/// The naive loop runs only below this many multiply-adds (it does ~1 GFLOP/s).
const NAIVE_MAX_MNK: usize = 3_000_000;

fn filled(dim: (usize, usize), seed: u32) -> Array2<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    Array2::from_shape_fn(dim, |_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    })
}

fn sgemm(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, mut c: ArrayViewMut2<'_, f32>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides describe live ndarray views of shapes m x k, k x n and
    // m x n, and `c` is borrowed mutably for the call.
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

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool for the bench")
}

fn bench_gemm(crit: &mut Criterion) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools = [(1, pool(1)), (all, pool(all))];
    for &(label, m, k, n, ta, tb) in &SHAPES {
        let mut group = crit.benchmark_group(format!("gemm/{label}_{m}x{k}x{n}"));
        group
            .throughput(Throughput::Elements((2 * m * n * k) as u64))
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(20);
        let a_store = filled(if ta { (k, m) } else { (m, k) }, 1);
        let b_store = filled(if tb { (n, k) } else { (k, n) }, 2);
        let a = if ta { a_store.t() } else { a_store.view() };
        let b = if tb { b_store.t() } else { b_store.view() };
        let mut c = Array2::<f32>::zeros((m, n));
        for (threads, pool) in &pools {
            group.bench_function(BenchmarkId::new("ours", format!("{threads}t")), |bench| {
                pool.install(|| bench.iter(|| gemm(1.0, black_box(a), b, 0.0, c.view_mut())))
            });
        }
        group.bench_function("matrixmultiply", |bench| {
            bench.iter(|| sgemm(black_box(a), b, c.view_mut()))
        });
        if m * n * k <= NAIVE_MAX_MNK {
            group.bench_function("naive", |bench| {
                bench.iter(|| naive_gemm(1.0, black_box(a), b, 0.0, c.view_mut()))
            });
        }
        if label == "forward_x_w1t" {
            // The real first layer: u8 pixels scaled by 1/255 while packing, bias + ReLU fused.
            let pixels = a_store.mapv(|x| ((x + 1.0) * 127.5) as u8);
            let bias = vec![0.1f32; n];
            for (threads, pool) in &pools {
                let id = BenchmarkId::new("ours_u8_bias_relu", format!("{threads}t"));
                group.bench_function(id, |bench| {
                    pool.install(|| {
                        bench.iter(|| {
                            gemm_u8(
                                1.0 / 255.0,
                                black_box(pixels.view()),
                                b,
                                0.0,
                                c.view_mut(),
                                Epilogue::AddBiasRelu(&bias),
                            )
                        })
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench_gemm);
criterion_main!(benches);
