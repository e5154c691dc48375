//! GraphStorm YAML task configs (spec `training.md` §1.3–1.6) → a typed [`TrainConfig`].
//!
//! Structure (§1.4): `version`, `gsf: {section: {key: value}}`, optional `udf` / `lm_model`.
//! Section names are cosmetic except the task sections: `node_classification` and
//! `node_regression` set the task (the last one in file order wins); the edge, link prediction
//! and multi-task sections are rejected as not supported yet. Every key of every section is
//! one flat option (a key in two sections: the later one wins), then CLI overrides
//! (`--key value`, dash or underscore spelling) replace YAML values as GraphStorm's
//! `override_arguments` does.
//!
//! Every key is checked against a table of GraphStorm 0.5.1's keys: keys graphprep uses are
//! parsed with GraphStorm's defaults; keys that do not change results (launcher, logging,
//! edge-task keys) are accepted; keys of features graphprep does not implement are rejected
//! when set to a non-default value; anything else is an error naming its YAML path, with a
//! suggestion when a known key is close. Nothing is silently ignored.
//!
//! graphprep extension: `mask_field_names: [train, val, test]` names the node mask fields
//! (GraphStorm single-task runs always read `train_mask` / `val_mask` / `test_mask`).
//!
//! [`TrainConfig::runtime_yaml`] writes the merged config back
//! (`GRAPHSTORM_RUNTIME_UPDATED_TRAINING_CONFIG.yaml`): YAML keys in their section, CLI-only
//! keys under `gsf.runtime`.

use std::path::{Path, PathBuf};

use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

use crate::error::{Error, Result};

/// The training task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    NodeClassification,
    NodeRegression,
    LinkPrediction,
    EdgeClassification,
    EdgeRegression,
}

impl Task {
    /// The YAML section name (`node_classification`, `link_prediction`, ...).
    pub fn section(self) -> &'static str {
        match self {
            Task::NodeClassification => "node_classification",
            Task::NodeRegression => "node_regression",
            Task::LinkPrediction => "link_prediction",
            Task::EdgeClassification => "edge_classification",
            Task::EdgeRegression => "edge_regression",
        }
    }
    /// A node task (seeds are nodes of `target_ntype`).
    pub fn is_node_task(self) -> bool {
        matches!(self, Task::NodeClassification | Task::NodeRegression)
    }
    /// An edge classification / regression task.
    pub fn is_edge_task(self) -> bool {
        matches!(self, Task::EdgeClassification | Task::EdgeRegression)
    }
}

/// A canonical edge type by name, `(src, rel, dst)`.
pub type EtypeName = (String, String, String);

/// `train_negative_sampler` / `eval_negative_sampler` (spec §3.4, §2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegSampler {
    /// `k` own random destinations per positive.
    Uniform,
    /// A pool of random destinations shared by the batch (training: `B` nodes, each
    /// positive sees `k` of them; evaluation: `k` sources and `k` destinations).
    Joint,
    /// `joint` plus every other positive's destination.
    InBatchJoint,
}

/// `lp_decoder_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpDecoder {
    DotProduct,
    DistMult,
}

/// `lp_loss_func`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpLoss {
    CrossEntropy,
    Contrastive,
}

/// `decoder_type` of edge classification / regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeDecoder {
    DenseBi,
    Mlp,
}

/// The link prediction keys (spec §1.5, `argument.py` L2716-3160).
#[derive(Clone, Debug, PartialEq)]
pub struct LpConfig {
    /// None = every canonical edge type.
    pub train_etype: Option<Vec<EtypeName>>,
    /// None = every canonical edge type.
    pub eval_etype: Option<Vec<EtypeName>>,
    pub train_negative_sampler: NegSampler,
    pub eval_negative_sampler: NegSampler,
    pub num_negative_edges: usize,
    pub num_negative_edges_eval: usize,
    pub decoder: LpDecoder,
    pub loss: LpLoss,
    /// `lp_embed_normalizer: l2_norm` (default with the contrastive loss).
    pub l2_normalize: bool,
    pub contrastive_loss_temperature: f64,
    /// `gamma` (DistMult's initialisation range γ/H; default 12).
    pub gamma: f64,
}

/// The edge classification / regression keys.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeTaskConfig {
    pub target_etype: EtypeName,
    pub decoder_type: EdgeDecoder,
    pub num_decoder_basis: usize,
    pub remove_target_edge_type: bool,
}

/// `model_encoder_type` values graphprep implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoder {
    Rgcn,
    Mlp,
}

/// `gnn_norm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GnnNorm {
    Batch,
    Layer,
}

/// `early_stop_strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyStopStrategy {
    AverageIncrease,
    ConsecutiveIncrease,
}

/// `node_feat_name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeFeat {
    /// No node features (every ntype is featureless).
    None,
    /// `["feat"]`: the same feature name(s) for every node type that has them.
    All(Vec<String>),
    /// `["paper:feat", "author:f1,f2"]`: per node type, several names concatenated.
    PerNtype(Vec<(String, Vec<String>)>),
}

/// One GNN layer of a fanout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FanoutLayer {
    /// The same fanout for every edge type (`-1` = all neighbours).
    All(i64),
    /// Per canonical edge type `(src, rel, dst)` (written `src/rel/dst:n@...`).
    PerEtype(Vec<((String, String, String), i64)>),
}

/// A parsed `fanout` / `eval_fanout` (§1.6): the raw string and one entry per GNN layer
/// (layer 0 consumes the input features).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fanout {
    pub raw: String,
    pub layers: Vec<FanoutLayer>,
}

impl Fanout {
    /// The integer list when every layer is a plain number.
    pub fn ints(&self) -> Option<Vec<i64>> {
        self.layers
            .iter()
            .map(|l| match l {
                FanoutLayer::All(n) => Some(*n),
                FanoutLayer::PerEtype(_) => None,
            })
            .collect()
    }

    /// `-1` on each of `n` layers (GraphStorm's default `eval_fanout`).
    pub fn full(n: usize) -> Fanout {
        Fanout {
            raw: vec!["-1"; n].join(","),
            layers: vec![FanoutLayer::All(-1); n],
        }
    }

