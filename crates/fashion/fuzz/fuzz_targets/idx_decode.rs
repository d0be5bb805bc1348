//! Any bytes, plain or gzip (the decoder picks by magic): decoding must return an error or an
//! array consistent with its header, never panic, and never allocate from an untrusted size.
#![no_main]

use std::path::Path;

use fashion::idx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = idx::decode(data, Path::new("fuzz")) {
        assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
        let again =
            idx::decode(&idx::encode(&array), Path::new("fuzz")).expect("re-encoded array decodes");
        assert_eq!(idx::encode(&again), idx::encode(&array));
    }
});
