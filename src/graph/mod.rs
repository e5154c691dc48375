//! The constructed graph: per-type node counts, per-relation edge lists in construction IDs,
//! and the node/edge data arrays. This is what partitioners and writers consume.
//!
//! Type order is DGL's: node types sorted by name, canonical edge types sorted as
//! `(src, rel, dst)` tuples. Node IDs are per-type construction IDs (`u32`: a single node type
//! is limited to 2^32 − 1 nodes, checked when IDs are assigned); edge IDs are positions in
//! the relation's edge list.
//!
//! A [`Graph`] is built only through [`Graph::new`], which checks every invariant the
//! partitioners and writers rely on (see there); its fields are private, so consumers index
//! freely and never re-check. [`GraphParts`] is the unchecked bag of parts a producer fills
//! (and [`Graph::into_parts`] gives back, to change a graph and check it again).
//!
//! [`csr`] holds the one CSR/CSC compression kernel shared by the DGL writer and the readers;
//! [`reverse`] adds reverse edges to the relations before the graph is built.

pub mod csr;
pub mod reverse;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

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

/// The parts of a graph, unchecked: what a producer fills before [`Graph::new`].
#[derive(Debug, Default)]
pub struct GraphParts {
    /// Node type names, sorted, unique.
    pub ntypes: Vec<String>,
    /// Node count per entry of `ntypes`.
    pub num_nodes: Vec<u64>,
    /// Canonical edge types, sorted, unique.
    pub etypes: Vec<CanonicalEtype>,
    /// Edges per entry of `etypes` (endpoints are per-type construction IDs).
    pub edges: Vec<EdgeList>,
    /// Data arrays per node type (same index as `ntypes`), each with `num_nodes[t]` rows.
    pub node_data: Vec<Vec<NamedTensor>>,
    /// Data arrays per edge type (same index as `etypes`), each with `edges[r].len()` rows.
    pub edge_data: Vec<Vec<NamedTensor>>,
    /// Names of edge features holding hard negatives (destination-type construction IDs,
    /// `-1` padded) per edge type; writers convert them to shuffled IDs (spec §4.5). Empty
    /// means none anywhere.
    pub hard_negatives: Vec<Vec<String>>,
    /// One node type `_N` and one relation `_N:_E:_N` (GraphStorm's homogeneous case).
    pub is_homogeneous: bool,
}

/// The whole constructed graph; consistent by construction ([`Graph::new`]).
#[derive(Debug)]
pub struct Graph {
    parts: GraphParts,
    /// (source type, destination type) index per relation.
    endpoint_types: Vec<(usize, usize)>,
}

/// Largest node count of one type: IDs are `u32`.
pub const MAX_TYPE_NODES: u64 = u32::MAX as u64 + 1;

