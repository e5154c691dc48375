//! Reading blocks: the columns a block needs, decoding its files in parallel, locating a
//! global row in its file, a block's features and labels; then the node blocks (ID maps,
//! data, label statistics) and the ID maps of node types that appear only in edges. Also the
//! decode floor (`decode_inputs`).
//!
//! # Memory
//! The decoded columns of one block at a time (the node-ID column is dropped with the
//! block), plus what the features and labels produce (through the spill store).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use super::{merge_stats, ConstructOptions, LabelStats, TypeLabelStats};
use crate::config::plan::{EdgeBlock, FeatureSpec, InputFiles, LabelSpec, NodeBlock, Plan, Split};
use crate::config::runtime::{BlockKind, RuntimeConfig};
use crate::error::{Error, Result};
use crate::features::{self, FeatureCtx, FileColumns};
use crate::graph::NamedTensor;
use crate::idmap::{self, IdMap, RawIds};
use crate::labels::{self, LabelFile};
use crate::progress::Progress;
use crate::readers::{self, FileTable};
use crate::workspace::spill::Store;

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
pub(super) fn edge_id_cols(e: &EdgeBlock) -> Vec<&str> {
    match &e.id_cols {
        Some((s, d)) => vec![s.as_str(), d.as_str()],
        None => Vec::new(),
    }
}

/// Files decoded at once when a block is read group by group: two per thread.
pub(super) fn file_group() -> usize {
    2 * rayon::current_num_threads().max(1)
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
pub(super) struct ColumnSet {
    pub(super) names: Vec<String>,
}

impl ColumnSet {
    pub(super) fn new() -> Self {
        ColumnSet { names: Vec::new() }
    }
    pub(super) fn add(&mut self, c: &str) -> usize {
        match self.names.iter().position(|n| n == c) {
            Some(i) => i,
            None => {
                self.names.push(c.to_string());
                self.names.len() - 1
            }
        }
    }
    pub(super) fn index(&self, c: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == c)
            .expect("column registered")
    }
}

pub(super) fn block_columns(
    id_cols: &[&str],
    features: &[FeatureSpec],
    labels: &[LabelSpec],
) -> ColumnSet {
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

/// Decodes the block's files in parallel, keeping file order. Files without data rows are
/// left out (GraphStorm's readers return `None` for them and its edge path skips them): a
/// zero-row file carries no data, and its columns' types (Arrow `Null` for an all-empty
/// pandas/pyarrow block, strings for a header-only CSV) say nothing about the other files.
/// Returns the kept tables and their paths. `limit`: at most that many rows per file
/// (`ConstructOptions::sample_rows`).
pub(super) fn read_block(
    input: &InputFiles,
    cols: &ColumnSet,
    progress: &Progress,
    what: &str,
    limit: Option<usize>,
) -> Result<(Vec<FileTable>, Vec<PathBuf>)> {
    let stage = progress.stage(what, Some(input.files.len() as u64), "files");
    let tables: Vec<FileTable> = input
        .files
        .par_iter()
        .map(|f| {
            let t = readers::read_columns_head(f, &input.format, &cols.names, limit);
            stage.inc(1);
            t
        })
        .collect::<Result<_>>()?;
    let rows: usize = tables.iter().map(|t| t.num_rows).sum();
    stage.finish_as(rows as u64, "rows");
    Ok(non_empty(tables, &input.files))
}

/// Whether a sample cut any of `tables` (a file of exactly `limit` rows counts as cut).
pub(super) fn cut(tables: &[FileTable], limit: Option<usize>) -> bool {
    limit.is_some_and(|n| tables.iter().any(|t| t.num_rows >= n))
}

/// The tables with at least one row, with their paths (file order kept).
pub(super) fn non_empty(
    tables: Vec<FileTable>,
    files: &[PathBuf],
) -> (Vec<FileTable>, Vec<PathBuf>) {
    let mut kept = (
        Vec::with_capacity(tables.len()),
        Vec::with_capacity(tables.len()),
    );
    for (t, f) in tables.into_iter().zip(files) {
        if t.num_rows > 0 {
            kept.0.push(t);
            kept.1.push(f.clone());
        } else {
            log::warn!("{}: no data rows; the file is skipped", f.display());
        }
    }
    kept
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

/// One config block as its data phase sees it.
pub(super) struct Block<'a> {
    pub(super) kind: BlockKind,
    /// Position in the config's `nodes` / `edges` list.
    pub(super) index: usize,
    pub(super) features: &'a [FeatureSpec],
    pub(super) labels: &'a [LabelSpec],
}

/// A block's decoded files with the columns they were read with.
pub(super) struct Decoded {
    /// The block's files with data rows (zero-row files are left out).
    pub(super) tables: Vec<FileTable>,
    /// The paths of `tables`.
    pub(super) files: Vec<PathBuf>,
    pub(super) cols: ColumnSet,
    /// Positions in `cols` of the block's ID columns.
    pub(super) id_idx: Vec<usize>,
}

impl Decoded {
    fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.num_rows).sum()
    }
}

