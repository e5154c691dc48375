//! `graphprep remap` (being written).

use clap::Args;

#[derive(Debug, Args)]
pub struct RemapArgs {}

pub fn run(_args: RemapArgs) -> i32 {
    eprintln!("graphprep remap: not built yet");
    1
}
