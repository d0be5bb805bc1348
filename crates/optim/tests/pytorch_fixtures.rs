//! Every case of `tests/fixtures/pytorch_schedules.json` (PyTorch 2.15): scheduler lr and
//! momentum sequences to 1e-12 relative, SGD parameter trajectories bit for bit.

use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pytorch_schedules.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture file is part of the repository");
    serde_json::from_str(&text).expect("fixture is valid JSON")
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn f32s(v: &Value) -> Vec<f32> {
    f64s(v).into_iter().map(|x| x as f32).collect()
}

fn assert_close(id: &str, what: &str, k: usize, got: f64, want: f64) {
    let tolerance = 1e-12 * want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= tolerance,
        "{id}: {what} after {k} steps is {got:e}, PyTorch gives {want:e} (diff {:e})",
        got - want
    );
}

/// The optimizer of a fixture case: SGD(lr=0.1, momentum=0.9) unless the case says otherwise.
fn optimizer_of(case: &Value) -> Sgd {
    let mut config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    };
    if let Some(overrides) = case.get("optimizer") {
        let mut merged = serde_json::json!({"lr": 0.1, "momentum": 0.9});
        for (k, v) in overrides.as_object().expect("optimizer is an object") {
            merged[k] = v.clone();
        }
        config = serde_json::from_value(merged).expect("fixture optimizer parses");
    }
    Sgd::new(&config, &[3]).expect("fixture optimizer is valid")
}

#[test]
fn every_scheduler_case_matches_pytorch() {
    let fixtures = fixtures();
    let cases = fixtures["schedulers"].as_array().expect("schedulers list");
    assert!(cases.len() >= 15);
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let config: SchedulerConfig = serde_json::from_value(case["scheduler"].clone())
            .unwrap_or_else(|e| panic!("{id}: config does not parse: {e}"));
        let mut opt = optimizer_of(case);
        let mut sched = Scheduler::new(&config, &mut opt).unwrap_or_else(|e| panic!("{id}: {e}"));
        let steps = case["steps"].as_u64().expect("steps") as usize;
        let want_lr = f64s(&case["expected_lr"]);
        let want_momentum = case.get("expected_momentum").map(f64s);
        let metrics = case.get("metrics").map(f64s);
        assert_eq!(want_lr.len(), steps + 1, "{id}");
        let mut params = vec![0.5f32, -0.25, 1.0];
        let grads = [0.1f32, 0.2, -0.3];
        for k in 0..=steps {
            if k > 0 {
                opt.step(&mut [&mut params], &[&grads]).expect("step");
                match &metrics {
                    Some(m) => {
                        sched
                            .step_with_metric(&mut opt, m[k - 1])
                            .unwrap_or_else(|e| panic!("{id}: {e}"));
                    }
                    None => sched.step(&mut opt).unwrap_or_else(|e| panic!("{id}: {e}")),
                }
            }
            assert_close(id, "lr", k, opt.lr(0), want_lr[k]);
            assert_close(id, "last_lr", k, sched.last_lr()[0], want_lr[k]);
            if let Some(m) = &want_momentum {
                assert_close(id, "momentum", k, opt.momentum(0), m[k]);
            }
        }
        assert!(
            sched.warnings().is_empty(),
            "{id}: unexpected warnings {:?}",
            sched.warnings()
        );
    }
}

#[test]
fn every_sgd_case_matches_pytorch_bit_for_bit() {
    let fixtures = fixtures();
    let cases = fixtures["sgd"].as_array().expect("sgd list");
    assert!(cases.len() >= 6);
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let config: SgdConfig =
            serde_json::from_value(case["sgd"].clone()).expect("sgd config parses");
        let mut params = f32s(&case["initial"]);
        let mut opt = Sgd::new(&config, &[params.len()]).expect("valid config");
        let grads = case["grads"].as_array().expect("grads");
        let lrs = f64s(&case["lrs"]);
        let expected = case["expected_params"].as_array().expect("expected_params");
        assert_eq!(grads.len(), expected.len());
        for (i, (grad, want)) in grads.iter().zip(expected).enumerate() {
            opt.set_lr(0, lrs[i]).expect("group 0 exists");
            let grad = f32s(grad);
            opt.step(&mut [&mut params], &[&grad]).expect("step");
            let want = f32s(want);
            for (j, (got, want)) in params.iter().zip(&want).enumerate() {
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{id}: step {i} element {j}: {got} vs PyTorch {want}"
                );
            }
        }
    }
}

/// The classes whose PyTorch reference is not a case of `pytorch_schedules.json`, and where it
/// is instead. Their lr is `B·λ(t)` or `L·λ(t)` with a Python lambda; what must match Python is
/// λ, and `lambda_formulas.rs` checks each against Python's values of the same lambda
/// (`tests/fixtures/formula_values.json`). A PyTorch case for them belongs in the fixture file
/// (made with PyTorch, as its README says), and then they leave this list.
const CHECKED_ELSEWHERE: [(&str, &str); 2] = [
    ("LambdaLR", "lambda_formulas.rs"),
    ("MultiplicativeLR", "lambda_formulas.rs"),
];

/// A scheduler added to `optim::SCHEDULER_NAMES` without a PyTorch case fails here.
#[test]
fn every_scheduler_has_a_pytorch_case() {
    let fixtures = fixtures();
    let cases = fixtures["schedulers"].as_array().expect("schedulers list");
    let has_case = |name: &str| {
        cases
            .iter()
            .any(|c| c["scheduler"]["name"].as_str() == Some(name))
    };
    for &name in optim::SCHEDULER_NAMES {
        let elsewhere = CHECKED_ELSEWHERE.iter().find(|(n, _)| *n == name);
        match elsewhere {
            None => assert!(
                has_case(name),
                "{name} has no case in tests/fixtures/pytorch_schedules.json"
            ),
            Some((_, test)) => {
                assert!(
                    !has_case(name),
                    "{name} has a PyTorch case now: take it out of CHECKED_ELSEWHERE"
                );
                let path = format!("{}/tests/{test}", env!("CARGO_MANIFEST_DIR"));
                let text = std::fs::read_to_string(&path).expect("the test file exists");
                assert!(
                    text.contains(&format!("name = '{name}'")),
                    "{test} does not check {name}"
                );
            }
        }
    }
}
