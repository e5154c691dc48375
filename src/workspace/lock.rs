//! The output-dir lock: `<output-dir>/.graphprep.lock`, held with `flock` for the whole run, so
//! two runs into one output dir never mix their files. The second run fails at once, naming the
//! lock file and the pid written into it.
//!
//! The lock file is removed when the run ends (it is unlinked while still locked, and a run
//! that locked a file that is no longer the one at the path tries again), so a finished or
//! failed run leaves no lock file; a killed run leaves an unlocked one, which the next run
//! simply takes over. Once the lock is held, every `.graphprep-tmp-*` / `.graphprep-spill-*`
//! folder in the output dir belongs to a run that is gone: they are removed and reported.

use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the lock file inside the output dir.
pub const LOCK_FILE: &str = ".graphprep.lock";

/// Prefixes of the folders a run keeps in the output dir while it runs.
pub const RUN_FOLDER_PREFIXES: [&str; 2] = [".graphprep-tmp-", ".graphprep-spill-"];

/// A held lock on an output dir; released (and the lock file removed) on drop.
pub struct OutputLock {
    file: File,
    path: PathBuf,
    out: PathBuf,
    /// The output dir did not exist before this run: removed again on drop if still empty.
    created_out: bool,
}

impl OutputLock {
    /// Creates the output dir if needed, takes its lock (failing at once if another run holds
    /// it) and removes the leftovers of interrupted runs.
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        let created_out = prepare_dir(out)?;
        let path = out.join(LOCK_FILE);
        let lock = match lock_file(&path) {
            Ok(file) => OutputLock {
                file,
                path,
                out: out.to_path_buf(),
                created_out,
            },
            Err(e) => {
                if created_out {
                    let _ = fs::remove_dir(out);
                }
                return Err(e);
            }
        };
        lock.write_pid();
        clean_leftovers(out);
        Ok(lock)
    }

    fn write_pid(&self) {
        // Best effort: the pid only makes the message of a second run more helpful.
        let mut f = &self.file;
        let _ = f.set_len(0);
        let _ = f.rewind();
        let _ = writeln!(f, "{}", std::process::id());
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Unlinked while still locked: a run waiting on this inode sees it is stale and retries.
        if same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
        if self.created_out {
            // Only succeeds when the run left nothing (it failed in a dir it created).
            let _ = fs::remove_dir(&self.out);
        }
    }
}

/// Checks that `out` is (or can be) a writable folder; creates it. Returns whether it was
/// created.
fn prepare_dir(out: &Path) -> Result<bool> {
    match fs::metadata(out) {
        Ok(m) if m.is_dir() => Ok(false),
        Ok(_) => Err(Error::Other(format!(
            "--output-dir {}: exists and is not a directory; remove it or choose another \
             output dir",
            out.display()
        ))),
        Err(_) => {
            fs::create_dir_all(out).map_err(|e| {
                Error::Other(format!(
                    "--output-dir {}: cannot create the output dir: {e}",
                    out.display()
                ))
            })?;
            Ok(true)
        }
    }
}

/// Opens and `flock`s the lock file at `path`, retrying when the locked file was removed or
/// replaced meanwhile by the run that held it.
fn lock_file(path: &Path) -> Result<File> {
    for _ in 0..100 {
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| {
                Error::Other(format!(
                    "--output-dir {}: cannot create the lock file {}: {e}; the output dir \
                     must be writable",
                    path.parent().unwrap_or(path).display(),
                    path.display()
                ))
            })?;
        // SAFETY: plain syscall on an open descriptor.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("held by pid {pid}"),
                    Err(_) => "held by another process".to_string(),
                };
                return Err(Error::Other(format!(
                    "output dir {} is in use by another graphprep run: lock file {} is {holder}; \
                     wait for that run to finish or choose another --output-dir",
                    path.parent().unwrap_or(path).display(),
                    path.display()
                )));
            }
            return Err(Error::Other(format!(
                "cannot lock {}: {err}",
                path.display()
            )));
        }
        if same_file(&file, path) {
            return Ok(file);
        }
    }
    Err(Error::Other(format!(
        "cannot lock {}: it keeps being replaced",
        path.display()
    )))
}

/// Whether `path` still names the open `file`.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Removes the staging and spill folders of earlier runs from `out` (the lock is held, so
/// their runs are gone) and reports each one.
fn clean_leftovers(out: &Path) {
    let Ok(rd) = fs::read_dir(out) else {
        return;
    };
    let mut found: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            RUN_FOLDER_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    for p in found {
        let removed = if p.is_dir() {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        match removed {
            Ok(()) => log::warn!(
                "removed {}: left behind by an interrupted graphprep run",
                p.display()
            ),
            Err(e) => log::warn!(
                "{} was left behind by an interrupted graphprep run and cannot be removed: {e}",
                p.display()
            ),
        }
    }
}

/// Whether process `pid` is alive (a process that exists but is not ours counts as alive).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_and_release_removes_the_file() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let a = OutputLock::acquire(&out).unwrap();
        let msg = OutputLock::acquire(&out).err().unwrap().to_string();
        assert!(msg.contains(LOCK_FILE), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(a);
        assert!(
            !out.exists(),
            "an unused output dir created by the lock is removed"
        );
        fs::create_dir(&out).unwrap();
        fs::create_dir(out.join(".graphprep-tmp-1")).unwrap();
        fs::create_dir(out.join(".graphprep-spill-1")).unwrap();
        fs::write(out.join("keep.txt"), "x").unwrap();
        let b = OutputLock::acquire(&out).unwrap();
        drop(b);
        let left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("keep.txt")]);
    }

    #[test]
    fn output_dir_that_is_a_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        fs::write(&f, "x").unwrap();
        let msg = OutputLock::acquire(&f).err().unwrap().to_string();
        assert!(msg.contains("not a directory"), "{msg}");
        assert_eq!(fs::read(&f).unwrap(), b"x");
    }
}
