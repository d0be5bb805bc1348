//! The decompression path with the dimensions a caller expects: any bytes, decoded within the
//! limit of Fashion-MNIST's test images (at most 10000 x 28 x 28 u8). Must return an error or
//! an array within the limit, never panic, and never inflate past the limit: with
//! `-rss_limit_mb=512` a header claiming millions of images that were inflated anyway would
//! be reported.
#![no_main]

use std::path::Path;

use fashion::{idx, Split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limit = Split::Test.images_limit();
    if let Ok(raw) = idx::decode_raw_within(data, Path::new("fuzz"), &limit) {
        assert!(raw.payload.len() <= limit.max_payload);
        assert_eq!(raw.header.dims.len(), 3);
        assert!(
            raw.header.dims[0] <= 10_000 && raw.header.dims[1] <= 28 && raw.header.dims[2] <= 28
        );
        assert_eq!(raw.payload.len(), raw.header.payload_len());
    }
});
