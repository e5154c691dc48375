//! Feature transforms (GraphStorm's `features` list): fit over all input files, then apply.
//!
//! API used by the pipeline (kept stable):
//! [`compute_feature`] gets, for one [`FeatureSpec`], the input column(s) of every input file
//! of the block, in file order, and returns the output arrays (all rows of the block, in file
//! order then row order), the learned state to write back into the runtime config, and the
//! `feature_dim`.
//!
//! Algorithm: every transform is two-phase over the in-memory Arrow columns, cut into
//! zero-copy slices of 8192 rows: fit (per-slice statistics computed in parallel,
//! merged in slice order; skipped when the config carries the learned state) then apply (per
//! slice in parallel, each slice writing its own rows of the preallocated output).
//! Multi-column features apply the transform to each column and stack the results side by side
//! (spec §2.4). Outputs never depend on the thread count or on how rows are split into files.
//!
//! | transform | module | output |
//! |---|---|---|
//! | none / `no-op` | `numeric` | `out_dtype` (float32), `(N, d)` |
//! | `max_min_norm`, `standard`, `bucket_numerical` | `numeric` | `out_dtype` (float32) |
//! | `rank_gauss` | `rank_gauss` | `out_dtype` (float32) |
//! | `to_categorical` | `categorical` | int8 `(N, len(mapping))` |
//! | `edge_dst_hard_negative` | `hard_negative` | int64 `(N, max_k)`, `-1` padded |
//! | `tokenize_hf` | `tokenize` | `input_ids` int64, `attention_mask`/`token_type_ids` int8, `(N, max_seq_length)` |
//! | `bert_hf` | `bert` (libtorch: the `train` feature) | `out_dtype` (float32), `(N, hidden_size · columns)` |
//! | `tabular` | — | rejected when the plan is built ("not supported yet") |
//!
//! Deliberate deviations from GraphStorm (all documented in the submodules): ties in
//! `rank_gauss` are ranked by row position (numpy: arbitrary), one row gives zeros (numpy:
//! division by zero); `standard` sums are exact (numpy: pairwise float sums); `max_min_norm`
//! with `out_dtype: int8` uses float32 bounds (GraphStorm crashes); out-of-range values cast to
//! int8 saturate (numpy wraps); `to_categorical` accepts `separator` on every string column
//! (GraphStorm: JSON only) and treats missing values as "no category" in CSV too (GraphStorm:
//! the category `"nan"`, and int columns with gaps become floats `"1.0"`); list columns are
//! multi-hot; `truncate_dim` on a scalar column is a config error.
//!
//! Memory: the output tensor plus, per busy thread, one slice's column converted to `f64`
//! (see the submodules for transform-specific extras).
//!
//! Parallelism: the ambient rayon pool, over slices.
//!
//! Errors: bad values give [`Error::Data`] naming file, 0-based data row within the file, and
//! column; configuration problems give [`Error::Config`] naming the feature's JSON path.

use arrow::array::ArrayRef;

mod categorical;
mod column;
mod fast;
mod hard_negative;
mod numeric;
pub(crate) use numeric::f16_from_f64;
#[cfg(feature = "train")]
mod bert;
mod rank_gauss;
mod tokenize;

use crate::config::plan::{FeatureSpec, Transform};
use crate::error::{Error, Result};
use crate::graph::NamedTensor;
use crate::idmap::RawIdLookup;
use crate::tensor::{DType, Element};
use crate::workspace::spill::{OutBuf, Store};

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
    /// Where output arrays are allocated (memory or spill files); `None`: always memory.
    pub store: Option<&'a Store>,
    /// How `bert_hf` runs its model.
    pub lm: LmOptions,
    /// The feature's progress bar, for transforms that report rows as they go (`bert_hf`).
    pub progress: Option<&'a crate::progress::Stage<'a>>,
}

/// How `bert_hf` runs its model.
#[derive(Clone, Copy, Debug, Default)]
pub struct LmOptions {
    /// `--device`.
    pub device: crate::train::device::DevicePref,
    /// `validate`'s dry run: tokenize and load the model, but write zeros instead of running
    /// it (the shapes and dtypes are those of the real run).
    pub dry_run: bool,
}

impl FeatureCtx<'_> {
    /// An output buffer of `rows × width` elements set to `fill` (see [`Store::alloc`]).
    pub(crate) fn alloc<T: Element>(
        &self,
        rows: usize,
        width: usize,
        fill: T,
        what: &str,
    ) -> Result<OutBuf<T>> {
        match self.store {
            Some(s) => s.alloc(rows, width, fill, what),
            None => Ok(OutBuf::from_vec(vec![fill; rows * width])),
        }
    }
}

/// What one feature produced.
#[derive(Debug)]
pub struct FeatureOutput {
    /// Output arrays (usually one, named `feature_name`; `tokenize_hf` gives three).
    pub tensors: Vec<NamedTensor>,
    /// Keys to set inside the feature's `transform` object of the runtime config
    /// (e.g. `mapping`, `max_val`, `min_val`, `sum`), empty when nothing was learned.
    pub learned: serde_json::Map<String, serde_json::Value>,
    /// `feature_dim` to write into the runtime config (e.g. `[100]`).
    pub feature_dim: Vec<usize>,
}

