//! `graphprep validate`: the dry run of `construct` and its report.
//!
//! The plan is the one `construct` resolves (`config::load_plan`); [`validate`] then runs the
//! pipeline's graph building over the first `sample_rows` rows of every input file
//! ([`crate::pipeline::dry_run`]: the real readers, ID maps, transforms and label splits, so a
//! bad file fails with construct's message), counts the rows of the full input without
//! decoding it ([`readers::estimate_rows`]: exact for Parquet and HDF5, estimated from bytes
//! for CSV and JSON lines) and scales the sample up: node/edge counts, every output array with
//! its dtype, dimension and size, label split sizes, the peak memory of the full run against
//! `--memory` and the output size. It writes nothing.
//!
//! The estimates follow the pipeline's accounting (see `workspace::budget`): what cannot
//! spill is the edge lists (`EDGE_BYTES` per edge), the ID maps (the decoded ID bytes plus
//! 16 B per node) and the decoded columns of the largest block; data arrays stay in memory up
//! to half the budget and spill beyond it.
//!
//! # Memory
//! The sample only (`sample_rows` rows per file of one block at a time, and its graph).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::PathBuf;

use serde::Serialize;

use crate::config::plan::{FeatureSpec, InputFiles, LabelSpec, Plan, TaskType, Transform};
use crate::error::Result;
use crate::graph::{CanonicalEtype, NamedTensor};
use crate::pipeline::{self, ConstructOptions, OutputFormat, EDGE_BYTES};
use crate::progress::Progress;
use crate::readers::{self, RowCount};
use crate::tensor::{Bytes, Tensor};
use crate::workspace::budget::human;

/// Resident bytes per mapped node besides its decoded ID: hash slot and dense ID.
const ID_MAP_OVERHEAD: u64 = 16;
/// Output bytes per edge of a DistDGL partition (CSC indices, edge `_ID`, edge type,
/// `edge_mapping.pt`), per node (`_ID`, node type, inner flag, `node_mapping.pt`, indptr).
const DISTDGL_EDGE_BYTES: u64 = 32;
const DISTDGL_NODE_BYTES: u64 = 40;
/// The same for a single DGL file (source and destination IDs; node counts only).
const DGL_EDGE_BYTES: u64 = 16;

/// How a count was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Counted over the whole input.
    Exact,
    /// Scaled up from the sample by the input's size.
    Estimated,
    /// The sample's count; the full input has at least this many (a node type seen only in
    /// edges whose files the sample cut).
    AtLeast,
}

/// A count of the full run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Count {
    pub value: u64,
    pub basis: Basis,
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.basis {
            Basis::Exact => write!(f, "{}", self.value),
            Basis::Estimated => write!(f, "~{}", self.value),
            Basis::AtLeast => write!(f, ">={}", self.value),
        }
    }
}

/// One output array of a node or edge type.
#[derive(Debug, Serialize)]
pub struct ArrayInfo {
    pub name: String,
    /// `feature`, `label` or `mask`.
    pub kind: &'static str,
    pub dtype: &'static str,
    /// Shape without the row axis (`[]` for one value per row).
    pub dim: Vec<usize>,
    /// `at_least` where the width depends on values beyond the sample (`to_categorical`
    /// without a `mapping`, hard negatives), else `exact`.
    pub dim_basis: Basis,
    /// Estimated bytes over the full run, as written.
    pub bytes: u64,
    /// Estimated bytes in memory (less than `bytes` for one-hot arrays, kept compact).
    pub memory_bytes: u64,
}

/// One label of a block with its split sizes.
#[derive(Debug, Serialize)]
pub struct LabelInfo {
    /// `label_col`, or `None` for link prediction.
    pub column: Option<String>,
    pub task: &'static str,
    pub train: Count,
    pub val: Count,
    pub test: Count,
}

/// A node or edge type of the planned graph.
#[derive(Debug, Serialize)]
pub struct TypeInfo {
    /// Node type, or `src:rel:dst`.
    pub name: String,
    /// Nodes or edges of the full run.
    pub count: Count,
    /// Nodes or edges the sample built.
    pub sampled: u64,
    pub arrays: Vec<ArrayInfo>,
    pub labels: Vec<LabelInfo>,
}

/// One input file.
#[derive(Debug, Serialize)]
pub struct FileInfo {
    pub path: PathBuf,
    pub format: &'static str,
    pub rows: Count,
}

