//! Validation and resolution: GConstruct-dialect JSON → [`Plan`].
//!
//! Walks the config one object at a time ([`raw::decode`]), checking every rule of spec §2 and
//! the config-level items of §3.13, and builds the typed plan: absolute sorted file lists,
//! parsed formats, transforms with defaults, label splits. Then applies the cross-block rules
//! (one ID block per type, unique output names per type, homogeneous renaming §3.2) and writes
//! the runtime fields into the raw JSON kept in [`Plan::raw`].
//!
//! Every error is an [`Error::Config`] whose path is the exact JSON path of the offending value
//! (`nodes[1].labels[0].split_pct`) and whose message says what is allowed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tensor::DType;

use super::files::{resolve_files, string_or_list, Bases};
use super::hf_model;
use super::plan::{
    CustomSplit, EdgeBlock, FeatureSpec, FileFormat, InputFiles, LabelSpec, NodeBlock, Plan, Split,
    TaskType, Transform, TOKENIZE_OUTPUTS,
};
use super::raw::{
    self, decode, list_keys, transform_keys, type_name, RawConfig, RawCustomSplit, RawEdge,
    RawFeature, RawFormat, RawLabel, RawNode, RawTransform, TRANSFORM_NAMES,
};
use super::{runtime, LoadOptions};

pub use super::runtime::RUNTIME_VERSION;
/// Node/edge type names DGL uses for homogeneous graphs.
pub const HOMOGENEOUS_NTYPE: &str = "_N";
pub const HOMOGENEOUS_ETYPE: &str = "_E";
/// Default `mask_field_names`.
pub const DEFAULT_MASK_NAMES: [&str; 3] = ["train_mask", "val_mask", "test_mask"];
/// Default `split_pct`.
pub const DEFAULT_SPLIT_PCT: [f64; 3] = [0.8, 0.1, 0.1];

/// Where local files named by transforms are looked up (the config's folder and working
/// directory, and the load options with the Hugging Face cache).
type Env<'a> = (Bases<'a>, &'a LoadOptions);

/// Node or edge block, for rules that differ between the two.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Node,
    Edge,
}

/// Resolves a GConstruct-dialect config (already converted from GSProcessing if needed).
pub(crate) fn resolve(conf: Value, base_dir: &Path, opts: &LoadOptions) -> Result<Plan> {
    let top: RawConfig = decode(&conf, "")?;
    let bases = Bases {
        config_dir: base_dir,
        cwd: &opts.cwd,
    };
    let node_vals = top.nodes.ok_or_else(|| {
        Error::config(
            "nodes",
            "missing required key `nodes`; use [] when there are no node files",
        )
    })?;
    let edge_vals = top.edges.ok_or_else(|| {
        Error::config("edges", "missing required key `edges`; give the edge files")
    })?;

    let mut nodes = Vec::with_capacity(node_vals.len());
    for (i, v) in node_vals.iter().enumerate() {
        nodes.push(resolve_node(v, i, bases, opts)?);
    }
    let mut edges = Vec::with_capacity(edge_vals.len());
    for (i, v) in edge_vals.iter().enumerate() {
        edges.push(resolve_edge(v, i, bases, opts)?);
    }

    // §3.2 homogeneous detection: one node type over node blocks and one relation.
    let ntypes: std::collections::BTreeSet<&str> =
        nodes.iter().map(|n| n.node_type.as_str()).collect();
    let rels: std::collections::BTreeSet<&[String; 3]> =
        edges.iter().map(|e| &e.relation).collect();
    let is_homogeneous = ntypes.len() == 1 && rels.len() == 1;
    if is_homogeneous {
        let rel = rels.iter().next().map(|r| (*r).clone()).unwrap_or_default();
        let nt = ntypes
            .iter()
            .next()
            .copied()
            .unwrap_or_default()
            .to_string();
        if rel[0] != nt || rel[2] != nt {
            log::warn!(
                "homogeneous graph: relation {rel:?} has an endpoint type without node files; \
                 it is merged into node type {HOMOGENEOUS_NTYPE} with {nt}"
            );
        }
        for n in &mut nodes {
            n.node_type = HOMOGENEOUS_NTYPE.into();
        }
        for e in &mut edges {
            e.relation = [
                HOMOGENEOUS_NTYPE.into(),
                HOMOGENEOUS_ETYPE.into(),
                HOMOGENEOUS_NTYPE.into(),
            ];
        }
    } else {
        for e in &edges {
            for t in [&e.relation[0], &e.relation[2]] {
                if !ntypes.contains(t.as_str()) {
                    // Not a warning: GraphStorm supports it, and construct logs the type's
                    // node count when it builds its ID map.
                    log::debug!(
                        "edges[{}]: node type `{t}` has no node block; its IDs come from the edge \
                         files (featureless node type)",
                        e.index
                    );
                }
            }
        }
    }

    check_node_types(&nodes)?;
    check_edge_types(&edges)?;

    // Runtime fields of the raw JSON.
    let node_labels: Vec<(usize, &[LabelSpec])> = nodes
        .iter()
        .map(|n| (n.index, n.labels.as_slice()))
        .collect();
    let edge_labels: Vec<(usize, &[LabelSpec])> = edges
        .iter()
        .map(|e| (e.index, e.labels.as_slice()))
        .collect();
    let conf = runtime::resolved(
        conf,
        is_homogeneous,
        is_homogeneous.then_some((
            HOMOGENEOUS_NTYPE,
            [HOMOGENEOUS_NTYPE, HOMOGENEOUS_ETYPE, HOMOGENEOUS_NTYPE],
        )),
        &node_labels,
        &edge_labels,
    );

    Ok(Plan {
        raw: conf,
        base_dir: base_dir.to_path_buf(),
        is_homogeneous,
        nodes,
        edges,
    })
}

