//! Arrays to write: a dtype, a shape and a lazy payload source ([`ArraySource`]), shared by the
//! byte formats of this wing (DGL NDArray records, `.pt` storages, later `.npy`).
//!
//! A payload can be contiguous bytes, rows gathered from a bigger array in a given order, IDs
//! widened to int64 on the fly, runs of equal values, generated IDs, or a compact one-hot
//! matrix expanded while writing, so callers never materialise a permuted or widened copy of a
//! feature matrix.
//!
//! # Memory
//! Streaming a payload needs one chunk buffer of about 1 MiB ([`CHUNK`]) or one block of
//! generated IDs (8 MiB); spilled (memory-mapped) sources are released from the resident set
//! behind the cursor, 8 MiB at a time.
//!
//! Parallelism: none; callers stream different arrays from different threads.

use std::io::{self, Write};
use std::ops::Range;

use crate::tensor::{Bytes, DType, Element, OneHot, Tensor};

/// Payload chunk size for gathered / widened arrays.
pub(crate) const CHUNK: usize = 1 << 20;
/// IDs generated at a time for [`Ids::Gen`] / [`Ids::Range`].
pub(crate) const GEN_BLOCK: usize = 1 << 20;
/// Span of a spilled source released at a time while streaming it out.
const RELEASE_SPAN: usize = 8 << 20;

/// IDs computed on demand, a block at a time: lets writers stream arrays (such as a
/// partition's edge endpoints) that would be too large to materialize.
pub trait IdSource: Sync + std::fmt::Debug {
    /// Writes IDs `start .. start + out.len()` into `out`.
    fn fill(&self, start: usize, out: &mut [u64]);
}

