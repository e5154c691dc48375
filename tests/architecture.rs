//! The reading wing stays independent of the construction pipeline: nothing under
//! `src/format/`, `src/dataset/`, `src/inspect/`, `src/train/`, `src/remap.rs`, `src/graph/csr.rs`
//! or `src/partition/book.rs` refers to the
//! pipeline, the transforms, the writers or the config (issue 9's rule: commands that consume
//! an output go through `dataset/` and never reach construction internals). `graph/csr.rs`
//! and `partition/book.rs` are the kernels the readers share with the writers, so they must
//! not depend on anything above `tensor` and `error` either.

use std::path::{Path, PathBuf};

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            rust_files(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|x| x == "rs") {
        out.push(p.to_path_buf());
    }
}

#[test]
fn readers_do_not_reach_construction_internals() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for d in [
        "format",
        "dataset",
        "inspect",
        "train",
        "remap.rs",
        "graph/csr.rs",
        "partition/book.rs",
    ] {
        rust_files(&src.join(d), &mut files);
    }
    assert!(files.len() >= 9, "{files:?}");
    let forbidden = [
        "crate::pipeline",
        "crate::features",
        "crate::writers",
        "crate::config",
        "crate::labels",
        "crate::readers",
        "crate::idmap",
        "crate::cli",
    ];
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for m in forbidden {
                if code.contains(m) {
                    bad.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports that break the layering:\n{}",
        bad.join("\n")
    );
}
