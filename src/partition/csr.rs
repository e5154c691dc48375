//! Symmetrized, deduplicated, self-loop-free CSR of the whole heterogeneous graph in DGL's
//! homogeneous ID space: what METIS consumes.
//!
//! # ID space
//! Homogeneous ID = offset of the node type in sorted type order + per-type construction ID,
//! exactly like DGL's `to_homogeneous` ([`homogeneous_offsets`]). Edge directions and types
//! are dropped: `u — v` is present iff some relation has an edge `u → v` or `v → u` with
//! `u ≠ v`. Every row is sorted ascending and has no duplicates, so the output depends only on
//! the graph, never on thread count or scheduling.
//!
//! # Algorithm (graph_builder style, all phases on the ambient rayon pool)
//! 1. **count**: one pass over all edge lists; every non-self-loop edge bumps the degree of
//!    both endpoints (relaxed atomic adds). Endpoints are in range ([`Graph::new`]).
//! 2. **prefix sum**: exclusive scan of the degrees into row offsets (chunked, parallel).
//! 3. **scatter**: second pass over the edges; each endpoint claims a slot in its row with
//!    `fetch_add` on the row's cursor and writes the other endpoint there. After this pass the
//!    cursor of row `v` equals the start of row `v + 1`, so the same array shifted by one is
//!    the offsets again (no second offsets array).
//! 4. **sort + dedup**: every row is sorted and deduplicated in place, in parallel; the
//!    deduplicated row stays at the front of its slot.
//! 5. **compaction**: new offsets from the deduplicated lengths; rows are moved left in place
//!    (sequential `copy_within`, a memmove of the adjacency), then the buffer is truncated
//!    and reinterpreted as `i32` without a copy.
//!
//! # Limits
//! METIS here is built with 32-bit `idx_t`: the number of vertices and the number of adjacency
//! entries (2 × undirected edges after dedup) must both be ≤ `i32::MAX`. Larger graphs get
//! [`Error::Graph`] suggesting `--part-method random` ([`check_metis_limits`]).
//!
//! # Memory
//! With `N` nodes, `E` raw edges (all relations, duplicates included) of which `E'` are not
//! self-loops, and `A` = 2 × deduplicated undirected edges:
//! * offsets/cursors: `8 (N + 1)` bytes (atomic `u64`), live until compaction;
//! * adjacency buffer: `4 × 2E'` bytes, allocated zeroed (pages are touched only when
//!   written), shrunk to `4A` at the end (in-place realloc);
//! * output: `xadj` `4 (N + 1)` + `adjncy` `4A` bytes (the latter is the buffer above).
//!
//! Peak ≈ `8N + 8E'` bytes (e.g. 250 K nodes / 6.7 M edges → ~56 MB). The graph's own edge
//! lists are only read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::graph::Graph;

/// Edges per rayon work item in the counting and scatter passes.
const EDGE_CHUNK: usize = 1 << 16;
/// Rows per rayon work item in the sort/dedup pass and the prefix sum.
const ROW_CHUNK: usize = 1 << 14;

/// METIS-ready undirected adjacency (`xadj`/`adjncy` in METIS's CSR convention).
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricCsr {
    /// Row offsets, `num_vertices + 1` entries; row `v` is `adjncy[xadj[v]..xadj[v + 1]]`.
    pub xadj: Vec<i32>,
    /// Neighbours; every row sorted ascending, no duplicates, no self-loops.
    pub adjncy: Vec<i32>,
    /// `type_offsets[t]` = homogeneous ID of node 0 of node type `t`; `T + 1` entries.
    pub type_offsets: Vec<u64>,
    /// Wall time of each build phase.
    pub timings: CsrTimings,
}

impl SymmetricCsr {
    pub fn num_vertices(&self) -> usize {
        self.xadj.len() - 1
    }
    /// Number of undirected edges (each stored twice in `adjncy`).
    pub fn num_undirected_edges(&self) -> usize {
        self.adjncy.len() / 2
    }
    /// Sorted neighbours of homogeneous vertex `v`.
    pub fn neighbors(&self, v: usize) -> &[i32] {
        &self.adjncy[self.xadj[v] as usize..self.xadj[v + 1] as usize]
    }
}

/// Seconds spent in each phase of [`build_symmetric_csr`].
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CsrTimings {
    pub count: f64,
    pub prefix_sum: f64,
    pub scatter: f64,
    pub sort_dedup: f64,
    pub compact: f64,
}

