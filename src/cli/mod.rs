//! Command-line interface: flag parsing (clap), logging, the rayon pool, progress output and
//! exit codes. The only module that knows about flags or reads the environment: it resolves
//! flags into the library's option structs, loads the config into a plan and runs the pipeline
//! on those typed values. Shared flag groups and the logger/pool/progress start-up live in
//! `args.rs`; one file per subcommand.
//!
//! Exit codes: 0 success, 1 bad input or failed run (the message names file/row/column or JSON
//! path), 2 usage error (unknown flag, bad flag value).

mod args;
mod construct;
mod convert_config;
mod decode;
mod inspect;
mod logger;
mod partition;
mod remap;
mod shell;
mod train;
mod validate;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

/// graphprep: GraphStorm-compatible graph construction, many times faster.
#[derive(Debug, Parser)]
#[command(
    name = "graphprep",
    version,
    about,
    long_about = None,
    propagate_version = true,
    infer_long_args = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a graph from node/edge tables and a GraphStorm gconstruct config
    /// (drop-in for `python -m graphstorm.gconstruct.construct_graph`).
    #[command(
        after_help = "Examples:\n  graphprep construct --conf-file sample_data/shop/config.json --output-dir out/shop \\\n      --graph-name shop --num-parts 2 --part-method metis\n  graphprep construct --conf-file cfg.json --output-dir out/g --graph-name g \\\n      --add-reverse-edges --memory 8GiB --seed 7\n\nExit codes: 0 success, 1 bad input or failed run, 2 usage error."
    )]
    Construct(Box<construct::ConstructArgs>),
    /// Dry run of `construct` with the same flags: resolves the config, reads the first
    /// `--rows` rows of every input file through the real readers, ID maps and transforms, and
    /// prints the planned graph, its estimated memory and output size. Writes nothing.
    #[command(
        after_help = "Examples:\n  graphprep validate --conf-file sample_data/shop/config.json\n  graphprep validate --conf-file cfg.json --memory 8GiB --add-reverse-edges --format json | jq .memory\n\nExit codes: 0 valid, 1 invalid config or input (construct's message), or the full run will not fit --memory, 2 usage error."
    )]
    Validate(Box<validate::ValidateArgs>),
    /// Convert a GConstruct config to another dialect: `--to gsprocessing` writes the config
    /// GraphStorm's Spark-based GSProcessing runs (for tuning Spark-side options); warnings on
    /// stderr name each key it drops or treats differently (`validate --target gsprocessing`
    /// lists them without converting).
    #[command(
        after_help = "Examples:\n  graphprep convert-config --to gsprocessing sample_data/shop/config.json\n  graphprep convert-config --to gsprocessing cfg.json --output gsp-config.json\n  graphprep validate --target gsprocessing cfg.json --format json | jq .findings\n\nExit codes: 0 converted (warnings possible), 1 unreadable config or a key GSProcessing cannot convert (the message names it and its JSON path), 2 usage error."
    )]
    ConvertConfig(convert_config::ConvertConfigArgs),
    /// Partition a chunked-format graph (graphprep's `--output-format chunked` folder or
    /// GSProcessing's output) into the DistDGL partitions `construct` writes, with METIS or
    /// random, on one machine (replaces GraphStorm's `gpartition` for graphs that fit it).
    #[command(
        after_help = "Examples:\n  graphprep partition --input-dir out/g/chunked --output-dir out/g-parts --num-parts 4\n  graphprep partition --input-dir gsp-output --output-dir parts --num-parts 8 --part-method random \\\n      --memory 64GiB --partition-assignment\n\nExit codes: 0 success, 1 bad input (the message names the file, row or metadata.json path), 2 usage error."
    )]
    Partition(partition::PartitionArgs),
    /// Decode every input file of a config and discard it: the time floor of `construct`
    /// (what `benches/compare.sh` reports next to the full run).
    #[command(
        after_help = "Example:\n  graphprep decode --conf-file sample_data/shop/config.json\n\nExit codes: 0 success, 1 bad input, 2 usage error."
    )]
    Decode(decode::DecodeArgs),
    /// Report on a finished DistDGL output (graphprep's or GraphStorm's): counts per type and
    /// partition, degrees, duplicates, feature statistics, labels, masks, balance.
    #[command(
        after_help = "Examples:\n  graphprep inspect out/shop\n  graphprep inspect out/shop/shop.json --format json | jq .partitions\n  graphprep inspect out/shop --plot plots     # degree, balance, label and mask charts (SVG + PNG)\n\nExit codes: 0 success, 1 unreadable output, 2 usage error."
    )]
    Inspect(inspect::InspectArgs),
    /// Remap embeddings/predictions written by `train`/`infer` (or by GraphStorm) to raw node
    /// IDs: Parquet/CSV with `nid` and `emb`/`pred` (drop-in for
    /// `python -m graphstorm.gconstruct.remap_result`).
    #[command(
        after_help = "Examples:\n  graphprep remap --cf task.yaml --part-config out/g/g.json\n  graphprep remap --node-id-mapping out/g/raw_id_mappings --node-emb-dir out/emb \\\n      --output-format csv --preserve-input true\n\nExit codes: 0 success (also when an ID map is missing: a warning, outputs stay .pt), 1 bad input, 2 usage error."
    )]
    Remap(remap::RemapArgs),
    /// Train a GNN on a constructed graph from a GraphStorm task YAML (node classification /
    /// regression, link prediction, edge classification / regression; drop-in for
    /// `python -m graphstorm.run.gs_*`).
    #[command(
        after_help = "Examples:\n  graphprep train --cf nc_rgcn.yaml --part-config out/g/g.json --save-model-path out/model\n  graphprep train --cf nc_rgcn.yaml --part-config out/g/g.json --num-epochs 3 --lr 0.005 \\\n      --save-embed-path out/emb --seed 1\n\nAny YAML key can be overridden as --key value. Exit codes: 0 success, 1 bad config/input or failed run, 2 usage error."
    )]
    Train(Box<train::TrainArgs>),
    /// Inference with a trained model: predictions and embeddings (= `train --inference`).
    #[command(
        after_help = "Example:\n  graphprep infer --cf nc_rgcn.yaml --part-config out/g/g.json \\\n      --restore-model-path out/model/epoch-4 --save-prediction-path out/pred\n\nExit codes: 0 success, 1 bad config/input or failed run, 2 usage error."
    )]
    Infer(Box<train::TrainArgs>),
    /// Alias of `train` accepting GraphStorm's launcher command line unchanged.
    #[command(name = "gs_node_classification")]
    #[command(
        after_help = "Example (GraphStorm\'s launcher line with `python -m graphstorm.run.` removed):\n  graphprep gs_node_classification --workspace ws --part-config g/g.json --num-trainers 1 \\\n      --num-servers 1 --num-samplers 0 --cf nc_rgcn.yaml --num-epochs 3"
    )]
    GsNodeClassification(Box<train::TrainArgs>),
    /// Alias of `train` for node regression tasks.
    #[command(name = "gs_node_regression")]
    #[command(
        after_help = "Example:\n  graphprep gs_node_regression --part-config g/g.json --num-trainers 1 --cf nr.yaml"
    )]
    GsNodeRegression(Box<train::TrainArgs>),
    /// Alias of `train` for link prediction (GraphStorm's `gs_link_prediction` command line).
    #[command(name = "gs_link_prediction")]
    #[command(
        after_help = "Example:\n  graphprep gs_link_prediction --part-config g/g.json --num-trainers 1 --cf lp_rgcn.yaml \\\n      --save-embed-path out/emb --exclusion after\n\nExit codes: 0 success, 1 bad config/input or failed run, 2 usage error."
    )]
    GsLinkPrediction(Box<train::TrainArgs>),
    /// Alias of `train` for edge classification.
    #[command(name = "gs_edge_classification")]
    #[command(
        after_help = "Example:\n  graphprep gs_edge_classification --part-config g/g.json --cf ec.yaml\n\nExit codes: 0 success, 1 bad config/input or failed run, 2 usage error."
    )]
    GsEdgeClassification(Box<train::TrainArgs>),
    /// Alias of `train` for edge regression.
    #[command(name = "gs_edge_regression")]
    #[command(
        after_help = "Example:\n  graphprep gs_edge_regression --part-config g/g.json --cf er.yaml\n\nExit codes: 0 success, 1 bad config/input or failed run, 2 usage error."
    )]
    GsEdgeRegression(Box<train::TrainArgs>),
    /// Print a shell completion script on stdout (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  graphprep completions bash > ~/.local/share/bash-completion/completions/graphprep\n  graphprep completions zsh > \"${fpath[1]}/_graphprep\""
    )]
    Completions(shell::CompletionsArgs),
    /// Print the man page (roff) on stdout.
    #[command(
        after_help = "Examples:\n  graphprep man > graphprep.1 && man ./graphprep.1\n  graphprep man construct > graphprep-construct.1"
    )]
    Man(shell::ManArgs),
}

