//! Deterministic epoch orders and batching.
//!
//! The shuffle is a Fisher-Yates shuffle driven by SplitMix64 (the `splitmix64` crate, which
//! `autograd-lite`'s initialisation uses too). Only u64 arithmetic is used, so an order is a
//! pure function of `(n, seed, epoch)`, identical on every machine, word size and thread count.

pub use splitmix64::SplitMix64;

/// The generator for one epoch: seeded with `seed` mixed with `epoch`, so that every epoch
/// gets an unrelated stream: `SplitMix64::new(seed ^ SplitMix64::new(epoch).next_u64())`.
pub fn epoch_rng(seed: u64, epoch: u64) -> SplitMix64 {
    SplitMix64::new(seed ^ SplitMix64::new(epoch).next_u64())
}

/// The order in which epoch `epoch` visits examples `0..n`: a Fisher-Yates shuffle
/// (for i = n-1 down to 1, swap i with a uniform j in 0..=i) driven by [`epoch_rng`].
pub fn shuffled_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    shuffled_order_into(n, seed, epoch, &mut out);
    out
}

/// [`shuffled_order`] into a reused buffer (no allocation once it has grown to `n`).
pub fn shuffled_order_into(n: usize, seed: u64, epoch: u64, out: &mut Vec<usize>) {
    out.clear();
    out.extend(0..n);
    let mut rng = epoch_rng(seed, epoch);
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
}

/// What to do with a last batch smaller than the batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropLast {
    /// Keep it (PyTorch's `DataLoader(drop_last=False)`, the default).
    Keep,
    /// Drop it (`drop_last=True`).
    Drop,
}

/// Number of batches [`batches`] yields for `n` examples.
pub fn num_batches(n: usize, batch_size: usize, drop_last: DropLast) -> usize {
    if batch_size == 0 {
        return 0;
    }
    match drop_last {
        DropLast::Keep => n.div_ceil(batch_size),
        DropLast::Drop => n / batch_size,
    }
}

/// Consecutive slices of an order, `batch_size` long (the last one shorter with
/// [`DropLast::Keep`], absent with [`DropLast::Drop`]).
#[derive(Clone, Debug)]
pub struct Batches<'a> {
    rest: &'a [usize],
    batch_size: usize,
    drop_last: DropLast,
}

/// Split `order` into batches of `batch_size` indices. A `batch_size` of 0 yields no batches
/// (callers reject it as a setting before getting here).
///
/// An epoch of 10 examples in batches of 4: a seeded permutation, then runs of 4 indices.
/// ```
/// use fashion::{batches, num_batches, shuffled_order, DropLast};
///
/// let order = shuffled_order(10, 7, 0); // seed 7, epoch 0: the same on every machine
/// let mut sorted = order.clone();
/// sorted.sort();
/// assert_eq!(sorted, (0..10).collect::<Vec<_>>()); // a permutation
/// assert_ne!(order, shuffled_order(10, 7, 1)); // each epoch has its own order
///
/// let sizes: Vec<usize> = batches(&order, 4, DropLast::Keep).map(|b| b.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]); // the short last batch is kept, as in PyTorch's DataLoader
/// assert_eq!(num_batches(10, 4, DropLast::Drop), 2);
/// ```
pub fn batches(order: &[usize], batch_size: usize, drop_last: DropLast) -> Batches<'_> {
    Batches {
        rest: order,
        batch_size,
        drop_last,
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = &'a [usize];

    fn next(&mut self) -> Option<&'a [usize]> {
        if self.batch_size == 0 || self.rest.is_empty() {
            return None;
        }
        if self.rest.len() < self.batch_size && self.drop_last == DropLast::Drop {
            self.rest = &[];
            return None;
        }
        let take = self.batch_size.min(self.rest.len());
        let (batch, rest) = self.rest.split_at(take);
        self.rest = rest;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = num_batches(self.rest.len(), self.batch_size, self.drop_last);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Batches<'_> {}

/// PyTorch's `ToTensor()` on u8 pixels: `out[i] = bytes[i] as f32 / 255.0` (one correctly
/// rounded division, exactly as torchvision computes it). Panics if the lengths differ.
pub fn to_tensor(bytes: &[u8], out: &mut [f32]) {
    assert_eq!(
        bytes.len(),
        out.len(),
        "to_tensor: {} bytes into {} floats",
        bytes.len(),
        out.len()
    );
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = b as f32 / 255.0;
    }
}
