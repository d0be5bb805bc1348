//! Lesson: a learning-rate schedule printed as a table, and what the tutorial's loop did to it.
//!
//! ```sh
//! cargo run --example schedule_table
//! ```
//!
//! The scheduler is built from its PyTorch description (the `[scheduler]` table of a run
//! config). Each row is one epoch of the canonical PyTorch >= 1.1 loop: train with the lr in use
//! (`last_lr()`), then `scheduler.step()`. The other columns replay the tutorial's loop, which
//! called `scheduler.step()` at the START of each epoch and printed `scheduler.get_lr()`.

use std::error::Error;

use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};

/// The tutorial's first experiment: `StepLR(optimizer, step_size=4, gamma=0.96)`.
const STEP_SIZE: u64 = 4;
const GAMMA: f64 = 0.96;
const EPOCHS: u32 = 12;

fn main() -> Result<(), Box<dyn Error>> {
    let description = format!("name = 'StepLR'\nstep_size = {STEP_SIZE}\ngamma = {GAMMA}");
    let config: SchedulerConfig = toml::from_str(&description)?;
    let sgd_config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    // One dummy parameter: the schedule does not depend on the model.
    let mut param = [0.0f32];
    let grad = [0.0f32];

    // The right order: optimizer steps first, then the scheduler.
    let mut sgd = Sgd::new(&sgd_config, &[1])?;
    let mut sched = Scheduler::new(&config, &mut sgd)?; // writes lr(t = 0) = 0.1
                                                        // The tutorial's order: the scheduler first, then the epoch's optimizer steps.
    let mut sgd_t = Sgd::new(&sgd_config, &[1])?;
    let mut sched_t = Scheduler::new(&config, &mut sgd_t)?;

    println!(
        "{}(step_size={STEP_SIZE}, gamma={GAMMA}), base lr 0.1\n",
        config.name()
    );
    println!(
        "{:>5}  {:>10}  {:>16}  {:>20}",
        "epoch", "lr in use", "tutorial's lr", "tutorial printed"
    );
    for epoch in 0..EPOCHS {
        // Canonical loop: the epoch trains with last_lr(), then the scheduler advances.
        let used = sched.last_lr()[0];
        sgd.step(&mut [&mut param], &[&grad])?;
        sched.step(&mut sgd)?;

        // Tutorial loop: scheduler.step() first (skipping lr(t = 0)), then train.
        sched_t.step(&mut sgd_t)?;
        let used_t = sched_t.last_lr()[0];
        // What `get_lr()` printed: PyTorch's chainable StepLR rule ("at a multiple of
        // step_size, multiply the CURRENT lr by gamma") applied once more to an lr that the
        // step had already decayed. This crate has no get_lr(); we spell the rule out here.
        let t = sched_t.steps();
        let printed = if t % STEP_SIZE == 0 {
            used_t * GAMMA
        } else {
            used_t
        };
        sgd_t.step(&mut [&mut param], &[&grad])?;

        println!("{epoch:>5}  {used:>10.6}  {used_t:>16.6}  {printed:>20.6}");
    }
    // Stepping the scheduler before any optimizer step is reported, as PyTorch warns.
    for warning in sched_t.warnings() {
        println!(
            "\nwarning recorded at scheduler step {}: {}",
            warning.at_step, warning.message
        );
    }
    Ok(())
}
