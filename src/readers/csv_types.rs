//! Whole-file type inference of CSV columns from their values decoded as text.
//!
//! The classes are arrow-csv's (what `Format::infer_schema` would infer), folded the way
//! [`super::read_csv`] keeps them: a column is Boolean when every non-empty value is
//! `true`/`false` (any case), Int64 when every value is an integer that fits i64, Float64 when
//! every value is an integer or a decimal number (or `NaN`, `nan`, `inf`, `-inf`), and Utf8
//! otherwise (dates and times included: they stay strings, as pandas keeps them). A value that
//! starts with a quote character after unquoting is text. Empty values are nulls and say nothing.
//!
//! arrow-csv infers in a pass of its own over the whole file, running a regex set on every field
//! of every column, and then parses the file again. Here the file is parsed once: the requested
//! columns are decoded as text, classified by hand (stopping at a column's first text value) and
//! the non-text ones parsed with arrow's own number parsers. Fields with non-ASCII bytes go
//! through the same grammar as arrow-csv's regexes (Unicode digits and case folding), so the
//! inferred types are the same.

use std::sync::LazyLock;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::CastOptions;
use arrow::datatypes::DataType;
use regex::bytes::RegexSet;

/// Bits of what the values of a column seen so far can be.
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const TEXT: u8 = 8;

/// The type of a CSV column from its values decoded as text (empty fields are nulls), batch by
/// batch; stops at the first value that makes it text.
pub(super) fn infer<'a>(batches: impl Iterator<Item = &'a dyn Array>) -> DataType {
    let mut seen = 0u8;
    for a in batches {
        let a = a.as_string::<i32>();
        for v in a.iter().flatten() {
            if !v.is_empty() {
                seen |= classify(v.as_bytes());
                if seen & TEXT != 0 {
                    return DataType::Utf8;
                }
            }
        }
    }
    data_type(seen)
}

/// A text column as `to`, parsed by arrow's own parsers (those of arrow-csv's decoder); `Err`
/// has the row and the value that does not parse (a Unicode digit matched by `\d`).
pub(super) fn parse(a: &ArrayRef, to: &DataType) -> std::result::Result<ArrayRef, (usize, String)> {
    if to == &DataType::Utf8 {
        return Ok(a.clone());
    }
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    arrow::compute::cast_with_options(a, to, &strict).map_err(|_| {
        // Find the value that failed, for the message.
        let s = a.as_string::<i32>();
        let safe = arrow::compute::cast(a, to).ok();
        (0..s.len())
            .find(|&r| s.is_valid(r) && safe.as_ref().is_none_or(|c| c.is_null(r)))
            .map(|r| (r, s.value(r).to_string()))
            .unwrap_or((0, String::new()))
    })
}

fn data_type(seen: u8) -> DataType {
    match seen {
        BOOL => DataType::Boolean,
        INT => DataType::Int64,
        FLOAT | 6 => DataType::Float64,
        _ => DataType::Utf8,
    }
}

/// The class of one non-empty field.
fn classify(f: &[u8]) -> u8 {
    if f[0] == b'"' {
        return TEXT;
    }
    if !f.is_ascii() {
        return classify_unicode(f);
    }
    if f.eq_ignore_ascii_case(b"true") || f.eq_ignore_ascii_case(b"false") {
        return BOOL;
    }
    let body = match f[0] {
        b'+' | b'-' => &f[1..],
        _ => f,
    };
    let int_len = body.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len > 0 && int_len == body.len() {
        return integer(f);
    }
    if is_decimal(body, int_len) || matches!(f, b"NaN" | b"nan" | b"inf" | b"-inf") {
        return FLOAT;
    }
    TEXT
}

/// An integer token is Int64 unless it has 19 or more bytes and does not fit.
fn integer(f: &[u8]) -> u8 {
    let fits = || {
        std::str::from_utf8(f)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .is_some()
    };
    if f.len() >= 19 && !fits() {
        TEXT
    } else {
        INT
    }
}

