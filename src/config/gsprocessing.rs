//! GSProcessing config → GConstruct config conversion (spec §2.8).
//!
//! A config whose `version` starts with `gsprocessing` describes the graph under `graph` with
//! GSProcessing's vocabulary (`type`, `column`, `data`, `transformation` + `kwargs`, ...). This
//! module rewrites it into the GConstruct dialect, key by key, as GraphStorm's
//! `GSProcessingConfigConverter` does, so the rest of the loader validates one dialect only.
//! Errors name the GSProcessing JSON path (`graph.nodes[0].features[1].transformation.name`).
//!
//! Deliberate differences from the Python converter: the CSV `data.separator` is carried over
//! into `format.separator` (Python drops it, so non-comma CSVs would be misread); a numerical
//! `kwargs.out_dtype` is put on the feature dict (where GConstruct reads it) instead of inside
//! the transform; a feature-level `data` (separate feature files) is rejected instead of being
//! silently read from the block's files; the stray `"source": {}` key is not emitted.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

use super::raw::{check_keys, list_keys, type_name};

/// Converts the `graph` object of a GSProcessing config (at JSON path `path`) into a GConstruct
/// top-level object `{"version": "gconstruct-v0.1", "nodes": [...], "edges": [...]}`.
pub fn convert(graph: &Value, path: &str) -> Result<Value> {
    let obj = check_keys(
        graph,
        path,
        &["nodes", "edges"],
        "the GSProcessing graph object",
    )?;
    let mut nodes = Vec::new();
    if let Some(v) = obj.get("nodes") {
        for (i, n) in array(v, &format!("{path}.nodes"))?.iter().enumerate() {
            nodes.push(convert_node(n, &format!("{path}.nodes[{i}]"))?);
        }
    }
    let mut edges = Vec::new();
    if let Some(v) = obj.get("edges") {
        for (i, e) in array(v, &format!("{path}.edges"))?.iter().enumerate() {
            edges.push(convert_edge(e, &format!("{path}.edges[{i}]"))?);
        }
    }
    Ok(json!({"version": "gconstruct-v0.1", "nodes": nodes, "edges": edges}))
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| Error::config(path, format!("expected a list, found {}", type_name(v))))
}

fn req<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value> {
    obj.get(key)
        .ok_or_else(|| Error::config(path, format!("missing required key `{key}`")))
}

fn req_str(obj: &Map<String, Value>, key: &str, path: &str) -> Result<String> {
    let v = req(obj, key, path)?;
    v.as_str().map(str::to_string).ok_or_else(|| {
        Error::config(
            format!("{path}.{key}"),
            format!("expected a string, found {}", type_name(v)),
        )
    })
}

/// `data` → (`format` object, `files` list).
fn convert_data(v: &Value, path: &str) -> Result<(Value, Value)> {
    let d = check_keys(
        v,
        path,
        &["format", "files", "separator"],
        "a GSProcessing data object",
    )?;
    let fmt = req_str(d, "format", path)?;
    let mut format = Map::new();
    format.insert("name".into(), Value::String(fmt));
    if let Some(sep) = d.get("separator") {
        format.insert("separator".into(), sep.clone());
    }
    let files = match req(d, "files", path)? {
        Value::String(s) => json!([s]),
        other => other.clone(),
    };
    Ok((Value::Object(format), files))
}

fn convert_node(v: &Value, path: &str) -> Result<Value> {
    let n = check_keys(
        v,
        path,
        &["type", "column", "data", "features", "labels"],
        "a GSProcessing node object",
    )?;
    let node_type = req_str(n, "type", path)?;
    let column = req_str(n, "column", path)?;
    let (format, files) = convert_data(req(n, "data", path)?, &format!("{path}.data"))?;
    let mut out = Map::new();
    out.insert("format".into(), format);
    out.insert("files".into(), files);
    out.insert("node_type".into(), Value::String(node_type));
    out.insert("node_id_col".into(), Value::String(column));
    convert_data_lists(n, path, &mut out)?;
    Ok(Value::Object(out))
}

