//! The DistDGL partition output (`--output-format DistDGL`): `<graph_name>.json`,
//! `node_mapping.pt`, `edge_mapping.pt` and per partition `part<p>/graph.dgl`,
//! `part<p>/node_feat.dgl`, `part<p>/edge_feat.dgl` (optionally `orig_nids.dgl`,
//! `orig_eids.dgl`). Spec: `distdgl-format.md` §2, §3, §13; hard negatives: `gconstruct.md` §4.5.
//!
//! Algorithm (§13):
//! 1. Per node type, a stable counting sort by partition gives `order[t]` (new per-type ID →
//!    construction ID, i.e. construction-ID order inside each `(p, t)`), its inverse `new_id[t]`
//!    and the counts `cnt[p][t]`.
//! 2. `node_map` ranges are laid out partition-major, type-minor; the homogeneous ID of node
//!    `(t, i)` in partition `p` is `node_map[t][p].start + new_id[t][i] − pstart[t][p]`.
//! 3. An edge belongs to its destination's partition; per relation a stable counting sort by
//!    owner gives `e_order[r]` and `edge_map` is laid out like `node_map`.
//! 4. Per partition (in parallel): inner nodes are the contiguous homogeneous range (local ID =
//!    global − start); inner edges are listed relation by relation in `e_order` (global EID =
//!    start + local ID); HALO nodes are the sorted unique out-of-partition sources, appended
//!    after the inner nodes. Only inner edges are written. `graph.dgl` gets COO (+ CSC) and
//!    `_ID`, `inner_node`, `_TYPE` (heterogeneous only), `part_id` (only when P > 1) node data
//!    and `_ID`, `inner_edge`, `_TYPE` edge data. Feature rows are gathered straight from the
//!    source tensors in `order` / `e_order`; hard-negative edge features are rewritten to
//!    shuffled per-type IDs of the destination type (`-1` padding kept).
//! 5. The JSON (Python `json.dump(indent=4)` layout and key order) and the mapping files.
//!
//! With one partition every sort is the identity: IDs, rows and files keep construction order.
//!
//! # Memory
//! Global: `8 B` per node (`order` + `new_id`, u32) and `4–8 B` per edge (`e_order`, u32 or
//! u64 when a relation has 2^32 or more edges). Per partition being written: about
//! `40 B × inner edges` (COO src/dst, CSC indices/data as int64, plus the `_ID` array) and
//! `~21 B × local nodes`; hard-negative features are the only feature rows copied (one
//! partition's slice at a time). Feature matrices are never copied: rows stream from the
//! source tensors into the files. Peak ≈ global + (rayon threads) × per-partition.
//!
//! Parallelism: the per-type/per-relation sorts and the partitions run on the ambient rayon
//! pool (`par_iter`); each file is written sequentially. Output bytes do not depend on the
//! thread count.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::array::{ArraySource, IdSource, Ids, NamedArray};
use crate::format::dgl::{self as dglfmt, Formats, GraphRef, RelationRef};
use crate::format::partition_json::PartitionConfig;
use crate::format::pt::{self, PtKey, PtObject};
use crate::graph::CanonicalEtype;
use crate::graph::Graph;
use crate::partition::book::RangeIndex;
use crate::partition::stats::PartContents;
use crate::partition::Assignment;
use crate::tensor::{DType, Tensor};

/// Options of [`write_distdgl`].
#[derive(Clone, Debug)]
pub struct DistDglOptions {
    /// `graph_name` in the JSON, and the JSON file's stem.
    pub graph_name: String,
    /// `part_method` in the JSON (`"metis"`, `"random"`, ...); informational.
    pub part_method: String,
    /// Store CSC next to COO in every `graph.dgl` (saves DistDGL servers the conversion).
    pub write_csc: bool,
    /// Also write `part<p>/orig_nids.dgl` and `part<p>/orig_eids.dgl` (spec §7).
    pub write_orig_ids: bool,
    /// Write `node_mapping.pt` and `edge_mapping.pt`.
    pub write_mappings: bool,
}

impl DistDglOptions {
    /// Defaults: COO only (like DGL's partition_graph; servers build CSC at start), mapping `.pt` files on, `orig_*.dgl` off.
    pub fn new(graph_name: impl Into<String>, part_method: impl Into<String>) -> Self {
        DistDglOptions {
            graph_name: graph_name.into(),
            part_method: part_method.into(),
            write_csc: false,
            write_orig_ids: false,
            write_mappings: true,
        }
    }
}

/// One written partition: what it holds, and what was left out of its feature files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPart {
    /// Inner nodes and edges per type and the HALO count (feeds `partition_stats.json`).
    pub contents: PartContents,
    /// Feature keys (`"ntype/feat"`, `"src:rel:dst/feat"`) left out of this partition's
    /// feature files because the partition owns no node/edge of that type (DistDGL servers
    /// cannot serve zero-row tensors). Non-empty means the assignment should be fixed.
    pub omitted_features: Vec<String>,
}

/// The written layout: ID ranges and per-partition contents, for quality reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionLayout {
    pub ntypes: Vec<String>,
    /// Canonical edge types as `"src:rel:dst"`.
    pub etypes: Vec<String>,
    /// `node_map[t][p]` = half-open homogeneous node-ID range `[start, end)`.
    pub node_map: Vec<Vec<[u64; 2]>>,
    /// `edge_map[r][p]` = half-open homogeneous edge-ID range.
    pub edge_map: Vec<Vec<[u64; 2]>>,
    pub parts: Vec<WrittenPart>,
    /// The partition config written (`<out>/<graph_name>.json`).
    pub config_path: PathBuf,
}

impl PartitionLayout {
    pub fn num_parts(&self) -> usize {
        self.parts.len()
    }
    pub fn total_nodes(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| p.contents.total_inner_nodes())
            .sum()
    }
    pub fn total_edges(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| p.contents.total_inner_edges())
            .sum()
    }
}

/// A permutation / index list stored as narrowly as its values allow.
enum Perm {
    U32(Vec<u32>),
    U64(Vec<u64>),
}

impl Perm {
    fn ids(&self) -> Ids<'_> {
        match self {
            Perm::U32(v) => Ids::U32(v),
            Perm::U64(v) => Ids::U64(v),
        }
    }
}

/// Stable counting sort of items `0..n` by `key(i) < num_parts`.
/// Returns the items grouped by key (original order inside a group) and the group sizes.
fn group_by_part(n: usize, num_parts: usize, key: impl Fn(usize) -> usize) -> (Perm, Vec<u64>) {
    let mut counts = vec![0u64; num_parts];
    for i in 0..n {
        counts[key(i)] += 1;
    }
    let mut next: Vec<u64> = counts
        .iter()
        .scan(0u64, |acc, &c| {
            let s = *acc;
            *acc += c;
            Some(s)
        })
        .collect();
    let perm = if n <= u32::MAX as usize + 1 {
        let mut out = vec![0u32; n];
        for i in 0..n {
            let slot = &mut next[key(i)];
            out[*slot as usize] = i as u32;
            *slot += 1;
        }
        Perm::U32(out)
    } else {
        let mut out = vec![0u64; n];
        for i in 0..n {
            let slot = &mut next[key(i)];
            out[*slot as usize] = i as u64;
            *slot += 1;
        }
        Perm::U64(out)
    };
    (perm, counts)
}

