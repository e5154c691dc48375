//! `graphprep decode`: decodes every input file of a config and discards it, then prints the
//! stage table: the time floor of `construct`.

use std::path::PathBuf;

use clap::Args;
use log::LevelFilter;

use super::args::{self, ThreadsArg};
use crate::pipeline;

/// Flags of `graphprep decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Path of the JSON construction config whose input files are decoded.
    #[arg(long, value_name = "FILE")]
    pub conf_file: PathBuf,
    #[command(flatten)]
    pub threads: ThreadsArg,
}

/// Reads all inputs and prints the stage table (warnings only on the log).
pub fn run(a: DecodeArgs) -> i32 {
    let session = match args::start(LevelFilter::Warn, a.threads.threads.unwrap_or(0), false) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    let progress = &session.progress;
    let t = std::time::Instant::now();
    let result = session.pool.install(|| {
        let plan = args::load_plan(&a.conf_file, progress)?;
        pipeline::decode_inputs(&plan, progress)
    });
    match result {
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
