//! Which microkernel runs: what the CPU supports, and what the user asked for.
//!
//! Every kernel computes every element of `C` with the same fused multiply-adds in the same
//! order, so the choice changes the speed and never a bit of the result (the tests check each
//! kernel this CPU can run against the portable one). The choice is still the user's to make,
//! to measure each path on one machine and to prove that claim: the environment variable
//! [`KERNEL_VARIABLE`] (`AUTOGRAD_LITE_KERNEL=avx512|avx2|portable`) picks the kernel for the
//! whole process; unset, the best one the CPU supports runs.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that chooses the kernel for the whole process.
pub const KERNEL_VARIABLE: &str = "AUTOGRAD_LITE_KERNEL";

/// The microkernels, one per instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// 32 x 10 tile in zmm registers (x86-64 with AVX-512F).
    Avx512,
    /// 16 x 6 tile in ymm registers (x86-64 with AVX2 and FMA).
    Avx2,
    /// 8 x 4 tile in plain Rust with `f32::mul_add` (any CPU: one FMA instruction on aarch64
    /// and on x86-64 with FMA, a correctly rounded library call elsewhere).
    Portable,
}

impl Kernel {
    /// Every kernel, fastest first.
    pub const ALL: [Kernel; 3] = [Kernel::Avx512, Kernel::Avx2, Kernel::Portable];

    /// The name [`KERNEL_VARIABLE`] and the command line use: `avx512`, `avx2`, `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }

    /// The kernel called `name` (as [`Kernel::name`] spells it, any case), if there is one.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The best kernel this CPU supports.
    pub fn detected() -> Kernel {
        Kernel::ALL
            .into_iter()
            .find(|k| k.is_supported())
            .unwrap_or(Kernel::Portable)
    }

    /// The kernels this CPU can run, fastest first (always ends with `Portable`).
    pub fn supported() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_supported())
            .collect()
    }

    /// Whether this CPU can run the kernel.
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => false,
            Kernel::Portable => true,
        }
    }

    /// [`Kernel::is_supported`], detected once per process: the packers and the stores ask for
    /// every panel and tile whether they may use the kernel's instructions. The one place the
    /// GEMM detects CPU features.
    pub(crate) fn runs_here(self) -> bool {
        static DETECTED: std::sync::OnceLock<[bool; 3]> = std::sync::OnceLock::new();
        let [avx512, avx2, portable] =
            *DETECTED.get_or_init(|| Kernel::ALL.map(Kernel::is_supported));
        match self {
            Kernel::Avx512 => avx512,
            Kernel::Avx2 => avx2,
            Kernel::Portable => portable,
        }
    }

    /// The tile shape `(MR, NR)`.
    pub fn tile(self) -> (usize, usize) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => (super::kernel_avx512::MR, super::kernel_avx512::NR),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => (super::kernel_avx2::MR, super::kernel_avx2::NR),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => {
                (super::kernel_portable::MR, super::kernel_portable::NR)
            }
            Kernel::Portable => (super::kernel_portable::MR, super::kernel_portable::NR),
        }
    }

    /// The kernel [`KERNEL_VARIABLE`] asks for, or the detected one when it is unset or empty;
    /// an error when it names no kernel or one this CPU cannot run. A program calls this before
    /// any work, so that a bad value stops it with the message instead of a panic later.
    pub fn from_env() -> Result<Kernel, KernelChoiceError> {
        match std::env::var(KERNEL_VARIABLE) {
            Err(std::env::VarError::NotPresent) => Ok(Kernel::detected()),
            Err(std::env::VarError::NotUnicode(raw)) => Err(KernelChoiceError {
                asked: raw.to_string_lossy().into_owned(),
                known: None,
            }),
            Ok(value) if value.trim().is_empty() => Ok(Kernel::detected()),
            Ok(value) => Kernel::checked(&value),
        }
    }

    /// The kernel called `name`, if this CPU can run it (the check behind [`Kernel::from_env`]
    /// and `--kernel` flags).
    pub fn checked(name: &str) -> Result<Kernel, KernelChoiceError> {
        match Kernel::from_name(name) {
            Some(k) if k.is_supported() => Ok(k),
            known => Err(KernelChoiceError {
                asked: name.to_string(),
                known,
            }),
        }
    }

    /// The kernel [`gemm`](super::gemm) and every other entry point without an explicit
    /// kernel use: the one given to [`Kernel::set_active`], else [`Kernel::from_env`]'s.
    ///
    /// # Panics
    /// If [`KERNEL_VARIABLE`] is set to a kernel that does not exist or that this CPU cannot
    /// run, and nothing was set with [`Kernel::set_active`]: check [`Kernel::from_env`] first.
    pub fn active() -> Kernel {
        if let Some(k) = decode(ACTIVE.load(Ordering::Relaxed)) {
            return k;
        }
        let chosen = Kernel::from_env().unwrap_or_else(|e| panic!("{e}"));
        ACTIVE.store(encode(chosen), Ordering::Relaxed);
        chosen
    }

    /// Makes `kernel` the one [`Kernel::active`] returns, for the whole process (what a
    /// `--kernel` flag does). An error if this CPU cannot run it.
    pub fn set_active(kernel: Kernel) -> Result<(), KernelChoiceError> {
        if !kernel.is_supported() {
            return Err(KernelChoiceError {
                asked: kernel.name().to_string(),
                known: Some(kernel),
            });
        }
        ACTIVE.store(encode(kernel), Ordering::Relaxed);
        Ok(())
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The process's kernel once chosen (0: not yet).
static ACTIVE: AtomicU8 = AtomicU8::new(0);

fn encode(k: Kernel) -> u8 {
    match k {
        Kernel::Avx512 => 1,
        Kernel::Avx2 => 2,
        Kernel::Portable => 3,
    }
}

fn decode(v: u8) -> Option<Kernel> {
    match v {
        1 => Some(Kernel::Avx512),
        2 => Some(Kernel::Avx2),
        3 => Some(Kernel::Portable),
        _ => None,
    }
}

/// A kernel was asked for that does not exist, or that this CPU cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelChoiceError {
    /// What was asked for, as given.
    pub asked: String,
    /// The kernel that name means, if it names one (then the CPU cannot run it).
    pub known: Option<Kernel>,
}

