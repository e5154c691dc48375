//! `sample_data/Makefile`: the pipeline runs end to end, a second `make` does nothing, and
//! touching one input table rebuilds only the graph it belongs to and what was made from it.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

/// The pipeline's goal: all of it with training, construct + inspect without.
const GOAL: &str = if cfg!(feature = "train") {
    "all"
} else {
    "graphs"
};

/// Runs `make GOAL` (or with `-q`) in `dir`; returns (exit code, stdout + stderr).
fn make(dir: &Path, question: bool) -> (Option<i32>, String) {
    let mut c = Command::new("make");
    c.arg("-C")
        .arg(dir)
        .arg(format!("GRAPHPREP={}", env!("CARGO_BIN_EXE_graphprep")))
        .arg("OUT=out");
    if question {
        c.arg("-q");
    }
    let o = c.arg(GOAL).output().expect("make is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

/// Sets `file`'s modification time to now (after a pause, so it is newer than every output
/// even on a file system with coarse timestamps).
fn touch(file: &Path) {
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::File::options()
        .append(true)
        .open(file)
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
}

/// Touches `table` and runs make: graph `graph` is constructed again, `other` is not named.
fn rebuild(dir: &Path, table: &str, graph: &str, other: &str) -> String {
    touch(&dir.join(table));
    let (code, log) = make(dir, false);
    assert_eq!(code, Some(0), "{log}");
    let construct = format!("construct --quiet --conf-file {graph}/config.json");
    assert!(
        log.contains(&construct),
        "{table} did not rebuild {graph}:\n{log}"
    );
    assert!(!log.contains(other), "{other} rebuilt for {table}:\n{log}");
    log
}

#[test]
fn pipeline_is_incremental() {
    let repo = common::repo();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample_data");
    for sub in ["shop", "homo"] {
        common::copy_dir(&repo.join("sample_data").join(sub), &dir.join(sub));
    }
    std::fs::copy(repo.join("sample_data/Makefile"), dir.join("Makefile")).unwrap();

    let (code, log) = make(&dir, false);
    assert_eq!(code, Some(0), "first make failed:\n{log}");
    for want in [
        "validate --conf-file shop/config.json",
        "construct --quiet --conf-file shop/config.json",
        "construct --quiet --conf-file homo/config.json",
        "inspect out/shop",
        "inspect out/homo",
    ] {
        assert!(log.contains(want), "{want:?} not run:\n{log}");
    }
    let out = dir.join("out");
    assert!(out.join("shop/shop.json").is_file() && out.join("homo/homo.json").is_file());
    let inspect = std::fs::read_to_string(out.join("shop.inspect.txt")).unwrap();
    assert!(inspect.contains("user"), "{inspect}");
    if cfg!(feature = "train") {
        for want in ["train --cf", "infer --cf", "remap --cf"] {
            assert!(log.contains(want), "{want:?} not run:\n{log}");
        }
        assert!(out.join("shop-model/metrics.json").is_file());
        assert!(out.join("shop-pred/result_info.json").is_file());
    }

    // Up to date: `make -q` says so, and a second make runs nothing.
    assert_eq!(make(&dir, true).0, Some(0), "not up to date after make");
    let (code, log) = make(&dir, false);
    assert_eq!(code, Some(0));
    assert!(
        !log.contains("graphprep"),
        "second make ran commands:\n{log}"
    );

    // One homo table: homo is rebuilt, shop is not.
    let log = rebuild(&dir, "homo/cites.csv", "homo", "shop");
    assert!(log.contains("inspect out/homo"), "{log}");
    // One shop table: shop and everything made from it, not homo.
    let log = rebuild(&dir, "shop/users/user-0.csv", "shop", "homo");
    if cfg!(feature = "train") {
        assert!(
            log.contains("train --cf") && log.contains("remap --cf"),
            "{log}"
        );
    }
    assert_eq!(
        make(&dir, true).0,
        Some(0),
        "not up to date after the rebuild"
    );
}
