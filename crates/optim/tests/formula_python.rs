//! Every formula of `tests/fixtures/formula_values.json` gives Python's value at t = 0 .. 60 to
//! 1e-12 (relative to the value, absolute below 1): what `LambdaLR` needs to match PyTorch with
//! the same Python lambda.

use optim::Formula;
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/formula_values.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture file is part of the repository");
    let json: Value = serde_json::from_str(&text).expect("fixture is JSON");
    json["cases"].as_array().expect("cases list").clone()
}

#[test]
fn formulas_match_python_to_1e_12() {
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "the fixture holds {} formulas",
        cases.len()
    );
    for case in cases {
        let text = case["formula"].as_str().expect("formula text");
        let formula = Formula::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let values = case["values"].as_array().expect("values");
        for (t, want) in values.iter().enumerate() {
            let want = want.as_f64().expect("a number");
            let got = formula.eval(t as f64);
            let tolerance = 1e-12 * want.abs().max(1.0);
            assert!(
                (got - want).abs() <= tolerance,
                "{text} at t = {t}: ours {got:e}, Python {want:e}"
            );
        }
    }
}
