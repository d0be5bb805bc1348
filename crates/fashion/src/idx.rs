//! The IDX file format (LeCun's MNIST format), every element type, plain or gzip-wrapped.
//!
//! ```text
//! offset  size      content
//! 0       2         0x00 0x00                      (magic, part 1)
//! 2       1         element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//! 3       1         ndim, the number of dimensions
//! 4       4 * ndim  each dimension as a big-endian u32, outermost first
//! 4+4*ndim  prod(dims) * size_of(type)  the elements, big-endian, row-major (last index fastest)
//! ```
//!
//! The functions here are pure functions over bytes (only [`read_file`] and [`read_raw_file`]
//! touch the disk), so tests can hand-build files in memory. Untrusted input is handled
//! defensively: the header is validated completely (type, `1 <= ndim <= MAX_DIMS`, no zero
//! dimension, no overflowing product) and checked against the caller's [`Limit`] (what a
//! valid file of its kind can hold, e.g. at most 60000 x 28 x 28 u8 for Fashion-MNIST's
//! training images) before anything is allocated from it or inflated. Inflating stops one byte
//! past the payload the header announces, so a gzip bomb costs at most the limit. The amount
//! reserved is never more than the input justifies: for a plain file, the bytes present; for
//! a gzip file, `min(payload the header claims, compressed length * MAX_DEFLATE_RATIO)`, the
//! most that deflate can possibly expand to. A file on disk is read only if it is a regular
//! file no larger than [`Limit::max_file_len`]. A gzip stream is detected by its magic
//! `1f 8b` (IDX files start `00 00`).

use std::io::Read;
use std::path::Path;

use crate::Error;

/// The most dimensions accepted. The format allows 255; real files have 1 to 4.
pub const MAX_DIMS: usize = 16;

/// The first two bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Deflate cannot expand its input by more than about 1032:1 (a 258-byte match per ~2 bits),
/// so a compressed stream of `n` bytes justifies at most `n * MAX_DEFLATE_RATIO` output bytes.
pub const MAX_DEFLATE_RATIO: usize = 1032;

/// The element type named by the third byte of the magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementType {
    /// 0x08: unsigned byte.
    U8,
    /// 0x09: signed byte.
    I8,
    /// 0x0B: big-endian i16.
    I16,
    /// 0x0C: big-endian i32.
    I32,
    /// 0x0D: big-endian IEEE f32.
    F32,
    /// 0x0E: big-endian IEEE f64.
    F64,
}

impl ElementType {
    /// The type for a type byte, or `None` if the byte names no IDX type.
    pub fn from_code(code: u8) -> Option<ElementType> {
        match code {
            0x08 => Some(ElementType::U8),
            0x09 => Some(ElementType::I8),
            0x0B => Some(ElementType::I16),
            0x0C => Some(ElementType::I32),
            0x0D => Some(ElementType::F32),
            0x0E => Some(ElementType::F64),
            _ => None,
        }
    }

    /// The type byte written in the magic.
    pub fn code(self) -> u8 {
        match self {
            ElementType::U8 => 0x08,
            ElementType::I8 => 0x09,
            ElementType::I16 => 0x0B,
            ElementType::I32 => 0x0C,
            ElementType::F32 => 0x0D,
            ElementType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElementType::U8 | ElementType::I8 => 1,
            ElementType::I16 => 2,
            ElementType::I32 | ElementType::F32 => 4,
            ElementType::F64 => 8,
        }
    }

    /// The Rust name of the element type (`"u8"`, `"f32"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ElementType::U8 => "u8",
            ElementType::I8 => "i8",
            ElementType::I16 => "i16",
            ElementType::I32 => "i32",
            ElementType::F32 => "f32",
            ElementType::F64 => "f64",
        }
    }
}

/// A validated IDX header: the element type and the dimensions, outermost first.
///
/// A `Header` returned by [`parse_header`] always has `1..=MAX_DIMS` dimensions, none zero,
/// each at most `u32::MAX`, and a payload size that fits in `isize::MAX` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The element type.
    pub element_type: ElementType,
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
}

impl Header {
    /// Bytes the header occupies: 4 + 4 * ndim.
    pub fn header_len(&self) -> usize {
        4 + 4 * self.dims.len()
    }

    /// Number of elements: the product of the dimensions.
    pub fn element_count(&self) -> usize {
        self.dims.iter().product()
    }

