//! `trainer compare ... --out DIR --slurm`: the sweep as a Slurm job array, trained by the
//! cluster instead of this process.
//!
//! Next to the plan (`DIR/sweep.toml`) it writes
//! - `DIR/sweep.sbatch`: an array of N tasks (`--array=0-(N-1)`); task K runs
//!   `trainer compare --resume DIR --shard K/N` on `$SLURM_CPUS_PER_TASK` threads. Slurm sends
//!   the script USR1 a minute before the time limit (`--signal=B:USR1@60`); the script passes
//!   SIGTERM on to the trainer, which checkpoints the run under way and exits with 130, and the
//!   script then puts the task back into the queue (`scontrol requeue`), where it continues
//!   from the checkpoint. A task cancelled or preempted gets SIGTERM from Slurm itself and
//!   checkpoints too (`--requeue` lets Slurm requeue it on preemption);
//! - `DIR/report.sbatch`: `trainer report DIR`, to run after the array (`afterany`);
//! - `DIR/slurm/`: the tasks' output files.
//!
//! The scripts name the trainer binary that wrote them and DIR by absolute paths, and start in
//! the folder the plan was made in, so that relative paths in the plan mean what they meant.
//! With `--submit` both are submitted (`sbatch --parsable`) and the job ids printed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::outputs::write_atomic;

/// The array's script.
pub const SWEEP_SCRIPT: &str = "sweep.sbatch";
/// The report's script.
pub const REPORT_SCRIPT: &str = "report.sbatch";
/// The folder of the tasks' output files.
pub const OUTPUT_DIR: &str = "slurm";

/// The Slurm flags of `compare`, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--shards N` (checked against the plan's runs in [`Options::tasks`]).
    pub shards: Option<usize>,
    /// `--slurm-option`, each an `#SBATCH` line.
    pub options: Vec<String>,
    /// `--time`.
    pub time: Option<String>,
    /// `--submit`.
    pub submit: bool,
}

impl Options {
    /// Checks the flags (before anything is planned or written): each `--slurm-option` is one
    /// `--name[=value]`, `--time` a Slurm time, and with `--submit` `sbatch` must be there.
    pub fn check(&self, out: &Path) -> anyhow::Result<()> {
        let workdir =
            std::env::current_dir().context("cannot read the current folder for the scripts")?;
        let trainer = std::env::current_exe()
            .context("cannot find the path of the trainer binary for the scripts")?;
        for path in [&workdir.join(out), &workdir, &trainer] {
            check_path(path)?;
        }
        for option in &self.options {
            let name = option.strip_prefix("--").unwrap_or("");
            if name.is_empty() || name.starts_with(['-', '=']) || option.contains(['\n', '\r']) {
                bail!(
                    "--slurm-option {option:?} is not one sbatch option: write it as --name=value on one line, for example --slurm-option=--partition=short (one flag per option)"
                );
            }
            let name = name.split(['=', ' ']).next().unwrap_or("");
            if name == "array" {
                bail!("--slurm-option {option}: the array is the sweep's shards; set its size with --shards N");
            }
        }
        if let Some(time) = &self.time {
            if time.is_empty()
                || !time
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '-')
            {
                bail!(
                    "--time {time:?} is not a Slurm time limit: write minutes (90), H:MM:SS (1:30:00) or D-HH:MM:SS (2-00:00:00)"
                );
            }
        }
        if self.submit && find_on_path("sbatch").is_none() {
            bail!(
                "--submit needs Slurm's `sbatch`, which is not on PATH; run this on a machine of the Slurm cluster (a login node), or leave out --submit to write the scripts and submit them there"
            );
        }
        Ok(())
    }

    /// The number of array tasks for a plan of `runs` runs: `--shards`, else one per run.
    pub fn tasks(&self, runs: usize) -> anyhow::Result<usize> {
        match self.shards {
            None => Ok(runs.max(1)),
            Some(0) => bail!("--shards 0: give at least 1 (the number of array tasks)"),
            Some(n) if n > runs => bail!(
                "--shards {n} is more than the sweep's {}: a task runs at least one run, so give at most {runs} (or leave --shards out for one task per run)",
                crate::plural::plural(runs as u64, "run")
            ),
            Some(n) => Ok(n),
        }
    }
}

/// Where the scripts came from and what they run.
pub struct Paths {
    /// The sweep folder, absolute.
    pub dir: PathBuf,
    /// The trainer binary, absolute.
    pub trainer: PathBuf,
    /// The folder the plan was made in (the scripts start there).
    pub workdir: PathBuf,
}

