//! Tests of [`load_plan`]: one test per invalid case (asserting the exact JSON path and a key
//! phrase), plan contents of valid configs, version handling, homogeneous renaming, the
//! JSON Schema file, and every config under `sample_data/` and `tests/fixtures/config/valid/`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tempfile::TempDir;

use super::plan::{FileFormat, Split, TaskType, Transform};
use super::raw::RawObject;
use super::*;

/// A folder with the data files the test configs reference.
fn fixture() -> TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in [
        "n.csv",
        "n2.csv",
        "e.csv",
        "e2.csv",
        "tr.json",
        "va.json",
        "tr.parquet",
        "n.h5",
    ] {
        std::fs::write(d.path().join(f), "id\n1\n").unwrap();
    }
    std::fs::create_dir(d.path().join("parts")).unwrap();
    for f in ["p_10.csv", "p_2.csv", "p_1.csv"] {
        std::fs::write(d.path().join("parts").join(f), "id\n1\n").unwrap();
    }
    d
}

fn base() -> Value {
    json!({
        "version": "gconstruct-v0.1",
        "nodes": [{"node_type": "user", "files": "n.csv", "format": {"name": "csv"},
                   "node_id_col": "id"}],
        "edges": [{"relation": ["user", "follows", "user"], "files": "e.csv",
                   "format": {"name": "csv"}, "source_id_col": "s", "dest_id_col": "d"},
                  {"relation": ["user", "buys", "item"], "files": "e2.csv",
                   "format": {"name": "csv"}, "source_id_col": "s", "dest_id_col": "d"}]
    })
}

fn load_in(dir: &Path, conf: &Value, opts: &LoadOptions) -> Result<Plan> {
    let p = dir.join("conf.json");
    std::fs::write(&p, serde_json::to_string_pretty(conf).unwrap()).unwrap();
    load_plan(&p, opts)
}

fn load(conf: &Value) -> Result<Plan> {
    let d = fixture();
    let opts = LoadOptions::new(d.path());
    load_in(d.path(), conf, &opts)
}

/// Applies `edit` to the base config and returns the config error's (path, message).
fn err_with(edit: impl FnOnce(&mut Value)) -> (String, String) {
    let mut c = base();
    edit(&mut c);
    config_err(load(&c))
}

fn config_err(r: Result<Plan>) -> (String, String) {
    match r {
        Err(Error::Config { path, msg }) => (path, msg),
        Err(e) => panic!("expected a config error, got {e}"),
        Ok(_) => panic!("expected a config error, got a plan"),
    }
}

#[track_caller]
fn assert_err(got: (String, String), path: &str, phrase: &str) {
    assert_eq!(got.0, path, "wrong path; message: {}", got.1);
    assert!(
        got.1.contains(phrase),
        "message {:?} lacks {phrase:?}",
        got.1
    );
}

fn feature(f: Value) -> impl FnOnce(&mut Value) {
    move |c| c["nodes"][0]["features"] = json!([f])
}

fn label(l: Value) -> impl FnOnce(&mut Value) {
    move |c| c["nodes"][0]["labels"] = json!([l])
}

// ----- valid configs --------------------------------------------------------------------------

#[test]
fn base_config_resolves() {
    let d = fixture();
    let plan = load_in(d.path(), &base(), &LoadOptions::new("/")).unwrap();
    assert!(!plan.is_homogeneous);
    assert_eq!(plan.nodes[0].node_type, "user");
    assert_eq!(
        plan.nodes[0].input.format,
        FileFormat::Csv { separator: b',' }
    );
    assert_eq!(plan.nodes[0].input.files, vec![d.path().join("n.csv")]);
    assert_eq!(
        plan.edges[0].relation,
        ["user", "follows", "user"].map(String::from)
    );
    assert_eq!(plan.edges[0].id_cols, Some(("s".into(), "d".into())));
    assert_eq!(plan.raw["version"], "gconstruct-runtime-v0.1");
    assert_eq!(plan.raw["is_homogeneous"], false);
    assert_eq!(plan.base_dir, d.path());
}

#[test]
fn features_and_labels_resolve_with_defaults() {
    let mut c = base();
    c["nodes"][0]["features"] = json!([
        {"feature_col": "a"},
        {"feature_col": ["a", "b"], "feature_name": "ab", "out_dtype": "float16",
         "transform": {"name": "max_min_norm", "max_val": [1, 2], "min_val": 0}},
        {"feature_col": "c", "transform": {"name": "bucket_numerical", "range": [10, 30],
         "bucket_cnt": 2}},
        {"feature_col": "v", "separator": ";", "truncate_dim": 4},
        {"feature_col": "k", "transform": {"name": "to_categorical", "mapping": {"a": 0, "b": 1}},
         "feature_dim": [2]}
    ]);
    c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "classification",
        "label_stats_type": "frequency_cnt"}]);
    let plan = load(&c).unwrap();
    let f = &plan.nodes[0].features;
    assert_eq!(f[0].name, "a");
    assert_eq!(
        f[0].transform,
        Transform::Noop {
            separator: None,
            truncate_dim: None
        }
    );
    assert_eq!(f[1].columns, ["a", "b"]);
    assert_eq!(f[1].out_dtype, Some(crate::tensor::DType::F16));
    assert_eq!(
        f[1].transform,
        Transform::MaxMinNorm {
            max_bound: f64::MAX,
            min_bound: -f64::MAX,
            max_val: Some(vec![1.0, 2.0]),
            min_val: Some(vec![0.0])
        }
    );
    assert_eq!(
        f[2].transform,
        Transform::Bucket {
            range: [10.0, 30.0],
            bucket_cnt: 2,
            slide_window_size: 0.0
        }
    );
    assert_eq!(
        f[3].transform,
        Transform::Noop {
            separator: Some(";".into()),
            truncate_dim: Some(4)
        }
    );
    assert_eq!(f[4].feature_dim, Some(vec![2]));
    assert_eq!(f[0].json_path, "nodes[0].features[0]");
    let l = &plan.nodes[0].labels[0];
    assert_eq!(l.task, TaskType::Classification);
    assert!(l.frequency_stats);
    assert_eq!(
        l.mask_names,
        ["train_mask", "val_mask", "test_mask"].map(String::from)
    );
    assert!(matches!(l.split, Split::Pct(p) if p == [0.8, 0.1, 0.1]));
    assert_eq!(l.json_path, "nodes[0].labels[0]");
}