/// Exclusive prefix sums with the total appended (`len + 1` entries).
fn prefix(counts: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(counts.len() + 1);
    let mut acc = 0;
    out.push(0);
    for &c in counts {
        acc += c;
        out.push(acc);
    }
    out
}

/// Partition-major, type-minor ranges over `counts[type][part]`.
fn lay_out(counts: &[Vec<u64>], num_parts: usize) -> Vec<Vec<[u64; 2]>> {
    let mut map = vec![Vec::with_capacity(num_parts); counts.len()];
    let mut off = 0;
    for p in 0..num_parts {
        for (t, c) in counts.iter().enumerate() {
            map[t].push([off, off + c[p]]);
            off += c[p];
        }
    }
    map
}

/// Node side of the layout.
struct NodeLayout {
    /// `order[t][k]` = construction ID of the node with shuffled per-type ID `k`.
    order: Vec<Vec<u32>>,
    /// Inverse of `order[t]`.
    new_id: Vec<Vec<u32>>,
    /// `pstart[t][p]`: first shuffled per-type ID of partition `p` (`P + 1` entries).
    pstart: Vec<Vec<u64>>,
    /// `node_map[t][p]`.
    map: Vec<Vec<[u64; 2]>>,
    /// Homogeneous ID of every node (`[t][construction ID]`) when all fit `u32`, else empty.
    homo32: Vec<Vec<u32>>,
}

impl NodeLayout {
    /// Homogeneous global ID of node `i` of type `t`.
    #[inline]
    fn homo(&self, asg: &Assignment, t: usize, i: usize) -> u64 {
        if let Some(h) = self.homo32.get(t) {
            return u64::from(h[i]);
        }
        let p = asg.node_part[t][i] as usize;
        self.map[t][p][0] + u64::from(self.new_id[t][i]) - self.pstart[t][p]
    }

    /// Rows of type `t` owned by partition `p`, in shuffled order.
    fn part_rows(&self, t: usize, p: usize) -> &[u32] {
        &self.order[t][self.pstart[t][p] as usize..self.pstart[t][p + 1] as usize]
    }
}

/// Edge side of the layout.
struct EdgeLayout {
    order: Vec<Perm>,
    pstart: Vec<Vec<u64>>,
    map: Vec<Vec<[u64; 2]>>,
}

impl EdgeLayout {
    fn part_rows(&self, r: usize, p: usize) -> Ids<'_> {
        self.order[r]
            .ids()
            .slice(self.pstart[r][p] as usize..self.pstart[r][p + 1] as usize)
    }
}

/// DGL's notion of a homogeneous graph: one node type and one edge type. Partitions of such
/// graphs carry no `_TYPE` data and the mapping files hold bare tensors. (GraphStorm's
/// `is_homogeneous` graphs are exactly these, named `_N` / `_N:_E:_N`.)
fn dgl_homogeneous(g: &Graph) -> bool {
    g.ntypes().len() == 1 && g.etypes().len() == 1
}

fn check_name(what: &str, name: &str, forbidden: &[char]) -> Result<()> {
    if name.is_empty() || name.contains(forbidden) {
        return Err(Error::Graph(format!(
            "{what} '{name}' cannot be written to DistDGL: names must be non-empty and must not contain {forbidden:?}"
        )));
    }
    Ok(())
}

/// Checks what a consistent [`Graph`] cannot promise: that DistDGL can represent its names and
/// the graph name, and that the assignment covers every node with a partition below
/// `num_parts`. The writing code then indexes freely.
fn validate(g: &Graph, asg: &Assignment, opts: &DistDglOptions) -> Result<()> {
    let bad = |m: String| Err(Error::Graph(m));
    if asg.num_parts == 0 {
        return bad("the number of partitions must be at least 1".into());
    }
    check_name("graph name", &opts.graph_name, &['/', '\\'])?;
    if asg.node_part.len() != g.ntypes().len() {
        return bad("the partition assignment needs one entry per node type".into());
    }
    for (t, name) in g.ntypes().iter().enumerate() {
        check_name("node type", name, &['/', ':'])?;
        if asg.node_part[t].len() as u64 != g.num_nodes()[t] {
            return bad(format!(
                "partition assignment of node type '{name}' has {} entries for {} nodes",
                asg.node_part[t].len(),
                g.num_nodes()[t]
            ));
        }
        if let Some(p) = asg.node_part[t]
            .par_iter()
            .find_first(|&&p| p >= asg.num_parts)
        {
            return bad(format!(
                "node type '{name}': partition {p} is not below num_parts {}",
                asg.num_parts
            ));
        }
        for d in &g.node_data()[t] {
            check_name("node feature", &d.name, &['/'])?;
        }
    }
    for (r, et) in g.etypes().iter().enumerate() {
        check_name("relation", &et.rel, &['/', ':'])?;
        for d in &g.edge_data()[r] {
            check_name("edge feature", &d.name, &['/'])?;
        }
    }
    Ok(())
}

fn build_node_layout(g: &Graph, asg: &Assignment) -> NodeLayout {
    let num_parts = asg.num_parts as usize;
    let per_type: Vec<(Vec<u32>, Vec<u32>, Vec<u64>)> = (0..g.ntypes().len())
        .into_par_iter()
        .map(|t| {
            let part = &asg.node_part[t];
            let (perm, counts) = group_by_part(part.len(), num_parts, |i| part[i] as usize);
            // Node counts fit u32 IDs (validated), so the permutation is narrow.
            let order = match perm {
                Perm::U32(v) => v,
                Perm::U64(v) => v.into_iter().map(|x| x as u32).collect(),
            };
            let mut new_id = vec![0u32; order.len()];
            for (k, &i) in order.iter().enumerate() {
                new_id[i as usize] = k as u32;
            }
            (order, new_id, counts)
        })
        .collect();
    let counts: Vec<Vec<u64>> = per_type.iter().map(|x| x.2.clone()).collect();
    let map = lay_out(&counts, num_parts);
    let pstart = counts.iter().map(|c| prefix(c)).collect();
    let (order, new_id) = per_type.into_iter().map(|(o, n, _)| (o, n)).unzip();
    let mut layout = NodeLayout {
        order,
        new_id,
        pstart,
        map,
        homo32: Vec::new(),
    };
    let total: u64 = g.num_nodes().iter().sum();
    if total <= u64::from(u32::MAX) {
        // One lookup per endpoint while writing instead of four.
        layout.homo32 = (0..g.ntypes().len())
            .map(|t| {
                (0..asg.node_part[t].len())
                    .into_par_iter()
                    .map(|i| layout.homo(asg, t, i) as u32)
                    .collect()
            })
            .collect();
    }
    layout
}

fn build_edge_layout(g: &Graph, asg: &Assignment) -> EdgeLayout {
    let num_parts = asg.num_parts as usize;
    let per_rel: Vec<(Perm, Vec<u64>)> = g
        .edges()
        .par_iter()
        .enumerate()
        .map(|(r, el)| {
            let part = &asg.node_part[g.endpoint_types(r).1];
            group_by_part(el.len(), num_parts, |e| part[el.dst[e] as usize] as usize)
        })
        .collect();
    let counts: Vec<Vec<u64>> = per_rel.iter().map(|x| x.1.clone()).collect();
    let map = lay_out(&counts, num_parts);
    let pstart = counts.iter().map(|c| prefix(c)).collect();
    let order = per_rel.into_iter().map(|x| x.0).collect();
    EdgeLayout { order, pstart, map }
}

