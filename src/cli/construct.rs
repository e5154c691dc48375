//! `graphprep construct`: GraphStorm's `construct_graph` flags. Parse (clap, with typed
//! value parsers), resolve (check the flags that need the file system, load the config into a
//! plan, build [`ConstructOptions`]), then run the pipeline on typed values only.

use std::path::{Path, PathBuf};

use clap::builder::BoolishValueParser;
use clap::{Args, ValueEnum};
use log::LevelFilter;

use super::args::{self, LogArgs, MemoryArg, SeedArg, ThreadsArg};
use crate::pipeline::{self, ConstructOptions, OutputFormat, PartMethod};

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "verbatim")]
#[allow(clippy::upper_case_acronyms)]
pub enum FormatArg {
    /// A single DGL heterograph file `<output-dir>/<graph-name>.dgl`.
    DGL,
    /// DistDGL partitions (partition JSON + part*/ folders).
    DistDGL,
    /// DGL's chunked graph format in <output-dir>/chunked/ and the partition assignment in
    /// <output-dir>/partition_assignment/, for DGL's dispatch pipeline or `graphprep partition`.
    #[value(name = "chunked")]
    Chunked,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PartMethodArg {
    Metis,
    Random,
}

/// Flags of `graphprep construct` (same names and meanings as GraphStorm's construct_graph).
#[derive(Debug, Args)]
#[command(mut_arg("threads", |a| a.help("Worker threads (overrides --num-processes). Default: all cores")))]
pub struct ConstructArgs {
    /// Path of the JSON construction config (GraphStorm gconstruct or GSProcessing dialect).
    #[arg(long, value_name = "FILE")]
    pub conf_file: PathBuf,
    /// Output directory (created if missing; the result is assembled in a temporary folder
    /// inside it and moved into place only when everything succeeded, replacing the previous
    /// graphprep output there as a whole; other files are left alone). Locked for the run:
    /// a second run into it fails at once.
    #[arg(long, value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Graph name: after removing leading digits and mapping '-' to '_', a valid identifier.
    #[arg(long, value_parser = graph_name_parser)]
    pub graph_name: String,
    /// Worker threads (GraphStorm: worker processes). Default: all cores.
    #[arg(long, value_name = "N")]
    pub num_processes: Option<usize>,
    /// Accepted for compatibility; graphprep uses one thread pool for all stages.
    #[arg(long, value_name = "N")]
    pub num_processes_for_nodes: Option<usize>,
    /// Accepted for compatibility; graphprep uses one thread pool for all stages.
    #[arg(long, value_name = "N")]
    pub num_processes_for_edges: Option<usize>,
    /// Where to write the runtime config (default: <output-dir>/data_transform_new.json).
    #[arg(long, value_name = "FILE")]
    pub output_conf_file: Option<PathBuf>,
    /// Build an ID map even when integer node IDs are already 0..N-1 in order.
    #[arg(long)]
    pub remap_node_id: bool,
    /// Add a reverse edge type `<dst, rel-rev, src>` per relation (homogeneous: double the edges).
    #[arg(long)]
    pub add_reverse_edges: bool,
    /// Do not check numeric features for NaN/Inf/missing values.
    #[arg(long)]
    pub no_feature_validate: bool,
    /// One or more of DGL, DistDGL, chunked (separate tokens: `--output-format DGL DistDGL`).
    #[arg(long, num_args = 1.., default_values = ["DistDGL"], value_name = "FORMAT")]
    pub output_format: Vec<FormatArg>,
    /// Number of partitions (DistDGL output, and the partition assignment of chunked output).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub num_parts: u32,
    /// Partitioning algorithm.
    #[arg(long, value_enum, default_value = "metis")]
    pub part_method: PartMethodArg,
    /// Chunked output: at most N rows per file (default: files of about 256 MiB).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_rows: Option<u64>,
    /// Drop edges whose endpoints are unknown (with a count) instead of failing.
    #[arg(long)]
    pub skip_nonexist_edges: bool,
    #[command(flatten)]
    pub memory: MemoryArg,
    /// Folder for spilled arrays (default: a hidden folder inside the output dir). Giving it
    /// also spills every feature at least --ext-mem-feat-size wide, as GraphStorm does.
    #[arg(long, value_name = "DIR")]
    pub ext_mem_workspace: Option<PathBuf>,
    /// With --ext-mem-workspace: minimum feature width (elements per row) that always spills.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub ext_mem_feat_size: usize,
    #[command(flatten)]
    pub log: LogArgs,
    /// `true`/`1` to request GraphBolt graphs; graphprep writes DistDGL partitions and prints
    /// the DGL command that converts them.
    #[arg(long, default_value = "false", value_name = "BOOL", action = clap::ArgAction::Set,
          value_parser = BoolishValueParser::new())]
    pub use_graphbolt: bool,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// Where `bert_hf` runs its model: `auto` uses a GPU when a CUDA libtorch is found
    /// (`GRAPHPREP_TORCH_LIB` or `LD_LIBRARY_PATH`), else the CPU.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: super::train::DeviceArg,
}