    /// Parses `raw` (the YAML string) for `path` in error messages.
    pub fn parse(raw: &str, path: &str) -> std::result::Result<Fanout, String> {
        let mut layers = Vec::new();
        let items: Vec<&str> = raw.split(',').map(str::trim).collect();
        let numeric = items
            .first()
            .is_some_and(|f| f.parse::<i64>().is_ok() || *f == "-1");
        for item in items {
            if numeric {
                let n: i64 = item.parse().map_err(|_| {
                    format!(
                        "{path}: fanout element '{item}' is not an integer (the first element is)"
                    )
                })?;
                if n < -1 {
                    return Err(format!("{path}: fanout {n} must be -1 (all) or >= 0"));
                }
                layers.push(FanoutLayer::All(n));
            } else {
                let mut per = Vec::new();
                for part in item.split('@') {
                    let (et, n) = part.rsplit_once(':').ok_or_else(|| {
                        format!("{path}: fanout element '{part}' is neither a number nor 'src/rel/dst:n'")
                    })?;
                    let n: i64 = n.trim().parse().map_err(|_| {
                        format!("{path}: fanout of edge type '{et}' is not an integer: '{n}'")
                    })?;
                    let et: Vec<&str> = et.trim().split('/').collect();
                    if et.len() != 3 {
                        return Err(format!(
                            "{path}: fanout edge type '{}' must be written src/rel/dst",
                            et.join("/")
                        ));
                    }
                    per.push(((et[0].into(), et[1].into(), et[2].into()), n));
                }
                layers.push(FanoutLayer::PerEtype(per));
            }
        }
        Ok(Fanout {
            raw: raw.to_string(),
            layers,
        })
    }
}

/// A node-task training configuration with GraphStorm 0.5.1's defaults (spec §1.5).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub task: Task,
    pub model_encoder_type: Encoder,
    pub node_feat_name: NodeFeat,
    /// Forced to 0 for `mlp`.
    pub num_layers: usize,
    pub hidden_size: usize,
    /// None = `hidden_size`.
    pub out_emb_size: Option<usize>,
    /// None for `mlp` (no message passing).
    pub fanout: Option<Fanout>,
    /// Default: `-1` on every layer.
    pub eval_fanout: Fanout,
    pub use_mini_batch_infer: bool,
    pub gnn_norm: Option<GnnNorm>,
    /// `Some("relu")` or None.
    pub input_activate: Option<String>,
    pub use_self_loop: bool,
    pub num_bases: i64,
    pub use_node_embeddings: bool,
    pub decoder_bias: bool,
    pub dropout: f64,
    pub lr: f64,
    pub sparse_optimizer_lr: f64,
    pub num_epochs: usize,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    pub wd_l2norm: f64,
    pub alpha_l2norm: f64,
    pub max_grad_norm: Option<f64>,
    pub grad_norm_type: f64,
    pub eval_frequency: usize,
    pub no_validation: bool,
    pub use_early_stop: bool,
    pub early_stop_burnin_rounds: usize,
    pub early_stop_rounds: usize,
    pub early_stop_strategy: EarlyStopStrategy,
    pub log_report_frequency: usize,
    pub target_ntype: String,
    /// Default: `target_ntype`.
    pub eval_target_ntype: String,
    pub label_field: String,
    /// Classification only (None for regression).
    pub num_classes: Option<usize>,
    pub multilabel: bool,
    pub multilabel_weights: Option<Vec<f64>>,
    pub imbalance_class_weights: Option<Vec<f64>>,
    /// `cross_entropy` (the only one supported).
    pub class_loss_func: String,
    /// `mse` (the only one supported).
    pub regression_loss_func: String,
    /// Lower-cased; the first one selects the best model.
    pub eval_metric: Vec<String>,
    pub return_proba: bool,
    pub infer_all_target_nodes: bool,
    pub save_model_path: Option<PathBuf>,
    pub save_model_frequency: i64,
    /// None = keep every checkpoint.
    pub topk_model_to_save: Option<usize>,
    pub save_embed_path: Option<PathBuf>,
    /// `pytorch` (the only one supported).
    pub save_embed_format: String,
    /// Default: `save_embed_path`.
    pub save_prediction_path: Option<PathBuf>,
    pub save_perf_results_path: Option<PathBuf>,
    pub restore_model_path: Option<PathBuf>,
    pub restore_optimizer_path: Option<PathBuf>,
    pub part_config: Option<PathBuf>,
    /// `[train, val, test]` node mask field names (graphprep extension `mask_field_names`;
    /// default `train_mask`, `val_mask`, `test_mask`).
    pub mask_fields: [String; 3],
    /// Link prediction keys (LP tasks only).
    pub lp: Option<LpConfig>,
    /// Edge classification / regression keys (edge tasks only).
    pub edge: Option<EdgeTaskConfig>,
    /// LP / edge tasks: remove each batch's target edges and their reverses from message
    /// passing (GraphStorm's default true, which requires `reverse_edge_types_map`).
    pub exclude_training_targets: bool,
    /// `(etype, its reverse)` from `"head,rel,rev_rel,tail"` entries.
    pub reverse_edge_types_map: Vec<(EtypeName, EtypeName)>,
    entries: Entries,
}

/// The merged raw options (key, section, value), for [`TrainConfig::runtime_yaml`]; not part
/// of equality.
#[derive(Clone, Debug, Default)]
struct Entries(Vec<(String, String, Yaml)>);

impl PartialEq for Entries {
    fn eq(&self, _: &Entries) -> bool {
        true
    }
}

impl TrainConfig {
    /// The feature names of `ntype` (None: featureless).
    pub fn node_feat_names(&self, ntype: &str) -> Option<Vec<String>> {
        match &self.node_feat_name {
            NodeFeat::None => None,
            NodeFeat::All(names) => Some(names.clone()),
            NodeFeat::PerNtype(v) => v.iter().find(|(t, _)| t == ntype).map(|(_, n)| n.clone()),
        }
    }

    /// The output embedding size of the encoder (`out_emb_size` when more than one layer).
    pub fn out_size(&self) -> usize {
        match self.out_emb_size {
            Some(o) if self.num_layers > 1 => o,
            _ => self.hidden_size,
        }
    }

    /// The merged config as YAML: every key back in its YAML section, CLI-only keys under
    /// `gsf.runtime`. [`parse_str`] of it gives an equal config.
    pub fn runtime_yaml(&self) -> String {
        let mut gsf = Hash::new();
        for (key, section, value) in &self.entries.0 {
            let sec = gsf
                .entry(Yaml::String(section.clone()))
                .or_insert_with(|| Yaml::Hash(Hash::new()));
            if let Yaml::Hash(h) = sec {
                h.insert(Yaml::String(key.clone()), value.clone());
            }
        }
        let mut top = Hash::new();
        top.insert(Yaml::String("version".into()), Yaml::Real("1.0".into()));
        top.insert(Yaml::String("gsf".into()), Yaml::Hash(gsf));
        let mut out = String::new();
        let mut em = YamlEmitter::new(&mut out);
        // Emitting into a String only fails on unsupported node kinds, which never occur here.
        em.dump(&Yaml::Hash(top)).unwrap_or_default();
        out.push('\n');
        out
    }
}

