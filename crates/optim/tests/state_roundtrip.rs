//! A run interrupted after k steps and restored from JSON text continues bit-identically, for
//! every scheduler (and nested composites) and for SGD's momentum buffers.

mod common;

use common::scheduler_config;
use optim::{Scheduler, SchedulerState, Sgd, SgdConfig, SgdState};

const CONFIGS: &[&str] = &[
    "name = 'StepLR'\nstep_size = 3\ngamma = 0.5",
    "name = 'MultiStepLR'\nmilestones = [2, 5, 5]",
    "name = 'ConstantLR'\nfactor = 0.5\ntotal_iters = 4",
    "name = 'LinearLR'\nstart_factor = 0.1\ntotal_iters = 6",
    "name = 'ExponentialLR'\ngamma = 0.9",
    "name = 'PolynomialLR'\ntotal_iters = 6\npower = 2.0",
    "name = 'CosineAnnealingLR'\nT_max = 4\neta_min = 0.001",
    "name = 'LambdaLR'\nlr_lambda = { name = 'step', step_size = 3, gamma = 0.7 }",
    "name = 'MultiplicativeLR'\nlr_lambda = { name = 'constant', factor = 0.9 }",
    "name = 'LambdaLR'\nlr_lambda = 'min(1, (t + 1) / 5) * 0.5 * (1 + cos(pi * t / 20))'",
    "name = 'CyclicLR'\nbase_lr = 0.01\nmax_lr = 0.1\nstep_size_up = 3\nmode = 'triangular2'",
    "name = 'OneCycleLR'\nmax_lr = 0.1\ntotal_steps = 12",
    "name = 'CosineAnnealingWarmRestarts'\nT_0 = 2\nT_mult = 2\neta_min = 0.001",
    "name = 'ReduceLROnPlateau'\nfactor = 0.5\npatience = 1\ncooldown = 1",
    "name = 'SequentialLR'\nmilestones = [3]\n[[schedulers]]\nname = 'LinearLR'\nstart_factor = 0.1\ntotal_iters = 3\n[[schedulers]]\nname = 'CosineAnnealingWarmRestarts'\nT_0 = 3",
    "name = 'ChainedScheduler'\n[[schedulers]]\nname = 'ConstantLR'\nfactor = 0.5\ntotal_iters = 2\n[[schedulers]]\nname = 'ExponentialLR'\ngamma = 0.9",
    "name = 'SequentialLR'\nmilestones = [4]\n[[schedulers]]\nname = 'ChainedScheduler'\n[[schedulers.schedulers]]\nname = 'StepLR'\nstep_size = 2\n[[schedulers.schedulers]]\nname = 'ExponentialLR'\ngamma = 0.95\n[[schedulers]]\nname = 'ExponentialLR'\ngamma = 0.8",
];

const STEPS: usize = 12;
const METRICS: [f64; STEPS] = [
    1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.81, 0.7, 0.7,
];

fn optimizer() -> Sgd {
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-3,
        ..SgdConfig::default()
    };
    Sgd::with_groups(&[
        (config, vec![4, 2]),
        (
            SgdConfig {
                lr: 0.05,
                momentum: 0.5,
                ..config
            },
            vec![3],
        ),
    ])
    .expect("valid")
}

fn grads(step: usize) -> [Vec<f32>; 3] {
    let s = step as f32;
    [
        vec![0.3 - 0.1 * s, -0.2, 0.7 / (1.0 + s), 1e-3 * s],
        vec![0.05 * s, -1.5],
        vec![0.25, -0.125 * s, 0.6],
    ]
}