fn typed_ref(v: &Value, path: &str, keys: &[&str]) -> Result<Map<String, Value>> {
    Ok(check_keys(v, path, keys, "a GSProcessing object")?.clone())
}

fn convert_edge(v: &Value, path: &str) -> Result<Value> {
    let e = check_keys(
        v,
        path,
        &["source", "dest", "relation", "data", "features", "labels"],
        "a GSProcessing edge object",
    )?;
    let sp = format!("{path}.source");
    let dp = format!("{path}.dest");
    let rp = format!("{path}.relation");
    let src = typed_ref(req(e, "source", path)?, &sp, &["column", "type"])?;
    let dst = typed_ref(req(e, "dest", path)?, &dp, &["column", "type"])?;
    let rel = typed_ref(req(e, "relation", path)?, &rp, &["type"])?;
    let (format, files) = convert_data(req(e, "data", path)?, &format!("{path}.data"))?;
    let mut out = Map::new();
    out.insert("format".into(), format);
    out.insert("files".into(), files);
    out.insert(
        "source_id_col".into(),
        Value::String(req_str(&src, "column", &sp)?),
    );
    out.insert(
        "dest_id_col".into(),
        Value::String(req_str(&dst, "column", &dp)?),
    );
    out.insert(
        "relation".into(),
        json!([
            req_str(&src, "type", &sp)?,
            req_str(&rel, "type", &rp)?,
            req_str(&dst, "type", &dp)?
        ]),
    );
    convert_data_lists(e, path, &mut out)?;
    Ok(Value::Object(out))
}

/// `features` and `labels` of a node or edge object.
fn convert_data_lists(
    obj: &Map<String, Value>,
    path: &str,
    out: &mut Map<String, Value>,
) -> Result<()> {
    let empty = |items: &[Value]| {
        items.is_empty() || (items.len() == 1 && items[0].as_object().is_some_and(|o| o.is_empty()))
    };
    if let Some(v) = obj.get("features") {
        let fp = format!("{path}.features");
        let items = array(v, &fp)?;
        let mut feats = Vec::new();
        if !empty(items) {
            for (i, f) in items.iter().enumerate() {
                feats.push(convert_feature(f, &format!("{fp}[{i}]"))?);
            }
        }
        out.insert("features".into(), Value::Array(feats));
    }
    if let Some(v) = obj.get("labels") {
        let lp = format!("{path}.labels");
        let items = array(v, &lp)?;
        let mut labels = Vec::new();
        if !empty(items) {
            for (i, l) in items.iter().enumerate() {
                labels.push(convert_label(l, &format!("{lp}[{i}]"))?);
            }
        }
        // GraphStorm rejects an empty labels list, but the converter maps `[]`/`[{}]` to it;
        // drop the key instead so "no labels" stays valid.
        if !labels.is_empty() {
            out.insert("labels".into(), Value::Array(labels));
        }
    }
    Ok(())
}

fn kwarg<'a>(kwargs: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value> {
    kwargs.get(key).ok_or_else(|| {
        Error::config(
            format!("{path}.kwargs"),
            format!("missing required key `{key}`"),
        )
    })
}

