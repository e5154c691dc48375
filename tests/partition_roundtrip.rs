//! Property test: random small heterographs (2–3 node types, 2–4 relations with duplicate
//! edges and self-loops, random float features) are partitioned by graphprep's real
//! partitioners (seeded random and METIS, 1–4 parts) and written with `write_distdgl`. Then
//! everything is read back from the files alone — partition JSON, `part*/graph.dgl`,
//! `node_feat.dgl`/`edge_feat.dgl` (graphprep's `dglfmt` readers) and
//! `node_mapping.pt`/`edge_mapping.pt` (a minimal zip reader below) — and the original edge
//! list of every relation (per original edge ID, hence also as a multiset) and every feature
//! row are reconstructed exactly.
//!
//! `src/writers/distdgl.rs` already checks these invariants on two fixed toy graphs with a
//! synthetic assignment; this adds random graphs, duplicates/self-loops and the actual
//! partitioners (whose empty partitions exercise the left-out zero-row features).

use std::path::Path;

use graphprep::graph::{CanonicalEtype, EdgeList, Graph, NamedTensor};
use graphprep::partition::{metis_partition, random_partition, Assignment};
use graphprep::tensor::{DType, Tensor};
use graphprep::writers::dglfmt::{load_graph, load_tensor_dict};
use graphprep::writers::{write_distdgl, DistDglOptions};
use proptest::prelude::*;
use serde_json::Value;

/// Tensor payloads `data/<k>` of a `.pt` zip (STORED entries), in `k` order, as int64.
fn pt_tensors(path: &Path) -> Vec<Vec<i64>> {
    let zip = std::fs::read(path).unwrap();
    let u16_at = |p: usize| u16::from_le_bytes([zip[p], zip[p + 1]]) as usize;
    let u32_at = |p: usize| u32::from_le_bytes(zip[p..p + 4].try_into().unwrap()) as usize;
    let mut p = 0;
    let mut out: Vec<(usize, Vec<i64>)> = Vec::new();
    while u32_at(p) == 0x0403_4b50 {
        assert_eq!(u16_at(p + 8), 0, "STORED entries only");
        let size = u32_at(p + 22);
        let name = String::from_utf8(zip[p + 30..p + 30 + u16_at(p + 26)].to_vec()).unwrap();
        let data = p + 30 + u16_at(p + 26) + u16_at(p + 28);
        if let Some(k) = name.split("/data/").nth(1) {
            out.push((
                k.parse().unwrap(),
                zip[data..data + size]
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ));
        }
        p = data + size;
    }
    out.sort_by_key(|e| e.0);
    out.into_iter().map(|e| e.1).collect()
}

fn i64s(t: &Tensor) -> Vec<i64> {
    match t.dtype {
        DType::I64 => t.as_slice::<i64>().unwrap().to_vec(),
        DType::I32 => t
            .as_slice::<i32>()
            .unwrap()
            .iter()
            .map(|&v| v.into())
            .collect(),
        DType::I16 => t
            .as_slice::<i16>()
            .unwrap()
            .iter()
            .map(|&v| v.into())
            .collect(),
        DType::U8 => t
            .as_slice::<u8>()
            .unwrap()
            .iter()
            .map(|&v| v.into())
            .collect(),
        d => panic!("unexpected id dtype {d:?}"),
    }
}

/// `ranges[t][p]` from the partition JSON's node_map / edge_map.
fn ranges(cfg: &Value, key: &str, names: &[String]) -> Vec<Vec<[u64; 2]>> {
    names
        .iter()
        .map(|n| {
            cfg[key][n]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| [r[0].as_u64().unwrap(), r[1].as_u64().unwrap()])
                .collect()
        })
        .collect()
}

/// Homogeneous ID -> (type, per-type shuffled ID).
fn locate(r: &[Vec<[u64; 2]>], id: u64) -> (usize, u64) {
    for (t, parts) in r.iter().enumerate() {
        let mut before = 0;
        for &[a, b] in parts {
            if (a..b).contains(&id) {
                return (t, before + id - a);
            }
            before += b - a;
        }
    }
    panic!("ID {id} in no range")
}

