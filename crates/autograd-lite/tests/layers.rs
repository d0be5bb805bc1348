//! The layer functions (linear, ReLU, cross-entropy): forward against f64 references, backward
//! against central finite differences of the f64 forward, and the `beta` accumulation contract.

use autograd_lite::cross_entropy::{
    argmax, count_correct, cross_entropy_backward, cross_entropy_forward, cross_entropy_sum,
};
use autograd_lite::linear::{
    linear_backward_bias, linear_backward_input, linear_backward_weight, linear_forward,
    linear_relu_forward, matmul_t_forward, Operand, PIXEL_SCALE,
};
use autograd_lite::relu::{relu_backward, relu_forward};
use autograd_lite::SplitMix64;
use ndarray::{arr1, arr2, Array1, Array2, ArrayView2};

mod f64_reference;

use f64_reference::{assert_close, ce64, fd, random};

fn random_bytes(rng: &mut SplitMix64, rows: usize, cols: usize) -> Array2<u8> {
    Array2::from_shape_simple_fn((rows, cols), || (rng.next_u64() >> 56) as u8)
}

fn to64(a: ArrayView2<'_, f32>) -> Array2<f64> {
    a.mapv(f64::from)
}

// ---- f64 references ----------------------------------------------------------------------------

fn linear64(x: &Array2<f64>, w: &Array2<f64>, b: &Array1<f64>) -> Array2<f64> {
    x.dot(&w.t()) + b
}

fn row(v: &[f32]) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((1, v.len()), v).unwrap()
}

fn col64(b: &Array2<f64>) -> Array1<f64> {
    b.row(0).to_owned()
}

// ---- linear ------------------------------------------------------------------------------------

#[test]
fn linear_forward_and_backward_match_f64_and_finite_differences() {
    let mut rng = SplitMix64::new(1);
    let (n, i, o) = (5, 7, 4);
    let x = random(&mut rng, n, i, 1.0);
    let w = random(&mut rng, o, i, 0.5);
    let b = random(&mut rng, 1, o, 0.5);
    let r = random(&mut rng, n, o, 1.0); // dL/dy of the objective L = sum(r ⊙ y)
    let (x64, w64, b64, r64) = (
        to64(x.view()),
        to64(w.view()),
        to64(b.view()),
        to64(r.view()),
    );

    let mut y = Array2::from_elem((n, o), f32::NAN);
    linear_forward(
        Operand::F32(x.view()),
        w.view(),
        b.as_slice().unwrap(),
        y.view_mut(),
    );
    assert_close(
        "y",
        y.view(),
        &linear64(&x64, &w64, &col64(&b64)),
        1e-6,
        1e-6,
    );
    let mut y_nobias = Array2::zeros((n, o));
    matmul_t_forward(Operand::F32(x.view()), w.view(), y_nobias.view_mut());
    assert_close("x W^T", y_nobias.view(), &x64.dot(&w64.t()), 1e-6, 1e-6);

    let objective = |x: &Array2<f64>, w: &Array2<f64>, b: &Array2<f64>| {
        (linear64(x, w, &col64(b)) * &r64).sum()
    };
    let mut dw = Array2::from_elem((o, i), f32::NAN);
    linear_backward_weight(Operand::F32(x.view()), r.view(), 0.0, dw.view_mut());
    let mut db = vec![f32::NAN; o];
    linear_backward_bias(r.view(), 0.0, &mut db);
    let mut dx = Array2::from_elem((n, i), f32::NAN);
    linear_backward_input(r.view(), w.view(), 0.0, dx.view_mut());

    let eps = 1e-6;
    assert_close(
        "dW",
        dw.view(),
        &fd(&w64, eps, |w| objective(&x64, w, &b64)),
        1e-6,
        1e-7,
    );
    assert_close(
        "db",
        row(&db),
        &fd(&b64, eps, |b| objective(&x64, &w64, b)),
        1e-6,
        1e-7,
    );
    assert_close(
        "dx",
        dx.view(),
        &fd(&x64, eps, |x| objective(x, &w64, &b64)),
        1e-6,
        1e-7,
    );
}

