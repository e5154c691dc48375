//! Whole-file type inference of CSV columns, one pass over the requested columns only.
//!
//! The classes are arrow-csv's (what `Format::infer_schema` would infer), folded the way
//! [`super::read_csv`] keeps them: a column is Boolean when every non-empty value is
//! `true`/`false` (any case), Int64 when every value is an integer that fits i64, Float64 when
//! every value is an integer or a decimal number (or `NaN`, `nan`, `inf`, `-inf`), and Utf8
//! otherwise (dates and times included: they stay strings, as pandas keeps them). A value that
//! starts with a quote character after unquoting is text. Empty values are nulls and say nothing.
//!
//! Where arrow-csv runs a regex set over every field of every column, this classifies bytes by
//! hand, skips the columns that are not requested and stops reading as soon as every requested
//! column is known to be text (an ID column of strings settles on its first row). Fields with
//! non-ASCII bytes go through the same grammar as arrow-csv's regexes (Unicode digits and case
//! folding), so the inferred types are the same.

use std::io::Read;
use std::sync::LazyLock;

use arrow::datatypes::DataType;
use regex::bytes::RegexSet;

/// Bits of what the values of a column seen so far can be.
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const TEXT: u8 = 8;

/// The inferred types of the columns `columns` (indices into the header) of a CSV stream whose
/// header has already been read by `reader`; `limit` caps the data rows read.
pub(super) fn infer<R: Read>(
    reader: &mut csv::Reader<R>,
    columns: &[usize],
    limit: Option<usize>,
) -> csv::Result<Vec<DataType>> {
    let mut seen = vec![0u8; columns.len()];
    let mut open: Vec<usize> = (0..columns.len()).collect();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0usize;
    while !open.is_empty() && limit.is_none_or(|n| rows < n) {
        if !reader.read_byte_record(&mut record)? {
            break;
        }
        rows += 1;
        open.retain(|&k| {
            if let Some(field) = record.get(columns[k]).filter(|f| !f.is_empty()) {
                seen[k] |= classify(field);
            }
            seen[k] & TEXT == 0
        });
    }
    Ok(seen.into_iter().map(data_type).collect())
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

    fn ours(values: &[&str]) -> DataType {
        let mut text = String::from("x\n");
        for v in values {
            text.push_str(&format!("\"{}\"\n", v.replace('"', "\"\"")));
        }
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        r.headers().unwrap();
        infer(&mut r, &[0], None).unwrap().remove(0)
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
    fn stops_once_every_column_is_text_and_honours_the_limit() {
        // The third row is ragged: reading it would be an error.
        let text = "a,b\nx,1\ny,2\nz\n";
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        r.headers().unwrap();
        assert_eq!(infer(&mut r, &[0], None).unwrap(), [DataType::Utf8]);
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        r.headers().unwrap();
        assert_eq!(infer(&mut r, &[1], Some(2)).unwrap(), [DataType::Int64]);
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        r.headers().unwrap();
        assert!(infer(&mut r, &[1], None).is_err());
    }
}
