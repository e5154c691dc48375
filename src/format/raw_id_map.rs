//! `raw_id_mappings/<ntype>/part-NNNNN.parquet` (spec `distdgl-format.md` §8.3): two columns,
//! `orig` (the raw ID as the user gave it, string or integer) and `new` (int64 construction
//! ID), both directions.
//!
//! Writing splits a type's map into files of about 1 GiB of rows (Snappy-compressed Parquet,
//! as GraphStorm's `IdMap.save` writes them). Reading takes every `part-*.parquet` of the
//! folder in name order, so GraphStorm's own files read the same way; GSProcessing's column
//! names (`node_str_id`, `node_int_id`) are accepted too.
//!
//! # Memory
//! Writing: the sliced `new` column of one file (8 B per row). Reading: the whole map (the
//! `orig` column as Arrow holds it, plus 8 B per row for `new`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::datatypes::Int64Type;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};

/// Rows per file for rows of `bytes_per_row`: files of about 1 GiB.
fn rows_per_file(bytes_per_row: usize) -> usize {
    ((1usize << 30) / bytes_per_row.max(1)).max(1)
}

/// Writes `dir/part-NNNNN.parquet` files holding `orig[i] → i` for every row (`dir` is
/// created).
pub fn save_raw_id_map(dir: &Path, orig: &ArrayRef) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    let n = orig.len();
    let per = rows_per_file((orig.get_array_memory_size() / n.max(1)).max(1) + 8);
    let mut start = 0;
    let mut part = 0;
    loop {
        let len = per.min(n - start);
        let new: ArrayRef = Arc::new(Int64Array::from_iter_values(
            start as i64..(start + len) as i64,
        ));
        let path = dir.join(format!("part-{part:05}.parquet"));
        let fail = |e: &dyn std::fmt::Display| Error::input(&path, format!("writing Parquet: {e}"));
        let batch = RecordBatch::try_from_iter([("orig", orig.slice(start, len)), ("new", new)])
            .map_err(|e| fail(&e))?;
        let file = std::fs::File::create(&path).map_err(|e| Error::write(&path, e))?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props))
            .map_err(|e| fail(&e))?;
        w.write(&batch).map_err(|e| fail(&e))?;
        w.close().map_err(|e| fail(&e))?;
        start += len;
        part += 1;
        if start >= n {
            return Ok(());
        }
    }
}

/// One node type's raw ID map as read back.
#[derive(Debug)]
pub struct RawIdMap {
    /// Raw IDs (a string or integer Arrow array), row `i` mapping to `new[i]`.
    pub orig: ArrayRef,
    /// Construction IDs.
    pub new: Vec<i64>,
}

impl RawIdMap {
    pub fn len(&self) -> usize {
        self.new.len()
    }
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
    }

    /// `row_of_new[c]` = the row holding construction ID `c`, checking that `new` is a
    /// permutation of `0..len` (GraphStorm writes it in order; anything else is rejected).
    pub fn rows_by_new(&self) -> std::result::Result<Vec<u32>, String> {
        let n = self.new.len();
        let mut out = vec![u32::MAX; n];
        for (row, &c) in self.new.iter().enumerate() {
            match usize::try_from(c).ok().and_then(|c| out.get_mut(c)) {
                Some(slot) if *slot == u32::MAX => *slot = row as u32,
                _ => {
                    return Err(format!(
                        "row {row}: construction ID {c} is out of range 0..{n} or repeated"
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// The `part-*.parquet` files of `dir`, in name order.
pub fn raw_id_map_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::input(dir, format!("cannot list: {e}")))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "parquet")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("part-"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads every `part-*.parquet` of `dir` into one map.
pub fn load_raw_id_map(dir: &Path) -> Result<RawIdMap> {
    let files = raw_id_map_files(dir)?;
    if files.is_empty() {
        return Err(Error::input(
            dir,
            "no part-*.parquet files in this raw ID map folder",
        ));
    }
    load_raw_id_map_files(&files, dir)
}

/// Reads the given raw ID map files, in order, into one map (`dir` names the map in errors).
/// GSProcessing lists its Spark part files in `metadata.json` and this reads them so.
pub fn load_raw_id_map_files(files: &[PathBuf], dir: &Path) -> Result<RawIdMap> {
    let mut origs: Vec<ArrayRef> = Vec::new();
    let mut new = Vec::new();
    for path in files {
        let fail = |e: &dyn std::fmt::Display| Error::input(path, format!("reading Parquet: {e}"));
        let file = std::fs::File::open(path).map_err(|e| Error::input(path, e.to_string()))?;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| fail(&e))?
            .build()
            .map_err(|e| fail(&e))?;
        for batch in reader {
            let batch = batch.map_err(|e| fail(&e))?;
            let col = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| batch.column_by_name(n).cloned())
                    .ok_or_else(|| {
                        Error::input(
                            path,
                            format!("no column {}: not a raw ID map file", names.join(" or ")),
                        )
                    })
            };
            let orig = col(&["orig", "node_str_id"])?;
            let n = col(&["new", "node_int_id"])?;
            let n = n.as_primitive_opt::<Int64Type>().ok_or_else(|| {
                Error::input(
                    path,
                    format!("column 'new' has type {}, expected int64", n.data_type()),
                )
            })?;
            if n.null_count() > 0 || orig.null_count() > 0 {
                return Err(Error::input(path, "raw ID map holds null values"));
            }
            new.extend_from_slice(n.values());
            origs.push(orig);
        }
    }
    let refs: Vec<&dyn Array> = origs.iter().map(|a| a.as_ref()).collect();
    let orig = if refs.is_empty() {
        Arc::new(Int64Array::from(Vec::<i64>::new())) as ArrayRef
    } else {
        arrow::compute::concat(&refs).map_err(|e| {
            Error::input(
                dir,
                format!("raw ID map files disagree on the ID type: {e}"),
            )
        })?
    };
    Ok(RawIdMap { orig, new })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    #[test]
    fn round_trip_strings() {
        let dir = tempfile::tempdir().unwrap();
        let orig: ArrayRef = Arc::new(StringArray::from(vec!["b", "a", "c"]));
        save_raw_id_map(&dir.path().join("user"), &orig).unwrap();
        let back = load_raw_id_map(&dir.path().join("user")).unwrap();
        assert_eq!(back.new, vec![0, 1, 2]);
        assert_eq!(back.orig.as_string::<i32>().value(1), "a");
        assert_eq!(back.rows_by_new().unwrap(), vec![0, 1, 2]);
        let bad = RawIdMap {
            orig,
            new: vec![0, 0, 1],
        };
        assert!(bad.rows_by_new().unwrap_err().contains("row 1"));
        assert!(load_raw_id_map(dir.path()).is_err());
    }
}
