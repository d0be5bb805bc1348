//! Criterion benches of the GEMM on the MLP's real shapes and on squares (the list in
//! `autograd_lite::gemm::shapes`, which `trainer bench gemm` measures too).
//!
//! Throughput is set to `2 m n k` elements per call, so criterion's "elem/s" reads as FLOP/s.
//! For each shape: our GEMM on 1 thread and on all threads (rayon pools built here),
//! `matrixmultiply::sgemm` (its thread count comes from `MATMUL_NUM_THREADS`, read once per
//! process; by default all physical cores, so run `MATMUL_NUM_THREADS=1 cargo bench --bench
//! gemm` for its single-thread figures), and the naive triple loop on the small shapes only.
//! `trainer bench gemm --threads N` prints the same comparison as a table in a few seconds.

use std::hint::black_box;
use std::time::Duration;

use autograd_lite::gemm::ndarray::Array2;
use autograd_lite::gemm::shapes::{matrixmultiply_sgemm, SHAPES};
use autograd_lite::gemm::{gemm, gemm_u8, naive_gemm, Epilogue};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// The naive loop runs only below this many multiply-adds (it does ~1 GFLOP/s).
const NAIVE_MAX_MNK: usize = 3_000_000;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool for the bench")
}

fn bench_gemm(crit: &mut Criterion) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools = [(1, pool(1)), (all, pool(all))];
    for shape in &SHAPES {
        let (label, m, k, n) = (shape.label, shape.m, shape.k, shape.n);
        let mut group = crit.benchmark_group(format!("gemm/{label}_{m}x{k}x{n}"));
        group
            .throughput(Throughput::Elements((2 * m * n * k) as u64))
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(20);
        let operands = shape.operands();
        let (a, b) = (operands.a(), operands.b());
        let mut c = Array2::<f32>::zeros((m, n));
        for (threads, pool) in &pools {
            group.bench_function(BenchmarkId::new("ours", format!("{threads}t")), |bench| {
                pool.install(|| bench.iter(|| gemm(1.0, black_box(a), b, 0.0, c.view_mut())))
            });
        }
        group.bench_function("matrixmultiply", |bench| {
            bench.iter(|| matrixmultiply_sgemm(black_box(a), b, c.view_mut()))
        });
        if m * n * k <= NAIVE_MAX_MNK {
            group.bench_function("naive", |bench| {
                bench.iter(|| naive_gemm(1.0, black_box(a), b, 0.0, c.view_mut()))
            });
        }
        if label == "forward_x_w1t" {
            // The real first layer: u8 pixels scaled by 1/255 while packing, bias + ReLU fused.
            let pixels = operands.a_store.mapv(|x| ((x + 1.0) * 127.5) as u8);
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
