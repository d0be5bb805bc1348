//! Printing that never panics. `println!` panics when standard output is closed ("failed
//! printing to stdout: Broken pipe", exit 134 under `trainer schedule ... | head -2`), because
//! Rust ignores SIGPIPE and the write fails with EPIPE instead. The console is not the
//! product: a run whose output nobody reads still trains and writes its folder, so every
//! line goes through here and a failed write is dropped.
//!
//! Use as `console::println(format_args!("epoch {n}"))`.

use std::fmt;
use std::io::Write;

/// Writes `args` and a newline to standard output, ignoring a closed or failing stdout.
pub fn println(args: fmt::Arguments) {
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

/// Writes `args` to standard output, ignoring a closed or failing stdout.
pub fn print(args: fmt::Arguments) {
    let _ = write!(std::io::stdout().lock(), "{args}");
}

/// Writes `args` and a newline to standard error, ignoring a closed or failing stderr.
pub fn eprintln(args: fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "{args}");
}