/// Subcommands whose unknown `--key value` pairs are YAML overrides.
const TRAIN_COMMANDS: [&str; 7] = [
    "train",
    "infer",
    "gs_node_classification",
    "gs_node_regression",
    "gs_link_prediction",
    "gs_edge_classification",
    "gs_edge_regression",
];

/// Takes the YAML overrides off a train-like command line (see [`train::split_overrides`]).
fn split_train_args(args: Vec<OsString>) -> (Vec<OsString>, Vec<(String, String)>) {
    let Some(sub) = args.get(1).map(|s| s.to_string_lossy().into_owned()) else {
        return (args, Vec::new());
    };
    if !TRAIN_COMMANDS.contains(&sub.as_str()) {
        return (args, Vec::new());
    }
    let cmd = <Cli as clap::CommandFactory>::command();
    let Some(sc) = cmd.find_subcommand(&sub) else {
        return (args, Vec::new());
    };
    let mut known: Vec<String> = vec!["help".into(), "version".into()];
    for a in sc.get_arguments() {
        if let Some(l) = a.get_long() {
            known.push(l.to_string());
        }
        if let Some(al) = a.get_all_aliases() {
            known.extend(al.iter().map(|s| s.to_string()));
        }
    }
    let mut head: Vec<OsString> = args[..2].to_vec();
    let (rest, overrides) = train::split_overrides(args[2..].to_vec(), &known);
    head.extend(rest);
    (head, overrides)
}

