//! `graphprep remap`: GraphStorm's `python -m graphstorm.gconstruct.remap_result` (spec
//! `training.md` §4.4, `gconstruct.md` §5). Embeddings and predictions written in
//! GraphStorm's layout ([`crate::format::results`]) carry construction IDs; this maps them to
//! raw node IDs through `raw_id_mappings/<ntype>/` and writes, next to each input `X.pt`:
//!
//! * embeddings `<emb>/<ntype>/embed-R_C.parquet`: columns `emb` (list<float32>), `nid`;
//! * node predictions `<pred>/<ntype>/pred.predict-R_C.parquet`: `pred` (list<float32> for
//!   float predictions, int64 for class IDs), `nid`;
//! * edge predictions `<pred>/<s>_<r>_<d>/pred.predict-R_C.parquet`: `pred`, `src_nid`,
//!   `dst_nid`;
//!
//! where `R` is the input's rank suffix and `C` the 5-digit chunk of at most
//! `output_chunk_size` rows. `nid` keeps the raw ID map's type (string or int64). CSV output
//! uses the same names with `.csv`, a header row and `;`-joined lists (numbers printed as
//! Python prints them). Parquet is Snappy-compressed. Outputs are written to a temporary
//! name and renamed into place; inputs are deleted (unless `preserve_input`) only after every
//! output exists. If a node type with inputs has no mapping folder, nothing is remapped and
//! the summary says why (GraphStorm warns and exits 0).
//!
//! Ranks (`rank`/`world_size`): with a shared file system each rank takes a contiguous share of
//! each folder's files (10 files on 4 ranks: 2, 2, 3, 3); without one, the files of its own
//! rank suffix. Each rank deletes the inputs it converted.
//!
//! # Memory
//! The raw ID maps of the node types involved, plus one input file and its output chunk per
//! worker thread.
//!
//! Parallelism: input files are converted in parallel on the ambient rayon pool.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float32Array, Int64Array, ListArray, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::raw_id_map::load_raw_id_map;
use crate::format::results::{
    etype_dir_name, load_f32_matrix, load_nids, load_pred_file, read_emb_info, read_result_info,
    Pred,
};
use crate::train::config::TrainConfig;

/// Output file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Parquet,
    Csv,
}

/// What to remap and how (the flags of `remap_result`, resolved).
#[derive(Clone, Debug)]
pub struct RemapOptions {
    /// Folder of `<ntype>/part-*.parquet` raw ID maps.
    pub node_id_mapping: PathBuf,
    pub node_emb_dir: Option<PathBuf>,
    pub prediction_dir: Option<PathBuf>,
    /// Node types with predictions; empty = `result_info.json`'s `ntypes`.
    pub pred_ntypes: Vec<String>,
    /// Edge types with predictions; empty = `result_info.json`'s `etypes`.
    pub pred_etypes: Vec<(String, String, String)>,
    pub output_format: OutputFormat,
    pub output_delimiter: String,
    /// Renames of the built-in columns `nid, pred, src_nid, dst_nid, emb`.
    pub column_names: Vec<(String, String)>,
    /// Rows per output file.
    pub output_chunk_size: usize,
    pub preserve_input: bool,
    pub with_shared_fs: bool,
    pub rank: usize,
    pub world_size: usize,
}

impl RemapOptions {
    /// GraphStorm's standalone defaults for `node_id_mapping`.
    pub fn new(node_id_mapping: PathBuf) -> RemapOptions {
        RemapOptions {
            node_id_mapping,
            node_emb_dir: None,
            prediction_dir: None,
            pred_ntypes: Vec::new(),
            pred_etypes: Vec::new(),
            output_format: OutputFormat::Parquet,
            output_delimiter: ",".into(),
            column_names: Vec::new(),
            output_chunk_size: usize::MAX,
            preserve_input: false,
            with_shared_fs: true,
            rank: 0,
            world_size: 1,
        }
    }