/// Reads `dir` back and checks it reproduces `g` exactly.
fn check_round_trip(dir: &Path, g: &Graph, asg: &Assignment) {
    let num_parts = asg.num_parts as usize;
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("g.json")).unwrap()).unwrap();
    assert_eq!(cfg["num_parts"].as_u64().unwrap() as usize, num_parts);
    let ekeys: Vec<String> = g.etypes.iter().map(|e| e.colon_key()).collect();
    let nmr = ranges(&cfg, "node_map", &g.ntypes);
    let emr = ranges(&cfg, "edge_map", &ekeys);
    let nmap = pt_tensors(&dir.join("node_mapping.pt"));
    let emap = pt_tensors(&dir.join("edge_mapping.pt"));
    assert_eq!((nmap.len(), emap.len()), (g.ntypes.len(), g.etypes.len()));
    // the partition of every node is the assignment's
    for (t, m) in nmap.iter().enumerate() {
        let mut k = 0;
        for (p, &[a, b]) in nmr[t].iter().enumerate() {
            for _ in a..b {
                assert_eq!(asg.node_part[t][m[k] as usize] as usize, p);
                k += 1;
            }
        }
        assert_eq!(k, g.num_nodes[t] as usize);
    }
    // reconstructed (src, dst) per original edge ID, features per original row
    let mut edges: Vec<Vec<Option<(u32, u32)>>> =
        g.edges.iter().map(|e| vec![None; e.len()]).collect();
    let mut nfeat: Vec<Vec<Vec<Option<Vec<u8>>>>> = g
        .node_data
        .iter()
        .enumerate()
        .map(|(t, d)| vec![vec![None; g.num_nodes[t] as usize]; d.len()])
        .collect();
    let mut efeat: Vec<Vec<Vec<Option<Vec<u8>>>>> = g
        .edge_data
        .iter()
        .enumerate()
        .map(|(r, d)| vec![vec![None; g.edges[r].len()]; d.len()])
        .collect();
    for p in 0..num_parts {
        let pd = dir.join(format!("part{p}"));
        let gf = load_graph(&pd.join("graph.dgl")).unwrap();
        let nd = |k: &str| i64s(&gf.node_data[0].iter().find(|(n, _)| n == k).unwrap().1);
        let ed = |k: &str| i64s(&gf.edge_data[0].iter().find(|(n, _)| n == k).unwrap().1);
        let nid = nd("_ID");
        let eid = ed("_ID");
        let inner_e = ed("inner_edge");
        let coo = &gf.relations[0].coo.as_ref().expect("COO stored").1;
        for j in 0..eid.len() {
            if inner_e[j] == 0 {
                continue;
            }
            let (r, se) = locate(&emr, eid[j] as u64);
            let orig_e = emap[r][se as usize] as usize;
            let (st, sn) = locate(&nmr, nid[coo.row[j] as usize] as u64);
            let (dt, dn) = locate(&nmr, nid[coo.col[j] as usize] as u64);
            let et = &g.etypes[r];
            assert_eq!(g.ntypes[st], et.src);
            assert_eq!(g.ntypes[dt], et.dst);
            let pair = (nmap[st][sn as usize] as u32, nmap[dt][dn as usize] as u32);
            assert!(edges[r][orig_e].is_none(), "edge {orig_e} of {r} twice");
            edges[r][orig_e] = Some(pair);
        }
        for (file, is_node) in [("node_feat.dgl", true), ("edge_feat.dgl", false)] {
            let dict = load_tensor_dict(&pd.join(file)).unwrap();
            for (key, t) in &dict {
                let (ty, f) = key.split_once('/').unwrap();
                let (r, names, mr, map) = if is_node {
                    let i = g.ntype_index(ty).unwrap();
                    (i, &g.node_data[i], &nmr, &nmap)
                } else {
                    let i = ekeys.iter().position(|k| k == ty).unwrap();
                    (i, &g.edge_data[i], &emr, &emap)
                };
                let fi = names.iter().position(|d| d.name == f).unwrap();
                let orig = &names[fi].tensor;
                assert_eq!(
                    (t.dtype, &t.shape[1..]),
                    (orig.dtype, &orig.shape[1..]),
                    "{key}"
                );
                let before: u64 = (0..p).map(|q| mr[r][q][1] - mr[r][q][0]).sum();
                assert_eq!(t.rows() as u64, mr[r][p][1] - mr[r][p][0], "{key} rows");
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
    for (r, e) in g.edges.iter().enumerate() {
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
    for (feats, data) in [(&nfeat, &g.node_data), (&efeat, &g.edge_data)] {
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
    Graph {
        num_nodes: s.num_nodes.clone(),
        ntypes,
        etypes: rels.iter().map(|r| r.0.clone()).collect(),
        edges: rels.into_iter().map(|r| r.1).collect(),
        node_data,
        edge_data,
        hard_negatives: vec![vec![]; s.rels.len()],
        is_homogeneous: false,
    }
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
