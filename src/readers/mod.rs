//! Table readers: CSV, Parquet, JSON-lines and HDF5 files → Arrow arrays of the requested
//! columns.
//!
//! Each reader streams bounded `RecordBatch`es (at most [`BATCH_ROWS`] rows) from the arrow-rs
//! crates and projects only the requested columns; [`read_columns`] concatenates the batches of
//! one file into one array per column. HDF5 (one dataset per column, cargo feature `hdf5`) reads
//! bounded row hyperslabs straight into one array per column (see `hdf5.rs`). Files of a block are read in parallel by the caller
//! (one rayon task per file) and kept in sorted file order.
//!
//! Type inference follows what GraphStorm's pandas/pyarrow readers produce where it matters:
//! CSV columns are inferred over the whole file (integers → Int64, numbers → Float64, others →
//! Utf8; dates and times stay strings), Parquet keeps its own schema, JSON-lines is inferred over
//! the whole file.
//!
//! # Memory
//! One file's requested columns at a time per worker, plus one batch of decoding buffers.

use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{new_empty_array, ArrayRef};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions, RecordBatchReader};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::error::{Error, Result};

mod csv_types;
#[cfg(feature = "hdf5")]
mod hdf5;

/// Why an `hdf5` block cannot be read by a build without the `hdf5` feature.
pub const HDF5_DISABLED: &str = "this graphprep was built without HDF5 support (the opt-in \
     cargo feature `hdf5`). Install the HDF5 library (Debian/Ubuntu: `apt-get install \
     libhdf5-dev pkg-config`, or run `bash tests/setup_system.sh`) and rebuild with \
     `cargo build --release --features hdf5`, or convert the files to Parquet";

/// Input table format of a block.
#[derive(Clone, Debug, PartialEq)]
pub enum FileFormat {
    /// CSV with a header row; `separator` is a single byte (GraphStorm's `format.separator`).
    Csv {
        separator: u8,
    },
    Parquet,
    /// One JSON object per line (GraphStorm's deprecated `json` format).
    Json,
    /// HDF5, one dataset per column (needs the `hdf5` cargo feature; without it resolution fails
    /// with a message saying how to enable it).
    Hdf5,
}

impl FileFormat {
    pub fn name(&self) -> &'static str {
        match self {
            FileFormat::Csv { .. } => "csv",
            FileFormat::Parquet => "parquet",
            FileFormat::Json => "json",
            FileFormat::Hdf5 => "hdf5",
        }
    }
}

/// Rows per decoded batch.
pub const BATCH_ROWS: usize = 64 * 1024;

/// The requested columns of one file, in request order, all of the file's rows.
#[derive(Debug, Clone)]
pub struct FileTable {
    pub columns: Vec<ArrayRef>,
    pub num_rows: usize,
}

impl FileTable {
    /// The column at position `i` of the request.
    pub fn column(&self, i: usize) -> &ArrayRef {
        &self.columns[i]
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))
}

fn missing_column(path: &Path, name: &str, schema: &Schema) -> Error {
    if schema.fields().is_empty() {
        return Error::input(
            path,
            format!(
                "column '{name}' not found: the file is empty (no header row or no columns); \
                 remove it from the config or write its columns"
            ),
        );
    }
    let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    Error::input(
        path,
        format!(
            "column '{name}' not found; the file has columns: {}. Fix the column name in the config.",
            have.join(", ")
        ),
    )
}

/// Positions of `columns` in `schema`, with a clear error for a missing one.
fn projection(path: &Path, schema: &Schema, columns: &[String]) -> Result<Vec<usize>> {
    columns
        .iter()
        .map(|c| {
            schema
                .index_of(c)
                .map_err(|_| missing_column(path, c, schema))
        })
        .collect()
}

/// Reads the requested columns of one file. A column may be requested more than once.
pub fn read_columns(path: &Path, format: &FileFormat, columns: &[String]) -> Result<FileTable> {
    read_columns_head(path, format, columns, None)
}

