//! A chunked-format graph read back (`distdgl-format.md` §10.1): graphprep's own
//! `--output-format chunked` folder or GraphStorm's GSProcessing output, into a checked
//! [`Graph`] that the output stage ([`crate::pipeline::output`]) partitions and writes.
//!
//! Read as DGL's pipeline reads it: the edge files of a type, concatenated in listed order,
//! are its edges (edge ID = row); the files of a data array, concatenated in listed order, are
//! its rows (node or edge ID = row). Node IDs in edge files are per-type IDs.
//!
//! * Edges: Parquet (exactly two integer columns, any names: source, destination) or text
//!   files with one `src dst` pair per line (DGL's `csv` with a space delimiter).
//! * Data: `.npy` files, or Parquet files holding either one `list<>` column (one row = one
//!   vector, GSProcessing's layout for Spark ML vectors) or K scalar columns of one type (rows
//!   × K); a `shape` entry in the Parquet schema metadata (GSProcessing writes `"(1,)"` for
//!   its one-row label files) gives the file's array shape, as DGL applies it. One dtype and
//!   one row shape per array across its files, else an error (DGL would concatenate them
//!   silently into garbage).
//! * `row_counts` (GSProcessing) and `num_edges_per_type` are checked against the files.
//! * Raw ID maps: the `raw_id_mappings` files listed in `metadata.json` (GSProcessing's
//!   Spark part files, graphprep's `part-NNNNN.parquet`), `orig`/`new` columns, any row order.
//! * The `graphprep` key written by graphprep's writer carries what the chunked format has no
//!   place for: hard-negative features and the homogeneous flag.
//!
//! Every error names the file, and the row or JSON path where that applies.
//!
//! # Memory
//! The data arrays go through the run's [`Store`] (they spill beyond the budget like
//! `construct`'s); per array, the decoded files in flight (one per thread) on top. Edge lists
//! are `u32` pairs (8 bytes per edge), raw ID maps their Arrow columns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::chunked::{FileFormat, FileSet, Metadata};
use crate::graph::{CanonicalEtype, EdgeList, Graph, GraphParts, NamedTensor};
use crate::tensor::{DType, Element, Tensor};
use crate::workspace::spill::{OutBuf, Store};

/// A chunked graph as read: the graph (types in DGL's sorted order, per-type IDs as in the
/// files), the metadata and the raw IDs per node type.
pub struct ChunkedGraph {
    pub graph: Graph,
    pub metadata: Metadata,
    /// Folder of `metadata.json`.
    pub dir: PathBuf,
    /// Raw IDs per node type, row `i` = the raw ID of node `i` (types with a raw ID map only).
    pub raw_ids: BTreeMap<String, ArrayRef>,
}

/// `dir/metadata.json`, or `dir` itself when it names the file.
fn metadata_path(dir: &Path) -> (PathBuf, PathBuf) {
    if dir.is_file() {
        let parent = dir.parent().unwrap_or(Path::new(".")).to_path_buf();
        (parent, dir.to_path_buf())
    } else {
        (dir.to_path_buf(), dir.join("metadata.json"))
    }
}

