//! Writes the seed corpus: valid files the fuzzers start mutating from, so they reach the
//! name/dtype/shape checks and the metadata instead of stopping at the header length.
//!
//! `cargo run --example make_seeds` (from this directory) fills `corpus/safetensors_load/` and
//! `corpus/checkpoint_meta/` with: a tiny model (4-3-2), the brief's 784-3-10 model, PyTorch's own
//! 784-100-10 file from `tests/fixtures/`, and a tiny checkpoint whose `__metadata__` carries a
//! `trainer_state` JSON shaped like the one `trainer train` writes.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use autograd_lite::Mlp;
use safetensors::tensor::{serialize, Dtype, TensorView};

/// A trainer checkpoint's state (format 2) for a 4-3-2 model, as `checkpoint::save` writes it
/// (the momentum buffers are the `optimizer.momentum_buffer.*` tensors).
const TRAINER_STATE: &str = r#"{"format":2,"config":"epochs = 1\nseed = 0\n","hidden":3,"epochs_done":1,"step":2,"progress":{"batches_done":1,"loss_sum":1.5,"correct":3,"seen":4,"train_seconds":0.01,"first_lr":0.1},"metrics":[{"epoch":1,"lr":0.1,"train_loss":0.57,"train_accuracy":79.6,"test_loss":0.45,"test_accuracy":83.37,"train_seconds":0.48,"epoch_seconds":0.5}],"sgd":{"groups":[{"lr":0.05,"initial_lr":0.1,"momentum":0.9,"dampening":0.0,"weight_decay":0.0,"nesterov":true,"maximize":false,"tensor_lens":[12,3,6,2]}],"momentum_buffers":[],"step_count":2},"scheduler":{"node":{"Formula":{"base":{"name":"StepLR","base_lrs":[0.1],"last_epoch":1,"step_count":2,"last_lr":[0.05]},"rule":{"Step":{"step_size":1,"gamma":0.5}}}},"user_steps":1,"warnings":[]}}"#;

fn checkpoint(mlp: &Mlp) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> = mlp
        .params()
        .iter()
        .map(|p| p.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    // The momentum buffers: the weights scaled down, under the optimizer's names.
    let buffers: Vec<Vec<u8>> = mlp
        .params()
        .iter()
        .map(|p| p.iter().flat_map(|v| (v * 0.01).to_le_bytes()).collect())
        .collect();
    let names: Vec<String> = Mlp::PARAM_NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(
            Mlp::PARAM_NAMES
                .iter()
                .map(|n| format!("optimizer.momentum_buffer.{n}")),
        )
        .collect();
    let shapes = mlp.param_shapes().into_iter().chain(mlp.param_shapes());
    let views: Vec<_> = names
        .iter()
        .zip(shapes)
        .zip(bytes.iter().chain(&buffers))
        .map(|((name, shape), data)| {
            let view = TensorView::new(Dtype::F32, shape, data).expect("consistent tensor");
            (name.as_str(), view)
        })
        .collect();
    let metadata = HashMap::from([("trainer_state".to_string(), TRAINER_STATE.to_string())]);
    serialize(views, Some(metadata)).expect("eight consistent tensors serialise")
}

fn main() -> std::io::Result<()> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = here.join("../../../tests/fixtures/parity_nesterov_steplr.init.safetensors");
    let tiny = Mlp::new(4, 3, 2, 0);
    let seeds = [
        ("tiny_4_3_2.safetensors", tiny.to_safetensors()),
        (
            "mlp_784_3_10.safetensors",
            Mlp::new(784, 3, 10, 0).to_safetensors(),
        ),
        ("pytorch_784_100_10.safetensors", fs::read(fixture)?),
        ("checkpoint_4_3_2.safetensors", checkpoint(&tiny)),
    ];
    for target in ["safetensors_load", "checkpoint_meta"] {
        let dir = here.join("corpus").join(target);
        fs::create_dir_all(&dir)?;
        for (name, bytes) in &seeds {
            fs::write(dir.join(name), bytes)?;
        }
        println!("{}: {} seeds", dir.display(), seeds.len());
    }
    Ok(())
}
