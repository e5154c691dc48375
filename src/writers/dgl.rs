//! `--output-format DGL`: `<graph_name>.dgl`, i.e. `dgl.save_graphs([g])` of the whole
//! heterograph (`gconstruct.md` §4.3).
//!
//! Node types, relations, node/edge IDs and data rows keep construction order; every node and
//! edge array is stored under its plain name (no `__gs_orig_id`). Hard negatives stay in
//! construction-ID space. Like `dgl.save_graphs` on a freshly built graph, only COO is stored;
//! the file is byte-identical to DGL's except for the uninitialised header padding (zeros here)
//! and the order of tensors inside a type's list (DGL uses hash-map order; ours is the
//! graph's, i.e. sorted by name).
//!
//! Algorithm: one sequential pass through [`crate::format::dgl::write_graph`]; edge endpoints are widened
//! from u32 to int64 on the fly.
//!
//! # Memory
//! O(1) beyond the graph: nothing is copied (64 KiB chunk buffers only).
//!
//! Parallelism: none; the file is one sequential stream.

use std::path::Path;

use crate::error::Result;
use crate::format::array::{ArraySource, Ids, NamedArray};
use crate::format::dgl::{self as dglfmt, Formats, GraphRef, RelationRef};
use crate::graph::{Graph, NamedTensor};

/// Writes the full heterograph `g` as a DGL graph file at `path`.
///
/// # Errors
/// [`Error::Write`] on I/O failure (the graph is consistent by construction).
///
/// [`Error::Write`]: crate::error::Error::Write
pub fn write_dgl_graph(path: &Path, g: &Graph) -> Result<()> {
    dglfmt::save_graph(path, &graph_ref(g))
}

/// The [`GraphRef`] view of `g` (shared with tests and other writers).
pub(crate) fn graph_ref(g: &Graph) -> GraphRef<'_> {
    let relations = g
        .etypes()
        .iter()
        .zip(g.edges())
        .enumerate()
        .map(|(r, (et, el))| {
            let (src_type, dst_type) = g.endpoint_types(r);
            RelationRef {
                name: &et.rel,
                src_type,
                dst_type,
                src: Ids::U32(&el.src),
                dst: Ids::U32(&el.dst),
            }
        })
        .collect();
    GraphRef {
        ntypes: g.ntypes().iter().map(String::as_str).collect(),
        num_nodes: g.num_nodes().to_vec(),
        relations,
        node_data: tensor_lists(g.node_data()),
        edge_data: tensor_lists(g.edge_data()),
        formats: Formats::COO,
    }
}

