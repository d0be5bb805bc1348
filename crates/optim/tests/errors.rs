//! Bad arguments and config typos are errors that name the key and what is allowed.

mod common;

use common::{scheduler_config, sgd};
use optim::{
    AdamConfig, OptimError, OptimizerConfig, ScheduleError, Scheduler, SchedulerConfig, Sgd,
    SgdConfig,
};

fn schedule_error(toml: &str) -> ScheduleError {
    let mut opt = sgd();
    Scheduler::new(&scheduler_config(toml), &mut opt).expect_err(toml)
}

fn assert_invalid(toml: &str, key: &str) {
    match schedule_error(toml) {
        ScheduleError::InvalidArgument { key: k, .. } => assert_eq!(k, key, "{toml}"),
        other => panic!("{toml}: expected an invalid `{key}`, got {other:?}"),
    }
}

#[test]
fn out_of_range_scheduler_arguments() {
    assert_invalid("name = 'StepLR'\nstep_size = 0", "step_size");
    assert_invalid("name = 'ConstantLR'\nfactor = 0.0", "factor");
    assert_invalid("name = 'ConstantLR'\nfactor = 1.5", "factor");
    assert_invalid("name = 'LinearLR'\nstart_factor = 0.0", "start_factor");
    assert_invalid("name = 'LinearLR'\nend_factor = 1.1", "end_factor");
    assert_invalid("name = 'CosineAnnealingLR'\nT_max = 0", "T_max");
    assert_invalid("name = 'CosineAnnealingWarmRestarts'\nT_0 = 0", "T_0");
    assert_invalid(
        "name = 'CosineAnnealingWarmRestarts'\nT_0 = 2\nT_mult = 0",
        "T_mult",
    );
    assert_invalid("name = 'OneCycleLR'\nmax_lr = 0.1", "total_steps");
    assert_invalid(
        "name = 'OneCycleLR'\nmax_lr = 0.1\ntotal_steps = 10\npct_start = 1.5",
        "pct_start",
    );
    assert_invalid(
        "name = 'OneCycleLR'\nmax_lr = 0.1\nepochs = 0\nsteps_per_epoch = 5",
        "epochs",
    );
    assert_invalid(
        "name = 'CyclicLR'\nbase_lr = 0.01\nmax_lr = [0.1, 0.2]",
        "max_lr",
    );
    assert_invalid("name = 'ReduceLROnPlateau'\nfactor = 1.0", "factor");
    assert_invalid("name = 'ReduceLROnPlateau'\npatience = -1", "patience");
    assert_invalid("name = 'SequentialLR'\nmilestones = []\n[[schedulers]]\nname = 'StepLR'\nstep_size = 1\n[[schedulers]]\nname = 'StepLR'\nstep_size = 1", "milestones");
    assert_invalid("name = 'ChainedScheduler'\nschedulers = []", "schedulers");
    assert_invalid("name = 'StepLR'\nstep_size = 2\ngamma = -0.5", "gamma");
    assert_invalid("name = 'StepLR'\nstep_size = 2\ngamma = 0.0", "gamma");
    assert_invalid(
        "name = 'MultiStepLR'\nmilestones = [2]\ngamma = nan",
        "gamma",
    );
    assert_invalid("name = 'ExponentialLR'\ngamma = -0.9", "gamma");
    let err = schedule_error("name = 'StepLR'\nstep_size = 0");
    assert_eq!(
        err.to_string(),
        "StepLR: invalid `step_size` = 0; allowed: an integer >= 1"
    );
}

