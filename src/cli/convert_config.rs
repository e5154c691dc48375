//! `graphprep convert-config --to gsprocessing`: writes the GSProcessing config that
//! GSProcessing's own converter makes of a GConstruct config (see
//! [`crate::config::gsp_export`]), for users who tune Spark-side options; and the check behind
//! `graphprep validate --target gsprocessing`, which lists every key GSProcessing drops,
//! rejects or treats differently. Neither reads input files.
//!
//! stdout carries only the converted config (or the report); warnings and errors go to stderr.
//! Exit codes: 0 converted (warnings possible), 1 unreadable config or something GSProcessing
//! cannot convert, 2 usage error.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::inspect::{print_report, Format};
use crate::config::gsp_export::{self, Export, Severity};
use crate::error::{Error, Result};

/// A config dialect graphprep converts GConstruct configs to.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Target {
    /// GraphStorm's Spark-based processing (GSProcessing 0.5.1).
    Gsprocessing,
}

/// Flags of `graphprep convert-config`.
#[derive(Debug, Args)]
pub struct ConvertConfigArgs {
    /// GConstruct config to convert (JSON).
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// Dialect to convert to.
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub to: Target,
    /// Write the converted config to FILE (through a temporary file renamed into place)
    /// instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not print the warnings (keys GSProcessing drops or treats differently).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Converts and writes the config; exit code 1 when it cannot be read or converted.
pub fn run(a: ConvertConfigArgs) -> i32 {
    let Target::Gsprocessing = a.to;
    let export = match export_file(&a.config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if !export.converts() {
        for f in export
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Rejected)
        {
            eprintln!(
                "error: cannot convert to GSProcessing: {}: {}",
                f.path, f.message
            );
        }
        return 1;
    }
    if !a.quiet {
        print_warnings(&export);
    }
    let mut text = match serde_json::to_string_pretty(&export.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot serialize the converted config: {e}");
            return 1;
        }
    };
    text.push('\n');
    match &a.output {
        None => {
            print!("{text}");
            0
        }
        Some(out) => match write_atomic(out, text.as_bytes()) {
            Ok(()) => {
                if !a.quiet {
                    eprintln!("wrote {}", out.display());
                }
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
    }
}

/// `graphprep validate --target gsprocessing CONFIG`: prints the findings on stdout (`format`)
/// and a summary on stderr; exit code 1 when something cannot convert.
pub(super) fn validate_target(conf: &Path, format: Format) -> i32 {
    let export = match export_file(conf) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let report = export.report();
    if print_report(format, &report, |r| r.to_table()) != 0 {
        return 1;
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let (rejected, filled) = (count(Severity::Rejected), count(Severity::Filled));
    if rejected > 0 {
        eprintln!(
            "error: {}: GSProcessing cannot convert this config ({rejected} rejected key(s))",
            conf.display()
        );
        return 1;
    }
    let others = report.findings.len() - filled;
    let mut summary = format!(
        "{}: converts to GSProcessing ({others} key(s) dropped or different)",
        conf.display()
    );
    if filled > 0 {
        summary.push_str(&format!(
            "; GSProcessing's own converter fails on {filled} key(s) it leaves out: give \
             GSProcessing the output of `graphprep convert-config --to gsprocessing`"
        ));
    }
    eprintln!("{summary}");
    0
}

fn print_warnings(export: &Export) {
    for f in &export.findings {
        eprintln!("warning: {} {}: {}", f.severity.as_str(), f.path, f.message);
    }
}

/// Reads and parses `conf` and converts it.
fn export_file(conf: &Path) -> Result<Export> {
    let text = std::fs::read_to_string(conf)
        .map_err(|e| Error::input(conf, format!("cannot read the config file: {e}")))?;
    let value: Value = crate::config::parse_json(&text, conf)?;
    Ok(gsp_export::export(&value))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into place,
/// so `path` is either the old file or the complete new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::input(path, "--output needs a file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::write(path, e)
    })
}
