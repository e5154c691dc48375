//! `graphprep train` / `infer` end to end on a planted-signal graph (tests/fixtures/planted-0.05:
//! `gen_planted.py --scale 0.05`, 5K papers whose labels follow citation communities while the
//! features alone reach about 0.5): construct → train RGCN and MLP with the GraphStorm YAMLs of
//! the training anchor (epochs and batch size overridden on the command line, as GraphStorm
//! users do), then the outputs are read back with the project's own `.pt` reader and the remapped
//! Parquet is checked against the raw IDs; checkpoints restore exactly; bad YAML values and
//! missing data give errors naming the thing.
#![cfg(feature = "train")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::repo;
use graphprep::format::results;
use serde_json::Value;

/// The planted graph, constructed once per test binary (1 partition, reverse edges).
fn graph() -> &'static Path {
    static G: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = G.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("graph");
        let fixture = repo().join("tests/fixtures/planted-0.05");
        let st = Command::new(env!("CARGO_BIN_EXE_graphprep"))
            .current_dir(&fixture)
            .args(["construct", "--conf-file", "config.json", "--output-dir"])
            .arg(&out)
            .args([
                "--graph-name",
                "planted",
                "--num-parts",
                "1",
                "--add-reverse-edges",
                "--quiet",
            ])
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "construct failed: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let json = out.join("planted.json");
        (dir, json)
    });
    p
}

fn yaml(name: &str) -> PathBuf {
    repo().join("tests/fixtures/train").join(name)
}

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(args)
        .args(["--threads", "2"])
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "graphprep failed:\n{err}");
    err
}

fn metrics(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn best_test(m: &Value) -> f64 {
    m["best"]["test"].as_f64().expect("best test accuracy")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn rgcn_beats_mlp_on_planted_graph_and_outputs_read_back() {
    let g = graph();
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    let emb = tmp.path().join("emb");
    let o = train(&[
        "gs_node_classification",
        "--part-config",
        s(g),
        "--num-trainers",
        "1",
        "--num-servers",
        "1",
        "--cf",
        s(&yaml("nc_rgcn.yaml")),
        "--num-epochs",
        "12",
        "--batch-size",
        "256",
        "--save-model-path",
        s(&model),
        "--save-embed-path",
        s(&emb),
        "--preserve-input",
        "true",
    ]);
    let log = ok(&o);
    assert!(
        log.contains("Epoch 0 take "),
        "GraphStorm's epoch line:\n{log}"
    );
    assert!(log.contains("| Best Test accuracy: "), "{log}");
    let rgcn = metrics(&model.join("metrics.json"));
    let acc = best_test(&rgcn);
    assert!(acc >= 0.90, "RGCN test accuracy {acc} < 0.90");

    // GraphStorm's save_model_path layout.
    assert!(model
        .join("GRAPHSTORM_RUNTIME_UPDATED_TRAINING_CONFIG.yaml")
        .is_file());
    assert!(model.join("data_transform_new.json").is_file());
    for e in 0..12 {
        let ep = model.join(format!("epoch-{e}"));
        assert!(ep.join("model.safetensors").is_file(), "{ep:?}");
        for nt in ["author", "venue"] {
            let t = results::load_tensor(&ep.join(nt).join("sparse_emb_00000.pt")).unwrap();
            assert_eq!(t.shape[1], 64, "{nt} embedding width");
        }
    }

    // Embeddings: emb_info.json byte-exact, .pt read back, remapped Parquet with raw IDs.
    let info = std::fs::read_to_string(emb.join("emb_info.json")).unwrap();
    assert_eq!(
        info,
        "{\n    \"format\": \"pytorch\",\n    \"emb_name\": [\n        \"paper\"\n    ],\n    \"world_size\": 1,\n    \"emb_dim\": {\n        \"paper\": 64\n    }\n}"
    );
    let e = results::load_embeddings(&emb, "paper", 0).unwrap();
    assert_eq!((e.rows, e.dim), (5000, 64));
    let mut nids = e.nids.clone();
    nids.sort_unstable();
    assert_eq!(nids, (0..5000).collect::<Vec<i64>>());
    assert!(e.data.iter().all(|v| v.is_finite()));
    let pq = emb.join("paper").join("embed-00000_00000.parquet");
    assert!(pq.is_file(), "remapped embeddings");
    for dir in [&emb, &model] {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with('.'),
                "staging left behind in {dir:?}: {name}"
            );
        }
    }

    // MLP: the feature-only linear model stays near the feature-only Bayes accuracy.
    let mlp_dir = tmp.path().join("mlp");
    let o = train(&[
        "train",
        "--cf",
        s(&yaml("nc_mlp.yaml")),
        "--part-config",
        s(g),
        "--num-epochs",
        "12",
        "--batch-size",
        "256",
        "--save-model-path",
        s(&mlp_dir),
    ]);
    ok(&o);
    let mlp = best_test(&metrics(&mlp_dir.join("metrics.json")));
    assert!(
        (0.35..=0.62).contains(&mlp),
        "MLP test accuracy {mlp} outside the feature-only band"
    );
    assert!(acc >= mlp + 0.3, "RGCN {acc} vs MLP {mlp}");

    // Inference from the last checkpoint: predictions of the test nodes, remapped.
    let pred = tmp.path().join("pred");
    let o = train(&[
        "infer",
        "--cf",
        s(&yaml("nc_rgcn.yaml")),
        "--part-config",
        s(g),
        "--restore-model-path",
        s(&model.join("epoch-11")),
        "--save-prediction-path",
        s(&pred),
        "--preserve-input",
        "true",
    ]);
    let log = ok(&o);
    assert!(log.contains("Test accuracy: "), "{log}");
    let (p, pn) = results::load_predictions(&pred, "paper", 0).unwrap();
    assert_eq!(p.rows(), 1000, "20% test split of 5000 papers");
    assert_eq!(pn.len(), 1000);
    match p {
        results::Pred::Proba { data, cols, .. } => {
            assert_eq!(cols, 8);
            for row in data.chunks(8) {
                let s: f32 = row.iter().sum();
                assert!((s - 1.0).abs() < 1e-4, "probabilities sum to 1");
            }
        }
        other => panic!("expected probabilities, got {other:?}"),
    }
    assert!(pred
        .join("paper")
        .join("pred.predict-00000_00000.parquet")
        .is_file());
}

