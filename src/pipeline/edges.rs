//! The edge-reading stage: an edge block's files are read a few at a time, their endpoint
//! columns mapped to construction IDs and dropped at once; unknown endpoints fail the run or,
//! under `--skip-nonexist-edges`, drop their edges (and the rows of the block's data). The
//! edge lists are the one O(E) buffer that cannot spill, so their floor is admitted against
//! the budget as they grow ([`admit_edges`]). Then each block's features and labels.
//!
//! # Memory
//! The kept (feature and label) columns of one block plus the ID columns of the files in
//! flight; `EDGE_BYTES` per edge read so far.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::blocks::{
    add_data, block_columns, block_data, edge_id_cols, file_group, read_block, Block, ColumnSet,
    Decoded,
};
use super::{merge_stats, ConstructOptions, TypeLabelStats, EDGE_BYTES};
use crate::config::plan::{InputFiles, Plan, Split, Transform};
use crate::config::runtime::{BlockKind, RuntimeConfig};
use crate::error::{Error, Result};
use crate::features::FeatureCtx;
use crate::graph::{CanonicalEtype, EdgeList, NamedTensor};
use crate::idmap::{self, IdMap, RawIds, MISSING};
use crate::progress::Progress;
use crate::readers::{self, FileTable};
use crate::workspace::budget::Budget;
use crate::workspace::spill::Store;

/// A block's edges and, when some were dropped under `--skip-nonexist-edges`, the kept rows.
type MappedEdges = (EdgeList, Option<Vec<usize>>);

