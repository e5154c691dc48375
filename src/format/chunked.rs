//! DGL's "chunked graph format" (spec `distdgl-format.md` §10): the input of DGL's distributed
//! partitioning pipeline and the output of GraphStorm's GSProcessing.
//!
//! * [`Metadata`]: `metadata.json` (`graph_name`, `node_type`, `num_nodes_per_type`,
//!   `edge_type`, `num_edges_per_type`, the per-chunk counts, `edges`, `node_data`,
//!   `edge_data`, and GSProcessing's `raw_id_mappings` and per-file `row_counts`), read and
//!   written with the file order kept (file order defines node and edge IDs).
//! * [`PartitionMeta`] and the `<ntype>.txt` files: the partition assignment of DGL's step 1
//!   (`partition_meta.json`, one partition ID per line per node).
//!
//! Reading checks the structure (types, counts, one entry per type) and names the JSON path of
//! what is wrong; the data files themselves are read by `dataset::chunked`.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

/// The format of one file list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// `.npy` files (`{"name": "numpy"}`).
    Numpy,
    /// Parquet files (`{"name": "parquet"}`).
    Parquet,
    /// Text files, one row per line (`{"name": "csv", "delimiter": " "}`; DGL's reader always
    /// splits on a single space).
    Csv,
}

impl FileFormat {
    fn to_json(&self) -> Value {
        match self {
            FileFormat::Numpy => json!({"name": "numpy"}),
            FileFormat::Parquet => json!({"name": "parquet"}),
            FileFormat::Csv => json!({"name": "csv", "delimiter": " "}),
        }
    }
}

/// The files of one edge list, feature or raw ID map, in ID order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSet {
    pub format: FileFormat,
    /// Paths relative to the folder of `metadata.json` (or absolute).
    pub data: Vec<String>,
    /// Rows per file (GSProcessing writes them; DGL ignores them).
    pub row_counts: Option<Vec<u64>>,
}

impl FileSet {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("format".into(), self.format.to_json());
        m.insert("data".into(), json!(self.data));
        if let Some(rc) = &self.row_counts {
            m.insert("row_counts".into(), json!(rc));
        }
        Value::Object(m)
    }
}

/// Data arrays per type: (type key, [(array name, files)]).
pub type DataSets = Vec<(String, Vec<(String, FileSet)>)>;

/// `metadata.json` of a chunked graph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub graph_name: String,
    /// Node type names; the index is the type ID (global-ID offset order).
    pub node_type: Vec<String>,
    pub num_nodes_per_type: Vec<u64>,
    /// Informational (DGL 2.1 does not read it).
    pub num_nodes_per_chunk: Option<Vec<Vec<u64>>>,
    /// Canonical edge types `"src:rel:dst"`; the index is the type ID.
    pub edge_type: Vec<String>,
    /// Optional in DGL 2.1's schema; graphprep always writes it.
    pub num_edges_per_type: Option<Vec<u64>>,
    pub num_edges_per_chunk: Option<Vec<Vec<u64>>>,
    /// Edge files per edge type, in `edge_type` order.
    pub edges: Vec<(String, FileSet)>,
    /// Node data per node type: (type, [(name, files)]).
    pub node_data: DataSets,
    /// Edge data per edge type: (`src:rel:dst`, [(name, files)]).
    pub edge_data: DataSets,
    /// GSProcessing's (and graphprep's) raw ID map files per node type.
    pub raw_id_mappings: Vec<(String, FileSet)>,
    /// Every other top-level key, kept as it is (GSProcessing's `graph_info`, graphprep's
    /// `graphprep` section).
    pub extra: Map<String, Value>,
}

fn bad(file: &Path, at: &str, msg: impl std::fmt::Display) -> Error {
    Error::input(file, format!("{at}: {msg}"))
}

/// JSON type name of a value, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A JSON list whose every element `get` accepts (`what` names the element kind in errors).
fn list_of<T>(
    file: &Path,
    at: &str,
    v: &Value,
    what: &str,
    get: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<T>> {
    let arr = v
        .as_array()
        .ok_or_else(|| bad(file, at, format!("expected a list, found {}", kind(v))))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            get(x).ok_or_else(|| {
                bad(
                    file,
                    &format!("{at}[{i}]"),
                    format!("expected {what}, found {x}"),
                )
            })
        })
        .collect()
}

fn strings(file: &Path, at: &str, v: &Value) -> Result<Vec<String>> {
    list_of(file, at, v, "a string", |x| x.as_str().map(str::to_string))
}

fn counts(file: &Path, at: &str, v: &Value) -> Result<Vec<u64>> {
    list_of(file, at, v, "a non-negative integer", Value::as_u64)
}

