//! Helpers shared by the integration tests that read graphprep's output back per raw ID:
//! run the binary, read `raw_id_mappings/<ntype>/*.parquet` and `part0/*_feat.dgl`, and
//! [`read_back`], which every test that produces an output runs on it: the output must open
//! through `dataset::distdgl` (the reader every consuming command uses) and read completely.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow::array::{Array, Int64Array, LargeStringArray, StringArray};
use graphprep::format::dgl::load_tensor_dict;
use graphprep::tensor::{DType, Tensor};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `graphprep construct --conf-file <conf> --output-dir <out>`, for callers to add flags to.
pub fn construct_cmd(conf: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_graphprep"));
    c.arg("construct")
        .arg("--conf-file")
        .arg(conf)
        .arg("--output-dir")
        .arg(out);
    c
}

/// Runs `graphprep construct` with graph name `shop` (1 partition unless `extra` says
/// otherwise) and reads the output back; panics with its stderr on failure.
pub fn construct(conf: &Path, out: &Path, extra: &[&str]) {
    construct_named(conf, out, "shop", extra)
}

/// [`construct`] with another graph name.
pub fn construct_named(conf: &Path, out: &Path, graph: &str, extra: &[&str]) {
    let st = construct_cmd(conf, out)
        .args(["--graph-name", graph, "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "graphprep {conf:?} {extra:?} failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    read_back(out);
}

/// Reads a finished output back completely: every DistDGL partition through
/// `dataset::distdgl` (book, graph, CSC, every feature byte, ID mappings, raw ID maps) and
/// every single-file DGL graph through `format::dgl`. Panics with the reader's error.
pub fn read_back(out: &Path) {
    let has_config = std::fs::read_dir(out).unwrap().flatten().any(|e| {
        let p = e.path();
        p.extension().is_some_and(|x| x == "json")
            && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("\"node_map\""))
    });
    if has_config {
        let o = graphprep::dataset::distdgl::open(out).unwrap_or_else(|e| panic!("{e}"));
        let nmap = o.node_mapping().unwrap_or_else(|e| panic!("{e}"));
        let emap = o.edge_mapping().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            nmap.is_some() && emap.is_some(),
            "ID mappings missing in {out:?}"
        );
        for t in o.ntypes() {
            if let Some(m) = o.raw_id_map(t).unwrap_or_else(|e| panic!("{e}")) {
                m.rows_by_new().unwrap();
            }
        }
        let (mut inner_nodes, mut inner_edges) = (0, 0);
        for p in 0..o.num_parts() {
            let part = o.partition(p).unwrap_or_else(|e| panic!("{e}"));
            let csc = part.csc().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(csc.nnz(), part.num_edges());
            inner_nodes += part.num_inner_nodes;
            inner_edges += part.num_inner_edges;
            for (_, _, t) in part.all_node_feats().chain(part.all_edge_feats()) {
                let _: u64 = t.bytes().iter().map(|&b| u64::from(b)).sum();
            }
        }
        assert_eq!(inner_nodes, o.book.nodes.total());
        assert_eq!(inner_edges, o.book.edges.total());
    }
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "dgl") {
            graphprep::format::dgl::load_graph(&p).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Copies the folder `from` into `to` recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let q = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &q);
        } else {
            std::fs::copy(&p, &q).unwrap();
        }
    }
}

