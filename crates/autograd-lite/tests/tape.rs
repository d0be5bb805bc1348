//! The reverse-mode tape: every op's gradient against central finite differences of an f64
//! re-implementation, accumulation when a value is used twice, the MLP's training step against the
//! hand-derived backward (bit for bit) and against finite differences of the whole network.

use autograd_lite::plain_step::plain_step;
use autograd_lite::{Mlp, Operand, SplitMix64, Tape, TrainStep, PIXEL_SCALE};
use ndarray::{Array2, ArrayView2};

mod f64_reference;

use f64_reference::{assert_close, ce64, fd, random};

fn random_bytes(rng: &mut SplitMix64, len: usize) -> Vec<u8> {
    (0..len).map(|_| (rng.next_u64() >> 56) as u8).collect()
}

fn relu64(a: &Array2<f64>) -> Array2<f64> {
    a.mapv(|v| v.max(0.0))
}

/// `x W^T + b` in f64, `b` a `[1, out]` row.
fn linear64(x: &Array2<f64>, w: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    x.dot(&w.t()) + b
}

/// Central differences of `f` with respect to parameter `k` (all others fixed).
fn fd_param(
    params: &[Array2<f64>],
    k: usize,
    eps: f64,
    f: &dyn Fn(&[Array2<f64>]) -> f64,
) -> Array2<f64> {
    fd(&params[k], eps, |x| {
        let mut p = params.to_vec();
        p[k] = x.clone();
        f(&p)
    })
}

/// A graph that uses every op, with the data `x` as a parameter so its gradient flows too:
/// ```text
/// a = relu(add_bias(matmul_t(x, w1), b1))   h = linear_relu(x, w3, b3)   (x used twice)
/// s = add(a, h)    z = linear(s, w2, b2)    loss = CE(add(z, z))          (z used twice)
/// ```
struct Graph {
    params: Vec<Array2<f32>>, // x, w1, b1, w3, b3, w2, b2
    labels: Vec<u8>,
}

impl Graph {
    fn new(seed: u64) -> Graph {
        let mut rng = SplitMix64::new(seed);
        let (n, i, hdim, c) = (5, 6, 4, 3);
        let params = vec![
            random(&mut rng, n, i, 1.0),
            random(&mut rng, hdim, i, 1.0),
            random(&mut rng, 1, hdim, 0.5),
            random(&mut rng, hdim, i, 1.0),
            random(&mut rng, 1, hdim, 0.5),
            random(&mut rng, c, hdim, 1.0),
            random(&mut rng, 1, c, 0.5),
        ];
        Graph {
            params,
            labels: vec![0, 2, 1, 1, 2],
        }
    }

    /// The same function in f64; also returns the pre-activations (to stay off the kink).
    fn loss64(&self, p: &[Array2<f64>]) -> (f64, Vec<f64>) {
        let pre_a = linear64(&p[0], &p[1], &p[2]);
        let pre_h = linear64(&p[0], &p[3], &p[4]);
        let s = relu64(&pre_a) + relu64(&pre_h);
        let z = linear64(&s, &p[5], &p[6]);
        let pre: Vec<f64> = pre_a.iter().chain(pre_h.iter()).copied().collect();
        (ce64(&(&z + &z), &self.labels), pre)
    }
}

#[test]
fn every_tape_op_matches_finite_differences_including_values_used_twice() {
    let graph = Graph::new(11);
    let views: Vec<ArrayView2<'_, f32>> = graph.params.iter().map(|p| p.view()).collect();
    let mut tape = Tape::new();
    let mut s = tape.session(&views, &[]);
    let [x, w1, b1, w3, b3, w2, b2] = [0, 1, 2, 3, 4, 5, 6].map(|k| s.param(k));
    let xw1 = s.matmul_t(x, w1);
    let pre_a = s.add_bias(xw1, b1);
    let a = s.relu(pre_a);
    let h = s.linear_relu(x, w3, b3);
    let sum = s.add(a, h);
    let z = s.linear(sum, w2, b2);
    let zz = s.add(z, z);
    let loss = s.cross_entropy(zz, &graph.labels);
    s.backward(loss);

    let p64: Vec<Array2<f64>> = graph.params.iter().map(|p| p.mapv(f64::from)).collect();
    let (loss64, pre) = graph.loss64(&p64);
    assert!(
        pre.iter().all(|v| v.abs() > 1e-3),
        "the test point is away from the ReLU kink"
    );
    let ours = s.value(loss)[[0, 0]];
    assert!(
        (f64::from(ours) - loss64).abs() < 1e-6,
        "loss {ours} vs f64 {loss64}"
    );

    // z is used twice by one add: its gradient is twice that of the sum, exactly.
    let (dz, dzz) = (s.grad(z).unwrap(), s.grad(zz).unwrap());
    assert_eq!(dz.to_owned(), &dzz * 2.0);

    let names = ["x", "w1", "b1", "w3", "b3", "w2", "b2"];
    let f = |p: &[Array2<f64>]| graph.loss64(p).0;
    for (k, name) in names.iter().enumerate() {
        let expected = fd_param(&p64, k, 1e-6, &f);
        let v = [x, w1, b1, w3, b3, w2, b2][k];
        assert_close(name, s.grad(v).unwrap(), &expected, 1e-5, 1e-7);
    }
}