/// Reads the YAML at `path` and applies CLI `overrides` (`("num-epochs", "3")`).
pub fn load(path: &Path, overrides: &[(String, String)]) -> Result<TrainConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(path, format!("cannot read the training config: {e}")))?;
    parse_str(&text, &path.display().to_string(), overrides)
}

// ---------------------------------------------------------------------------------------------
// Key table
// ---------------------------------------------------------------------------------------------

/// How a CLI override string becomes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    /// Whitespace-separated on the CLI (argparse `nargs='+'`).
    List,
    /// A path; `none` (any case) on the CLI = None for [`NONE_PATHS`].
    Path,
}

#[derive(Clone, Copy, Debug)]
enum Role {
    Used,
    /// Accepted, no effect on graphprep's results (the reason is logged at debug level).
    Ignored(&'static str),
    /// Not implemented: an error unless the value is null or this default.
    Unsupported(&'static str),
}

use Kind::*;
use Role::*;

const NO_EFFECT: &str = "no effect on a single-process run";

#[rustfmt::skip]
const KEYS: &[(&str, Kind, Role)] = &[
    ("model_encoder_type", Str, Used), ("node_feat_name", List, Used), ("num_layers", Int, Used),
    ("hidden_size", Int, Used), ("out_emb_size", Int, Used), ("fanout", Str, Used),
    ("eval_fanout", Str, Used), ("use_mini_batch_infer", Bool, Used), ("gnn_norm", Str, Used),
    ("input_activate", Str, Used), ("use_self_loop", Bool, Used), ("num_bases", Int, Used),
    ("use_node_embeddings", Bool, Used), ("decoder_bias", Bool, Used), ("dropout", Float, Used),
    ("lr", Float, Used), ("sparse_optimizer_lr", Float, Used), ("num_epochs", Int, Used),
    ("batch_size", Int, Used), ("eval_batch_size", Int, Used), ("wd_l2norm", Float, Used),
    ("alpha_l2norm", Float, Used), ("max_grad_norm", Float, Used), ("grad_norm_type", Float, Used),
    ("eval_frequency", Int, Used), ("no_validation", Bool, Used), ("use_early_stop", Bool, Used),
    ("early_stop_burnin_rounds", Int, Used), ("early_stop_rounds", Int, Used),
    ("early_stop_strategy", Str, Used), ("log_report_frequency", Int, Used),
    ("target_ntype", Str, Used), ("eval_target_ntype", Str, Used), ("label_field", Str, Used),
    ("num_classes", Int, Used), ("multilabel", Bool, Used), ("multilabel_weights", Str, Used),
    ("imbalance_class_weights", Str, Used), ("class_loss_func", Str, Used),
    ("regression_loss_func", Str, Used), ("eval_metric", List, Used), ("return_proba", Bool, Used),
    ("infer_all_target_nodes", Bool, Used), ("save_model_path", Path, Used),
    ("save_model_frequency", Int, Used), ("topk_model_to_save", Int, Used),
    ("save_embed_path", Path, Used), ("save_embed_format", Str, Used),
    ("save_prediction_path", Path, Used), ("save_perf_results_path", Path, Used),
    ("restore_model_path", Path, Used), ("restore_optimizer_path", Path, Used),
    ("part_config", Path, Used), ("mask_field_names", List, Used),
    // accepted, no effect on results
    ("backend", Str, Ignored(NO_EFFECT)), ("verbose", Bool, Ignored(NO_EFFECT)),
    ("num_trainers", Int, Ignored(NO_EFFECT)), ("num_servers", Int, Ignored(NO_EFFECT)),
    ("num_samplers", Int, Ignored(NO_EFFECT)), ("ip_config", Path, Ignored(NO_EFFECT)),
    ("logging_level", Str, Ignored("set by --logging-level")), ("logging_file", Path, Ignored(NO_EFFECT)),
    ("local_rank", Int, Ignored(NO_EFFECT)), ("task_tracker", Str, Ignored("logging only")),
    ("use_graphbolt", Bool, Ignored("a DistDGL loading option")),
    ("decoder_norm", Str, Ignored("GraphStorm's node decoders ignore it")),
    ("num_heads", Int, Ignored("only for rgat/hgt encoders")),
    ("edge_feat_mp_op", Str, Ignored("only with edge_feat_name")),
    ("alpha", Float, Ignored("only for the focal/shrinkage losses")),
    // edge and link prediction tasks (unused by node tasks)
    ("target_etype", List, Used), ("train_etype", List, Used), ("eval_etype", List, Used),
    ("reverse_edge_types_map", List, Used), ("exclude_training_targets", Bool, Used),
    ("remove_target_edge_type", Bool, Used), ("decoder_type", Str, Used),
    ("num_decoder_basis", Int, Used), ("train_negative_sampler", Str, Used),
    ("eval_negative_sampler", Str, Used), ("num_negative_edges", Int, Used),
    ("num_negative_edges_eval", Int, Used), ("lp_decoder_type", Str, Used),
    ("lp_loss_func", Str, Used), ("lp_embed_normalizer", Str, Used),
    ("contrastive_loss_temperature", Float, Used), ("gamma", Float, Used),
    ("model_select_etype", Str, Ignored("graphprep selects on all eval etypes (GraphStorm's ALL)")),
    ("report_eval_per_type", Bool, Unsupported("false")),
    ("decoder_edge_feat", List, Unsupported("null")),
    ("adversarial_temperature", Float, Unsupported("null")),
    ("lp_edge_weight_for_loss", List, Unsupported("null")), ("fixed_test_size", Int, Unsupported("null")),
    ("train_etypes_negative_dstnode", List, Unsupported("null")),
    ("num_train_hard_negatives", List, Unsupported("null")),
    ("eval_etypes_negative_dstnode", List, Unsupported("null")),
    // GraphStorm features graphprep does not implement: errors unless left at the default
    ("edge_feat_name", List, Unsupported("null")), ("num_ffn_layers_in_input", Int, Unsupported("0")),
    ("num_ffn_layers_in_gnn", Int, Unsupported("0")), ("num_ffn_layers_in_decoder", Int, Unsupported("0")),
    ("use_pseudolabel", Bool, Unsupported("false")), ("restore_model_layers", Str, Unsupported("null")),
    ("use_wholegraph_embed", Bool, Unsupported("false")), ("lm_train_nodes", Int, Unsupported("0")),
    ("lm_infer_batch_size", Int, Unsupported("32")), ("freeze_lm_encoder_epochs", Int, Unsupported("0")),
    ("lm_tune_lr", Float, Unsupported("null")), ("max_seq_len", Int, Unsupported("null")),
    ("cache_lm_embed", Bool, Unsupported("null")), ("node_lm_configs", List, Unsupported("null")),
    ("construct_feat_ntype", List, Unsupported("null")), ("construct_feat_encoder", Str, Unsupported("null")),
];

fn key_info(key: &str) -> Option<(Kind, Role)> {
    KEYS.iter()
        .find(|(k, _, _)| *k == key)
        .map(|&(_, kind, role)| (kind, role))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `"; did you mean X?"` for the closest known key, if close enough.
fn suggestion(key: &str) -> String {
    KEYS.iter()
        .map(|(k, _, _)| (edit_distance(key, k), *k))
        .filter(|&(d, k)| d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| format!("; did you mean {k}?"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const UNSUPPORTED_TASK: &str = "not supported yet in graphprep";

/// Parses the YAML text `yaml` (named `origin` in errors) and applies `overrides`.
pub fn parse_str(yaml: &str, origin: &str, overrides: &[(String, String)]) -> Result<TrainConfig> {
    let fail = |msg: String| Error::input(origin, msg);
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| fail(format!("invalid YAML: {e}")))?;
    let doc = docs
        .into_iter()
        .next()
        .ok_or_else(|| fail("empty YAML: expected version and gsf".into()))?;
    let Yaml::Hash(top) = doc else {
        return Err(fail(
            "the top level must be a mapping with version and gsf".into(),
        ));
    };
    let mut entries: Vec<(String, String, Yaml)> = Vec::new();
    let mut task: Option<Task> = None;
    let mut has_gsf = false;
    for (k, v) in &top {
        let k = yaml_key(k).map_err(|m| fail(m.to_string()))?;
        match k.as_str() {
            "version" => {}
            "gsf" => {
                has_gsf = true;
                let Yaml::Hash(gsf) = v else {
                    return Err(fail(
                        "gsf: must be a mapping of sections (it is empty or not a mapping)".into(),
                    ));
                };
                for (sk, sv) in gsf {
                    let sname = yaml_key(sk).map_err(|m| fail(format!("gsf: {m}")))?;
                    match sname.as_str() {
                        "node_classification" => task = Some(Task::NodeClassification),
                        "node_regression" => task = Some(Task::NodeRegression),
                        "link_prediction" => task = Some(Task::LinkPrediction),
                        "edge_classification" => task = Some(Task::EdgeClassification),
                        "edge_regression" => task = Some(Task::EdgeRegression),
                        "multi_task_learning" => {
                            return Err(fail(format!(
                                "gsf.{sname}: the {sname} task is {UNSUPPORTED_TASK}; \
                                 graphprep trains node_classification, node_regression, \
                                 link_prediction, edge_classification and edge_regression"
                            )))
                        }
                        _ => {}
                    }
                    let sec = match sv {
                        Yaml::Hash(h) => h.clone(),
                        Yaml::Null => Hash::new(),
                        _ => {
                            return Err(fail(format!(
                                "gsf.{sname}: a section must be a mapping of key: value"
                            )))
                        }
                    };
                    for (kk, vv) in &sec {
                        let key = yaml_key(kk).map_err(|m| fail(format!("gsf.{sname}: {m}")))?;
                        let path = format!("gsf.{sname}.{key}");
                        if key_info(&key).is_none() {
                            return Err(fail(format!("{path}: unknown key{}", suggestion(&key))));
                        }
                        entries.retain(|(k2, _, _)| *k2 != key);
                        entries.push((key, sname.clone(), vv.clone()));
                    }
                }
            }
            "udf" | "lm_model" => {
                let empty = match v {
                    Yaml::Null => true,
                    Yaml::Hash(h) => h.is_empty(),
                    Yaml::Array(a) => a.is_empty(),
                    _ => false,
                };
                if !empty {
                    return Err(fail(format!(
                        "{k}: not supported by graphprep (remove the {k} block)"
                    )));
                }
            }
            other => {
                return Err(fail(format!(
                    "{other}: unknown top-level key (expected version, gsf)"
                )))
            }
        }
    }
    if !has_gsf {
        return Err(fail("no gsf block: nothing to train".into()));
    }
    for (k, v) in overrides {
        let key = k.trim_start_matches('-').replace('-', "_");
        let Some((kind, _)) = key_info(&key) else {
            return Err(Error::config(
                format!("--{}", k.trim_start_matches('-')),
                format!(
                    "not a GraphStorm training option{}",
                    suggestion(&key).replace('_', "-")
                ),
            ));
        };
        let value = cli_value(&key, kind, v)
            .map_err(|m| Error::config(format!("--{}", key.replace('_', "-")), m))?;
        match entries.iter_mut().find(|(k2, _, _)| *k2 == key) {
            Some(e) => e.2 = value,
            None => entries.push((key, "runtime".into(), value)),
        }
    }
    let task = task.ok_or_else(|| {
        fail(
            "gsf: no task section (node_classification, node_regression, link_prediction, \
             edge_classification or edge_regression)"
                .into(),
        )
    })?;
    build(task, entries).map_err(fail)
}

fn yaml_key(k: &Yaml) -> std::result::Result<String, &'static str> {
    match k {
        Yaml::String(s) => Ok(s.clone()),
        _ => Err("keys must be strings"),
    }
}

/// The keys whose CLI value `none` (any case) means None (`override_arguments`).
const NONE_PATHS: &[&str] = &["save_model_path", "save_embed_path", "save_prediction_path"];

/// A CLI override string for `key` as a YAML value of `kind`.
fn cli_value(key: &str, kind: Kind, v: &str) -> std::result::Result<Yaml, String> {
    Ok(match kind {
        Bool => Yaml::Boolean(matches!(v.to_ascii_lowercase().as_str(), "true" | "1")),
        Int => Yaml::Integer(
            v.trim()
                .parse()
                .map_err(|_| format!("expected an integer, got '{v}'"))?,
        ),
        Float => {
            let f = v
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("expected a number, got '{v}'"))?;
            Yaml::Real(yaml11_float(f))
        }
        Str => Yaml::String(v.to_string()),
        List => Yaml::Array(
            v.split_whitespace()
                .map(|s| Yaml::String(s.to_string()))
                .collect(),
        ),
        Path if v.eq_ignore_ascii_case("none") && NONE_PATHS.contains(&key) => Yaml::Null,
        Path => Yaml::String(v.to_string()),
    })
}

/// `f` spelled so that YAML 1.1 readers (PyYAML, GraphStorm) also read a float: always with a
/// `.` (`3.0`, `1.0e-05`).
fn yaml11_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            ".nan".into()
        } else if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
        Some(_) => s,
        None if s.contains('.') => s,
        None => format!("{s}.0"),
    }
}

