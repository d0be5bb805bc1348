//! A hostile weights file cannot make the loader allocate from a size it claims: a global
//! allocator records the largest single allocation while such files are rejected.
//!
//! This file holds a single test so that no other test allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use autograd_lite::Mlp;

/// Records the largest allocation request, then defers to `System`.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the atomic maximum has no other effect.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::SeqCst);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::SeqCst);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Largest = Largest;

fn with_header(header: &str, data: usize) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, data));
    bytes
}

#[test]
fn hostile_files_never_allocate_what_they_claim() {
    let huge = 1usize << 30; // 1 GiB claimed by each file below
    let files = [
        // A header length of 1 GiB in a 10-byte file.
        {
            let mut b = (huge as u64).to_le_bytes().to_vec();
            b.extend_from_slice(b"{}");
            b
        },
        // Tensors whose shapes claim 1 GiB or more, backed by 16 bytes.
        with_header(
            r#"{"fc1.weight":{"dtype":"F32","shape":[268435456,1],"data_offsets":[0,16]}}"#,
            16,
        ),
        with_header(
            r#"{"fc1.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"fc1.bias":{"dtype":"F32","shape":[268435456],"data_offsets":[16,16]}}"#,
            16,
        ),
        // Offsets pointing 1 GiB past the end.
        with_header(
            r#"{"fc1.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,1073741824]}}"#,
            16,
        ),
        // A plausible model whose fc2.weight claims 1 GiB of hidden units.
        with_header(
            r#"{"fc1.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"fc1.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"fc2.weight":{"dtype":"F32","shape":[1,268435456],"data_offsets":[8,12]},"fc2.bias":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#,
            16,
        ),
    ];
    LARGEST.store(0, Ordering::SeqCst);
    for (i, bytes) in files.iter().enumerate() {
        assert!(
            Mlp::from_safetensors(bytes).is_err(),
            "hostile file {i} was accepted"
        );
    }
    let largest = LARGEST.load(Ordering::SeqCst);
    assert!(
        largest < 64 * 1024,
        "largest allocation while rejecting: {largest} bytes"
    );
}
