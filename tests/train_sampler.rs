//! `train::graph` and `train::sampler`: the training graph loaded from DistDGL outputs
//! (GraphStorm's and graphprep's; several partitions give the same graph as one, per raw ID),
//! and the neighbour sampler's properties (spec `training.md` §3.2, §9.5 item 4): fanout
//! bounds, distinct true in-edges, `-1`/`0`, per-etype dict fanouts, layer order, the dst-prefix
//! invariant, determinism across rayon thread counts, uniformity (chi-square on a star).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use graphprep::tensor::Tensor;
use graphprep::train::graph::TrainGraph;
use graphprep::train::sampler::{
    epoch_batches, full_fanout, parse_fanout, sample, LayerFanout, MiniBatch,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// TrainGraph on real outputs

fn fixture(name: &str) -> PathBuf {
    common::repo().join("tests/fixtures/graphstorm").join(name)
}

/// Raw ID of every per-type shuffled ID of type `t`.
fn raw_ids(g: &TrainGraph, t: usize) -> Vec<String> {
    let o = g.dataset();
    let cons = g.construction_ids(t).unwrap();
    let map = o.raw_id_map(&o.ntypes()[t]).unwrap();
    let rows = map.as_ref().map(|m| m.rows_by_new().unwrap());
    cons.iter()
        .map(|&c| match (&map, &rows) {
            (Some(m), Some(rows)) => common::raw_id_text(&m.orig, rows[c as usize] as usize),
            _ => c.to_string(),
        })
        .collect()
}

/// The graph reduced to raw-ID space: etype → sorted (raw src, raw dst, construction eid),
/// (ntype, feature) → raw ID → f32 row. Masks are left out (GraphStorm's splits are
/// unseeded); their sizes are kept.
#[derive(Debug, PartialEq)]
struct Reduced {
    edges: BTreeMap<String, Vec<(String, String, i64)>>,
    feats: BTreeMap<(String, String), BTreeMap<String, Vec<u32>>>,
    mask_sizes: BTreeMap<(String, String), usize>,
}

fn reduce(g: &TrainGraph, etypes: Option<&[&str]>) -> Reduced {
    let o = g.dataset();
    let emap = o.edge_mapping().unwrap().expect("edge_mapping.pt");
    let raws: Vec<Vec<String>> = (0..g.ntypes().len()).map(|t| raw_ids(g, t)).collect();
    let mut edges = BTreeMap::new();
    for (r, e) in g.etypes().iter().enumerate() {
        let key = e.colon_key();
        if etypes.is_some_and(|l| !l.contains(&key.as_str())) {
            continue;
        }
        let csc = g.csc(r);
        assert_eq!(csc.indptr.len(), g.num_nodes(e.dst) + 1);
        assert_eq!(csc.num_edges() as u64, o.num_edges(r));
        let em = emap[r].values::<i64>().unwrap();
        let mut list = Vec::new();
        for v in 0..g.num_nodes(e.dst) {
            let ins: Vec<(i64, i64)> = csc.in_edges(v).collect();
            assert!(ins.windows(2).all(|w| w[0].1 < w[1].1), "edge-ID order");
            for (u, eid) in ins {
                list.push((
                    raws[e.src][u as usize].clone(),
                    raws[e.dst][v].clone(),
                    em[eid as usize],
                ));
            }
        }
        list.sort();
        edges.insert(key, list);
    }
    let mut feats = BTreeMap::new();
    let mut mask_sizes = BTreeMap::new();
    for (t, name) in g.ntypes().iter().enumerate() {
        for f in g.node_feature_names(t) {
            if f.ends_with("_mask") {
                let ids = g.mask_ids(t, &f).unwrap();
                assert!(ids.windows(2).all(|w| w[0] < w[1]));
                mask_sizes.insert((name.clone(), f), ids.len());
                continue;
            }
            let m = g.node_features(t, std::slice::from_ref(&f)).unwrap();
            assert_eq!(m.rows, g.num_nodes(t));
            let rows = (0..m.rows)
                .map(|i| {
                    (
                        raws[t][i].clone(),
                        m.row(i).iter().map(|x| x.to_bits()).collect(),
                    )
                })
                .collect();
            feats.insert((name.clone(), f), rows);
        }
    }
    Reduced {
        edges,
        feats,
        mask_sizes,
    }
}

fn graphprep_output(flags: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let conf = common::repo().join("sample_data/shop/config.json");
    common::construct_named(&conf, &out, "shop", flags);
    (tmp, out)
}

#[test]
fn two_partitions_give_the_graph_of_one_per_raw_id() {
    let p2 = TrainGraph::open(&fixture("shop-p2")).unwrap();
    assert_eq!(p2.dataset().num_parts(), 2);
    let (_tmp, out) = graphprep_output(&[]);
    let p1 = TrainGraph::open(&out).unwrap();
    assert_eq!(p1.ntypes(), p2.ntypes());
    let (a, b) = (reduce(&p2, None), reduce(&p1, None));
    assert!(a.edges.values().all(|l| !l.is_empty()));
    assert!(!a.feats.is_empty());
    assert_eq!(a.edges, b.edges, "edges per construction ID");
    assert_eq!(a.feats, b.feats, "features per raw ID");
    assert_eq!(
        a.mask_sizes.keys().collect::<Vec<_>>(),
        b.mask_sizes.keys().collect::<Vec<_>>()
    );
    // GraphStorm's own 1-partition output (with reverse edges): same forward edges
    let rev = TrainGraph::open(&fixture("shop-rev-p1")).unwrap();
    let fwd: Vec<String> = p2.etypes().iter().map(|e| e.colon_key()).collect();
    let fwd: Vec<&str> = fwd.iter().map(String::as_str).collect();
    let c = reduce(&rev, Some(&fwd));
    assert_eq!(a.edges, c.edges);
    assert_eq!(a.feats, c.feats);
    // our own two-partition output too
    let (_tmp2, out2) = graphprep_output(&["--num-parts", "2", "--part-method", "random"]);
    let ours2 = TrainGraph::open(&out2).unwrap();
    assert_eq!(ours2.dataset().num_parts(), 2);
    let d = reduce(&ours2, None);
    assert_eq!(a.edges, d.edges);
    assert_eq!(a.feats, d.feats);
}

#[test]
fn homogeneous_fixture_and_lookups() {
    let g = TrainGraph::open(&fixture("homo-p1").join("homo.json")).unwrap();
    assert_eq!(g.ntypes(), ["_N"]);
    assert_eq!(g.ntype_id("_N"), Some(0));
    assert_eq!(g.ntype_id("nope"), None);
    assert_eq!(g.etypes().len(), 1);
    assert_eq!(g.csc(0).num_edges() as u64, g.dataset().num_edges(0));
    let names = g.node_feature_names(0);
    assert!(!names.is_empty());
    let err = g
        .node_features(0, &["no_such".to_string()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("'_N'") && err.contains("no_such"), "{err}");
    assert!(err.contains(&names[0]), "lists the available ones: {err}");
    assert!(g.node_column(0, "no_such").unwrap().is_none());
    assert!(g.mask_ids(0, "no_such").is_err());
}

#[test]
fn features_concatenate_and_columns_read_across_partitions() {
    let g = TrainGraph::open(&fixture("shop-p2")).unwrap();
    let user = g.ntype_id("user").unwrap();
    let (age, emb) = ("age".to_string(), "emb".to_string());
    let a = g.node_features(user, std::slice::from_ref(&age)).unwrap();
    let e = g.node_features(user, std::slice::from_ref(&emb)).unwrap();
    let both = g.node_features(user, &[age, emb]).unwrap();
    assert_eq!(both.dim, a.dim + e.dim);
    assert_eq!(both.rows, g.num_nodes(user));
    for i in 0..both.rows {
        assert_eq!(&both.row(i)[..a.dim], a.row(i));
        assert_eq!(&both.row(i)[a.dim..], e.row(i));
    }
    let label = g.node_column(user, "cls").unwrap().expect("label column");
    assert_eq!(label.rows(), g.num_nodes(user));
    let train = g.mask_ids(user, "train_mask").unwrap();
    let col: Tensor = g.node_column(user, "train_mask").unwrap().unwrap();
    let set = (0..col.rows())
        .filter(|&k| {
            col.bytes()[k * col.row_bytes()..(k + 1) * col.row_bytes()]
                .iter()
                .any(|&b| b != 0)
        })
        .map(|k| k as i64)
        .collect::<Vec<_>>();
    assert_eq!(train, set);
    // construction IDs are a permutation
    let mut c = g.construction_ids(user).unwrap();
    c.sort();
    assert_eq!(c, (0..g.num_nodes(user) as i64).collect::<Vec<_>>());
}

#[test]
fn in_memory_graph_node_data() {
    let g = TrainGraph::from_edges(&[("a", 3)], vec![(0, "r", 0, vec![(0, 1)])])
        .with_node_data(
            0,
            "feat",
            Tensor::from_vec(vec![3, 2], vec![1i64, 2, 3, 4, 5, 6]),
        )
        .with_node_data(0, "train_mask", Tensor::from_1d(vec![0u8, 1, 1]));
    let f = g.node_features(0, &["feat".to_string()]).unwrap();
    assert_eq!(f.data, vec![1., 2., 3., 4., 5., 6.]);
    assert_eq!(g.mask_ids(0, "train_mask").unwrap(), vec![1, 2]);
    assert_eq!(g.construction_ids(0).unwrap(), vec![0, 1, 2]);
    assert!(g.try_dataset().is_none());
}

// ---------------------------------------------------------------------------------------------
// Sampler properties

/// Ntypes a (`na` nodes), b (`nb` nodes); etypes a-r0->a, b-r1->a, a-r2->b.
fn hetero(
    na: usize,
    nb: usize,
    e0: Vec<(i64, i64)>,
    e1: Vec<(i64, i64)>,
    e2: Vec<(i64, i64)>,
) -> TrainGraph {
    TrainGraph::from_edges(
        &[("a", na), ("b", nb)],
        vec![(0, "r0", 0, e0), (1, "r1", 0, e1), (0, "r2", 1, e2)],
    )
}

/// Checks every property of §9.5 item 4 on one mini-batch.
fn check_batch(g: &TrainGraph, mb: &MiniBatch, fanouts: &[LayerFanout]) {
    let nt = g.ntypes().len();
    assert_eq!(mb.blocks.len(), fanouts.len());
    let mut dst = mb.seeds.clone();
    for l in (0..fanouts.len()).rev() {
        let b = &mb.blocks[l];
        assert_eq!(b.num_dst, dst.iter().map(Vec::len).collect::<Vec<_>>());
        for (t, d) in dst.iter().enumerate() {
            assert_eq!(&b.src_nodes[t][..b.num_dst[t]], &d[..], "dst prefix");
            let uniq: BTreeSet<i64> = b.src_nodes[t].iter().copied().collect();
            assert_eq!(uniq.len(), b.src_nodes[t].len(), "distinct src nodes");
        }
        let mut reached: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nt];
        for (r, e) in g.etypes().iter().enumerate() {
            let rb = &b.rels[r];
            let f = fanouts[l][r];
            assert_eq!(rb.offsets.len(), b.num_dst[e.dst] + 1);
            assert_eq!(rb.offsets[0], 0);
            assert_eq!(*rb.offsets.last().unwrap() as usize, rb.num_edges());
            assert_eq!(rb.eids.len(), rb.src_local.len());
            let csc = g.csc(r);
            for (i, &v) in b.src_nodes[e.dst][..b.num_dst[e.dst]].iter().enumerate() {
                let (a, z) = (rb.offsets[i] as usize, rb.offsets[i + 1] as usize);
                let truth: BTreeMap<i64, i64> =
                    csc.in_edges(v as usize).map(|(u, eid)| (eid, u)).collect();
                let deg = truth.len();
                let want = match f {
                    -1 => deg,
                    f => deg.min(f as usize),
                };
                assert_eq!(z - a, want, "#sampled of dst {v} etype {r} fanout {f}");
                let eids: BTreeSet<i64> = rb.eids[a..z].iter().copied().collect();
                assert_eq!(eids.len(), z - a, "distinct edge IDs");
                for k in a..z {
                    let u = b.src_nodes[e.src][rb.src_local[k] as usize];
                    assert_eq!(truth.get(&rb.eids[k]), Some(&u), "a true in-edge of {v}");
                    reached[e.src].insert(rb.src_local[k] as usize);
                }
                if want == deg {
                    assert_eq!(eids, truth.keys().copied().collect(), "all taken");
                }
            }
        }
        // nodes beyond the prefix are there because an edge reached them
        for (t, set) in reached.iter().enumerate() {
            for k in b.num_dst[t]..b.src_nodes[t].len() {
                assert!(set.contains(&k), "src node {k} of type {t} unreached");
            }
        }
        dst = b.src_nodes.clone();
    }
    assert_eq!(mb.input_nodes, dst);
}

fn edges(n_src: usize, n_dst: usize, max: usize) -> impl Strategy<Value = Vec<(i64, i64)>> {
    proptest::collection::vec((0..n_src as i64, 0..n_dst as i64), 0..max)
}

fn fanout_value() -> impl Strategy<Value = i64> {
    prop_oneof![Just(-1i64), Just(0), 1i64..4, Just(6)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn sampled_blocks_have_every_property(
        e0 in edges(12, 12, 80),
        e1 in edges(6, 12, 40),
        e2 in edges(12, 6, 40),
        fanouts in proptest::collection::vec(proptest::collection::vec(fanout_value(), 3), 0..4),
        seeds_a in proptest::collection::btree_set(0i64..12, 0..6),
        seeds_b in proptest::collection::btree_set(0i64..6, 0..3),
        seed in any::<u64>(),
    ) {
        let g = hetero(12, 6, e0, e1, e2);
        let seeds = vec![seeds_a.into_iter().rev().collect(), seeds_b.into_iter().collect()];
        let mb = sample(&g, seeds, &fanouts, seed);
        check_batch(&g, &mb, &fanouts);
        prop_assert_eq!(&sample(&g, mb.seeds.clone(), &fanouts, seed), &mb);
    }
}

/// A graph where every a-node has 8 in-edges of r0 (from distinct a-nodes) and 4 of r1.
fn dense() -> TrainGraph {
    let n = 40i64;
    let e0 = (0..n)
        .flat_map(|v| (1..=8).map(move |d| ((v + d * 3) % n, v)))
        .collect();
    let e1 = (0..n)
        .flat_map(|v| (0..4).map(move |d| ((v + d) % 10, v)))
        .collect();
    let e2 = (0..10).map(|b| (b, b)).collect();
    hetero(n as usize, 10, e0, e1, e2)
}

#[test]
fn layer_order_last_fanout_is_next_to_the_seeds() {
    let g = dense();
    let f = parse_fanout("2,5", 2, &g).unwrap();
    let mb = sample(&g, vec![vec![0, 1, 2], vec![]], &f, 3);
    check_batch(&g, &mb, &f);
    let per_dst = |l: usize, r: usize| -> Vec<i64> {
        mb.blocks[l].rels[r]
            .offsets
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect()
    };
    assert_eq!(per_dst(1, 0), vec![5, 5, 5], "seed side: fanout[1] = 5");
    assert_eq!(per_dst(1, 1), vec![4, 4, 4], "deg 4 <= 5: all");
    assert!(
        per_dst(0, 0).iter().all(|&k| k == 2),
        "input side: fanout[0] = 2"
    );
    assert!(per_dst(0, 1).iter().all(|&k| k == 2));
}

#[test]
fn dict_fanouts_per_etype() {
    let g = dense();
    let f = parse_fanout("a/r0/a:-1@b/r1/b_unused:1", 1, &g);
    assert!(f.is_err());
    let f = parse_fanout(
        "a/r0/a:-1@b/r1/a:0@a/r2/b:1,b/r1/a:3@a/r0/a:1@a/r2/b:0",
        2,
        &g,
    )
    .unwrap();
    assert_eq!(f, vec![vec![-1, 0, 1], vec![1, 3, 0]]);
    let mb = sample(&g, vec![vec![5], vec![]], &f, 9);
    check_batch(&g, &mb, &f);
    assert_eq!(mb.blocks[1].rels[0].num_edges(), 1);
    assert_eq!(mb.blocks[1].rels[1].num_edges(), 3);
    assert!(mb.blocks[0].rels[1].src_local.is_empty());
    assert!(mb.blocks[0].rels[0].num_edges() >= 8, "-1: all in-edges");
}

#[test]
fn bad_fanout_strings_are_explained() {
    let g = dense();
    let err = |s: &str, l: usize| parse_fanout(s, l, &g).unwrap_err();
    assert!(err("10", 2).contains("2 GNN layer"), "{}", err("10", 2));
    assert!(err("10,x", 2).contains("'x'"));
    assert!(err("-2", 1).contains("'-2'"));
    let e = err("a/r0/a:1@a/r9/a:2", 1);
    assert!(
        e.contains("a/r9/a") && e.contains("a/r0/a, b/r1/a, a/r2/b"),
        "{e}"
    );
    let e = err("a/r0/a:1@b/r1/a:2", 1);
    assert!(e.contains("a/r2/b"), "names the missing etype: {e}");
    let e = err("a/r0/a:1@a/r0/a:2@b/r1/a:1@a/r2/b:1", 1);
    assert!(e.contains("twice"), "{e}");
    let e = err("a/r0/a:1@b/r1/a:z@a/r2/b:1", 1);
    assert!(e.contains("'z'"), "{e}");
    let e = err("a/r0/a@b/r1/a:1@a/r2/b:1", 1);
    assert!(
        e.contains("'a/r0/a'") && e.contains("valid edge types"),
        "{e}"
    );
    assert_eq!(full_fanout(2, &g), vec![vec![-1; 3]; 2]);
}

fn collect_epoch(
    g: &Arc<TrainGraph>,
    seeds: &Arc<Vec<i64>>,
    prefetch: usize,
    epoch: u64,
) -> Vec<MiniBatch> {
    let f = vec![vec![3, 2, 1], vec![2, -1, 2]];
    epoch_batches(g.clone(), 0, seeds.clone(), 7, true, f, 42, epoch, prefetch).collect()
}

#[test]
fn same_seed_same_batches_with_1_and_2_threads() {
    // bigger than one sampling chunk, so the 2-thread pool really splits the work
    let n = 3000i64;
    let e0: Vec<(i64, i64)> = (0..n * 6)
        .map(|k| ((k * 7919) % n, (k * 104_729 / 6) % n))
        .collect();
    let e1: Vec<(i64, i64)> = (0..n * 2).map(|k| (k % 50, (k * 31) % n)).collect();
    let e2: Vec<(i64, i64)> = (0..n).map(|k| (k, k % 50)).collect();
    let g = Arc::new(hetero(n as usize, 50, e0, e1, e2));
    let seeds = Arc::new((0..n).step_by(3).collect::<Vec<_>>());
    let run = |threads: usize, prefetch: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| collect_epoch(&g, &seeds, prefetch, 1))
    };
    let one = run(1, 0);
    // one big batch: several sampling chunks per etype
    let big = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let f = full_fanout(1, &g)
            .into_iter()
            .chain([vec![4, 1, 3]])
            .collect::<Vec<_>>();
        pool.install(|| sample(&g, vec![(0..n).collect(), (0..50).collect()], &f, 5))
    };
    let b1 = big(1);
    assert!(b1.blocks[1].num_dst[0] > 4 * 512);
    assert_eq!(b1, big(2));
    assert_eq!(one.len(), seeds.len().div_ceil(7));
    assert_eq!(one, run(2, 0));
    assert_eq!(one, run(2, 3), "background thread, global pool");
    for mb in &one[..3] {
        check_batch(&g, mb, &[vec![3, 2, 1], vec![2, -1, 2]]);
    }
    let other = collect_epoch(&g, &seeds, 0, 2);
    assert_ne!(one[0].seeds, other[0].seeds, "a new permutation per epoch");
    // every seed once per epoch, last batch short
    let all: Vec<i64> = one.iter().flat_map(|b| b.seeds[0].clone()).collect();
    assert_eq!(
        all.iter().copied().collect::<BTreeSet<_>>().len(),
        seeds.len()
    );
    assert_eq!(one.last().unwrap().seeds[0].len(), seeds.len() % 7);
}

