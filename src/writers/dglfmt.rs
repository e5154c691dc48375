//! DGL binary serialization: NDArray records, tensor-dict files and graph files
//! (`dgl.save_graphs`, file version 2), plus a minimal reader used by tests and checks.
//!
//! Formats (docs/spec `distdgl-format.md` §5–§7; the heterograph metagraph bytes were derived
//! from files written by DGL 2.1.0):
//! * NDArray record: `magic, 0, ctx(1,0), ndim, dtype(code,bits,1), shape[ndim], nbytes, data`.
//! * tensor dict (`node_feat.dgl`, ...): `magic, n, n, n × (str name, NDArray)`.
//! * graph file: a 4096-byte header block (magic, version 2, graph type 2, 1 graph, zero
//!   padding), `gdata_start_pos`, empty label list, one `HeteroGraphData`, and the trailer
//!   `u64 16, u64 1, u64 0x1010, u64 16`. The `HeteroGraph` holds an `ImmutableGraph`
//!   metagraph (the out-CSR over node types, one edge per relation, `data` = relation index),
//!   one `UnitGraph` per relation (COO, CSR, CSC sections, each preceded by the relation's own
//!   1-type or 2-type unit metagraph), `num_verts_per_type`, then per-type tensor lists and
//!   the type names.
//!
//! Algorithm: everything is written front to back in one pass. Array payloads come from
//! [`ArrayData`], which can be contiguous bytes, rows gathered from a bigger array in a given
//! order, or IDs widened to int64 on the fly, so callers never materialise a permuted copy of
//! a feature matrix. CSR/CSC sections are built per relation with a counting sort
//! (degree count → prefix sum → stable scatter in edge-ID order), so every row lists its
//! entries in increasing edge ID.
//!
//! # Memory
//! Writing a tensor dict or a COO-only graph needs O(1) extra memory (a 1 MiB chunk buffer,
//! as large as the writer's buffer so that chunks bypass its copy) besides the caller's arrays. Each CSR/CSC section needs `8·(rows + 1) + 16·nnz` bytes for
//! the duration of that section only.
//!
//! Parallelism: none inside a file; callers write different files in parallel.

use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::{Bytes, DType, Element, OneHot, Tensor};

/// `kDGLNDArrayMagic`.
pub const MAGIC_NDARRAY: u64 = 0xDD5E_40F0_96B4_A13F;
/// `kDGLSerialize_Tensors`: tensor-dict files.
pub const MAGIC_TENSOR_FILE: u64 = 0xDD5A_9FBE_3FA2_443F;
/// `kDGLSerializeMagic`: graph files.
pub const MAGIC_GRAPH_FILE: u64 = 0xDD2E_4FF0_46B4_A13F;
/// `kDGLSerialize_HeteroGraph`.
pub const MAGIC_HETEROGRAPH: u64 = 0xDD58_9FBE_3522_4ABF;
/// `kDGLSerialize_ImGraph` (metagraphs).
pub const MAGIC_IMGRAPH: u64 = 0xDD3C_5FFE_2004_6ABF;
/// `kDGLSerialize_UnitGraphMagic`.
pub const MAGIC_UNITGRAPH: u64 = 0xDD2E_60F0_F6B4_A127;
/// `kDGLSerialize_AtenCsrMatrixMagic`.
pub const MAGIC_CSR: u64 = 0xDD6C_D312_05DF_F127;
/// `kDGLSerialize_AtenCooMatrixMagic`.
pub const MAGIC_COO: u64 = 0xDD61_FFD3_05DF_F127;

/// Size of the graph file's fixed header block.
const HEADER_BLOCK: usize = 4096;
/// Offset of the (single) graph: header block + `gdata_start_pos` + empty label list.
const GRAPH_OFFSET: u64 = HEADER_BLOCK as u64 + 16;
/// "New style" marker bit of UnitGraph format codes.
const FORMAT_FLAG: i64 = 1 << 32;
/// `ALL_CODE`: the allowed formats DGL records for graphs it creates.
const ALL_FORMATS: i64 = 7;
/// Payload chunk size for gathered / widened arrays.
const CHUNK: usize = 1 << 20;
/// IDs generated at a time for [`Ids::Gen`] / [`Ids::Range`].
const GEN_BLOCK: usize = 1 << 20;
/// Span of a spilled source released at a time while streaming it out.
const RELEASE_SPAN: usize = 8 << 20;

// ---------------------------------------------------------------------------------------------
// Arrays to write
// ---------------------------------------------------------------------------------------------

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
pub struct ArrayRef<'a> {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: ArrayData<'a>,
    /// The source tensor when it is a spilled (memory-mapped) one: pages already written out
    /// are released behind the cursor so streaming it does not grow the resident set.
    pub spilled: Option<&'a Tensor>,
}

