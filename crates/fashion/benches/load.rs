//! How long loading the real data takes (gzip inflate + IDX parse + checks), and the
//! per-epoch shuffle and batch gather of the training loop.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use fashion::{batches, find_data_dir, shuffled_order_into, Dataset, DropLast, Split};

fn load(c: &mut Criterion) {
    let Ok(dir) = find_data_dir(None) else {
        eprintln!("no Fashion-MNIST data found; skipping the load benchmarks");
        return;
    };
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("train+test (4 files)", |b| {
        b.iter(|| {
            let train = Dataset::load(&dir, Split::Train).unwrap();
            let test = Dataset::load(&dir, Split::Test).unwrap();
            black_box((train.len(), test.len()))
        })
    });
    group.finish();

    let Ok(train) = Dataset::load(&dir, Split::Train) else {
        return;
    };
    let mut order = Vec::new();
    c.bench_function("shuffle 60000", |b| {
        let mut epoch = 0;
        b.iter(|| {
            epoch += 1;
            shuffled_order_into(train.len(), 0, epoch, &mut order);
            black_box(order[0])
        })
    });
    shuffled_order_into(train.len(), 0, 0, &mut order);
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    c.bench_function("gather one epoch, batch 256", |b| {
        b.iter(|| {
            for batch in batches(&order, 256, DropLast::Keep) {
                train.gather(batch, &mut images, &mut labels);
                black_box(images[0]);
            }
        })
    });
}

criterion_group!(benches, load);
criterion_main!(benches);