#[test]
fn runtime_config_keys_are_accepted() {
    let mut c = base();
    c["version"] = json!("gconstruct-runtime-v0.1");
    c["is_homogeneous"] = json!(true);
    c["add_reverse_edges"] = json!(true);
    c["nodes"][0]["features"] = json!([
        {"feature_col": "a", "feature_dim": [1], "transform": {"name": "max_min_norm",
         "max_val": [10], "min_val": [1]}},
        {"feature_col": "b", "feature_dim": [1], "transform": {"name": "standard", "sum": [3.0]}},
        {"feature_col": "k", "feature_dim": [3], "transform": {"name": "to_categorical",
         "mapping": {"1": 0, "10": 1, "2": 2}}}
    ]);
    c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "classification",
        "custom_split_filenames": {"train": "tr.json", "valid": [], "test": "", "column": []}}]);
    let plan = load(&c).unwrap();
    assert!(
        !plan.is_homogeneous,
        "is_homogeneous is recomputed, never read"
    );
    assert_eq!(plan.raw["is_homogeneous"], false);
    assert_eq!(
        plan.nodes[0].features[1].transform,
        Transform::Standard {
            sum: Some(vec![3.0])
        }
    );
    match &plan.nodes[0].labels[0].split {
        Split::Custom(cs) => {
            assert_eq!(cs.train.len(), 1);
            assert!(cs.valid.is_empty() && cs.test.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn custom_split_column_added_to_runtime_config() {
    let plan = load(&{
        let mut c = base();
        c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"train": "tr.json"}}]);
        c
    })
    .unwrap();
    assert_eq!(
        plan.raw["nodes"][0]["labels"][0]["custom_split_filenames"]["column"],
        json!([])
    );
}

#[test]
fn files_sorted_and_directory_expanded() {
    let plan = load(&{
        let mut c = base();
        c["nodes"][0]["files"] = json!(["parts"]);
        c
    })
    .unwrap();
    let names: Vec<_> = plan.nodes[0]
        .input
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["p_1.csv", "p_10.csv", "p_2.csv"]);
}

#[test]
fn relative_files_fall_back_to_cwd() {
    let conf_dir = tempfile::tempdir().unwrap();
    let data = fixture();
    let plan = load_in(conf_dir.path(), &base(), &LoadOptions::new(data.path())).unwrap();
    assert_eq!(plan.nodes[0].input.files, vec![data.path().join("n.csv")]);
}

#[test]
fn csv_separator_tab_and_parquet() {
    let mut c = base();
    c["nodes"][0]["format"] = json!({"name": "csv", "separator": "\t"});
    c["edges"][0]["format"] = json!({"name": "parquet"});
    let plan = load(&c).unwrap();
    assert_eq!(
        plan.nodes[0].input.format,
        FileFormat::Csv { separator: b'\t' }
    );
    assert_eq!(plan.edges[0].input.format, FileFormat::Parquet);
}

#[test]
fn split_pct_tolerance() {
    let mut c = base();
    c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "regression",
        "split_pct": [0.7, 0.2, 0.1000000001]}]);
    assert!(load(&c).is_ok());
}

#[test]
fn multi_task_labels_with_distinct_masks() {
    let mut c = base();
    c["nodes"][0]["labels"] = json!([
        {"label_col": "y", "task_type": "classification"},
        {"label_col": "z", "task_type": "regression",
         "mask_field_names": ["tr_z", "va_z", "te_z"]},
        {"label_col": "y", "task_type": "classification", "split_pct": [0, 0, 0]}
    ]);
    c["edges"][0]["labels"] =
        json!([{"task_type": "link_prediction", "split_pct": [0.8, 0.1, 0.1]}]);
    let plan = load(&c).unwrap();
    assert_eq!(plan.nodes[0].labels.len(), 3);
    assert_eq!(plan.edges[0].labels[0].column, None);
}

// ----- version handling and homogeneous graphs ------------------------------------------------

#[test]
fn missing_and_unknown_versions_are_accepted() {
    let mut c = base();
    c.as_object_mut().unwrap().remove("version");
    let plan = load(&c).unwrap();
    assert_eq!(plan.raw["version"], "gconstruct-runtime-v0.1");
    c["version"] = json!("v2");
    assert!(load(&c).is_ok());
}

#[test]
fn gsprocessing_config_is_converted() {
    let c = json!({
        "version": "gsprocessing-v1.0",
        "graph": {
            "nodes": [{"type": "user", "column": "id",
                       "data": {"format": "csv", "files": ["n.csv"]},
                       "labels": [{"column": "y", "type": "classification",
                                   "split_rate": {"train": 0.6, "val": 0.2, "test": 0.2}}]}],
            "edges": [{"source": {"column": "s", "type": "user"},
                       "dest": {"column": "d", "type": "item"},
                       "relation": {"type": "buys"},
                       "data": {"format": "csv", "files": "e.csv"}}]
        }
    });
    let plan = load(&c).unwrap();
    assert_eq!(plan.nodes[0].id_col.as_deref(), Some("id"));
    assert!(matches!(plan.nodes[0].labels[0].split, Split::Pct(p) if p == [0.6, 0.2, 0.2]));
    assert_eq!(plan.raw["version"], "gconstruct-runtime-v0.1");
    assert!(plan.raw.get("graph").is_none());
    // One node type with node files and one relation: homogeneous (§3.2 edge case).
    assert!(plan.is_homogeneous);
    assert_eq!(plan.raw["edges"][0]["relation"], json!(["_N", "_E", "_N"]));
    assert_eq!(plan.raw["edges"][0]["source_id_col"], "s");
}

