//! The f64 functions the schedulers need, with the same bits on every CPU.
//!
//! `f64::cos`, `powf` and `ln` call the platform's C library, whose last bit differs between
//! glibc (which picks an FMA or a non-FMA variant at run time), macOS and musl. These come from
//! the `libm` crate instead: musl's algorithms ported to plain Rust arithmetic, built here
//! without its architecture-specific shortcuts, so that an lr is the same bit for bit on every
//! machine. Each is within 1 ulp of the exact value, as Python's `math.cos` and `**` are, so the
//! schedules still match PyTorch's to 1e-12.
//!
//! Where PyTorch's result hangs on glibc's last bit, ours can differ by more. The one case known:
//! CosineAnnealingWarmRestarts stepped to an epoch exactly at a restart with `T_mult > 1` (say
//! `T_0 = 1, T_mult = 3`, epoch 121) takes `n = int(log(243) / log(3))`, which glibc's
//! logarithms make 4.999... (no restart yet: lr = eta_min) and ours make exactly 5 (the restart:
//! lr = the base lr). Mathematically the restart is right; the test `semantics.rs` pins it.

/// `cos x`.
pub(crate) fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// `x^y`, as Python's `x ** y` on floats.
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// The natural logarithm.
pub(crate) fn ln(x: f64) -> f64 {
    libm::log(x)
}
