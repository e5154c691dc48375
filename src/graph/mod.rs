//! The constructed graph: per-type node counts, per-relation edge lists in construction IDs,
//! and the node/edge data arrays. This is what partitioners and writers consume.
//!
//! Type order is DGL's: node types sorted by name, canonical edge types sorted as
//! `(src, rel, dst)` tuples. Node IDs are per-type construction IDs (`u32`: a single node type
//! is limited to 2^32 − 1 nodes, checked when IDs are assigned); edge IDs are positions in
//! the relation's edge list.
//!
//! [`csr`] holds the one CSR/CSC compression kernel shared by the DGL writer and the readers.

pub mod csr;
pub mod reverse;

use crate::tensor::Tensor;

/// A canonical edge type `(src, rel, dst)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanonicalEtype {
    pub src: String,
    pub rel: String,
    pub dst: String,
}

impl CanonicalEtype {
    pub fn new(src: &str, rel: &str, dst: &str) -> Self {
        CanonicalEtype {
            src: src.into(),
            rel: rel.into(),
            dst: dst.into(),
        }
    }
    /// `"src:rel:dst"`, the key DGL uses in partition JSONs and feature files.
    pub fn colon_key(&self) -> String {
        format!("{}:{}:{}", self.src, self.rel, self.dst)
    }
    /// `"src,rel,dst"`, the key GraphStorm uses in `edge_label_stats.json`.
    pub fn comma_key(&self) -> String {
        format!("{},{},{}", self.src, self.rel, self.dst)
    }
}

/// Endpoints of one relation's edges, in construction order (edge ID = index).
#[derive(Debug, Default, Clone)]
pub struct EdgeList {
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
}

impl EdgeList {
    pub fn len(&self) -> usize {
        self.src.len()
    }
    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

/// A named data array attached to a node or edge type.
#[derive(Debug)]
pub struct NamedTensor {
    pub name: String,
    pub tensor: Tensor,
}

/// The whole constructed graph.
#[derive(Debug, Default)]
pub struct Graph {
    /// Node type names, sorted.
    pub ntypes: Vec<String>,
    /// Node count per entry of `ntypes`.
    pub num_nodes: Vec<u64>,
    /// Canonical edge types, sorted.
    pub etypes: Vec<CanonicalEtype>,
    /// Edges per entry of `etypes` (endpoints are per-type construction IDs).
    pub edges: Vec<EdgeList>,
    /// Data arrays per node type (same index as `ntypes`), each with `num_nodes[t]` rows,
    /// sorted by name.
    pub node_data: Vec<Vec<NamedTensor>>,
    /// Data arrays per edge type (same index as `etypes`), each with `edges[r].len()` rows.
    pub edge_data: Vec<Vec<NamedTensor>>,
    /// Names of edge features holding hard negatives (destination-type construction IDs,
    /// `-1` padded) per edge type; writers convert them to shuffled IDs (spec §4.5).
    pub hard_negatives: Vec<Vec<String>>,
    /// One node type `_N` and one relation `_N:_E:_N` (GraphStorm's homogeneous case).
    pub is_homogeneous: bool,
}

impl Graph {
    pub fn ntype_index(&self, name: &str) -> Option<usize> {
        self.ntypes.iter().position(|t| t == name)
    }
    pub fn etype_index(&self, e: &CanonicalEtype) -> Option<usize> {
        self.etypes.iter().position(|x| x == e)
    }
    pub fn total_nodes(&self) -> u64 {
        self.num_nodes.iter().sum()
    }
    pub fn total_edges(&self) -> u64 {
        self.edges.iter().map(|e| e.len() as u64).sum()
    }
    /// Node data array `name` of node type index `t`.
    pub fn node_tensor(&self, t: usize, name: &str) -> Option<&Tensor> {
        self.node_data[t]
            .iter()
            .find(|n| n.name == name)
            .map(|n| &n.tensor)
    }
}