/// Opens the chunked graph in `dir` (the folder holding `metadata.json`, or the file).
pub fn open(dir: &Path, store: &Store) -> Result<ChunkedGraph> {
    let (dir, meta_path) = metadata_path(dir);
    if !meta_path.is_file() {
        return Err(Error::input(
            &meta_path,
            "not found: --input-dir must be a chunked-format folder (DGL's chunked graph \
             format, as `construct --output-format chunked` writes into <out>/chunked/ or \
             GSProcessing writes), holding metadata.json",
        ));
    }
    let meta = Metadata::load(&meta_path)?;
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };

    // node types, sorted (DGL's order); per-type IDs stay what they are
    let mut ntypes = meta.node_type.clone();
    ntypes.sort();
    for w in ntypes.windows(2) {
        if w[0] == w[1] {
            return Err(Error::input(
                &meta_path,
                format!("node_type: '{}' is listed twice", w[0]),
            ));
        }
    }
    let num_nodes: Vec<u64> = ntypes
        .iter()
        .map(|t| {
            let i = meta.node_type.iter().position(|x| x == t).expect("listed");
            meta.num_nodes_per_type[i]
        })
        .collect();
    let nt_index = |t: &str| ntypes.iter().position(|x| x == t);

    // edge types
    let mut parsed = Vec::new();
    for (i, key) in meta.edge_type.iter().enumerate() {
        let parts: Vec<&str> = key.split(':').collect();
        let [s, r, d] = parts[..] else {
            return Err(Error::input(
                &meta_path,
                format!("edge_type[{i}]: '{key}' is not 'src:relation:dst'"),
            ));
        };
        for t in [s, d] {
            if nt_index(t).is_none() {
                return Err(Error::input(
                    &meta_path,
                    format!("edge_type[{i}]: '{key}' names node type '{t}', which `node_type` does not list"),
                ));
            }
        }
        parsed.push((CanonicalEtype::new(s, r, d), i));
    }
    parsed.sort();
    for w in parsed.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::input(
                &meta_path,
                format!("edge_type: '{}' is listed twice", w[0].0.colon_key()),
            ));
        }
    }
    let etypes: Vec<CanonicalEtype> = parsed.iter().map(|(e, _)| e.clone()).collect();

    let mut edges = Vec::with_capacity(etypes.len());
    for (et, i) in &parsed {
        let key = &meta.edge_type[*i];
        let (_, fs) = &meta.edges[*i];
        let at = format!("edges.{key}");
        let ns = num_nodes[nt_index(&et.src).expect("checked")];
        let nd = num_nodes[nt_index(&et.dst).expect("checked")];
        let list = read_edges(fs, &resolve, &meta_path, &at, (ns, nd))?;
        if let Some(c) = &meta.num_edges_per_type {
            if c[*i] != list.len() as u64 {
                return Err(Error::input(
                    &meta_path,
                    format!(
                        "num_edges_per_type[{i}] ({key}) is {}, but its edge files hold {} edges",
                        c[*i],
                        list.len()
                    ),
                ));
            }
        }
        edges.push(list);
    }

    let mut node_data: Vec<Vec<NamedTensor>> = (0..ntypes.len()).map(|_| Vec::new()).collect();
    for (ty, feats) in &meta.node_data {
        let t = nt_index(ty).expect("Metadata::parse checks node_data types");
        for (name, fs) in feats {
            let at = format!("node_data.{ty}.{name}");
            let tensor = read_data(fs, &resolve, &meta_path, &at, num_nodes[t], store)?;
            node_data[t].push(NamedTensor {
                name: name.clone(),
                tensor,
            });
        }
    }
    let mut edge_data: Vec<Vec<NamedTensor>> = (0..etypes.len()).map(|_| Vec::new()).collect();
    for (key, feats) in &meta.edge_data {
        let i = meta
            .edge_type
            .iter()
            .position(|k| k == key)
            .expect("checked");
        let r = parsed.iter().position(|(_, j)| *j == i).expect("listed");
        for (name, fs) in feats {
            let at = format!("edge_data.{key}.{name}");
            let rows = edges[r].len() as u64;
            let tensor = read_data(fs, &resolve, &meta_path, &at, rows, store)?;
            edge_data[r].push(NamedTensor {
                name: name.clone(),
                tensor,
            });
        }
    }

    // what graphprep's writer adds
    let ours = meta.extra.get("graphprep");
    let mut hard_negatives = vec![Vec::new(); etypes.len()];
    if let Some(hn) = ours
        .and_then(|g| g.get("hard_negatives"))
        .and_then(|v| v.as_object())
    {
        for (key, names) in hn {
            let Some(r) = etypes.iter().position(|e| e.colon_key() == *key) else {
                return Err(Error::input(
                    &meta_path,
                    format!("graphprep.hard_negatives.{key}: not an edge type of the graph"),
                ));
            };
            let names = names.as_array().map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            });
            hard_negatives[r] = names.ok_or_else(|| {
                Error::input(
                    &meta_path,
                    format!("graphprep.hard_negatives.{key}: expected a list of feature names"),
                )
            })?;
        }
    }
    let homogeneous_names = ntypes == ["_N"] && etypes == [CanonicalEtype::new("_N", "_E", "_N")];
    let is_homogeneous = ours
        .and_then(|g| g.get("is_homogeneous"))
        .and_then(|v| v.as_bool())
        .unwrap_or(homogeneous_names)
        && homogeneous_names;

    let mut raw_ids = BTreeMap::new();
    for (ty, fs) in &meta.raw_id_mappings {
        let at = format!("raw_id_mappings.{ty}");
        let Some(t) = nt_index(ty) else {
            return Err(Error::input(
                &meta_path,
                format!("{at}: '{ty}' is not a node type listed in `node_type`"),
            ));
        };
        raw_ids.insert(
            ty.clone(),
            read_raw_ids(fs, &resolve, &meta_path, &at, num_nodes[t])?,
        );
    }

    let graph = Graph::new(GraphParts {
        ntypes,
        num_nodes,
        etypes,
        edges,
        node_data,
        edge_data,
        hard_negatives,
        is_homogeneous,
    })
    .map_err(|e| {
        Error::input(
            &meta_path,
            format!("the graph it describes is invalid: {e}"),
        )
    })?;
    Ok(ChunkedGraph {
        graph,
        metadata: meta,
        dir,
        raw_ids,
    })
}