/// The invalid-input fixtures `tests/fixtures/invalid/<case>/`, sorted.
pub fn invalid_cases() -> Vec<PathBuf> {
    let root = repo().join("tests/fixtures/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "fixtures missing");
    cases
}

/// Every file under `dir` (relative path → bytes).
pub fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// `partition_stats.json` reports how long METIS took: the only bytes allowed to differ.
pub fn without_timings(name: &Path, bytes: &[u8]) -> Vec<u8> {
    if name != Path::new("partition_stats.json") {
        return bytes.to_vec();
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    if let Some(m) = v.get_mut("metis").and_then(|m| m.as_object_mut()) {
        assert!(m.remove("csr_seconds").is_some() && m.remove("metis_seconds").is_some());
    }
    serde_json::to_vec(&v).unwrap()
}

/// Raw ID of every construction ID of `ntype` (`None`: NoopMap, no mapping written).
pub fn raw_ids(out: &Path, ntype: &str) -> Option<Vec<Value>> {
    let dir = out.join("raw_id_mappings").join(ntype);
    if !dir.is_dir() {
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let mut pairs: Vec<(i64, Value)> = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let new = batch
                .column_by_name("new")
                .expect("new column")
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("new is int64")
                .clone();
            let orig = batch.column_by_name("orig").expect("orig column");
            let o = orig.as_any();
            for i in 0..batch.num_rows() {
                let v = if let Some(s) = o.downcast_ref::<StringArray>() {
                    Value::from(s.value(i))
                } else if let Some(s) = o.downcast_ref::<LargeStringArray>() {
                    Value::from(s.value(i))
                } else if let Some(s) = o.downcast_ref::<Int64Array>() {
                    Value::from(s.value(i))
                } else {
                    panic!("unexpected orig type {:?}", orig.data_type())
                };
                pairs.push((new.value(i), v));
            }
        }
    }
    pairs.sort_by_key(|p| p.0);
    for (k, (n, _)) in pairs.iter().enumerate() {
        assert_eq!(*n, k as i64, "{ntype}: `new` is not 0..N-1");
    }
    Some(pairs.into_iter().map(|p| p.1).collect())
}

/// `part0/<file>` as a map `"<type>/<name>"` → tensor.
pub fn part0(out: &Path, file: &str) -> BTreeMap<String, Tensor> {
    load_tensor_dict(&out.join("part0").join(file))
        .unwrap()
        .into_iter()
        .collect()
}

/// Every element as f64, row by row.
pub fn rows_f64(t: &Tensor) -> Vec<Vec<f64>> {
    let flat: Vec<f64> = match t.dtype {
        DType::I8 => t
            .values::<i8>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        DType::U8 => t
            .values::<u8>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        DType::I16 => t
            .values::<i16>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        DType::I32 => t
            .values::<i32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        DType::I64 => t
            .values::<i64>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        DType::F16 => t
            .values::<half::f16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        DType::F32 => t
            .values::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        DType::F64 => t.values::<f64>().unwrap().into_owned(),
    };
    let w = t.row_len().max(1);
    flat.chunks(w).map(|c| c.to_vec()).collect()
}

pub fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-5 * b.abs().max(a.abs()) + 1e-7
}