/// Writes the DistDGL partition output of `g` under the assignment `asg` into `out_dir`
/// (created if missing) and returns the layout. See the module docs for the exact layout.
///
/// # Errors
/// [`Error::Graph`] when the assignment does not fit the graph or a name cannot be
/// represented in DistDGL (the graph itself is consistent by construction, [`Graph::new`]);
/// [`Error::Write`] on I/O.
///
/// # Memory
/// See the module docs: global `O(nodes + edges)` ID arrays, plus per-partition structure
/// buffers for the partitions being written concurrently.
pub fn write_distdgl(
    out_dir: &Path,
    g: &Graph,
    asg: &Assignment,
    opts: &DistDglOptions,
) -> Result<PartitionLayout> {
    validate(g, asg, opts)?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error::write(out_dir, e))?;
    let (nodes, edges) = rayon::join(|| build_node_layout(g, asg), || build_edge_layout(g, asg));
    let num_parts = asg.num_parts as usize;

    let (parts, maps) = rayon::join(
        || {
            (0..num_parts)
                .into_par_iter()
                .map(|p| write_partition(out_dir, p, g, asg, &nodes, &edges, opts))
                .collect::<Result<Vec<_>>>()
        },
        || {
            if opts.write_mappings {
                write_mappings(out_dir, g, &nodes, &edges)
            } else {
                Ok(())
            }
        },
    );
    let parts = parts?;
    maps?;

    let config_path = out_dir.join(format!("{}.json", opts.graph_name));
    let json = partition_json(g, &nodes, &edges, opts, num_parts);
    std::fs::write(&config_path, json).map_err(|e| Error::write(&config_path, e))?;

    Ok(PartitionLayout {
        ntypes: g.ntypes().to_vec(),
        etypes: g.etypes().iter().map(|e| e.colon_key()).collect(),
        node_map: nodes.map,
        edge_map: edges.map,
        parts,
        config_path,
    })
}

/// `node_mapping.pt` / `edge_mapping.pt`: shuffled per-type ID → construction ID.
fn write_mappings(out_dir: &Path, g: &Graph, nodes: &NodeLayout, edges: &EdgeLayout) -> Result<()> {
    let (nobj, eobj) = if dgl_homogeneous(g) {
        (
            PtObject::Tensor(ArraySource::ids(Ids::U32(&nodes.order[0]))),
            PtObject::Tensor(ArraySource::ids(edges.order[0].ids())),
        )
    } else {
        (
            PtObject::Dict(
                g.ntypes()
                    .iter()
                    .zip(&nodes.order)
                    .map(|(t, o)| (PtKey::Str(t), ArraySource::ids(Ids::U32(o))))
                    .collect(),
            ),
            PtObject::Dict(
                g.etypes()
                    .iter()
                    .zip(&edges.order)
                    .map(|(e, o)| {
                        (
                            PtKey::Tuple3(&e.src, &e.rel, &e.dst),
                            ArraySource::ids(o.ids()),
                        )
                    })
                    .collect(),
            ),
        )
    };
    let (a, b) = rayon::join(
        || pt::save_pt(&out_dir.join("node_mapping.pt"), &nobj),
        || pt::save_pt(&out_dir.join("edge_mapping.pt"), &eobj),
    );
    a.and(b)
}

/// The partition config (spec §2).
fn partition_json(
    g: &Graph,
    nodes: &NodeLayout,
    edges: &EdgeLayout,
    opts: &DistDglOptions,
    num_parts: usize,
) -> String {
    PartitionConfig {
        graph_name: opts.graph_name.clone(),
        num_nodes: g.total_nodes(),
        num_edges: g.total_edges(),
        part_method: Some(opts.part_method.clone()),
        num_parts,
        halo_hops: Some(1),
        node_map: g
            .ntypes()
            .iter()
            .cloned()
            .zip(nodes.map.iter().cloned())
            .collect(),
        edge_map: g
            .etypes()
            .iter()
            .map(CanonicalEtype::colon_key)
            .zip(edges.map.iter().cloned())
            .collect(),
        ntypes: g.ntypes().iter().cloned().zip(0..).collect(),
        etypes: g
            .etypes()
            .iter()
            .map(CanonicalEtype::colon_key)
            .zip(0..)
            .collect(),
        parts: (0..num_parts)
            .map(PartitionConfig::standard_part_files)
            .collect(),
    }
    .to_json()
}

/// Which per-node column of a partition's `graph.dgl` a [`LocalNodes`] generates.
#[derive(Clone, Copy, Debug)]
enum NodeCol {
    /// `_ID`: global homogeneous ID.
    Id,
    /// `_TYPE`: node type index.
    Type,
    /// `part_id`: owning partition.
    Part,
}

/// A partition's local nodes (inner range `lo..lo + n_inner`, then the HALO nodes) as a
/// generated column.
#[derive(Debug)]
struct LocalNodes<'a> {
    col: NodeCol,
    lo: u64,
    n_inner: u64,
    /// End (local index) of each node type's inner range, types in order.
    inner_type_ends: &'a [u64],
    part: u64,
    halo: &'a [u64],
    lookup: &'a RangeIndex,
}

impl IdSource for LocalNodes<'_> {
    fn fill(&self, start: usize, out: &mut [u64]) {
        for (k, o) in out.iter_mut().enumerate() {
            let i = (start + k) as u64;
            *o = if i < self.n_inner {
                match self.col {
                    NodeCol::Id => self.lo + i,
                    NodeCol::Type => self.inner_type_ends.partition_point(|&e| e <= i) as u64,
                    NodeCol::Part => self.part,
                }
            } else {
                let h = self.halo[(i - self.n_inner) as usize];
                match self.col {
                    NodeCol::Id => h,
                    NodeCol::Type => self.lookup.part_and_type(h).1 as u64,
                    NodeCol::Part => self.lookup.part_and_type(h).0 as u64,
                }
            };
        }
    }
}

/// The HALO nodes of a partition: a bitmap over global (homogeneous) node IDs with per-word
/// prefix counts, so the local ID of a HALO source is `n_inner + rank(gid)` in O(1).
struct HaloIndex {
    words: Vec<u64>,
    /// `before[w]`: set bits in words `0..w`.
    before: Vec<u64>,
    /// The HALO nodes, sorted.
    list: Vec<u64>,
}

impl HaloIndex {
    #[inline]
    fn rank(&self, gid: u64) -> u64 {
        let (w, b) = ((gid / 64) as usize, gid % 64);
        self.before[w] + u64::from((self.words[w] & ((1u64 << b) - 1)).count_ones())
    }
}

/// A partition's inner edges in global-EID order (relation by relation, `e_order` inside a
/// relation), read straight from the graph's edge lists.
struct PartEdges<'a> {
    g: &'a Graph,
    asg: &'a Assignment,
    nodes: &'a NodeLayout,
    edges: &'a EdgeLayout,
    p: usize,
    /// First local edge index of each relation (`R + 1` entries).
    rel_start: Vec<usize>,
    /// (source type, destination type) per relation.
    types: Vec<(usize, usize)>,
    nstart: u64,
    nend: u64,
    halo: HaloIndex,
}

/// Edges per generated block handed to one rayon task.
const GEN_TASK: usize = 1 << 14;

