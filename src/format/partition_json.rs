//! The DistDGL partition config (`<output-dir>/<graph-name>.json`, spec `distdgl-format.md`
//! §2) as one typed struct, both directions, plus the one JSON printer that lays out JSON the
//! way Python's `json.dump(obj, f, indent=4)` does (used for every JSON file graphprep writes).
//!
//! Maps keep their file order (`node_map`, `ntypes`, ... are ordered lists of pairs), so a
//! config read back and printed again is byte-identical. [`PartitionConfig::validate`] checks
//! what DGL's `load_partition_book` checks (type IDs `0..T-1`, one range per partition,
//! partition-major type-minor ranges tiling `0..num_nodes`) and the `part-<i>` entries.
//!
//! # Memory
//! O(types × partitions).

use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

/// The files of one partition, relative to the config's folder (or absolute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartFiles {
    pub node_feats: String,
    pub edge_feats: String,
    pub part_graph: String,
}

impl PartFiles {
    fn to_value(&self) -> Value {
        json!({"node_feats": self.node_feats, "edge_feats": self.edge_feats, "part_graph": self.part_graph})
    }
}

/// A `[start, end)` range of homogeneous IDs.
pub type IdRange = [u64; 2];

/// The partition config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionConfig {
    pub graph_name: String,
    pub num_nodes: u64,
    pub num_edges: u64,
    /// `"metis"`, `"random"` or `"None"`; absent in some hand-made configs.
    pub part_method: Option<String>,
    pub num_parts: usize,
    pub halo_hops: Option<u64>,
    /// `(ntype, one range per partition)`, in file order.
    pub node_map: Vec<(String, Vec<IdRange>)>,
    /// `("src:rel:dst", one range per partition)`, in file order.
    pub edge_map: Vec<(String, Vec<IdRange>)>,
    /// `(ntype, type ID)`, in file order.
    pub ntypes: Vec<(String, usize)>,
    /// `("src:rel:dst", type ID)`, in file order.
    pub etypes: Vec<(String, usize)>,
    /// `part-0`, `part-1`, ...
    pub parts: Vec<PartFiles>,
}

impl PartitionConfig {
    /// The standard files of partition `p` (`part{p}/node_feat.dgl`, ...).
    pub fn standard_part_files(p: usize) -> PartFiles {
        PartFiles {
            node_feats: format!("part{p}/node_feat.dgl"),
            edge_feats: format!("part{p}/edge_feat.dgl"),
            part_graph: format!("part{p}/graph.dgl"),
        }
    }

    /// The config as a JSON value, keys in DGL's order.
    pub fn to_value(&self) -> Value {
        let ranges = |m: &Vec<IdRange>| {
            Value::from(m.iter().map(|r| json!([r[0], r[1]])).collect::<Vec<_>>())
        };
        let mut root = Map::new();
        root.insert("graph_name".into(), json!(self.graph_name));
        root.insert("num_nodes".into(), json!(self.num_nodes));
        root.insert("num_edges".into(), json!(self.num_edges));
        if let Some(m) = &self.part_method {
            root.insert("part_method".into(), json!(m));
        }
        root.insert("num_parts".into(), json!(self.num_parts));
        if let Some(h) = self.halo_hops {
            root.insert("halo_hops".into(), json!(h));
        }
        let map = |m: &[(String, Vec<IdRange>)]| {
            Value::Object(m.iter().map(|(k, r)| (k.clone(), ranges(r))).collect())
        };
        let ids = |m: &[(String, usize)]| {
            Value::Object(m.iter().map(|(k, i)| (k.clone(), json!(i))).collect())
        };
        root.insert("node_map".into(), map(&self.node_map));
        root.insert("edge_map".into(), map(&self.edge_map));
        root.insert("ntypes".into(), ids(&self.ntypes));
        root.insert("etypes".into(), ids(&self.etypes));
        for (p, f) in self.parts.iter().enumerate() {
            root.insert(format!("part-{p}"), f.to_value());
        }
        Value::Object(root)
    }

    /// The file's text: [`python_json`] of [`PartitionConfig::to_value`].
    pub fn to_json(&self) -> String {
        python_json(&self.to_value())
    }