fn convert_feature(v: &Value, path: &str) -> Result<Value> {
    let f = check_keys(
        v,
        path,
        &["column", "name", "transformation", "data"],
        "a GSProcessing feature object",
    )?;
    if f.contains_key("data") {
        return Err(Error::config(
            format!("{path}.data"),
            "features read from their own files are not supported by the GSProcessing \
             converter; put the column in the block's files",
        ));
    }
    let mut out = Map::new();
    out.insert("feature_col".into(), req(f, "column", path)?.clone());
    if let Some(name) = f.get("name") {
        out.insert("feature_name".into(), name.clone());
    }
    let mut t = Map::new();
    match f.get("transformation") {
        None => {
            t.insert("name".into(), json!("no-op"));
        }
        Some(tv) => {
            let tp = format!("{path}.transformation");
            let tobj = check_keys(
                tv,
                &tp,
                &["name", "kwargs"],
                "a GSProcessing transformation",
            )?;
            let name = req_str(tobj, "name", &tp)?;
            let empty = Map::new();
            let kwargs = match tobj.get("kwargs") {
                None => &empty,
                Some(k) => k.as_object().ok_or_else(|| {
                    Error::config(
                        format!("{tp}.kwargs"),
                        format!("expected an object, found {}", type_name(k)),
                    )
                })?,
            };
            convert_transformation(&name, kwargs, &tp, &mut t, &mut out)?;
        }
    }
    out.insert("transform".into(), Value::Object(t));
    Ok(Value::Object(out))
}

const GSP_TRANSFORMATIONS: &[&str] = &[
    "numerical",
    "bucket-numerical",
    "categorical",
    "multi-categorical",
    "huggingface",
    "edge_dst_hard_negative",
    "no-op",
];

fn convert_transformation(
    name: &str,
    kwargs: &Map<String, Value>,
    tp: &str,
    t: &mut Map<String, Value>,
    feat: &mut Map<String, Value>,
) -> Result<()> {
    let copy = |t: &mut Map<String, Value>, from: &str, to: &str| {
        if let Some(v) = kwargs.get(from) {
            t.insert(to.into(), v.clone());
        }
    };
    match name {
        "numerical" => {
            let norm = kwarg(kwargs, "normalizer", tp)?;
            let gc = match norm.as_str() {
                Some("min-max") => "max_min_norm",
                Some("standard") => "standard",
                Some("rank-gauss") => "rank_gauss",
                _ => {
                    return Err(Error::config(
                        format!("{tp}.kwargs.normalizer"),
                        format!(
                            "unexpected numerical normalizer {norm}; GConstruct supports \
                             \"min-max\", \"standard\" and \"rank-gauss\""
                        ),
                    ))
                }
            };
            t.insert("name".into(), json!(gc));
            if gc == "rank_gauss" && kwargs.get("epsilon").is_some_and(|e| !e.is_null()) {
                copy(t, "epsilon", "epsilon");
            }
            if let Some(d) = kwargs.get("out_dtype") {
                feat.insert("out_dtype".into(), d.clone());
            }
        }
        // GSProcessing's parser spells it `bucket-numerical`; `bucket_numerical` (the
        // GConstruct name) is accepted too.
        "bucket-numerical" | "bucket_numerical" => {
            t.insert("name".into(), json!("bucket_numerical"));
            t.insert(
                "bucket_cnt".into(),
                kwarg(kwargs, "bucket_cnt", tp)?.clone(),
            );
            t.insert("range".into(), kwarg(kwargs, "range", tp)?.clone());
            copy(t, "slide_window_size", "slide_window_size");
        }
        "categorical" => {
            t.insert("name".into(), json!("to_categorical"));
        }
        "multi-categorical" => {
            t.insert("name".into(), json!("to_categorical"));
            t.insert("separator".into(), kwarg(kwargs, "separator", tp)?.clone());
        }
        "huggingface" => {
            let action = kwarg(kwargs, "action", tp)?;
            let gc = match action.as_str() {
                Some("embedding_hf") => "bert_hf",
                Some("tokenize_hf") => "tokenize_hf",
                _ => {
                    return Err(Error::config(
                        format!("{tp}.kwargs.action"),
                        format!(
                            "unexpected huggingface action {action}; expected \"embedding_hf\" \
                             or \"tokenize_hf\""
                        ),
                    ))
                }
            };
            t.insert("name".into(), json!(gc));
            t.insert("bert_model".into(), kwarg(kwargs, "hf_model", tp)?.clone());
            t.insert(
                "max_seq_length".into(),
                kwarg(kwargs, "max_seq_length", tp)?.clone(),
            );
        }
        "edge_dst_hard_negative" => {
            t.insert("name".into(), json!("edge_dst_hard_negative"));
            copy(t, "separator", "separator");
        }
        "no-op" => {
            t.insert("name".into(), json!("no-op"));
            copy(t, "truncate_dim", "truncate_dim");
            copy(t, "separator", "separator");
        }
        other => {
            return Err(Error::config(
                format!("{tp}.name"),
                format!(
                    "unsupported GSProcessing transformation {other:?}; supported: {}",
                    list_keys(GSP_TRANSFORMATIONS)
                ),
            ))
        }
    }
    Ok(())
}

