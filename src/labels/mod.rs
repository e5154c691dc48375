//! Labels, train/val/test masks and label statistics (GraphStorm's `labels` list, spec §2.6,
//! §2.7, §3.7, §3.8).
//!
//! API used by the pipeline (kept stable): [`compute_label`], over all files of one block.
//!
//! Outputs:
//! - classification → `label_col` as int32, 1-D (2-D for list columns); values from int or float
//!   columns, floats must be integral; NaN/null rows are written as `i32::MIN` and never masked;
//! - regression → `label_col` in the input dtype (float32/float64/int64/...; files with
//!   different dtypes are promoted, integer columns with nulls become float64 with NaN);
//! - link prediction → masks only, over all rows;
//! - masks: int8 1-D, named by `mask_field_names`; `split_pct [0,0,0]` → no masks.
//!
//! Deliberate differences from GraphStorm: percentage splits use exact global counts
//! `floor(N_valid · p)` over all files with a seeded ChaCha8 permutation ([`split`]); custom
//! splits also exclude rows whose label is missing.
//!
//! # Memory
//! O(rows · label width) for the label values and output, one byte per row per mask, one
//! `usize` per valid row for the permutation. Single-threaded; deterministic for a seed.

mod split;
mod values;

use std::collections::BTreeMap;

use arrow::array::ArrayRef;

use crate::config::plan::{LabelSpec, Split, TaskType};
use crate::error::{Error, Result};
use crate::graph::NamedTensor;
use crate::tensor::{DType, Tensor};

use values::{Elems, FileValues};