#[test]
fn gsprocessing_errors_name_graph_paths() {
    let c = json!({"version": "gsprocessing-v1.0", "graph": {"nodes": [{"type": "n"}]}});
    let (p, m) = config_err(load(&c));
    assert_eq!(p, "graph.nodes[0]");
    assert!(m.contains("`column`"), "{m}");
    let c = json!({"version": "gsprocessing-v1.0", "nodes": []});
    assert_err(config_err(load(&c)), "nodes", "unknown key");
}

/// The base config with only its first relation `(user, follows, user)`.
fn one_relation() -> Value {
    let mut c = base();
    c["edges"].as_array_mut().unwrap().truncate(1);
    c
}

#[test]
fn homogeneous_renaming() {
    let mut c = one_relation();
    c["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"node_type": "user", "files": "n2.csv",
        "format": {"name": "csv"}, "features": [{"feature_col": "f"}]}));
    let plan = load(&c).unwrap();
    assert!(plan.is_homogeneous);
    assert!(plan.nodes.iter().all(|n| n.node_type == "_N"));
    assert_eq!(plan.edges[0].relation, ["_N", "_E", "_N"].map(String::from));
    assert_eq!(plan.raw["nodes"][1]["node_type"], "_N");
    assert_eq!(plan.raw["edges"][0]["relation"], json!(["_N", "_E", "_N"]));
    assert_eq!(plan.raw["is_homogeneous"], true);
}

#[test]
fn homogeneous_edge_case_featureless_endpoint() {
    // nodes [A], edges [(A, r, B)] is detected as homogeneous (B merges into _N).
    let mut c = one_relation();
    c["edges"][0]["relation"] = json!(["user", "buys", "item"]);
    let plan = load(&c).unwrap();
    assert!(plan.is_homogeneous);
    assert_eq!(plan.edges[0].relation, ["_N", "_E", "_N"].map(String::from));
}

#[test]
fn two_relations_are_heterogeneous() {
    let plan = load(&base()).unwrap();
    assert!(!plan.is_homogeneous);
    assert_eq!(plan.nodes[0].node_type, "user");
}

// ----- invalid cases: one per rule ------------------------------------------------------------

#[test]
fn json_syntax_error_has_line_and_column() {
    let d = fixture();
    let p = d.path().join("bad.json");
    std::fs::write(&p, "{\n  \"nodes\": [,]\n}").unwrap();
    let e = load_plan(&p, &LoadOptions::new(d.path()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2, column"), "{e}");
}

#[test]
fn missing_config_file() {
    let e = load_plan(Path::new("/nonexistent/conf.json"), &LoadOptions::new("/"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read the config file"), "{e}");
}

#[test]
fn unknown_top_level_key() {
    assert_err(
        err_with(|c| c["node"] = json!([])),
        "node",
        "allowed keys here: `version`, `nodes`",
    );
}

#[test]
fn missing_nodes_key() {
    assert_err(
        err_with(|c| {
            c.as_object_mut().unwrap().remove("nodes");
        }),
        "nodes",
        "missing required key `nodes`",
    );
}

#[test]
fn unknown_node_key_suggests_case() {
    assert_err(
        err_with(|c| c["nodes"][0]["Node_Type"] = json!("x")),
        "nodes[0].Node_Type",
        "did you mean `node_type`",
    );
}

#[test]
fn wrong_type_names_field() {
    assert_err(
        err_with(|c| c["nodes"][0]["node_id_col"] = json!(3)),
        "nodes[0].node_id_col",
        "expected a string",
    );
}

#[test]
fn relation_length() {
    assert_err(
        err_with(|c| c["edges"][0]["relation"] = json!(["a", "b"])),
        "edges[0].relation",
        "exactly 3",
    );
}

#[test]
fn unknown_format() {
    assert_err(
        err_with(|c| c["nodes"][0]["format"]["name"] = json!("xml")),
        "nodes[0].format.name",
        "unknown file format \"xml\"",
    );
}

#[test]
fn format_case_suggests_lowercase() {
    assert_err(
        err_with(|c| c["nodes"][0]["format"]["name"] = json!("HDF5")),
        "nodes[0].format.name",
        "use \"hdf5\"",
    );
}

#[test]
fn format_missing() {
    assert_err(
        err_with(|c| {
            c["nodes"][0].as_object_mut().unwrap().remove("format");
        }),
        "nodes[0]",
        "missing required key `format`",
    );
}

#[test]
fn csv_separator_one_byte() {
    assert_err(
        err_with(|c| c["nodes"][0]["format"]["separator"] = json!("||")),
        "nodes[0].format.separator",
        "exactly one byte",
    );
}

#[cfg(not(feature = "hdf5"))]
#[test]
fn hdf5_needs_the_feature() {
    assert_err(
        err_with(|c| c["nodes"][0]["format"]["name"] = json!("hdf5")),
        "nodes[0].format.name",
        "built without HDF5 support",
    );
}

#[cfg(feature = "hdf5")]
#[test]
fn hdf5_blocks_resolve() {
    let mut c = base();
    c["nodes"][0]["format"] = json!({"name": "hdf5"});
    let d = fixture();
    let plan = load_in(d.path(), &c, &LoadOptions::new(d.path())).unwrap();
    assert_eq!(plan.nodes[0].input.format, FileFormat::Hdf5);
}

#[test]
fn missing_file() {
    assert_err(
        err_with(|c| c["nodes"][0]["files"] = json!(["n.csv", "x.csv"])),
        "nodes[0].files[1]",
        "does not exist",
    );
}

#[test]
fn empty_glob() {
    assert_err(
        err_with(|c| c["edges"][0]["files"] = json!("zz_*.csv")),
        "edges[0].files",
        "no file matching \"zz_*.csv\"",
    );
}

#[test]
fn source_without_dest() {
    assert_err(
        err_with(|c| {
            c["edges"][0].as_object_mut().unwrap().remove("dest_id_col");
        }),
        "edges[0]",
        "`source_id_col` is given without `dest_id_col`",
    );
}

#[test]
fn dest_without_source() {
    assert_err(
        err_with(|c| {
            c["edges"][0]
                .as_object_mut()
                .unwrap()
                .remove("source_id_col");
        }),
        "edges[0]",
        "`dest_id_col` is given without `source_id_col`",
    );
}

#[test]
fn empty_feature_col_string() {
    assert_err(
        err_with(feature(json!({"feature_col": ""}))),
        "nodes[0].features[0].feature_col",
        "should not be empty",
    );
}

#[test]
fn empty_feature_col_list() {
    assert_err(
        err_with(feature(json!({"feature_col": [], "feature_name": "x"}))),
        "nodes[0].features[0].feature_col",
        "should not be empty",
    );
}

#[test]
fn missing_feature_col() {
    assert_err(
        err_with(feature(json!({"feature_name": "x"}))),
        "nodes[0].features[0]",
        "missing required key `feature_col`",
    );
}

#[test]
fn unknown_transform_lists_names() {
    let got = err_with(feature(
        json!({"feature_col": "a", "transform": {"name": "noop"}}),
    ));
    assert_err(
        got.clone(),
        "nodes[0].features[0].transform.name",
        "did you mean \"no-op\"",
    );
    assert!(
        got.1.contains("`max_min_norm`") && got.1.contains("`tabular`"),
        "{}",
        got.1
    );
}

#[test]
fn gsprocessing_transform_name_hint() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "huggingface"}}),
        )),
        "nodes[0].features[0].transform.name",
        "use bert_hf or tokenize_hf",
    );
}

