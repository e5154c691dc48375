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
/// `shop`'s, all of them are `shop_transforms`'s.
const INPUTS: &[&str] = &[
    "shop/buys.csv",
    "shop/follows.csv",
    "shop/users/user-0.csv",
    "shop/users/user-1.csv",
    "shop/items.parquet",
    "shop/sold_at.parquet",
    "shop/stores.json",
    "shop/tagged.json",
    "shop_transforms/stores.json",
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
