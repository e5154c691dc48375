//! The raw ID held by one Arrow cell, and Python's text of a float.
//!
//! One conversion for every place that reads IDs (or ID-like values) cell by cell: custom split
//! matching (`labels::split`), hard negatives (`features::hard_negative`) and the category
//! text of `to_categorical`. Node ID columns are converted column-wise by
//! [`super::raw_ids_from_array`], which spells floats with the same [`py_float_str`].
//!
//! What GraphStorm sees is a pandas/numpy value, so the text of a value is Python's `str()`:
//! integers in decimal, floats in `repr` style (`1.0`, `1e-05`, `1e+16`, `nan`), `float32`
//! values with their own shortest digits (`str(np.float32(0.1))` is `'0.1'`), booleans
//! `True`/`False`. `float16` cells are spelled through `float32`.

use std::borrow::Cow;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{self as dt, DataType};

/// One cell of an ID-like column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawId<'a> {
    /// Any integer type (unsigned values above `i64::MAX` are rejected by [`RawId::at`]).
    Int(i64),
    Float(f64),
    /// A `float32` (or `float16`) cell: its text uses `float32` shortest digits.
    Float32(f32),
    Str(&'a str),
    Bool(bool),
}

impl<'a> RawId<'a> {
    /// The value of row `i` of a flat array; `Ok(None)` for a null, `Err` (a phrase for the
    /// caller's message) for a type that holds no IDs or an unsigned value beyond `i64`.
    pub fn at(arr: &'a dyn Array, i: usize) -> Result<Option<RawId<'a>>, String> {
        if arr.is_null(i) {
            return Ok(None);
        }
        macro_rules! int {
            ($t:ty) => {
                RawId::Int(arr.as_primitive::<$t>().value(i) as i64)
            };
        }
        Ok(Some(match arr.data_type() {
            DataType::Int8 => int!(dt::Int8Type),
            DataType::Int16 => int!(dt::Int16Type),
            DataType::Int32 => int!(dt::Int32Type),
            DataType::Int64 => int!(dt::Int64Type),
            DataType::UInt8 => int!(dt::UInt8Type),
            DataType::UInt16 => int!(dt::UInt16Type),
            DataType::UInt32 => int!(dt::UInt32Type),
            DataType::UInt64 => {
                let v = arr.as_primitive::<dt::UInt64Type>().value(i);
                RawId::Int(
                    i64::try_from(v).map_err(|_| format!("the ID {v} does not fit in int64"))?,
                )
            }
            DataType::Float16 => {
                RawId::Float32(arr.as_primitive::<dt::Float16Type>().value(i).to_f32())
            }
            DataType::Float32 => RawId::Float32(arr.as_primitive::<dt::Float32Type>().value(i)),
            DataType::Float64 => RawId::Float(arr.as_primitive::<dt::Float64Type>().value(i)),
            DataType::Utf8 => RawId::Str(arr.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => RawId::Str(arr.as_string::<i64>().value(i)),
            DataType::Utf8View => RawId::Str(arr.as_string_view().value(i)),
            DataType::Boolean => RawId::Bool(arr.as_boolean().value(i)),
            other => return Err(format!("ID columns of type {other} are not supported")),
        }))
    }

    /// Python's `str()` of the value.
    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            RawId::Int(v) => Cow::Owned(v.to_string()),
            RawId::Float(v) => Cow::Owned(py_float_str(v)),
            RawId::Float32(v) => Cow::Owned(py_float32_str(v)),
            RawId::Str(s) => Cow::Borrowed(s),
            RawId::Bool(b) => Cow::Borrowed(if b { "True" } else { "False" }),
        }
    }
}

/// Python's `str()` (= `repr`) of a `float`: shortest round-trip digits, positional for
/// decimal exponents −5 < e < 16 (always with a fractional part: `1.0`), otherwise scientific
/// with a sign and at least two exponent digits (`1e-05`, `1e+16`); `nan`, `inf`, `-inf`.
pub fn py_float_str(v: f64) -> String {
    py_text(v.is_nan(), v.is_infinite(), v < 0.0, &format!("{v:e}"))
}

/// `str(np.float32(v))`: as [`py_float_str`] with the shortest digits of the `f32` value.
pub fn py_float32_str(v: f32) -> String {
    py_text(v.is_nan(), v.is_infinite(), v < 0.0, &format!("{v:e}"))
}

/// Python float text from Rust's shortest `{:e}` spelling (`1.5e16`, `-2.5e-7`, `0e0`).
fn py_text(nan: bool, inf: bool, neg_inf: bool, sci: &str) -> String {
    if nan {
        return "nan".into();
    }
    if inf {
        return if neg_inf { "-inf".into() } else { "inf".into() };
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Float32Array, Int64Array, StringArray, UInt64Array,
    };

    use super::*;

    /// Expected values are the output of CPython 3 `str(v)` (identical to `repr(v)`) for each
    /// input, copied from a real interpreter run.
    #[test]
    fn python_float_text() {
        let cases: &[(f64, &str)] = &[
            (1e-05, "1e-05"),
            (1e16, "1e+16"),
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0001, "0.0001"),
            (1.5e16, "1.5e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (-2.5e-7, "-2.5e-07"),
            (123.456, "123.456"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
            (100.0, "100.0"),
            (1e15, "1000000000000000.0"),
            (12345678901234567.0, "1.2345678901234568e+16"),
        ];
        for &(v, want) in cases {
            assert_eq!(py_float_str(v), want, "str({v:?})");
        }
        // numpy prints float32 values with their own shortest digits.
        assert_eq!(py_float32_str(0.1), "0.1");
        assert_eq!(py_float32_str(16777216.0), "16777216.0");
        assert_eq!(py_float32_str(1e16), "1e+16");
    }

    #[test]
    fn cells_and_their_text() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(7), None]));
        assert_eq!(RawId::at(ints.as_ref(), 0), Ok(Some(RawId::Int(7))));
        assert_eq!(RawId::at(ints.as_ref(), 1), Ok(None));
        let strs: ArrayRef = Arc::new(StringArray::from(vec!["a1"]));
        assert_eq!(RawId::at(strs.as_ref(), 0).unwrap().unwrap().text(), "a1");
        let f32s: ArrayRef = Arc::new(Float32Array::from(vec![0.1f32]));
        assert_eq!(RawId::at(f32s.as_ref(), 0).unwrap().unwrap().text(), "0.1");
        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![true]));
        assert_eq!(
            RawId::at(bools.as_ref(), 0).unwrap().unwrap().text(),
            "True"
        );
        let big: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX]));
        assert!(RawId::at(big.as_ref(), 0)
            .unwrap_err()
            .contains("does not fit"));
    }
}
