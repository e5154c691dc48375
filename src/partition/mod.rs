//! Node → partition assignment (METIS or seeded random) and partition quality statistics.

/// Which partition each node belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub num_parts: u32,
    /// `node_part[t][i]` = partition of node `i` of node type `t` (index into `Graph::ntypes`).
    pub node_part: Vec<Vec<u32>>,
}

impl Assignment {
    /// Everything in partition 0 (`--num-parts 1`).
    pub fn single(num_nodes: &[u64]) -> Assignment {
        Assignment {
            num_parts: 1,
            node_part: num_nodes.iter().map(|&n| vec![0; n as usize]).collect(),
        }
    }
}