fn nonempty_str(v: Option<String>, path: &str, what: &str) -> Result<Option<String>> {
    match v {
        Some(s) if s.is_empty() => Err(Error::config(path, format!("{what} must not be empty"))),
        other => Ok(other),
    }
}

fn resolve_node(
    v: &Value,
    index: usize,
    bases: Bases<'_>,
    opts: &LoadOptions,
) -> Result<NodeBlock> {
    let path = format!("nodes[{index}]");
    let raw: RawNode = decode(v, &path)?;
    let node_type = nonempty_str(raw.node_type, &format!("{path}.node_type"), "node_type")?
        .ok_or_else(|| Error::config(&path, "missing required key `node_type`"))?;
    let input = resolve_input(raw.format.as_ref(), raw.files.as_ref(), &path, bases)?;
    let id_col = nonempty_str(
        raw.node_id_col,
        &format!("{path}.node_id_col"),
        "node_id_col",
    )?;
    let labels = resolve_labels(
        raw.labels.as_deref(),
        &path,
        Kind::Node,
        id_col.is_some(),
        bases,
    )?;
    let features = resolve_features(
        raw.features.as_deref(),
        &path,
        Kind::Node,
        &input,
        &labels,
        (bases, opts),
    )?;
    check_hdf5(&input, &path)?;
    Ok(NodeBlock {
        index,
        node_type,
        input,
        id_col,
        features,
        labels,
    })
}

fn resolve_edge(
    v: &Value,
    index: usize,
    bases: Bases<'_>,
    opts: &LoadOptions,
) -> Result<EdgeBlock> {
    let path = format!("edges[{index}]");
    let raw: RawEdge = decode(v, &path)?;
    let rp = format!("{path}.relation");
    let rel = raw.relation.ok_or_else(|| {
        Error::config(
            &path,
            "missing required key `relation` ([src_type, rel_type, dst_type])",
        )
    })?;
    if rel.len() != 3 {
        return Err(Error::config(
            rp,
            format!(
                "relation must have exactly 3 entries [src_type, rel_type, dst_type], found {}",
                rel.len()
            ),
        ));
    }
    let mut relation: [String; 3] = Default::default();
    for (k, r) in rel.iter().enumerate() {
        relation[k] = match r {
            Value::String(s) if !s.is_empty() => s.clone(),
            other => {
                return Err(Error::config(
                    format!("{rp}[{k}]"),
                    format!("expected a non-empty type name string, found {other}"),
                ))
            }
        };
    }
    let input = resolve_input(raw.format.as_ref(), raw.files.as_ref(), &path, bases)?;
    let src = nonempty_str(
        raw.source_id_col,
        &format!("{path}.source_id_col"),
        "source_id_col",
    )?;
    let dst = nonempty_str(
        raw.dest_id_col,
        &format!("{path}.dest_id_col"),
        "dest_id_col",
    )?;
    let id_cols = match (src, dst) {
        (Some(s), Some(d)) => Some((s, d)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::config(
                &path,
                "`source_id_col` is given without `dest_id_col`; give both (an ID block) or \
                 neither (a feature/label-only block aligned by row position)",
            ))
        }
        (None, Some(_)) => {
            return Err(Error::config(
                &path,
                "`dest_id_col` is given without `source_id_col`; give both (an ID block) or \
                 neither (a feature/label-only block aligned by row position)",
            ))
        }
    };
    let labels = resolve_labels(
        raw.labels.as_deref(),
        &path,
        Kind::Edge,
        id_cols.is_some(),
        bases,
    )?;
    let features = resolve_features(
        raw.features.as_deref(),
        &path,
        Kind::Edge,
        &input,
        &labels,
        (bases, opts),
    )?;
    check_hdf5(&input, &path)?;
    Ok(EdgeBlock {
        index,
        relation,
        input,
        id_cols,
        features,
        labels,
    })
}

/// `hdf5` blocks need a build with the `hdf5` cargo feature.
fn check_hdf5(input: &InputFiles, path: &str) -> Result<()> {
    if input.format == FileFormat::Hdf5 && !cfg!(feature = "hdf5") {
        return Err(Error::config(
            format!("{path}.format.name"),
            crate::readers::HDF5_DISABLED,
        ));
    }
    Ok(())
}

const FORMAT_NAMES: [&str; 4] = ["csv", "parquet", "json", "hdf5"];

fn resolve_input(
    format: Option<&Value>,
    files: Option<&Value>,
    path: &str,
    bases: Bases<'_>,
) -> Result<InputFiles> {
    let fp = format!("{path}.format");
    let fv = format.ok_or_else(|| {
        Error::config(
            path,
            "missing required key `format` (e.g. {\"name\": \"parquet\"})",
        )
    })?;
    let f: RawFormat = decode(fv, &fp)?;
    let name = f.name.ok_or_else(|| {
        Error::config(
            &fp,
            format!(
                "missing required key `name` (one of {})",
                list_keys(&FORMAT_NAMES)
            ),
        )
    })?;
    let np = format!("{fp}.name");
    let format = match name.as_str() {
        "csv" => {
            let sep = match f.separator.as_deref() {
                None => b',',
                Some(s) if s.len() == 1 => s.as_bytes()[0],
                Some(s) => {
                    return Err(Error::config(
                        format!("{fp}.separator"),
                        format!(
                            "the CSV separator must be exactly one byte (e.g. \",\", \"|\", \
                             \"\\t\"), found {s:?}"
                        ),
                    ))
                }
            };
            FileFormat::Csv { separator: sep }
        }
        "parquet" => FileFormat::Parquet,
        "json" => {
            log::warn!("{np}: the json input format is deprecated; prefer parquet");
            FileFormat::Json
        }
        "hdf5" => FileFormat::Hdf5,
        other => {
            let lower = other.to_ascii_lowercase();
            let msg = if FORMAT_NAMES.contains(&lower.as_str()) {
                format!("format names are case-sensitive: use {lower:?} instead of {other:?}")
            } else {
                format!(
                    "unknown file format {other:?}; allowed: {}",
                    list_keys(&FORMAT_NAMES)
                )
            };
            return Err(Error::config(np, msg));
        }
    };
    if f.separator.is_some() && !matches!(format, FileFormat::Csv { .. }) {
        log::warn!("{fp}.separator: only used by the csv format; ignored for {name}");
    }
    let files_v = files.ok_or_else(|| {
        Error::config(
            path,
            "missing required key `files` (a path, a glob, or a list of them)",
        )
    })?;
    let files = resolve_files(files_v, &format!("{path}.files"), bases)?;
    Ok(InputFiles { format, files })
}

