//! Output staging: everything is written into a temporary folder inside the output directory
//! and moved into place only after the whole run succeeded, so a failed run never leaves a
//! half-written graph where a finished one is expected.
//!
//! # Replacing an earlier output
//! A run records the top-level entries it wrote in `<output-dir>/.graphprep-manifest`
//! ([`MANIFEST_FILE`]). [`Staging::commit`] replaces the previous graphprep output as a whole:
//! 1. it writes a pending manifest (`"complete": false`) listing the previous entries and the
//!    new ones, so a run killed from here on leaves a manifest the next run cleans up after;
//! 2. it removes the previous entries the new run does not write, and the graph entry points
//!    (`<graph>.json`, `<graph>.dgl`) the new run replaces;
//! 3. it moves folders, then side files, then the entry points into place, so a partition
//!    config only ever appears next to complete partitions;
//! 4. it writes the final manifest (`"complete": true`, the new entries only).
//!
//! Files that are not graphprep's are never touched. Without a manifest (an older graphprep
//! or a foreign dir) only the paths the new run writes are replaced, and entries that look like
//! an earlier graphprep output are named in a warning.

pub mod budget;
pub mod lock;
pub mod spill;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// The manifest of the entries graphprep wrote into an output dir (JSON, but without a `.json`
/// extension, so tools that look for the partition config among `*.json` never see it).
pub const MANIFEST_FILE: &str = ".graphprep-manifest";

/// Top-level side files of an output (never a graph's entry point).
const SIDE_FILES: [&str; 4] = [
    "data_transform_new.json",
    "node_label_stats.json",
    "edge_label_stats.json",
    "partition_stats.json",
];

