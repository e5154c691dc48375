//! Feature transforms (GraphStorm's `features` list): fit over all input files, then apply.
//!
//! API used by the pipeline (kept stable):
//! [`compute_feature`] gets, for one [`FeatureSpec`], the input column(s) of every input file
//! of the block, in file order, and returns the output arrays (all rows of the block, in file
//! order then row order), the learned state to write back into the runtime config, and the
//! `feature_dim`.

use arrow::array::ArrayRef;

use crate::config::plan::FeatureSpec;
use crate::error::Result;
use crate::graph::NamedTensor;
use crate::idmap::RawIdLookup;

/// The columns of one input file needed by a feature.
pub struct FileColumns<'a> {
    /// The input file (for error messages).
    pub path: &'a std::path::Path,
    /// One array per entry of `FeatureSpec::columns`, all of the file's rows, same order.
    pub columns: Vec<ArrayRef>,
}

/// Context shared by all features of a run.
pub struct FeatureCtx<'a> {
    /// NaN/Inf validation of numeric features (off with `--no-feature-validate`).
    pub validate: bool,
    /// For `edge_dst_hard_negative`: the ID map of the edge's destination node type.
    pub dst_ids: Option<&'a dyn RawIdLookup>,
}

/// What one feature produced.
pub struct FeatureOutput {
    /// Output arrays (usually one, named `feature_name`; `tokenize_hf` gives three).
    pub tensors: Vec<NamedTensor>,
    /// Keys to set inside the feature's `transform` object of the runtime config
    /// (e.g. `mapping`, `max_val`, `min_val`, `sum`), empty when nothing was learned.
    pub learned: serde_json::Map<String, serde_json::Value>,
    /// `feature_dim` to write into the runtime config (e.g. `[100]`).
    pub feature_dim: Vec<usize>,
}

/// Computes one feature over all files of a block. See the module docs.
pub fn compute_feature(
    _spec: &FeatureSpec,
    _files: &[FileColumns<'_>],
    _ctx: &FeatureCtx<'_>,
) -> Result<FeatureOutput> {
    Err(crate::error::Error::Other("features: in progress".into()))
}
