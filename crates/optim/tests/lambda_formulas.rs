//! `LambdaLR` and `MultiplicativeLR` with `lr_lambda` written as a formula in `t`: the lrs
//! PyTorch computes with the same Python lambda (Python's values from
//! `tests/fixtures/formula_values.json`), one formula per group, and errors before any work.

mod common;

use common::{assert_sequence, lr_sequence, scheduler_config};
use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};
use serde_json::Value;

/// Python's values of `formula` at t = 0 .. 60.
fn python_values(formula: &str) -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/formula_values.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture file is part of the repository");
    let json: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let cases = json["cases"].as_array().expect("cases");
    let case = cases
        .iter()
        .find(|c| c["formula"] == formula)
        .expect("the formula is in the fixture");
    let values = case["values"].as_array().expect("values");
    values.iter().map(|v| v.as_f64().expect("number")).collect()
}

const WARMUP_COSINE: &str = "min(1, (t + 1) / 5) * 0.5 * (1 + cos(pi * t / 20))";

#[test]
fn lambda_lr_with_a_formula_is_base_lr_times_pythons_value() {
    let config = format!("name = 'LambdaLR'\nlr_lambda = {WARMUP_COSINE:?}");
    let lrs = lr_sequence(&config, 40);
    // LambdaLR: lr_t = base_lr * lambda(t), base_lr = 0.1 (the common optimizer's lr).
    let want: Vec<f64> = python_values(WARMUP_COSINE)[..41]
        .iter()
        .map(|v| 0.1 * v)
        .collect();
    assert_sequence("LambdaLR with a warm-up cosine formula", &lrs, &want);
}

#[test]
fn multiplicative_lr_with_a_formula_multiplies_from_t_1() {
    let lrs = lr_sequence("name = 'MultiplicativeLR'\nlr_lambda = '0.95 ^ t'", 5);
    // MultiplicativeLR: lr_t = lr_(t-1) * lambda(t) for t >= 1.
    let mut want = vec![0.1];
    for t in 1..=5 {
        let last = want[t - 1];
        want.push(last * 0.95f64.powi(t as i32));
    }
    assert_sequence("MultiplicativeLR with a formula", &lrs, &want);
}

#[test]
fn one_formula_per_group() {
    let config = SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    };
    let mut opt = Sgd::with_groups(&[(config, vec![1]), (config, vec![1])]).expect("valid");
    let toml = "name = 'LambdaLR'\nlr_lambda = ['0.5 ^ t', 'max(0, 1 - t / 4)']";
    let mut sched = Scheduler::new(&scheduler_config(toml), &mut opt).expect("valid");
    let (mut a, mut b) = (vec![0.0f32], vec![0.0f32]);
    for t in 0..6 {
        let want = [0.1 * 0.5f64.powi(t), 0.1 * (1.0 - t as f64 / 4.0).max(0.0)];
        assert_eq!(sched.last_lr(), want, "t = {t}");
        opt.step(&mut [&mut a, &mut b], &[&[0.0], &[0.0]])
            .expect("step");
        sched.step(&mut opt).expect("step");
    }
}

#[test]
fn a_bad_formula_is_refused_when_the_config_is_read_with_its_column() {
    let err =
        toml::from_str::<SchedulerConfig>("name = 'LambdaLR'\nlr_lambda = 'min(1, t) * cosine(t)'")
            .expect_err("unknown function");
    let msg = err.to_string();
    assert!(
        msg.contains("column 13") && msg.contains("unknown name `cosine`") && msg.contains("cos"),
        "{msg}"
    );
    let err = toml::from_str::<SchedulerConfig>("name = 'LambdaLR'\nlr_lambda = '(t + 1'")
        .expect_err("unclosed");
    assert!(err.to_string().contains("expected `)`"), "{err}");
}

#[test]
fn a_formula_that_is_not_finite_at_t_0_is_refused_before_any_step() {
    for formula in ["1 / t", "ln(t)", "sqrt(t - 1)"] {
        let config = scheduler_config(&format!("name = 'LambdaLR'\nlr_lambda = {formula:?}"));
        let mut opt = common::sgd();
        let err = Scheduler::new(&config, &mut opt).expect_err("not finite at t = 0");
        let msg = err.to_string();
        assert!(
            msg.contains("lr_lambda") && msg.contains("t = 0"),
            "{formula}: {msg}"
        );
    }
}

#[test]
fn a_formula_config_round_trips_through_serde() {
    let config = scheduler_config(&format!("name = 'LambdaLR'\nlr_lambda = {WARMUP_COSINE:?}"));
    let text = format!("{config:?}");
    assert!(text.contains(WARMUP_COSINE), "{text}");
    let lambda: optim::LrLambda =
        serde_json::from_str(&format!("{WARMUP_COSINE:?}")).expect("a formula string");
    assert_eq!(
        serde_json::to_string(&lambda).expect("serialisable"),
        format!("{WARMUP_COSINE:?}")
    );
    let named: optim::LrLambda =
        serde_json::from_str(r#"{"name": "step", "step_size": 3, "gamma": 0.5}"#).expect("named");
    assert_eq!(
        serde_json::to_string(&named).expect("serialisable"),
        r#"{"name":"step","step_size":3,"gamma":0.5}"#
    );
}
