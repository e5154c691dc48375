//! The output stage: a built [`Graph`] → partition assignment → writers (DistDGL partitions,
//! the DGL file) → side files (runtime config, label statistics, `raw_id_mappings/`,
//! `partition_stats.json`).
//!
//! It takes its own [`OutputOptions`] and the side data as [`SideFiles`], never the construct
//! options or the construct stage's types, so any producer of a `Graph` (the construct
//! pipeline today, a `partition` command over chunked input later) shares it.
//!
//! # Memory
//! The partition assignment (`4 B` per node), METIS's CSR while partitioning (see
//! [`crate::partition::csr`]) and the writers' own buffers (see [`crate::writers::distdgl`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{json, Value};

use super::TypeLabelStats;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::idmap::IdMap;
use crate::partition::{Assignment, MetisReport};
use crate::progress::Progress;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Dgl,
    DistDgl,
    /// DGL's chunked graph format in `<out>/chunked/` plus `<out>/partition_assignment/`.
    Chunked,
    /// Only `<out>/partition_assignment/` (DGL's step-1 output, for its dispatch step).
    Assignment,
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

/// Resolved options of the output stage.
#[derive(Clone, Debug)]
pub struct OutputOptions {
    /// `<graph_name>.json` / `<graph_name>.dgl` and `graph_name` in the partition config.
    pub graph_name: String,
    pub formats: Vec<OutputFormat>,
    /// `--num-parts` (≥ 1).
    pub num_parts: u32,
    pub part_method: PartMethod,
    /// Seed of the random partitioner and of METIS.
    pub seed: u64,
    /// Where the runtime config goes; `None`: `data_transform_new.json` in the output folder.
    pub output_conf_file: Option<PathBuf>,
    /// Chunked output: at most this many rows per file (`None`: files of about 256 MiB).
    pub chunk_rows: Option<usize>,
    /// `--memory` in bytes: METIS's working memory is admitted against it before it runs.
    pub memory: Option<u64>,
    /// A partition assignment to use instead of partitioning (`partition --assignment`; its
    /// `num_parts` is the run's). Nodes are moved only where a partition would hold no node of
    /// a type with node data (logged).
    pub assignment: Option<Assignment>,
}