    /// Parses a config from its JSON value; errors name the key (`node_map.user[1]`).
    ///
    /// ```
    /// use graphprep::format::partition_json::PartitionConfig;
    ///
    /// let v = serde_json::json!({
    ///     "graph_name": "g", "num_nodes": 3, "num_edges": 1, "num_parts": 1,
    ///     "node_map": {"_N": [[0, 3]]}, "edge_map": {"_N:_E:_N": [[0, 1]]},
    ///     "part-0": {"node_feats": "part0/node_feat.dgl", "edge_feats": "part0/edge_feat.dgl",
    ///                "part_graph": "part0/graph.dgl"}});
    /// let c = PartitionConfig::from_value(&v).unwrap();
    /// assert_eq!(c.node_ranges(), vec![vec![[0, 3]]]);
    /// let mut bad = v.clone();
    /// bad["num_nodes"] = 4.into();
    /// let e = PartitionConfig::from_value(&bad).unwrap_err();
    /// assert!(e.contains("node_map: ranges cover 3 IDs, the config says 4"), "{e}");
    /// ```
    pub fn from_value(v: &Value) -> std::result::Result<PartitionConfig, String> {
        let root = v
            .as_object()
            .ok_or("the partition config is not a JSON object")?;
        let get = |k: &str| root.get(k).ok_or_else(|| format!("missing key '{k}'"));
        let uint = |k: &str| -> std::result::Result<u64, String> {
            get(k)?
                .as_u64()
                .ok_or_else(|| format!("'{k}' must be a non-negative integer"))
        };
        let graph_name = get("graph_name")?
            .as_str()
            .ok_or("'graph_name' must be a string")?
            .to_string();
        let num_parts = uint("num_parts")? as usize;
        let parse_map = |k: &str| -> std::result::Result<Vec<(String, Vec<IdRange>)>, String> {
            let m = get(k)?
                .as_object()
                .ok_or_else(|| format!("'{k}' must be an object"))?;
            m.iter()
                .map(|(name, r)| Ok((name.clone(), parse_ranges(r, num_parts, k, name)?)))
                .collect()
        };
        let parse_ids =
            |k: &str, default: &str| -> std::result::Result<Vec<(String, usize)>, String> {
                match root.get(k) {
                    None => Ok(vec![(default.to_string(), 0)]),
                    Some(v) => v
                        .as_object()
                        .ok_or_else(|| format!("'{k}' must be an object"))?
                        .iter()
                        .map(|(name, id)| {
                            id.as_u64()
                                .map(|i| (name.clone(), i as usize))
                                .ok_or_else(|| format!("{k}.{name} must be a non-negative integer"))
                        })
                        .collect(),
                }
            };
        let mut parts = Vec::with_capacity(num_parts.min(1 << 16));
        for p in 0..num_parts {
            let key = format!("part-{p}");
            let e = get(&key)?
                .as_object()
                .ok_or_else(|| format!("'{key}' must be an object"))?;
            let file = |f: &str| {
                e.get(f)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("{key}.{f} missing or not a string"))
            };
            parts.push(PartFiles {
                node_feats: file("node_feats")?,
                edge_feats: file("edge_feats")?,
                part_graph: file("part_graph")?,
            });
        }
        let cfg = PartitionConfig {
            graph_name,
            num_nodes: uint("num_nodes")?,
            num_edges: uint("num_edges")?,
            part_method: root
                .get("part_method")
                .and_then(Value::as_str)
                .map(str::to_string),
            num_parts,
            halo_hops: root.get("halo_hops").and_then(Value::as_u64),
            node_map: parse_map("node_map")?,
            edge_map: parse_map("edge_map")?,
            ntypes: parse_ids("ntypes", "_N")?,
            etypes: parse_ids("etypes", "_N:_E:_N")?,
            parts,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and checks a partition config file.
    pub fn load(path: &Path) -> Result<PartitionConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                path,
                format!(
                    "not valid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        PartitionConfig::from_value(&v)
            .map_err(|m| Error::input(path, format!("partition config: {m}")))
    }

    /// The checks of DGL's `load_partition_book`, plus consistency of the counts.
    pub fn validate(&self) -> std::result::Result<(), String> {
        check_type_ids("ntypes", &self.ntypes)?;
        check_type_ids("etypes", &self.etypes)?;
        let nodes = ordered_ranges("node_map", &self.node_map, &self.ntypes, self.num_parts)?;
        let edges = ordered_ranges("edge_map", &self.edge_map, &self.etypes, self.num_parts)?;
        tiles("node_map", &nodes, self.num_parts, self.num_nodes)?;
        tiles("edge_map", &edges, self.num_parts, self.num_edges)?;
        if self.parts.len() != self.num_parts {
            return Err(format!(
                "num_parts is {} but {} part entries were given",
                self.num_parts,
                self.parts.len()
            ));
        }
        Ok(())
    }

    /// Node-type names in type-ID order.
    pub fn ntype_names(&self) -> Vec<String> {
        by_id(&self.ntypes)
    }

    /// Canonical edge-type keys (`src:rel:dst`) in type-ID order.
    pub fn etype_keys(&self) -> Vec<String> {
        by_id(&self.etypes)
    }

    /// `ranges[t][p]` of node type `t` (type-ID order); validated configs only.
    pub fn node_ranges(&self) -> Vec<Vec<IdRange>> {
        in_id_order(&self.node_map, &self.ntypes)
    }

    /// `ranges[r][p]` of edge type `r` (type-ID order); validated configs only.
    pub fn edge_ranges(&self) -> Vec<Vec<IdRange>> {
        in_id_order(&self.edge_map, &self.etypes)
    }

    /// Absolute path of a file named in the config (relative names are joined to `dir`, the
    /// config's folder, as DGL does).
    pub fn resolve(dir: &Path, file: &str) -> PathBuf {
        let p = Path::new(file);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    }
}

fn parse_ranges(
    v: &Value,
    num_parts: usize,
    key: &str,
    name: &str,
) -> std::result::Result<Vec<IdRange>, String> {
    let list = v
        .as_array()
        .ok_or_else(|| format!("{key}.{name} must be a list"))?;
    // Legacy homogeneous form: a flat list of cumulative ends.
    if list.iter().all(Value::is_u64) && !list.is_empty() {
        let mut start = 0;
        return list
            .iter()
            .map(|e| {
                let end = e.as_u64().unwrap_or(0);
                let r = [start, end];
                start = end;
                Ok(r)
            })
            .collect();
    }
    if list.len() != num_parts {
        return Err(format!(
            "{key}.{name} has {} ranges, expected one per partition ({num_parts})",
            list.len()
        ));
    }
    list.iter()
        .enumerate()
        .map(|(p, r)| {
            let pair = r.as_array().filter(|a| a.len() == 2);
            match pair.map(|a| (a[0].as_u64(), a[1].as_u64())) {
                Some((Some(a), Some(b))) if a <= b => Ok([a, b]),
                _ => Err(format!(
                    "{key}.{name}[{p}] must be [start, end] with 0 <= start <= end"
                )),
            }
        })
        .collect()
}

fn check_type_ids(key: &str, ids: &[(String, usize)]) -> std::result::Result<(), String> {
    let mut seen = vec![false; ids.len()];
    for (name, id) in ids {
        match seen.get_mut(*id) {
            Some(s) if !*s => *s = true,
            _ => {
                return Err(format!(
                    "{key}.{name} = {id}: type IDs must be 0..{} without repeats",
                    ids.len()
                ))
            }
        }
    }
    Ok(())
}

fn by_id(ids: &[(String, usize)]) -> Vec<String> {
    let mut v: Vec<(usize, String)> = ids.iter().map(|(n, i)| (*i, n.clone())).collect();
    v.sort();
    v.into_iter().map(|(_, n)| n).collect()
}

fn in_id_order(map: &[(String, Vec<IdRange>)], ids: &[(String, usize)]) -> Vec<Vec<IdRange>> {
    by_id(ids)
        .iter()
        .map(|n| {
            map.iter()
                .find(|(k, _)| k == n)
                .map(|(_, r)| r.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// The map's ranges in type-ID order; every type has an entry and every entry a type.
fn ordered_ranges(
    key: &str,
    map: &[(String, Vec<IdRange>)],
    ids: &[(String, usize)],
    num_parts: usize,
) -> std::result::Result<Vec<Vec<IdRange>>, String> {
    for (name, r) in map {
        if !ids.iter().any(|(n, _)| n == name) {
            return Err(format!(
                "{key}.{name} names a type missing from the type list"
            ));
        }
        if r.len() != num_parts {
            return Err(format!(
                "{key}.{name} has {} ranges, expected {num_parts}",
                r.len()
            ));
        }
    }
    if map.len() != ids.len() {
        return Err(format!(
            "{key} has {} types, the type list {}",
            map.len(),
            ids.len()
        ));
    }
    Ok(in_id_order(map, ids))
}

/// Partition-major, type-minor ranges must tile `0..total` in order.
fn tiles(
    key: &str,
    ranges: &[Vec<IdRange>],
    num_parts: usize,
    total: u64,
) -> std::result::Result<(), String> {
    let mut off = 0;
    for p in 0..num_parts {
        for r in ranges {
            let [a, b] = r[p];
            if a != off {
                return Err(format!(
                    "{key}: partition {p}'s ranges are not contiguous in partition-major, \
                     type-minor order (range starts at {a}, expected {off})"
                ));
            }
            off = b;
        }
    }
    if off != total {
        return Err(format!(
            "{key}: ranges cover {off} IDs, the config says {total}"
        ));
    }
    Ok(())
}

impl Serialize for PartitionConfig {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PartitionConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        PartitionConfig::from_value(&v).map_err(D::Error::custom)
    }
}

/// `json.dumps(v, indent=4)`: 4-space indentation, `", "`-free separators, non-ASCII escaped
/// as `\uXXXX` (Python's default `ensure_ascii=True`), no trailing newline.
pub fn python_json(v: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    // Serializing a `Value` into a Vec cannot fail.
    Serialize::serialize(v, &mut ser).unwrap_or_default();
    let s = String::from_utf8_lossy(&buf);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Writes [`python_json`] of `v` to a new file at `path`.
pub fn save_python_json(path: &Path, v: &Value) -> Result<()> {
    std::fs::write(path, python_json(v)).map_err(|e| Error::write(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> PartitionConfig {
        PartitionConfig {
            graph_name: "toy".into(),
            num_nodes: 7,
            num_edges: 9,
            part_method: Some("random".into()),
            num_parts: 2,
            halo_hops: Some(1),
            node_map: vec![
                ("item".into(), vec![[0, 2], [4, 5]]),
                ("user".into(), vec![[2, 4], [5, 7]]),
            ],
            edge_map: vec![
                ("user:clicks:item".into(), vec![[0, 4], [6, 7]]),
                ("user:follows:user".into(), vec![[4, 6], [7, 9]]),
            ],
            ntypes: vec![("item".into(), 0), ("user".into(), 1)],
            etypes: vec![
                ("user:clicks:item".into(), 0),
                ("user:follows:user".into(), 1),
            ],
            parts: (0..2).map(PartitionConfig::standard_part_files).collect(),
        }
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let c = toy();
        let text = c.to_json();
        assert!(text.starts_with("{\n    \"graph_name\": \"toy\",\n    \"num_nodes\": 7,"));
        let v: Value = serde_json::from_str(&text).unwrap();
        let back = PartitionConfig::from_value(&v).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.to_json(), text);
        assert_eq!(back.node_ranges()[1], vec![[2, 4], [5, 7]]);
        let via_serde: PartitionConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(via_serde, c);
    }

    #[test]
    fn rejects_what_dgl_rejects() {
        let bad = |edit: &dyn Fn(&mut Value), phrase: &str| {
            let mut v = toy().to_value();
            edit(&mut v);
            let e = PartitionConfig::from_value(&v).unwrap_err();
            assert!(e.contains(phrase), "{e} does not contain {phrase}");
        };
        bad(
            &|v| v["node_map"]["item"][1] = json!([3, 5]),
            "not contiguous",
        );
        bad(&|v| v["ntypes"]["user"] = json!(0), "type IDs must be 0..2");
        bad(
            &|v| v["num_nodes"] = json!(8),
            "cover 7 IDs, the config says 8",
        );
        bad(
            &|v| v["edge_map"]["user:clicks:item"] = json!([[0, 4]]),
            "expected one per partition",
        );
        bad(
            &|v| {
                v.as_object_mut().unwrap().remove("part-1");
            },
            "missing key 'part-1'",
        );
        bad(
            &|v| v["node_map"]["item"][0] = json!([2, 0]),
            "0 <= start <= end",
        );
    }

    #[test]
    fn legacy_homogeneous_map() {
        let v = json!({"graph_name": "h", "num_nodes": 5, "num_edges": 3, "num_parts": 2,
            "node_map": {"_N": [2, 5]}, "edge_map": {"_N:_E:_N": [1, 3]},
            "part-0": PartitionConfig::standard_part_files(0).to_value(),
            "part-1": PartitionConfig::standard_part_files(1).to_value()});
        let c = PartitionConfig::from_value(&v).unwrap();
        assert_eq!(c.node_map[0].1, vec![[0, 2], [2, 5]]);
        assert_eq!(c.ntypes, vec![("_N".to_string(), 0)]);
    }

    #[test]
    fn python_json_escapes_like_json_dump() {
        assert_eq!(
            python_json(&json!({"é": "x😀"})),
            "{\n    \"\\u00e9\": \"x\\ud83d\\ude00\"\n}"
        );
    }
}