/// Typed access to the merged options, with the YAML path of each key in errors.
struct Opts {
    entries: Vec<(String, String, Yaml)>,
}

type R<T> = std::result::Result<T, String>;

impl Opts {
    fn get(&self, key: &str) -> Option<(&Yaml, String)> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .filter(|(_, _, v)| !matches!(v, Yaml::Null))
            .map(|(k, s, v)| (v, format!("gsf.{s}.{k}")))
    }
    fn bool(&self, key: &str, default: bool) -> R<bool> {
        match self.get(key) {
            None => Ok(default),
            Some((Yaml::Boolean(b), _)) => Ok(*b),
            Some((v, p)) => Err(type_err(&p, "a boolean", v)),
        }
    }
    fn int(&self, key: &str) -> R<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some((Yaml::Integer(i), _)) => Ok(Some(*i)),
            Some((v, p)) => Err(type_err(&p, "an integer", v)),
        }
    }
    fn uint(&self, key: &str, min: i64) -> R<Option<usize>> {
        match self.int(key)? {
            None => Ok(None),
            Some(i) if i >= min => Ok(Some(i as usize)),
            Some(i) => Err(format!(
                "{}: must be an integer >= {min}, got {i}",
                self.path(key)
            )),
        }
    }
    fn float(&self, key: &str) -> R<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some((Yaml::Integer(i), _)) => Ok(Some(*i as f64)),
            Some((Yaml::Real(s), p)) => match s.parse::<f64>() {
                Ok(f) => Ok(Some(f)),
                Err(_) => Err(type_err(&p, "a number", &Yaml::Real(s.clone()))),
            },
            Some((v, p)) => Err(type_err(&p, "a number", v)),
        }
    }
    fn str(&self, key: &str) -> R<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some((Yaml::String(s), _)) => Ok(Some(s.clone())),
            Some((v, p)) => Err(type_err(&p, "a string", v)),
        }
    }
    fn path_opt(&self, key: &str) -> R<Option<PathBuf>> {
        Ok(self.str(key)?.map(PathBuf::from))
    }
    /// A list of strings (a single string is a one-element list).
    fn list(&self, key: &str) -> R<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some((Yaml::String(s), _)) => Ok(Some(vec![s.clone()])),
            Some((Yaml::Array(a), p)) => a
                .iter()
                .map(|x| match x {
                    Yaml::String(s) => Ok(s.clone()),
                    v => Err(type_err(&p, "a list of strings", v)),
                })
                .collect::<R<Vec<_>>>()
                .map(Some),
            Some((v, p)) => Err(type_err(&p, "a list of strings", v)),
        }
    }
    fn path(&self, key: &str) -> String {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(k, s, _)| format!("gsf.{s}.{k}"))
            .unwrap_or_else(|| key.to_string())
    }
    fn choice(&self, key: &str, default: &str, allowed: &[&str]) -> R<String> {
        let v = self
            .str(key)?
            .unwrap_or_else(|| default.to_string())
            .to_ascii_lowercase();
        if allowed.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(format!(
                "{}: '{v}' is not supported (supported: {})",
                self.path(key),
                allowed.join(", ")
            ))
        }
    }
}