    /// Bytes of payload: element count * element size.
    pub fn payload_len(&self) -> usize {
        self.element_count() * self.element_type.size()
    }
}

/// The largest array a caller accepts. It is checked against the header before any memory is
/// reserved or any payload inflated, so no header can make the reader use more than this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The element type required, if any.
    pub element_type: Option<ElementType>,
    /// The most each dimension may be, outermost first; the rank must be this length. `None`
    /// accepts any shape.
    pub max_dims: Option<Vec<usize>>,
    /// The most payload bytes.
    pub max_payload: usize,
}

impl Limit {
    /// A u8 array of exactly `max_dims.len()` dimensions, each at most the size given.
    pub fn u8_at_most(max_dims: &[usize]) -> Limit {
        Limit {
            element_type: Some(ElementType::U8),
            max_dims: Some(max_dims.to_vec()),
            max_payload: max_dims
                .iter()
                .fold(1usize, |acc, &d| acc.saturating_mul(d)),
        }
    }

    /// An array of any type and shape with at most `max_payload` payload bytes.
    pub fn bytes(max_payload: usize) -> Limit {
        Limit {
            element_type: None,
            max_dims: None,
            max_payload,
        }
    }

    /// No limit beyond what the input justifies (for bytes already in memory).
    pub fn none() -> Limit {
        Limit::bytes(isize::MAX as usize)
    }

    /// The most bytes a file (plain or gzipped) holding such an array can take on disk: the
    /// largest header and payload, plus room for gzip's framing (stored deflate blocks add
    /// 5 bytes per 65535; a 64 KiB allowance covers the gzip header's optional fields).
    pub fn max_file_len(&self) -> u64 {
        let plain = (4 + 4 * MAX_DIMS as u64).saturating_add(self.max_payload as u64);
        (plain / 64).saturating_mul(65).saturating_add(65536)
    }

    /// Check a validated header against the limit: element type, rank, each dimension, then
    /// the payload size.
    pub fn check(&self, header: &Header, file: &Path) -> Result<(), Error> {
        if let Some(expected) = self.element_type {
            if header.element_type != expected {
                return Err(Error::WrongElementType {
                    file: file.to_path_buf(),
                    expected: expected.name(),
                    found: header.element_type.name(),
                });
            }
        }
        if let Some(max) = &self.max_dims {
            if header.dims.len() != max.len() {
                return Err(Error::WrongShape {
                    file: file.to_path_buf(),
                    expected: format!("{} dimensions (at most {max:?})", max.len()),
                    dims: header.dims.clone(),
                });
            }
            if header.dims.iter().zip(max).any(|(d, m)| d > m) {
                return Err(Error::LargerThanExpected {
                    file: file.to_path_buf(),
                    dims: header.dims.clone(),
                    limit: format!("the at most {max:?} a file of this kind holds"),
                });
            }
        }
        if header.payload_len() > self.max_payload {
            return Err(Error::LargerThanExpected {
                file: file.to_path_buf(),
                dims: header.dims.clone(),
                limit: format!(
                    "{} payload bytes ({} each) the reader accepts",
                    self.max_payload,
                    header.element_type.name()
                ),
            });
        }
        Ok(())
    }
}

/// The elements of an IDX array, in the element type of the file.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    /// 0x08 elements.
    U8(Vec<u8>),
    /// 0x09 elements.
    I8(Vec<i8>),
    /// 0x0B elements.
    I16(Vec<i16>),
    /// 0x0C elements.
    I32(Vec<i32>),
    /// 0x0D elements.
    F32(Vec<f32>),
    /// 0x0E elements.
    F64(Vec<f64>),
}

impl IdxData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            IdxData::U8(v) => v.len(),
            IdxData::I8(v) => v.len(),
            IdxData::I16(v) => v.len(),
            IdxData::I32(v) => v.len(),
            IdxData::F32(v) => v.len(),
            IdxData::F64(v) => v.len(),
        }
    }

    /// True when there are no elements (never the case for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type of these elements.
    pub fn element_type(&self) -> ElementType {
        match self {
            IdxData::U8(_) => ElementType::U8,
            IdxData::I8(_) => ElementType::I8,
            IdxData::I16(_) => ElementType::I16,
            IdxData::I32(_) => ElementType::I32,
            IdxData::F32(_) => ElementType::F32,
            IdxData::F64(_) => ElementType::F64,
        }
    }
}