#[test]
fn unshuffled_batches_keep_the_seed_order_and_stop_early_cleanly() {
    let g = Arc::new(dense());
    let seeds = Arc::new(vec![5i64, 3, 9, 1, 0]);
    let it = epoch_batches(g.clone(), 0, seeds.clone(), 2, false, vec![], 0, 0, 1);
    assert_eq!(it.len(), 3);
    let got: Vec<Vec<i64>> = it.map(|b| b.input_nodes[0].clone()).collect();
    assert_eq!(got, vec![vec![5, 3], vec![9, 1], vec![0]]);
    let mut it = epoch_batches(g, 0, seeds, 1, true, vec![vec![-1; 3]], 0, 0, 2);
    assert!(it.next().is_some());
    assert_eq!(it.len(), 4);
    drop(it); // the producer thread is blocked on a full channel; dropping must not hang
}

/// Chi-square of `counts` against a uniform expectation.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let exp = total as f64 / counts.len() as f64;
    counts.iter().map(|&c| (c as f64 - exp).powi(2) / exp).sum()
}

fn star_counts(deg: usize, fanout: i64, trials: u64) -> Vec<u64> {
    // leaves 1..=deg -> centre 0, one edge each (edge ID k from leaf k+1)
    let g = TrainGraph::from_edges(
        &[("a", deg + 1)],
        vec![(0, "r", 0, (1..=deg as i64).map(|u| (u, 0)).collect())],
    );
    let mut counts = vec![0u64; deg];
    for s in 0..trials {
        let mb = sample(&g, vec![vec![0]], &[vec![fanout]], s);
        let rb = &mb.blocks[0].rels[0];
        assert_eq!(rb.num_edges(), fanout as usize);
        for &e in &rb.eids {
            counts[e as usize] += 1;
        }
    }
    counts
}

