//! Flags resolved by the CLI before any work starts (`--use-graphbolt`, `--output-conf-file`,
//! `--num-parts`), and the data-name rule for a label column shared by two labels of a block.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;

/// A tiny homogeneous graph in `dir`: 4 nodes with an integer column `y`, 3 edges. `labels`
/// is the node block's label list.
fn tiny(dir: &Path, labels: serde_json::Value) -> PathBuf {
    std::fs::write(dir.join("nodes.csv"), "id,y\na,0\nb,1\nc,0\nd,1\n").unwrap();
    std::fs::write(dir.join("edges.csv"), "src,dst\na,b\nb,c\nc,d\n").unwrap();
    let conf = json!({
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": ["nodes.csv"],
                   "node_id_col": "id", "labels": labels}],
        "edges": [{"relation": ["n", "r", "n"], "format": {"name": "csv"},
                   "files": ["edges.csv"], "source_id_col": "src", "dest_id_col": "dst"}]
    });
    let p = dir.join("conf.json");
    std::fs::write(&p, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    p
}

fn plain_tiny(dir: &Path) -> PathBuf {
    tiny(
        dir,
        json!([{"label_col": "y", "task_type": "classification"}]),
    )
}

fn run(conf: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    construct_cmd(conf, out)
        .args(["--graph-name", "g", "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn use_graphbolt_is_a_boolean() {
    let d = tempfile::tempdir().unwrap();
    let conf = plain_tiny(d.path());
    for (i, v) in ["true", "false", "1", "0", "yes", "no"].iter().enumerate() {
        let out = run(
            &conf,
            &d.path().join(format!("o{i}")),
            &["--use-graphbolt", v],
        );
        assert!(
            out.status.success(),
            "--use-graphbolt {v}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let truthy = matches!(*v, "true" | "1" | "yes");
        assert_eq!(
            stderr.contains("dgl_partition_to_graphbolt"),
            truthy,
            "{v}: {stderr}"
        );
    }
    let out = run(&conf, &d.path().join("bad"), &["--use-graphbolt", "maybe"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--use-graphbolt") && stderr.contains("maybe"),
        "{stderr}"
    );
}

#[test]
fn output_conf_file_folder_is_checked_before_any_work() {
    let d = tempfile::tempdir().unwrap();
    let conf = plain_tiny(d.path());
    let out_dir = d.path().join("out");
    let rt = d.path().join("missing").join("rt.json");
    let out = run(
        &conf,
        &out_dir,
        &["--output-conf-file", rt.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--output-conf-file") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(
        !out_dir.exists(),
        "work started before the flag was checked"
    );
    // An existing folder works, and the runtime config goes there.
    let rt = d.path().join("rt.json");
    let out = run(
        &conf,
        &out_dir,
        &["--output-conf-file", rt.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::read_back(&out_dir);
    assert!(rt.is_file());
}

#[test]
fn zero_partitions_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    let conf = plain_tiny(d.path());
    let out = run(&conf, &d.path().join("out"), &["--num-parts", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--num-parts"));
}

/// GraphStorm keeps one dict of arrays per block: two labels of one block may share a label
/// column (same task: the same array, kept once); across blocks the name is rejected
/// (`tests/fixtures/invalid/label_across_blocks`).
#[test]
fn label_column_shared_by_two_labels_of_one_block() {
    let d = tempfile::tempdir().unwrap();
    let conf = tiny(
        d.path(),
        json!([
            {"label_col": "y", "task_type": "classification", "split_pct": [0.5, 0.25, 0.25]},
            {"label_col": "y", "task_type": "classification", "split_pct": [0.5, 0.5, 0.0],
             "mask_field_names": ["tr2", "va2", "te2"]}
        ]),
    );
    let out_dir = d.path().join("out");
    let out = run(&conf, &out_dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let feats = part0(&out_dir, "node_feat.dgl");
    let names: Vec<&str> = feats.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "_N/te2",
            "_N/test_mask",
            "_N/tr2",
            "_N/train_mask",
            "_N/va2",
            "_N/val_mask",
            "_N/y"
        ]
    );
}

/// argparse accepts unambiguous prefixes of long flags, so graphprep does too (clap's
/// `infer_long_args`); an ambiguous prefix is a usage error. Train-like commands resolve
/// prefixes before taking unknown `--key value` pairs as YAML overrides.
#[test]
fn unambiguous_flag_prefixes_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = plain_tiny(tmp.path());
    let out = tmp.path().join("out");
    let bin = env!("CARGO_BIN_EXE_graphprep");
    let o = std::process::Command::new(bin)
        .args(["construct", "--quiet", "--conf"])
        .arg(&conf)
        .arg("--output-d")
        .arg(&out)
        .args(["--graph-n", "g", "--num-pa", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("g.json").is_file());
    let o = std::process::Command::new(bin)
        .args([
            "construct",
            "--conf-file",
            "c.json",
            "--output",
            "o",
            "--graph-name",
            "g",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "--output is ambiguous");
    // `--c` is `--cf` (the YAML is read, and missing), not a YAML override named `c`.
    let o = std::process::Command::new(bin)
        .args([
            "train",
            "--c",
            "/no/such/task.yaml",
            "--part-c",
            "/no/g.json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/no/such/task.yaml"), "{stderr}");
}
