//! `graphprep validate`: the dry run accepts exactly what `construct` accepts (every invalid
//! fixture fails with construct's message), writes nothing, and its counts, arrays and split
//! sizes on the sample configs are the ones `construct` builds (read back with `inspect`).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_graphprep"))
}

/// The `error: ...` lines of a run's stderr.
fn error_lines(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_invalid_fixture_fails_as_in_construct() {
    let mut failures = Vec::new();
    for case in &common::invalid_cases() {
        let tmp = tempfile::tempdir().unwrap();
        // Same output dir for both: validate must not create it.
        let run = |sub: &str| {
            bin()
                .args([sub, "--quiet", "--graph-name", "g", "--conf-file"])
                .arg(case.join("config.json"))
                .arg("--output-dir")
                .arg(tmp.path().join("out"))
                .current_dir(tmp.path())
                .output()
                .unwrap()
        };
        let v = run("validate");
        let created = tmp.path().join("out").exists();
        let c = run("construct");
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (ve, ce) = (error_lines(&v), error_lines(&c));
        if v.status.code() != Some(1) || ve.is_empty() || ve != ce {
            failures.push(format!(
                "{name}: validate exit {:?} {ve:?}\n   construct exit {:?} {ce:?}",
                v.status.code(),
                c.status.code()
            ));
        }
        if created {
            failures.push(format!("{name}: validate created its output dir"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn validate_json(conf: &Path, extra: &[&str]) -> Value {
    let o = bin()
        .args(["validate", "--format", "json", "--conf-file"])
        .arg(conf)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "validate {conf:?} {extra:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("one JSON object on stdout")
}

fn inspect_json(out: &Path) -> Value {
    let o = bin()
        .args(["inspect", "--format", "json"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing in {list}"))
}

/// The node or edge type `name` of a validate report.
fn type_of<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["node_types"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["edge_types"].as_array().unwrap())
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("type {name} missing in the report"))
}

/// Validate's numbers against what construct built, for every number they share.
fn check_agrees(conf: &str, extra: &[&str]) {
    let conf = common::repo().join(conf);
    let v = validate_json(&conf, extra);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    common::construct_named(&conf, &out, "g", extra);
    let i = inspect_json(&out);
    let ctx = format!("{conf:?} {extra:?}");
    for (vk, ik) in [("node_types", "node_types"), ("edge_types", "edge_types")] {
        let vt = v[vk].as_array().unwrap();
        assert_eq!(vt.len(), i[ik].as_array().unwrap().len(), "{ctx} {vk}");
        for t in vt {
            let name = t["name"].as_str().unwrap();
            let built = &by_name(&i[ik], name)["total"];
            assert_eq!(&t["count"]["value"], built, "{ctx} count of {name}");
            assert_eq!(t["count"]["basis"], "exact", "{ctx} {name}");
        }
    }
    for f in i["node_features"]
        .as_array()
        .unwrap()
        .iter()
        .chain(i["edge_features"].as_array().unwrap())
    {
        let owner = f["owner"].as_str().unwrap();
        let t = type_of(&v, owner);
        let a = by_name(&t["arrays"], f["name"].as_str().unwrap());
        assert_eq!(a["dtype"], f["dtype"], "{ctx} {owner}/{}", f["name"]);
        assert_eq!(
            a["dim"].as_array().unwrap()[..],
            f["shape"].as_array().unwrap()[1..]
        );
    }
    for m in i["masks"].as_array().unwrap() {
        let owner = m["owner"].as_str().unwrap();
        let t = type_of(&v, owner);
        let which = match m["name"].as_str().unwrap() {
            "train_mask" => "train",
            "val_mask" => "val",
            "test_mask" => "test",
            _ => continue,
        };
        let l = &t["labels"][0][which];
        assert_eq!(l["value"], m["set"], "{ctx} {owner} {which}");
    }
    assert_eq!(v["memory"]["fits"], true, "{ctx}");
    assert_eq!(v["memory"]["within_budget"], true, "{ctx}");
    assert!(v["output_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn counts_arrays_and_splits_agree_with_construct() {
    check_agrees("sample_data/shop/config.json", &[]);
    check_agrees("sample_data/shop/config.json", &["--add-reverse-edges"]);
    check_agrees("sample_data/homo/config.json", &["--add-reverse-edges"]);
    check_agrees("sample_data/shop_transforms/config.json", &[]);
}

#[test]
fn a_small_sample_estimates_and_tolerates_unsampled_endpoints() {
    let v = validate_json(
        &common::repo().join("sample_data/shop/config.json"),
        &["--rows", "3"],
    );
    let user = by_name(&v["node_types"], "user");
    assert_eq!(user["sampled"], 6, "3 rows of each of the two user files");
    assert_eq!(user["count"]["basis"], "estimated");
    let n = user["count"]["value"].as_u64().unwrap();
    assert!((12..=20).contains(&n), "16 users estimated as {n}");
    // Parquet footers give exact counts.
    let item = by_name(&v["node_types"], "item");
    assert_eq!(item["count"]["value"], 12);
    assert_eq!(item["count"]["basis"], "exact");
}

#[test]
fn the_table_names_types_arrays_memory_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = bin()
        .args(["validate", "--conf-file"])
        .arg(common::repo().join("sample_data/shop/config.json"))
        .arg("--output-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists(), "validate wrote its output dir");
    let table = String::from_utf8_lossy(&o.stdout);
    for part in [
        "user:buys:item",
        "estimated peak memory",
        "estimated output size",
        "classification",
        "emb",
    ] {
        assert!(table.contains(part), "{part} missing in:\n{table}");
    }
}

#[test]
fn a_run_over_the_memory_budget_fails_up_front_like_construct() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let nodes: String = (0..1000).map(|i| format!("{i}\n")).collect();
    std::fs::write(d.join("nodes.csv"), format!("id\n{nodes}")).unwrap();
    let edges: String = (0..120_000u64)
        .map(|i| format!("{},{}\n", i % 1000, (i * 7) % 1000))
        .collect();
    std::fs::write(d.join("edges.csv"), format!("s,d\n{edges}")).unwrap();
    let conf = serde_json::json!({
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": ["nodes.csv"],
                   "node_id_col": "id"}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"},
                   "files": ["edges.csv"], "source_id_col": "s", "dest_id_col": "d"}]
    });
    std::fs::write(d.join("c.json"), conf.to_string()).unwrap();
    let run = |sub: &str| {
        bin()
            .args([
                sub,
                "--memory",
                "1MiB",
                "--graph-name",
                "g",
                "--conf-file",
                "c.json",
            ])
            .args(["--output-dir", "out"])
            .current_dir(d)
            .output()
            .unwrap()
    };
    let v = run("validate");
    let stderr = String::from_utf8_lossy(&v.stderr);
    assert_eq!(v.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("will not fit") && stderr.contains("more than --memory 1.00 MiB"),
        "{stderr}"
    );
    assert!(!d.join("out").exists());
    let c = run("construct");
    assert_eq!(c.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&c.stderr).contains("memory budget"));
}