#[test]
fn uniform_on_a_star_floyd() {
    // 19 degrees of freedom: P(chi2 > 43.8) = 0.001
    let c = star_counts(20, 5, 4000);
    assert!(
        chi_square(&c) < 43.8,
        "chi2 = {} counts {c:?}",
        chi_square(&c)
    );
}

#[test]
fn uniform_on_a_star_partial_shuffle() {
    // k = 60 > Floyd's limit; 99 degrees of freedom: P(chi2 > 148.2) = 0.001
    let c = star_counts(100, 60, 2000);
    assert!(chi_square(&c) < 148.2, "chi2 = {}", chi_square(&c));
}

#[test]
fn uniform_pairs_on_a_small_star() {
    // all 10 pairs of 2 out of 5 equally likely (9 degrees of freedom: 27.9 at 0.001)
    let g = TrainGraph::from_edges(
        &[("a", 6)],
        vec![(0, "r", 0, (1..=5).map(|u| (u, 0)).collect())],
    );
    let mut pairs: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for s in 0..5000 {
        let e = sample(&g, vec![vec![0]], &[vec![2]], s).blocks[0].rels[0]
            .eids
            .clone();
        *pairs.entry((e[0], e[1])).or_default() += 1;
    }
    assert_eq!(pairs.len(), 10);
    let c: Vec<u64> = pairs.values().copied().collect();
    assert!(chi_square(&c) < 27.9, "chi2 = {} {pairs:?}", chi_square(&c));
}