#[test]
fn transform_without_name() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"bucket_cnt": 2}}),
        )),
        "nodes[0].features[0].transform",
        "missing `name`",
    );
}

#[test]
fn transform_option_of_another_transform() {
    let got = err_with(feature(
        json!({"feature_col": "a", "transform": {"name": "max_min_norm", "bucket_cnt": 2}}),
    ));
    assert_err(
        got.clone(),
        "nodes[0].features[0].transform.bucket_cnt",
        "unknown key `bucket_cnt`",
    );
    assert!(
        got.1
            .contains("`max_bound`, `min_bound`, `max_val`, `min_val`"),
        "{}",
        got.1
    );
}

#[test]
fn bucket_needs_bucket_cnt() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "bucket_numerical", "range": [0, 1]}}),
        )),
        "nodes[0].features[0].transform",
        "needs `bucket_cnt`",
    );
}

#[test]
fn bucket_needs_range() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "bucket_numerical", "bucket_cnt": 2}}),
        )),
        "nodes[0].features[0].transform",
        "needs `range`",
    );
}

#[test]
fn bucket_range_two_values() {
    assert_err(
        err_with(feature(json!({"feature_col": "a",
            "transform": {"name": "bucket_numerical", "bucket_cnt": 2, "range": [1]}}))),
        "nodes[0].features[0].transform.range",
        "two different numbers",
    );
}

#[test]
fn bert_needs_model() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "bert_hf", "max_seq_length": 8}}),
        )),
        "nodes[0].features[0].transform",
        "needs `bert_model`",
    );
}

#[test]
fn tokenize_needs_max_seq_length() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "tokenize_hf", "bert_model": "m"}}),
        )),
        "nodes[0].features[0].transform",
        "needs `max_seq_length`",
    );
}

#[test]
fn noop_truncate_dim_must_be_int() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "no-op", "truncate_dim": "4"}}),
        )),
        "nodes[0].features[0].transform.truncate_dim",
        "must be an integer",
    );
}

#[test]
fn feature_level_separator_with_transform() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "separator": ";", "transform": {"name": "no-op"}}),
        )),
        "nodes[0].features[0].separator",
        "move it into the transform object",
    );
}

#[test]
fn multi_column_categorical() {
    assert_err(
        err_with(feature(
            json!({"feature_col": ["a", "b"], "feature_name": "ab",
            "transform": {"name": "to_categorical"}}),
        )),
        "nodes[0].features[0].transform.name",
        "to_categorical does not support multiple columns",
    );
}

#[test]
fn multi_column_tokenize() {
    assert_err(
        err_with(feature(
            json!({"feature_col": ["a", "b"], "feature_name": "ab",
            "transform": {"name": "tokenize_hf", "bert_model": "m", "max_seq_length": 4}}),
        )),
        "nodes[0].features[0].transform.name",
        "tokenize_hf does not support multiple columns",
    );
}

/// The tiny BERT-style `tokenizer.json` of `tests/fixtures/tiny-bert` (`[CLS] $A [SEP]`).
fn tiny_tokenizer() -> String {
    std::fs::read_to_string(crate_root().join("tests/fixtures/tiny-bert/tokenizer.json")).unwrap()
}

/// A tokenize_hf feature with `bert_model`, loaded with the hub cache `cache`.
fn tokenize_plan(dir: &Path, bert_model: &str, cache: Option<&Path>) -> Result<Plan> {
    tokenize_plan_len(dir, bert_model, cache, 4)
}

fn tokenize_plan_len(
    dir: &Path,
    bert_model: &str,
    cache: Option<&Path>,
    max_seq_length: usize,
) -> Result<Plan> {
    let mut c = base();
    feature(json!({"feature_col": "t", "feature_name": "ignored",
        "transform": {"name": "tokenize_hf", "bert_model": bert_model,
                      "max_seq_length": max_seq_length}}))(&mut c);
    let mut opts = LoadOptions::new(dir);
    opts.hf_hub_cache = cache.map(Path::to_path_buf);
    load_in(dir, &c, &opts)
}

fn tokenizer_of(p: &Plan) -> crate::config::plan::HfTokenizer {
    match &p.nodes[0].features[0].transform {
        Transform::TokenizeHf {
            max_seq_length: 4,
            tokenizer,
            ..
        } => tokenizer.clone(),
        t => panic!("unexpected {t:?}"),
    }
}