/// Computes features and labels of a block over all its rows; returns the arrays and the
/// block's label statistics.
pub(super) fn block_data(
    b: &Block<'_>,
    d: &Decoded,
    ctx: &FeatureCtx<'_>,
    seed: u64,
    runtime: &mut RuntimeConfig,
    progress: &Progress,
) -> Result<(Vec<NamedTensor>, LabelStats)> {
    let mut out = Vec::new();
    let mut stats = LabelStats::new();
    let rows = d.rows();
    for (k, spec) in b.features.iter().enumerate() {
        // bert_hf takes long enough for a bar with a total; the others show a spinner.
        let lm = matches!(
            spec.transform,
            crate::config::plan::Transform::BertHf { .. }
        );
        let stage = progress.stage(
            &format!("feature {}", spec.name),
            lm.then_some(rows as u64),
            "rows",
        );
        let files: Vec<FileColumns<'_>> = d
            .tables
            .iter()
            .zip(&d.files)
            .map(|(t, p)| FileColumns {
                path: p,
                columns: spec
                    .columns
                    .iter()
                    .map(|c| t.column(d.cols.index(c)).clone())
                    .collect(),
            })
            .collect();
        let ctx = FeatureCtx {
            progress: lm.then_some(&stage),
            ..*ctx
        };
        let fo = features::compute_feature(spec, &files, &ctx)?;
        stage.finish(rows as u64);
        runtime.set_feature(b.kind, b.index, k, fo.learned, &fo.feature_dim);
        out.extend(fo.tensors);
    }
    let feature_tensors = out.len();
    let kind_tag = match b.kind {
        BlockKind::Node => 1,
        BlockKind::Edge => 2,
    };
    for (k, spec) in b.labels.iter().enumerate() {
        let files: Vec<LabelFile<'_>> = d
            .tables
            .iter()
            .zip(&d.files)
            .map(|(t, p)| LabelFile {
                path: p,
                rows: t.num_rows,
                label: spec
                    .column
                    .as_ref()
                    .map(|c| t.column(d.cols.index(c)).clone()),
                ids: match spec.split {
                    Split::Custom(_) => d.id_idx.iter().map(|&i| t.column(i).clone()).collect(),
                    Split::Pct(_) => Vec::new(),
                },
            })
            .collect();
        let t = Instant::now();
        let lo = labels::compute_label(spec, &files, derive_seed(seed, kind_tag, b.index, k))?;
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
        // As GraphStorm's per-block dict does: a label column shared by two labels of this
        // block (same task, so the same array) is kept once, and a label named like a
        // feature of the block replaces the feature in its place (both allowed by
        // config::validate).
        for t in lo.tensors {
            match out.iter().position(|x: &NamedTensor| x.name == t.name) {
                None => out.push(t),
                Some(i) if i < feature_tensors => out[i] = t,
                Some(_) => {}
            }
        }
    }
    Ok((out, stats))
}

/// Adds a block's arrays to its type's (names are unique per type: `config::validate`).
pub(super) fn add_data(target: &mut Vec<NamedTensor>, new: Vec<NamedTensor>) {
    for t in new {
        debug_assert!(
            target.iter().all(|x| x.name != t.name),
            "data name '{}' produced twice",
            t.name
        );
        target.push(t);
    }
}

