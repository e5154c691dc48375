//! `graphprep train` / `graphprep infer` and the drop-in aliases `gs_node_classification`,
//! `gs_node_regression`, `gs_link_prediction`, `gs_edge_classification`, `gs_edge_regression`: GraphStorm's launcher + trainer flags (spec/training.md §1.2–1.3) on
//! one process. Launcher flags that only matter for several machines or processes are accepted
//! and ignored with a note; every other `--key value` is a YAML override, as in GraphStorm
//! (an unknown key is an error naming it).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::args::{gs_bool, LogArgs, SeedArg, ThreadsArg};

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// CUDA when a GPU and a CUDA libtorch are present, else CPU.
    Auto,
    Cpu,
    Cuda,
}

impl From<DeviceArg> for crate::train::device::DevicePref {
    fn from(d: DeviceArg) -> Self {
        use crate::train::device::DevicePref;
        match d {
            DeviceArg::Auto => DevicePref::Auto,
            DeviceArg::Cpu => DevicePref::Cpu,
            DeviceArg::Cuda => DevicePref::Cuda,
        }
    }
}

/// Flags of `graphprep train` / `infer` / `gs_node_classification` / `gs_node_regression`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// GraphStorm task YAML (`--cf` / `--yaml_config_file`).
    #[arg(
        long = "cf",
        visible_alias = "yaml_config_file",
        value_name = "TASK.yaml"
    )]
    pub cf: PathBuf,
    /// Partition JSON written by `graphprep construct` or GraphStorm's `construct_graph`
    /// (default: the YAML's `part_config`).
    #[arg(long, value_name = "GRAPH.json")]
    pub part_config: Option<PathBuf>,
    /// Run inference (restore `restore_model_path`, predict, save embeddings/predictions).
    #[arg(long)]
    pub inference: bool,
    /// Change into this folder first; relative paths are resolved against it (GraphStorm's
    /// launcher flag).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Compute device. `cuda` loads libtorch's CUDA backend at run time.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// Seed of weights, batch order, sampling and dropout: same seed and thread count give the
    /// same model and embeddings.
    #[command(flatten)]
    pub seed: SeedArg,
    /// Link prediction / edge tasks with `exclude_training_targets`: how each batch's target
    /// edges and their reverse edges leave message passing.
    #[arg(long, value_enum, default_value = "after")]
    pub exclusion: ExclusionArg,
    /// Link prediction evaluation: filtered ranking (candidates that are edges of the graph
    /// are dropped) instead of GraphStorm's unfiltered protocol.
    #[arg(long)]
    pub lp_filtered: bool,
    /// Where to write metrics.json (default: `<save_model_path>/metrics.json`).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// Torch intra-op threads (GraphStorm's `--num-omp-threads`; default: `--threads`).
    #[arg(long, value_name = "N")]
    pub num_omp_threads: Option<usize>,
    /// Trainer processes (GraphStorm launcher): graphprep trains in one process with threads.
    #[arg(long, value_name = "N")]
    pub num_trainers: Option<usize>,
    /// Sampler processes per trainer: graphprep samples on threads, N+2 batches ahead.
    #[arg(long, value_name = "N")]
    pub num_samplers: Option<usize>,
    /// Ignored (no graph server).
    #[arg(long, value_name = "N")]
    pub num_servers: Option<usize>,
    /// Ignored (no graph server).
    #[arg(long, value_name = "N")]
    pub num_server_threads: Option<usize>,
    /// Ignored: graphprep runs on one machine.
    #[arg(long, value_name = "FILE")]
    pub ip_config: Option<PathBuf>,
    /// Ignored: graphprep runs on one machine.
    #[arg(long, value_name = "PORT")]
    pub ssh_port: Option<u16>,
    /// Ignored: graphprep runs on one machine.
    #[arg(long, value_name = "USER")]
    pub ssh_username: Option<String>,
    /// Ignored (graphprep builds its own CSC).
    #[arg(long, value_name = "FORMAT")]
    pub graph_format: Option<String>,
    /// Ignored (no remote processes).
    #[arg(long, value_name = "ENV", num_args = 1..)]
    pub extra_envs: Vec<String>,
    /// Ignored (deprecated in GraphStorm too).
    #[arg(long, value_name = "BOOL")]
    pub verbose: Option<String>,
    /// Ignored (one process).
    #[arg(long, value_name = "N")]
    pub local_rank: Option<usize>,
    /// Remap embeddings/predictions to raw node IDs after the run (`true`/`false`).
    #[arg(long, value_name = "BOOL", default_value = "true", value_parser = gs_bool, action = clap::ArgAction::Set)]
    pub do_nid_remap: bool,
    /// Rows per remapped output file.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub output_chunk_size: usize,
    /// Keep the `.pt` files that remapping converted (`true`/`false`).
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = gs_bool, action = clap::ArgAction::Set)]
    pub preserve_input: bool,
    /// Accepted (one machine: the file system is shared).
    #[arg(long, value_name = "BOOL")]
    pub with_shared_fs: Option<String>,
    /// Also write the log to this file.
    #[arg(long, value_name = "FILE")]
    pub logging_file: Option<PathBuf>,
    #[command(flatten)]
    pub log: LogArgs,
    /// YAML overrides (`--num-epochs 3`, `--lr 0.01`, ...), collected by the CLI before clap.
    #[arg(skip)]
    pub overrides: Vec<(String, String)>,
}