#[test]
fn tokenize_model_folder_file_and_cache() {
    let d = fixture();
    let tok = d.path().join("tok");
    std::fs::create_dir(&tok).unwrap();
    std::fs::write(tok.join("tokenizer.json"), tiny_tokenizer()).unwrap();
    std::fs::write(tok.join("config.json"), r#"{"hidden_size": 768}"#).unwrap();
    std::fs::write(
        tok.join("tokenizer_config.json"),
        r#"{"pad_token": {"content": "<pad>"}, "padding_side": "left"}"#,
    )
    .unwrap();
    // A folder relative to the config, and the file itself.
    for name in ["tok", "tok/tokenizer.json"] {
        let t = tokenizer_of(&tokenize_plan(d.path(), name, None).unwrap());
        assert_eq!(t.tokenizer_file, tok.join("tokenizer.json"));
        assert_eq!(t.hidden_size, Some(768));
        assert_eq!(t.pad_token.as_deref(), Some("<pad>"));
        assert!(t.pad_left && !t.truncate_left);
    }
    // A hub name in the cache; DistilBERT's `dim` alias for hidden_size.
    let cache = d.path().join("hub");
    let snap = cache.join("models--org--tiny-bert/snapshots/abc");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(snap.join("tokenizer.json"), tiny_tokenizer()).unwrap();
    std::fs::write(snap.join("config.json"), r#"{"dim": 32}"#).unwrap();
    let t = tokenizer_of(&tokenize_plan(d.path(), "org/tiny-bert", Some(&cache)).unwrap());
    assert_eq!(t.tokenizer_file, snap.join("tokenizer.json"));
    assert_eq!(t.hidden_size, Some(32));
    assert_eq!(t.pad_token, None);
    // The runtime config keeps bert_model as written.
    let p = tokenize_plan(d.path(), "org/tiny-bert", Some(&cache)).unwrap();
    assert_eq!(
        p.raw["nodes"][0]["features"][0]["transform"]["bert_model"],
        "org/tiny-bert"
    );
}

#[test]
fn tokenize_model_not_found_says_how_to_fix() {
    let d = fixture();
    let (path, msg) = config_err(tokenize_plan(
        d.path(),
        "bert-base-uncased",
        Some(&d.path().join("hub")),
    ));
    assert_eq!(path, "nodes[0].features[0].transform.bert_model");
    for phrase in [
        "\"bert-base-uncased\"",
        "does not download",
        "save_pretrained('tok')",
        "models--bert-base-uncased",
        "hub",
    ] {
        assert!(msg.contains(phrase), "{msg:?} lacks {phrase:?}");
    }
}

#[test]
fn tokenize_model_folder_without_tokenizer_json() {
    let d = fixture();
    std::fs::create_dir(d.path().join("slow")).unwrap();
    std::fs::write(d.path().join("slow/vocab.txt"), "[PAD]\n").unwrap();
    assert_err(
        config_err(tokenize_plan(d.path(), "slow", None)),
        "nodes[0].features[0].transform.bert_model",
        "has no tokenizer.json (it has vocab.txt",
    );
}

#[test]
fn tokenize_bad_side_in_tokenizer_config() {
    let d = fixture();
    std::fs::write(d.path().join("tokenizer.json"), tiny_tokenizer()).unwrap();
    std::fs::write(
        d.path().join("tokenizer_config.json"),
        r#"{"truncation_side": "middle"}"#,
    )
    .unwrap();
    assert_err(
        config_err(tokenize_plan(d.path(), "tokenizer.json", None)),
        "nodes[0].features[0].transform.bert_model",
        "`truncation_side` must be \"left\" or \"right\"",
    );
}

#[test]
fn tokenize_max_seq_length_below_special_tokens() {
    let d = fixture();
    std::fs::write(d.path().join("tokenizer.json"), tiny_tokenizer()).unwrap();
    assert_err(
        config_err(tokenize_plan_len(d.path(), "tokenizer.json", None, 1)),
        "nodes[0].features[0].transform.max_seq_length",
        "smaller than the 2 special tokens",
    );
    let t = tokenizer_of(&tokenize_plan(d.path(), "tokenizer.json", None).unwrap());
    assert_eq!(t.special_tokens, 2);
}

#[test]
fn tokenize_unreadable_tokenizer_json() {
    let d = fixture();
    std::fs::write(d.path().join("tokenizer.json"), "{}").unwrap();
    assert_err(
        config_err(tokenize_plan(d.path(), "tokenizer.json", None)),
        "nodes[0].features[0].transform.bert_model",
        "cannot load the tokenizer",
    );
}

#[cfg(feature = "train")]
/// A bert_hf feature on model folder `bert_model` (relative to `dir`).
fn bert_plan(dir: &Path, bert_model: &str, extra: Value) -> Result<Plan> {
    let mut c = base();
    let mut f = json!({"feature_col": "t", "feature_name": "emb",
        "transform": {"name": "bert_hf", "bert_model": bert_model, "max_seq_length": 16}});
    for (k, v) in extra.as_object().unwrap() {
        if k == "max_seq_length" {
            f["transform"][k] = v.clone();
        } else {
            f[k] = v.clone();
        }
    }
    feature(f)(&mut c);
    load_in(dir, &c, &LoadOptions::new(dir))
}

#[cfg(feature = "train")]
/// `tests/fixtures/tiny-bert` copied into `dir/name` without the files in `drop`.
fn tiny_model_copy(dir: &Path, name: &str, drop: &[&str]) {
    let src = crate_root().join("tests/fixtures/tiny-bert");
    let dst = dir.join(name);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().to_string();
        if !drop.contains(&n.as_str()) {
            std::fs::copy(e.path(), dst.join(&n)).unwrap();
        }
    }
}

#[test]
#[cfg(feature = "train")]
fn bert_hf_resolves_the_model_folder() {
    let d = fixture();
    tiny_model_copy(d.path(), "lm", &[]);
    let p = bert_plan(d.path(), "lm", json!({})).unwrap();
    let Transform::BertHf {
        model,
        infer_batch_size,
        max_seq_length,
        ..
    } = &p.nodes[0].features[0].transform
    else {
        panic!("not bert_hf");
    };
    assert_eq!((*infer_batch_size, *max_seq_length), (1024, 16));
    assert_eq!(model.weights, vec![d.path().join("lm/model.safetensors")]);
    let c = &model.config;
    assert_eq!(
        (
            c.hidden_size,
            c.num_hidden_layers,
            c.num_attention_heads,
            c.vocab_size
        ),
        (48, 2, 4, 32)
    );
    assert!(!c.roberta_positions());
    assert_eq!(c.max_seq_length(), 64);
}

#[test]
#[cfg(feature = "train")]
fn bert_hf_model_errors_name_the_key_and_the_fix() {
    let d = fixture();
    let at = "nodes[0].features[0].transform.bert_model";
    assert_err(
        config_err(bert_plan(d.path(), "nowhere/m", json!({}))),
        at,
        "does not download",
    );
    tiny_model_copy(d.path(), "noconf", &["config.json"]);
    assert_err(
        config_err(bert_plan(d.path(), "noconf", json!({}))),
        at,
        "needs the model's config.json",
    );
    tiny_model_copy(d.path(), "noweights", &["model.safetensors"]);
    assert_err(
        config_err(bert_plan(d.path(), "noweights", json!({}))),
        at,
        "no model weights",
    );
    tiny_model_copy(d.path(), "gpt", &[]);
    std::fs::write(
        d.path().join("gpt/config.json"),
        r#"{"model_type": "gpt2", "n_embd": 48}"#,
    )
    .unwrap();
    assert_err(
        config_err(bert_plan(d.path(), "gpt", json!({}))),
        at,
        "model_type \"gpt2\"; bert_hf runs BERT-family encoders",
    );
    tiny_model_copy(d.path(), "lm", &[]);
    assert_err(
        config_err(bert_plan(d.path(), "lm", json!({"max_seq_length": 65}))),
        "nodes[0].features[0].transform.max_seq_length",
        "use at most 64",
    );
    assert_err(
        config_err(bert_plan(d.path(), "lm", json!({"max_seq_length": 1}))),
        "nodes[0].features[0].transform.max_seq_length",
        "smaller than the 2 special tokens",
    );
    assert_err(
        config_err(bert_plan(d.path(), "lm", json!({"out_dtype": "int8"}))),
        "nodes[0].features[0].out_dtype",
        "use float16, float32 or float64",
    );
}

#[test]
fn tabular_is_not_supported_and_names_the_alternative() {
    let got = err_with(|c| {
        c["nodes"][0]["features"] =
            json!([{"feature_name": "tab", "transform": {"name": "tabular"}}]);
        c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "classification"}]);
    });
    assert_err(
        got.clone(),
        "nodes[0].features[0].transform.name",
        "\"tabular\" transform is not supported yet",
    );
    assert!(got.1.contains("as numeric features instead"), "{}", got.1);
}

