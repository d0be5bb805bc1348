//! Property tests: the parser never panics on random bytes or on mutated valid files (plain
//! and gzipped), always agrees with the header it reports, and round-trips every array.

use std::io::Write;
use std::path::Path;

use fashion::idx::{self, IdxArray, IdxData};
use proptest::prelude::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Random small arrays of every element type (floats as bit patterns, so NaNs round-trip).
fn array() -> impl Strategy<Value = IdxArray> {
    (prop::collection::vec(1usize..4, 1..4), 0u8..6).prop_flat_map(|(dims, kind)| {
        let n: usize = dims.iter().product();
        let bytes = prop::collection::vec(any::<u8>(), n * 8);
        bytes.prop_map(move |b| {
            let data = match kind {
                0 => IdxData::U8(b[..n].to_vec()),
                1 => IdxData::I8(b[..n].iter().map(|&x| x as i8).collect()),
                2 => IdxData::I16(
                    b.chunks(2)
                        .take(n)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]))
                        .collect(),
                ),
                3 => IdxData::I32(
                    b.chunks(4)
                        .take(n)
                        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                ),
                4 => IdxData::F32(
                    b.chunks(4)
                        .take(n)
                        .map(|c| f32::from_bits(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                        .collect(),
                ),
                _ => IdxData::F64(
                    b.chunks(8)
                        .take(n)
                        .map(|c| {
                            f64::from_bits(u64::from_le_bytes([
                                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                            ]))
                        })
                        .collect(),
                ),
            };
            IdxArray::new(dims.clone(), data).unwrap()
        })
    })
}

/// A mutation of a byte string: overwrite, insert, delete or truncate.
#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    match *m {
        Mutation::Set(i, b) if len > 0 => bytes[i % len] = b,
        Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
        Mutation::Remove(i) if len > 0 => {
            bytes.remove(i % len);
        }
        Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
        _ => {}
    }
}

/// Decoding must either fail cleanly or return an array consistent with its own header.
fn decode_is_consistent(bytes: &[u8]) {
    if let Ok(a) = idx::decode(bytes, Path::new("prop")) {
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        assert_eq!(a.data.element_type(), a.element_type);
        // Whatever decoded must re-encode to a file that decodes to the same thing.
        let again = idx::decode(&idx::encode(&a), Path::new("prop")).unwrap();
        assert_eq!(idx::encode(&again), idx::encode(&a));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_is_consistent(&bytes);
    }

    #[test]
    fn random_bytes_behind_an_idx_magic_never_panic(
        code in prop_oneof![Just(8u8), Just(9), Just(0x0B), Just(0x0C), Just(0x0D), Just(0x0E), any::<u8>()],
        ndim in 0u8..6,
        rest in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut bytes = vec![0, 0, code, ndim];
        bytes.extend(rest);
        decode_is_consistent(&bytes);
        decode_is_consistent(&gzip(&bytes));
    }

    #[test]
    fn mutated_valid_files_never_panic(a in array(), ms in prop::collection::vec(mutation(), 1..4)) {
        let mut plain = idx::encode(&a);
        let mut gz = gzip(&plain);
        for m in &ms {
            apply(&mut plain, m);
            apply(&mut gz, m);
        }
        decode_is_consistent(&plain);
        decode_is_consistent(&gz);
    }

    #[test]
    fn every_array_round_trips(a in array()) {
        let plain = idx::encode(&a);
        let back = idx::decode(&plain, Path::new("prop")).unwrap();
        prop_assert_eq!(idx::encode(&back), plain.clone());
        let from_gz = idx::decode(&gzip(&plain), Path::new("prop")).unwrap();
        prop_assert_eq!(idx::encode(&from_gz), plain);
        prop_assert_eq!(back.dims, a.dims);
    }
}
