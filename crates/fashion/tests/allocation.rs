//! Untrusted sizes never drive allocation: a counting global allocator records the largest
//! single request while hostile files are parsed. (One test in this binary, so that no other
//! test's allocations are counted.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use fashion::idx;

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only records the request size.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: ptr came from System with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn largest_allocation_while(f: impl FnOnce()) -> usize {
    LARGEST.store(0, Ordering::Relaxed);
    f();
    LARGEST.load(Ordering::Relaxed)
}

#[test]
fn hostile_headers_allocate_only_what_the_input_justifies() {
    // 4 GiB claimed by a 20-byte plain file.
    let mut plain = vec![0, 0, 0x08, 2];
    plain.extend_from_slice(&65535u32.to_be_bytes());
    plain.extend_from_slice(&65535u32.to_be_bytes());
    plain.extend_from_slice(&[1, 2, 3, 4]);
    let largest = largest_allocation_while(|| {
        assert!(idx::decode(&plain, Path::new("claims-4GiB")).is_err());
    });
    assert!(
        largest < 1 << 20,
        "allocated {largest} bytes for a 20-byte file"
    );

    // The same claim, gzipped (about 40 bytes): at most compressed length * 1032 may be reserved.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&plain).unwrap();
    let gz = enc.finish().unwrap();
    let largest = largest_allocation_while(|| {
        assert!(idx::decode(&gz, Path::new("claims-4GiB.gz")).is_err());
    });
    assert!(
        largest <= (gz.len() * idx::MAX_DEFLATE_RATIO).max(1 << 20),
        "allocated {largest} bytes for a {}-byte gzip file",
        gz.len()
    );

    // 32 GiB of f64 claimed by a header alone.
    let mut f64s = vec![0, 0, 0x0E, 3];
    for d in [2048u32, 2048, 1024] {
        f64s.extend_from_slice(&d.to_be_bytes());
    }
    let largest = largest_allocation_while(|| {
        assert!(idx::decode(&f64s, Path::new("claims-32GiB")).is_err());
    });
    assert!(
        largest < 1 << 20,
        "allocated {largest} bytes for a header-only file"
    );
}
