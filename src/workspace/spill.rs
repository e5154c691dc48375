//! The spill workspace: data arrays that do not fit the memory budget are written in place
//! into memory-mapped files instead of heap buffers.
//!
//! Producers (the feature transforms) ask the [`Store`] for an output buffer of `rows × width`
//! elements ([`Store::alloc`]). While the arrays kept in memory stay under half the budget
//! ([`Budget::array_limit`]) the buffer is a `Vec`; beyond that (or, as in GraphStorm, for
//! every feature at least `--ext-mem-feat-size` wide when `--ext-mem-workspace` is given) it is
//! a new file in the workspace. The file's blocks are reserved with `posix_fallocate` (a full
//! disk is an error here, not a `SIGBUS` later) and the file is unlinked at once, so spill
//! files vanish with the process even when it is killed; the folder itself is removed when the
//! [`Store`] is dropped.
//!
//! Memory: producers fill row blocks ([`OutBuf::fill_blocks`]); a spilled buffer's block is
//! filled in a scratch buffer and written with `pwrite`, so the resident cost is the blocks in
//! flight (one per busy thread). The finished array is a read-only map of the file; writers
//! stream it out and hand the pages they passed back to the page cache
//! ([`crate::tensor::Tensor::release`]).
//!
//! Output bytes never depend on whether an array spilled: both kinds of buffer start zeroed
//! (or filled with the same value) and are filled by the same code.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::tensor::{Bytes, Element, Tensor};
use crate::workspace::budget::{human, Budget};

/// Where and when arrays spill. One per run.
pub struct Store {
    budget: Budget,
    /// Spill folder (created on first use).
    dir: PathBuf,
    /// `Some(dir)` when the output dir did not exist and was created for the spill folder: it
    /// is removed again on drop if it is still empty.
    created_out: Mutex<Option<PathBuf>>,
    created_dir: Mutex<bool>,
    /// GraphStorm rule: with an explicit workspace, features at least this wide always spill.
    explicit_min_width: Option<usize>,
    out_dir: PathBuf,
    resident: AtomicU64,
    spilled: AtomicU64,
    files: AtomicU64,
}

impl Store {
    /// A store for a run writing into `out_dir`. Spill files go to
    /// `<workspace>/graphprep-spill-<pid>` when `--ext-mem-workspace` is given, else to
    /// `<out_dir>/.graphprep-spill-<pid>`.
    pub fn new(
        budget: Budget,
        workspace: Option<&Path>,
        out_dir: &Path,
        ext_mem_feat_size: usize,
    ) -> Store {
        let pid = std::process::id();
        let (dir, explicit_min_width) = match workspace {
            Some(ws) => (
                ws.join(format!("graphprep-spill-{pid}")),
                Some(ext_mem_feat_size),
            ),
            None => (out_dir.join(format!(".graphprep-spill-{pid}")), None),
        };
        Store {
            budget,
            dir,
            created_out: Mutex::new(None),
            created_dir: Mutex::new(false),
            explicit_min_width,
            out_dir: out_dir.to_path_buf(),
            resident: AtomicU64::new(0),
            spilled: AtomicU64::new(0),
            files: AtomicU64::new(0),
        }
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Bytes written to spill files so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled.load(Ordering::Relaxed)
    }

    /// An output buffer of `rows × width` elements, every element `fill`. `what` names the
    /// array in messages.
    pub fn alloc<T: Element>(
        &self,
        rows: usize,
        width: usize,
        fill: T,
        what: &str,
    ) -> Result<OutBuf<T>> {
        let len = rows * width;
        let bytes = (len * std::mem::size_of::<T>()) as u64;
        let forced = self.explicit_min_width.is_some_and(|w| width >= w);
        let resident = self.resident.load(Ordering::Relaxed);
        if bytes == 0 || !(forced || resident + bytes > self.budget.array_limit()) {
            self.resident.fetch_add(bytes, Ordering::Relaxed);
            return Ok(OutBuf {
                inner: Inner::Mem(vec![fill; len]),
            });
        }
        let file = self.spill_file(bytes, what)?;
        let buf = OutBuf {
            inner: Inner::File { file, len, fill },
        };
        self.spilled.fetch_add(bytes, Ordering::Relaxed);
        log::debug!(
            "spilled {what}: {} ({} rows × {width}) to {}",
            human(bytes),
            rows,
            self.dir.display()
        );
        Ok(buf)
    }

    fn ensure_dir(&self) -> Result<()> {
        let mut created = self.created_dir.lock().expect("spill dir lock");
        if !*created {
            if !self.out_dir.exists() && self.dir.starts_with(&self.out_dir) {
                fs::create_dir_all(&self.out_dir).map_err(|e| Error::write(&self.out_dir, e))?;
                *self.created_out.lock().expect("lock") = Some(self.out_dir.clone());
            }
            fs::create_dir_all(&self.dir).map_err(|e| Error::write(&self.dir, e))?;
            *created = true;
        }
        Ok(())
    }

