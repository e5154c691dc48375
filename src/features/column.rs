//! Arrow input columns → dense `f64` row-major matrices, with GraphStorm's numeric checks.
//!
//! What: every numeric transform starts from a [`Mat`] (rows × width, `f64`) built from one
//! file's column. Accepted inputs: every integer/float primitive type (`Float16` included),
//! `Boolean` (cast to numbers with a warning, like GraphStorm's `feat2numerical`), anything
//! Arrow can cast to `Float64` (decimals, dictionaries of numbers), `List`/`LargeList`/
//! `FixedSizeList` of those (one vector per row; all rows MUST have the same length), and
//! strings together with a `separator` (`"1;2;3"`: split, each piece parsed as a float).
//!
//! Algorithm: [`column_width`] scans a column once to find (and check) the values per row; the
//! caller agrees on one width over all files; [`to_mat`] then fills the matrix, turning nulls
//! into NaN and (when validation is on) rejecting NaN/±Inf/missing values with an error naming
//! file, row and column. Rows in errors are 0-based data-row indices within the file (the CSV
//! header is not counted).
//!
//! Memory: one `f64` copy of the column's values for one file (8 bytes per value), plus a
//! transient `f64` copy of a list column's child values.
//!
//! Parallelism: none inside; callers run files in parallel.

use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{self as dt, DataType};

use crate::error::{Error, Result};

/// Where values come from, for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Loc<'a> {
    pub file: &'a Path,
    pub column: &'a str,
    /// Row of the file where the arrays start (files are processed in zero-copy slices).
    pub base: usize,
}

impl Loc<'_> {
    /// An error at `row` of the slice (reported as a row of the file).
    pub(crate) fn err(&self, row: usize, msg: impl Into<String>) -> Error {
        Error::Data {
            file: self.file.to_path_buf(),
            row: (self.base + row) as u64,
            column: self.column.to_string(),
            msg: msg.into(),
        }
    }
}

/// A dense row-major matrix of one file's column (or a transform's result).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Mat {
    pub(crate) fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }
    pub(crate) fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }
}

/// The message GraphStorm gives for NaN/Inf/missing values (plus how to turn the check off).
pub(crate) fn nan_msg(column: &str) -> String {
    format!(
        "There are NaN, Inf or missing value in the {column} feature (fix the input or pass \
         --no-feature-validate to keep them)"
    )
}

/// Dictionary columns are decoded to their value type; everything else is passed through.
pub(crate) fn normalize(arr: &ArrayRef, loc: &Loc<'_>) -> Result<ArrayRef> {
    match arr.data_type() {
        DataType::Dictionary(_, value) => arrow::compute::cast(arr, value)
            .map_err(|e| Error::input(loc.file, format!("column '{}': {e}", loc.column))),
        _ => Ok(arr.clone()),
    }
}

/// True for integer primitive types (and lists of them): learned statistics of such columns
/// are written back as JSON integers when integral, as GraphStorm's numpy lists are.
pub(crate) fn is_integer_type(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            is_integer_type(f.data_type())
        }
        DataType::Dictionary(_, v) => is_integer_type(v),
        t => t.is_integer(),
    }
}

