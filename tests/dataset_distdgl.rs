//! `dataset::distdgl` reads graphprep's output and GraphStorm's own `construct_graph` output
//! alike. The GraphStorm outputs are real files written by GraphStorm 0.5.1 / DGL 2.1 on the
//! sample graphs (`tests/fixtures/graphstorm/`, made by `tests/dgl/make_graphstorm_fixture.sh`).
//! Both sides are read through the dataset door alone and reduced to the graph in raw-ID
//! space: node sets, every edge by (edge type, construction edge ID) with its raw endpoints
//! and edge data, every node data row by raw ID. Both must be equal, except the train/val/test
//! masks (GraphStorm's splits are unseeded: only their sizes are compared).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use graphprep::dataset::distdgl::{self, DistDglOutput};
use graphprep::tensor::Tensor;

/// A data row: dtype name, trailing shape and bytes.
type Row = (String, Vec<usize>, Vec<u8>);

#[derive(Debug, Default, PartialEq)]
struct RawGraph {
    /// ntype → sorted raw IDs.
    nodes: BTreeMap<String, Vec<String>>,
    /// (etype, construction edge ID) → (raw src, raw dst).
    edges: BTreeMap<(String, u64), (String, String)>,
    /// (type, data name, raw ID or edge ID) → row, masks excluded.
    data: BTreeMap<(String, String, String), Row>,
    /// (type, mask name) → number of set rows.
    mask_sizes: BTreeMap<(String, String), u64>,
}

fn raw_key(o: &DistDglOutput, t: usize, construction: i64) -> String {
    match o.raw_id_map(&o.ntypes()[t]).unwrap() {
        None => construction.to_string(),
        Some(m) => {
            let rows = m.rows_by_new().unwrap();
            common::raw_id_text(&m.orig, rows[construction as usize] as usize)
        }
    }
}

fn row(t: &Tensor, k: usize) -> Row {
    let rb = t.row_bytes();
    (
        t.dtype.name().to_string(),
        t.shape[1..].to_vec(),
        t.bytes()[k * rb..(k + 1) * rb].to_vec(),
    )
}

/// The graph in raw-ID space, from the files alone.
fn raw_graph(dir: &Path) -> RawGraph {
    let o = distdgl::open(dir).unwrap();
    let nmap = o.node_mapping().unwrap().expect("node_mapping.pt");
    let emap = o.edge_mapping().unwrap().expect("edge_mapping.pt");
    let mut g = RawGraph::default();
    // raw IDs per (type, construction ID), computed once per type
    let raws: Vec<Vec<String>> = (0..o.ntypes().len())
        .map(|t| {
            (0..o.num_nodes(t) as i64)
                .map(|c| raw_key(&o, t, c))
                .collect()
        })
        .collect();
    for (t, name) in o.ntypes().iter().enumerate() {
        let mut v = raws[t].clone();
        v.sort();
        g.nodes.insert(name.clone(), v);
    }
    let raw_of_gid = |gid: u64| {
        let l = o.book.nodes.locate(gid).unwrap();
        let c = nmap[l.type_id].get::<i64>(l.per_type as usize).unwrap();
        raws[l.type_id][c as usize].clone()
    };
    for p in 0..o.num_parts() {
        let part = o.partition(p).unwrap();
        let inner = part.edge_data("inner_edge").unwrap();
        let mut edge_rows: Vec<Option<(usize, u64)>> = vec![None; part.num_edges()];
        for (j, slot) in edge_rows.iter_mut().enumerate() {
            if inner.get::<u8>(j).unwrap() == 0 {
                continue;
            }
            let e = o.book.edges.locate(part.global_eid(j).unwrap()).unwrap();
            let c = emap[e.type_id].get::<i64>(e.per_type as usize).unwrap() as u64;
            let s = raw_of_gid(part.global_nid(part.src().get(j) as usize).unwrap());
            let d = raw_of_gid(part.global_nid(part.dst().get(j) as usize).unwrap());
            let key = o.etypes()[e.type_id].colon_key();
            assert!(
                g.edges.insert((key, c), (s, d)).is_none(),
                "edge stored twice"
            );
            *slot = Some((e.type_id, c));
        }
        let node_feats = part.all_node_feats().map(|(t, n, x)| (true, t, n, x));
        let edge_feats = part.all_edge_feats().map(|(r, n, x)| (false, r, n, x));
        for (is_node, t, name, x) in node_feats.chain(edge_feats) {
            let (ty, ranges, map) = if is_node {
                (o.ntypes()[t].clone(), &o.book.nodes, &nmap)
            } else {
                (o.etypes()[t].colon_key(), &o.book.edges, &emap)
            };
            if name.ends_with("_mask") {
                let set = (0..x.rows())
                    .filter(|&k| row(x, k).2.iter().any(|&b| b != 0))
                    .count();
                *g.mask_sizes.entry((ty, name.into())).or_default() += set as u64;
                continue;
            }
            for k in 0..x.rows() {
                let per_type = ranges.first_per_type(t, p) + k as u64;
                let c = map[t].get::<i64>(per_type as usize).unwrap();
                // nodes are keyed by raw ID, edges by construction edge ID
                let id = if is_node {
                    raws[t][c as usize].clone()
                } else {
                    c.to_string()
                };
                g.data.insert((ty.clone(), name.into(), id), row(x, k));
            }
        }
        // structures build on every partition
        let csc = part.csc().unwrap();
        assert_eq!(csc.nnz(), part.num_edges());
        assert!(edge_rows.iter().flatten().count() as u64 == part.num_inner_edges);
    }
    g
}

