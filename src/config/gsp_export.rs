//! GConstruct config → GSProcessing config (the direction [`super::gsprocessing`] does not do),
//! and the report of what GSProcessing does with each key of a GConstruct config.
//!
//! GraphStorm's Spark-based processing (GSProcessing 0.5.1) accepts a GConstruct config by
//! running it through its own converter (`GConstructConfigConverter` in
//! `graphstorm-processing/graphstorm_processing/config/config_conversion/gconstruct_converter.py`,
//! output assembled by `converter_base.py`) and then parsing the result
//! (`config/config_parser.py`, `data_config_base.py`, `feature_config_base.py`,
//! `numerical_configs.py`, `hf_configs.py`, `label_config_base.py`). Not every key survives.
//! [`export`] walks the raw JSON (so it sees every key, including the ones graphprep's own
//! loader ignores or rejects), builds the config GSProcessing's converter builds, and records a
//! [`Finding`] with the JSON path of every key that is
//! - [`Severity::Rejected`]: GSProcessing's converter or parser fails on it (unsupported file
//!   format or transform, `?` wildcards, a split that does not sum to exactly 1.0, ...). The
//!   config cannot be converted.
//! - [`Severity::Filled`]: GSProcessing's converter leaves it out and its own parser then
//!   fails (a CSV block without `format.separator`, `bucket_numerical` without
//!   `slide_window_size`, a config without `nodes`); the converted config spells out
//!   GConstruct's default, so GSProcessing must be given the converted config, not the
//!   GConstruct one.
//! - [`Severity::Dropped`]: silently ignored (clipping bounds, learned state, label statistics,
//!   the second and later columns of a `feature_col` list, unknown keys, ...).
//! - [`Severity::Different`]: converted, but GSProcessing computes something else (numerical
//!   transforms impute missing values with the mean, hard negatives are mapped with an inner
//!   join, ...).
//!
//! The converted config is exactly what GSProcessing's converter writes (same keys, same key
//! order) except for the `Filled` keys; [`check_gsprocessing_structure`] checks a GSProcessing
//! config against the rules of GSProcessing's parser.
//!
//! Memory and time are linear in the size of the config; nothing reads input files.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

use super::raw::{join, list_keys, shown, type_name};

/// `version` of the configs GSProcessing's converter writes.
pub const GSP_VERSION: &str = "gsprocessing-v1.0";

/// How GSProcessing treats one key (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// GSProcessing fails on it: the config cannot be converted.
    Rejected,
    /// GSProcessing's converter omits it and its parser then fails; the converted config
    /// writes GConstruct's default.
    Filled,
    /// Ignored by GSProcessing.
    Dropped,
    /// Converted, but GSProcessing computes something different.
    Different,
}

impl Severity {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Rejected => "rejected",
            Severity::Filled => "filled",
            Severity::Dropped => "dropped",
            Severity::Different => "different",
        }
    }
}

/// One key of a GConstruct config that GSProcessing does not take as GConstruct does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// JSON path in the GConstruct config, e.g. `nodes[0].features[1].transform.name`.
    pub path: String,
    /// What GSProcessing does, and what to do about it.
    pub message: String,
}

/// Result of [`export`]: the converted config and every finding, in JSON path order.
#[derive(Debug, Clone)]
pub struct Export {
    /// The GSProcessing config; meaningless when [`Export::converts`] is false.
    pub config: Value,
    pub findings: Vec<Finding>,
}

/// The report `graphprep validate --target gsprocessing` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always `"gsprocessing"`.
    pub target: &'static str,
    /// False when a finding is [`Severity::Rejected`].
    pub converts: bool,
    pub findings: Vec<Finding>,
}

impl Report {
    /// One line per finding: severity, JSON path, message.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            s.push_str(&format!(
                "{:<9}  {}: {}\n",
                f.severity.as_str(),
                f.path,
                f.message
            ));
        }
        s
    }
}

impl Export {
    /// Whether the config converts (no finding is [`Severity::Rejected`]).
    pub fn converts(&self) -> bool {
        !self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Rejected)
    }

    /// The report of `validate --target gsprocessing`.
    pub fn report(&self) -> Report {
        Report {
            target: "gsprocessing",
            converts: self.converts(),
            findings: self.findings.clone(),
        }
    }

    /// The converted config, or [`Error::Config`] at the first rejected key naming all of them.
    pub fn into_config(self) -> Result<Value> {
        let rejected: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Rejected)
            .collect();
        let Some(first) = rejected.first() else {
            return Ok(self.config);
        };
        let mut msg = format!("cannot convert to GSProcessing: {}", first.message);
        for f in &rejected[1..] {
            msg.push_str(&format!("; also at {}: {}", f.path, f.message));
        }
        Err(Error::config(first.path.clone(), msg))
    }
}

/// Converts the GConstruct config `conf` (parsed JSON, never resolved: no input file is
/// read) into GSProcessing's dialect and records what GSProcessing does with every key.
pub fn export(conf: &Value) -> Export {
    let mut w = Walk::default();
    let config = w.top(conf);
    Export {
        config,
        findings: w.findings,
    }
}

/// [`export`], failing when something cannot convert; the findings that remain are warnings.
pub fn to_gsprocessing(conf: &Value) -> Result<(Value, Vec<Finding>)> {
    let e = export(conf);
    let findings = e.findings.clone();
    Ok((e.into_config()?, findings))
}

const CSV_DEFAULT_SEPARATOR: &str = ",";
const VALID_OUT_DTYPES: [&str; 2] = ["float32", "float64"];
const IMPUTER_NOTE: &str = "GSProcessing's converter adds `\"imputer\": \"mean\"`: missing \
     values become the column mean, where construct rejects them (feature validation)";
/// GConstruct transforms GSProcessing's converter knows: every one but `tabular`.
fn convertible_transforms() -> Vec<&'static str> {
    super::raw::TRANSFORM_NAMES
        .iter()
        .copied()
        .filter(|n| *n != "tabular")
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Node,
    Edge,
}

#[derive(Default)]
struct Walk {
    findings: Vec<Finding>,
}

fn is_str_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// An empty list or `[{}]`: GSProcessing's converter turns both into `[]`.
fn empty_list(items: &[Value]) -> bool {
    items.is_empty() || (items.len() == 1 && items[0].as_object().is_some_and(|o| o.is_empty()))
}