/// The expected per-raw-ID values of `sample_data/shop_transforms` (GraphStorm's output).
pub fn expected() -> Value {
    let p = repo().join("sample_data/shop_transforms/expected_features.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn key(v: &Value) -> String {
    match v {
        Value::String(s) => format!("s:{s}"),
        other => format!("n:{other}"),
    }
}

/// Construction ID of every raw ID of `ntype` in graphprep's output (`n` rows when NoopMap).
pub fn id_index(out: &Path, ntype: &str, n: usize) -> BTreeMap<String, usize> {
    match raw_ids(out, ntype) {
        Some(ids) => ids.iter().enumerate().map(|(i, v)| (key(v), i)).collect(),
        None => (0..n).map(|i| (key(&Value::from(i as i64)), i)).collect(),
    }
}

/// Compares every feature of `expected()` (GraphStorm, per raw ID) with graphprep's 1-partition
/// output in `out`: dtype, shape and values (rtol 1e-5). rank_gauss: sorted columns, and per raw
/// ID only where the input value is unique in its column. Hard negatives as raw dst IDs. Returns
/// the number of compared values; panics listing every mismatch.
pub fn check_against_expected(out: &Path, exp: &Value) -> usize {
    let nf = part0(out, "node_feat.dgl");
    let ef = part0(out, "edge_feat.dgl");
    let mut bad: Vec<String> = Vec::new();
    let mut compared = 0usize;
    let mut index_cache: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut raw_cache: BTreeMap<String, Option<Vec<Value>>> = BTreeMap::new();

    let compare = |what: &str,
                   t: &Tensor,
                   spec: &Value,
                   order: &[usize],
                   bad: &mut Vec<String>,
                   hn_raw: Option<&Option<Vec<Value>>>| {
        let dtype = spec["dtype"].as_str().unwrap();
        if t.dtype.name() != dtype {
            bad.push(format!("{what}: dtype {} vs {dtype}", t.dtype.name()));
        }
        let want: Vec<&Vec<Value>> = spec["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap())
            .collect();
        let got = rows_f64(t);
        if got.len() != want.len() || got.iter().zip(&want).any(|(g, w)| g.len() != w.len()) {
            bad.push(format!(
                "{what}: shape {:?} vs {} rows of {}",
                t.shape,
                want.len(),
                want.first().map_or(0, |r| r.len())
            ));
            return 0;
        }
        let tr = spec["transform"].as_str().unwrap();
        let mut n = 0;
        if let Some(raw) = hn_raw {
            // hard negatives: our IDs are construction IDs of the dst type (1 partition)
            for (i, w) in want.iter().enumerate() {
                for (c, wv) in w.iter().enumerate() {
                    let g = got[order[i]][c] as i64;
                    let gv = if g < 0 {
                        Value::Null
                    } else {
                        match raw {
                            Some(ids) => ids[g as usize].clone(),
                            None => Value::from(g),
                        }
                    };
                    if &gv != wv {
                        bad.push(format!("{what}[{i}][{c}]: {gv} vs {wv}"));
                    }
                    n += 1;
                }
            }
            return n;
        }
        let want_f = |i: usize, c: usize| want[i][c].as_f64().unwrap();
        if tr == "rank_gauss" {
            let unique = spec["unique"].as_array().unwrap();
            for c in 0..want[0].len() {
                let mut a: Vec<f64> = (0..want.len()).map(|i| got[order[i]][c]).collect();
                let mut b: Vec<f64> = (0..want.len()).map(|i| want_f(i, c)).collect();
                a.sort_by(f64::total_cmp);
                b.sort_by(f64::total_cmp);
                if let Some(k) = (0..a.len()).find(|&k| !close(a[k], b[k])) {
                    bad.push(format!("{what} col {c} sorted[{k}]: {} vs {}", a[k], b[k]));
                }
                for i in 0..want.len() {
                    if unique[i][c].as_bool().unwrap() {
                        n += 1;
                        if !close(got[order[i]][c], want_f(i, c)) {
                            bad.push(format!(
                                "{what}[{i}][{c}] (unique input): {} vs {}",
                                got[order[i]][c],
                                want_f(i, c)
                            ));
                        }
                    }
                }
            }
            return n;
        }
        for (i, w) in want.iter().enumerate() {
            let g = &got[order[i]];
            for (c, gv) in g.iter().enumerate().take(w.len()) {
                n += 1;
                if !close(*gv, want_f(i, c)) {
                    bad.push(format!("{what}[{i}][{c}] ({tr}): {gv} vs {}", want_f(i, c)));
                }
            }
        }
        n
    };

    for (ntype, ent) in exp["node_types"].as_object().unwrap() {
        let ids = ent["ids"].as_array().unwrap();
        let idx = index_cache
            .entry(ntype.clone())
            .or_insert_with(|| id_index(out, ntype, ids.len()))
            .clone();
        assert_eq!(idx.len(), ids.len(), "{ntype}: node count");
        let order: Vec<usize> = ids
            .iter()
            .map(|v| {
                *idx.get(&key(v))
                    .unwrap_or_else(|| panic!("{ntype}: raw ID {v} missing"))
            })
            .collect();
        for (name, spec) in ent["features"].as_object().unwrap() {
            let k = format!("{ntype}/{name}");
            match nf.get(&k) {
                None => bad.push(format!("node feature {k} missing")),
                Some(t) => compared += compare(&k, t, spec, &order, &mut bad, None),
            }
        }
    }
    for (etype, ent) in exp["edge_types"].as_object().unwrap() {
        let n = ent["src"].as_array().unwrap().len();
        let order: Vec<usize> = (0..n).collect(); // 1 partition: row = construction EID
        let dst_t = etype.split(':').nth(2).unwrap().to_string();
        for (name, spec) in ent["features"].as_object().unwrap() {
            let k = format!("{etype}/{name}");
            let hn = spec["transform"] == "edge_dst_hard_negative";
            let raw = hn.then(|| {
                raw_cache
                    .entry(dst_t.clone())
                    .or_insert_with(|| raw_ids(out, &dst_t))
                    .clone()
            });
            match ef.get(&k) {
                None => bad.push(format!("edge feature {k} missing")),
                Some(t) => compared += compare(&k, t, spec, &order, &mut bad, raw.as_ref()),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches against GraphStorm's values:\n{}",
        bad.len(),
        bad.join("\n")
    );
    compared
}

/// Row `r` of a raw ID map's `orig` column as text (string or integer IDs).
pub fn raw_id_text(orig: &arrow::array::ArrayRef, r: usize) -> String {
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    if let Some(s) = orig.as_string_opt::<i32>() {
        s.value(r).to_string()
    } else if let Some(s) = orig.as_string_opt::<i64>() {
        s.value(r).to_string()
    } else if let Some(v) = orig.as_primitive_opt::<Int64Type>() {
        v.value(r).to_string()
    } else {
        panic!("raw IDs of type {:?}", orig.data_type())
    }
}