    /// The options `--cf` derives from a training config: ID maps in
    /// `<dirname(part_config)>/raw_id_mappings`, `save_embed_path`, `save_prediction_path`,
    /// predictions of `target_ntype` (node tasks) or `target_etype` (edge tasks).
    pub fn from_train_config(cfg: &TrainConfig) -> Result<RemapOptions> {
        let part = cfg.part_config.as_ref().ok_or_else(|| {
            Error::config(
                "part_config",
                "needed to find raw_id_mappings: set it in the YAML or pass --part-config",
            )
        })?;
        let dir = part
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut o = RemapOptions::new(dir.join("raw_id_mappings"));
        o.node_emb_dir = cfg.save_embed_path.clone();
        o.prediction_dir = cfg.save_prediction_path.clone();
        match &cfg.edge {
            // edge tasks predict on `target_etype` (GraphStorm's `_parse_gs_config`)
            Some(e) => o.pred_etypes = vec![e.target_etype.clone()],
            None if cfg.task.is_node_task() => o.pred_ntypes = vec![cfg.target_ntype.clone()],
            None => {}
        }
        Ok(o)
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemapSummary {
    /// Output files, in input order.
    pub written: Vec<PathBuf>,
    /// Inputs deleted (empty with `preserve_input`).
    pub removed: Vec<PathBuf>,
    /// Rows remapped.
    pub rows: u64,
    /// Set when nothing was remapped because an ID map is missing (the warning text).
    pub skipped: Option<String>,
}

#[derive(Clone, Debug)]
enum Kind {
    Emb,
    NodePred,
    EdgePred,
}

/// One input file set.
#[derive(Clone, Debug)]
struct Job {
    kind: Kind,
    /// The main tensor file (`embed-R.pt` / `predict-R.pt`).
    main: PathBuf,
    /// ID files with their node types (`nid`, or `src_nid` + `dst_nid`).
    ids: Vec<(PathBuf, String)>,
    /// `R`.
    suffix: String,
}

/// The 5-digit suffixes of `<prefix>NNNNN.pt` files in `dir`, sorted.
fn suffixes(dir: &Path, prefix: &str) -> Result<Vec<String>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::input(dir, format!("cannot list: {e}"))),
    };
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|n| {
            let s = n.strip_prefix(prefix)?.strip_suffix(".pt")?;
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string())
        })
        .collect();
    out.sort();
    Ok(out)
}

/// GraphStorm's `_get_file_range`: a contiguous share of `n` files for `rank`; the last
/// `n % world` ranks get one more.
pub fn file_range(n: usize, rank: usize, world: usize) -> std::ops::Range<usize> {
    if world <= 1 {
        return 0..n;
    }
    let per = n / world;
    let rem = n % world;
    if rank < world - rem {
        rank * per..rank * per + per
    } else {
        let start = rank * per + rank - (world - rem);
        start..start + per + 1
    }
}

fn my_share(opts: &RemapOptions, all: Vec<String>) -> Vec<String> {
    if opts.with_shared_fs {
        let r = file_range(all.len(), opts.rank, opts.world_size);
        all[r].to_vec()
    } else {
        let mine = format!("{:05}", opts.rank);
        all.into_iter().filter(|s| *s == mine).collect()
    }
}