impl Walk {
    fn push(&mut self, severity: Severity, path: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            path: shown(path).to_string(),
            message: message.into(),
        });
    }
    fn rejected(&mut self, path: &str, m: impl Into<String>) {
        self.push(Severity::Rejected, path, m);
    }
    fn filled(&mut self, path: &str, m: impl Into<String>) {
        self.push(Severity::Filled, path, m);
    }
    fn dropped(&mut self, path: &str, m: impl Into<String>) {
        self.push(Severity::Dropped, path, m);
    }
    fn different(&mut self, path: &str, m: impl Into<String>) {
        self.push(Severity::Different, path, m);
    }
    fn unknown_key(&mut self, path: &str, key: &str) {
        self.dropped(
            &join(path, key),
            "not a GConstruct key here; GSProcessing's converter ignores it",
        );
    }

    /// Prefixes the messages of the findings from `start` on with `what` (e.g. "feature `x`").
    fn label_since(&mut self, start: usize, what: &str) {
        for f in &mut self.findings[start..] {
            f.message = format!("{what}: {}", f.message);
        }
    }

    fn object<'a>(
        &mut self,
        v: &'a Value,
        path: &str,
        what: &str,
    ) -> Option<&'a Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.rejected(path, format!("expected {what}, found {}", type_name(v)));
        }
        o
    }

    /// A required string key; `Value::Null` (after a rejected finding) when missing or not a
    /// string. `why` says why GSProcessing needs it.
    fn req_str(&mut self, obj: &Map<String, Value>, key: &str, path: &str, why: &str) -> Value {
        match obj.get(key) {
            Some(Value::String(s)) => Value::String(s.clone()),
            None => {
                self.rejected(path, format!("missing `{key}`: {why}"));
                Value::Null
            }
            Some(other) => {
                self.rejected(
                    &join(path, key),
                    format!("expected a string, found {}", type_name(other)),
                );
                Value::Null
            }
        }
    }

    fn top(&mut self, conf: &Value) -> Value {
        let Some(obj) = self.object(conf, "", "the top-level config object") else {
            return Value::Null;
        };
        if obj.is_empty() {
            return json!({"version": GSP_VERSION, "graph": {"nodes": [], "edges": []}});
        }
        for (k, v) in obj {
            match k.as_str() {
                "nodes" | "edges" => {}
                "version" => match v.as_str() {
                    Some(s) if s.starts_with("gsprocessing") => self.rejected(
                        "version",
                        "this is already a GSProcessing config; give it to GSProcessing as it is",
                    ),
                    Some(_) => {}
                    None => self.rejected(
                        "version",
                        format!("expected a string, found {}", type_name(v)),
                    ),
                },
                "is_homogeneous" => self.dropped(
                    "is_homogeneous",
                    "GSProcessing detects a homogeneous graph itself (one node type and one \
                     edge type) and renames its types to _N/_E, as construct does",
                ),
                "add_reverse_edges" => self.dropped(
                    "add_reverse_edges",
                    "GSProcessing takes this from its --add-reverse-edges flag, whose default \
                     is true (construct's is false)",
                ),
                _ => self.unknown_key("", k),
            }
        }
        let nodes = self.blocks(obj, "nodes", Kind::Node);
        let edges = self.blocks(obj, "edges", Kind::Edge);
        json!({"version": GSP_VERSION, "graph": {"nodes": nodes, "edges": edges}})
    }

    fn blocks(&mut self, obj: &Map<String, Value>, key: &str, kind: Kind) -> Value {
        let Some(v) = obj.get(key) else {
            self.filled(
                "",
                format!(
                    "no `{key}`: GSProcessing's converter needs both `nodes` and `edges` \
                     (KeyError); the converted config has `\"{key}\": []`"
                ),
            );
            return json!([]);
        };
        let Some(items) = v.as_array() else {
            self.rejected(key, format!("expected a list, found {}", type_name(v)));
            return Value::Null;
        };
        let out = items
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let p = format!("{key}[{i}]");
                match kind {
                    Kind::Node => self.node(b, &p),
                    Kind::Edge => self.edge(b, &p),
                }
            })
            .collect();
        Value::Array(out)
    }

    fn node(&mut self, v: &Value, p: &str) -> Value {
        let Some(n) = self.object(v, p, "a node block") else {
            return Value::Null;
        };
        for k in n.keys() {
            if !matches!(
                k.as_str(),
                "node_type" | "node_id_col" | "format" | "files" | "features" | "labels"
            ) {
                self.unknown_key(p, k);
            }
        }
        let ntype = self.req_str(n, "node_type", p, "GSProcessing's converter needs it");
        let col = self.req_str(
            n,
            "node_id_col",
            p,
            "GSProcessing's converter needs it (KeyError); construct aligns a block without \
             one by row position, GSProcessing cannot",
        );
        let data = self.data(n, p);
        let mut out = Map::new();
        out.insert("data".into(), data);
        out.insert("type".into(), ntype);
        out.insert("column".into(), col);
        self.lists(n, p, Kind::Node, &mut out);
        Value::Object(out)
    }

    fn edge(&mut self, v: &Value, p: &str) -> Value {
        let Some(e) = self.object(v, p, "an edge block") else {
            return Value::Null;
        };
        for k in e.keys() {
            if !matches!(
                k.as_str(),
                "relation"
                    | "source_id_col"
                    | "dest_id_col"
                    | "format"
                    | "files"
                    | "features"
                    | "labels"
            ) {
                self.unknown_key(p, k);
            }
        }
        let why = "GSProcessing's converter needs it (KeyError)";
        let src_col = self.req_str(e, "source_id_col", p, why);
        let dst_col = self.req_str(e, "dest_id_col", p, why);
        let rel: Vec<Value> = match e.get("relation") {
            Some(r) if is_str_list(r) && r.as_array().is_some_and(|a| a.len() == 3) => {
                r.as_array().cloned().unwrap_or_default()
            }
            Some(_) => {
                self.rejected(
                    &join(p, "relation"),
                    "expected a list of three strings [source type, relation, dest type]",
                );
                vec![Value::Null; 3]
            }
            None => {
                self.rejected(p, format!("missing `relation`: {why}"));
                vec![Value::Null; 3]
            }
        };
        let data = self.data(e, p);
        let mut out = Map::new();
        out.insert("data".into(), data);
        out.insert(
            "source".into(),
            json!({"column": src_col, "type": rel[0].clone()}),
        );
        out.insert(
            "dest".into(),
            json!({"column": dst_col, "type": rel[2].clone()}),
        );
        out.insert("relation".into(), json!({"type": rel[1].clone()}));
        self.lists(e, p, Kind::Edge, &mut out);
        Value::Object(out)
    }

    /// `features` and `labels`: written when the block has them (even empty), as GSProcessing's
    /// converter does.
    fn lists(&mut self, b: &Map<String, Value>, p: &str, kind: Kind, out: &mut Map<String, Value>) {
        if let Some(f) = b.get("features") {
            let fp = join(p, "features");
            let v = self.each(f, &fp, |w, item, ip| w.feature(item, ip));
            out.insert("features".into(), v);
        }
        if let Some(l) = b.get("labels") {
            let lp = join(p, "labels");
            let v = self.each(l, &lp, |w, item, ip| w.label(item, ip, kind));
            out.insert("labels".into(), v);
        }
    }

    fn each(
        &mut self,
        v: &Value,
        path: &str,
        mut f: impl FnMut(&mut Walk, &Value, &str) -> Value,
    ) -> Value {
        let Some(items) = v.as_array() else {
            self.rejected(path, format!("expected a list, found {}", type_name(v)));
            return Value::Null;
        };
        if empty_list(items) {
            return json!([]);
        }
        let out = items
            .iter()
            .enumerate()
            .map(|(i, item)| f(self, item, &format!("{path}[{i}]")))
            .collect();
        Value::Array(out)
    }

    /// `format` + `files` → `data`.
    fn data(&mut self, b: &Map<String, Value>, p: &str) -> Value {
        let fp = join(p, "format");
        let mut name = None;
        let mut separator = None;
        match b.get("format") {
            None => self.rejected(p, "missing `format`: GSProcessing's converter needs it"),
            Some(f) => {
                if let Some(f) = self.object(f, &fp, "a format object like {\"name\": \"csv\"}") {
                    for (k, v) in f {
                        match k.as_str() {
                            "name" => match v.as_str() {
                                Some(n @ ("csv" | "parquet")) => name = Some(n.to_string()),
                                _ => self.rejected(
                                    &join(&fp, "name"),
                                    format!(
                                        "GSProcessing reads only \"csv\" and \"parquet\" files, \
                                         found {v}; convert the files first"
                                    ),
                                ),
                            },
                            "separator" => match v.as_str() {
                                Some(s) if !s.is_empty() => separator = Some(s.to_string()),
                                _ => self.rejected(
                                    &join(&fp, "separator"),
                                    format!("expected a non-empty string, found {v}"),
                                ),
                            },
                            _ => self.unknown_key(&fp, k),
                        }
                    }
                    if !f.contains_key("name") {
                        self.rejected(&fp, "missing `name`: GSProcessing's converter needs it");
                    }
                }
            }
        }
        if name.as_deref() == Some("csv")
            && separator.is_none()
            && b.get("format").is_none_or(|f| f.get("separator").is_none())
        {
            self.filled(
                &join(&fp, "separator"),
                "GSProcessing's parser requires a separator for CSV (\"CSV format requires \
                 separator\") and its converter does not add construct's default; the converted \
                 config has \",\"",
            );
            separator = Some(CSV_DEFAULT_SEPARATOR.to_string());
        }
        let files_p = join(p, "files");
        let files: Vec<Value> = match b.get("files") {
            None => {
                self.rejected(p, "missing `files`: GSProcessing's converter needs it");
                Vec::new()
            }
            Some(Value::String(s)) => vec![Value::String(s.clone())],
            Some(v) if is_str_list(v) => v.as_array().cloned().unwrap_or_default(),
            Some(v) => {
                self.rejected(
                    &files_p,
                    format!(
                        "expected a string or a list of strings, found {}",
                        type_name(v)
                    ),
                );
                Vec::new()
            }
        };
        for (i, f) in files.iter().enumerate() {
            let s = f.as_str().unwrap_or_default();
            let ip = if b.get("files").is_some_and(Value::is_array) {
                format!("{files_p}[{i}]")
            } else {
                files_p.clone()
            };
            if s.contains('?') {
                self.rejected(
                    &ip,
                    format!("GSProcessing does not support `?` wildcards in file names ({s:?})"),
                );
            } else if s.starts_with('/') {
                if name.as_deref() == Some("csv") {
                    self.rejected(
                        &ip,
                        format!(
                            "GSProcessing's parser requires relative CSV paths (\"File paths \
                             need to be relative\"), found {s:?}; make it relative to \
                             GSProcessing's --input-prefix"
                        ),
                    );
                } else {
                    self.different(
                        &ip,
                        format!(
                            "GSProcessing reads every file relative to its --input-prefix, \
                             so {s:?} is not read from where construct reads it"
                        ),
                    );
                }
            }
        }
        let mut d = Map::new();
        d.insert(
            "format".into(),
            name.map(Value::String).unwrap_or(Value::Null),
        );
        d.insert("files".into(), Value::Array(files));
        if let Some(s) = separator {
            d.insert("separator".into(), Value::String(s));
        }
        Value::Object(d)
    }

    fn feature(&mut self, v: &Value, fp: &str) -> Value {
        let start = self.findings.len();
        let Some(f) = self.object(v, fp, "a feature object") else {
            return Value::Null;
        };
        let mut out = Map::new();
        for (k, val) in f {
            match k.as_str() {
                "feature_col" | "feature_name" | "transform" | "out_dtype" => {}
                "feature_dim" => self.dropped(
                    &join(fp, k),
                    "GSProcessing computes feature dimensions itself",
                ),
                "separator" | "truncate_dim" => self.dropped(
                    &join(fp, k),
                    format!(
                        "GSProcessing's converter reads `{k}` only inside `transform`; move it \
                         into `\"transform\": {{\"name\": \"no-op\", \"{k}\": {val}}}`"
                    ),
                ),
                _ => self.unknown_key(fp, k),
            }
        }
        let cp = join(fp, "feature_col");
        let column = match f.get("feature_col") {
            Some(Value::String(s)) => Value::String(s.clone()),
            Some(Value::Array(cols)) if !cols.is_empty() && cols.iter().all(Value::is_string) => {
                if cols.len() >= 2 {
                    if !f.contains_key("feature_name") {
                        self.rejected(
                            &cp,
                            "GSProcessing's converter needs `feature_name` when `feature_col` \
                             is a list",
                        );
                    }
                    let rest: Vec<&str> = cols[1..].iter().filter_map(Value::as_str).collect();
                    self.dropped(
                        &cp,
                        format!(
                            "GSProcessing's converter keeps only the first column {} of the \
                             list; {} not read ({} columns in construct, 1 in GSProcessing)",
                            cols[0],
                            list_keys(&rest),
                            cols.len()
                        ),
                    );
                }
                cols[0].clone()
            }
            None => {
                self.rejected(
                    fp,
                    "missing `feature_col`: GSProcessing's converter needs it",
                );
                Value::Null
            }
            Some(other) => {
                self.rejected(
                    &cp,
                    format!("expected a string or a non-empty list of strings, found {other}"),
                );
                Value::Null
            }
        };
        out.insert("column".into(), column.clone());
        match f.get("feature_name") {
            None => {}
            Some(Value::String(s)) => {
                out.insert("name".into(), Value::String(s.clone()));
            }
            Some(other) => self.rejected(
                &join(fp, "feature_name"),
                format!(
                    "GSProcessing's parser needs a string feature name, found {}",
                    type_name(other)
                ),
            ),
        }
        match f.get("out_dtype") {
            None => {}
            Some(Value::String(s)) if s == "float32" => {}
            Some(Value::String(s)) if s == "float64" => self.dropped(
                &join(fp, "out_dtype"),
                "GSProcessing's converter ignores a feature-level `out_dtype`; the feature is \
                 written as float32",
            ),
            Some(other) => self.rejected(
                &join(fp, "out_dtype"),
                format!("GSProcessing supports only float32 and float64 features, found {other}"),
            ),
        }
        let t = self.transform(f.get("transform"), &join(fp, "transform"));
        out.insert("transformation".into(), t);
        let what = match (
            f.get("feature_name").and_then(Value::as_str),
            column.as_str(),
        ) {
            (Some(n), _) => format!("feature `{n}`"),
            (None, Some(c)) => format!("feature `{c}`"),
            (None, None) => "feature".to_string(),
        };
        self.label_since(start, &what);
        Value::Object(out)
    }

    fn transform(&mut self, v: Option<&Value>, tp: &str) -> Value {
        let Some(v) = v else {
            return json!({"name": "no-op"});
        };
        let Some(t) = self.object(
            v,
            tp,
            "a transform object like {\"name\": \"max_min_norm\"}",
        ) else {
            return Value::Null;
        };
        let np = join(tp, "name");
        let name = match t.get("name") {
            Some(Value::String(s)) => s.as_str(),
            None => {
                self.rejected(tp, "missing `name`: GSProcessing's converter needs it");
                return Value::Null;
            }
            Some(other) => {
                self.rejected(
                    &np,
                    format!("expected a string, found {}", type_name(other)),
                );
                return Value::Null;
            }
        };
        let convertible = convertible_transforms();
        if !convertible.contains(&name) {
            self.rejected(
                &np,
                format!(
                    "GSProcessing's converter does not support the transform {name:?} \
                     (\"Unsupported GConstruct transformation name\"); it supports {}",
                    list_keys(&convertible)
                ),
            );
            return Value::Null;
        }
        // Keys carried into kwargs per transform; the others are reported below.
        let carried: &[&str] = match name {
            "max_min_norm" | "standard" => &["out_dtype"],
            "rank_gauss" => &["epsilon", "out_dtype"],
            "to_categorical" | "edge_dst_hard_negative" => &["separator"],
            "bucket_numerical" => &["bucket_cnt", "range", "slide_window_size"],
            "tokenize_hf" | "bert_hf" => &["bert_model", "max_seq_length"],
            "no-op" => &["separator", "truncate_dim"],
            _ => &[],
        };
        for k in t.keys() {
            let kp = join(tp, k);
            if k == "name" || carried.contains(&k.as_str()) {
                continue;
            }
            match (name, k.as_str()) {
                ("max_min_norm", "max_bound" | "min_bound") => self.dropped(
                    &kp,
                    "GSProcessing's min-max normalizer has no clipping bounds; values are not \
                     clipped",
                ),
                ("max_min_norm", "max_val" | "min_val") | ("standard", "sum") => self.dropped(
                    &kp,
                    "learned state of a runtime config; GSProcessing recomputes it from the \
                     data (its own precomputed_transformations.json plays this role)",
                ),
                ("rank_gauss", "uniquify") => {
                    self.dropped(&kp, "GSProcessing's rank-gauss has no `uniquify` option")
                }
                ("to_categorical", "mapping") => self.dropped(
                    &kp,
                    "GSProcessing builds its own category mapping from the data, so category \
                     indices may differ from this mapping",
                ),
                ("bert_hf", "infer_batch_size") => self.dropped(
                    &kp,
                    "GSProcessing has no batch size option for embedding_hf",
                ),
                _ => self.unknown_key(tp, k),
            }
        }
        let mut kw = Map::new();
        let numerical = |w: &mut Walk, kw: &mut Map<String, Value>, normalizer: &str| {
            kw.insert("normalizer".into(), json!(normalizer));
            kw.insert("imputer".into(), json!("mean"));
            w.different(&np, IMPUTER_NOTE);
        };
        let gsp_name = match name {
            "max_min_norm" | "standard" | "rank_gauss" => {
                let normalizer = match name {
                    "max_min_norm" => "min-max",
                    "standard" => "standard",
                    _ => "rank-gauss",
                };
                numerical(self, &mut kw, normalizer);
                if let Some(e) = t.get("epsilon").filter(|_| name == "rank_gauss") {
                    kw.insert("epsilon".into(), e.clone());
                }
                match t.get("out_dtype") {
                    Some(Value::String(d)) if VALID_OUT_DTYPES.contains(&d.as_str()) => {
                        kw.insert("out_dtype".into(), json!(d));
                    }
                    Some(other) => self.dropped(
                        &join(tp, "out_dtype"),
                        format!(
                            "GSProcessing's converter keeps only float32/float64, found {other}"
                        ),
                    ),
                    None => {}
                }
                "numerical"
            }
            "to_categorical" => match t.get("separator") {
                Some(s) => {
                    kw.insert("separator".into(), s.clone());
                    "multi-categorical"
                }
                None => "categorical",
            },
            "bucket_numerical" => {
                for key in ["bucket_cnt", "range"] {
                    if !t.contains_key(key) {
                        self.rejected(
                            tp,
                            format!("missing `{key}`: GSProcessing's converter needs it"),
                        );
                    }
                }
                match t.get("bucket_cnt") {
                    Some(c) if c.is_i64() || c.is_u64() => {
                        kw.insert("bucket_cnt".into(), c.clone());
                    }
                    Some(c) => self.rejected(
                        &join(tp, "bucket_cnt"),
                        format!("GSProcessing's parser needs an integer, found {c}"),
                    ),
                    None => {}
                }
                match t.get("range") {
                    Some(r)
                        if r.as_array()
                            .is_some_and(|a| a.len() == 2 && a.iter().all(Value::is_number)) =>
                    {
                        kw.insert("range".into(), r.clone());
                    }
                    Some(r) => self.rejected(
                        &join(tp, "range"),
                        format!("GSProcessing's parser needs a list of two numbers, found {r}"),
                    ),
                    None => {}
                }
                match t.get("slide_window_size") {
                    Some(s) if s.is_number() => {
                        kw.insert("slide_window_size".into(), s.clone());
                    }
                    Some(s) => self.rejected(
                        &join(tp, "slide_window_size"),
                        format!("GSProcessing's parser needs a number, found {s}"),
                    ),
                    None => {
                        self.filled(
                            &join(tp, "slide_window_size"),
                            "GSProcessing's converter needs it (KeyError) and does not add \
                             construct's default; the converted config has 0",
                        );
                        kw.insert("slide_window_size".into(), json!(0));
                    }
                }
                kw.insert("imputer".into(), json!("mean"));
                self.different(&np, IMPUTER_NOTE);
                "bucket-numerical"
            }
            "tokenize_hf" | "bert_hf" => {
                kw.insert(
                    "action".into(),
                    json!(if name == "bert_hf" {
                        "embedding_hf"
                    } else {
                        "tokenize_hf"
                    }),
                );
                match t.get("bert_model") {
                    Some(Value::String(m)) => {
                        kw.insert("hf_model".into(), json!(m));
                    }
                    Some(other) => self.rejected(
                        &join(tp, "bert_model"),
                        format!("GSProcessing's parser needs a string, found {other}"),
                    ),
                    None => self.rejected(
                        tp,
                        "missing `bert_model`: GSProcessing's converter needs it",
                    ),
                }
                match t.get("max_seq_length") {
                    Some(m) if m.as_u64().is_some_and(|n| n > 0) => {
                        kw.insert("max_seq_length".into(), m.clone());
                    }
                    Some(other) => self.rejected(
                        &join(tp, "max_seq_length"),
                        format!("GSProcessing's parser needs an integer > 0, found {other}"),
                    ),
                    None => self.rejected(
                        tp,
                        "missing `max_seq_length`: GSProcessing's converter needs it",
                    ),
                }
                "huggingface"
            }
            "edge_dst_hard_negative" => {
                self.different(
                    &np,
                    "GSProcessing maps the negative IDs with an inner join on the destination \
                     type's ID map: IDs it does not know are left out without an error and \
                     every row is padded with -1 to the longest row",
                );
                if let Some(s) = t.get("separator") {
                    kw.insert("separator".into(), s.clone());
                }
                let mut out = Map::new();
                out.insert("name".into(), json!(name));
                if !kw.is_empty() {
                    out.insert("kwargs".into(), Value::Object(kw));
                }
                return Value::Object(out);
            }
            _ => {
                // no-op
                if let Some(s) = t.get("separator") {
                    kw.insert("separator".into(), s.clone());
                }
                match t.get("truncate_dim") {
                    Some(d) if d.is_i64() || d.is_u64() => {
                        kw.insert("truncate_dim".into(), d.clone());
                    }
                    Some(d) => self.rejected(
                        &join(tp, "truncate_dim"),
                        format!("GSProcessing's parser needs an integer, found {d}"),
                    ),
                    None => {}
                }
                "no-op"
            }
        };
        json!({"name": gsp_name, "kwargs": kw})
    }

    fn label(&mut self, v: &Value, lp: &str, kind: Kind) -> Value {
        let start = self.findings.len();
        let Some(l) = self.object(v, lp, "a label object") else {
            return Value::Null;
        };
        for k in l.keys() {
            match k.as_str() {
                "label_col"
                | "task_type"
                | "split_pct"
                | "custom_split_filenames"
                | "mask_field_names" => {}
                "label_stats_type" => {
                    self.dropped(&join(lp, k), "GSProcessing writes no label statistics")
                }
                "separator" => self.different(
                    &join(lp, k),
                    "not a GConstruct key (construct rejects it); GSProcessing reads it as the \
                     separator of a multi-label column",
                ),
                _ => self.unknown_key(lp, k),
            }
        }
        let column = match l.get("label_col") {
            None => json!(""),
            Some(Value::String(s)) => json!(s),
            Some(other) => {
                self.rejected(
                    &join(lp, "label_col"),
                    format!("expected a string, found {}", type_name(other)),
                );
                Value::Null
            }
        };
        let tp = join(lp, "task_type");
        let allowed: &[&str] = match kind {
            Kind::Node => &["classification", "regression"],
            Kind::Edge => &["classification", "regression", "link_prediction"],
        };
        let task = match l.get("task_type") {
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => json!(s),
            None => {
                self.rejected(lp, "missing `task_type`: GSProcessing's converter needs it");
                Value::Null
            }
            Some(other) => {
                let on = if kind == Kind::Node { "node" } else { "edge" };
                self.rejected(
                    &tp,
                    format!(
                        "GSProcessing supports the {on} task types {}, found {other}",
                        list_keys(allowed)
                    ),
                );
                Value::Null
            }
        };
        if column == json!("") && task.as_str().is_some_and(|t| t != "link_prediction") {
            self.rejected(
                lp,
                "GSProcessing's parser needs `label_col` unless the task is link_prediction",
            );
        }
        let mut out = Map::new();
        out.insert("column".into(), column.clone());
        out.insert("type".into(), task);
        if let Some(cs) = l.get("custom_split_filenames") {
            out.insert(
                "custom_split_filenames".into(),
                self.custom_split(cs, &join(lp, "custom_split_filenames")),
            );
        } else if let Some(sp) = l.get("split_pct") {
            out.insert(
                "split_rate".into(),
                self.split_rate(sp, &join(lp, "split_pct")),
            );
        }
        if let Some(s) = l.get("separator") {
            out.insert("separator".into(), s.clone());
        }
        if let Some(m) = l.get("mask_field_names") {
            let ok = m.as_array().is_some_and(|a| a.len() == 3) && is_str_list(m);
            if !ok {
                self.rejected(
                    &join(lp, "mask_field_names"),
                    format!("GSProcessing's parser needs a list of three strings, found {m}"),
                );
            }
            out.insert("mask_field_names".into(), m.clone());
        }
        let what = match column.as_str() {
            Some(c) if !c.is_empty() => format!("label `{c}`"),
            _ => "label".to_string(),
        };
        self.label_since(start, &what);
        Value::Object(out)
    }

    fn split_rate(&mut self, v: &Value, sp: &str) -> Value {
        let nums: Option<Vec<f64>> = v
            .as_array()
            .filter(|a| a.len() == 3)
            .and_then(|a| a.iter().map(Value::as_f64).collect());
        let Some(nums) = nums else {
            self.rejected(sp, format!("expected a list of three numbers, found {v}"));
            return Value::Null;
        };
        let sum = fsum(&nums);
        if sum != 1.0 {
            self.rejected(
                sp,
                format!(
                    "GSProcessing's converter needs split fractions that sum to exactly 1.0 \
                     (math.fsum), found {sum}; construct accepts a sum below 1"
                ),
            );
        }
        let a = v.as_array().cloned().unwrap_or_default();
        json!({"train": a[0], "val": a[1], "test": a[2]})
    }

    fn custom_split(&mut self, v: &Value, cp: &str) -> Value {
        let Some(c) = self.object(v, cp, "a custom_split_filenames object") else {
            return Value::Null;
        };
        for k in c.keys() {
            if !matches!(k.as_str(), "train" | "valid" | "test" | "column") {
                self.unknown_key(cp, k);
            }
        }
        if !["train", "valid", "test"]
            .iter()
            .any(|k| c.contains_key(*k))
        {
            self.rejected(
                cp,
                "GSProcessing's converter needs at least one of `train`, `valid`, `test`",
            );
        }
        let mut out = Map::new();
        for key in ["train", "valid", "test", "column"] {
            let val = match c.get(key) {
                None | Some(Value::Null) | Some(Value::Bool(false)) => json!([]),
                Some(Value::String(s)) if s.is_empty() => json!([]),
                Some(Value::String(s)) => json!([s]),
                Some(a @ Value::Array(_)) if is_str_list(a) => a.clone(),
                Some(other) => {
                    self.rejected(
                        &join(cp, key),
                        format!("expected a string or a list of strings, found {other}"),
                    );
                    Value::Null
                }
            };
            out.insert(key.into(), val);
        }
        if out["column"].as_array().is_some_and(|a| a.len() > 2) {
            self.rejected(
                &join(cp, "column"),
                "GSProcessing's converter takes one column for node labels, two for edge labels",
            );
        }
        Value::Object(out)
    }
}

