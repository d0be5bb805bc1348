//! `exp` and `ln` with every step specified, so that the loss has the same bits on every CPU.
//!
//! The platform's `expf` and `log` differ between C libraries (glibc picks an FMA or a non-FMA
//! variant at run time; macOS and musl have their own), and each rounds its last bit its own
//! way. These two are plain IEEE arithmetic: additions, multiplications, fused multiply-adds
//! (`mul_add`, one rounding, the same on every CPU that has the instruction and in the
//! correctly rounded library call on one that has not), and exact operations on the exponent
//! bits. So they give the same bits everywhere, and [`exp_in_place`] vectorises: the compiler may
//! compute 4, 8 or 16 of them at a time, each with the same operations.
//!
//! ```text
//! exp(x):  n = round(x / ln 2),  r = x - n ln 2  (|r| <= ln 2 / 2, ln 2 in two parts)
//!          e^r = 1 + r + r^2/2! + ... + r^7/7!   (Taylor to degree 7, Horner with mul_add)
//!          e^x = e^r * 2^(n - n/2) * 2^(n/2)     (two exact powers of two: the second multiply
//!                                               rounds once, into the subnormals if need be)
//! ln(x):   x = 2^k m with sqrt(1/2) <= m < sqrt(2),  f = (m - 1) / (m + 1)
//!          ln m = 2 atanh f = 2 (f + f^3/3 + f^5/5 + ... + f^21/21)   (|f| <= 0.172)
//!          ln x = k ln 2 + ln m
//! ```
//!
//! Accuracy (tested): `exp` within 2 ulp of the exact value over its whole range, `ln` within
//! 2 ulp (f64). PyTorch's own `expf` is within 1 ulp; the difference is far below the 1e-5 to
//! which the training trace matches PyTorch's.

/// `ln 2` in two parts: `LN2_HI` has its 8 low significand bits zero, so `n * LN2_HI` is exact
/// for every `|n| <= 150`, and `LN2_HI + LN2_LO` is `ln 2` to about 2^-45 (musl's `expf`).
const EXP_LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const EXP_LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
/// `1.5 * 2^23`: adding it to a float below 2^22 in magnitude rounds that float to an integer
/// (to nearest, ties to even) in the last bits of the sum; subtracting it gives that integer.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// Below this `e^x` rounds to 0 in f32 (`e^-104 < 2^-150`, half the smallest subnormal).
const EXP_MIN_ARG: f32 = -104.0;
/// Above this `e^x` overflows to infinity (`e^88.8 > f32::MAX`).
const EXP_MAX_ARG: f32 = 88.8;

/// `e^x` in f32, with the module doc's steps (NaN gives NaN, `-inf` gives 0, `inf` gives inf).
///
/// ```
/// use autograd_lite::exp_log::exp;
/// assert_eq!(exp(0.0), 1.0);
/// assert!((exp(1.0) - std::f32::consts::E).abs() <= f32::EPSILON * 3.0);
/// assert_eq!(exp(-200.0), 0.0);
/// assert_eq!(exp(100.0), f32::INFINITY);
/// ```
#[inline]
pub fn exp(x: f32) -> f32 {
    // Clamping keeps n within the exponent range; NaN passes through `clamp` unchanged.
    let x = x.clamp(EXP_MIN_ARG, EXP_MAX_ARG);
    let n = (x * std::f32::consts::LOG2_E + ROUND_MAGIC) - ROUND_MAGIC;
    let r = (-n).mul_add(EXP_LN2_HI, x);
    let r = (-n).mul_add(EXP_LN2_LO, r);
    // e^r by Taylor to degree 7: the first left out term, r^8/8!, is below 2^-27 for |r| <= 0.35.
    let mut p: f32 = 1.0 / 5040.0;
    p = p.mul_add(r, 1.0 / 720.0);
    p = p.mul_add(r, 1.0 / 120.0);
    p = p.mul_add(r, 1.0 / 24.0);
    p = p.mul_add(r, 1.0 / 6.0);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    // n is an integer in [-150, 129] (NaN casts to 0 and stays NaN through p).
    let n = n as i32;
    let half = n >> 1;
    p * power_of_two(n - half) * power_of_two(half)
}

/// `2^k` for `-126 <= k <= 127`, built from its exponent bits.
#[inline]
fn power_of_two(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// `x[i] = e^x[i]` for every element: the same bits as [`exp`] one at a time, in a loop the
/// compiler vectorises.
pub fn exp_in_place(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = exp(*v);
    }
}