impl CsrTimings {
    pub fn total(&self) -> f64 {
        self.count + self.prefix_sum + self.scatter + self.sort_dedup + self.compact
    }
}

/// `offsets[t]` = homogeneous ID of the first node of type `t` (DGL `to_homogeneous` order:
/// `Graph::ntypes` is already sorted); the last entry is the total node count.
pub fn homogeneous_offsets(num_nodes: &[u64]) -> Vec<u64> {
    let mut off = Vec::with_capacity(num_nodes.len() + 1);
    let mut acc = 0u64;
    off.push(0);
    for &n in num_nodes {
        acc += n;
        off.push(acc);
    }
    off
}

/// Fails with a readable error when METIS's 32-bit `idx_t` cannot index the graph.
pub fn check_metis_limits(num_vertices: u64, num_adjacency: u64) -> Result<()> {
    let max = i32::MAX as u64;
    if num_vertices > max {
        return Err(Error::Graph(format!(
            "graph too large for METIS's 32-bit indices: {num_vertices} nodes > {max}; \
             use `--part-method random`"
        )));
    }
    if num_adjacency > max {
        return Err(Error::Graph(format!(
            "graph too large for METIS's 32-bit indices: the symmetrized graph has \
             {num_adjacency} adjacency entries (2 × {} undirected edges) > {max}; \
             use `--part-method random`",
            num_adjacency / 2
        )));
    }
    Ok(())
}

/// Per relation: (src type offset, dst type offset).
fn relation_layout(g: &Graph, type_offsets: &[u64]) -> Vec<(u64, u64)> {
    (0..g.etypes().len())
        .map(|r| {
            let (s, d) = g.endpoint_types(r);
            (type_offsets[s], type_offsets[d])
        })
        .collect()
}

/// A raw pointer that may be shared across rayon tasks. Every use documents why the accesses
/// through it are disjoint.
#[derive(Clone, Copy)]
struct SharedMut<T>(*mut T);
// SAFETY: `SharedMut` is only a pointer; callers guarantee that concurrent accesses through it
// touch disjoint elements (see each use), so sending/sharing it between threads is sound.
unsafe impl<T: Send> Send for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer (a method, so closures capture the whole `Send + Sync` wrapper).
    fn get(&self) -> *mut T {
        self.0
    }
}