// ---------------------------------------------------------------------------------------------
// Bench (not CI): one epoch of the NC anchor's sampling, `cargo test --release --test
// train_sampler -- --ignored --nocapture`

/// A graph shaped like gen_planted scale 1 (spec §7): paper 100K, author 50K, venue 400; cites
/// 595K (skewed in-degree), writes 295K, published_in 100K, plus the three reverse etypes.
fn anchor_graph() -> TrainGraph {
    let (np, na, nv) = (100_000i64, 50_000i64, 400i64);
    let mut x = 0x1234_5678u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let skew = |u: u64, n: i64| -> i64 {
        let f = (u >> 11) as f64 / (1u64 << 53) as f64;
        ((f * f * f) * n as f64) as i64
    };
    let cites: Vec<(i64, i64)> = (0..594_955)
        .map(|_| ((rnd() % np as u64) as i64, skew(rnd(), np)))
        .collect();
    let writes: Vec<(i64, i64)> = (0..295_035)
        .map(|_| ((rnd() % na as u64) as i64, (rnd() % np as u64) as i64))
        .collect();
    let publ: Vec<(i64, i64)> = (0..np).map(|p| (p, (rnd() % nv as u64) as i64)).collect();
    let rev = |l: &[(i64, i64)]| l.iter().map(|&(a, b)| (b, a)).collect::<Vec<_>>();
    TrainGraph::from_edges(
        &[
            ("author", na as usize),
            ("paper", np as usize),
            ("venue", nv as usize),
        ],
        vec![
            (0, "writes", 1, writes.clone()),
            (1, "cites", 1, cites.clone()),
            (1, "published_in", 2, publ.clone()),
            (1, "rev_cites", 1, rev(&cites)),
            (1, "rev_writes", 0, rev(&writes)),
            (2, "rev_published_in", 1, rev(&publ)),
        ],
    )
}