/// String access over the three Arrow string layouts.
pub(crate) enum StrCol<'a> {
    Utf8(&'a arrow::array::StringArray),
    Large(&'a arrow::array::LargeStringArray),
    View(&'a arrow::array::StringViewArray),
}

impl<'a> StrCol<'a> {
    pub(crate) fn new(arr: &'a dyn Array) -> Option<StrCol<'a>> {
        match arr.data_type() {
            DataType::Utf8 => Some(StrCol::Utf8(arr.as_string::<i32>())),
            DataType::LargeUtf8 => Some(StrCol::Large(arr.as_string::<i64>())),
            DataType::Utf8View => Some(StrCol::View(arr.as_string_view())),
            _ => None,
        }
    }
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::Large(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// Values of a flat numeric array as `f64` (null → NaN); `None` when the type is not numeric.
/// Booleans become 1/0 (the caller warns once per feature).
pub(crate) fn flat_f64(arr: &dyn Array) -> Option<Vec<f64>> {
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let a = arr.as_primitive::<$t>();
            let conv = $conv;
            let mut out: Vec<f64> = a.values().iter().map(|&v| conv(v)).collect();
            if let Some(n) = a.nulls() {
                for i in n.iter().enumerate().filter(|(_, ok)| !ok).map(|(i, _)| i) {
                    out[i] = f64::NAN;
                }
            }
            Some(out)
        }};
    }
    match arr.data_type() {
        DataType::Int8 => prim!(dt::Int8Type, |v: i8| v as f64),
        DataType::Int16 => prim!(dt::Int16Type, |v: i16| v as f64),
        DataType::Int32 => prim!(dt::Int32Type, |v: i32| v as f64),
        DataType::Int64 => prim!(dt::Int64Type, |v: i64| v as f64),
        DataType::UInt8 => prim!(dt::UInt8Type, |v: u8| v as f64),
        DataType::UInt16 => prim!(dt::UInt16Type, |v: u16| v as f64),
        DataType::UInt32 => prim!(dt::UInt32Type, |v: u32| v as f64),
        DataType::UInt64 => prim!(dt::UInt64Type, |v: u64| v as f64),
        DataType::Float16 => prim!(dt::Float16Type, |v: half::f16| v.to_f64()),
        DataType::Float32 => prim!(dt::Float32Type, |v: f32| v as f64),
        DataType::Float64 => prim!(dt::Float64Type, |v: f64| v),
        DataType::Boolean => {
            let a = arr.as_boolean();
            Some(
                (0..a.len())
                    .map(|i| {
                        if a.is_null(i) {
                            f64::NAN
                        } else {
                            a.value(i) as u8 as f64
                        }
                    })
                    .collect(),
            )
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => None,
        t if t.is_nested() => None,
        t if arrow::compute::can_cast_types(t, &DataType::Float64) => {
            let c = arrow::compute::cast(arr, &DataType::Float64).ok()?;
            flat_f64(c.as_ref())
        }
        _ => None,
    }
}

/// A column seen as rows of numbers.
enum View<'a> {
    /// One number per row.
    Flat(&'a dyn Array),
    /// One vector per row: row `i` is `values[offsets[i]..offsets[i+1]]`.
    List {
        offsets: Vec<usize>,
        values: &'a ArrayRef,
        nulls: Option<&'a NullBuffer>,
    },
    /// Strings split on a separator.
    Split { strings: StrCol<'a>, sep: &'a str },
}

fn view<'a>(arr: &'a ArrayRef, sep: Option<&'a str>, loc: &Loc<'_>) -> Result<View<'a>> {
    match arr.data_type() {
        DataType::List(_) => {
            let l = arr.as_list::<i32>();
            let o: Vec<usize> = l.value_offsets().iter().map(|&x| x as usize).collect();
            Ok(View::List {
                offsets: o,
                values: l.values(),
                nulls: l.nulls(),
            })
        }
        DataType::LargeList(_) => {
            let l = arr.as_list::<i64>();
            let o: Vec<usize> = l.value_offsets().iter().map(|&x| x as usize).collect();
            Ok(View::List {
                offsets: o,
                values: l.values(),
                nulls: l.nulls(),
            })
        }
        DataType::FixedSizeList(_, _) => {
            let l = arr.as_fixed_size_list();
            let w = l.value_length() as usize;
            // Row i starts at value_offset_at(i) (slicing slices the child); the end is the start plus width.
            let mut o: Vec<usize> = (0..l.len()).map(|i| l.value_offset_at(i)).collect();
            o.push(o.last().map_or(0, |&s| s + w));
            Ok(View::List {
                offsets: o,
                values: l.values(),
                nulls: l.nulls(),
            })
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match sep {
            Some(sep) => Ok(View::Split {
                strings: StrCol::new(arr.as_ref()).expect("string"),
                sep,
            }),
            None => {
                let s = StrCol::new(arr.as_ref()).expect("string");
                let found = (0..arr.len()).find(|&i| s.get(i).is_some());
                if found.is_none() {
                    return Err(loc.err(
                        0,
                        "every value of the column is empty; the feature has to be integers \
                         or floats",
                    ));
                }
                let row = found.unwrap_or(0);
                let sample = found.and_then(|i| s.get(i)).unwrap_or("");
                Err(loc.err(
                    row,
                    format!(
                        "the feature has to be integers or floats, got strings (e.g. {sample:?}); \
                         for vectors stored as text set \"separator\" (e.g. \";\"), for \
                         categories use the \"to_categorical\" transform"
                    ),
                ))
            }
        },
        _ => Ok(View::Flat(arr.as_ref())),
    }
}

/// Values per row of one file's column: `Some(width)` with every non-null row agreeing, or
/// `None` when the file has no non-null row to tell (an empty file, or all rows null).
pub(crate) fn column_width(
    arr: &ArrayRef,
    sep: Option<&str>,
    loc: &Loc<'_>,
) -> Result<Option<usize>> {
    let arr = normalize(arr, loc)?;
    let v = view(&arr, sep, loc)?;
    let mut width: Option<(usize, usize)> = None; // (width, first row)
    let mut check = |row: usize, w: usize| -> Result<()> {
        match width {
            None => width = Some((w, row)),
            Some((w0, r0)) if w0 != w => {
                return Err(loc.err(
                    row,
                    format!(
                        "this row has {w} values but row {} has {w0}; every row of a vector \
                         feature must have the same length",
                        loc.base + r0
                    ),
                ))
            }
            _ => {}
        }
        Ok(())
    };
    match &v {
        View::Flat(a) => {
            if flat_f64_probe(*a) {
                return Ok((!a.is_empty()).then_some(1));
            }
            return Err(loc.err(
                0,
                format!(
                    "the feature has to be integers or floats, got {}; use a numeric column, a \
                     \"separator\" for text vectors, or a transform such as \"to_categorical\"",
                    a.data_type()
                ),
            ));
        }
        View::List {
            offsets,
            values,
            nulls,
        } => {
            if !flat_f64_probe(values.as_ref()) {
                return Err(loc.err(
                    0,
                    format!(
                        "the feature has to be lists of integers or floats, got {}",
                        arr.data_type()
                    ),
                ));
            }
            for row in 0..offsets.len() - 1 {
                if nulls.is_some_and(|n| n.is_null(row)) {
                    continue;
                }
                check(row, offsets[row + 1] - offsets[row])?;
            }
        }
        View::Split { strings, sep } => {
            for row in 0..arr.len() {
                if let Some(s) = strings.get(row) {
                    check(row, count_pieces(s, sep))?;
                }
            }
        }
    }
    Ok(width.map(|(w, _)| w))
}

/// Whether [`flat_f64`] accepts this type (without converting anything).
fn flat_f64_probe(arr: &dyn Array) -> bool {
    let t = arr.data_type();
    t.is_numeric()
        || matches!(t, DataType::Boolean)
        || (!t.is_nested()
            && !matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            && arrow::compute::can_cast_types(t, &DataType::Float64))
}

/// Builds the `rows × min(width, truncate)` matrix of one file's column. `width` is the width
/// agreed over all files; null rows become NaN. With `validate`, NaN/±Inf/missing → error.
pub(crate) fn to_mat(
    arr: &ArrayRef,
    sep: Option<&str>,
    width: usize,
    truncate: Option<usize>,
    validate: bool,
    loc: &Loc<'_>,
) -> Result<Mat> {
    let arr = normalize(arr, loc)?;
    let v = view(&arr, sep, loc)?;
    let rows = arr.len();
    let cols = truncate.map_or(width, |k| k.min(width));
    let mut m = Mat {
        rows,
        cols,
        data: Vec::with_capacity(rows * cols),
    };
    match &v {
        View::Flat(a) => {
            let vals = flat_f64(*a)
                .ok_or_else(|| loc.err(0, "the feature has to be integers or floats"))?;
            debug_assert_eq!(width, 1);
            m.data = vals;
        }
        View::List {
            offsets,
            values,
            nulls,
        } => {
            // Convert only this slice's part of the child array (a sliced list keeps the
            // whole child).
            let lo = offsets[0];
            let child = values.slice(lo, offsets[rows] - lo);
            let vals = flat_f64(child.as_ref())
                .ok_or_else(|| loc.err(0, "the feature has to be lists of integers or floats"))?;
            for row in 0..rows {
                let (s, e) = (offsets[row] - lo, offsets[row + 1] - lo);
                if nulls.is_some_and(|n| n.is_null(row)) {
                    m.data.extend(std::iter::repeat_n(f64::NAN, cols));
                } else if e - s != width {
                    return Err(loc.err(
                        row,
                        format!(
                            "this row has {} values but other rows have {width}; every row of a \
                             vector feature must have the same length",
                            e - s
                        ),
                    ));
                } else {
                    m.data.extend_from_slice(&vals[s..s + cols]);
                }
            }
        }
        View::Split { strings, sep } => {
            for row in 0..rows {
                let Some(s) = strings.get(row) else {
                    m.data.extend(std::iter::repeat_n(f64::NAN, cols));
                    continue;
                };
                let mut n = 0;
                for piece in split(s, sep) {
                    if n < cols {
                        let x = parse_float(piece).ok_or_else(|| {
                            loc.err(
                                row,
                                format!(
                                    "cannot parse {piece:?} (in {s:?}, split on {sep:?}) as a number"
                                ),
                            )
                        })?;
                        m.data.push(x);
                    }
                    n += 1;
                }
                if n != width {
                    return Err(loc.err(
                        row,
                        format!(
                            "this row has {n} values (split on {sep:?}) but other rows have \
                             {width}; every row of a vector feature must have the same length"
                        ),
                    ));
                }
            }
        }
    }
    if validate {
        if let Some(i) = m.data.iter().position(|x| !x.is_finite()) {
            return Err(loc.err(i / cols.max(1), nan_msg(loc.column)));
        }
    }
    Ok(m)
}

/// True for boolean columns (and lists of booleans), which numeric transforms cast to 1/0.
pub(crate) fn is_boolean_type(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            is_boolean_type(f.data_type())
        }
        t => matches!(t, DataType::Boolean),
    }
}