/// Rows per work unit: files are cut into zero-copy slices of this many rows, so one big file
/// still keeps every thread busy and per-thread scratch stays small.
/// (Tiny in unit tests, so that every test crosses slice boundaries.)
const CHUNK_ROWS: usize = if cfg!(test) { 7 } else { 8192 };

/// A zero-copy slice of one input file's columns: the unit of parallel work.
pub(crate) struct Part<'a> {
    pub path: &'a std::path::Path,
    /// Row of the file where this slice starts (for error messages).
    pub base: usize,
    pub rows: usize,
    pub columns: Vec<ArrayRef>,
}

impl<'a> Part<'a> {
    pub(crate) fn loc<'s>(&'s self, column: &'s str) -> column::Loc<'s> {
        column::Loc {
            file: self.path,
            column,
            base: self.base,
        }
    }
}

/// Cuts every file into slices of at most `chunk` rows (files in order, then rows in order;
/// an empty file gives one empty slice, so types are still checked).
fn split_parts<'a>(files: &[FileColumns<'a>], rows: &[usize], chunk: usize) -> Vec<Part<'a>> {
    let mut parts = Vec::new();
    for (f, &n) in files.iter().zip(rows) {
        let mut base = 0;
        loop {
            let len = chunk.min(n - base);
            let columns = f.columns.iter().map(|a| a.slice(base, len)).collect();
            parts.push(Part {
                path: f.path,
                base,
                rows: len,
                columns,
            });
            base += len;
            if base >= n {
                break;
            }
        }
    }
    parts
}

