//! `construct`: the plan → a [`Graph`] (node blocks → featureless ID maps → edge blocks →
//! graph assembly with reverse edges), then the output stage into a staging folder that is
//! committed only when everything was written.
//!
//! # Memory
//! One block's decoded columns at a time plus the graph being built; see [`super::blocks`],
//! [`super::edges`] and [`super::output`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::Value;

use super::blocks::{check_declared_node_counts, featureless_id_maps, node_blocks, NodeBlocks};
use super::edges::{edge_blocks, EdgeBlocks};
use super::output::{self, SideFiles};
use super::{ConstructOptions, Summary, TypeLabelStats, EDGE_BYTES};
use crate::config::plan::Plan;
use crate::config::runtime::RuntimeConfig;
use crate::error::Result;
use crate::graph::reverse::{self, Relation};
use crate::graph::{CanonicalEtype, Graph, GraphParts, NamedTensor};
use crate::idmap::IdMap;
use crate::progress::Progress;
use crate::workspace::spill::Store;
use crate::workspace::Staging;

/// The graph plus everything the side outputs need.
pub(super) struct Constructed {
    pub(super) graph: Graph,
    /// ID map per node type name.
    pub(super) id_maps: BTreeMap<String, IdMap>,
    /// Runtime config (input config + learned state).
    pub(super) runtime_config: Value,
    /// Label statistics: type key → label name → value → count, types in config order.
    pub(super) node_label_stats: TypeLabelStats,
    pub(super) edge_label_stats: TypeLabelStats,
    /// Node types whose files a sample (`sample_rows`) cut; empty for `construct`.
    pub(super) partial: BTreeSet<String>,
}

/// Runs the whole pipeline for a loaded `plan`. On error nothing is left in the output
/// directory.
pub fn construct(plan: &Plan, opts: &ConstructOptions, progress: &Progress) -> Result<Summary> {
    let start = Instant::now();
    let store = Store::new(
        opts.memory,
        opts.workspace.as_deref(),
        &opts.output_dir,
        opts.ext_mem_feat_size,
    );
    log::info!(
        "memory budget {} (data arrays spill to {} beyond {})",
        crate::workspace::budget::human(opts.memory.bytes),
        opts.workspace
            .as_deref()
            .unwrap_or(&opts.output_dir)
            .display(),
        crate::workspace::budget::human(opts.memory.array_limit())
    );
    let built = build_graph(plan, opts, progress, &store)?;
    let staging = Staging::create(&opts.output_dir)?;
    let side = SideFiles {
        runtime_config: Some(&built.runtime_config),
        node_label_stats: (!plan.nodes.is_empty()).then_some(&built.node_label_stats),
        edge_label_stats: (!plan.edges.is_empty()).then_some(&built.edge_label_stats),
        id_maps: &built.id_maps,
    };
    output::write(
        &built.graph,
        &side,
        &opts.output(),
        progress,
        staging.path(),
    )?;
    staging.commit()?;
    let g = &built.graph;
    Ok(Summary {
        output_dir: opts.output_dir.clone(),
        node_types: g.ntypes().len(),
        nodes: g.total_nodes(),
        edge_types: g.etypes().len(),
        edges: g.total_edges(),
        num_parts: opts.num_parts,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Builds the in-memory graph from the plan, in GraphStorm's order.
pub(super) fn build_graph(
    plan: &Plan,
    opts: &ConstructOptions,
    progress: &Progress,
    store: &Store,
) -> Result<Constructed> {
    check_declared_node_counts(plan, opts)?;
    let mut runtime = RuntimeConfig::new(plan);
    // 1. Node blocks: ID maps, node data, label statistics.
    let NodeBlocks {
        mut id_maps,
        mut partial,
        data: node_data,
        stats: node_label_stats,
    } = node_blocks(plan, opts, store, &mut runtime, progress)?;
    // 2. Node types seen only in edges.
    let featureless = featureless_id_maps(plan, &id_maps, opts, &mut partial, progress)?;
    id_maps.extend(featureless);
    // 3. Edge blocks: endpoints, edge data, label statistics.
    let mut edges = edge_blocks(
        plan,
        opts,
        &id_maps,
        &partial,
        store,
        &mut runtime,
        progress,
    )?;
    let edge_label_stats = std::mem::take(&mut edges.stats);
    // 4. Graph assembly (+ reverse edges).
    let graph = assemble(plan, opts, store, &id_maps, node_data, edges)?;
    runtime.set_add_reverse_edges(opts.add_reverse_edges);
    log::info!(
        "graph: {} nodes of {} types, {} edges of {} types",
        graph.total_nodes(),
        graph.ntypes().len(),
        graph.total_edges(),
        graph.etypes().len()
    );
    Ok(Constructed {
        graph,
        id_maps,
        runtime_config: runtime.into_json(),
        node_label_stats,
        edge_label_stats,
        partial,
    })
}

// 4. Assemble, check row counts.
/// Phase 4: the [`Graph`] of the blocks' results, with reverse edges when asked for. Types
/// and data arrays are put in DGL's order (sorted by name).
fn assemble(
    plan: &Plan,
    opts: &ConstructOptions,
    store: &Store,
    id_maps: &BTreeMap<String, IdMap>,
    mut node_data: BTreeMap<String, Vec<NamedTensor>>,
    edges: EdgeBlocks,
) -> Result<Graph> {
    let EdgeBlocks {
        edges,
        mut data,
        mut hard_negatives,
        mut mask_names,
        ..
    } = edges;
    let forward_edges: u64 = edges.values().map(|l| l.len() as u64).sum();
    let mut rels: BTreeMap<CanonicalEtype, Relation> = edges
        .into_iter()
        .map(|(et, list)| {
            let r = Relation {
                edges: list,
                data: data.remove(&et).unwrap_or_default(),
                hard_negatives: hard_negatives.remove(&et).unwrap_or_default(),
                masks: mask_names.remove(&et).unwrap_or_default(),
            };
            (et, r)
        })
        .collect();
    if opts.add_reverse_edges {
        store.budget().admit(
            2 * forward_edges * EDGE_BYTES,
            &format!(
                "--add-reverse-edges: {} edges after adding reverse edges ({EDGE_BYTES} B each)",
                2 * forward_edges
            ),
        )?;
        reverse::add_reverse_edges(&mut rels, plan.is_homogeneous, store)?;
    }
    let mut g = GraphParts {
        is_homogeneous: plan.is_homogeneous,
        ..Default::default()
    };
    for (t, m) in id_maps {
        let mut data = node_data.remove(t).unwrap_or_default();
        data.sort_by(|a, b| a.name.cmp(&b.name));
        g.ntypes.push(t.clone());
        g.num_nodes.push(m.len() as u64);
        g.node_data.push(data);
    }
    for (et, mut r) in rels {
        r.data.sort_by(|a, b| a.name.cmp(&b.name));
        g.etypes.push(et);
        g.edges.push(r.edges);
        g.edge_data.push(r.data);
        g.hard_negatives.push(r.hard_negatives);
    }
    Graph::new(g)
}