fn convert_label(v: &Value, path: &str) -> Result<Value> {
    let l = check_keys(
        v,
        path,
        &[
            "column",
            "type",
            "split_rate",
            "custom_split_filenames",
            "separator",
            "mask_field_names",
        ],
        "a GSProcessing label object",
    )?;
    let mut out = Map::new();
    out.insert("label_col".into(), req(l, "column", path)?.clone());
    out.insert("task_type".into(), req(l, "type", path)?.clone());
    if let Some(cs) = l.get("custom_split_filenames") {
        let cp = format!("{path}.custom_split_filenames");
        let c = check_keys(
            cs,
            &cp,
            &["train", "valid", "test", "column"],
            "a custom_split_filenames object",
        )?;
        if !["train", "valid", "test"]
            .iter()
            .any(|k| c.contains_key(*k))
        {
            return Err(Error::config(
                cp,
                "at least one of `train`, `valid`, `test` is needed in a custom split",
            ));
        }
        let mut split = Map::new();
        for key in ["train", "valid", "test", "column"] {
            let val = match c.get(key) {
                None | Some(Value::Null) => json!([]),
                Some(Value::String(s)) if s.is_empty() => json!([]),
                Some(Value::String(s)) => json!([s]),
                Some(Value::Array(a)) => Value::Array(a.clone()),
                Some(other) => {
                    return Err(Error::config(
                        format!("{cp}.{key}"),
                        format!(
                            "expected a string or a list of strings, found {}",
                            type_name(other)
                        ),
                    ))
                }
            };
            split.insert(key.into(), val);
        }
        if split["column"].as_array().map_or(0, Vec::len) > 2 {
            return Err(Error::config(
                format!("{cp}.column"),
                "give one column for node labels, two ([src, dst]) for edge labels",
            ));
        }
        out.insert("custom_split_filenames".into(), Value::Object(split));
    } else if let Some(sr) = l.get("split_rate") {
        let sp = format!("{path}.split_rate");
        let s = check_keys(sr, &sp, &["train", "val", "test"], "a split_rate object")?;
        let mut pct = Vec::new();
        for key in ["train", "val", "test"] {
            let x = req(s, key, &sp)?;
            let f = x.as_f64().ok_or_else(|| {
                Error::config(
                    format!("{sp}.{key}"),
                    format!("expected a number, found {x}"),
                )
            })?;
            pct.push(f);
        }
        let sum: f64 = pct.iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(Error::config(
                sp,
                format!("the split rates must sum to 1.0, got {sum} ({pct:?})"),
            ));
        }
        out.insert("split_pct".into(), json!(pct));
    }
    if l.contains_key("separator") {
        log::warn!("{path}.separator: label separators have no GConstruct equivalent; ignored");
    }
    if let Some(m) = l.get("mask_field_names") {
        out.insert("mask_field_names".into(), m.clone());
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: Value) -> String {
        convert(&v, "graph").unwrap_err().to_string()
    }

    #[test]
    fn converts_nodes_edges_features_labels() {
        let g = json!({
            "nodes": [{
                "type": "user", "column": "~id",
                "data": {"format": "csv", "files": "nodes/user.csv", "separator": "|"},
                "features": [
                    {"column": "age", "transformation": {"name": "numerical",
                        "kwargs": {"normalizer": "min-max", "imputer": "mean", "out_dtype": "float16"}}},
                    {"column": "score", "transformation": {"name": "numerical",
                        "kwargs": {"normalizer": "rank-gauss", "epsilon": 0.001}}},
                    {"column": "b", "transformation": {"name": "bucket_numerical",
                        "kwargs": {"bucket_cnt": 3, "range": [0, 9], "slide_window_size": 1}}},
                    {"column": "occ", "name": "occupation",
                        "transformation": {"name": "categorical", "kwargs": {}}},
                    {"column": "multi", "transformation": {"name": "multi-categorical",
                        "kwargs": {"separator": "|"}}},
                    {"column": "txt", "transformation": {"name": "huggingface",
                        "kwargs": {"action": "embedding_hf", "hf_model": "bert-base-uncased",
                                   "max_seq_length": 16}}},
                    {"column": "txt", "name": "tok", "transformation": {"name": "huggingface",
                        "kwargs": {"action": "tokenize_hf", "hf_model": "bert-base-uncased",
                                   "max_seq_length": 16}}},
                    {"column": "vec", "transformation": {"name": "no-op",
                        "kwargs": {"truncate_dim": 4, "separator": ";"}}},
                    {"column": "plain"}
                ],
                "labels": [{"column": "y", "type": "classification",
                    "split_rate": {"train": 0.8, "val": 0.1, "test": 0.1},
                    "mask_field_names": ["a", "b", "c"]}]
            }],
            "edges": [{
                "source": {"column": "~from", "type": "user"},
                "dest": {"column": "~to", "type": "movie"},
                "relation": {"type": "rated"},
                "data": {"format": "parquet", "files": ["e/*.parquet"]},
                "features": [{"column": "negs", "transformation":
                    {"name": "edge_dst_hard_negative", "kwargs": {"separator": ";"}}}],
                "labels": [{"column": "", "type": "link_prediction",
                    "custom_split_filenames": {"train": "t.json", "column": ["s", "d"]}}]
            }]
        });
        let out = convert(&g, "graph").unwrap();
        let n = &out["nodes"][0];
        assert_eq!(n["node_type"], "user");
        assert_eq!(n["node_id_col"], "~id");
        assert_eq!(n["format"], json!({"name": "csv", "separator": "|"}));
        assert_eq!(n["files"], json!(["nodes/user.csv"]));
        let f = &n["features"];
        assert_eq!(f[0]["transform"], json!({"name": "max_min_norm"}));
        assert_eq!(f[0]["out_dtype"], "float16");
        assert_eq!(
            f[1]["transform"],
            json!({"name": "rank_gauss", "epsilon": 0.001})
        );
        assert_eq!(
            f[2]["transform"],
            json!({"name": "bucket_numerical", "bucket_cnt": 3, "range": [0, 9], "slide_window_size": 1})
        );
        assert_eq!(f[3]["feature_name"], "occupation");
        assert_eq!(f[3]["transform"], json!({"name": "to_categorical"}));
        assert_eq!(
            f[4]["transform"],
            json!({"name": "to_categorical", "separator": "|"})
        );
        assert_eq!(
            f[5]["transform"],
            json!({"name": "bert_hf", "bert_model": "bert-base-uncased", "max_seq_length": 16})
        );
        assert_eq!(f[6]["transform"]["name"], "tokenize_hf");
        assert_eq!(
            f[7]["transform"],
            json!({"name": "no-op", "truncate_dim": 4, "separator": ";"})
        );
        assert_eq!(f[8]["transform"], json!({"name": "no-op"}));
        assert_eq!(
            n["labels"][0],
            json!({"label_col": "y", "task_type": "classification", "split_pct": [0.8, 0.1, 0.1],
                   "mask_field_names": ["a", "b", "c"]})
        );
        let e = &out["edges"][0];
        assert_eq!(e["relation"], json!(["user", "rated", "movie"]));
        assert_eq!(e["source_id_col"], "~from");
        assert_eq!(e["dest_id_col"], "~to");
        assert_eq!(
            e["features"][0]["transform"],
            json!({"name": "edge_dst_hard_negative", "separator": ";"})
        );
        assert_eq!(
            e["labels"][0]["custom_split_filenames"],
            json!({"train": ["t.json"], "valid": [], "test": [], "column": ["s", "d"]})
        );
    }

    fn node_with_feature(t: Value) -> Value {
        json!({"nodes": [{"type": "n", "column": "id", "data": {"format": "csv", "files": "a"},
               "features": [{"column": "x", "transformation": t}]}]})
    }

    #[test]
    fn unknown_normalizer() {
        let e = err(node_with_feature(
            json!({"name": "numerical", "kwargs": {"normalizer": "none"}}),
        ));
        assert!(
            e.contains("graph.nodes[0].features[0].transformation.kwargs.normalizer"),
            "{e}"
        );
        assert!(e.contains("\"min-max\""), "{e}");
    }

    #[test]
    fn unknown_transformation() {
        let e = err(node_with_feature(json!({"name": "fancy"})));
        assert!(
            e.contains("graph.nodes[0].features[0].transformation.name"),
            "{e}"
        );
        assert!(
            e.contains("unsupported GSProcessing transformation \"fancy\""),
            "{e}"
        );
    }

    #[test]
    fn unknown_hf_action() {
        let e = err(node_with_feature(
            json!({"name": "huggingface", "kwargs": {"action": "x", "hf_model": "m", "max_seq_length": 3}}),
        ));
        assert!(
            e.contains("transformation.kwargs.action") && e.contains("embedding_hf"),
            "{e}"
        );
    }

    #[test]
    fn bucket_needs_cnt() {
        let e = err(node_with_feature(
            json!({"name": "bucket_numerical", "kwargs": {"range": [0, 1]}}),
        ));
        assert!(
            e.contains("transformation.kwargs") && e.contains("`bucket_cnt`"),
            "{e}"
        );
    }

    #[test]
    fn split_rate_must_sum_to_one() {
        let e = err(json!({"nodes": [{"type": "n", "column": "id",
            "data": {"format": "csv", "files": "a"},
            "labels": [{"column": "y", "type": "classification",
                        "split_rate": {"train": 0.5, "val": 0.1, "test": 0.1}}]}]}));
        assert!(
            e.contains("graph.nodes[0].labels[0].split_rate") && e.contains("sum to 1.0"),
            "{e}"
        );
    }

    #[test]
    fn custom_split_needs_a_split() {
        let e = err(json!({"nodes": [{"type": "n", "column": "id",
            "data": {"format": "csv", "files": "a"},
            "labels": [{"column": "y", "type": "classification",
                        "custom_split_filenames": {"column": ["id"]}}]}]}));
        assert!(
            e.contains("custom_split_filenames") && e.contains("at least one"),
            "{e}"
        );
    }

    #[test]
    fn missing_keys_and_unknown_keys() {
        let e = err(json!({"nodes": [{"type": "n", "data": {"format": "csv", "files": "a"}}]}));
        assert!(
            e.contains("graph.nodes[0]") && e.contains("`column`"),
            "{e}"
        );
        let e = err(json!({"edges": [{"source": {"column": "a", "type": "n", "x": 1}}]}));
        assert!(e.contains("graph.edges[0].source.x"), "{e}");
    }

    #[test]
    fn empty_feature_and_label_lists() {
        let out = convert(
            &json!({"nodes": [{"type": "n", "column": "id", "data": {"format": "csv", "files": "a"},
                   "features": [{}], "labels": [{}]}]}),
            "graph",
        )
        .unwrap();
        assert_eq!(out["nodes"][0]["features"], json!([]));
        assert!(out["nodes"][0].get("labels").is_none());
    }
}