/// Computes one feature over all files of a block. See the module docs.
pub fn compute_feature(
    spec: &FeatureSpec,
    files: &[FileColumns<'_>],
    ctx: &FeatureCtx<'_>,
) -> Result<FeatureOutput> {
    let file_rows = numeric::file_rows(spec, files)?;
    check_inputs(spec, files)?;
    let parts = split_parts(files, &file_rows, CHUNK_ROWS);
    let files = parts.as_slice();
    let rows: Vec<usize> = parts.iter().map(|p| p.rows).collect();
    let dtype = spec.out_dtype.unwrap_or(DType::F32);
    let ncols = spec.columns.len();
    let multi = ncols > 1;
    let mut learned = serde_json::Map::new();
    let tensor = match &spec.transform {
        Transform::Noop {
            separator,
            truncate_dim,
        } => {
            if truncate_dim.is_none() && dtype == DType::F32 && ncols == 1 {
                let fast = match separator {
                    None => fast::plain_f32(spec, files, ctx, &rows)?,
                    Some(sep) => fast::split_f32(spec, files, ctx, &rows, sep)?,
                };
                if let Some(t) = fast {
                    let dim = t.shape[1..].to_vec();
                    let tensors = vec![NamedTensor {
                        name: spec.name.clone(),
                        tensor: t,
                    }];
                    return finish(spec, tensors, learned, dim);
                }
            }
            let plans = (0..ncols)
                .map(|c| numeric::fit_noop(spec, files, c, separator.as_deref(), *truncate_dim))
                .collect::<Result<Vec<_>>>()?;
            numeric::apply_plans(spec, files, ctx, &plans, &rows, dtype)?
        }
        Transform::MaxMinNorm {
            max_bound,
            min_bound,
            max_val,
            min_val,
        } => {
            debug_assert!(
                !multi || (max_val.is_some() && min_val.is_some()),
                "checked when the plan is built"
            );
            let mut fits = (0..ncols)
                .map(|c| {
                    numeric::fit_maxmin(
                        spec,
                        files,
                        ctx,
                        c,
                        *max_bound,
                        *min_bound,
                        max_val.as_deref(),
                        min_val.as_deref(),
                        dtype,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            if multi {
                let given =
                    |v: &Option<Vec<f64>>| numeric::json_list(v.as_deref().unwrap_or(&[]), false);
                learned.insert("max_val".into(), given(max_val));
                learned.insert("min_val".into(), given(min_val));
            } else {
                let f = &fits[0];
                learned.insert("max_val".into(), numeric::json_list(&f.max, f.integer));
                learned.insert("min_val".into(), numeric::json_list(&f.min, f.integer));
            }
            let plans: Vec<_> = fits.drain(..).map(|f| f.plan).collect();
            numeric::apply_plans(spec, files, ctx, &plans, &rows, dtype)?
        }
        Transform::Standard { sum } => {
            debug_assert!(!multi || sum.is_some(), "checked when the plan is built");
            let mut fits = (0..ncols)
                .map(|c| numeric::fit_standard(spec, files, ctx, c, sum.as_deref()))
                .collect::<Result<Vec<_>>>()?;
            if let Some(s) = &fits[0].learned {
                learned.insert("sum".into(), numeric::json_list(s, fits[0].integer));
            }
            let plans: Vec<_> = fits.drain(..).map(|f| f.plan).collect();
            numeric::apply_plans(spec, files, ctx, &plans, &rows, dtype)?
        }
        Transform::RankGauss { epsilon, uniquify } => {
            let plans = (0..ncols)
                .map(|c| rank_gauss::fit(spec, files, ctx, c, *epsilon, *uniquify))
                .collect::<Result<Vec<_>>>()?;
            numeric::apply_plans(spec, files, ctx, &plans, &rows, dtype)?
        }
        Transform::Bucket {
            range,
            bucket_cnt,
            slide_window_size,
        } => {
            let plans = (0..ncols)
                .map(|c| {
                    numeric::fit_bucket(spec, files, c, *range, *bucket_cnt, *slide_window_size)
                })
                .collect::<Result<Vec<_>>>()?;
            numeric::apply_plans(spec, files, ctx, &plans, &rows, dtype)?
        }
        Transform::Categorical { separator, mapping } => {
            ignore_out_dtype(spec, DType::I8);
            let out =
                categorical::compute(spec, files, &rows, separator.as_deref(), mapping.as_ref())?;
            if let Some(m) = out.learned {
                learned.insert("mapping".into(), serde_json::Value::Object(m));
            }
            out.tensor
        }
        Transform::HardNegative { separator } => {
            ignore_out_dtype(spec, DType::I64);
            hard_negative::compute(spec, files, ctx, &rows, separator.as_deref())?
        }
        Transform::TokenizeHf {
            max_seq_length,
            tokenizer,
            ..
        } => {
            if let Some(d) = spec.out_dtype {
                log::warn!(
                    "{}: out_dtype {} is ignored; tokenize_hf always produces int64 input_ids \
                     and int8 attention_mask/token_type_ids",
                    spec.json_path,
                    d.name()
                );
            }
            let out = tokenize::compute(spec, files, &rows, tokenizer, *max_seq_length, ctx)?;
            return finish(spec, out.tensors, learned, out.feature_dim);
        }
        #[cfg(feature = "train")]
        Transform::BertHf {
            max_seq_length,
            infer_batch_size,
            model,
            ..
        } => {
            let opts = bert::Options {
                max_len: *max_seq_length,
                batch_rows: *infer_batch_size,
                dtype,
            };
            let (tensor, dim) = bert::compute(spec, files, &rows, model, &opts, ctx)?;
            let tensors = vec![NamedTensor {
                name: spec.name.clone(),
                tensor,
            }];
            return finish(spec, tensors, learned, dim);
        }
        #[cfg(not(feature = "train"))]
        Transform::BertHf { .. } => unreachable!("bert_hf is rejected when the plan is built"),
        Transform::Tabular { .. } => unreachable!("tabular is rejected when the plan is built"),
    };
    let feature_dim = tensor.shape[1..].to_vec();
    let tensors = vec![NamedTensor {
        name: spec.name.clone(),
        tensor,
    }];
    finish(spec, tensors, learned, feature_dim)
}

/// Wraps the output, checking a `feature_dim` carried by the config.
fn finish(
    spec: &FeatureSpec,
    tensors: Vec<NamedTensor>,
    learned: serde_json::Map<String, serde_json::Value>,
    feature_dim: Vec<usize>,
) -> Result<FeatureOutput> {
    if let Some(given) = &spec.feature_dim {
        if *given != feature_dim {
            return Err(Error::config(
                format!("{}.feature_dim", spec.json_path),
                format!(
                    "the config says feature_dim {given:?} but this run computes {feature_dim:?}; \
                     the dimension of a feature must stay the same (remove feature_dim or fix \
                     the input)"
                ),
            ));
        }
    }
    Ok(FeatureOutput {
        tensors,
        learned,
        feature_dim,
    })
}

/// Checks done once per feature: the boolean-input warning.
fn check_inputs(spec: &FeatureSpec, files: &[FileColumns<'_>]) -> Result<()> {
    debug_assert!(
        !matches!(
            &spec.transform,
            Transform::Noop { separator: Some(s), .. }
                | Transform::Categorical { separator: Some(s), .. }
                | Transform::HardNegative { separator: Some(s) } if s.is_empty()
        ),
        "empty separators are rejected when the plan is built"
    );
    let numeric = !matches!(
        spec.transform,
        Transform::Categorical { .. }
            | Transform::HardNegative { .. }
            | Transform::TokenizeHf { .. }
            | Transform::BertHf { .. }
    );
    for (c, column) in spec.columns.iter().enumerate() {
        if numeric
            && files
                .iter()
                .any(|f| column::is_boolean_type(f.columns[c].data_type()))
        {
            log::warn!(
                "{}: column '{column}' is boolean; it is cast to numbers (true = 1, false = 0)",
                spec.json_path
            );
        }
    }
    Ok(())
}

/// Transforms with a fixed output dtype ignore `out_dtype` (as GraphStorm does), with a warning.
fn ignore_out_dtype(spec: &FeatureSpec, fixed: DType) {
    if let Some(d) = spec.out_dtype.filter(|&d| d != fixed) {
        log::warn!(
            "{}: out_dtype {} is ignored; {} always produces {}",
            spec.json_path,
            d.name(),
            spec.transform.name(),
            fixed.name()
        );
    }
}

#[cfg(test)]
mod tests;
