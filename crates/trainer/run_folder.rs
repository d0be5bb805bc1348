//! A run folder is one run: nothing replaces it but an explicit `--overwrite`, and one process
//! writes it at a time.
//!
//! - A new run (`train --out DIR`, `compare --out DIR`) refuses a DIR that holds anything,
//!   before any work. The default folder (no `--out`) takes a fresh name (`-2`, `-3`, ...).
//! - `--overwrite` writes the new run into a hidden sibling (`.DIR.overwrite-PID`) and swaps it
//!   in when the new run writes its first checkpoint: a run killed or failing before that
//!   leaves the old run as it was.
//! - The writer holds an OS lock (`flock`) on `DIR/.lock`, which holds its PID; the kernel
//!   releases the lock when the process ends, however it ends. A second writer is refused with
//!   that PID. The `.lock` file stays in the folder (deleting it would let two processes lock
//!   two different files under one name).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The lock file inside a run folder.
pub const LOCK_FILE: &str = ".lock";

/// A run folder this process writes (and holds the lock of) until it is dropped.
#[derive(Debug)]
pub struct RunFolder {
    /// The folder as the user named it (where the run ends up).
    path: PathBuf,
    /// An `--overwrite` that has not written its first checkpoint yet.
    staging: Option<Staging>,
    /// The lock on `.lock` in the folder being written.
    _lock: File,
}

/// What [`RunFolder::take`] found.
#[derive(Debug)]
pub enum Taken {
    /// The folder, locked by this process.
    Folder(RunFolder),
    /// Another live process holds its lock: "process PID".
    Busy(String),
}

/// The hidden sibling an `--overwrite` writes into until its first checkpoint.
#[derive(Debug)]
struct Staging {
    /// The folder being replaced (the top folder for a `compare` sub-run).
    old: PathBuf,
    /// The hidden sibling holding the new run.
    hidden: PathBuf,
    /// The lock on the old folder, so that nobody resumes it while it is being replaced.
    _old_lock: File,
    /// Set once the swap is done (or handed to a sub-run), so that dropping does not delete.
    done: bool,
}

impl Drop for Staging {
    /// An `--overwrite` that ends before its first checkpoint leaves the old run as it was and
    /// removes what it wrote.
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.hidden);
        }
    }
}