#[test]
fn data_inputs_get_no_gradient_and_unreached_parameters_get_zeros() {
    let mut rng = SplitMix64::new(12);
    let x = random(&mut rng, 3, 4, 1.0);
    let w = random(&mut rng, 2, 4, 1.0);
    let b = random(&mut rng, 1, 2, 1.0);
    let unused = random(&mut rng, 2, 2, 1.0);
    let params = [w.view(), b.view(), unused.view()];
    let inputs = [Operand::F32(x.view())];
    let mut tape = Tape::new();

    // First pass: `unused` does feed the loss, so its gradient buffer becomes non-zero.
    {
        let mut s = tape.session(&params, &inputs);
        let (xv, wv, bv, uv) = (s.input(0), s.param(0), s.param(1), s.param(2));
        let z = s.linear(xv, wv, bv);
        let zu = s.matmul_t(z, uv);
        let loss = s.cross_entropy(zu, &[0, 1, 1]);
        s.backward(loss);
        assert!(s.grad(xv).is_none(), "no gradient for data");
    }
    assert!(tape.param_grad(2).iter().any(|&g| g != 0.0));

    // Second pass: `unused` is recorded but the loss does not depend on it.
    {
        let mut s = tape.session(&params, &inputs);
        let (xv, wv, bv, _) = (s.input(0), s.param(0), s.param(1), s.param(2));
        let z = s.linear(xv, wv, bv);
        let loss = s.cross_entropy(z, &[0, 1, 1]);
        s.backward(loss);
    }
    assert_eq!(tape.param_grad(2), &[0.0; 4]);
    assert!(tape.param_grad(0).iter().any(|&g| g != 0.0));
}

fn random_mlp_batch(seed: u64, mlp: &Mlp, n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = SplitMix64::new(seed);
    let images = random_bytes(&mut rng, n * mlp.inputs());
    let labels = (0..n)
        .map(|_| (rng.next_u64() % mlp.classes() as u64) as u8)
        .collect();
    (images, labels)
}

#[test]
fn train_step_through_the_tape_equals_the_hand_derived_backward_bit_for_bit() {
    let mlp = Mlp::new(784, 100, 10, 7);
    let mut step = TrainStep::new(&mlp, 256);
    // Varying batch sizes reuse the same buffers; each result must still be exact.
    for (seed, n) in [(1, 256), (2, 96), (3, 256), (4, 1)] {
        let (images, labels) = random_mlp_batch(seed, &mlp, n);
        let out = step.forward_backward(&mlp, &images, &labels);
        let (expected, grads) = plain_step(&mlp, &images, &labels);
        assert_eq!(out, expected, "batch of {n}");
        for (k, (ours, theirs)) in step.grads().iter().zip(&grads).enumerate() {
            assert_eq!(
                *ours,
                theirs.as_slice(),
                "{} for a batch of {n}",
                Mlp::PARAM_NAMES[k]
            );
        }
    }
}

#[test]
fn train_step_gives_the_same_bits_on_one_two_and_three_threads() {
    let mlp = Mlp::new(784, 100, 10, 8);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut step = TrainStep::new(&mlp, 256);
            [(11, 256), (12, 255), (13, 3), (14, 1)].map(|(seed, n)| {
                let (images, labels) = random_mlp_batch(seed, &mlp, n);
                let out = step.forward_backward(&mlp, &images, &labels);
                (out, step.grads().map(|g| g.to_vec()))
            })
        })
    };
    let one = run(1);
    assert_eq!(one, run(2), "1 vs 2 threads");
    assert_eq!(one, run(3), "1 vs 3 threads");
}