impl Paths {
    /// The paths of this process for the sweep folder `dir` (which exists).
    pub fn of_this_process(dir: &Path) -> anyhow::Result<Paths> {
        let paths = Paths {
            dir: std::fs::canonicalize(dir)
                .with_context(|| format!("cannot find the absolute path of {}", dir.display()))?,
            trainer: std::env::current_exe()
                .context("cannot find the path of the trainer binary for the scripts")?,
            workdir: std::env::current_dir()
                .context("cannot read the current folder for the scripts")?,
        };
        for path in [&paths.dir, &paths.trainer, &paths.workdir] {
            check_path(path)?;
        }
        Ok(paths)
    }
}

/// Refuses a path the scripts cannot name: a line break, a double quote (the `#SBATCH
/// --output="..."` line) or bytes that are not UTF-8.
fn check_path(path: &Path) -> anyhow::Result<()> {
    let text = path.to_string_lossy();
    if path.to_str().is_none() || text.contains(['\n', '\r', '"']) {
        bail!(
            "{text:?} holds a line break, a double quote or bytes that are not UTF-8, which a Slurm script cannot name; use another folder"
        );
    }
    Ok(())
}

/// Writes `sweep.sbatch`, `report.sbatch` and the `slurm/` folder into the sweep folder, and
/// returns the text to print: what was written and how to submit it.
pub fn write(paths: &Paths, tasks: usize, options: &Options) -> anyhow::Result<String> {
    let out = paths.dir.join(OUTPUT_DIR);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let sweep = paths.dir.join(SWEEP_SCRIPT);
    let report = paths.dir.join(REPORT_SCRIPT);
    write_script(&sweep, &sweep_script(paths, tasks, options))?;
    write_script(&report, &report_script(paths, options))?;
    Ok(format!(
        "wrote {dir}: sweep.toml (the plan), {SWEEP_SCRIPT} (an array of {tasks}), {REPORT_SCRIPT}; nothing is trained here. Submit both with:\n  {submit}\nThe report so far, at any time: {trainer} report {dir_q}\n",
        dir = paths.dir.display(),
        tasks = crate::plural::plural(tasks as u64, "task"),
        submit = submit_line(&sweep, &report),
        trainer = quote(&paths.trainer.to_string_lossy()),
        dir_q = quote(&paths.dir.to_string_lossy()),
    ))
}

/// The shell line that submits the array and then the report after it.
fn submit_line(sweep: &Path, report: &Path) -> String {
    format!(
        "array=$(sbatch --parsable {}) && sbatch --dependency=afterany:\"${{array%%;*}}\" {}",
        quote(&sweep.to_string_lossy()),
        quote(&report.to_string_lossy())
    )
}

/// The job ids `--submit` got.
pub struct Submitted {
    /// The array job.
    pub array: String,
    /// The report job.
    pub report: String,
}

/// Submits the array, then the report after it (`sbatch --parsable`, no shell).
pub fn submit(dir: &Path) -> anyhow::Result<Submitted> {
    let array = sbatch(&[], &dir.join(SWEEP_SCRIPT))?;
    let report = sbatch(
        &[format!("--dependency=afterany:{array}")],
        &dir.join(REPORT_SCRIPT),
    )?;
    Ok(Submitted { array, report })
}

