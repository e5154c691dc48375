//! `graphprep convert-config --to gsprocessing` and `graphprep validate --target gsprocessing`:
//! on the real GSProcessing sample the converted config is the one GSProcessing 0.5.1's own
//! converter produced (its `gconstruct-config_with_transformations.json`, less what
//! GSProcessing adds at run time); every sample config either converts into a config that
//! passes the structure GSProcessing's parser expects (and that graphprep itself loads back as
//! a GSProcessing config) or is refused naming the JSON path of what GSProcessing cannot read.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::repo;
use graphprep::config::gsp_export::check_gsprocessing_structure;
use serde_json::Value;

fn graphprep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(args)
        .output()
        .unwrap()
}

fn convert(conf: &Path) -> Output {
    graphprep(&[
        "convert-config",
        "--to",
        "gsprocessing",
        conf.to_str().unwrap(),
    ])
}

/// Drops what GSProcessing adds to its converted config while it runs.
fn without_runtime_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("dim");
            for k in ["is_homogeneous", "add_reverse_edges"] {
                if m.contains_key("nodes") {
                    m.remove(k);
                }
            }
            if m.get("version") == Some(&Value::from("gsprocessing-runtime-v1.0")) {
                m.insert("version".into(), Value::from("gsprocessing-v1.0"));
            }
            m.values_mut().for_each(without_runtime_keys);
        }
        Value::Array(a) => a.iter_mut().for_each(without_runtime_keys),
        _ => {}
    }
}

#[test]
fn gsprocessing_sample_converts_exactly_as_gsprocessing_did() {
    let g = repo().join("../shared/bench/gsprocessing-sample");
    let o = convert(&g.join("input/gconstruct-config.json"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut theirs: Value = serde_json::from_slice(
        &std::fs::read(g.join("output/gconstruct-config_with_transformations.json")).unwrap(),
    )
    .unwrap();
    without_runtime_keys(&mut theirs);
    assert_eq!(ours, theirs);
    assert!(check_gsprocessing_structure(&ours).is_empty());
    // the one thing GSProcessing does differently here is named, with its JSON path
    let warn = String::from_utf8_lossy(&o.stderr);
    assert!(
        warn.contains("nodes[0].features[0].feature_col") && warn.contains("f1"),
        "{warn}"
    );
}

fn sample_configs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("sample_data"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("config.json"))
        .filter(|p| p.is_file())
        .collect();
    v.push(repo().join("tests/fixtures/config/valid/hetero.json"));
    v.push(repo().join("tests/fixtures/planted-0.05/config.json"));
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

#[test]
fn every_sample_config_converts_or_is_refused_with_its_path() {
    let mut converted = 0;
    for (i, conf) in sample_configs().iter().enumerate() {
        let o = convert(conf);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let check = graphprep(&[
            "validate",
            "--target",
            "gsprocessing",
            conf.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&check.stdout)
            .unwrap_or_else(|e| panic!("{conf:?}: validate --format json: {e}"));
        assert!(report["findings"].is_array(), "{report}");
        if o.status.success() {
            converted += 1;
            assert_eq!(check.status.code(), Some(0), "{conf:?}");
            let cfg: Value = serde_json::from_slice(&o.stdout).unwrap();
            let problems = check_gsprocessing_structure(&cfg);
            assert!(problems.is_empty(), "{conf:?}: {problems:?}");
            // graphprep reads GSProcessing configs too: the converted one must load and
            // describe the same graph (same node/edge type counts in the dry run)
            // relative input paths resolve against the config's folder: write it beside
            let beside = conf.parent().unwrap().join(format!(".gsp-test-{i}.json"));
            std::fs::write(&beside, &o.stdout).unwrap();
            let a = graphprep(&[
                "validate",
                "--conf-file",
                conf.to_str().unwrap(),
                "--format",
                "json",
            ]);
            let b = graphprep(&[
                "validate",
                "--conf-file",
                beside.to_str().unwrap(),
                "--format",
                "json",
            ]);
            std::fs::remove_file(&beside).unwrap();
            assert!(
                b.status.success(),
                "{conf:?}: the converted config does not load: {}",
                String::from_utf8_lossy(&b.stderr)
            );
            let (a, b): (Value, Value) = (
                serde_json::from_slice(&a.stdout).unwrap(),
                serde_json::from_slice(&b.stdout).unwrap(),
            );
            for k in ["node_types", "edge_types"] {
                assert_eq!(
                    a[k].as_array().map(|v| v.len()),
                    b[k].as_array().map(|v| v.len()),
                    "{conf:?}: {k}"
                );
            }
        } else {
            assert_eq!(o.status.code(), Some(1), "{conf:?}: {err}");
            assert_eq!(check.status.code(), Some(1), "{conf:?}");
            assert!(
                err.contains("cannot convert to GSProcessing") && err.contains("]."),
                "{conf:?}: the refusal must name the JSON path: {err}"
            );
            assert!(o.stdout.is_empty(), "nothing written on refusal");
        }
    }
    assert!(converted >= 2, "only {converted} sample configs converted");
}

#[test]
fn output_file_is_written_whole_and_errors_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gsp.json");
    let conf = repo().join("sample_data/homo/config.json");
    let o = graphprep(&[
        "convert-config",
        "--to",
        "gsprocessing",
        conf.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "--quiet");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["version"], "gsprocessing-v1.0");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"nodes\": [").unwrap();
    let o = convert(&bad);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.json") && e.contains("line"), "{e}");
}
