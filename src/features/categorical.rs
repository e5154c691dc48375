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
use arrow::datatypes::{self as dt, DataType};
use rayon::prelude::*;

use super::column::{normalize, StrCol};
use super::Part;
use crate::config::plan::FeatureSpec;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The result of `to_categorical`.
pub(crate) struct CategoricalOut {
    pub tensor: Tensor,
    /// The learned mapping (`None` when the config carried one).
    pub learned: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Python `str()` of a float, given Rust's shortest `{:e}` spelling of it (for `f32` inputs
/// pass the `f32` spelling, as numpy prints `float32` values with their own shortest digits).
pub(crate) fn py_float(v: f64, sci: &str) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let (neg, body) = match sci.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, sci),
    };
    let (mant, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let s = if (-4..16).contains(&exp) {
        if exp >= 0 {
            let e = exp as usize;
            if digits.len() <= e + 1 {
                format!("{digits}{}.0", "0".repeat(e + 1 - digits.len()))
            } else {
                format!("{}.{}", &digits[..=e], &digits[e + 1..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

/// `str()` of element `i` of a flat array, `None` for null.
fn value_str(arr: &dyn Array, i: usize) -> Option<Cow<'_, str>> {
    if arr.is_null(i) {
        return None;
    }
    macro_rules! int {
        ($t:ty) => {
            Cow::Owned(arr.as_primitive::<$t>().value(i).to_string())
        };
    }
    Some(match arr.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Cow::Borrowed(StrCol::new(arr).and_then(|s| s.get(i)).unwrap_or(""))
        }
        DataType::Int8 => int!(dt::Int8Type),
        DataType::Int16 => int!(dt::Int16Type),
        DataType::Int32 => int!(dt::Int32Type),
        DataType::Int64 => int!(dt::Int64Type),
        DataType::UInt8 => int!(dt::UInt8Type),
        DataType::UInt16 => int!(dt::UInt16Type),
        DataType::UInt32 => int!(dt::UInt32Type),
        DataType::UInt64 => int!(dt::UInt64Type),
        DataType::Float64 => {
            let v = arr.as_primitive::<dt::Float64Type>().value(i);
            Cow::Owned(py_float(v, &format!("{v:e}")))
        }
        DataType::Float32 => {
            let v = arr.as_primitive::<dt::Float32Type>().value(i);
            Cow::Owned(py_float(v as f64, &format!("{v:e}")))
        }
        DataType::Float16 => {
            let v = arr.as_primitive::<dt::Float16Type>().value(i).to_f32();
            Cow::Owned(py_float(v as f64, &format!("{v:e}")))
        }
        DataType::Boolean => Cow::Borrowed(if arr.as_boolean().value(i) {
            "True"
        } else {
            "False"
        }),
        _ => Cow::Owned(arrow::util::display::array_value_to_string(arr, i).unwrap_or_default()),
    })
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
    if spec.columns.len() != 1 {
        return Err(Error::config(
            &spec.json_path,
            "Do not support categorical feature transformation on multiple columns; give each \
             column its own feature",
        ));
    }
    let column = &spec.columns[0];
    let arrays: Vec<ArrayRef> = files
        .iter()
        .map(|f| normalize(&f.columns[0], &f.loc(column)))
        .collect::<Result<_>>()?;
    let (mapping, learned): (BTreeMap<String, usize>, _) = match given {
        Some(m) => {
            if let Some((k, &i)) = m.iter().find(|(_, &i)| i >= m.len()) {
                return Err(Error::config(
                    format!("{}.transform.mapping", spec.json_path),
                    format!(
                        "category {k:?} maps to index {i}, but the mapping has only {} \
                         entries (indices must be 0..{})",
                        m.len(),
                        m.len()
                    ),
                ));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn py(v: f64) -> String {
        py_float(v, &format!("{v:e}"))
    }

    #[test]
    fn python_float_spelling() {
        assert_eq!(py(1.0), "1.0");
        assert_eq!(py(-0.0), "-0.0");
        assert_eq!(py(0.1), "0.1");
        assert_eq!(py(123.456), "123.456");
        assert_eq!(py(1e16), "1e+16");
        assert_eq!(py(1.5e16), "1.5e+16");
        assert_eq!(py(1234567890123456.0), "1234567890123456.0");
        assert_eq!(py(0.0001), "0.0001");
        assert_eq!(py(0.00001), "1e-05");
        assert_eq!(py(-2.5e-7), "-2.5e-07");
        assert_eq!(py(f64::NAN), "nan");
        assert_eq!(py(f64::NEG_INFINITY), "-inf");
        let f = 0.1f32;
        assert_eq!(py_float(f as f64, &format!("{f:e}")), "0.1");
    }
}