/// Correctly rounded sum of `xs` (Shewchuk's algorithm, as Python's `math.fsum`, which
/// GSProcessing's converter uses to check that split fractions sum to exactly 1.0).
pub fn fsum(xs: &[f64]) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for &x0 in xs {
        let mut x = x0;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    let mut n = partials.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = partials[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Round half-even correctly when the remaining partials push past a tie.
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

/// Transformation names GSProcessing's parser accepts (`parse_feat_config` in
/// `config_parser.py`).
pub const GSP_PARSER_TRANSFORMATIONS: &[&str] = &[
    "no-op",
    "numerical",
    "multi-numerical",
    "bucket-numerical",
    "categorical",
    "multi-categorical",
    "huggingface",
    "edge_dst_hard_negative",
];

/// Checks a GSProcessing config (`{"version": "gsprocessing-…", "graph": {...}}`) against
/// the rules GSProcessing 0.5.1's parser enforces, and returns one message per violation
/// (empty: the parser accepts the structure). Each check names the rule it stands for:
///
/// - `distributed_executor.py`: `version` starts with `gsprocessing`; the graph is under `graph`.
/// - `create_config_objects` (`config_parser.py`): `graph.edges` is a list (required),
///   `graph.nodes` a list when present; every block has a `data` object.
/// - `DataStorageConfig.__post_init__` (`data_config_base.py`): `format` is `csv` or
///   `parquet`; CSV needs a non-empty `separator` and relative file paths.
/// - `StructureConfig.sanity_check`: `files` is a list (of strings), `separator` a string.
/// - `NodeConfig.sanity_check`: `column` and `type` are strings. `EdgeConfig.sanity_check`:
///   `source.column/type`, `dest.column/type`, `relation.type` are strings, `relation.column`
///   a string when present.
/// - `parse_feat_config` + `FeatureConfig._sanity_check` (`feature_config_base.py`):
///   `column` is a string or a list of strings, `name` a string, `transformation.name` one of
///   [`GSP_PARSER_TRANSFORMATIONS`], `kwargs` an object.
/// - Per transformation: `NoopFeatureConfig` (`out_dtype` float32/float64, `truncate_dim` an
///   integer); `NumericalFeatureConfig` (`imputer` in none/mean/median/most_frequent,
///   `normalizer` in none/min-max/standard/rank-gauss, `out_dtype`);
///   `BucketNumericalFeatureConfig` (`bucket_cnt` an integer, `range` two numbers,
///   `slide_window_size` a number when present); `HFConfig` (`action` tokenize_hf or
///   embedding_hf, `hf_model` a string, `max_seq_length` an integer > 0).
/// - `LabelConfig._sanity_check` (`label_config_base.py`): `type` in classification,
///   regression, link_prediction (nodes: classification or regression only); an empty
///   `column` only for link_prediction; `custom_split_filenames` with one of
///   train/valid/test, each entry a list of strings; `separator` a string;
///   `mask_field_names` three strings; `split_rate` an object.
pub fn check_gsprocessing_structure(cfg: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let mut fail = |p: &str, m: &str| bad.push(format!("{p}: {m}"));
    let is_str = |v: Option<&Value>| v.is_some_and(Value::is_string);
    if !cfg
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("gsprocessing"))
    {
        fail("version", "must be a string starting with \"gsprocessing\"");
    }
    let Some(graph) = cfg.get("graph").and_then(Value::as_object) else {
        fail("graph", "missing or not an object");
        return bad;
    };
    let mut blocks: Vec<(Kind, String, &Value)> = Vec::new();
    match graph.get("edges").and_then(Value::as_array) {
        Some(es) => blocks.extend(
            es.iter()
                .enumerate()
                .map(|(i, e)| (Kind::Edge, format!("graph.edges[{i}]"), e)),
        ),
        None => fail("graph.edges", "required list missing"),
    }
    match graph.get("nodes") {
        None => {}
        Some(Value::Array(ns)) => blocks.extend(
            ns.iter()
                .enumerate()
                .map(|(i, n)| (Kind::Node, format!("graph.nodes[{i}]"), n)),
        ),
        Some(_) => fail("graph.nodes", "must be a list"),
    }
    for (kind, p, b) in blocks {
        let Some(d) = b.get("data").and_then(Value::as_object) else {
            fail(&p, "missing `data` object");
            continue;
        };
        let format = d.get("format").and_then(Value::as_str);
        if !matches!(format, Some("csv" | "parquet")) {
            fail(
                &format!("{p}.data.format"),
                "must be \"csv\" or \"parquet\"",
            );
        }
        let sep = d.get("separator");
        if sep.is_some_and(|s| !s.is_string()) {
            fail(&format!("{p}.data.separator"), "must be a string");
        }
        if format == Some("csv") && sep.and_then(Value::as_str).is_none_or(|s| s.is_empty()) {
            fail(
                &format!("{p}.data.separator"),
                "CSV format requires separator",
            );
        }
        match d.get("files").and_then(Value::as_array) {
            Some(fs) if fs.iter().all(Value::is_string) => {
                if format == Some("csv")
                    && fs
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|f| f.starts_with('/'))
                {
                    fail(
                        &format!("{p}.data.files"),
                        "CSV file paths need to be relative",
                    );
                }
            }
            _ => fail(&format!("{p}.data.files"), "must be a list of strings"),
        }
        match kind {
            Kind::Node => {
                for k in ["column", "type"] {
                    if !is_str(b.get(k)) {
                        fail(&format!("{p}.{k}"), "must be a string");
                    }
                }
            }
            Kind::Edge => {
                for k in [
                    "source.column",
                    "source.type",
                    "dest.column",
                    "dest.type",
                    "relation.type",
                ] {
                    let (o, f) = k.split_once('.').unwrap_or((k, ""));
                    if !is_str(b.get(o).and_then(|x| x.get(f))) {
                        fail(&format!("{p}.{k}"), "must be a string");
                    }
                }
                if b.get("relation")
                    .and_then(|r| r.get("column"))
                    .is_some_and(|c| !c.is_string())
                {
                    fail(&format!("{p}.relation.column"), "must be a string");
                }
            }
        }
        if let Some(fs) = b.get("features") {
            match fs.as_array() {
                None => fail(&format!("{p}.features"), "must be a list"),
                Some(fs) => {
                    for (i, f) in fs.iter().enumerate() {
                        check_feature(f, &format!("{p}.features[{i}]"), &mut fail);
                    }
                }
            }
        }
        if let Some(ls) = b.get("labels") {
            match ls.as_array() {
                None => fail(&format!("{p}.labels"), "must be a list"),
                Some(ls) => {
                    for (i, l) in ls.iter().enumerate() {
                        check_label(l, &format!("{p}.labels[{i}]"), kind, &mut fail);
                    }
                }
            }
        }
    }
    bad
}

