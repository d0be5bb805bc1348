//! One full training step of the default job: forward + backward through the tape for a batch of
//! 256 on the 784-100-10 MLP, then the real `optim::Sgd` update with Nesterov momentum (lr 0.1,
//! momentum 0.9) and its per-tensor norm report, as `trainer train` runs it. Also the
//! evaluation pass over 10,000 images.
//!
//! The pixels are synthetic (a fixed SplitMix64 stream), which costs the same as real ones: every
//! product is dense. `cargo bench --bench train_step`.

use std::hint::black_box;

use autograd_lite::{evaluate, Mlp, SplitMix64, TrainStep};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use optim::{Sgd, SgdConfig};

const BATCH: usize = 256;
const INPUTS: usize = 784;

fn synthetic(n: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = SplitMix64::new(seed);
    let images = (0..n * INPUTS)
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    let labels = (0..n).map(|_| (rng.next_u64() % 10) as u8).collect();
    (images, labels)
}

/// A pool (of `RAYON_NUM_THREADS` threads, by default one per core) of which this thread is
/// one, so that criterion's loop runs on a pool worker, as `trainer train` runs its loop (from
/// outside a pool every parallel GEMM would be a cross-thread hand-off). A thread can join only
/// one pool, so one run measures one thread count: `RAYON_NUM_THREADS=1 cargo bench --bench
/// train_step` for the single-thread figures.
fn pool_with_this_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build()
        .expect("a rayon pool")
}

fn train_step(c: &mut Criterion) {
    let (images, labels) = synthetic(8 * BATCH, 1);
    let (test_images, test_labels) = synthetic(10_000, 2);
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    let pool = pool_with_this_thread();
    let threads = pool.current_num_threads();
    {
        let mut mlp = Mlp::new(INPUTS, 100, 10, 0);
        let mut step = TrainStep::new(&mlp, BATCH);
        let lens = mlp.params().map(<[f32]>::len);
        let mut sgd = Sgd::new(&config, &lens).expect("valid SGD settings");
        let mut group = c.benchmark_group(format!("train_step/{threads}t"));
        group.throughput(Throughput::Elements(BATCH as u64));
        let mut i = 0;
        group.bench_function("784-100-10 batch 256: forward+backward+SGD", |b| {
            b.iter(|| {
                let x = &images[i * BATCH * INPUTS..(i + 1) * BATCH * INPUTS];
                let y = &labels[i * BATCH..(i + 1) * BATCH];
                i = (i + 1) % 8;
                let out = step.forward_backward(&mlp, x, y);
                let grads = step.grads();
                let mut params = mlp.params_mut();
                sgd.step(&mut params, &grads)
                    .expect("matching tensor lengths");
                black_box(out)
            })
        });
        group.bench_function("784-100-10 batch 256: forward+backward", |b| {
            b.iter(|| {
                black_box(step.forward_backward(&mlp, &images[..BATCH * INPUTS], &labels[..BATCH]))
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("evaluate/{threads}t"));
        group.throughput(Throughput::Elements(10_000));
        group.bench_function("784-100-10 on 10000 images", |b| {
            b.iter_batched_ref(
                Vec::new,
                |predictions| black_box(evaluate(&mlp, &test_images, &test_labels, predictions)),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, train_step);
criterion_main!(benches);