/// A list of non-negative integer IDs in one of the widths the crate stores them in, or
/// generated ones.
#[derive(Clone, Copy, Debug)]
pub enum Ids<'a> {
    U32(&'a [u32]),
    U64(&'a [u64]),
    I64(&'a [i64]),
    /// `start, start + 1, ..., start + len − 1`.
    Range {
        start: u64,
        len: usize,
    },
    /// IDs `offset .. offset + len` of a generator.
    Gen {
        src: &'a dyn IdSource,
        offset: usize,
        len: usize,
    },
}

impl<'a> Ids<'a> {
    pub fn len(&self) -> usize {
        match self {
            Ids::U32(v) => v.len(),
            Ids::U64(v) => v.len(),
            Ids::I64(v) => v.len(),
            Ids::Range { len, .. } | Ids::Gen { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` (`I64` values are non-negative by contract).
    #[inline]
    pub fn get(&self, i: usize) -> u64 {
        match self {
            Ids::U32(v) => u64::from(v[i]),
            Ids::U64(v) => v[i],
            Ids::I64(v) => v[i] as u64,
            Ids::Range { start, len } => {
                assert!(i < *len, "index {i} out of range {len}");
                start + i as u64
            }
            Ids::Gen { src, offset, len } => {
                assert!(i < *len, "index {i} out of range {len}");
                let mut one = [0u64];
                src.fill(offset + i, &mut one);
                one[0]
            }
        }
    }

    /// Sub-list of the positions in `r`.
    pub fn slice(&self, r: Range<usize>) -> Ids<'a> {
        match *self {
            Ids::U32(v) => Ids::U32(&v[r]),
            Ids::U64(v) => Ids::U64(&v[r]),
            Ids::I64(v) => Ids::I64(&v[r]),
            Ids::Range { start, len } => {
                assert!(r.start <= r.end && r.end <= len, "slice out of range");
                Ids::Range {
                    start: start + r.start as u64,
                    len: r.len(),
                }
            }
            Ids::Gen { src, offset, len } => {
                assert!(r.start <= r.end && r.end <= len, "slice out of range");
                Ids::Gen {
                    src,
                    offset: offset + r.start,
                    len: r.len(),
                }
            }
        }
    }

    /// Iterates the IDs as `u64` (generated IDs a block at a time).
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let mut buf: Vec<u64> = Vec::new();
        let mut at = 0usize;
        (0..self.len()).map(move |i| match *self {
            Ids::Gen { src, offset, len } => {
                if i == at + buf.len() || buf.is_empty() {
                    at = i;
                    buf.resize(GEN_BLOCK.min(len - i), 0);
                    src.fill(offset + i, &mut buf);
                }
                buf[i - at]
            }
            _ => self.get(i),
        })
    }

    /// Calls `f` with consecutive blocks of the IDs (slices of the stored array where possible).
    pub fn for_each_block(&self, mut f: impl FnMut(&[u64])) {
        let n = self.len();
        let mut buf = vec![0u64; GEN_BLOCK.min(n)];
        let mut i = 0;
        while i < n {
            let m = GEN_BLOCK.min(n - i);
            let out = &mut buf[..m];
            match *self {
                Ids::U64(v) => {
                    f(&v[i..i + m]);
                    i += m;
                    continue;
                }
                Ids::Gen { src, offset, .. } => src.fill(offset + i, out),
                Ids::U32(v) => {
                    for (o, &x) in out.iter_mut().zip(&v[i..i + m]) {
                        *o = u64::from(x);
                    }
                }
                Ids::Range { start, .. } => {
                    for (k, o) in out.iter_mut().enumerate() {
                        *o = start + (i + k) as u64;
                    }
                }
                _ => {
                    for (k, o) in out.iter_mut().enumerate() {
                        *o = self.get(i + k);
                    }
                }
            }
            f(out);
            i += m;
        }
    }
}

/// Where an array's payload bytes come from.
#[derive(Clone, Copy, Debug)]
pub enum ArrayData<'a> {
    /// Contiguous little-endian bytes, written as they are.
    Raw(&'a [u8]),
    /// Rows `rows[0], rows[1], ...` of the row-major array `src` (`row_bytes` per row).
    Gather {
        src: &'a [u8],
        row_bytes: usize,
        rows: Ids<'a>,
    },
    /// IDs written as int64.
    Int64(Ids<'a>),
    /// Runs of equal values `(count, value)`, each value written in the array's dtype
    /// (integer dtypes only).
    Runs(&'a [(u64, i64)]),
    /// `len` values of a generator written in the array's (integer) dtype.
    Generated { src: &'a dyn IdSource, len: usize },
    /// Rows of a compact one-hot matrix (all rows in order when `rows` is `None`), expanded
    /// to int8 while writing.
    OneHot {
        src: &'a OneHot,
        rows: Option<Ids<'a>>,
    },
}

/// An array to serialize: dtype, shape and a payload source. Built by the constructors below,
/// which keep `nbytes == prod(shape) · dtype.size()`.
#[derive(Clone, Debug)]
pub struct ArraySource<'a> {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: ArrayData<'a>,
    /// The source tensor when it is a spilled (memory-mapped) one: pages already written out
    /// are released behind the cursor so streaming it does not grow the resident set.
    pub spilled: Option<&'a Tensor>,
}

impl<'a> ArraySource<'a> {
    /// The whole tensor.
    pub fn tensor(t: &'a Tensor) -> Self {
        if let Bytes::OneHot(o) = &t.data {
            return ArraySource {
                dtype: t.dtype,
                shape: t.shape.clone(),
                data: ArrayData::OneHot { src: o, rows: None },
                spilled: None,
            };
        }
        ArraySource {
            dtype: t.dtype,
            shape: t.shape.clone(),
            data: ArrayData::Raw(t.bytes()),
            spilled: t.is_mapped().then_some(t),
        }
    }

    /// Rows `rows` of `t`, in that order (the first axis becomes `rows.len()`).
    pub fn gather(t: &'a Tensor, rows: Ids<'a>) -> Self {
        let mut shape = t.shape.clone();
        if shape.is_empty() {
            shape.push(0);
        }
        shape[0] = rows.len();
        if let Bytes::OneHot(o) = &t.data {
            return ArraySource {
                dtype: t.dtype,
                shape,
                data: ArrayData::OneHot {
                    src: o,
                    rows: Some(rows),
                },
                spilled: None,
            };
        }
        ArraySource {
            dtype: t.dtype,
            shape,
            data: ArrayData::Gather {
                src: t.bytes(),
                row_bytes: t.row_bytes(),
                rows,
            },
            spilled: t.is_mapped().then_some(t),
        }
    }

    /// A 1-D int64 array of IDs.
    pub fn ids(ids: Ids<'a>) -> Self {
        ArraySource {
            dtype: DType::I64,
            shape: vec![ids.len()],
            data: ArrayData::Int64(ids),
            spilled: None,
        }
    }

    /// A 1-D integer array of `len` generated values, each written in `dtype` (which must
    /// hold them: values are truncated to its width).
    pub fn generated(dtype: DType, len: usize, src: &'a dyn IdSource) -> Self {
        assert!(!dtype.is_float(), "generated arrays are integer arrays");
        ArraySource {
            dtype,
            shape: vec![len],
            data: ArrayData::Generated { src, len },
            spilled: None,
        }
    }

    /// A 1-D integer array of runs `(count, value)` (e.g. per-edge type IDs in relation order).
    pub fn runs(dtype: DType, runs: &'a [(u64, i64)]) -> Self {
        assert!(!dtype.is_float(), "runs are integer arrays");
        ArraySource {
            dtype,
            shape: vec![runs.iter().map(|r| r.0 as usize).sum()],
            data: ArrayData::Runs(runs),
            spilled: None,
        }
    }

    /// A 1-D array viewing `v`.
    pub fn slice<T: Element>(v: &'a [T]) -> Self {
        ArraySource {
            dtype: T::DTYPE,
            shape: vec![v.len()],
            data: ArrayData::Raw(bytemuck::cast_slice(v)),
            spilled: None,
        }
    }

    /// Number of rows (first axis).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Payload size in bytes.
    pub fn nbytes(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product::<u64>() * self.dtype.size() as u64
    }

    /// Feeds the payload to `f` in order, in pieces of about 1 MiB for gathered/widened data.
    pub fn for_each_chunk<F>(&self, mut f: F) -> io::Result<()>
    where
        F: FnMut(&[u8]) -> io::Result<()>,
    {
        match self.data {
            ArrayData::Raw(b) => match self.spilled {
                Some(t) => {
                    for (i, piece) in b.chunks(RELEASE_SPAN).enumerate() {
                        f(piece)?;
                        t.release(i * RELEASE_SPAN..i * RELEASE_SPAN + piece.len());
                    }
                }
                None => {
                    if !b.is_empty() {
                        f(b)?;
                    }
                }
            },
            ArrayData::Int64(Ids::I64(v)) => {
                if !v.is_empty() {
                    f(bytemuck::cast_slice(v))?;
                }
            }
            ArrayData::Int64(ids @ (Ids::Gen { .. } | Ids::Range { .. })) => {
                let mut res = Ok(());
                ids.for_each_block(|b| {
                    if res.is_ok() {
                        // IDs are < 2^63: the u64 bytes are the int64 bytes.
                        res = f(bytemuck::cast_slice(b));
                    }
                });
                res?;
            }
            ArrayData::Generated { src, len } => {
                let size = self.dtype.size();
                let mut bytes = Vec::with_capacity(GEN_BLOCK.min(len) * size);
                let mut res = Ok(());
                Ids::Gen {
                    src,
                    offset: 0,
                    len,
                }
                .for_each_block(|b| {
                    if res.is_ok() {
                        bytes.clear();
                        for &v in b {
                            bytes.extend_from_slice(&v.to_le_bytes()[..size]);
                        }
                        res = f(&bytes);
                    }
                });
                res?;
            }
            ArrayData::OneHot { src, rows } => {
                let w = src.width();
                let n = rows.map_or(src.rows(), |r| r.len());
                if w > 0 && n > 0 {
                    let per = (CHUNK / w).max(1);
                    let mut buf = vec![0u8; per * w];
                    let mut i = 0;
                    while i < n {
                        let m = per.min(n - i);
                        for (k, row) in buf[..m * w].chunks_mut(w).enumerate() {
                            let r = rows.map_or(i + k, |ids| ids.get(i + k) as usize);
                            src.write_row(r, row);
                        }
                        f(&buf[..m * w])?;
                        i += m;
                    }
                }
            }
            ArrayData::Runs(runs) => {
                let size = self.dtype.size();
                let mut buf = Vec::with_capacity(CHUNK);
                for &(count, value) in runs {
                    let bytes = value.to_le_bytes();
                    for _ in 0..count {
                        buf.extend_from_slice(&bytes[..size]);
                        if buf.len() >= CHUNK {
                            f(&buf)?;
                            buf.clear();
                        }
                    }
                }
                if !buf.is_empty() {
                    f(&buf)?;
                }
            }
            ArrayData::Int64(ids) => {
                let mut buf = Vec::with_capacity(CHUNK);
                for x in ids.iter() {
                    buf.extend_from_slice(&(x as i64).to_le_bytes());
                    if buf.len() >= CHUNK {
                        f(&buf)?;
                        buf.clear();
                    }
                }
                if !buf.is_empty() {
                    f(&buf)?;
                }
            }
            ArrayData::Gather {
                src,
                row_bytes,
                rows,
            } => {
                // Spilled sources: rows come in ascending order (writers gather partition
                // members in construction order), so the span from the first row since the last
                // release up to the current row is done and can go back to the page cache.
                let mut behind = if rows.is_empty() {
                    0
                } else {
                    rows.get(0) as usize
                };
                let mut release = |upto: usize| {
                    if let Some(t) = self.spilled {
                        if upto > behind && (upto - behind) * row_bytes >= RELEASE_SPAN {
                            t.release(behind * row_bytes..upto * row_bytes);
                            behind = upto;
                        }
                    }
                };
                if row_bytes >= CHUNK {
                    for r in rows.iter() {
                        let r = r as usize;
                        f(&src[r * row_bytes..(r + 1) * row_bytes])?;
                        release(r);
                    }
                } else {
                    let mut buf = Vec::with_capacity(CHUNK + row_bytes);
                    let mut last = 0;
                    for r in rows.iter() {
                        let r = r as usize;
                        buf.extend_from_slice(&src[r * row_bytes..(r + 1) * row_bytes]);
                        last = r;
                        if buf.len() >= CHUNK {
                            f(&buf)?;
                            buf.clear();
                            release(r);
                        }
                    }
                    if !buf.is_empty() {
                        f(&buf)?;
                    }
                    release(last + 1);
                }
            }
        }
        Ok(())
    }

    /// Writes the payload bytes to `w`.
    pub fn write_data<W: Write>(&self, w: &mut W) -> io::Result<()> {
        self.for_each_chunk(|b| w.write_all(b))
    }
}

/// A named array: one entry of a tensor list.
#[derive(Clone, Debug)]
pub struct NamedArray<'a> {
    pub name: String,
    pub array: ArraySource<'a>,
}

impl<'a> NamedArray<'a> {
    pub fn new(name: impl Into<String>, array: ArraySource<'a>) -> Self {
        NamedArray {
            name: name.into(),
            array,
        }
    }
}