/// A staging folder `<output-dir>/.graphprep-tmp-<pid>` that becomes the output on
/// [`Staging::commit`] and is removed on drop otherwise.
pub struct Staging {
    out: PathBuf,
    tmp: PathBuf,
    created_out: bool,
    /// The staging folder's creation time (file-system clock): an entry modified since was
    /// written during this run (say `--output-conf-file` inside the output dir) and is never
    /// removed as stale.
    started: Option<SystemTime>,
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
        let started = fs::metadata(&tmp).and_then(|m| m.modified()).ok();
        Ok(Staging {
            out: out.to_path_buf(),
            tmp,
            created_out,
            started,
            done: false,
        })
    }

    /// The staging folder to write into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Replaces the previous graphprep output in the output dir with the staged one (see the
    /// module docs for the order) and removes the staging folder.
    pub fn commit(mut self) -> Result<()> {
        let mut new = BTreeSet::new();
        let entries = fs::read_dir(&self.tmp).map_err(|e| Error::write(&self.tmp, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::write(&self.tmp, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry
                .file_type()
                .map_err(|e| Error::write(entry.path(), e))?
                .is_dir();
            new.insert((rank(&name, is_dir), name));
        }
        let names: BTreeSet<String> = new.iter().map(|(_, n)| n.clone()).collect();
        let previous = read_manifest(&self.out);
        match &previous {
            Some(prev) => {
                if !prev.complete {
                    log::warn!(
                        "the previous run into {} was interrupted while moving its output into \
                         place; its entries are replaced",
                        self.out.display()
                    );
                }
            }
            None => warn_unrecorded(&self.out, &names),
        }
        let prev: BTreeSet<String> = previous.map(|m| m.entries).unwrap_or_default();

        // 1. Pending manifest: everything graphprep may have in the dir from here on.
        let all: BTreeSet<String> = prev.union(&names).cloned().collect();
        self.write_manifest(&all, false)?;
        // 2. Stale entries and the entry points about to be replaced.
        for name in prev.difference(&names) {
            let path = self.out.join(name);
            if self.written_during_run(&path) {
                log::info!(
                    "keeping {}: written during this run, no longer part of the graphprep output",
                    path.display()
                );
                continue;
            }
            remove_entry(&path)?;
        }
        for (r, name) in &new {
            if *r == Rank::EntryPoint {
                remove_entry(&self.out.join(name))?;
            }
        }
        // 3. Folders, side files, entry points.
        for (_, name) in &new {
            let dest = self.out.join(name);
            remove_entry(&dest)?;
            fs::rename(self.tmp.join(name), &dest).map_err(|e| Error::write(&dest, e))?;
        }
        // 4. Final manifest.
        self.write_manifest(&names, true)?;
        fs::remove_dir(&self.tmp).map_err(|e| Error::write(&self.tmp, e))?;
        self.done = true;
        Ok(())
    }

    fn written_during_run(&self, path: &Path) -> bool {
        let modified = fs::symlink_metadata(path).and_then(|m| m.modified()).ok();
        matches!((modified, self.started), (Some(m), Some(s)) if m >= s)
    }

    /// Writes the manifest atomically (into the staging folder, then renamed into place).
    fn write_manifest(&self, entries: &BTreeSet<String>, complete: bool) -> Result<()> {
        let v = json!({
            "written_by": "graphprep",
            "complete": complete,
            "entries": entries.iter().collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&v).map_err(|e| Error::Other(e.to_string()))?;
        text.push('\n');
        let tmp = self.tmp.join(MANIFEST_FILE);
        fs::write(&tmp, text).map_err(|e| Error::write(&tmp, e))?;
        let dest = self.out.join(MANIFEST_FILE);
        fs::rename(&tmp, &dest).map_err(|e| Error::write(&dest, e))
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

/// Move order of a staged entry: folders first, graph entry points last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Folder,
    Side,
    EntryPoint,
}

fn rank(name: &str, is_dir: bool) -> Rank {
    if is_dir {
        Rank::Folder
    } else if (name.ends_with(".json") || name.ends_with(".dgl")) && !SIDE_FILES.contains(&name) {
        Rank::EntryPoint
    } else {
        Rank::Side
    }
}

/// A previous run's manifest.
struct Manifest {
    complete: bool,
    entries: BTreeSet<String>,
}

/// The manifest in `out`, if there is a readable one. Entries that are not plain names of the
/// output dir's own entries are dropped (a manifest never makes graphprep remove anything
/// outside the dir or its own run folders).
fn read_manifest(out: &Path) -> Option<Manifest> {
    let path = out.join(MANIFEST_FILE);
    let text = fs::read_to_string(&path).ok()?;
    let parsed = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
        let entries = v.get("entries")?.as_array()?;
        Some(Manifest {
            complete: v.get("complete").and_then(Value::as_bool).unwrap_or(false),
            entries: entries
                .iter()
                .filter_map(Value::as_str)
                .filter(|n| plain_name(n))
                .map(str::to_string)
                .collect(),
        })
    });
    if parsed.is_none() {
        log::warn!(
            "ignoring {}: not a graphprep manifest; only the paths this run writes are replaced",
            path.display()
        );
    }
    parsed
}

fn plain_name(n: &str) -> bool {
    !n.is_empty()
        && n != "."
        && n != ".."
        && !n.contains('/')
        && !n.contains('\0')
        && !n.starts_with(".graphprep")
}

/// Without a manifest: names the entries of `out` that look like an earlier graphprep output
/// but are not written by this run (they are left alone).
fn warn_unrecorded(out: &Path, new: &BTreeSet<String>) {
    let Ok(rd) = fs::read_dir(out) else {
        return;
    };
    let mut stale: Vec<String> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (!new.contains(&name) && looks_like_output(&e.path(), &name)).then_some(name)
        })
        .collect();
    if stale.is_empty() {
        return;
    }
    stale.sort();
    log::warn!(
        "{} holds entries that look like an earlier graphprep output but no {MANIFEST_FILE} \
         records them, so they are left alone: {}; remove them if they are stale",
        out.display(),
        stale.join(", ")
    );
}