/// What the node blocks built.
pub(super) struct NodeBlocks {
    /// ID map per node type with a node block.
    pub(super) id_maps: BTreeMap<String, IdMap>,
    /// Node types whose ID files a sample (`sample_rows`) cut: their maps are partial.
    pub(super) partial: BTreeSet<String>,
    /// Data arrays per node type, in block order.
    pub(super) data: BTreeMap<String, Vec<NamedTensor>>,
    pub(super) stats: TypeLabelStats,
}

/// Phase 1: the node blocks in config order (IDs, features, labels).
pub(super) fn node_blocks(
    plan: &Plan,
    opts: &ConstructOptions,
    store: &Store,
    runtime: &mut RuntimeConfig,
    progress: &Progress,
) -> Result<NodeBlocks> {
    let mut out = NodeBlocks {
        id_maps: BTreeMap::new(),
        partial: BTreeSet::new(),
        data: BTreeMap::new(),
        stats: Vec::new(),
    };
    let ctx = FeatureCtx {
        validate: opts.validate_features,
        dst_ids: None,
        store: Some(store),
        lm: features::LmOptions {
            device: opts.device,
            dry_run: opts.sample_rows.is_some(),
        },
        progress: None,
    };
    for b in &plan.nodes {
        let id_cols = node_id_cols(b);
        let cols = block_columns(&id_cols, &b.features, &b.labels);
        let (tables, files) = read_block(
            &b.input,
            &cols,
            progress,
            &format!("read {}", b.node_type),
            opts.sample_rows,
        )?;
        if cut(&tables, opts.sample_rows) {
            out.partial.insert(b.node_type.clone());
        }
        let id_idx: Vec<usize> = id_cols.iter().map(|c| cols.index(c)).collect();
        let decoded = Decoded {
            tables,
            files,
            cols,
            id_idx,
        };
        if let Some(col) = &b.id_col {
            let map = node_id_map(b, col, &decoded, opts.remap_node_id, progress)?;
            let earlier = out.id_maps.insert(b.node_type.clone(), map);
            debug_assert!(
                earlier.is_none(),
                "one ID block per type (config::validate)"
            );
        }
        let block = Block {
            kind: BlockKind::Node,
            index: b.index,
            features: &b.features,
            labels: &b.labels,
        };
        let (data, stats) = block_data(&block, &decoded, &ctx, opts.seed, runtime, progress)?;
        add_data(out.data.entry(b.node_type.clone()).or_default(), data);
        merge_stats(&mut out.stats, b.node_type.clone(), stats);
    }
    debug_assert!(
        plan.nodes
            .iter()
            .all(|b| out.id_maps.contains_key(&b.node_type)),
        "every node type has an ID block (config::validate)"
    );
    // Blocks without an ID column are aligned with the ID block by row position.
    for (t, data) in out.data.iter().filter(|(t, _)| !out.partial.contains(*t)) {
        let n = out.id_maps.get(t).map_or(0, IdMap::len);
        if let Some(d) = data.iter().find(|d| d.tensor.rows() != n) {
            let renamed = if plan.is_homogeneous {
                " (the graph is homogeneous: its one node type is named _N)"
            } else {
                ""
            };
            return Err(Error::Graph(format!(
                "node data '{}' of node type '{t}'{renamed} has {} rows but the type has {n} \
                 nodes; blocks without node_id_col must have exactly one row per node, in \
                 ID-block order",
                d.name,
                d.tensor.rows(),
            )));
        }
    }
    Ok(out)
}

