//! `graphprep validate`: the dry run of `construct` with the same flags. Resolves the plan as
//! `construct` does, builds the graph of the first `--rows` rows of every input file and
//! prints what the full run would build and need (see [`crate::validate`]). Writes nothing.
//!
//! With `--target gsprocessing` it checks the config only (no input file is read): which keys
//! GraphStorm's GSProcessing drops, rejects or treats differently (see
//! [`crate::config::gsp_export`]).

use std::path::PathBuf;

use clap::Args;
use log::LevelFilter;

use super::args;
use super::construct::{self, ConstructArgs, Resolved};
use super::convert_config::{self, Target};
use super::inspect::{print_report, Format};
use crate::validate;

/// Flags of `graphprep validate`: construct's, with `--output-dir` and `--graph-name`
/// optional (nothing is written), plus the sample size and report format. The config may
/// also be given as the positional CONFIG.
#[derive(Debug, Args)]
#[command(
    mut_arg("conf_file", |a| a.required(false).required_unless_present("config")
        .default_value(".")),
    mut_arg("output_dir", |a| a.required(false).default_value(".")
        .help("construct's output directory (optional; nothing is written)")),
    mut_arg("graph_name", |a| a.required(false).default_value("graph")
        .help("construct's graph name (optional; checked like construct's)")),
)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub construct: ConstructArgs,
    /// Data rows read from the start of each input file.
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rows: u64,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// The config (instead of --conf-file).
    #[arg(value_name = "CONFIG", conflicts_with = "conf_file")]
    pub config: Option<PathBuf>,
    /// Check only whether the config converts to this dialect (no input file is read): lists,
    /// with JSON paths, each key GSProcessing rejects, drops or treats differently; exit code 1
    /// when one is rejected.
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub target: Option<Target>,
}

/// Validates and prints the report; exit code 1 on an invalid config or input, or when what
/// the full run cannot spill is estimated not to fit `--memory` (where construct would stop).
pub fn run(mut a: ValidateArgs) -> i32 {
    if let Some(c) = a.config.take() {
        a.construct.conf_file = c;
    }
    if let Some(Target::Gsprocessing) = a.target {
        return convert_config::validate_target(&a.construct.conf_file, a.format);
    }
    let level = match a.construct.log.level() {
        LevelFilter::Debug => LevelFilter::Debug,
        l => l.min(LevelFilter::Warn),
    };
    let Resolved {
        session,
        conf_file,
        mut opts,
    } = match construct::resolve(a.construct, level, false) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    opts.sample_rows = Some(usize::try_from(a.rows).unwrap_or(usize::MAX));
    let t = std::time::Instant::now();
    let progress = &session.progress;
    let result = session.pool.install(|| {
        let plan = args::load_plan(&conf_file, progress)?;
        validate::validate(&plan, &opts, progress)
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if print_report(a.format, &report, |r| r.to_table()) != 0 {
        return 1;
    }
    eprintln!(
        "{}: valid (checked in {:.2} s)",
        conf_file.display(),
        t.elapsed().as_secs_f64()
    );
    let m = &report.memory;
    let human = crate::workspace::budget::human;
    if !m.fits {
        eprintln!(
            "error: the full run will not fit: its edge lists, ID maps and largest block need an \
             estimated {} of memory, more than --memory {}, and cannot spill (construct stops \
             with a memory budget error); raise --memory or split the input",
            human(m.floor),
            human(m.budget)
        );
        return 1;
    }
    if !m.within_budget {
        log::warn!(
            "the full run needs an estimated {} of memory, more than --memory {} (data arrays \
             beyond half of it spill, the rest cannot); raise --memory to stay within it",
            human(m.peak),
            human(m.budget)
        );
    }
    0
}