    /// A new, unlinked file of `bytes` reserved bytes in the spill folder.
    fn spill_file(&self, bytes: u64, what: &str) -> Result<File> {
        self.ensure_dir()?;
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("array-{n:05}.bin"));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::write(&path, e))?;
        reserve(&file, bytes).map_err(|e| {
            let _ = fs::remove_file(&path);
            Error::Budget(format!(
                "cannot reserve {} in the spill workspace {} for {what}: {e}. Free disk space \
                 there, point --ext-mem-workspace at a larger disk, or raise --memory",
                human(bytes),
                self.dir.display()
            ))
        })?;
        // Unlinked at once: the blocks are freed when the process ends, however it ends.
        fs::remove_file(&path).map_err(|e| Error::write(&path, e))?;
        Ok(file)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if *self.created_dir.lock().expect("lock") {
            let _ = fs::remove_dir_all(&self.dir);
        }
        if let Some(out) = self.created_out.lock().expect("lock").take() {
            // Only succeeds when nothing else was put there (a failed run).
            let _ = fs::remove_dir(out);
        }
        let spilled = self.spilled.load(Ordering::Relaxed);
        if spilled > 0 {
            log::info!(
                "spilled {} of data arrays to the workspace ({} kept in memory, budget {})",
                human(spilled),
                human(self.resident.load(Ordering::Relaxed)),
                human(self.budget.bytes)
            );
        }
    }
}

/// Removes `graphprep-spill-<pid>` folders of runs that are gone from an explicit
/// `--ext-mem-workspace` (shared by runs into other output dirs, so only folders whose pid is
/// not alive), reporting each one.
pub fn clean_stale(workspace: &Path) {
    let Ok(rd) = fs::read_dir(workspace) else {
        return;
    };
    let own = std::process::id();
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("graphprep-spill-"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own || crate::workspace::lock::pid_alive(pid) {
            continue;
        }
        let p = e.path();
        match fs::remove_dir_all(&p) {
            Ok(()) => log::warn!(
                "removed {}: left behind by an interrupted graphprep run",
                p.display()
            ),
            Err(err) => log::warn!(
                "{} was left behind by an interrupted graphprep run and cannot be removed: {err}",
                p.display()
            ),
        }
    }
}

/// The first error in block order (so the reported error does not depend on scheduling).
fn first_error(results: Vec<Result<()>>) -> Result<()> {
    results.into_iter().collect()
}

