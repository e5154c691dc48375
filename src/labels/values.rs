//! Label columns (Arrow arrays) → flat numeric values with per-row validity.
//!
//! Accepted inputs: integer and float primitive arrays (1-D labels) and List / LargeList /
//! FixedSizeList of them (2-D, multi-label; every non-null row must have the same length).
//! Strings and other types are rejected with a message naming the file and column.
//! Arrow nulls count as missing values: NaN for floats; for integer columns they are tracked
//! per element (GraphStorm reads CSV through pandas, where such a column becomes float64 NaN).
//!
//! # Memory
//! One `i64` or `f64` per label element plus one `bool` per element for integer nulls.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

use crate::tensor::DType;

/// Flattened label elements of one or more files (row-major, `width` per row).
#[derive(Debug)]
pub(crate) enum Elems {
    /// Integer labels; `null[i]` marks a missing element.
    Int {
        v: Vec<i64>,
        null: Vec<bool>,
        dtype: DType,
    },
    /// Float labels; missing elements are NaN.
    Float { v: Vec<f64>, dtype: DType },
}

/// The label column of one file, flattened.
#[derive(Debug)]
pub(crate) struct FileValues {
    pub elems: Elems,
    /// Elements per row: 1 for a plain column, the list length for multi-label columns.
    pub width: usize,
    /// Whether the column was a list column (→ 2-D output even when `width == 1`).
    pub is_list: bool,
}

impl Elems {
    fn len(&self) -> usize {
        match self {
            Elems::Int { v, .. } => v.len(),
            Elems::Float { v, .. } => v.len(),
        }
    }
}

/// Elements of a primitive numeric array; `Err` holds the reason (a type description).
fn primitive(arr: &dyn Array) -> Result<Elems, String> {
    macro_rules! ints {
        ($t:ty, $d:expr) => {{
            let a = arr.as_primitive::<$t>();
            let mut v = Vec::with_capacity(a.len());
            let mut null = Vec::with_capacity(a.len());
            for i in 0..a.len() {
                null.push(a.is_null(i));
                v.push(i64::try_from(a.value(i)).map_err(|_| {
                    format!("value {} at row {i} does not fit in int64", a.value(i))
                })?);
            }
            Elems::Int { v, null, dtype: $d }
        }};
    }
    macro_rules! floats {
        ($t:ty, $d:expr, $conv:expr) => {{
            let a = arr.as_primitive::<$t>();
            let v = (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        f64::NAN
                    } else {
                        $conv(a.value(i))
                    }
                })
                .collect();
            Elems::Float { v, dtype: $d }
        }};
    }
    Ok(match arr.data_type() {
        DataType::Int8 => ints!(Int8Type, DType::I8),
        DataType::Int16 => ints!(Int16Type, DType::I16),
        DataType::Int32 => ints!(Int32Type, DType::I32),
        DataType::Int64 => ints!(Int64Type, DType::I64),
        DataType::UInt8 => ints!(UInt8Type, DType::U8),
        DataType::UInt16 => ints!(UInt16Type, DType::I64),
        DataType::UInt32 => ints!(UInt32Type, DType::I64),
        DataType::UInt64 => ints!(UInt64Type, DType::I64),
        DataType::Float16 => floats!(Float16Type, DType::F16, |x: half::f16| x.to_f64()),
        DataType::Float32 => floats!(Float32Type, DType::F32, |x: f32| x as f64),
        DataType::Float64 => floats!(Float64Type, DType::F64, |x: f64| x),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            return Err(
                "has string values; labels must be numeric (integers or floats): map \
                        class names to integer IDs first"
                    .into(),
            )
        }
        other => {
            return Err(format!(
                "has type {other}; labels must be numeric (integers or floats, or lists of them)"
            ))
        }
    })
}

