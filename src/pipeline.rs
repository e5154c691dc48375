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
//! # Memory
//! The decoded columns of one block at a time, plus the constructed graph (edge lists as
//! `u32` pairs and every node/edge data array).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::config::plan::{EdgeBlock, FeatureSpec, InputFiles, LabelSpec, NodeBlock, Plan, Split};
use crate::config::runtime::{BlockKind, RuntimeConfig};
use crate::error::{Error, Result};
use crate::features::{self, FeatureCtx, FileColumns};
use crate::graph::{CanonicalEtype, EdgeList, Graph, NamedTensor};
use crate::idmap::{self, IdMap, RawIds, MISSING};
use crate::labels::{self, LabelFile};
use crate::partition::Assignment;
use crate::progress::Progress;
use crate::readers::{self, FileTable};
use crate::tensor::Tensor;
use crate::workspace::budget::Budget;
use crate::workspace::spill::Store;
use crate::workspace::Staging;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Dgl,
    DistDgl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartMethod {
    Metis,
    Random,
}

impl PartMethod {
    pub fn name(self) -> &'static str {
        match self {
            PartMethod::Metis => "metis",
            PartMethod::Random => "random",
        }
    }
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
    write_outputs(plan, opts, progress, &built, staging.path())?;
    staging.commit()?;
    let g = &built.graph;
    Ok(Summary {
        output_dir: opts.output_dir.clone(),
        node_types: g.ntypes.len(),
        nodes: g.total_nodes(),
        edge_types: g.etypes.len(),
        edges: g.total_edges(),
        num_parts: opts.num_parts,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The decode floor: reads every input file of `plan` (the columns the config uses, with the
/// same readers and parallelism as `construct`) and discards them. Returns (files, rows).
pub fn decode_inputs(plan: &Plan, progress: &Progress) -> Result<(u64, u64)> {
    let (mut files, mut rows) = (0u64, 0u64);
    let mut blocks: Vec<(String, ColumnSet, &InputFiles)> = Vec::new();
    for b in &plan.nodes {
        blocks.push((
            b.node_type.clone(),
            block_columns(&node_id_cols(b), &b.features, &b.labels),
            &b.input,
        ));
    }
    for e in &plan.edges {
        blocks.push((
            e.relation[1].clone(),
            block_columns(&edge_id_cols(e), &e.features, &e.labels),
            &e.input,
        ));
    }
    for (name, cols, input) in blocks {
        // Files in flight as in construct's edge reading.
        let group = file_group();
        let stage = progress.stage(
            &format!("decode {name}"),
            Some(input.files.len() as u64),
            "files",
        );
        let mut n = 0u64;
        for chunk in input.files.chunks(group) {
            let r: Vec<usize> = chunk
                .par_iter()
                .map(|f| {
                    let t = readers::read_columns(f, &input.format, &cols.names)?;
                    stage.inc(1);
                    Ok(t.num_rows)
                })
                .collect::<Result<_>>()?;
            n += r.iter().sum::<usize>() as u64;
        }
        stage.finish_as(n, "rows");
        files += input.files.len() as u64;
        rows += n;
    }
    Ok((files, rows))
}

/// The ID column of a node block (none for data-only blocks).
fn node_id_cols(b: &NodeBlock) -> Vec<&str> {
    b.id_col.iter().map(|s| s.as_str()).collect()
}

/// The source and destination ID columns of an edge block (none for data-only blocks).
fn edge_id_cols(e: &EdgeBlock) -> Vec<&str> {
    match &e.id_cols {
        Some((s, d)) => vec![s.as_str(), d.as_str()],
        None => Vec::new(),
    }
}

/// Files decoded at once when a block is read group by group: two per thread.
fn file_group() -> usize {
    2 * rayon::current_num_threads().max(1)
}

/// Label statistics per type key (config order): label name → label value → train count.
pub type TypeLabelStats = Vec<(String, BTreeMap<String, BTreeMap<i64, u64>>)>;

/// The graph plus everything the side outputs need.
pub struct Built {
    pub graph: Graph,
    /// ID map per node type name.
    pub id_maps: BTreeMap<String, IdMap>,
    /// Runtime config (input config + learned state).
    pub runtime_config: Value,
    /// Label statistics: type key → label name → value → count, types in config order.
    pub node_label_stats: TypeLabelStats,
    pub edge_label_stats: TypeLabelStats,
}

/// Per-block seed for splits: independent of thread count and of other blocks.
fn derive_seed(seed: u64, kind: u64, block: usize, label: usize) -> u64 {
    let mut z =
        seed ^ kind.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((block as u64) << 32) ^ label as u64;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Columns a block reads, deduplicated, in a fixed order.
struct ColumnSet {
    names: Vec<String>,
}

impl ColumnSet {
    fn new() -> Self {
        ColumnSet { names: Vec::new() }
    }
    fn add(&mut self, c: &str) -> usize {
        match self.names.iter().position(|n| n == c) {
            Some(i) => i,
            None => {
                self.names.push(c.to_string());
                self.names.len() - 1
            }
        }
    }
    fn index(&self, c: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == c)
            .expect("column registered")
    }
}

fn block_columns(id_cols: &[&str], features: &[FeatureSpec], labels: &[LabelSpec]) -> ColumnSet {
    let mut cs = ColumnSet::new();
    for c in id_cols {
        cs.add(c);
    }
    for f in features {
        for c in &f.columns {
            cs.add(c);
        }
    }
    for l in labels {
        if let Some(c) = &l.column {
            cs.add(c);
        }
    }
    cs
}

/// Decodes the block's files in parallel, keeping file order.
fn read_block(
    input: &InputFiles,
    cols: &ColumnSet,
    progress: &Progress,
    what: &str,
) -> Result<Vec<FileTable>> {
    let stage = progress.stage(what, Some(input.files.len() as u64), "files");
    let tables: Vec<FileTable> = input
        .files
        .par_iter()
        .map(|f| {
            let t = readers::read_columns(f, &input.format, &cols.names);
            stage.inc(1);
            t
        })
        .collect::<Result<_>>()?;
    let rows: usize = tables.iter().map(|t| t.num_rows).sum();
    stage.finish_as(rows as u64, "rows");
    Ok(tables)
}

/// Global row → (file, row in file).
fn locate(tables: &[FileTable], files: &[PathBuf], mut row: usize) -> (PathBuf, usize) {
    for (t, f) in tables.iter().zip(files) {
        if row < t.num_rows {
            return (f.clone(), row);
        }
        row -= t.num_rows;
    }
    (files.last().cloned().unwrap_or_default(), row)
}

fn raw_ids_of(tables: &[FileTable], files: &[PathBuf], col: usize, name: &str) -> Result<RawIds> {
    let parts = tables
        .par_iter()
        .zip(files.par_iter())
        .map(|(t, f)| idmap::raw_ids_from_array(t.column(col), f, name))
        .collect::<Result<Vec<_>>>()?;
    Ok(idmap::concat_raw_ids(parts))
}

/// Computes features and labels of a block over all its rows.
#[allow(clippy::too_many_arguments)]
fn block_data(
    kind: BlockKind,
    block_index: usize,
    features_spec: &[FeatureSpec],
    labels_spec: &[LabelSpec],
    id_cols: &[usize],
    tables: &[FileTable],
    input: &InputFiles,
    cols: &ColumnSet,
    ctx: &FeatureCtx<'_>,
    seed: u64,
    runtime: &mut RuntimeConfig,
    stats: &mut BTreeMap<String, BTreeMap<i64, u64>>,
    progress: &Progress,
) -> Result<Vec<NamedTensor>> {
    let mut out = Vec::new();
    let rows: usize = tables.iter().map(|t| t.num_rows).sum();
    for (k, spec) in features_spec.iter().enumerate() {
        let stage = progress.stage(&format!("feature {}", spec.name), None, "rows");
        let files: Vec<FileColumns<'_>> = tables
            .iter()
            .zip(&input.files)
            .map(|(t, p)| FileColumns {
                path: p,
                columns: spec
                    .columns
                    .iter()
                    .map(|c| t.column(cols.index(c)).clone())
                    .collect(),
            })
            .collect();
        let fo = features::compute_feature(spec, &files, ctx)?;
        stage.finish(rows as u64);
        runtime.set_feature(kind, block_index, k, fo.learned, &fo.feature_dim);
        out.extend(fo.tensors);
    }
    let kind_tag = match kind {
        BlockKind::Node => 1,
        BlockKind::Edge => 2,
    };
    for (k, spec) in labels_spec.iter().enumerate() {
        let files: Vec<LabelFile<'_>> = tables
            .iter()
            .zip(&input.files)
            .map(|(t, p)| LabelFile {
                path: p,
                rows: t.num_rows,
                label: spec
                    .column
                    .as_ref()
                    .map(|c| t.column(cols.index(c)).clone()),
                ids: match spec.split {
                    Split::Custom(_) => id_cols.iter().map(|&i| t.column(i).clone()).collect(),
                    Split::Pct(_) => Vec::new(),
                },
            })
            .collect();
        let t = Instant::now();
        let lo = labels::compute_label(spec, &files, derive_seed(seed, kind_tag, block_index, k))?;
        let what = spec.column.as_deref().unwrap_or("link prediction");
        progress.record(
            &format!("label {what}"),
            rows as u64,
            "rows",
            t.elapsed().as_secs_f64(),
        );
        if let (Some(s), Some(name)) = (lo.stats, &spec.column) {
            stats.insert(name.clone(), s);
        }
        // A label column shared by two labels of this block (allowed by config::validate:
        // same task, so the same array) is kept once, as GraphStorm's per-block dict does.
        for t in lo.tensors {
            if !out.iter().any(|x: &NamedTensor| x.name == t.name) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// Adds a block's arrays to its type's (names are unique per type: `config::validate`).
fn add_data(target: &mut Vec<NamedTensor>, new: Vec<NamedTensor>) {
    for t in new {
        debug_assert!(
            target.iter().all(|x| x.name != t.name),
            "data name '{}' produced twice",
            t.name
        );
        target.push(t);
    }
}

/// Builds the in-memory graph from the plan.
pub fn build_graph(
    plan: &Plan,
    opts: &ConstructOptions,
    progress: &Progress,
    store: &Store,
) -> Result<Built> {
    let mut runtime = RuntimeConfig::new(plan);
    let mut id_maps: BTreeMap<String, IdMap> = BTreeMap::new();
    let mut node_data: BTreeMap<String, Vec<NamedTensor>> = BTreeMap::new();
    let mut node_stats: TypeLabelStats = Vec::new();
    let mut node_block_types: BTreeSet<String> = BTreeSet::new();
    let empty = FeatureCtx {
        validate: opts.validate_features,
        dst_ids: None,
        store: Some(store),
    };

    // 1. Node blocks.
    for b in &plan.nodes {
        node_block_types.insert(b.node_type.clone());
        let id_cols = node_id_cols(b);
        let cols = block_columns(&id_cols, &b.features, &b.labels);
        let tables = read_block(&b.input, &cols, progress, &format!("read {}", b.node_type))?;
        let id_idx: Vec<usize> = id_cols.iter().map(|c| cols.index(c)).collect();
        if let Some(col) = &b.id_col {
            let t = Instant::now();
            let raw = raw_ids_of(&tables, &b.input.files, id_idx[0], col)?;
            if raw.len() > idmap::MAX_NODES_PER_TYPE {
                return Err(Error::Graph(format!(
                    "node type '{}' has {} nodes; at most {} per type are supported",
                    b.node_type,
                    raw.len(),
                    idmap::MAX_NODES_PER_TYPE
                )));
            }
            let n = raw.len();
            let map = IdMap::from_node_ids(raw, opts.remap_node_id).map_err(|d| {
                let (file, row) = locate(&tables, &b.input.files, d.row);
                Error::Data {
                    file,
                    row: row as u64,
                    column: col.clone(),
                    msg: format!(
                        "duplicate node ID '{}' of node type '{}'; every node ID must appear once",
                        d.id, b.node_type
                    ),
                }
            })?;
            let earlier = id_maps.insert(b.node_type.clone(), map);
            debug_assert!(
                earlier.is_none(),
                "one ID block per type (config::validate)"
            );
            progress.record(
                &format!("id map {}", b.node_type),
                n as u64,
                "ids",
                t.elapsed().as_secs_f64(),
            );
        }
        let mut stats = BTreeMap::new();
        let data = block_data(
            BlockKind::Node,
            b.index,
            &b.features,
            &b.labels,
            &id_idx,
            &tables,
            &b.input,
            &cols,
            &empty,
            opts.seed,
            &mut runtime,
            &mut stats,
            progress,
        )?;
        add_data(node_data.entry(b.node_type.clone()).or_default(), data);
        match node_stats.iter_mut().find(|(t, _)| *t == b.node_type) {
            Some((_, s)) => s.extend(stats),
            None => node_stats.push((b.node_type.clone(), stats)),
        }
    }
    debug_assert!(
        node_block_types.iter().all(|t| id_maps.contains_key(t)),
        "every node type has an ID block (config::validate)"
    );

    // 2. Node types seen only in edges: sorted unique raw IDs.
    let featureless: BTreeSet<String> = plan
        .edges
        .iter()
        .flat_map(|e| [e.relation[0].clone(), e.relation[2].clone()])
        .filter(|t| !node_block_types.contains(t))
        .collect();
    if !featureless.is_empty() {
        let t0 = Instant::now();
        let mut collected: BTreeMap<String, Vec<RawIds>> = BTreeMap::new();
        for e in &plan.edges {
            let Some((src_col, dst_col)) = &e.id_cols else {
                continue;
            };
            let mut want = Vec::new();
            if featureless.contains(&e.relation[0]) {
                want.push((e.relation[0].clone(), src_col.clone()));
            }
            if featureless.contains(&e.relation[2]) {
                want.push((e.relation[2].clone(), dst_col.clone()));
            }
            if want.is_empty() {
                continue;
            }
            let mut cs = ColumnSet::new();
            for (_, c) in &want {
                cs.add(c);
            }
            let tables = read_block(&e.input, &cs, progress, &format!("ids {}", e.relation[1]))?;
            for (ty, c) in &want {
                let raw = raw_ids_of(&tables, &e.input.files, cs.index(c), c)?;
                collected.entry(ty.clone()).or_default().push(raw);
            }
        }
        let mut n = 0;
        for (ty, parts) in collected {
            let map = IdMap::from_edge_ids(idmap::concat_raw_ids(parts), opts.remap_node_id);
            n += map.len();
            log::info!(
                "node type '{ty}' has no node block: {} nodes from its edges",
                map.len()
            );
            id_maps.insert(ty, map);
        }
        progress.record(
            "featureless id maps",
            n as u64,
            "ids",
            t0.elapsed().as_secs_f64(),
        );
    }

    // 3. Edge blocks.
    let mut edges: BTreeMap<CanonicalEtype, EdgeList> = BTreeMap::new();
    let mut edge_data: BTreeMap<CanonicalEtype, Vec<NamedTensor>> = BTreeMap::new();
    let mut edge_stats: TypeLabelStats = Vec::new();
    let mut hard_negs: BTreeMap<CanonicalEtype, Vec<String>> = BTreeMap::new();
    let mut edge_mask_names: BTreeMap<CanonicalEtype, Vec<String>> = BTreeMap::new();
    for e in &plan.edges {
        let et = CanonicalEtype::new(&e.relation[0], &e.relation[1], &e.relation[2]);
        let id_cols = edge_id_cols(e);
        let cols = block_columns(&id_cols, &e.features, &e.labels);
        let id_idx: Vec<usize> = id_cols.iter().map(|c| cols.index(c)).collect();
        // Columns still needed after endpoint mapping (features, labels, custom-split IDs).
        let mut later = vec![false; cols.names.len()];
        for f in &e.features {
            for c in &f.columns {
                later[cols.index(c)] = true;
            }
        }
        for l in &e.labels {
            if let Some(c) = &l.column {
                later[cols.index(c)] = true;
            }
            if matches!(l.split, Split::Custom(_)) {
                for &i in &id_idx {
                    later[i] = true;
                }
            }
        }
        let t0 = Instant::now();
        let (tables, mapped) = match &e.id_cols {
            Some((src_col, dst_col)) => {
                let (t, m) = read_map_edges(
                    &e.input,
                    &cols,
                    &later,
                    (cols.index(src_col), src_col),
                    (cols.index(dst_col), dst_col),
                    &id_maps,
                    &et,
                    opts.skip_nonexist_edges,
                    store.budget(),
                    edges.values().map(|l| l.len() as u64).sum(),
                    progress,
                )?;
                (t, Some(m))
            }
            None => (
                read_block(
                    &e.input,
                    &cols,
                    progress,
                    &format!("read {}", e.relation[1]),
                )?,
                None,
            ),
        };
        let ctx = FeatureCtx {
            validate: opts.validate_features,
            dst_ids: id_maps
                .get(&e.relation[2])
                .map(|m| m as &dyn idmap::RawIdLookup),
            store: Some(store),
        };
        let mut stats = BTreeMap::new();
        let mut data = block_data(
            BlockKind::Edge,
            e.index,
            &e.features,
            &e.labels,
            &id_idx,
            &tables,
            &e.input,
            &cols,
            &ctx,
            opts.seed,
            &mut runtime,
            &mut stats,
            progress,
        )?;
        for f in &e.features {
            if matches!(
                f.transform,
                crate::config::plan::Transform::HardNegative { .. }
            ) {
                hard_negs
                    .entry(et.clone())
                    .or_default()
                    .push(f.name.clone());
            }
        }
        for l in &e.labels {
            edge_mask_names
                .entry(et.clone())
                .or_default()
                .extend(l.mask_names.iter().cloned());
        }
        if let Some((list, kept)) = mapped {
            if let Some(kept) = kept {
                data = data
                    .into_iter()
                    .map(|t| NamedTensor {
                        name: t.name,
                        tensor: t.tensor.gather_rows(&kept),
                    })
                    .collect();
            }
            let n = list.len() as u64;
            let entry = edges.entry(et.clone()).or_default();
            if entry.is_empty() {
                *entry = list;
            } else {
                entry.src.extend_from_slice(&list.src);
                entry.dst.extend_from_slice(&list.dst);
            }
            log::debug!(
                "edge block '{}': {n} edges read, mapped and processed in {:.2} s",
                et.colon_key(),
                t0.elapsed().as_secs_f64()
            );
        }
        add_data(edge_data.entry(et.clone()).or_default(), data);
        let key = et.comma_key();
        match edge_stats.iter_mut().find(|(t, _)| *t == key) {
            Some((_, s)) => s.extend(stats),
            None => edge_stats.push((key, stats)),
        }
    }

    // 4. Assemble, check row counts.
    let mut g = Graph {
        is_homogeneous: plan.is_homogeneous,
        ..Default::default()
    };
    for (t, m) in &id_maps {
        g.ntypes.push(t.clone());
        g.num_nodes.push(m.len() as u64);
        let mut data = node_data.remove(t).unwrap_or_default();
        for d in &data {
            if d.tensor.rows() != m.len() {
                return Err(Error::Graph(format!(
                    "node data '{}' of node type '{t}' has {} rows but the type has {} nodes; \
                     blocks without node_id_col must have exactly one row per node, in ID-block order",
                    d.name,
                    d.tensor.rows(),
                    m.len()
                )));
            }
        }
        data.sort_by(|a, b| a.name.cmp(&b.name));
        g.node_data.push(data);
    }
    let mut all_etypes: BTreeSet<CanonicalEtype> = edges.keys().cloned().collect();
    debug_assert!(
        edge_data.keys().all(|et| edges.contains_key(et)),
        "every edge type has an ID block (config::validate)"
    );
    for (et, list) in &edges {
        if list.is_empty() {
            return Err(Error::Graph(format!(
                "edge type '{}' has no edges{}; remove it from the config or fix its input",
                et.colon_key(),
                if opts.skip_nonexist_edges {
                    " left after dropping unknown endpoints"
                } else {
                    ""
                }
            )));
        }
    }
    if opts.add_reverse_edges && !g.is_homogeneous {
        for et in edges.keys() {
            all_etypes.insert(CanonicalEtype::new(
                &et.dst,
                &format!("{}-rev", et.rel),
                &et.src,
            ));
        }
    }
    let forward_edges: u64 = edges.values().map(|l| l.len() as u64).sum();
    if opts.add_reverse_edges {
        store.budget().admit(
            2 * forward_edges * EDGE_BYTES,
            &format!(
                "--add-reverse-edges: {} edges after adding reverse edges ({EDGE_BYTES} B each)",
                2 * forward_edges
            ),
        )?;
    }
    // Reverse types: swapped endpoints of the forward relation, no data.
    let mut reverse: BTreeMap<CanonicalEtype, EdgeList> = BTreeMap::new();
    for et in &all_etypes {
        if !edges.contains_key(et) {
            let fwd = CanonicalEtype::new(&et.dst, et.rel.trim_end_matches("-rev"), &et.src);
            let l = &edges[&fwd];
            reverse.insert(
                et.clone(),
                EdgeList {
                    src: l.dst.clone(),
                    dst: l.src.clone(),
                },
            );
        }
    }
    for et in &all_etypes {
        let (list, data) = match edges.remove(et) {
            Some(l) => (l, edge_data.remove(et).unwrap_or_default()),
            None => (reverse.remove(et).unwrap_or_default(), Vec::new()),
        };
        let (list, mut data) = if opts.add_reverse_edges && g.is_homogeneous {
            let masks = edge_mask_names.get(et).cloned().unwrap_or_default();
            double_homogeneous(list, data, &masks)
        } else {
            (list, data)
        };
        for d in &data {
            if d.tensor.rows() != list.len() {
                return Err(Error::Graph(format!(
                    "edge data '{}' of edge type '{}' has {} rows but the type has {} edges",
                    d.name,
                    et.colon_key(),
                    d.tensor.rows(),
                    list.len()
                )));
            }
        }
        data.sort_by(|a, b| a.name.cmp(&b.name));
        g.hard_negatives
            .push(hard_negs.get(et).cloned().unwrap_or_default());
        g.etypes.push(et.clone());
        g.edges.push(list);
        g.edge_data.push(data);
    }
    runtime.set_add_reverse_edges(opts.add_reverse_edges);
    log::info!(
        "graph: {} nodes of {} types, {} edges of {} types",
        g.total_nodes(),
        g.ntypes.len(),
        g.total_edges(),
        g.etypes.len()
    );
    Ok(Built {
        graph: g,
        id_maps,
        runtime_config: runtime.into_json(),
        node_label_stats: node_stats,
        edge_label_stats: edge_stats,
    })
}

/// Homogeneous `--add-reverse-edges`: edges doubled, data duplicated, masks zero on the reverse half.
fn double_homogeneous(
    list: EdgeList,
    data: Vec<NamedTensor>,
    masks: &[String],
) -> (EdgeList, Vec<NamedTensor>) {
    let mut src = list.src.clone();
    src.extend_from_slice(&list.dst);
    let mut dst = list.dst;
    dst.extend_from_slice(&list.src);
    let data = data
        .into_iter()
        .map(|t| {
            let mut bytes = t.tensor.bytes().to_vec();
            if masks.contains(&t.name) {
                bytes.extend(std::iter::repeat_n(0u8, t.tensor.bytes().len()));
            } else {
                bytes.extend_from_slice(t.tensor.bytes());
            }
            let mut shape = t.tensor.shape.clone();
            shape[0] *= 2;
            NamedTensor {
                name: t.name,
                tensor: Tensor {
                    dtype: t.tensor.dtype,
                    shape,
                    data: crate::tensor::Bytes::Owned(bytes),
                },
            }
        })
        .collect();
    (EdgeList { src, dst }, data)
}

/// A block's edges and, when some were dropped under `--skip-nonexist-edges`, the kept rows.
type MappedEdges = (EdgeList, Option<Vec<usize>>);

/// One file's mapped endpoints and what was missing.
struct FileEdges {
    src: Vec<u32>,
    dst: Vec<u32>,
    n_missing: [usize; 2],
    /// Up to 5 examples: (file, row, side, raw ID text).
    examples: Vec<(PathBuf, usize, &'static str, String)>,
}

fn map_file_edges(
    t: &FileTable,
    f: &Path,
    (src_i, src_col): (usize, &str),
    (dst_i, dst_col): (usize, &str),
    smap: &IdMap,
    dmap: &IdMap,
) -> Result<FileEdges> {
    let src = smap.lookup_array(t.column(src_i), f, src_col)?;
    let dst = dmap.lookup_array(t.column(dst_i), f, dst_col)?;
    let mut n_missing = [0usize; 2];
    let mut examples = Vec::new();
    for (side, (m, col)) in [(&src, src_i), (&dst, dst_i)].into_iter().enumerate() {
        for (row, _) in m.iter().enumerate().filter(|(_, &v)| v == MISSING) {
            n_missing[side] += 1;
            if examples.len() < 5 {
                let text = match idmap::raw_ids_from_array(&t.column(col).slice(row, 1), f, "")? {
                    RawIds::Int(v) => v[0].to_string(),
                    RawIds::Str(a) => format!("'{}'", a.get(0)),
                };
                examples.push((
                    f.to_path_buf(),
                    row,
                    if side == 0 { "source" } else { "destination" },
                    text,
                ));
            }
        }
    }
    Ok(FileEdges {
        src,
        dst,
        n_missing,
        examples,
    })
}

/// Reads an edge block and maps its endpoints file by file, a few files at a time: each
/// file's ID columns are dropped as soon as they are mapped, so the decoded IDs of the whole
/// block are never resident together (only the columns in `later` are kept, for features and
/// labels). Returns the kept tables, the edges and, if some were dropped under
/// `--skip-nonexist-edges`, the kept row indices.
#[allow(clippy::too_many_arguments)]
fn read_map_edges(
    input: &InputFiles,
    cols: &ColumnSet,
    later: &[bool],
    src: (usize, &str),
    dst: (usize, &str),
    id_maps: &BTreeMap<String, IdMap>,
    et: &CanonicalEtype,
    skip: bool,
    budget: Budget,
    edges_so_far: u64,
    progress: &Progress,
) -> Result<(Vec<FileTable>, MappedEdges)> {
    let smap = &id_maps[&et.src];
    let dmap = &id_maps[&et.dst];
    // Row counts are free for Parquet: reserve the lists exactly and check the budget first.
    let mut expected = None;
    if matches!(input.format, crate::config::plan::FileFormat::Parquet) {
        let n: usize = input
            .files
            .par_iter()
            .map(|f| readers::count_rows(f, &input.format, src.1))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .sum();
        admit_edges(budget, edges_so_far + n as u64, et)?;
        expected = Some(n);
    }
    let stage = progress.stage(
        &format!("read {}", et.rel),
        Some(input.files.len() as u64),
        "files",
    );
    let mut list = EdgeList {
        src: Vec::with_capacity(expected.unwrap_or(0)),
        dst: Vec::with_capacity(expected.unwrap_or(0)),
    };
    let mut tables = Vec::with_capacity(input.files.len());
    let mut n_missing = [0usize; 2];
    let mut examples = Vec::new();
    let group = file_group();
    for files in input.files.chunks(group) {
        let done: Vec<(FileTable, FileEdges)> = files
            .par_iter()
            .map(|f| {
                let mut t = readers::read_columns(f, &input.format, &cols.names)?;
                let m = map_file_edges(&t, f, src, dst, smap, dmap)?;
                for (i, keep) in later.iter().enumerate() {
                    if !keep {
                        t.columns[i] =
                            arrow::array::new_null_array(&arrow::datatypes::DataType::Null, 0);
                    }
                }
                stage.inc(1);
                Ok((t, m))
            })
            .collect::<Result<_>>()?;
        for (t, m) in done {
            tables.push(t);
            list.src.extend_from_slice(&m.src);
            list.dst.extend_from_slice(&m.dst);
            n_missing[0] += m.n_missing[0];
            n_missing[1] += m.n_missing[1];
            examples.extend(m.examples);
        }
        if expected.is_none() {
            admit_edges(budget, edges_so_far + list.len() as u64, et)?;
        }
    }
    stage.finish_as(list.len() as u64, "rows");
    examples.truncate(5);
    if n_missing == [0, 0] {
        return Ok((tables, (list, None)));
    }
    let examples: Vec<String> = examples
        .iter()
        .map(|(f, r, side, id)| {
            format!("{side} {id} at {}:{} (data row {})", f.display(), r + 2, r)
        })
        .collect();
    if !skip {
        return Err(Error::Graph(format!(
            "edge type '{}': {} source and {} destination IDs are not nodes of types '{}'/'{}', e.g. {}. \
             Add the nodes to the node files, or pass --skip-nonexist-edges to drop these edges",
            et.colon_key(),
            n_missing[0],
            n_missing[1],
            et.src,
            et.dst,
            examples.join("; ")
        )));
    }
    let kept: Vec<usize> = (0..list.len())
        .filter(|&i| list.src[i] != MISSING && list.dst[i] != MISSING)
        .collect();
    log::warn!(
        "edge type '{}': dropped {} of {} edges with unknown endpoints (e.g. {})",
        et.colon_key(),
        list.len() - kept.len(),
        list.len(),
        examples.join("; ")
    );
    // Compact in place.
    for (k, &i) in kept.iter().enumerate() {
        list.src[k] = list.src[i];
        list.dst[k] = list.dst[i];
    }
    list.src.truncate(kept.len());
    list.dst.truncate(kept.len());
    list.src.shrink_to_fit();
    list.dst.shrink_to_fit();
    Ok((tables, (list, Some(kept))))
}

/// Budget floor of the edge lists: 8 B per edge (u32 endpoints), twice with reverse edges is
/// checked at assembly; plus 4 B per edge for the writers' ordering.
fn admit_edges(budget: Budget, edges: u64, et: &CanonicalEtype) -> Result<()> {
    budget.admit(
        edges * EDGE_BYTES,
        &format!(
            "reading edge type '{}': {edges} edges so far ({EDGE_BYTES} B each for endpoints and partition order)",
            et.colon_key()
        ),
    )
}

/// Resident bytes per edge that cannot spill: `u32` source and destination plus the `u32`
/// partition order the writers build.
pub const EDGE_BYTES: u64 = 12;

fn write_json(path: &Path, v: &Value) -> Result<()> {
    crate::format::partition_json::save_python_json(path, v)
}

fn stats_json(stats: &TypeLabelStats) -> Value {
    let mut top = serde_json::Map::new();
    for (ty, labels) in stats {
        let mut m = serde_json::Map::new();
        for (label, counts) in labels {
            let info: serde_json::Map<String, Value> = counts
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            m.insert(
                label.clone(),
                json!({"stats_type": "frequency_cnt", "info": info}),
            );
        }
        top.insert(ty.clone(), Value::Object(m));
    }
    Value::Object(top)
}

/// Writes `raw_id_mappings/<ntype>/part-NNNNN.parquet` (`orig`, `new`) for every non-identity map.
fn write_raw_id_mappings(dir: &Path, id_maps: &BTreeMap<String, IdMap>) -> Result<()> {
    id_maps
        .par_iter()
        .filter(|(_, m)| m.has_mapping())
        .try_for_each(|(t, m)| {
            let orig = m.orig_column().expect("non-identity map");
            crate::format::raw_id_map::save_raw_id_map(&dir.join("raw_id_mappings").join(t), &orig)
        })
}

/// Partitions (DistDGL) and writes every output file into `dir` (the staging folder).
pub fn write_outputs(
    plan: &Plan,
    opts: &ConstructOptions,
    progress: &Progress,
    built: &Built,
    dir: &Path,
) -> Result<()> {
    let g = &built.graph;
    // Runtime config first, like GraphStorm.
    let conf_path = opts
        .output_conf_file
        .clone()
        .unwrap_or_else(|| dir.join("data_transform_new.json"));
    write_json(&conf_path, &built.runtime_config)?;

    if opts.formats.contains(&OutputFormat::DistDgl) {
        let (asg, metis_report) = partition_graph(g, opts, progress)?;
        let t = Instant::now();
        let layout = crate::writers::distdgl::write_distdgl(
            dir,
            g,
            &asg,
            &crate::writers::distdgl::DistDglOptions::new(
                opts.graph_name.clone(),
                opts.part_method.name(),
            ),
        )?;
        let _ = layout;
        progress.record(
            "write partitions",
            g.total_edges(),
            "edges",
            t.elapsed().as_secs_f64(),
        );
        if opts.num_parts > 1 {
            let stats = crate::partition::stats::partition_stats(g, &asg);
            let path = dir.join("partition_stats.json");
            let mut v = serde_json::to_value(&stats).map_err(|e| Error::Other(e.to_string()))?;
            v["part_method"] = json!(opts.part_method.name());
            if let Some(r) = &metis_report {
                v["metis"] = serde_json::to_value(r).map_err(|e| Error::Other(e.to_string()))?;
            }
            write_json(&path, &v)?;
            log::info!(
                "partition quality:\n{}",
                crate::partition::stats::render_table(&stats)
            );
        }
    }
    if opts.formats.contains(&OutputFormat::Dgl) {
        let t = Instant::now();
        crate::writers::dgl::write_dgl_graph(&dir.join(format!("{}.dgl", opts.graph_name)), g)?;
        progress.record(
            "write DGL graph",
            g.total_edges(),
            "edges",
            t.elapsed().as_secs_f64(),
        );
    }
    let t = Instant::now();
    if !plan.nodes.is_empty() {
        write_json(
            &dir.join("node_label_stats.json"),
            &stats_json(&built.node_label_stats),
        )?;
    }
    if !plan.edges.is_empty() {
        write_json(
            &dir.join("edge_label_stats.json"),
            &stats_json(&built.edge_label_stats),
        )?;
    }
    write_raw_id_mappings(dir, &built.id_maps)?;
    progress.record(
        "write id mappings",
        g.total_nodes(),
        "nodes",
        t.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Node → partition assignment for `--num-parts`.
pub fn partition_graph(
    g: &Graph,
    opts: &ConstructOptions,
    progress: &Progress,
) -> Result<(Assignment, Option<crate::partition::MetisReport>)> {
    if opts.num_parts == 1 {
        return Ok((Assignment::single(&g.num_nodes), None));
    }
    let t = Instant::now();
    let (asg, report) = match opts.part_method {
        PartMethod::Random => (
            crate::partition::random::random_partition(g, opts.num_parts, opts.seed),
            None,
        ),
        PartMethod::Metis => {
            let (asg, report) =
                crate::partition::metis::metis_partition(g, opts.num_parts, opts.seed)?;
            progress.record(
                "  symmetric CSR",
                report.num_undirected_edges,
                "edges",
                report.csr_seconds,
            );
            progress.record(
                "  METIS k-way",
                report.num_vertices,
                "nodes",
                report.metis_seconds,
            );
            (asg, Some(report))
        }
    };
    progress.record(
        &format!("partition ({})", opts.part_method.name()),
        g.total_nodes(),
        "nodes",
        t.elapsed().as_secs_f64(),
    );
    Ok((asg, report))
}
