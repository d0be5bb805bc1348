//! Checking a file against its [`FileSpec`]: header, element type, exact dims, labels in
//! range, and the SHA-256 of the decompressed bytes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dataset::{resolve_file, NUM_CLASSES};
use crate::idx::{self, ElementType, Header};
use crate::sources::{FileRole, FileSpec};
use crate::Error;

/// A file that passed every check.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The file checked.
    pub path: PathBuf,
    /// Its header.
    pub header: Header,
    /// SHA-256 (lowercase hex) of its decompressed bytes.
    pub sha256: String,
    /// True if the SHA-256 was compared with a published value (false for MNIST).
    pub checksum_known: bool,
}

/// Lowercase hex SHA-256 of the concatenation of `parts`.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Check IDX bytes (plain or gzipped) against `spec`; `path` names the file in errors.
/// The header is checked against the spec's dims before anything is reserved or inflated,
/// so a file claiming more than the spec holds costs nothing.
pub fn verify_bytes(bytes: &[u8], path: &Path, spec: &FileSpec) -> Result<Verified, Error> {
    let raw = idx::decode_raw_within(bytes, path, &spec.limit())?;
    if raw.header.element_type != ElementType::U8 {
        return Err(Error::WrongElementType {
            file: path.to_path_buf(),
            expected: ElementType::U8.name(),
            found: raw.header.element_type.name(),
        });
    }
    if raw.header.dims != spec.dims {
        return Err(Error::WrongShape {
            file: path.to_path_buf(),
            expected: format!("{:?}", spec.dims),
            dims: raw.header.dims,
        });
    }
    if spec.role == FileRole::Labels {
        if let Some(index) = raw
            .payload
            .iter()
            .position(|&l| usize::from(l) >= NUM_CLASSES)
        {
            return Err(Error::LabelOutOfRange {
                file: path.to_path_buf(),
                index,
                label: raw.payload[index],
                classes: NUM_CLASSES,
            });
        }
    }
    let sha256 = sha256_hex(&[&raw.header_bytes, &raw.payload]);
    if let Some(expected) = &spec.sha256 {
        if !expected.eq_ignore_ascii_case(&sha256) {
            return Err(Error::ChecksumMismatch {
                file: path.to_path_buf(),
                expected: expected.clone(),
                actual: sha256,
            });
        }
    }
    Ok(Verified {
        path: path.to_path_buf(),
        header: raw.header,
        sha256,
        checksum_known: spec.sha256.is_some(),
    })
}

/// Check the file at `path` against `spec`. Only a regular file no larger than a valid one
/// (see [`crate::idx::Limit::max_file_len`]) is read.
pub fn verify_file(path: &Path, spec: &FileSpec) -> Result<Verified, Error> {
    let bytes = crate::regular_file::read_bounded(path, spec.limit().max_file_len())?;
    verify_bytes(&bytes, path, spec)
}

/// Check every file of `specs` in `dir` (each `NAME.gz` or `NAME`); one result per spec.
pub fn verify_dir(dir: &Path, specs: &[FileSpec]) -> Vec<Result<Verified, Error>> {
    specs
        .iter()
        .map(|spec| resolve_file(dir, &spec.name).and_then(|path| verify_file(&path, spec)))
        .collect()
}