/// Steps through `TrainStep::update` and `forward_backward_fresh` (the second half reading the
/// copy of the weights that the update made) give the bits of steps that copy the weights at
/// the start of `forward_backward`, on one and on two threads, with `beside` run each time.
/// A copy left stale would give the second half the old weights and change the gradients.
#[test]
fn fresh_copy_steps_equal_plain_steps_bit_for_bit() {
    let batches: Vec<(Vec<u8>, Vec<u8>)> = (0..4)
        .map(|seed| random_mlp_batch(30 + seed, &Mlp::new(784, 100, 10, 9), 256))
        .collect();
    // Plain SGD, as a stand-in for the optimizer: p -= 0.5 g.
    let sgd = |params: &mut [&mut [f32]; 4], grads: &[&[f32]; 4]| {
        for (p, g) in params.iter_mut().zip(grads) {
            for (p, &g) in p.iter_mut().zip(g.iter()) {
                *p -= 0.5 * g;
            }
        }
    };
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut plain_mlp, mut fresh_mlp) =
                (Mlp::new(784, 100, 10, 9), Mlp::new(784, 100, 10, 9));
            let mut plain = TrainStep::new(&plain_mlp, 256);
            let mut step = TrainStep::new(&fresh_mlp, 256);
            let mut fresh = None;
            let mut beside_ran = 0;
            for (i, (images, labels)) in batches.iter().enumerate() {
                let want = plain.forward_backward(&plain_mlp, images, labels);
                let got = match fresh.take() {
                    Some(fresh) => step.forward_backward_fresh(fresh, images, labels),
                    None => step.forward_backward(&fresh_mlp, images, labels),
                };
                assert_eq!(got, want, "{threads} threads, step {i}: output");
                assert_eq!(
                    step.grads(),
                    plain.grads(),
                    "{threads} threads, step {i}: grads"
                );
                let ((), _) = plain.update(&mut plain_mlp, sgd, || ());
                let ((), proof) = step.update(&mut fresh_mlp, sgd, || beside_ran += 1);
                fresh = Some(proof);
            }
            assert_eq!(
                fresh_mlp, plain_mlp,
                "{threads} threads: weights after the steps"
            );
            assert_eq!(beside_ran, batches.len());
        });
    }
}

#[test]
fn whole_mlp_gradients_match_f64_finite_differences() {
    let mut mlp = Mlp::new(20, 7, 4, 3);
    let n = 6;
    let (images, labels) = random_mlp_batch(5, &mlp, n);
    // Scale fc1 up so every pre-activation is clearly away from the ReLU kink.
    mlp.fc1.weight *= 3.0;
    let mut step = TrainStep::new(&mlp, n);
    let out = step.forward_backward(&mlp, &images, &labels);

    let x = Array2::from_shape_fn((n, mlp.inputs()), |(i, j)| {
        f64::from(images[i * mlp.inputs() + j]) * f64::from(PIXEL_SCALE)
    });
    let p64: Vec<Array2<f64>> = mlp
        .param_views()
        .iter()
        .map(|p| p.mapv(f64::from))
        .collect();
    let forward = |p: &[Array2<f64>]| {
        let a = linear64(&x, &p[0], &p[1]);
        let z = linear64(&relu64(&a), &p[2], &p[3]);
        (ce64(&z, &labels), a)
    };
    let (loss64, a) = forward(&p64);
    assert!(
        a.iter().all(|v| v.abs() > 1e-3),
        "the test point is away from the ReLU kink"
    );
    assert!(
        (f64::from(out.loss) - loss64).abs() < 1e-6,
        "loss {} vs f64 {loss64}",
        out.loss
    );

    let f = |p: &[Array2<f64>]| forward(p).0;
    let shapes = [
        (mlp.hidden(), mlp.inputs()),
        (1, mlp.hidden()),
        (mlp.classes(), mlp.hidden()),
        (1, mlp.classes()),
    ];
    for (k, g) in step.grads().iter().enumerate() {
        let g = ArrayView2::from_shape(shapes[k], g).unwrap();
        assert_close(
            Mlp::PARAM_NAMES[k],
            g,
            &fd_param(&p64, k, 1e-6, &f),
            1e-4,
            1e-7,
        );
    }
}

#[test]
fn a_second_step_after_an_update_sees_the_new_weights() {
    let mut mlp = Mlp::new(784, 32, 10, 9);
    let (images, labels) = random_mlp_batch(6, &mlp, 64);
    let mut step = TrainStep::new(&mlp, 64);
    let before = step.forward_backward(&mlp, &images, &labels);
    let grads: Vec<Vec<f32>> = step.grads().iter().map(|g| g.to_vec()).collect();
    for (p, g) in mlp.params_mut().into_iter().zip(&grads) {
        p.iter_mut().zip(g).for_each(|(p, g)| *p -= 0.5 * g);
    }
    let after = step.forward_backward(&mlp, &images, &labels);
    assert!(
        after.loss < before.loss,
        "a gradient step lowers the loss: {} -> {}",
        before.loss,
        after.loss
    );
    let (expected, _) = plain_step(&mlp, &images, &labels);
    assert_eq!(after, expected);
}
