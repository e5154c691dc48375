//! Property test: damaged copies of `sample_data/shop` and `sample_data/shop_transforms` (one
//! input file truncated, byte-flipped, missing or blanking a column, or without rows; CSV,
//! Parquet and JSON lines) go through `graphprep construct`, which
//! must either succeed or exit 1 with an `error:` message: never panic (exit 101), die of a
//! signal or hang (killed after [`TIMEOUT`]).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::NullArray;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::*;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The samples' input files (relative to `sample_data`): the first [`SHOP_INPUTS`] are
/// `shop`'s (CSV and Parquet); `shop_transforms` reads most of them too, plus its own JSON-lines
/// node and edge files.
const INPUTS: &[&str] = &[
    "shop/buys.csv",
    "shop/follows.csv",
    "shop/users/user-0.csv",
    "shop/users/user-1.csv",
    "shop/items.parquet",
    "shop/sold_at.parquet",
    "shop/stores.csv",
    "shop/tagged.parquet",
    "shop_transforms/stores.json",
    "shop_transforms/tagged.json",
    "shop_transforms/views.csv",
];
const SHOP_INPUTS: usize = 8;

/// The samples' configs.
const CONFIGS: &[&str] = &["shop/config.json", "shop_transforms/config.json"];

#[derive(Clone, Debug)]
enum Damage {
    /// Keep this fraction (in 1/1000) of the bytes.
    Truncate(u32),
    /// XOR the byte at this position (in 1/1000 of the length) with a non-zero mask.
    Flip(u32, u8),
    /// Drop the column with this index (modulo the number of columns).
    DropColumn(usize),
    /// Blank every value of the column with this index (CSV: empty cells, JSON: null,
    /// Parquet: an all-null column of type Null).
    BlankColumn(usize),
    /// Keep the header / schema, no rows.
    NoRows,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0u32..1000).prop_map(Damage::Truncate),
        (0u32..1000, 1u8..=255).prop_map(|(p, m)| Damage::Flip(p, m)),
        (0usize..8).prop_map(Damage::DropColumn),
        (0usize..8).prop_map(Damage::BlankColumn),
        Just(Damage::NoRows),
    ]
}

/// Drops column `k` of a CSV (naively split on commas: quoting is part of what is fuzzed);
/// with `blank`, empties its cells instead.
fn drop_csv_column(text: &str, k: usize, blank: bool) -> String {
    let n = text
        .lines()
        .next()
        .map_or(1, |h| h.split(',').count())
        .max(1);
    let k = k % n;
    let mut out = String::new();
    for (row, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let kept: Vec<&str> = cells
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != k || blank)
            .map(|(i, c)| if blank && i == k && row > 0 { "" } else { *c })
            .collect();
        out.push_str(&kept.join(","));
        out.push('\n');
    }
    out
}

/// Drops key number `k` (in the first object's order) from every JSON line; with `blank`,
/// sets it to null instead.
fn drop_json_key(text: &str, k: usize, blank: bool) -> String {
    let first: serde_json::Map<String, serde_json::Value> = text
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    let Some(key) = first.keys().nth(k % first.len().max(1)).cloned() else {
        return text.to_string();
    };
    let mut out = String::new();
    for line in text.lines() {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        if blank {
            v.insert(key.clone(), serde_json::Value::Null);
        } else {
            v.remove(&key);
        }
        out.push_str(&serde_json::to_string(&v).unwrap());
        out.push('\n');
    }
    out
}

/// Rewrites a Parquet file without its column `k` (`Some(k)`: with `blank`, the column
/// becomes all-null of type Null) or without rows (`None`).
fn rewrite_parquet(path: &Path, k: Option<usize>, blank: bool) {
    let f = std::fs::File::open(path).unwrap();
    let r = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = r.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    let f = std::fs::File::create(path).unwrap();
    let Some(k) = k else {
        let w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.close().unwrap();
        return;
    };
    let k = k % schema.fields().len();
    if blank {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[k] = Field::new(fields[k].name(), DataType::Null, true);
        let new_schema = Arc::new(Schema::new(fields));
        let mut w = parquet::arrow::ArrowWriter::try_new(f, new_schema.clone(), None).unwrap();
        for b in batches {
            let mut cols = b.columns().to_vec();
            cols[k] = Arc::new(NullArray::new(b.num_rows()));
            w.write(&RecordBatch::try_new(new_schema.clone(), cols).unwrap())
                .unwrap();
        }
        w.close().unwrap();
        return;
    }
    let keep: Vec<usize> = (0..schema.fields().len()).filter(|&i| i != k).collect();
    let new_schema = Arc::new(schema.project(&keep).unwrap());
    let mut w = parquet::arrow::ArrowWriter::try_new(f, new_schema, None).unwrap();
    for b in batches {
        w.write(&b.project(&keep).unwrap()).unwrap();
    }
    w.close().unwrap();
}

