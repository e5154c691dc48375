//! Output staging: everything is written into a temporary folder inside the output directory
//! and moved into place only after the whole run succeeded, so a failed run never leaves a
//! half-written graph where a finished one is expected.

pub mod budget;
pub mod spill;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A staging folder `<output-dir>/.graphprep-tmp-<pid>` that becomes the output on
/// [`Staging::commit`] and is removed on drop otherwise.
pub struct Staging {
    out: PathBuf,
    tmp: PathBuf,
    created_out: bool,
    done: bool,
}

impl Staging {
    /// Creates the output dir if needed and a fresh staging folder inside it.
    pub fn create(out: &Path) -> Result<Staging> {
        let created_out = !out.exists();
        fs::create_dir_all(out).map_err(|e| Error::write(out, e))?;
        let tmp = out.join(format!(".graphprep-tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::write(&tmp, e))?;
        }
        fs::create_dir(&tmp).map_err(|e| Error::write(&tmp, e))?;
        Ok(Staging {
            out: out.to_path_buf(),
            tmp,
            created_out,
            done: false,
        })
    }

    /// The staging folder to write into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves every entry of the staging folder into the output dir (replacing entries of the
    /// same name from an earlier run) and removes the staging folder.
    pub fn commit(mut self) -> Result<()> {
        let entries = fs::read_dir(&self.tmp).map_err(|e| Error::write(&self.tmp, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::write(&self.tmp, e))?;
            let dest = self.out.join(entry.file_name());
            if dest.is_dir() {
                fs::remove_dir_all(&dest).map_err(|e| Error::write(&dest, e))?;
            } else if dest.exists() {
                fs::remove_file(&dest).map_err(|e| Error::write(&dest, e))?;
            }
            fs::rename(entry.path(), &dest).map_err(|e| Error::write(&dest, e))?;
        }
        fs::remove_dir(&self.tmp).map_err(|e| Error::write(&self.tmp, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
            if self.created_out {
                // Only removes the output dir if it is empty (we created it for this run).
                let _ = fs::remove_dir(&self.out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_moves_and_abort_cleans() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let s = Staging::create(&out).unwrap();
        fs::write(s.path().join("a.json"), "{}").unwrap();
        s.commit().unwrap();
        assert!(out.join("a.json").exists());
        assert_eq!(fs::read_dir(&out).unwrap().count(), 1);

        let out2 = d.path().join("out2");
        {
            let s = Staging::create(&out2).unwrap();
            fs::write(s.path().join("half.dgl"), "x").unwrap();
        }
        assert!(!out2.exists(), "aborted run must leave nothing behind");
    }
}