/// Node types with embeddings: `emb_info.json`'s `emb_name`, else the sub-folders.
fn emb_ntypes(dir: &Path) -> Result<Vec<String>> {
    if dir.join("emb_info.json").is_file() {
        let info = read_emb_info(dir)?;
        if !info.emb_name.is_empty() {
            return Ok(info.emb_name);
        }
    }
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                if let Some(n) = e.file_name().to_str() {
                    out.push(n.to_string());
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn collect_jobs(opts: &RemapOptions) -> Result<Vec<Job>> {
    for d in opts.node_emb_dir.iter().chain(&opts.prediction_dir) {
        if !d.is_dir() {
            log::warn!("{}: no such folder, nothing to remap there", d.display());
        }
    }
    let mut jobs = Vec::new();
    if let Some(emb) = &opts.node_emb_dir {
        for t in emb_ntypes(emb)? {
            let d = emb.join(&t);
            for s in my_share(opts, suffixes(&d, "embed-")?) {
                jobs.push(Job {
                    kind: Kind::Emb,
                    main: d.join(format!("embed-{s}.pt")),
                    ids: vec![(d.join(format!("embed_nids-{s}.pt")), t.clone())],
                    suffix: s,
                });
            }
        }
    }
    if let Some(pred) = &opts.prediction_dir {
        let info = if (opts.pred_ntypes.is_empty() || opts.pred_etypes.is_empty())
            && pred.join("result_info.json").is_file()
        {
            Some(read_result_info(pred)?)
        } else {
            None
        };
        let ntypes = if opts.pred_ntypes.is_empty() {
            info.as_ref().map(|i| i.ntypes.clone()).unwrap_or_default()
        } else {
            opts.pred_ntypes.clone()
        };
        let etypes = if opts.pred_etypes.is_empty() {
            info.as_ref().map(|i| i.etypes.clone()).unwrap_or_default()
        } else {
            opts.pred_etypes.clone()
        };
        for t in ntypes {
            let d = pred.join(&t);
            for s in my_share(opts, suffixes(&d, "predict-")?) {
                jobs.push(Job {
                    kind: Kind::NodePred,
                    main: d.join(format!("predict-{s}.pt")),
                    ids: vec![(d.join(format!("predict_nids-{s}.pt")), t.clone())],
                    suffix: s,
                });
            }
        }
        for et in etypes {
            let d = pred.join(etype_dir_name(&et));
            for s in my_share(opts, suffixes(&d, "predict-")?) {
                jobs.push(Job {
                    kind: Kind::EdgePred,
                    main: d.join(format!("predict-{s}.pt")),
                    ids: vec![
                        (d.join(format!("src_nids-{s}.pt")), et.0.clone()),
                        (d.join(format!("dst_nids-{s}.pt")), et.2.clone()),
                    ],
                    suffix: s,
                });
            }
        }
    }
    Ok(jobs)
}

/// A node type's reverse map: construction ID → raw ID (an Arrow array indexed by ID).
struct ReverseMap {
    /// `orig` reordered so that row `c` holds construction ID `c`.
    by_new: ArrayRef,
}

fn load_reverse_map(dir: &Path) -> Result<ReverseMap> {
    let m = load_raw_id_map(dir)?;
    let rows = m
        .rows_by_new()
        .map_err(|msg| Error::input(dir, format!("raw ID map: {msg}")))?;
    let idx = UInt32Array::from(rows);
    let orig = normalize_ids(&m.orig).map_err(|msg| Error::input(dir, msg))?;
    let by_new = arrow::compute::take(orig.as_ref(), &idx, None)
        .map_err(|e| Error::input(dir, format!("raw ID map: {e}")))?;
    Ok(ReverseMap { by_new })
}

/// Raw IDs as GraphStorm writes them: strings as `string`, integers as `int64`.
fn normalize_ids(a: &ArrayRef) -> std::result::Result<ArrayRef, String> {
    let to = match a.data_type() {
        DataType::Utf8 => return Ok(a.clone()),
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::Int64 => return Ok(a.clone()),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => DataType::Int64,
        other => return Err(format!("raw IDs of type {other} are not supported")),
    };
    arrow::compute::cast(a, &to).map_err(|e| format!("raw IDs: {e}"))
}

impl ReverseMap {
    fn map(&self, ids: &[i64], file: &Path) -> Result<ArrayRef> {
        let n = self.by_new.len();
        let mut idx = Vec::with_capacity(ids.len());
        for (i, &c) in ids.iter().enumerate() {
            match u32::try_from(c).ok().filter(|&c| (c as usize) < n) {
                Some(c) => idx.push(c),
                None => {
                    return Err(Error::input(
                        file,
                        format!("row {i}: construction ID {c} is not in the raw ID map (0..{n})"),
                    ))
                }
            }
        }
        arrow::compute::take(self.by_new.as_ref(), &UInt32Array::from(idx), None)
            .map_err(|e| Error::input(file, e.to_string()))
    }
}

fn list_f32(data: &[f32], rows: usize, cols: usize) -> ArrayRef {
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(cols, rows));
    let values = Arc::new(Float32Array::from(data.to_vec()));
    Arc::new(ListArray::new(
        Arc::new(Field::new("element", DataType::Float32, true)),
        offsets,
        values,
        None,
    ))
}

fn pred_array(p: &Pred) -> ArrayRef {
    match p {
        Pred::Proba { data, rows, cols } => list_f32(data, *rows, *cols),
        Pred::Class(v) => Arc::new(Int64Array::from(v.clone())),
    }
}

/// Runs the remap. See the module docs.
pub fn remap(opts: &RemapOptions) -> Result<RemapSummary> {
    if opts.output_chunk_size == 0 {
        return Err(Error::config("--output-chunk-size", "must be > 0"));
    }
    if opts.world_size == 0 || opts.rank >= opts.world_size {
        return Err(Error::config(
            "--rank",
            format!(
                "rank {} is not in 0..world size {}",
                opts.rank, opts.world_size
            ),
        ));
    }
    for (old, _) in &opts.column_names {
        if !["nid", "pred", "src_nid", "dst_nid", "emb"].contains(&old.as_str()) {
            return Err(Error::config(
                "--column-names",
                format!("'{old}' is not a built-in column (nid, pred, src_nid, dst_nid, emb)"),
            ));
        }
    }
    let jobs = collect_jobs(opts)?;
    let mut ntypes: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.ids.iter().map(|(_, t)| t.clone()))
        .collect();
    ntypes.sort();
    ntypes.dedup();
    let missing: Vec<&String> = ntypes
        .iter()
        .filter(|t| !opts.node_id_mapping.join(t).is_dir())
        .collect();
    if !missing.is_empty() {
        let msg = format!(
            "no raw ID mapping for node type(s) {} under {}: nothing remapped, the .pt outputs \
             stay as they are",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            opts.node_id_mapping.display()
        );
        log::warn!("{msg}");
        return Ok(RemapSummary {
            skipped: Some(msg),
            ..RemapSummary::default()
        });
    }
    let maps: Vec<(String, ReverseMap)> = ntypes
        .par_iter()
        .map(|t| Ok((t.clone(), load_reverse_map(&opts.node_id_mapping.join(t))?)))
        .collect::<Result<_>>()?;
    let map_of = |t: &str| {
        maps.iter()
            .find(|(n, _)| n == t)
            .map(|(_, m)| m)
            .ok_or_else(|| Error::Other(format!("internal: no map for {t}")))
    };
    let results: Vec<(Vec<PathBuf>, u64)> = jobs
        .par_iter()
        .map(|j| run_job(opts, j, &map_of))
        .collect::<Result<_>>()?;
    let mut summary = RemapSummary::default();
    for (files, rows) in results {
        summary.written.extend(files);
        summary.rows += rows;
    }
    if !opts.preserve_input {
        for j in &jobs {
            for p in std::iter::once(&j.main).chain(j.ids.iter().map(|(p, _)| p)) {
                std::fs::remove_file(p).map_err(|e| Error::write(p, e))?;
                summary.removed.push(p.clone());
            }
        }
    }
    log::info!(
        "remapped {} rows into {} files, removed {} inputs",
        summary.rows,
        summary.written.len(),
        summary.removed.len()
    );
    Ok(summary)
}

