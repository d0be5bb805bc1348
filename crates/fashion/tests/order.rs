//! The seeded shuffle, batching and ToTensor against references: SplitMix64's published
//! output, the uniformity of the permutations, PyTorch's batch sizes, and exact division.

use fashion::order::SplitMix64;
use fashion::{batches, num_batches, shuffled_order, shuffled_order_into, to_tensor, DropLast};

#[test]
fn splitmix64_matches_the_reference_sequence() {
    // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
    let mut rng = SplitMix64::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
}

#[test]
fn order_is_a_permutation_and_a_pure_function_of_seed_and_epoch() {
    let a = shuffled_order(1000, 42, 3);
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    assert_eq!(a, shuffled_order(1000, 42, 3));
    assert_ne!(a, shuffled_order(1000, 42, 4));
    assert_ne!(a, shuffled_order(1000, 43, 3));
    assert_ne!(a, (0..1000).collect::<Vec<_>>());
    // The same order from threads (no hidden global state).
    let from_threads: Vec<Vec<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| shuffled_order(1000, 42, 3)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(from_threads.iter().all(|o| *o == a));
    // Reusing a buffer gives the same result.
    let mut buf = vec![7; 5];
    shuffled_order_into(1000, 42, 3, &mut buf);
    assert_eq!(buf, a);
    assert!(shuffled_order(0, 1, 1).is_empty());
    assert_eq!(shuffled_order(1, 1, 1), vec![0]);
}

#[test]
fn order_matches_an_independent_reference_implementation() {
    // Values from a separate Python implementation of the documented algorithm
    // (SplitMix64 seeded with seed ^ SplitMix64(epoch).next(), Lemire bounded draws,
    // Fisher-Yates from the top). A change here changes every training run's data order.
    assert_eq!(shuffled_order(10, 0, 0), [1, 2, 5, 7, 0, 8, 4, 3, 9, 6]);
    assert_eq!(shuffled_order(10, 42, 1), [3, 8, 7, 1, 9, 0, 2, 6, 5, 4]);
}

#[test]
fn every_permutation_of_three_is_equally_likely() {
    // 6 permutations, 60000 draws: each expected 10000, standard deviation ~91.
    let mut counts = std::collections::HashMap::new();
    for epoch in 0..60000 {
        *counts.entry(shuffled_order(3, 7, epoch)).or_insert(0usize) += 1;
    }
    assert_eq!(counts.len(), 6);
    for (perm, c) in counts {
        assert!((9500..10500).contains(&c), "{perm:?} drawn {c} times");
    }
}

#[test]
fn bounded_draws_are_unbiased_for_a_non_power_of_two() {
    let mut rng = SplitMix64::new(99);
    let mut counts = [0usize; 3];
    for _ in 0..30000 {
        counts[rng.below(3) as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (9500..10500).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn batches_keep_or_drop_the_last_partial_batch() {
    let order: Vec<usize> = (0..10).collect();
    let kept: Vec<&[usize]> = batches(&order, 4, DropLast::Keep).collect();
    assert_eq!(kept, vec![&[0, 1, 2, 3][..], &[4, 5, 6, 7], &[8, 9]]);
    let dropped: Vec<&[usize]> = batches(&order, 4, DropLast::Drop).collect();
    assert_eq!(dropped, vec![&[0, 1, 2, 3][..], &[4, 5, 6, 7]]);
    assert_eq!(batches(&order, 5, DropLast::Drop).count(), 2);
    assert_eq!(batches(&order, 4, DropLast::Keep).len(), 3);
    assert_eq!(batches(&order, 0, DropLast::Keep).count(), 0);
    assert_eq!(batches(&order, 20, DropLast::Drop).count(), 0);
    assert_eq!(batches(&order, 20, DropLast::Keep).count(), 1);
    // The tutorial's setting: 60000 examples, batch 256 -> 235 batches, the last of 96.
    let full: Vec<usize> = (0..60000).collect();
    let last = batches(&full, 256, DropLast::Keep).last().unwrap();
    assert_eq!(last.len(), 96);
    assert_eq!(num_batches(60000, 256, DropLast::Keep), 235);
    assert_eq!(num_batches(60000, 256, DropLast::Drop), 234);
}

#[test]
fn to_tensor_is_byte_over_255_in_f32() {
    let bytes: Vec<u8> = (0..=255).collect();
    let mut out = vec![0f32; 256];
    to_tensor(&bytes, &mut out);
    assert_eq!(out[0], 0.0);
    assert_eq!(out[255], 1.0);
    // torch.tensor([1], dtype=torch.uint8).float().div(255) == 0.003921568859368563
    assert_eq!(out[1].to_bits(), 0.003_921_569_f32.to_bits());
    for (b, x) in bytes.iter().zip(&out) {
        assert_eq!(*x, f32::from(*b) / 255.0);
    }
}
