//! What a run shows on a terminal (issue 19), through a pseudo-terminal of 150 columns made by
//! util-linux's `script`: the epoch's progress bar shows the running loss and an ETA, and
//! after Ctrl-C (here SIGTERM, handled the same way) the bar is gone from the screen: the
//! "stopping" and "interrupted" messages are printed above it, no stale bar line is left.
//!
//! The screen is the output replayed through a small terminal model (carriage return, line
//! feed, cursor up/down, erase line), the control sequences indicatif uses.

use std::process::Command;

/// The lines of the screen after `output` is written to a terminal.
fn screen(output: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut arg = String::new();
                while let Some(&d) = chars.peek() {
                    if d.is_ascii_digit() || d == '?' || d == ';' {
                        arg.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let n: usize = arg.parse().unwrap_or(1);
                match chars.next() {
                    Some('A') => row = row.saturating_sub(n),
                    Some('B') => row += n,
                    Some('K') => lines[row].clear(),
                    Some('J') => lines.truncate(row + 1),
                    _ => {} // colours, cursor visibility
                }
            }
            '\r' => col = 0,
            '\n' => row += 1,
            c => {
                if lines[row].len() <= col {
                    lines[row].resize(col + 1, ' ');
                }
                lines[row][col] = c;
                col += 1;
            }
        }
        while lines.len() <= row {
            lines.push(Vec::new());
        }
    }
    lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_bar_shows_loss_and_eta_and_leaves_no_line_after_an_interrupt() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux's `script` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let trainer = env!("CARGO_BIN_EXE_trainer");
    // 20 epochs take far longer than 3 s; SIGTERM asks it to stop after the current step.
    let shell = format!(
        "stty cols 150 rows 50; '{trainer}' train --epochs 20 --out '{}' & pid=$!; sleep 3; kill -TERM $pid; wait $pid",
        out.display()
    );
    let output = Command::new("script")
        .args(["-q", "-e", "-c", &shell, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{raw}");
    // While it ran: a bar with the running loss and the time left.
    assert!(
        raw.contains("steps, loss 0.") && raw.contains("ETA 00:00:"),
        "{raw}"
    );
    let lines = screen(&raw);
    let last = lines.len() - 1;
    assert!(
        lines[last].starts_with("interrupted after step"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("stopping after the current step")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains(" steps, loss ")),
        "a progress bar is left on the screen: {lines:#?}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 150), "{lines:#?}");
}