// ---------------------------------------------------------------------------------------------
// Features

fn resolve_features(
    vals: Option<&[Value]>,
    path: &str,
    kind: Kind,
    input: &InputFiles,
    labels: &[LabelSpec],
    env: Env<'_>,
) -> Result<Vec<FeatureSpec>> {
    let mut out = Vec::new();
    for (i, v) in vals.unwrap_or_default().iter().enumerate() {
        out.push(resolve_feature(
            v,
            &format!("{path}.features[{i}]"),
            kind,
            input,
            labels,
            env,
        )?);
    }
    Ok(out)
}

/// JSON integer ≥ `min` as usize.
fn as_usize(v: &Value, path: &str, what: &str, min: usize) -> Result<usize> {
    match v.as_u64() {
        Some(n) if n as usize >= min => Ok(n as usize),
        _ => Err(Error::config(
            path,
            format!("{what} must be an integer ≥ {min}, found {v}"),
        )),
    }
}

/// A number or a list of numbers (`max_val`, `min_val`, `sum`).
fn num_or_list(v: &Value, path: &str) -> Result<Vec<f64>> {
    let bad = || {
        Error::config(
            path,
            format!("expected a number or a list of numbers, found {v}"),
        )
    };
    match v {
        Value::Number(n) => Ok(vec![n.as_f64().ok_or_else(bad)?]),
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|x| x.as_f64().ok_or_else(bad)).collect()
        }
        _ => Err(bad()),
    }
}

fn unknown_transform_msg(name: &str) -> String {
    let hint = match name {
        "numerical" => " (a GSProcessing name: use max_min_norm, standard or rank_gauss)",
        "categorical" | "multi-categorical" => " (a GSProcessing name: use to_categorical)",
        "huggingface" => " (a GSProcessing name: use bert_hf or tokenize_hf)",
        "noop" | "none" | "no_op" => " (did you mean \"no-op\"?)",
        _ => "",
    };
    format!(
        "unknown transform {name:?}{hint}; known transforms: {}",
        list_keys(TRANSFORM_NAMES)
    )
}

/// What to do instead of a transform graphprep does not implement (it needs a neural model);
/// `None` for the supported ones.
fn unsupported_alternative(t: &Transform) -> Option<&'static str> {
    match t {
        #[cfg(not(feature = "train"))]
        Transform::BertHf { .. } => Some(
            "it runs the model on libtorch, and this graphprep was built without the `train` \
             feature: build with default features, or precompute the embeddings and feed them \
             as a vector column (a Parquet list column) with no transform",
        ),
        Transform::Tabular { .. } => Some(
            "it fits an AutoGluon model on every input file, which graphprep does not do; \
             use the table's columns as numeric features instead (`feature_col` listing them, \
             with no transform or max_min_norm), or precompute the embeddings and feed them as \
             a vector column (a Parquet list column) with no transform",
        ),
        _ => None,
    }
}

