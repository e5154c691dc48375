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
use std::path::Path;
use std::sync::Arc;

use super::array::{ArraySource, Ids, NamedArray};
use super::{map_file, ByteCursor, FormatError, ParseResult};
use crate::error::{Error, Result};
use crate::graph::csr::Compressed;
use crate::tensor::{Bytes, DType, SharedBuf, Tensor};

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
pub fn write_ndarray<W: Write>(w: &mut W, a: &ArraySource<'_>) -> io::Result<()> {
    if a.shape.is_empty() {
        return Err(invalid("0-dim arrays cannot be stored in DGL files"));
    }
    let (code, bits) = dgl_code_bits(a.dtype);
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
    write_ndarray(w, &ArraySource::slice::<i64>(&[]))
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

/// Counting sort of the entries `(rows[e], cols[e])` by row, stable in `e` (the shared kernel
/// of [`crate::graph::csr`]). Fails if a row or column is out of range.
fn compress(
    num_rows: usize,
    num_cols: usize,
    rows: Ids<'_>,
    cols: Ids<'_>,
) -> io::Result<Compressed> {
    crate::graph::csr::compress(
        num_rows,
        num_cols,
        rows.len(),
        |e| rows.get(e),
        |e| cols.get(e),
    )
    .map_err(invalid)
}

/// `aten::CSRMatrix::Save` (`num_cols` before `num_rows`; `sorted` written as 0).
fn write_csr<W: Write>(w: &mut W, m: &Compressed) -> io::Result<()> {
    put_u64(w, MAGIC_CSR)?;
    put_i64(w, usize_i64(m.num_cols))?;
    put_i64(w, usize_i64(m.num_rows))?;
    write_ndarray(w, &ArraySource::slice(&m.indptr))?;
    write_ndarray(w, &ArraySource::slice(&m.indices))?;
    write_ndarray(w, &ArraySource::slice(&m.eids))?;
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
        write_ndarray(w, &ArraySource::ids(rel.src))?;
        write_ndarray(w, &ArraySource::ids(rel.dst))?;
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
// Reader (mapped, zero-copy, bounds-checked)
// ---------------------------------------------------------------------------------------------

/// DGL `DGLDataType` (code, bits) of a dtype: code 0 = int, 1 = uint, 2 = float.
pub fn dgl_code_bits(dtype: DType) -> (u8, u8) {
    let code = match dtype {
        DType::I8 | DType::I16 | DType::I32 | DType::I64 => 0,
        DType::U8 => 1,
        DType::F16 | DType::F32 | DType::F64 => 2,
    };
    (code, (dtype.size() * 8) as u8)
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

/// A 1-D int64 index array read from a file: a view into the file's mapping. Elements are read
/// with unaligned loads, so the view works wherever the record starts.
#[derive(Debug)]
pub struct IdArray(Tensor);

impl IdArray {
    pub fn len(&self) -> usize {
        self.0.rows()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i`. Panics if `i >= len()`, like slice indexing.
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        match self.0.get::<i64>(i) {
            Some(v) => v,
            None => panic!(
                "index {i} out of range for an index array of {}",
                self.len()
            ),
        }
    }
    /// The values (borrowed when the record happens to be 8-byte aligned, else copied).
    pub fn values(&self) -> std::borrow::Cow<'_, [i64]> {
        self.0
            .values::<i64>()
            .unwrap_or(std::borrow::Cow::Borrowed(&[]))
    }
    pub fn to_vec(&self) -> Vec<i64> {
        self.values().into_owned()
    }
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.0
            .bytes()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
    }
    /// The underlying int64 tensor.
    pub fn tensor(&self) -> &Tensor {
        &self.0
    }
}

/// A compressed sparse matrix read from a file.
#[derive(Debug)]
pub struct CsrMatrix {
    pub num_rows: i64,
    pub num_cols: i64,
    pub indptr: IdArray,
    pub indices: IdArray,
    pub data: IdArray,
    pub sorted: bool,
}

/// A COO matrix read from a file (`data` empty = edge `i` is entry `i`).
#[derive(Debug)]
pub struct CooMatrix {
    pub num_rows: i64,
    pub num_cols: i64,
    pub row: IdArray,
    pub col: IdArray,
    pub data: IdArray,
    pub row_sorted: bool,
    pub col_sorted: bool,
}

/// One relation's `UnitGraph`: each present format with its unit metagraph.
#[derive(Debug, Default)]
pub struct UnitGraphFile {
    pub save_formats: u32,
    pub allowed_formats: u32,
    pub coo: Option<(CsrMatrix, CooMatrix)>,
    pub csr: Option<(CsrMatrix, CsrMatrix)>,
    pub csc: Option<(CsrMatrix, CsrMatrix)>,
}

/// The content of a one-graph `dgl.save_graphs` file. Index arrays and data tensors are views
/// into the file's mapping.
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

/// Smallest possible NDArray record (a 0-dim header): bounds the plausible count of a list.
const MIN_NDARRAY: usize = 48;

/// Parses DGL records out of a shared buffer; tensors are views into it.
struct Reader<'a> {
    c: ByteCursor<'a>,
    buf: &'a Arc<SharedBuf>,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a Arc<SharedBuf>) -> Self {
        Reader {
            c: ByteCursor::new(buf),
            buf,
        }
    }

    /// dmlc string: `u64 len` + UTF-8 bytes.
    fn str(&mut self, what: &str) -> ParseResult<String> {
        let n = self.c.count(1, what)?;
        let at = self.c.pos();
        let s = self.c.take(n, what)?;
        String::from_utf8(s.to_vec())
            .map_err(|_| FormatError::new(at, format!("{what} is not valid UTF-8")))
    }

    fn ndarray(&mut self) -> ParseResult<Tensor> {
        let at = self.c.pos();
        self.c.magic(MAGIC_NDARRAY, "NDArray")?;
        let _reserved = self.c.u64("NDArray header")?;
        let dev = self.c.i32("NDArray device type")?;
        let _dev_id = self.c.i32("NDArray device id")?;
        if dev != 1 {
            return Err(FormatError::new(
                at,
                format!("NDArray device type {dev}, expected 1 (CPU)"),
            ));
        }
        let ndim = self.c.i32("NDArray ndim")?;
        let code = self.c.u8("NDArray dtype code")?;
        let bits = self.c.u8("NDArray dtype bits")?;
        let lanes = self.c.u16("NDArray dtype lanes")?;
        if lanes != 1 || !(0..=32).contains(&ndim) {
            return Err(FormatError::new(
                at,
                format!("unsupported NDArray lanes {lanes} / ndim {ndim}"),
            ));
        }
        let dtype = dtype_from_dgl(code, bits).ok_or_else(|| {
            FormatError::new(at, format!("unsupported dtype code {code} bits {bits}"))
        })?;
        let mut shape = Vec::with_capacity(ndim as usize);
        for _ in 0..ndim {
            let d = self.c.i64("NDArray shape")?;
            shape
                .push(usize::try_from(d).map_err(|_| {
                    FormatError::new(at, format!("negative NDArray dimension {d}"))
                })?);
        }
        let nbytes = self.c.i64("NDArray data_byte_size")?;
        let want = shape
            .iter()
            .try_fold(dtype.size(), |a, &d| a.checked_mul(d));
        if want.is_none() || want != usize::try_from(nbytes).ok() {
            return Err(FormatError::new(
                at,
                format!("NDArray data_byte_size {nbytes} does not match shape {shape:?}"),
            ));
        }
        let range = self.c.span(nbytes as usize, "NDArray data")?;
        if shape.is_empty() {
            // DGL writes 0-dim arrays for scalars; graphprep's tensors have a row axis.
            shape.push(1);
        }
        Ok(Tensor {
            dtype,
            shape,
            data: Bytes::Shared {
                buf: Arc::clone(self.buf),
                range,
            },
        })
    }

    fn id_array(&mut self, what: &str) -> ParseResult<IdArray> {
        let at = self.c.pos();
        let t = self.ndarray()?;
        if t.dtype != DType::I64 || t.shape.len() != 1 {
            return Err(FormatError::new(
                at,
                format!(
                    "{what}: expected a 1-D int64 index array, got {} {:?}",
                    t.dtype.name(),
                    t.shape
                ),
            ));
        }
        Ok(IdArray(t))
    }

    fn tensor_list(&mut self) -> ParseResult<Vec<(String, Tensor)>> {
        let n = self.c.count(8 + MIN_NDARRAY, "tensor list length")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str("tensor name")?;
            out.push((name, self.ndarray()?));
        }
        Ok(out)
    }

    fn dims(&mut self, what: &str) -> ParseResult<(i64, i64)> {
        let at = self.c.pos();
        let num_cols = self.c.i64(what)?;
        let num_rows = self.c.i64(what)?;
        if num_cols < 0 || num_rows < 0 {
            return Err(FormatError::new(
                at,
                format!("{what}: negative shape {num_rows} x {num_cols}"),
            ));
        }
        Ok((num_rows, num_cols))
    }

    fn csr(&mut self) -> ParseResult<CsrMatrix> {
        let at = self.c.pos();
        self.c.magic(MAGIC_CSR, "CSRMatrix")?;
        let (num_rows, num_cols) = self.dims("CSRMatrix shape")?;
        let m = CsrMatrix {
            num_rows,
            num_cols,
            indptr: self.id_array("CSR indptr")?,
            indices: self.id_array("CSR indices")?,
            data: self.id_array("CSR data")?,
            sorted: self.c.u8("CSR sorted flag")? != 0,
        };
        let nnz = m.indices.len();
        let last = if m.indptr.is_empty() {
            None
        } else {
            Some(m.indptr.get(m.indptr.len() - 1))
        };
        if m.indptr.len() as i64 != num_rows + 1
            || (!m.data.is_empty() && m.data.len() != nnz)
            || m.indptr.get(0) != 0
            || last != Some(nnz as i64)
        {
            return Err(FormatError::new(
                at,
                format!(
                    "inconsistent CSRMatrix: {num_rows} rows, indptr of {}, {nnz} indices, \
                     {} data",
                    m.indptr.len(),
                    m.data.len()
                ),
            ));
        }
        Ok(m)
    }

    fn coo(&mut self) -> ParseResult<CooMatrix> {
        let at = self.c.pos();
        self.c.magic(MAGIC_COO, "COOMatrix")?;
        let (num_rows, num_cols) = self.dims("COOMatrix shape")?;
        let m = CooMatrix {
            num_rows,
            num_cols,
            row: self.id_array("COO row")?,
            col: self.id_array("COO col")?,
            data: self.id_array("COO data")?,
            row_sorted: self.c.u8("COO row_sorted flag")? != 0,
            col_sorted: self.c.u8("COO col_sorted flag")? != 0,
        };
        if m.row.len() != m.col.len() || (!m.data.is_empty() && m.data.len() != m.row.len()) {
            return Err(FormatError::new(
                at,
                format!(
                    "inconsistent COOMatrix: {} rows, {} cols, {} data entries",
                    m.row.len(),
                    m.col.len(),
                    m.data.len()
                ),
            ));
        }
        Ok(m)
    }

    fn imgraph(&mut self) -> ParseResult<CsrMatrix> {
        self.c.magic(MAGIC_IMGRAPH, "ImmutableGraph")?;
        self.csr()
    }

    fn strings(&mut self, what: &str) -> ParseResult<Vec<String>> {
        let n = self.c.count(8, &format!("{what} count"))?;
        (0..n).map(|_| self.str(what)).collect()
    }
}

fn parse_tensor_dict(buf: &Arc<SharedBuf>) -> ParseResult<Vec<(String, Tensor)>> {
    let mut r = Reader::new(buf);
    r.c.magic(MAGIC_TENSOR_FILE, "tensor dict")?;
    let at = r.c.pos();
    let n = r.c.u64("tensor dict entry count")?;
    let list = r.tensor_list()?;
    if list.len() as u64 != n {
        return Err(FormatError::new(
            at,
            format!("tensor dict announces {n} entries but holds {}", list.len()),
        ));
    }
    r.c.expect_end("the tensor dict")?;
    Ok(list)
}

fn parse_graph(buf: &Arc<SharedBuf>) -> ParseResult<GraphFile> {
    let mut r = Reader::new(buf);
    r.c.magic(MAGIC_GRAPH_FILE, "graph file")?;
    let at = r.c.pos();
    let version = r.c.u64("graph file version")?;
    let gtype = r.c.u64("graph file type")?;
    let ngraphs = r.c.u64("graph count")?;
    if (version, gtype, ngraphs) != (2, 2, 1) {
        return Err(FormatError::new(
            at,
            format!("unsupported graph file: version {version}, type {gtype}, {ngraphs} graphs"),
        ));
    }
    r.c.seek(HEADER_BLOCK)?;
    let start = r.c.u64("gdata_start_pos")?;
    let at = r.c.pos();
    let labels = r.tensor_list()?;
    if r.c.pos() as u64 != start || !labels.is_empty() {
        return Err(FormatError::new(at, "graph labels are not supported"));
    }
    r.c.magic(MAGIC_HETEROGRAPH, "HeteroGraph")?;
    let metagraph = r.imgraph()?;
    let at = r.c.pos();
    let nrel = r.c.count(24, "relation count")?;
    if nrel != metagraph.indices.len() {
        return Err(FormatError::new(
            at,
            format!(
                "{nrel} relations but the metagraph has {} edges",
                metagraph.indices.len()
            ),
        ));
    }
    let mut relations = Vec::with_capacity(nrel);
    for _ in 0..nrel {
        r.c.magic(MAGIC_UNITGRAPH, "UnitGraph")?;
        let at = r.c.pos();
        let save = r.c.i64("UnitGraph formats")?;
        let allowed = r.c.i64("UnitGraph formats")?;
        if save >> 32 != 1 || allowed >> 32 != 1 {
            return Err(FormatError::new(
                at,
                "legacy UnitGraph format codes are not supported",
            ));
        }
        let mut u = UnitGraphFile {
            save_formats: (save & 0xffff_ffff) as u32,
            allowed_formats: (allowed & 0xffff_ffff) as u32,
            ..Default::default()
        };
        if u.save_formats & 1 != 0 {
            u.coo = Some((r.imgraph()?, r.coo()?));
        }
        if u.save_formats & 2 != 0 {
            u.csr = Some((r.imgraph()?, r.csr()?));
        }
        if u.save_formats & 4 != 0 {
            u.csc = Some((r.imgraph()?, r.csr()?));
        }
        if u.coo.is_none() && u.csr.is_none() && u.csc.is_none() {
            return Err(FormatError::new(at, "UnitGraph stores no sparse format"));
        }
        relations.push(u);
    }
    let at = r.c.pos();
    let nt = r.c.count(8, "node type count")?;
    let num_nodes = (0..nt)
        .map(|_| r.c.i64("node count"))
        .collect::<ParseResult<Vec<_>>>()?;
    if num_nodes.iter().any(|&n| n < 0) || nt as i64 != metagraph.num_rows {
        return Err(FormatError::new(
            at,
            format!(
                "node counts {num_nodes:?} do not fit a metagraph of {} node types",
                metagraph.num_rows
            ),
        ));
    }
    let n = r.c.count(8, "node data count")?;
    let node_data = (0..n)
        .map(|_| r.tensor_list())
        .collect::<ParseResult<Vec<_>>>()?;
    let n = r.c.count(8, "edge data count")?;
    let edge_data = (0..n)
        .map(|_| r.tensor_list())
        .collect::<ParseResult<Vec<_>>>()?;
    let ntypes = r.strings("node type name")?;
    let etypes = r.strings("edge type name")?;
    let at = r.c.pos();
    let mut trailer = [0u64; 4];
    for t in &mut trailer {
        *t = r.c.u64("graph file trailer")?;
    }
    if trailer != [16, 1, start, 16] {
        return Err(FormatError::new(at, format!("bad trailer {trailer:?}")));
    }
    r.c.expect_end("the graph file trailer")?;
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

/// Parses a tensor-dict file's bytes into `(name, tensor)` pairs in file order (the bytes are
/// copied once into a buffer the tensors share).
///
/// ```
/// use graphprep::format::array::{ArraySource, NamedArray};
/// use graphprep::format::dgl::{read_tensor_dict, write_tensor_dict};
///
/// let mut bytes = Vec::new();
/// let w = [0.5f32, 1.5, 2.5];
/// write_tensor_dict(&mut bytes, &[NamedArray::new("w", ArraySource::slice(&w))]).unwrap();
/// let back = read_tensor_dict(&bytes).unwrap();
/// assert_eq!(back[0].0, "w");
/// assert_eq!(back[0].1.values::<f32>().unwrap().as_ref(), &w);
/// // A truncated file is an error at a byte offset, not a panic.
/// let err = read_tensor_dict(&bytes[..bytes.len() - 1]).unwrap_err();
/// assert!(err.msg.contains("truncated"), "{err}");
/// ```
pub fn read_tensor_dict(bytes: &[u8]) -> ParseResult<Vec<(String, Tensor)>> {
    parse_tensor_dict(&Arc::new(SharedBuf::Heap(bytes.to_vec())))
}

/// Parses a one-graph `dgl.save_graphs` file's bytes (copied once into a shared buffer).
pub fn read_graph(bytes: &[u8]) -> ParseResult<GraphFile> {
    parse_graph(&Arc::new(SharedBuf::Heap(bytes.to_vec())))
}

/// Maps and parses a graph file; its arrays are views into the mapping. Errors name the file
/// and the byte offset.
pub fn load_graph(path: &Path) -> Result<GraphFile> {
    parse_graph(&map_file(path)?).map_err(|e| e.at(path))
}

/// Maps and parses a tensor-dict file; its tensors are views into the mapping. Errors name the
/// file and the byte offset.
pub fn load_tensor_dict(path: &Path) -> Result<Vec<(String, Tensor)>> {
    parse_tensor_dict(&map_file(path)?).map_err(|e| e.at(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::array::GEN_BLOCK;
    use crate::tensor::Tensor;

    #[test]
    fn one_hot_and_generated_arrays_write_like_dense_ones() {
        // 5 rows × 70 columns (wider than one row per chunk is not needed; several rows per
        // chunk and a multi-hot row).
        let cols = vec![3, 69, 0, 1, 2, 5];
        let offsets = vec![0, 1, 2, 2, 5, 6];
        let oh = Tensor::one_hot(crate::tensor::OneHot::new(70, offsets, cols));
        let dense = Tensor::from_vec(vec![5, 70], oh.as_slice::<i8>().unwrap().to_vec());
        let rows = [4u32, 0, 3];
        let write = |a: ArraySource<'_>| {
            let mut v = Vec::new();
            write_ndarray(&mut v, &a).unwrap();
            v
        };
        assert_eq!(
            write(ArraySource::tensor(&oh)),
            write(ArraySource::tensor(&dense))
        );
        assert_eq!(
            write(ArraySource::gather(&oh, Ids::U32(&rows))),
            write(ArraySource::gather(&dense, Ids::U32(&rows)))
        );
        let ids: Vec<i64> = (7..7 + 3 * GEN_BLOCK as i64 / 2).collect();
        assert_eq!(
            write(ArraySource::ids(Ids::Range {
                start: 7,
                len: ids.len()
            })),
            write(ArraySource::slice(&ids))
        );
        let runs = [(2u64, 1i64), (0, 9), (3, 4)];
        assert_eq!(
            write(ArraySource::runs(DType::I32, &runs)),
            write(ArraySource::slice(&[1i32, 1, 4, 4, 4]))
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
            &[NamedArray::new("_N/feat", ArraySource::tensor(&t))],
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
        assert_eq!(back[0].1.values::<f32>().unwrap().as_ref(), &[1.0, 2.0]);
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
            NamedArray::new("x", ArraySource::slice(&a)),
            NamedArray::new("x", ArraySource::slice(&a)),
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
        let a = ArraySource::gather(&t, Ids::U32(&order));
        assert_eq!(a.nbytes(), (n * 7 * 4) as u64);
        let mut got = Vec::new();
        a.write_data(&mut got).unwrap();
        let idx: Vec<usize> = order.iter().map(|&i| i as usize).collect();
        assert_eq!(got, t.gather_rows(&idx).bytes());

        let ids: Vec<u32> = (0..20000).map(|i| i * 3).collect();
        let mut got = Vec::new();
        ArraySource::ids(Ids::U32(&ids))
            .write_data(&mut got)
            .unwrap();
        let want: Vec<u8> = ids
            .iter()
            .flat_map(|&i| i64::from(i).to_le_bytes())
            .collect();
        assert_eq!(got, want);
    }

    /// A 3-node, one-relation partition-style graph over `src -> dst`, without data.
    fn homogeneous<'a>(src: &'a [i64], dst: &'a [i64], formats: Formats) -> GraphRef<'a> {
        GraphRef {
            ntypes: vec!["_N"],
            num_nodes: vec![3],
            relations: vec![RelationRef {
                name: "_E",
                src_type: 0,
                dst_type: 0,
                src: Ids::I64(src),
                dst: Ids::I64(dst),
            }],
            node_data: vec![vec![]],
            edge_data: vec![vec![]],
            formats,
        }
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
        let mut g = homogeneous(&src, &dst, Formats::COO);
        g.node_data = vec![vec![
            NamedArray::new("_ID", ArraySource::slice(&nid)),
            NamedArray::new("inner_node", ArraySource::slice(&inner)),
        ]];
        g.edge_data = vec![vec![
            NamedArray::new("_ID", ArraySource::slice(&eid)),
            NamedArray::new("inner_edge", ArraySource::slice(&einner)),
        ]];
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
            (coo.row.to_vec(), coo.col.to_vec()),
            (src.to_vec(), dst.to_vec())
        );
        assert_eq!(back.node_data[0][1].0, "inner_node");
        assert_eq!(
            back.node_data[0][1].1.values::<u8>().unwrap().as_ref(),
            &inner
        );
    }

    #[test]
    fn csc_rows_are_in_edge_id_order() {
        // dst 2 has in-edges 0 (from 1), 2 (from 0) and 3 (from 1): listed in that order.
        let src = [1i64, 2, 0, 1];
        let dst = [2i64, 0, 2, 2];
        let g = homogeneous(
            &src,
            &dst,
            Formats {
                coo: true,
                csr: true,
                csc: true,
            },
        );
        let mut out = Vec::new();
        write_graph(&mut out, &g).unwrap();
        let back = read_graph(&out).unwrap();
        let rel = &back.relations[0];
        assert_eq!(rel.save_formats, 7);
        let (_, csc) = rel.csc.as_ref().unwrap();
        assert_eq!(csc.indptr.to_vec(), vec![0, 1, 1, 4]);
        assert_eq!(csc.indices.to_vec(), vec![2, 1, 0, 1]);
        assert_eq!(csc.data.to_vec(), vec![1, 0, 2, 3]);
        let (_, csr) = rel.csr.as_ref().unwrap();
        assert_eq!(csr.indptr.to_vec(), vec![0, 1, 3, 4]);
        assert_eq!(csr.indices.to_vec(), vec![2, 2, 2, 0]);
        assert_eq!(csr.data.to_vec(), vec![2, 0, 3, 1]);
    }

    #[test]
    fn out_of_range_endpoint_is_an_error() {
        let src = [0i64, 5];
        let dst = [1i64, 1];
        let g = homogeneous(&src, &dst, Formats::COO);
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