/// The side outputs that come with a graph; `None` leaves the file out.
#[derive(Clone, Copy, Debug)]
pub struct SideFiles<'a> {
    /// Runtime config (input config + learned state), written first like GraphStorm.
    pub runtime_config: Option<&'a Value>,
    /// `node_label_stats.json`.
    pub node_label_stats: Option<&'a TypeLabelStats>,
    /// `edge_label_stats.json`.
    pub edge_label_stats: Option<&'a TypeLabelStats>,
    /// ID map per node type name: `raw_id_mappings/` for every non-identity map.
    pub id_maps: &'a BTreeMap<String, IdMap>,
}

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
pub fn write(
    g: &Graph,
    side: &SideFiles<'_>,
    opts: &OutputOptions,
    progress: &Progress,
    dir: &Path,
) -> Result<()> {
    if let Some(conf) = side.runtime_config {
        let conf_path = opts
            .output_conf_file
            .clone()
            .unwrap_or_else(|| dir.join("data_transform_new.json"));
        write_json(&conf_path, conf)?;
    }

    let needs_asg = opts.formats.iter().any(|f| *f != OutputFormat::Dgl);
    let (asg, metis_report) = if needs_asg {
        assign(g, opts, progress)?
    } else {
        (Assignment::single(g.num_nodes()), None)
    };
    if opts.formats.contains(&OutputFormat::DistDgl) {
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
        progress.record(
            "write partitions",
            g.total_edges(),
            "edges",
            t.elapsed().as_secs_f64(),
        );
        if opts.num_parts > 1 {
            let contents: Vec<_> = layout.parts.into_iter().map(|p| p.contents).collect();
            let stats = crate::partition::stats::partition_report(g, &asg, &contents);
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
    if opts.formats.contains(&OutputFormat::Chunked) {
        write_chunked_graph(g, side, opts, progress, dir)?;
    }
    if opts.formats.contains(&OutputFormat::Chunked)
        || opts.formats.contains(&OutputFormat::Assignment)
    {
        write_assignment(g, opts, progress, dir, &asg)?;
    }
    if !opts
        .formats
        .iter()
        .any(|f| matches!(f, OutputFormat::Dgl | OutputFormat::DistDgl))
    {
        return Ok(());
    }
    let t = Instant::now();
    if let Some(s) = side.node_label_stats {
        write_json(&dir.join("node_label_stats.json"), &stats_json(s))?;
    }
    if let Some(s) = side.edge_label_stats {
        write_json(&dir.join("edge_label_stats.json"), &stats_json(s))?;
    }
    write_raw_id_mappings(dir, side.id_maps)?;
    progress.record(
        "write id mappings",
        g.total_nodes(),
        "nodes",
        t.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// `--output-format chunked`: `dir/chunked/`, the chunked graph with its runtime config,
/// label statistics and raw ID maps.
fn write_chunked_graph(
    g: &Graph,
    side: &SideFiles<'_>,
    opts: &OutputOptions,
    progress: &Progress,
    dir: &Path,
) -> Result<()> {
    let t = Instant::now();
    let cdir = dir.join("chunked");
    std::fs::create_dir_all(&cdir).map_err(|e| Error::write(&cdir, e))?;
    if let Some(conf) = side.runtime_config {
        write_json(&cdir.join("data_transform_new.json"), conf)?;
    }
    if let Some(s) = side.node_label_stats {
        write_json(&cdir.join("node_label_stats.json"), &stats_json(s))?;
    }
    if let Some(s) = side.edge_label_stats {
        write_json(&cdir.join("edge_label_stats.json"), &stats_json(s))?;
    }
    write_raw_id_mappings(&cdir, side.id_maps)?;
    let mut raw = Vec::new();
    for (ty, m) in side.id_maps {
        if !m.has_mapping() {
            continue;
        }
        let files =
            crate::format::raw_id_map::raw_id_map_files(&cdir.join("raw_id_mappings").join(ty))?;
        let rel = files
            .iter()
            .filter_map(|f| f.file_name().and_then(|n| n.to_str()))
            .map(|n| format!("raw_id_mappings/{ty}/{n}"))
            .collect();
        raw.push((ty.clone(), rel));
    }
    crate::writers::chunked::write_chunked(
        &cdir,
        g,
        &crate::writers::chunked::ChunkedOptions {
            graph_name: opts.graph_name.clone(),
            chunk_rows: opts.chunk_rows,
        },
        &raw,
    )?;
    progress.record(
        "write chunked graph",
        g.total_edges(),
        "edges",
        t.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// `dir/partition_assignment/`: the assignment `asg`, made dispatchable (see
/// [`crate::partition::dispatch`]).
fn write_assignment(
    g: &Graph,
    opts: &OutputOptions,
    progress: &Progress,
    dir: &Path,
    asg: &Assignment,
) -> Result<()> {
    let t = Instant::now();
    let mut asg = asg.clone();
    let moves = crate::partition::dispatch::make_dispatchable(g, &mut asg)?;
    if moves.for_types + moves.for_edges > 0 {
        log::info!(
            "partition assignment: moved {} node(s) so that every partition has a node of every \
             type and {} so that every partition owns an edge (DGL's dispatch pipeline needs both)",
            moves.for_types,
            moves.for_edges
        );
    }
    crate::writers::chunked::write_assignment(
        &dir.join("partition_assignment"),
        g,
        &asg,
        opts.part_method.name(),
    )?;
    let cut = crate::partition::stats::edge_cut(g, &asg);
    log::info!(
        "partition assignment: {} parts ({}), edge cut {cut} of {} edges",
        asg.num_parts,
        opts.part_method.name(),
        g.total_edges()
    );
    progress.record(
        "write partition assignment",
        g.total_nodes(),
        "nodes",
        t.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Node → partition assignment for `--num-parts`.
pub fn assign(
    g: &Graph,
    opts: &OutputOptions,
    progress: &Progress,
) -> Result<(Assignment, Option<MetisReport>)> {
    if let Some(given) = &opts.assignment {
        let t = Instant::now();
        let mut asg = given.clone();
        let moved = crate::partition::metis::ensure_min_per_type(g, &mut asg, None);
        if moved > 0 {
            log::warn!(
                "partition assignment: moved {moved} node(s) so that every partition holds a \
                 node of every node type with data (DistDGL needs no zero-row feature tensor)"
            );
        }
        progress.record(
            "partition (given assignment)",
            g.total_nodes(),
            "nodes",
            t.elapsed().as_secs_f64(),
        );
        return Ok((asg, None));
    }
    if opts.num_parts == 1 {
        return Ok((Assignment::single(g.num_nodes()), None));
    }
    let t = Instant::now();
    let (asg, report) = match opts.part_method {
        PartMethod::Random => (
            crate::partition::random::random_partition(g, opts.num_parts, opts.seed),
            None,
        ),
        PartMethod::Metis => {
            let (asg, report) = crate::partition::metis::metis_partition_with(
                g,
                opts.num_parts,
                &crate::partition::metis::MetisOptions {
                    seed: opts.seed,
                    memory: opts.memory,
                    ..Default::default()
                },
            )?;
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