/// Splits the `--key value` pairs that are not flags of `sub` (YAML overrides) off `args`.
/// A `--key` that is an unambiguous prefix of one known flag is that flag (argparse's and
/// clap's `infer_long_args` rule) and is passed on spelled out; any other unknown key is an
/// override.
pub fn split_overrides(
    args: Vec<OsString>,
    known: &[String],
) -> (Vec<OsString>, Vec<(String, String)>) {
    let mut keep = Vec::with_capacity(args.len());
    let mut overrides = Vec::new();
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().into_owned();
        let Some(body) = s.strip_prefix("--") else {
            keep.push(a);
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        if name.is_empty() || known.contains(&name) {
            keep.push(a);
            continue;
        }
        let mut prefix_of = known.iter().filter(|k| k.starts_with(name.as_str()));
        if let (Some(flag), None) = (prefix_of.next(), prefix_of.next()) {
            keep.push(match &inline {
                Some(v) => format!("--{flag}={v}").into(),
                None => format!("--{flag}").into(),
            });
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let mut vals = Vec::new();
                while let Some(n) = it.peek() {
                    if n.to_string_lossy().starts_with("--") {
                        break;
                    }
                    vals.push(it.next().unwrap_or_default().to_string_lossy().into_owned());
                }
                vals.join(" ")
            }
        };
        overrides.push((name, value));
    }
    (keep, overrides)
}

/// Which command the user ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Train,
    Infer,
    /// A `gs_<task>` alias: the YAML's task section must be this one.
    Task(crate::train::config::Task),
}

/// `--exclusion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExclusionArg {
    /// Drop the batch's target edges (and their reverses) from the sampled blocks (DGL >= 2.3).
    After,
    /// Remove them from the candidates before sampling each node's neighbours.
    Before,
    /// Keep them (what GraphStorm 0.5.1 on DGL 2.1 actually does; for parity runs).
    Off,
}

#[cfg(not(feature = "train"))]
pub fn run(_a: TrainArgs, _flavor: Flavor) -> i32 {
    eprintln!(
        "error: this graphprep was built without training (cargo feature `train`).\n\
         Rebuild with it: bash tests/setup_libtorch.sh && cargo build --release\n\
         (setup_libtorch.sh installs libtorch 2.11.0 into .libtorch/; the default features include `train`)"
    );
    1
}

#[cfg(feature = "train")]
pub fn run(a: TrainArgs, flavor: Flavor) -> i32 {
    match run_inner(a, flavor) {
        Ok(()) => 0,
        Err(msg) => {
            // once, on stderr, like every other subcommand (not also as a log line)
            eprintln!("error: {msg}");
            1
        }
    }
}

/// Training allocates and frees the same large tensors every batch (gradients of whole
/// src-node sets); glibc would return them to the kernel and page-fault them back in zeroed.
/// Keep them in the heap instead (mmap threshold and trim threshold at 1 GiB).
#[cfg(feature = "train")]
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters; called before the run's
    // threads start allocating.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(feature = "train")]
