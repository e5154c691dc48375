//! Same input + same `--seed` ⇒ byte-identical output files, at 1 and 2 threads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// `partition_stats.json` reports how long METIS took: the only bytes allowed to differ.
fn without_timings(name: &Path, bytes: &[u8]) -> Vec<u8> {
    if name != Path::new("partition_stats.json") {
        return bytes.to_vec();
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    if let Some(m) = v.get_mut("metis").and_then(|m| m.as_object_mut()) {
        assert!(m.remove("csr_seconds").is_some() && m.remove("metis_seconds").is_some());
    }
    serde_json::to_vec(&v).unwrap()
}

fn build(conf: &Path, out: &Path, threads: &str, extra: &[&str]) {
    let mut args = vec!["--threads", threads, "--seed", "7"];
    args.extend_from_slice(extra);
    common::construct(conf, out, &args);
}

fn assert_same(extra: &[&str]) {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/shop/config.json");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t2"));
    build(&conf, &a, "1", extra);
    build(&conf, &b, "2", extra);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "{extra:?}: different file sets"
    );
    for (k, v) in &fa {
        let (v, w) = (without_timings(k, v), without_timings(k, &fb[k]));
        assert!(
            v == w,
            "{extra:?}: {} differs between 1 and 2 threads",
            k.display()
        );
    }
    assert!(fa.len() > 5);
}

#[test]
fn identical_at_one_and_two_threads() {
    assert_same(&[]);
    assert_same(&[
        "--num-parts",
        "3",
        "--part-method",
        "metis",
        "--add-reverse-edges",
    ]);
    assert_same(&[
        "--num-parts",
        "2",
        "--part-method",
        "random",
        "--output-format",
        "DGL",
        "DistDGL",
    ]);
}
