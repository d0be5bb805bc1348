//! The datasets that can be fetched: their files, the published checksums, and mirrors.
//!
//! Checksums are SHA-256 of the *decompressed* IDX bytes, because the gzip wrappers differ
//! between distributors (Debian's re-compressed files, upstream's, Keras's copy) while the
//! data inside is identical.

use crate::idx::Limit;
use crate::locate::FILE_NAMES;

/// A dataset in the IDX layout of the original MNIST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetKind {
    /// Zalando Research's Fashion-MNIST (MIT licence).
    FashionMnist,
    /// LeCun, Cortes and Burges's MNIST digits.
    Mnist,
}

/// What a file holds, which decides the checks beyond its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRole {
    /// `[N, rows, cols]` u8 pixels.
    Images,
    /// `[N]` u8 labels, each a class index `< NUM_CLASSES`.
    Labels,
}

/// One file of a dataset: its base name (without `.gz`), the exact dims of its u8 array,
/// and, where published, the SHA-256 (lowercase hex) of its decompressed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// Base name, e.g. `train-images-idx3-ubyte`; downloads fetch `<base URL>/<name>.gz`.
    pub name: String,
    /// Images or labels.
    pub role: FileRole,
    /// The exact dimensions, e.g. `[60000, 28, 28]`.
    pub dims: Vec<usize>,
    /// SHA-256 of the decompressed file, if published; `None` means header and counts only.
    pub sha256: Option<String>,
}

impl FileSpec {
    /// Size in bytes of the decompressed file (header plus u8 payload), saturating.
    pub fn decompressed_len(&self) -> u64 {
        let payload = self
            .dims
            .iter()
            .fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
        payload.saturating_add(4 + 4 * self.dims.len() as u64)
    }

    /// The most a file of this spec may claim: u8 with these dims (exact dims are checked
    /// afterwards, but nothing larger is ever reserved or inflated).
    pub fn limit(&self) -> Limit {
        Limit::u8_at_most(&self.dims)
    }
}

/// SHA-256 of Fashion-MNIST's decompressed files, in [`FILE_NAMES`] order.
pub const FASHION_MNIST_SHA256: [&str; 4] = [
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
];

/// HTTPS mirrors of Fashion-MNIST, tried in order: the upstream repository's own copy, and
/// the copy Keras downloads. (Upstream's S3 website endpoint serves plain HTTP only, so it is
/// not a default; pass it as an explicit `--base-url` if wanted.)
pub const FASHION_MNIST_MIRRORS: [&str; 2] = [
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
];

/// HTTPS mirrors of MNIST, as torchvision lists them (its other mirror is plain HTTP).
pub const MNIST_MIRRORS: [&str; 1] = ["https://ossci-datasets.s3.amazonaws.com/mnist/"];

impl DatasetKind {
    /// The name used on the command line and as the default directory: `fashion-mnist`, `mnist`.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Mnist => "mnist",
        }
    }

    /// The kind for a command-line name (`fashion-mnist` or `mnist`).
    pub fn from_name(name: &str) -> Option<DatasetKind> {
        match name {
            "fashion-mnist" => Some(DatasetKind::FashionMnist),
            "mnist" => Some(DatasetKind::Mnist),
            _ => None,
        }
    }

    /// The default HTTPS mirrors (base URLs), tried in order.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            DatasetKind::FashionMnist => &FASHION_MNIST_MIRRORS,
            DatasetKind::Mnist => &MNIST_MIRRORS,
        }
    }

    /// The four files with their dims and checksums. MNIST has no SHA-256 here: the values
    /// of its decompressed files could not be confirmed from an authoritative source, so its
    /// files are checked by header and counts only.
    pub fn files(self) -> Vec<FileSpec> {
        let dims: [Vec<usize>; 4] = [
            vec![60000, 28, 28],
            vec![60000],
            vec![10000, 28, 28],
            vec![10000],
        ];
        let roles = [
            FileRole::Images,
            FileRole::Labels,
            FileRole::Images,
            FileRole::Labels,
        ];
        FILE_NAMES
            .iter()
            .zip(dims)
            .zip(roles)
            .zip(FASHION_MNIST_SHA256)
            .map(|(((name, dims), role), sha)| FileSpec {
                name: name.to_string(),
                role,
                dims,
                sha256: match self {
                    DatasetKind::FashionMnist => Some(sha.to_string()),
                    DatasetKind::Mnist => None,
                },
            })
            .collect()
    }
}