impl RunFolder {
    /// Refuses `dir` for a new run if it holds anything (without `overwrite`), or if it is not
    /// a folder. Writes nothing: called before any work, [`RunFolder::create`] checks again.
    pub fn check_new(dir: &Path, overwrite: bool, what: &str) -> anyhow::Result<()> {
        match fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => {
                Err(e).with_context(|| format!("cannot read the output folder {}", dir.display()))
            }
            Ok(meta) if !meta.is_dir() => bail!(
                "--out {} is not a folder; choose another with --out DIR",
                dir.display()
            ),
            Ok(_) if is_empty(dir)? => Ok(()),
            Ok(_) => {
                if let Some(holder) = holder(dir) {
                    bail!(
                        "{} is being written by {holder}; wait for it to finish or stop it, or choose another folder",
                        dir.display()
                    );
                }
                if overwrite {
                    return Ok(());
                }
                bail!(
                    "{} already holds files (a previous run?); {what}",
                    dir.display()
                )
            }
        }
    }

    /// Creates (or takes, if empty) `dir` for a new run and locks it; with `overwrite` an
    /// existing `dir` is kept until [`RunFolder::checkpoint_written`].
    pub fn create(dir: &Path, overwrite: bool, what: &str) -> anyhow::Result<RunFolder> {
        RunFolder::check_new(dir, overwrite, what)?;
        if overwrite && dir.exists() && !is_empty(dir)? {
            return RunFolder::create_staged(dir);
        }
        fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the output folder {}; choose another with --out DIR",
                dir.display()
            )
        })?;
        let lock = lock(dir)?;
        // Another process may have written into the folder between the check and the lock.
        if contains_more_than_the_lock(dir)? {
            bail!(
                "{} already holds files (a previous run?); {what}",
                dir.display()
            );
        }
        Ok(RunFolder {
            path: dir.to_path_buf(),
            staging: None,
            _lock: lock,
        })
    }

    /// A fresh folder named `base`, or `base-2`, `base-3`, ... if that exists (the default
    /// output folder: two runs started in the same second get two folders).
    pub fn create_fresh(base: &Path) -> anyhow::Result<RunFolder> {
        if let Some(parent) = base.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).with_context(|| {
                format!(
                    "cannot create the folder {}; choose another with --out DIR",
                    parent.display()
                )
            })?;
        }
        let name = base.as_os_str().to_string_lossy().into_owned();
        for n in 1..10_000u32 {
            let candidate = match n {
                1 => base.to_path_buf(),
                n => PathBuf::from(format!("{name}-{n}")),
            };
            match fs::create_dir(&candidate) {
                Ok(()) => {
                    let lock = lock(&candidate)?;
                    return Ok(RunFolder {
                        path: candidate,
                        staging: None,
                        _lock: lock,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "cannot create the output folder {}; choose another with --out DIR",
                            candidate.display()
                        )
                    })
                }
            }
        }
        bail!("every name from {name} to {name}-9999 is taken; choose a folder with --out DIR")
    }

    /// Takes an existing run folder to continue it (`--resume`): locks it and removes the
    /// temporary files a killed run may have left (the complete files they were about to
    /// replace are still there).
    pub fn resume(dir: &Path) -> anyhow::Result<RunFolder> {
        let meta = fs::metadata(dir)
            .with_context(|| format!("cannot resume {}: there is no such folder", dir.display()))?;
        if !meta.is_dir() {
            bail!("cannot resume {}: it is not a folder", dir.display());
        }
        if !dir.join("config.toml").is_file() {
            bail!(
                "cannot resume {}: it has no config.toml, so it is not a run folder",
                dir.display()
            );
        }
        let lock = lock(dir)?;
        remove_stale_temporaries(dir);
        Ok(RunFolder {
            path: dir.to_path_buf(),
            staging: None,
            _lock: lock,
        })
    }

    /// Takes the folder of one run of a sweep to start or continue it (`compare --resume`):
    /// creates it if needed, locks it and removes the temporary files a killed run may have
    /// left. A folder whose lock a live process holds is [`Taken::Busy`], untouched; a lock left
    /// by a process that has ended is taken over.
    pub fn take(dir: &Path) -> anyhow::Result<Taken> {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the run folder {}", dir.display()))?;
        match try_lock(dir)? {
            Err(who) => Ok(Taken::Busy(who)),
            Ok(lock) => {
                remove_stale_temporaries(dir);
                Ok(Taken::Folder(RunFolder {
                    path: dir.to_path_buf(),
                    staging: None,
                    _lock: lock,
                }))
            }
        }
    }

    /// The folder of one run of a comparison, inside this one: created and locked (an
    /// interrupted sub-run can be resumed on its own, so it gets its own lock). A pending
    /// `--overwrite` moves to the sub-run (whose first checkpoint swaps the whole comparison
    /// in); give it back with [`RunFolder::take_back`].
    pub fn sub_run(&mut self, name: &str) -> anyhow::Result<RunFolder> {
        let path = self.path.join(name);
        let staging = self.staging.take();
        let dir = match &staging {
            Some(s) => s.hidden.join(name),
            None => path.clone(),
        };
        fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the run folder {}", dir.display()))?;
        let lock = lock(&dir)?;
        remove_stale_temporaries(&dir);
        Ok(RunFolder {
            path,
            staging,
            _lock: lock,
        })
    }

    /// Ends a sub-run: an `--overwrite` it did not complete goes back to this folder.
    pub fn take_back(&mut self, mut sub: RunFolder) {
        if let Some(staging) = sub.staging.take() {
            self.staging = Some(staging);
        }
    }

    /// The folder as the user named it (for messages and for `--resume`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the run's files go now: the hidden sibling until an `--overwrite` swaps it in.
    pub fn dir(&self) -> PathBuf {
        match &self.staging {
            None => self.path.clone(),
            Some(s) => match self.path.strip_prefix(&s.old) {
                Ok(rest) if !rest.as_os_str().is_empty() => s.hidden.join(rest),
                _ => s.hidden.clone(),
            },
        }
    }

    /// True while an `--overwrite` has not replaced the old folder yet.
    pub fn is_staged(&self) -> bool {
        self.staging.is_some()
    }

    /// Called after every checkpoint; the first one of an `--overwrite` replaces the old folder
    /// with the new run (two renames; the old run is then deleted).
    pub fn checkpoint_written(&mut self) -> anyhow::Result<()> {
        let Some(mut staging) = self.staging.take() else {
            return Ok(());
        };
        let parent = staging.old.parent().unwrap_or(Path::new("."));
        let name = file_name(&staging.old);
        let retired = parent.join(format!(".{name}.replaced-{}", std::process::id()));
        fs::rename(&staging.old, &retired).with_context(|| {
            format!(
                "cannot move the old run {} aside to replace it",
                staging.old.display()
            )
        })?;
        if let Err(e) = fs::rename(&staging.hidden, &staging.old) {
            // Put the old run back; the new one stays in the hidden folder.
            let _ = fs::rename(&retired, &staging.old);
            return Err(e).with_context(|| {
                format!(
                    "cannot move the new run from {} to {}",
                    staging.hidden.display(),
                    staging.old.display()
                )
            });
        }
        staging.done = true;
        let _ = fs::remove_dir_all(&retired);
        Ok(())
    }

    /// `--overwrite` of a non-empty folder: lock the old folder (nobody may be writing it),
    /// clear what earlier killed overwrites left, create and lock the hidden sibling.
    fn create_staged(dir: &Path) -> anyhow::Result<RunFolder> {
        let old_lock = lock(dir)?;
        let parent = dir.parent().unwrap_or(Path::new("."));
        let name = file_name(dir);
        remove_abandoned_siblings(parent, &name);
        let hidden = parent.join(format!(".{name}.overwrite-{}", std::process::id()));
        let _ = fs::remove_dir_all(&hidden);
        fs::create_dir(&hidden).with_context(|| {
            format!(
                "cannot create {} to write the new run into",
                hidden.display()
            )
        })?;
        let staging = Staging {
            old: dir.to_path_buf(),
            hidden: hidden.clone(),
            _old_lock: old_lock,
            done: false,
        };
        let lock = lock(&hidden)?;
        Ok(RunFolder {
            path: dir.to_path_buf(),
            staging: Some(staging),
            _lock: lock,
        })
    }
}