#[test]
fn multi_column_hard_negative() {
    let got = err_with(|c| {
        c["edges"][0]["features"] = json!([{"feature_col": ["a", "b"], "feature_name": "ab",
            "transform": {"name": "edge_dst_hard_negative"}}]);
    });
    assert_err(
        got,
        "edges[0].features[0].transform.name",
        "edge_dst_hard_negative takes one column",
    );
}

#[test]
fn categorical_mapping_index_out_of_range() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "k", "transform": {"name": "to_categorical",
            "mapping": {"a": 0, "b": 2}}}),
        )),
        "nodes[0].features[0].transform.mapping",
        "maps to index 2, but the mapping has only 2 entries",
    );
}

#[test]
fn label_repeated_across_blocks_of_one_type() {
    // GraphStorm: "The node data y has exist in node type user".
    let got = err_with(|c| {
        c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "classification"}]);
        c["nodes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"node_type": "user",
            "files": "n2.csv", "format": {"name": "csv"},
            "labels": [{"label_col": "y", "task_type": "classification",
                        "mask_field_names": ["a", "b", "c"]}]}));
    });
    assert_err(
        got,
        "nodes[1].labels[0].label_col",
        "already produced by nodes[0].labels[0].label_col, another block",
    );
}

#[test]
fn multi_column_max_min_needs_values() {
    assert_err(
        err_with(feature(
            json!({"feature_col": ["a", "b"], "feature_name": "ab",
            "transform": {"name": "max_min_norm", "max_val": 1}}),
        )),
        "nodes[0].features[0].transform",
        "max_val and min_val",
    );
}

#[test]
fn multi_column_standard_needs_sum() {
    assert_err(
        err_with(feature(
            json!({"feature_col": ["a", "b"], "feature_name": "ab",
            "transform": {"name": "standard"}}),
        )),
        "nodes[0].features[0].transform",
        "explicit `sum`",
    );
}

#[test]
fn feature_name_required_for_list() {
    assert_err(
        err_with(feature(json!({"feature_col": ["a", "b"]}))),
        "nodes[0].features[0]",
        "`feature_name` is required",
    );
}

#[test]
fn unknown_out_dtype() {
    assert_err(
        err_with(feature(json!({"feature_col": "a", "out_dtype": "int32"}))),
        "nodes[0].features[0].out_dtype",
        "\"float16\", \"float32\", \"float64\", \"int8\"",
    );
}

#[test]
fn hard_negative_on_nodes() {
    assert_err(
        err_with(feature(
            json!({"feature_col": "a", "transform": {"name": "edge_dst_hard_negative"}}),
        )),
        "nodes[0].features[0].transform.name",
        "only valid on edge features",
    );
}

#[test]
fn hard_negative_with_hdf5() {
    let mut c = base();
    c["edges"][0]["format"] = json!({"name": "hdf5"});
    c["edges"][0]["features"] =
        json!([{"feature_col": "negs", "transform": {"name": "edge_dst_hard_negative"}}]);
    let d = fixture();
    let opts = LoadOptions {
        cwd: d.path().into(),
        hf_hub_cache: None,
    };
    assert_err(
        config_err(load_in(d.path(), &c, &opts)),
        "edges[0].features[0].transform.name",
        "does not work with hdf5",
    );
}

