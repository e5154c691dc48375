//! `to_categorical`: values → one-hot (or multi-hot) `int8` rows over a learned mapping.
//!
//! Algorithm (GraphStorm's `CategoricalTransform`): phase 1 collects each file's distinct
//! category strings in parallel; their union in sorted string order (`np.unique` of strings:
//! code-point order, so `"1" < "10" < "2"`) gives `mapping = {category: index}`, written back
//! to the runtime config. A mapping carried by the config is used as is (no fitting). Phase 2
//! writes an `(N, len(mapping))` `int8` matrix: 1 at each known category of the row; unknown
//! categories and missing values leave the row zero.
//!
//! Categories are the values as Python's `str()` spells them: strings as is, integers in
//! decimal, floats in Python `repr` style (`1.0`, `1e+16`, `nan`), booleans `True`/`False`.
//! With `separator` every value is split into several categories (multi-hot; empty pieces are
//! the category `""`). List columns (Parquet/JSON) are multi-hot over their elements.
//!
//! Memory: the distinct categories (strings) per file while fitting, the mapping, and the
//! `int8` output (N·K bytes).
//!
//! Parallelism: files in parallel for both phases; the union is a sorted set, so the mapping
//! does not depend on thread count or file split.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use rayon::prelude::*;

use super::column::normalize;
use super::Part;
use crate::config::plan::FeatureSpec;
use crate::error::Result;
use crate::idmap::RawId;
use crate::tensor::Tensor;

/// The result of `to_categorical`.
pub(crate) struct CategoricalOut {
    pub tensor: Tensor,
    /// The learned mapping (`None` when the config carried one).
    pub learned: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `str()` of element `i` of a flat array (see [`RawId::text`]), `None` for null; other
/// types (dates, decimals, …) use Arrow's display text.
fn value_str(arr: &dyn Array, i: usize) -> Option<Cow<'_, str>> {
    match RawId::at(arr, i) {
        Ok(v) => v.map(|v| v.text()),
        Err(_) => Some(Cow::Owned(
            arrow::util::display::array_value_to_string(arr, i).unwrap_or_default(),
        )),
    }
}

/// Calls `f` with every category of row `row`.
fn row_categories<'a>(arr: &'a dyn Array, row: usize, sep: Option<&str>, f: &mut impl FnMut(&str)) {
    let mut emit = |s: Cow<'a, str>| match sep {
        Some(sep) => s.split(sep).for_each(&mut *f),
        None => f(&s),
    };
    let list = |values: &'a ArrayRef, s: usize, e: usize, emit: &mut dyn FnMut(Cow<'a, str>)| {
        for j in s..e {
            if let Some(v) = value_str(values.as_ref(), j) {
                emit(v);
            }
        }
    };
    if arr.is_null(row) {
        return;
    }
    match arr.data_type() {
        DataType::List(_) => {
            let l = arr.as_list::<i32>();
            let o = l.value_offsets();
            list(l.values(), o[row] as usize, o[row + 1] as usize, &mut emit);
        }
        DataType::LargeList(_) => {
            let l = arr.as_list::<i64>();
            let o = l.value_offsets();
            list(l.values(), o[row] as usize, o[row + 1] as usize, &mut emit);
        }
        DataType::FixedSizeList(_, w) => {
            let l = arr.as_fixed_size_list();
            let s = l.value_offset_at(row);
            list(l.values(), s, s + *w as usize, &mut emit);
        }
        _ => {
            if let Some(v) = value_str(arr, row) {
                emit(v);
            }
        }
    }
}

/// Computes `to_categorical` for a single-column feature.
pub(crate) fn compute(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    rows: &[usize],
    sep: Option<&str>,
    given: Option<&BTreeMap<String, usize>>,
) -> Result<CategoricalOut> {
    debug_assert_eq!(spec.columns.len(), 1, "checked when the plan is built");
    let column = &spec.columns[0];
    let arrays: Vec<ArrayRef> = files
        .iter()
        .map(|f| normalize(&f.columns[0], &f.loc(column)))
        .collect::<Result<_>>()?;
    let (mapping, learned): (BTreeMap<String, usize>, _) = match given {
        Some(m) => {
            debug_assert!(
                m.values().all(|&i| i < m.len()),
                "mapping indices are checked when the plan is built"
            );
            (m.clone(), None)
        }
        None => {
            let sets: Vec<BTreeSet<String>> = arrays
                .par_iter()
                .map(|a| {
                    let mut set = BTreeSet::new();
                    for r in 0..a.len() {
                        row_categories(a.as_ref(), r, sep, &mut |s| {
                            if !set.contains(s) {
                                set.insert(s.to_string());
                            }
                        });
                    }
                    set
                })
                .collect();
            let mut all = BTreeSet::new();
            for s in sets {
                all.extend(s);
            }
            let mapping: BTreeMap<String, usize> =
                all.into_iter().enumerate().map(|(i, s)| (s, i)).collect();
            let json: serde_json::Map<String, serde_json::Value> = mapping
                .iter()
                .map(|(k, &v)| (k.clone(), serde_json::Value::from(v)))
                .collect();
            (mapping, Some(json))
        }
    };
    let k = mapping.len();
    let lookup: hashbrown::HashMap<&str, usize> =
        mapping.iter().map(|(s, &i)| (s.as_str(), i)).collect();
    let total: usize = rows.iter().sum();
    // Compact form: the set columns of each row (expanded to int8 rows only when written).
    let per_part: Vec<(Vec<u32>, Vec<u32>)> = arrays
        .par_iter()
        .map(|a| {
            let mut counts = Vec::with_capacity(a.len());
            let mut cols = Vec::with_capacity(a.len());
            for r in 0..a.len() {
                let before = cols.len();
                row_categories(a.as_ref(), r, sep, &mut |s| {
                    if let Some(&i) = lookup.get(s) {
                        cols.push(i as u32);
                    }
                });
                counts.push((cols.len() - before) as u32);
            }
            (counts, cols)
        })
        .collect();
    let mut offsets = Vec::with_capacity(total + 1);
    offsets.push(0u64);
    let mut cols = Vec::with_capacity(per_part.iter().map(|p| p.1.len()).sum());
    for (counts, c) in per_part {
        for n in counts {
            offsets.push(offsets[offsets.len() - 1] + u64::from(n));
        }
        cols.extend_from_slice(&c);
    }
    debug_assert_eq!(offsets.len(), total + 1);
    Ok(CategoricalOut {
        tensor: Tensor::one_hot(crate::tensor::OneHot::new(k, offsets, cols)),
        learned,
    })
}