/// Borrowed views of per-type data lists, names unchanged.
fn tensor_lists(data: &[Vec<NamedTensor>]) -> Vec<Vec<NamedArray<'_>>> {
    data.iter()
        .map(|l| {
            l.iter()
                .map(|d| NamedArray::new(d.name.clone(), ArraySource::tensor(&d.tensor)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{CanonicalEtype, EdgeList, GraphParts};
    use crate::tensor::Tensor;

    /// The graph of `testdata/hetero_dgl.dgl`, which DGL 2.1.0 wrote with
    /// `dgl.save_graphs(path, [g])` for
    /// `g = dgl.heterograph({("item","rev","user"): ([0,1,2,0],[0,2,1,0]),
    ///                       ("user","clicks","item"): ([3,0,1],[2,2,0]),
    ///                       ("user","follows","user"): ([1,2],[0,1])},
    ///                      num_nodes_dict={"item": 3, "user": 4, "zzz": 2})`
    /// with `g.nodes["user"].data["feat"] = torch.arange(8, dtype=torch.float32).reshape(4, 2)`
    /// and `g.edges["clicks"].data["w"] = torch.tensor([7, 8, 9], dtype=torch.int64)`
    /// (header padding zeroed).
    fn fixture_graph() -> Graph {
        Graph::new(GraphParts {
            ntypes: vec!["item".into(), "user".into(), "zzz".into()],
            num_nodes: vec![3, 4, 2],
            etypes: vec![
                CanonicalEtype::new("item", "rev", "user"),
                CanonicalEtype::new("user", "clicks", "item"),
                CanonicalEtype::new("user", "follows", "user"),
            ],
            edges: vec![
                EdgeList {
                    src: vec![0, 1, 2, 0],
                    dst: vec![0, 2, 1, 0],
                },
                EdgeList {
                    src: vec![3, 0, 1],
                    dst: vec![2, 2, 0],
                },
                EdgeList {
                    src: vec![1, 2],
                    dst: vec![0, 1],
                },
            ],
            node_data: vec![
                vec![],
                vec![NamedTensor {
                    name: "feat".into(),
                    tensor: Tensor::from_vec(vec![4, 2], (0..8).map(|i| i as f32).collect()),
                }],
                vec![],
            ],
            edge_data: vec![
                vec![],
                vec![NamedTensor {
                    name: "w".into(),
                    tensor: Tensor::from_1d(vec![7i64, 8, 9]),
                }],
                vec![],
            ],
            hard_negatives: vec![vec![]; 3],
            is_homogeneous: false,
        })
        .expect("consistent graph")
    }

    #[test]
    fn byte_identical_to_dgl_save_graphs() {
        let want: &[u8] = include_bytes!("../format/testdata/hetero_dgl.dgl");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.dgl");
        write_dgl_graph(&path, &fixture_graph()).unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got.len(), want.len());
        assert_eq!(got, want);
    }

    #[test]
    fn round_trip() {
        let g = fixture_graph();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.dgl");
        write_dgl_graph(&path, &g).unwrap();
        let back = dglfmt::load_graph(&path).unwrap();
        assert_eq!(back.ntypes, g.ntypes());
        assert_eq!(back.etypes, ["rev", "clicks", "follows"]);
        assert_eq!(back.num_nodes, vec![3, 4, 2]);
        // Metagraph: out-CSR over node types, data = relation index.
        assert_eq!(back.metagraph.indptr.to_vec(), vec![0, 1, 3, 3]);
        assert_eq!(back.metagraph.indices.to_vec(), vec![1, 0, 1]);
        assert_eq!(back.metagraph.data.to_vec(), vec![0, 1, 2]);
        for (r, el) in g.edges().iter().enumerate() {
            let (meta, coo) = back.relations[r].coo.as_ref().unwrap();
            let want_meta_rows = if r == 2 { 1 } else { 2 };
            assert_eq!(meta.num_rows, want_meta_rows);
            assert_eq!(
                coo.row.to_vec(),
                el.src.iter().map(|&x| i64::from(x)).collect::<Vec<_>>()
            );
            assert_eq!(
                coo.col.to_vec(),
                el.dst.iter().map(|&x| i64::from(x)).collect::<Vec<_>>()
            );
        }
        assert_eq!(back.relations[1].coo.as_ref().unwrap().1.num_rows, 4);
        assert_eq!(back.relations[1].coo.as_ref().unwrap().1.num_cols, 3);
        assert_eq!(back.node_data[1][0].0, "feat");
        assert_eq!(
            back.node_data[1][0].1.bytes(),
            g.node_data()[1][0].tensor.bytes()
        );
        assert_eq!(
            back.edge_data[1][0].1.values::<i64>().unwrap().as_ref(),
            &[7, 8, 9]
        );
    }

    #[test]
    fn homogeneous_graph() {
        let g = Graph::new(GraphParts {
            ntypes: vec!["_N".into()],
            num_nodes: vec![3],
            etypes: vec![CanonicalEtype::new("_N", "_E", "_N")],
            edges: vec![EdgeList {
                src: vec![0, 1],
                dst: vec![1, 2],
            }],
            node_data: vec![vec![]],
            edge_data: vec![vec![]],
            hard_negatives: vec![vec![]],
            is_homogeneous: true,
        })
        .expect("consistent graph");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.dgl");
        write_dgl_graph(&path, &g).unwrap();
        let back = dglfmt::load_graph(&path).unwrap();
        assert_eq!(back.etypes, ["_E"]);
        assert_eq!(back.metagraph.indptr.to_vec(), vec![0, 1]);
    }

    #[test]
    fn unknown_node_type_cannot_reach_the_writer() {
        let mut p = fixture_graph().into_parts();
        p.etypes[0].src = "nope".into();
        let err = Graph::new(p).unwrap_err();
        assert!(err.to_string().contains("unknown node type"));
    }
}