/// [`read_columns`] of at most the first `limit` data rows (`None`: all of them), for
/// `validate`'s sample: CSV and JSON-lines types are then inferred over those rows only, and
/// nothing after them is decoded (HDF5 reads its columns whole and keeps the head).
pub fn read_columns_head(
    path: &Path,
    format: &FileFormat,
    columns: &[String],
    limit: Option<usize>,
) -> Result<FileTable> {
    let mut unique: Vec<String> = Vec::new();
    for c in columns {
        if !unique.contains(c) {
            unique.push(c.clone());
        }
    }
    let (schema, batches) = match format {
        FileFormat::Csv { separator } => read_csv(path, *separator, &unique, limit)?,
        FileFormat::Parquet => read_parquet(path, &unique, limit)?,
        FileFormat::Json => read_json(path, &unique, limit)?,
        FileFormat::Hdf5 => return read_hdf5(path, columns, &unique).map(|t| head(t, limit)),
    };
    let num_rows = batches.iter().map(|b| b.num_rows()).sum();
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        let i = unique
            .iter()
            .position(|u| u == c)
            .expect("deduplicated above");
        let field = schema.field(i);
        let parts: Vec<&dyn arrow::array::Array> =
            batches.iter().map(|b| b.column(i).as_ref()).collect();
        let arr = match parts.len() {
            0 => new_empty_array(field.data_type()),
            1 => batches[0].column(i).clone(),
            _ => arrow::compute::concat(&parts)
                .map_err(|e| Error::input(path, format!("column '{c}': {e}")))?,
        };
        out.push(arr);
    }
    Ok(FileTable {
        columns: out,
        num_rows,
    })
}

/// HDF5: the file's arrays are already whole columns; repeat them in request order.
/// The first `limit` rows of a table.
fn head(t: FileTable, limit: Option<usize>) -> FileTable {
    match limit {
        Some(n) if n < t.num_rows => FileTable {
            columns: t.columns.iter().map(|c| c.slice(0, n)).collect(),
            num_rows: n,
        },
        _ => t,
    }
}

/// Collects a reader's batches, stopping after `limit` rows (the last batch sliced); `what`
/// turns a decode error and the rows read before it into the error.
fn collect_batches<E>(
    reader: impl Iterator<Item = std::result::Result<RecordBatch, E>>,
    limit: Option<usize>,
    what: impl Fn(E, u64) -> Error,
) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    let mut row = 0u64;
    for b in reader {
        if limit.is_some_and(|n| row >= n as u64) {
            break;
        }
        let mut b = b.map_err(|e| what(e, row))?;
        if let Some(n) = limit {
            let left = n - row as usize;
            if b.num_rows() > left {
                b = b.slice(0, left);
            }
        }
        row += b.num_rows() as u64;
        batches.push(b);
    }
    Ok(batches)
}

/// Rows per decoded batch when at most `limit` rows are wanted.
fn batch_rows(limit: Option<usize>) -> usize {
    limit.map_or(BATCH_ROWS, |n| n.clamp(1, BATCH_ROWS))
}

#[cfg(feature = "hdf5")]
fn read_hdf5(path: &Path, columns: &[String], unique: &[String]) -> Result<FileTable> {
    let (arrays, num_rows) = hdf5::read(path, unique)?;
    let columns = columns
        .iter()
        .map(|c| {
            let i = unique
                .iter()
                .position(|u| u == c)
                .expect("deduplicated above");
            arrays[i].clone()
        })
        .collect();
    Ok(FileTable { columns, num_rows })
}

#[cfg(not(feature = "hdf5"))]
fn read_hdf5(path: &Path, _columns: &[String], _unique: &[String]) -> Result<FileTable> {
    Err(Error::input(path, HDF5_DISABLED))
}

