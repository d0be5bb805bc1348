//! safetensors load/save with PyTorch's names: round trips, PyTorch's own file, and every kind of
//! bad file (missing, extra, wrong dtype, wrong shape, truncated, corrupted) giving a clear error.

use std::collections::HashMap;
use std::path::PathBuf;

use autograd_lite::{Mlp, WeightsError};
use safetensors::tensor::{serialize, Dtype, SafeTensors, TensorView};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// A safetensors file from `(name, dtype, shape)` triples, data filled with a pattern.
fn file(tensors: &[(&str, Dtype, Vec<usize>)]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, dtype, shape)| {
            let len = shape.iter().product::<usize>() * dtype.bitsize() / 8;
            (0..len).map(|i| (i % 7) as u8).collect()
        })
        .collect();
    let views: HashMap<String, TensorView<'_>> = tensors
        .iter()
        .zip(&data)
        .map(|((name, dtype, shape), d)| {
            (
                name.to_string(),
                TensorView::new(*dtype, shape.clone(), d).unwrap(),
            )
        })
        .collect();
    serialize(&views, None).unwrap()
}

fn good(h: usize) -> Vec<(&'static str, Dtype, Vec<usize>)> {
    vec![
        ("fc1.weight", Dtype::F32, vec![h, 12]),
        ("fc1.bias", Dtype::F32, vec![h]),
        ("fc2.weight", Dtype::F32, vec![3, h]),
        ("fc2.bias", Dtype::F32, vec![3]),
    ]
}

fn error(bytes: &[u8]) -> WeightsError {
    match Mlp::from_safetensors(bytes) {
        Ok(_) => panic!("a bad file was accepted"),
        Err(e) => e,
    }
}

#[test]
fn round_trip_is_bit_exact_and_uses_pytorch_names_shapes_and_dtype() {
    let mlp = Mlp::new(784, 100, 10, 3);
    let bytes = mlp.to_safetensors();
    assert_eq!(Mlp::from_safetensors(&bytes).unwrap(), mlp);

    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]);
    let w1 = file.tensor("fc1.weight").unwrap();
    assert_eq!((w1.dtype(), w1.shape()), (Dtype::F32, &[100usize, 784][..]));
    assert_eq!(file.tensor("fc2.bias").unwrap().shape(), &[10]);
    // Little-endian row-major: the bytes of fc1.weight[0][1] are at offset 4.
    assert_eq!(&w1.data()[4..8], &mlp.fc1.weight[[0, 1]].to_le_bytes());
}

#[test]
fn loads_the_file_pytorch_wrote_and_writes_it_back_identically() {
    let path = fixture("parity_nesterov_steplr.init.safetensors");
    let mlp = Mlp::load(&path).unwrap();
    assert_eq!((mlp.inputs(), mlp.hidden(), mlp.classes()), (784, 100, 10));
    // PyTorch's nn.Linear init: within ±1/sqrt(fan_in).
    assert!(mlp.fc1.weight.iter().all(|v| v.abs() <= 1.0 / 28.0));
    assert!(mlp.fc2.weight.iter().all(|v| v.abs() <= 0.1));
    let original = std::fs::read(&path).unwrap();
    let ours = SafeTensors::deserialize(&original).unwrap();
    for name in Mlp::PARAM_NAMES {
        let t = ours.tensor(name).unwrap();
        let k = Mlp::PARAM_NAMES.iter().position(|n| *n == name).unwrap();
        let bytes: Vec<u8> = mlp.params()[k]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(t.data(), bytes.as_slice(), "{name}");
    }
    assert_eq!(Mlp::from_safetensors(&mlp.to_safetensors()).unwrap(), mlp);
    assert_eq!(
        mlp.to_safetensors(),
        original,
        "the same bytes as safetensors.torch.save_file"
    );
}

