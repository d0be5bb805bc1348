//! Two IDX files from one input (split at a fuzzer-chosen point): building a Dataset from them
//! must fail with an error or give consistent images and labels, never panic.
#![no_main]

use std::path::Path;

use fashion::{idx, Dataset, NUM_CLASSES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(rest.len());
    let (labels, images) = rest.split_at(at);
    let (Ok(images), Ok(labels)) = (
        idx::decode(images, Path::new("images")),
        idx::decode(labels, Path::new("labels")),
    ) else {
        return;
    };
    if let Ok(ds) = Dataset::from_arrays(images, Path::new("images"), labels, Path::new("labels")) {
        assert_eq!(ds.images.len(), ds.len() * ds.pixels_per_image());
        assert!(ds.labels.iter().all(|&l| usize::from(l) < NUM_CLASSES));
        if !ds.is_empty() {
            let _ = ds.image(ds.len() - 1);
        }
    }
});
