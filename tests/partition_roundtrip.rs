//! Property test: random small heterographs (2–3 node types, 2–4 relations with duplicate
//! edges and self-loops, random float features) are partitioned by graphprep's real
//! partitioners (seeded random and METIS, 1–4 parts) and written with `write_distdgl`. Then
//! everything is read back from the files alone, through `dataset::distdgl` (the one reader
//! of a written output: partition JSON and book, `part*/graph.dgl`, `node_feat.dgl` /
//! `edge_feat.dgl`, `node_mapping.pt` / `edge_mapping.pt`), and the original edge list of
//! every relation (per original edge ID, hence also as a multiset) and every feature row are
//! reconstructed exactly.
//!
//! `src/writers/distdgl.rs` already checks these invariants on two fixed toy graphs with a
//! synthetic assignment; this adds random graphs, duplicates/self-loops and the actual
//! partitioners (whose empty partitions exercise the left-out zero-row features).

use std::path::Path;

use graphprep::dataset::distdgl;
use graphprep::graph::{CanonicalEtype, EdgeList, Graph, GraphParts, NamedTensor};
use graphprep::partition::{metis_partition, random_partition, Assignment};
use graphprep::tensor::Tensor;
use graphprep::writers::{write_distdgl, DistDglOptions};
use proptest::prelude::*;