/// Gathers rows `[start, end)` of `child` per row into a flat row-major buffer of `width`
/// elements; null rows become missing elements.
fn gather_lists(child: Elems, ranges: &[Option<(usize, usize)>]) -> Result<(Elems, usize), String> {
    let width = match ranges.iter().flatten().next() {
        Some((s, e)) => e - s,
        None => 0,
    };
    for (row, r) in ranges.iter().enumerate() {
        if let Some((s, e)) = r {
            if e - s != width {
                return Err(format!(
                    "has lists of different lengths ({width} in the first row, {} at row {row}); \
                     multi-label rows must all have the same length",
                    e - s
                ));
            }
        }
    }
    Ok(match child {
        Elems::Int { v, null, dtype } => {
            let mut ov = Vec::with_capacity(ranges.len() * width);
            let mut on = Vec::with_capacity(ranges.len() * width);
            for r in ranges {
                match r {
                    Some((s, e)) => {
                        ov.extend_from_slice(&v[*s..*e]);
                        on.extend_from_slice(&null[*s..*e]);
                    }
                    None => {
                        ov.extend(std::iter::repeat_n(0, width));
                        on.extend(std::iter::repeat_n(true, width));
                    }
                }
            }
            (
                Elems::Int {
                    v: ov,
                    null: on,
                    dtype,
                },
                width,
            )
        }
        Elems::Float { v, dtype } => {
            let mut ov = Vec::with_capacity(ranges.len() * width);
            for r in ranges {
                match r {
                    Some((s, e)) => ov.extend_from_slice(&v[*s..*e]),
                    None => ov.extend(std::iter::repeat_n(f64::NAN, width)),
                }
            }
            (Elems::Float { v: ov, dtype }, width)
        }
    })
}

/// Flattens one file's label column. `Err` holds a reason to be prefixed with the column name.
pub(crate) fn flatten(arr: &ArrayRef) -> Result<FileValues, String> {
    let (child, ranges): (ArrayRef, Vec<Option<(usize, usize)>>) = match arr.data_type() {
        DataType::List(_) => {
            let l = arr.as_list::<i32>();
            let off = l.value_offsets();
            let ranges = (0..l.len())
                .map(|i| (!l.is_null(i)).then(|| (off[i] as usize, off[i + 1] as usize)))
                .collect();
            (l.values().clone(), ranges)
        }
        DataType::LargeList(_) => {
            let l = arr.as_list::<i64>();
            let off = l.value_offsets();
            let ranges = (0..l.len())
                .map(|i| (!l.is_null(i)).then(|| (off[i] as usize, off[i + 1] as usize)))
                .collect();
            (l.values().clone(), ranges)
        }
        DataType::FixedSizeList(_, w) => {
            let l = arr.as_fixed_size_list();
            let w = *w as usize;
            let base = l.offset() * w;
            let ranges = (0..l.len())
                .map(|i| (!l.is_null(i)).then(|| (base + i * w, base + (i + 1) * w)))
                .collect();
            (l.values().clone(), ranges)
        }
        _ => {
            let elems = primitive(arr.as_ref())?;
            return Ok(FileValues {
                elems,
                width: 1,
                is_list: false,
            });
        }
    };
    let child =
        primitive(child.as_ref()).map_err(|e| format!("is a list column whose values {e}"))?;
    let (elems, width) = gather_lists(child, &ranges)?;
    debug_assert_eq!(elems.len(), ranges.len() * width);
    Ok(FileValues {
        elems,
        width,
        is_list: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, ListArray, StringArray};
    use arrow::datatypes::Float64Type;
    use std::sync::Arc;

    #[test]
    fn primitive_ints_and_floats() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let f = flatten(&a).unwrap();
        match f.elems {
            Elems::Int { v, null, dtype } => {
                assert_eq!(v, [1, 0, 3]);
                assert_eq!(null, [false, true, false]);
                assert_eq!(dtype, DType::I64);
            }
            _ => panic!(),
        }
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), None]));
        let f = flatten(&a).unwrap();
        assert!(matches!(f.elems, Elems::Float { ref v, .. } if v[0] == 1.5 && v[1].is_nan()));
    }

    #[test]
    fn lists_flatten_row_major() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(1.0), Some(2.0)]),
            None,
            Some(vec![Some(3.0), Some(4.0)]),
        ]));
        let f = flatten(&a).unwrap();
        assert_eq!(f.width, 2);
        match f.elems {
            Elems::Float { v, .. } => {
                assert_eq!(&v[..2], &[1.0, 2.0]);
                assert!(v[2].is_nan() && v[3].is_nan());
                assert_eq!(&v[4..], &[3.0, 4.0]);
            }
            _ => panic!(),
        }
        let ragged: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(1.0)]),
            Some(vec![Some(3.0), Some(4.0)]),
        ]));
        assert!(flatten(&ragged).unwrap_err().contains("different lengths"));
    }

    #[test]
    fn strings_rejected() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        assert!(flatten(&a).unwrap_err().contains("labels must be numeric"));
    }
}