/// A whole IDX file: its dimensions and its elements (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// The element type (always equal to `data.element_type()`).
    pub element_type: ElementType,
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: IdxData,
}

impl IdxArray {
    /// An array from its dimensions and elements; `None` if the element count is not the
    /// product of `dims` or the dims could not be written as an IDX header.
    pub fn new(dims: Vec<usize>, data: IdxData) -> Option<IdxArray> {
        let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        let fits = !dims.is_empty()
            && dims.len() <= MAX_DIMS
            && dims.iter().all(|&d| d > 0 && u32::try_from(d).is_ok());
        (fits && count == data.len()).then(|| IdxArray {
            element_type: data.element_type(),
            dims,
            data,
        })
    }

    /// The header describing this array.
    pub fn header(&self) -> Header {
        Header {
            element_type: self.element_type,
            dims: self.dims.clone(),
        }
    }
}

/// A decompressed IDX file kept as bytes: the validated header, the header's exact bytes and
/// the payload bytes (big-endian elements), ready for checksumming or conversion.
#[derive(Clone, Debug)]
pub struct RawIdx {
    /// The validated header.
    pub header: Header,
    /// The header exactly as it appears in the file (4 + 4 * ndim bytes).
    pub header_bytes: Vec<u8>,
    /// The payload, exactly `header.payload_len()` bytes.
    pub payload: Vec<u8>,
}