/// Checks a file list's `row_counts` against what each file holds.
fn check_row_counts(fs: &FileSet, rows: &[u64], meta: &Path, at: &str) -> Result<()> {
    if let Some(rc) = &fs.row_counts {
        for (k, (&want, &got)) in rc.iter().zip(rows).enumerate() {
            if want != got {
                return Err(Error::input(
                    meta,
                    format!(
                        "{at}.row_counts[{k}] is {want}, but {} holds {got} rows",
                        fs.data[k]
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn open_parquet(
    path: &Path,
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<std::fs::File>> {
    let file =
        std::fs::File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::input(path, format!("not a readable Parquet file: {e}")))
}

/// All record batches of a Parquet file.
fn read_parquet(
    path: &Path,
) -> Result<(
    arrow::datatypes::SchemaRef,
    Vec<arrow::record_batch::RecordBatch>,
)> {
    let b = open_parquet(path)?;
    let schema = b.schema().clone();
    let reader = b
        .with_batch_size(1 << 16)
        .build()
        .map_err(|e| Error::input(path, format!("reading Parquet: {e}")))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::input(path, format!("reading Parquet: {e}")))?;
    Ok((schema, batches))
}

/// Reads one edge type's files (in order) and checks every endpoint against the node counts.
fn read_edges(
    fs: &FileSet,
    resolve: &(dyn Fn(&str) -> PathBuf + Sync),
    meta: &Path,
    at: &str,
    (ns, nd): (u64, u64),
) -> Result<EdgeList> {
    if fs.format == FileFormat::Numpy {
        return Err(Error::input(
            meta,
            format!("{at}.format: edge files must be parquet or csv (DGL's pipeline reads no numpy edges)"),
        ));
    }
    let parts: Vec<EdgeList> = fs
        .data
        .par_iter()
        .map(|f| {
            let path = resolve(f);
            match fs.format {
                FileFormat::Parquet => read_edge_parquet(&path, (ns, nd)),
                _ => read_edge_text(&path, (ns, nd)),
            }
        })
        .collect::<Result<_>>()?;
    let rows: Vec<u64> = parts.iter().map(|p| p.len() as u64).collect();
    check_row_counts(fs, &rows, meta, at)?;
    let total = rows.iter().sum::<u64>() as usize;
    let mut out = EdgeList {
        src: Vec::with_capacity(total),
        dst: Vec::with_capacity(total),
    };
    for p in parts {
        out.src.extend_from_slice(&p.src);
        out.dst.extend_from_slice(&p.dst);
    }
    Ok(out)
}

/// An endpoint value as a node ID below `n`, or the error text.
fn endpoint(v: i64, n: u64, side: &str) -> std::result::Result<u32, String> {
    if v < 0 || v as u64 >= n {
        Err(format!(
            "{side} node ID {v} is out of range: its type has {n} nodes (IDs 0..{n})"
        ))
    } else {
        Ok(v as u32)
    }
}

/// Appends an integer Arrow column's values, checked, to `out`; `base` is the column's first
/// row in the file (for messages).
fn push_ids(
    arr: &ArrayRef,
    n: u64,
    out: &mut Vec<u32>,
    path: &Path,
    column: &str,
    base: usize,
    side: &str,
) -> Result<()> {
    if arr.null_count() > 0 {
        let row = (0..arr.len()).find(|&i| arr.is_null(i)).unwrap_or(0);
        return Err(Error::Data {
            file: path.into(),
            row: (base + row) as u64,
            column: column.into(),
            msg: format!("missing {side} node ID"),
        });
    }
    let cast = arrow::compute::cast(arr, &DataType::Int64).map_err(|e| Error::Data {
        file: path.into(),
        row: base as u64,
        column: column.into(),
        msg: format!("{side} IDs must be integers: {e}"),
    })?;
    let v = cast.as_primitive::<arrow::datatypes::Int64Type>();
    for (i, &x) in v.values().iter().enumerate() {
        out.push(endpoint(x, n, side).map_err(|msg| Error::Data {
            file: path.into(),
            row: (base + i) as u64,
            column: column.into(),
            msg,
        })?);
    }
    Ok(())
}

fn read_edge_parquet(path: &Path, (ns, nd): (u64, u64)) -> Result<EdgeList> {
    let (schema, batches) = read_parquet(path)?;
    let cols = schema.fields();
    if cols.len() != 2 {
        return Err(Error::input(
            path,
            format!(
                "an edge file needs exactly two columns (source, destination node IDs), found {} ({})",
                cols.len(),
                cols.iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    for f in cols.iter() {
        if !f.data_type().is_integer() {
            return Err(Error::input(
                path,
                format!(
                    "column '{}' has type {}; edge endpoints must be integer node IDs",
                    f.name(),
                    f.data_type()
                ),
            ));
        }
    }
    let mut out = EdgeList::default();
    let mut base = 0;
    for b in &batches {
        push_ids(
            b.column(0),
            ns,
            &mut out.src,
            path,
            cols[0].name(),
            base,
            "source",
        )?;
        push_ids(
            b.column(1),
            nd,
            &mut out.dst,
            path,
            cols[1].name(),
            base,
            "destination",
        )?;
        base += b.num_rows();
    }
    Ok(out)
}

fn read_edge_text(path: &Path, (ns, nd): (u64, u64)) -> Result<EdgeList> {
    let text = std::fs::read(path).map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    let mut out = EdgeList::default();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = |msg: String| Error::input(path, format!("line {}: {msg}", i + 1));
        let s = std::str::from_utf8(line).map_err(|_| bad("not UTF-8 text".into()))?;
        let fields: Vec<&str> = s.split(' ').collect();
        let [a, b] = fields[..] else {
            return Err(bad(format!(
                "expected 'src dst' (two node IDs separated by one space), found '{s}'"
            )));
        };
        let parse = |f: &str, n: u64, side: &str| -> Result<u32> {
            let v: i64 = f
                .parse()
                .map_err(|_| bad(format!("{side} node ID '{f}' is not an integer")))?;
            endpoint(v, n, side).map_err(bad)
        };
        out.src.push(parse(a, ns, "source")?);
        out.dst.push(parse(b, nd, "destination")?);
    }
    Ok(out)
}

/// Rows of a data file without decoding it (npy header, Parquet footer).
fn probe_rows(format: &FileFormat, path: &Path) -> Result<u64> {
    match format {
        FileFormat::Numpy => {
            let t = crate::format::npy::load_npy(path)?;
            Ok(t.shape.first().copied().unwrap_or(1) as u64)
        }
        FileFormat::Parquet => {
            let b = open_parquet(path)?;
            let rows = b.metadata().file_metadata().num_rows() as u64;
            // a `shape` whose first axis differs from the row count (a one-row file stored
            // as `(k,)`) is one row
            match parquet_shape(b.schema(), path)? {
                Some(s) if rows == 1 => Ok(if s.len() == 1 && s[0] != 1 {
                    1
                } else {
                    s.first().copied().unwrap_or(1) as u64
                }),
                _ => Ok(rows),
            }
        }
        FileFormat::Csv => Err(Error::input(
            path,
            "node and edge data must be numpy or parquet files (DGL's pipeline reads no csv data)",
        )),
    }
}

/// The `shape` entry of a Parquet schema's metadata, e.g. `"(1,)"` or `"(5, 3)"`.
fn parquet_shape(schema: &arrow::datatypes::SchemaRef, path: &Path) -> Result<Option<Vec<usize>>> {
    let Some(s) = schema.metadata().get("shape") else {
        return Ok(None);
    };
    let inner = s
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']']);
    let dims: std::result::Result<Vec<usize>, _> = inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::parse::<usize>)
        .collect();
    match dims {
        Ok(d) if !d.is_empty() => Ok(Some(d)),
        _ => Err(Error::input(
            path,
            format!("schema metadata 'shape' is '{s}'; expected a tuple of sizes like '(1,)' or '(5, 3)'"),
        )),
    }
}

fn arrow_dtype(dt: &DataType) -> Option<DType> {
    Some(match dt {
        DataType::Int8 => DType::I8,
        DataType::UInt8 => DType::U8,
        DataType::Int16 => DType::I16,
        DataType::Int32 => DType::I32,
        DataType::Int64 => DType::I64,
        DataType::Float16 => DType::F16,
        DataType::Float32 => DType::F32,
        DataType::Float64 => DType::F64,
        _ => return None,
    })
}

/// The bytes of a primitive Arrow array (its type is one [`arrow_dtype`] accepts).
fn primitive_bytes(arr: &dyn Array) -> &[u8] {
    use arrow::datatypes as t;
    macro_rules! raw {
        ($ty:ty) => {
            bytemuck::cast_slice(arr.as_primitive::<$ty>().values().as_ref())
        };
    }
    match arr.data_type() {
        DataType::Int8 => raw!(t::Int8Type),
        DataType::UInt8 => raw!(t::UInt8Type),
        DataType::Int16 => raw!(t::Int16Type),
        DataType::Int32 => raw!(t::Int32Type),
        DataType::Int64 => raw!(t::Int64Type),
        DataType::Float16 => raw!(t::Float16Type),
        DataType::Float32 => raw!(t::Float32Type),
        DataType::Float64 => raw!(t::Float64Type),
        other => unreachable!("checked by arrow_dtype: {other}"),
    }
}

/// Decodes a Parquet data file into a tensor (see the module docs for the layouts).
fn decode_parquet_data(path: &Path) -> Result<Tensor> {
    let (schema, batches) = read_parquet(path)?;
    let fields = schema.fields();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let unsupported = |name: &str, dt: &DataType| {
        Error::input(
            path,
            format!(
                "column '{name}' has type {dt}; data columns must be int8/uint8/int16/int32/\
                 int64/float16/float32/float64 (or one list<> column of those)"
            ),
        )
    };
    let list_child = |dt: &DataType| match dt {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Some(f.data_type().clone())
        }
        _ => None,
    };
    let (dtype, mut shape, bytes) = if fields.len() == 1
        && list_child(fields[0].data_type()).is_some()
    {
        let child = list_child(fields[0].data_type()).expect("list");
        let dtype = arrow_dtype(&child).ok_or_else(|| unsupported(fields[0].name(), &child))?;
        let mut width: Option<usize> = None;
        let mut bytes = Vec::with_capacity(rows * dtype.size());
        let mut base = 0;
        for b in &batches {
            let col = b.column(0);
            let (values, lens): (ArrayRef, Vec<usize>) = match col.data_type() {
                DataType::List(_) => {
                    let l = col.as_list::<i32>();
                    let o = l.offsets();
                    let lens = o.windows(2).map(|w| (w[1] - w[0]) as usize).collect();
                    let first = o[0] as usize;
                    let last = o[o.len() - 1] as usize;
                    (l.values().slice(first, last - first), lens)
                }
                DataType::LargeList(_) => {
                    let l = col.as_list::<i64>();
                    let o = l.offsets();
                    let lens = o.windows(2).map(|w| (w[1] - w[0]) as usize).collect();
                    let first = o[0] as usize;
                    let last = o[o.len() - 1] as usize;
                    (l.values().slice(first, last - first), lens)
                }
                _ => {
                    let l = col.as_fixed_size_list();
                    let k = l.value_length() as usize;
                    (
                        l.values().slice(l.offset() * k, l.len() * k),
                        vec![k; l.len()],
                    )
                }
            };
            if col.null_count() > 0 || values.null_count() > 0 {
                let row = (0..col.len()).find(|&i| col.is_null(i)).unwrap_or(0);
                return Err(Error::Data {
                    file: path.into(),
                    row: (base + row) as u64,
                    column: fields[0].name().clone(),
                    msg: "missing value (null); data arrays need every value".into(),
                });
            }
            for (i, &k) in lens.iter().enumerate() {
                match width {
                    None => width = Some(k),
                    Some(w) if w != k => {
                        return Err(Error::Data {
                            file: path.into(),
                            row: (base + i) as u64,
                            column: fields[0].name().clone(),
                            msg: format!("list of {k} values where earlier rows have {w}; every row needs the same length"),
                        })
                    }
                    _ => {}
                }
            }
            bytes.extend_from_slice(primitive_bytes(values.as_ref()));
            base += b.num_rows();
        }
        (dtype, vec![rows, width.unwrap_or(0)], bytes)
    } else {
        let mut dtype = None;
        for f in fields.iter() {
            let d =
                arrow_dtype(f.data_type()).ok_or_else(|| unsupported(f.name(), f.data_type()))?;
            match dtype {
                None => dtype = Some(d),
                Some(x) if x != d => {
                    return Err(Error::input(
                        path,
                        format!(
                            "columns of different types ({} and {} in column '{}'); a data file's columns must share one type",
                            x.name(),
                            d.name(),
                            f.name()
                        ),
                    ))
                }
                _ => {}
            }
        }
        let Some(dtype) = dtype else {
            return Err(Error::input(path, "the file has no columns"));
        };
        let k = fields.len();
        let size = dtype.size();
        let mut bytes = vec![0u8; rows * k * size];
        let mut base = 0;
        for b in &batches {
            for (c, col) in b.columns().iter().enumerate() {
                if col.null_count() > 0 {
                    let row = (0..col.len()).find(|&i| col.is_null(i)).unwrap_or(0);
                    return Err(Error::Data {
                        file: path.into(),
                        row: (base + row) as u64,
                        column: fields[c].name().clone(),
                        msg: "missing value (null); data arrays need every value".into(),
                    });
                }
                let src = primitive_bytes(col.as_ref());
                for (i, v) in src.chunks_exact(size).enumerate() {
                    let at = ((base + i) * k + c) * size;
                    bytes[at..at + size].copy_from_slice(v);
                }
            }
            base += b.num_rows();
        }
        (dtype, vec![rows, k], bytes)
    };
    if let Some(s) = parquet_shape(&schema, path)? {
        let want: usize = s.iter().product();
        let have = shape.iter().product::<usize>();
        if want != have {
            return Err(Error::input(
                path,
                format!(
                    "schema metadata 'shape' is {s:?} ({want} values), but the file holds {have} values ({} rows × {})",
                    shape[0], shape[1]
                ),
            ));
        }
        shape = s;
        if rows == 1 && shape.len() == 1 && shape[0] != 1 {
            // a one-row file of a k-vector stored as shape (k,): one row of k values
            shape = vec![1, shape[0]];
        }
    }
    Ok(tensor_from_bytes(dtype, shape, bytes))
}

fn tensor_from_bytes(dtype: DType, shape: Vec<usize>, bytes: Vec<u8>) -> Tensor {
    fn typed<T: Element>(shape: Vec<usize>, bytes: &[u8]) -> Tensor {
        Tensor::from_vec(shape, bytemuck::pod_collect_to_vec::<u8, T>(bytes))
    }
    match dtype {
        DType::I8 => typed::<i8>(shape, &bytes),
        DType::U8 => typed::<u8>(shape, &bytes),
        DType::I16 => typed::<i16>(shape, &bytes),
        DType::I32 => typed::<i32>(shape, &bytes),
        DType::I64 => typed::<i64>(shape, &bytes),
        DType::F16 => typed::<half::f16>(shape, &bytes),
        DType::F32 => typed::<f32>(shape, &bytes),
        DType::F64 => typed::<f64>(shape, &bytes),
    }
}

/// A [`Store`] buffer of any dtype.
enum AnyBuf {
    I8(OutBuf<i8>),
    U8(OutBuf<u8>),
    I16(OutBuf<i16>),
    I32(OutBuf<i32>),
    I64(OutBuf<i64>),
    F16(OutBuf<half::f16>),
    F32(OutBuf<f32>),
    F64(OutBuf<f64>),
}

macro_rules! each_buf {
    ($b:expr, $v:ident => $e:expr) => {
        match $b {
            AnyBuf::I8($v) => $e,
            AnyBuf::U8($v) => $e,
            AnyBuf::I16($v) => $e,
            AnyBuf::I32($v) => $e,
            AnyBuf::I64($v) => $e,
            AnyBuf::F16($v) => $e,
            AnyBuf::F32($v) => $e,
            AnyBuf::F64($v) => $e,
        }
    };
}

impl AnyBuf {
    fn alloc(store: &Store, dtype: DType, rows: usize, width: usize, what: &str) -> Result<AnyBuf> {
        Ok(match dtype {
            DType::I8 => AnyBuf::I8(store.alloc(rows, width, 0, what)?),
            DType::U8 => AnyBuf::U8(store.alloc(rows, width, 0, what)?),
            DType::I16 => AnyBuf::I16(store.alloc(rows, width, 0, what)?),
            DType::I32 => AnyBuf::I32(store.alloc(rows, width, 0, what)?),
            DType::I64 => AnyBuf::I64(store.alloc(rows, width, 0, what)?),
            DType::F16 => AnyBuf::F16(store.alloc(rows, width, half::f16::ZERO, what)?),
            DType::F32 => AnyBuf::F32(store.alloc(rows, width, 0.0, what)?),
            DType::F64 => AnyBuf::F64(store.alloc(rows, width, 0.0, what)?),
        })
    }

    /// Writes `t`'s values (of the buffer's dtype) at element offset `at`.
    fn write(&mut self, at: usize, t: &Tensor) -> Result<()> {
        fn put<T: Element>(b: &mut OutBuf<T>, at: usize, t: &Tensor) -> Result<()> {
            let v = t.values::<T>().expect("dtype checked");
            b.write_at(at, &v)
        }
        each_buf!(self, b => put(b, at, t))
    }

    fn finish(self, shape: Vec<usize>) -> Result<Tensor> {
        each_buf!(self, b => b.into_tensor(shape))
    }
}

/// Reads one data array's files (in order) into a `rows`-row tensor through `store`.
fn read_data(
    fs: &FileSet,
    resolve: &(dyn Fn(&str) -> PathBuf + Sync),
    meta: &Path,
    at: &str,
    rows: u64,
    store: &Store,
) -> Result<Tensor> {
    let paths: Vec<PathBuf> = fs.data.iter().map(|f| resolve(f)).collect();
    let file_rows: Vec<u64> = paths
        .par_iter()
        .map(|p| probe_rows(&fs.format, p))
        .collect::<Result<_>>()?;
    check_row_counts(fs, &file_rows, meta, at)?;
    let total: u64 = file_rows.iter().sum();
    if total != rows {
        return Err(Error::input(
            meta,
            format!("{at}: its files hold {total} rows, but the type has {rows} (num_nodes_per_type / its edge count)"),
        ));
    }
    // one .npy file holding every row: its mapping is the array (no copy; the pages stay
    // reclaimable page cache, like a spilled array)
    if fs.format == FileFormat::Numpy && paths.len() == 1 {
        let t = crate::format::npy::load_npy(&paths[0])?;
        if t.shape.is_empty() || t.shape.len() > 2 {
            return Err(Error::input(
                &paths[0],
                format!(
                    "{at}: array of shape {:?}; only 1-D and 2-D arrays are supported",
                    t.shape
                ),
            ));
        }
        return Ok(t);
    }
    // decode a window of files at a time (in parallel), copy them in order
    let window = rayon::current_num_threads().max(1);
    let mut buf: Option<(AnyBuf, DType, Vec<usize>, String)> = None;
    let mut at_row = 0usize;
    for (w, group) in paths.chunks(window).enumerate() {
        let decoded: Vec<Tensor> = group
            .par_iter()
            .map(|p| match fs.format {
                FileFormat::Numpy => crate::format::npy::load_npy(p),
                _ => decode_parquet_data(p),
            })
            .collect::<Result<_>>()?;
        for (k, t) in decoded.into_iter().enumerate() {
            let f = &paths[w * window + k];
            let fname = &fs.data[w * window + k];
            let trailing: Vec<usize> = t.shape.iter().skip(1).copied().collect();
            if t.shape.len() > 2 || t.shape.is_empty() {
                return Err(Error::input(
                    f,
                    format!(
                        "{at}: array of shape {:?}; only 1-D and 2-D arrays are supported",
                        t.shape
                    ),
                ));
            }
            if t.shape[0] == 0 {
                continue;
            }
            match &mut buf {
                None => {
                    let width = trailing.iter().product::<usize>();
                    let b = AnyBuf::alloc(store, t.dtype, rows as usize, width, at)?;
                    buf = Some((b, t.dtype, trailing, fname.clone()));
                }
                Some((_, dt, tr, first)) if *dt != t.dtype || *tr != trailing => {
                    return Err(Error::input(
                        f,
                        format!(
                            "{at}: {} with rows of shape {:?}, but {first} holds {} with rows of shape {:?}; \
                             every file of an array needs one dtype and row shape",
                            t.dtype.name(),
                            trailing,
                            dt.name(),
                            tr
                        ),
                    ));
                }
                _ => {}
            }
            let (b, ..) = buf.as_mut().expect("set");
            let width = t.shape.iter().skip(1).product::<usize>();
            b.write(at_row * width, &t)?;
            at_row += t.shape[0];
        }
    }
    match buf {
        Some((b, _, trailing, _)) => {
            let mut shape = vec![rows as usize];
            shape.extend(trailing);
            b.finish(shape)
        }
        None => {
            // no rows anywhere: an empty 1-D float32 array (the type has no nodes)
            Ok(Tensor::from_vec::<f32>(vec![0], Vec::new()))
        }
    }
}

/// Reads a raw ID map's files: `orig` in construction-ID order.
fn read_raw_ids(
    fs: &FileSet,
    resolve: &(dyn Fn(&str) -> PathBuf + Sync),
    meta: &Path,
    at: &str,
    n: u64,
) -> Result<ArrayRef> {
    if fs.format != FileFormat::Parquet {
        return Err(Error::input(
            meta,
            format!("{at}.format: raw ID maps must be parquet"),
        ));
    }
    let files: Vec<PathBuf> = fs.data.iter().map(|f| resolve(f)).collect();
    let dir = files
        .first()
        .and_then(|f| f.parent())
        .unwrap_or(meta)
        .to_path_buf();
    let m = crate::format::raw_id_map::load_raw_id_map_files(&files, &dir)?;
    if m.len() as u64 != n {
        return Err(Error::input(
            meta,
            format!(
                "{at}: the map holds {} raw IDs, but the type has {n} nodes",
                m.len()
            ),
        ));
    }
    let rows = m
        .rows_by_new()
        .map_err(|e| Error::input(&dir, format!("raw ID map: {e}")))?;
    if rows.iter().enumerate().all(|(i, &r)| r as usize == i) {
        return Ok(m.orig);
    }
    let idx = arrow::array::UInt32Array::from(rows);
    arrow::compute::take(m.orig.as_ref(), &idx, None)
        .map_err(|e| Error::input(&dir, format!("raw ID map: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::budget::Budget;

    fn store(dir: &Path) -> Store {
        Store::new(Budget { bytes: 1 << 30 }, None, dir, 0)
    }

    fn write_parquet(path: &Path, cols: Vec<(&str, ArrayRef)>, shape: Option<&str>) {
        let batch = arrow::record_batch::RecordBatch::try_from_iter(cols).unwrap();
        let mut schema = (*batch.schema()).clone();
        if let Some(s) = shape {
            schema.metadata.insert("shape", s);
        }
        let schema = std::sync::Arc::new(schema);
        let batch = batch.with_schema(schema.clone()).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let f = std::fs::File::create(path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn i64s(v: &[i64]) -> ArrayRef {
        std::sync::Arc::new(arrow::array::Int64Array::from(v.to_vec()))
    }

    /// A GSProcessing-shaped folder: two node types, one edge type split over two files with
    /// row_counts, a list feature, a 1-row-per-file label with shape metadata, raw IDs out of
    /// order.
    fn gsp_like(dir: &Path) {
        write_parquet(
            &dir.join("e/a.parquet"),
            vec![("src_int_id", i64s(&[0, 2])), ("dst_int_id", i64s(&[1, 0]))],
            None,
        );
        write_parquet(
            &dir.join("e/b.parquet"),
            vec![("src_int_id", i64s(&[1])), ("dst_int_id", i64s(&[1]))],
            None,
        );
        let list =
            arrow::array::ListArray::from_iter_primitive::<arrow::datatypes::Float32Type, _, _>(
                vec![
                    Some(vec![Some(1.0), Some(2.0)]),
                    Some(vec![Some(3.0), Some(4.0)]),
                    Some(vec![Some(5.0), Some(6.0)]),
                ],
            );
        write_parquet(
            &dir.join("n/feat.parquet"),
            vec![("feat", std::sync::Arc::new(list) as ArrayRef)],
            None,
        );
        for (k, v) in [7i64, 8, 9].iter().enumerate() {
            write_parquet(
                &dir.join(format!("n/label-{k}.parquet")),
                vec![("label", i64s(&[*v]))],
                Some("(1,)"),
            );
        }
        let orig: ArrayRef =
            std::sync::Arc::new(arrow::array::StringArray::from(vec!["u2", "u0", "u1"]));
        write_parquet(
            &dir.join("r/u.parquet"),
            vec![("orig", orig), ("new", i64s(&[2, 0, 1]))],
            None,
        );
        let meta = r#"{"graph_name": "g", "node_type": ["user", "item"], "num_nodes_per_type": [3, 2],
          "edge_type": ["user:clicks:item"], "num_edges_per_type": [3],
          "edges": {"user:clicks:item": {"format": {"name": "parquet", "delimiter": ""},
              "data": ["e/a.parquet", "e/b.parquet"], "row_counts": [2, 1]}},
          "node_data": {"user": {
              "feat": {"format": {"name": "parquet"}, "data": ["n/feat.parquet"]},
              "label": {"format": {"name": "parquet"}, "data": ["n/label-0.parquet", "n/label-1.parquet", "n/label-2.parquet"], "row_counts": [1, 1, 1]}}},
          "edge_data": {},
          "raw_id_mappings": {"user": {"format": {"name": "parquet"}, "data": ["r/u.parquet"]}}}"#;
        std::fs::write(dir.join("metadata.json"), meta).unwrap();
    }

    #[test]
    fn reads_a_gsprocessing_shaped_folder() {
        let d = tempfile::tempdir().unwrap();
        gsp_like(d.path());
        let c = open(d.path(), &store(d.path())).unwrap();
        let g = &c.graph;
        assert_eq!(g.ntypes(), ["item", "user"]);
        assert_eq!(g.num_nodes(), [2, 3]);
        assert_eq!(g.edges()[0].src, [0, 2, 1]);
        assert_eq!(g.edges()[0].dst, [1, 0, 1]);
        let feat = g.node_tensor(1, "feat").unwrap();
        assert_eq!(feat.shape, [3, 2]);
        assert_eq!(
            feat.values::<f32>().unwrap().to_vec(),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        let label = g.node_tensor(1, "label").unwrap();
        assert_eq!(label.shape, [3]);
        assert_eq!(label.values::<i64>().unwrap().to_vec(), [7, 8, 9]);
        let raw = c.raw_ids["user"].as_string::<i32>();
        assert_eq!(raw.iter().flatten().collect::<Vec<_>>(), ["u0", "u1", "u2"]);
    }

    type Breaker = Box<dyn Fn(&Path)>;

    #[test]
    fn bad_inputs_name_the_file_and_place() {
        let cases: Vec<(Breaker, &str)> = vec![
            (
                Box::new(|d: &Path| {
                    write_parquet(
                        &d.join("e/b.parquet"),
                        vec![("s", i64s(&[1])), ("d", i64s(&[5]))],
                        None,
                    );
                }),
                "b.parquet: row 0, column 'd'",
            ),
            (
                Box::new(|d: &Path| {
                    let t = std::fs::read_to_string(d.join("metadata.json")).unwrap();
                    std::fs::write(
                        d.join("metadata.json"),
                        t.replace("\"row_counts\": [2, 1]", "\"row_counts\": [1, 2]"),
                    )
                    .unwrap();
                }),
                "edges.user:clicks:item.row_counts[0]",
            ),
            (
                Box::new(|d: &Path| {
                    let f: ArrayRef =
                        std::sync::Arc::new(arrow::array::Float64Array::from(vec![1.0]));
                    write_parquet(
                        &d.join("n/label-2.parquet"),
                        vec![("label", f)],
                        Some("(1,)"),
                    );
                }),
                "every file of an array needs one dtype",
            ),
            (
                Box::new(|d: &Path| {
                    let t = std::fs::read_to_string(d.join("metadata.json")).unwrap();
                    std::fs::write(d.join("metadata.json"), t.replace("[3, 2]", "[4, 2]")).unwrap();
                }),
                "node_data.user.feat: its files hold 3 rows",
            ),
        ];
        for (break_it, want) in cases {
            let d = tempfile::tempdir().unwrap();
            gsp_like(d.path());
            break_it(d.path());
            let e = open(d.path(), &store(d.path()))
                .err()
                .expect("must fail")
                .to_string();
            assert!(e.contains(want), "want '{want}' in: {e}");
        }
        let d = tempfile::tempdir().unwrap();
        let e = open(d.path(), &store(d.path())).err().unwrap().to_string();
        assert!(e.contains("metadata.json") && e.contains("chunked"), "{e}");
    }

    #[test]
    fn text_edges_are_space_separated_pairs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("e.txt");
        std::fs::write(&p, "0 1\n2 0\n").unwrap();
        let e = read_edge_text(&p, (3, 2)).unwrap();
        assert_eq!((e.src, e.dst), (vec![0, 2], vec![1, 0]));
        std::fs::write(&p, "0 1\n2,0\n").unwrap();
        let msg = read_edge_text(&p, (3, 2)).unwrap_err().to_string();
        assert!(msg.contains("line 2"), "{msg}");
    }
}