fn apply(path: &Path, d: &Damage) {
    let bytes = std::fs::read(path).unwrap();
    let name = path.to_string_lossy().to_string();
    match *d {
        Damage::Truncate(f) => {
            let n = bytes.len() * f as usize / 1000;
            std::fs::write(path, &bytes[..n]).unwrap();
        }
        Damage::Flip(p, m) => {
            let mut b = bytes;
            if !b.is_empty() {
                let i = (b.len() * p as usize / 1000).min(b.len() - 1);
                b[i] ^= m;
            }
            std::fs::write(path, b).unwrap();
        }
        Damage::DropColumn(k) | Damage::BlankColumn(k) => {
            let blank = matches!(d, Damage::BlankColumn(_));
            if name.ends_with(".parquet") {
                rewrite_parquet(path, Some(k), blank);
            } else if name.ends_with(".json") {
                let t = String::from_utf8(bytes).unwrap();
                std::fs::write(path, drop_json_key(&t, k, blank)).unwrap();
            } else {
                let t = String::from_utf8(bytes).unwrap();
                std::fs::write(path, drop_csv_column(&t, k, blank)).unwrap();
            }
        }
        Damage::NoRows => {
            if name.ends_with(".parquet") {
                rewrite_parquet(path, None, false);
            } else if name.ends_with(".json") {
                std::fs::write(path, "").unwrap();
            } else {
                let t = String::from_utf8(bytes).unwrap();
                let header = t.lines().next().unwrap_or("");
                std::fs::write(path, format!("{header}\n")).unwrap();
            }
        }
    }
}

/// Runs construct; returns (exit code or None for a signal, stderr), or panics on a hang.
fn construct(conf: &Path, out: &Path) -> (Option<i32>, String) {
    let mut child = common::construct_cmd(conf, out)
        .args(["--graph-name", "shop", "--quiet"])
        // The HDF5 cases write their files from this process; the reader only reads.
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("construct did not finish within {TIMEOUT:?} (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    (status.code(), stderr)
}

fn check(conf: usize, file: usize, d: &Damage) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("sample_data");
    for s in ["shop", "shop_transforms"] {
        common::copy_dir(&common::repo().join("sample_data").join(s), &data.join(s));
    }
    let target: PathBuf = data.join(INPUTS[file]);
    apply(&target, d);
    let (code, stderr) = construct(&data.join(CONFIGS[conf]), &tmp.path().join("out"));
    let what = format!("{} with {} damaged by {d:?}", CONFIGS[conf], INPUTS[file]);
    clean_outcome(&what, code, &stderr)
}

