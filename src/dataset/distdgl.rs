//! A DistDGL output directory read back: the partition book, each partition's graph, its
//! node/edge feature dicts, the ID mappings and the raw ID maps, as typed, memory-mapped views.
//! It reads graphprep's `construct` output and GraphStorm's own `construct_graph` output
//! (DGL 2.1's `partition_graph`) alike.
//!
//! ```no_run
//! use graphprep::dataset::distdgl;
//!
//! let out = distdgl::open("out/".as_ref())?;          // the folder or the partition JSON
//! for p in 0..out.num_parts() {
//!     let part = out.partition(p)?;                  // graph.dgl + *_feat.dgl, mapped
//!     let csc = part.csc()?;                         // in-edges per local node
//!     let feat = part.node_feat("paper", "feat");    // rows = the partition's paper nodes
//!     # let _ = (csc, feat);
//! }
//! # Ok::<(), graphprep::error::Error>(())
//! ```
//!
//! What opening checks (everything a consumer relies on, spec `distdgl-format.md` §2–§4, in
//! O(nodes + edges) of 1-byte flags, never the feature payloads):
//! * the partition JSON ([`PartitionConfig::validate`]: type IDs, range tiling);
//! * per partition, `graph.dgl` is one homogeneous relation with a COO section, `_ID` and
//!   `inner_node`/`inner_edge` per local node/edge, the inner nodes (edges) first and exactly as
//!   many as the book gives the partition;
//! * every feature of `node_feat.dgl` / `edge_feat.dgl` is keyed `<type>/<name>` with a known
//!   type and has one row per node (edge) of that type in the partition.
//!
//! GraphStorm quirk read as intended: when a partition owns a single node (edge) of a type,
//! DGL 2.1's partitioning drops the row axis of that type's features (`(1, d)` is stored as
//! `(d,)`, `(1, 1)` as `(1,)`). The row axis is restored by comparing with the feature's shape
//! in a partition that owns more rows of the type (file headers only), or, when none does,
//! by treating a 1-D tensor of more than one element as one row.
//!
//! Endpoint values are checked when a structure is built ([`Partition::csc`]), as they would be
//! by any consumer walking them; node IDs of the book are checked by [`Partition::global_nid`].
//!
//! # Memory
//! Opening maps files and reads their headers: O(types × partitions + feature count). The
//! payloads stay in the page cache until touched. [`Partition::csc`] / [`Partition::csr`]
//! allocate `8·(local nodes + 1) + 16·edges` bytes each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::dgl::{load_graph, load_tensor_dict, GraphFile, IdArray};
use crate::format::partition_json::PartitionConfig;
use crate::format::pt::{load_pt, PtContent, PtKeyBuf};
use crate::format::raw_id_map::{load_raw_id_map, RawIdMap};
use crate::graph::csr::{compress_edges, Compressed, Layout};
use crate::partition::book::{PartitionBook, RangeIndex};
use crate::tensor::{DType, Tensor};

/// A canonical edge type as the partition JSON names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeType {
    pub src: String,
    pub rel: String,
    pub dst: String,
}

impl EdgeType {
    /// `"src:rel:dst"`.
    pub fn colon_key(&self) -> String {
        format!("{}:{}:{}", self.src, self.rel, self.dst)
    }
}

/// An opened output directory.
#[derive(Debug)]
pub struct DistDglOutput {
    /// The partition JSON.
    pub config_path: PathBuf,
    /// Its folder (relative file names resolve against it).
    pub dir: PathBuf,
    pub config: PartitionConfig,
    pub book: PartitionBook,
    ntypes: Vec<String>,
    etypes: Vec<EdgeType>,
    /// Source and destination node type of each edge type.
    etype_ends: Vec<(usize, usize)>,
}

