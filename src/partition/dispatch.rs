//! What DGL's dispatch pipeline needs of a partition assignment but does not check
//! (`distdgl-format.md` §10.2; measured: it breaks or writes unloadable partitions otherwise):
//! every partition holds at least one node of every node type, and at least one edge whose
//! destination it owns (edges are owned by their destination's partition).
//!
//! [`make_dispatchable`] moves as few nodes as it can to get there, deterministically, and
//! fails with the reason when the graph is too small for the number of partitions. An
//! assignment that already satisfies both rules is left unchanged.
//!
//! # Memory
//! `4 B` per node (in-degrees) plus `O(types × partitions)` counters.

use rayon::prelude::*;

use super::Assignment;
use crate::error::{Error, Result};
use crate::graph::Graph;

/// Nodes moved to satisfy the rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Moves {
    /// For the "≥ 1 node of every type" rule.
    pub for_types: u64,
    /// For the "≥ 1 owned edge" rule.
    pub for_edges: u64,
}

/// Checks both rules; the first violation as a message.
pub fn check_dispatchable(g: &Graph, asg: &Assignment) -> std::result::Result<(), String> {
    let p = asg.num_parts as usize;
    for (t, parts) in asg.node_part.iter().enumerate() {
        let mut seen = vec![false; p];
        for &q in parts {
            seen[q as usize] = true;
        }
        if let Some(q) = seen.iter().position(|s| !s) {
            return Err(format!(
                "partition {q} holds no node of type '{}'",
                g.ntypes()[t]
            ));
        }
    }
    let owned = owned_edges(g, asg);
    if let Some(q) = owned.iter().position(|&n| n == 0) {
        return Err(format!(
            "partition {q} owns no edge (no edge has its destination there)"
        ));
    }
    Ok(())
}