/// What to do with edges whose endpoints are not nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unknown {
    /// Fail the run, naming examples (the default).
    Fail,
    /// Drop them with a warning (`--skip-nonexist-edges`).
    Drop,
    /// Drop them silently: a sample cut an endpoint type's files, so the node may exist
    /// beyond the sampled rows (`validate`).
    Unchecked,
}

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
    unknown: Unknown,
    budget: Budget,
    edges_so_far: u64,
    limit: Option<usize>,
    progress: &Progress,
) -> Result<(Vec<FileTable>, Vec<PathBuf>, MappedEdges)> {
    let smap = &id_maps[&et.src];
    let dmap = &id_maps[&et.dst];
    // Row counts are free for Parquet: reserve the lists exactly and check the budget first
    // (not for a sample, which reads a few rows of each file).
    let mut expected = None;
    if limit.is_none() && matches!(input.format, crate::config::plan::FileFormat::Parquet) {
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
    let mut kept_files = Vec::with_capacity(input.files.len());
    let mut n_missing = [0usize; 2];
    let mut examples = Vec::new();
    let group = file_group();
    for files in input.files.chunks(group) {
        let done: Vec<Option<(FileTable, FileEdges)>> = files
            .par_iter()
            .map(|f| {
                let mut t = readers::read_columns_head(f, &input.format, &cols.names, limit)?;
                if t.num_rows == 0 {
                    // GraphStorm skips empty edge files; their column types (Arrow `Null`
                    // for an all-empty pandas/pyarrow block) do not matter.
                    log::warn!("{}: no data rows; the file is skipped", f.display());
                    stage.inc(1);
                    return Ok(None);
                }
                let m = map_file_edges(&t, f, src, dst, smap, dmap)?;
                for (i, keep) in later.iter().enumerate() {
                    if !keep {
                        t.columns[i] =
                            arrow::array::new_null_array(&arrow::datatypes::DataType::Null, 0);
                    }
                }
                stage.inc(1);
                Ok(Some((t, m)))
            })
            .collect::<Result<_>>()?;
        for ((t, m), f) in done
            .into_iter()
            .zip(files)
            .filter_map(|(d, f)| d.map(|d| (d, f)))
        {
            tables.push(t);
            kept_files.push(f.clone());
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
        return Ok((tables, kept_files, (list, None)));
    }
    let examples: Vec<String> = examples
        .iter()
        .map(|(f, r, side, id)| {
            format!("{side} {id} at {}:{} (data row {})", f.display(), r + 2, r)
        })
        .collect();
    if unknown == Unknown::Fail {
        // Name a type without nodes (every node file empty): the likelier cause.
        let mut empty: Vec<String> = [(&et.src, smap), (&et.dst, dmap)]
            .into_iter()
            .filter(|(_, m)| m.is_empty())
            .map(|(t, _)| {
                format!(" Node type '{t}' has no nodes (its node files have no data rows).")
            })
            .collect();
        empty.dedup();
        return Err(Error::Graph(format!(
            "edge type '{}': {} source and {} destination IDs are not nodes of types '{}'/'{}', e.g. {}.{} \
             Add the nodes to the node files, or pass --skip-nonexist-edges to drop these edges",
            et.colon_key(),
            n_missing[0],
            n_missing[1],
            et.src,
            et.dst,
            examples.join("; "),
            empty.concat(),
        )));
    }
    let kept: Vec<usize> = (0..list.len())
        .filter(|&i| list.src[i] != MISSING && list.dst[i] != MISSING)
        .collect();
    let log_level = match unknown {
        Unknown::Unchecked => log::Level::Debug,
        _ => log::Level::Warn,
    };
    log::log!(
        log_level,
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
    Ok((tables, kept_files, (list, Some(kept))))
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

/// What the edge blocks built, per edge type.
pub(super) struct EdgeBlocks {
    pub(super) edges: BTreeMap<CanonicalEtype, EdgeList>,
    /// Data arrays per edge type, in block order.
    pub(super) data: BTreeMap<CanonicalEtype, Vec<NamedTensor>>,
    pub(super) stats: TypeLabelStats,
    /// Names of the hard-negative features.
    pub(super) hard_negatives: BTreeMap<CanonicalEtype, Vec<String>>,
    /// Names of the label masks (zero on the reverse half of a doubled homogeneous graph).
    pub(super) mask_names: BTreeMap<CanonicalEtype, Vec<String>>,
}

/// Columns of an edge block still needed after endpoint mapping (features, labels,
/// custom-split IDs).
fn later_columns(
    e: &crate::config::plan::EdgeBlock,
    cols: &ColumnSet,
    id_idx: &[usize],
) -> Vec<bool> {
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
            for &i in id_idx {
                later[i] = true;
            }
        }
    }
    later
}

/// Phase 3: the edge blocks in config order (features and labels on all rows, then endpoint
/// mapping and filtering). Every edge type ends up with at least one edge (unless a sample
/// cut an endpoint type's files: `partial`).
pub(super) fn edge_blocks(
    plan: &Plan,
    opts: &ConstructOptions,
    id_maps: &BTreeMap<String, IdMap>,
    partial: &BTreeSet<String>,
    store: &Store,
    runtime: &mut RuntimeConfig,
    progress: &Progress,
) -> Result<EdgeBlocks> {
    let mut out = EdgeBlocks {
        edges: BTreeMap::new(),
        data: BTreeMap::new(),
        stats: Vec::new(),
        hard_negatives: BTreeMap::new(),
        mask_names: BTreeMap::new(),
    };
    for e in &plan.edges {
        let et = CanonicalEtype::new(&e.relation[0], &e.relation[1], &e.relation[2]);
        let id_cols = edge_id_cols(e);
        let cols = block_columns(&id_cols, &e.features, &e.labels);
        let id_idx: Vec<usize> = id_cols.iter().map(|c| cols.index(c)).collect();
        let later = later_columns(e, &cols, &id_idx);
        let t0 = Instant::now();
        let unknown = if partial.contains(&et.src) || partial.contains(&et.dst) {
            Unknown::Unchecked
        } else if opts.skip_nonexist_edges {
            Unknown::Drop
        } else {
            Unknown::Fail
        };
        let (tables, files, mapped) = match &e.id_cols {
            Some((src_col, dst_col)) => {
                let (t, f, m) = read_map_edges(
                    &e.input,
                    &cols,
                    &later,
                    (cols.index(src_col), src_col),
                    (cols.index(dst_col), dst_col),
                    id_maps,
                    &et,
                    unknown,
                    store.budget(),
                    out.edges.values().map(|l| l.len() as u64).sum(),
                    opts.sample_rows,
                    progress,
                )?;
                (t, f, Some(m))
            }
            None => {
                let (t, f) = read_block(
                    &e.input,
                    &cols,
                    progress,
                    &format!("read {}", e.relation[1]),
                    opts.sample_rows,
                )?;
                (t, f, None)
            }
        };
        let ctx = FeatureCtx {
            validate: opts.validate_features,
            dst_ids: id_maps
                .get(&e.relation[2])
                .map(|m| m as &dyn idmap::RawIdLookup),
            store: Some(store),
            lm: crate::features::LmOptions {
                device: opts.device,
                dry_run: opts.sample_rows.is_some(),
            },
            progress: None,
        };
        let block = Block {
            kind: BlockKind::Edge,
            index: e.index,
            features: &e.features,
            labels: &e.labels,
        };
        let decoded = Decoded {
            tables,
            files,
            cols,
            id_idx,
        };
        let (mut data, stats) = block_data(&block, &decoded, &ctx, opts.seed, runtime, progress)?;
        drop(decoded);
        for f in &e.features {
            if matches!(f.transform, Transform::HardNegative { .. }) {
                out.hard_negatives
                    .entry(et.clone())
                    .or_default()
                    .push(f.name.clone());
            }
        }
        for l in &e.labels {
            out.mask_names
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
            let entry = out.edges.entry(et.clone()).or_default();
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
        add_data(out.data.entry(et.clone()).or_default(), data);
        merge_stats(&mut out.stats, et.comma_key(), stats);
    }
    debug_assert!(
        out.data.keys().all(|et| out.edges.contains_key(et)),
        "every edge type has an ID block (config::validate)"
    );
    for (et, list) in &out.edges {
        let sampled = partial.contains(&et.src) || partial.contains(&et.dst);
        if list.is_empty() && !sampled {
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
    Ok(out)
}