#[test]
fn linear_on_u8_pixels_scales_by_1_over_255_in_forward_and_weight_gradient() {
    let mut rng = SplitMix64::new(2);
    let (n, i, o) = (6, 9, 3);
    let pixels = random_bytes(&mut rng, n, i);
    let w = random(&mut rng, o, i, 0.5);
    let b = random(&mut rng, 1, o, 0.5);
    let r = random(&mut rng, n, o, 1.0);
    let x64 = pixels.mapv(|p| f64::from(p) / 255.0);
    let (w64, b64, r64) = (to64(w.view()), to64(b.view()), to64(r.view()));
    let x = Operand::U8 {
        pixels: pixels.view(),
        scale: PIXEL_SCALE,
    };

    let mut y = Array2::zeros((n, o));
    linear_forward(x, w.view(), b.as_slice().unwrap(), y.view_mut());
    assert_close(
        "y",
        y.view(),
        &linear64(&x64, &w64, &col64(&b64)),
        1e-6,
        1e-6,
    );

    let mut dw = Array2::from_elem((o, i), f32::NAN);
    linear_backward_weight(x, r.view(), 0.0, dw.view_mut());
    let objective = |w: &Array2<f64>| (linear64(&x64, w, &col64(&b64)) * &r64).sum();
    assert_close(
        "dW (u8 x)",
        dw.view(),
        &fd(&w64, 1e-6, objective),
        1e-6,
        1e-7,
    );

    // The same gradient from the f32 copy of x / 255, to float rounding.
    let xf = pixels.mapv(|p| f32::from(p) / 255.0);
    let mut dw_f32 = Array2::zeros((o, i));
    linear_backward_weight(Operand::F32(xf.view()), r.view(), 0.0, dw_f32.view_mut());
    assert_close("dW u8 vs f32", dw.view(), &to64(dw_f32.view()), 1e-6, 1e-7);
}

#[test]
fn fused_linear_relu_is_relu_of_linear() {
    let mut rng = SplitMix64::new(3);
    let x = random(&mut rng, 8, 5, 1.0);
    let w = random(&mut rng, 6, 5, 1.0);
    let b = random(&mut rng, 1, 6, 1.0);
    let mut fused = Array2::from_elem((8, 6), f32::NAN);
    linear_relu_forward(
        Operand::F32(x.view()),
        w.view(),
        b.as_slice().unwrap(),
        fused.view_mut(),
    );
    let mut y = Array2::zeros((8, 6));
    linear_forward(
        Operand::F32(x.view()),
        w.view(),
        b.as_slice().unwrap(),
        y.view_mut(),
    );
    let mut h = Array2::zeros((8, 6));
    relu_forward(y.view(), h.view_mut());
    assert_eq!(fused, h);
    assert!(
        h.iter().any(|&v| v == 0.0) && h.iter().any(|&v| v > 0.0),
        "both sides of the kink"
    );
}

#[test]
fn backward_beta_zero_overwrites_even_nan_and_beta_one_accumulates() {
    let mut rng = SplitMix64::new(4);
    let (n, i, o) = (4, 5, 3);
    let x = random(&mut rng, n, i, 1.0);
    let w = random(&mut rng, o, i, 1.0);
    let dy = random(&mut rng, n, o, 1.0);

    let mut dw = Array2::from_elem((o, i), f32::NAN);
    linear_backward_weight(Operand::F32(x.view()), dy.view(), 0.0, dw.view_mut());
    let once = dw.clone();
    assert!(once.iter().all(|v| v.is_finite()));
    linear_backward_weight(Operand::F32(x.view()), dy.view(), 1.0, dw.view_mut());
    assert_eq!(dw, &once * 2.0, "dW accumulated");

    let mut db = vec![f32::NAN; o];
    linear_backward_bias(dy.view(), 0.0, &mut db);
    let once_b = db.clone();
    linear_backward_bias(dy.view(), 1.0, &mut db);
    assert_eq!(
        db,
        once_b.iter().map(|v| v * 2.0).collect::<Vec<_>>(),
        "db accumulated"
    );

    let mut dx = Array2::from_elem((n, i), f32::NAN);
    linear_backward_input(dy.view(), w.view(), 0.0, dx.view_mut());
    let once_x = dx.clone();
    linear_backward_input(dy.view(), w.view(), 1.0, dx.view_mut());
    assert_eq!(dx, &once_x * 2.0, "dx accumulated");

    let h = random(&mut rng, n, o, 1.0);
    let mut dh = Array2::from_elem((n, o), f32::NAN);
    relu_backward(h.view(), dy.view(), 0.0, dh.view_mut());
    let once_h = dh.clone();
    relu_backward(h.view(), dy.view(), 1.0, dh.view_mut());
    assert_eq!(dh, &once_h * 2.0, "relu dx accumulated");

    let labels = [0u8, 2, 1, 2];
    let mut p = Array2::zeros((n, o));
    cross_entropy_forward(dy.view(), &labels, p.view_mut());
    let mut dz = Array2::from_elem((n, o), f32::NAN);
    cross_entropy_backward(p.view(), &labels, 1.0, 0.0, dz.view_mut());
    let once_z = dz.clone();
    cross_entropy_backward(p.view(), &labels, 1.0, 1.0, dz.view_mut());
    assert_eq!(dz, &once_z * 2.0, "dlogits accumulated");
}

// ---- ReLU --------------------------------------------------------------------------------------

