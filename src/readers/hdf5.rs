//! HDF5 reader: one dataset per column (GraphStorm's `format.name: "hdf5"`), built with the
//! `hdf5` cargo feature (on by default; links the system libhdf5 through `hdf5-metno`).
//!
//! A requested column `c` is the dataset `c` of the file (a path such as `grp/c` names a dataset
//! inside a group). Every requested dataset is a column of the same rows, so all of them MUST
//! have the same first dimension. Mapping to Arrow:
//!
//! | HDF5 dataset | Arrow array |
//! |---|---|
//! | 1-D int8..int64, uint8..uint64, float16/32/64 | the matching primitive array |
//! | 2-D of those, shape `(rows, k)` | `FixedSizeList<primitive>` of width `k` (row-major) |
//! | 1-D boolean (h5py's `bool` enum) | `Boolean` |
//! | 1-D fixed- or variable-length ASCII/UTF-8 strings | `Utf8` (GraphStorm itself rejects HDF5 text) |
//!
//! Anything else (scalars, 3-D and higher, compounds, references, 2-D strings) is an error that
//! names the file, the dataset and its type or shape.
//!
//! Reading: each dataset is read in row chunks (hyperslabs of at most [`CHUNK_BYTES`] bytes and
//! at most [`super::BATCH_ROWS`] rows) appended into one output buffer, so the file's data is
//! never held twice. HDF5 calls are serialized by `hdf5-metno`'s global lock; files of a block
//! still decode in parallel on the caller's rayon tasks between library calls.
//!
//! # Memory
//! The requested columns of the file (the returned arrays) plus one chunk of at most
//! [`CHUNK_BYTES`] (strings: one chunk of `BATCH_ROWS` decoded values).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, ArrowPrimitiveType, BooleanArray, FixedSizeListArray, PrimitiveArray, StringBuilder,
};
use arrow::datatypes::{self as adt, Field};
use hdf5::types::{
    FixedAscii, FixedUnicode, FloatSize, H5Type, IntSize, TypeDescriptor, VarLenAscii,
    VarLenUnicode,
};
use hdf5::{Dataset, File, Hyperslab, Selection, SliceOrIndex};

use super::BATCH_ROWS;
use crate::error::{Error, Result};

/// Upper bound on the bytes of one hyperslab read.
pub const CHUNK_BYTES: usize = 16 << 20;

/// Longest fixed-length string (bytes) that can be read; longer ones are an error.
const MAX_FIXED_STRING: usize = 4096;

/// Reads the datasets `columns` (distinct names) of the HDF5 file at `path`, in request order,
/// plus the number of rows.
pub(crate) fn read(path: &Path, columns: &[String]) -> Result<(Vec<ArrayRef>, usize)> {
    read_chunked(path, columns, None)
}

/// [`read`] with an explicit rows-per-read (`None`: derived from [`CHUNK_BYTES`]).
fn read_chunked(
    path: &Path,
    columns: &[String],
    chunk_rows: Option<usize>,
) -> Result<(Vec<ArrayRef>, usize)> {
    let file = File::open(path)
        .map_err(|e| Error::input(path, format!("not a readable HDF5 file: {e}")))?;
    let datasets = columns
        .iter()
        .map(|c| open_dataset(path, &file, c))
        .collect::<Result<Vec<_>>>()?;
    let shapes: Vec<Vec<usize>> = datasets.iter().map(|d| d.shape()).collect();
    for (c, s) in columns.iter().zip(&shapes) {
        if s.is_empty() || s.len() > 2 {
            return Err(Error::input(
                path,
                format!(
                    "dataset '{c}' has shape {s:?}; only 1-D (one value per row) and 2-D \
                     (one vector per row) datasets can be columns"
                ),
            ));
        }
    }
    let rows = shapes.first().map_or(0, |s| s[0]);
    if shapes.iter().any(|s| s[0] != rows) {
        let lens: Vec<String> = columns
            .iter()
            .zip(&shapes)
            .map(|(c, s)| format!("'{c}' has {} rows", s[0]))
            .collect();
        return Err(Error::input(
            path,
            format!(
                "the datasets of one HDF5 file are columns of the same rows, but their first \
                 dimensions differ: {}. Write every column of a block with the same number of \
                 rows.",
                lens.join(", ")
            ),
        ));
    }
    let arrays = columns
        .iter()
        .zip(&datasets)
        .zip(&shapes)
        .map(|((c, ds), shape)| read_dataset(path, c, ds, shape, chunk_rows))
        .collect::<Result<Vec<_>>>()?;
    Ok((arrays, rows))
}