/// `sbatch --parsable [flags] script`: the job id (the part before `;cluster`).
fn sbatch(flags: &[String], script: &Path) -> anyhow::Result<String> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .args(flags)
        .arg(script)
        .output()
        .with_context(|| {
            format!(
                "cannot run Slurm's sbatch for {}; is this a machine of the Slurm cluster?",
                script.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout.trim().split(';').next().unwrap_or("").to_string();
    if !output.status.success() || id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!(
            "sbatch {} failed ({}): {}{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            stdout.trim()
        );
    }
    Ok(id)
}

/// The `#SBATCH` lines both scripts share: `--time` and every `--slurm-option`.
fn common_lines(options: &Options) -> String {
    let mut lines = String::new();
    if let Some(time) = &options.time {
        lines += &format!("#SBATCH --time={time}\n");
    }
    for option in &options.options {
        lines += &format!("#SBATCH {option}\n");
    }
    lines
}

fn sweep_script(paths: &Paths, tasks: usize, options: &Options) -> String {
    let dir = paths.dir.to_string_lossy();
    format!(
        r#"#!/bin/bash
# One task of a `trainer compare` sweep: task K of {tasks} runs the sweep's runs whose index is
# K modulo {tasks} (`trainer compare --resume DIR --shard K/{tasks}`); written by
# `trainer compare --slurm`. Submit it with report.sbatch after it:
#   {submit}
#SBATCH --job-name=trainer-sweep
#SBATCH --array=0-{last}
#SBATCH --output="{output}/sweep-%A_%a.out"
#SBATCH --open-mode=append
#SBATCH --requeue
#SBATCH --signal=B:USR1@60
{common}
# Relative paths in the plan (data.dir) are relative to the folder it was made in.
cd {workdir} || exit 1
trainer={trainer}
dir={dir_q}

"$trainer" compare --resume "$dir" --shard "$SLURM_ARRAY_TASK_ID/{tasks}" --threads "${{SLURM_CPUS_PER_TASK:-1}}" --quiet &
pid=$!
# USR1 comes a minute before the time limit (--signal above): the trainer checkpoints the run
# under way and exits with 130, and the task goes back into the queue to continue from there.
# (Cancelled or preempted, the trainer gets SIGTERM from Slurm itself and checkpoints too.)
requeue=0
trap 'requeue=1; kill -TERM "$pid" 2>/dev/null' USR1
wait "$pid"
status=$?
# The trap interrupts `wait` (status 128 + the signal's number): wait for the trainer's end.
if [ "$requeue" = 1 ]; then
  wait "$pid"
  status=$?
fi
if [ "$status" = 130 ] && [ "$requeue" = 1 ]; then
  echo "trainer stopped before the time limit; requeueing ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
  scontrol requeue "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
fi
exit "$status"
"#,
        submit = submit_line(
            &paths.dir.join(SWEEP_SCRIPT),
            &paths.dir.join(REPORT_SCRIPT)
        ),
        last = tasks - 1,
        output = slurm_path(&format!("{dir}/{OUTPUT_DIR}")),
        common = common_lines(options),
        workdir = quote(&paths.workdir.to_string_lossy()),
        trainer = quote(&paths.trainer.to_string_lossy()),
        dir_q = quote(&dir),
    )
}

fn report_script(paths: &Paths, options: &Options) -> String {
    let dir = paths.dir.to_string_lossy();
    format!(
        r#"#!/bin/bash
# The sweep's summary.csv, charts and report.html from its finished runs (`trainer report`),
# submitted after sweep.sbatch's array with --dependency=afterany:ARRAY_JOB_ID.
#SBATCH --job-name=trainer-report
#SBATCH --output="{output}/report-%j.out"
{common}
cd {workdir} || exit 1
exec {trainer} report {dir_q}
"#,
        output = slurm_path(&format!("{dir}/{OUTPUT_DIR}")),
        common = common_lines(options),
        workdir = quote(&paths.workdir.to_string_lossy()),
        trainer = quote(&paths.trainer.to_string_lossy()),
        dir_q = quote(&dir),
    )
}

/// Writes a script whole and makes it executable.
fn write_script(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomic(path, text.as_bytes())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// `text` as one shell word: in single quotes, each `'` written `'\''`.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A path inside an `#SBATCH --output="..."` (double quotes; `%` doubled, as Slurm's
/// file-name patterns read `%%` as `%`). Paths with `"` or line breaks are refused before.
fn slurm_path(path: &str) -> String {
    path.replace('%', "%%")
}

/// The first executable `name` in `$PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            shards: None,
            options: Vec::new(),
            time: None,
            submit: false,
        }
    }

    #[test]
    fn quoted_words_survive_the_shell() {
        for text in ["/a b/c", "it's", "$(rm -rf /)", "a\"b", "", "%x;y"] {
            let output = Command::new("bash")
                .args(["-c", &format!("printf %s {}", quote(text))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&output.stdout), text);
        }
    }

    #[test]
    fn bad_options_are_named() {
        for (shards, option, time, says) in [
            (None, "partition=short", None, "is not one sbatch option"),
            (None, "--", None, "is not one sbatch option"),
            (None, "---x", None, "is not one sbatch option"),
            (
                None,
                "--partition=a\n#SBATCH --x",
                None,
                "is not one sbatch option",
            ),
            (None, "--array=0-9", None, "set its size with --shards N"),
            (None, "--qos=x", Some("1 hour"), "is not a Slurm time limit"),
            (None, "--qos=x", Some(""), "is not a Slurm time limit"),
        ] {
            let opts = Options {
                shards,
                options: vec![option.to_string()],
                time: time.map(String::from),
                submit: false,
            };
            let err = opts.check(Path::new("out")).unwrap_err().to_string();
            assert!(err.contains(says), "{option:?} {time:?}: {err}");
        }
        let good = Options {
            options: vec!["--partition=short".into(), "--cpus-per-task=2".into()],
            time: Some("1-02:00:00".into()),
            ..options()
        };
        good.check(Path::new("out")).unwrap();
    }

    #[test]
    fn tasks_default_to_one_per_run_and_more_than_the_runs_are_refused() {
        assert_eq!(options().tasks(4).unwrap(), 4);
        let two = Options {
            shards: Some(2),
            ..options()
        };
        assert_eq!(two.tasks(4).unwrap(), 2);
        let five = Options {
            shards: Some(5),
            ..options()
        };
        let err = five.tasks(4).unwrap_err().to_string();
        assert!(err.contains("at most 4"), "{err}");
        let zero = Options {
            shards: Some(0),
            ..options()
        };
        assert!(zero.tasks(4).is_err());
    }
}