impl<'a> PartEdges<'a> {
    fn new(
        g: &'a Graph,
        asg: &'a Assignment,
        nodes: &'a NodeLayout,
        edges: &'a EdgeLayout,
        p: usize,
        nstart: u64,
        nend: u64,
    ) -> Self {
        let mut rel_start = vec![0usize];
        for r in 0..g.etypes().len() {
            let n = (edges.pstart[r][p + 1] - edges.pstart[r][p]) as usize;
            rel_start.push(rel_start[r] + n);
        }
        let types = (0..g.etypes().len()).map(|r| g.endpoint_types(r)).collect();
        let mut pe = PartEdges {
            g,
            asg,
            nodes,
            edges,
            p,
            rel_start,
            types,
            nstart,
            nend,
            halo: HaloIndex {
                words: Vec::new(),
                before: Vec::new(),
                list: Vec::new(),
            },
        };
        pe.halo = pe.build_halo();
        pe
    }

    fn len(&self) -> usize {
        *self.rel_start.last().unwrap_or(&0)
    }

    /// Calls `f(k, homogeneous ID)` for local edges `start + k`, `k < n`, of the source
    /// (`src = true`) or destination side.
    fn walk(&self, start: usize, n: usize, src: bool, mut f: impl FnMut(usize, u64)) {
        let mut i = start;
        let end = start + n;
        while i < end {
            let r = self.rel_start.partition_point(|&s| s <= i) - 1;
            let stop = end.min(self.rel_start[r + 1]);
            let (st, dt) = self.types[r];
            let el = &self.g.edges()[r];
            let rows = self
                .edges
                .part_rows(r, self.p)
                .slice(i - self.rel_start[r]..stop - self.rel_start[r]);
            let mut k = i - start;
            rows.for_each_block(|b| {
                for &e in b {
                    let e = e as usize;
                    let h = if src {
                        self.nodes.homo(self.asg, st, el.src[e] as usize)
                    } else {
                        self.nodes.homo(self.asg, dt, el.dst[e] as usize)
                    };
                    f(k, h);
                    k += 1;
                }
            });
            i = stop;
        }
    }

    fn build_halo(&self) -> HaloIndex {
        use std::sync::atomic::{AtomicU64, Ordering};
        let total = self
            .nodes
            .map
            .iter()
            .flatten()
            .map(|r| r[1])
            .max()
            .unwrap_or(0);
        let nwords = total as usize / 64 + 1;
        let words: Vec<AtomicU64> = (0..nwords).map(|_| AtomicU64::new(0)).collect();
        let (lo, hi) = (self.nstart, self.nend);
        let n = self.len();
        (0..n.div_ceil(GEN_TASK)).into_par_iter().for_each(|c| {
            let s = c * GEN_TASK;
            self.walk(s, GEN_TASK.min(n - s), true, |_, h| {
                if h < lo || h >= hi {
                    words[(h / 64) as usize].fetch_or(1 << (h % 64), Ordering::Relaxed);
                }
            });
        });
        let words: Vec<u64> = words.into_iter().map(AtomicU64::into_inner).collect();
        let mut before = Vec::with_capacity(nwords);
        let mut acc = 0u64;
        let mut list = Vec::new();
        for (w, &bits) in words.iter().enumerate() {
            before.push(acc);
            acc += u64::from(bits.count_ones());
            let mut b = bits;
            while b != 0 {
                list.push(w as u64 * 64 + u64::from(b.trailing_zeros()));
                b &= b - 1;
            }
        }
        HaloIndex {
            words,
            before,
            list,
        }
    }
}

/// Local source IDs of a partition's inner edges.
#[derive(Debug)]
struct SrcGen<'a, 'g>(&'a PartEdges<'g>);
/// Local destination IDs of a partition's inner edges.
#[derive(Debug)]
struct DstGen<'a, 'g>(&'a PartEdges<'g>);

impl std::fmt::Debug for PartEdges<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartEdges(part {}, {} edges)", self.p, self.len())
    }
}

impl IdSource for SrcGen<'_, '_> {
    fn fill(&self, start: usize, out: &mut [u64]) {
        let pe = self.0;
        let (lo, hi) = (pe.nstart, pe.nend);
        let n_inner = hi - lo;
        out.par_chunks_mut(GEN_TASK).enumerate().for_each(|(c, o)| {
            pe.walk(start + c * GEN_TASK, o.len(), true, |k, h| {
                o[k] = if (lo..hi).contains(&h) {
                    h - lo
                } else {
                    n_inner + pe.halo.rank(h)
                };
            })
        });
    }
}

impl IdSource for DstGen<'_, '_> {
    fn fill(&self, start: usize, out: &mut [u64]) {
        let pe = self.0;
        let lo = pe.nstart;
        out.par_chunks_mut(GEN_TASK).enumerate().for_each(|(c, o)| {
            pe.walk(start + c * GEN_TASK, o.len(), false, |k, h| {
                debug_assert!(
                    (pe.nstart..pe.nend).contains(&h),
                    "edge owned by its destination's partition"
                );
                o[k] = h - lo;
            })
        });
    }
}