/// Checks the node counts that Parquet footers declare (metadata only) before any data is
/// read: a type over the ID limit, or a METIS run over METIS's 32-bit vertex limit, fails at
/// once with the numbers instead of after decoding billions of IDs. Other formats have no
/// footer; their limits are checked when the IDs are read.
pub(super) fn check_declared_node_counts(plan: &Plan, opts: &ConstructOptions) -> Result<()> {
    let mut per_type: BTreeMap<&str, u64> = BTreeMap::new();
    for b in &plan.nodes {
        if b.id_col.is_none() || !matches!(b.input.format, readers::FileFormat::Parquet) {
            continue;
        }
        let mut n = 0u64;
        for f in &b.input.files {
            n = n.saturating_add(readers::parquet_declared_rows(f)?);
        }
        let total = per_type.entry(&b.node_type).or_default();
        *total = total.saturating_add(n);
        if *total > idmap::MAX_NODES_PER_TYPE as u64 {
            return Err(Error::Graph(format!(
                "node type '{}': the Parquet footers of its ID files (nodes[{}].files) declare \
                 {total} rows, more than the {} nodes one type can hold; split the type into \
                 several types",
                b.node_type,
                b.index,
                idmap::MAX_NODES_PER_TYPE
            )));
        }
    }
    let all: u64 = per_type.values().fold(0, |a, &n| a.saturating_add(n));
    if opts.num_parts > 1 && opts.part_method == super::output::PartMethod::Metis {
        let max = i32::MAX as u64;
        if all > max {
            return Err(Error::Graph(format!(
                "the Parquet footers of the node ID files declare {all} nodes, more than METIS's \
                 32-bit indices allow ({max}); use `--part-method random`, or \
                 `--output-format chunked` and a distributed partitioner (ParMETIS), see the \
                 README's \"When one machine is not enough\""
            )));
        }
    }
    Ok(())
}

/// The ID map of a node block's ID column.
fn node_id_map(
    b: &NodeBlock,
    col: &str,
    d: &Decoded,
    remap: bool,
    progress: &Progress,
) -> Result<IdMap> {
    let t = Instant::now();
    let raw = raw_ids_of(&d.tables, &d.files, d.id_idx[0], col)?;
    if raw.len() > idmap::MAX_NODES_PER_TYPE {
        return Err(Error::Graph(format!(
            "node type '{}' has {} nodes; at most {} per type are supported",
            b.node_type,
            raw.len(),
            idmap::MAX_NODES_PER_TYPE
        )));
    }
    let n = raw.len();
    let map = IdMap::from_node_ids(raw, remap).map_err(|dup| {
        let (file, row) = locate(&d.tables, &d.files, dup.row);
        Error::Data {
            file,
            row: row as u64,
            column: col.to_string(),
            msg: format!(
                "duplicate node ID '{}' of node type '{}'; every node ID must appear once",
                dup.id, b.node_type
            ),
        }
    })?;
    progress.record(
        &format!("id map {}", b.node_type),
        n as u64,
        "ids",
        t.elapsed().as_secs_f64(),
    );
    Ok(map)
}

/// Phase 2: ID maps of the node types seen only in edges (sorted unique raw IDs), for the
/// types not in `known`. Types whose edge files `limit` cut are added to `partial`.
pub(super) fn featureless_id_maps(
    plan: &Plan,
    known: &BTreeMap<String, IdMap>,
    opts: &ConstructOptions,
    partial: &mut BTreeSet<String>,
    progress: &Progress,
) -> Result<BTreeMap<String, IdMap>> {
    let featureless: BTreeSet<String> = plan
        .edges
        .iter()
        .flat_map(|e| [e.relation[0].clone(), e.relation[2].clone()])
        .filter(|t| !known.contains_key(t))
        .collect();
    let mut maps = BTreeMap::new();
    if featureless.is_empty() {
        return Ok(maps);
    }
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
        let (tables, files) = read_block(
            &e.input,
            &cs,
            progress,
            &format!("ids {}", e.relation[1]),
            opts.sample_rows,
        )?;
        let sampled = cut(&tables, opts.sample_rows);
        for (ty, c) in &want {
            if sampled {
                partial.insert(ty.clone());
            }
            let raw = raw_ids_of(&tables, &files, cs.index(c), c)?;
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
        maps.insert(ty, map);
    }
    progress.record(
        "featureless id maps",
        n as u64,
        "ids",
        t0.elapsed().as_secs_f64(),
    );
    Ok(maps)
}
