//! `graphprep construct`: GraphStorm's `construct_graph` flags, resolved into
//! [`ConstructOptions`] and run.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use log::LevelFilter;

use crate::pipeline::{self, ConstructOptions, OutputFormat, PartMethod};
use crate::progress::Progress;

/// The fixed default seed: runs are reproducible unless `--seed` changes it.
pub const DEFAULT_SEED: u64 = 42;

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "verbatim")]
#[allow(clippy::upper_case_acronyms)]
pub enum FormatArg {
    /// A single DGL heterograph file `<output-dir>/<graph-name>.dgl`.
    DGL,
    /// DistDGL partitions (partition JSON + part*/ folders).
    DistDGL,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PartMethodArg {
    Metis,
    Random,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogLevelArg {
    Debug,
    Info,
    Warning,
    Error,
}

/// Flags of `graphprep construct` (same names and meanings as GraphStorm's construct_graph).
#[derive(Debug, Args)]
pub struct ConstructArgs {
    /// Path of the JSON construction config (GraphStorm gconstruct or GSProcessing dialect).
    #[arg(long, value_name = "FILE")]
    pub conf_file: PathBuf,
    /// Output directory (created if missing; the result is assembled in a temporary folder
    /// inside it and moved into place only when everything succeeded).
    #[arg(long, value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Graph name: after removing leading digits and mapping '-' to '_', a valid identifier.
    #[arg(long)]
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
    /// One or more of DGL, DistDGL (separate tokens: `--output-format DGL DistDGL`).
    #[arg(long, num_args = 1.., default_values = ["DistDGL"], value_name = "FORMAT")]
    pub output_format: Vec<FormatArg>,
    /// Number of partitions (DistDGL output).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub num_parts: u32,
    /// Partitioning algorithm.
    #[arg(long, value_enum, default_value = "metis")]
    pub part_method: PartMethodArg,
    /// Drop edges whose endpoints are unknown (with a count) instead of failing.
    #[arg(long)]
    pub skip_nonexist_edges: bool,
    /// Memory budget: bytes (`8GiB`, `512MiB`, `16G`) or a percentage of RAM (`50%`). Data
    /// arrays beyond half of it spill to the workspace; a run whose unspillable part (edge
    /// lists, ID maps) does not fit stops early with a budget error. Default: 3/4 of the
    /// memory available at start.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Folder for spilled arrays (default: a hidden folder inside the output dir). Giving it
    /// also spills every feature at least --ext-mem-feat-size wide, as GraphStorm does.
    #[arg(long, value_name = "DIR")]
    pub ext_mem_workspace: Option<PathBuf>,
    /// With --ext-mem-workspace: minimum feature width (elements per row) that always spills.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub ext_mem_feat_size: usize,
    /// Log level.
    #[arg(long, value_enum, default_value = "info")]
    pub logging_level: LogLevelArg,
    /// `true`/`1` to request GraphBolt graphs; graphprep writes DistDGL partitions and prints
    /// the DGL command that converts them.
    #[arg(long, default_value = "false", value_name = "BOOL")]
    pub use_graphbolt: String,
    /// Random seed for splits and partitioning: same input + seed = identical output files.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Worker threads (overrides --num-processes). Default: all cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bars and only warnings/errors on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `graphprep decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Path of the JSON construction config whose input files are decoded.
    #[arg(long, value_name = "FILE")]
    pub conf_file: PathBuf,
    /// Worker threads. Default: all cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// `graphprep decode`: reads all inputs and prints the stage table.
pub fn decode(a: DecodeArgs) -> i32 {
    super::logger::init(LevelFilter::Warn);
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return 1;
        }
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let progress = Progress::new(false);
    let t = std::time::Instant::now();
    match pool.install(|| pipeline::decode_inputs(&a.conf_file, &cwd, &progress)) {
        Ok((files, rows)) => {
            eprintln!("{}", progress.table());
            eprintln!(
                "decoded {rows} rows from {files} files in {:.2} s",
                t.elapsed().as_secs_f64()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
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
        Err(format!(
            "invalid --graph-name '{name}': after removing leading digits and replacing '-' with '_' \
             it must be a non-empty identifier (letters, digits, '_'), e.g. 'my_graph' or '123-abc'"
        ))
    }
}

pub fn run(a: ConstructArgs) -> i32 {
    let level = if a.quiet {
        LevelFilter::Warn
    } else {
        match a.logging_level {
            LogLevelArg::Debug => LevelFilter::Debug,
            LogLevelArg::Info => LevelFilter::Info,
            LogLevelArg::Warning => LevelFilter::Warn,
            LogLevelArg::Error => LevelFilter::Error,
        }
    };
    super::logger::init(level);
    if let Err(msg) = check_graph_name(&a.graph_name) {
        eprintln!("error: {msg}");
        return 2;
    }
    if a.num_parts == 0 {
        eprintln!("error: --num-parts must be at least 1");
        return 2;
    }
    let memory = match &a.memory {
        Some(m) => match crate::workspace::budget::parse_budget(m) {
            Ok(bytes) => crate::workspace::budget::Budget { bytes },
            Err(msg) => {
                eprintln!("error: {msg}");
                return 2;
            }
        },
        None => crate::workspace::budget::Budget::default_for_machine(),
    };
    let graphbolt = matches!(a.use_graphbolt.to_lowercase().as_str(), "true" | "1");
    let threads = a.threads.or(a.num_processes).unwrap_or(0);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start {threads} worker threads: {e}");
            return 1;
        }
    };
    let mut formats = Vec::new();
    for f in &a.output_format {
        let f = match f {
            FormatArg::DGL => OutputFormat::Dgl,
            FormatArg::DistDGL => OutputFormat::DistDgl,
        };
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let opts = ConstructOptions {
        conf_file: a.conf_file,
        output_dir: a.output_dir,
        graph_name: a.graph_name,
        cwd,
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
        memory,
        seed: a.seed,
    };
    let draw = !a.quiet && std::io::stderr().is_terminal();
    let progress = Progress::new(draw);
    let result = pool.install(|| pipeline::construct(&opts, &progress));
    match result {
        Ok(summary) => {
            if !a.quiet {
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
