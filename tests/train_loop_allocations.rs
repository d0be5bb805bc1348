//! The training step allocates nothing after the first batch: the batch gather from the real
//! data (of the next batch, during the update, as `trainer` does it), the forward/backward
//! (`TrainStep`), and the Nesterov SGD update with its norms and a changing lr, over the last
//! 60 batches of an epoch (the short last one included). A counting
//! global allocator sees every allocation of every thread, rayon's included.
//!
//! Not counted: stepping a scheduler. Its formulas return one lr per parameter group in a small
//! `Vec`, like PyTorch's lists, so a per-step schedule adds a few small allocations per step
//! (the default job steps its schedule once per epoch).
//!
//! The loop runs inside a rayon pool, as `trainer train` runs it (`training::run`); this file
//! holds a single test so that no other test allocates while it counts.

use autograd_lite::{Mlp, TrainStep};
use fashion::{batches, find_data_dir, shuffled_order_into, Dataset, DropLast, Split};
use optim::{Sgd, SgdConfig};

// The counting allocator of `autograd-lite`'s allocation tests: the same code serves this
// binary (each test binary needs its own `#[global_allocator]`).
#[path = "../crates/autograd-lite/tests/counting_alloc/mod.rs"]
mod counting_alloc;

#[test]
fn the_last_sixty_steps_of_an_epoch_allocate_nothing() {
    const BATCH: usize = 256;
    const COUNTED: usize = 60;
    let dir = find_data_dir(None).expect("the repository ships data/fashion-mnist");
    let train = Dataset::load(&dir, Split::Train).expect("the training set loads");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a rayon pool");
    pool.install(|| {
        let mut mlp = Mlp::new(784, 100, 10, 0);
        let config = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            ..SgdConfig::default()
        };
        let lens: Vec<usize> = mlp.params().iter().map(|p| p.len()).collect();
        let mut sgd = Sgd::new(&config, &lens).unwrap();
        let mut step = TrainStep::new(&mlp, BATCH);
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        let mut order = Vec::new();
        shuffled_order_into(train.len(), 7, 0, &mut order);
        let all: Vec<&[usize]> = batches(&order, BATCH, DropLast::Keep).collect();
        let first = all.len() - COUNTED - 2;

        let (mut next_images, mut next_labels) = (Vec::new(), Vec::new());
        train.gather(all[first], &mut images, &mut labels);
        // Each step as `trainer`'s loop runs it: `images` holds batch `i`; the forward/backward
        // takes the proof of the last update that the step's copy of the weights is fresh;
        // then the SGD update and the gather of batch `i + 1` run as two rayon tasks. The first
        // two steps create what is created once (the momentum buffers, gather's buffers).
        let mut fresh = None;
        let mut seen = [(0.0f32, 0.0f64, 0.0f64); COUNTED];
        let mut loss_before = 0.0;
        let mut before = 0;
        for (steps, i) in (first..first + 2 + COUNTED).enumerate() {
            if steps == 2 {
                before = counting_alloc::allocations();
            }
            // StepLR(step_size = 20, gamma = 0.5), written into the group as a scheduler would.
            sgd.set_lr(0, 0.1 * 0.5f64.powi(steps as i32 / 20)).unwrap();
            let out = match fresh.take() {
                Some(fresh) => step.forward_backward_fresh(fresh, &images, &labels),
                None => step.forward_backward(&mlp, &images, &labels),
            };
            let (report, proof) = step.update(
                &mut mlp,
                |params, grads| sgd.step(params, grads).map(|r| r.tensors[0]),
                || {
                    if let Some(next) = all.get(i + 1) {
                        train.gather(next, &mut next_images, &mut next_labels);
                    }
                },
            );
            fresh = Some(proof);
            let report = report.unwrap();
            std::mem::swap(&mut images, &mut next_images);
            std::mem::swap(&mut labels, &mut next_labels);
            if steps == 0 {
                loss_before = out.loss;
            }
            if steps >= 2 {
                seen[steps - 2] = (out.loss, report.param_norm, report.lr);
            }
        }
        let allocations = counting_alloc::allocations() - before;

        assert_eq!(
            allocations, 0,
            "allocations in {COUNTED} steady-state steps"
        );
        // The steps did real work: the loss fell, the weights moved, the schedule stepped.
        let (last_loss, last_norm, last_lr) = seen[COUNTED - 1];
        assert!(last_loss < loss_before, "loss {loss_before} -> {last_loss}");
        assert!(last_norm.is_finite() && last_norm > 0.0);
        assert_eq!(
            last_lr,
            0.1 * 0.5f64.powi(3),
            "StepLR(20, 0.5) after 62 steps"
        );
        assert_eq!(
            all[all.len() - 1].len(),
            60_000 % BATCH,
            "the short last batch is counted"
        );
    });
}
