//! The training graph: every partition of a DistDGL output loaded into one in-memory graph in
//! **per-type shuffled ID space** (spec `training.md` §3.1, §3.5), the ID space GraphStorm and
//! DistDGL train in: node `i` of type `t` is the `i`-th node of `t` counting the type's ranges
//! of the partition book partition by partition; edges likewise per edge type.
//!
//! Structure: one CSC per edge type ([`Csc`]: in-edges per destination node, listed in
//! ascending edge ID), built from the partitions' inner edges. A DistDGL partition stores its
//! inner nodes and edges plus HALO nodes; every edge is an inner edge of exactly one partition,
//! so the loader takes the inner edges of every partition, maps their homogeneous endpoint and
//! edge IDs (`_ID`) through the partition book to `(type, per-type ID)`, and checks that every
//! edge ID of every type is seen exactly once and that its endpoints have the etype's types.
//!
//! Features stay in the partitions' mapped `node_feat.dgl` files until asked for
//! ([`TrainGraph::node_features`], [`TrainGraph::node_column`]); rows of partition `p` follow
//! rows of partitions `0..p`, which is per-type shuffled order.
//!
//! # Memory
//! `8·(nodes of the dst type + 1) + 16·edges` bytes per edge type for the CSCs, plus `16·edges`
//! transient while building; features are copied only when asked for.

use std::path::Path;

use rayon::prelude::*;

use crate::dataset::distdgl::{self, DistDglOutput, Partition};
use crate::error::{Error, Result};
use crate::graph::csr::compress;
use crate::tensor::{DType, Tensor};

/// A canonical edge type with resolved node type IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Etype {
    /// Source node type ID.
    pub src: usize,
    /// Relation name.
    pub rel: String,
    /// Destination node type ID.
    pub dst: usize,
    /// `(src, rel, dst)` names.
    pub name: (String, String, String),
}

impl Etype {
    /// GraphStorm's fanout/YAML spelling `src/rel/dst`.
    pub fn slash_key(&self) -> String {
        format!("{}/{}/{}", self.name.0, self.name.1, self.name.2)
    }
    /// The partition JSON spelling `src:rel:dst`.
    pub fn colon_key(&self) -> String {
        format!("{}:{}:{}", self.name.0, self.name.1, self.name.2)
    }
}

/// In-edges per destination node of one edge type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Csc {
    /// `num_nodes(dst) + 1` offsets; node `v`'s in-edges are `indptr[v]..indptr[v + 1]`.
    pub indptr: Vec<i64>,
    /// Source per-type ID of each in-edge.
    pub indices: Vec<i64>,
    /// Per-etype shuffled edge ID of each in-edge (ascending within a node).
    pub eids: Vec<i64>,
}

impl Csc {
    /// In-degree of node `v`.
    #[inline]
    pub fn degree(&self, v: usize) -> usize {
        (self.indptr[v + 1] - self.indptr[v]) as usize
    }
    /// `(source, edge ID)` of the in-edges of `v`.
    pub fn in_edges(&self, v: usize) -> impl Iterator<Item = (i64, i64)> + '_ {
        let (a, b) = (self.indptr[v] as usize, self.indptr[v + 1] as usize);
        self.indices[a..b]
            .iter()
            .copied()
            .zip(self.eids[a..b].iter().copied())
    }
    pub fn num_edges(&self) -> usize {
        self.indices.len()
    }
}

/// A dense `f32` matrix, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureMatrix {
    pub rows: usize,
    pub dim: usize,
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

/// An edge type of [`TrainGraph::from_edges`]: `(src type, rel, dst type, (src, dst) edges)`.
pub type InMemoryEtype<'a> = (usize, &'a str, usize, Vec<(i64, i64)>);