#[test]
fn header_metadata_is_allowed_and_ignored() {
    // A checkpoint may carry its training state in the header's `__metadata__`.
    let mlp = Mlp::new(12, 5, 3, 4);
    let bytes: Vec<Vec<u8>> = mlp
        .params()
        .iter()
        .map(|p| p.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = Mlp::PARAM_NAMES
        .iter()
        .zip(mlp.param_shapes())
        .zip(&bytes)
        .map(|((name, shape), data)| (*name, TensorView::new(Dtype::F32, shape, data).unwrap()));
    let metadata = HashMap::from([("state".to_string(), "{\"step\": 3}".to_string())]);
    let file = serialize(views, Some(metadata)).unwrap();
    assert_eq!(Mlp::from_safetensors(&file).unwrap(), mlp);
}

#[test]
fn other_sizes_load_when_consistent() {
    let mlp = Mlp::from_safetensors(&file(&good(5))).unwrap();
    assert_eq!((mlp.inputs(), mlp.hidden(), mlp.classes()), (12, 5, 3));
}

#[test]
fn a_missing_tensor_is_named() {
    let mut tensors = good(5);
    tensors.remove(3);
    let e = error(&file(&tensors));
    assert!(
        matches!(e, WeightsError::MissingTensor { name: "fc2.bias" }),
        "{e:?}"
    );
    assert!(e.to_string().contains("`fc2.bias` is missing"), "{e}");
}

#[test]
fn an_unexpected_tensor_is_named() {
    let mut tensors = good(5);
    tensors.push(("fc3.weight", Dtype::F32, vec![2, 3]));
    let e = error(&file(&tensors));
    assert!(
        matches!(&e, WeightsError::UnexpectedTensor { name } if name == "fc3.weight"),
        "{e:?}"
    );
    assert!(e.to_string().contains("fc3.weight"), "{e}");
}

/// A trainer checkpoint keeps SGD's momentum buffers as `optimizer.*` tensors beside the
/// weights; the model loader reads the weights and skips them (`eval` and `--init-weights` take a
/// checkpoint).
#[test]
fn optimizer_tensors_of_a_checkpoint_are_skipped() {
    let mut tensors = good(5);
    tensors.push((
        "optimizer.momentum_buffer.fc1.weight",
        Dtype::F32,
        vec![5, 12],
    ));
    tensors.push(("optimizer.momentum_buffer.fc2.bias", Dtype::F32, vec![3]));
    let mlp = Mlp::from_safetensors(&file(&tensors)).unwrap();
    assert_eq!((mlp.inputs(), mlp.hidden(), mlp.classes()), (12, 5, 3));
    // Only the `optimizer.` prefix is skipped.
    let mut tensors = good(5);
    tensors.push(("optimizerx.momentum", Dtype::F32, vec![3]));
    assert!(matches!(
        error(&file(&tensors)),
        WeightsError::UnexpectedTensor { .. }
    ));
}

#[test]
fn a_wrong_dtype_is_named_with_the_fix() {
    let mut tensors = good(5);
    tensors[1].1 = Dtype::F64;
    let e = error(&file(&tensors));
    assert!(
        matches!(&e, WeightsError::WrongDtype { name: "fc1.bias", found } if found == "F64"),
        "{e:?}"
    );
    assert!(e.to_string().contains("expected F32"), "{e}");
}

#[test]
fn wrong_shapes_are_named_with_what_was_expected() {
    let cases: [(usize, Vec<usize>, &str, &str); 5] = [
        (2, vec![3, 4], "fc2.weight", "[classes, 5]"),
        (1, vec![4], "fc1.bias", "[5]"),
        (3, vec![4], "fc2.bias", "[3]"),
        (0, vec![60], "fc1.weight", "[hidden, inputs]"),
        (0, vec![0, 12], "fc1.weight", "[hidden, inputs]"),
    ];
    for (index, shape, name, expected) in cases {
        let mut tensors = good(5);
        tensors[index].2 = shape.clone();
        let e = error(&file(&tensors));
        match &e {
            WeightsError::WrongShape { name: n, found, .. } => {
                assert_eq!((*n, found), (name, &shape));
            }
            other => panic!("{name} {shape:?}: {other:?}"),
        }
        assert!(e.to_string().contains(expected), "{e}");
    }
}

#[test]
fn every_truncation_and_every_corrupted_header_byte_is_an_error_not_a_panic() {
    let bytes = file(&good(2));
    for len in 0..bytes.len() {
        assert!(
            Mlp::from_safetensors(&bytes[..len]).is_err(),
            "truncated to {len} bytes"
        );
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for i in 0..8 + header_len {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] ^= flip;
            // Either an error, or (a harmless change such as a space) a consistent model.
            if let Ok(mlp) = Mlp::from_safetensors(&bad) {
                assert_eq!(
                    mlp.params().iter().map(|p| p.len()).sum::<usize>(),
                    2 * 12 + 2 + 3 * 2 + 3
                );
            }
        }
    }
}

#[test]
fn hostile_sizes_are_rejected_before_anything_is_allocated_from_them() {
    // A header length far beyond the file.
    let mut bytes = u64::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    assert!(matches!(error(&bytes), WeightsError::Format(_)));
    // A header claiming an enormous tensor backed by 8 bytes.
    let header =
        br#"{"fc1.weight":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 8]);
    assert!(matches!(error(&bytes), WeightsError::Format(_)));
    // Not a safetensors file at all.
    let e = error(b"PK\x03\x04 this is a zip file");
    assert!(
        e.to_string().contains("not a valid safetensors file"),
        "{e}"
    );
}

#[test]
fn load_names_the_file_in_errors() {
    let dir = std::env::temp_dir().join(format!("autograd-lite-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("absent.safetensors");
    let e = Mlp::load(&missing).unwrap_err();
    assert!(matches!(e, WeightsError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("absent.safetensors"), "{e}");

    let bad = dir.join("bad.safetensors");
    let mut tensors = good(5);
    tensors[0].1 = Dtype::BF16;
    std::fs::write(&bad, file(&tensors)).unwrap();
    let e = Mlp::load(&bad).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("bad.safetensors") && message.contains("fc1.weight"),
        "{message}"
    );
    // The message holds the cause; a source() too would make error reports that walk the
    // chain (anyhow's `{:#}`) say it twice.
    assert!(std::error::Error::source(&e).is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}