fn resolve_feature(
    v: &Value,
    fp: &str,
    kind: Kind,
    input: &InputFiles,
    labels: &[LabelSpec],
    env: Env<'_>,
) -> Result<FeatureSpec> {
    let raw: RawFeature = decode(v, fp)?;
    // Transform object: name first, then the options that name accepts.
    let tp = format!("{fp}.transform");
    let (tname, traw) = match &raw.transform {
        None | Some(Value::Null) => ("no-op".to_string(), None),
        Some(tv) => {
            let obj = tv.as_object().ok_or_else(|| {
                Error::config(
                    &tp,
                    format!("expected a transform object, found {}", type_name(tv)),
                )
            })?;
            let name = match obj.get("name") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => {
                    return Err(Error::config(
                        format!("{tp}.name"),
                        format!("expected a transform name string, found {other}"),
                    ))
                }
                None => {
                    return Err(Error::config(
                        &tp,
                        format!(
                            "missing `name`; known transforms: {}",
                            list_keys(TRANSFORM_NAMES)
                        ),
                    ))
                }
            };
            let keys = transform_keys(&name)
                .ok_or_else(|| Error::config(format!("{tp}.name"), unknown_transform_msg(&name)))?;
            raw::check_keys(tv, &tp, keys, "a transform object")?;
            let t: RawTransform = decode(tv, &tp)?;
            (name, Some(t))
        }
    };
    if traw.is_some() {
        for (key, present) in [
            ("separator", raw.separator.is_some()),
            ("truncate_dim", raw.truncate_dim.is_some()),
        ] {
            if present {
                return Err(Error::config(
                    format!("{fp}.{key}"),
                    format!(
                        "`{key}` on the feature itself is only read when there is no `transform`; \
                         move it into the transform object"
                    ),
                ));
            }
        }
    }

    // Columns.
    let cp = format!("{fp}.feature_col");
    let (columns, is_list) = match &raw.feature_col {
        None | Some(Value::Null) => {
            if tname != "tabular" {
                return Err(Error::config(fp, "missing required key `feature_col`"));
            }
            (Vec::new(), false)
        }
        Some(c) => {
            let cols = string_or_list(c, &cp, "a column name")?;
            if cols.is_empty() || cols.iter().any(String::is_empty) {
                return Err(Error::config(cp, "feature column should not be empty"));
            }
            (cols, matches!(c, Value::Array(_)))
        }
    };
    let name = match raw.feature_name.clone() {
        Some(n) if n.is_empty() => {
            return Err(Error::config(
                format!("{fp}.feature_name"),
                "feature_name must not be empty",
            ))
        }
        Some(n) => n,
        // tokenize_hf names its outputs itself (`input_ids`, `attention_mask`,
        // `token_type_ids`), so GraphStorm accepts a one-column list without a name.
        None if is_list && tname == "tokenize_hf" && columns.len() == 1 => columns[0].clone(),
        None if is_list => {
            return Err(Error::config(
                fp,
                "`feature_name` is required when `feature_col` is a list (the columns are \
                 concatenated into one array with that name)",
            ))
        }
        None if columns.is_empty() => {
            return Err(Error::config(
                fp,
                "`feature_name` is required when there is no `feature_col`",
            ))
        }
        None => columns[0].clone(),
    };
    let out_dtype = match &raw.out_dtype {
        None => None,
        Some(s) => Some(DType::from_out_dtype(s).ok_or_else(|| {
            Error::config(
                format!("{fp}.out_dtype"),
                format!("unknown out_dtype {s:?}; allowed: \"float16\", \"float32\", \"float64\", \"int8\""),
            )
        })?),
    };
    let feature_dim = match &raw.feature_dim {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(k, x)| {
                    as_usize(
                        x,
                        &format!("{fp}.feature_dim[{k}]"),
                        "a feature dimension",
                        0,
                    )
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(x) => Some(vec![as_usize(
            x,
            &format!("{fp}.feature_dim"),
            "feature_dim",
            0,
        )?]),
    };

    let multi = columns.len() > 1;
    if multi && tname == "tokenize_hf" {
        // Checked before the transform options, so that no tokenizer is looked up.
        return Err(Error::config(
            format!("{tp}.name"),
            "tokenize_hf does not support multiple columns in feature_col; use one feature per \
             column",
        ));
    }
    let transform = build_transform(&tname, traw, &raw, fp, &tp, kind, input, labels, env)?;
    // Multi-column rules (§2.4).
    if multi {
        let np = format!("{tp}.name");
        match &transform {
            Transform::Categorical { .. } => {
                return Err(Error::config(
                    np,
                    "to_categorical does not support multiple columns in feature_col; use one \
                     feature per column",
                ))
            }
            Transform::MaxMinNorm {
                max_val, min_val, ..
            } => {
                if max_val.is_none() || min_val.is_none() {
                    return Err(Error::config(
                        tp,
                        "max_val and min_val for max_min_norm feature transformation is needed \
                         when feature_col lists several columns",
                    ));
                }
                log::warn!("{fp}: the same max_val/min_val are applied to every column");
            }
            Transform::Standard { sum: None } => {
                return Err(Error::config(
                    tp,
                    "standard on several columns needs an explicit `sum` (per-column sums \
                     learned from data would differ)",
                ))
            }
            Transform::Bucket { .. } => {
                log::warn!("{fp}: the same range and bucket_cnt are applied to every column")
            }
            Transform::HardNegative { .. } => {
                return Err(Error::config(
                    np,
                    "edge_dst_hard_negative takes one column (a list of destination node IDs \
                     per edge); use one feature per column",
                ))
            }
            _ => {}
        }
    }
    if let Some(alternative) = unsupported_alternative(&transform) {
        return Err(Error::config(
            format!("{tp}.name"),
            format!("the \"{tname}\" transform is not supported yet by graphprep; {alternative}"),
        ));
    }
    if let (Transform::BertHf { .. }, Some(d)) = (&transform, out_dtype) {
        if !matches!(d, DType::F16 | DType::F32 | DType::F64) {
            return Err(Error::config(
                format!("{fp}.out_dtype"),
                format!(
                    "bert_hf produces float embeddings; out_dtype {} would truncate them to \
                     integers: use float16, float32 or float64",
                    d.name()
                ),
            ));
        }
    }
    if matches!(transform, Transform::Categorical { .. }) && out_dtype.is_some() {
        log::warn!("{fp}.out_dtype: to_categorical always produces int8; out_dtype is ignored");
    }
    Ok(FeatureSpec {
        json_path: fp.to_string(),
        columns,
        name,
        out_dtype,
        transform,
        feature_dim,
    })
}