fn col_name(opts: &RemapOptions, builtin: &str) -> String {
    opts.column_names
        .iter()
        .rev()
        .find(|(o, _)| o == builtin)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| builtin.to_string())
}

fn run_job<'m>(
    opts: &RemapOptions,
    j: &Job,
    map_of: &(dyn Fn(&str) -> Result<&'m ReverseMap> + Sync),
) -> Result<(Vec<PathBuf>, u64)> {
    let (first, stem): (ArrayRef, String) = match j.kind {
        Kind::Emb => {
            let (data, rows, cols) = load_f32_matrix(&j.main)?;
            (list_f32(&data, rows, cols), format!("embed-{}", j.suffix))
        }
        Kind::NodePred | Kind::EdgePred => (
            pred_array(&load_pred_file(&j.main)?),
            format!("pred.predict-{}", j.suffix),
        ),
    };
    let first_name = match j.kind {
        Kind::Emb => "emb",
        _ => "pred",
    };
    let id_names: &[&str] = match j.kind {
        Kind::EdgePred => &["src_nid", "dst_nid"],
        _ => &["nid"],
    };
    let mut cols: Vec<(String, ArrayRef)> = vec![(col_name(opts, first_name), first)];
    for ((path, t), name) in j.ids.iter().zip(id_names) {
        let ids = load_nids(path)?;
        if ids.len() != cols[0].1.len() {
            return Err(Error::input(
                path,
                format!(
                    "{} IDs but {} has {} rows",
                    ids.len(),
                    j.main.display(),
                    cols[0].1.len()
                ),
            ));
        }
        cols.push((col_name(opts, name), map_of(t)?.map(&ids, path)?));
    }
    let batch = RecordBatch::try_from_iter(cols.iter().map(|(n, a)| (n.as_str(), a.clone())))
        .map_err(|e| Error::input(&j.main, e.to_string()))?;
    let dir = j.main.parent().unwrap_or(Path::new("."));
    let n = batch.num_rows();
    let mut written = Vec::new();
    let mut start = 0;
    let mut chunk = 0usize;
    loop {
        let len = opts.output_chunk_size.min(n - start);
        let part = batch.slice(start, len);
        let ext = match opts.output_format {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Csv => "csv",
        };
        let path = dir.join(format!("{stem}_{chunk:05}.{ext}"));
        write_staged(&path, |f| match opts.output_format {
            OutputFormat::Parquet => write_parquet(f, &part),
            OutputFormat::Csv => write_csv(f, &part, &opts.output_delimiter),
        })?;
        written.push(path);
        start += len;
        chunk += 1;
        if start >= n {
            break;
        }
    }
    Ok((written, n as u64))
}