/// Reads `dir` back through `dataset::distdgl` alone and checks it reproduces `g` exactly.
fn check_round_trip(dir: &Path, g: &Graph, asg: &Assignment) {
    let num_parts = asg.num_parts as usize;
    let out = distdgl::open(dir).unwrap();
    assert_eq!(out.num_parts(), num_parts);
    assert_eq!(out.ntypes(), g.ntypes());
    let ekeys: Vec<String> = g.etypes().iter().map(|e| e.colon_key()).collect();
    let got_keys: Vec<String> = out.etypes().iter().map(|e| e.colon_key()).collect();
    assert_eq!(got_keys, ekeys);
    let i64s = |t: &Tensor| t.values::<i64>().unwrap().into_owned();
    let nmap: Vec<Vec<i64>> = out
        .node_mapping()
        .unwrap()
        .unwrap()
        .iter()
        .map(i64s)
        .collect();
    let emap: Vec<Vec<i64>> = out
        .edge_mapping()
        .unwrap()
        .unwrap()
        .iter()
        .map(i64s)
        .collect();
    let book = &out.book;
    // the partition of every node is the assignment's
    for (t, m) in nmap.iter().enumerate() {
        for (k, &orig) in m.iter().enumerate() {
            let gid = book.nodes.to_global(t, k as u64).unwrap();
            let l = book.nodes.locate(gid).unwrap();
            assert_eq!((l.type_id, l.per_type), (t, k as u64));
            assert_eq!(asg.node_part[t][orig as usize] as usize, l.part);
        }
        assert_eq!(m.len(), g.num_nodes()[t] as usize);
    }
    // reconstructed (src, dst) per original edge ID, features per original row
    let mut edges: Vec<Vec<Option<(u32, u32)>>> =
        g.edges().iter().map(|e| vec![None; e.len()]).collect();
    let mut nfeat: Vec<Vec<Vec<Option<Vec<u8>>>>> = g
        .node_data()
        .iter()
        .enumerate()
        .map(|(t, d)| vec![vec![None; g.num_nodes()[t] as usize]; d.len()])
        .collect();
    let mut efeat: Vec<Vec<Vec<Option<Vec<u8>>>>> = g
        .edge_data()
        .iter()
        .enumerate()
        .map(|(r, d)| vec![vec![None; g.edges()[r].len()]; d.len()])
        .collect();
    for p in 0..num_parts {
        let part = out.partition(p).unwrap();
        let inner = part.edge_data("inner_edge").unwrap();
        let csc = part.csc().unwrap();
        assert_eq!(csc.nnz(), part.num_edges());
        for j in 0..part.num_edges() {
            if inner.get::<u8>(j).unwrap() == 0 {
                continue;
            }
            let e = book.edges.locate(part.global_eid(j).unwrap()).unwrap();
            let orig_e = emap[e.type_id][e.per_type as usize] as usize;
            let gs = part.global_nid(part.src().get(j) as usize).unwrap();
            let gd = part.global_nid(part.dst().get(j) as usize).unwrap();
            let (s, d) = (
                book.nodes.locate(gs).unwrap(),
                book.nodes.locate(gd).unwrap(),
            );
            let et = &g.etypes()[e.type_id];
            assert_eq!(g.ntypes()[s.type_id], et.src);
            assert_eq!(g.ntypes()[d.type_id], et.dst);
            assert_eq!(
                d.part, p,
                "edges are owned by their destination's partition"
            );
            let pair = (
                nmap[s.type_id][s.per_type as usize] as u32,
                nmap[d.type_id][d.per_type as usize] as u32,
            );
            assert!(edges[e.type_id][orig_e].is_none(), "edge {orig_e} twice");
            edges[e.type_id][orig_e] = Some(pair);
        }
        for is_node in [true, false] {
            let feats: Vec<(usize, &str, &Tensor)> = if is_node {
                part.all_node_feats().collect()
            } else {
                part.all_edge_feats().collect()
            };
            for (r, f, t) in feats {
                let (names, ranges, map) = if is_node {
                    (&g.node_data()[r], &book.nodes, &nmap)
                } else {
                    (&g.edge_data()[r], &book.edges, &emap)
                };
                let fi = names.iter().position(|d| d.name == f).unwrap();
                let orig = &names[fi].tensor;
                assert_eq!(
                    (t.dtype, &t.shape[1..]),
                    (orig.dtype, &orig.shape[1..]),
                    "{f}"
                );
                let before = ranges.first_per_type(r, p);
                assert_eq!(t.rows() as u64, ranges.count(r, p), "{f} rows");
                let rb = t.row_bytes();
                let slot = if is_node {
                    &mut nfeat[r][fi]
                } else {
                    &mut efeat[r][fi]
                };
                for k in 0..t.rows() {
                    let o = map[r][before as usize + k] as usize;
                    slot[o] = Some(t.bytes()[k * rb..(k + 1) * rb].to_vec());
                }
            }
        }
    }
    for (r, e) in g.edges().iter().enumerate() {
        let got: Vec<(u32, u32)> = edges[r]
            .iter()
            .map(|x| x.expect("every edge stored once as an inner edge"))
            .collect();
        let want: Vec<(u32, u32)> = e.src.iter().copied().zip(e.dst.iter().copied()).collect();
        let (mut gs, mut ws) = (got.clone(), want.clone());
        gs.sort_unstable();
        ws.sort_unstable();
        assert_eq!(gs, ws, "edge multiset of {}", ekeys[r]);
        assert_eq!(got, want, "edges of {} per original edge ID", ekeys[r]);
    }
    for (feats, data) in [(&nfeat, g.node_data()), (&efeat, g.edge_data())] {
        for (r, fs) in feats.iter().enumerate() {
            for (fi, rows) in fs.iter().enumerate() {
                let orig = &data[r][fi].tensor;
                let rb = orig.row_bytes();
                for (i, row) in rows.iter().enumerate() {
                    let row = row.as_ref().unwrap_or_else(|| {
                        panic!("{} row {i} missing from every partition", data[r][fi].name)
                    });
                    assert!(
                        row == &orig.bytes()[i * rb..(i + 1) * rb],
                        "feature row {i}"
                    );
                }
            }
        }
    }
}

/// One relation: (src type, dst type, edges as (src, dst) before clamping to the type sizes).
type RelSpec = (usize, usize, Vec<(u32, u32)>);

