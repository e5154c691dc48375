//! Partition quality report (`partition_stats.json` and a human-readable table).
//!
//! Definitions follow DistDGL's ownership rules (distdgl-format spec §3.2):
//! * an edge is an **inner edge** of the partition of its destination;
//! * the **HALO nodes** of partition `p` are the distinct sources of `p`'s inner edges that
//!   belong to another partition (what a 1-hop partition graph carries besides its own nodes);
//! * the **edge cut** counts directed edges (duplicates included, as stored) whose endpoints
//!   are in different partitions; self-loops are never cut;
//! * **balance** = max / mean over partitions (1.0 = perfect).
//!
//! What each partition holds ([`PartContents`]: inner nodes and edges per type, HALO nodes) is
//! counted once, by the DistDGL writer while it lays the partitions out; this module adds what
//! only the assignment knows (the edge cut) and the balance, and renders the report.
//!
//! # Memory
//! `O(P · (T + R))` counters.
//!
//! # Parallelism
//! The edge cut scans the edge lists in parallel chunks with per-task counters
//! (`fold`/`reduce`). Results are exact counts, independent of threads.

use std::fmt::Write as _;

use rayon::prelude::*;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::Assignment;
use crate::graph::Graph;

const CHUNK: usize = 1 << 16;

/// What one partition holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartContents {
    /// Inner (owned) nodes per node type.
    pub inner_nodes: Vec<u64>,
    /// Inner (owned) edges per edge type; these are all edges stored in the partition.
    pub inner_edges: Vec<u64>,
    /// HALO nodes: sources of inner edges owned by other partitions.
    pub halo_nodes: u64,
}

impl PartContents {
    pub fn total_inner_nodes(&self) -> u64 {
        self.inner_nodes.iter().sum()
    }
    pub fn total_inner_edges(&self) -> u64 {
        self.inner_edges.iter().sum()
    }
}

/// One partition's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartReport {
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

/// The quality report of a whole assignment; serialize to get `partition_stats.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionReport {
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
    pub partitions: Vec<PartReport>,
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

/// Directed edges of `g` whose endpoints `asg` puts in different partitions.
pub fn edge_cut(g: &Graph, asg: &Assignment) -> u64 {
    g.edges()
        .iter()
        .enumerate()
        .map(|(r, el)| {
            let (s, d) = g.endpoint_types(r);
            let (sp, dp) = (&asg.node_part[s], &asg.node_part[d]);
            el.src
                .par_chunks(CHUNK)
                .zip(el.dst.par_chunks(CHUNK))
                .map(|(s, d)| {
                    s.iter()
                        .zip(d)
                        .filter(|&(&u, &v)| sp[u as usize] != dp[v as usize])
                        .count() as u64
                })
                .sum::<u64>()
        })
        .sum()
}

/// The report of `asg` over `g`, given what each partition holds (`parts[p]`, from the
/// writer). `asg` must cover `g` (one entry per node).
///
/// # Memory
/// `O(P · (T + R))`.
pub fn partition_report(g: &Graph, asg: &Assignment, parts: &[PartContents]) -> PartitionReport {
    let t0 = std::time::Instant::now();
    let p = parts.len();
    let edge_cut = edge_cut(g, asg);
    let partitions = parts
        .iter()
        .enumerate()
        .map(|(q, c)| PartReport {
            part: q as u32,
            inner_nodes: c.total_inner_nodes(),
            inner_edges: c.total_inner_edges(),
            halo_nodes: c.halo_nodes,
            inner_nodes_per_type: g
                .ntypes()
                .iter()
                .cloned()
                .zip(c.inner_nodes.iter().copied())
                .collect(),
            inner_edges_per_etype: g
                .etypes()
                .iter()
                .map(|e| e.colon_key())
                .zip(c.inner_edges.iter().copied())
                .collect(),
        })
        .collect::<Vec<_>>();
    let (num_nodes, num_edges) = (g.total_nodes(), g.total_edges());
    log::info!(
        "partition stats: {num_nodes} nodes, {num_edges} edges, {p} parts in {:.3}s",
        t0.elapsed().as_secs_f64()
    );
    PartitionReport {
        num_parts: p as u32,
        num_nodes,
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

/// A compact human-readable table of `s` (one line per partition, then per-type counts).
pub fn render_table(s: &PartitionReport) -> String {
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
pub(crate) mod tests {
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

    /// The fixture's contents, counted by hand (the DistDGL writer's tests check that it
    /// counts the same).
    fn contents() -> Vec<PartContents> {
        vec![
            // p0 halo: user2 (source of follows (2,0))
            PartContents {
                inner_nodes: vec![1, 2],
                inner_edges: vec![1, 2],
                halo_nodes: 1,
            },
            // p1 halo: user1 (buys, twice), user0 (follows)
            PartContents {
                inner_nodes: vec![1, 1],
                inner_edges: vec![3, 1],
                halo_nodes: 2,
            },
        ]
    }

    pub(crate) fn fixture_with_contents() -> (Graph, Assignment, Vec<PartContents>) {
        let (g, a) = fixture();
        (g, a, contents())
    }

    #[test]
    fn hand_checked_fixture() {
        let (g, a, c) = fixture_with_contents();
        let s = partition_report(&g, &a, &c);
        assert_eq!((s.num_nodes, s.num_edges), (5, 7));
        // cut: buys (1,1) ×2, follows (2,0), (0,2)
        assert_eq!(s.edge_cut, 4);
        assert!((s.edge_cut_fraction - 4.0 / 7.0).abs() < 1e-12);
        let p0 = &s.partitions[0];
        assert_eq!(
            p0.inner_nodes_per_type,
            vec![("item".into(), 1), ("user".into(), 2)]
        );
        assert_eq!(
            s.partitions[1].inner_edges_per_etype,
            vec![
                ("user:buys:item".into(), 3),
                ("user:follows:user".into(), 1)
            ]
        );
        assert_eq!((p0.halo_nodes, s.partitions[1].halo_nodes), (1, 2));
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
        assert_eq!(edge_cut(&g, &Assignment::single(g.num_nodes())), 0);
    }
}