#[allow(clippy::too_many_arguments)]
fn build_transform(
    tname: &str,
    t: Option<RawTransform>,
    feat: &RawFeature,
    fp: &str,
    tp: &str,
    kind: Kind,
    input: &InputFiles,
    labels: &[LabelSpec],
    (bases, opts): Env<'_>,
) -> Result<Transform> {
    let opt = |k: &str| format!("{tp}.{k}");
    let missing = |k: &str, what: &str| {
        Error::config(tp, format!("{tname} needs `{k}` ({what}); it is missing"))
    };
    let nonempty_sep = |s: &Option<String>, p: String| -> Result<Option<String>> {
        match s {
            Some(x) if x.is_empty() => Err(Error::config(p, "separator must not be empty")),
            other => Ok(other.clone()),
        }
    };
    let Some(t) = t else {
        // No transform: no-op with options read from the feature dict.
        let truncate_dim = match &feat.truncate_dim {
            None | Some(Value::Null) => None,
            Some(v) => Some(as_usize(
                v,
                &format!("{fp}.truncate_dim"),
                "truncate_dim",
                1,
            )?),
        };
        let separator = nonempty_sep(&feat.separator, format!("{fp}.separator"))?;
        return Ok(Transform::Noop {
            separator,
            truncate_dim,
        });
    };
    Ok(match tname {
        "no-op" => Transform::Noop {
            separator: nonempty_sep(&t.separator, opt("separator"))?,
            truncate_dim: match &t.truncate_dim {
                None | Some(Value::Null) => None,
                Some(v) => Some(as_usize(v, &opt("truncate_dim"), "truncate_dim", 1)?),
            },
        },
        "max_min_norm" => {
            let max_bound = t.max_bound.unwrap_or(f64::MAX);
            let min_bound = t.min_bound.unwrap_or(-f64::MAX);
            if max_bound <= min_bound {
                return Err(Error::config(
                    tp,
                    format!("max_bound ({max_bound}) must be greater than min_bound ({min_bound})"),
                ));
            }
            let max_val = t
                .max_val
                .as_ref()
                .map(|v| num_or_list(v, &opt("max_val")))
                .transpose()?;
            let min_val = t
                .min_val
                .as_ref()
                .map(|v| num_or_list(v, &opt("min_val")))
                .transpose()?;
            if let (Some(mx), Some(mn)) = (&max_val, &min_val) {
                if mx.len() != mn.len() && mx.len() != 1 && mn.len() != 1 {
                    return Err(Error::config(
                        tp,
                        format!(
                            "max_val has {} values and min_val {}; give one per column",
                            mx.len(),
                            mn.len()
                        ),
                    ));
                }
            }
            Transform::MaxMinNorm {
                max_bound,
                min_bound,
                max_val,
                min_val,
            }
        }
        "standard" => {
            let sum = t
                .sum
                .as_ref()
                .map(|v| num_or_list(v, &opt("sum")))
                .transpose()?;
            if sum.as_ref().is_some_and(|s| s.contains(&0.0)) {
                return Err(Error::config(
                    opt("sum"),
                    "sum must not contain 0 (it is a divisor)",
                ));
            }
            Transform::Standard { sum }
        }
        "rank_gauss" => {
            let epsilon = t.epsilon.unwrap_or(1e-6);
            if !(0.0..0.5).contains(&epsilon) {
                return Err(Error::config(opt("epsilon"), "epsilon must be in [0, 0.5)"));
            }
            Transform::RankGauss {
                epsilon,
                uniquify: t.uniquify.unwrap_or(false),
            }
        }
        "to_categorical" => {
            let mapping = match &t.mapping {
                None => None,
                Some(m) => {
                    let mut out = BTreeMap::new();
                    for (k, v) in m {
                        let idx =
                            as_usize(v, &format!("{}.{k}", opt("mapping")), "a category index", 0)?;
                        out.insert(k.clone(), idx);
                    }
                    if let Some((k, &i)) = out.iter().find(|(_, &i)| i >= out.len()) {
                        return Err(Error::config(
                            opt("mapping"),
                            format!(
                                "category {k:?} maps to index {i}, but the mapping has only {} \
                                 entries (indices must be 0..{})",
                                out.len(),
                                out.len()
                            ),
                        ));
                    }
                    Some(out)
                }
            };
            Transform::Categorical {
                separator: nonempty_sep(&t.separator, opt("separator"))?,
                mapping,
            }
        }
        "bucket_numerical" => {
            let cnt = t
                .bucket_cnt
                .as_ref()
                .ok_or_else(|| missing("bucket_cnt", "number of buckets"))?;
            let bucket_cnt = as_usize(cnt, &opt("bucket_cnt"), "bucket_cnt", 1)?;
            let r = t
                .range
                .as_ref()
                .ok_or_else(|| missing("range", "[low, high]"))?;
            if r.len() != 2 || r[0] == r[1] {
                return Err(Error::config(
                    opt("range"),
                    format!("range must be two different numbers [low, high], found {r:?}"),
                ));
            }
            let slide_window_size = t.slide_window_size.unwrap_or(0.0);
            if slide_window_size < 0.0 {
                return Err(Error::config(
                    opt("slide_window_size"),
                    "slide_window_size must be ≥ 0",
                ));
            }
            Transform::Bucket {
                range: [r[0], r[1]],
                bucket_cnt,
                slide_window_size,
            }
        }
        "tokenize_hf" | "bert_hf" => {
            let bert_model =
                match &t.bert_model {
                    Some(m) if !m.is_empty() => m.clone(),
                    _ => return Err(missing(
                        "bert_model",
                        "a tokenizer.json file, a folder with one, or a Hugging Face model name \
                         in the local cache",
                    )),
                };
            let msl = t
                .max_seq_length
                .as_ref()
                .ok_or_else(|| missing("max_seq_length", "an integer"))?;
            let max_seq_length = as_usize(msl, &opt("max_seq_length"), "max_seq_length", 1)?;
            let special_tokens = |added: usize| {
                if max_seq_length < added {
                    return Err(Error::config(
                        opt("max_seq_length"),
                        format!(
                            "max_seq_length {max_seq_length} is smaller than the {added} special \
                             tokens the tokenizer adds to every text; use at least {added}"
                        ),
                    ));
                }
                Ok(())
            };
            if tname == "tokenize_hf" {
                let tokenizer =
                    hf_model::resolve_tokenizer(&bert_model, &opt("bert_model"), bases, opts)?;
                special_tokens(tokenizer.special_tokens)?;
                Transform::TokenizeHf {
                    bert_model,
                    max_seq_length,
                    tokenizer,
                }
            } else {
                let infer_batch_size = match &t.infer_batch_size {
                    None => 1024,
                    Some(v) => as_usize(v, &opt("infer_batch_size"), "infer_batch_size", 1)?,
                };
                let model = hf_model::resolve_model(&bert_model, &opt("bert_model"), bases, opts)?;
                special_tokens(model.tokenizer.special_tokens)?;
                let most = model.config.max_seq_length();
                if max_seq_length > most {
                    return Err(Error::config(
                        opt("max_seq_length"),
                        format!(
                            "max_seq_length {max_seq_length} is longer than the model's position \
                             table allows ({most}, from max_position_embeddings {} in {}); use at \
                             most {most}",
                            model.config.max_position_embeddings,
                            model.config_file.display()
                        ),
                    ));
                }
                Transform::BertHf {
                    bert_model,
                    max_seq_length,
                    infer_batch_size,
                    model,
                }
            }
        }
        "edge_dst_hard_negative" => {
            if kind == Kind::Node {
                return Err(Error::config(
                    opt("name"),
                    "edge_dst_hard_negative is only valid on edge features",
                ));
            }
            if input.format == FileFormat::Hdf5 {
                return Err(Error::config(
                    opt("name"),
                    "edge_dst_hard_negative does not work with hdf5 inputs; use parquet or csv",
                ));
            }
            Transform::HardNegative {
                separator: nonempty_sep(&t.separator, opt("separator"))?,
            }
        }
        "tabular" => {
            let target_col = match &t.target_col {
                Some(c) if !c.is_empty() => c.clone(),
                _ => labels
                    .iter()
                    .find(|l| l.task == TaskType::Classification)
                    .and_then(|l| l.column.clone())
                    .ok_or_else(|| {
                        Error::config(
                            tp,
                            "tabular needs `target_col`, and this block has no classification \
                             label to take it from",
                        )
                    })?,
            };
            Transform::Tabular {
                target_col: Some(target_col),
            }
        }
        other => return Err(Error::config(opt("name"), unknown_transform_msg(other))),
    })
}