/// Writes through a temporary file in the same folder, renamed to `path` on success.
fn write_staged(
    path: &Path,
    f: impl FnOnce(std::fs::File) -> std::result::Result<(), String>,
) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("output");
    let tmp = path.with_file_name(format!(".{name}.graphprep-tmp"));
    let file = std::fs::File::create(&tmp).map_err(|e| Error::write(&tmp, e))?;
    if let Err(msg) = f(file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::input(path, msg));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::write(path, e))
}

fn write_parquet(file: std::fs::File, batch: &RecordBatch) -> std::result::Result<(), String> {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let fail = |e: parquet::errors::ParquetError| format!("writing Parquet: {e}");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(fail)?;
    w.write(batch).map_err(fail)?;
    w.close().map_err(fail)?;
    Ok(())
}

/// Python's `repr(float(x))`, as GraphStorm's CSV writer prints each float32 of a list
/// (widened to float64): shortest round-trip digits, positional for 1e-4 <= |x| < 1e16 (with
/// `.0` for integral values), else `9.99e-06` style.
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-4..1e16).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{x:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", e.abs())
    }
}

fn csv_field(s: &str, delim: &str) -> String {
    if s.contains(delim) || s.contains('"') || s.contains('\n') || s.contains('\r') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn cell(a: &dyn Array, i: usize) -> std::result::Result<String, String> {
    use arrow::array::AsArray;
    if a.is_null(i) {
        return Ok(String::new());
    }
    Ok(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::Int64 => a
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(i)
            .to_string(),
        DataType::List(_) => {
            let row = a.as_list::<i32>().value(i);
            let v = row.as_primitive::<arrow::datatypes::Float32Type>();
            v.values()
                .iter()
                .map(|&x| python_float_repr(f64::from(x)))
                .collect::<Vec<_>>()
                .join(";")
        }
        other => return Err(format!("cannot write a {other} column as CSV")),
    })
}

fn write_csv(
    file: std::fs::File,
    batch: &RecordBatch,
    delim: &str,
) -> std::result::Result<(), String> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(file);
    let io = |e: std::io::Error| format!("writing CSV: {e}");
    let schema = batch.schema();
    let header: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| csv_field(f.name(), delim))
        .collect();
    writeln!(w, "{}", header.join(delim)).map_err(io)?;
    for i in 0..batch.num_rows() {
        let mut row = Vec::with_capacity(batch.num_columns());
        for c in batch.columns() {
            row.push(csv_field(&cell(c.as_ref(), i)?, delim));
        }
        writeln!(w, "{}", row.join(delim)).map_err(io)?;
    }
    w.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ranges_match_graphstorm() {
        let sizes: Vec<usize> = (0..4).map(|r| file_range(10, r, 4).len()).collect();
        assert_eq!(sizes, vec![2, 2, 3, 3]);
        assert_eq!(file_range(10, 3, 4), 7..10);
        assert_eq!(file_range(3, 0, 1), 0..3);
    }

    #[test]
    fn floats_print_like_python() {
        let r = |x: f32| python_float_repr(f64::from(x));
        assert_eq!(r(1.0), "1.0");
        assert_eq!(r(0.5), "0.5");
        assert_eq!(r(0.1), "0.10000000149011612");
        assert_eq!(r(-2.5), "-2.5");
        assert_eq!(r(1e-5), "9.999999747378752e-06");
        assert_eq!(python_float_repr(1.5e-7), "1.5e-07");
        assert_eq!(r(0.0), "0.0");
        assert_eq!(r(-0.0), "-0.0");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(0.0001), "0.0001");
        assert_eq!(r(f32::NAN), "nan");
    }
}