/// The columns of one input file needed by a label.
pub struct LabelFile<'a> {
    pub path: &'a std::path::Path,
    /// Number of rows of this file (what link-prediction masks cover; checked against the
    /// arrays below).
    pub rows: usize,
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
pub fn compute_label(spec: &LabelSpec, files: &[LabelFile<'_>], seed: u64) -> Result<LabelOutput> {
    for f in files {
        let lens = f.label.iter().chain(&f.ids).map(|a| a.len());
        for len in lens {
            if len != f.rows {
                return Err(Error::input(
                    f.path,
                    format!(
                        "label input has {len} rows but the file has {} rows",
                        f.rows
                    ),
                ));
            }
        }
    }
    let total: usize = files.iter().map(|f| f.rows).sum();

    // Label values and per-row validity.
    let (label, valid) = match spec.task {
        TaskType::LinkPrediction => (None, vec![true; total]),
        task => {
            let column = spec.column.as_deref().unwrap_or("");
            let mut parts = Vec::with_capacity(files.len());
            for f in files {
                let arr = f.label.as_ref().ok_or_else(|| {
                    Error::input(f.path, format!("label column '{column}' was not read"))
                })?;
                let v = values::flatten(arr)
                    .map_err(|e| Error::input(f.path, format!("label column '{column}' {e}")))?;
                parts.push(v);
            }
            let (tensor, valid) = build_label(task, column, files, &parts, total)?;
            (
                Some(NamedTensor {
                    name: column.to_string(),
                    tensor,
                }),
                valid,
            )
        }
    };

    // Rows chosen per split.
    let chosen: Option<[Vec<usize>; 3]> = match &spec.split {
        Split::Pct(p) if *p == [0.0; 3] => None,
        Split::Pct(p) => {
            let valid_rows: Vec<usize> = (0..total).filter(|&i| valid[i]).collect();
            Some(split::pct_split(valid_rows, *p, seed))
        }
        Split::Custom(cs) => {
            let pair = files.first().is_some_and(|f| f.ids.len() == 2);
            let sets = [
                split::read_split_set(&cs.train, &cs.column, pair)?,
                split::read_split_set(&cs.valid, &cs.column, pair)?,
                split::read_split_set(&cs.test, &cs.column, pair)?,
            ];
            let mut chosen: [Vec<usize>; 3] = Default::default();
            let mut hits = [0usize; 3];
            let mut skipped_invalid = 0usize;
            let mut row = 0usize;
            for f in files {
                for key in split::row_keys(&f.ids, f.path)? {
                    if let Some(k) = key {
                        // Priority train > valid > test.
                        if let Some(s) = sets.iter().position(|set| set.contains(&k)) {
                            hits[s] += 1;
                            if valid[row] {
                                chosen[s].push(row);
                            } else {
                                skipped_invalid += 1;
                            }
                        }
                    }
                    row += 1;
                }
            }
            for (s, name) in ["train", "valid", "test"].iter().enumerate() {
                if hits[s] == 0 && !sets[s].is_empty() {
                    log::warn!(
                        "{}: no row matches the {} IDs of custom_split_filenames ({} listed); \
                         IDs are compared by type (the string \"1\" does not match the integer 1)",
                        spec.json_path,
                        name,
                        sets[s].len()
                    );
                }
            }
            if skipped_invalid > 0 {
                log::warn!(
                    "{}: {skipped_invalid} rows listed in custom split files have a missing \
                     label and are left out of the masks",
                    spec.json_path
                );
            }
            Some(chosen)
        }
    };

    let stats = if spec.frequency_stats {
        let mut counts = BTreeMap::new();
        if let (Some(l), Some(ch)) = (&label, &chosen) {
            if let Some(vals) = l.tensor.as_slice::<i32>() {
                let w = l.tensor.row_len();
                for &r in &ch[0] {
                    for &v in &vals[r * w..(r + 1) * w] {
                        *counts.entry(v as i64).or_insert(0u64) += 1;
                    }
                }
            }
        }
        Some(counts)
    } else {
        None
    };

    let mut tensors = Vec::new();
    tensors.extend(label);
    if let Some(ch) = chosen {
        for (rows, name) in ch.iter().zip(&spec.mask_names) {
            let mut m = vec![0i8; total];
            for &r in rows {
                m[r] = 1;
            }
            tensors.push(NamedTensor {
                name: name.clone(),
                tensor: Tensor::from_1d(m),
            });
        }
    }
    Ok(LabelOutput { tensors, stats })
}

/// Builds the label tensor and the per-row validity over all files.
fn build_label(
    task: TaskType,
    column: &str,
    files: &[LabelFile<'_>],
    parts: &[FileValues],
    total: usize,
) -> Result<(Tensor, Vec<bool>)> {
    let width = parts.first().map_or(1, |p| p.width);
    let is_list = parts.first().is_some_and(|p| p.is_list);
    for (f, p) in files.iter().zip(parts) {
        if p.width != width || p.is_list != is_list {
            return Err(Error::input(
                f.path,
                format!(
                    "label column '{column}' has {} values per row here but {width} in {}",
                    p.width,
                    files[0].path.display()
                ),
            ));
        }
    }
    let shape = if is_list {
        vec![total, width]
    } else {
        vec![total]
    };
    let mut valid = vec![true; total];
    let mut row0 = 0usize;
    for (f, p) in files.iter().zip(parts) {
        for r in 0..f.rows {
            let missing = match &p.elems {
                Elems::Int { null, .. } => null[r * width..(r + 1) * width].iter().any(|&b| b),
                Elems::Float { v, .. } => v[r * width..(r + 1) * width].iter().any(|x| x.is_nan()),
            };
            if missing {
                valid[row0 + r] = false;
            }
        }
        row0 += f.rows;
    }

    if task == TaskType::Classification {
        let mut out = Vec::with_capacity(total * width);
        for (f, p) in files.iter().zip(parts) {
            match &p.elems {
                Elems::Int { v, null, .. } => {
                    for (i, (&x, &n)) in v.iter().zip(null).enumerate() {
                        out.push(if n {
                            i32::MIN
                        } else {
                            i32::try_from(x).map_err(|_| {
                                data_err(
                                    f,
                                    i / width,
                                    column,
                                    format!("label {x} does not fit in int32"),
                                )
                            })?
                        });
                    }
                }
                Elems::Float { v, .. } => {
                    for (i, &x) in v.iter().enumerate() {
                        out.push(if x.is_nan() {
                            i32::MIN
                        } else if x.fract() != 0.0 || x < i32::MIN as f64 || x > i32::MAX as f64 {
                            return Err(data_err(
                                f,
                                i / width,
                                column,
                                format!(
                                    "classification label {x} is not an integer; class labels \
                                     must be integral"
                                ),
                            ));
                        } else {
                            x as i32
                        });
                    }
                }
            }
        }
        return Ok((Tensor::from_vec(shape, out), valid));
    }

    // Regression: keep the dtype; promote when files differ.
    let dtypes: Vec<DType> = parts
        .iter()
        .map(|p| match &p.elems {
            Elems::Int { null, dtype, .. } if null.iter().any(|&b| b) => DType::F64,
            Elems::Int { dtype, .. } | Elems::Float { dtype, .. } => *dtype,
        })
        .collect();
    let first = dtypes.first().copied().unwrap_or(DType::F64);
    let out_dtype = if dtypes.iter().all(|&d| d == first) {
        first
    } else if dtypes.iter().all(|d| !d.is_float()) {
        DType::I64
    } else {
        DType::F64
    };
    let tensor = match out_dtype {
        DType::F64 | DType::F32 | DType::F16 => {
            let mut flat = Vec::with_capacity(total * width);
            for p in parts {
                match &p.elems {
                    Elems::Int { v, null, .. } => flat.extend(
                        v.iter()
                            .zip(null)
                            .map(|(&x, &n)| if n { f64::NAN } else { x as f64 }),
                    ),
                    Elems::Float { v, .. } => flat.extend_from_slice(v),
                }
            }
            match out_dtype {
                DType::F32 => Tensor::from_vec(shape, flat.iter().map(|&x| x as f32).collect()),
                DType::F16 => Tensor::from_vec(
                    shape,
                    flat.iter()
                        .map(|&x| crate::features::f16_from_f64(x))
                        .collect::<Vec<_>>(),
                ),
                _ => Tensor::from_vec(shape, flat),
            }
        }
        int_dtype => {
            let mut flat = Vec::with_capacity(total * width);
            for p in parts {
                if let Elems::Int { v, .. } = &p.elems {
                    flat.extend_from_slice(v);
                }
            }
            // Values came from columns of `int_dtype` (or promote to I64), so casts are exact.
            match int_dtype {
                DType::I8 => Tensor::from_vec(shape, flat.iter().map(|&x| x as i8).collect()),
                DType::U8 => Tensor::from_vec(shape, flat.iter().map(|&x| x as u8).collect()),
                DType::I16 => Tensor::from_vec(shape, flat.iter().map(|&x| x as i16).collect()),
                DType::I32 => Tensor::from_vec(shape, flat.iter().map(|&x| x as i32).collect()),
                _ => Tensor::from_vec(shape, flat),
            }
        }
    };
    Ok((tensor, valid))
}

fn data_err(f: &LabelFile<'_>, row: usize, column: &str, msg: String) -> Error {
    Error::Data {
        file: f.path.to_path_buf(),
        row: row as u64,
        column: column.to_string(),
        msg,
    }
}

#[cfg(test)]
mod tests;