impl Graph {
    /// Checks `parts` and builds the graph. The checks:
    /// * at least one node type; node types and edge types sorted and unique (DGL's order);
    /// * one `num_nodes` and `node_data` entry per node type, one `edges` and `edge_data`
    ///   (and `hard_negatives`, unless it is empty) entry per edge type;
    /// * every node count fits `u32` IDs ([`MAX_TYPE_NODES`]);
    /// * every edge type's endpoint types exist; `src` and `dst` have equal length; every
    ///   endpoint is below its type's node count;
    /// * every node data array has `num_nodes[t]` rows, every edge data array
    ///   `edges[r].len()` rows (neither is 0-dimensional); names are unique per type;
    /// * every hard-negative name is an `int32`/`int64` edge data array of its type;
    /// * `is_homogeneous` means exactly the node type `_N` and the edge type `_N:_E:_N`.
    ///
    /// # Errors
    /// [`Error::Graph`] naming the first violated rule.
    ///
    /// # Memory
    /// None beyond the parts: the endpoint scan reads the edge lists in parallel.
    pub fn new(mut parts: GraphParts) -> Result<Graph> {
        let bad = |m: String| Err(Error::Graph(m));
        let p = &mut parts;
        let (nt, ne) = (p.ntypes.len(), p.etypes.len());
        if nt == 0 {
            return bad("the graph has no node types".into());
        }
        if p.num_nodes.len() != nt || p.node_data.len() != nt {
            return bad("num_nodes and node_data need one entry per node type".into());
        }
        if p.edges.len() != ne || p.edge_data.len() != ne {
            return bad("edges and edge_data need one entry per edge type".into());
        }
        if p.hard_negatives.is_empty() {
            p.hard_negatives = vec![Vec::new(); ne];
        } else if p.hard_negatives.len() != ne {
            return bad("hard_negatives needs one entry per edge type".into());
        }
        if let Some(w) = p.ntypes.windows(2).find(|w| w[0] >= w[1]) {
            return bad(format!(
                "node types must be sorted and unique: '{}' comes before '{}'",
                w[0], w[1]
            ));
        }
        if let Some(w) = p.etypes.windows(2).find(|w| w[0] >= w[1]) {
            return bad(format!(
                "edge types must be sorted and unique: '{}' comes before '{}'",
                w[0].colon_key(),
                w[1].colon_key()
            ));
        }
        for (t, name) in p.ntypes.iter().enumerate() {
            if p.num_nodes[t] > MAX_TYPE_NODES {
                return bad(format!("node type '{name}' has more than 2^32 nodes"));
            }
            check_data(&p.node_data[t], p.num_nodes[t], "node", name)?;
        }
        let index = |name: &str| p.ntypes.binary_search_by(|t| t.as_str().cmp(name)).ok();
        let mut endpoint_types = Vec::with_capacity(ne);
        for (r, et) in p.etypes.iter().enumerate() {
            let key = et.colon_key();
            let (Some(st), Some(dt)) = (index(&et.src), index(&et.dst)) else {
                return bad(format!("edge type '{key}' refers to an unknown node type"));
            };
            let el = &p.edges[r];
            if el.src.len() != el.dst.len() {
                return bad(format!(
                    "edge type '{key}': src and dst lists differ in length"
                ));
            }
            for (ids, t) in [(&el.src, st), (&el.dst, dt)] {
                let n = p.num_nodes[t];
                if let Some(x) = ids.par_iter().find_any(|&&x| u64::from(x) >= n) {
                    return bad(format!(
                        "edge type '{key}': node ID {x} is not below {n} ({})",
                        p.ntypes[t]
                    ));
                }
            }
            check_data(&p.edge_data[r], el.len() as u64, "edge", &key)?;
            for hn in &p.hard_negatives[r] {
                let Some(d) = p.edge_data[r].iter().find(|d| &d.name == hn) else {
                    return bad(format!("hard-negative feature '{key}/{hn}' does not exist"));
                };
                if !matches!(d.tensor.dtype, DType::I32 | DType::I64) {
                    return bad(format!(
                        "hard-negative feature '{key}/{hn}' must be int32 or int64, not {}",
                        d.tensor.dtype.name()
                    ));
                }
            }
            endpoint_types.push((st, dt));
        }
        if p.is_homogeneous
            && (p.ntypes != ["_N"] || p.etypes != [CanonicalEtype::new("_N", "_E", "_N")])
        {
            return bad(
                "a homogeneous graph has exactly the node type '_N' and the edge type '_N:_E:_N'"
                    .into(),
            );
        }
        Ok(Graph {
            parts,
            endpoint_types,
        })
    }

    /// The same graph with the data arrays of node type `t` replaced (checked again).
    pub fn with_node_data(self, t: usize, data: Vec<NamedTensor>) -> Result<Graph> {
        let mut p = self.into_parts();
        p.node_data[t] = data;
        Graph::new(p)
    }

    /// The parts back, e.g. to change them and build a new graph.
    pub fn into_parts(self) -> GraphParts {
        self.parts
    }

    /// Node type names, sorted.
    pub fn ntypes(&self) -> &[String] {
        &self.parts.ntypes
    }
    /// Node count per node type.
    pub fn num_nodes(&self) -> &[u64] {
        &self.parts.num_nodes
    }
    /// Canonical edge types, sorted.
    pub fn etypes(&self) -> &[CanonicalEtype] {
        &self.parts.etypes
    }
    /// Edge list per edge type; endpoints are below their types' node counts.
    pub fn edges(&self) -> &[EdgeList] {
        &self.parts.edges
    }
    /// Data arrays per node type, each with one row per node.
    pub fn node_data(&self) -> &[Vec<NamedTensor>] {
        &self.parts.node_data
    }
    /// Data arrays per edge type, each with one row per edge.
    pub fn edge_data(&self) -> &[Vec<NamedTensor>] {
        &self.parts.edge_data
    }
    /// Hard-negative feature names per edge type (one entry per edge type).
    pub fn hard_negatives(&self) -> &[Vec<String>] {
        &self.parts.hard_negatives
    }
    /// GraphStorm's homogeneous case (`_N`, `_N:_E:_N`).
    pub fn is_homogeneous(&self) -> bool {
        self.parts.is_homogeneous
    }
    /// (source type, destination type) indices of edge type `r`.
    pub fn endpoint_types(&self, r: usize) -> (usize, usize) {
        self.endpoint_types[r]
    }

