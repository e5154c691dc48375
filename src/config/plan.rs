//! The resolved build plan: the config after validation, with absolute sorted file lists,
//! parsed transforms and defaults filled in. Nothing downstream re-validates the JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::tensor::DType;

pub use crate::readers::FileFormat;

/// Output names of `tokenize_hf` (fixed, not prefixed by `feature_name`).
pub const TOKENIZE_OUTPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

/// Resolved input files of a block: existing regular files, sorted lexicographically by path
/// string (GraphStorm's order, so `t_10` sorts before `t_2`).
#[derive(Clone, Debug)]
pub struct InputFiles {
    pub format: FileFormat,
    pub files: Vec<PathBuf>,
}

/// One feature transform with its options (and learned state, when the config carries it).
#[derive(Clone, Debug, PartialEq)]
pub enum Transform {
    /// No transform, or `no-op`.
    Noop {
        separator: Option<String>,
        truncate_dim: Option<usize>,
    },
    MaxMinNorm {
        max_bound: f64,
        min_bound: f64,
        max_val: Option<Vec<f64>>,
        min_val: Option<Vec<f64>>,
    },
    Standard {
        sum: Option<Vec<f64>>,
    },
    RankGauss {
        epsilon: f64,
        uniquify: bool,
    },
    Categorical {
        separator: Option<String>,
        mapping: Option<BTreeMap<String, usize>>,
    },
    Bucket {
        range: [f64; 2],
        bucket_cnt: usize,
        slide_window_size: f64,
    },
    TokenizeHf {
        bert_model: String,
        max_seq_length: usize,
        /// The local tokenizer files `bert_model` resolved to.
        tokenizer: HfTokenizer,
    },
    BertHf {
        bert_model: String,
        max_seq_length: usize,
        infer_batch_size: usize,
        /// The local tokenizer, model config and weights `bert_model` resolved to.
        model: HfModel,
    },
    HardNegative {
        separator: Option<String>,
    },
    Tabular {
        target_col: Option<String>,
    },
}

/// A Hugging Face tokenizer on this machine (`tokenize_hf`'s resolved `bert_model`).
#[derive(Clone, Debug, PartialEq)]
pub struct HfTokenizer {
    /// The `tokenizer.json` file.
    pub tokenizer_file: PathBuf,
    /// Special tokens its post-processor adds to every text (`[CLS]`, `[SEP]`: 2 for BERT);
    /// `max_seq_length` is at least this.
    pub special_tokens: usize,
    /// `hidden_size` of the model's `config.json` next to it, when present.
    pub hidden_size: Option<usize>,
    /// `pad_token` of `tokenizer_config.json`, when present.
    pub pad_token: Option<String>,
    /// `padding_side: "left"` in `tokenizer_config.json` (default right).
    pub pad_left: bool,
    /// `truncation_side: "left"` in `tokenizer_config.json` (default right).
    pub truncate_left: bool,
}

/// A Hugging Face BERT-family encoder on this machine (`bert_hf`'s resolved `bert_model`).
#[derive(Clone, Debug, PartialEq)]
pub struct HfModel {
    /// Its tokenizer (the same files `tokenize_hf` would use).
    pub tokenizer: HfTokenizer,
    /// The architecture from `config.json`.
    pub config: LmConfig,
    /// `config.json`.
    pub config_file: PathBuf,
    /// The weight files: one `model.safetensors` / `pytorch_model.bin`, or the shards an
    /// `*.index.json` lists, in name order.
    pub weights: Vec<PathBuf>,
}

/// The BERT-family hyper-parameters of a model's `config.json` (the keys `transformers`'
/// `BertConfig` / `RobertaConfig` read, with their defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct LmConfig {
    /// `model_type`: `bert`, `roberta` or `xlm-roberta`.
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    /// `hidden_act`: `gelu` (erf), `gelu_new` / `gelu_pytorch_tanh` (tanh), `relu`, `silu`.
    pub hidden_act: String,
    pub layer_norm_eps: f64,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub pad_token_id: usize,
}

impl LmConfig {
    /// RoBERTa-style position IDs: counted from `pad_token_id + 1` over non-pad tokens.
    pub fn roberta_positions(&self) -> bool {
        self.model_type != "bert"
    }

