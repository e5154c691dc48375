//! Serde types mirroring the GraphStorm construction JSON (spec §2), one struct per JSON object.
//!
//! Every field is optional here (`Option` or `Value`): whether a key is required, and what values
//! it may take, is decided in [`super::validate`] where the JSON path is known and the message can
//! say how to fix it. Nested objects that need their own JSON path (blocks, features, labels,
//! transforms, file lists) stay `serde_json::Value` and are decoded one level at a time with
//! [`decode`], which:
//! 1. rejects a non-object,
//! 2. rejects keys not in the struct's `KEYS` list (message names the allowed keys),
//! 3. deserializes with serde; on a type error it re-decodes key by key to name the exact field.
//!
//! Each struct carries `deny_unknown_fields` as well, and a unit test checks the `KEYS` lists
//! against the structs so the two never drift apart.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A JSON object type decoded with [`decode`].
pub trait RawObject: DeserializeOwned {
    /// The keys this object accepts, in documentation order.
    const KEYS: &'static [&'static str];
    /// What the object is, for "expected an object" messages (e.g. `"a node block"`).
    const WHAT: &'static str;
}

/// Top level of a GConstruct config (`version`, `nodes`, `edges` plus the runtime keys).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub version: Option<String>,
    pub nodes: Option<Vec<Value>>,
    pub edges: Option<Vec<Value>>,
    /// Written by the tool into the runtime config; recomputed, never read.
    pub is_homogeneous: Option<bool>,
    /// Written by the tool into the runtime config; the CLI flag decides.
    pub add_reverse_edges: Option<bool>,
}
impl RawObject for RawConfig {
    const KEYS: &'static [&'static str] = &[
        "version",
        "nodes",
        "edges",
        "is_homogeneous",
        "add_reverse_edges",
    ];
    const WHAT: &'static str = "the top-level config object";
}

/// One entry of `nodes` (spec §2.2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub node_type: Option<String>,
    pub files: Option<Value>,
    pub format: Option<Value>,
    pub node_id_col: Option<String>,
    pub features: Option<Vec<Value>>,
    pub labels: Option<Vec<Value>>,
}
impl RawObject for RawNode {
    const KEYS: &'static [&'static str] = &[
        "node_type",
        "files",
        "format",
        "node_id_col",
        "features",
        "labels",
    ];
    const WHAT: &'static str = "a node block";
}

/// One entry of `edges` (spec §2.3).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEdge {
    pub relation: Option<Vec<Value>>,
    pub files: Option<Value>,
    pub format: Option<Value>,
    pub source_id_col: Option<String>,
    pub dest_id_col: Option<String>,
    pub features: Option<Vec<Value>>,
    pub labels: Option<Vec<Value>>,
}
impl RawObject for RawEdge {
    const KEYS: &'static [&'static str] = &[
        "relation",
        "files",
        "format",
        "source_id_col",
        "dest_id_col",
        "features",
        "labels",
    ];
    const WHAT: &'static str = "an edge block";
}

/// `format` of a block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormat {
    pub name: Option<String>,
    pub separator: Option<String>,
}
impl RawObject for RawFormat {
    const KEYS: &'static [&'static str] = &["name", "separator"];
    const WHAT: &'static str = "a format object like {\"name\": \"csv\", \"separator\": \",\"}";
}

/// One entry of `features` (spec §2.4). `separator`/`truncate_dim` at this level are only read
/// when there is no `transform` (GraphStorm's no-transform path).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeature {
    pub feature_col: Option<Value>,
    pub feature_name: Option<String>,
    pub out_dtype: Option<String>,
    pub transform: Option<Value>,
    pub feature_dim: Option<Value>,
    pub separator: Option<String>,
    pub truncate_dim: Option<Value>,
}
impl RawObject for RawFeature {
    const KEYS: &'static [&'static str] = &[
        "feature_col",
        "feature_name",
        "out_dtype",
        "transform",
        "feature_dim",
        "separator",
        "truncate_dim",
    ];
    const WHAT: &'static str = "a feature object";
}

