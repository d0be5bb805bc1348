//! Every example printed by every `--help` runs as printed.
//!
//! The subcommands are discovered from the help texts themselves (their "Commands:" sections),
//! so a new subcommand's examples are tested without editing this file. Each example line of an
//! "Example(s):" section (a line starting with `trainer`, up to its two-space-separated
//! description) is run in a fresh temporary directory per help text that links the
//! repository's `configs`, `examples` and `data`: the examples see the files a user's checkout
//! has, and what they write (runs/, lr.svg, ...) lands in the temporary directory, never in the
//! repository. One help text's examples run in the order printed, as a user would run them, so
//! `trainer eval`'s example may use the run its previous line made. An example naming a missing
//! file or a removed flag fails here.
//!
//! A few examples are exempted from running, only through [`EXEMPT`] and with the reason; they
//! are still parsed (run with `--help` appended, which clap only reaches once every flag before
//! it was accepted).

use std::path::Path;
use std::process::{Command, Output};

/// Examples that are parsed but not run: (prefix of the example, why).
const EXEMPT: [(&str, &str); 3] = [
    ("trainer data fetch", "downloads from the network"),
    (
        "trainer bench gemm",
        "times GEMMs up to 1024^3 for about 10 s per run",
    ),
    (
        "trainer bench train --kernel",
        "needs a CPU with that kernel; the kernel choice is tested in cli_kernel.rs",
    ),
];

fn trainer(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(cwd)
        .env_remove("FASHION_MNIST_DIR")
        .env_remove("AUTOGRAD_LITE_KERNEL")
        .output()
        .unwrap()
}

fn help(path: &[String], cwd: &Path) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let out = trainer(&args, cwd);
    assert!(out.status.success(), "trainer {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of the section that starts with a line equal to one of `headers`, up to the next
/// blank line.
fn section<'a>(text: &'a str, headers: &[&str]) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !headers.contains(&l.trim_end()))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// The subcommand names listed in a help text's "Commands:" section (without `help`).
fn subcommands(text: &str) -> Vec<String> {
    section(text, &["Commands:"])
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The example command lines of a help text, without their descriptions.
fn examples(text: &str) -> Vec<String> {
    section(text, &["Example:", "Examples:"])
        .iter()
        .map(|l| l.trim())
        .filter(|l| *l == "trainer" || l.starts_with("trainer "))
        .map(|l| l.split("  ").next().unwrap().to_string())
        .collect()
}

/// Every (command path, help text), depth first in the order the help texts list them.
fn all_help(path: Vec<String>, cwd: &Path, out: &mut Vec<(Vec<String>, String)>) {
    let text = help(&path, cwd);
    let subs = subcommands(&text);
    out.push((path.clone(), text));
    for sub in subs {
        let mut child = path.clone();
        child.push(sub);
        all_help(child, cwd, out);
    }
}

/// A fresh directory that looks like a checkout to the examples: links to the repository's
/// `configs`, `examples` and `data`.
fn checkout_like() -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    for name in ["configs", "examples", "data"] {
        #[cfg(unix)]
        std::os::unix::fs::symlink(repo.join(name), tmp.path().join(name)).unwrap();
        #[cfg(not(unix))]
        panic!("cannot link {name}: symlinks are needed");
    }
    tmp
}

#[test]
fn every_help_example_runs() {
    let tmp = checkout_like();
    let mut helps = Vec::new();
    all_help(Vec::new(), tmp.path(), &mut helps);
    assert!(
        helps.len() >= 10,
        "subcommands found: {:?}",
        helps.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );

    let mut ran = 0;
    let mut failures = Vec::new();
    for (path, text) in &helps {
        let found = examples(text);
        // Every leaf command shows at least one example.
        if subcommands(text).is_empty() {
            assert!(
                !found.is_empty(),
                "`trainer {}` --help shows no example",
                path.join(" ")
            );
        }
        let cwd = checkout_like();
        for example in found {
            let mut args: Vec<&str> = example.split_whitespace().skip(1).collect();
            let exempt = EXEMPT
                .iter()
                .find(|(prefix, _)| example.starts_with(prefix));
            if exempt.is_some() {
                args.push("--help");
            } else {
                ran += 1;
            }
            let out = trainer(&args, cwd.path());
            if !out.status.success() {
                failures.push(format!(
                    "`{example}` (from `trainer {} --help`){}: {}\n{}",
                    path.join(" "),
                    exempt.map_or(String::new(), |(_, why)| format!(
                        " [exempt from running: {why}; parsed only]"
                    )),
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 15, "only {ran} examples ran");
}