    /// The longest `max_seq_length` the position table allows.
    pub fn max_seq_length(&self) -> usize {
        if self.roberta_positions() {
            self.max_position_embeddings
                .saturating_sub(self.pad_token_id + 1)
        } else {
            self.max_position_embeddings
        }
    }
}

impl Transform {
    /// The config's `transform.name` (`no-op` for no transform).
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Noop { .. } => "no-op",
            Transform::MaxMinNorm { .. } => "max_min_norm",
            Transform::Standard { .. } => "standard",
            Transform::RankGauss { .. } => "rank_gauss",
            Transform::Categorical { .. } => "to_categorical",
            Transform::Bucket { .. } => "bucket_numerical",
            Transform::TokenizeHf { .. } => "tokenize_hf",
            Transform::BertHf { .. } => "bert_hf",
            Transform::HardNegative { .. } => "edge_dst_hard_negative",
            Transform::Tabular { .. } => "tabular",
        }
    }
}

/// One entry of a block's `features` list.
#[derive(Clone, Debug)]
pub struct FeatureSpec {
    /// JSON path of this feature dict, e.g. `nodes[0].features[2]` (for error messages).
    pub json_path: String,
    /// Input columns (one, or several for a multi-column feature), in config order.
    pub columns: Vec<String>,
    /// Output array name (`feature_name`, defaulting to the single column).
    pub name: String,
    /// `out_dtype`, if given.
    pub out_dtype: Option<DType>,
    pub transform: Transform,
    /// `feature_dim` carried by the config (a re-fed runtime config); checked against this run.
    pub feature_dim: Option<Vec<usize>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskType {
    Classification,
    Regression,
    LinkPrediction,
}

/// Custom split files (`custom_split_filenames`).
#[derive(Clone, Debug)]
pub struct CustomSplit {
    /// Files per split (train, valid, test); each list may be empty.
    pub train: Vec<PathBuf>,
    pub valid: Vec<PathBuf>,
    pub test: Vec<PathBuf>,
    /// Columns to read from Parquet split files (1 for nodes, 2 `[src, dst]` for edges).
    pub column: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum Split {
    /// `split_pct` `[train, val, test]`; sums to at most 1.
    Pct([f64; 3]),
    Custom(CustomSplit),
}

/// One entry of a block's `labels` list.
#[derive(Clone, Debug)]
pub struct LabelSpec {
    /// JSON path of this label dict, e.g. `nodes[0].labels[0]`.
    pub json_path: String,
    /// `label_col`; `None` only for link prediction.
    pub column: Option<String>,
    pub task: TaskType,
    pub split: Split,
    /// `label_stats_type: "frequency_cnt"` on a classification label.
    pub frequency_stats: bool,
    /// Names of the train/val/test mask arrays.
    pub mask_names: [String; 3],
}

#[derive(Clone, Debug)]
pub struct NodeBlock {
    /// Index in the config's `nodes` list.
    pub index: usize,
    /// Node type after homogeneous renaming (`_N`).
    pub node_type: String,
    pub input: InputFiles,
    pub id_col: Option<String>,
    pub features: Vec<FeatureSpec>,
    pub labels: Vec<LabelSpec>,
}

#[derive(Clone, Debug)]
pub struct EdgeBlock {
    /// Index in the config's `edges` list.
    pub index: usize,
    /// `[src_type, rel_type, dst_type]` after homogeneous renaming.
    pub relation: [String; 3],
    pub input: InputFiles,
    /// `source_id_col` and `dest_id_col` (both or neither).
    pub id_cols: Option<(String, String)>,
    pub features: Vec<FeatureSpec>,
    pub labels: Vec<LabelSpec>,
}

/// The validated, resolved configuration.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The config JSON as loaded (after GSProcessing conversion), kept to write the runtime
    /// config (`data_transform_new.json`) with learned state added.
    pub raw: serde_json::Value,
    /// Folder of the config file (relative paths resolve against it first).
    pub base_dir: PathBuf,
    pub is_homogeneous: bool,
    pub nodes: Vec<NodeBlock>,
    pub edges: Vec<EdgeBlock>,
}