/// One (optimizer step, scheduler step); returns the bits of everything observable afterwards.
fn advance(
    opt: &mut Sgd,
    sched: &mut Scheduler,
    params: &mut [Vec<f32>; 3],
    step: usize,
) -> Vec<u64> {
    let g = grads(step);
    let [a, b, c] = params;
    opt.step(&mut [a, b, c], &[&g[0], &g[1], &g[2]])
        .expect("step");
    if sched.needs_metric() {
        sched
            .step_with_metric(opt, METRICS[step])
            .expect("metric step");
    } else {
        sched.step(opt).expect("scheduler step");
    }
    // After every step the optimizer holds the lr the scheduler set last (what a restore checks).
    sched
        .check_optimizer(opt)
        .unwrap_or_else(|e| panic!("{}: {e}", sched.name()));
    let mut bits: Vec<u64> = params
        .iter()
        .flatten()
        .map(|x| u64::from(x.to_bits()))
        .collect();
    for g in 0..opt.num_groups() {
        bits.extend([opt.lr(g).to_bits(), opt.momentum(g).to_bits()]);
    }
    bits.extend(sched.last_lr().iter().map(|x| x.to_bits()));
    bits
}

fn start() -> [Vec<f32>; 3] {
    [
        vec![0.5, -0.5, 1.0, 2.0],
        vec![0.1, 0.2],
        vec![-1.0, 0.0, 1.0],
    ]
}

#[test]
fn every_scheduler_resumes_bit_identically() {
    for toml in CONFIGS {
        let config = scheduler_config(toml);
        // The uninterrupted run.
        let mut opt = optimizer();
        let mut sched = Scheduler::new(&config, &mut opt).expect("valid");
        let mut params = start();
        let straight: Vec<Vec<u64>> = (0..STEPS)
            .map(|s| advance(&mut opt, &mut sched, &mut params, s))
            .collect();

        for k in [1, 4, 7] {
            let mut opt = optimizer();
            let mut sched = Scheduler::new(&config, &mut opt).expect("valid");
            let mut params = start();
            for s in 0..k {
                advance(&mut opt, &mut sched, &mut params, s);
            }
            let saved_opt = serde_json::to_string(&opt.state()).expect("encode");
            let saved_sched = serde_json::to_string(&sched.state()).expect("encode");
            drop((opt, sched));

            // PyTorch's order: build optimizer and scheduler, then load both states.
            let mut opt = optimizer();
            let mut sched = Scheduler::new(&config, &mut opt).expect("valid");
            opt.load_state(serde_json::from_str::<SgdState>(&saved_opt).expect("decode"))
                .expect("fits");
            sched
                .load_state(serde_json::from_str::<SchedulerState>(&saved_sched).expect("decode"))
                .expect("fits");
            for (s, want) in straight.iter().enumerate().skip(k) {
                let got = advance(&mut opt, &mut sched, &mut params, s);
                assert_eq!(
                    &got, want,
                    "{toml}\nresumed after {k} steps: step {s} differs"
                );
            }
        }
    }
}

#[test]
fn a_state_from_another_scheduler_or_optimizer_is_refused() {
    let mut opt = optimizer();
    let step = Scheduler::new(&scheduler_config(CONFIGS[0]), &mut opt).expect("valid");
    let mut exp = Scheduler::new(&scheduler_config(CONFIGS[4]), &mut opt).expect("valid");
    let err = exp
        .load_state(step.state())
        .expect_err("StepLR state into ExponentialLR");
    assert!(err.to_string().contains("StepLR"), "{err}");

    let small = Sgd::new(&SgdConfig::default(), &[4]).expect("valid");
    let err = opt.load_state(small.state()).expect_err("1 group into 2");
    assert!(err.to_string().contains("parameter groups"), "{err}");
}

/// A scheduler added to `optim::SCHEDULER_NAMES` without a config above fails here.
#[test]
fn every_scheduler_has_a_round_trip_config() {
    for &name in optim::SCHEDULER_NAMES {
        assert!(
            CONFIGS
                .iter()
                .any(|c| c.starts_with(&format!("name = '{name}'\n"))),
            "state_roundtrip.rs has no config for {name}"
        );
    }
}