#[test]
fn tabular_without_target() {
    assert_err(
        err_with(feature(
            json!({"feature_name": "t", "transform": {"name": "tabular"}}),
        )),
        "nodes[0].features[0].transform",
        "needs `target_col`",
    );
}

#[test]
fn unknown_task_type() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "reconstruct_node_feat"}),
        )),
        "nodes[0].labels[0].task_type",
        "must be classification, regression or link_prediction",
    );
}

#[test]
fn link_prediction_on_nodes() {
    assert_err(
        err_with(label(json!({"task_type": "link_prediction"}))),
        "nodes[0].labels[0].task_type",
        "only valid on edge labels",
    );
}

#[test]
fn split_pct_not_three() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification", "split_pct": [0.8, 0.2]}),
        )),
        "nodes[0].labels[0].split_pct",
        "3 values",
    );
}

#[test]
fn split_pct_negative() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification", "split_pct": [0.8, -0.1, 0.1]}),
        )),
        "nodes[0].labels[0].split_pct",
        "non-negative",
    );
}

#[test]
fn split_pct_sum() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification", "split_pct": [0.8, 0.2, 0.1]}),
        )),
        "nodes[0].labels[0].split_pct",
        "sum to at most 1",
    );
}

#[test]
fn split_pct_sum_on_second_block() {
    let got = err_with(|c| {
        c["nodes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"node_type": "item", "files": "n2.csv",
            "format": {"name": "csv"}, "node_id_col": "id",
            "labels": [{"label_col": "y", "task_type": "regression", "split_pct": [1, 1, 0]}]}));
    });
    assert_err(got, "nodes[1].labels[0].split_pct", "sum to at most 1");
}

#[test]
fn mask_field_names_three_strings() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "mask_field_names": ["a", "b"]}),
        )),
        "nodes[0].labels[0].mask_field_names",
        "list of 3 non-empty strings",
    );
}

#[test]
fn mask_field_names_not_strings() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "mask_field_names": ["a", "b", 3]}),
        )),
        "nodes[0].labels[0].mask_field_names",
        "list of 3 non-empty strings",
    );
}

#[test]
fn label_stats_type_other() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "label_stats_type": "mean"}),
        )),
        "nodes[0].labels[0].label_stats_type",
        "only \"frequency_cnt\"",
    );
}

#[test]
fn label_col_missing() {
    assert_err(
        err_with(label(json!({"task_type": "regression"}))),
        "nodes[0].labels[0]",
        "missing required key `label_col`",
    );
}

#[test]
fn empty_labels_list() {
    assert_err(
        err_with(|c| c["nodes"][0]["labels"] = json!([])),
        "nodes[0].labels",
        "labels list is empty",
    );
}

#[test]
fn duplicate_feature_names_across_blocks() {
    let got = err_with(|c| {
        c["nodes"][0]["features"] = json!([{"feature_col": "a"}]);
        c["nodes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"node_type": "user", "files": "n2.csv",
            "format": {"name": "csv"}, "features": [{"feature_col": "a"}]}));
    });
    assert_err(
        got,
        "nodes[1].features[0].feature_col",
        "duplicate feature name `a` in node type `user`",
    );
}

#[test]
fn duplicate_feature_name_within_block() {
    assert_err(
        err_with(|c| {
            c["nodes"][0]["features"] =
                json!([{"feature_col": "a"}, {"feature_col": "b", "feature_name": "a"}])
        }),
        "nodes[0].features[1].feature_name",
        "duplicate feature name `a`",
    );
}

#[test]
fn duplicate_mask_names() {
    assert_err(
        err_with(|c| {
            c["nodes"][0]["labels"] = json!([
                {"label_col": "y", "task_type": "classification"},
                {"label_col": "z", "task_type": "regression"}
            ])
        }),
        "nodes[0].labels[1].mask_field_names",
        "duplicate mask name `train_mask`",
    );
}

#[test]
fn duplicate_edge_mask_names() {
    assert_err(
        err_with(|c| {
            c["edges"][0]["labels"] = json!([
                {"task_type": "link_prediction"},
                {"label_col": "w", "task_type": "regression"}
            ])
        }),
        "edges[0].labels[1].mask_field_names",
        "duplicate mask name",
    );
}

#[test]
fn feature_and_label_name_collide_across_blocks() {
    let got = err_with(|c| {
        c["nodes"][0]["features"] = json!([{"feature_col": "y"}]);
        c["nodes"].as_array_mut().unwrap().push(
            json!({"node_type": "user", "files": "n2.csv", "format": {"name": "csv"},
                         "labels": [{"label_col": "y", "task_type": "classification"}]}),
        );
    });
    assert_err(
        got,
        "nodes[1].labels[0].label_col",
        "already produced by nodes[0].features[0].feature_col",
    );
}

/// Within one block a label may reuse a feature's name: GraphStorm's per-block dict keeps the
/// label's array (its own end-to-end config movielens_homogeneous.json does this).
#[test]
fn label_named_like_a_feature_of_its_block_is_accepted() {
    let d = fixture();
    let mut c = base();
    c["nodes"][0]["features"] = json!([{"feature_col": "y"}]);
    c["nodes"][0]["labels"] = json!([{"label_col": "y", "task_type": "classification"}]);
    let plan = load_in(d.path(), &c, &LoadOptions::new("/")).unwrap();
    assert_eq!(plan.nodes[0].features.len(), 1);
    assert_eq!(plan.nodes[0].labels[0].column.as_deref(), Some("y"));
}

#[test]
fn two_id_blocks_for_one_node_type() {
    let got = err_with(|c| {
        c["nodes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"node_type": "user", "files": "n2.csv",
            "format": {"name": "csv"}, "node_id_col": "id"}));
    });
    assert_err(
        got,
        "nodes[1].node_id_col",
        "already has its ID column in nodes[0]",
    );
}