fn looks_like_output(path: &Path, name: &str) -> bool {
    if path.is_dir() {
        return name == "raw_id_mappings"
            || name
                .strip_prefix("part")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    }
    if SIDE_FILES.contains(&name)
        || name == "node_mapping.pt"
        || name == "edge_mapping.pt"
        || name.ends_with(".dgl")
    {
        return true;
    }
    name.ends_with(".json")
        && fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .is_some_and(|v| v.get("node_map").is_some() && v.get("num_parts").is_some())
}

/// Removes a file or folder if it exists.
fn remove_entry(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path).map_err(|e| Error::write(path, e)),
        Ok(_) => fs::remove_file(path).map_err(|e| Error::write(path, e)),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_moves_and_abort_cleans() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let s = Staging::create(&out).unwrap();
        fs::write(s.path().join("a.json"), "{}").unwrap();
        s.commit().unwrap();
        assert!(out.join("a.json").exists());
        assert_eq!(names(&out), [MANIFEST_FILE, "a.json"]);

        let out2 = d.path().join("out2");
        {
            let s = Staging::create(&out2).unwrap();
            fs::write(s.path().join("half.dgl"), "x").unwrap();
        }
        assert!(!out2.exists(), "aborted run must leave nothing behind");
    }

    #[test]
    fn rerun_replaces_the_previous_output_as_a_whole() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        let s = Staging::create(out).unwrap();
        for p in ["part0", "part1"] {
            fs::create_dir(s.path().join(p)).unwrap();
            fs::write(s.path().join(p).join("graph.dgl"), "old").unwrap();
        }
        fs::write(s.path().join("g.json"), "old").unwrap();
        fs::write(s.path().join("partition_stats.json"), "old").unwrap();
        s.commit().unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        // File-system timestamps are coarse: the next run starts a clock tick later.
        std::thread::sleep(std::time::Duration::from_millis(20));

        let s = Staging::create(out).unwrap();
        fs::create_dir(s.path().join("part0")).unwrap();
        fs::write(s.path().join("part0").join("graph.dgl"), "new").unwrap();
        fs::write(s.path().join("h.json"), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(names(out), [MANIFEST_FILE, "h.json", "notes.txt", "part0"]);
        assert_eq!(fs::read(out.join("part0/graph.dgl")).unwrap(), b"new");
        let m = read_manifest(out).unwrap();
        assert!(m.complete);
        assert_eq!(
            m.entries.into_iter().collect::<Vec<_>>(),
            ["h.json", "part0"]
        );
    }

    #[test]
    fn entries_written_during_the_run_are_kept() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        let s = Staging::create(out).unwrap();
        fs::write(s.path().join("data_transform_new.json"), "old").unwrap();
        fs::write(s.path().join("g.json"), "old").unwrap();
        s.commit().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let s = Staging::create(out).unwrap();
        // --output-conf-file <out>/data_transform_new.json: written in place, not staged.
        fs::write(out.join("data_transform_new.json"), "new").unwrap();
        fs::write(s.path().join("g.json"), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(
            fs::read(out.join("data_transform_new.json")).unwrap(),
            b"new"
        );
    }

    #[test]
    fn manifest_entries_outside_the_dir_are_ignored() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(d.path().join("victim"), "x").unwrap();
        fs::write(
            out.join(MANIFEST_FILE),
            r#"{"complete": true, "entries": ["../victim", "/etc", "..", ".graphprep.lock"]}"#,
        )
        .unwrap();
        let s = Staging::create(&out).unwrap();
        fs::write(s.path().join("g.json"), "{}").unwrap();
        s.commit().unwrap();
        assert!(d.path().join("victim").exists());
    }

    #[test]
    fn move_order() {
        assert!(rank("part0", true) < rank("node_mapping.pt", false));
        assert!(rank("partition_stats.json", false) < rank("g.json", false));
        assert_eq!(rank("g.dgl", false), Rank::EntryPoint);
    }
}