/// Success, or exit 1 with an `error:` line; anything else (101 = panic, a signal) fails.
fn clean_outcome(what: &str, code: Option<i32>, stderr: &str) -> Result<(), TestCaseError> {
    if std::env::var_os("INPUT_FUZZ_VERBOSE").is_some() {
        let last = stderr.lines().last().unwrap_or("");
        eprintln!("{what}: exit {code:?} {last}");
    }
    match code {
        Some(0) => {}
        Some(1) => {
            let msg = stderr
                .lines()
                .find_map(|l| l.strip_prefix("error:"))
                .map(str::trim)
                .unwrap_or("");
            prop_assert!(
                !msg.is_empty(),
                "{what}: exit 1 without an error message: {stderr}"
            );
        }
        other => prop_assert!(
            false,
            "{what}: exit {other:?} (101 = panic, None = signal): {stderr}"
        ),
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("INPUT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn damaged_inputs_fail_cleanly(
        (conf, file) in (0..CONFIGS.len()).prop_flat_map(|c| {
            (Just(c), 0..if c == 0 { SHOP_INPUTS } else { INPUTS.len() })
        }),
        d in damage(),
    ) {
        check(conf, file, &d)?;
    }
}

/// Each damage kind once on each file of `shop_transforms` (the property test samples; this
/// always covers all).
#[test]
fn every_file_every_damage_kind() {
    for file in 0..INPUTS.len() {
        for d in [
            Damage::Truncate(0),
            Damage::Truncate(500),
            Damage::Flip(500, 0xff),
            Damage::DropColumn(0),
            Damage::DropColumn(1),
            Damage::BlankColumn(0),
            Damage::BlankColumn(1),
            Damage::BlankColumn(2),
            Damage::NoRows,
        ] {
            check(1, file, &d).unwrap();
        }
    }
}

/// HDF5 as GraphStorm users have it: a feature-only block (no ID column) aligned by row
/// position with the node IDs of a CSV block, over two files. One file is damaged: truncated,
/// byte-flipped at positions across the whole file (superblock, object headers, B-trees, raw
/// data), a dataset missing, too few or too many rows, a wrong row shape, a string dataset.
#[cfg(feature = "hdf5")]
mod hdf5_cases {
    use super::*;

    const USERS: usize = 6;

    /// Writes rows `lo..hi`: `emb` (rows × width float32), `score` (float64), `rank` (int32),
    /// leaving out `skip`; `name` as a string dataset when `strings`.
    fn write_h5(path: &Path, lo: usize, hi: usize, width: usize, skip: &str, strings: bool) {
        let f = hdf5::File::create(path).unwrap();
        let n = hi - lo;
        if skip != "emb" {
            let emb: Vec<f32> = (lo..hi)
                .flat_map(|i| (0..width).map(move |j| (i * 10 + j) as f32))
                .collect();
            let ds = f
                .new_dataset::<f32>()
                .shape([n, width])
                .create("emb")
                .unwrap();
            ds.write_raw(&emb).unwrap();
        }
        if skip != "score" {
            let score: Vec<f64> = (lo..hi).map(|i| i as f64 / 2.0).collect();
            let ds = f.new_dataset::<f64>().shape([n]).create("score").unwrap();
            ds.write_raw(&score).unwrap();
        }
        if skip != "rank" {
            let rank: Vec<i32> = (lo..hi).map(|i| i as i32).collect();
            let ds = f.new_dataset::<i32>().shape([n]).create("rank").unwrap();
            ds.write_raw(&rank).unwrap();
        }
        if strings {
            use hdf5::types::VarLenUnicode;
            let names: Vec<VarLenUnicode> =
                (lo..hi).map(|i| format!("n{i}").parse().unwrap()).collect();
            let ds = f
                .new_dataset::<VarLenUnicode>()
                .shape([n])
                .create("name")
                .unwrap();
            ds.write_raw(&names).unwrap();
        }
    }

    /// The inputs in `dir`, with `feat_0.h5` written by `first` (rows 0..3 unless it says
    /// otherwise); returns the config.
    fn write_inputs(dir: &Path, first: impl FnOnce(&Path), features: serde_json::Value) -> PathBuf {
        let mut csv = String::from("uid,x\n");
        for i in 0..USERS {
            csv.push_str(&format!("u{i},{i}\n"));
        }
        std::fs::write(dir.join("users.csv"), csv).unwrap();
        std::fs::write(
            dir.join("follows.csv"),
            "src,dst\nu0,u1\nu1,u2\nu2,u3\nu4,u5\n",
        )
        .unwrap();
        first(&dir.join("feat_0.h5"));
        write_h5(&dir.join("feat_1.h5"), 3, USERS, 2, "", false);
        let conf = serde_json::json!({
            "version": "gconstruct-v0.1",
            "nodes": [
                {"node_type": "user", "format": {"name": "csv"}, "files": "users.csv",
                 "node_id_col": "uid", "features": [{"feature_col": "x"}]},
                {"node_type": "user", "format": {"name": "hdf5"}, "files": "feat_*.h5",
                 "features": features}
            ],
            "edges": [
                {"relation": ["user", "follows", "user"], "format": {"name": "csv"},
                 "files": "follows.csv", "source_id_col": "src", "dest_id_col": "dst"}
            ]
        });
        let p = dir.join("config.json");
        std::fs::write(&p, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
        p
    }

    fn features() -> serde_json::Value {
        serde_json::json!([
            {"feature_col": "emb", "feature_name": "emb"},
            {"feature_col": "score", "feature_name": "score", "transform": {"name": "max_min_norm"}},
            {"feature_col": "rank", "feature_name": "rank", "out_dtype": "float16"}
        ])
    }

    fn run(
        what: &str,
        first: impl FnOnce(&Path),
        damage: impl FnOnce(&Path),
        features: serde_json::Value,
    ) -> Option<i32> {
        let tmp = tempfile::tempdir().unwrap();
        let conf = write_inputs(tmp.path(), first, features);
        damage(&tmp.path().join("feat_0.h5"));
        let (code, stderr) = construct(&conf, &tmp.path().join("out"));
        clean_outcome(what, code, &stderr).unwrap();
        code
    }

    fn good(p: &Path) {
        write_h5(p, 0, 3, 2, "", false);
    }

    #[test]
    fn undamaged_hdf5_builds() {
        assert_eq!(run("undamaged", good, |_| {}, features()), Some(0));
    }

    #[test]
    fn truncated_hdf5_fails_cleanly() {
        for keep in [0, 1, 8, 100, 500, 800, 950, 999] {
            run(
                &format!("feat_0.h5 cut to {keep}/1000"),
                good,
                |p| {
                    let b = std::fs::read(p).unwrap();
                    std::fs::write(p, &b[..b.len() * keep / 1000]).unwrap();
                },
                features(),
            );
        }
    }

    #[test]
    fn byte_flipped_hdf5_fails_cleanly() {
        let len = {
            let tmp = tempfile::tempdir().unwrap();
            good(&tmp.path().join("f.h5"));
            std::fs::metadata(tmp.path().join("f.h5")).unwrap().len() as usize
        };
        // Every 13th byte (about 160 positions over superblock, object headers, B-trees, heaps
        // and raw data), alternately inverted and with its low bit flipped (a flipped low bit
        // in a dimension of the dataspace header once asked for an exabyte allocation: see
        // `hdf5_declared_shape_larger_than_the_file`).
        for (k, pos) in (0..len).step_by(13).enumerate() {
            {
                let mask = if k % 2 == 0 { 0xffu8 } else { 0x01 };
                run(
                    &format!("feat_0.h5 byte {pos} ^ {mask:#x}"),
                    good,
                    |p| {
                        let mut b = std::fs::read(p).unwrap();
                        b[pos] ^= mask;
                        std::fs::write(p, b).unwrap();
                    },
                    features(),
                );
            }
        }
    }

    /// A dataset whose header declares more values than its file can hold (here: created with
    /// 2^40 rows and never written, as a damaged dimension looks) is refused before any
    /// allocation; it aborted the process with "memory allocation of ... bytes failed".
    #[test]
    fn hdf5_declared_shape_larger_than_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let conf = write_inputs(
            tmp.path(),
            |p| {
                let f = hdf5::File::create(p).unwrap();
                f.new_dataset::<f32>()
                    .shape([1usize << 40, 2])
                    .create("emb")
                    .unwrap();
            },
            serde_json::json!([{"feature_col": "emb", "feature_name": "emb"}]),
        );
        let (code, stderr) = construct(&conf, &tmp.path().join("out"));
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("dataset 'emb' declares shape [1099511627776, 2]")
                && stderr.contains("damaged or truncated"),
            "{stderr}"
        );
    }

    #[test]
    fn malformed_hdf5_datasets_fail_cleanly() {
        for skip in ["emb", "score", "rank"] {
            let code = run(
                &format!("no dataset {skip}"),
                |p| write_h5(p, 0, 3, 2, skip, false),
                |_| {},
                features(),
            );
            assert_eq!(code, Some(1), "missing dataset {skip}");
        }
        let tmp = tempfile::tempdir().unwrap();
        let conf = write_inputs(tmp.path(), |p| write_h5(p, 0, 2, 2, "", false), features());
        let (code, stderr) = construct(&conf, &tmp.path().join("out"));
        assert_eq!(code, Some(1), "too few rows: {stderr}");
        assert!(
            stderr.contains("has 5 rows but the type has 6") && stderr.contains("homogeneous"),
            "the message names the counts and why the type is called _N: {stderr}"
        );
        for (what, rows, width) in [
            ("too many rows", 4, 2),
            ("emb 3 wide here, 2 in feat_1", 3, 3),
        ] {
            let code = run(
                what,
                |p| write_h5(p, 0, rows, width, "", false),
                |_| {},
                features(),
            );
            assert_eq!(code, Some(1), "{what}");
        }
        // A string dataset used as a numeric feature.
        run(
            "string dataset as a feature",
            |p| write_h5(p, 0, 3, 2, "", true),
            |p| write_h5(&p.with_file_name("feat_1.h5"), 3, USERS, 2, "", true),
            serde_json::json!([{"feature_col": "name", "feature_name": "name"}]),
        );
        // Not an HDF5 file at all, and an empty file.
        run(
            "text instead of HDF5",
            good,
            |p| std::fs::write(p, "uid,x\n").unwrap(),
            features(),
        );
        run(
            "0-byte HDF5",
            good,
            |p| std::fs::write(p, "").unwrap(),
            features(),
        );
    }
}