/// `ln 2` in two parts for f64 (fdlibm's): `k * LN_LN2_HI` is exact for `|k| < 2^11`.
const LN_LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN_LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// The natural logarithm in f64, with the module doc's steps (`ln 0 = -inf`, `ln inf = inf`, a
/// negative number or NaN gives NaN).
///
/// ```
/// use autograd_lite::exp_log::ln;
/// assert_eq!(ln(1.0), 0.0);
/// assert!((ln(10.0) - std::f64::consts::LN_10).abs() <= f64::EPSILON * 4.0);
/// assert_eq!(ln(0.0), f64::NEG_INFINITY);
/// assert!(ln(-1.0).is_nan());
/// ```
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return x;
    }
    // x = 2^k m with m in [1, 2): subnormals are scaled into the normal range first.
    let (x, mut k) = if x < f64::MIN_POSITIVE {
        (x * f64::from_bits(0x4350_0000_0000_0000), -54i64) // 2^54, exact
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    k += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5; // exact
        k += 1;
    }
    // m - 1 is exact (Sterbenz); |f| <= (sqrt 2 - 1) / (sqrt 2 + 1) < 0.172.
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    // ln m = 2f + 2 f^3 (1/3 + f^2/5 + ... + f^18/21); the next term is below 2^-60 of ln m.
    let mut p: f64 = 1.0 / 21.0;
    for d in [19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
        p = p.mul_add(f2, 1.0 / d);
    }
    let ln_m_tail = 2.0 * f * f2 * p;
    let k = k as f64;
    k.mul_add(
        LN_LN2_HI,
        2.0f64.mul_add(f, k.mul_add(LN_LN2_LO, ln_m_tail)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between `got` and the f64 value `want` (rounded).
    fn ulps_f32(got: f32, want: f64) -> f64 {
        let w = want as f32;
        if got == w {
            return 0.0;
        }
        let ulp = (f64::from(f32::from_bits(w.abs().to_bits() + 1)) - f64::from(w.abs())).abs();
        (f64::from(got) - want).abs() / ulp
    }

    #[test]
    fn exp_is_within_two_ulp_over_its_whole_range() {
        let mut worst = (0.0f64, 0.0f32);
        let mut x = -103.9f32;
        while x < 88.7 {
            let u = ulps_f32(exp(x), f64::from(x).exp());
            if u > worst.0 {
                worst = (u, x);
            }
            x += 0.000_37;
        }
        assert!(worst.0 <= 2.0, "exp({}) is {} ulp off", worst.1, worst.0);
    }

    #[test]
    fn exp_handles_the_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(89.0), f32::INFINITY);
        assert!(exp(88.7).is_finite());
        // Subnormal results: within one subnormal step of the exact value.
        for x in [-88.0f32, -95.0, -100.0, -103.0] {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            assert!(
                (got - want).abs() <= 1.5e-45,
                "exp({x}) = {got:e}, want {want:e}"
            );
        }
        assert_eq!(exp(-104.5), 0.0);
    }

    #[test]
    fn exp_in_place_gives_the_bits_of_exp_one_at_a_time() {
        let mut rng = crate::SplitMix64::new(7);
        let xs: Vec<f32> = (0..1037).map(|_| rng.uniform_symmetric(30.0)).collect();
        let mut v = xs.clone();
        exp_in_place(&mut v);
        for (x, e) in xs.iter().zip(&v) {
            assert_eq!(e.to_bits(), exp(*x).to_bits(), "x = {x}");
        }
    }

    #[test]
    fn ln_is_within_two_ulp_and_inverts_exp() {
        let mut x = 1e-300f64;
        while x < 1e300 {
            for scale in [1.0, 1.234_567, 1.414_1, 1.414_3, 1.999_999] {
                let v = x * scale;
                let got = ln(v);
                let want = v.ln();
                let ulp = f64::EPSILON * want.abs().max(f64::MIN_POSITIVE);
                assert!(
                    (got - want).abs() <= 2.0 * ulp,
                    "ln({v:e}) = {got}, want {want}"
                );
            }
            x *= 3.7;
        }
        for v in [0.5f64, 0.999_999_9, 1.000_000_1, 2.0, 10.0, 1280.0] {
            let ulp = f64::EPSILON * v.ln().abs();
            assert!((ln(v) - v.ln()).abs() <= 2.0 * ulp + 1e-300, "ln({v})");
        }
    }

    #[test]
    fn ln_handles_the_edges() {
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1e-300).is_nan());
        assert!(ln(f64::NAN).is_nan());
        let tiny = f64::from_bits(1); // the smallest subnormal, 2^-1074
        let want = -1074.0 * std::f64::consts::LN_2;
        assert!((ln(tiny) - want).abs() <= 2.0 * f64::EPSILON * want.abs());
    }
}