/// Builds the symmetrized, deduplicated, self-loop-free CSR of `g` in homogeneous IDs.
///
/// Errors: a graph exceeding METIS's 32-bit limits ([`check_metis_limits`]); the graph itself
/// is consistent by construction ([`Graph::new`]).
///
/// # Memory
/// Peak ≈ `8 (N + 1) + 8 E'` bytes (see the module docs).
pub fn build_symmetric_csr(g: &Graph) -> Result<SymmetricCsr> {
    let type_offsets = homogeneous_offsets(g.num_nodes());
    let n_u64 = *type_offsets.last().unwrap_or(&0);
    check_metis_limits(n_u64, 0)?;
    let n = n_u64 as usize;
    let layout = relation_layout(g, &type_offsets);
    let mut timings = CsrTimings::default();

    // Phase 1: degree count (both directions, self-loops skipped). Endpoints are in range of
    // their types ([`Graph::new`]).
    let t0 = Instant::now();
    let offsets: Vec<AtomicU64> = (0..n + 1)
        .into_par_iter()
        .map(|_| AtomicU64::new(0))
        .collect();
    for (el, &(so, dof)) in g.edges().iter().zip(&layout) {
        el.src
            .par_chunks(EDGE_CHUNK)
            .zip(el.dst.par_chunks(EDGE_CHUNK))
            .for_each(|(s, d)| {
                for (&u, &v) in s.iter().zip(d) {
                    let (hu, hv) = (so + u as u64, dof + v as u64);
                    if hu != hv {
                        offsets[hu as usize].fetch_add(1, Ordering::Relaxed);
                        offsets[hv as usize].fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
    }
    timings.count = t0.elapsed().as_secs_f64();

    // Phase 2: exclusive prefix sum (degrees → row starts), chunked: local sums in parallel,
    // a sequential scan over the chunk totals, then each chunk adds its base in parallel.
    let t0 = Instant::now();
    let total_raw = exclusive_scan(&offsets);
    timings.prefix_sum = t0.elapsed().as_secs_f64();

    // Phase 3: scatter. Zeroed allocation: the OS hands out zero pages lazily.
    let t0 = Instant::now();
    let mut adj: Vec<u32> = vec![0u32; total_raw as usize];
    {
        let out = SharedMut(adj.as_mut_ptr());
        for (el, &(so, dof)) in g.edges().iter().zip(&layout) {
            el.src
                .par_chunks(EDGE_CHUNK)
                .zip(el.dst.par_chunks(EDGE_CHUNK))
                .for_each(|(s, d)| {
                    for (&u, &v) in s.iter().zip(d) {
                        let (hu, hv) = (so + u as u64, dof + v as u64);
                        if hu == hv {
                            continue;
                        }
                        let pu = offsets[hu as usize].fetch_add(1, Ordering::Relaxed) as usize;
                        let pv = offsets[hv as usize].fetch_add(1, Ordering::Relaxed) as usize;
                        // SAFETY: `pu`/`pv` come from `fetch_add` on the row cursors, so every slot
                        // index is handed out exactly once across all threads; each row receives
                        // exactly as many claims as its degree counted in phase 1 (same edges,
                        // same self-loop rule), so every index is < `total_raw` = `adj.len()`.
                        // Hence the writes are in bounds and never alias another write, and `adj`
                        // is not otherwise accessed until this loop ends.
                        unsafe {
                            *out.get().add(pu) = hv as u32;
                            *out.get().add(pv) = hu as u32;
                        }
                    }
                });
        }
    }
    // Each cursor now points at the start of the next row: shift right by one to get offsets.
    let mut starts: Vec<u64> = Vec::with_capacity(n + 1);
    starts.push(0);
    starts.extend(offsets[..n].iter().map(|a| a.load(Ordering::Relaxed)));
    drop(offsets);
    debug_assert_eq!(*starts.last().unwrap_or(&0), total_raw);
    timings.scatter = t0.elapsed().as_secs_f64();

    // Phase 4: per-row sort + dedup in place; the unique prefix stays at the row's start.
    let t0 = Instant::now();
    let mut new_len: Vec<u32> = vec![0; n];
    {
        let base = SharedMut(adj.as_mut_ptr());
        let starts = &starts;
        new_len
            .par_chunks_mut(ROW_CHUNK)
            .enumerate()
            .for_each(|(c, lens)| {
                for (k, len) in lens.iter_mut().enumerate() {
                    let v = c * ROW_CHUNK + k;
                    let (lo, hi) = (starts[v] as usize, starts[v + 1] as usize);
                    // SAFETY: rows `[starts[v], starts[v+1])` are disjoint for distinct `v` and lie
                    // inside `adj` (`starts` is non-decreasing and ends at `adj.len()`); each row
                    // is visited by exactly one task, and `adj` is not touched elsewhere meanwhile.
                    let row =
                        unsafe { std::slice::from_raw_parts_mut(base.get().add(lo), hi - lo) };
                    *len = sort_dedup(row) as u32;
                }
            });
    }
    timings.sort_dedup = t0.elapsed().as_secs_f64();

    // Phase 5: compaction. Rows only move left (new start ≤ old start), so an in-order
    // `copy_within` never overwrites a row that has not been moved yet.
    let t0 = Instant::now();
    let total: u64 = new_len.par_iter().map(|&l| l as u64).sum();
    check_metis_limits(n_u64, total)?;
    let mut xadj: Vec<i32> = Vec::with_capacity(n + 1);
    xadj.push(0);
    let mut w = 0usize;
    for (v, &len) in new_len.iter().enumerate() {
        let lo = starts[v] as usize;
        let len = len as usize;
        if lo != w {
            adj.copy_within(lo..lo + len, w);
        }
        w += len;
        // `w ≤ total ≤ i32::MAX`, checked above.
        xadj.push(w as i32);
    }
    drop(starts);
    drop(new_len);
    adj.truncate(w);
    adj.shrink_to_fit();
    // Every value is a vertex ID < n ≤ i32::MAX, so the bit patterns are the same as i32.
    let adjncy: Vec<i32> = bytemuck::allocation::cast_vec(adj);
    timings.compact = t0.elapsed().as_secs_f64();

    log::info!(
        "symmetric CSR: {} vertices, {} raw edges → {} undirected edges in {:.3}s \
         (count {:.3}s, prefix {:.3}s, scatter {:.3}s, sort+dedup {:.3}s, compact {:.3}s)",
        n,
        g.total_edges(),
        adjncy.len() / 2,
        timings.total(),
        timings.count,
        timings.prefix_sum,
        timings.scatter,
        timings.sort_dedup,
        timings.compact
    );
    Ok(SymmetricCsr {
        xadj,
        adjncy,
        type_offsets,
        timings,
    })
}

/// Sorts `row` and moves its distinct values to the front; returns how many there are.
fn sort_dedup(row: &mut [u32]) -> usize {
    if row.len() < 2 {
        return row.len();
    }
    row.sort_unstable();
    let mut w = 1;
    for r in 1..row.len() {
        if row[r] != row[w - 1] {
            row[w] = row[r];
            w += 1;
        }
    }
    w
}

/// In-place exclusive prefix sum over `a`; returns the total. Parallel over chunks.
fn exclusive_scan(a: &[AtomicU64]) -> u64 {
    let chunk_sums: Vec<u64> = a
        .par_chunks(ROW_CHUNK)
        .map(|c| {
            let mut acc = 0u64;
            for x in c {
                let d = x.load(Ordering::Relaxed);
                x.store(acc, Ordering::Relaxed);
                acc += d;
            }
            acc
        })
        .collect();
    let mut bases = Vec::with_capacity(chunk_sums.len());
    let mut acc = 0u64;
    for s in &chunk_sums {
        bases.push(acc);
        acc += s;
    }
    a.par_chunks(ROW_CHUNK)
        .zip(bases.par_iter())
        .for_each(|(c, &b)| {
            if b != 0 {
                for x in c {
                    x.fetch_add(b, Ordering::Relaxed);
                }
            }
        });
    acc
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::graph::{CanonicalEtype, EdgeList, GraphParts};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// `(src type, relation, dst type, edges)`.
    pub(crate) type RelSpec<'a> = (&'a str, &'a str, &'a str, Vec<(u32, u32)>);

    /// A heterograph from `(ntype, count)` and `(src, rel, dst, edges)`; types get sorted.
    pub(crate) fn hetero(ntypes: &[(&str, u64)], etypes: &[RelSpec<'_>]) -> Graph {
        let mut nt: Vec<(&str, u64)> = ntypes.to_vec();
        nt.sort();
        let mut et: Vec<(CanonicalEtype, EdgeList)> = etypes
            .iter()
            .map(|(s, r, d, e)| {
                let el = EdgeList {
                    src: e.iter().map(|p| p.0).collect(),
                    dst: e.iter().map(|p| p.1).collect(),
                };
                (CanonicalEtype::new(s, r, d), el)
            })
            .collect();
        et.sort_by(|a, b| a.0.cmp(&b.0));
        Graph::new(GraphParts {
            ntypes: nt.iter().map(|x| x.0.to_string()).collect(),
            num_nodes: nt.iter().map(|x| x.1).collect(),
            node_data: nt.iter().map(|_| Vec::new()).collect(),
            edge_data: et.iter().map(|_| Vec::new()).collect(),
            hard_negatives: et.iter().map(|_| Vec::new()).collect(),
            etypes: et.iter().map(|x| x.0.clone()).collect(),
            edges: et.into_iter().map(|x| x.1).collect(),
            is_homogeneous: false,
        })
        .expect("consistent graph")
    }

    fn naive(g: &Graph) -> Vec<BTreeSet<i32>> {
        let off = homogeneous_offsets(g.num_nodes());
        let mut adj = vec![BTreeSet::new(); *off.last().unwrap() as usize];
        for (et, el) in g.etypes().iter().zip(g.edges()) {
            let so = off[g.ntype_index(&et.src).unwrap()];
            let dof = off[g.ntype_index(&et.dst).unwrap()];
            for (&u, &v) in el.src.iter().zip(&el.dst) {
                let (a, b) = ((so + u as u64) as i32, (dof + v as u64) as i32);
                if a != b {
                    adj[a as usize].insert(b);
                    adj[b as usize].insert(a);
                }
            }
        }
        adj
    }

    fn assert_matches_naive(g: &Graph) {
        let csr = build_symmetric_csr(g).unwrap();
        let want = naive(g);
        assert_eq!(csr.num_vertices(), want.len());
        for (v, w) in want.iter().enumerate() {
            let got: Vec<i32> = csr.neighbors(v).to_vec();
            let want: Vec<i32> = w.iter().copied().collect();
            assert_eq!(got, want, "row {v}");
        }
        assert_eq!(*csr.xadj.last().unwrap() as usize, csr.adjncy.len());
    }

    #[test]
    fn small_hetero_with_dups_and_self_loops() {
        let g = hetero(
            &[("user", 3), ("item", 2)],
            &[
                ("user", "buys", "item", vec![(0, 0), (0, 0), (1, 1), (2, 1)]),
                (
                    "user",
                    "follows",
                    "user",
                    vec![(0, 0), (0, 1), (1, 0), (2, 2)],
                ),
                ("item", "rev", "user", vec![(0, 0)]),
            ],
        );
        // item = 0..2, user = 2..5
        let csr = build_symmetric_csr(&g).unwrap();
        assert_eq!(csr.type_offsets, vec![0, 2, 5]);
        assert_eq!(csr.neighbors(0), &[2]); // item0 — user0
        assert_eq!(csr.neighbors(1), &[3, 4]); // item1 — user1, user2
        assert_eq!(csr.neighbors(2), &[0, 3]); // user0 — item0, user1
        assert_eq!(csr.neighbors(3), &[1, 2]);
        assert_eq!(csr.neighbors(4), &[1]); // self-loop dropped
        assert_matches_naive(&g);
    }

    #[test]
    fn empty_graph_and_isolated_nodes() {
        let g = hetero(&[("a", 0)], &[]);
        let csr = build_symmetric_csr(&g).unwrap();
        assert_eq!(csr.xadj, vec![0]);
        assert!(csr.adjncy.is_empty());
        let g = hetero(&[("a", 4)], &[("a", "r", "a", vec![(1, 1)])]);
        let csr = build_symmetric_csr(&g).unwrap();
        assert_eq!(csr.xadj, vec![0, 0, 0, 0, 0]);
    }

    #[test]
    fn endpoint_out_of_range_cannot_reach_the_kernel() {
        let mut p = hetero(&[("a", 2), ("b", 1)], &[("a", "r", "b", vec![(0, 0)])]).into_parts();
        p.edges[0].src.push(1);
        p.edges[0].dst.push(3);
        let e = Graph::new(p).unwrap_err().to_string();
        assert!(e.contains("a:r:b") && e.contains("node ID 3"), "{e}");
    }

    #[test]
    fn limits_error_mentions_random() {
        let e = check_metis_limits(1 << 31, 0).unwrap_err().to_string();
        assert!(
            e.contains("32-bit") && e.contains("--part-method random"),
            "{e}"
        );
        let e = check_metis_limits(10, 1 << 31).unwrap_err().to_string();
        assert!(
            e.contains("adjacency") && e.contains("--part-method random"),
            "{e}"
        );
        check_metis_limits(i32::MAX as u64, i32::MAX as u64).unwrap();
    }

    #[test]
    fn independent_of_thread_count() {
        let mut edges = Vec::new();
        let mut x = 12345u64;
        for _ in 0..200_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            edges.push(((x >> 33) as u32 % 5000, (x >> 13) as u32 % 5000));
        }
        let g = hetero(&[("n", 5000)], &[("n", "e", "n", edges)]);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let a = one.install(|| build_symmetric_csr(&g).unwrap());
        let b = four.install(|| build_symmetric_csr(&g).unwrap());
        assert_eq!((a.xadj, a.adjncy), (b.xadj, b.adjncy));
    }

    fn arb_graph() -> impl Strategy<Value = Graph> {
        (1u64..6, 0u64..6, 0u64..6).prop_flat_map(|(na, nb, nc)| {
            let counts = [("a", na), ("b", nb), ("c", nc)];
            let rels: Vec<(usize, usize)> = vec![(0, 0), (0, 1), (1, 2), (2, 0), (1, 1)];
            let strategies: Vec<_> = rels
                .iter()
                .map(|&(s, d)| {
                    let (ns, nd) = (counts[s].1, counts[d].1);
                    if ns == 0 || nd == 0 {
                        Just(Vec::new()).boxed()
                    } else {
                        prop::collection::vec((0..ns as u32, 0..nd as u32), 0..40).boxed()
                    }
                })
                .collect();
            (Just(counts), Just(rels), strategies).prop_map(|(counts, rels, edges)| {
                let names = ["a", "b", "c"];
                let ets: Vec<RelSpec<'_>> = rels
                    .iter()
                    .zip(edges)
                    .enumerate()
                    .map(|(i, (&(s, d), e))| {
                        (names[s], ["r0", "r1", "r2", "r3", "r4"][i], names[d], e)
                    })
                    .collect();
                hetero(&counts, &ets)
            })
        })
    }

    proptest! {
        #[test]
        fn csr_equals_naive_adjacency(g in arb_graph()) {
            assert_matches_naive(&g);
        }
    }
}