impl<'a> ArrayRef<'a> {
    /// The whole tensor.
    pub fn tensor(t: &'a Tensor) -> Self {
        if let Bytes::OneHot(o) = &t.data {
            return ArrayRef {
                dtype: t.dtype,
                shape: t.shape.clone(),
                data: ArrayData::OneHot { src: o, rows: None },
                spilled: None,
            };
        }
        ArrayRef {
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
            return ArrayRef {
                dtype: t.dtype,
                shape,
                data: ArrayData::OneHot {
                    src: o,
                    rows: Some(rows),
                },
                spilled: None,
            };
        }
        ArrayRef {
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
        ArrayRef {
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
        ArrayRef {
            dtype,
            shape: vec![len],
            data: ArrayData::Generated { src, len },
            spilled: None,
        }
    }

    /// A 1-D integer array of runs `(count, value)` (e.g. per-edge type IDs in relation order).
    pub fn runs(dtype: DType, runs: &'a [(u64, i64)]) -> Self {
        assert!(!dtype.is_float(), "runs are integer arrays");
        ArrayRef {
            dtype,
            shape: vec![runs.iter().map(|r| r.0 as usize).sum()],
            data: ArrayData::Runs(runs),
            spilled: None,
        }
    }

    /// A 1-D array viewing `v`.
    pub fn slice<T: Element>(v: &'a [T]) -> Self {
        ArrayRef {
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
    pub array: ArrayRef<'a>,
}

impl<'a> NamedArray<'a> {
    pub fn new(name: impl Into<String>, array: ArrayRef<'a>) -> Self {
        NamedArray {
            name: name.into(),
            array,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Primitive writers
// ---------------------------------------------------------------------------------------------

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

fn put_u64<W: Write>(w: &mut W, v: u64) -> io::Result<()> {
    w.write_all(&v.to_le_bytes())
}

fn put_i64<W: Write>(w: &mut W, v: i64) -> io::Result<()> {
    w.write_all(&v.to_le_bytes())
}

/// dmlc string: `u64 len` + UTF-8 bytes.
fn put_str<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    put_u64(w, s.len() as u64)?;
    w.write_all(s.as_bytes())
}

fn usize_i64(v: usize) -> i64 {
    v as i64
}

/// Writes one NDArray record (`SaveDGLArray`).
pub fn write_ndarray<W: Write>(w: &mut W, a: &ArrayRef<'_>) -> io::Result<()> {
    if a.shape.is_empty() {
        return Err(invalid("0-dim arrays cannot be stored in DGL files"));
    }
    let (code, bits) = a.dtype.dgl_code_bits();
    let mut h = Vec::with_capacity(40 + 8 * a.shape.len());
    h.extend_from_slice(&MAGIC_NDARRAY.to_le_bytes());
    h.extend_from_slice(&0u64.to_le_bytes()); // reserved
    h.extend_from_slice(&1i32.to_le_bytes()); // kDGLCPU
    h.extend_from_slice(&0i32.to_le_bytes()); // device id
    h.extend_from_slice(&(a.shape.len() as i32).to_le_bytes());
    h.extend_from_slice(&[code, bits]);
    h.extend_from_slice(&1u16.to_le_bytes()); // lanes
    for &d in &a.shape {
        h.extend_from_slice(&usize_i64(d).to_le_bytes());
    }
    h.extend_from_slice(&(a.nbytes() as i64).to_le_bytes());
    w.write_all(&h)?;
    a.write_data(w)
}

/// An empty int64 array (`aten::NullArray`): the unused COO `data` field.
fn write_null_array<W: Write>(w: &mut W) -> io::Result<()> {
    write_ndarray(w, &ArrayRef::slice::<i64>(&[]))
}

/// `std::vector<NamedTensor>`: `u64 count`, then `(str, NDArray)` pairs. Names must be unique.
pub fn write_tensor_list<W: Write>(w: &mut W, list: &[NamedArray<'_>]) -> io::Result<()> {
    check_unique(list)?;
    put_u64(w, list.len() as u64)?;
    for e in list {
        put_str(w, &e.name)?;
        write_ndarray(w, &e.array)?;
    }
    Ok(())
}

fn check_unique(list: &[NamedArray<'_>]) -> io::Result<()> {
    let mut names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    if let Some(d) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(invalid(format!("duplicate tensor name '{}'", d[0])));
    }
    Ok(())
}

/// A tensor-dict file (`dgl.data.utils.save_tensors`): `node_feat.dgl`, `edge_feat.dgl`,
/// `orig_nids.dgl`, ... Entries are written in the given order.
pub fn write_tensor_dict<W: Write>(w: &mut W, entries: &[NamedArray<'_>]) -> io::Result<()> {
    put_u64(w, MAGIC_TENSOR_FILE)?;
    put_u64(w, entries.len() as u64)?;
    write_tensor_list(w, entries)
}

/// [`write_tensor_dict`] into a new file at `path`.
pub fn save_tensor_dict(path: &Path, entries: &[NamedArray<'_>]) -> Result<()> {
    super::write_file(path, |w| write_tensor_dict(w, entries))
}

// ---------------------------------------------------------------------------------------------
// Graph files
// ---------------------------------------------------------------------------------------------

/// Sparse formats stored for every relation (COO, out-CSR, in-CSR a.k.a. CSC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    pub coo: bool,
    pub csr: bool,
    pub csc: bool,
}

impl Formats {
    /// What `dgl.save_graphs` writes for a freshly built graph.
    pub const COO: Formats = Formats {
        coo: true,
        csr: false,
        csc: false,
    };
    /// COO plus CSC: what DistDGL servers build at start-up anyway.
    pub const COO_CSC: Formats = Formats {
        coo: true,
        csr: false,
        csc: true,
    };

    fn code(self) -> i64 {
        i64::from(self.coo) | i64::from(self.csr) << 1 | i64::from(self.csc) << 2
    }
}

/// One relation (canonical edge type) of a graph to write.
#[derive(Clone, Copy, Debug)]
pub struct RelationRef<'a> {
    /// Relation name (the middle of the canonical etype); what DGL stores as the etype name.
    pub name: &'a str,
    /// Index of the source node type.
    pub src_type: usize,
    /// Index of the destination node type.
    pub dst_type: usize,
    /// Source node IDs (per-type), in edge-ID order.
    pub src: Ids<'a>,
    /// Destination node IDs (per-type), in edge-ID order.
    pub dst: Ids<'a>,
}

/// A whole graph to write with [`write_graph`]: node types with counts, relations, and the
/// per-type data lists.
#[derive(Clone, Debug)]
pub struct GraphRef<'a> {
    pub ntypes: Vec<&'a str>,
    pub num_nodes: Vec<u64>,
    pub relations: Vec<RelationRef<'a>>,
    /// One list per node type; every array has `num_nodes[t]` rows.
    pub node_data: Vec<Vec<NamedArray<'a>>>,
    /// One list per relation; every array has as many rows as the relation has edges.
    pub edge_data: Vec<Vec<NamedArray<'a>>>,
    pub formats: Formats,
}

impl GraphRef<'_> {
    /// Checks the shape invariants (type indices, endpoint counts, data row counts, at least
    /// one format). Endpoint values are checked while writing.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let nt = self.ntypes.len();
        if nt == 0 {
            return Err("a graph needs at least one node type".into());
        }
        if self.num_nodes.len() != nt || self.node_data.len() != nt {
            return Err("num_nodes/node_data must have one entry per node type".into());
        }
        if self.edge_data.len() != self.relations.len() {
            return Err("edge_data must have one entry per relation".into());
        }
        if self.formats.code() == 0 {
            return Err("at least one sparse format (coo/csr/csc) is needed".into());
        }
        for r in &self.relations {
            if r.src_type >= nt || r.dst_type >= nt {
                return Err(format!(
                    "relation '{}' refers to an unknown node type",
                    r.name
                ));
            }
            if r.src.len() != r.dst.len() {
                return Err(format!("relation '{}': src and dst lengths differ", r.name));
            }
        }
        for (t, list) in self.node_data.iter().enumerate() {
            for a in list {
                if a.array.rows() as u64 != self.num_nodes[t] {
                    return Err(format!(
                        "node data '{}' of type '{}' has {} rows, expected {}",
                        a.name,
                        self.ntypes[t],
                        a.array.rows(),
                        self.num_nodes[t]
                    ));
                }
            }
        }
        for (r, list) in self.edge_data.iter().enumerate() {
            let rel = &self.relations[r];
            for a in list {
                if a.array.rows() != rel.src.len() {
                    return Err(format!(
                        "edge data '{}' of relation '{}' has {} rows, expected {}",
                        a.name,
                        rel.name,
                        a.array.rows(),
                        rel.src.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A compressed sparse matrix (CSR over `num_rows`).
struct Compressed {
    num_rows: usize,
    num_cols: usize,
    indptr: Vec<i64>,
    indices: Vec<i64>,
    data: Vec<i64>,
}

/// Counting sort of the entries `(rows[e], cols[e])` by row, stable in `e`:
/// `data` holds the entry (edge) IDs. Fails if a row or column is out of range.
fn compress(
    num_rows: usize,
    num_cols: usize,
    rows: Ids<'_>,
    cols: Ids<'_>,
) -> io::Result<Compressed> {
    let mut indptr = vec![0i64; num_rows + 1];
    for r in rows.iter() {
        if r as usize >= num_rows {
            return Err(invalid(format!("node ID {r} out of range 0..{num_rows}")));
        }
        indptr[r as usize + 1] += 1;
    }
    for i in 0..num_rows {
        indptr[i + 1] += indptr[i];
    }
    let nnz = rows.len();
    let mut cursor: Vec<i64> = indptr[..num_rows].to_vec();
    let mut indices = vec![0i64; nnz];
    let mut data = vec![0i64; nnz];
    for e in 0..nnz {
        let c = cols.get(e);
        if c as usize >= num_cols {
            return Err(invalid(format!("node ID {c} out of range 0..{num_cols}")));
        }
        let slot = &mut cursor[rows.get(e) as usize];
        let pos = *slot as usize;
        *slot += 1;
        indices[pos] = c as i64;
        data[pos] = e as i64;
    }
    Ok(Compressed {
        num_rows,
        num_cols,
        indptr,
        indices,
        data,
    })
}

/// `aten::CSRMatrix::Save` (`num_cols` before `num_rows`; `sorted` written as 0).
fn write_csr<W: Write>(w: &mut W, m: &Compressed) -> io::Result<()> {
    put_u64(w, MAGIC_CSR)?;
    put_i64(w, usize_i64(m.num_cols))?;
    put_i64(w, usize_i64(m.num_rows))?;
    write_ndarray(w, &ArrayRef::slice(&m.indptr))?;
    write_ndarray(w, &ArrayRef::slice(&m.indices))?;
    write_ndarray(w, &ArrayRef::slice(&m.data))?;
    w.write_all(&[0])
}

/// `ImmutableGraph::Save` of a metagraph with `num_types` vertices and the given edges: its
/// out-CSR, rows in vertex order, entries of a row in edge order, `data` = edge index.
fn write_metagraph<W: Write>(
    w: &mut W,
    num_types: usize,
    edges: &[(usize, usize)],
) -> io::Result<()> {
    let src: Vec<u64> = edges.iter().map(|e| e.0 as u64).collect();
    let dst: Vec<u64> = edges.iter().map(|e| e.1 as u64).collect();
    let m = compress(num_types, num_types, Ids::U64(&src), Ids::U64(&dst))?;
    put_u64(w, MAGIC_IMGRAPH)?;
    write_csr(w, &m)
}

/// The metagraph of one relation's `UnitGraph`: one vertex with a self-loop when source and
/// destination types are equal, else two vertices with the edge 0→1.
fn write_unit_metagraph<W: Write>(w: &mut W, rel: &RelationRef<'_>) -> io::Result<()> {
    if rel.src_type == rel.dst_type {
        write_metagraph(w, 1, &[(0, 0)])
    } else {
        write_metagraph(w, 2, &[(0, 1)])
    }
}

/// `UnitGraph::Save` of one relation.
fn write_unit_graph<W: Write>(
    w: &mut W,
    g: &GraphRef<'_>,
    rel: &RelationRef<'_>,
) -> io::Result<()> {
    let n_src = g.num_nodes[rel.src_type] as usize;
    let n_dst = g.num_nodes[rel.dst_type] as usize;
    put_u64(w, MAGIC_UNITGRAPH)?;
    put_i64(w, g.formats.code() | FORMAT_FLAG)?;
    put_i64(w, ALL_FORMATS | FORMAT_FLAG)?;
    if g.formats.coo {
        // Generated IDs are in range by construction (and checking would generate them twice).
        for (ids, n) in [(rel.src, n_src), (rel.dst, n_dst)]
            .into_iter()
            .filter(|(ids, _)| !matches!(ids, Ids::Gen { .. }))
        {
            if let Some(bad) = ids.iter().find(|&x| x as usize >= n) {
                return Err(invalid(format!(
                    "relation '{}': node ID {bad} out of range 0..{n}",
                    rel.name
                )));
            }
        }
        write_unit_metagraph(w, rel)?;
        put_u64(w, MAGIC_COO)?;
        put_i64(w, usize_i64(n_dst))?; // num_cols first
        put_i64(w, usize_i64(n_src))?;
        write_ndarray(w, &ArrayRef::ids(rel.src))?;
        write_ndarray(w, &ArrayRef::ids(rel.dst))?;
        write_null_array(w)?;
        w.write_all(&[0, 0])?; // row_sorted, col_sorted
    }
    if g.formats.csr {
        let m = compress(n_src, n_dst, rel.src, rel.dst)?;
        write_unit_metagraph(w, rel)?;
        write_csr(w, &m)?;
    }
    if g.formats.csc {
        let m = compress(n_dst, n_src, rel.dst, rel.src)?;
        write_unit_metagraph(w, rel)?;
        write_csr(w, &m)?;
    }
    Ok(())
}

/// Writes `g` as a `dgl.save_graphs` file holding exactly this one graph and no labels.
/// Fails with `InvalidInput` if [`GraphRef::validate`] fails or an endpoint is out of range.
pub fn write_graph<W: Write>(w: &mut W, g: &GraphRef<'_>) -> io::Result<()> {
    g.validate().map_err(invalid)?;
    // Header block; DGL leaves the padding uninitialised, we write zeros.
    let mut header = vec![0u8; HEADER_BLOCK];
    for (i, v) in [MAGIC_GRAPH_FILE, 2, 2, 1].into_iter().enumerate() {
        header[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    w.write_all(&header)?;
    put_u64(w, GRAPH_OFFSET)?; // gdata_start_pos
    put_u64(w, 0)?; // labels: empty tensor list

    // HeteroGraphData::Save -> HeteroGraph::Save
    put_u64(w, MAGIC_HETEROGRAPH)?;
    let meta_edges: Vec<(usize, usize)> = g
        .relations
        .iter()
        .map(|r| (r.src_type, r.dst_type))
        .collect();
    write_metagraph(w, g.ntypes.len(), &meta_edges)?;
    put_u64(w, g.relations.len() as u64)?;
    for rel in &g.relations {
        write_unit_graph(w, g, rel)?;
    }
    put_u64(w, g.num_nodes.len() as u64)?;
    for &n in &g.num_nodes {
        put_i64(w, n as i64)?;
    }
    put_u64(w, g.node_data.len() as u64)?;
    for list in &g.node_data {
        write_tensor_list(w, list)?;
    }
    put_u64(w, g.edge_data.len() as u64)?;
    for list in &g.edge_data {
        write_tensor_list(w, list)?;
    }
    put_u64(w, g.ntypes.len() as u64)?;
    for t in &g.ntypes {
        put_str(w, t)?;
    }
    put_u64(w, g.relations.len() as u64)?;
    for r in &g.relations {
        put_str(w, r.name)?;
    }
    // Trailer: std::string(vector<u64>{1, offset}) then its length again.
    for v in [16, 1, GRAPH_OFFSET, 16] {
        put_u64(w, v)?;
    }
    Ok(())
}

/// [`write_graph`] into a new file at `path`.
pub fn save_graph(path: &Path, g: &GraphRef<'_>) -> Result<()> {
    g.validate()
        .map_err(|m| Error::Graph(format!("{}: {m}", path.display())))?;
    super::write_file(path, |w| write_graph(w, g))
}

// ---------------------------------------------------------------------------------------------
// Minimal reader (tests, `inspect`-style checks)
// ---------------------------------------------------------------------------------------------

/// A compressed sparse matrix read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsrMatrix {
    pub num_rows: i64,
    pub num_cols: i64,
    pub indptr: Vec<i64>,
    pub indices: Vec<i64>,
    pub data: Vec<i64>,
    pub sorted: bool,
}

/// A COO matrix read from a file (`data` empty = edge `i` is entry `i`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CooMatrix {
    pub num_rows: i64,
    pub num_cols: i64,
    pub row: Vec<i64>,
    pub col: Vec<i64>,
    pub data: Vec<i64>,
    pub row_sorted: bool,
    pub col_sorted: bool,
}

/// One relation's `UnitGraph`: each present format with its unit metagraph.
#[derive(Clone, Debug, Default)]
pub struct UnitGraphFile {
    pub save_formats: u32,
    pub allowed_formats: u32,
    pub coo: Option<(CsrMatrix, CooMatrix)>,
    pub csr: Option<(CsrMatrix, CsrMatrix)>,
    pub csc: Option<(CsrMatrix, CsrMatrix)>,
}

/// The content of a one-graph `dgl.save_graphs` file.
#[derive(Debug)]
pub struct GraphFile {
    pub metagraph: CsrMatrix,
    pub relations: Vec<UnitGraphFile>,
    pub num_nodes: Vec<i64>,
    pub node_data: Vec<Vec<(String, Tensor)>>,
    pub edge_data: Vec<Vec<(String, Tensor)>>,
    pub ntypes: Vec<String>,
    pub etypes: Vec<String>,
}

struct Cursor<'a> {
    b: &'a [u8],
    p: usize,
}

type ParseResult<T> = std::result::Result<T, String>;

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> ParseResult<&'a [u8]> {
        let end = self.p.checked_add(n).filter(|&e| e <= self.b.len());
        let end =
            end.ok_or_else(|| format!("truncated at offset {:#x} (need {n} bytes)", self.p))?;
        let s = &self.b[self.p..end];
        self.p = end;
        Ok(s)
    }
    fn u64(&mut self) -> ParseResult<u64> {
        let s = self.take(8)?;
        Ok(u64::from_le_bytes(s.try_into().map_err(|_| "short read")?))
    }
    fn i64(&mut self) -> ParseResult<i64> {
        Ok(self.u64()? as i64)
    }
    fn i32(&mut self) -> ParseResult<i32> {
        let s = self.take(4)?;
        Ok(i32::from_le_bytes(s.try_into().map_err(|_| "short read")?))
    }
    fn u8(&mut self) -> ParseResult<u8> {
        Ok(self.take(1)?[0])
    }
    fn count(&mut self) -> ParseResult<usize> {
        let n = self.u64()?;
        // Every element takes at least one byte: reject absurd counts before allocating.
        if n > (self.b.len() - self.p) as u64 {
            return Err(format!("implausible count {n} at offset {:#x}", self.p - 8));
        }
        Ok(n as usize)
    }
    fn str(&mut self) -> ParseResult<String> {
        let n = self.count()?;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec())
            .map_err(|_| format!("invalid UTF-8 string at {:#x}", self.p - n))
    }
    fn magic(&mut self, want: u64, what: &str) -> ParseResult<()> {
        let at = self.p;
        let got = self.u64()?;
        if got != want {
            return Err(format!("bad {what} magic {got:#x} at offset {at:#x}"));
        }
        Ok(())
    }

    fn ndarray(&mut self) -> ParseResult<Tensor> {
        self.magic(MAGIC_NDARRAY, "NDArray")?;
        let _reserved = self.u64()?;
        let (dev, _dev_id) = (self.i32()?, self.i32()?);
        if dev != 1 {
            return Err(format!("NDArray device type {dev}, expected 1 (CPU)"));
        }
        let ndim = self.i32()?;
        let (code, bits) = (self.u8()?, self.u8()?);
        let lanes = u16::from_le_bytes([self.u8()?, self.u8()?]);
        if lanes != 1 || !(0..=32).contains(&ndim) {
            return Err(format!("unsupported NDArray lanes {lanes} / ndim {ndim}"));
        }
        let dtype = dtype_from_dgl(code, bits)
            .ok_or_else(|| format!("unsupported dtype code {code} bits {bits}"))?;
        let mut shape = Vec::with_capacity(ndim as usize);
        for _ in 0..ndim {
            let d = self.i64()?;
            shape.push(usize::try_from(d).map_err(|_| format!("negative dimension {d}"))?);
        }
        let nbytes = self.i64()?;
        let want = shape
            .iter()
            .try_fold(dtype.size(), |a, &d| a.checked_mul(d));
        if want != usize::try_from(nbytes).ok() {
            return Err(format!(
                "NDArray data_byte_size {nbytes} does not match shape {shape:?}"
            ));
        }
        let data = self.take(nbytes as usize)?.to_vec();
        Ok(Tensor {
            dtype,
            shape,
            data: Bytes::Owned(data),
        })
    }

    fn i64_array(&mut self) -> ParseResult<Vec<i64>> {
        let t = self.ndarray()?;
        if t.dtype != DType::I64 || t.shape.len() != 1 {
            return Err(format!(
                "expected a 1-D int64 index array, got {} {:?}",
                t.dtype.name(),
                t.shape
            ));
        }
        Ok(t.bytes()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }

    fn tensor_list(&mut self) -> ParseResult<Vec<(String, Tensor)>> {
        let n = self.count()?;
        (0..n).map(|_| Ok((self.str()?, self.ndarray()?))).collect()
    }

    fn csr(&mut self) -> ParseResult<CsrMatrix> {
        self.magic(MAGIC_CSR, "CSRMatrix")?;
        let num_cols = self.i64()?;
        let num_rows = self.i64()?;
        Ok(CsrMatrix {
            num_rows,
            num_cols,
            indptr: self.i64_array()?,
            indices: self.i64_array()?,
            data: self.i64_array()?,
            sorted: self.u8()? != 0,
        })
    }

    fn coo(&mut self) -> ParseResult<CooMatrix> {
        self.magic(MAGIC_COO, "COOMatrix")?;
        let num_cols = self.i64()?;
        let num_rows = self.i64()?;
        Ok(CooMatrix {
            num_rows,
            num_cols,
            row: self.i64_array()?,
            col: self.i64_array()?,
            data: self.i64_array()?,
            row_sorted: self.u8()? != 0,
            col_sorted: self.u8()? != 0,
        })
    }

    fn imgraph(&mut self) -> ParseResult<CsrMatrix> {
        self.magic(MAGIC_IMGRAPH, "ImmutableGraph")?;
        self.csr()
    }
}

/// DGL `(code, bits)` → [`DType`] (bool comes back as uint8, like in DGL).
pub fn dtype_from_dgl(code: u8, bits: u8) -> Option<DType> {
    Some(match (code, bits) {
        (0, 8) => DType::I8,
        (0, 16) => DType::I16,
        (0, 32) => DType::I32,
        (0, 64) => DType::I64,
        (1, 8) => DType::U8,
        (2, 16) => DType::F16,
        (2, 32) => DType::F32,
        (2, 64) => DType::F64,
        _ => return None,
    })
}

/// Parses a tensor-dict file's bytes into `(name, tensor)` pairs in file order.
pub fn read_tensor_dict(bytes: &[u8]) -> std::result::Result<Vec<(String, Tensor)>, String> {
    let mut c = Cursor { b: bytes, p: 0 };
    c.magic(MAGIC_TENSOR_FILE, "tensor dict")?;
    let n = c.u64()?;
    let list = c.tensor_list()?;
    if list.len() as u64 != n {
        return Err(format!(
            "tensor dict announces {n} entries but holds {}",
            list.len()
        ));
    }
    if c.p != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - c.p));
    }
    Ok(list)
}

/// Parses a one-graph `dgl.save_graphs` file.
pub fn read_graph(bytes: &[u8]) -> std::result::Result<GraphFile, String> {
    let mut c = Cursor { b: bytes, p: 0 };
    c.magic(MAGIC_GRAPH_FILE, "graph file")?;
    let (version, gtype, ngraphs) = (c.u64()?, c.u64()?, c.u64()?);
    if (version, gtype, ngraphs) != (2, 2, 1) {
        return Err(format!(
            "unsupported graph file: version {version}, type {gtype}, {ngraphs} graphs"
        ));
    }
    c.p = HEADER_BLOCK;
    let start = c.u64()?;
    let labels = c.tensor_list()?;
    if c.p as u64 != start || !labels.is_empty() {
        return Err("graph labels are not supported".into());
    }
    c.magic(MAGIC_HETEROGRAPH, "HeteroGraph")?;
    let metagraph = c.imgraph()?;
    let nrel = c.count()?;
    let mut relations = Vec::with_capacity(nrel);
    for _ in 0..nrel {
        c.magic(MAGIC_UNITGRAPH, "UnitGraph")?;
        let (save, allowed) = (c.i64()?, c.i64()?);
        if save >> 32 != 1 || allowed >> 32 != 1 {
            return Err("legacy UnitGraph format codes are not supported".into());
        }
        let mut u = UnitGraphFile {
            save_formats: (save & 0xffff_ffff) as u32,
            allowed_formats: (allowed & 0xffff_ffff) as u32,
            ..Default::default()
        };
        if u.save_formats & 1 != 0 {
            u.coo = Some((c.imgraph()?, c.coo()?));
        }
        if u.save_formats & 2 != 0 {
            u.csr = Some((c.imgraph()?, c.csr()?));
        }
        if u.save_formats & 4 != 0 {
            u.csc = Some((c.imgraph()?, c.csr()?));
        }
        relations.push(u);
    }
    let nt = c.count()?;
    let num_nodes = (0..nt).map(|_| c.i64()).collect::<ParseResult<Vec<_>>>()?;
    let n = c.count()?;
    let node_data = (0..n)
        .map(|_| c.tensor_list())
        .collect::<ParseResult<Vec<_>>>()?;
    let n = c.count()?;
    let edge_data = (0..n)
        .map(|_| c.tensor_list())
        .collect::<ParseResult<Vec<_>>>()?;
    let n = c.count()?;
    let ntypes = (0..n).map(|_| c.str()).collect::<ParseResult<Vec<_>>>()?;
    let n = c.count()?;
    let etypes = (0..n).map(|_| c.str()).collect::<ParseResult<Vec<_>>>()?;
    let trailer = [c.u64()?, c.u64()?, c.u64()?, c.u64()?];
    if trailer != [16, 1, start, 16] || c.p != bytes.len() {
        return Err(format!("bad trailer {trailer:?} or trailing bytes"));
    }
    Ok(GraphFile {
        metagraph,
        relations,
        num_nodes,
        node_data,
        edge_data,
        ntypes,
        etypes,
    })
}

/// Reads and parses a graph file; errors name the file.
pub fn load_graph(path: &Path) -> Result<GraphFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, e.to_string()))?;
    read_graph(&bytes).map_err(|m| Error::input(path, m))
}

/// Reads and parses a tensor-dict file; errors name the file.
pub fn load_tensor_dict(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, e.to_string()))?;
    read_tensor_dict(&bytes).map_err(|m| Error::input(path, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_and_generated_arrays_write_like_dense_ones() {
        // 5 rows × 70 columns (wider than one row per chunk is not needed; several rows per
        // chunk and a multi-hot row).
        let cols = vec![3, 69, 0, 1, 2, 5];
        let offsets = vec![0, 1, 2, 2, 5, 6];
        let oh = Tensor::one_hot(crate::tensor::OneHot::new(70, offsets, cols));
        let dense = Tensor::from_vec(vec![5, 70], oh.as_slice::<i8>().unwrap().to_vec());
        let rows = [4u32, 0, 3];
        let write = |a: ArrayRef<'_>| {
            let mut v = Vec::new();
            write_ndarray(&mut v, &a).unwrap();
            v
        };
        assert_eq!(
            write(ArrayRef::tensor(&oh)),
            write(ArrayRef::tensor(&dense))
        );
        assert_eq!(
            write(ArrayRef::gather(&oh, Ids::U32(&rows))),
            write(ArrayRef::gather(&dense, Ids::U32(&rows)))
        );
        let ids: Vec<i64> = (7..7 + 3 * GEN_BLOCK as i64 / 2).collect();
        assert_eq!(
            write(ArrayRef::ids(Ids::Range {
                start: 7,
                len: ids.len()
            })),
            write(ArrayRef::slice(&ids))
        );
        let runs = [(2u64, 1i64), (0, 9), (3, 4)];
        assert_eq!(
            write(ArrayRef::runs(DType::I32, &runs)),
            write(ArrayRef::slice(&[1i32, 1, 4, 4, 4]))
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The 103-byte example of spec §7: `{"_N/feat": float32 [[1.0, 2.0]]}`.
    #[test]
    fn tensor_dict_matches_spec_example() {
        let t = Tensor::from_vec(vec![1, 2], vec![1f32, 2.0]);
        let mut out = Vec::new();
        write_tensor_dict(
            &mut out,
            &[NamedArray::new("_N/feat", ArrayRef::tensor(&t))],
        )
        .unwrap();
        let want = hex(
            "3F44A23FBE9F5ADD 0100000000000000 0100000000000000 0700000000000000 5F4E2F66656174
             3FA1B496F0405EDD 0000000000000000 01000000 00000000 02000000 02 20 0100
             0100000000000000 0200000000000000 0800000000000000 0000803F 00000040",
        );
        assert_eq!(out.len(), 103);
        assert_eq!(out, want);
        let back = read_tensor_dict(&out).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].0, "_N/feat");
        assert_eq!(back[0].1.shape, vec![1, 2]);
        assert_eq!(back[0].1.as_slice::<f32>().unwrap(), &[1.0, 2.0]);
    }

    #[test]
    fn empty_tensor_dict_is_24_bytes() {
        let mut out = Vec::new();
        write_tensor_dict(&mut out, &[]).unwrap();
        assert_eq!(out.len(), 24);
        assert!(read_tensor_dict(&out).unwrap().is_empty());
    }

    #[test]
    fn duplicate_names_rejected() {
        let a = [1i64, 2];
        let e = [
            NamedArray::new("x", ArrayRef::slice(&a)),
            NamedArray::new("x", ArrayRef::slice(&a)),
        ];
        assert!(write_tensor_dict(&mut Vec::new(), &e).is_err());
    }

    #[test]
    fn gather_and_widen_stream_the_right_bytes() {
        // Rows big enough to cross the chunk boundary several times.
        let n = 5000usize;
        let vals: Vec<i32> = (0..n as i32 * 7).collect();
        let t = Tensor::from_vec(vec![n, 7], vals);
        let order: Vec<u32> = (0..n as u32).rev().collect();
        let a = ArrayRef::gather(&t, Ids::U32(&order));
        assert_eq!(a.nbytes(), (n * 7 * 4) as u64);
        let mut got = Vec::new();
        a.write_data(&mut got).unwrap();
        let idx: Vec<usize> = order.iter().map(|&i| i as usize).collect();
        assert_eq!(got, t.gather_rows(&idx).bytes());

        let ids: Vec<u32> = (0..20000).map(|i| i * 3).collect();
        let mut got = Vec::new();
        ArrayRef::ids(Ids::U32(&ids)).write_data(&mut got).unwrap();
        let want: Vec<u8> = ids
            .iter()
            .flat_map(|&i| i64::from(i).to_le_bytes())
            .collect();
        assert_eq!(got, want);
    }

    /// The annotated 5183-byte example of spec §6.7. The fixture was produced by the spec's
    /// reference writer (`distdgl_ref/dglfmt.py`) and loads with `dgl.load_graphs`.
    #[test]
    fn partition_graph_matches_spec_example() {
        let want: &[u8] = include_bytes!("testdata/spec_6_7_graph.dgl");
        let src = [0i64, 1];
        let dst = [1i64, 2];
        let nid = [0i64, 1, 2];
        let inner = [1u8, 1, 1];
        let eid = [0i64, 1];
        let einner = [1u8, 1];
        let g = GraphRef {
            ntypes: vec!["_N"],
            num_nodes: vec![3],
            relations: vec![RelationRef {
                name: "_E",
                src_type: 0,
                dst_type: 0,
                src: Ids::I64(&src),
                dst: Ids::I64(&dst),
            }],
            node_data: vec![vec![
                NamedArray::new("_ID", ArrayRef::slice(&nid)),
                NamedArray::new("inner_node", ArrayRef::slice(&inner)),
            ]],
            edge_data: vec![vec![
                NamedArray::new("_ID", ArrayRef::slice(&eid)),
                NamedArray::new("inner_edge", ArrayRef::slice(&einner)),
            ]],
            formats: Formats::COO,
        };
        let mut out = Vec::new();
        write_graph(&mut out, &g).unwrap();
        assert_eq!(out.len(), 0x143F);
        // Spot checks from the annotation.
        assert_eq!(
            &out[0x1000..0x1010],
            &hex("1010000000000000 0000000000000000")[..]
        );
        assert_eq!(
            &out[0x10E9..0x1109],
            &hex("0100000000000000 27A1B4F6F0602EDD 0100000001000000 0700000001000000")[..]
        );
        assert_eq!(&out[0x1109..0x11DA], &out[0x1018..0x10E9]);
        assert_eq!(
            &out[0x12A4..0x12B4],
            &hex("0100000000000000 0300000000000000")[..]
        );
        assert_eq!(out, want);

        let back = read_graph(&out).unwrap();
        assert_eq!(back.ntypes, vec!["_N"]);
        assert_eq!(back.etypes, vec!["_E"]);
        assert_eq!(back.num_nodes, vec![3]);
        let (_, coo) = back.relations[0].coo.as_ref().unwrap();
        assert_eq!(
            (coo.row.as_slice(), coo.col.as_slice()),
            (&src[..], &dst[..])
        );
        assert_eq!(back.node_data[0][1].0, "inner_node");
        assert_eq!(back.node_data[0][1].1.as_slice::<u8>().unwrap(), &inner);
    }

    #[test]
    fn csc_rows_are_in_edge_id_order() {
        // dst 2 has in-edges 0 (from 1), 2 (from 0) and 3 (from 1): listed in that order.
        let src = [1i64, 2, 0, 1];
        let dst = [2i64, 0, 2, 2];
        let g = GraphRef {
            ntypes: vec!["_N"],
            num_nodes: vec![3],
            relations: vec![RelationRef {
                name: "_E",
                src_type: 0,
                dst_type: 0,
                src: Ids::I64(&src),
                dst: Ids::I64(&dst),
            }],
            node_data: vec![vec![]],
            edge_data: vec![vec![]],
            formats: Formats {
                coo: true,
                csr: true,
                csc: true,
            },
        };
        let mut out = Vec::new();
        write_graph(&mut out, &g).unwrap();
        let back = read_graph(&out).unwrap();
        let rel = &back.relations[0];
        assert_eq!(rel.save_formats, 7);
        let (_, csc) = rel.csc.as_ref().unwrap();
        assert_eq!(csc.indptr, vec![0, 1, 1, 4]);
        assert_eq!(csc.indices, vec![2, 1, 0, 1]);
        assert_eq!(csc.data, vec![1, 0, 2, 3]);
        let (_, csr) = rel.csr.as_ref().unwrap();
        assert_eq!(csr.indptr, vec![0, 1, 3, 4]);
        assert_eq!(csr.indices, vec![2, 2, 2, 0]);
        assert_eq!(csr.data, vec![2, 0, 3, 1]);
    }

    #[test]
    fn out_of_range_endpoint_is_an_error() {
        let src = [0i64, 5];
        let dst = [1i64, 1];
        let g = GraphRef {
            ntypes: vec!["_N"],
            num_nodes: vec![3],
            relations: vec![RelationRef {
                name: "_E",
                src_type: 0,
                dst_type: 0,
                src: Ids::I64(&src),
                dst: Ids::I64(&dst),
            }],
            node_data: vec![vec![]],
            edge_data: vec![vec![]],
            formats: Formats::COO,
        };
        let err = write_graph(&mut Vec::new(), &g).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn reader_rejects_garbage() {
        assert!(read_graph(&[0u8; 100]).is_err());
        assert!(read_tensor_dict(&[0u8; 10]).is_err());
        let mut out = Vec::new();
        write_tensor_dict(&mut out, &[]).unwrap();
        out.push(0);
        assert!(read_tensor_dict(&out).is_err());
    }
}
