//! Any bytes through the steps of the trainer's checkpoint loader (`crates/trainer/checkpoint.rs`):
//! `Mlp::from_safetensors`, then `SafeTensors::read_metadata`, then the `__metadata__` string
//! `trainer_state` (and every other metadata string) parsed as JSON. Each step must return an
//! error or a value, never panic or allocate from a size the input does not justify; a file the
//! model loader accepts must also pass `read_metadata` (the loader relies on both agreeing).
#![no_main]

use autograd_lite::Mlp;
use libfuzzer_sys::fuzz_target;
use safetensors::SafeTensors;

fuzz_target!(|data: &[u8]| {
    let model = Mlp::from_safetensors(data);
    let Ok((header_len, meta)) = SafeTensors::read_metadata(data) else {
        assert!(model.is_err(), "the model loaded but read_metadata failed");
        return;
    };
    assert!(8 + header_len <= data.len(), "header longer than the file");
    let Some(strings) = meta.metadata() else {
        return;
    };
    for (key, json) in strings {
        assert!(
            key.len() + json.len() <= header_len,
            "metadata longer than the header"
        );
        // The checkpoint loader parses `trainer_state` into its own struct; any JSON value is
        // the superset. What parses must print again (a JSON value has no unprintable state).
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
            assert!(
                serde_json::to_string(&value).is_ok(),
                "{key}: parsed JSON does not print"
            );
        }
    }
});