    pub fn ntype_index(&self, name: &str) -> Option<usize> {
        self.parts
            .ntypes
            .binary_search_by(|t| t.as_str().cmp(name))
            .ok()
    }
    pub fn etype_index(&self, e: &CanonicalEtype) -> Option<usize> {
        self.parts.etypes.binary_search(e).ok()
    }
    pub fn total_nodes(&self) -> u64 {
        self.parts.num_nodes.iter().sum()
    }
    pub fn total_edges(&self) -> u64 {
        self.parts.edges.iter().map(|e| e.len() as u64).sum()
    }
    /// Node data array `name` of node type index `t`.
    pub fn node_tensor(&self, t: usize, name: &str) -> Option<&Tensor> {
        self.parts.node_data[t]
            .iter()
            .find(|n| n.name == name)
            .map(|n| &n.tensor)
    }
}

/// Row counts, dimensions and unique names of one type's data arrays.
fn check_data(data: &[NamedTensor], rows: u64, kind: &str, owner: &str) -> Result<()> {
    for (i, d) in data.iter().enumerate() {
        if d.tensor.shape.is_empty() || d.tensor.rows() as u64 != rows {
            return Err(Error::Graph(format!(
                "{kind} data '{}' of {kind} type '{owner}' has {} rows but the type has {rows} {kind}s",
                d.name,
                d.tensor.rows(),
            )));
        }
        if data[..i].iter().any(|x| x.name == d.name) {
            return Err(Error::Graph(format!(
                "{kind} data '{}' of {kind} type '{owner}' appears twice",
                d.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> GraphParts {
        GraphParts {
            ntypes: vec!["item".into(), "user".into()],
            num_nodes: vec![2, 3],
            etypes: vec![CanonicalEtype::new("user", "buys", "item")],
            edges: vec![EdgeList {
                src: vec![0, 2],
                dst: vec![1, 0],
            }],
            node_data: vec![
                vec![],
                vec![NamedTensor {
                    name: "feat".into(),
                    tensor: Tensor::from_1d(vec![1.0f32, 2.0, 3.0]),
                }],
            ],
            edge_data: vec![vec![NamedTensor {
                name: "neg".into(),
                tensor: Tensor::from_vec(vec![2, 1], vec![1i64, -1]),
            }]],
            hard_negatives: vec![vec!["neg".into()]],
            is_homogeneous: false,
        }
    }

    fn err(p: GraphParts) -> String {
        Graph::new(p).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_consistent_graph() {
        let g = Graph::new(parts()).unwrap();
        assert_eq!(g.endpoint_types(0), (1, 0));
        assert_eq!(g.ntype_index("user"), Some(1));
        assert_eq!(
            g.etype_index(&CanonicalEtype::new("user", "buys", "item")),
            Some(0)
        );
        assert_eq!((g.total_nodes(), g.total_edges()), (5, 2));
        let mut p = g.into_parts();
        p.hard_negatives = Vec::new();
        assert_eq!(
            Graph::new(p).unwrap().hard_negatives(),
            [Vec::<String>::new()]
        );
    }

    #[test]
    fn rejects_each_broken_invariant() {
        let mut p = parts();
        p.ntypes.swap(0, 1);
        assert!(err(p).contains("sorted and unique"));
        let mut p = parts();
        p.etypes[0].dst = "shop".into();
        assert!(err(p).contains("unknown node type"));
        let mut p = parts();
        p.edges[0].dst[1] = 2;
        assert!(err(p).contains("node ID 2 is not below 2 (item)"));
        let mut p = parts();
        p.edges[0].src.pop();
        assert!(err(p).contains("differ in length"));
        let mut p = parts();
        p.num_nodes[1] = 4;
        assert!(err(p).contains("node data 'feat' of node type 'user' has 3 rows"));
        let mut p = parts();
        p.edge_data[0][0].name = "w".into();
        assert!(err(p).contains("hard-negative feature 'user:buys:item/neg' does not exist"));
        let mut p = parts();
        p.num_nodes[0] = MAX_TYPE_NODES + 1;
        assert!(err(p).contains("more than 2^32"));
        let mut p = parts();
        p.is_homogeneous = true;
        assert!(err(p).contains("homogeneous"));
        let mut p = parts();
        p.node_data.pop();
        assert!(err(p).contains("one entry per node type"));
        let mut p = parts();
        let dup = NamedTensor {
            name: "feat".into(),
            tensor: Tensor::from_1d(vec![0u8; 3]),
        };
        p.node_data[1].push(dup);
        assert!(err(p).contains("appears twice"));
    }
}