// ---------------------------------------------------------------------------------------------
// Labels

fn resolve_labels(
    vals: Option<&[Value]>,
    path: &str,
    kind: Kind,
    has_ids: bool,
    bases: Bases<'_>,
) -> Result<Vec<LabelSpec>> {
    let Some(vals) = vals else {
        return Ok(Vec::new());
    };
    if vals.is_empty() {
        return Err(Error::config(
            format!("{path}.labels"),
            "the labels list is empty; remove the key or give at least one label",
        ));
    }
    let mut out = Vec::new();
    for (i, v) in vals.iter().enumerate() {
        out.push(resolve_label(
            v,
            &format!("{path}.labels[{i}]"),
            kind,
            has_ids,
            bases,
        )?);
    }
    Ok(out)
}

fn resolve_label(
    v: &Value,
    lp: &str,
    kind: Kind,
    has_ids: bool,
    bases: Bases<'_>,
) -> Result<LabelSpec> {
    let raw: RawLabel = decode(v, lp)?;
    let tp = format!("{lp}.task_type");
    let task =
        match raw.task_type.as_deref() {
            Some("classification") => TaskType::Classification,
            Some("regression") => TaskType::Regression,
            Some("link_prediction") => TaskType::LinkPrediction,
            None => return Err(Error::config(
                lp,
                "missing required key `task_type` (classification, regression or link_prediction)",
            )),
            Some(other) => {
                return Err(Error::config(
                    tp,
                    format!(
                        "unknown task type {other:?}; the task type must be classification, \
                     regression or link_prediction"
                    ),
                ))
            }
        };
    if task == TaskType::LinkPrediction && kind == Kind::Node {
        return Err(Error::config(
            tp,
            "link_prediction is only valid on edge labels",
        ));
    }
    let column =
        match task {
            TaskType::LinkPrediction => {
                if raw.label_col.as_deref().is_some_and(|c| !c.is_empty()) {
                    log::warn!("{lp}.label_col: ignored for link_prediction");
                }
                None
            }
            _ => match raw.label_col {
                Some(c) if !c.is_empty() => Some(c),
                Some(_) => {
                    return Err(Error::config(
                        format!("{lp}.label_col"),
                        "label_col must not be empty",
                    ))
                }
                None => return Err(Error::config(
                    lp,
                    "missing required key `label_col` (required for classification and regression)",
                )),
            },
        };

    let split = match &raw.custom_split_filenames {
        Some(cs) if !cs.is_null() => {
            if raw.split_pct.is_some() {
                log::warn!("{lp}: custom_split_filenames overrides split_pct");
            }
            let csp = format!("{lp}.custom_split_filenames");
            if !has_ids {
                let need = match kind {
                    Kind::Node => "`node_id_col`",
                    Kind::Edge => "`source_id_col` and `dest_id_col`",
                };
                return Err(Error::config(
                    csp,
                    format!("a custom split matches IDs, so this block needs {need}"),
                ));
            }
            Split::Custom(resolve_custom_split(cs, &csp, kind, bases)?)
        }
        _ => {
            let pct = match &raw.split_pct {
                None => DEFAULT_SPLIT_PCT,
                Some(vals) => split_pct(vals, &format!("{lp}.split_pct"))?,
            };
            Split::Pct(pct)
        }
    };

    let frequency_stats = match (&raw.label_stats_type, task) {
        (None, _) => false,
        (Some(s), TaskType::Classification) if s == "frequency_cnt" => true,
        (Some(s), TaskType::Classification) => {
            return Err(Error::config(
                format!("{lp}.label_stats_type"),
                format!("unknown label_stats_type {s:?}; only \"frequency_cnt\" is supported"),
            ))
        }
        (Some(_), _) => {
            log::warn!("{lp}.label_stats_type: only used for classification; ignored");
            false
        }
    };

    let mp = format!("{lp}.mask_field_names");
    let mask_names = match &raw.mask_field_names {
        None | Some(Value::Null) => DEFAULT_MASK_NAMES.map(String::from),
        Some(Value::Array(items))
            if items.len() == 3
                && items
                    .iter()
                    .all(|x| x.as_str().is_some_and(|s| !s.is_empty())) =>
        {
            let s: Vec<String> = items
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect();
            [s[0].clone(), s[1].clone(), s[2].clone()]
        }
        Some(other) => {
            return Err(Error::config(
                mp,
                format!(
                    "mask_field_names must be a list of 3 non-empty strings [train, val, test], \
                     found {other}"
                ),
            ))
        }
    };
    if mask_names[0] == mask_names[1]
        || mask_names[0] == mask_names[2]
        || mask_names[1] == mask_names[2]
    {
        return Err(Error::config(mp, "the 3 mask names must be different"));
    }
    Ok(LabelSpec {
        json_path: lp.to_string(),
        column,
        task,
        split,
        frequency_stats,
        mask_names,
    })
}

