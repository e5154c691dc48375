//! Fast path of the no-op transform for the common case: one column of float32 / float64 /
//! int64 scalars or fixed-size float32 vectors (e.g. precomputed embeddings in Parquet), no
//! nulls, float32 output. Values are copied straight from the Arrow buffers into the output
//! (one rayon task per slice of rows), skipping the general path's f64 staging matrix.
//! Results are identical to the general path (same casts, same NaN/Inf check and message).
//!
//! [`split_f32`] does the same for vectors stored as text (`"0.1;-2.5;…"` with a `separator`):
//! each piece is parsed as f64 and rounded once to f32 straight into the output, as the general
//! path's f64 matrix then cast would. Any row the general path refuses sends the whole feature
//! back to it, so errors are the general path's.
//!
//! # Memory
//! Only the output tensor.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int64Type};

use super::column::{count_pieces, nan_msg, parse_float, split};
use super::{FeatureCtx, Part};
use crate::config::plan::FeatureSpec;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

enum Src<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    I64(&'a [i64]),
}

/// The values of one slice as a flat buffer with `width` values per row, if the fast path
/// applies to it.
fn flat(arr: &dyn Array) -> Option<(Src<'_>, usize)> {
    if arr.null_count() > 0 {
        return None;
    }
    match arr.data_type() {
        DataType::Float32 => Some((Src::F32(arr.as_primitive::<Float32Type>().values()), 1)),
        DataType::Float64 => Some((Src::F64(arr.as_primitive::<Float64Type>().values()), 1)),
        DataType::Int64 => Some((Src::I64(arr.as_primitive::<Int64Type>().values()), 1)),
        DataType::FixedSizeList(f, d) if *f.data_type() == DataType::Float32 && *d > 0 => {
            let l = arr.as_fixed_size_list();
            let d = *d as usize;
            let vals = l.values();
            if vals.null_count() > 0 {
                return None;
            }
            let v = vals.as_primitive::<Float32Type>().values();
            let start = l.value_offset_at(0);
            let end = start + l.len() * d;
            (end <= v.len()).then(|| (Src::F32(&v[start..end]), d))
        }
        _ => None,
    }
}

/// The fast path's source of every slice of rows (`None` for an empty one) and the width they
/// share, or `None` when a slice does not qualify, the widths differ or every slice is empty.
fn sources<'a, S>(
    parts: &'a [Part<'_>],
    source: impl Fn(&'a dyn Array) -> Option<(S, usize)>,
) -> Option<(Vec<Option<S>>, usize)> {
    let mut srcs = Vec::with_capacity(parts.len());
    let mut width = None;
    for p in parts {
        if p.rows == 0 {
            srcs.push(None);
            continue;
        }
        let (src, w) = source(p.columns[0].as_ref())?;
        if *width.get_or_insert(w) != w {
            return None;
        }
        srcs.push(Some(src));
    }
    Some((srcs, width?))
}

/// `Some(tensor)` when every slice qualifies (same width), `None` to use the general path.
pub(crate) fn plain_f32(
    spec: &FeatureSpec,
    parts: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    rows: &[usize],
) -> Result<Option<Tensor>> {
    let Some((srcs, width)) = sources(parts, flat) else {
        return Ok(None);
    };
    let total: usize = rows.iter().sum();
    let mut out = ctx.alloc(total, width, 0f32, &spec.name)?;
    out.fill_blocks(rows, width, |i, slot| {
        let (src, part) = (&srcs[i], &parts[i]);
        // Validation looks at the input values, like the general path.
        let bad = match src {
            None => None,
            Some(Src::F32(v)) => {
                slot.copy_from_slice(v);
                ctx.validate
                    .then(|| v.iter().position(|x| !x.is_finite()))
                    .flatten()
            }
            Some(Src::F64(v)) => {
                slot.iter_mut()
                    .zip(v.iter())
                    .for_each(|(o, &x)| *o = x as f32);
                ctx.validate
                    .then(|| v.iter().position(|x| !x.is_finite()))
                    .flatten()
            }
            Some(Src::I64(v)) => {
                slot.iter_mut()
                    .zip(v.iter())
                    .for_each(|(o, &x)| *o = x as f32);
                None
            }
        };
        match bad {
            Some(i) => Err(part
                .loc(&spec.columns[0])
                .err(i / width, nan_msg(&spec.columns[0]))),
            None => Ok(()),
        }
    })?;
    Ok(Some(out.into_tensor(vec![total, width])?))
}