fn check_feature(f: &Value, p: &str, fail: &mut impl FnMut(&str, &str)) {
    let col = f.get("column");
    let col_ok = col.is_some_and(|c| c.is_string() || is_str_list(c));
    if !col_ok {
        fail(
            &format!("{p}.column"),
            "must be a string or a list of strings",
        );
    }
    if f.get("name").is_some_and(|n| !n.is_string()) {
        fail(&format!("{p}.name"), "must be a string");
    }
    let Some(t) = f.get("transformation") else {
        return; // parse_feat_config makes it a no-op
    };
    let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
    if !GSP_PARSER_TRANSFORMATIONS.contains(&name) {
        fail(
            &format!("{p}.transformation.name"),
            "unknown transformation name",
        );
        return;
    }
    let empty = Map::new();
    let kw = match t.get("kwargs") {
        None => &empty,
        Some(Value::Object(k)) => k,
        Some(_) => {
            fail(&format!("{p}.transformation.kwargs"), "must be an object");
            return;
        }
    };
    let kp = |k: &str| format!("{p}.transformation.kwargs.{k}");
    let one_of = |k: &str, allowed: &[&str], dflt: &str| {
        let v = kw.get(k).map_or(Some(dflt), Value::as_str);
        v.is_some_and(|v| allowed.contains(&v))
    };
    let int = |k: &str| kw.get(k).is_some_and(|v| v.is_i64() || v.is_u64());
    match name {
        "no-op" => {
            if !one_of("out_dtype", &VALID_OUT_DTYPES, "float32") {
                fail(&kp("out_dtype"), "must be float32 or float64");
            }
            if kw.contains_key("truncate_dim") && !int("truncate_dim") {
                fail(&kp("truncate_dim"), "must be an integer");
            }
        }
        "numerical" | "multi-numerical" => {
            if !one_of(
                "imputer",
                &["none", "mean", "median", "most_frequent"],
                "none",
            ) {
                fail(&kp("imputer"), "unknown imputer");
            }
            if !one_of(
                "normalizer",
                &["none", "min-max", "standard", "rank-gauss"],
                "none",
            ) {
                fail(&kp("normalizer"), "unknown normalizer");
            }
            if !one_of("out_dtype", &VALID_OUT_DTYPES, "float32") {
                fail(&kp("out_dtype"), "must be float32 or float64");
            }
        }
        "bucket-numerical" => {
            if !one_of(
                "imputer",
                &["none", "mean", "median", "most_frequent"],
                "none",
            ) {
                fail(&kp("imputer"), "unknown imputer");
            }
            if !int("bucket_cnt") {
                fail(&kp("bucket_cnt"), "must be an integer");
            }
            let range_ok = kw
                .get("range")
                .and_then(Value::as_array)
                .is_some_and(|r| r.len() == 2 && r.iter().all(Value::is_number));
            if !range_ok {
                fail(&kp("range"), "must be a list of two numbers");
            }
            if kw.get("slide_window_size").is_some_and(|s| !s.is_number()) {
                fail(&kp("slide_window_size"), "must be a number");
            }
        }
        "huggingface" => {
            if !one_of("action", &["tokenize_hf", "embedding_hf"], "") {
                fail(&kp("action"), "must be tokenize_hf or embedding_hf");
            }
            if !kw.get("hf_model").is_some_and(Value::is_string) {
                fail(&kp("hf_model"), "must be a string");
            }
            if kw
                .get("max_seq_length")
                .and_then(Value::as_u64)
                .is_none_or(|n| n == 0)
            {
                fail(&kp("max_seq_length"), "must be an integer > 0");
            }
        }
        _ => {}
    }
}