/// CSV: header row, `separator`, the requested columns' types inferred over the whole file
/// (`csv_types`).
fn read_csv(
    path: &Path,
    separator: u8,
    columns: &[String],
    limit: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut file = open(path)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(separator)
        .from_reader(BufReader::with_capacity(1 << 20, &mut file));
    let names: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_header_error(path, &e))?
        .iter()
        .map(str::to_string)
        .collect();
    let untyped = Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let proj = projection(path, &untyped, columns)?;
    drop(rdr);
    let rows_per_batch = csv_batch_rows(&mut file)
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?
        .min(batch_rows(limit));
    // One pass: every requested column is decoded as text, its type inferred from those strings
    // over the whole file (or the first `limit` rows), then the numeric and boolean columns are
    // parsed with the parsers arrow-csv itself uses.
    let reader = arrow::csv::ReaderBuilder::new(Arc::new(untyped))
        .with_header(true)
        .with_delimiter(separator)
        .with_batch_size(rows_per_batch)
        .with_projection(proj.clone())
        .build_buffered(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| Error::input(path, format!("cannot read CSV: {e}")))?;
    let batches = collect_batches(reader, limit, |e, row| {
        Error::input(path, format!("CSV parse error after data row {row}: {e}"))
    })?;
    let fields: Vec<Field> = proj
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let t = csv_types::infer(batches.iter().map(|b| b.column(k).as_ref()));
            Field::new(&names[i], t, true)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut typed = Vec::with_capacity(batches.len());
    let mut row = 0u64;
    for b in batches {
        let mut cols = Vec::with_capacity(b.num_columns());
        for (c, f) in b.columns().iter().zip(schema.fields()) {
            cols.push(csv_types::parse(c, f.data_type()).map_err(|(r, v)| {
                Error::input(
                    path,
                    format!(
                        "data row {}, column '{}': cannot parse '{v}' as {}",
                        row + r as u64 + 1,
                        f.name(),
                        f.data_type()
                    ),
                )
            })?);
        }
        row += b.num_rows() as u64;
        let rows = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
        typed.push(
            RecordBatch::try_new_with_options(schema.clone(), cols, &rows)
                .map_err(|e| Error::input(path, e.to_string()))?,
        );
    }
    Ok((schema, typed))
}

/// Decoded text per CSV batch: small enough for the allocator to reuse the freed buffers of the
/// previous batch (large ones are fresh, zeroed `mmap`s each time), large enough to amortise the
/// per-batch work. Wide rows (a 100-value feature string is ~700 bytes) get fewer rows per batch.
const CSV_BATCH_BYTES: usize = 512 << 10;

/// Rows per batch for this file, from the mean line length of its first 256 KiB; leaves `file`
/// at its start.
fn csv_batch_rows(file: &mut File) -> std::io::Result<usize> {
    use std::io::Read;
    file.rewind()?;
    let mut head = Vec::with_capacity(1 << 18);
    file.by_ref().take(1 << 18).read_to_end(&mut head)?;
    file.rewind()?;
    let lines = head.iter().filter(|&&b| b == b'\n').count().max(1);
    let mean = (head.len() / lines).max(1);
    Ok((CSV_BATCH_BYTES / mean).clamp(1024, BATCH_ROWS))
}

/// An error reading a CSV header row as an input error, with its line and what to do about it
/// (data rows are read, and their errors reported, by arrow's decoder).
fn csv_header_error(path: &Path, e: &csv::Error) -> Error {
    let msg = match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => format!(
            "cannot read the CSV header{}: not valid UTF-8 ({err}); re-encode the file as UTF-8",
            pos.as_ref()
                .map(|p| format!(" at line {}", p.line()))
                .unwrap_or_default()
        ),
        _ => format!("cannot read the CSV header: {e}"),
    };
    Error::input(path, msg)
}