/// The number of rows (first dimension) of dataset `column`, from metadata only.
pub(crate) fn count_rows(path: &Path, column: &str) -> Result<usize> {
    let file = File::open(path)
        .map_err(|e| Error::input(path, format!("not a readable HDF5 file: {e}")))?;
    let ds = open_dataset(path, &file, column)?;
    Ok(ds.shape().first().copied().unwrap_or(0))
}

fn open_dataset(path: &Path, file: &File, name: &str) -> Result<Dataset> {
    if file.link_exists(name) {
        if let Ok(ds) = file.dataset(name) {
            return Ok(ds);
        }
        return Err(Error::input(
            path,
            format!("'{name}' is not a dataset (a group?); name the dataset of the column"),
        ));
    }
    let mut have: Vec<String> = file
        .datasets()
        .map(|v| {
            v.iter()
                .map(|d| d.name().trim_start_matches('/').to_string())
                .collect()
        })
        .unwrap_or_default();
    have.sort();
    let groups: Vec<String> = file
        .groups()
        .map(|v| {
            v.iter()
                .map(|g| format!("{}/", g.name().trim_start_matches('/')))
                .collect()
        })
        .unwrap_or_default();
    let listed = if have.is_empty() {
        "none".to_string()
    } else {
        have.join(", ")
    };
    let groups = if groups.is_empty() {
        String::new()
    } else {
        format!(" (groups: {})", groups.join(", "))
    };
    Err(Error::input(
        path,
        format!(
            "dataset '{name}' not found; the file has datasets: {listed}{groups}. Fix the \
             column name in the config."
        ),
    ))
}

fn read_dataset(
    path: &Path,
    name: &str,
    ds: &Dataset,
    shape: &[usize],
    chunk_rows: Option<usize>,
) -> Result<ArrayRef> {
    let h5err = |e: hdf5::Error| Error::input(path, format!("dataset '{name}': {e}"));
    let desc = ds
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| Error::input(path, format!("dataset '{name}': unsupported type: {e}")))?;
    check_declared_size(path, name, ds, shape, &desc)?;
    let width = shape.get(1).copied();
    let row_bytes = desc.size().max(1) * width.unwrap_or(1).max(1);
    let chunk = chunk_rows
        .unwrap_or_else(|| (CHUNK_BYTES / row_bytes).clamp(1, BATCH_ROWS))
        .max(1);
    let r = Rows { ds, shape, chunk };
    use FloatSize as F;
    use IntSize as I;
    use TypeDescriptor as T;
    let unsupported_2d = |what: &str| {
        Error::input(
            path,
            format!("dataset '{name}' is a 2-D {what} dataset; only numeric datasets can be 2-D"),
        )
    };
    let arr = match &desc {
        T::Integer(I::U1) => r.numeric::<adt::Int8Type>(),
        T::Integer(I::U2) => r.numeric::<adt::Int16Type>(),
        T::Integer(I::U4) => r.numeric::<adt::Int32Type>(),
        T::Integer(I::U8) => r.numeric::<adt::Int64Type>(),
        T::Unsigned(I::U1) => r.numeric::<adt::UInt8Type>(),
        T::Unsigned(I::U2) => r.numeric::<adt::UInt16Type>(),
        T::Unsigned(I::U4) => r.numeric::<adt::UInt32Type>(),
        T::Unsigned(I::U8) => r.numeric::<adt::UInt64Type>(),
        T::Float(F::U2) => r.numeric::<adt::Float16Type>(),
        T::Float(F::U4) => r.numeric::<adt::Float32Type>(),
        T::Float(F::U8) => r.numeric::<adt::Float64Type>(),
        T::Boolean if width.is_none() => {
            let mut v: Vec<bool> = Vec::with_capacity(shape[0]);
            r.each_chunk(|c: &[bool]| v.extend_from_slice(c))
                .map(|()| Arc::new(BooleanArray::from(v)) as ArrayRef)
        }
        T::Boolean => return Err(unsupported_2d("boolean")),
        T::VarLenAscii | T::VarLenUnicode | T::FixedAscii(_) | T::FixedUnicode(_)
            if width.is_some() =>
        {
            return Err(unsupported_2d("string"))
        }
        T::VarLenAscii => return r.strings(path, name, |s: &VarLenAscii| s.as_bytes()),
        T::VarLenUnicode => return r.strings(path, name, |s: &VarLenUnicode| s.as_bytes()),
        T::FixedAscii(n) | T::FixedUnicode(n) => {
            let unicode = matches!(desc, T::FixedUnicode(_));
            return r.fixed_strings(path, name, *n, unicode);
        }
        other => {
            return Err(Error::input(
                path,
                format!(
                    "dataset '{name}' has type {other}, which graphprep cannot read as a column; \
                     supported: integers, unsigned integers, float16/32/64, booleans, strings"
                ),
            ))
        }
    };
    arr.map_err(h5err)
}