/// CPU seconds of the calling thread.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

#[test]
#[ignore]
fn bench_anchor_epoch() {
    let g = Arc::new(anchor_graph());
    let paper = g.ntype_id("paper").unwrap();
    let seeds = Arc::new((0..60_000i64).map(|k| k * 5 / 3).collect::<Vec<_>>());
    let f = parse_fanout("10,10", 2, &g).unwrap();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for epoch in 0..3 {
            let t0 = std::time::Instant::now();
            let cpu0 = pool.install(thread_cpu);
            let (mut edges, mut inputs) = (0usize, 0usize);
            pool.install(|| {
                for mb in epoch_batches(
                    g.clone(),
                    paper,
                    seeds.clone(),
                    1024,
                    true,
                    f.clone(),
                    1,
                    epoch,
                    0,
                ) {
                    edges += mb
                        .blocks
                        .iter()
                        .flat_map(|b| &b.rels)
                        .map(|r| r.num_edges())
                        .sum::<usize>();
                    inputs += mb.input_nodes.iter().map(Vec::len).sum::<usize>();
                }
            });
            let cpu = pool.install(thread_cpu) - cpu0;
            println!(
                "{threads} thread(s), epoch {epoch}: {:.3} s wall, {cpu:.3} s CPU of one worker, \
                 {edges} sampled edges, {inputs} input nodes",
                t0.elapsed().as_secs_f64()
            );
        }
    }
}

#[test]
fn a_panicking_producer_thread_panics_the_consumer() {
    let g = Arc::new(dense());
    let seeds = Arc::new(vec![1i64, 2, 3]);
    // a layer fanout of the wrong length is a programming error: `sample` panics
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        epoch_batches(
            g.clone(),
            0,
            seeds.clone(),
            2,
            false,
            vec![vec![1]],
            0,
            0,
            1,
        )
        .count()
    }));
    assert!(
        r.is_err(),
        "the panic reaches the consumer instead of a short epoch"
    );
}