/// Parses `args` (including the program name), runs the command and returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let (args, overrides) = split_train_args(args.into_iter().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Construct(a) => construct::run(*a),
        Command::Validate(a) => validate::run(*a),
        Command::ConvertConfig(a) => convert_config::run(a),
        Command::Partition(a) => partition::run(a),
        Command::Decode(a) => decode::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Remap(a) => remap::run(a),
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
        Command::Train(mut a) => {
            a.overrides = overrides;
            train::run(*a, train::Flavor::Train)
        }
        Command::Infer(mut a) => {
            a.overrides = overrides;
            train::run(*a, train::Flavor::Infer)
        }
        Command::GsNodeClassification(mut a) => {
            a.overrides = overrides;
            train::run(
                *a,
                train::Flavor::Task(crate::train::config::Task::NodeClassification),
            )
        }
        Command::GsLinkPrediction(mut a) => {
            a.overrides = overrides;
            train::run(
                *a,
                train::Flavor::Task(crate::train::config::Task::LinkPrediction),
            )
        }
        Command::GsEdgeClassification(mut a) => {
            a.overrides = overrides;
            train::run(
                *a,
                train::Flavor::Task(crate::train::config::Task::EdgeClassification),
            )
        }
        Command::GsEdgeRegression(mut a) => {
            a.overrides = overrides;
            train::run(
                *a,
                train::Flavor::Task(crate::train::config::Task::EdgeRegression),
            )
        }
        Command::GsNodeRegression(mut a) => {
            a.overrides = overrides;
            train::run(
                *a,
                train::Flavor::Task(crate::train::config::Task::NodeRegression),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_graphstorm_flags() {
        let mut cmd = Cli::command();
        let sub = cmd.find_subcommand_mut("construct").unwrap();
        let help = sub.render_long_help().to_string();
        for flag in [
            "--conf-file",
            "--output-dir",
            "--graph-name",
            "--num-processes",
            "--num-processes-for-nodes",
            "--num-processes-for-edges",
            "--output-conf-file",
            "--remap-node-id",
            "--add-reverse-edges",
            "--no-feature-validate",
            "--output-format",
            "--num-parts",
            "--part-method",
            "--skip-nonexist-edges",
            "--ext-mem-workspace",
            "--ext-mem-feat-size",
            "--logging-level",
            "--use-graphbolt",
            "--seed",
            "--threads",
            "--quiet",
        ] {
            assert!(help.contains(flag), "missing {flag} in help");
        }
    }
}
