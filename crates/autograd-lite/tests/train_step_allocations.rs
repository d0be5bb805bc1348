//! The training step allocates nothing after the first batch: a counting global allocator sees
//! zero allocations (or reallocations) in 200 steady-state steps, across all threads (rayon's
//! included), for full batches, a short last batch, and full batches again.
//!
//! The steps run inside a rayon pool (`ThreadPool::install`), as a training loop should: a
//! parallel call from a thread outside the pool goes through rayon's global job queue, which
//! allocates a new block of slots every 63 jobs (about every 20 steps here).
//!
//! This file holds a single test so that no other test allocates while it counts.

use autograd_lite::{Mlp, SplitMix64, TrainStep};

mod counting_alloc;

use counting_alloc::allocations;

#[test]
fn steady_state_training_steps_allocate_nothing() {
    const BATCH: usize = 256;
    let mut mlp = Mlp::new(784, 100, 10, 0);
    let mut rng = SplitMix64::new(1);
    // Three batches worth of data: two full, one short (as the last batch of an epoch: 60000 % 256).
    let images: Vec<u8> = (0..3 * BATCH * 784)
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    let labels: Vec<u8> = (0..3 * BATCH)
        .map(|_| (rng.next_u64() % 10) as u8)
        .collect();
    let batch = |i: usize, n: usize| {
        (
            &images[i * BATCH * 784..][..n * 784],
            &labels[i * BATCH..][..n],
        )
    };
    let sizes = [BATCH, BATCH, 96, BATCH, 96, BATCH, BATCH, BATCH];

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a rayon pool");
    let sgd = |mlp: &mut Mlp, grads: [&[f32]; 4]| {
        for (p, g) in mlp.params_mut().into_iter().zip(grads) {
            p.iter_mut().zip(g).for_each(|(p, g)| *p -= 0.1 * g);
        }
    };
    pool.install(|| {
        let mut step = TrainStep::new(&mlp, BATCH);
        // The first batch may allocate (lazily created thread-local GEMM buffers).
        let (x, y) = batch(0, BATCH);
        let first = step.forward_backward(&mlp, x, y);
        sgd(&mut mlp, step.grads());

        const REPEATS: usize = 25;
        let before = allocations();
        let mut losses = [0.0f32; REPEATS * 8];
        for (i, &n) in sizes.iter().cycle().take(REPEATS * sizes.len()).enumerate() {
            let (x, y) = batch(i % 3, n);
            losses[i] = step.forward_backward(&mlp, x, y).loss;
            sgd(&mut mlp, step.grads());
        }
        let allocations = allocations() - before;

        assert_eq!(
            allocations,
            0,
            "allocations in {} steady-state training steps",
            losses.len()
        );
        // The steps did real work: the loss of batch 0 went down after training on it.
        assert!(
            losses[3] < first.loss,
            "loss {} -> {}",
            first.loss,
            losses[3]
        );
    });
}
