//! `Mlp::new`: PyTorch's `nn.Linear` distribution, drawn from a SplitMix64 stream that is the same
//! on every machine (checked against the algorithm's published reference outputs and against
//! values computed by an independent implementation).

use autograd_lite::init::linear_init_bound;
use autograd_lite::{Mlp, SplitMix64};

#[test]
fn splitmix64_reproduces_the_reference_outputs() {
    // Vigna's splitmix64.c with seed 1234567 (also Java's SplittableRandom mixing).
    let mut rng = SplitMix64::new(1_234_567);
    let expected = [
        6457827717110365317u64,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ];
    for e in expected {
        assert_eq!(rng.next_u64(), e);
    }
    assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
}

#[test]
fn mlp_new_is_bit_for_bit_the_documented_stream() {
    // Computed independently (Python, float32 rounding at each step) from the documented recipe:
    // fc1.weight, fc1.bias, fc2.weight, fc2.bias in order, u = (next >> 40) * 2^-24,
    // value = bound * (2u - 1), bound = 1 / sqrt(fan_in).
    let mlp = Mlp::new(784, 100, 10, 0);
    let bits = |v: f32| v.to_bits();
    assert_eq!(bits(mlp.fc1.weight[[0, 0]]), 0x3ce0_4aa5);
    assert_eq!(bits(mlp.fc1.weight[[0, 1]]), 0xbba0_4380);
    assert_eq!(bits(mlp.fc1.weight[[0, 2]]), 0xbd0a_8d4d);
    assert_eq!(bits(mlp.fc1.bias[0]), 0xbc66_49e5);
    assert_eq!(bits(mlp.fc2.weight[[0, 0]]), 0x3d9f_ddd0);
    assert_eq!(bits(mlp.fc2.bias[9]), 0xbd3a_786d);
}

#[test]
fn mlp_new_follows_nn_linear_bounds_and_distribution() {
    let mlp = Mlp::new(784, 100, 10, 42);
    assert_eq!((mlp.inputs(), mlp.hidden(), mlp.classes()), (784, 100, 10));
    assert_eq!(mlp.fc1.weight.dim(), (100, 784));
    assert_eq!(mlp.fc2.weight.dim(), (10, 100));
    for (k, values) in mlp.params().iter().enumerate() {
        let fan_in = if k < 2 { 784 } else { 100 };
        let bound = linear_init_bound(fan_in);
        assert!(
            values.iter().all(|v| v.abs() <= bound),
            "{} within ±{bound}",
            Mlp::PARAM_NAMES[k]
        );
    }
    // fc1.weight: 78,400 draws of U(-b, b): mean 0 and variance b^2 / 3, well within 5 sigma.
    let w = mlp.params()[0];
    let b = f64::from(linear_init_bound(784));
    let n = w.len() as f64;
    let mean = w.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = w
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let sigma_mean = (b * b / 3.0 / n).sqrt();
    assert!(mean.abs() < 5.0 * sigma_mean, "mean {mean}");
    // The variance of (v^2) for U(-b, b) is 4 b^4 / 45.
    let sigma_var = (4.0 * b.powi(4) / 45.0 / n).sqrt();
    assert!(
        (var - b * b / 3.0).abs() < 5.0 * sigma_var,
        "variance {var} vs {}",
        b * b / 3.0
    );
    // Both halves of the interval are used.
    assert!(
        w.iter().any(|&v| f64::from(v) > 0.99 * b) && w.iter().any(|&v| f64::from(v) < -0.99 * b)
    );
}

#[test]
fn seeds_are_deterministic_and_distinct() {
    assert_eq!(Mlp::new(784, 100, 10, 5), Mlp::new(784, 100, 10, 5));
    assert_ne!(
        Mlp::new(784, 100, 10, 5).fc1.weight,
        Mlp::new(784, 100, 10, 6).fc1.weight
    );
}

#[test]
fn params_follow_param_names_in_order_and_shape() {
    let mut mlp = Mlp::new(6, 4, 3, 1);
    assert_eq!(
        Mlp::PARAM_NAMES,
        ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    );
    let lens: Vec<usize> = mlp.params().iter().map(|p| p.len()).collect();
    assert_eq!(lens, [24, 4, 12, 3]);
    assert_eq!(
        mlp.param_shapes(),
        [vec![4, 6], vec![4], vec![3, 4], vec![3]]
    );
    // params_mut writes through to the named fields, row-major.
    mlp.params_mut()[0][7] = 9.0; // row 1, column 1 of fc1.weight
    mlp.params_mut()[3][2] = -9.0;
    assert_eq!(mlp.fc1.weight[[1, 1]], 9.0);
    assert_eq!(mlp.fc2.bias[2], -9.0);
    assert_eq!(mlp.params()[0][7], 9.0);
}
