//! `Sgd::step` against a one-element-at-a-time transcription of PyTorch's formula, on tensor
//! lengths around the 16-wide chunks of the vectorised update, for every combination of
//! maximize / weight decay / momentum / dampening / Nesterov: parameters and buffers bit for
//! bit, the four norms against plain f64 sums.

use optim::{Sgd, SgdConfig};

/// PyTorch's `_single_tensor_sgd` for one element, every `a + α·b` one fused multiply-add.
fn reference_element(c: &SgdConfig, p: &mut f32, g: f32, b: &mut Option<f32>) {
    let mut d = if c.maximize { -g } else { g };
    if c.weight_decay != 0.0 {
        d = (c.weight_decay as f32).mul_add(*p, d);
    }
    if c.momentum != 0.0 {
        let momentum = c.momentum as f32;
        let new_b = match *b {
            None => d,
            Some(old) => ((1.0 - c.dampening) as f32).mul_add(d, old * momentum),
        };
        *b = Some(new_b);
        d = if c.nesterov {
            momentum.mul_add(new_b, d)
        } else {
            new_b
        };
    }
    *p = ((-c.lr) as f32).mul_add(d, *p);
}

/// A deterministic pseudo-random value in [-1, 1).
fn value(i: usize, salt: u64) -> f32 {
    let mut z = (i as u64 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_add(0x6A09_E667);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
}

fn norm(values: impl Iterator<Item = f64>) -> f64 {
    values.map(|x| x * x).sum::<f64>().sqrt()
}

fn assert_norm(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.max(1.0),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn every_option_on_every_chunk_boundary_matches_the_formula_bit_for_bit() {
    let lengths = [1, 7, 15, 16, 17, 31, 32, 33, 100, 1001];
    for mask in 0..32u32 {
        let momentum = if mask & 4 != 0 { 0.9 } else { 0.0 };
        let config = SgdConfig {
            lr: 0.05,
            maximize: mask & 1 != 0,
            weight_decay: if mask & 2 != 0 { 1e-2 } else { 0.0 },
            momentum,
            dampening: if mask & 8 != 0 && mask & 16 == 0 {
                0.3
            } else {
                0.0
            },
            nesterov: momentum != 0.0 && mask & 16 != 0,
        };
        let mut sgd = Sgd::new(&config, &lengths).unwrap();
        let mut params: Vec<Vec<f32>> = lengths
            .iter()
            .map(|&n| (0..n).map(|i| value(i, n as u64)).collect())
            .collect();
        let mut want_params = params.clone();
        let mut want_buffers: Vec<Vec<Option<f32>>> =
            lengths.iter().map(|&n| vec![None; n]).collect();
        for step in 0..4 {
            let grads: Vec<Vec<f32>> = lengths
                .iter()
                .map(|&n| (0..n).map(|i| value(i, 1000 * step + n as u64)).collect())
                .collect();
            let before = params.clone();
            let grad_refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
            let mut param_refs: Vec<&mut [f32]> =
                params.iter_mut().map(Vec::as_mut_slice).collect();
            let report = sgd.step(&mut param_refs, &grad_refs).unwrap().clone();
            let buffers = sgd.state().momentum_buffers;
            for t in 0..lengths.len() {
                let case = format!("{config:?}, step {step}, tensor of {}", lengths[t]);
                for j in 0..lengths[t] {
                    let b = &mut want_buffers[t][j];
                    reference_element(&config, &mut want_params[t][j], grads[t][j], b);
                }
                let got: Vec<u32> = params[t].iter().map(|x| x.to_bits()).collect();
                let want: Vec<u32> = want_params[t].iter().map(|x| x.to_bits()).collect();
                assert_eq!(got, want, "{case}: parameters");
                let want_buffer: Option<Vec<f32>> = want_buffers[t].iter().copied().collect();
                assert_eq!(buffers[t], want_buffer, "{case}: momentum buffer");

                let r = report.tensors[t];
                let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
                assert_norm("grad", r.grad_norm, norm(wide(&grads[t]).into_iter()));
                assert_norm("param", r.param_norm, norm(wide(&params[t]).into_iter()));
                let update = params[t]
                    .iter()
                    .zip(&before[t])
                    .map(|(&a, &b)| f64::from(a) - f64::from(b));
                assert_norm("update", r.update_norm, norm(update));
                let buffer = buffers[t].as_deref().unwrap_or(&[]);
                assert_norm("buffer", r.buffer_norm, norm(wide(buffer).into_iter()));
            }
        }
    }
}