fn run_inner(a: TrainArgs, flavor: Flavor) -> Result<(), String> {
    use crate::train::config;
    use crate::train::run::{infer, train, RunOptions};

    keep_freed_memory();
    let threads = a.threads.threads.unwrap_or(0);
    let draw = a.log.draw_progress();
    let session = super::args::start(a.log.level(), threads, draw)?;
    // The sampler's prefetch thread runs on rayon's global pool: give it the same size.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(session.pool.current_num_threads())
        .build_global();
    if let Some(ws) = &a.workspace {
        std::env::set_current_dir(ws)
            .map_err(|e| format!("--workspace {}: cannot change into it: {e}", ws.display()))?;
    }
    for (flag, given) in [
        ("--num-servers", a.num_servers.is_some()),
        ("--num-server-threads", a.num_server_threads.is_some()),
        ("--ip-config", a.ip_config.is_some()),
        ("--ssh-port", a.ssh_port.is_some()),
        ("--ssh-username", a.ssh_username.is_some()),
        ("--graph-format", a.graph_format.is_some()),
        ("--extra-envs", !a.extra_envs.is_empty()),
        ("--verbose", a.verbose.is_some()),
        ("--local-rank", a.local_rank.is_some()),
        ("--logging-file", a.logging_file.is_some()),
    ] {
        if given {
            log::info!(
                "{flag}: accepted and ignored (graphprep trains in one process on one machine)"
            );
        }
    }
    if a.num_trainers.is_some_and(|n| n > 1) {
        log::info!(
            "--num-trainers > 1: graphprep trains in one process; use --threads for parallelism"
        );
    }
    let mut overrides = a.overrides.clone();
    if let Some(p) = &a.part_config {
        overrides.retain(|(k, _)| k.replace('-', "_") != "part_config");
        overrides.push(("part_config".into(), p.to_string_lossy().into_owned()));
    }
    let cfg = config::load(&a.cf, &overrides).map_err(|e| e.to_string())?;
    if let Flavor::Task(want) = flavor {
        if want != cfg.task {
            return Err(format!(
                "{}: the task section is {}; run gs_{} (or graphprep train)",
                a.cf.display(),
                cfg.task.section(),
                cfg.task.section()
            ));
        }
    }
    if let Some(p) = &cfg.save_perf_results_path {
        log::warn!(
            "save_perf_results_path ({}): graphprep writes its numbers to metrics.json (--metrics-file), not performance_results.json",
            p.display()
        );
    }
    if let Some(p) = &cfg.restore_optimizer_path {
        log::warn!(
            "restore_optimizer_path ({}): ignored; graphprep restores the optimizer state from restore_model_path's optimizer.safetensors",
            p.display()
        );
    }
    let part_config = cfg.part_config.clone().ok_or_else(|| {
        "no partition config: pass --part-config GRAPH.json (or set part_config in the YAML)"
            .to_string()
    })?;
    if !part_config.exists() {
        return Err(format!(
            "--part-config {}: no such file or folder",
            part_config.display()
        ));
    }
    let device = crate::train::device::resolve(a.device.into())?;
    let torch_threads = a
        .num_omp_threads
        .or(a.threads.threads)
        .unwrap_or_else(|| session.pool.current_num_threads());
    tch::set_num_threads(torch_threads.max(1) as i32);
    let inference = a.inference || flavor == Flavor::Infer;
    let opts = RunOptions {
        part_config: part_config.clone(),
        seed: a.seed.seed,
        device,
        inference,
        metrics_file: a.metrics_file.clone(),
        progress: draw,
        runtime_yaml: Some(cfg.runtime_yaml()),
        prefetch: a.num_samplers.unwrap_or(0) + 2,
        exclusion: match a.exclusion {
            ExclusionArg::After => Some(crate::train::sampler::ExclusionMode::After),
            ExclusionArg::Before => Some(crate::train::sampler::ExclusionMode::Before),
            ExclusionArg::Off => None,
        },
        lp_filtered: a.lp_filtered,
    };
    let summary = session
        .pool
        .install(|| {
            if inference {
                infer(&cfg, &opts)
            } else {
                train(&cfg, &opts)
            }
        })
        .map_err(|e| e.to_string())?;
    if a.do_nid_remap && (summary.embed_dir.is_some() || summary.prediction_dir.is_some()) {
        let mut ro =
            crate::remap::RemapOptions::from_train_config(&cfg).map_err(|e| e.to_string())?;
        ro.node_emb_dir = summary.embed_dir.clone();
        ro.prediction_dir = summary.prediction_dir.clone();
        ro.output_chunk_size = a.output_chunk_size;
        ro.preserve_input = a.preserve_input;
        let r = session
            .pool
            .install(|| crate::remap::remap(&ro))
            .map_err(|e| e.to_string())?;
        match &r.skipped {
            Some(w) => log::warn!("{w}"),
            None => log::info!(
                "remapped {} rows to raw node IDs ({} files)",
                r.rows,
                r.written.len()
            ),
        }
    }
    if let Some(t) = summary.best_test {
        log::info!(
            "best validation {} {:.4}, test {:.4}",
            summary.metric,
            summary.best_val.unwrap_or(f64::NAN),
            t
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(args: &[&str]) -> (Vec<String>, Vec<(String, String)>) {
        let known: Vec<String> = ["cf", "part-config", "num-trainers", "num-servers", "seed"]
            .map(String::from)
            .to_vec();
        let (keep, ov) = split_overrides(args.iter().map(OsString::from).collect(), &known);
        let keep = keep
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        (keep, ov)
    }

    #[test]
    fn unambiguous_prefixes_are_flags_the_rest_overrides() {
        let (keep, ov) = split(&[
            "--cf",
            "t.yaml",
            "--part",
            "g.json",
            "--num-t=1",
            "--num",
            "2",
            "--lr",
            "0.1",
        ]);
        assert_eq!(
            keep,
            [
                "--cf",
                "t.yaml",
                "--part-config",
                "g.json",
                "--num-trainers=1"
            ]
        );
        // `--num` could be num-trainers or num-servers: not a flag, so a YAML key.
        assert_eq!(
            ov,
            [("num".into(), "2".into()), ("lr".into(), "0.1".into())]
        );
    }
}
