//! Every scheduler drives Adam as PyTorch's does: the same lr sequences as on SGD (every case of
//! `tests/fixtures/pytorch_schedules.json`, to 1e-12), and where `CyclicLR` and `OneCycleLR`
//! cycle the momentum, Adam's `betas[0]` takes PyTorch's momentum values (PyTorch's
//! `use_beta1`), while `betas[1]` is left alone.

use optim::{Adam, AdamConfig, ParamGroups, Scheduler, SchedulerConfig};
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

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(f64::MIN_POSITIVE)
}

/// Adam with the case's lr (0.1 unless it says otherwise) and its momentum as `betas[0]`.
fn adam_of(case: &Value) -> Adam {
    let overrides = case.get("optimizer");
    let get = |key: &str| overrides.and_then(|o| o.get(key)).and_then(Value::as_f64);
    let config = AdamConfig {
        lr: get("lr").unwrap_or(0.1),
        betas: [get("momentum").unwrap_or(0.9), 0.999],
        ..AdamConfig::default()
    };
    Adam::new(&config, &[3]).expect("a valid Adam")
}

#[test]
fn every_scheduler_case_drives_adam_as_pytorch_does() {
    let fixtures = fixtures();
    let cases = fixtures["schedulers"].as_array().expect("schedulers list");
    let mut cycled = 0;
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let config: SchedulerConfig =
            serde_json::from_value(case["scheduler"].clone()).expect("config parses");
        let mut opt = adam_of(case);
        let mut sched = Scheduler::new(&config, &mut opt).unwrap_or_else(|e| panic!("{id}: {e}"));
        let steps = case["steps"].as_u64().expect("steps") as usize;
        let want_lr = f64s(&case["expected_lr"]);
        let want_momentum = case.get("expected_momentum").map(f64s);
        cycled += usize::from(want_momentum.is_some());
        let metrics = case.get("metrics").map(f64s);
        let mut params = vec![0.5f32, -0.25, 1.0];
        for k in 0..=steps {
            if k > 0 {
                opt.step(&mut [&mut params], &[&[0.1, 0.2, -0.3]])
                    .expect("step");
                match &metrics {
                    Some(m) => drop(sched.step_with_metric(&mut opt, m[k - 1])),
                    None => sched.step(&mut opt).unwrap_or_else(|e| panic!("{id}: {e}")),
                }
            }
            assert!(close(opt.lr(0), want_lr[k]), "{id}: lr after {k} steps");
            if let Some(m) = &want_momentum {
                let beta1 = ParamGroups::momentum(&opt, 0);
                assert!(
                    close(beta1, m[k]),
                    "{id}: betas[0] after {k}: {beta1} vs {}",
                    m[k]
                );
            }
            assert_eq!(
                opt.groups()[0].betas[1],
                0.999,
                "{id}: betas[1] is not cycled"
            );
        }
    }
    assert!(
        cycled >= 2,
        "the fixture cycles the momentum in {cycled} cases"
    );
}