/// Opens `path`: a partition JSON, or a folder holding exactly one.
pub fn open(path: &Path) -> Result<DistDglOutput> {
    let config_path = if path.is_dir() {
        find_config(path)?
    } else {
        path.to_path_buf()
    };
    let config = PartitionConfig::load(&config_path)?;
    let dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let bad = |m: String| Error::input(&config_path, format!("partition config: {m}"));
    let ntypes = config.ntype_names();
    let etypes = config
        .etype_keys()
        .iter()
        .map(|k| match k.split(':').collect::<Vec<_>>()[..] {
            [s, r, d] => Ok(EdgeType {
                src: s.into(),
                rel: r.into(),
                dst: d.into(),
            }),
            _ => Err(bad(format!("edge type '{k}' is not 'src:rel:dst'"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let etype_ends = etypes
        .iter()
        .map(|e| {
            let t = |n: &str| {
                ntypes.iter().position(|x| x == n).ok_or_else(|| {
                    bad(format!(
                        "edge type {} names unknown node type '{n}'",
                        e.colon_key()
                    ))
                })
            };
            Ok((t(&e.src)?, t(&e.dst)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let book = PartitionBook {
        nodes: RangeIndex::new(config.node_ranges(), config.num_parts).map_err(bad)?,
        edges: RangeIndex::new(config.edge_ranges(), config.num_parts).map_err(bad)?,
    };
    Ok(DistDglOutput {
        config_path,
        dir,
        config,
        book,
        ntypes,
        etypes,
        etype_ends,
    })
}

/// The one partition JSON of a folder: a `*.json` that has `node_map` and `num_parts`.
fn find_config(dir: &Path) -> Result<PathBuf> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::input(dir, format!("cannot list: {e}")))?;
    let mut found = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "json") || !p.is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if v.get("node_map").is_some() && v.get("num_parts").is_some() {
                found.push(p);
            }
        }
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::input(
            dir,
            "no partition config (a *.json with node_map and num_parts) in this folder; \
             pass the output folder of `graphprep construct` or the partition JSON itself",
        )),
        _ => Err(Error::input(
            dir,
            format!(
                "{} partition configs in this folder ({}); pass the one to read",
                found.len(),
                found
                    .iter()
                    .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

impl DistDglOutput {
    pub fn num_parts(&self) -> usize {
        self.config.num_parts
    }
    pub fn graph_name(&self) -> &str {
        &self.config.graph_name
    }
    /// Node types in type-ID order.
    pub fn ntypes(&self) -> &[String] {
        &self.ntypes
    }
    /// Edge types in type-ID order.
    pub fn etypes(&self) -> &[EdgeType] {
        &self.etypes
    }
    /// `(source type, destination type)` of edge type `r`.
    pub fn etype_ends(&self, r: usize) -> (usize, usize) {
        self.etype_ends[r]
    }
    pub fn ntype_id(&self, name: &str) -> Option<usize> {
        self.ntypes.iter().position(|t| t == name)
    }
    /// Edge type by canonical key `src:rel:dst` or by relation name when unique.
    pub fn etype_id(&self, key: &str) -> Option<usize> {
        if let Some(r) = self.etypes.iter().position(|e| e.colon_key() == key) {
            return Some(r);
        }
        let mut it = self.etypes.iter().enumerate().filter(|(_, e)| e.rel == key);
        match (it.next(), it.next()) {
            (Some((r, _)), None) => Some(r),
            _ => None,
        }
    }
    /// Nodes of type `t` over all partitions.
    pub fn num_nodes(&self, t: usize) -> u64 {
        self.book.nodes.type_count(t)
    }
    /// Edges of type `r` over all partitions.
    pub fn num_edges(&self, r: usize) -> u64 {
        self.book.edges.type_count(r)
    }
    /// Whether this is GraphStorm's homogeneous case (`_N`, `_N:_E:_N`).
    pub fn is_homogeneous(&self) -> bool {
        self.ntypes == ["_N"] && self.etypes.len() == 1
    }

    /// Reads partition `p`.
    pub fn partition(&self, p: usize) -> Result<Partition> {
        let files = self.config.parts.get(p).ok_or_else(|| {
            Error::input(
                &self.config_path,
                format!(
                    "partition {p} does not exist ({} partitions)",
                    self.num_parts()
                ),
            )
        })?;
        let graph_path = PartitionConfig::resolve(&self.dir, &files.part_graph);
        let graph = load_graph(&graph_path)?;
        let (n_inner, e_inner) = (self.book.nodes.part_range(p), self.book.edges.part_range(p));
        let s = Structure::check(
            &graph,
            &graph_path,
            n_inner[1] - n_inner[0],
            e_inner[1] - e_inner[0],
        )?;
        let nf_path = PartitionConfig::resolve(&self.dir, &files.node_feats);
        let ef_path = PartitionConfig::resolve(&self.dir, &files.edge_feats);
        let node_feats = self.feature_dict(&nf_path, p, true)?;
        let edge_feats = self.feature_dict(&ef_path, p, false)?;
        Ok(Partition {
            id: p,
            graph_path,
            graph,
            num_inner_nodes: s.num_inner_nodes,
            num_inner_edges: s.num_inner_edges,
            node_start: n_inner[0],
            node_feats,
            edge_feats,
            ntypes: self.ntypes.clone(),
            etype_keys: self.etypes.iter().map(EdgeType::colon_key).collect(),
        })
    }

    /// `node_feat.dgl` / `edge_feat.dgl` of partition `p`, grouped by type index.
    fn feature_dict(
        &self,
        path: &Path,
        p: usize,
        nodes: bool,
    ) -> Result<BTreeMap<usize, Vec<(String, Tensor)>>> {
        let mut out: BTreeMap<usize, Vec<(String, Tensor)>> = BTreeMap::new();
        for (key, mut t) in load_tensor_dict(path)? {
            let (ty, name) = key.rsplit_once('/').ok_or_else(|| {
                Error::input(path, format!("feature '{key}' is not '<type>/<name>'"))
            })?;
            let (tid, rows) = if nodes {
                let t = self.ntype_id(ty);
                (t, t.map(|t| self.book.nodes.count(t, p)))
            } else {
                let r = self.etype_id(ty);
                (r, r.map(|r| self.book.edges.count(r, p)))
            };
            let (Some(tid), Some(rows)) = (tid, rows) else {
                return Err(Error::input(
                    path,
                    format!("feature '{key}' names a type the partition config does not have"),
                ));
            };
            // DGL drops the row axis of a partition's only row of a type; give it back.
            if rows == 1 {
                let squeezed = match self.trailing_shape(nodes, tid, name)? {
                    Some(trailing) => t.shape == trailing,
                    None => t.shape.len() == 1 && t.shape[0] != 1,
                };
                if squeezed {
                    t.shape.insert(0, 1);
                }
            }
            if t.rows() as u64 != rows {
                return Err(Error::input(
                    path,
                    format!(
                        "feature '{key}' has {} rows, but partition {p} owns {rows} {} of type '{ty}'",
                        t.rows(),
                        if nodes { "nodes" } else { "edges" }
                    ),
                ));
            }
            out.entry(tid).or_default().push((name.to_string(), t));
        }
        Ok(out)
    }

    /// The trailing shape (all axes but the first) of a feature, taken from the first
    /// partition that owns more than one row of its type; `None` if no partition does.
    fn trailing_shape(&self, nodes: bool, t: usize, name: &str) -> Result<Option<Vec<usize>>> {
        for (q, files) in self.config.parts.iter().enumerate() {
            let count = if nodes {
                self.book.nodes.count(t, q)
            } else {
                self.book.edges.count(t, q)
            };
            if count < 2 {
                continue;
            }
            let f = if nodes {
                &files.node_feats
            } else {
                &files.edge_feats
            };
            let path = PartitionConfig::resolve(&self.dir, f);
            let key = if nodes {
                format!("{}/{name}", self.ntypes[t])
            } else {
                format!("{}/{name}", self.etypes[t].colon_key())
            };
            if let Some((_, x)) = load_tensor_dict(&path)?
                .into_iter()
                .find(|(k, _)| *k == key)
            {
                return Ok(Some(x.shape[1..].to_vec()));
            }
        }
        Ok(None)
    }

    /// `node_mapping.pt`: per node type (type-ID order), shuffled per-type ID → construction
    /// ID. `None` when the file is absent (GraphStorm then falls back to `orig_nids.dgl`).
    pub fn node_mapping(&self) -> Result<Option<Vec<Tensor>>> {
        self.mapping("node_mapping.pt", &self.ntypes, |t| self.num_nodes(t))
    }

    /// `edge_mapping.pt`: per edge type, shuffled per-type ID → construction ID.
    pub fn edge_mapping(&self) -> Result<Option<Vec<Tensor>>> {
        let keys: Vec<String> = self.etypes.iter().map(EdgeType::colon_key).collect();
        self.mapping("edge_mapping.pt", &keys, |r| self.num_edges(r))
    }

    fn mapping(
        &self,
        file: &str,
        keys: &[String],
        count: impl Fn(usize) -> u64,
    ) -> Result<Option<Vec<Tensor>>> {
        let path = self.dir.join(file);
        if !path.is_file() {
            return Ok(None);
        }
        let content = load_pt(&path)?;
        let mut by_type: Vec<Option<Tensor>> = (0..keys.len()).map(|_| None).collect();
        match content {
            PtContent::Tensor(t) if keys.len() == 1 => by_type[0] = Some(t),
            PtContent::Tensor(_) => {
                return Err(Error::input(
                    &path,
                    format!("a bare tensor, but the graph has {} types", keys.len()),
                ))
            }
            PtContent::Dict(items) => {
                for (k, t) in items {
                    let name = match &k {
                        PtKeyBuf::Str(s) => s.clone(),
                        PtKeyBuf::Tuple(xs) => xs.join(":"),
                    };
                    let i = keys.iter().position(|x| *x == name).ok_or_else(|| {
                        Error::input(&path, format!("mapping for unknown type '{name}'"))
                    })?;
                    by_type[i] = Some(t);
                }
            }
        }
        by_type
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let t = t.ok_or_else(|| {
                    Error::input(&path, format!("no mapping for type '{}'", keys[i]))
                })?;
                if t.dtype != DType::I64 || t.shape.len() != 1 || t.rows() as u64 != count(i) {
                    return Err(Error::input(
                        &path,
                        format!(
                            "mapping of '{}' is {} {:?}, expected int64 [{}]",
                            keys[i],
                            t.dtype.name(),
                            t.shape,
                            count(i)
                        ),
                    ));
                }
                Ok(t)
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// `raw_id_mappings/<ntype>/`: the raw IDs of a node type, or `None` when the type kept its
    /// IDs (no map written).
    pub fn raw_id_map(&self, ntype: &str) -> Result<Option<RawIdMap>> {
        let d = self.dir.join("raw_id_mappings").join(ntype);
        if !d.is_dir() {
            return Ok(None);
        }
        load_raw_id_map(&d).map(Some)
    }
}

/// What [`Structure::check`] establishes about a partition graph.
struct Structure {
    num_inner_nodes: u64,
    num_inner_edges: u64,
}

impl Structure {
    fn check(g: &GraphFile, path: &Path, want_nodes: u64, want_edges: u64) -> Result<Structure> {
        let bad = |m: String| Error::input(path, m);
        if g.relations.len() != 1 || g.num_nodes.len() != 1 {
            return Err(bad(format!(
                "a partition graph has one node type and one relation; this one has {} and {}",
                g.num_nodes.len(),
                g.relations.len()
            )));
        }
        let coo = g.relations[0].coo.as_ref().map(|c| &c.1).ok_or_else(|| {
            bad(
                "the partition graph stores no COO section (graphprep and DGL always write one)"
                    .into(),
            )
        })?;
        let n = g.num_nodes[0] as u64;
        if coo.num_rows as u64 != n || coo.num_cols as u64 != n {
            return Err(bad(format!(
                "COO is {} x {} for {n} nodes",
                coo.num_rows, coo.num_cols
            )));
        }
        let e = coo.row.len() as u64;
        let nd = g.node_data.first().map(Vec::as_slice).unwrap_or(&[]);
        let ed = g.edge_data.first().map(Vec::as_slice).unwrap_or(&[]);
        let column = |list: &[(String, Tensor)], name: &str, len: u64| -> Result<()> {
            let t = list
                .iter()
                .find(|(k, _)| k == name)
                .map(|x| &x.1)
                .ok_or_else(|| bad(format!("graph data '{name}' is missing")))?;
            if t.shape.len() != 1 || t.rows() as u64 != len {
                return Err(bad(format!(
                    "graph data '{name}' has shape {:?}, expected [{len}]",
                    t.shape
                )));
            }
            Ok(())
        };
        column(nd, "_ID", n)?;
        column(nd, "inner_node", n)?;
        column(ed, "_ID", e)?;
        column(ed, "inner_edge", e)?;
        let inner = |list: &[(String, Tensor)], name: &str| -> u64 {
            let t = &list.iter().find(|(k, _)| k == name).expect("checked").1;
            t.bytes()
                .chunks(t.dtype.size())
                .take_while(|b| b.iter().any(|&x| x != 0))
                .count() as u64
        };
        let num_inner_nodes = inner(nd, "inner_node");
        let num_inner_edges = inner(ed, "inner_edge");
        if num_inner_nodes != want_nodes {
            return Err(bad(format!(
                "{num_inner_nodes} leading inner nodes, but the partition book gives this \
                 partition {want_nodes}"
            )));
        }
        if num_inner_edges != want_edges {
            return Err(bad(format!(
                "{num_inner_edges} leading inner edges, but the partition book gives this \
                 partition {want_edges}"
            )));
        }
        Ok(Structure {
            num_inner_nodes,
            num_inner_edges,
        })
    }
}

/// One partition read back. Local node `i < num_inner_nodes` is the partition's `i`-th owned
/// node (homogeneous ID `node_start + i`); HALO nodes follow.
#[derive(Debug)]
pub struct Partition {
    pub id: usize,
    pub graph_path: PathBuf,
    pub graph: GraphFile,
    pub num_inner_nodes: u64,
    pub num_inner_edges: u64,
    /// Homogeneous ID of the first owned node.
    pub node_start: u64,
    node_feats: BTreeMap<usize, Vec<(String, Tensor)>>,
    edge_feats: BTreeMap<usize, Vec<(String, Tensor)>>,
    ntypes: Vec<String>,
    etype_keys: Vec<String>,
}

/// What [`DistDglOutput::partition`] checked: these lookups cannot fail.
fn data<'a>(list: &'a [Vec<(String, Tensor)>], name: &str) -> Option<&'a Tensor> {
    list.first()?.iter().find(|(k, _)| k == name).map(|x| &x.1)
}

impl Partition {
    /// Local nodes (inner and HALO).
    pub fn num_nodes(&self) -> usize {
        self.graph.num_nodes[0] as usize
    }
    /// Local edges.
    pub fn num_edges(&self) -> usize {
        self.coo().row.len()
    }
    fn coo(&self) -> &crate::format::dgl::CooMatrix {
        &self.graph.relations[0]
            .coo
            .as_ref()
            .expect("checked at open")
            .1
    }
    /// Local source of each local edge.
    pub fn src(&self) -> &IdArray {
        &self.coo().row
    }
    /// Local destination of each local edge.
    pub fn dst(&self) -> &IdArray {
        &self.coo().col
    }
    /// Graph data array of the local nodes (`_ID`, `inner_node`, `_TYPE`, `part_id`).
    pub fn node_data(&self, name: &str) -> Option<&Tensor> {
        data(&self.graph.node_data, name)
    }
    /// Graph data array of the local edges (`_ID`, `inner_edge`, `_TYPE`).
    pub fn edge_data(&self, name: &str) -> Option<&Tensor> {
        data(&self.graph.edge_data, name)
    }
    /// Homogeneous global ID of local node `i`.
    pub fn global_nid(&self, i: usize) -> Option<u64> {
        self.node_data("_ID")
            .and_then(|t| t.get::<i64>(i))
            .and_then(|v| u64::try_from(v).ok())
    }
    /// Homogeneous global ID of local edge `j`.
    pub fn global_eid(&self, j: usize) -> Option<u64> {
        self.edge_data("_ID")
            .and_then(|t| t.get::<i64>(j))
            .and_then(|v| u64::try_from(v).ok())
    }

    /// In-edges per local node: rows = destinations, `eids` = local edge IDs.
    pub fn csc(&self) -> Result<Compressed> {
        self.compress(Layout::Csc)
    }
    /// Out-edges per local node.
    pub fn csr(&self) -> Result<Compressed> {
        self.compress(Layout::Csr)
    }
    fn compress(&self, layout: Layout) -> Result<Compressed> {
        let (src, dst) = (self.src(), self.dst());
        let n = self.num_nodes();
        let to_u64 = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
        compress_edges(
            layout,
            n,
            n,
            src.len(),
            |e| to_u64(src.get(e)),
            |e| to_u64(dst.get(e)),
        )
        .map_err(|m| Error::input(&self.graph_path, format!("COO endpoints: {m}")))
    }

    /// Node feature dict of node type `t` (type-ID order), in file order.
    pub fn node_feats(&self, t: usize) -> &[(String, Tensor)] {
        self.node_feats.get(&t).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Edge feature dict of edge type `r`.
    pub fn edge_feats(&self, r: usize) -> &[(String, Tensor)] {
        self.edge_feats.get(&r).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Every node feature: `(type ID, name, tensor)`.
    pub fn all_node_feats(&self) -> impl Iterator<Item = (usize, &str, &Tensor)> {
        self.node_feats
            .iter()
            .flat_map(|(&t, l)| l.iter().map(move |(n, x)| (t, n.as_str(), x)))
    }
    /// Every edge feature: `(type ID, name, tensor)`.
    pub fn all_edge_feats(&self) -> impl Iterator<Item = (usize, &str, &Tensor)> {
        self.edge_feats
            .iter()
            .flat_map(|(&t, l)| l.iter().map(move |(n, x)| (t, n.as_str(), x)))
    }
    /// Feature `name` of node type `ntype` (rows: the partition's nodes of that type in
    /// shuffled order), e.g. `feat`, `label`, `train_mask`.
    pub fn node_feat(&self, ntype: &str, name: &str) -> Option<&Tensor> {
        let t = self.ntypes.iter().position(|x| x == ntype)?;
        self.node_feats(t)
            .iter()
            .find(|(n, _)| n == name)
            .map(|x| &x.1)
    }
    /// Feature `name` of edge type `etype` (`src:rel:dst`).
    pub fn edge_feat(&self, etype: &str, name: &str) -> Option<&Tensor> {
        let r = self.etype_keys.iter().position(|x| x == etype)?;
        self.edge_feats(r)
            .iter()
            .find(|(n, _)| n == name)
            .map(|x| &x.1)
    }
}
