//! `edge_dst_hard_negative`: per edge, a list of raw destination-type node IDs → their
//! construction IDs as an `int64` row padded with `-1`.
//!
//! Algorithm (GraphStorm's `HardEdgeDstNegativeTransform`): phase 1 finds the longest raw list
//! per file (in parallel) and the global maximum `max_k`; phase 2 maps each row's IDs through
//! the destination type's ID map ([`FeatureCtx::dst_ids`]), drops unknown IDs (the remaining
//! ones shift left), and pads the row with `-1` to `max_k`. Missing rows are all `-1`.
//! Inputs: a List/LargeList/FixedSizeList column of integer or string IDs (Parquet, JSON), a
//! string column with `separator` (`"n1;n7"`), or a scalar column (one ID per row). Integer
//! raw IDs are looked up as integers, then as their decimal string; string IDs as strings,
//! then (for integer-keyed maps) as parsed integers — GraphStorm's cast to the map's key type.
//!
//! Memory: the `int64` output (8·N·max_k bytes).
//!
//! Parallelism: files in parallel for both phases; output rows in file order.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use rayon::prelude::*;

use super::column::normalize;
use super::{FeatureCtx, Part};
use crate::config::plan::FeatureSpec;
use crate::error::{Error, Result};
use crate::idmap::{RawId, RawIdLookup};
use crate::tensor::Tensor;

fn lookup(ids: &dyn RawIdLookup, raw: &RawId<'_>) -> Option<u32> {
    match raw {
        RawId::Int(i) => ids
            .lookup_int(*i)
            .or_else(|| ids.lookup_str(&i.to_string())),
        RawId::Str(s) => ids
            .lookup_str(s)
            .or_else(|| s.trim().parse::<i64>().ok().and_then(|i| ids.lookup_int(i))),
        other => ids.lookup_str(&other.text()),
    }
}

/// Whether a flat array can hold raw IDs.
fn id_type(t: &DataType) -> bool {
    t.is_integer() || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Element `i` of a flat ID array (`None` for null and for what is no ID: the column types
/// are checked before).
fn raw_at(arr: &dyn Array, i: usize) -> Option<RawId<'_>> {
    RawId::at(arr, i).ok().flatten()
}

/// Calls `f` with every raw ID of row `row`.
fn row_ids<'a>(arr: &'a dyn Array, row: usize, sep: Option<&str>, f: &mut impl FnMut(RawId<'a>)) {
    if arr.is_null(row) {
        return;
    }
    let mut range = |values: &'a ArrayRef, s: usize, e: usize| {
        (s..e)
            .filter_map(|j| raw_at(values.as_ref(), j))
            .for_each(&mut *f)
    };
    match arr.data_type() {
        DataType::List(_) => {
            let l = arr.as_list::<i32>();
            let o = l.value_offsets();
            range(l.values(), o[row] as usize, o[row + 1] as usize);
        }
        DataType::LargeList(_) => {
            let l = arr.as_list::<i64>();
            let o = l.value_offsets();
            range(l.values(), o[row] as usize, o[row + 1] as usize);
        }
        DataType::FixedSizeList(_, w) => {
            let l = arr.as_fixed_size_list();
            let s = l.value_offset_at(row);
            range(l.values(), s, s + *w as usize);
        }
        _ => match (raw_at(arr, row), sep) {
            (Some(RawId::Str(s)), Some(sep)) => s.split(sep).for_each(|p| f(RawId::Str(p))),
            (Some(r), _) => f(r),
            (None, _) => {}
        },
    }
}

/// Computes `edge_dst_hard_negative` for a single-column feature.
pub(crate) fn compute(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    rows: &[usize],
    sep: Option<&str>,
) -> Result<Tensor> {
    debug_assert_eq!(spec.columns.len(), 1, "checked when the plan is built");
    let ids = ctx.dst_ids.ok_or_else(|| {
        Error::config(
            &spec.json_path,
            "edge_dst_hard_negative needs the ID map of the edge's destination node type; it is \
             only valid in an edge block whose destination type has node IDs",
        )
    })?;
    let column = &spec.columns[0];
    let arrays: Vec<ArrayRef> = files
        .iter()
        .map(|f| {
            let loc = f.loc(column);
            let a = normalize(&f.columns[0], &loc)?;
            let inner = match a.data_type() {
                DataType::List(fl) | DataType::LargeList(fl) | DataType::FixedSizeList(fl, _) => {
                    fl.data_type().clone()
                }
                t => t.clone(),
            };
            if !id_type(&inner) {
                return Err(loc.err(
                    0,
                    format!(
                        "hard negatives must be node IDs (integers or strings, a list per \
                         edge or text with \"separator\"), got {}",
                        a.data_type()
                    ),
                ));
            }
            Ok(a)
        })
        .collect::<Result<_>>()?;
    let max_k = arrays
        .par_iter()
        .map(|a| {
            (0..a.len())
                .map(|r| {
                    let mut n = 0;
                    row_ids(a.as_ref(), r, sep, &mut |_| n += 1);
                    n
                })
                .max()
                .unwrap_or(0)
        })
        .collect::<Vec<usize>>()
        .into_iter()
        .max()
        .unwrap_or(0);
    let total: usize = rows.iter().sum();
    let mut out = ctx.alloc(total, max_k, -1i64, &spec.name)?;
    out.fill_blocks(rows, max_k, |p, slot| {
        let a = &arrays[p];
        for r in 0..a.len() {
            let row = &mut slot[r * max_k..(r + 1) * max_k];
            let mut k = 0;
            row_ids(a.as_ref(), r, sep, &mut |raw| {
                if let Some(id) = lookup(ids, &raw) {
                    row[k] = id as i64;
                    k += 1;
                }
            });
        }
        Ok(())
    })?;
    out.into_tensor(vec![total, max_k])
}
