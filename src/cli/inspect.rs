//! `graphprep inspect`: prints a report on a finished DistDGL output (see [`crate::inspect`]).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::inspect;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    Table,
    /// One JSON object.
    Json,
}

/// Flags of `graphprep inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Output folder of `graphprep construct` (or GraphStorm's `construct_graph`), or its
    /// partition JSON.
    #[arg(value_name = "OUTPUT_DIR_OR_PARTITION_JSON")]
    pub path: PathBuf,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Also write charts into DIR (created when missing), each as SVG and PNG:
    /// `degree_<src>_<rel>_<dst>` (log-log degree distribution per edge type), `balance`
    /// (nodes and edges per partition), `label_<type>_<name>` (class counts) and `masks`
    /// (train/val/test sizes). Charts without data are skipped; stderr names what was written.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

/// Builds the report and prints it on stdout; errors go to stderr with exit code 1.
pub fn run(a: InspectArgs) -> i32 {
    let report = match inspect::inspect(&a.path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if let Some(dir) = &a.plot {
        match inspect::plot::write_charts(&report, dir) {
            Ok(done) => {
                for stem in &done.written {
                    eprintln!("plot: wrote {}.{{svg,png}}", dir.join(stem).display());
                }
                for why in &done.skipped {
                    eprintln!("plot: skipped {why}");
                }
            }
            Err(e) => {
                eprintln!("error: --plot: {e}");
                return 1;
            }
        }
    }
    print_report(a.format, &report, |r| r.to_table())
}

/// Prints `report` on stdout as `table` renders it or as one JSON object; returns the exit
/// code (1 when it cannot be serialized). Shared by the commands with `--format table|json`.
pub(super) fn print_report<R: serde::Serialize>(
    format: Format,
    report: &R,
    table: impl FnOnce(&R) -> String,
) -> i32 {
    match format {
        Format::Table => print!("{}", table(report)),
        Format::Json => match serde_json::to_string_pretty(report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: cannot serialize the report: {e}");
                return 1;
            }
        },
    }
    0
}
