//! File-list resolution (spec §3.1): `files` / custom split entries → existing regular files.
//!
//! Algorithm: a string becomes a one-element list; a single-element list naming a directory
//! becomes that directory's (non-hidden) entries; entries containing `*` are glob-expanded (an
//! empty match is an error naming the pattern); every entry must be an existing regular file;
//! the whole list is sorted lexicographically by path *string* (GraphStorm's order: `t_10` before
//! `t_2`, and `a-b` before `a/b`, unlike `Path`'s component order).
//!
//! Relative paths resolve against the config file's folder first; when nothing exists there but
//! the path exists relative to the working directory (where GraphStorm resolves them), that is
//! used and logged at info level.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

use super::raw::type_name;

/// Where relative paths are looked up: the config's folder, then the working directory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bases<'a> {
    pub config_dir: &'a Path,
    pub cwd: &'a Path,
}

/// Reads a string-or-list-of-strings value (`files`, split lists, `column`).
pub(crate) fn string_or_list(v: &Value, path: &str, what: &str) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, it)| match it {
                Value::String(s) => Ok(s.clone()),
                other => Err(Error::config(
                    format!("{path}[{i}]"),
                    format!("expected a string ({what}), found {}", type_name(other)),
                )),
            })
            .collect(),
        other => Err(Error::config(
            path,
            format!(
                "expected a string or a list of strings ({what}), found {}",
                type_name(other)
            ),
        )),
    }
}

/// Resolves a `files`-style value at JSON `path` into sorted existing regular files.
pub(crate) fn resolve_files(v: &Value, path: &str, bases: Bases<'_>) -> Result<Vec<PathBuf>> {
    let entries = string_or_list(v, path, "a file path or glob pattern")?;
    if entries.is_empty() {
        return Err(Error::config(
            path,
            "the file list is empty; give at least one path",
        ));
    }
    let is_list = matches!(v, Value::Array(_));
    let entry_path = |i: usize| {
        if is_list {
            format!("{path}[{i}]")
        } else {
            path.to_string()
        }
    };

    let mut out = Vec::new();
    if entries.len() == 1 && !entries[0].contains('*') {
        if let Some(dir) = locate(&entries[0], bases).filter(|p| p.is_dir()) {
            let files = list_dir(&dir, &entry_path(0))?;
            if files.is_empty() {
                return Err(Error::config(
                    entry_path(0),
                    format!("directory {} contains no files", dir.display()),
                ));
            }
            return Ok(sorted(files));
        }
    }
    for (i, entry) in entries.iter().enumerate() {
        let p = entry_path(i);
        if entry.is_empty() {
            return Err(Error::config(p, "empty file path"));
        }
        if entry.contains('*') {
            out.extend(expand_glob(entry, &p, bases)?);
        } else {
            let found = locate(entry, bases).ok_or_else(|| not_found(entry, &p, bases))?;
            out.push(found);
        }
    }
    for (i, f) in out.iter().enumerate() {
        if !f.is_file() {
            let p = if entries.len() == out.len() {
                entry_path(i)
            } else {
                path.to_string()
            };
            return Err(Error::config(
                p,
                format!(
                    "{} is not a regular file; list files (or one directory alone)",
                    f.display()
                ),
            ));
        }
    }
    Ok(sorted(out))
}

/// Sorts by the path string, GraphStorm's order.
fn sorted(mut files: Vec<PathBuf>) -> Vec<PathBuf> {
    files.sort_by(|a, b| {
        a.as_os_str()
            .to_string_lossy()
            .cmp(&b.as_os_str().to_string_lossy())
    });
    files
}

/// Finds an existing path for `entry`: absolute as is; else config dir, then cwd.
pub(crate) fn locate(entry: &str, bases: Bases<'_>) -> Option<PathBuf> {
    let p = Path::new(entry);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let first = bases.config_dir.join(p);
    if first.exists() {
        return Some(first);
    }
    let second = bases.cwd.join(p);
    if second.exists() {
        log::info!(
            "{entry}: not found next to the config ({}), using the working directory ({})",
            bases.config_dir.display(),
            bases.cwd.display()
        );
        return Some(second);
    }
    None
}

fn not_found(entry: &str, path: &str, bases: Bases<'_>) -> Error {
    let msg = if Path::new(entry).is_absolute() {
        format!("file {entry} does not exist")
    } else {
        format!(
            "file {entry} does not exist (looked relative to the config folder {} and the \
             working directory {})",
            bases.config_dir.display(),
            bases.cwd.display()
        )
    };
    Error::config(path, msg)
}