#[test]
fn zero_length_one_cycle_phase_is_a_division_by_zero() {
    // pct_start·total_steps = 1: PyTorch raises ZeroDivisionError at construction.
    let err =
        schedule_error("name = 'OneCycleLR'\nmax_lr = 0.1\ntotal_steps = 10\npct_start = 0.1");
    assert!(
        matches!(
            err,
            ScheduleError::DivisionByZero {
                scheduler: "OneCycleLR",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn plateau_cannot_be_sequenced_or_chained() {
    let err =
        schedule_error("name = 'ChainedScheduler'\n[[schedulers]]\nname = 'ReduceLROnPlateau'");
    assert!(
        err.to_string()
            .contains("schedulers[0] is ReduceLROnPlateau"),
        "{err}"
    );
    let err = schedule_error("name = 'SequentialLR'\nmilestones = [2]\n[[schedulers]]\nname = 'StepLR'\nstep_size = 1\n[[schedulers]]\nname = 'SequentialLR'\nmilestones = []\n[[schedulers.schedulers]]\nname = 'StepLR'\nstep_size = 1");
    assert!(
        err.to_string().contains("schedulers[1] is a SequentialLR"),
        "{err}"
    );
}

#[test]
fn config_typos_name_the_key_and_the_allowed_ones() {
    let err =
        toml::from_str::<SchedulerConfig>("name = 'StepLR'\nstep_sise = 4").expect_err("typo");
    let msg = err.to_string();
    assert!(
        msg.contains("step_sise") && msg.contains("step_size") && msg.contains("gamma"),
        "{msg}"
    );

    let err =
        toml::from_str::<SchedulerConfig>("name = 'StepLr'\nstep_size = 4").expect_err("typo");
    let msg = err.to_string();
    assert!(
        msg.contains("StepLr") && msg.contains("StepLR") && msg.contains("ReduceLROnPlateau"),
        "{msg}"
    );

    let err = toml::from_str::<SchedulerConfig>("name = 'ReduceLROnPlateau'\nmode = 'maximum'")
        .expect_err("bad mode");
    let msg = err.to_string();
    assert!(
        msg.contains("`mode` = \"maximum\"") && msg.contains("\"min\", \"max\""),
        "{msg}"
    );

    let err = toml::from_str::<SchedulerConfig>(
        "name = 'LambdaLR'\nlr_lambda = { name = 'exp', gamma = 0.9 }",
    )
    .expect_err("bad lambda");
    let msg = err.to_string();
    assert!(msg.contains("exp") && msg.contains("exponential"), "{msg}");

    let err = serde_json::from_value::<SchedulerConfig>(
        serde_json::json!({"name": "CosineAnnealingLR", "t_max": 5}),
    )
    .expect_err("case matters");
    let msg = err.to_string();
    assert!(msg.contains("t_max") && msg.contains("T_max"), "{msg}");

    let err = toml::from_str::<OptimizerConfig>("name = 'SGD'\nlr = 0.1\nmomentun = 0.9")
        .expect_err("typo");
    let msg = err.to_string();
    assert!(
        msg.contains("momentun") && msg.contains("momentum") && msg.contains("nesterov"),
        "{msg}"
    );

    let err =
        toml::from_str::<OptimizerConfig>("name = 'Adagrad'\nlr = 0.1").expect_err("no Adagrad");
    let msg = err.to_string();
    assert!(
        msg.contains("Adagrad") && msg.contains("SGD") && msg.contains("AdamW"),
        "{msg}"
    );

    // A key of another optimizer is refused, naming it and the keys this one takes.
    for name in ["Adam", "AdamW"] {
        let err = toml::from_str::<OptimizerConfig>(&format!("name = '{name}'\nnesterov = true"))
            .expect_err("nesterov is SGD's");
        let msg = err.to_string();
        assert!(
            msg.contains("nesterov") && msg.contains("betas"),
            "{name}: {msg}"
        );
    }
    let err = toml::from_str::<OptimizerConfig>("name = 'SGD'\nbetas = [0.9, 0.99]")
        .expect_err("betas is Adam's");
    assert!(err.to_string().contains("betas"), "{err}");
}

#[test]
fn adam_and_adamw_configs_take_pytorchs_names_and_defaults() {
    let adam: OptimizerConfig = toml::from_str("name = 'Adam'").expect("valid");
    assert_eq!(adam, OptimizerConfig::Adam(AdamConfig::default()));
    let adamw: OptimizerConfig = toml::from_str("name = 'AdamW'").expect("valid");
    let OptimizerConfig::AdamW(c) = adamw else {
        panic!("{adamw:?}")
    };
    assert_eq!((c.lr, c.betas, c.eps), (1e-3, [0.9, 0.999], 1e-8));
    assert_eq!(c.weight_decay, 1e-2, "AdamW's default decay");
    let given: OptimizerConfig = toml::from_str(
        "name = 'AdamW'\nlr = 0.01\nbetas = [0.8, 0.99]\neps = 1e-6\nweight_decay = 0\namsgrad = true",
    )
    .expect("valid");
    let OptimizerConfig::AdamW(c) = given else {
        panic!("{given:?}")
    };
    assert_eq!(
        (c.lr, c.betas, c.eps, c.weight_decay),
        (0.01, [0.8, 0.99], 1e-6, 0.0)
    );
    assert!(c.amsgrad && !c.maximize);
    // It writes itself back as it was read.
    let text = toml::to_string(&given).expect("serialisable");
    assert_eq!(
        toml::from_str::<OptimizerConfig>(&text).expect("round trip"),
        given
    );
    // PyTorch's checks, naming the key.
    for (text, key) in [
        ("name = 'Adam'\nbetas = [1.0, 0.999]", "betas[0]"),
        ("name = 'AdamW'\nbetas = [0.9, -0.1]", "betas[1]"),
        ("name = 'Adam'\neps = -1e-8", "eps"),
        ("name = 'AdamW'\nlr = -0.1", "lr"),
        ("name = 'Adam'\nweight_decay = -1", "weight_decay"),
    ] {
        let config: OptimizerConfig = toml::from_str(text).expect("parses");
        let err = config.validate().expect_err(text).to_string();
        assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
        assert!(config.build(&[3]).is_err(), "{text}");
    }
}

#[test]
fn optimizer_config_parses_with_pytorch_defaults() {
    let config: OptimizerConfig =
        toml::from_str("name = 'SGD'\nlr = 0.1\nmomentum = 0.9\nnesterov = true").expect("valid");
    assert_eq!(
        config,
        OptimizerConfig::Sgd(SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            ..SgdConfig::default()
        })
    );
    let defaults: OptimizerConfig = toml::from_str("name = 'SGD'").expect("valid");
    assert_eq!(
        defaults,
        OptimizerConfig::Sgd(SgdConfig::default()),
        "PyTorch's current default lr, 1e-3"
    );
    assert!(config.build(&[3, 2]).is_ok());
}

#[test]
fn sgd_argument_checks() {
    let bad = |c: SgdConfig| Sgd::new(&c, &[1]).expect_err("invalid");
    let d = SgdConfig::default();
    assert!(matches!(
        bad(SgdConfig { lr: -0.1, ..d }),
        OptimError::InvalidArgument { key: "lr", .. }
    ));
    assert!(matches!(
        bad(SgdConfig {
            momentum: -0.9,
            ..d
        }),
        OptimError::InvalidArgument {
            key: "momentum",
            ..
        }
    ));
    // Above 1 the momentum buffer grows without bound (PyTorch accepts it; we do not).
    assert!(matches!(
        bad(SgdConfig { momentum: 1.5, ..d }),
        OptimError::InvalidArgument {
            key: "momentum",
            ..
        }
    ));
    Sgd::new(&SgdConfig { momentum: 1.0, ..d }, &[1]).expect("momentum 1 is allowed");
    assert!(matches!(
        bad(SgdConfig {
            weight_decay: -1e-4,
            ..d
        }),
        OptimError::InvalidArgument {
            key: "weight_decay",
            ..
        }
    ));
    assert!(matches!(
        bad(SgdConfig { lr: f64::NAN, ..d }),
        OptimError::InvalidArgument { key: "lr", .. }
    ));
    assert!(matches!(
        bad(SgdConfig {
            nesterov: true,
            ..d
        }),
        OptimError::NesterovNeedsMomentum { .. }
    ));
    let err = bad(SgdConfig {
        nesterov: true,
        momentum: 0.9,
        dampening: 0.1,
        ..d
    });
    assert!(err.to_string().contains("dampening"), "{err}");
    assert!(Sgd::with_groups(&[]).is_err());
}

#[test]
fn sgd_step_checks_tensor_counts_and_lengths() {
    let mut opt = Sgd::new(
        &SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        },
        &[2, 3],
    )
    .expect("valid");
    let (mut a, mut b) = (vec![0.0f32; 2], vec![0.0f32; 3]);
    let err = opt
        .step(&mut [&mut a], &[&[0.0; 2]])
        .expect_err("one tensor missing");
    assert_eq!(
        err,
        OptimError::TensorCount {
            expected: 2,
            params: 1,
            grads: 1
        }
    );
    let err = opt
        .step(&mut [&mut a, &mut b], &[&[0.0; 2], &[0.0; 2]])
        .expect_err("short grad");
    assert_eq!(
        err,
        OptimError::TensorLength {
            index: 1,
            expected: 3,
            param: 3,
            grad: 2
        }
    );
    assert_eq!(opt.step_count(), 0, "a refused step does nothing");
    assert!(opt.set_lr(2, 0.1).is_err());
}

#[test]
fn step_report_gives_the_norms_of_what_happened() {
    let mut opt = Sgd::new(
        &SgdConfig {
            lr: 0.5,
            momentum: 0.9,
            ..SgdConfig::default()
        },
        &[2],
    )
    .expect("valid");
    let mut p = vec![3.0f32, 4.0];
    let report = opt
        .step(&mut [&mut p], &[&[0.6, 0.8]])
        .expect("step")
        .tensors[0];
    // First momentum step: b = g, p -= 0.5·g.
    assert_eq!(p, vec![2.7, 3.6]);
    assert_eq!(report.lr, 0.5);
    assert!((report.grad_norm - 1.0).abs() < 1e-7);
    assert!((report.buffer_norm - 1.0).abs() < 1e-7);
    assert!((report.update_norm - 0.5).abs() < 1e-6);
    assert!((report.param_norm - 4.5).abs() < 1e-6);
}

#[test]
fn adamw_step_report_gives_the_norms_of_its_moments_and_step() {
    let config = AdamConfig {
        lr: 0.1,
        weight_decay: 0.5,
        ..AdamConfig::default()
    };
    let mut opt = optim::Adam::adamw(&config, &[2]).expect("valid");
    let mut p = vec![3.0f32, 4.0];
    let report = opt
        .step(&mut [&mut p], &[&[0.6, 0.8]])
        .expect("step")
        .tensors[0];
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let moments = opt.moments(0).expect("moments after the first step");
    let adam = report.adam.expect("Adam reports its moments");
    assert_eq!(adam.exp_avg_norm, norm(&moments.exp_avg));
    assert_eq!(adam.exp_avg_sq_norm, norm(&moments.exp_avg_sq));
    // First step: m̂ = g and √v̂ = |g|, so the moments' step is lr per value (up to ε) ...
    assert!(
        (adam.step_norm - 0.1 * 2f64.sqrt()).abs() < 1e-6,
        "{adam:?}"
    );
    // ... and the update adds the decoupled decay p·lr·λ = 0.05·p: (3, 4) -> (3 - 0.15 - 0.1,
    // 4 - 0.2 - 0.1).
    assert!((f64::from(p[0]) - 2.75).abs() < 1e-6 && (f64::from(p[1]) - 3.7).abs() < 1e-6);
    let update = (0.25f64.powi(2) + 0.3f64.powi(2)).sqrt();
    assert!((report.update_norm - update).abs() < 1e-6, "{report:?}");
    assert_eq!(report.param_norm, norm(&p));
    assert!((report.grad_norm - 1.0).abs() < 1e-7);
    assert_eq!((report.lr, report.buffer_norm), (0.1, 0.0));
}
