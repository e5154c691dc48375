//! `graphprep remap`: the flags of GraphStorm's `python -m graphstorm.gconstruct.remap_result`
//! (spec `gconstruct.md` §5, `training.md` §4.4), resolved into [`crate::remap::RemapOptions`].
//! With `--cf` the folders come from the training YAML; explicit flags win over it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::args::{self, gs_bool, LogArgs};
use crate::remap::{self as lib, OutputFormat, RemapOptions};
use crate::train::config;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Parquet,
    Csv,
}

/// Flags of `graphprep remap` (boxed: the folder flags make the struct large).
#[derive(Debug, Args)]
pub struct RemapArgs {
    #[command(flatten)]
    pub flags: Box<RemapFlags>,
}

/// The flags themselves.
#[derive(Debug, Args)]
pub struct RemapFlags {
    /// GraphStorm training YAML: the ID map folder (`<dirname(part_config)>/raw_id_mappings`),
    /// `save_embed_path`, `save_prediction_path` and `target_ntype` come from it.
    #[arg(long = "cf", visible_alias = "yaml_config_file", value_name = "YAML")]
    pub cf: Option<PathBuf>,
    /// Partition JSON overriding the YAML's `part_config` (with `--cf`; graphprep extension).
    #[arg(long, value_name = "JSON")]
    pub part_config: Option<PathBuf>,
    /// Folder of `<ntype>/part-*.parquet` raw ID maps (`raw_id_mappings` of the graph).
    #[arg(long, value_name = "DIR")]
    pub node_id_mapping: Option<PathBuf>,
    /// Embedding folder (`emb_info.json`, `<ntype>/embed-*.pt`).
    #[arg(long, value_name = "DIR")]
    pub node_emb_dir: Option<PathBuf>,
    /// Prediction folder (`result_info.json`, `<ntype>/predict-*.pt`).
    #[arg(long, value_name = "DIR")]
    pub prediction_dir: Option<PathBuf>,
    /// Node types with predictions (default: `result_info.json`'s `ntypes`).
    #[arg(long, num_args = 1.., value_name = "NTYPE")]
    pub pred_ntypes: Vec<String>,
    /// Edge types with predictions, each `src,rel,dst` (default: `result_info.json`'s `etypes`).
    #[arg(long, num_args = 1.., value_name = "SRC,REL,DST")]
    pub pred_etypes: Vec<String>,
    /// Output file format.
    #[arg(long, value_enum, default_value = "parquet")]
    pub output_format: FormatArg,
    /// CSV delimiter.
    #[arg(long, default_value = ",", value_name = "SEP")]
    pub output_delimiter: String,
    /// Renames of the built-in columns (`nid, pred, src_nid, dst_nid, emb`), each `old,new`.
    #[arg(long, num_args = 1.., value_name = "OLD,NEW")]
    pub column_names: Vec<String>,
    /// Worker threads (GraphStorm's processes).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub num_processes: usize,
    /// Rows per output file (default: unlimited, one file per input).
    #[arg(long, default_value_t = usize::MAX, hide_default_value = true, value_name = "ROWS")]
    pub output_chunk_size: usize,
    /// Keep the converted `.pt` inputs (`--preserve-input true`; the bare flag means true).
    #[arg(long, value_parser = gs_bool, num_args = 0..=1, default_value = "false",
          default_missing_value = "true", value_name = "BOOL")]
    pub preserve_input: bool,
    /// Whether all ranks see the same files (splits each folder's files among ranks).
    #[arg(long, value_parser = gs_bool, num_args = 0..=1, default_value = "true",
          default_missing_value = "true", value_name = "BOOL")]
    pub with_shared_fs: bool,
    /// This process's rank.
    #[arg(long, default_value_t = 0)]
    pub rank: usize,
    /// Number of ranks.
    #[arg(long, default_value_t = 1)]
    pub world_size: usize,
    #[command(flatten)]
    pub log: LogArgs,
}

fn resolve(a: &RemapFlags) -> Result<RemapOptions, String> {
    let mut o = match &a.cf {
        Some(cf) => {
            let mut ov = Vec::new();
            if let Some(p) = &a.part_config {
                ov.push(("part-config".to_string(), p.display().to_string()));
            }
            let cfg = config::load(cf, &ov).map_err(|e| e.to_string())?;
            match (&a.node_id_mapping, &cfg.part_config) {
                (Some(m), None) => {
                    let mut o = RemapOptions::new(m.clone());
                    o.node_emb_dir = cfg.save_embed_path.clone();
                    o.prediction_dir = cfg.save_prediction_path.clone();
                    o.pred_ntypes = vec![cfg.target_ntype.clone()];
                    o
                }
                _ => RemapOptions::from_train_config(&cfg).map_err(|e| e.to_string())?,
            }
        }
        None => {
            let m = a.node_id_mapping.clone().ok_or(
                "--node-id-mapping is required without --cf (the graph's raw_id_mappings folder)",
            )?;
            RemapOptions::new(m)
        }
    };
    if let Some(m) = &a.node_id_mapping {
        o.node_id_mapping = m.clone();
    }
    if a.node_emb_dir.is_some() {
        o.node_emb_dir = a.node_emb_dir.clone();
    }
    if a.prediction_dir.is_some() {
        o.prediction_dir = a.prediction_dir.clone();
    }
    if !a.pred_ntypes.is_empty() {
        o.pred_ntypes = a.pred_ntypes.clone();
    }
    for et in &a.pred_etypes {
        let p: Vec<&str> = et.split(',').map(str::trim).collect();
        if p.len() != 3 || p.iter().any(|s| s.is_empty()) {
            return Err(format!("--pred-etypes: '{et}' is not src,rel,dst"));
        }
        o.pred_etypes
            .push((p[0].to_string(), p[1].to_string(), p[2].to_string()));
    }
    if o.node_emb_dir.is_none() && o.prediction_dir.is_none() {
        return Err(
            "nothing to remap: give --node-emb-dir and/or --prediction-dir (or --cf)".into(),
        );
    }
    o.output_format = match a.output_format {
        FormatArg::Parquet => OutputFormat::Parquet,
        FormatArg::Csv => OutputFormat::Csv,
    };
    o.output_delimiter = a.output_delimiter.clone();
    for c in &a.column_names {
        let (old, new) = c
            .split_once(',')
            .ok_or_else(|| format!("--column-names: '{c}' is not old,new"))?;
        o.column_names
            .push((old.trim().to_string(), new.trim().to_string()));
    }
    o.output_chunk_size = a.output_chunk_size;
    o.preserve_input = a.preserve_input;
    o.with_shared_fs = a.with_shared_fs;
    o.rank = a.rank;
    o.world_size = a.world_size;
    Ok(o)
}

/// Remaps; errors go to stderr with exit code 1. A missing ID map is a warning (exit 0).
pub fn run(a: RemapArgs) -> i32 {
    let a = a.flags;
    let session = match args::start(a.log.level(), a.num_processes.max(1), false) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    let opts = match resolve(&a) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    match session.pool.install(|| lib::remap(&opts)) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
