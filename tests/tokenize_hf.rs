//! End to end `tokenize_hf`: a node block with a text column, tokenized by the graphprep binary
//! with the tiny BERT-style tokenizer of `tests/fixtures/tiny-bert` (given as a folder, and as a
//! model name in a Hugging Face cache under `HF_HOME`); the three fixed-name arrays are read back
//! from `part0/node_feat.dgl`. Expected ids are those of `transformers`' fast tokenizer for
//! the same `tokenizer.json` (see `src/features/tokenize.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use graphprep::format::dgl::load_tensor_dict;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-bert")
}

/// Writes the input tables and a config whose tokenize_hf uses `bert_model`; returns its path.
fn write_input(dir: &Path, bert_model: &str) -> PathBuf {
    std::fs::write(
        dir.join("papers.csv"),
        "id,title\n\
         0,\"Hello, world!\"\n\
         1,The quick brown fox jumped over the lazy dogs.\n\
         2,.\n\
         3,GraphStorm\n\
         4,Hello world\n",
    )
    .unwrap();
    std::fs::write(dir.join("cites.csv"), "src,dst\n0,1\n1,2\n2,3\n3,4\n4,0\n").unwrap();
    std::fs::write(
        dir.join("writes.csv"),
        "author,paper\nann,0\nann,3\nbob,4\n",
    )
    .unwrap();
    let conf = serde_json::json!({
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "paper", "files": "papers.csv", "format": {"name": "csv"},
                   "node_id_col": "id",
                   "features": [{"feature_col": "title",
                                 "transform": {"name": "tokenize_hf", "bert_model": bert_model,
                                               "max_seq_length": 6}}]}],
        "edges": [{"relation": ["paper", "cites", "paper"], "files": "cites.csv",
                   "format": {"name": "csv"}, "source_id_col": "src", "dest_id_col": "dst"},
                  {"relation": ["author", "writes", "paper"], "files": "writes.csv",
                   "format": {"name": "csv"}, "source_id_col": "author", "dest_id_col": "paper"}]
    });
    let p = dir.join("conf.json");
    std::fs::write(&p, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    p
}

fn construct(conf: &Path, out: &Path, envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graphprep"));
    cmd.arg("construct")
        .arg("--conf-file")
        .arg(conf)
        .arg("--output-dir")
        .arg(out)
        .args(["--graph-name", "g", "--quiet"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Ids of the five titles at max_length 6 (`[CLS]`=2, `[SEP]`=3, `[PAD]`=0).
const IDS: [[i64; 6]; 5] = [
    [2, 18, 16, 19, 17, 3],
    [2, 5, 6, 7, 8, 3],
    [2, 15, 3, 0, 0, 0],
    [2, 20, 21, 3, 0, 0],
    [2, 18, 19, 3, 0, 0],
];

fn check_output(out: &Path) {
    common::read_back(out);
    let tensors = load_tensor_dict(&out.join("part0/node_feat.dgl")).unwrap();
    let get = |name: &str| {
        &tensors
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| {
                panic!(
                    "{name} missing; have {:?}",
                    tensors.iter().map(|t| &t.0).collect::<Vec<_>>()
                )
            })
            .1
    };
    let ids = get("paper/input_ids");
    let mask = get("paper/attention_mask");
    let types = get("paper/token_type_ids");
    assert_eq!(ids.shape, vec![5, 6]);
    assert_eq!(mask.shape, vec![5, 6]);
    assert_eq!(types.shape, vec![5, 6]);
    assert_eq!(
        ids.values::<i64>().unwrap().as_ref(),
        IDS.concat().as_slice()
    );
    let expect_mask: Vec<i8> = IDS.concat().iter().map(|&i| (i != 0) as i8).collect();
    assert_eq!(
        mask.values::<i8>().unwrap().as_ref(),
        expect_mask.as_slice()
    );
    assert!(types.values::<i8>().unwrap().iter().all(|&t| t == 0));
    assert!(
        !tensors.iter().any(|(n, _)| n.contains("title")),
        "feature_name must not prefix the outputs"
    );
    // The runtime config carries GraphStorm's feature_dim: the model's hidden_size.
    let rt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("data_transform_new.json")).unwrap())
            .unwrap();
    assert_eq!(
        rt["nodes"][0]["features"][0]["feature_dim"],
        serde_json::json!([48])
    );
}

#[test]
fn tokenizer_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_input(tmp.path(), fixture().to_str().unwrap());
    let out = tmp.path().join("out");
    let o = construct(&conf, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_output(&out);
}

#[test]
fn model_name_in_hf_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let hf_home = tmp.path().join("hf");
    let repo = hf_home.join("hub/models--acme--tiny-bert");
    let snap = repo.join("snapshots/0123abcd");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "0123abcd").unwrap();
    for f in ["tokenizer.json", "config.json"] {
        std::fs::copy(fixture().join(f), snap.join(f)).unwrap();
    }
    let conf = write_input(tmp.path(), "acme/tiny-bert");
    let out = tmp.path().join("out");
    let o = construct(&conf, &out, &[("HF_HOME", &hf_home)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_output(&out);
}

#[test]
fn empty_csv_field_is_a_missing_value() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_input(tmp.path(), fixture().to_str().unwrap());
    std::fs::write(
        tmp.path().join("papers.csv"),
        "id,title\n0,a\n1,\n2,b\n3,c\n4,d\n",
    )
    .unwrap();
    let o = construct(&conf, &tmp.path().join("out"), &[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("papers.csv: row 1, column 'title': missing value"),
        "{err}"
    );
}

#[test]
fn missing_model_explains_offline_setup() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write_input(tmp.path(), "bert-base-uncased");
    let empty = tmp.path().join("empty-hf");
    let o = construct(&conf, &tmp.path().join("out"), &[("HF_HOME", &empty)]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nodes[0].features[0].transform.bert_model"),
        "{err}"
    );
    assert!(err.contains("save_pretrained"), "{err}");
}