/// Edges per partition, counted at their destination.
fn owned_edges(g: &Graph, asg: &Assignment) -> Vec<u64> {
    let p = asg.num_parts as usize;
    let mut owned = vec![0u64; p];
    for (r, el) in g.edges().iter().enumerate() {
        let dp = &asg.node_part[g.endpoint_types(r).1];
        let part = el
            .dst
            .par_chunks(1 << 16)
            .fold(
                || vec![0u64; p],
                |mut acc, c| {
                    for &v in c {
                        acc[dp[v as usize] as usize] += 1;
                    }
                    acc
                },
            )
            .reduce(
                || vec![0u64; p],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        owned.iter_mut().zip(part).for_each(|(x, y)| *x += y);
    }
    owned
}

/// Moves nodes until every partition has a node of every type and an owned edge.
///
/// # Errors
/// When a node type has fewer nodes than partitions, or no node can be moved to give a
/// partition an edge without emptying another (fewer edge destinations than partitions).
pub fn make_dispatchable(g: &Graph, asg: &mut Assignment) -> Result<Moves> {
    let p = asg.num_parts as usize;
    let mut moves = Moves::default();
    let fail = |m: String| Error::Graph(format!("{m}. Use fewer partitions (--num-parts)."));
    // 1. one node of every type per partition
    let mut count: Vec<Vec<u64>> = Vec::with_capacity(g.ntypes().len());
    for (t, parts) in asg.node_part.iter_mut().enumerate() {
        let n = parts.len() as u64;
        if n < p as u64 {
            return Err(fail(format!(
                "node type '{}' has {n} node(s), fewer than the {p} partitions: DGL's \
                 dispatch pipeline needs at least one node of every type in every partition",
                g.ntypes()[t]
            )));
        }
        let mut c = vec![0u64; p];
        for &q in parts.iter() {
            c[q as usize] += 1;
        }
        let mut cursor = 0usize;
        for q in 0..p {
            if c[q] > 0 {
                continue;
            }
            // the first node (in ID order) whose partition has more than one node of the type
            while c[parts[cursor] as usize] <= 1 {
                cursor += 1;
            }
            let from = parts[cursor] as usize;
            c[from] -= 1;
            c[q] += 1;
            parts[cursor] = q as u32;
            moves.for_types += 1;
            cursor += 1;
        }
        count.push(c);
    }
    // 2. one owned edge per partition
    let mut owned = owned_edges(g, asg);
    if owned.iter().all(|&n| n > 0) {
        return Ok(moves);
    }
    let mut indeg: Vec<Vec<u32>> = g.num_nodes().iter().map(|&n| vec![0; n as usize]).collect();
    for (r, el) in g.edges().iter().enumerate() {
        let d = &mut indeg[g.endpoint_types(r).1];
        for &v in &el.dst {
            d[v as usize] = d[v as usize].saturating_add(1);
        }
    }
    for q in 0..p {
        if owned[q] > 0 {
            continue;
        }
        let mut found = None;
        'scan: for (r, el) in g.edges().iter().enumerate() {
            let t = g.endpoint_types(r).1;
            for &v in &el.dst {
                let from = asg.node_part[t][v as usize] as usize;
                let deg = u64::from(indeg[t][v as usize]);
                if from != q && count[t][from] > 1 && owned[from] > deg {
                    found = Some((t, v as usize, from, deg));
                    break 'scan;
                }
            }
        }
        let Some((t, v, from, deg)) = found else {
            return Err(fail(format!(
                "partition {q} would own no edge and no node can be moved there without \
                 emptying another partition: the graph has too few distinct edge destinations \
                 for {p} partitions (DGL's dispatch pipeline needs at least one edge per \
                 partition)"
            )));
        };
        asg.node_part[t][v] = q as u32;
        count[t][from] -= 1;
        count[t][q] += 1;
        owned[from] -= deg;
        owned[q] += deg;
        moves.for_edges += 1;
    }
    Ok(moves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{CanonicalEtype, EdgeList, GraphParts};
    use proptest::prelude::*;

    fn graph(na: u64, nb: u64, ab: Vec<(u32, u32)>, bb: Vec<(u32, u32)>) -> Graph {
        let el = |v: Vec<(u32, u32)>| EdgeList {
            src: v.iter().map(|e| e.0).collect(),
            dst: v.iter().map(|e| e.1).collect(),
        };
        Graph::new(GraphParts {
            ntypes: vec!["a".into(), "b".into()],
            num_nodes: vec![na, nb],
            etypes: vec![
                CanonicalEtype::new("a", "r", "b"),
                CanonicalEtype::new("b", "s", "b"),
            ],
            edges: vec![el(ab), el(bb)],
            node_data: vec![vec![], vec![]],
            edge_data: vec![vec![], vec![]],
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn all_in_one_partition_is_spread() {
        let g = graph(
            5,
            6,
            vec![(0, 0), (1, 1), (2, 2), (3, 3)],
            vec![(4, 5), (5, 4)],
        );
        let mut asg = Assignment {
            num_parts: 3,
            node_part: vec![vec![0; 5], vec![0; 6]],
        };
        let m = make_dispatchable(&g, &mut asg).unwrap();
        check_dispatchable(&g, &asg).unwrap();
        assert!(m.for_types == 4);
        // a valid assignment is not touched again
        let before = asg.clone();
        assert_eq!(make_dispatchable(&g, &mut asg).unwrap(), Moves::default());
        assert_eq!(asg, before);
    }

    #[test]
    fn too_small_graphs_fail_with_the_reason() {
        let g = graph(2, 6, vec![(0, 0)], vec![]);
        let mut asg = Assignment {
            num_parts: 3,
            node_part: vec![vec![0; 2], vec![0; 6]],
        };
        let e = make_dispatchable(&g, &mut asg).unwrap_err().to_string();
        assert!(e.contains("node type 'a' has 2 node(s)"), "{e}");
        let g = graph(3, 6, vec![(0, 0), (1, 0)], vec![]);
        let mut asg = Assignment {
            num_parts: 2,
            node_part: vec![vec![0, 1, 0], vec![0, 1, 0, 1, 0, 1]],
        };
        let e = make_dispatchable(&g, &mut asg).unwrap_err().to_string();
        assert!(e.contains("too few distinct edge destinations"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// On random graphs and random (often degenerate) assignments: success means both rules
        /// hold; a valid input is unchanged; failure only happens for a reason it names.
        #[test]
        fn assignment_invariants(
            na in 1u64..12, nb in 1u64..12, parts in 1u32..5,
            ab in proptest::collection::vec((0u32..12, 0u32..12), 0..30),
            bb in proptest::collection::vec((0u32..12, 0u32..12), 0..30),
            skew in 0u32..3, seed in 0u64..1000,
        ) {
            let ab: Vec<_> = ab.into_iter().map(|(s, d)| (s % na as u32, d % nb as u32)).collect();
            let bb: Vec<_> = bb.into_iter().map(|(s, d)| (s % nb as u32, d % nb as u32)).collect();
            let g = graph(na, nb, ab, bb);
            let pick = |i: u64, t: u64| -> u32 {
                match skew {
                    0 => 0,
                    1 => ((i * 7 + t + seed) % u64::from(parts)) as u32,
                    _ => ((i.wrapping_mul(2654435761).wrapping_add(seed) >> 3) % u64::from(parts)) as u32,
                }
            };
            let mut asg = Assignment {
                num_parts: parts,
                node_part: vec![
                    (0..na).map(|i| pick(i, 0)).collect(),
                    (0..nb).map(|i| pick(i, 1)).collect(),
                ],
            };
            let before = asg.clone();
            let was_valid = check_dispatchable(&g, &asg).is_ok();
            match make_dispatchable(&g, &mut asg) {
                Ok(m) => {
                    prop_assert!(check_dispatchable(&g, &asg).is_ok());
                    if was_valid {
                        prop_assert_eq!(&asg, &before);
                        prop_assert_eq!(m, Moves::default());
                    }
                    prop_assert!(asg.node_part.iter().flatten().all(|&q| q < parts));
                }
                Err(e) => {
                    let e = e.to_string();
                    prop_assert!(!was_valid);
                    prop_assert!(e.contains("fewer than the") || e.contains("too few distinct"), "{}", e);
                }
            }
        }
    }
}