fn type_err(path: &str, expected: &str, v: &Yaml) -> String {
    let got = match v {
        Yaml::Real(s) => format!("the number {s}"),
        Yaml::Integer(i) => format!("the integer {i}"),
        Yaml::String(s) => format!("the string '{s}'"),
        Yaml::Boolean(b) => format!("the boolean {b}"),
        Yaml::Array(_) => "a list".into(),
        Yaml::Hash(_) => "a mapping".into(),
        _ => "an unsupported value".into(),
    };
    format!("{path}: expected {expected}, got {got}")
}

fn is_default(v: &Yaml, d: &str) -> bool {
    match v {
        Yaml::Null => true,
        Yaml::Boolean(b) => d == if *b { "true" } else { "false" },
        Yaml::Integer(i) => d.parse::<i64>() == Ok(*i),
        Yaml::Real(s) => matches!((s.parse::<f64>(), d.parse::<f64>()), (Ok(a), Ok(b)) if a == b),
        Yaml::String(s) => {
            s.eq_ignore_ascii_case(d) || (d == "null" && s.eq_ignore_ascii_case("none"))
        }
        Yaml::Array(a) => a.is_empty() && d == "null",
        Yaml::Hash(h) => h.is_empty() && d == "null",
        _ => false,
    }
}

const ENCODERS_LATER: &[&str] = &[
    "gat",
    "rgat",
    "sage",
    "hgt",
    "gatv2",
    "lm",
    "learnable_embed",
];
const CLASS_METRICS: &[&str] = &["accuracy", "f1_score", "precision", "recall"];
const REGRESSION_METRICS: &[&str] = &["rmse", "mse", "mae"];
const LP_METRICS: &[&str] = &["mrr"];

/// `"src,rel,dst"` (GraphStorm's YAML spelling of a canonical edge type).
pub fn parse_etype(s: &str) -> std::result::Result<EtypeName, String> {
    let p: Vec<&str> = s.split(',').map(str::trim).collect();
    if p.len() != 3 || p.iter().any(|x| x.is_empty()) {
        return Err(format!(
            "'{s}' is not an edge type; write \"src,rel,dst\" (e.g. \"paper,cites,paper\")"
        ));
    }
    Ok((p[0].to_string(), p[1].to_string(), p[2].to_string()))
}

fn weights(o: &Opts, key: &str, n: Option<usize>, min_excl: Option<f64>) -> R<Option<Vec<f64>>> {
    let Some(s) = o.str(key)? else {
        return Ok(None);
    };
    let p = o.path(key);
    let w: Vec<f64> = s
        .split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .map_err(|_| format!("{p}: '{x}' is not a number (expected \"w1,w2,...\")"))
        })
        .collect::<R<_>>()?;
    if let Some(n) = n {
        if w.len() != n {
            return Err(format!(
                "{p}: {} weights given, num_classes is {n}",
                w.len()
            ));
        }
    }
    match min_excl {
        Some(m) if w.iter().any(|&x| x <= m) => Err(format!("{p}: every weight must be > {m}")),
        _ if w.iter().any(|&x| x < 0.0) => Err(format!("{p}: weights must be >= 0")),
        _ => Ok(Some(w)),
    }
}