fn split_pct(vals: &[Value], sp: &str) -> Result<[f64; 3]> {
    if vals.len() != 3 {
        return Err(Error::config(
            sp,
            format!(
                "split_pct must have 3 values [train, val, test], found {}",
                vals.len()
            ),
        ));
    }
    let mut pct = [0.0; 3];
    for (k, v) in vals.iter().enumerate() {
        let x = v.as_f64().ok_or_else(|| {
            Error::config(sp, format!("split_pct values must be numbers, found {v}"))
        })?;
        if !(x >= 0.0 && x.is_finite()) {
            return Err(Error::config(
                sp,
                format!("split_pct values must be non-negative, found {x} at position {k}"),
            ));
        }
        pct[k] = x;
    }
    let sum: f64 = pct.iter().sum();
    if sum > 1.0 + 1e-9 {
        return Err(Error::config(
            sp,
            format!("split_pct must sum to at most 1, found {sum}"),
        ));
    }
    Ok(pct)
}

fn resolve_custom_split(v: &Value, csp: &str, kind: Kind, bases: Bases<'_>) -> Result<CustomSplit> {
    let raw: RawCustomSplit = decode(v, csp)?;
    let mut lists: [Vec<std::path::PathBuf>; 3] = Default::default();
    for (k, (key, val)) in [
        ("train", &raw.train),
        ("valid", &raw.valid),
        ("test", &raw.test),
    ]
    .into_iter()
    .enumerate()
    {
        let p = format!("{csp}.{key}");
        lists[k] = match val {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) if a.is_empty() => Vec::new(),
            Some(Value::String(s)) if s.is_empty() => Vec::new(),
            Some(x) => resolve_files(x, &p, bases)?,
        };
    }
    if lists.iter().all(Vec::is_empty) {
        return Err(Error::config(
            csp,
            "give at least one of `train`, `valid`, `test`",
        ));
    }
    let mut ext: Option<(&'static str, String)> = None;
    for (k, key) in ["train", "valid", "test"].iter().enumerate() {
        for f in &lists[k] {
            let e = match f.extension().and_then(|e| e.to_str()) {
                Some("json") => "json",
                Some("parquet") => "parquet",
                _ => {
                    return Err(Error::config(
                        format!("{csp}.{key}"),
                        format!(
                            "custom split file {} must end in .json (one ID per line) or .parquet",
                            f.display()
                        ),
                    ))
                }
            };
            match &ext {
                None => ext = Some((e, key.to_string())),
                Some((prev, pk)) if *prev != e => {
                    return Err(Error::config(
                        csp,
                        format!(
                            "all custom split files must share one extension: `{pk}` has .{prev} \
                             files, `{key}` has .{e}"
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    let column = match &raw.column {
        None | Some(Value::Null) => Vec::new(),
        Some(c) => string_or_list(c, &format!("{csp}.column"), "a column name")?,
    };
    if ext.as_ref().is_some_and(|(e, _)| *e == "parquet") {
        let need = if kind == Kind::Node { 1 } else { 2 };
        if column.len() != need {
            let what = if kind == Kind::Node {
                "1 column (the node ID column of the split files)"
            } else {
                "2 columns [src, dst]"
            };
            return Err(Error::config(
                format!("{csp}.column"),
                format!(
                    "parquet split files need `column` with {what}, found {}",
                    column.len()
                ),
            ));
        }
    }
    let [train, valid, test] = lists;
    Ok(CustomSplit {
        train,
        valid,
        test,
        column,
    })
}

// ---------------------------------------------------------------------------------------------
// Cross-block rules

#[derive(Clone, Copy, PartialEq, Eq)]
enum DataKind {
    Feature,
    Label(TaskType),
    Mask,
}

/// Output names of one node or edge type, with the JSON path and block index that produced
/// each.
#[derive(Default)]
struct Names(HashMap<String, (String, DataKind, usize)>);

impl Names {
    /// Registers `name`, produced at `path` by block `block`. GraphStorm keeps one dict of
    /// arrays per block and rejects a name that an earlier block of the type already produced
    /// ("The node data X has exist in node type Y"), so a label column may be shared by two
    /// labels of one block with the same task (one array) but not across blocks.
    fn add(
        &mut self,
        name: &str,
        path: &str,
        kind: DataKind,
        block: usize,
        tdesc: &str,
    ) -> Result<()> {
        if let Some((prev, pkind, pblock)) = self.0.get(name) {
            let msg = match (kind, *pkind) {
                (DataKind::Label(a), DataKind::Label(b)) if a == b && block == *pblock => {
                    return Ok(())
                }
                // GraphStorm keeps one dict of arrays per block and stores labels after
                // features, so a label named like a feature of its own block replaces it
                // (GraphStorm's end-to-end config movielens_homogeneous.json: feature `rate`
                // and label `rate`, one int32 array). Kept, with a warning.
                (DataKind::Label(_), DataKind::Feature) if block == *pblock => {
                    log::warn!(
                        "{path}: label `{name}` replaces the feature of the same name ({prev}) \
                         in {tdesc}, as in GraphStorm (one array, the label's); give the \
                         feature a feature_name to keep both"
                    );
                    return Ok(());
                }
                (DataKind::Label(_), DataKind::Label(_)) if block != *pblock => format!(
                    "label `{name}` of {tdesc} is already produced by {prev}, another block of \
                     the type; data names (features, labels, masks) must be unique per type \
                     across blocks: give the label only once"
                ),
                (DataKind::Feature, DataKind::Feature) => format!(
                    "duplicate feature name `{name}` in {tdesc}: {prev} already produces it; \
                     give one a different feature_name"
                ),
                (DataKind::Mask, DataKind::Mask) => format!(
                    "duplicate mask name `{name}` in {tdesc}: {prev} already uses it; give each \
                     label its own mask_field_names"
                ),
                _ => format!(
                    "name `{name}` in {tdesc} is already produced by {prev}; node/edge data names \
                     (features, labels, masks) must be unique per type"
                ),
            };
            return Err(Error::config(path, msg));
        }
        self.0
            .insert(name.to_string(), (path.to_string(), kind, block));
        Ok(())
    }

    fn add_block(
        &mut self,
        block: usize,
        features: &[FeatureSpec],
        labels: &[LabelSpec],
        tdesc: &str,
    ) -> Result<()> {
        for f in features {
            let p = if f.columns.len() == 1 && f.name == f.columns[0] {
                format!("{}.feature_col", f.json_path)
            } else {
                format!("{}.feature_name", f.json_path)
            };
            if let Transform::TokenizeHf { .. } = f.transform {
                for n in TOKENIZE_OUTPUTS {
                    self.add(n, &f.json_path, DataKind::Feature, block, tdesc)?;
                }
            } else {
                self.add(&f.name, &p, DataKind::Feature, block, tdesc)?;
            }
        }
        for l in labels {
            if let Some(c) = &l.column {
                self.add(
                    c,
                    &format!("{}.label_col", l.json_path),
                    DataKind::Label(l.task),
                    block,
                    tdesc,
                )?;
            }
            let no_masks = matches!(l.split, Split::Pct(p) if p == [0.0; 3]);
            if !no_masks {
                for m in &l.mask_names {
                    self.add(
                        m,
                        &format!("{}.mask_field_names", l.json_path),
                        DataKind::Mask,
                        block,
                        tdesc,
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn check_node_types(nodes: &[NodeBlock]) -> Result<()> {
    let mut id_block: HashMap<&str, usize> = HashMap::new();
    let mut names: HashMap<&str, Names> = HashMap::new();
    for n in nodes {
        let tdesc = format!("node type `{}`", n.node_type);
        if n.id_col.is_some() {
            if let Some(prev) = id_block.insert(&n.node_type, n.index) {
                return Err(Error::config(
                    format!("nodes[{}].node_id_col", n.index),
                    format!(
                        "{tdesc} already has its ID column in nodes[{prev}]; only one block per \
                         node type may give node_id_col (the others are aligned by row position)"
                    ),
                ));
            }
        }
        names.entry(&n.node_type).or_default().add_block(
            n.index,
            &n.features,
            &n.labels,
            &tdesc,
        )?;
    }
    for n in nodes {
        if !id_block.contains_key(n.node_type.as_str()) {
            return Err(Error::config(
                format!("nodes[{}]", n.index),
                format!(
                    "no block of node type `{}` gives `node_id_col`; exactly one block per node \
                     type must provide the node IDs",
                    n.node_type
                ),
            ));
        }
    }
    Ok(())
}

fn check_edge_types(edges: &[EdgeBlock]) -> Result<()> {
    let mut id_block: HashMap<&[String; 3], usize> = HashMap::new();
    let mut names: HashMap<&[String; 3], Names> = HashMap::new();
    for e in edges {
        let tdesc = format!("edge type {:?}", e.relation);
        if e.id_cols.is_some() {
            if let Some(prev) = id_block.insert(&e.relation, e.index) {
                return Err(Error::config(
                    format!("edges[{}].source_id_col", e.index),
                    format!(
                        "{tdesc} already has its ID columns in edges[{prev}]; only one block per \
                         relation may give source_id_col/dest_id_col (the others are aligned by \
                         row position)"
                    ),
                ));
            }
        }
        names
            .entry(&e.relation)
            .or_default()
            .add_block(e.index, &e.features, &e.labels, &tdesc)?;
    }
    for e in edges {
        if !id_block.contains_key(&e.relation) {
            return Err(Error::config(
                format!("edges[{}]", e.index),
                format!(
                    "no block of edge type {:?} gives source_id_col and dest_id_col; exactly one \
                     block per relation must provide the edges",
                    e.relation
                ),
            ));
        }
    }
    Ok(())
}