/// `s.split(sep)`, with a one-byte separator (the usual `;` or `,`) found by a plain byte loop,
/// which beats a substring or `memchr` search on pieces a few bytes long; the pieces are the same.
pub(crate) fn split<'a>(s: &'a str, sep: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    match sep.as_bytes() {
        &[b] if b.is_ascii() => Pieces::Byte {
            rest: Some(s),
            sep: b,
        },
        _ => Pieces::Str(s.split(sep)),
    }
}

/// `split(s, sep).count()`: a one-byte separator is counted (a vectorised byte count).
pub(crate) fn count_pieces(s: &str, sep: &str) -> usize {
    match sep.as_bytes() {
        &[b] if b.is_ascii() => s.bytes().filter(|&c| c == b).count() + 1,
        _ => s.split(sep).count(),
    }
}

enum Pieces<'a> {
    /// What is left to split (`None` once the last piece is out) and an ASCII separator.
    Byte {
        rest: Option<&'a str>,
        sep: u8,
    },
    Str(std::str::Split<'a, &'a str>),
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            Pieces::Byte { rest, sep } => {
                let s = (*rest)?;
                match s.bytes().position(|c| c == *sep) {
                    // An ASCII byte is a character boundary on both sides.
                    Some(i) => {
                        *rest = Some(&s[i + 1..]);
                        Some(&s[..i])
                    }
                    None => {
                        *rest = None;
                        Some(s)
                    }
                }
            }
            Pieces::Str(p) => p.next(),
        }
    }
}