fn check_label(l: &Value, p: &str, kind: Kind, fail: &mut impl FnMut(&str, &str)) {
    let task = l.get("type").and_then(Value::as_str).unwrap_or_default();
    let allowed: &[&str] = match kind {
        Kind::Node => &["classification", "regression"],
        Kind::Edge => &["classification", "regression", "link_prediction"],
    };
    if !allowed.contains(&task) {
        fail(&format!("{p}.type"), "task type not allowed here");
    }
    let column = l.get("column").map_or(Some(""), Value::as_str);
    match column {
        None => fail(&format!("{p}.column"), "must be a string"),
        Some("") if task != "link_prediction" => {
            fail(&format!("{p}.column"), "empty column needs link_prediction")
        }
        _ => {}
    }
    if let Some(cs) = l.get("custom_split_filenames") {
        match cs.as_object() {
            None => fail(&format!("{p}.custom_split_filenames"), "must be an object"),
            Some(c) => {
                if !["train", "valid", "test"]
                    .iter()
                    .any(|k| c.contains_key(*k))
                {
                    fail(
                        &format!("{p}.custom_split_filenames"),
                        "needs one of train/valid/test",
                    );
                }
                for k in ["train", "valid", "test", "column"] {
                    if c.get(k).is_some_and(|v| !is_str_list(v)) {
                        fail(
                            &format!("{p}.custom_split_filenames.{k}"),
                            "must be a list of strings",
                        );
                    }
                }
            }
        }
    } else if l.get("split_rate").is_some_and(|s| !s.is_object()) {
        fail(&format!("{p}.split_rate"), "must be an object");
    }
    if l.get("separator").is_some_and(|s| !s.is_string()) {
        fail(&format!("{p}.separator"), "must be a string");
    }
    if let Some(m) = l.get("mask_field_names") {
        if !(is_str_list(m) && m.as_array().is_some_and(|a| a.len() == 3)) {
            fail(&format!("{p}.mask_field_names"), "must be three strings");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node_with(features: Value) -> Value {
        json!({"version": "gconstruct-v0.1",
               "nodes": [{"node_type": "n", "node_id_col": "id", "format": {"name": "parquet"},
                          "files": ["n.parquet"], "features": features}],
               "edges": []})
    }

    fn findings(conf: &Value) -> Vec<(Severity, String)> {
        export(conf)
            .findings
            .into_iter()
            .map(|f| (f.severity, f.path))
            .collect()
    }

    #[test]
    fn fsum_matches_python() {
        assert_eq!(fsum(&[0.8, 0.1, 0.1]), 1.0);
        assert_eq!(fsum(&[0.7, 0.2, 0.1]), 1.0);
        // Plain left-to-right addition gives 0.9999999999999999 here; fsum is exact.
        assert_eq!(0.6 + 0.3 + 0.1, 0.9999999999999999);
        assert_eq!(fsum(&[0.6, 0.3, 0.1]), 1.0);
        assert_eq!(fsum(&[0.5, 0.25, 0.2]), 0.95);
        assert_eq!(fsum(&[]), 0.0);
        assert_eq!(fsum(&[1e100, 1.0, -1e100]), 1.0);
    }

    #[test]
    fn converts_like_gsprocessing() {
        let conf = json!({"version": "gconstruct-v0.1",
            "nodes": [{"node_type": "user", "node_id_col": "id",
                "format": {"name": "csv", "separator": "|"}, "files": "u.csv",
                "features": [
                    {"feature_col": "age", "feature_name": "a", "transform": {"name": "max_min_norm"}},
                    {"feature_col": "c", "transform": {"name": "to_categorical", "separator": ";"}},
                    {"feature_col": "t", "transform": {"name": "bert_hf", "bert_model": "m",
                                                       "max_seq_length": 8}},
                    {"feature_col": "v"}],
                "labels": [{"label_col": "y", "task_type": "classification",
                            "split_pct": [0.8, 0.1, 0.1], "mask_field_names": ["a", "b", "c"]}]}],
            "edges": [{"relation": ["user", "r", "user"], "source_id_col": "s",
                       "dest_id_col": "d", "format": {"name": "parquet"}, "files": ["e.parquet"],
                       "labels": [{"task_type": "link_prediction"}]}]});
        let e = export(&conf);
        assert!(e.converts(), "{:?}", e.findings);
        let expect = json!({"version": "gsprocessing-v1.0", "graph": {
            "nodes": [{"data": {"format": "csv", "files": ["u.csv"], "separator": "|"},
                "type": "user", "column": "id",
                "features": [
                    {"column": "age", "name": "a", "transformation": {"name": "numerical",
                        "kwargs": {"normalizer": "min-max", "imputer": "mean"}}},
                    {"column": "c", "transformation": {"name": "multi-categorical",
                        "kwargs": {"separator": ";"}}},
                    {"column": "t", "transformation": {"name": "huggingface", "kwargs":
                        {"action": "embedding_hf", "hf_model": "m", "max_seq_length": 8}}},
                    {"column": "v", "transformation": {"name": "no-op"}}],
                "labels": [{"column": "y", "type": "classification",
                    "split_rate": {"train": 0.8, "val": 0.1, "test": 0.1},
                    "mask_field_names": ["a", "b", "c"]}]}],
            "edges": [{"data": {"format": "parquet", "files": ["e.parquet"]},
                "source": {"column": "s", "type": "user"}, "dest": {"column": "d", "type": "user"},
                "relation": {"type": "r"},
                "labels": [{"column": "", "type": "link_prediction"}]}]}});
        assert_eq!(e.config, expect);
        assert!(check_gsprocessing_structure(&e.config).is_empty());
        // Only the imputer note on the min-max feature.
        assert_eq!(
            findings(&conf),
            vec![(
                Severity::Different,
                "nodes[0].features[0].transform.name".to_string()
            )]
        );
    }

    #[test]
    fn unsupported_transform_is_rejected_with_its_path_and_feature() {
        let conf = node_with(json!([{"feature_col": "x", "feature_name": "tab",
                                      "transform": {"name": "tabular", "target_col": "x"}}]));
        let e = export(&conf);
        assert!(!e.converts());
        let err = e.into_config().unwrap_err().to_string();
        assert!(err.contains("nodes[0].features[0].transform.name"), "{err}");
        assert!(
            err.contains("feature `tab`") && err.contains("\"tabular\""),
            "{err}"
        );
    }

    #[test]
    fn feature_col_list_keeps_only_the_first_column() {
        let conf = node_with(json!([{"feature_col": ["a", "b", "c"], "feature_name": "abc"}]));
        let e = export(&conf);
        assert_eq!(e.config["graph"]["nodes"][0]["features"][0]["column"], "a");
        assert_eq!(
            findings(&conf),
            vec![(Severity::Dropped, "nodes[0].features[0].feature_col".into())]
        );
        assert!(e.findings[0].message.contains("`b`, `c`"));
        let no_name = node_with(json!([{"feature_col": ["a", "b"]}]));
        assert!(!export(&no_name).converts());
    }

    #[test]
    fn csv_separator_and_slide_window_are_filled() {
        let mut conf = node_with(json!([{"feature_col": "x", "transform":
            {"name": "bucket_numerical", "bucket_cnt": 2, "range": [0, 10]}}]));
        conf["nodes"][0]["format"] = json!({"name": "csv"});
        let e = export(&conf);
        assert!(e.converts());
        let n = &e.config["graph"]["nodes"][0];
        assert_eq!(n["data"]["separator"], ",");
        assert_eq!(
            n["features"][0]["transformation"],
            json!({"name": "bucket-numerical", "kwargs": {"bucket_cnt": 2, "range": [0, 10],
                   "slide_window_size": 0, "imputer": "mean"}})
        );
        let f = findings(&conf);
        assert!(f.contains(&(Severity::Filled, "nodes[0].format.separator".into())));
        assert!(f.contains(&(
            Severity::Filled,
            "nodes[0].features[0].transform.slide_window_size".into()
        )));
        assert!(check_gsprocessing_structure(&e.config).is_empty());
    }

    #[test]
    fn dropped_and_rejected_keys() {
        let conf = json!({"version": "gconstruct-v0.1", "is_homogeneous": false,
            "nodes": [{"node_type": "n", "node_id_col": "id", "format": {"name": "json"},
                       "files": ["a?.json"],
                       "features": [{"feature_col": "x", "out_dtype": "float16",
                                     "transform": {"name": "max_min_norm", "max_bound": 3}}],
                       "labels": [{"label_col": "y", "task_type": "classification",
                                   "split_pct": [0.5, 0.2, 0.2], "label_stats_type": "frequency_cnt"}]}],
            "edges": []});
        let f = findings(&conf);
        let has = |s: Severity, p: &str| f.contains(&(s, p.to_string()));
        assert!(has(Severity::Dropped, "is_homogeneous"), "{f:?}");
        assert!(has(Severity::Rejected, "nodes[0].format.name"), "{f:?}");
        assert!(has(Severity::Rejected, "nodes[0].files[0]"), "{f:?}");
        assert!(
            has(Severity::Rejected, "nodes[0].features[0].out_dtype"),
            "{f:?}"
        );
        assert!(
            has(
                Severity::Dropped,
                "nodes[0].features[0].transform.max_bound"
            ),
            "{f:?}"
        );
        assert!(
            has(Severity::Rejected, "nodes[0].labels[0].split_pct"),
            "{f:?}"
        );
        assert!(
            has(Severity::Dropped, "nodes[0].labels[0].label_stats_type"),
            "{f:?}"
        );
    }

    #[test]
    fn already_gsprocessing_is_rejected() {
        let f = findings(&json!({"version": "gsprocessing-v1.0", "graph": {}}));
        assert!(f.contains(&(Severity::Rejected, "version".into())), "{f:?}");
    }

    #[test]
    fn structure_check_catches_parser_violations() {
        let bad = json!({"version": "gsprocessing-v1.0", "graph": {"nodes": [
            {"data": {"format": "csv", "files": ["/abs.csv"]}, "type": "n", "column": 1,
             "features": [{"column": "x", "transformation": {"name": "bucket_numerical"}}],
             "labels": [{"type": "link_prediction"}]}]}});
        let v = check_gsprocessing_structure(&bad).join("\n");
        for want in [
            "graph.edges",
            "graph.nodes[0].data.separator",
            "graph.nodes[0].data.files",
            "graph.nodes[0].column",
            "graph.nodes[0].features[0].transformation.name",
            "graph.nodes[0].labels[0].type",
        ] {
            assert!(v.contains(want), "{want} not in {v}");
        }
    }
}