/// The estimated memory of the full run under `--memory`.
#[derive(Debug, Serialize)]
pub struct MemoryInfo {
    pub budget: u64,
    /// The process before reading any data (code and shared libraries).
    pub baseline: u64,
    pub edge_lists: u64,
    pub id_maps: u64,
    pub largest_block: u64,
    /// METIS's symmetric CSR and working memory (`--part-method metis`, `--num-parts` > 1;
    /// else 0), estimated with one undirected edge per input edge (per edge and its reverse
    /// with `--add-reverse-edges`).
    pub metis: u64,
    /// All data arrays (features, labels, masks) as held in memory.
    pub data_arrays: u64,
    /// Data arrays that spill to the workspace (beyond half the budget).
    pub spilled: u64,
    /// What cannot spill: edge lists, ID maps and the larger of the largest block's decoded
    /// columns and METIS's memory. Over the budget, `construct` stops with a budget error.
    pub floor: u64,
    /// The process, the floor and the data arrays kept in memory.
    pub peak: u64,
    /// `floor <= budget`: `construct` can run under `--memory`.
    pub fits: bool,
    /// `peak <= budget`: it also stays within it (data arrays spill beyond half the budget).
    pub within_budget: bool,
}

/// What `validate` reports.
#[derive(Debug, Serialize)]
pub struct Report {
    pub sample_rows: usize,
    pub node_types: Vec<TypeInfo>,
    pub edge_types: Vec<TypeInfo>,
    pub files: Vec<FileInfo>,
    pub memory: MemoryInfo,
    /// Estimated bytes of the output folder.
    pub output_bytes: u64,
}

