//! fashion: the IDX file format, the Fashion-MNIST (and MNIST) datasets, deterministic
//! batching, and verified downloads. It knows nothing of models.
//!
//! From bytes to a batch:
//! ```text
//! .gz --(flate2)--> IDX bytes --(idx::parse)--> u8 [N, 28, 28] + u8 [N] --(Dataset)-->
//! shuffled_order(n, seed, epoch) --(batches)--> &[usize] --(gather)--> u8 batch
//! --(to_tensor: x = byte / 255)--> f32 batch
//! ```
//!
//! Module map:
//! - [`idx`]: the IDX format, every element type, plain or gzip; pure functions over bytes.
//! - [`dataset`]: [`Dataset`], [`Split`], [`CLASS_NAMES`], loading and gathering batches.
//! - [`locate`]: [`find_data_dir`], where the data is looked for.
//! - [`order`]: the seeded shuffle ([`shuffled_order`]), [`batches`], [`to_tensor`].
//! - [`sources`]: [`DatasetKind`], the files, SHA-256 checksums and HTTPS mirrors.
//! - [`verify`]: checking a file against its spec (header, dims, labels, SHA-256).
//! - [`download`]: fetching with mirrors, retries, timeouts and atomic writes.
//! - [`Error`]: one variant per problem, each naming the file.

pub mod dataset;
pub mod download;
mod error;
pub mod idx;
pub mod locate;
pub mod order;
pub mod sources;
pub mod verify;

pub use dataset::{Dataset, Split, CLASS_NAMES, NUM_CLASSES};
pub use error::Error;
pub use locate::find_data_dir;
pub use order::{
    batches, num_batches, shuffled_order, shuffled_order_into, to_tensor, Batches, DropLast,
};
pub use sources::{DatasetKind, FileRole, FileSpec};