fn parse_node_feat(o: &Opts) -> R<NodeFeat> {
    let Some(items) = o.list("node_feat_name")? else {
        return Ok(NodeFeat::None);
    };
    let p = o.path("node_feat_name");
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    if items.iter().all(|s| !s.contains(':')) {
        if items.len() != 1 {
            return Err(format!(
                "{p}: several names without 'ntype:' — write one name for all node types, \
                 or 'ntype:feat' entries"
            ));
        }
        return Ok(NodeFeat::All(split(&items[0])));
    }
    let mut per: Vec<(String, Vec<String>)> = Vec::new();
    for s in &items {
        let Some((t, names)) = s.split_once(':') else {
            return Err(format!(
                "{p}: '{s}' lacks 'ntype:' while other entries have it"
            ));
        };
        let t = t.trim().to_string();
        if per.iter().any(|(x, _)| *x == t) {
            return Err(format!(
                "{p}: node type '{t}' appears twice (feature groups) — not supported yet in graphprep"
            ));
        }
        let names = split(names);
        if names.is_empty() {
            return Err(format!("{p}: '{s}' names no feature"));
        }
        per.push((t, names));
    }
    Ok(NodeFeat::PerNtype(per))
}

fn build(task: Task, entries: Vec<(String, String, Yaml)>) -> R<TrainConfig> {
    let o = Opts { entries };
    // Roles first: unsupported values and debug notes for ignored keys.
    for (k, s, v) in &o.entries {
        match key_info(k).map(|x| x.1) {
            Some(Unsupported(d)) if !is_default(v, d) => {
                return Err(format!(
                    "gsf.{s}.{k}: not supported yet in graphprep (remove it or set it to {d})"
                ))
            }
            Some(Ignored(why)) => log::debug!("gsf.{s}.{k}: accepted and ignored ({why})"),
            _ => {}
        }
    }
    let classification = matches!(task, Task::NodeClassification | Task::EdgeClassification);
    let mut missing = Vec::new();
    for k in ["lr", "batch_size", "hidden_size", "model_encoder_type"] {
        if o.get(k).is_none() {
            missing.push(k);
        }
    }
    if task != Task::LinkPrediction && o.get("label_field").is_none() {
        missing.push("label_field");
    }
    if classification && o.get("num_classes").is_none() {
        missing.push("num_classes");
    }
    let enc_name = o.str("model_encoder_type")?.map(|s| s.to_ascii_lowercase());
    let encoder = match enc_name.as_deref() {
        Some("rgcn") => Some(Encoder::Rgcn),
        Some("mlp") => Some(Encoder::Mlp),
        Some(e) if ENCODERS_LATER.contains(&e) => {
            return Err(format!(
                "{}: encoder '{e}' is not supported yet in graphprep (supported: rgcn, mlp)",
                o.path("model_encoder_type")
            ))
        }
        Some(e) => {
            return Err(format!(
                "{}: unknown encoder '{e}' (GraphStorm's: gat, rgat, rgcn, sage, hgt, gatv2, lm, \
                 mlp, learnable_embed; graphprep supports rgcn, mlp)",
                o.path("model_encoder_type")
            ))
        }
        None => None,
    };
    if encoder == Some(Encoder::Rgcn) {
        for k in ["fanout", "num_layers"] {
            if o.get(k).is_none() {
                missing.push(k);
            }
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "gsf: missing required key{} {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        ));
    }
    let encoder = encoder.unwrap_or(Encoder::Mlp);
    let (num_layers, fanout) = match encoder {
        Encoder::Mlp => (0, None),
        Encoder::Rgcn => {
            let n = o.uint("num_layers", 1)?.unwrap_or(1);
            let raw = match o.get("fanout") {
                Some((Yaml::String(s), _)) => s.clone(),
                Some((Yaml::Integer(i), _)) => i.to_string(),
                Some((v, p)) => return Err(type_err(&p, "a string such as \"10,10\"", v)),
                None => String::new(), // checked as required above
            };
            let f = Fanout::parse(&raw, &o.path("fanout"))?;
            if f.layers.len() != n {
                return Err(format!(
                    "{}: {} layers in fanout '{raw}', num_layers is {n}",
                    o.path("fanout"),
                    f.layers.len()
                ));
            }
            (n, Some(f))
        }
    };
    let eval_fanout = match o.get("eval_fanout") {
        _ if num_layers == 0 => Fanout::full(0),
        None => Fanout::full(num_layers),
        Some((v, p)) => {
            let raw = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                v => return Err(type_err(&p, "a string such as \"-1,-1\"", v)),
            };
            let f = Fanout::parse(&raw, &p)?;
            if f.layers.len() != num_layers {
                return Err(format!(
                    "{p}: {} layers in eval_fanout '{raw}', num_layers is {num_layers}",
                    f.layers.len()
                ));
            }
            f
        }
    };
    let gnn_norm = match o
        .str("gnn_norm")?
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("none") => None,
        Some("batch") => Some(GnnNorm::Batch),
        Some("layer") => Some(GnnNorm::Layer),
        Some(x) => {
            return Err(format!(
                "{}: '{x}' is not supported (supported: batch, layer)",
                o.path("gnn_norm")
            ))
        }
    };
    let input_activate = match o
        .str("input_activate")?
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("none") => None,
        Some("relu") => Some("relu".to_string()),
        Some(x) => {
            return Err(format!(
                "{}: '{x}' is not supported (supported: relu)",
                o.path("input_activate")
            ))
        }
    };
    let lr = o.float("lr")?.unwrap_or(0.0);
    if lr <= 0.0 {
        return Err(format!("{}: must be > 0", o.path("lr")));
    }
    let dropout = o.float("dropout")?.unwrap_or(0.0);
    if !(0.0..1.0).contains(&dropout) {
        return Err(format!(
            "{}: must be in [0, 1), got {dropout}",
            o.path("dropout")
        ));
    }
    let num_epochs = match o.uint("num_epochs", 0)? {
        Some(n) => n,
        None => {
            log::warn!("num_epochs is not set: GraphStorm's default is 0 (no training)");
            0
        }
    };
    let target_ntype = match o.str("target_ntype")? {
        Some(t) => t,
        None => {
            if task.is_node_task() {
                log::warn!(
                    "target_ntype is not set: using _N (a homogeneous graph), as GraphStorm does"
                );
            }
            "_N".to_string()
        }
    };
    let num_classes = if classification {
        match o.get("num_classes") {
            Some((Yaml::Hash(_), p)) => {
                return Err(format!(
                    "{p}: a per-node-type dict is not supported yet in graphprep (give one integer)"
                ))
            }
            _ => {
                let n = o.uint("num_classes", 1)?.unwrap_or(0);
                if n < 2 {
                    return Err(format!(
                        "{}: must be >= 2 (1 is only valid with the focal loss, not supported)",
                        o.path("num_classes")
                    ));
                }
                Some(n)
            }
        }
    } else {
        None
    };
    let eval_metric: Vec<String> = match o.list("eval_metric")? {
        Some(m) => m.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
        None if task == Task::LinkPrediction => vec!["mrr".into()],
        None if classification => vec!["accuracy".into()],
        None => vec!["rmse".into()],
    };
    let (supported, kind) = match task {
        Task::LinkPrediction => (LP_METRICS, "link prediction"),
        _ if classification => (CLASS_METRICS, "classification"),
        _ => (REGRESSION_METRICS, "regression"),
    };
    if eval_metric.is_empty() {
        return Err(format!("{}: empty list", o.path("eval_metric")));
    }
    for m in &eval_metric {
        let hit_at = task == Task::LinkPrediction
            && m.strip_prefix("hit_at_")
                .is_some_and(|k| k.parse::<usize>().is_ok_and(|k| k > 0));
        if !supported.contains(&m.as_str()) && !hit_at {
            return Err(format!(
                "{}: metric '{m}' is not supported for {kind} (supported: {}{})",
                o.path("eval_metric"),
                supported.join(", "),
                if task == Task::LinkPrediction {
                    ", hit_at_<k>"
                } else {
                    ""
                }
            ));
        }
    }
    let etype_list = |key: &str| -> R<Option<Vec<EtypeName>>> {
        let Some(items) = o.list(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|x| parse_etype(x).map_err(|m| format!("{}: {m}", o.path(key))))
            .collect::<R<Vec<_>>>()
            .map(Some)
    };
    let mut reverse_edge_types_map = Vec::new();
    for x in o.list("reverse_edge_types_map")?.unwrap_or_default() {
        let parts: Vec<&str> = x.split(',').map(str::trim).collect();
        if parts.len() != 4 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "{}: '{x}' must be \"head,rel,rev_rel,tail\" (e.g. \"paper,cites,cites-rev,paper\")",
                o.path("reverse_edge_types_map")
            ));
        }
        let (h, r, rr, t) = (parts[0], parts[1], parts[2], parts[3]);
        reverse_edge_types_map.push((
            (h.to_string(), r.to_string(), t.to_string()),
            (t.to_string(), rr.to_string(), h.to_string()),
        ));
    }
    let exclude_training_targets = if task.is_node_task() {
        false
    } else {
        let given = o.get("exclude_training_targets").is_some();
        let v = o.bool("exclude_training_targets", true)?;
        if v && reverse_edge_types_map.is_empty() {
            return Err(format!(
                "{}: excluding the training target edges (GraphStorm's default for {} tasks) needs \
                 reverse_edge_types_map (\"head,rel,rev_rel,tail\" per edge type with reverse \
                 edges, e.g. from construct --add-reverse-edges); add it, or set \
                 exclude_training_targets: false",
                if given {
                    o.path("exclude_training_targets")
                } else {
                    format!("gsf.{}", task.section())
                },
                task.section()
            ));
        }
        v
    };
    let lp = if task == Task::LinkPrediction {
        let neg = |key: &str, default: &str, allowed: &[&str]| -> R<NegSampler> {
            Ok(match o.choice(key, default, allowed)?.as_str() {
                "uniform" => NegSampler::Uniform,
                "joint" => NegSampler::Joint,
                _ => NegSampler::InBatchJoint,
            })
        };
        let decoder = match o
            .choice("lp_decoder_type", "distmult", &["dot_product", "distmult"])
            .map_err(|m| {
                format!("{m} (rotate, transe_l1 and transe_l2 are not supported yet in graphprep)")
            })?
            .as_str()
        {
            "dot_product" => LpDecoder::DotProduct,
            _ => LpDecoder::DistMult,
        };
        let loss = match o
            .choice(
                "lp_loss_func",
                "cross_entropy",
                &["cross_entropy", "contrastive"],
            )
            .map_err(|m| format!("{m} (bpr and logsigmoid are not supported in graphprep)"))?
            .as_str()
        {
            "contrastive" => LpLoss::Contrastive,
            _ => LpLoss::CrossEntropy,
        };
        let l2_normalize = match o
            .str("lp_embed_normalizer")?
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            None => loss == LpLoss::Contrastive,
            Some("l2_norm") => true,
            Some("none") => false,
            Some(x) => {
                return Err(format!(
                    "{}: '{x}' is not supported (supported: l2_norm)",
                    o.path("lp_embed_normalizer")
                ))
            }
        };
        let temperature = o.float("contrastive_loss_temperature")?.unwrap_or(1.0);
        if temperature <= 0.0 {
            return Err(format!(
                "{}: must be > 0",
                o.path("contrastive_loss_temperature")
            ));
        }
        Some(LpConfig {
            train_etype: etype_list("train_etype")?,
            eval_etype: etype_list("eval_etype")?,
            train_negative_sampler: neg(
                "train_negative_sampler",
                "uniform",
                &["uniform", "joint", "inbatch_joint"],
            )
            .map_err(|m| format!("{m} (the local*, fast_* and all_etype_* samplers are not supported yet in graphprep)"))?,
            eval_negative_sampler: neg("eval_negative_sampler", "joint", &["uniform", "joint"])?,
            num_negative_edges: o.uint("num_negative_edges", 1)?.unwrap_or(16),
            num_negative_edges_eval: o.uint("num_negative_edges_eval", 1)?.unwrap_or(1000),
            decoder,
            loss,
            l2_normalize,
            contrastive_loss_temperature: temperature,
            gamma: o.float("gamma")?.unwrap_or(12.0),
        })
    } else {
        None
    };
    let edge = if task.is_edge_task() {
        let target = match etype_list("target_etype")? {
            Some(v) if !v.is_empty() => {
                if v.len() > 1 {
                    log::warn!(
                        "{}: several edge types given; GraphStorm uses only the first, so does graphprep",
                        o.path("target_etype")
                    );
                }
                v[0].clone()
            }
            _ => {
                log::warn!("target_etype is not set: using (_N, _E, _N), as GraphStorm does");
                ("_N".into(), "_E".into(), "_N".into())
            }
        };
        let decoder_type = match o.str("decoder_type")?.as_deref() {
            None | Some("DenseBiDecoder") => EdgeDecoder::DenseBi,
            Some("MLPDecoder") => EdgeDecoder::Mlp,
            Some(x) => {
                return Err(format!(
                    "{}: '{x}' is not supported (supported: DenseBiDecoder, MLPDecoder)",
                    o.path("decoder_type")
                ))
            }
        };
        Some(EdgeTaskConfig {
            target_etype: target,
            decoder_type,
            num_decoder_basis: o.uint("num_decoder_basis", 1)?.unwrap_or(2),
            remove_target_edge_type: o.bool("remove_target_edge_type", true)?,
        })
    } else {
        None
    };
    let class_loss_func = match o
        .str("class_loss_func")?
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("cross_entropy") => "cross_entropy".to_string(),
        Some("focal") => {
            return Err(format!(
                "{}: the focal loss is not supported yet in graphprep (supported: cross_entropy)",
                o.path("class_loss_func")
            ))
        }
        Some(x) => {
            return Err(format!(
                "{}: unknown loss '{x}' (supported: cross_entropy)",
                o.path("class_loss_func")
            ))
        }
    };
    let regression_loss_func = o.choice("regression_loss_func", "mse", &["mse"])?;
    let save_embed_format = o.choice("save_embed_format", "pytorch", &["pytorch"])?;
    let early_stop_strategy = match o
        .choice(
            "early_stop_strategy",
            "average_increase",
            &["average_increase", "consecutive_increase"],
        )?
        .as_str()
    {
        "consecutive_increase" => EarlyStopStrategy::ConsecutiveIncrease,
        _ => EarlyStopStrategy::AverageIncrease,
    };
    let mask_fields = match o.list("mask_field_names")? {
        None => ["train_mask".into(), "val_mask".into(), "test_mask".into()],
        Some(v) if v.len() == 3 => [v[0].clone(), v[1].clone(), v[2].clone()],
        Some(v) => {
            return Err(format!(
                "{}: expected 3 names [train, val, test], got {}",
                o.path("mask_field_names"),
                v.len()
            ))
        }
    };
    let save_embed_path = o.path_opt("save_embed_path")?;
    let multilabel = o.bool("multilabel", false)?;
    Ok(TrainConfig {
        task,
        model_encoder_type: encoder,
        node_feat_name: parse_node_feat(&o)?,
        num_layers,
        hidden_size: o.uint("hidden_size", 1)?.unwrap_or(1),
        out_emb_size: o.uint("out_emb_size", 1)?,
        fanout,
        eval_fanout,
        use_mini_batch_infer: o.bool("use_mini_batch_infer", task != Task::LinkPrediction)?,
        gnn_norm,
        input_activate,
        use_self_loop: o.bool("use_self_loop", true)?,
        num_bases: o.int("num_bases")?.unwrap_or(-1),
        use_node_embeddings: o.bool("use_node_embeddings", false)?,
        decoder_bias: o.bool("decoder_bias", true)?,
        dropout,
        lr,
        sparse_optimizer_lr: o.float("sparse_optimizer_lr")?.unwrap_or(lr),
        num_epochs,
        batch_size: o.uint("batch_size", 1)?.unwrap_or(1),
        eval_batch_size: o.uint("eval_batch_size", 1)?.unwrap_or(10000),
        wd_l2norm: o.float("wd_l2norm")?.unwrap_or(0.0),
        alpha_l2norm: o.float("alpha_l2norm")?.unwrap_or(0.0),
        max_grad_norm: o.float("max_grad_norm")?,
        grad_norm_type: o.float("grad_norm_type")?.unwrap_or(2.0),
        eval_frequency: o.uint("eval_frequency", 1)?.unwrap_or(usize::MAX),
        no_validation: o.bool("no_validation", false)?,
        use_early_stop: o.bool("use_early_stop", false)?,
        early_stop_burnin_rounds: o.uint("early_stop_burnin_rounds", 0)?.unwrap_or(0),
        early_stop_rounds: o.uint("early_stop_rounds", 1)?.unwrap_or(3),
        early_stop_strategy,
        log_report_frequency: o.uint("log_report_frequency", 1)?.unwrap_or(1000),
        eval_target_ntype: o.str("eval_target_ntype")?.unwrap_or(target_ntype.clone()),
        target_ntype,
        label_field: o.str("label_field")?.unwrap_or_default(),
        num_classes,
        multilabel,
        multilabel_weights: weights(&o, "multilabel_weights", num_classes, None)?,
        imbalance_class_weights: weights(&o, "imbalance_class_weights", num_classes, Some(0.0))?,
        class_loss_func,
        regression_loss_func,
        eval_metric,
        return_proba: o.bool("return_proba", true)?,
        infer_all_target_nodes: o.bool("infer_all_target_nodes", false)?,
        save_model_path: o.path_opt("save_model_path")?,
        save_model_frequency: o.int("save_model_frequency")?.unwrap_or(-1),
        topk_model_to_save: o.uint("topk_model_to_save", 1)?,
        save_prediction_path: o
            .path_opt("save_prediction_path")?
            .or(save_embed_path.clone()),
        save_embed_path,
        save_embed_format,
        save_perf_results_path: o.path_opt("save_perf_results_path")?,
        restore_model_path: o.path_opt("restore_model_path")?,
        restore_optimizer_path: o.path_opt("restore_optimizer_path")?,
        part_config: o.path_opt("part_config")?,
        mask_fields,
        lp,
        edge,
        exclude_training_targets,
        reverse_edge_types_map,
        entries: Entries(o.entries),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "gsf:\n  gnn:\n    model_encoder_type: rgcn\n    fanout: \"5,5\"\n    \
                       num_layers: 2\n    hidden_size: 16\n  hyperparam:\n    lr: 0.1\n    \
                       batch_size: 8\n  node_classification:\n    label_field: y\n    \
                       num_classes: 3\n";

    #[test]
    fn fanout_forms() {
        let f = Fanout::parse("10,-1", "p").unwrap();
        assert_eq!(f.ints(), Some(vec![10, -1]));
        let f = Fanout::parse("a/r/b:3@b/s/a:0,a/r/b:2@b/s/a:1", "p").unwrap();
        assert_eq!(f.layers.len(), 2);
        assert_eq!(f.ints(), None);
        assert!(Fanout::parse("10,x", "p")
            .unwrap_err()
            .contains("not an integer"));
        assert!(Fanout::parse("a/b:3", "p")
            .unwrap_err()
            .contains("src/rel/dst"));
    }

    #[test]
    fn cli_floats_stay_floats_in_yaml_1_1() {
        assert_eq!(yaml11_float(0.125), "0.125");
        assert_eq!(yaml11_float(3.0), "3.0");
        assert_eq!(yaml11_float(1e-10), "1.0e-10");
        assert_eq!(yaml11_float(f64::INFINITY), ".inf");
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggestion("lrr"), "; did you mean lr?");
        assert_eq!(suggestion("hiden_size"), "; did you mean hidden_size?");
        assert_eq!(suggestion("completely_else"), "");
    }

    #[test]
    fn minimal_config() {
        let c = parse_str(MIN, "t", &[]).unwrap();
        assert_eq!(c.num_classes, Some(3));
        assert_eq!(c.eval_fanout.ints(), Some(vec![-1, -1]));
        assert_eq!(c.target_ntype, "_N");
    }
}
