//! The IDX parser against hand-built files: every element type round-trips, gzip is
//! detected by magic, and every kind of bad input gets its own error naming the file.

use std::io::Write;
use std::path::Path;

use fashion::idx::{self, ElementType, IdxArray, IdxData, MAX_DIMS};
use fashion::Error;

const NAME: &str = "hand-built.idx";

fn file() -> &'static Path {
    Path::new(NAME)
}

/// A header: magic 00 00 TYPE NDIM, then big-endian u32 dims.
fn header(code: u8, dims: &[u32]) -> Vec<u8> {
    let mut out = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The error message must name the file.
fn err(bytes: &[u8]) -> Error {
    let e = idx::decode(bytes, file()).unwrap_err();
    assert!(
        e.to_string().contains(NAME),
        "message does not name the file: {e}"
    );
    e
}

#[test]
fn u8_file_parses_to_its_dims_and_bytes() {
    let mut bytes = header(0x08, &[2, 3]);
    bytes.extend_from_slice(&[1, 2, 3, 4, 5, 255]);
    let a = idx::parse(&bytes, file()).unwrap();
    assert_eq!(a.element_type, ElementType::U8);
    assert_eq!(a.dims, vec![2, 3]);
    assert_eq!(a.data, IdxData::U8(vec![1, 2, 3, 4, 5, 255]));
}

#[test]
fn multi_byte_types_are_big_endian() {
    // i16: 0x0102 = 258, 0xFFFE = -2
    let mut b = header(0x0B, &[2]);
    b.extend_from_slice(&[0x01, 0x02, 0xFF, 0xFE]);
    assert_eq!(
        idx::parse(&b, file()).unwrap().data,
        IdxData::I16(vec![258, -2])
    );
    // i32: 0x01020304, -1
    let mut b = header(0x0C, &[2]);
    b.extend_from_slice(&[1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert_eq!(
        idx::parse(&b, file()).unwrap().data,
        IdxData::I32(vec![0x0102_0304, -1])
    );
    // f32: 1.5 = 0x3FC00000
    let mut b = header(0x0D, &[1]);
    b.extend_from_slice(&[0x3F, 0xC0, 0, 0]);
    assert_eq!(
        idx::parse(&b, file()).unwrap().data,
        IdxData::F32(vec![1.5])
    );
    // f64: -2.0 = 0xC000000000000000
    let mut b = header(0x0E, &[1]);
    b.extend_from_slice(&[0xC0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        idx::parse(&b, file()).unwrap().data,
        IdxData::F64(vec![-2.0])
    );
    // i8: 0xFF = -1
    let mut b = header(0x09, &[2]);
    b.extend_from_slice(&[0xFF, 0x7F]);
    assert_eq!(
        idx::parse(&b, file()).unwrap().data,
        IdxData::I8(vec![-1, 127])
    );
}

#[test]
fn every_type_round_trips_through_encode_plain_and_gzip() {
    let arrays = [
        IdxArray::new(vec![2, 2], IdxData::U8(vec![0, 1, 254, 255])),
        IdxArray::new(vec![3], IdxData::I8(vec![-128, 0, 127])),
        IdxArray::new(vec![1, 3], IdxData::I16(vec![i16::MIN, 7, i16::MAX])),
        IdxArray::new(vec![2, 1, 1], IdxData::I32(vec![i32::MIN, i32::MAX])),
        IdxArray::new(vec![2], IdxData::F32(vec![-0.0, f32::MAX])),
        IdxArray::new(vec![2], IdxData::F64(vec![1e-300, -3.25])),
    ];
    for a in arrays {
        let a = a.unwrap();
        let plain = idx::encode(&a);
        assert_eq!(idx::decode(&plain, file()).unwrap(), a);
        let gz = gzip(&plain);
        assert!(idx::is_gzip(&gz) && !idx::is_gzip(&plain));
        assert_eq!(idx::decode(&gz, file()).unwrap(), a);
        // The raw form keeps the header bytes exactly as written.
        let raw = idx::decode_raw(&gz, file()).unwrap();
        assert_eq!(raw.header_bytes, plain[..raw.header.header_len()]);
    }
}

#[test]
fn concatenated_gzip_members_are_read_as_one_stream() {
    let mut bytes = header(0x08, &[4]);
    bytes.extend_from_slice(&[9, 8, 7, 6]);
    let mut gz = gzip(&bytes[..6]);
    gz.extend(gzip(&bytes[6..]));
    assert_eq!(
        idx::decode(&gz, file()).unwrap().data,
        IdxData::U8(vec![9, 8, 7, 6])
    );
}

#[test]
fn wrong_magic() {
    let mut b = header(0x08, &[1]);
    b[0] = 0x12;
    b.push(0);
    assert!(matches!(
        err(&b),
        Error::BadMagic {
            found: [0x12, 0],
            ..
        }
    ));
}

#[test]
fn unknown_type_byte() {
    let mut b = header(0x0A, &[1]);
    b.push(0);
    assert!(matches!(
        err(&b),
        Error::UnknownElementType { code: 0x0A, .. }
    ));
}

#[test]
fn zero_dimension_count() {
    assert!(matches!(
        err(&[0, 0, 8, 0, 1, 2]),
        Error::NoDimensions { .. }
    ));
}

#[test]
fn a_zero_dimension() {
    let b = header(0x08, &[3, 0, 2]);
    assert!(matches!(err(&b), Error::ZeroDimension { axis: 1, .. }));
}

#[test]
fn absurd_dimension_count() {
    let mut b = vec![0, 0, 8, (MAX_DIMS + 1) as u8];
    b.extend(std::iter::repeat_n(1u8, 4 * 255));
    assert!(matches!(err(&b), Error::TooManyDimensions { ndim, .. } if ndim == MAX_DIMS + 1));
    b[3] = 255;
    assert!(matches!(
        err(&b),
        Error::TooManyDimensions { ndim: 255, .. }
    ));
}

#[test]
fn overflowing_dimension_product() {
    // 2^32-1 cubed times 8 bytes overflows 64 bits.
    let b = header(0x0E, &[u32::MAX, u32::MAX, u32::MAX]);
    assert!(matches!(err(&b), Error::SizeOverflow { .. }));
    // Also through gzip, before any payload is inflated.
    assert!(matches!(err(&gzip(&b)), Error::SizeOverflow { .. }));
}

#[test]
fn header_cut_short() {
    assert!(matches!(
        err(&[0, 0]),
        Error::TruncatedHeader {
            needed: 4,
            found: 2,
            ..
        }
    ));
    let b = header(0x08, &[5, 5]);
    assert!(matches!(
        err(&b[..9]),
        Error::TruncatedHeader {
            needed: 12,
            found: 9,
            ..
        }
    ));
    assert!(matches!(
        err(&gzip(&b[..9])),
        Error::TruncatedHeader {
            needed: 12,
            found: 9,
            ..
        }
    ));
}

#[test]
fn short_payload() {
    let mut b = header(0x0B, &[3]);
    b.extend_from_slice(&[0, 1, 0, 2, 0]);
    assert!(matches!(
        err(&b),
        Error::PayloadTooShort {
            expected: 6,
            found: 5,
            ..
        }
    ));
    assert!(matches!(
        err(&gzip(&b)),
        Error::PayloadTooShort {
            expected: 6,
            found: 5,
            ..
        }
    ));
}

#[test]
fn a_header_claiming_gigabytes_in_a_tiny_file_is_refused() {
    // 65535 x 65535 u8 = 4 GiB claimed; 4 payload bytes present.
    let mut b = header(0x08, &[65535, 65535]);
    b.extend_from_slice(&[1, 2, 3, 4]);
    assert!(matches!(err(&b), Error::PayloadTooShort { found: 4, .. }));
    assert!(matches!(
        err(&gzip(&b)),
        Error::PayloadTooShort { found: 4, .. }
    ));
}

#[test]
fn long_payload() {
    let mut b = header(0x08, &[2]);
    b.extend_from_slice(&[1, 2, 3]);
    assert!(matches!(err(&b), Error::PayloadTooLong { expected: 2, .. }));
    assert!(matches!(
        err(&gzip(&b)),
        Error::PayloadTooLong { expected: 2, .. }
    ));
}

#[test]
fn corrupt_gzip() {
    let mut b = header(0x08, &[64]);
    b.extend(0..64u8);
    let gz = gzip(&b);
    // Truncated stream.
    assert!(matches!(
        err(&gz[..gz.len() - 10]),
        Error::CorruptGzip { .. }
    ));
    // Flipped bit in the CRC-32 trailer.
    let mut bad_crc = gz.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 1;
    assert!(matches!(err(&bad_crc), Error::CorruptGzip { .. }));
    // Garbage where the deflate data should be.
    let mut garbage = gz.clone();
    for byte in &mut garbage[10..20] {
        *byte = 0xFF;
    }
    assert!(matches!(err(&garbage), Error::CorruptGzip { .. }));
    // Only the gzip magic.
    assert!(matches!(err(&[0x1f, 0x8b]), Error::CorruptGzip { .. }));
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let e = idx::read_file(
        Path::new("/nonexistent/dir/train-images-idx3-ubyte.gz"),
        &idx::Limit::none(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
    assert!(e
        .to_string()
        .contains("/nonexistent/dir/train-images-idx3-ubyte.gz"));
}

#[test]
fn array_new_rejects_inconsistent_dims() {
    assert!(IdxArray::new(vec![2, 2], IdxData::U8(vec![1, 2, 3])).is_none());
    assert!(IdxArray::new(vec![], IdxData::U8(vec![])).is_none());
    assert!(IdxArray::new(vec![0], IdxData::U8(vec![])).is_none());
}