/// The no-op transform of `sep`-separated number strings into float32, or `None` for the
/// general path: a column that is not plain Utf8, a null, or any row the general path would
/// refuse (another number of pieces than the first row of its slice, slices that disagree, a
/// piece that is not a number, NaN or ±Inf while validating), so that the general path reports
/// it.
pub(crate) fn split_f32<'a>(
    spec: &FeatureSpec,
    parts: &'a [Part<'_>],
    ctx: &FeatureCtx<'_>,
    rows: &[usize],
    sep: &str,
) -> Result<Option<Tensor>> {
    let strings = |a: &'a dyn Array| {
        let s = a.as_string_opt::<i32>().filter(|_| a.null_count() == 0)?;
        Some((s, count_pieces(s.value(0), sep)))
    };
    let Some((strs, width)) = sources(parts, strings) else {
        return Ok(None);
    };
    let total: usize = rows.iter().sum();
    let mut out = ctx.alloc(total, width, 0f32, &spec.name)?;
    // Only tells the caller to fall back; the general path builds the real message.
    let refused = || Error::config(&spec.json_path, "refused by the fast path");
    let filled = out.fill_blocks(rows, width, |i, slot| {
        let Some(s) = strs[i] else { return Ok(()) };
        for (r, row) in slot.chunks_exact_mut(width).enumerate() {
            let mut pieces = split(s.value(r), sep);
            for o in row.iter_mut() {
                let x = pieces.next().and_then(parse_float).ok_or_else(refused)?;
                if ctx.validate && !x.is_finite() {
                    return Err(refused());
                }
                *o = x as f32;
            }
            if pieces.next().is_some() {
                return Err(refused());
            }
        }
        Ok(())
    });
    match filled {
        Ok(()) => Ok(Some(out.into_tensor(vec![total, width])?)),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, Float64Array, StringArray};
    use arrow::datatypes::Field;

    use crate::config::plan::{FeatureSpec, Transform};
    use crate::features::{compute_feature, FeatureCtx, FileColumns};

    fn spec(truncate: Option<usize>) -> FeatureSpec {
        FeatureSpec {
            json_path: "nodes[0].features[0]".into(),
            columns: vec!["v".into()],
            name: "v".into(),
            out_dtype: None,
            transform: Transform::Noop {
                separator: None,
                truncate_dim: truncate,
            },
            feature_dim: None,
        }
    }

    fn vectors(vals: Vec<f32>, d: i32) -> ArrayRef {
        let f = Arc::new(Field::new(
            "item",
            arrow::datatypes::DataType::Float32,
            true,
        ));
        Arc::new(FixedSizeListArray::new(
            f,
            d,
            Arc::new(Float32Array::from(vals)),
            None,
        ))
    }

    /// The fast path (no truncate_dim) equals the general path (truncate_dim = full width).
    #[test]
    fn fast_equals_general() {
        let p = std::path::Path::new("x.parquet");
        let ctx = FeatureCtx {
            validate: true,
            dst_ids: None,
            store: None,
            lm: Default::default(),
            progress: None,
        };
        let cols: Vec<ArrayRef> = vec![
            vectors((0..60).map(|i| i as f32 * 0.25 - 3.0).collect(), 3),
            Arc::new(Float64Array::from(vec![1.5, -2.0, 1e10])),
        ];
        for (col, d) in cols.into_iter().zip([3usize, 1]) {
            let files = [
                FileColumns {
                    path: p,
                    columns: vec![col.slice(0, col.len() / 2)],
                },
                FileColumns {
                    path: p,
                    columns: vec![col.slice(col.len() / 2, col.len() - col.len() / 2)],
                },
            ];
            let fast = compute_feature(&spec(None), &files, &ctx).unwrap();
            let general = if d > 1 {
                compute_feature(&spec(Some(d)), &files, &ctx).unwrap()
            } else {
                fast_general_scalar(&files)
            };
            assert_eq!(
                fast.tensors[0].tensor.bytes(),
                general.tensors[0].tensor.bytes()
            );
            assert_eq!(
                fast.tensors[0].tensor.shape,
                general.tensors[0].tensor.shape
            );
            assert_eq!(fast.feature_dim, vec![d]);
        }
    }

    fn fast_general_scalar(files: &[FileColumns<'_>]) -> crate::features::FeatureOutput {
        // Two columns force the general path; the first half of each row is column one.
        let two: Vec<FileColumns<'_>> = files
            .iter()
            .map(|f| FileColumns {
                path: f.path,
                columns: vec![f.columns[0].clone(), f.columns[0].clone()],
            })
            .collect();
        let mut s = spec(None);
        s.columns = vec!["v".into(), "v".into()];
        let out = compute_feature(
            &s,
            &two,
            &FeatureCtx {
                validate: true,
                dst_ids: None,
                store: None,
                lm: Default::default(),
                progress: None,
            },
        )
        .unwrap();
        let t = &out.tensors[0].tensor;
        let v: Vec<f32> = t
            .as_slice::<f32>()
            .unwrap()
            .chunks(2)
            .map(|c| c[0])
            .collect();
        crate::features::FeatureOutput {
            tensors: vec![crate::graph::NamedTensor {
                name: "v".into(),
                tensor: crate::tensor::Tensor::from_vec(vec![v.len(), 1], v),
            }],
            learned: Default::default(),
            feature_dim: vec![1],
        }
    }

    fn split_spec(truncate: Option<usize>, sep: &str) -> FeatureSpec {
        let mut s = spec(truncate);
        s.transform = Transform::Noop {
            separator: Some(sep.into()),
            truncate_dim: truncate,
        };
        s
    }

    /// Text vectors: the split fast path (no truncate_dim) gives the general path's bytes, and
    /// every row the general path refuses gets the general path's error.
    #[test]
    fn split_fast_equals_general() {
        let p = std::path::Path::new("x.csv");
        let ctx = |validate| FeatureCtx {
            validate,
            dst_ids: None,
            store: None,
            lm: Default::default(),
            progress: None,
        };
        let good: ArrayRef = Arc::new(StringArray::from(vec![
            "0.1;-2.5;3",
            "1e-3;.5;-0.0000",
            " 7 ;8.25;123456789.123456789",
            "0.30000000000000004;1e39;-1e-50",
        ]));
        let files = [
            FileColumns {
                path: p,
                columns: vec![good.slice(0, 1)],
            },
            FileColumns {
                path: p,
                columns: vec![good.slice(1, 3)],
            },
        ];
        for validate in [true, false] {
            let fast = compute_feature(&split_spec(None, ";"), &files, &ctx(validate)).unwrap();
            let general =
                compute_feature(&split_spec(Some(3), ";"), &files, &ctx(validate)).unwrap();
            assert_eq!(
                fast.tensors[0].tensor.bytes(),
                general.tensors[0].tensor.bytes()
            );
            assert_eq!(fast.tensors[0].tensor.shape, vec![4, 3]);
            assert_eq!(fast.feature_dim, vec![3]);
        }
        for bad in [
            vec![Some("1;2"), Some("1;2;3")],
            vec![Some("1;2"), Some("1")],
            vec![Some("1;2"), Some("1;x")],
            vec![Some("1;2"), Some("1;nan")],
            vec![Some("1;2"), None],
        ] {
            let a: ArrayRef = Arc::new(StringArray::from(bad.clone()));
            let f = [FileColumns {
                path: p,
                columns: vec![a],
            }];
            for validate in [true, false] {
                let fast = compute_feature(&split_spec(None, ";"), &f, &ctx(validate));
                let general = compute_feature(&split_spec(Some(2), ";"), &f, &ctx(validate));
                match (fast, general) {
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{bad:?}"),
                    (Ok(a), Ok(b)) => assert_eq!(
                        a.tensors[0].tensor.bytes(),
                        b.tensors[0].tensor.bytes(),
                        "{bad:?}"
                    ),
                    (a, b) => panic!("{bad:?} validate={validate}: {a:?} vs {b:?}"),
                }
            }
        }
    }

    #[test]
    fn fast_path_reports_nan_row() {
        let p = std::path::Path::new("x.parquet");
        let col = vectors(vec![1.0, 2.0, 3.0, f32::NAN], 2);
        let files = [FileColumns {
            path: p,
            columns: vec![col],
        }];
        let e = compute_feature(
            &spec(None),
            &files,
            &FeatureCtx {
                validate: true,
                dst_ids: None,
                store: None,
                lm: Default::default(),
                progress: None,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 1") && e.contains("NaN"), "{e}");
        let ok = compute_feature(
            &spec(None),
            &files,
            &FeatureCtx {
                validate: false,
                dst_ids: None,
                store: None,
                lm: Default::default(),
                progress: None,
            },
        );
        assert!(ok.is_ok());
    }
}