/// Refuses a dataset whose declared shape cannot be stored in its file: an uncompressed
/// dataset needs its values' bytes in the file (variable-length strings at least a byte per
/// value). A damaged header (one flipped bit in a dimension) would otherwise ask for an
/// allocation of exabytes and abort the process.
fn check_declared_size(
    path: &Path,
    name: &str,
    ds: &Dataset,
    shape: &[usize],
    desc: &hdf5::types::TypeDescriptor,
) -> Result<()> {
    use hdf5::types::TypeDescriptor as T;
    let per_value = match desc {
        T::VarLenAscii | T::VarLenUnicode | T::VarLenArray(_) => 1,
        d => d.size().max(1) as u64,
    };
    let values = shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64));
    let need = values.and_then(|v| v.checked_mul(per_value));
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX);
    let compressed = !ds.filters().is_empty();
    match need {
        Some(b) if compressed || b <= file_len => Ok(()),
        _ => Err(Error::input(
            path,
            format!(
                "dataset '{name}' declares shape {shape:?} ({} bytes of values) but the file has \
                 only {file_len} bytes: the file is damaged or truncated; write it again",
                need.map_or_else(|| "more than 2^64".to_string(), |b| b.to_string())
            ),
        )),
    }
}

/// One dataset read in chunks of `chunk` rows.
struct Rows<'a> {
    ds: &'a Dataset,
    shape: &'a [usize],
    chunk: usize,
}