fn nested_counts(file: &Path, at: &str, v: &Value) -> Result<Vec<Vec<u64>>> {
    let arr = v
        .as_array()
        .ok_or_else(|| bad(file, at, format!("expected a list, found {}", kind(v))))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| counts(file, &format!("{at}[{i}]"), x))
        .collect()
}

fn object<'a>(file: &Path, at: &str, v: &'a Value) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(file, at, format!("expected an object, found {}", kind(v))))
}

fn file_set(file: &Path, at: &str, v: &Value) -> Result<FileSet> {
    let o = object(file, at, v)?;
    let fmt = o
        .get("format")
        .ok_or_else(|| bad(file, at, "missing key `format`"))?;
    let fo = object(file, &format!("{at}.format"), fmt)?;
    let name = fo
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(file, &format!("{at}.format"), "missing string key `name`"))?;
    let format = match name {
        "numpy" => FileFormat::Numpy,
        "parquet" => FileFormat::Parquet,
        "csv" => FileFormat::Csv,
        other => {
            return Err(bad(
                file,
                &format!("{at}.format.name"),
                format!("unknown format '{other}'; DGL's pipeline reads numpy, parquet or csv"),
            ))
        }
    };
    let data = strings(
        file,
        &format!("{at}.data"),
        o.get("data")
            .ok_or_else(|| bad(file, at, "missing key `data`"))?,
    )?;
    if data.is_empty() {
        return Err(bad(file, &format!("{at}.data"), "lists no files"));
    }
    let row_counts = match o.get("row_counts") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let rc = counts(file, &format!("{at}.row_counts"), v)?;
            if rc.len() != data.len() {
                return Err(bad(
                    file,
                    &format!("{at}.row_counts"),
                    format!("has {} entries for {} files", rc.len(), data.len()),
                ));
            }
            Some(rc)
        }
    };
    Ok(FileSet {
        format,
        data,
        row_counts,
    })
}

fn data_sets(file: &Path, at: &str, v: Option<&Value>) -> Result<DataSets> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (ty, feats) in object(file, at, v)? {
        let mut list = Vec::new();
        for (name, fs) in object(file, &format!("{at}.{ty}"), feats)? {
            list.push((
                name.clone(),
                file_set(file, &format!("{at}.{ty}.{name}"), fs)?,
            ));
        }
        out.push((ty.clone(), list));
    }
    Ok(out)
}

impl Metadata {
    /// Parses `metadata.json` (`file` names it in errors).
    pub fn parse(text: &str, file: &Path) -> Result<Metadata> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            Error::input(
                file,
                format!(
                    "not valid JSON (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let top = object(file, "metadata.json", &v)?;
        let req = |k: &str| {
            top.get(k)
                .ok_or_else(|| bad(file, k, "missing required key (DGL's pipeline reads it)"))
        };
        let node_type = strings(file, "node_type", req("node_type")?)?;
        let num_nodes_per_type = counts(file, "num_nodes_per_type", req("num_nodes_per_type")?)?;
        if num_nodes_per_type.len() != node_type.len() {
            return Err(bad(
                file,
                "num_nodes_per_type",
                format!(
                    "has {} entries for {} node types",
                    num_nodes_per_type.len(),
                    node_type.len()
                ),
            ));
        }
        let edge_type = strings(file, "edge_type", req("edge_type")?)?;
        let num_edges_per_type = match top.get("num_edges_per_type") {
            None => None,
            Some(v) => {
                let c = counts(file, "num_edges_per_type", v)?;
                if c.len() != edge_type.len() {
                    return Err(bad(
                        file,
                        "num_edges_per_type",
                        format!("has {} entries for {} edge types", c.len(), edge_type.len()),
                    ));
                }
                Some(c)
            }
        };
        let opt_nested = |k: &str| -> Result<Option<Vec<Vec<u64>>>> {
            top.get(k).map(|v| nested_counts(file, k, v)).transpose()
        };
        let edges_obj = object(file, "edges", req("edges")?)?;
        let mut edges = Vec::new();
        for (et, fs) in edges_obj {
            if !edge_type.contains(et) {
                return Err(bad(
                    file,
                    &format!("edges.{et}"),
                    "is not listed in `edge_type`",
                ));
            }
            edges.push((et.clone(), file_set(file, &format!("edges.{et}"), fs)?));
        }
        // keep edge_type order
        let mut ordered = Vec::with_capacity(edge_type.len());
        for et in &edge_type {
            let Some(i) = edges.iter().position(|(k, _)| k == et) else {
                return Err(bad(
                    file,
                    "edges",
                    format!("has no entry for edge type '{et}' listed in `edge_type`"),
                ));
            };
            ordered.push(edges.swap_remove(i));
        }
        let node_data = data_sets(file, "node_data", top.get("node_data"))?;
        for (t, _) in &node_data {
            if !node_type.contains(t) {
                return Err(bad(
                    file,
                    &format!("node_data.{t}"),
                    "is not a node type listed in `node_type`",
                ));
            }
        }
        let edge_data = data_sets(file, "edge_data", top.get("edge_data"))?;
        for (t, _) in &edge_data {
            if !edge_type.contains(t) {
                return Err(bad(
                    file,
                    &format!("edge_data.{t}"),
                    "is not an edge type listed in `edge_type`",
                ));
            }
        }
        let mut raw_id_mappings = Vec::new();
        if let Some(v) = top.get("raw_id_mappings") {
            for (t, fs) in object(file, "raw_id_mappings", v)? {
                raw_id_mappings.push((
                    t.clone(),
                    file_set(file, &format!("raw_id_mappings.{t}"), fs)?,
                ));
            }
        }
        const KNOWN: [&str; 12] = [
            "graph_name",
            "node_type",
            "num_nodes_per_type",
            "num_nodes_per_chunk",
            "edge_type",
            "num_edges_per_type",
            "num_edges_per_chunk",
            "edges",
            "node_data",
            "edge_data",
            "raw_id_mappings",
            "version",
        ];
        let extra = top
            .iter()
            .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Metadata {
            graph_name: top
                .get("graph_name")
                .and_then(Value::as_str)
                .unwrap_or("graph")
                .to_string(),
            node_type,
            num_nodes_per_type,
            num_nodes_per_chunk: opt_nested("num_nodes_per_chunk")?,
            edge_type,
            num_edges_per_type,
            num_edges_per_chunk: opt_nested("num_edges_per_chunk")?,
            edges: ordered,
            node_data,
            edge_data,
            raw_id_mappings,
            extra,
        })
    }