/// Python `float(s)`: surrounding whitespace allowed, `inf`/`nan` accepted. Plain decimals
/// ("-0.1234", "17", ".5") take [`exact_decimal`]'s shortcut, which gives the same value.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    exact_decimal(s.as_bytes()).or_else(|| s.trim().parse::<f64>().ok())
}

/// Powers of ten that are exact in f64.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `[+-]digits[.digits]` with at most 19 digits whose value as an integer m is at most 2^53 and
/// with at most 22 digits after the point: m and 10^k are then exact in f64, and one IEEE
/// division (correctly rounded) gives the correctly rounded value of m / 10^k, which is what a
/// correct parser returns. `None` for anything else (exponents, whitespace, inf/nan, long
/// mantissas), which goes to the general parser.
fn exact_decimal(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (mut m, mut n, mut frac, mut dot) = (0u64, 0u32, 0usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                if n == 19 {
                    return None;
                }
                m = m * 10 + u64::from(c - b'0');
                n += 1;
                frac += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if n == 0 || m > 1 << 53 || frac >= EXACT_POW10.len() {
        return None;
    }
    let x = m as f64 / EXACT_POW10[frac];
    Some(if neg { -x } else { x })
}

/// Agrees on one width over per-slice widths (slices without values don't vote). A column
/// without any value gets width 1.
pub(crate) fn agree_width(widths: &[Option<usize>], locs: &[Loc<'_>]) -> Result<usize> {
    let mut agreed: Option<(usize, usize)> = None;
    for (i, w) in widths.iter().enumerate() {
        let Some(w) = *w else { continue };
        match agreed {
            None => agreed = Some((w, i)),
            Some((w0, i0)) if w0 != w => {
                return Err(locs[i].err(
                    0,
                    format!(
                        "rows from here on have {w} values but rows of {} (from row {}) have \
                         {w0}; every row of a vector feature must have the same length",
                        locs[i0].file.display(),
                        locs[i0].base
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(agreed.map_or(1, |(w, _)| w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{FixedSizeListArray, Float32Array, Int64Array, ListArray, StringArray};
    use arrow::datatypes::{Field, Int32Type};
    use std::sync::Arc;

    fn loc() -> Loc<'static> {
        Loc {
            file: Path::new("f.csv"),
            column: "c",
            base: 0,
        }
    }

    #[test]
    fn flat_int_and_nulls() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        assert_eq!(column_width(&a, None, &loc()).unwrap(), Some(1));
        let m = to_mat(&a, None, 1, None, false, &loc()).unwrap();
        assert_eq!((m.rows, m.cols), (3, 1));
        assert!(m.data[1].is_nan());
        let e = to_mat(&a, None, 1, None, true, &loc())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 1") && e.contains("'c'") && e.contains("NaN, Inf or missing"),
            "{e}"
        );
    }

    #[test]
    fn lists_and_fixed_size() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            Some(vec![Some(3), Some(4)]),
        ]));
        assert_eq!(column_width(&a, None, &loc()).unwrap(), Some(2));
        let m = to_mat(&a, None, 2, Some(1), true, &loc()).unwrap();
        assert_eq!(m.data, vec![1.0, 3.0]);
        let ragged: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            Some(vec![Some(3)]),
        ]));
        let e = column_width(&ragged, None, &loc()).unwrap_err().to_string();
        assert!(e.contains("row 1") && e.contains("same length"), "{e}");
        let vals = Float32Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let fsl = FixedSizeListArray::new(
            Arc::new(Field::new_list_field(DataType::Float32, false)),
            3,
            Arc::new(vals),
            None,
        );
        let a: ArrayRef = Arc::new(fsl.slice(1, 1));
        assert_eq!(column_width(&a, None, &loc()).unwrap(), Some(3));
        assert_eq!(
            to_mat(&a, None, 3, None, true, &loc()).unwrap().data,
            vec![4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn exact_decimal_is_the_correctly_rounded_parse() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "+0",
            "-0.0000",
            "1.",
            ".5",
            "-.5",
            "17",
            "0.1",
            "-0.1234",
            "9007199254740992",
            "9007199254740993",
            "0.30000000000000004",
            "1234567890123456789",
            "12345678901234567890",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "1e5",
            " 1",
            "1 ",
            ".",
            "-",
            "",
            "1..2",
            "nan",
            "inf",
            "1_0",
            "٣",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // products-style features: 4 decimals, and random mantissas with 1 to 19 digits
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (i % 19);
            let m = x % 10u64.pow(digits as u32);
            let k = (x >> 40) as usize % (digits + 1);
            let t = format!("{m:0digits$}");
            let (a, b) = t.split_at(digits - k);
            cases.push(format!("{}{a}.{b}", if x & 1 == 1 { "-" } else { "" }));
        }
        for s in &cases {
            let want = s.trim().parse::<f64>().ok();
            let got = parse_float(s);
            assert_eq!(
                got.map(f64::to_bits),
                want.map(f64::to_bits),
                "{s:?}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn split_and_count_are_str_split() {
        let texts = [
            "",
            ";",
            ";;",
            "1;2;3",
            ";1;",
            "1;;2",
            "é;ü;€",
            "1",
            "a😀;b",
            "1,2;3",
            "ab",
            "a  b",
        ];
        for sep in [";", ",", "😀", ";;", " ", "ab"] {
            for t in texts {
                let want: Vec<&str> = t.split(sep).collect();
                assert_eq!(split(t, sep).collect::<Vec<_>>(), want, "{t:?} on {sep:?}");
                assert_eq!(count_pieces(t, sep), want.len(), "{t:?} on {sep:?}");
            }
        }
    }

    #[test]
    fn strings_need_separator() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["1;2", "3; 4"]));
        let e = column_width(&a, None, &loc()).unwrap_err().to_string();
        assert!(
            e.contains("separator") && e.contains("to_categorical") && e.contains("'c'"),
            "{e}"
        );
        assert_eq!(column_width(&a, Some(";"), &loc()).unwrap(), Some(2));
        assert_eq!(
            to_mat(&a, Some(";"), 2, None, true, &loc()).unwrap().data,
            vec![1., 2., 3., 4.]
        );
        let bad: ArrayRef = Arc::new(StringArray::from(vec!["1;2", "3;x"]));
        let e = to_mat(&bad, Some(";"), 2, None, true, &loc())
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1") && e.contains("\"x\""), "{e}");
    }
}
