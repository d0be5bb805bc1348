//! Every case of `tests/fixtures/pytorch_adam.json` (PyTorch 2.15, `foreach=False`): Adam,
//! Adam with L2 weight decay, AdamW, and AdamW with AMSGrad, 8 steps each with its own lr. The
//! parameters after every step and the moments at the end match PyTorch's bit for bit.

use optim::{Adam, AdamConfig};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pytorch_adam.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture file is part of the repository");
    let json: Value = serde_json::from_str(&text).expect("fixture is JSON");
    json["adam"].as_array().expect("adam cases").clone()
}

fn floats(value: &Value) -> Vec<f32> {
    let list = value.as_array().expect("a list of numbers");
    list.iter()
        .map(|v| v.as_f64().expect("a number") as f32)
        .collect()
}

/// The optimizer a case names, with PyTorch's keyword arguments over the class's defaults.
fn build(case: &Value, len: usize) -> Adam {
    let options = &case["optimizer"];
    let name = options["name"].as_str().expect("optimizer name");
    let mut config = match name {
        "Adam" => AdamConfig::default(),
        "AdamW" => AdamConfig::adamw_default(),
        other => panic!("unknown optimizer {other}"),
    };
    if let Some(wd) = options["weight_decay"].as_f64() {
        config.weight_decay = wd;
    }
    if let Some(amsgrad) = options["amsgrad"].as_bool() {
        config.amsgrad = amsgrad;
    }
    let built = match name {
        "Adam" => Adam::new(&config, &[len]),
        _ => Adam::adamw(&config, &[len]),
    };
    built.expect("fixture configs are valid")
}

#[test]
fn adam_and_adamw_match_pytorch_bit_for_bit() {
    let cases = cases();
    assert_eq!(cases.len(), 4);
    for case in &cases {
        let id = case["id"].as_str().expect("case id");
        let mut p = floats(&case["initial"]);
        let mut adam = build(case, p.len());
        let grads = case["grads"].as_array().expect("grads");
        let lrs = case["lrs"].as_array().expect("lrs");
        let expected = case["expected_params"].as_array().expect("expected params");
        for (step, ((grad, lr), want)) in grads.iter().zip(lrs).zip(expected).enumerate() {
            adam.set_lr(0, lr.as_f64().expect("lr"))
                .expect("group 0 exists");
            adam.step(&mut [&mut p], &[&floats(grad)])
                .expect("shapes match");
            assert_eq!(p, floats(want), "{id}: parameters after step {}", step + 1);
        }
        let moments = adam.moments(0).expect("the tensor has stepped");
        assert_eq!(
            moments.exp_avg,
            floats(&case["final_exp_avg"]),
            "{id}: exp_avg"
        );
        assert_eq!(
            moments.exp_avg_sq,
            floats(&case["final_exp_avg_sq"]),
            "{id}: exp_avg_sq"
        );
        assert_eq!(
            moments.step as f64,
            case["final_step"].as_f64().expect("step")
        );
    }
}
