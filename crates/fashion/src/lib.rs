//! fashion: the IDX file format, the Fashion-MNIST (and MNIST) datasets, deterministic
//! batching, and verified downloads. It knows nothing of models.
//!
//! # The math
//!
//! From bytes to a batch:
//! ```text
//! .gz --(flate2)--> IDX bytes --(idx::parse)--> u8 [N, 28, 28] + u8 [N] --(Dataset)-->
//! shuffled_order(n, seed, epoch) --(batches)--> &[usize] --(gather)--> u8 batch
//! --(to_tensor: x = byte / 255)--> f32 batch
//!
//! IDX file    = 0x00 0x00, type (0x08 = u8), ndim, ndim x big-endian u32 sizes, elements
//!               (train images: 08 03 | 60000 28 28, then 47,040,000 bytes, row-major)
//! pixel       x[i, r·28 + c] = image_i[r, c] / 255                        (ToTensor())
//! epoch order π_e = Fisher-Yates(0..N) driven by SplitMix64(seed ^ SplitMix64(e).next())
//! batches     B_k = π_e[k·B .. min((k+1)·B, N)],  k = 0 .. ceil(N / B) - 1
//!             (N = 60,000, B = 256: 235 batches, the last of 96 images, as DataLoader's
//!             drop_last=False)
//! ```
//! Parsing a file checks everything a header promises (type, dimensions, exact payload
//! length, labels < 10) and never allocates more than the input justifies; see [`idx::parse`]
//! for an example on hand-built bytes.
//!
//! # Module map
//!
//! - [`idx`]: the IDX format, every element type, plain or gzip; pure functions over bytes.
//! - [`dataset`]: [`Dataset`], [`Split`], [`CLASS_NAMES`], loading and gathering batches.
//! - [`locate`]: [`find_data_dir`], where the data is looked for.
//! - [`order`]: the seeded shuffle ([`shuffled_order`]), [`batches`], [`to_tensor`].
//! - [`regular_file`]: opening only regular files, reading at most what a valid file holds.
//! - [`sources`]: [`DatasetKind`], the files, SHA-256 checksums and HTTPS mirrors.
//! - [`verify`]: checking a file against its spec (header, dims, labels, SHA-256).
//! - [`download`] (the `download` feature, on by default; it alone needs reqwest): fetching
//!   with mirrors, retries, timeouts and atomic writes.
//! - [`Error`]: one variant per problem, each naming the file.

pub mod dataset;
#[cfg(feature = "download")]
pub mod download;
mod error;
pub mod idx;
pub mod locate;
pub mod order;
pub mod regular_file;
pub mod sources;
pub mod verify;

pub use dataset::{Dataset, Split, CLASS_NAMES, NUM_CLASSES};
pub use error::Error;
pub use locate::find_data_dir;
pub use order::{
    batches, num_batches, shuffled_order, shuffled_order_into, to_tensor, Batches, DropLast,
};
pub use sources::{DatasetKind, FileRole, FileSpec};