/// Non-hidden entries of a directory (GraphStorm globs `dir/*`).
fn list_dir(dir: &Path, path: &str) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::config(
            path,
            format!("cannot list directory {}: {e}", dir.display()),
        )
    })?;
    let mut files = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| {
            Error::config(
                path,
                format!("cannot list directory {}: {e}", dir.display()),
            )
        })?;
        if ent.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = ent.path();
        if !p.is_file() {
            return Err(Error::config(
                path,
                format!(
                    "directory {} contains {}, which is not a regular file; a directory entry \
                     must contain only input files",
                    dir.display(),
                    p.display()
                ),
            ));
        }
        files.push(p);
    }
    Ok(files)
}

fn glob_in(base: Option<&Path>, pattern: &str, path: &str) -> Result<Vec<PathBuf>> {
    let full = match base {
        Some(b) => {
            let escaped = glob::Pattern::escape(&b.to_string_lossy());
            format!("{}/{}", escaped.trim_end_matches('/'), pattern)
        }
        None => pattern.to_string(),
    };
    let paths = glob::glob(&full)
        .map_err(|e| Error::config(path, format!("invalid glob pattern {pattern:?}: {e}")))?;
    let mut out = Vec::new();
    for p in paths {
        let p = p.map_err(|e| Error::config(path, format!("glob {pattern:?}: {e}")))?;
        out.push(p);
    }
    Ok(out)
}

fn expand_glob(pattern: &str, path: &str, bases: Bases<'_>) -> Result<Vec<PathBuf>> {
    let matches = if Path::new(pattern).is_absolute() {
        glob_in(None, pattern, path)?
    } else {
        let first = glob_in(Some(bases.config_dir), pattern, path)?;
        if first.is_empty() {
            let second = glob_in(Some(bases.cwd), pattern, path)?;
            if !second.is_empty() {
                log::info!(
                    "{pattern}: no match next to the config ({}), using the working directory ({})",
                    bases.config_dir.display(),
                    bases.cwd.display()
                );
            }
            second
        } else {
            first
        }
    };
    if matches.is_empty() {
        return Err(Error::config(
            path,
            format!("there is no file matching {pattern:?} (relative patterns are tried against the config folder, then the working directory)"),
        ));
    }
    Ok(matches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn sorts_by_string_and_expands_globs() {
        let d = tempfile::tempdir().unwrap();
        for n in ["t_2.csv", "t_10.csv", "t_1.csv"] {
            touch(&d.path().join("data").join(n));
        }
        let bases = Bases {
            config_dir: d.path(),
            cwd: Path::new("/nonexistent"),
        };
        let files = resolve_files(&json!("data/t_*.csv"), "nodes[0].files", bases).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["t_1.csv", "t_10.csv", "t_2.csv"]);
        // A single directory → its files.
        let files = resolve_files(&json!(["data"]), "nodes[0].files", bases).unwrap();
        assert_eq!(files.len(), 3);
    }

    #[test]
    fn empty_glob_names_pattern_and_path() {
        let d = tempfile::tempdir().unwrap();
        let bases = Bases {
            config_dir: d.path(),
            cwd: d.path(),
        };
        let err = resolve_files(&json!(["a.csv", "x_*.csv"]), "edges[1].files", bases)
            .unwrap_err()
            .to_string();
        // a.csv is missing too, and it comes first.
        assert!(
            err.contains("edges[1].files[0]") && err.contains("does not exist"),
            "{err}"
        );
        touch(&d.path().join("a.csv"));
        let err = resolve_files(&json!(["a.csv", "x_*.csv"]), "edges[1].files", bases)
            .unwrap_err()
            .to_string();
        assert!(err.contains("edges[1].files[1]"), "{err}");
        assert!(err.contains("no file matching \"x_*.csv\""), "{err}");
    }

    #[test]
    fn falls_back_to_cwd() {
        let conf = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        touch(&cwd.path().join("n.csv"));
        let bases = Bases {
            config_dir: conf.path(),
            cwd: cwd.path(),
        };
        let files = resolve_files(&json!("n.csv"), "nodes[0].files", bases).unwrap();
        assert_eq!(files, vec![cwd.path().join("n.csv")]);
    }

    #[test]
    fn directory_in_a_list_is_not_a_file() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("sub/a.csv"));
        touch(&d.path().join("b.csv"));
        let bases = Bases {
            config_dir: d.path(),
            cwd: d.path(),
        };
        let err = resolve_files(&json!(["b.csv", "sub"]), "nodes[0].files", bases)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nodes[0].files[1]") && err.contains("not a regular file"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types() {
        let d = tempfile::tempdir().unwrap();
        let bases = Bases {
            config_dir: d.path(),
            cwd: d.path(),
        };
        let err = resolve_files(&json!(["a", 3]), "nodes[0].files", bases)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nodes[0].files[1]"), "{err}");
        let err = resolve_files(&json!([]), "nodes[0].files", bases)
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
