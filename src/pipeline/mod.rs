//! The `construct` pipeline: config → node tables → featureless ID maps → edge tables →
//! graph (+ reverse edges) → partition → writers. Wiring only; each step lives in its stage
//! module.
//!
//! Order (GraphStorm's `process_graph`, spec §3.0): node blocks in config order (IDs, features,
//! labels), ID maps for node types seen only in edges, edge blocks in config order (features and
//! labels on all rows, then endpoint mapping and filtering), reverse edges, runtime config,
//! partitioning, outputs. Files of a block are decoded in parallel (one rayon task per file);
//! mapping, transforms and writers parallelize internally.
//!
//! Rooms:
//! * [`blocks`]: reading a block's files (column sets, file groups, row → file), the node
//!   blocks and the ID maps of node types seen only in edges; the decode floor.
//! * [`edges`]: the edge-reading stage (read, map endpoints, drop unknown ones, the budget
//!   floor of the edge lists) and the edge blocks.
//! * [`construct`]: `build_graph`, the phases in order, and [`construct()`] around it.
//! * [`output`]: partitioning, the writers and the side files of a built [`crate::graph::Graph`];
//!   it takes its own [`OutputOptions`] and knows nothing of `construct`, so a command that
//!   gets its graph elsewhere can reuse it.
//!
//! # Memory
//! The decoded columns of one block at a time, plus the constructed graph (edge lists as
//! `u32` pairs and every node/edge data array).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::workspace::budget::Budget;

mod blocks;
mod construct;
mod dry_run;
mod edges;
pub mod output;

pub use blocks::decode_inputs;
pub use dry_run::dry_run;
pub use output::{OutputFormat, OutputOptions, PartMethod};

/// Runs the whole pipeline for a loaded `plan` while holding the output dir's lock
/// ([`crate::workspace::lock`]): a second run into the same dir fails at once, leftovers of
/// interrupted runs are removed first, and the new output replaces the previous graphprep
/// output as a whole ([`crate::workspace::Staging::commit`]). On error nothing is left in the
/// output directory.
pub fn construct(
    plan: &crate::config::plan::Plan,
    opts: &ConstructOptions,
    progress: &crate::progress::Progress,
) -> crate::error::Result<Summary> {
    let _lock = crate::workspace::lock::OutputLock::acquire(&opts.output_dir)?;
    if let Some(ws) = &opts.workspace {
        crate::workspace::spill::clean_stale(ws);
    }
    construct::construct(plan, opts, progress)
}

/// Resolved options of one `construct` run (the CLI has checked them: `--output-conf-file`'s
/// folder exists, `num_parts` ≥ 1, a valid graph name).
#[derive(Clone, Debug)]
pub struct ConstructOptions {
    pub output_dir: PathBuf,
    pub graph_name: String,
    pub output_conf_file: Option<PathBuf>,
    pub remap_node_id: bool,
    pub add_reverse_edges: bool,
    pub validate_features: bool,
    pub formats: Vec<OutputFormat>,
    pub num_parts: u32,
    pub part_method: PartMethod,
    pub skip_nonexist_edges: bool,
    pub workspace: Option<PathBuf>,
    /// `--ext-mem-feat-size`: with an explicit workspace, features at least this wide spill.
    pub ext_mem_feat_size: usize,
    /// `--memory`.
    pub memory: Budget,
    pub seed: u64,
    /// `validate`'s dry run: read at most this many data rows of each input file. Unknown edge
    /// endpoints of a node type whose files were cut are then not errors (the node may be
    /// beyond the sample), nor is a data-only node block whose row count differs from the
    /// sampled ID block's. `None` for `construct`.
    pub sample_rows: Option<usize>,
    /// `--device`: where `bert_hf` runs its model.
    pub device: crate::train::device::DevicePref,
    /// `--chunk-rows`: chunked output's rows per file.
    pub chunk_rows: Option<usize>,
}

impl ConstructOptions {
    /// The options of the output stage.
    pub fn output(&self) -> OutputOptions {
        OutputOptions {
            graph_name: self.graph_name.clone(),
            formats: self.formats.clone(),
            num_parts: self.num_parts,
            part_method: self.part_method,
            seed: self.seed,
            output_conf_file: self.output_conf_file.clone(),
            chunk_rows: self.chunk_rows,
            memory: Some(self.memory.bytes),
            assignment: None,
        }
    }
}

/// What a finished run built.
#[derive(Debug)]
pub struct Summary {
    pub output_dir: PathBuf,
    pub node_types: usize,
    pub nodes: u64,
    pub edge_types: usize,
    pub edges: u64,
    pub num_parts: u32,
    pub seconds: f64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "built {} nodes ({} types) and {} edges ({} types) into {} partition(s) at {} in {:.2} s",
            self.nodes,
            self.node_types,
            self.edges,
            self.edge_types,
            self.num_parts,
            self.output_dir.display(),
            self.seconds
        )
    }
}

/// Label statistics of one block: label name → label value → train count.
pub type LabelStats = BTreeMap<String, BTreeMap<i64, u64>>;

/// Label statistics per type key (config order).
pub type TypeLabelStats = Vec<(String, LabelStats)>;

/// Merges a block's label statistics into its type's entry (types keep first-seen order).
fn merge_stats(all: &mut TypeLabelStats, key: String, stats: LabelStats) {
    match all.iter_mut().find(|(t, _)| *t == key) {
        Some((_, s)) => s.extend(stats),
        None => all.push((key, stats)),
    }
}

/// Resident bytes per edge that cannot spill: `u32` source and destination plus the `u32`
/// partition order the writers build.
pub const EDGE_BYTES: u64 = 12;
