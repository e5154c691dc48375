//! Flag groups shared by the subcommands (flattened into each one's clap struct), and
//! [`start`]: the one place that installs the logger, builds the rayon pool and creates the
//! progress handle.
//!
//! Each group turns its raw text into a typed value while clap parses (`value_parser`), so a
//! bad value is a usage error (exit code 2) with clap's message naming the flag.

use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use log::LevelFilter;

use crate::progress::Progress;
use crate::workspace::budget::{self, Budget};

/// The fixed default seed: runs are reproducible unless `--seed` changes it.
pub const DEFAULT_SEED: u64 = 42;

/// `--threads`.
#[derive(Debug, Clone, Args)]
pub struct ThreadsArg {
    /// Worker threads. Default: all cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// `--memory`, parsed into a [`Budget`].
#[derive(Debug, Clone, Args)]
pub struct MemoryArg {
    /// Memory budget: bytes (`8GiB`, `512MiB`, `16G`) or a percentage of RAM (`50%`). Data
    /// arrays beyond half of it spill to the workspace; a run whose unspillable part (edge
    /// lists, ID maps) does not fit stops early with a budget error. Default: 3/4 of the
    /// memory available at start.
    #[arg(long, value_name = "SIZE", value_parser = budget_parser)]
    pub memory: Option<Budget>,
}

impl MemoryArg {
    /// The budget given, or the machine default.
    pub fn budget(&self) -> Budget {
        self.memory.unwrap_or_else(Budget::default_for_machine)
    }
}

fn budget_parser(s: &str) -> Result<Budget, String> {
    budget::parse_budget(s).map(|bytes| Budget { bytes })
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogLevelArg {
    Debug,
    Info,
    Warning,
    Error,
}

/// `--logging-level` and `--quiet`.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log level.
    #[arg(long, value_enum, default_value = "info")]
    pub logging_level: LogLevelArg,
    /// No progress bars and only warnings/errors on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl LogArgs {
    /// The log level (`--quiet` means warnings and errors only).
    pub fn level(&self) -> LevelFilter {
        if self.quiet {
            return LevelFilter::Warn;
        }
        match self.logging_level {
            LogLevelArg::Debug => LevelFilter::Debug,
            LogLevelArg::Info => LevelFilter::Info,
            LogLevelArg::Warning => LevelFilter::Warn,
            LogLevelArg::Error => LevelFilter::Error,
        }
    }

    /// Progress bars are drawn unless `--quiet`, stderr is not a terminal or `NO_COLOR` is
    /// set (non-empty, <https://no-color.org>; clap's help follows it too).
    pub fn draw_progress(&self) -> bool {
        draw_progress(
            self.quiet,
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        )
    }
}

/// Whether to draw progress bars: not `quiet`, stderr a terminal, `NO_COLOR` unset or empty.
fn draw_progress(quiet: bool, terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    !quiet && terminal && no_color.is_none_or(|v| v.is_empty())
}

/// `--seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArg {
    /// Random seed for splits and partitioning: same input + seed = identical output files.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

/// What a subcommand runs inside: the worker pool and the progress handle.
pub struct Session {
    pub pool: rayon::ThreadPool,
    pub progress: Progress,
}

/// Installs the stderr logger at `level`, builds the worker pool (`threads`; 0 = all cores)
/// and the progress handle. The error is the message to print (exit code 1).
pub fn start(level: LevelFilter, threads: usize, draw_progress: bool) -> Result<Session, String> {
    super::logger::init(level);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| {
            let n = if threads == 0 {
                "the".to_string()
            } else {
                threads.to_string()
            };
            format!("cannot start {n} worker threads: {e}")
        })?;
    Ok(Session {
        pool,
        progress: Progress::new(draw_progress),
    })
}

/// The working directory (relative config paths fall back to it), `.` if it cannot be read.
pub fn current_dir() -> std::path::PathBuf {
    std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."))
}

/// Loader options from the environment: the working directory and the Hugging Face hub
/// cache (`HF_HUB_CACHE`, `HF_HOME`, `XDG_CACHE_HOME`, `HOME`).
pub fn load_options() -> crate::config::LoadOptions {
    crate::config::LoadOptions {
        cwd: current_dir(),
        hf_hub_cache: crate::config::hub_cache_from_env(|k| std::env::var(k).ok()),
    }
}

/// Reads and resolves the config, recording the time as the "load config" stage.
pub fn load_plan(
    conf_file: &std::path::Path,
    progress: &Progress,
) -> crate::error::Result<crate::config::Plan> {
    let t = std::time::Instant::now();
    let plan = crate::config::load_plan(conf_file, &load_options())?;
    progress.record(
        "load config",
        (plan.nodes.len() + plan.edges.len()) as u64,
        "blocks",
        t.elapsed().as_secs_f64(),
    );
    Ok(plan)
}

/// GraphStorm's boolean flag values: `true`/`1` (any case) is true, anything else false.
pub fn gs_bool(s: &str) -> Result<bool, String> {
    Ok(matches!(s.to_ascii_lowercase().as_str(), "true" | "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_turns_progress_bars_off() {
        assert!(draw_progress(false, true, None));
        assert!(draw_progress(false, true, Some("".into())));
        assert!(!draw_progress(false, true, Some("1".into())));
        assert!(!draw_progress(true, true, None));
        assert!(!draw_progress(false, false, None));
    }

    #[test]
    fn memory_values_parse_to_budgets() {
        assert_eq!(budget_parser("2MiB"), Ok(Budget { bytes: 2 << 20 }));
        assert!(budget_parser("lots").unwrap_err().contains("8GiB"));
    }
}