/// Parquet: streamed record batches of the projected root columns.
fn read_parquet(
    path: &Path,
    columns: &[String],
    limit: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let file = open(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::input(path, format!("not a readable Parquet file: {e}")))?;
    let arrow_schema = builder.schema().clone();
    let proj = projection(path, &arrow_schema, columns)?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), proj.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(batch_rows(limit))
        .build()
        .map_err(|e| Error::input(path, format!("cannot read Parquet: {e}")))?;
    let out_schema = reader.schema();
    let batches = collect_batches(reader, limit, |e, _| {
        Error::input(path, format!("Parquet decode error: {e}"))
    })?;
    // ProjectionMask keeps file order; reorder to the request order.
    let order: Vec<usize> = columns
        .iter()
        .map(|c| {
            out_schema
                .index_of(c)
                .map_err(|_| missing_column(path, c, &out_schema))
        })
        .collect::<Result<_>>()?;
    let schema = Arc::new(
        out_schema
            .project(&order)
            .map_err(|e| Error::input(path, e.to_string()))?,
    );
    let batches = batches
        .into_iter()
        .map(|b| {
            b.project(&order)
                .map_err(|e| Error::input(path, e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((schema, batches))
}

/// JSON lines: one object per line, schema inferred over the whole file.
fn read_json(
    path: &Path,
    columns: &[String],
    limit: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let file = open(path)?;
    let mut buf = BufReader::with_capacity(1 << 20, file);
    let (schema, _) = arrow::json::reader::infer_json_schema_from_seekable(&mut buf, limit)
        .map_err(|e| {
            let bom = std::fs::read(path).is_ok_and(|b| b.starts_with(b"\xEF\xBB\xBF"));
            let hint = if bom {
                " (the file starts with a UTF-8 byte-order mark, which JSON lines must not \
                 have; GraphStorm rejects it too: save the file without it)"
            } else {
                ""
            };
            Error::input(path, format!("cannot parse JSON lines: {e}{hint}"))
        })?;
    let proj = projection(path, &schema, columns)?;
    let schema = Arc::new(
        schema
            .project(&proj)
            .map_err(|e| Error::input(path, e.to_string()))?,
    );
    buf.rewind()
        .map_err(|e| Error::input(path, format!("cannot rewind: {e}")))?;
    let reader = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(batch_rows(limit))
        .build(buf)
        .map_err(|e| Error::input(path, format!("cannot read JSON lines: {e}")))?;
    let batches = collect_batches(reader, limit, |e, _| {
        Error::input(path, format!("JSON lines parse error: {e}"))
    })?;
    Ok((schema, batches))
}

/// The row count a Parquet file's footer declares (metadata only; nothing is decoded).
pub fn parquet_declared_rows(path: &Path) -> Result<u64> {
    let b = ParquetRecordBatchReaderBuilder::try_new(open(path)?)
        .map_err(|e| Error::input(path, format!("not a readable Parquet file: {e}")))?;
    let n = b.metadata().file_metadata().num_rows();
    u64::try_from(n).map_err(|_| {
        Error::input(
            path,
            format!("the Parquet footer declares {n} rows; the file is damaged, write it again"),
        )
    })
}

/// Reads only the number of rows of a file (cheap for Parquet: metadata only).
pub fn count_rows(path: &Path, format: &FileFormat, any_column: &str) -> Result<usize> {
    match format {
        FileFormat::Parquet => Ok(parquet_declared_rows(path)? as usize),
        #[cfg(feature = "hdf5")]
        FileFormat::Hdf5 => hdf5::count_rows(path, any_column),
        _ => Ok(read_columns(path, format, &[any_column.to_string()])?.num_rows),
    }
}

/// A file's number of data rows: exact, or estimated from its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowCount {
    pub rows: u64,
    pub exact: bool,
}

/// The data rows of a file without decoding it: exact from Parquet footers and HDF5 dataset
/// shapes; for CSV and JSON lines the first `sample` data rows' lines are measured: a file
/// that ends within them is counted exactly, a longer one is estimated as its remaining bytes
/// over their mean line length (quoted newlines make it an estimate either way).
pub fn estimate_rows(
    path: &Path,
    format: &FileFormat,
    any_column: &str,
    sample: usize,
) -> Result<RowCount> {
    use std::io::BufRead;
    let header = match format {
        FileFormat::Parquet | FileFormat::Hdf5 => {
            let rows = count_rows(path, format, any_column)? as u64;
            return Ok(RowCount { rows, exact: true });
        }
        FileFormat::Csv { .. } => 1,
        FileFormat::Json => 0,
    };
    let len = open(path)?
        .metadata()
        .map_err(|e| Error::input(path, format!("cannot stat: {e}")))?
        .len();
    let mut r = BufReader::with_capacity(1 << 16, open(path)?);
    let (mut lines, mut head_bytes, mut data_bytes) = (0u64, 0u64, 0u64);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::input(path, format!("cannot read: {e}")))? as u64;
        if n == 0 {
            let rows = lines.saturating_sub(header);
            return Ok(RowCount { rows, exact: true });
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        if lines <= header {
            head_bytes += n;
            continue;
        }
        data_bytes += n;
        if lines - header >= sample.max(1) as u64 {
            let rest = r
                .fill_buf()
                .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
            if rest.iter().all(u8::is_ascii_whitespace) {
                return Ok(RowCount {
                    rows: lines - header,
                    exact: true,
                });
            }
            break;
        }
    }
    let sampled = lines - header;
    let per_row = data_bytes as f64 / sampled as f64;
    let rows = ((len - head_bytes) as f64 / per_row).round() as u64;
    Ok(RowCount {
        rows: rows.max(sampled),
        exact: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Float64Array, Int64Array, StringArray};

    #[test]
    fn csv_infers_types_and_projects() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "id|x|name|d\n1|0.5|a|2020-01-01\n2||b|2020-01-02\n").unwrap();
        let t = read_columns(
            &p,
            &FileFormat::Csv { separator: b'|' },
            &["name".into(), "id".into(), "x".into(), "d".into()],
        )
        .unwrap();
        assert_eq!(t.num_rows, 2);
        let name = t.columns[0].as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(name.value(1), "b");
        let id = t.columns[1].as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(id.values(), &[1, 2]);
        let x = t.columns[2]
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert!(x.is_null(1));
        assert_eq!(t.columns[3].data_type(), &DataType::Utf8);
    }

    #[test]
    fn missing_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "id,x\n1,2\n").unwrap();
        let e = read_columns(&p, &FileFormat::Csv { separator: b',' }, &["y".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 'y' not found") && e.contains("id, x"),
            "{e}"
        );
    }

    #[test]
    fn heads_and_row_estimates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        let mut text = String::from("id,x\n");
        for i in 0..100 {
            text += &format!("{:03},{}\n", i, i % 10);
        }
        std::fs::write(&p, text).unwrap();
        let csv = FileFormat::Csv { separator: b',' };
        let t = read_columns_head(&p, &csv, &["x".into()], Some(7)).unwrap();
        assert_eq!((t.num_rows, t.columns[0].len()), (7, 7));
        let all = estimate_rows(&p, &csv, "id", 1000).unwrap();
        assert_eq!(
            all,
            RowCount {
                rows: 100,
                exact: true
            }
        );
        // Equal line lengths: the estimate is exact in value.
        let est = estimate_rows(&p, &csv, "id", 10).unwrap();
        assert_eq!(
            est,
            RowCount {
                rows: 100,
                exact: false
            }
        );
        let j = dir.path().join("a.json");
        std::fs::write(&j, "{\"a\": 1}\n\n{\"a\": 2}\n").unwrap();
        let est = estimate_rows(&j, &FileFormat::Json, "a", 10).unwrap();
        assert_eq!(
            est,
            RowCount {
                rows: 2,
                exact: true
            }
        );
        let t = read_columns_head(&j, &FileFormat::Json, &["a".into()], Some(1)).unwrap();
        assert_eq!(t.num_rows, 1);
    }

    #[test]
    fn json_lines_lists() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(
            &p,
            "{\"id\": \"a\", \"v\": [1.0, 2.0]}\n{\"id\": \"b\", \"v\": [3.0, 4.0]}\n",
        )
        .unwrap();
        let t = read_columns(&p, &FileFormat::Json, &["v".into(), "id".into()]).unwrap();
        assert_eq!(t.num_rows, 2);
        assert!(matches!(t.columns[0].data_type(), DataType::List(_)));
    }
}