/// Shuffled per-type IDs in place of the destination-type construction IDs of a
/// hard-negative feature slice (`gconstruct.md` §4.5); negative entries are kept.
fn remap_hard_negatives(t: &Tensor, new_id: &[u32], key: &str) -> Result<Tensor> {
    let remap = |x: i64| -> Result<i64> {
        if x < 0 {
            return Ok(x);
        }
        let n = new_id.get(x as usize).ok_or_else(|| {
            Error::Graph(format!(
                "hard-negative feature '{key}': node ID {x} is not below {}",
                new_id.len()
            ))
        })?;
        Ok(i64::from(*n))
    };
    let shape = t.shape.clone();
    match t.dtype {
        DType::I64 => {
            let v = t
                .bytes()
                .chunks_exact(8)
                .map(|c| remap(i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
                .collect::<Result<Vec<i64>>>()?;
            Ok(Tensor::from_vec(shape, v))
        }
        DType::I32 => {
            // Shuffled IDs are below the type's node count, which the original IDs fit in.
            let v = t
                .bytes()
                .chunks_exact(4)
                .map(|c| {
                    remap(i64::from(i32::from_le_bytes(
                        c.try_into().unwrap_or([0; 4]),
                    )))
                    .map(|x| x as i32)
                })
                .collect::<Result<Vec<i32>>>()?;
            Ok(Tensor::from_vec(shape, v))
        }
        d => Err(Error::Graph(format!(
            "hard-negative feature '{key}' has dtype {}",
            d.name()
        ))),
    }
}

/// Adds a feature entry of partition `p`, leaving out zero-row tensors (DistDGL servers cannot
/// map 0-byte shared memory, spec §3.3); their keys are collected in `omitted`.
fn push_feature<'a>(
    out: &mut Vec<NamedArray<'a>>,
    omitted: &mut Vec<String>,
    key: String,
    a: ArraySource<'a>,
    p: usize,
) {
    if a.rows() == 0 {
        log::warn!(
            "partition {p}: feature '{key}' has no rows in this partition; left out of its \
             feature file (DistDGL cannot serve zero-row tensors)"
        );
        omitted.push(key);
        return;
    }
    out.push(NamedArray::new(key, a));
}

fn write_partition(
    out_dir: &Path,
    p: usize,
    g: &Graph,
    asg: &Assignment,
    nodes: &NodeLayout,
    edges: &EdgeLayout,
    opts: &DistDglOptions,
) -> Result<WrittenPart> {
    let num_parts = asg.num_parts as usize;
    let nt = g.ntypes().len();
    let hetero = !dgl_homogeneous(g);
    let dir = out_dir.join(format!("part{p}"));
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;

    let nstart = nodes.map[0][p][0];
    let nend = nodes.map[nt - 1][p][1];
    let n_inner = (nend - nstart) as usize;
    let estart = edges.map.first().map_or(0, |m| m[p][0]);
    let inner_edges: Vec<u64> = (0..g.etypes().len())
        .map(|r| edges.pstart[r][p + 1] - edges.pstart[r][p])
        .collect();
    let n_edges: usize = inner_edges.iter().sum::<u64>() as usize;

    // The structure file and the feature files are independent: write them concurrently.
    let (halo_nodes, omitted) = rayon::join(
        || -> Result<u64> {
            // Inner edges in global-EID order, generated a block at a time (never materialized):
            // global source IDs become local ones through the HALO rank index.
            let pe = PartEdges::new(g, asg, nodes, edges, p, nstart, nend);
            let halo = &pe.halo.list;
            let n_local = n_inner + halo.len();
            let etype_runs: Vec<(u64, i64)> = if hetero {
                inner_edges
                    .iter()
                    .enumerate()
                    .map(|(r, &c)| (c, r as i64))
                    .collect()
            } else {
                Vec::new()
            };

            // Node data: inner nodes (a contiguous global range), then the HALO nodes; generated
            // while writing.
            let lookup = RangeIndex::new(nodes.map.clone(), num_parts)
                .map_err(|m| Error::Graph(format!("internal: node ranges: {m}")))?;
            let inner_types: Vec<u64> = (0..nt).map(|t| nodes.map[t][p][1] - nstart).collect();
            let gen = |col| LocalNodes {
                col,
                lo: nstart,
                n_inner: n_inner as u64,
                inner_type_ends: &inner_types,
                part: p as u64,
                halo,
                lookup: &lookup,
            };
            let (nid_gen, type_gen, part_gen) =
                (gen(NodeCol::Id), gen(NodeCol::Type), gen(NodeCol::Part));
            let inner_runs = [(n_inner as u64, 1i64), (halo.len() as u64, 0)];
            let mut ndata = vec![
                NamedArray::new("_ID", ArraySource::generated(DType::I64, n_local, &nid_gen)),
                NamedArray::new("inner_node", ArraySource::runs(DType::U8, &inner_runs)),
            ];
            if hetero {
                ndata.push(NamedArray::new(
                    "_TYPE",
                    ArraySource::generated(DType::I32, n_local, &type_gen),
                ));
            }
            if num_parts > 1 {
                ndata.push(NamedArray::new(
                    "part_id",
                    ArraySource::generated(DType::I64, n_local, &part_gen),
                ));
            }
            // Edge data.
            let ones = [(n_edges as u64, 1i64)];
            let mut edata = vec![
                NamedArray::new(
                    "_ID",
                    ArraySource::ids(Ids::Range {
                        start: estart,
                        len: n_edges,
                    }),
                ),
                NamedArray::new("inner_edge", ArraySource::runs(DType::U8, &ones)),
            ];
            if hetero {
                edata.push(NamedArray::new(
                    "_TYPE",
                    ArraySource::runs(DType::I32, &etype_runs),
                ));
            }
            let (src_gen, dst_gen) = (SrcGen(&pe), DstGen(&pe));
            // CSC needs random access: materialize the endpoints only then.
            let materialized: Option<(Vec<u64>, Vec<u64>)> = opts.write_csc.then(|| {
                let mut s = vec![0u64; n_edges];
                let mut d = vec![0u64; n_edges];
                src_gen.fill(0, &mut s);
                dst_gen.fill(0, &mut d);
                (s, d)
            });
            let (src, dst) = match &materialized {
                Some((s, d)) => (Ids::U64(s), Ids::U64(d)),
                None => (
                    Ids::Gen {
                        src: &src_gen,
                        offset: 0,
                        len: n_edges,
                    },
                    Ids::Gen {
                        src: &dst_gen,
                        offset: 0,
                        len: n_edges,
                    },
                ),
            };
            let graph = GraphRef {
                ntypes: vec!["_N"],
                num_nodes: vec![n_local as u64],
                relations: vec![RelationRef {
                    name: "_E",
                    src_type: 0,
                    dst_type: 0,
                    src,
                    dst,
                }],
                node_data: vec![ndata],
                edge_data: vec![edata],
                formats: if opts.write_csc {
                    Formats::COO_CSC
                } else {
                    Formats::COO
                },
            };
            dglfmt::save_graph(&dir.join("graph.dgl"), &graph)?;
            Ok(halo.len() as u64)
        },
        || -> Result<Vec<String>> {
            // node_feat.dgl
            let mut omitted = Vec::new();
            let mut nfeat = Vec::new();
            for (t, name) in g.ntypes().iter().enumerate() {
                let rows = nodes.part_rows(t, p);
                for d in &g.node_data()[t] {
                    push_feature(
                        &mut nfeat,
                        &mut omitted,
                        format!("{name}/{}", d.name),
                        ArraySource::gather(&d.tensor, Ids::U32(rows)),
                        p,
                    );
                }
            }
            dglfmt::save_tensor_dict(&dir.join("node_feat.dgl"), &nfeat)?;

            // edge_feat.dgl; hard negatives are converted per partition slice.
            let mut converted: Vec<(String, Tensor)> = Vec::new();
            for (r, et) in g.etypes().iter().enumerate() {
                let hns = &g.hard_negatives()[r];
                if hns.is_empty() {
                    continue;
                }
                let dt = g.endpoint_types(r).1;
                let rows: Vec<usize> = edges.part_rows(r, p).iter().map(|e| e as usize).collect();
                for d in g.edge_data()[r].iter().filter(|d| hns.contains(&d.name)) {
                    let key = format!("{}/{}", et.colon_key(), d.name);
                    let t = remap_hard_negatives(
                        &d.tensor.gather_rows(&rows),
                        &nodes.new_id[dt],
                        &key,
                    )?;
                    converted.push((key, t));
                }
            }
            let mut efeat = Vec::new();
            for (r, et) in g.etypes().iter().enumerate() {
                let hns = &g.hard_negatives()[r];
                for d in &g.edge_data()[r] {
                    let key = format!("{}/{}", et.colon_key(), d.name);
                    let a = if hns.contains(&d.name) {
                        match converted.iter().find(|(k, _)| *k == key) {
                            Some((_, t)) => ArraySource::tensor(t),
                            None => continue,
                        }
                    } else {
                        ArraySource::gather(&d.tensor, edges.part_rows(r, p))
                    };
                    push_feature(&mut efeat, &mut omitted, key, a, p);
                }
            }
            dglfmt::save_tensor_dict(&dir.join("edge_feat.dgl"), &efeat)?;

            if opts.write_orig_ids {
                let onids: Vec<NamedArray> = g
                    .ntypes()
                    .iter()
                    .enumerate()
                    .map(|(t, n)| {
                        NamedArray::new(
                            n.clone(),
                            ArraySource::ids(Ids::U32(nodes.part_rows(t, p))),
                        )
                    })
                    .collect();
                dglfmt::save_tensor_dict(&dir.join("orig_nids.dgl"), &onids)?;
                let oeids: Vec<NamedArray> = g
                    .etypes()
                    .iter()
                    .enumerate()
                    .map(|(r, e)| {
                        NamedArray::new(e.colon_key(), ArraySource::ids(edges.part_rows(r, p)))
                    })
                    .collect();
                dglfmt::save_tensor_dict(&dir.join("orig_eids.dgl"), &oeids)?;
            }
            Ok(omitted)
        },
    );
    let (halo_nodes, omitted) = (halo_nodes?, omitted?);

    let inner_nodes = (0..nt)
        .map(|t| nodes.pstart[t][p + 1] - nodes.pstart[t][p])
        .collect();
    Ok(WrittenPart {
        contents: PartContents {
            inner_nodes,
            inner_edges,
            halo_nodes,
        },
        omitted_features: omitted,
    })
}

#[cfg(test)]
mod tests {
    /// Test options: also write CSC, so the invariant checks cover both formats.
    fn opts_csc(name: &str, method: &str) -> DistDglOptions {
        DistDglOptions {
            write_csc: true,
            ..DistDglOptions::new(name, method)
        }
    }

    use super::*;
    use crate::graph::{CanonicalEtype, EdgeList, GraphParts, NamedTensor};
    use serde_json::{json, Value};

    /// item(4), user(5); user-clicks->item, user-follows->user, item-rev->user.
    fn hetero_graph() -> Graph {
        let clicks = EdgeList {
            src: vec![0, 1, 2, 3, 4, 4, 0],
            dst: vec![0, 1, 2, 3, 0, 2, 3],
        };
        let follows = EdgeList {
            src: vec![0, 1, 2, 3, 4],
            dst: vec![1, 2, 3, 4, 0],
        };
        let rev = EdgeList {
            src: vec![0, 1, 2, 3, 0, 2, 3],
            dst: vec![0, 1, 2, 3, 4, 4, 0],
        };
        let mut etypes = vec![
            (CanonicalEtype::new("user", "clicks", "item"), clicks),
            (CanonicalEtype::new("user", "follows", "user"), follows),
            (CanonicalEtype::new("item", "rev", "user"), rev),
        ];
        etypes.sort_by(|a, b| a.0.cmp(&b.0));
        let ne: Vec<usize> = etypes.iter().map(|e| e.1.len()).collect();
        let weight = |r: usize| NamedTensor {
            name: "w".into(),
            tensor: Tensor::from_1d((0..ne[r]).map(|i| (100 * r + i) as f32).collect::<Vec<_>>()),
        };
        // Hard negatives on user:clicks:item (index 1 after sorting): item IDs, -1 padded.
        let hn = NamedTensor {
            name: "hard_neg".into(),
            tensor: Tensor::from_vec(
                vec![ne[1], 2],
                (0..ne[1] as i64 * 2)
                    .map(|i| if i % 3 == 2 { -1 } else { i % 4 })
                    .collect(),
            ),
        };
        Graph::new(GraphParts {
            ntypes: vec!["item".into(), "user".into()],
            num_nodes: vec![4, 5],
            etypes: etypes.iter().map(|e| e.0.clone()).collect(),
            edges: etypes.into_iter().map(|e| e.1).collect(),
            node_data: vec![
                vec![NamedTensor {
                    name: "label".into(),
                    tensor: Tensor::from_1d(vec![10i64, 11, 12, 13]),
                }],
                vec![NamedTensor {
                    name: "feat".into(),
                    tensor: Tensor::from_vec(vec![5, 2], (0..10).map(|i| i as f32).collect()),
                }],
            ],
            edge_data: vec![vec![weight(0)], vec![weight(1), hn], vec![]],
            hard_negatives: vec![vec![], vec!["hard_neg".into()], vec![]],
            is_homogeneous: false,
        })
        .expect("consistent graph")
    }

    fn homo_graph() -> Graph {
        let n = 7u32;
        let src: Vec<u32> = (0..12).map(|i| (i * 5 + 1) % n).collect();
        let dst: Vec<u32> = (0..12).map(|i| (i * 3) % n).collect();
        Graph::new(GraphParts {
            ntypes: vec!["_N".into()],
            num_nodes: vec![u64::from(n)],
            etypes: vec![CanonicalEtype::new("_N", "_E", "_N")],
            edges: vec![EdgeList { src, dst }],
            node_data: vec![vec![NamedTensor {
                name: "feat".into(),
                tensor: Tensor::from_vec(vec![n as usize, 3], (0..n as i32 * 3).collect()),
            }]],
            edge_data: vec![vec![NamedTensor {
                name: "ew".into(),
                tensor: Tensor::from_1d((0..12).map(f64::from).collect()),
            }]],
            hard_negatives: vec![vec![]],
            is_homogeneous: true,
        })
        .expect("consistent graph")
    }

    fn assign(g: &Graph, num_parts: u32) -> Assignment {
        let node_part = g
            .num_nodes()
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                (0..n)
                    .map(|i| ((i * 7 + t as u64 * 3 + i / 2) % u64::from(num_parts)) as u32)
                    .collect()
            })
            .collect();
        Assignment {
            num_parts,
            node_part,
        }
    }

    fn i64s(t: &Tensor) -> Vec<i64> {
        assert_eq!(t.dtype, DType::I64);
        t.values::<i64>().unwrap().into_owned()
    }

    /// The `.pt` mapping's tensors in type order, through the format reader.
    fn pt_tensors(path: &Path) -> Vec<Vec<i64>> {
        match crate::format::pt::load_pt(path).unwrap() {
            crate::format::pt::PtContent::Tensor(t) => vec![i64s(&t)],
            crate::format::pt::PtContent::Dict(d) => d.iter().map(|(_, t)| i64s(t)).collect(),
        }
    }

    /// Checks the §3 invariants and the mapping round trip on a written directory.
    fn check_output(dir: &Path, g: &Graph, asg: &Assignment, layout: &PartitionLayout) {
        let num_parts = asg.num_parts as usize;
        let (nt, ne) = (g.ntypes().len(), g.etypes().len());
        let hetero = !dgl_homogeneous(g);
        // Contiguous, partition-major type-minor ranges covering everything once.
        let mut off = 0;
        for p in 0..num_parts {
            for t in 0..nt {
                assert_eq!(layout.node_map[t][p][0], off);
                off = layout.node_map[t][p][1];
            }
        }
        assert_eq!(off, g.total_nodes());
        let mut off = 0;
        for p in 0..num_parts {
            for r in 0..ne {
                assert_eq!(layout.edge_map[r][p][0], off);
                off = layout.edge_map[r][p][1];
            }
        }
        assert_eq!(off, g.total_edges());
        // Mappings: permutations; feature rows and edges follow them.
        let nmap = pt_tensors(&dir.join("node_mapping.pt"));
        let emap = pt_tensors(&dir.join("edge_mapping.pt"));
        assert_eq!(nmap.len(), nt);
        assert_eq!(emap.len(), ne);
        for (t, m) in nmap.iter().enumerate() {
            let mut s = m.clone();
            s.sort_unstable();
            assert_eq!(s, (0..g.num_nodes()[t] as i64).collect::<Vec<_>>());
            // Shuffled order = stable sort by partition.
            let part = &asg.node_part[t];
            let parts: Vec<u32> = m.iter().map(|&i| part[i as usize]).collect();
            assert!(parts.windows(2).all(|w| w[0] <= w[1]));
            for w in m.windows(2) {
                if part[w[0] as usize] == part[w[1] as usize] {
                    assert!(w[0] < w[1]);
                }
            }
        }
        // homogeneous global ID -> (type, original ID)
        let mut homo_to_orig = vec![(0usize, 0i64); g.total_nodes() as usize];
        for (t, m) in nmap.iter().enumerate() {
            let mut k = 0;
            for p in 0..num_parts {
                let [a, b] = layout.node_map[t][p];
                for h in a..b {
                    homo_to_orig[h as usize] = (t, m[k]);
                    k += 1;
                }
            }
        }
        let mut seen_edges = vec![vec![false; g.total_edges() as usize]; 1];
        for p in 0..num_parts {
            let pd = dir.join(format!("part{p}"));
            let gf = dglfmt::load_graph(&pd.join("graph.dgl")).unwrap();
            assert_eq!(gf.ntypes, ["_N"]);
            assert_eq!(gf.etypes, ["_E"]);
            let nd: std::collections::HashMap<_, _> = gf.node_data[0]
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            let ed: std::collections::HashMap<_, _> = gf.edge_data[0]
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            assert_eq!(nd.contains_key("_TYPE"), hetero);
            assert_eq!(ed.contains_key("_TYPE"), hetero);
            assert_eq!(nd.contains_key("part_id"), num_parts > 1);
            let nid = i64s(nd["_ID"]);
            let inner = nd["inner_node"].values::<u8>().unwrap();
            let nstart = layout.node_map[0][p][0] as i64;
            let n_inner = layout.parts[p].contents.total_inner_nodes() as usize;
            // Inner first, _ID = start + i; HALO sorted, outside the range.
            for (i, &x) in nid.iter().enumerate() {
                assert_eq!(inner[i], u8::from(i < n_inner));
                if i < n_inner {
                    assert_eq!(x, nstart + i as i64);
                } else {
                    assert!(x < nstart || x >= nstart + n_inner as i64);
                }
            }
            assert!(nid[n_inner..].windows(2).all(|w| w[0] < w[1]));
            assert_eq!(
                layout.parts[p].contents.halo_nodes as usize,
                nid.len() - n_inner
            );
            if hetero {
                let ty: Vec<i32> = nd["_TYPE"]
                    .bytes()
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                for (i, &x) in nid.iter().enumerate() {
                    assert_eq!(ty[i] as usize, homo_to_orig[x as usize].0);
                }
            }
            let rel = &gf.relations[0];
            let (_, coo) = rel.coo.as_ref().unwrap();
            let (_, csc) = rel.csc.as_ref().unwrap();
            let (coo_row, coo_col) = (coo.row.to_vec(), coo.col.to_vec());
            let (csc_indptr, csc_data) = (csc.indptr.to_vec(), csc.data.to_vec());
            assert_eq!(csc_indptr.len(), nid.len() + 1);
            let eid = i64s(ed["_ID"]);
            let estart = layout.edge_map.first().map_or(0, |m| m[p][0]) as i64;
            let mut prev_type = 0;
            for (j, &e) in eid.iter().enumerate() {
                assert_eq!(e, estart + j as i64);
                // Which relation, and the original edge, through edge_mapping.pt.
                let (r, k) = (0..ne)
                    .flat_map(|r| (0..num_parts).map(move |q| (r, q)))
                    .find_map(|(r, q)| {
                        let [a, b] = layout.edge_map[r][q];
                        let before: u64 = (0..q)
                            .map(|q2| layout.edge_map[r][q2][1] - layout.edge_map[r][q2][0])
                            .sum();
                        (a..b)
                            .contains(&(e as u64))
                            .then(|| (r, (before + e as u64 - a) as usize))
                    })
                    .unwrap();
                assert!(r >= prev_type, "inner edges grouped by etype");
                prev_type = r;
                let orig_e = emap[r][k] as usize;
                assert!(!seen_edges[0][e as usize]);
                seen_edges[0][e as usize] = true;
                let (s, d) = (nid[coo_row[j] as usize], nid[coo_col[j] as usize]);
                let et = &g.etypes()[r];
                let (st, dt) = (
                    g.ntype_index(&et.src).unwrap(),
                    g.ntype_index(&et.dst).unwrap(),
                );
                assert_eq!(
                    homo_to_orig[s as usize],
                    (st, i64::from(g.edges()[r].src[orig_e]))
                );
                assert_eq!(
                    homo_to_orig[d as usize],
                    (dt, i64::from(g.edges()[r].dst[orig_e]))
                );
                // dst-owned
                assert!((coo_col[j] as usize) < n_inner);
            }
            // CSC rows in increasing edge ID.
            for v in 0..nid.len() {
                let row = &csc_data[csc_indptr[v] as usize..csc_indptr[v + 1] as usize];
                assert!(row.windows(2).all(|w| w[0] < w[1]));
                for &e in row {
                    assert_eq!(coo_col[e as usize], v as i64);
                }
            }
            // Features: row k of (p, t) = orig row nmap[t][pstart + k].
            let nf = dglfmt::load_tensor_dict(&pd.join("node_feat.dgl")).unwrap();
            for (key, t) in &nf {
                let (ty, f) = key.split_once('/').unwrap();
                let ti = g.ntype_index(ty).unwrap();
                let src = g.node_tensor(ti, f).unwrap();
                let before: u64 = (0..p)
                    .map(|q| layout.node_map[ti][q][1] - layout.node_map[ti][q][0])
                    .sum();
                let idx: Vec<usize> = (0..t.rows())
                    .map(|k| nmap[ti][before as usize + k] as usize)
                    .collect();
                assert_eq!(t.bytes(), src.gather_rows(&idx).bytes(), "{key}");
            }
            let expected_nf: usize = (0..nt)
                .map(|t| {
                    if layout.parts[p].contents.inner_nodes[t] > 0 {
                        g.node_data()[t].len()
                    } else {
                        0
                    }
                })
                .sum();
            assert_eq!(nf.len(), expected_nf);
            let ef = dglfmt::load_tensor_dict(&pd.join("edge_feat.dgl")).unwrap();
            for (key, t) in &ef {
                let (ty, f) = key.split_once('/').unwrap();
                let r = g.etypes().iter().position(|e| e.colon_key() == ty).unwrap();
                let src = &g.edge_data()[r]
                    .iter()
                    .find(|d| d.name == f)
                    .unwrap()
                    .tensor;
                let before: u64 = (0..p)
                    .map(|q| layout.edge_map[r][q][1] - layout.edge_map[r][q][0])
                    .sum();
                let idx: Vec<usize> = (0..t.rows())
                    .map(|k| emap[r][before as usize + k] as usize)
                    .collect();
                let want = src.gather_rows(&idx);
                if g.hard_negatives()[r].iter().any(|h| h == f) {
                    let dt = g.ntype_index(&g.etypes()[r].dst).unwrap();
                    let got = i64s(t);
                    for (x, y) in i64s(&want).into_iter().zip(got) {
                        if x < 0 {
                            assert_eq!(y, x);
                        } else {
                            assert_eq!(nmap[dt][y as usize], x, "{key}: shuffled id maps back");
                        }
                    }
                } else {
                    assert_eq!(t.bytes(), want.bytes(), "{key}");
                }
            }
        }
        assert!(seen_edges[0].iter().all(|&s| s), "every edge exactly once");
        // JSON agrees with the layout.
        let cfg: Value =
            serde_json::from_str(&std::fs::read_to_string(&layout.config_path).unwrap()).unwrap();
        assert_eq!(cfg["num_parts"], json!(num_parts));
        for (t, name) in g.ntypes().iter().enumerate() {
            assert_eq!(cfg["node_map"][name], json!(layout.node_map[t]));
        }
    }

    #[test]
    fn hetero_invariants_1_to_4_parts() {
        let g = hetero_graph();
        for parts in 1..=4 {
            let dir = tempfile::tempdir().unwrap();
            let asg = assign(&g, parts);
            let layout = write_distdgl(dir.path(), &g, &asg, &opts_csc("toy", "random")).unwrap();
            assert_eq!(layout.total_nodes(), 9);
            assert_eq!(layout.total_edges(), g.total_edges());
            check_output(dir.path(), &g, &asg, &layout);
        }
    }

    #[test]
    fn homogeneous_invariants_1_to_4_parts() {
        let g = homo_graph();
        for parts in 1..=4 {
            let dir = tempfile::tempdir().unwrap();
            let asg = assign(&g, parts);
            let layout = write_distdgl(dir.path(), &g, &asg, &opts_csc("homo", "metis")).unwrap();
            check_output(dir.path(), &g, &asg, &layout);
        }
    }

    #[test]
    fn one_partition_is_identity() {
        let g = hetero_graph();
        let dir = tempfile::tempdir().unwrap();
        let asg = Assignment::single(g.num_nodes());
        let layout = write_distdgl(dir.path(), &g, &asg, &opts_csc("toy", "None")).unwrap();
        for m in pt_tensors(&dir.path().join("node_mapping.pt"))
            .iter()
            .chain(&pt_tensors(&dir.path().join("edge_mapping.pt")))
        {
            assert_eq!(*m, (0..m.len() as i64).collect::<Vec<_>>());
        }
        assert_eq!(layout.node_map, vec![vec![[0, 4]], vec![[4, 9]]]);
        assert_eq!(layout.parts[0].contents.halo_nodes, 0);
        let nf = dglfmt::load_tensor_dict(&dir.path().join("part0/node_feat.dgl")).unwrap();
        assert_eq!(nf[1].0, "user/feat");
        assert_eq!(nf[1].1.bytes(), g.node_data()[1][0].tensor.bytes());
    }

    #[test]
    fn json_matches_python_layout() {
        let g = hetero_graph();
        let dir = tempfile::tempdir().unwrap();
        let asg = Assignment::single(g.num_nodes());
        let layout = write_distdgl(dir.path(), &g, &asg, &opts_csc("toy", "metis")).unwrap();
        let text = std::fs::read_to_string(&layout.config_path).unwrap();
        // Generated with Python: json.dump({...same dict...}, f, indent=4)
        let want = r#"{
    "graph_name": "toy",
    "num_nodes": 9,
    "num_edges": 19,
    "part_method": "metis",
    "num_parts": 1,
    "halo_hops": 1,
    "node_map": {
        "item": [
            [
                0,
                4
            ]
        ],
        "user": [
            [
                4,
                9
            ]
        ]
    },
    "edge_map": {
        "item:rev:user": [
            [
                0,
                7
            ]
        ],
        "user:clicks:item": [
            [
                7,
                14
            ]
        ],
        "user:follows:user": [
            [
                14,
                19
            ]
        ]
    },
    "ntypes": {
        "item": 0,
        "user": 1
    },
    "etypes": {
        "item:rev:user": 0,
        "user:clicks:item": 1,
        "user:follows:user": 2
    },
    "part-0": {
        "node_feats": "part0/node_feat.dgl",
        "edge_feats": "part0/edge_feat.dgl",
        "part_graph": "part0/graph.dgl"
    }
}"#;
        assert_eq!(text, want);
    }

    #[test]
    fn thread_count_does_not_change_bytes() {
        let g = hetero_graph();
        let asg = assign(&g, 3);
        let write = |threads: usize| {
            let dir = tempfile::tempdir().unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                write_distdgl(dir.path(), &g, &asg, &opts_csc("toy", "random")).unwrap()
            });
            let mut files = Vec::new();
            for f in [
                "toy.json",
                "node_mapping.pt",
                "edge_mapping.pt",
                "part2/graph.dgl",
                "part1/edge_feat.dgl",
            ] {
                files.push(std::fs::read(dir.path().join(f)).unwrap());
            }
            files
        };
        assert_eq!(write(1), write(4));
    }

    #[test]
    fn errors_are_reported() {
        let g = hetero_graph();
        let dir = tempfile::tempdir().unwrap();
        let mut asg = assign(&g, 2);
        asg.node_part[1][0] = 5;
        let err = write_distdgl(dir.path(), &g, &asg, &opts_csc("toy", "random")).unwrap_err();
        assert!(err.to_string().contains("partition 5"), "{err}");
        let mut p2 = hetero_graph().into_parts();
        p2.edges[0].dst[0] = 99;
        let err = Graph::new(p2).unwrap_err();
        assert!(err.to_string().contains("node ID 99"), "{err}");
        let mut p3 = hetero_graph().into_parts();
        p3.ntypes[0] = "it/em".into();
        for et in &mut p3.etypes {
            for end in [&mut et.src, &mut et.dst] {
                if end == "item" {
                    *end = "it/em".into();
                }
            }
        }
        let g3 = Graph::new(p3).unwrap();
        let err = write_distdgl(dir.path(), &g3, &assign(&g3, 2), &opts_csc("toy", "random"))
            .unwrap_err();
        assert!(err.to_string().contains("it/em"), "{err}");
    }

    /// The contents the writer counts are the ones `partition_stats.json` reports: the hand-
    /// counted fixture of `partition::stats`.
    #[test]
    fn counts_the_hand_checked_contents() {
        let (g, asg, want) = crate::partition::stats::tests::fixture_with_contents();
        let dir = tempfile::tempdir().unwrap();
        let layout = write_distdgl(dir.path(), &g, &asg, &opts_csc("toy", "random")).unwrap();
        let got: Vec<PartContents> = layout.parts.iter().map(|p| p.contents.clone()).collect();
        assert_eq!(got, want);
        check_output(dir.path(), &g, &asg, &layout);
    }

    #[test]
    fn empty_partition_leaves_out_zero_row_features() {
        let g = homo_graph();
        let asg = Assignment {
            num_parts: 3,
            node_part: vec![vec![0, 2, 0, 2, 0, 2, 0]],
        };
        let dir = tempfile::tempdir().unwrap();
        let layout = write_distdgl(dir.path(), &g, &asg, &opts_csc("homo", "random")).unwrap();
        assert_eq!(layout.parts[1].contents.total_inner_nodes(), 0);
        assert_eq!(layout.parts[1].omitted_features, ["_N/feat", "_N:_E:_N/ew"]);
        assert!(layout.parts[0].omitted_features.is_empty());
        assert!(
            dglfmt::load_tensor_dict(&dir.path().join("part1/node_feat.dgl"))
                .unwrap()
                .is_empty()
        );
        check_output(dir.path(), &g, &asg, &layout);
    }
}