/// "process PID" if a live process holds the lock of `dir` (without taking it for long).
pub fn holder(dir: &Path) -> Option<String> {
    let mut file = File::open(dir.join(LOCK_FILE)).ok()?;
    match file.try_lock() {
        Ok(()) => None, // free; released when `file` is dropped
        Err(_) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            Some(match text.trim() {
                "" => "another process".to_string(),
                pid => format!("process {pid}"),
            })
        }
    }
}

/// Locks `dir/.lock` and writes this process's PID into it; refuses with the holder's PID.
fn lock(dir: &Path) -> anyhow::Result<File> {
    match try_lock(dir)? {
        Ok(file) => Ok(file),
        Err(who) => bail!(
            "{} is being written by {who} (it holds {}); wait for it to finish or stop it, or choose another folder",
            dir.display(),
            dir.join(LOCK_FILE).display()
        ),
    }
}

/// Locks `dir/.lock` and writes this process's PID into it, or says who holds it ("process
/// PID"). A lock file left by a process that has ended is free (the kernel released its lock)
/// and taken over.
fn try_lock(dir: &Path) -> anyhow::Result<Result<File, String>> {
    let path = dir.join(LOCK_FILE);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot write into the run folder {}; choose another with --out DIR",
                dir.display()
            )
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let pid = text.trim();
            return Ok(Err(if pid.is_empty() {
                "another process".to_string()
            } else {
                format!("process {pid}")
            }));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    let written = (|| -> std::io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        file.flush()
    })();
    written.with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Ok(file))
}

fn is_empty(dir: &Path) -> anyhow::Result<bool> {
    let mut entries =
        fs::read_dir(dir).with_context(|| format!("cannot read the folder {}", dir.display()))?;
    Ok(entries.next().is_none())
}

fn contains_more_than_the_lock(dir: &Path) -> anyhow::Result<bool> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot read the folder {}", dir.display()))?;
    Ok(entries.flatten().any(|e| e.file_name() != LOCK_FILE))
}

fn file_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}

/// Removes the hidden siblings of `name` that killed overwrites left (`.NAME.overwrite-PID`,
/// `.NAME.replaced-PID`), unless a live process still holds their lock.
fn remove_abandoned_siblings(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!(".{name}.overwrite-"), format!(".{name}.replaced-")];
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if !prefixes.iter().any(|p| file.starts_with(p.as_str())) {
            continue;
        }
        let path = entry.path();
        let held = File::options()
            .read(true)
            .write(true)
            .open(path.join(LOCK_FILE))
            .ok()
            .is_some_and(|f| f.try_lock().is_err());
        if !held {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Removes the temporary files a killed run may have left in its folder.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHAT: &str = "use --resume DIR or --overwrite";

    #[test]
    fn a_folder_with_files_is_refused_and_an_empty_one_taken() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        fs::create_dir(&run).unwrap();
        let folder = RunFolder::create(&run, false, WHAT).unwrap();
        drop(folder);
        // The finished run's .lock alone makes it a used folder.
        let err = RunFolder::create(&run, false, WHAT)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("already holds files") && err.contains(WHAT),
            "{err}"
        );
    }

    #[test]
    fn a_second_lock_is_refused_with_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("config.toml"), b"").unwrap();
        let first = RunFolder::resume(dir.path()).unwrap();
        let err = RunFolder::resume(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        drop(first);
        RunFolder::resume(dir.path()).unwrap();
    }

    #[test]
    fn fresh_names_count_up() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("runs").join("x");
        let a = RunFolder::create_fresh(&base).unwrap();
        let b = RunFolder::create_fresh(&base).unwrap();
        assert_eq!(a.path(), base);
        assert_eq!(b.path(), dir.path().join("runs").join("x-2"));
    }

    #[test]
    fn overwrite_swaps_at_the_first_checkpoint_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        fs::create_dir(&run).unwrap();
        fs::write(run.join("old.txt"), b"old").unwrap();
        // Dropped before a checkpoint: the old run stays and the hidden folder goes.
        let folder = RunFolder::create(&run, true, WHAT).unwrap();
        fs::write(folder.dir().join("new.txt"), b"new").unwrap();
        drop(folder);
        assert!(run.join("old.txt").is_file());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // With a checkpoint: the new run replaces the old.
        let mut folder = RunFolder::create(&run, true, WHAT).unwrap();
        fs::write(folder.dir().join("new.txt"), b"new").unwrap();
        folder.checkpoint_written().unwrap();
        assert_eq!(folder.dir(), run);
        assert!(run.join("new.txt").is_file() && !run.join("old.txt").exists());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
