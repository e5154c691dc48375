//! `graphprep partition`: a chunked-format graph (graphprep's `--output-format chunked`, or
//! GSProcessing's output) → the DistDGL partitions `construct` writes, on one machine, with
//! METIS or random (GraphStorm's `gpartition` without ParMETIS and the ssh-launched dispatch).
//!
//! Reads through [`crate::dataset::chunked`] under `--memory`, writes through the output stage
//! of `construct` ([`crate::pipeline::output`]): same partition files, ID mappings, raw ID maps
//! and quality report, staged and committed as a whole under the output dir's lock. The
//! chunked folder's `data_transform_new.json` and label statistics (graphprep's) are copied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::args::{self, LogArgs, MemoryArg, SeedArg, ThreadsArg};
use super::construct::{check_graph_name, PartMethodArg};
use crate::error::{Error, Result};
use crate::idmap::IdMap;
use crate::pipeline::output::{self, OutputFormat, OutputOptions, PartMethod, SideFiles};
use crate::workspace::spill::Store;
use crate::workspace::Staging;

/// Output formats of `partition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "verbatim")]
#[allow(clippy::upper_case_acronyms)]
pub enum PartFormatArg {
    /// DistDGL partitions (partition JSON + part*/ folders), as `construct` writes them.
    DistDGL,
    /// A single DGL heterograph file `<output-dir>/<graph-name>.dgl`.
    DGL,
}

/// Flags of `graphprep partition`.
#[derive(Debug, Args)]
pub struct PartitionArgs {
    /// The chunked-format folder (the one holding metadata.json): `<out>/chunked` of
    /// `construct --output-format chunked`, or GSProcessing's output folder.
    #[arg(long, value_name = "DIR")]
    pub input_dir: PathBuf,
    /// Where the partitions go (replaced as a whole when the run succeeds).
    #[arg(long, value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Number of partitions (default 1, or the `num_parts` of --assignment).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub num_parts: Option<u32>,
    /// Use this partition assignment instead of partitioning: a folder with partition_meta.json
    /// and one `<ntype>.txt` per node type (DGL's step-1 output: graphprep's
    /// <out>/partition_assignment, ParMETIS's or GraphStorm's). The single-machine
    /// counterpart of DGL's dispatch step.
    #[arg(long, value_name = "DIR", conflicts_with = "part_method")]
    pub assignment: Option<PathBuf>,
    /// Partitioning algorithm.
    #[arg(long, value_enum, default_value = "metis")]
    pub part_method: PartMethodArg,
    /// Graph name (the partition JSON's file name). Default: metadata.json's `graph_name`.
    #[arg(long, value_name = "NAME")]
    pub graph_name: Option<String>,
    /// One or more of DistDGL, DGL.
    #[arg(long, num_args = 1.., default_values = ["DistDGL"], value_name = "FORMAT")]
    pub output_format: Vec<PartFormatArg>,
    /// Also write <output-dir>/partition_assignment/ (`<ntype>.txt` + partition_meta.json)
    /// for DGL's dispatch step on a cluster.
    #[arg(long)]
    pub partition_assignment: bool,
    #[command(flatten)]
    pub memory: MemoryArg,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub log: LogArgs,
}

/// The raw ID maps of the chunked graph as ID maps (for `raw_id_mappings/`).
fn id_maps(
    raw: &BTreeMap<String, arrow::array::ArrayRef>,
    meta: &Path,
) -> Result<BTreeMap<String, IdMap>> {
    let mut out = BTreeMap::new();
    for (ty, orig) in raw {
        let ids = crate::idmap::raw_ids_from_array(orig, meta, "orig")?;
        let m = IdMap::from_node_ids(ids, true).map_err(|d| {
            Error::input(
                meta,
                format!(
                    "raw_id_mappings.{ty}: raw ID '{}' maps to two nodes (rows {} and an earlier one)",
                    d.id, d.row
                ),
            )
        })?;
        out.insert(ty.clone(), m);
    }
    Ok(out)
}

/// Reads an assignment folder for `g` (`partition_meta.json` + `<ntype>.txt`); `num_parts`
/// (`--num-parts`), when given, must agree with it.
fn load_assignment(
    dir: &Path,
    g: &crate::graph::Graph,
    num_parts: Option<u32>,
) -> Result<(crate::partition::Assignment, PartMethod)> {
    use crate::format::chunked::{load_assignment_txt, PartitionMeta};
    let meta = PartitionMeta::load(&dir.join("partition_meta.json"))?;
    if let Some(n) = num_parts {
        if n != meta.num_parts {
            return Err(Error::input(
                dir.join("partition_meta.json"),
                format!(
                    "num_parts is {}, but --num-parts is {n}; leave --num-parts out to use the \
                     assignment's",
                    meta.num_parts
                ),
            ));
        }
    }
    let mut node_part = Vec::with_capacity(g.ntypes().len());
    for (t, ty) in g.ntypes().iter().enumerate() {
        let path = dir.join(format!("{ty}.txt"));
        if !path.is_file() {
            return Err(Error::input(
                &path,
                format!("missing: the assignment has no file for node type '{ty}'"),
            ));
        }
        let parts = load_assignment_txt(&path, meta.num_parts)?;
        if parts.len() as u64 != g.num_nodes()[t] {
            return Err(Error::input(
                &path,
                format!(
                    "{} lines, but node type '{ty}' has {} nodes (one partition ID per node)",
                    parts.len(),
                    g.num_nodes()[t]
                ),
            ));
        }
        node_part.push(parts);
    }
    let algo = if meta.algo_name == "random" {
        PartMethod::Random
    } else {
        PartMethod::Metis
    };
    Ok((
        crate::partition::Assignment {
            num_parts: meta.num_parts,
            node_part,
        },
        algo,
    ))
}