#[test]
fn same_seed_same_embeddings_and_restore_continues_exactly() {
    let g = graph();
    let tmp = tempfile::tempdir().unwrap();
    let cf = yaml("nc_rgcn.yaml");
    let run = |name: &str, epochs: &str, extra: &[&str]| -> PathBuf {
        let dir = tmp.path().join(name);
        let mut args = vec![
            "train",
            "--cf",
            s(&cf),
            "--part-config",
            s(g),
            "--num-epochs",
            epochs,
            "--save-model-path",
        ];
        let m = dir.join("model");
        let e = dir.join("emb");
        args.push(s(&m));
        args.extend(["--save-embed-path", s(&e), "--do-nid-remap", "false"]);
        args.extend(extra);
        ok(&train(&args));
        dir
    };
    let a = run("a", "3", &[]);
    let b = run("b", "3", &[]);
    let read = |d: &Path, f: &str| std::fs::read(d.join("emb/paper").join(f)).unwrap();
    assert_eq!(read(&a, "embed-00000.pt"), read(&b, "embed-00000.pt"));
    // 2 epochs, then restore epoch-1 and run to 3: same final checkpoint as 3 straight.
    let c = run("c", "2", &[]);
    let restore = c.join("model/epoch-1");
    let d = run("d", "3", &["--restore-model-path", s(&restore)]);
    let w = |d: &Path| std::fs::read(d.join("model/epoch-2/model.safetensors")).unwrap();
    assert_eq!(w(&a), w(&d), "restored run continues exactly");
}

#[test]
fn bad_configs_name_the_problem() {
    let g = graph();
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--label-field", "nolabel"], "nolabel"),
        (&["--target-ntype", "nosuch"], "nosuch"),
        (&["--fanout", "10"], "fanout"),
        (&["--lrr", "0.1"], "lrr"),
        (&["--node-feat-name", "paper:missing"], "missing"),
    ];
    let cf = yaml("nc_rgcn.yaml");
    for (extra, needle) in cases {
        let out = tmp.path().join("out");
        let mut args = vec![
            "train",
            "--cf",
            s(&cf),
            "--part-config",
            s(g),
            "--num-epochs",
            "1",
            "--save-model-path",
            s(&out),
        ];
        args.extend(extra);
        let o = train(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains(needle),
            "{extra:?}: message should name {needle}: {err}"
        );
        assert!(!out.join("epoch-0").exists(), "{extra:?}: nothing written");
    }
    // A checkpoint of another model does not load.
    let m = tmp.path().join("m");
    ok(&train(&[
        "train",
        "--cf",
        s(&yaml("nc_rgcn.yaml")),
        "--part-config",
        s(g),
        "--num-epochs",
        "1",
        "--save-model-path",
        s(&m),
    ]));
    let o = train(&[
        "infer",
        "--cf",
        s(&yaml("nc_rgcn.yaml")),
        "--part-config",
        s(g),
        "--hidden-size",
        "32",
        "--restore-model-path",
        s(&m.join("epoch-0")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("hidden_size"), "{err}");
}
