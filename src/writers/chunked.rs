//! `--output-format chunked`: a constructed graph → DGL's chunked graph format
//! (`distdgl-format.md` §10.1), the input of DGL's dispatch pipeline, plus the partition
//! assignment folder of its step 1 (§10.2).
//!
//! Layout of the chunked folder:
//! ```text
//! metadata.json
//! edges/<etype>/part-NNNNN.parquet            two int64 columns src_int_id, dst_int_id
//! node_data/<ntype>/<name>/part-NNNNN.npy     .npy v1.0, rows of consecutive nodes
//! edge_data/<etype>/<name>/part-NNNNN.npy
//! ```
//! (`<etype>` is `src_rel_dst`; names outside `[A-Za-z0-9._-]` are replaced by `_`, with the
//! type index appended where that would make two folders collide.) Endpoints are per-type
//! construction IDs; the files of one array, concatenated in listed order, are the array. A
//! type's arrays are all cut at the same rows (so `num_nodes_per_chunk` holds for each), into
//! files of at most [`DEFAULT_FILE_BYTES`] (or `--chunk-rows` rows).
//!
//! Checked before anything is written (DGL's pipeline does not check them and silently
//! breaks, measured): no empty file (every node type has a node, every edge type an edge),
//! one dtype per array, 1-D or 2-D arrays only, int64 endpoints, type IDs in `metadata.json`
//! order (DGL's order: sorted names), node type names usable as `<ntype>.txt` file names.
//!
//! # Memory
//! One 1 MiB buffer per file being written (files are written in parallel) and, for edge
//! files, the int64 copy of one file's endpoints (at most [`DEFAULT_FILE_BYTES`]).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use serde_json::json;

use crate::error::{Error, Result};
use crate::format::array::{ArraySource, Ids};
use crate::format::chunked::{save_assignment_txt, FileFormat, FileSet, Metadata, PartitionMeta};
use crate::graph::{Graph, NamedTensor};
use crate::partition::Assignment;

/// Target size of one chunk file.
pub const DEFAULT_FILE_BYTES: u64 = 256 << 20;

/// Options of the chunked writer.
#[derive(Clone, Debug)]
pub struct ChunkedOptions {
    pub graph_name: String,
    /// At most this many rows per file (`None`: files of about [`DEFAULT_FILE_BYTES`]).
    pub chunk_rows: Option<usize>,
}

/// A file name component for a type or feature name.
fn component(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// Unique folder names for `names` (the component, or `component-index` on a collision or
/// when the name had to be changed and another name maps to the same component).
fn folders(names: &[String]) -> Vec<String> {
    let comps: Vec<String> = names.iter().map(|n| component(n)).collect();
    comps
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let dup = comps.iter().filter(|x| *x == c).count() > 1;
            if dup {
                format!("{c}-{i}")
            } else {
                c.clone()
            }
        })
        .collect()
}

/// Rows per file for a type whose arrays have `row_bytes` bytes per row each.
fn rows_per_file(row_bytes: &[usize], total: u64, chunk_rows: Option<usize>) -> u64 {
    let widest = row_bytes.iter().copied().max().unwrap_or(1).max(1) as u64;
    let by_bytes = (DEFAULT_FILE_BYTES / widest).max(1);
    let r = chunk_rows.map_or(by_bytes, |c| (c as u64).max(1));
    r.min(total.max(1))
}

/// `[0, r, 2r, ...]` cut points of `total` rows into chunks of `per` rows.
fn chunks(total: u64, per: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    let mut s = 0;
    while s < total {
        let e = (s + per).min(total);
        v.push((s, e));
        s = e;
    }
    v
}

fn check_array(kind: &str, ty: &str, d: &NamedTensor) -> Result<()> {
    let nd = d.tensor.shape.len();
    if !(1..=2).contains(&nd) {
        return Err(Error::Graph(format!(
            "chunked output: {kind} data '{ty}/{}' has {nd} dimensions (shape {:?}); DGL's \
             chunked format holds 1-D or 2-D arrays only",
            d.name, d.tensor.shape
        )));
    }
    Ok(())
}

