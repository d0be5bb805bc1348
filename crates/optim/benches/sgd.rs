//! One `Sgd::step` over the 784-100-10 MLP's four tensors (78,500 parameters), with the
//! default job's Nesterov momentum, and plain SGD without a buffer.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use optim::{Sgd, SgdConfig};

const LENS: [usize; 4] = [100 * 784, 100, 10 * 100, 10];

fn tensors(seed: u32) -> Vec<Vec<f32>> {
    LENS.iter()
        .map(|&n| {
            (0..n)
                .map(|i| {
                    ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion, name: &str, config: SgdConfig) {
    let mut sgd = Sgd::new(&config, &LENS).unwrap();
    let mut params = tensors(1);
    let grads: Vec<Vec<f32>> = tensors(7)
        .into_iter()
        .map(|g| g.iter().map(|x| x * 1e-3).collect())
        .collect();
    let grads: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
    c.bench_function(name, |b| {
        b.iter(|| {
            let mut p: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
            let report = sgd.step(&mut p, &grads).unwrap();
            black_box(report.tensors[0].param_norm)
        })
    });
}

fn sgd_step(c: &mut Criterion) {
    let nesterov = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    bench(c, "sgd step 78.5k nesterov", nesterov);
    let plain = SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    };
    bench(c, "sgd step 78.5k plain", plain);
}

criterion_group!(benches, sgd_step);
criterion_main!(benches);