/// Whether `inner` is `outer` or lies inside it (both canonicalized where they exist).
fn inside(inner: &Path, outer: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(inner).starts_with(canon(outer))
}

/// What a finished run built.
struct Done {
    num_parts: u32,
    nodes: u64,
    node_types: usize,
    edges: u64,
    edge_types: usize,
}

fn partition(a: &PartitionArgs, progress: &crate::progress::Progress) -> Result<Done> {
    let input = &a.input_dir;
    let meta_dir = if input.is_file() {
        input.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        input.clone()
    };
    if a.output_dir.exists() && inside(&meta_dir, &a.output_dir) {
        return Err(Error::Other(format!(
            "--output-dir {} holds --input-dir {}: the run replaces the output dir as a whole; \
             choose another output folder",
            a.output_dir.display(),
            input.display()
        )));
    }
    let _lock = crate::workspace::lock::OutputLock::acquire(&a.output_dir)?;
    let budget = a.memory.budget();
    let store = Store::new(budget, None, &a.output_dir, 0);
    log::info!(
        "memory budget {} (data arrays spill to {} beyond {})",
        crate::workspace::budget::human(budget.bytes),
        a.output_dir.display(),
        crate::workspace::budget::human(budget.array_limit())
    );
    let t = Instant::now();
    let c = crate::dataset::chunked::open(input, &store)?;
    let g = &c.graph;
    progress.record(
        "read chunked graph",
        g.total_edges(),
        "edges",
        t.elapsed().as_secs_f64(),
    );
    let graph_name = match &a.graph_name {
        Some(n) => n.clone(),
        None => {
            let n = c.metadata.graph_name.clone();
            check_graph_name(&n).map_err(|e| {
                Error::input(
                    c.dir.join("metadata.json"),
                    format!(
                        "graph_name '{n}' is not usable as a graph name ({e}); pass --graph-name"
                    ),
                )
            })?;
            n
        }
    };
    let maps = id_maps(&c.raw_ids, &c.dir.join("metadata.json"))?;
    let mut formats = Vec::new();
    for f in &a.output_format {
        let f = match f {
            PartFormatArg::DistDGL => OutputFormat::DistDgl,
            PartFormatArg::DGL => OutputFormat::Dgl,
        };
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    if a.partition_assignment {
        formats.push(OutputFormat::Assignment);
    }
    let (assignment, part_method) = match &a.assignment {
        Some(dir) => {
            let (asg, algo) = load_assignment(dir, g, a.num_parts)?;
            (Some(asg), algo)
        }
        None => (
            None,
            match a.part_method {
                PartMethodArg::Metis => PartMethod::Metis,
                PartMethodArg::Random => PartMethod::Random,
            },
        ),
    };
    let num_parts = assignment
        .as_ref()
        .map_or(a.num_parts.unwrap_or(1), |x| x.num_parts);
    let opts = OutputOptions {
        formats,
        graph_name,
        num_parts,
        part_method,
        seed: a.seed.seed,
        output_conf_file: None,
        chunk_rows: None,
        memory: Some(budget.bytes),
        assignment,
    };
    let staging = Staging::create(&a.output_dir)?;
    let side = SideFiles {
        runtime_config: None,
        node_label_stats: None,
        edge_label_stats: None,
        id_maps: &maps,
    };
    output::write(g, &side, &opts, progress, staging.path())?;
    // graphprep's side files, byte for byte
    for name in [
        "data_transform_new.json",
        "node_label_stats.json",
        "edge_label_stats.json",
    ] {
        let from = c.dir.join(name);
        if from.is_file() {
            let to = staging.path().join(name);
            std::fs::copy(&from, &to).map_err(|e| Error::write(&to, e))?;
        }
    }
    staging.commit()?;
    Ok(Done {
        num_parts,
        nodes: g.total_nodes(),
        node_types: g.ntypes().len(),
        edges: g.total_edges(),
        edge_types: g.etypes().len(),
    })
}

/// Partitions and prints the stage table and summary; exit code 1 on bad input.
pub fn run(a: PartitionArgs) -> i32 {
    let session = match args::start(
        a.log.level(),
        a.threads.threads.unwrap_or(0),
        a.log.draw_progress(),
    ) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    if let Some(n) = &a.graph_name {
        if let Err(e) = check_graph_name(n) {
            eprintln!("error: --graph-name '{n}': {e}");
            return 2;
        }
    }
    let progress = &session.progress;
    let start = Instant::now();
    match session.pool.install(|| partition(&a, progress)) {
        Ok(d) => {
            if !a.log.quiet {
                eprintln!("{}", progress.table());
                eprintln!(
                    "partitioned {} nodes ({} types) and {} edges ({} types) into {} partition(s) at {} in {:.2} s",
                    d.nodes,
                    d.node_types,
                    d.edges,
                    d.edge_types,
                    d.num_parts,
                    a.output_dir.display(),
                    start.elapsed().as_secs_f64()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
