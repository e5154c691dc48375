//! Node → partition assignment (METIS or seeded random) and partition quality statistics.
//!
//! * [`csr`]: the symmetrized, deduplicated, self-loop-free CSR of the whole heterogeneous
//!   graph in DGL's homogeneous ID space (what METIS consumes).
//! * [`metis`]: METIS k-way with DGL/GraphStorm's multi-constraint balancing
//!   (`balance_ntypes` from train/val/test masks + `balance_edges`).
//! * [`random`]: seeded uniform assignment with GraphStorm's "≥ 1 node of each type per
//!   partition" rule.
//! * [`stats`]: the quality report: edge cut and balance over the per-partition contents the
//!   DistDGL writer counts.
//! * [`dispatch`]: the rules DGL's dispatch pipeline needs of an assignment (a node of every
//!   type and an owned edge in every partition), checked and enforced.
//! * [`book`]: the partition book (per-type ID ranges, locate) shared by the DistDGL writer
//!   and the readers of a partitioned output.

pub mod book;
pub mod csr;
pub mod dispatch;
pub mod metis;
pub mod random;
pub mod stats;

pub use self::metis::{metis_partition, MetisReport};
pub use self::random::random_partition;
pub use self::stats::{edge_cut, partition_report, PartContents, PartitionReport};

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