/// Checks the rules of the module docs.
pub fn validate(g: &Graph) -> Result<()> {
    for (t, name) in g.ntypes().iter().enumerate() {
        if g.num_nodes()[t] == 0 {
            return Err(Error::Graph(format!(
                "chunked output: node type '{name}' has no nodes; DGL's dispatch pipeline needs \
                 at least one node of every type (it would read empty files and fail later). \
                 Give the type nodes or remove it from the config"
            )));
        }
        if name.contains('/') || name.contains('\0') || name == "." || name == ".." {
            return Err(Error::Graph(format!(
                "chunked output: node type '{name}' cannot name a file; DGL's partition \
                 assignment is read from '<node type>.txt'. Rename the type"
            )));
        }
        for d in &g.node_data()[t] {
            check_array("node", name, d)?;
        }
    }
    for (r, et) in g.etypes().iter().enumerate() {
        if g.edges()[r].is_empty() {
            return Err(Error::Graph(format!(
                "chunked output: edge type '{}' has no edges; DGL's dispatch pipeline needs at \
                 least one edge of every type. Remove the relation from the config",
                et.colon_key()
            )));
        }
        if [&et.src, &et.rel, &et.dst].iter().any(|s| s.contains(':')) {
            return Err(Error::Graph(format!(
                "chunked output: edge type '{}' has ':' in a name; DGL splits 'src:rel:dst' on \
                 ':'. Rename it",
                et.colon_key()
            )));
        }
        for d in &g.edge_data()[r] {
            check_array("edge", &et.colon_key(), d)?;
        }
    }
    Ok(())
}

/// A file to write.
/// The files of every array of one type (`<base>/<name>/part-NNNNN.npy`, cut at `ch`), as
/// write jobs and as metadata entries.
fn array_jobs<'g>(
    data: &'g [NamedTensor],
    base: &str,
    ch: &[(u64, u64)],
    jobs: &mut Vec<Job<'g>>,
) -> Vec<(String, FileSet)> {
    let names: Vec<String> = data.iter().map(|d| d.name.clone()).collect();
    let mut feats = Vec::new();
    for (d, fd) in data.iter().zip(&folders(&names)) {
        let files: Vec<String> = (0..ch.len())
            .map(|k| format!("{base}/{fd}/part-{k:05}.npy"))
            .collect();
        for (range, path) in ch.iter().zip(&files) {
            jobs.push(Job::Array {
                t: d,
                range: *range,
                path: path.clone(),
            });
        }
        feats.push((
            d.name.clone(),
            FileSet {
                format: FileFormat::Numpy,
                data: files,
                row_counts: None,
            },
        ));
    }
    feats
}

enum Job<'a> {
    Edges {
        r: usize,
        range: (u64, u64),
        path: String,
    },
    Array {
        t: &'a NamedTensor,
        range: (u64, u64),
        path: String,
    },
}

fn write_edge_file(path: &Path, g: &Graph, r: usize, (s, e): (u64, u64)) -> Result<()> {
    let el = &g.edges()[r];
    let (s, e) = (s as usize, e as usize);
    let col = |v: &[u32]| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            v[s..e].iter().map(|&x| i64::from(x)),
        ))
    };
    let fail = |e: &dyn std::fmt::Display| Error::input(path, format!("writing Parquet: {e}"));
    let batch =
        RecordBatch::try_from_iter([("src_int_id", col(&el.src)), ("dst_int_id", col(&el.dst))])
            .map_err(|e| fail(&e))?;
    let file = std::fs::File::create(path).map_err(|e| Error::write(path, e))?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        batch.schema(),
        Some(props),
    )
    .map_err(|e| fail(&e))?;
    w.write(&batch).map_err(|e| fail(&e))?;
    w.close().map_err(|e| fail(&e))?;
    Ok(())
}

