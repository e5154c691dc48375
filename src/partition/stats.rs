//! Partition quality statistics (`partition_stats.json` and a human-readable table).
//!
//! Definitions follow DistDGL's ownership rules (distdgl-format spec §3.2):
//! * an edge is an **inner edge** of the partition of its destination;
//! * the **HALO nodes** of partition `p` are the distinct sources of `p`'s inner edges that
//!   belong to another partition (what a 1-hop partition graph carries besides its own nodes);
//! * the **edge cut** counts directed edges (duplicates included, as stored) whose endpoints
//!   are in different partitions; self-loops are never cut;
//! * **balance** = max / mean over partitions (1.0 = perfect).
//!
//! # Memory
//! Per-partition counters, plus one bitset of `N` bits per partition for the HALO count,
//! processed in groups so that at most [`HALO_BITSET_BUDGET`] bytes are live (more groups ⇒
//! more passes over the edges).
//!
//! # Parallelism
//! Edge lists are scanned in parallel chunks with per-task counters (`fold`/`reduce`); HALO
//! bits are set with atomic `fetch_or`. Results are exact counts, independent of threads.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::csr::homogeneous_offsets;
use super::Assignment;
use crate::graph::Graph;

/// Upper bound on the HALO bitsets held at once.
pub const HALO_BITSET_BUDGET: usize = 256 << 20;

const CHUNK: usize = 1 << 16;

/// A relation's (src node parts, dst node parts, src homogeneous offset); `None` if the
/// relation names an unknown node type.
type Rel<'a> = Option<(&'a [u32], &'a [u32], u64)>;

/// Statistics of one partition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartStats {
    pub part: u32,
    /// Nodes owned by the partition (all types).
    pub inner_nodes: u64,
    /// Edges owned by the partition (dst inside), all relations.
    pub inner_edges: u64,
    /// Distinct nodes of other partitions that are sources of inner edges.
    pub halo_nodes: u64,
    /// Inner nodes per node type, in `Graph::ntypes` order.
    #[serde(serialize_with = "as_map")]
    pub inner_nodes_per_type: Vec<(String, u64)>,
    /// Inner edges per relation (`"src:rel:dst"`), in `Graph::etypes` order.
    #[serde(serialize_with = "as_map")]
    pub inner_edges_per_etype: Vec<(String, u64)>,
}

/// Statistics of a whole assignment; serialize to get `partition_stats.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionStats {
    pub num_parts: u32,
    pub num_nodes: u64,
    pub num_edges: u64,
    /// Directed edges whose endpoints are in different partitions.
    pub edge_cut: u64,
    /// `edge_cut / num_edges` (0 without edges).
    pub edge_cut_fraction: f64,
    /// max / mean inner nodes per partition.
    pub node_balance: f64,
    /// max / mean inner edges per partition.
    pub edge_balance: f64,
    pub partitions: Vec<PartStats>,
}

fn as_map<S: Serializer>(v: &[(String, u64)], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, x) in v {
        m.serialize_entry(k, x)?;
    }
    m.end()
}

fn balance(v: impl Iterator<Item = u64> + Clone, parts: usize) -> f64 {
    let total: u64 = v.clone().sum();
    let max = v.max().unwrap_or(0);
    if total == 0 {
        1.0
    } else {
        max as f64 / (total as f64 / parts as f64)
    }
}

