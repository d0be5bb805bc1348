//! Printing that never panics. `println!` panics when standard output is closed ("failed
//! printing to stdout: Broken pipe", exit 134 under `trainer schedule ... | head -2`), because
//! Rust ignores SIGPIPE and the write fails with EPIPE instead. The console is not the
//! product: a run whose output nobody reads still trains and writes its folder, so every
//! line goes through here and a failed write is dropped.
//!
//! Use as `console::println(format_args!("epoch {n}"))`.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

use indicatif::MultiProgress;

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

/// The process's one progress display (on standard error), which every progress bar joins, so
/// that a message printed while bars are on the terminal ([`eprintln_above_bars`]) goes above
/// them, not into the middle of a bar line that is then left behind when the bars are cleared.
pub fn progress_display() -> &'static MultiProgress {
    static DISPLAY: OnceLock<MultiProgress> = OnceLock::new();
    DISPLAY.get_or_init(MultiProgress::new)
}

/// [`eprintln()`] with the progress bars (if any are shown) lifted off the terminal meanwhile and
/// redrawn under the message: what the Ctrl-C handler prints.
pub fn eprintln_above_bars(args: fmt::Arguments) {
    progress_display().suspend(|| eprintln(args));
}

/// The width the run's header keeps within, so that a 150-column terminal shows every line
/// whole instead of wrapping it wherever it happens to end.
pub const HEADER_WIDTH: usize = 150;

/// `line` split at its `; ` separators into lines of at most `width` characters (greedy, the
/// separator dropped at a break). A single part longer than `width` stays whole: it may be a
/// path to copy; shorten what may be shortened before, with [`shorten`].
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for part in line.split("; ") {
        if current.is_empty() {
            current = part.to_string();
        } else if current.chars().count() + 2 + part.chars().count() <= width {
            current.push_str("; ");
            current.push_str(part);
        } else {
            lines.push(std::mem::replace(&mut current, part.to_string()));
        }
    }
    lines.push(current);
    lines
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_break_at_their_separators() {
        let line = "model: 784-100-10 MLP (ReLU); optimizer: SGD(lr=0.1); scheduler: ReduceLROnPlateau(factor=0.5)";
        assert_eq!(wrap(line, 200), [line]);
        assert_eq!(
            wrap(line, 60),
            [
                "model: 784-100-10 MLP (ReLU); optimizer: SGD(lr=0.1)",
                "scheduler: ReduceLROnPlateau(factor=0.5)"
            ]
        );
        assert_eq!(wrap("a-very-long-path", 4), ["a-very-long-path"]);
        assert_eq!(shorten("LambdaLR(lr_lambda=\"t\")", 10), "LambdaLR(…");
        assert_eq!(shorten("SGD()", 10), "SGD()");
    }
}