    /// Reads `path` (`metadata.json`).
    pub fn load(path: &Path) -> Result<Metadata> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
        Metadata::parse(&text, path)
    }

    /// The JSON document, keys in DGL's documented order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("graph_name".into(), json!(self.graph_name));
        m.insert("node_type".into(), json!(self.node_type));
        m.insert("num_nodes_per_type".into(), json!(self.num_nodes_per_type));
        if let Some(c) = &self.num_nodes_per_chunk {
            m.insert("num_nodes_per_chunk".into(), json!(c));
        }
        m.insert("edge_type".into(), json!(self.edge_type));
        if let Some(c) = &self.num_edges_per_type {
            m.insert("num_edges_per_type".into(), json!(c));
        }
        if let Some(c) = &self.num_edges_per_chunk {
            m.insert("num_edges_per_chunk".into(), json!(c));
        }
        let sets = |l: &[(String, FileSet)]| {
            Value::Object(l.iter().map(|(k, f)| (k.clone(), f.to_json())).collect())
        };
        let data =
            |l: &DataSets| Value::Object(l.iter().map(|(k, f)| (k.clone(), sets(f))).collect());
        m.insert("edges".into(), sets(&self.edges));
        m.insert("node_data".into(), data(&self.node_data));
        m.insert("edge_data".into(), data(&self.edge_data));
        if !self.raw_id_mappings.is_empty() {
            m.insert("raw_id_mappings".into(), sets(&self.raw_id_mappings));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// `partition_meta.json` of a partition assignment folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionMeta {
    /// `"metis"` or `"random"` (the only names DGL's `load_partition_meta` accepts).
    pub algo_name: String,
    pub num_parts: u32,
}

impl PartitionMeta {
    pub fn to_json(&self) -> Value {
        json!({"algo_name": self.algo_name, "num_parts": self.num_parts, "version": "1.0.0"})
    }

    /// Reads and checks `partition_meta.json` as DGL's `load_partition_meta` does.
    pub fn load(path: &Path) -> Result<PartitionMeta> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(path, format!("not valid JSON: {e}")))?;
        let version = v.get("version").and_then(Value::as_str);
        if version != Some("1.0.0") {
            return Err(bad(path, "version", "must be \"1.0.0\""));
        }
        let algo_name = match v.get("algo_name").and_then(Value::as_str) {
            Some(a @ ("metis" | "random")) => a.to_string(),
            _ => return Err(bad(path, "algo_name", "must be \"metis\" or \"random\"")),
        };
        let num_parts = v
            .get("num_parts")
            .and_then(Value::as_u64)
            .filter(|&n| n > 0 && n <= u64::from(u32::MAX))
            .ok_or_else(|| bad(path, "num_parts", "must be a positive integer"))?;
        Ok(PartitionMeta {
            algo_name,
            num_parts: num_parts as u32,
        })
    }
}

/// Writes `<dir>/<ntype>.txt`: one partition ID per line, line `i` = node `i` of the type.
pub fn save_assignment_txt(path: &Path, parts: &[u32]) -> Result<()> {
    super::write_file(path, |w| {
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in parts.chunks(1 << 13) {
            buf.clear();
            for &p in chunk {
                push_decimal(&mut buf, p);
                buf.push(b'\n');
            }
            w.write_all(&buf)?;
        }
        Ok(())
    })
}

