//! The fast step ([`TrainStep`]: a tape, reused buffers, the two halves of the batch on two
//! cores, a mirror of the weights, the update beside the next batch) computes the same bits as
//! [`plain_step`], the one-page straight-line step: the same losses and correct counts, the same
//! gradients, and so the same weights after several updates, for batch and layer sizes that cut
//! unevenly (odd batches, a batch of one, odd hidden and input widths).

use autograd_lite::{plain_step, Mlp, SplitMix64, StepOutput, TrainStep};

/// `p -= lr·g`, the same for both runs (any update would do: the gradients are what differs, if
/// anything does).
fn sgd(params: &mut [&mut [f32]; 4], grads: &[&[f32]; 4]) {
    for (p, g) in params.iter_mut().zip(grads) {
        p.iter_mut().zip(*g).for_each(|(p, &g)| *p -= 0.05 * g);
    }
}

/// `n` random images and labels for `mlp`.
fn batch(rng: &mut SplitMix64, mlp: &Mlp, n: usize) -> (Vec<u8>, Vec<u8>) {
    let images = (0..n * mlp.inputs())
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    let labels = (0..n)
        .map(|_| (rng.next_u64() % mlp.classes() as u64) as u8)
        .collect();
    (images, labels)
}

fn bits(mlp: &Mlp) -> Vec<Vec<u32>> {
    mlp.params()
        .iter()
        .map(|p| p.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// One plain step on `plain` (forward, backward, update); its output and gradients.
fn plain_update(plain: &mut Mlp, images: &[u8], labels: &[u8]) -> (StepOutput, [Vec<f32>; 4]) {
    let (out, grads) = plain_step(plain, images, labels);
    sgd(
        &mut plain.params_mut(),
        &[0, 1, 2, 3].map(|i| grads[i].as_slice()),
    );
    (out, grads)
}

/// The fast step's output and gradients are the plain step's, bit for bit.
fn assert_same(what: &str, got: StepOutput, step: &TrainStep, want: (StepOutput, [Vec<f32>; 4])) {
    assert_eq!(got.loss.to_bits(), want.0.loss.to_bits(), "loss, {what}");
    assert_eq!(got.correct, want.0.correct, "correct, {what}");
    for (i, (g, p)) in step.grads().iter().zip(&want.1).enumerate() {
        assert!(
            g.iter().zip(p).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{} gradient, {what}",
            Mlp::PARAM_NAMES[i]
        );
    }
}

/// Runs the batch sizes in turn, one update each, both ways, and compares after every step. The
/// fast steps go in pairs, as in the trainer: the first copies the weights for its second half
/// (`forward_backward`), the second takes `update`'s proof that the copy is fresh.
fn same_bits(inputs: usize, hidden: usize, classes: usize, batches: &[usize]) {
    let start = Mlp::new(inputs, hidden, classes, 5);
    let (mut plain, mut fast) = (start.clone(), start);
    let max = *batches.iter().max().expect("some batches");
    let mut step = TrainStep::new(&fast, max);
    let mut rng = SplitMix64::new(inputs as u64 * 1000 + hidden as u64);
    for (pair, sizes) in batches.chunks(2).enumerate() {
        let what = |n: usize| format!("{inputs}-{hidden}-{classes} MLP, pair {pair}, batch of {n}");
        let (images, labels) = batch(&mut rng, &plain, sizes[0]);
        let want = plain_update(&mut plain, &images, &labels);
        let got = step.forward_backward(&fast, &images, &labels);
        assert_same(&what(sizes[0]), got, &step, want);
        let ((), fresh) = step.update(&mut fast, sgd, || {});
        if let Some(&n) = sizes.get(1) {
            let (images, labels) = batch(&mut rng, &plain, n);
            let want = plain_update(&mut plain, &images, &labels);
            let got = step.forward_backward_fresh(fresh, &images, &labels);
            assert_same(&what(n), got, &step, want);
            step.update(&mut fast, sgd, || {});
        }
        assert!(
            bits(&fast) == bits(&plain),
            "weights after {}",
            what(sizes[0])
        );
    }
}

#[test]
fn the_tutorial_mlp_matches_over_several_steps_with_a_short_last_batch() {
    same_bits(784, 100, 10, &[256, 256, 255, 256, 17, 1]);
}

#[test]
fn odd_hidden_and_input_widths_match() {
    same_bits(784, 37, 10, &[9, 8, 1, 2, 3]);
    same_bits(13, 1, 3, &[5, 1, 4, 2]);
    same_bits(101, 63, 7, &[33, 32, 31]);
}