#[derive(Debug, Clone)]
struct Spec {
    num_nodes: Vec<u64>,
    rels: Vec<RelSpec>,
    node_dims: Vec<usize>,
    values: Vec<f32>,
    parts: u32,
    metis: bool,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (2usize..=3, 2usize..=4).prop_flat_map(|(nt, nr)| {
        (
            proptest::collection::vec(4u64..=25, nt),
            proptest::collection::vec(
                (
                    0..nt,
                    0..nt,
                    proptest::collection::vec((0u32..25, 0u32..25), 1..40),
                ),
                nr,
            ),
            proptest::collection::vec(1usize..=3, nt),
            proptest::collection::vec(-1e3f32..1e3, 64),
            1u32..=4,
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(
                |(num_nodes, rels, node_dims, values, parts, metis, seed)| Spec {
                    num_nodes,
                    rels,
                    node_dims,
                    values,
                    parts,
                    metis,
                    seed,
                },
            )
    })
}

fn build(s: &Spec) -> Graph {
    let names = ["a", "b", "c"];
    let ntypes: Vec<String> = (0..s.num_nodes.len()).map(|t| names[t].into()).collect();
    let mut val = s.values.iter().cycle().copied();
    let mut rels: Vec<(CanonicalEtype, EdgeList)> = Vec::new();
    for (i, (st, dt, pairs)) in s.rels.iter().enumerate() {
        let (ns, nd) = (s.num_nodes[*st] as u32, s.num_nodes[*dt] as u32);
        let mut src: Vec<u32> = pairs.iter().map(|p| p.0 % ns).collect();
        let mut dst: Vec<u32> = pairs.iter().map(|p| p.1 % nd).collect();
        // always a duplicate edge, and a self-loop when src type == dst type
        src.push(src[0]);
        dst.push(dst[0]);
        if st == dt {
            src.push(src[0]);
            dst.push(src[0]);
        }
        let et = CanonicalEtype::new(names[*st], &format!("r{i}"), names[*dt]);
        rels.push((et, EdgeList { src, dst }));
    }
    rels.sort_by(|a, b| a.0.cmp(&b.0));
    let node_data = (0..ntypes.len())
        .map(|t| {
            let (n, d) = (s.num_nodes[t] as usize, s.node_dims[t]);
            vec![NamedTensor {
                name: "feat".into(),
                tensor: Tensor::from_vec(
                    vec![n, d],
                    (0..n * d).map(|_| val.next().unwrap()).collect(),
                ),
            }]
        })
        .collect();
    let edge_data = rels
        .iter()
        .enumerate()
        .map(|(r, (_, e))| {
            let w = NamedTensor {
                name: "w".into(),
                tensor: Tensor::from_vec(
                    vec![e.len(), 1],
                    (0..e.len())
                        .map(|_| val.next().unwrap())
                        .collect::<Vec<f32>>(),
                ),
            };
            // a second, float64 1-D feature on every other relation
            if r % 2 == 0 {
                vec![
                    w,
                    NamedTensor {
                        name: "x".into(),
                        tensor: Tensor::from_1d(
                            (0..e.len())
                                .map(|i| i as f64 * 0.5 - 3.0)
                                .collect::<Vec<f64>>(),
                        ),
                    },
                ]
            } else {
                vec![w]
            }
        })
        .collect();
    Graph::new(GraphParts {
        num_nodes: s.num_nodes.clone(),
        ntypes,
        etypes: rels.iter().map(|r| r.0.clone()).collect(),
        edges: rels.into_iter().map(|r| r.1).collect(),
        node_data,
        edge_data,
        hard_negatives: vec![vec![]; s.rels.len()],
        is_homogeneous: false,
    })
    .expect("consistent graph")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn partitions_reconstruct_the_graph(s in spec()) {
        let g = build(&s);
        let asg = if s.metis {
            metis_partition(&g, s.parts, s.seed).expect("metis").0
        } else {
            random_partition(&g, s.parts, s.seed)
        };
        let dir = tempfile::tempdir().unwrap();
        let method = if s.metis { "metis" } else { "random" };
        write_distdgl(dir.path(), &g, &asg, &DistDglOptions::new("g", method)).unwrap();
        check_round_trip(dir.path(), &g, &asg);
    }
}
