//! Helpers shared by the integration tests.
#![allow(dead_code)]

use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};

/// Parse a scheduler description written as the `[scheduler]` table of a TOML config.
pub fn scheduler_config(toml_text: &str) -> SchedulerConfig {
    toml::from_str(toml_text)
        .unwrap_or_else(|e| panic!("test config does not parse: {e}\n{toml_text}"))
}

/// SGD(lr=0.1, momentum=0.9) on one tensor of three elements.
pub fn sgd() -> Sgd {
    Sgd::new(
        &SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..SgdConfig::default()
        },
        &[3],
    )
    .expect("valid")
}

/// Build, then run `steps` (optimizer step, scheduler step) pairs; the lr after construction
/// and after each step.
pub fn lr_sequence(toml_text: &str, steps: usize) -> Vec<f64> {
    let mut opt = sgd();
    let mut sched =
        Scheduler::new(&scheduler_config(toml_text), &mut opt).expect("valid scheduler");
    let mut params = vec![1.0f32, 2.0, 3.0];
    let mut lrs = vec![opt.lr(0)];
    for _ in 0..steps {
        opt.step(&mut [&mut params], &[&[0.1, 0.1, 0.1]])
            .expect("step");
        sched.step(&mut opt).expect("scheduler step");
        lrs.push(opt.lr(0));
    }
    lrs
}

/// Assert two sequences agree to 1e-12 relative.
pub fn assert_sequence(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: lengths differ: {got:?} vs {want:?}"
    );
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs(),
            "{what}: value {k} is {g}, expected {w}\n got  {got:?}\n want {want:?}"
        );
    }
}