fn push_decimal(buf: &mut Vec<u8>, mut v: u32) {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Reads a `<ntype>.txt` assignment file (`num_parts` bounds the IDs).
pub fn load_assignment_txt(path: &Path, num_parts: u32) -> Result<Vec<u32>> {
    let text = std::fs::read(path).map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let p = std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .filter(|&p| p < num_parts)
            .ok_or_else(|| {
                Error::input(
                    path,
                    format!(
                        "line {}: expected a partition ID below {num_parts}, found '{}'",
                        i + 1,
                        String::from_utf8_lossy(line)
                    ),
                )
            })?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GSP: &str = r#"{"edge_type": ["user:clicks:item", "item:clicks-rev:user"],
      "node_type": ["item", "user"], "graph_name": "gsp",
      "num_nodes_per_type": [2, 3], "num_edges_per_type": [4, 4],
      "edges": {"item:clicks-rev:user": {"format": {"name": "parquet", "delimiter": ""},
                    "data": ["e/b0.parquet"], "row_counts": [4]},
                "user:clicks:item": {"format": {"name": "parquet", "delimiter": ""},
                    "data": ["e/a0.parquet", "e/a1.parquet"], "row_counts": [1, 3]}},
      "node_data": {"user": {"age": {"format": {"name": "parquet", "delimiter": ""},
                    "data": ["n/age.parquet"]}}},
      "edge_data": {},
      "raw_id_mappings": {"user": {"format": {"name": "parquet", "delimiter": ""},
                    "data": ["r/u.parquet"], "row_counts": [3]}},
      "graph_info": {"task_type": "node_class"}}"#;

    #[test]
    fn parses_gsprocessing_metadata_in_edge_type_order() {
        let m = Metadata::parse(GSP, Path::new("metadata.json")).unwrap();
        assert_eq!(m.node_type, ["item", "user"]);
        assert_eq!(m.edges[0].0, "user:clicks:item");
        assert_eq!(m.edges[0].1.row_counts, Some(vec![1, 3]));
        assert_eq!(m.edges[1].0, "item:clicks-rev:user");
        assert_eq!(m.node_data[0].1[0].0, "age");
        assert_eq!(m.raw_id_mappings[0].0, "user");
        assert!(m.extra.contains_key("graph_info"));
        let back = Metadata::parse(&m.to_json().to_string(), Path::new("x")).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn errors_name_the_json_path() {
        let cases = [
            (GSP.replace("\"num_nodes_per_type\": [2, 3]", "\"num_nodes_per_type\": [2]"), "num_nodes_per_type"),
            (GSP.replace("\"row_counts\": [1, 3]", "\"row_counts\": [1]"), "edges.user:clicks:item.row_counts"),
            (GSP.replace("\"name\": \"parquet\", \"delimiter\": \"\"},\n                    \"data\": [\"n/", "\"name\": \"hdf5\"},\n                    \"data\": [\"n/"), "node_data.user.age.format.name"),
            (GSP.replace("\"node_data\": {\"user\"", "\"node_data\": {\"nobody\""), "node_data.nobody"),
            (GSP.replace("\"edge_type\": [\"user:clicks:item\", ", "\"edge_type\": [").replace("\"num_edges_per_type\": [4, 4]", "\"num_edges_per_type\": [4]"), "edges.user:clicks:item"),
        ];
        for (text, path) in cases {
            let e = Metadata::parse(&text, Path::new("metadata.json"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(path) && e.contains("metadata.json"),
                "{path}: {e}"
            );
        }
    }

    #[test]
    fn assignment_files_round_trip_and_partition_meta_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("user.txt");
        let parts = vec![0, 3, 10, 2, 0, 123456];
        save_assignment_txt(&p, &parts).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "0\n3\n10\n2\n0\n123456\n"
        );
        assert_eq!(load_assignment_txt(&p, 200000).unwrap(), parts);
        assert!(load_assignment_txt(&p, 4)
            .unwrap_err()
            .to_string()
            .contains("line 3"));
        let m = dir.path().join("partition_meta.json");
        let meta = PartitionMeta {
            algo_name: "metis".into(),
            num_parts: 4,
        };
        std::fs::write(&m, meta.to_json().to_string()).unwrap();
        assert_eq!(PartitionMeta::load(&m).unwrap(), meta);
        std::fs::write(
            &m,
            r#"{"algo_name": "parmetis", "num_parts": 4, "version": "1.0.0"}"#,
        )
        .unwrap();
        assert!(PartitionMeta::load(&m)
            .unwrap_err()
            .to_string()
            .contains("algo_name"));
    }
}