impl RawIdx {
    /// Convert the payload into typed elements (no copy for u8 files).
    pub fn into_array(self) -> IdxArray {
        let element_type = self.header.element_type;
        let p = self.payload;
        let data = match element_type {
            ElementType::U8 => IdxData::U8(p),
            ElementType::I8 => IdxData::I8(p.iter().map(|&b| b as i8).collect()),
            ElementType::I16 => IdxData::I16(
                p.chunks_exact(2)
                    .map(|c| i16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            ),
            ElementType::I32 => IdxData::I32(
                p.chunks_exact(4)
                    .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            ElementType::F32 => IdxData::F32(
                p.chunks_exact(4)
                    .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            ElementType::F64 => IdxData::F64(
                p.chunks_exact(8)
                    .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            ),
        };
        IdxArray {
            element_type,
            dims: self.header.dims,
            data,
        }
    }
}

/// True if `bytes` starts with the gzip magic `1f 8b`.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Parse and validate the header at the start of plain (not gzipped) IDX bytes.
///
/// Only the header bytes need be present; the payload is not looked at. `file` is used to
/// name the file in errors.
pub fn parse_header(bytes: &[u8], file: &Path) -> Result<Header, Error> {
    let truncated = |needed: usize| Error::TruncatedHeader {
        file: file.to_path_buf(),
        needed,
        found: bytes.len(),
    };
    let magic = bytes.get(..4).ok_or_else(|| truncated(4))?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::BadMagic {
            file: file.to_path_buf(),
            found: [magic[0], magic[1]],
        });
    }
    let element_type = ElementType::from_code(magic[2]).ok_or(Error::UnknownElementType {
        file: file.to_path_buf(),
        code: magic[2],
    })?;
    let ndim = usize::from(magic[3]);
    if ndim == 0 {
        return Err(Error::NoDimensions {
            file: file.to_path_buf(),
        });
    }
    if ndim > MAX_DIMS {
        return Err(Error::TooManyDimensions {
            file: file.to_path_buf(),
            ndim,
            max: MAX_DIMS,
        });
    }
    let header_len = 4 + 4 * ndim;
    let dim_bytes = bytes
        .get(4..header_len)
        .ok_or_else(|| truncated(header_len))?;
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if let Some(axis) = dims.iter().position(|&d| d == 0) {
        return Err(Error::ZeroDimension {
            file: file.to_path_buf(),
            axis,
            dims,
        });
    }
    let payload = dims
        .iter()
        .try_fold(element_type.size(), |acc, &d| acc.checked_mul(d));
    match payload {
        Some(n) if n <= isize::MAX as usize => Ok(Header { element_type, dims }),
        _ => Err(Error::SizeOverflow {
            file: file.to_path_buf(),
            dims,
        }),
    }
}

/// Split plain IDX bytes into header and payload, checking the exact length.
pub fn parse_raw(bytes: &[u8], file: &Path) -> Result<RawIdx, Error> {
    parse_raw_within(bytes, file, &Limit::none())
}

/// [`parse_raw`], refusing a header that claims more than `limit` before copying anything.
pub fn parse_raw_within(bytes: &[u8], file: &Path, limit: &Limit) -> Result<RawIdx, Error> {
    let header = parse_header(bytes, file)?;
    limit.check(&header, file)?;
    let start = header.header_len();
    let expected = header.payload_len();
    let found = bytes.len() - start;
    if found < expected {
        return Err(Error::PayloadTooShort {
            file: file.to_path_buf(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(Error::PayloadTooLong {
            file: file.to_path_buf(),
            expected,
        });
    }
    let mut payload = Vec::new();
    reserve(&mut payload, expected, file)?;
    payload.extend_from_slice(&bytes[start..]);
    Ok(RawIdx {
        header_bytes: bytes[..start].to_vec(),
        payload,
        header,
    })
}

/// Reserve room for `n` bytes, or report that memory ran out (never abort).
fn reserve(buf: &mut Vec<u8>, n: usize, file: &Path) -> Result<(), Error> {
    buf.try_reserve_exact(n).map_err(|_| Error::OutOfMemory {
        file: file.to_path_buf(),
        bytes: n as u64,
    })
}

/// Parse plain (not gzipped) IDX bytes into a typed array.
///
/// ```
/// use std::path::Path;
/// use fashion::idx::{self, ElementType, IdxData};
///
/// // A 2 x 3 array of u8: magic 0x00 0x00, element type 0x08 (u8), 2 dimensions,
/// // then each dimension as a big-endian u32, then the elements row by row.
/// let mut bytes = vec![0x00, 0x00, 0x08, 0x02, 0, 0, 0, 2, 0, 0, 0, 3];
/// bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
/// let array = idx::parse(&bytes, Path::new("tiny-idx2-ubyte"))?;
/// assert_eq!(array.element_type, ElementType::U8);
/// assert_eq!(array.dims, vec![2, 3]);
/// assert_eq!(array.data, IdxData::U8(vec![1, 2, 3, 4, 5, 6]));
///
/// // One element missing: an error naming the file, the sizes and what to do.
/// let err = idx::parse(&bytes[..bytes.len() - 1], Path::new("tiny-idx2-ubyte")).unwrap_err();
/// assert!(err.to_string().starts_with("tiny-idx2-ubyte: the header announces 6 payload bytes but only 5"));
/// # Ok::<(), fashion::Error>(())
/// ```
pub fn parse(bytes: &[u8], file: &Path) -> Result<IdxArray, Error> {
    parse_raw(bytes, file).map(RawIdx::into_array)
}

/// Read from `reader` until `buf` is full or the stream ends; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Decompress gzip-wrapped IDX bytes (one or more gzip members), validating the header as
/// soon as it has been inflated and never allocating more than the input justifies.
pub fn decompress_raw(compressed: &[u8], file: &Path) -> Result<RawIdx, Error> {
    decompress_raw_within(compressed, file, &Limit::none())
}

/// [`decompress_raw`], refusing a header that claims more than `limit` as soon as the header
/// is inflated: a gzip bomb whose header claims 5,000,000 images stops after 4 + 4 * ndim
/// bytes, and no stream is inflated past one byte more than the payload its header announces.
pub fn decompress_raw_within(
    compressed: &[u8],
    file: &Path,
    limit: &Limit,
) -> Result<RawIdx, Error> {
    let corrupt = |e: std::io::Error| Error::CorruptGzip {
        file: file.to_path_buf(),
        detail: e.to_string(),
    };
    let mut decoder = flate2::bufread::MultiGzDecoder::new(compressed);
    let mut head = [0u8; 4 + 4 * MAX_DIMS];
    let got = read_up_to(&mut decoder, &mut head[..4]).map_err(corrupt)?;
    if got < 4 {
        return Err(Error::TruncatedHeader {
            file: file.to_path_buf(),
            needed: 4,
            found: got,
        });
    }
    // Check the magic before inflating any further: on 4 bytes with a valid magic and
    // 1..=MAX_DIMS dimensions, parse_header can only report the (expected) truncation.
    match parse_header(&head[..4], file) {
        Ok(_) | Err(Error::TruncatedHeader { .. }) => {}
        Err(e) => return Err(e),
    }
    let ndim = usize::from(head[3]);
    let more = read_up_to(&mut decoder, &mut head[4..4 + 4 * ndim]).map_err(corrupt)?;
    let header = parse_header(&head[..4 + more], file)?;
    limit.check(&header, file)?;
    let expected = header.payload_len();
    let justified = compressed.len().saturating_mul(MAX_DEFLATE_RATIO);
    let mut payload = Vec::new();
    reserve(&mut payload, expected.min(justified), file)?;
    decoder
        .by_ref()
        .take(expected as u64 + 1)
        .read_to_end(&mut payload)
        .map_err(corrupt)?;
    if payload.len() < expected {
        return Err(Error::PayloadTooShort {
            file: file.to_path_buf(),
            expected,
            found: payload.len(),
        });
    }
    if payload.len() > expected {
        return Err(Error::PayloadTooLong {
            file: file.to_path_buf(),
            expected,
        });
    }
    Ok(RawIdx {
        header_bytes: head[..header.header_len()].to_vec(),
        header,
        payload,
    })
}

/// Decode IDX bytes that may be gzip-wrapped (detected by magic) into header and payload.
pub fn decode_raw(bytes: &[u8], file: &Path) -> Result<RawIdx, Error> {
    decode_raw_within(bytes, file, &Limit::none())
}

/// [`decode_raw`] with the header checked against `limit` before anything is reserved or
/// inflated.
pub fn decode_raw_within(bytes: &[u8], file: &Path, limit: &Limit) -> Result<RawIdx, Error> {
    if is_gzip(bytes) {
        decompress_raw_within(bytes, file, limit)
    } else {
        parse_raw_within(bytes, file, limit)
    }
}

/// Decode IDX bytes that may be gzip-wrapped (detected by magic) into a typed array.
pub fn decode(bytes: &[u8], file: &Path) -> Result<IdxArray, Error> {
    decode_raw(bytes, file).map(RawIdx::into_array)
}

/// [`decode`] with the header checked against `limit` before anything is reserved or inflated.
pub fn decode_within(bytes: &[u8], file: &Path, limit: &Limit) -> Result<IdxArray, Error> {
    decode_raw_within(bytes, file, limit).map(RawIdx::into_array)
}

/// Read an IDX file (plain or `.gz`, detected by content, not by name) as header and payload.
/// Only a regular file of at most [`Limit::max_file_len`] bytes is read, and its header must
/// fit `limit`.
pub fn read_raw_file(path: &Path, limit: &Limit) -> Result<RawIdx, Error> {
    let bytes = crate::regular_file::read_bounded(path, limit.max_file_len())?;
    decode_raw_within(&bytes, path, limit)
}

/// Read an IDX file (plain or `.gz`, detected by content, not by name) into a typed array,
/// within `limit` (see [`read_raw_file`]).
pub fn read_file(path: &Path, limit: &Limit) -> Result<IdxArray, Error> {
    read_raw_file(path, limit).map(RawIdx::into_array)
}

/// The plain IDX bytes of an array (header, then big-endian elements).
///
/// A round trip: two 2 x 3 images, written as IDX bytes and parsed back.
/// ```
/// use std::path::Path;
/// use fashion::idx::{encode, parse, IdxArray, IdxData};
///
/// let images = IdxArray::new(vec![2, 2, 3], IdxData::U8(vec![0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]))
///     .expect("12 elements for 2 x 2 x 3");
/// let bytes = encode(&images);
/// assert_eq!(&bytes[..4], &[0, 0, 0x08, 3]); // magic: u8 elements, 3 dimensions
/// assert_eq!(&bytes[4..8], &2u32.to_be_bytes()); // the outermost dimension, big-endian
/// assert_eq!(parse(&bytes, Path::new("images.idx"))?, images);
/// # Ok::<(), fashion::Error>(())
/// ```
pub fn encode(array: &IdxArray) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * array.dims.len() + array.data.len() * 8);
    out.extend_from_slice(&[
        0,
        0,
        array.element_type.code(),
        array.dims.len().min(255) as u8,
    ]);
    for &d in &array.dims {
        out.extend_from_slice(&u32::try_from(d).unwrap_or(u32::MAX).to_be_bytes());
    }
    match &array.data {
        IdxData::U8(v) => out.extend_from_slice(v),
        IdxData::I8(v) => out.extend(v.iter().map(|&x| x as u8)),
        IdxData::I16(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        IdxData::I32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        IdxData::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        IdxData::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
    }
    out
}