/// Writes the chunked graph into `dir` (created) and returns its metadata (also written as
/// `dir/metadata.json`). `extra` goes into `metadata.json` as top-level keys.
pub fn write_chunked(
    dir: &Path,
    g: &Graph,
    opts: &ChunkedOptions,
    raw_id_maps: &[(String, Vec<String>)],
) -> Result<Metadata> {
    validate(g)?;
    let nt_dirs = folders(g.ntypes());
    let et_keys: Vec<String> = g
        .etypes()
        .iter()
        .map(|e| format!("{}_{}_{}", e.src, e.rel, e.dst))
        .collect();
    let et_dirs = folders(&et_keys);
    let mut meta = Metadata {
        graph_name: opts.graph_name.clone(),
        node_type: g.ntypes().to_vec(),
        num_nodes_per_type: g.num_nodes().to_vec(),
        edge_type: g.etypes().iter().map(|e| e.colon_key()).collect(),
        ..Default::default()
    };
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut nchunks = Vec::new();
    for (t, ty) in g.ntypes().iter().enumerate() {
        let data = &g.node_data()[t];
        let n = g.num_nodes()[t];
        let rb: Vec<usize> = data.iter().map(|d| d.tensor.row_bytes()).collect();
        let ch = chunks(n, rows_per_file(&rb, n, opts.chunk_rows));
        nchunks.push(ch.iter().map(|c| c.1 - c.0).collect::<Vec<_>>());
        let feats = array_jobs(data, &format!("node_data/{}", nt_dirs[t]), &ch, &mut jobs);
        if !feats.is_empty() {
            meta.node_data.push((ty.clone(), feats));
        }
    }
    meta.num_nodes_per_chunk = Some(nchunks);
    let mut echunks = Vec::new();
    let mut ecounts = Vec::new();
    for (r, et) in g.etypes().iter().enumerate() {
        let key = et.colon_key();
        let data = &g.edge_data()[r];
        let n = g.edges()[r].len() as u64;
        ecounts.push(n);
        let mut rb: Vec<usize> = data.iter().map(|d| d.tensor.row_bytes()).collect();
        rb.push(16);
        let ch = chunks(n, rows_per_file(&rb, n, opts.chunk_rows));
        echunks.push(ch.iter().map(|c| c.1 - c.0).collect::<Vec<_>>());
        let files: Vec<String> = (0..ch.len())
            .map(|k| format!("edges/{}/part-{k:05}.parquet", et_dirs[r]))
            .collect();
        for (range, path) in ch.iter().zip(&files) {
            jobs.push(Job::Edges {
                r,
                range: *range,
                path: path.clone(),
            });
        }
        meta.edges.push((
            key.clone(),
            FileSet {
                format: FileFormat::Parquet,
                data: files,
                row_counts: None,
            },
        ));
        let feats = array_jobs(data, &format!("edge_data/{}", et_dirs[r]), &ch, &mut jobs);
        if !feats.is_empty() {
            meta.edge_data.push((key, feats));
        }
    }
    meta.num_edges_per_type = Some(ecounts);
    meta.num_edges_per_chunk = Some(echunks);
    for (t, files) in raw_id_maps {
        meta.raw_id_mappings.push((
            t.clone(),
            FileSet {
                format: FileFormat::Parquet,
                data: files.clone(),
                row_counts: None,
            },
        ));
    }
    let hn: serde_json::Map<String, serde_json::Value> = g
        .etypes()
        .iter()
        .zip(g.hard_negatives())
        .filter(|(_, h)| !h.is_empty())
        .map(|(et, h)| (et.colon_key(), json!(h)))
        .collect();
    meta.extra.insert(
        "graphprep".into(),
        json!({"version": env!("CARGO_PKG_VERSION"), "is_homogeneous": g.is_homogeneous(),
               "hard_negatives": hn}),
    );

    // folders, then every file in parallel
    let mut folders_to_make: Vec<&Path> = jobs
        .iter()
        .map(|j| match j {
            Job::Edges { path, .. } | Job::Array { path, .. } => {
                Path::new(path).parent().expect("nested path")
            }
        })
        .collect();
    folders_to_make.dedup();
    for f in folders_to_make {
        let p = dir.join(f);
        std::fs::create_dir_all(&p).map_err(|e| Error::write(&p, e))?;
    }
    jobs.par_iter().try_for_each(|j| match j {
        Job::Edges { r, range, path } => write_edge_file(&dir.join(path), g, *r, *range),
        Job::Array { t, range, path } => {
            let (s, e) = *range;
            let src = ArraySource::gather(
                &t.tensor,
                Ids::Range {
                    start: s,
                    len: (e - s) as usize,
                },
            );
            crate::format::npy::save_npy(&dir.join(path), &src)
        }
    })?;
    crate::format::partition_json::save_python_json(&dir.join("metadata.json"), &meta.to_json())?;
    Ok(meta)
}

/// Writes `dir/<ntype>.txt` per node type and `dir/partition_meta.json` (`dir` is created).
pub fn write_assignment(dir: &Path, g: &Graph, asg: &Assignment, algo: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    g.ntypes()
        .par_iter()
        .zip(asg.node_part.par_iter())
        .try_for_each(|(t, parts)| save_assignment_txt(&dir.join(format!("{t}.txt")), parts))?;
    let meta = PartitionMeta {
        algo_name: algo.to_string(),
        num_parts: asg.num_parts,
    };
    crate::format::partition_json::save_python_json(
        &dir.join("partition_meta.json"),
        &meta.to_json(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_safe_and_unique() {
        let names = vec!["user".to_string(), "a/b".into(), "a_b".into(), "".into()];
        assert_eq!(folders(&names), ["user", "a_b-1", "a_b-2", "_"]);
        assert_eq!(component("..x"), "_..x");
    }

    #[test]
    fn chunking_bounds_rows_and_covers_everything() {
        assert_eq!(chunks(10, 4), [(0, 4), (4, 8), (8, 10)]);
        assert_eq!(rows_per_file(&[4], 10, Some(3)), 3);
        assert_eq!(rows_per_file(&[1 << 20], 1000, None), 256);
        assert_eq!(rows_per_file(&[], 5, None), 5);
    }
}