/// All partitions of a DistDGL output as one graph (see the module docs).
#[derive(Debug)]
pub struct TrainGraph {
    /// `None` for graphs built in memory ([`TrainGraph::from_edges`]).
    out: Option<DistDglOutput>,
    parts: Vec<Partition>,
    /// Node data per type of in-memory graphs ([`TrainGraph::with_node_data`]).
    extra: Vec<Vec<(String, Tensor)>>,
    /// Edge data per type of in-memory graphs ([`TrainGraph::with_edge_data`]).
    extra_edges: Vec<Vec<(String, Tensor)>>,
    ntypes: Vec<String>,
    num_nodes: Vec<usize>,
    etypes: Vec<Etype>,
    csc: Vec<Csc>,
    /// The complete CSC of edge types whose sampled structure [`TrainGraph::restrict_edges`]
    /// narrowed (edge endpoints are still read from it).
    full_csc: Vec<Option<Csc>>,
}

/// Endpoints of the edges of one edge type, indexed by per-type edge ID (`-1` = not seen yet).
struct EdgeSlots {
    src: Vec<i64>,
    dst: Vec<i64>,
}

impl TrainGraph {
    /// Loads all partitions of a DistDGL output (partition JSON path or its folder) into one
    /// in-memory graph in per-type shuffled ID space.
    pub fn open(path: &Path) -> Result<TrainGraph> {
        let out = distdgl::open(path)?;
        let parts = (0..out.num_parts())
            .into_par_iter()
            .map(|p| out.partition(p))
            .collect::<Result<Vec<_>>>()?;
        let ntypes = out.ntypes().to_vec();
        let num_nodes: Vec<usize> = (0..ntypes.len())
            .map(|t| out.num_nodes(t) as usize)
            .collect();
        let etypes: Vec<Etype> = out
            .etypes()
            .iter()
            .enumerate()
            .map(|(r, e)| {
                let (s, d) = out.etype_ends(r);
                Etype {
                    src: s,
                    rel: e.rel.clone(),
                    dst: d,
                    name: (e.src.clone(), e.rel.clone(), e.dst.clone()),
                }
            })
            .collect();
        let mut slots: Vec<EdgeSlots> = (0..etypes.len())
            .map(|r| {
                let n = out.num_edges(r) as usize;
                EdgeSlots {
                    src: vec![-1; n],
                    dst: vec![-1; n],
                }
            })
            .collect();
        for part in &parts {
            Self::collect_edges(&out, part, &etypes, &mut slots)?;
        }
        let csc = slots
            .into_par_iter()
            .enumerate()
            .map(|(r, s)| {
                let e = &etypes[r];
                if let Some(missing) = s.src.iter().position(|&x| x < 0) {
                    return Err(Error::input(
                        &out.config_path,
                        format!(
                            "edge {missing} of type {} is an inner edge of no partition",
                            e.colon_key()
                        ),
                    ));
                }
                let (nd, ns) = (num_nodes[e.dst], num_nodes[e.src]);
                let m = compress(
                    nd,
                    ns,
                    s.src.len(),
                    |k| s.dst[k] as u64,
                    |k| s.src[k] as u64,
                )
                .map_err(|m| {
                    Error::input(
                        &out.config_path,
                        format!("edge type {}: {m}", e.colon_key()),
                    )
                })?;
                Ok(Csc {
                    indptr: m.indptr,
                    indices: m.indices,
                    eids: m.eids,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TrainGraph {
            out: Some(out),
            parts,
            extra: Vec::new(),
            extra_edges: Vec::new(),
            ntypes,
            num_nodes,
            full_csc: vec![None; etypes.len()],
            etypes,
            csc,
        })
    }

    /// An in-memory graph (tests, benches, hand-made models): node types with their counts,
    /// edge types `(src type, rel, dst type, edges)` with `(src, dst)` per-type IDs, edge `k`
    /// of a type having edge ID `k`. Panics on endpoints out of range (a programming error).
    pub fn from_edges(ntypes: &[(&str, usize)], etypes: Vec<InMemoryEtype<'_>>) -> TrainGraph {
        let names: Vec<String> = ntypes.iter().map(|x| x.0.to_string()).collect();
        let num_nodes: Vec<usize> = ntypes.iter().map(|x| x.1).collect();
        let mut ets = Vec::new();
        let mut csc = Vec::new();
        for (s, rel, d, edges) in etypes {
            let m = compress(
                num_nodes[d],
                num_nodes[s],
                edges.len(),
                |k| edges[k].1 as u64,
                |k| edges[k].0 as u64,
            )
            .unwrap_or_else(|m| panic!("edge type {rel}: {m}"));
            ets.push(Etype {
                src: s,
                rel: rel.to_string(),
                dst: d,
                name: (names[s].clone(), rel.to_string(), names[d].clone()),
            });
            csc.push(Csc {
                indptr: m.indptr,
                indices: m.indices,
                eids: m.eids,
            });
        }
        TrainGraph {
            out: None,
            parts: Vec::new(),
            extra: (0..names.len()).map(|_| Vec::new()).collect(),
            extra_edges: (0..ets.len()).map(|_| Vec::new()).collect(),
            ntypes: names,
            num_nodes,
            full_csc: vec![None; ets.len()],
            etypes: ets,
            csc,
        }
    }

    /// Adds node data `name` (a feature, label or mask; one row per node) to type `t` of an
    /// in-memory graph. Panics on a row-count mismatch or on a graph read from files.
    pub fn with_node_data(mut self, t: usize, name: &str, x: Tensor) -> TrainGraph {
        assert!(
            self.out.is_none(),
            "node data of a read graph is its files'"
        );
        assert_eq!(x.rows(), self.num_nodes[t], "rows of '{name}'");
        self.extra[t].retain(|(n, _)| n != name);
        self.extra[t].push((name.to_string(), x));
        self
    }

    /// Adds edge data `name` (a label or mask; one row per edge ID) to edge type `r` of an
    /// in-memory graph. Panics on a row-count mismatch or on a graph read from files.
    pub fn with_edge_data(mut self, r: usize, name: &str, x: Tensor) -> TrainGraph {
        assert!(
            self.out.is_none(),
            "edge data of a read graph is its files'"
        );
        assert_eq!(x.rows(), self.csc[r].num_edges(), "rows of '{name}'");
        self.extra_edges[r].retain(|(n, _)| n != name);
        self.extra_edges[r].push((name.to_string(), x));
        self
    }

    /// Puts the inner edges of `part` into `slots` at their per-type edge IDs.
    fn collect_edges(
        out: &DistDglOutput,
        part: &Partition,
        etypes: &[Etype],
        slots: &mut [EdgeSlots],
    ) -> Result<()> {
        let bad = |m: String| Error::input(&part.graph_path, m);
        let nid = part
            .node_data("_ID")
            .ok_or_else(|| bad("graph data '_ID' of the nodes is missing".into()))?;
        let nid = nid.values::<i64>().ok_or_else(|| {
            bad(format!(
                "node '_ID' is {}, expected int64",
                nid.dtype.name()
            ))
        })?;
        // local node → (type, per-type ID), for inner and HALO nodes alike
        let local: Vec<(usize, i64)> = nid
            .par_iter()
            .enumerate()
            .map(|(i, &g)| {
                let l = u64::try_from(g)
                    .ok()
                    .and_then(|g| out.book.nodes.locate(g))
                    .ok_or_else(|| {
                        bad(format!(
                            "local node {i}: global node ID {g} is outside the book"
                        ))
                    })?;
                Ok((l.type_id, l.per_type as i64))
            })
            .collect::<Result<Vec<_>>>()?;
        let eid = part
            .edge_data("_ID")
            .ok_or_else(|| bad("graph data '_ID' of the edges is missing".into()))?;
        let eid = eid.values::<i64>().ok_or_else(|| {
            bad(format!(
                "edge '_ID' is {}, expected int64",
                eid.dtype.name()
            ))
        })?;
        let inner = part
            .edge_data("inner_edge")
            .ok_or_else(|| bad("graph data 'inner_edge' is missing".into()))?;
        let is_inner = |j: usize| -> bool {
            let w = inner.dtype.size();
            inner.bytes()[j * w..(j + 1) * w].iter().any(|&b| b != 0)
        };
        let (src, dst) = (part.src().values(), part.dst().values());
        let n_local = local.len();
        for j in 0..part.num_edges() {
            if !is_inner(j) {
                continue;
            }
            let g = eid[j];
            let l = u64::try_from(g)
                .ok()
                .and_then(|g| out.book.edges.locate(g))
                .ok_or_else(|| {
                    bad(format!(
                        "local edge {j}: global edge ID {g} is outside the book"
                    ))
                })?;
            let (s, d) = (src[j], dst[j]);
            let end = |x: i64| -> Result<(usize, i64)> {
                usize::try_from(x)
                    .ok()
                    .and_then(|x| local.get(x).copied())
                    .ok_or_else(|| {
                        bad(format!(
                            "local edge {j}: endpoint {x} out of range 0..{n_local}"
                        ))
                    })
            };
            let ((st, sp), (dt, dp)) = (end(s)?, end(d)?);
            let e = &etypes[l.type_id];
            if st != e.src || dt != e.dst {
                return Err(bad(format!(
                    "local edge {j} of type {} joins node types {} and {}",
                    e.colon_key(),
                    out.ntypes()[st],
                    out.ntypes()[dt]
                )));
            }
            let slot = &mut slots[l.type_id];
            let k = l.per_type as usize;
            if slot.src[k] >= 0 {
                return Err(bad(format!(
                    "edge {k} of type {} is an inner edge of two partitions",
                    e.colon_key()
                )));
            }
            slot.src[k] = sp;
            slot.dst[k] = dp;
        }
        Ok(())
    }

    /// Node types in type-ID order (the partition JSON's).
    pub fn ntypes(&self) -> &[String] {
        &self.ntypes
    }
    pub fn ntype_id(&self, name: &str) -> Option<usize> {
        self.ntypes.iter().position(|t| t == name)
    }
    /// Nodes of type `t`.
    pub fn num_nodes(&self, t: usize) -> usize {
        self.num_nodes[t]
    }
    /// Edge types in etype-ID order (= DGL's `g.canonical_etypes`).
    pub fn etypes(&self) -> &[Etype] {
        &self.etypes
    }
    /// Edge type by `src/rel/dst`, `src:rel:dst`, or a relation name when unique.
    pub fn etype_id(&self, key: &str) -> Option<usize> {
        if let Some(r) = self
            .etypes
            .iter()
            .position(|e| e.slash_key() == key || e.colon_key() == key)
        {
            return Some(r);
        }
        let mut it = self.etypes.iter().enumerate().filter(|(_, e)| e.rel == key);
        match (it.next(), it.next()) {
            (Some((r, _)), None) => Some(r),
            _ => None,
        }
    }
    /// In-edges per destination node of edge type `r`.
    pub fn csc(&self, r: usize) -> &Csc {
        &self.csc[r]
    }
    /// The output the graph was read from (raw ID maps, mappings, config). Panics for an
    /// in-memory graph ([`TrainGraph::from_edges`]); see [`TrainGraph::try_dataset`].
    pub fn dataset(&self) -> &DistDglOutput {
        self.out
            .as_ref()
            .expect("an in-memory TrainGraph has no DistDGL output")
    }
    /// The output the graph was read from, `None` for an in-memory graph.
    pub fn try_dataset(&self) -> Option<&DistDglOutput> {
        self.out.as_ref()
    }

    /// Where messages about the graph point: the partition JSON, or `<in-memory graph>`.
    fn origin(&self) -> std::path::PathBuf {
        self.out
            .as_ref()
            .map(|o| o.config_path.clone())
            .unwrap_or_else(|| "<in-memory graph>".into())
    }

    /// Names of the node data of type `t` (features, labels, masks), in file order over the
    /// partitions.
    pub fn node_feature_names(&self, t: usize) -> Vec<String> {
        self.data_names(Side::Node, t)
    }

    /// Names of the edge data of edge type `r` (labels, masks, features).
    pub fn edge_feature_names(&self, r: usize) -> Vec<String> {
        self.data_names(Side::Edge, r)
    }

    fn data_names(&self, side: Side, t: usize) -> Vec<String> {
        let extra = match side {
            Side::Node => &self.extra,
            Side::Edge => &self.extra_edges,
        };
        let mut names: Vec<String> = extra
            .get(t)
            .map(|l| l.iter().map(|x| x.0.clone()).collect())
            .unwrap_or_default();
        for part in &self.parts {
            let list = match side {
                Side::Node => part.node_feats(t),
                Side::Edge => part.edge_feats(t),
            };
            for (n, _) in list {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        names
    }

    /// The per-partition tensors of feature `name` of type `t`, for the partitions that own
    /// nodes of `t`; `None` if no partition has it, an error if only some have it.
    fn feature_parts(&self, t: usize, name: &str) -> Result<Option<Vec<&Tensor>>> {
        self.data_parts(Side::Node, t, name)
    }

    /// Node (or edge) data `name` of type `t` per partition owning items of `t`, in partition
    /// order (= per-type shuffled order).
    fn data_parts(&self, side: Side, t: usize, name: &str) -> Result<Option<Vec<&Tensor>>> {
        let Some(out) = &self.out else {
            let extra = match side {
                Side::Node => &self.extra,
                Side::Edge => &self.extra_edges,
            };
            return Ok(extra[t].iter().find(|(n, _)| n == name).map(|x| vec![&x.1]));
        };
        let mut found = Vec::new();
        let mut missing = None;
        for (p, part) in self.parts.iter().enumerate() {
            let (count, list) = match side {
                Side::Node => (out.book.nodes.count(t, p), part.node_feats(t)),
                Side::Edge => (out.book.edges.count(t, p), part.edge_feats(t)),
            };
            if count == 0 {
                continue;
            }
            match list.iter().find(|(n, _)| n == name) {
                Some((_, x)) => found.push(x),
                None => missing = Some(p),
            }
        }
        let what = match side {
            Side::Node => format!("node feature '{name}' of node type '{}'", self.ntypes[t]),
            Side::Edge => format!(
                "edge feature '{name}' of edge type '{}'",
                self.etypes[t].colon_key()
            ),
        };
        match (found.is_empty(), missing) {
            (true, _) => Ok(None),
            (false, None) => Ok(Some(found)),
            (false, Some(p)) => Err(Error::input(
                &self.parts[p].graph_path,
                format!("{what} is missing in partition {p} (other partitions have it)"),
            )),
        }
    }

    fn missing_feature(&self, t: usize, name: &str) -> Error {
        let avail = self.node_feature_names(t);
        Error::input(
            self.origin(),
            format!(
                "node type '{}' has no feature '{name}' (it has: {})",
                self.ntypes[t],
                if avail.is_empty() {
                    "none".to_string()
                } else {
                    avail.join(", ")
                }
            ),
        )
    }

    /// Node features `names` of type `t` concatenated along dim 1 in that order, as `f32`
    /// (from any dtype; `.float()` in GraphStorm), rows in per-type shuffled order.
    pub fn node_features(&self, t: usize, names: &[String]) -> Result<FeatureMatrix> {
        let rows = self.num_nodes[t];
        let mut cols: Vec<(usize, Vec<&Tensor>)> = Vec::with_capacity(names.len());
        for name in names {
            let ps = self
                .feature_parts(t, name)?
                .ok_or_else(|| self.missing_feature(t, name))?;
            let dim = ps[0].row_len();
            if ps.iter().any(|x| x.row_len() != dim) {
                return Err(Error::input(
                    self.origin(),
                    format!(
                        "node feature '{name}' of '{}' has different widths across partitions",
                        self.ntypes[t]
                    ),
                ));
            }
            cols.push((dim, ps));
        }
        let dim: usize = cols.iter().map(|c| c.0).sum();
        let mut data = vec![0f32; rows * dim];
        let mut off = 0;
        for (w, ps) in &cols {
            let mut row0 = 0;
            for x in ps {
                let vals = to_f32(x);
                let n = x.rows();
                if dim > 0 {
                    data[row0 * dim..(row0 + n) * dim]
                        .par_chunks_mut(dim)
                        .zip(vals.par_chunks(*w.max(&1)))
                        .for_each(|(o, v)| o[off..off + w].copy_from_slice(&v[..*w]));
                }
                row0 += n;
            }
            off += w;
        }
        Ok(FeatureMatrix { rows, dim, data })
    }

    /// A node data column (labels, masks) of type `t` concatenated over partitions, shape as
    /// stored (`(n,)` or `(n, k)`), `None` if type `t` does not have it.
    pub fn node_column(&self, t: usize, name: &str) -> Result<Option<Tensor>> {
        self.column(Side::Node, t, name)
    }

    fn column(&self, side: Side, t: usize, name: &str) -> Result<Option<Tensor>> {
        let Some(ps) = self.data_parts(side, t, name)? else {
            return Ok(None);
        };
        let owned: Vec<Tensor> = ps
            .iter()
            .map(|x| Tensor {
                dtype: x.dtype,
                shape: x.shape.clone(),
                data: crate::tensor::Bytes::Owned(x.bytes().to_vec()),
            })
            .collect();
        Tensor::concat_rows(&owned).map(Some).ok_or_else(|| {
            let of = match side {
                Side::Node => format!("node data '{name}' of '{}'", self.ntypes[t]),
                Side::Edge => format!("edge data '{name}' of '{}'", self.etypes[t].colon_key()),
            };
            Error::input(
                self.origin(),
                format!("{of} has different dtypes or shapes across partitions"),
            )
        })
    }

    /// Sorted per-type IDs of the nodes of type `t` whose mask `name` is non-zero (any
    /// element of the row); an error naming the available columns if there is no such mask.
    pub fn mask_ids(&self, t: usize, name: &str) -> Result<Vec<i64>> {
        let ps = self
            .feature_parts(t, name)?
            .ok_or_else(|| self.missing_feature(t, name))?;
        Ok(nonzero_rows(&ps))
    }

    /// Sorted per-type edge IDs of edge type `r` whose edge mask `name` is non-zero; `None`
    /// when the edge type has no such mask.
    pub fn edge_mask_ids(&self, r: usize, name: &str) -> Result<Option<Vec<i64>>> {
        Ok(self
            .data_parts(Side::Edge, r, name)?
            .map(|ps| nonzero_rows(&ps)))
    }

    /// An edge data column (labels) of edge type `r` over all partitions, rows in per-type
    /// shuffled edge-ID order; `None` if the edge type does not have it.
    pub fn edge_column(&self, r: usize, name: &str) -> Result<Option<Tensor>> {
        self.column(Side::Edge, r, name)
    }

    /// Endpoints `(src, dst)` (per-type node IDs) of every edge of type `r`, indexed by
    /// per-type edge ID (`16·edges` bytes).
    pub fn edge_endpoints(&self, r: usize) -> (Vec<i64>, Vec<i64>) {
        let c = self.full_csc[r].as_ref().unwrap_or(&self.csc[r]);
        let n = c.num_edges();
        let mut src = vec![0i64; n];
        let mut dst = vec![0i64; n];
        for v in 0..c.indptr.len().saturating_sub(1) {
            for p in c.indptr[v] as usize..c.indptr[v + 1] as usize {
                let e = c.eids[p] as usize;
                src[e] = c.indices[p];
                dst[e] = v as i64;
            }
        }
        (src, dst)
    }

    /// Keeps only the edges of type `r` for which `keep(edge ID)` holds in the structure
    /// the sampler sees (edge IDs unchanged): GraphStorm's `train_mask` edge mask for
    /// message passing in link prediction.
    pub fn restrict_edges(&mut self, r: usize, keep: impl Fn(i64) -> bool) {
        let c = &self.csc[r];
        let mut indptr = Vec::with_capacity(c.indptr.len());
        let mut indices = Vec::new();
        let mut eids = Vec::new();
        indptr.push(0i64);
        for v in 0..c.indptr.len().saturating_sub(1) {
            for p in c.indptr[v] as usize..c.indptr[v + 1] as usize {
                if keep(c.eids[p]) {
                    indices.push(c.indices[p]);
                    eids.push(c.eids[p]);
                }
            }
            indptr.push(indices.len() as i64);
        }
        let full = std::mem::replace(
            &mut self.csc[r],
            Csc {
                indptr,
                indices,
                eids,
            },
        );
        if self.full_csc[r].is_none() {
            self.full_csc[r] = Some(full);
        }
    }

    /// Per-type shuffled edge ID → construction edge ID of edge type `r`, from
    /// `edge_mapping.pt`; the identity when the output has no mapping and one partition.
    pub fn edge_construction_ids(&self, r: usize) -> Result<Vec<i64>> {
        let n = self.num_edges(r);
        let Some(out) = &self.out else {
            return Ok((0..n as i64).collect());
        };
        match out.edge_mapping()? {
            Some(mut m) => {
                let x = m.swap_remove(r);
                Ok(x.values::<i64>().expect("checked int64").into_owned())
            }
            None if out.num_parts() == 1 => Ok((0..n as i64).collect()),
            None => Err(Error::input(
                out.dir.join("edge_mapping.pt"),
                "missing; a multi-partition output needs it to match edges with their reverse edges",
            )),
        }
    }

    /// Edges of type `r` (all of them, also those [`TrainGraph::restrict_edges`] hides).
    pub fn num_edges(&self, r: usize) -> usize {
        match &self.out {
            Some(out) => out.num_edges(r) as usize,
            None => self.full_csc[r]
                .as_ref()
                .unwrap_or(&self.csc[r])
                .num_edges(),
        }
    }

    /// Per-type shuffled ID → construction ("Graph Node ID space") per-type ID of type `t`,
    /// from `node_mapping.pt`; the identity when the output has no mapping and one partition.
    pub fn construction_ids(&self, t: usize) -> Result<Vec<i64>> {
        let Some(out) = &self.out else {
            return Ok((0..self.num_nodes[t] as i64).collect());
        };
        match out.node_mapping()? {
            Some(mut m) => {
                let x = m.swap_remove(t);
                Ok(x.values::<i64>().expect("checked int64").into_owned())
            }
            None if out.num_parts() == 1 => Ok((0..self.num_nodes[t] as i64).collect()),
            None => Err(Error::input(
                out.dir.join("node_mapping.pt"),
                "missing; a multi-partition output needs it to map shuffled node IDs back",
            )),
        }
    }
}

/// Node or edge data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Node,
    Edge,
}

/// Row indices (counted over the concatenated parts) whose row has a non-zero element.
fn nonzero_rows(ps: &[&Tensor]) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut row0 = 0i64;
    for x in ps {
        let w = x.row_len().max(1);
        let v = to_f32(x);
        for (k, r) in v.chunks(w).enumerate().take(x.rows()) {
            if r.iter().any(|&a| a != 0.0) {
                ids.push(row0 + k as i64);
            }
        }
        row0 += x.rows() as i64;
    }
    ids
}

/// The values of `x` as `f32`, whatever its dtype (features, labels).
pub(crate) fn to_f32(x: &Tensor) -> Vec<f32> {
    macro_rules! conv {
        ($t:ty, $f:expr) => {
            x.iter_values::<$t>()
                .expect("dtype checked")
                .map($f)
                .collect()
        };
    }
    match x.dtype {
        DType::F32 => x.values::<f32>().expect("dtype").into_owned(),
        DType::F16 => conv!(half::f16, |v: half::f16| v.to_f32()),
        DType::F64 => conv!(f64, |v: f64| v as f32),
        DType::I8 => {
            // one-hot tensors materialise through bytes()
            x.bytes().iter().map(|&b| b as i8 as f32).collect()
        }
        DType::U8 => x.bytes().iter().map(|&b| b as f32).collect(),
        DType::I16 => conv!(i16, |v: i16| v as f32),
        DType::I32 => conv!(i32, |v: i32| v as f32),
        DType::I64 => conv!(i64, |v: i64| v as f32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_f32_converts_every_dtype() {
        assert_eq!(to_f32(&Tensor::from_1d(vec![1i64, -2])), vec![1.0, -2.0]);
        assert_eq!(to_f32(&Tensor::from_1d(vec![1i8, -2])), vec![1.0, -2.0]);
        assert_eq!(to_f32(&Tensor::from_1d(vec![3u8])), vec![3.0]);
        assert_eq!(to_f32(&Tensor::from_1d(vec![0.5f64])), vec![0.5]);
        assert_eq!(
            to_f32(&Tensor::from_1d(vec![half::f16::from_f32(1.5)])),
            vec![1.5]
        );
    }

    #[test]
    fn csc_accessors() {
        let c = Csc {
            indptr: vec![0, 0, 2],
            indices: vec![3, 1],
            eids: vec![0, 4],
        };
        assert_eq!(c.degree(0), 0);
        assert_eq!(c.in_edges(1).collect::<Vec<_>>(), vec![(3, 0), (1, 4)]);
        assert_eq!(c.num_edges(), 2);
    }
}