impl fmt::Display for KernelChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runnable: Vec<&str> = Kernel::supported().into_iter().map(Kernel::name).collect();
        let runnable = runnable.join(", ");
        match self.known {
            Some(k) => write!(
                f,
                "this CPU cannot run the {k} GEMM kernel (asked for by {KERNEL_VARIABLE} or \
                 --kernel); it can run: {runnable}"
            ),
            None => {
                let all: Vec<&str> = Kernel::ALL.into_iter().map(Kernel::name).collect();
                write!(
                    f,
                    "unknown GEMM kernel {:?} (from {KERNEL_VARIABLE} or --kernel): the kernels \
                     are {}; this CPU can run: {runnable}",
                    self.asked,
                    all.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for KernelChoiceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ignore_case() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()), Some(k));
            assert_eq!(Kernel::from_name(&k.name().to_uppercase()), Some(k));
        }
        assert_eq!(Kernel::from_name("sse"), None);
    }

    #[test]
    fn the_portable_kernel_runs_everywhere_and_the_detected_one_is_supported() {
        assert!(Kernel::supported().ends_with(&[Kernel::Portable]));
        assert!(Kernel::detected().is_supported());
        assert_eq!(Kernel::supported()[0], Kernel::detected());
    }

    #[test]
    fn an_unknown_name_is_an_error_that_lists_the_kernels() {
        let err = Kernel::checked("avx1024").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"avx1024\""), "{text}");
        assert!(text.contains("avx512, avx2, portable"), "{text}");
        assert!(text.contains("this CPU can run:"), "{text}");
    }

    #[test]
    fn a_kernel_this_cpu_cannot_run_is_refused_with_the_ones_it_can() {
        for k in Kernel::ALL.into_iter().filter(|k| !k.is_supported()) {
            let err = Kernel::set_active(k).unwrap_err();
            assert!(err.to_string().contains("cannot run the"), "{err}");
            assert_eq!(Kernel::checked(k.name()).unwrap_err().known, Some(k));
        }
    }
}
