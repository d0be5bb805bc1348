//! Adam's checks: PyTorch's constructor rules as errors, and a saved state that resumes bit for
//! bit or is refused when it cannot belong to this optimizer.

use optim::{Adam, AdamConfig, OptimError, WeightDecay};

fn gradient(step: usize, len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((step * 7 + i * 3) % 11) as f32 / 5.0 - 1.0)
        .collect()
}

fn run(adam: &mut Adam, p: &mut [f32], q: &mut [f32], steps: std::ops::Range<usize>) {
    for step in steps {
        adam.set_lr(0, 0.01 * (1.0 + step as f64 / 4.0))
            .expect("group 0");
        let (gp, gq) = (gradient(step, p.len()), gradient(step + 100, q.len()));
        adam.step(&mut [&mut *p, &mut *q], &[&gp, &gq])
            .expect("shapes match");
    }
}

#[test]
fn constructor_checks_follow_pytorch() {
    let bad = [
        AdamConfig {
            lr: -1e-3,
            ..AdamConfig::default()
        },
        AdamConfig {
            eps: -1.0,
            ..AdamConfig::default()
        },
        AdamConfig {
            weight_decay: f64::NAN,
            ..AdamConfig::default()
        },
        AdamConfig {
            betas: [1.0, 0.999],
            ..AdamConfig::default()
        },
        AdamConfig {
            betas: [0.9, -0.1],
            ..AdamConfig::default()
        },
    ];
    let keys = ["lr", "eps", "weight_decay", "betas[0]", "betas[1]"];
    for (config, key) in bad.iter().zip(keys) {
        match Adam::adamw(config, &[3]) {
            Err(OptimError::InvalidArgument { key: got, .. }) => assert_eq!(got, key),
            other => panic!("{config:?} gave {other:?}"),
        }
    }
    assert_eq!(AdamConfig::adamw_default().weight_decay, 1e-2);
    assert_eq!(AdamConfig::default().weight_decay, 0.0);
}

#[test]
fn a_saved_state_resumes_bit_for_bit() {
    for (kind, amsgrad) in [(WeightDecay::L2, false), (WeightDecay::Decoupled, true)] {
        let config = AdamConfig {
            weight_decay: 0.05,
            amsgrad,
            ..AdamConfig::default()
        };
        let build = || Adam::with_groups(kind, &[(config, vec![5, 3])]).expect("valid");
        let (mut p, mut q) = (vec![0.5f32; 5], vec![-0.25f32; 3]);
        let mut straight = build();
        run(&mut straight, &mut p, &mut q, 0..8);

        let (mut p2, mut q2) = (vec![0.5f32; 5], vec![-0.25f32; 3]);
        let mut first = build();
        run(&mut first, &mut p2, &mut q2, 0..4);
        let json = serde_json::to_string(&first.state()).expect("serialisable");
        let mut resumed = build();
        resumed
            .load_state(serde_json::from_str(&json).expect("round trip"))
            .expect("the state fits");
        run(&mut resumed, &mut p2, &mut q2, 4..8);
        assert_eq!((p, q), (p2, q2), "{kind:?}");
        assert_eq!(straight.state(), resumed.state());
    }
}

#[test]
fn states_that_cannot_belong_to_this_optimizer_are_refused() {
    let config = AdamConfig::default();
    let mut adam = Adam::new(&config, &[4]).expect("valid");
    let mut p = vec![1.0f32; 4];
    adam.step(&mut [&mut p], &[&[0.1, 0.2, 0.3, 0.4]])
        .expect("step");
    let good = adam.state();

    let refused = |state, what: &str| {
        let mut fresh = Adam::new(&config, &[4]).expect("valid");
        match fresh.load_state(state) {
            Err(e) => assert!(e.to_string().contains(what), "{what}: {e}"),
            Ok(()) => panic!("a state with {what} was accepted"),
        }
    };
    let mut state = good.clone();
    state.weight_decay = WeightDecay::Decoupled;
    refused(state, "weight decay");
    let mut state = good.clone();
    state.groups[0].tensor_lens = vec![5];
    refused(state, "lengths");
    let mut state = good.clone();
    state.groups[0].betas[1] = 1.5;
    refused(state, "betas[1]");
    let mut state = good.clone();
    if let Some(m) = state.moments[0].as_mut() {
        m.exp_avg_sq[2] = -1.0;
    }
    refused(state, "negative second moment");
    let mut state = good.clone();
    if let Some(m) = state.moments[0].as_mut() {
        m.exp_avg.pop();
    }
    refused(state, "do not fit");
    let mut state = good;
    if let Some(m) = state.moments[0].as_mut() {
        m.max_exp_avg_sq = Some(vec![0.0; 4]);
    }
    refused(state, "do not fit");
}