#[test]
fn relu_backward_matches_finite_differences_away_from_the_kink() {
    let mut rng = SplitMix64::new(5);
    // Values at least 0.05 away from 0, so a 1e-6 step never crosses the kink.
    let x = Array2::from_shape_simple_fn((6, 7), || {
        let v = rng.uniform_symmetric(1.0);
        if v.abs() < 0.05 {
            v.signum() * 0.05 + v
        } else {
            v
        }
    });
    let r = random(&mut rng, 6, 7, 1.0);
    let mut y = Array2::zeros((6, 7));
    relu_forward(x.view(), y.view_mut());
    assert_eq!(y, x.mapv(|v| v.max(0.0)));
    let mut dx = Array2::from_elem((6, 7), f32::NAN);
    relu_backward(y.view(), r.view(), 0.0, dx.view_mut());
    let r64 = to64(r.view());
    let expected = fd(&to64(x.view()), 1e-6, |x| {
        (x.mapv(|v| v.max(0.0)) * &r64).sum()
    });
    assert_close("relu dx", dx.view(), &expected, 1e-6, 1e-7);
}

#[test]
fn relu_gradient_at_exactly_zero_is_zero_as_in_pytorch() {
    let x = arr2(&[[0.0f32, -0.0, 1.0, -1.0]]);
    let mut y = Array2::zeros((1, 4));
    relu_forward(x.view(), y.view_mut());
    let mut dx = Array2::zeros((1, 4));
    relu_backward(
        y.view(),
        arr2(&[[3.0f32, 3.0, 3.0, 3.0]]).view(),
        0.0,
        dx.view_mut(),
    );
    assert_eq!(dx, arr2(&[[0.0f32, 0.0, 3.0, 0.0]]));
}

// ---- cross-entropy -----------------------------------------------------------------------------

#[test]
fn cross_entropy_forward_and_fused_backward_match_f64_and_finite_differences() {
    let mut rng = SplitMix64::new(6);
    let (n, c) = (7, 5);
    let z = random(&mut rng, n, c, 3.0);
    let labels: Vec<u8> = (0..n).map(|i| (i * 3 % c) as u8).collect();
    let z64 = to64(z.view());

    let mut p = Array2::from_elem((n, c), f32::NAN);
    let loss = cross_entropy_forward(z.view(), &labels, p.view_mut());
    let reference = ce64(&z64, &labels);
    assert!(
        (f64::from(loss) - reference).abs() < 1e-6,
        "loss {loss} vs {reference}"
    );
    for r in p.rows() {
        assert!((r.sum() - 1.0).abs() < 1e-6, "softmax rows sum to 1");
    }
    let sum = cross_entropy_sum(z.view(), &labels);
    assert!(
        (sum / n as f64 - reference).abs() < 1e-6,
        "cross_entropy_sum / N"
    );

    let mut dz = Array2::from_elem((n, c), f32::NAN);
    cross_entropy_backward(p.view(), &labels, 1.0, 0.0, dz.view_mut());
    let expected = fd(&z64, 1e-6, |z| ce64(z, &labels));
    assert_close("dlogits", dz.view(), &expected, 1e-5, 1e-8);

    // The upstream gradient scales the result.
    let mut dz_scaled = Array2::zeros((n, c));
    cross_entropy_backward(p.view(), &labels, 2.5, 0.0, dz_scaled.view_mut());
    assert_close(
        "2.5 dlogits",
        dz_scaled.view(),
        &(expected * 2.5),
        1e-5,
        1e-8,
    );
}

#[test]
fn cross_entropy_is_stable_for_huge_logits_and_exact_for_known_cases() {
    let z = arr2(&[
        [1000.0f32, 0.0, -1000.0],
        [1000.0, 0.0, -1000.0],
        [7.0, 7.0, 7.0],
    ]);
    let mut p = Array2::zeros((3, 3));
    let loss = cross_entropy_forward(z.view(), &[0, 1, 2], p.view_mut());
    // Row losses: 0, 1000, ln 3.
    let expected = (0.0 + 1000.0 + 3f64.ln()) / 3.0;
    assert!(
        (f64::from(loss) - expected).abs() < 1e-4,
        "loss {loss} vs {expected}"
    );
    assert!(p.iter().all(|v| v.is_finite()));
    assert_eq!(p.row(0).to_vec(), vec![1.0, 0.0, 0.0]);
    let uniform = 1.0f32 / 3.0;
    assert!(p.row(2).iter().all(|&v| (v - uniform).abs() < 1e-7));
}

#[test]
fn argmax_takes_the_first_maximum_and_count_correct_counts() {
    assert_eq!(argmax(arr1(&[1.0f32, 3.0, 3.0, 2.0]).view()), 1);
    assert_eq!(argmax(arr1(&[f32::NAN, 1.0, 0.0]).view()), 1);
    assert_eq!(argmax(arr1(&[5.0f32]).view()), 0);
    let z = arr2(&[[0.1f32, 0.9], [0.8, 0.2], [0.5, 0.5]]);
    assert_eq!(count_correct(z.view(), &[1, 1, 0]), 2);
}

#[test]
#[should_panic(expected = "label 3 is not below the number of classes 3")]
fn cross_entropy_rejects_an_out_of_range_label() {
    let z = Array2::<f32>::zeros((2, 3));
    let mut p = Array2::zeros((2, 3));
    cross_entropy_forward(z.view(), &[0, 3], p.view_mut());
}