fn fixture(name: &str) -> PathBuf {
    common::repo().join("tests/fixtures/graphstorm").join(name)
}

fn graphprep_output(sample: &str, graph: &str, flags: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let conf = common::repo()
        .join("sample_data")
        .join(sample)
        .join("config.json");
    common::construct_named(&conf, &out, graph, flags);
    (tmp, out)
}

fn same_graph(gs_fixture: &str, sample: &str, graph: &str, flags: &[&str]) {
    let gs = raw_graph(&fixture(gs_fixture));
    let (_tmp, out) = graphprep_output(sample, graph, flags);
    let ours = raw_graph(&out);
    assert!(!gs.edges.is_empty() && !gs.data.is_empty());
    assert_eq!(ours.nodes, gs.nodes, "node sets");
    assert_eq!(ours.edges, gs.edges, "edges per construction ID");
    let keys = |g: &RawGraph| {
        g.data
            .keys()
            .map(|k| (k.0.clone(), k.1.clone()))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&ours), keys(&gs), "data arrays");
    for (k, v) in &gs.data {
        assert_eq!(ours.data.get(k), Some(v), "{k:?}");
    }
    assert_eq!(
        ours.mask_sizes.keys().collect::<Vec<_>>(),
        gs.mask_sizes.keys().collect::<Vec<_>>(),
        "masks"
    );
}

#[test]
fn graphstorm_shop_with_reverse_edges_equals_ours() {
    same_graph("shop-rev-p1", "shop", "shop", &["--add-reverse-edges"]);
}

#[test]
fn graphstorm_shop_two_random_parts_equals_ours() {
    same_graph(
        "shop-p2",
        "shop",
        "shop",
        &["--num-parts", "2", "--part-method", "random"],
    );
}

#[test]
fn graphstorm_homogeneous_equals_ours() {
    same_graph("homo-p1", "homo", "homo", &[]);
}

#[test]
fn open_takes_the_json_or_the_folder_and_explains_failures() {
    let (_tmp, out) = graphprep_output(
        "shop",
        "shop",
        &["--num-parts", "2", "--part-method", "random"],
    );
    let a = distdgl::open(&out).unwrap();
    let b = distdgl::open(&out.join("shop.json")).unwrap();
    assert_eq!(a.config, b.config);
    assert_eq!(a.ntypes(), ["item", "store", "tag", "user"]);
    assert_eq!(a.etype_id("buys"), a.etype_id("user:buys:item"));
    let part = a.partition(1).unwrap();
    let user = a.ntype_id("user").unwrap();
    let emb = part.node_feat("user", "emb").unwrap();
    assert_eq!(emb.rows() as u64, a.book.nodes.count(user, 1));
    assert!(
        emb.is_shared_view(),
        "features are views into the mapped file"
    );
    let e = a.partition(2).unwrap_err().to_string();
    assert!(
        e.contains("partition 2 does not exist (2 partitions)"),
        "{e}"
    );

    let empty = tempfile::tempdir().unwrap();
    let e = distdgl::open(empty.path()).unwrap_err().to_string();
    assert!(e.contains("no partition config"), "{e}");

    // a feature file with the wrong row count names the file and the feature
    let bad = tempfile::tempdir().unwrap();
    for (rel, bytes) in common::files(&out) {
        let p = bad.path().join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::fs::copy(
        out.join("part0/node_feat.dgl"),
        bad.path().join("part1/node_feat.dgl"),
    )
    .unwrap();
    let o = distdgl::open(bad.path()).unwrap();
    let e = o.partition(1).unwrap_err().to_string();
    assert!(
        e.contains("part1/node_feat.dgl") && e.contains("rows, but partition 1 owns"),
        "{e}"
    );
    // a truncated graph names the byte offset
    let g = bad.path().join("part0/graph.dgl");
    let len = std::fs::metadata(&g).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&g)
        .unwrap()
        .set_len(len - 9)
        .unwrap();
    let e = o.partition(0).unwrap_err().to_string();
    assert!(e.contains("part0/graph.dgl: byte offset"), "{e}");
}