impl Rows<'_> {
    /// Calls `f` with the values of each row chunk, row-major, in row order.
    fn each_chunk<T: H5Type + Clone>(&self, mut f: impl FnMut(&[T])) -> hdf5::Result<()> {
        let rows = self.shape[0];
        let reader = self.ds.as_reader();
        let mut start = 0;
        while start < rows {
            let end = (start + self.chunk).min(rows);
            if self.shape.len() == 1 {
                let a = reader.read_slice_1d::<T, _>(start..end)?;
                match a.as_slice() {
                    Some(s) => f(s),
                    None => f(&a.iter().cloned().collect::<Vec<T>>()),
                }
            } else {
                let sel = Selection::from(Hyperslab::from(vec![
                    SliceOrIndex::from(start..end),
                    SliceOrIndex::from(..),
                ]));
                let a = reader.read_slice_2d::<T, _>(sel)?;
                match a.as_slice() {
                    Some(s) => f(s),
                    None => f(&a.iter().cloned().collect::<Vec<T>>()),
                }
            }
            start = end;
        }
        Ok(())
    }

    /// A primitive array (1-D) or a `FixedSizeList` of it (2-D).
    fn numeric<A>(&self) -> hdf5::Result<ArrayRef>
    where
        A: ArrowPrimitiveType,
        A::Native: H5Type,
    {
        let width = self.shape.get(1).copied();
        let mut values: Vec<A::Native> = Vec::with_capacity(self.shape[0] * width.unwrap_or(1));
        self.each_chunk(|c: &[A::Native]| values.extend_from_slice(c))?;
        let prim = PrimitiveArray::<A>::new(values.into(), None);
        Ok(match width {
            None => Arc::new(prim),
            Some(w) => {
                let item = Arc::new(Field::new_list_field(A::DATA_TYPE, false));
                let w = i32::try_from(w).map_err(|_| hdf5::Error::from("row width too large"))?;
                Arc::new(
                    FixedSizeListArray::try_new(item, w, Arc::new(prim), None)
                        .map_err(|e| hdf5::Error::from(e.to_string().as_str()))?,
                )
            }
        })
    }

    /// A `Utf8` array from 1-D string values; `bytes` gives each value's bytes.
    fn strings<T: H5Type + Clone>(
        &self,
        path: &Path,
        name: &str,
        bytes: impl Fn(&T) -> &[u8],
    ) -> Result<ArrayRef> {
        let mut b = StringBuilder::new();
        let mut row = 0usize;
        let mut bad: Option<usize> = None;
        self.each_chunk(|c: &[T]| {
            for v in c {
                match std::str::from_utf8(bytes(v)) {
                    Ok(s) => b.append_value(s),
                    Err(_) => {
                        bad.get_or_insert(row);
                        b.append_null();
                    }
                }
                row += 1;
            }
        })
        .map_err(|e| Error::input(path, format!("dataset '{name}': {e}")))?;
        if let Some(r) = bad {
            return Err(Error::input(
                path,
                format!("dataset '{name}', row {r}: the string is not valid UTF-8"),
            ));
        }
        Ok(Arc::new(b.finish()))
    }

    /// Fixed-length strings of `n` bytes, read through the smallest supported buffer type that
    /// holds them (HDF5 converts between fixed-string lengths and paddings).
    fn fixed_strings(&self, path: &Path, name: &str, n: usize, unicode: bool) -> Result<ArrayRef> {
        macro_rules! sized {
            ($($cap:literal),*) => {
                $(
                    if n <= $cap {
                        return if unicode {
                            self.strings(path, name, |s: &FixedUnicode<$cap>| s.as_bytes())
                        } else {
                            self.strings(path, name, |s: &FixedAscii<$cap>| s.as_bytes())
                        };
                    }
                )*
            };
        }
        sized!(16, 64, 256, 1024, 4096);
        Err(Error::input(
            path,
            format!(
                "dataset '{name}' holds fixed-length strings of {n} bytes; at most \
                 {MAX_FIXED_STRING} are supported. Store them as variable-length strings."
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::FileFormat;
    use arrow::array::{
        Array, AsArray, Float16Array, Float32Array, Float64Array, Int64Array, Int8Array,
        StringArray, UInt16Array,
    };
    use arrow::datatypes::DataType;
    use half::f16;
    use hdf5::types::{FixedAscii, VarLenUnicode};

    fn write<T: H5Type>(f: &File, name: &str, shape: &[usize], values: &[T]) {
        f.new_dataset::<T>()
            .shape(shape.to_vec())
            .create(name)
            .unwrap()
            .write_raw(values)
            .unwrap();
    }

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn err(r: Result<(Vec<ArrayRef>, usize)>) -> String {
        r.map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn one_d_numeric_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.h5");
        {
            let f = File::create(&p).unwrap();
            write(&f, "i8", &[3], &[-1i8, 0, 7]);
            write(&f, "i64", &[3], &[10i64, -20, 1 << 40]);
            write(&f, "u16", &[3], &[1u16, 2, 65535]);
            write(&f, "f32", &[3], &[0.5f32, -1.5, 2.25]);
            write(&f, "f64", &[3], &[1e-300f64, 2.0, 3.0]);
            write(&f, "f16", &[3], &[f16::from_f32(0.5), f16::ONE, f16::ZERO]);
        }
        let (a, rows) = read(&p, &cols(&["f64", "i8", "u16", "i64", "f32", "f16"])).unwrap();
        assert_eq!(rows, 3);
        let get = |i: usize| a[i].as_any();
        let f64s = get(0).downcast_ref::<Float64Array>().unwrap();
        assert_eq!(f64s.values(), &[1e-300, 2.0, 3.0]);
        assert_eq!(
            get(1).downcast_ref::<Int8Array>().unwrap().values(),
            &[-1, 0, 7]
        );
        assert_eq!(
            get(2).downcast_ref::<UInt16Array>().unwrap().values(),
            &[1, 2, 65535]
        );
        assert_eq!(
            get(3).downcast_ref::<Int64Array>().unwrap().values(),
            &[10, -20, 1 << 40]
        );
        assert_eq!(
            get(4).downcast_ref::<Float32Array>().unwrap().values(),
            &[0.5, -1.5, 2.25]
        );
        assert_eq!(
            get(5).downcast_ref::<Float16Array>().unwrap().values(),
            &[f16::from_f32(0.5), f16::ONE, f16::ZERO]
        );
        // Through the format-independent entry point, with a repeated column.
        let t =
            super::super::read_columns(&p, &FileFormat::Hdf5, &cols(&["i8", "f32", "i8"])).unwrap();
        assert_eq!(t.num_rows, 3);
        assert_eq!(t.columns.len(), 3);
        assert_eq!(t.columns[2].data_type(), &DataType::Int8);
        assert_eq!(
            super::super::count_rows(&p, &FileFormat::Hdf5, "f16").unwrap(),
            3
        );
    }

    #[test]
    fn two_d_floats_are_fixed_size_lists_in_row_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.h5");
        let values: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let ids: Vec<i64> = (100..105).collect();
        {
            let f = File::create(&p).unwrap();
            write(&f, "emb", &[5, 3], &values);
            write(&f, "id", &[5], &ids);
        }
        // 2 rows per read: chunks [0,2), [2,4), [4,5).
        for chunk in [Some(2), Some(1), Some(7), None] {
            let (a, rows) = read_chunked(&p, &cols(&["emb", "id"]), chunk).unwrap();
            assert_eq!(rows, 5);
            let emb = a[0].as_fixed_size_list();
            assert_eq!(emb.value_length(), 3);
            assert_eq!(emb.len(), 5);
            let flat = emb.values().as_primitive::<adt::Float32Type>();
            assert_eq!(flat.values(), values.as_slice(), "chunk {chunk:?}");
            let row3 = emb.value(3);
            assert_eq!(
                row3.as_primitive::<adt::Float32Type>().values(),
                &[9.0, 10.0, 11.0]
            );
            assert_eq!(a[1].as_primitive::<adt::Int64Type>().values(), &ids[..]);
        }
    }

    #[test]
    fn strings_and_booleans() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.h5");
        {
            let f = File::create(&p).unwrap();
            let vl: Vec<VarLenUnicode> = ["née", "", "b"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
            write(&f, "vl", &[3], &vl);
            let fx: Vec<FixedAscii<5>> = ["ab", "cdefg", ""]
                .iter()
                .map(|s| FixedAscii::from_ascii(s).unwrap())
                .collect();
            write(&f, "fx", &[3], &fx);
            write(&f, "b", &[3], &[true, false, true]);
        }
        let (a, _) = read_chunked(&p, &cols(&["vl", "fx", "b"]), Some(2)).unwrap();
        let vl = a[0].as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(vl.iter().flatten().collect::<Vec<_>>(), ["née", "", "b"]);
        let fx = a[1].as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(fx.iter().flatten().collect::<Vec<_>>(), ["ab", "cdefg", ""]);
        let b = a[2].as_boolean();
        assert_eq!(b.iter().flatten().collect::<Vec<_>>(), [true, false, true]);
    }

    #[test]
    fn mismatched_lengths_name_the_datasets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.h5");
        {
            let f = File::create(&p).unwrap();
            write(&f, "x", &[3], &[1.0f32, 2.0, 3.0]);
            write(&f, "y", &[2, 2], &[1.0f32, 2.0, 3.0, 4.0]);
        }
        let e = err(read(&p, &cols(&["x", "y"])));
        assert!(e.contains("a.h5"), "{e}");
        assert!(
            e.contains("'x' has 3 rows") && e.contains("'y' has 2 rows"),
            "{e}"
        );
    }

    #[test]
    fn missing_dataset_lists_the_available_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.h5");
        {
            let f = File::create(&p).unwrap();
            write(&f, "feat", &[1], &[1.0f32]);
            write(&f, "label", &[1], &[1i64]);
            f.create_group("grp").unwrap();
        }
        let e = err(read(&p, &cols(&["feat", "labels"])));
        assert!(e.contains("dataset 'labels' not found"), "{e}");
        assert!(e.contains("feat, label"), "{e}");
        assert!(e.contains("groups: grp/"), "{e}");
        let e = err(read(&p, &cols(&["grp"])));
        assert!(e.contains("'grp' is not a dataset"), "{e}");
    }

    #[test]
    fn unsupported_shapes_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.h5");
        {
            let f = File::create(&p).unwrap();
            write(&f, "cube", &[2, 1, 2], &[1.0f32, 2.0, 3.0, 4.0]);
            let s: Vec<VarLenUnicode> = ["a", "b"].iter().map(|s| s.parse().unwrap()).collect();
            write(&f, "s2", &[1, 2], &s);
        }
        let e = err(read(&p, &cols(&["cube"])));
        assert!(e.contains("dataset 'cube' has shape [2, 1, 2]"), "{e}");
        let e = err(read(&p, &cols(&["s2"])));
        assert!(e.contains("2-D string dataset"), "{e}");
        let q = dir.path().join("not.h5");
        std::fs::write(&q, "id\n1\n").unwrap();
        let e = err(read(&q, &cols(&["id"])));
        assert!(e.contains("not a readable HDF5 file"), "{e}");
    }
}