/// Allocates the file's blocks now, so that a full disk is reported here.
fn reserve(file: &File, bytes: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: plain syscall on an open descriptor.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, bytes as libc::off_t) };
    match rc {
        0 => Ok(()),
        // Filesystems without fallocate: fall back to a sparse file.
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(bytes),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

enum Inner<T> {
    Mem(Vec<T>),
    /// An unlinked spill file of `len` elements, written with `pwrite`.
    File {
        file: File,
        len: usize,
        fill: T,
    },
}

/// An output buffer from [`Store::alloc`]: heap or spill file. Producers fill it in row
/// blocks with [`OutBuf::fill_blocks`], in parallel.
pub struct OutBuf<T> {
    inner: Inner<T>,
}

impl<T: Element> OutBuf<T> {
    /// A heap buffer (what [`Store::alloc`] returns while arrays fit the budget).
    pub fn from_vec(v: Vec<T>) -> Self {
        OutBuf {
            inner: Inner::Mem(v),
        }
    }

    pub fn is_spilled(&self) -> bool {
        matches!(self.inner, Inner::File { .. })
    }

    /// Fills the buffer as consecutive blocks of `rows[i] × width` elements: `f(i, block)`
    /// runs in parallel over `i` and gets block `i`, preset to the fill value. Heap buffers
    /// are filled in place; spilled ones through a per-block scratch buffer written to the
    /// file at its offset (sequential `pwrite`s: no page faults on a shared mapping, and
    /// the resident cost is the blocks in flight).
    pub fn fill_blocks<F>(&mut self, rows: &[usize], width: usize, f: F) -> Result<()>
    where
        F: Fn(usize, &mut [T]) -> Result<()> + Sync + Send,
    {
        use rayon::prelude::*;
        match &mut self.inner {
            Inner::Mem(v) => {
                let slots = row_slots(v, rows, width);
                first_error(
                    slots
                        .into_par_iter()
                        .enumerate()
                        .map(|(i, slot)| f(i, slot))
                        .collect(),
                )
            }
            Inner::File { file, len, fill } => {
                use std::os::unix::fs::FileExt;
                let starts: Vec<usize> = rows
                    .iter()
                    .scan(0usize, |acc, &n| {
                        let s = *acc;
                        *acc += n * width;
                        Some(s)
                    })
                    .collect();
                assert_eq!(
                    starts
                        .last()
                        .map_or(0, |&s| s + rows[rows.len() - 1] * width),
                    *len,
                    "blocks must cover the buffer"
                );
                let (file, fill) = (&*file, *fill);
                first_error(
                    (0..rows.len())
                        .into_par_iter()
                        .map(|i| {
                            let mut block = vec![fill; rows[i] * width];
                            f(i, &mut block)?;
                            let off = (starts[i] * std::mem::size_of::<T>()) as u64;
                            file.write_all_at(bytemuck::cast_slice(&block), off)
                                .map_err(|e| {
                                    Error::Budget(format!(
                                "writing a spilled array failed: {e}; free disk space in the \
                                 spill workspace or raise --memory"
                            ))
                                })
                        })
                        .collect(),
                )
            }
        }
    }

    /// Writes `data` at element offset `at` (a producer that finishes rows in order, one
    /// window at a time, instead of [`OutBuf::fill_blocks`]'s parallel blocks).
    pub fn write_at(&mut self, at: usize, data: &[T]) -> Result<()> {
        match &mut self.inner {
            Inner::Mem(v) => {
                v[at..at + data.len()].copy_from_slice(data);
                Ok(())
            }
            Inner::File { file, len, .. } => {
                use std::os::unix::fs::FileExt;
                assert!(
                    at + data.len() <= *len,
                    "write past the end of a spilled array"
                );
                let off = (at * std::mem::size_of::<T>()) as u64;
                file.write_all_at(bytemuck::cast_slice(data), off)
                    .map_err(|e| {
                        Error::Budget(format!(
                            "writing a spilled array failed: {e}; free disk space in the spill \
                             workspace or raise --memory"
                        ))
                    })
            }
        }
    }

    /// The finished array with the given shape (its product must be the element count).
    pub fn into_tensor(self, shape: Vec<usize>) -> Result<Tensor> {
        match self.inner {
            Inner::Mem(v) => Ok(Tensor::from_vec(shape, v)),
            Inner::File { file, len, .. } => {
                assert_eq!(shape.iter().product::<usize>(), len, "shape/len mismatch");
                // SAFETY: the file is unlinked and only this process holds it; nothing writes
                // to it after this point.
                let map = unsafe { memmap2::Mmap::map(&file) }
                    .map_err(|e| Error::Other(format!("mapping a spilled array: {e}")))?;
                Ok(Tensor {
                    dtype: T::DTYPE,
                    shape,
                    data: Bytes::Mapped(map),
                })
            }
        }
    }
}

/// Splits a row-major output buffer into consecutive per-slice row blocks of `rows[i] * width`
/// elements, so slices can be filled in parallel.
fn row_slots<'o, T>(out: &'o mut [T], rows: &[usize], width: usize) -> Vec<&'o mut [T]> {
    let mut slots = Vec::with_capacity(rows.len());
    let mut rest = out;
    for &n in rows {
        let (slot, tail) = rest.split_at_mut(n * width);
        slots.push(slot);
        rest = tail;
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_over_budget_and_keeps_contents() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let store = Store::new(Budget { bytes: 1 << 20 }, None, &out, 64);
        // Fits in half the budget: heap.
        let small = store.alloc::<f32>(1000, 4, 0.0, "small").unwrap();
        assert!(!small.is_spilled());
        // Does not: spill file, filled with -1.
        let mut big = store.alloc::<i64>(100_000, 3, -1, "big").unwrap();
        assert!(big.is_spilled());
        assert!(out
            .join(format!(".graphprep-spill-{}", std::process::id()))
            .is_dir());
        big.fill_blocks(&[60_000, 0, 40_000], 3, |i, b| {
            assert!(b.iter().all(|&x| x == -1));
            match i {
                0 => b[0] = 5,
                2 => *b.last_mut().unwrap() = 7,
                _ => assert!(b.is_empty()),
            }
            Ok(())
        })
        .unwrap();
        let t = big.into_tensor(vec![100_000, 3]).unwrap();
        let v = t.as_slice::<i64>().unwrap();
        assert_eq!((v[0], v[1], v[299_999]), (5, -1, 7));
        assert_eq!(store.spilled_bytes(), 2_400_000);
        drop(t);
        drop(store);
        assert!(
            !out.exists(),
            "spill folder and the output dir it created are removed"
        );
    }

    #[test]
    fn explicit_workspace_spills_wide_features() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(Budget { bytes: 1 << 40 }, Some(d.path()), d.path(), 64);
        assert!(!store
            .alloc::<f32>(10, 63, 0.0, "narrow")
            .unwrap()
            .is_spilled());
        assert!(store
            .alloc::<f32>(10, 64, 0.0, "wide")
            .unwrap()
            .is_spilled());
        assert!(!store
            .alloc::<f32>(0, 64, 0.0, "empty")
            .unwrap()
            .is_spilled());
    }
}