/// One entry of `labels` (spec §2.6).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLabel {
    pub label_col: Option<String>,
    pub task_type: Option<String>,
    pub split_pct: Option<Vec<Value>>,
    pub custom_split_filenames: Option<Value>,
    pub label_stats_type: Option<String>,
    pub mask_field_names: Option<Value>,
}
impl RawObject for RawLabel {
    const KEYS: &'static [&'static str] = &[
        "label_col",
        "task_type",
        "split_pct",
        "custom_split_filenames",
        "label_stats_type",
        "mask_field_names",
    ];
    const WHAT: &'static str = "a label object";
}

/// `custom_split_filenames` of a label.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomSplit {
    pub train: Option<Value>,
    pub valid: Option<Value>,
    pub test: Option<Value>,
    pub column: Option<Value>,
}
impl RawObject for RawCustomSplit {
    const KEYS: &'static [&'static str] = &["train", "valid", "test", "column"];
    const WHAT: &'static str = "a custom_split_filenames object";
}

/// Every GConstruct transform name, in spec §2.5 order.
pub const TRANSFORM_NAMES: &[&str] = &[
    "no-op",
    "max_min_norm",
    "standard",
    "rank_gauss",
    "to_categorical",
    "bucket_numerical",
    "tokenize_hf",
    "bert_hf",
    "edge_dst_hard_negative",
    "tabular",
];

/// The option keys each transform accepts (including `name` and learned state written back into
/// runtime configs), spec §2.5. `None` for an unknown name.
pub fn transform_keys(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "no-op" => &["name", "separator", "truncate_dim"],
        "max_min_norm" => &["name", "max_bound", "min_bound", "max_val", "min_val"],
        "standard" => &["name", "sum"],
        "rank_gauss" => &["name", "epsilon", "uniquify"],
        "to_categorical" => &["name", "separator", "mapping"],
        "bucket_numerical" => &["name", "bucket_cnt", "range", "slide_window_size"],
        "tokenize_hf" => &["name", "bert_model", "max_seq_length"],
        "bert_hf" => &["name", "bert_model", "max_seq_length", "infer_batch_size"],
        "edge_dst_hard_negative" => &["name", "separator"],
        "tabular" => &["name", "target_col"],
        _ => return None,
    })
}

/// The union of all transform options: one struct, checked per name against [`transform_keys`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransform {
    pub name: Option<String>,
    pub separator: Option<String>,
    pub truncate_dim: Option<Value>,
    pub max_bound: Option<f64>,
    pub min_bound: Option<f64>,
    pub max_val: Option<Value>,
    pub min_val: Option<Value>,
    pub sum: Option<Value>,
    pub epsilon: Option<f64>,
    pub uniquify: Option<bool>,
    pub mapping: Option<Map<String, Value>>,
    pub bucket_cnt: Option<Value>,
    pub range: Option<Vec<f64>>,
    pub slide_window_size: Option<f64>,
    pub bert_model: Option<String>,
    pub max_seq_length: Option<Value>,
    pub infer_batch_size: Option<Value>,
    pub target_col: Option<String>,
}
impl RawObject for RawTransform {
    const KEYS: &'static [&'static str] = &[
        "name",
        "separator",
        "truncate_dim",
        "max_bound",
        "min_bound",
        "max_val",
        "min_val",
        "sum",
        "epsilon",
        "uniquify",
        "mapping",
        "bucket_cnt",
        "range",
        "slide_window_size",
        "bert_model",
        "max_seq_length",
        "infer_batch_size",
        "target_col",
    ];
    const WHAT: &'static str = "a transform object like {\"name\": \"max_min_norm\"}";
}

