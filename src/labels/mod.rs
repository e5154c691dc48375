//! Labels, train/val/test masks and label statistics (GraphStorm's `labels` list).
//!
//! API used by the pipeline (kept stable): [`compute_label`].

use arrow::array::ArrayRef;

use crate::config::plan::LabelSpec;
use crate::error::Result;
use crate::graph::NamedTensor;

/// The columns of one input file needed by a label.
pub struct LabelFile<'a> {
    pub path: &'a std::path::Path,
    /// The `label_col` column (`None` for link prediction).
    pub label: Option<ArrayRef>,
    /// Raw ID column(s) for custom splits: `[node_id]` for nodes, `[src, dst]` for edges
    /// (empty when the split is `split_pct`).
    pub ids: Vec<ArrayRef>,
}

/// What one label entry produced.
pub struct LabelOutput {
    /// The label array (if any) followed by the masks that exist.
    pub tensors: Vec<NamedTensor>,
    /// `frequency_cnt` statistics: label value → count over training rows.
    pub stats: Option<std::collections::BTreeMap<i64, u64>>,
}

/// Computes one label entry over all files of a block; `seed` is already specific to this
/// label (derived from `--seed`, the block and the label index).
pub fn compute_label(
    _spec: &LabelSpec,
    _files: &[LabelFile<'_>],
    _seed: u64,
) -> Result<LabelOutput> {
    Err(crate::error::Error::Other("labels: in progress".into()))
}
