//! End to end `bert_hf`: a node type with two text columns (CSV with quoted separators and
//! non-ASCII text), embedded by the graphprep binary with the tiny random BERT of
//! `tests/fixtures/tiny-bert`, read back from `part0/node_feat.dgl` per raw node ID and compared
//! with the `pooler_output` Hugging Face `transformers` computed for the same sentences
//! (`tests/fixtures/make_tiny_bert.py`, stored in `pooler_reference.json`) to 1e-5. Then:
//! the runtime config `data_transform_new.json` rebuilds the same bytes, the thread count does
//! not change them, a spilled run (`--memory` tiny) writes the same bytes, `validate` plans it
//! without running the model, and a model folder without weights fails naming the key.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn fixture() -> PathBuf {
    common::repo().join("tests/fixtures/tiny-bert")
}

/// Sentences and Hugging Face's pooler rows at max_seq_length 16.
fn reference() -> (Vec<String>, Vec<Vec<f64>>) {
    let v: Value =
        serde_json::from_slice(&std::fs::read(fixture().join("pooler_reference.json")).unwrap())
            .unwrap();
    let s = v["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    let rows = v["pooler_output"]["16"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    (s, rows)
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Rows of the node table: the sentence pairs (i, n-1-i) without the empty sentence (an empty
/// CSV field is a missing value, for pandas as for graphprep; the unit tests embed it).
fn kept() -> Vec<usize> {
    let (s, _) = reference();
    let n = s.len();
    (0..n)
        .filter(|&i| !s[i].is_empty() && !s[n - 1 - i].is_empty())
        .collect()
}

/// Node table `paper` (string IDs `p<i>`, column `a` = sentence i, column `b` = sentence
/// n-1-i, for i in [`kept`]), a `cites` edge list, and the config; returns the config path.
fn write_input(dir: &Path, bert_model: &str) -> PathBuf {
    let (s, _) = reference();
    let n = s.len();
    let kept = kept();
    let mut csv = String::from("id,a,b\n");
    for &i in &kept {
        csv += &format!("p{i},{},{}\n", csv_field(&s[i]), csv_field(&s[n - 1 - i]));
    }
    std::fs::write(dir.join("papers.csv"), csv).unwrap();
    let mut edges = String::from("src,dst\n");
    for (k, &i) in kept.iter().enumerate() {
        edges += &format!("p{i},p{}\n", kept[(k + 1) % kept.len()]);
    }
    std::fs::write(dir.join("cites.csv"), edges).unwrap();
    let conf = json!({
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "paper", "files": "papers.csv", "format": {"name": "csv"},
                   "node_id_col": "id",
                   "features": [{"feature_col": ["a", "b"], "feature_name": "emb",
                                 "transform": {"name": "bert_hf", "bert_model": bert_model,
                                               "max_seq_length": 16, "infer_batch_size": 3}},
                                {"feature_col": "a", "feature_name": "half", "out_dtype": "float16",
                                 "transform": {"name": "bert_hf", "bert_model": bert_model,
                                               "max_seq_length": 16}}]}],
        "edges": [{"relation": ["paper", "cites", "paper"], "files": "cites.csv",
                   "format": {"name": "csv"}, "source_id_col": "src", "dest_id_col": "dst"}]
    });
    let p = dir.join("conf.json");
    std::fs::write(&p, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    p
}

fn node_feat(out: &Path) -> Vec<u8> {
    std::fs::read(out.join("part0/node_feat.dgl")).unwrap()
}

#[test]
fn embeddings_equal_hugging_face_per_raw_id() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_input(tmp.path(), fixture().to_str().unwrap());
    let out = tmp.path().join("out");
    common::construct_named(&conf, &out, "g", &["--threads", "2"]);
    let (s, want) = reference();
    let n = s.len();
    let kept = kept();
    // One node and one edge type: a homogeneous graph, whose node type is called `_N`.
    let feats = common::part0(&out, "node_feat.dgl");
    let emb = &feats["_N/emb"];
    assert_eq!(emb.shape, vec![kept.len(), 96]);
    let half = &feats["_N/half"];
    assert_eq!(
        (half.shape.clone(), half.dtype.name()),
        (vec![kept.len(), 48], "float16")
    );
    let rows = common::rows_f64(emb);
    let half_rows = common::rows_f64(half);
    let index = common::id_index(&out, "_N", kept.len());
    for &i in &kept {
        let r = index[&format!("s:p{i}")];
        for k in 0..48 {
            let (a, b) = (rows[r][k], rows[r][48 + k]);
            assert!(
                (a - want[i][k]).abs() <= 1e-5,
                "p{i} a[{k}]: {a} vs {}",
                want[i][k]
            );
            assert!(
                (b - want[n - 1 - i][k]).abs() <= 1e-5,
                "p{i} b[{k}]: {b} vs {}",
                want[n - 1 - i][k]
            );
            // float16: the embedding rounded once (relative error at most 2^-11; this
            // feature ran in other batches, so its float32 value may differ in the last bits).
            let h = half_rows[r][k];
            assert!(
                (h - want[i][k]).abs() <= want[i][k].abs() * 2f64.powi(-11) + 1e-5,
                "p{i} half[{k}]: {h} vs {}",
                want[i][k]
            );
        }
    }
    let rt: Value =
        serde_json::from_slice(&std::fs::read(out.join("data_transform_new.json")).unwrap())
            .unwrap();
    let f = &rt["nodes"][0]["features"];
    assert_eq!(f[0]["feature_dim"], json!([96]));
    assert_eq!(f[1]["feature_dim"], json!([48]));

    // The runtime config rebuilds the same bytes; one thread gives the same bytes; so does a
    // run whose feature arrays spill to disk.
    let again = tmp.path().join("again");
    let runtime = tmp.path().join("runtime.json");
    std::fs::copy(out.join("data_transform_new.json"), &runtime).unwrap();
    common::construct_named(&runtime, &again, "g", &[]);
    assert_eq!(
        node_feat(&again),
        node_feat(&out),
        "runtime config round trip"
    );
    let one = tmp.path().join("one");
    common::construct_named(&conf, &one, "g", &["--threads", "1"]);
    assert_eq!(node_feat(&one), node_feat(&out), "1 vs 2 threads");
    let spill = tmp.path().join("spill");
    let ws = tmp.path().join("ws");
    common::construct_named(
        &conf,
        &spill,
        "g",
        &[
            "--ext-mem-workspace",
            ws.to_str().unwrap(),
            "--ext-mem-feat-size",
            "1",
        ],
    );
    assert_eq!(node_feat(&spill), node_feat(&out), "spilled");
}

#[test]
fn validate_plans_bert_hf_and_missing_weights_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_input(tmp.path(), fixture().to_str().unwrap());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_graphprep"))
        .args(["validate", "--format", "json", "--conf-file"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"emb\"") && text.contains("96"), "{text}");

    // The same folder without its weights.
    let lm = tmp.path().join("lm");
    std::fs::create_dir(&lm).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(fixture().join(f), lm.join(f)).unwrap();
    }
    let conf = write_input(tmp.path(), lm.to_str().unwrap());
    let o = common::construct_cmd(&conf, &tmp.path().join("out"))
        .args(["--graph-name", "g", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("nodes[0].features[0].transform.bert_model")
            && err.contains("no model weights")
            && err.contains("save_pretrained"),
        "{err}"
    );
    assert!(!tmp.path().join("out/g.json").exists());
}
