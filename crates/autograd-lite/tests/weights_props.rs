//! Property tests of the safetensors loader on untrusted bytes: random files, valid files with a
//! few corrupted bytes anywhere, and random valid models (NaN, infinities and subnormals
//! included) that must survive a save and a load bit for bit. A panic anywhere fails the test.

use autograd_lite::{Mlp, WeightsError};
use proptest::prelude::*;
use proptest::sample::Index;
use safetensors::SafeTensors;

/// The header length a safetensors file declares in its first 8 bytes.
fn header_len(bytes: &[u8]) -> usize {
    let prefix: [u8; 8] = bytes[..8].try_into().expect("a file has an 8-byte prefix");
    usize::try_from(u64::from_le_bytes(prefix)).expect("a small header")
}

/// A loaded model is internally consistent and holds exactly the floats of the data section.
fn assert_consistent(mlp: &Mlp, data_section: usize) {
    let (i, h, c) = (mlp.inputs(), mlp.hidden(), mlp.classes());
    assert!(i > 0 && h > 0 && c > 0, "zero dimension in {i}-{h}-{c}");
    assert_eq!(
        mlp.param_shapes(),
        [vec![h, i], vec![h], vec![c, h], vec![c]]
    );
    let floats: usize = mlp.params().iter().map(|p| p.len()).sum();
    assert_eq!(4 * floats, data_section, "parameters vs data section bytes");
}

fn bits(mlp: &Mlp) -> Vec<u32> {
    mlp.params()
        .iter()
        .flat_map(|p| p.iter().map(|v| v.to_bits()))
        .collect()
}

/// Any f32, weighted towards the values a careless codec mangles: NaN with payloads and either
/// sign, infinities, signed zeros, subnormals.
fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => any::<u32>().prop_map(f32::from_bits),
        1 => (0u32..(1 << 23)).prop_map(f32::from_bits), // +subnormal (or +0)
        1 => (0u32..(1 << 23)).prop_map(|m| f32::from_bits(0x8000_0000 | m)), // -subnormal
        1 => (1u32..(1 << 23)).prop_map(|m| f32::from_bits(0x7f80_0000 | m)), // NaN payloads
        1 => prop::sample::select(vec![
            f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0,
            f32::MIN_POSITIVE, f32::MAX, f32::MIN, f32::EPSILON,
        ]),
    ]
}

/// A model `inputs-hidden-classes` (hidden 1..20) with every parameter drawn from [`any_f32`].
fn any_model() -> impl Strategy<Value = Mlp> {
    (1usize..12, 1usize..20, 1usize..6).prop_flat_map(|(i, h, c)| {
        let n = h * i + h + c * h + c;
        prop::collection::vec(any_f32(), n).prop_map(move |values| {
            let mut mlp = Mlp::new(i, h, c, 0);
            let mut rest = values.as_slice();
            for p in mlp.params_mut() {
                let (head, tail) = rest.split_at(p.len());
                p.copy_from_slice(head);
                rest = tail;
            }
            mlp
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random bytes are not a weights file: a format error that says so, never a panic.
    #[test]
    fn random_bytes_are_a_format_error(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let e = Mlp::from_safetensors(&bytes).expect_err("random bytes were accepted");
        prop_assert!(matches!(e, WeightsError::Format(_)), "{e:?}");
        prop_assert!(e.to_string().contains("not a valid safetensors file"), "{e}");
    }

    /// A header length that fits the file, then JSON-like text from the header's own alphabet:
    /// the loader gets past the length check into the JSON and name/shape checks, and still
    /// only returns errors or consistent models.
    #[test]
    fn random_headers_that_fit_never_panic(
        text in "[{}\\[\\]\",:0-9a-z_.]{0,200}",
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(&data);
        match Mlp::from_safetensors(&bytes) {
            Ok(mlp) => assert_consistent(&mlp, data.len()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// A valid file with 1..8 bytes changed anywhere loads a model with shapes that fit the
    /// file, or is rejected; if every change is in the data section it loads, with exactly
    /// those bytes changed.
    #[test]
    fn mutated_valid_files_load_consistently_or_fail(
        (i, h, c, seed) in (1usize..10, 1usize..20, 1usize..5, any::<u64>()),
        edits in prop::collection::vec((any::<Index>(), 1u8..=255), 1..8),
    ) {
        let original = Mlp::new(i, h, c, seed);
        let mut bytes = original.to_safetensors();
        let data_start = 8 + header_len(&bytes);
        let data_section = bytes.len() - data_start;
        for (at, flip) in &edits {
            let at = at.index(bytes.len());
            bytes[at] ^= flip;
        }
        let only_data = edits.iter().all(|(at, _)| at.index(bytes.len()) >= data_start);
        match Mlp::from_safetensors(&bytes) {
            Ok(mlp) => {
                assert_consistent(&mlp, data_section);
                if only_data {
                    // Each tensor's bytes, wherever the file puts them, are its parameters.
                    let file = SafeTensors::deserialize(&bytes).expect("the loader accepted it");
                    for (name, got) in Mlp::PARAM_NAMES.iter().zip(mlp.params()) {
                        let data = file.tensor(name).expect("the loader found it").data().to_vec();
                        let expected: Vec<u32> = data
                            .chunks_exact(4)
                            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect();
                        let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
                        prop_assert_eq!(got, expected, "{}", name);
                    }
                    // ...and only the edited bytes changed.
                    let changed = bits(&mlp)
                        .iter()
                        .zip(bits(&original))
                        .filter(|(a, b)| **a != *b)
                        .count();
                    prop_assert!(changed <= edits.len(), "{changed} floats changed");
                    prop_assert_eq!(mlp.param_shapes(), original.param_shapes());
                }
            }
            Err(e) => {
                prop_assert!(!only_data, "a data-only change was rejected: {e}");
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// Saving and loading any model gives back the same shapes and the same bits.
    #[test]
    fn any_model_round_trips_bit_exactly(mlp in any_model()) {
        let loaded = Mlp::from_safetensors(&mlp.to_safetensors()).expect("a saved model loads");
        prop_assert_eq!(loaded.param_shapes(), mlp.param_shapes());
        prop_assert_eq!(bits(&loaded), bits(&mlp));
    }
}