/// `(\d*\.\d+|\d+\.\d*)([eE][-+]?\d+)?|\d+([eE][-+]?\d+)` on an unsigned ASCII body whose
/// first `int_len` bytes are digits.
fn is_decimal(body: &[u8], int_len: usize) -> bool {
    let mut rest = &body[int_len..];
    let mut exponent_required = true;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let frac_len = after_dot.iter().take_while(|b| b.is_ascii_digit()).count();
        if int_len + frac_len == 0 {
            return false;
        }
        rest = &after_dot[frac_len..];
        exponent_required = false;
    } else if int_len == 0 {
        return false;
    }
    if rest.is_empty() {
        return !exponent_required;
    }
    let Some(exp) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) else {
        return false;
    };
    let digits = match exp.first() {
        Some(b'+' | b'-') => &exp[1..],
        _ => exp,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// The same grammar with Unicode digits (`\d` is Unicode-aware) and case folding.
fn classify_unicode(f: &[u8]) -> u8 {
    static SET: LazyLock<RegexSet> = LazyLock::new(|| {
        RegexSet::new([
            r"(?i)^(true|false)$",
            r"^[+-]?\d+$",
            r"^[+-]?((\d*\.\d+|\d+\.\d*)([eE][-+]?\d+)?|\d+([eE][-+]?\d+))$",
        ])
        .expect("fixed patterns")
    });
    match SET.matches(f).into_iter().next() {
        Some(0) => BOOL,
        Some(1) => integer(f),
        Some(_) => FLOAT,
        None => TEXT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;
    use arrow::datatypes::Float64Type;
    use std::sync::Arc;

    /// What arrow-csv's own inference says about a one-column file of these values.
    fn arrow_type(values: &[&str]) -> DataType {
        let mut text = String::from("x\n");
        for v in values {
            text.push_str(&format!("\"{}\"\n", v.replace('"', "\"\"")));
        }
        let (schema, _) = arrow::csv::reader::Format::default()
            .with_header(true)
            .infer_schema(text.as_bytes(), None)
            .unwrap();
        match schema.field(0).data_type() {
            t @ (DataType::Boolean | DataType::Int64 | DataType::Float64) => t.clone(),
            _ => DataType::Utf8,
        }
    }

    /// Ours, from the values as the text decode gives them (empty fields are nulls).
    fn ours(values: &[&str]) -> DataType {
        let a = StringArray::from_iter(values.iter().map(|v| (!v.is_empty()).then_some(*v)));
        infer(std::iter::once(&a as &dyn Array))
    }

    #[test]
    fn same_types_as_arrow_csv() {
        let singles = [
            "0",
            "-7",
            "+7",
            "007",
            "1.5",
            ".5",
            "5.",
            "-.5",
            "+5.",
            ".",
            "-",
            "+",
            "1e5",
            "1E-5",
            "1e+5",
            "1.5e3",
            ".5e3",
            "5.e3",
            "e5",
            "1e",
            "1e+",
            "1.5e",
            "1..5",
            "1.5.",
            "1,5",
            " 1",
            "1 ",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "+inf",
            "Inf",
            "NAN",
            "true",
            "FALSE",
            "True",
            "tRuE",
            "yes",
            "t",
            "2024-01-02",
            "2024-01-02T03:04:05",
            "2024-01-02 03:04",
            "abc",
            "\"quoted\"",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "+9223372036854775807",
            "0000000000000000000001",
            "123456789012345678901234",
            "١٢",
            "١.٥",
            "fal\u{17F}e",
            "TRUE\u{e9}",
            "1\u{e9}",
            "\u{e9}",
            "０",
            "1\n2",
            "0x1F",
            "1_000",
        ];
        for v in singles {
            assert_eq!(ours(&[v]), arrow_type(&[v]), "{v:?}");
        }
        let mixes: [&[&str]; 9] = [
            &["1", "2.5"],
            &["1", "true"],
            &["1.5", "nan"],
            &["1", "inf"],
            &["true", "false", "True"],
            &["1", "", "3"],
            &["", ""],
            &["1", "2024-01-02"],
            &["2024-01-02", "2024-01-02T03:04:05"],
        ];
        for m in mixes {
            assert_eq!(ours(m), arrow_type(m), "{m:?}");
        }
    }

    #[test]
    fn parses_like_arrow_csv_and_names_the_value_that_does_not_parse() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("1.5"), None, Some("-2e3")]));
        let p = parse(&a, &DataType::Float64).unwrap();
        let p = p.as_primitive::<Float64Type>();
        assert_eq!((p.value(0), p.is_null(1), p.value(2)), (1.5, true, -2000.0));
        // Arabic-Indic digits match `\d`, so the column is Int64, but i64 parsing refuses them.
        let a: ArrayRef = Arc::new(StringArray::from(vec!["7", "١٢"]));
        let column = [a.as_ref()];
        assert_eq!(infer(column.into_iter()), DataType::Int64);
        assert_eq!(
            parse(&a, &DataType::Int64).unwrap_err(),
            (1, "١٢".to_string())
        );
    }
}
