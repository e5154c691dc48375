//! `validate`'s dry run: the construct pipeline's graph building (the same readers, ID maps,
//! feature transforms and label splits, in the same order, with the same errors) over the
//! first `ConstructOptions::sample_rows` rows of each input file, with nothing written:
//! no output folder, lock, staging folder or spill file.
//!
//! # Memory
//! The sampled rows only: `sample_rows` per file of one block's columns, plus the sampled
//! graph. The spill store gets an unlimited budget, so it never creates a file.

use std::collections::BTreeSet;

use super::construct::build_graph;
use super::ConstructOptions;
use crate::config::plan::Plan;
use crate::error::Result;
use crate::graph::Graph;
use crate::progress::Progress;
use crate::workspace::budget::Budget;
use crate::workspace::spill::Store;

/// What the sampled build produced.
pub struct DryRun {
    /// The graph of the sampled rows (reverse edges added when asked for).
    pub graph: Graph,
    /// Node types whose files the sample cut: their node counts and the endpoints of their
    /// edges are partial.
    pub partial: BTreeSet<String>,
    /// Node types that get `raw_id_mappings` (the ones whose map is not the identity).
    pub mapped: BTreeSet<String>,
}

/// Builds the graph of the first `opts.sample_rows` rows of each file (all rows when
/// `None`), writing nothing.
pub fn dry_run(plan: &Plan, opts: &ConstructOptions, progress: &Progress) -> Result<DryRun> {
    let store = Store::new(
        Budget { bytes: u64::MAX },
        None,
        &opts.output_dir,
        opts.ext_mem_feat_size,
    );
    let built = build_graph(plan, opts, progress, &store)?;
    let mapped = built
        .id_maps
        .iter()
        .filter(|(_, m)| m.has_mapping())
        .map(|(t, _)| t.clone())
        .collect();
    Ok(DryRun {
        graph: built.graph,
        partial: built.partial,
        mapped,
    })
}