fn add_vec(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// Computes [`PartitionStats`] of `asg` over `g` (module docs). Edges whose endpoints are
/// out of range or whose types are unknown are ignored.
///
/// # Memory
/// `≤ HALO_BITSET_BUDGET` for HALO bitsets plus `O(P · (T + R))` counters.
pub fn partition_stats(g: &Graph, asg: &Assignment) -> PartitionStats {
    let p = asg.num_parts.max(1) as usize;
    let t0 = std::time::Instant::now();
    let offsets = homogeneous_offsets(g.num_nodes());
    let n_total = *offsets.last().unwrap_or(&0);

    // Inner nodes per (partition, type).
    let nodes: Vec<Vec<u64>> = asg
        .node_part
        .iter()
        .map(|parts| {
            parts
                .par_chunks(CHUNK)
                .fold(
                    || vec![0u64; p],
                    |mut c, ch| {
                        for &q in ch {
                            if let Some(x) = c.get_mut(q as usize) {
                                *x += 1;
                            }
                        }
                        c
                    },
                )
                .reduce(|| vec![0u64; p], add_vec)
        })
        .collect();

    // Relations as (src parts, dst parts, src homogeneous offset).
    let rels: Vec<Rel<'_>> = g
        .etypes()
        .iter()
        .map(|et| {
            let s = g.ntype_index(&et.src)?;
            let d = g.ntype_index(&et.dst)?;
            Some((
                asg.node_part.get(s)?.as_slice(),
                asg.node_part.get(d)?.as_slice(),
                offsets[s],
            ))
        })
        .collect();

    // Inner edges per (partition, relation) and the directed cut: counts[0..p] + [cut].
    let mut edge_cut = 0u64;
    let edges: Vec<Vec<u64>> = g
        .edges()
        .iter()
        .zip(&rels)
        .map(|(el, rel)| {
            let Some((sp, dp, _)) = *rel else {
                return vec![0; p];
            };
            let mut c = el
                .src
                .par_chunks(CHUNK)
                .zip(el.dst.par_chunks(CHUNK))
                .fold(
                    || vec![0u64; p + 1],
                    |mut c, (s, d)| {
                        for (&u, &v) in s.iter().zip(d) {
                            let (Some(&pu), Some(&pv)) = (sp.get(u as usize), dp.get(v as usize))
                            else {
                                continue;
                            };
                            if (pv as usize) < p {
                                c[pv as usize] += 1;
                                c[p] += (pu != pv) as u64;
                            }
                        }
                        c
                    },
                )
                .reduce(|| vec![0u64; p + 1], add_vec);
            edge_cut += c.pop().unwrap_or(0);
            c
        })
        .collect();

    let halo = halo_counts(g, &rels, p, n_total);

    let partitions = (0..p)
        .map(|q| PartStats {
            part: q as u32,
            inner_nodes: nodes.iter().map(|c| c[q]).sum(),
            inner_edges: edges.iter().map(|c| c[q]).sum(),
            halo_nodes: halo[q],
            inner_nodes_per_type: g
                .ntypes()
                .iter()
                .cloned()
                .zip(nodes.iter().map(|c| c[q]))
                .collect(),
            inner_edges_per_etype: g
                .etypes()
                .iter()
                .map(|e| e.colon_key())
                .zip(edges.iter().map(|c| c[q]))
                .collect(),
        })
        .collect::<Vec<_>>();
    let num_edges = g.total_edges();
    log::info!(
        "partition stats: {n_total} nodes, {num_edges} edges, {p} parts in {:.3}s",
        t0.elapsed().as_secs_f64()
    );
    PartitionStats {
        num_parts: p as u32,
        num_nodes: n_total,
        num_edges,
        edge_cut,
        edge_cut_fraction: if num_edges == 0 {
            0.0
        } else {
            edge_cut as f64 / num_edges as f64
        },
        node_balance: balance(partitions.iter().map(|s| s.inner_nodes), p),
        edge_balance: balance(partitions.iter().map(|s| s.inner_edges), p),
        partitions,
    }
}

/// Distinct out-of-partition sources of each partition's inner edges, with partition groups
/// sized so their bitsets fit [`HALO_BITSET_BUDGET`].
fn halo_counts(g: &Graph, rels: &[Rel<'_>], p: usize, n: u64) -> Vec<u64> {
    let words = (n as usize).div_ceil(64).max(1);
    let group = (HALO_BITSET_BUDGET / (words * 8)).clamp(1, p);
    let mut out = vec![0u64; p];
    for g0 in (0..p).step_by(group) {
        let g1 = (g0 + group).min(p);
        let bits: Vec<AtomicU64> = (0..(g1 - g0) * words)
            .into_par_iter()
            .map(|_| AtomicU64::new(0))
            .collect();
        for (el, rel) in g.edges().iter().zip(rels) {
            let Some((sp, dp, so)) = *rel else { continue };
            el.src
                .par_chunks(CHUNK)
                .zip(el.dst.par_chunks(CHUNK))
                .for_each(|(s, d)| {
                    for (&u, &v) in s.iter().zip(d) {
                        let (Some(&pu), Some(&pv)) = (sp.get(u as usize), dp.get(v as usize))
                        else {
                            continue;
                        };
                        let pv = pv as usize;
                        if pu as usize != pv && (g0..g1).contains(&pv) {
                            let h = (so + u as u64) as usize;
                            bits[(pv - g0) * words + h / 64]
                                .fetch_or(1 << (h % 64), Ordering::Relaxed);
                        }
                    }
                });
        }
        for (q, o) in out[g0..g1].iter_mut().enumerate() {
            *o = bits[q * words..(q + 1) * words]
                .par_iter()
                .map(|w| w.load(Ordering::Relaxed).count_ones() as u64)
                .sum();
        }
    }
    out
}

/// A compact human-readable table of `s` (one line per partition, then per-type counts).
pub fn render_table(s: &PartitionStats) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} partitions, {} nodes, {} edges; edge cut {} ({:.1}%); balance: nodes {:.3}, edges {:.3}",
        s.num_parts,
        s.num_nodes,
        s.num_edges,
        s.edge_cut,
        100.0 * s.edge_cut_fraction,
        s.node_balance,
        s.edge_balance
    );
    let _ = writeln!(
        o,
        "{:>6} {:>12} {:>12} {:>12}",
        "part", "nodes", "edges", "halo"
    );
    for p in &s.partitions {
        let _ = writeln!(
            o,
            "{:>6} {:>12} {:>12} {:>12}",
            p.part, p.inner_nodes, p.inner_edges, p.halo_nodes
        );
    }
    let block = |o: &mut String, title: &str, rows: Vec<(&str, Vec<u64>)>| {
        if rows.len() <= 1 {
            return;
        }
        let w = rows
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(0)
            .max(title.len());
        let _ = write!(o, "{title:<w$}");
        for p in &s.partitions {
            let _ = write!(o, " {:>10}", format!("p{}", p.part));
        }
        o.push('\n');
        for (name, v) in rows {
            let _ = write!(o, "{name:<w$}");
            for x in v {
                let _ = write!(o, " {x:>10}");
            }
            o.push('\n');
        }
    };
    let per = |i: usize, etype: bool| -> Vec<u64> {
        s.partitions
            .iter()
            .map(|p| {
                if etype {
                    p.inner_edges_per_etype[i].1
                } else {
                    p.inner_nodes_per_type[i].1
                }
            })
            .collect()
    };
    if let Some(first) = s.partitions.first() {
        let rows = first
            .inner_nodes_per_type
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.as_str(), per(i, false)))
            .collect();
        block(&mut o, "node type", rows);
        let rows = first
            .inner_edges_per_etype
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.as_str(), per(i, true)))
            .collect();
        block(&mut o, "edge type", rows);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::csr::tests::hetero;

    /// item 0..2, user 0..3; parts: item [0, 1], user [0, 0, 1].
    fn fixture() -> (Graph, Assignment) {
        let g = hetero(
            &[("user", 3), ("item", 2)],
            &[
                // user → item: (0,0) inner p0; (1,1) cut → p1; (2,1) inner p1; (1,1) dup cut → p1
                ("user", "buys", "item", vec![(0, 0), (1, 1), (2, 1), (1, 1)]),
                // user → user: (2,0) cut → p0; (0,0) self-loop p0; (0,2) cut → p1
                ("user", "follows", "user", vec![(2, 0), (0, 0), (0, 2)]),
            ],
        );
        let item = g.ntype_index("item").unwrap();
        let user = g.ntype_index("user").unwrap();
        let mut node_part = vec![Vec::new(); 2];
        node_part[item] = vec![0, 1];
        node_part[user] = vec![0, 0, 1];
        (
            g,
            Assignment {
                num_parts: 2,
                node_part,
            },
        )
    }

    #[test]
    fn hand_checked_fixture() {
        let (g, a) = fixture();
        let s = partition_stats(&g, &a);
        assert_eq!((s.num_nodes, s.num_edges), (5, 7));
        // cut: buys (1,1) ×2, follows (2,0), (0,2)
        assert_eq!(s.edge_cut, 4);
        assert!((s.edge_cut_fraction - 4.0 / 7.0).abs() < 1e-12);
        let p0 = &s.partitions[0];
        let p1 = &s.partitions[1];
        assert_eq!(
            p0.inner_nodes_per_type,
            vec![("item".into(), 1), ("user".into(), 2)]
        );
        assert_eq!(
            p1.inner_nodes_per_type,
            vec![("item".into(), 1), ("user".into(), 1)]
        );
        assert_eq!(
            p0.inner_edges_per_etype,
            vec![
                ("user:buys:item".into(), 1),
                ("user:follows:user".into(), 2)
            ]
        );
        assert_eq!(
            p1.inner_edges_per_etype,
            vec![
                ("user:buys:item".into(), 3),
                ("user:follows:user".into(), 1)
            ]
        );
        // p0 halo: user2 (source of follows (2,0)); p1 halo: user1 (buys, twice), user0 (follows)
        assert_eq!(p0.halo_nodes, 1);
        assert_eq!(p1.halo_nodes, 2);
        assert!((s.node_balance - 3.0 / 2.5).abs() < 1e-12);
        assert!((s.edge_balance - 4.0 / 3.5).abs() < 1e-12);

        let json = serde_json::to_string(&s).unwrap();
        assert!(
            json.contains(r#""inner_nodes_per_type":{"item":1,"user":2}"#),
            "{json}"
        );
        let table = render_table(&s);
        assert!(table.contains("edge cut 4 (57.1%)"), "{table}");
        assert!(table.contains("user:follows:user"), "{table}");
    }

    #[test]
    fn single_partition_has_no_cut() {
        let (g, _) = fixture();
        let s = partition_stats(&g, &Assignment::single(g.num_nodes()));
        assert_eq!(s.edge_cut, 0);
        assert_eq!(s.partitions[0].halo_nodes, 0);
        assert_eq!(s.partitions[0].inner_edges, 7);
        assert_eq!(s.node_balance, 1.0);
    }
}