/// Validates the plan as `construct` would run it with `opts` (whose `sample_rows` must be
/// set) and estimates the full run. Errors are construct's for the same input.
pub fn validate(plan: &Plan, opts: &ConstructOptions, progress: &Progress) -> Result<Report> {
    let n = opts.sample_rows.unwrap_or(usize::MAX).max(1);
    let baseline = crate::progress::peak_rss();
    let dry = pipeline::dry_run(plan, opts, progress)?;
    let g = &dry.graph;

    // Full row counts per file and decoded bytes per row per block (one sampled file each).
    let mut files: BTreeMap<PathBuf, (&'static str, RowCount)> = BTreeMap::new();
    let mut blocks: Vec<Block> = Vec::new();
    for b in &plan.nodes {
        let id: Vec<&str> = b.id_col.iter().map(String::as_str).collect();
        blocks.push(block(&b.input, &id, &b.features, &b.labels, n, &mut files)?);
    }
    for e in &plan.edges {
        let id: Vec<&str> = match &e.id_cols {
            Some((s, d)) => vec![s.as_str(), d.as_str()],
            None => Vec::new(),
        };
        blocks.push(block(&e.input, &id, &e.features, &e.labels, n, &mut files)?);
    }
    let (node_blocks, edge_blocks) = blocks.split_at(plan.nodes.len());

    // Node counts: the ID blocks' rows, or the sample (node types seen only in edges).
    let mut nodes: BTreeMap<&str, Count> = BTreeMap::new();
    let mut id_bytes: BTreeMap<&str, f64> = BTreeMap::new();
    for (b, info) in plan.nodes.iter().zip(node_blocks) {
        if b.id_col.is_some() {
            nodes.insert(&b.node_type, info.rows);
            id_bytes.insert(&b.node_type, info.id_bytes_per_row);
        }
    }
    for (t, &sampled) in g.ntypes().iter().zip(g.num_nodes()) {
        nodes.entry(t).or_insert(Count {
            value: sampled,
            basis: if dry.partial.contains(t) {
                Basis::AtLeast
            } else {
                Basis::Exact
            },
        });
    }
    // Forward edge counts per relation; reverse relations count as their forward one.
    let mut fwd: BTreeMap<CanonicalEtype, Count> = BTreeMap::new();
    for (e, info) in plan.edges.iter().zip(edge_blocks) {
        if e.id_cols.is_some() {
            let et = CanonicalEtype::new(&e.relation[0], &e.relation[1], &e.relation[2]);
            let c = fwd.entry(et).or_insert(Count {
                value: 0,
                basis: Basis::Exact,
            });
            *c = add(*c, info.rows);
        }
    }
    let edge_count = |et: &CanonicalEtype| -> Count {
        if let Some(c) = fwd.get(et) {
            let doubled = opts.add_reverse_edges && g.is_homogeneous();
            return Count {
                value: c.value * if doubled { 2 } else { 1 },
                basis: c.basis,
            };
        }
        let rel = et.rel.strip_suffix("-rev").unwrap_or(&et.rel);
        fwd.get(&CanonicalEtype::new(&et.dst, rel, &et.src))
            .copied()
            .unwrap_or(Count {
                value: 0,
                basis: Basis::Estimated,
            })
    };

    let mut report_nodes = Vec::new();
    for (t, (&sampled, data)) in g
        .ntypes()
        .iter()
        .zip(g.num_nodes().iter().zip(g.node_data()))
    {
        let blocks = || plan.nodes.iter().filter(|b| b.node_type == *t);
        let features: Vec<&FeatureSpec> = blocks().flat_map(|b| &b.features).collect();
        let labels: Vec<&LabelSpec> = blocks().flat_map(|b| &b.labels).collect();
        report_nodes.push(type_info(
            t.clone(),
            nodes[t.as_str()],
            sampled,
            data,
            &features,
            &labels,
        ));
    }
    let mut report_edges = Vec::new();
    for (i, et) in g.etypes().iter().enumerate() {
        let blocks = || {
            plan.edges.iter().filter(|e| {
                CanonicalEtype::new(&e.relation[0], &e.relation[1], &e.relation[2]) == *et
            })
        };
        let features: Vec<&FeatureSpec> = blocks().flat_map(|e| &e.features).collect();
        let labels: Vec<&LabelSpec> = blocks().flat_map(|e| &e.labels).collect();
        report_edges.push(type_info(
            et.colon_key(),
            edge_count(et),
            g.edges()[i].len() as u64,
            &g.edge_data()[i],
            &features,
            &labels,
        ));
    }

    // Memory and output size of the full run.
    let total_edges: u64 = report_edges.iter().map(|t| t.count.value).sum();
    let total_nodes: u64 = report_nodes.iter().map(|t| t.count.value).sum();
    let arrays = || {
        report_nodes
            .iter()
            .chain(&report_edges)
            .flat_map(|t| &t.arrays)
    };
    let data_arrays: u64 = arrays().map(|a| a.memory_bytes).sum();
    let written_arrays: u64 = arrays().map(|a| a.bytes).sum();
    let mut id_maps = 0u64;
    let mut raw_id_bytes = 0u64;
    for t in &dry.mapped {
        let per = id_bytes.get(t.as_str()).copied().unwrap_or(8.0);
        let count = nodes.get(t.as_str()).map_or(0, |c| c.value);
        id_maps += (count as f64 * per) as u64 + count * ID_MAP_OVERHEAD;
        raw_id_bytes += (count as f64 * per) as u64 + count * 8;
    }
    let largest_block = blocks
        .iter()
        .map(|b| (b.rows.value as f64 * b.bytes_per_row) as u64)
        .max()
        .unwrap_or(0);
    let edge_lists = total_edges * EDGE_BYTES;
    let budget = opts.memory.bytes;
    let resident = data_arrays.min(opts.memory.array_limit());
    let metis = if opts.part_method == pipeline::PartMethod::Metis && opts.num_parts > 1 {
        let undirected = if opts.add_reverse_edges {
            total_edges / 2
        } else {
            total_edges
        };
        // balance groups: train/val/test/unlabeled per labelled type, at most; two columns each
        let ncon = 2 * (4 * report_nodes.len() as u64).max(1);
        crate::partition::metis::metis_memory_bytes(total_nodes, 2 * undirected, ncon)
    } else {
        0
    };
    let floor = edge_lists + id_maps + largest_block.max(metis);
    let peak = baseline + floor + resident;
    let mut output_bytes = 0;
    for f in &opts.formats {
        output_bytes += written_arrays
            + match f {
                OutputFormat::DistDgl => {
                    total_edges * DISTDGL_EDGE_BYTES + total_nodes * DISTDGL_NODE_BYTES
                }
                OutputFormat::Dgl => total_edges * DGL_EDGE_BYTES,
                // int64 endpoints (Parquet, before compression) + one assignment line per node
                OutputFormat::Chunked => total_edges * 16 + total_nodes * 2,
                OutputFormat::Assignment => total_nodes * 2,
            };
    }
    output_bytes += raw_id_bytes;
    Ok(Report {
        sample_rows: n,
        node_types: report_nodes,
        edge_types: report_edges,
        files: files
            .into_iter()
            .map(|(path, (format, c))| FileInfo {
                path,
                format,
                rows: count_of(c),
            })
            .collect(),
        memory: MemoryInfo {
            budget,
            baseline,
            edge_lists,
            id_maps,
            largest_block,
            metis,
            data_arrays,
            spilled: data_arrays - resident,
            floor,
            peak,
            fits: floor <= budget,
            within_budget: peak <= budget,
        },
        output_bytes,
    })
}

/// Full rows and decoded size of one block.
struct Block {
    rows: Count,
    /// Decoded bytes per row of all the block's columns (from its first file's sample).
    bytes_per_row: f64,
    /// Decoded bytes per row of its (first) ID column.
    id_bytes_per_row: f64,
}

fn block(
    input: &InputFiles,
    id_cols: &[&str],
    features: &[FeatureSpec],
    labels: &[LabelSpec],
    n: usize,
    files: &mut BTreeMap<PathBuf, (&'static str, RowCount)>,
) -> Result<Block> {
    let mut cols: Vec<String> = id_cols.iter().map(|c| c.to_string()).collect();
    for c in features
        .iter()
        .flat_map(|f| &f.columns)
        .chain(labels.iter().filter_map(|l| l.column.as_ref()))
    {
        if !cols.contains(c) {
            cols.push(c.clone());
        }
    }
    let any = cols.first().map_or("", String::as_str);
    let mut rows = Count {
        value: 0,
        basis: Basis::Exact,
    };
    for f in &input.files {
        let c = match files.get(f) {
            Some((_, c)) => *c,
            None => {
                let c = readers::estimate_rows(f, &input.format, any, n)?;
                files.insert(f.clone(), (input.format.name(), c));
                c
            }
        };
        rows = add(rows, count_of(c));
    }
    let (mut bytes_per_row, mut id_bytes_per_row) = (0.0, 0.0);
    if let Some(f) = input.files.first() {
        let t = readers::read_columns_head(f, &input.format, &cols, Some(n))?;
        if t.num_rows > 0 {
            let per =
                |a: &arrow::array::ArrayRef| a.get_array_memory_size() as f64 / t.num_rows as f64;
            bytes_per_row = t.columns.iter().map(per).sum();
            id_bytes_per_row = t
                .columns
                .first()
                .filter(|_| !id_cols.is_empty())
                .map_or(0.0, per);
        }
    }
    Ok(Block {
        rows,
        bytes_per_row,
        id_bytes_per_row,
    })
}

fn count_of(c: RowCount) -> Count {
    Count {
        value: c.rows,
        basis: if c.exact {
            Basis::Exact
        } else {
            Basis::Estimated
        },
    }
}

fn add(a: Count, b: Count) -> Count {
    let basis = match (a.basis, b.basis) {
        (Basis::Exact, Basis::Exact) => Basis::Exact,
        (Basis::AtLeast, _) | (_, Basis::AtLeast) => Basis::AtLeast,
        _ => Basis::Estimated,
    };
    Count {
        value: a.value + b.value,
        basis,
    }
}

/// Rows of `t` with a non-zero byte (mask rows set).
fn set_rows(t: &Tensor) -> u64 {
    let rb = t.row_bytes().max(1);
    t.bytes()
        .chunks(rb)
        .filter(|r| r.iter().any(|&b| b != 0))
        .count() as u64
}

/// Scales a sampled count to the full run (`full` rows of which `sampled` were built).
fn scale(x: u64, sampled: u64, full: Count) -> Count {
    if sampled == full.value && full.basis == Basis::Exact {
        return Count {
            value: x,
            basis: Basis::Exact,
        };
    }
    let value = if sampled == 0 {
        0
    } else {
        (x as f64 * full.value as f64 / sampled as f64).round() as u64
    };
    Count {
        value,
        basis: match full.basis {
            Basis::AtLeast => Basis::AtLeast,
            _ => Basis::Estimated,
        },
    }
}

fn task_name(t: TaskType) -> &'static str {
    match t {
        TaskType::Classification => "classification",
        TaskType::Regression => "regression",
        TaskType::LinkPrediction => "link_prediction",
    }
}

/// Whether a feature's output width depends on the values read (so a sample gives a lower
/// bound).
fn width_from_values(f: &FeatureSpec) -> bool {
    matches!(
        f.transform,
        Transform::Categorical { mapping: None, .. } | Transform::HardNegative { .. }
    )
}

fn type_info(
    name: String,
    count: Count,
    sampled: u64,
    data: &[NamedTensor],
    features: &[&FeatureSpec],
    labels: &[&LabelSpec],
) -> TypeInfo {
    let arrays = data
        .iter()
        .map(|d| {
            let kind = if labels.iter().any(|l| l.mask_names.contains(&d.name)) {
                "mask"
            } else if labels.iter().any(|l| l.column.as_ref() == Some(&d.name)) {
                "label"
            } else {
                "feature"
            };
            ArrayInfo {
                name: d.name.clone(),
                kind,
                dtype: d.tensor.dtype.name(),
                dim: d.tensor.shape[1..].to_vec(),
                dim_basis: if features
                    .iter()
                    .any(|f| f.name == d.name && width_from_values(f))
                    && count.value > sampled
                {
                    Basis::AtLeast
                } else {
                    Basis::Exact
                },
                bytes: d.tensor.row_bytes() as u64 * count.value,
                memory_bytes: match &d.tensor.data {
                    Bytes::OneHot(o) if o.rows() > 0 => {
                        (o.stored_bytes() as f64 / o.rows() as f64 * count.value as f64) as u64
                    }
                    _ => d.tensor.row_bytes() as u64 * count.value,
                },
            }
        })
        .collect();
    let mask = |name: &str| {
        let x = data
            .iter()
            .find(|d| d.name == name)
            .map_or(0, |d| set_rows(&d.tensor));
        scale(x, sampled, count)
    };
    let labels = labels
        .iter()
        .map(|l| LabelInfo {
            column: l.column.clone(),
            task: task_name(l.task),
            train: mask(&l.mask_names[0]),
            val: mask(&l.mask_names[1]),
            test: mask(&l.mask_names[2]),
        })
        .collect();
    TypeInfo {
        name,
        count,
        sampled,
        arrays,
        labels,
    }
}

impl Report {
    /// The human-readable report.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "planned graph (sampled the first {} rows of each file; ~ estimated, >= at least)",
            self.sample_rows
        );
        for (what, types) in [
            ("node type", &self.node_types),
            ("edge type", &self.edge_types),
        ] {
            let _ = writeln!(s, "\n{what:<36} {:>14} {:>10}", "count", "sampled");
            for t in types.iter() {
                let _ = writeln!(
                    s,
                    "{:<36} {:>14} {:>10}",
                    t.name,
                    t.count.to_string(),
                    t.sampled
                );
            }
        }
        let _ = writeln!(
            s,
            "\n{:<36} {:<24} {:<8} {:<8} {:>10} {:>12}",
            "arrays of type", "name", "kind", "dtype", "dim", "size"
        );
        for t in self.node_types.iter().chain(&self.edge_types) {
            for a in &t.arrays {
                let _ = writeln!(
                    s,
                    "{:<36} {:<24} {:<8} {:<8} {:>10} {:>12}",
                    t.name,
                    a.name,
                    a.kind,
                    a.dtype,
                    match a.dim_basis {
                        Basis::AtLeast => format!(">={:?}", a.dim),
                        _ => format!("{:?}", a.dim),
                    },
                    human(a.bytes)
                );
            }
        }
        let labels: Vec<(&str, &LabelInfo)> = self
            .node_types
            .iter()
            .chain(&self.edge_types)
            .flat_map(|t| t.labels.iter().map(move |l| (t.name.as_str(), l)))
            .collect();
        if !labels.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<36} {:<16} {:<16} {:>10} {:>10} {:>10}",
                "labels of type", "label", "task", "train", "val", "test"
            );
            for (t, l) in labels {
                let _ = writeln!(
                    s,
                    "{:<36} {:<16} {:<16} {:>10} {:>10} {:>10}",
                    t,
                    l.column.as_deref().unwrap_or("-"),
                    l.task,
                    l.train.to_string(),
                    l.val.to_string(),
                    l.test.to_string()
                );
            }
        }
        let _ = writeln!(s, "\n{:<60} {:>14}", "input file", "rows");
        for f in &self.files {
            let _ = writeln!(s, "{:<60} {:>14}", f.path.display(), f.rows.to_string());
        }
        let m = &self.memory;
        let _ = writeln!(
            s,
            "\nestimated peak memory {} of --memory {}: edge lists {}, ID maps {}, largest \
             decoded block {}{}, data arrays {} in memory{}, process {}",
            human(m.peak),
            human(m.budget),
            human(m.edge_lists),
            human(m.id_maps),
            human(m.largest_block),
            if m.metis > 0 {
                format!(", METIS {} (after the blocks are freed)", human(m.metis))
            } else {
                String::new()
            },
            human(m.data_arrays - m.spilled),
            if m.spilled > 0 {
                format!(" ({} spill to the workspace)", human(m.spilled))
            } else {
                String::new()
            },
            human(m.baseline)
        );
        let _ = writeln!(s, "estimated output size {}", human(self.output_bytes));
        s
    }
}