/// GraphStorm's graph-name rule: drop leading digits, map '-' to '_', the rest must be a
/// non-empty identifier.
pub fn check_graph_name(name: &str) -> Result<(), String> {
    let rest = name
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .replace('-', "_");
    let mut chars = rest.chars();
    let ok = match chars.next() {
        Some(c) => {
            (c == '_' || c.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric())
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(
            "after removing leading digits and replacing '-' with '_' it must be a non-empty \
             identifier (letters, digits, '_'), e.g. 'my_graph' or '123-abc'"
                .to_string(),
        )
    }
}

fn graph_name_parser(s: &str) -> Result<String, String> {
    check_graph_name(s).map(|()| s.to_string())
}

/// `--output-conf-file`'s folder must exist (GraphStorm's rule), checked before any work.
fn check_output_conf_file(path: Option<&Path>) -> Result<(), String> {
    let Some(path) = path else {
        return Ok(());
    };
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.is_dir() => Err(format!(
            "--output-conf-file {}: folder {} does not exist; create it first",
            path.display(),
            parent.display()
        )),
        _ => Ok(()),
    }
}

/// The resolved options of a run (everything but the plan).
fn options(a: ConstructArgs) -> ConstructOptions {
    let mut formats = Vec::new();
    for f in &a.output_format {
        let f = match f {
            FormatArg::DGL => OutputFormat::Dgl,
            FormatArg::DistDGL => OutputFormat::DistDgl,
            FormatArg::Chunked => OutputFormat::Chunked,
        };
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    ConstructOptions {
        output_dir: a.output_dir,
        graph_name: a.graph_name,
        output_conf_file: a.output_conf_file,
        remap_node_id: a.remap_node_id,
        add_reverse_edges: a.add_reverse_edges,
        validate_features: !a.no_feature_validate,
        formats,
        num_parts: a.num_parts,
        part_method: match a.part_method {
            PartMethodArg::Metis => PartMethod::Metis,
            PartMethodArg::Random => PartMethod::Random,
        },
        skip_nonexist_edges: a.skip_nonexist_edges,
        workspace: a.ext_mem_workspace,
        ext_mem_feat_size: a.ext_mem_feat_size,
        memory: a.memory.budget(),
        seed: a.seed.seed,
        sample_rows: None,
        device: a.device.into(),
        chunk_rows: a.chunk_rows.map(|n| n as usize),
    }
}

/// A resolved `construct` command line: the session it runs in, the config to load and the
/// options (shared with `validate`, which takes the same flags).
pub(super) struct Resolved {
    pub(super) session: args::Session,
    pub(super) conf_file: PathBuf,
    pub(super) opts: ConstructOptions,
}

/// Starts the session (logger at `level`, pool, progress bars when `draw`) and checks the
/// flags that need the file system. The error is the message to print (exit code 1).
pub(super) fn resolve(
    a: ConstructArgs,
    level: LevelFilter,
    draw: bool,
) -> Result<Resolved, String> {
    let threads = a.threads.threads.or(a.num_processes).unwrap_or(0);
    let session = args::start(level, threads, draw)?;
    check_output_conf_file(a.output_conf_file.as_deref())?;
    Ok(Resolved {
        session,
        conf_file: a.conf_file.clone(),
        opts: options(a),
    })
}

pub fn run(a: ConstructArgs) -> i32 {
    let (quiet, graphbolt) = (a.log.quiet, a.use_graphbolt);
    let (level, draw) = (a.log.level(), a.log.draw_progress());
    let Resolved {
        session,
        conf_file,
        opts,
    } = match resolve(a, level, draw) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    let progress = &session.progress;
    let result = session.pool.install(|| {
        let plan = args::load_plan(&conf_file, progress)?;
        pipeline::construct(&plan, &opts, progress)
    });
    match result {
        Ok(summary) => {
            if !quiet {
                eprintln!("{}", progress.table());
                eprintln!("{summary}");
            }
            if graphbolt {
                log::warn!(
                    "--use-graphbolt: graphprep writes DistDGL partitions; convert them with DGL: \
                     python -c \"import dgl; dgl.distributed.dgl_partition_to_graphbolt('{}')\"",
                    opts.output_dir
                        .join(format!("{}.json", opts.graph_name))
                        .display()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_names() {
        for ok in ["g", "my_graph", "123-abc", "a-b-c", "_x1"] {
            assert!(check_graph_name(ok).is_ok(), "{ok}");
        }
        for bad in ["my graph", "/g", "123", "", "a.b"] {
            assert!(check_graph_name(bad).is_err(), "{bad}");
        }
    }
}