/// JSON path of `key` inside the object at `path` (the root object has the empty path).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Display form of a JSON path: the root object shows as `(top level)`.
pub fn shown(path: &str) -> &str {
    if path.is_empty() {
        "(top level)"
    } else {
        path
    }
}

/// Formats a list of keys as `` `a`, `b`, `c` ``.
pub fn list_keys(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// JSON type name of a value, for messages.
pub fn type_name(v: &Value) -> &'static str {
    crate::format::chunked::kind(v)
}

/// Checks that `v` is an object whose keys are all in `allowed`.
pub fn check_keys<'a>(
    v: &'a Value,
    path: &str,
    allowed: &[&str],
    what: &str,
) -> Result<&'a Map<String, Value>> {
    let obj = v.as_object().ok_or_else(|| {
        Error::config(
            shown(path),
            format!("expected {what}, found {}", type_name(v)),
        )
    })?;
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            let mut msg = format!(
                "unknown key `{key}`; allowed keys here: {}",
                list_keys(allowed)
            );
            if let Some(close) = allowed.iter().find(|a| a.eq_ignore_ascii_case(key)) {
                msg.push_str(&format!(" (did you mean `{close}`?)"));
            }
            return Err(Error::config(join(path, key), msg));
        }
    }
    Ok(obj)
}

/// Decodes the object at `path` into `T` (see the module doc for the three steps).
pub fn decode<T: RawObject>(v: &Value, path: &str) -> Result<T> {
    let obj = check_keys(v, path, T::KEYS, T::WHAT)?;
    match serde_json::from_value::<T>(v.clone()) {
        Ok(t) => Ok(t),
        Err(whole) => {
            // Find the offending key: every field is optional, so a one-key object fails only
            // when that key's value has the wrong type.
            for (key, val) in obj {
                let mut one = Map::new();
                one.insert(key.clone(), val.clone());
                if let Err(e) = serde_json::from_value::<T>(Value::Object(one)) {
                    return Err(Error::config(join(path, key), e.to_string()));
                }
            }
            Err(Error::config(shown(path), whole.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every key in `KEYS` is accepted (null = absent) and a bogus key is rejected by serde
    /// itself, so `KEYS` and the struct fields agree.
    fn keys_match_struct<T: RawObject>() {
        for k in T::KEYS {
            let v = json!({ *k: null });
            serde_json::from_value::<T>(v).unwrap_or_else(|e| panic!("{k}: {e}"));
        }
        assert!(serde_json::from_value::<T>(json!({"no_such_key": 1})).is_err());
    }

    #[test]
    fn keys_lists_match_structs() {
        keys_match_struct::<RawConfig>();
        keys_match_struct::<RawNode>();
        keys_match_struct::<RawEdge>();
        keys_match_struct::<RawFormat>();
        keys_match_struct::<RawFeature>();
        keys_match_struct::<RawLabel>();
        keys_match_struct::<RawCustomSplit>();
        keys_match_struct::<RawTransform>();
    }

    #[test]
    fn transform_keys_are_subsets_of_raw_transform() {
        for name in TRANSFORM_NAMES {
            for k in transform_keys(name).unwrap() {
                assert!(RawTransform::KEYS.contains(k), "{name}: {k}");
            }
        }
        assert!(transform_keys("noop").is_none());
    }

    #[test]
    fn unknown_key_names_path_and_allowed_keys() {
        let err = decode::<RawFormat>(&json!({"name": "csv", "sep": ","}), "nodes[0].format")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nodes[0].format.sep"), "{err}");
        assert!(err.contains("`name`, `separator`"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = decode::<RawNode>(&json!({"node_type": 3}), "nodes[2]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nodes[2].node_type"), "{err}");
        assert!(err.contains("expected a string"), "{err}");
    }

    #[test]
    fn not_an_object() {
        let err = decode::<RawLabel>(&json!([1]), "nodes[0].labels[0]")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected a label object, found a list"),
            "{err}"
        );
    }
}