#[test]
fn node_type_without_id_block() {
    assert_err(
        err_with(|c| {
            c["nodes"][0].as_object_mut().unwrap().remove("node_id_col");
        }),
        "nodes[0]",
        "gives `node_id_col`",
    );
}

#[test]
fn two_id_blocks_for_one_relation() {
    let got = err_with(|c| {
        let e = c["edges"][0].clone();
        c["edges"].as_array_mut().unwrap().push(e);
    });
    assert_err(
        got,
        "edges[2].source_id_col",
        "already has its ID columns in edges[0]",
    );
}

#[test]
fn custom_split_mixed_extensions() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"train": "tr.json", "valid": "tr.parquet", "column": ["id"]}}),
        )),
        "nodes[0].labels[0].custom_split_filenames",
        "share one extension",
    );
}

#[test]
fn custom_split_bad_extension() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"train": "n.csv"}}),
        )),
        "nodes[0].labels[0].custom_split_filenames.train",
        "must end in .json",
    );
}

#[test]
fn custom_split_parquet_needs_column() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"train": "tr.parquet"}}),
        )),
        "nodes[0].labels[0].custom_split_filenames.column",
        "1 column",
    );
}

#[test]
fn custom_split_parquet_edges_need_two_columns() {
    assert_err(
        err_with(|c| {
            c["edges"][0]["labels"] = json!([{"task_type": "link_prediction",
                "custom_split_filenames": {"train": "*.parquet", "column": "src"}}])
        }),
        "edges[0].labels[0].custom_split_filenames.column",
        "2 columns [src, dst]",
    );
}

#[test]
fn custom_split_needs_some_split() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"column": ["id"]}}),
        )),
        "nodes[0].labels[0].custom_split_filenames",
        "at least one of `train`",
    );
}

#[test]
fn custom_split_missing_file() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"train": "tr.json", "test": ["te.json"]}}),
        )),
        "nodes[0].labels[0].custom_split_filenames.test[0]",
        "does not exist",
    );
}

#[test]
fn custom_split_unknown_key() {
    assert_err(
        err_with(label(
            json!({"label_col": "y", "task_type": "classification",
            "custom_split_filenames": {"train": "tr.json", "val": "va.json"}}),
        )),
        "nodes[0].labels[0].custom_split_filenames.val",
        "`train`, `valid`, `test`, `column`",
    );
}

#[test]
fn custom_split_needs_id_columns() {
    assert_err(
        err_with(|c| {
            c["nodes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"node_type": "user", "files": "n2.csv",
                "format": {"name": "csv"},
                "labels": [{"label_col": "y", "task_type": "classification",
                            "custom_split_filenames": {"train": "tr.json"}}]}));
        }),
        "nodes[1].labels[0].custom_split_filenames",
        "needs `node_id_col`",
    );
}

#[test]
fn version_must_be_string() {
    assert_err(
        err_with(|c| c["version"] = json!(1)),
        "version",
        "expected a string",
    );
}

// ----- schema and sample configs --------------------------------------------------------------

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn schema_is_json_and_mentions_every_transform() {
    let text =
        std::fs::read_to_string(crate_root().join("schemas/gconstruct.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).expect("schema is valid JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    for name in raw::TRANSFORM_NAMES {
        assert!(
            text.contains(&format!("\"{name}\"")),
            "schema lacks transform {name}"
        );
        // Every option the loader accepts for the transform appears in the schema too.
        for key in raw::transform_keys(name).unwrap() {
            assert!(
                text.contains(&format!("\"{key}\"")),
                "schema lacks option {key} of {name}"
            );
        }
    }
    for key in raw::RawNode::KEYS
        .iter()
        .chain(raw::RawEdge::KEYS)
        .chain(raw::RawLabel::KEYS)
    {
        assert!(
            text.contains(&format!("\"{key}\"")),
            "schema lacks key {key}"
        );
    }
}

/// JSON files under `dir` (recursively) that look like construction configs.
fn config_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for ent in rd.flatten() {
        let p = ent.path();
        if p.is_dir() {
            out.extend(config_files(&p));
        } else if p.extension().is_some_and(|e| e == "json") {
            let is_conf = std::fs::read_to_string(&p)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v.get("nodes").is_some() || v.get("graph").is_some());
            if is_conf {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn sample_and_fixture_configs_load() {
    let root = crate_root();
    let mut confs = config_files(&root.join("sample_data"));
    let valid = config_files(&root.join("tests/fixtures/config/valid"));
    assert!(
        !valid.is_empty(),
        "tests/fixtures/config/valid has no configs"
    );
    confs.extend(valid);
    for c in confs {
        let dir = c.parent().unwrap().to_path_buf();
        if let Err(e) = load_plan(&c, &LoadOptions::new(dir)) {
            panic!("{}: {e}", c.display());
        }
    }
}

#[test]
fn invalid_fixture_configs_fail_with_expected_path() {
    // Each file under tests/fixtures/config/invalid/ has an "expect" sibling: `<name>.expect`
    // holding "<json path>\n<phrase>".
    let dir = crate_root().join("tests/fixtures/config/invalid");
    let mut n = 0;
    for c in config_files(&dir) {
        let expect = std::fs::read_to_string(c.with_extension("expect")).unwrap();
        let mut lines = expect.lines();
        let (path, phrase) = (lines.next().unwrap(), lines.next().unwrap());
        let got = config_err(load_plan(&c, &LoadOptions::new(&dir)));
        assert_err(got, path, phrase);
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn feature_name_required_for_one_column_list_without_tokenizer() {
    // Only tokenize_hf names its own outputs; a one-column list of another transform has
    // no name to default to (GraphStorm crashes on the unhashable list).
    assert_err(
        err_with(feature(json!({"feature_col": ["a"]}))),
        "nodes[0].features[0]",
        "`feature_name` is required",
    );
}
