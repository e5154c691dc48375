//! Train/val/test selection: seeded percentage splits and custom split files.
//!
//! Percentage split (deliberately global, unlike GraphStorm's per-file floors): over the valid
//! rows of all files of the block (global row index = file order, then row order),
//! `n_x = floor(n_valid · p_x)`; a ChaCha8 RNG seeded with the label's seed partially shuffles
//! the valid row list and the first `n_train`, next `n_val`, next `n_test` rows are chosen.
//! Single-threaded, so the result depends only on the input and the seed.
//!
//! Custom split: split files list raw IDs (nodes) or `[src, dst]` pairs (edges), as JSON lines
//! (one JSON value per line) or Parquet columns. IDs are compared type-sensitively as GraphStorm
//! does with Python values: integers match integers (integral floats count as integers, as
//! `1.0 == 1` in Python), strings match strings, so a JSON `"1"` never matches an int64 `1`.
//!
//! # Memory
//! Percentage split: one `usize` per valid row. Custom split: the split files' IDs in hash
//! sets plus one key per data row while matching.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use arrow::array::{Array, ArrayRef};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::idmap::RawId;

/// A raw ID (or an edge's ID pair) as compared by custom splits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Int(i64),
    /// A non-integral float, by bit pattern.
    Float(u64),
    Str(String),
    Pair(Box<Key>, Box<Key>),
}

impl Key {
    fn from_f64(x: f64) -> Key {
        if x.fract() == 0.0 && x >= i64::MIN as f64 && x < i64::MAX as f64 {
            Key::Int(x as i64)
        } else {
            Key::Float(x.to_bits())
        }
    }
}

/// Chooses `floor(n·p)` rows for each split among `valid` (global row indices).
/// Returns the chosen rows per split.
pub(crate) fn pct_split(mut valid: Vec<usize>, pct: [f64; 3], seed: u64) -> [Vec<usize>; 3] {
    let n = valid.len();
    let mut counts = pct.map(|p| ((n as f64) * p).floor() as usize);
    // split_pct may exceed 1 by the 1e-9 tolerance; never choose more rows than exist.
    let mut left = n;
    for c in &mut counts {
        *c = (*c).min(left);
        left -= *c;
    }
    let total: usize = counts.iter().sum();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (chosen, _) = valid.partial_shuffle(&mut rng, total);
    let train = chosen[..counts[0]].to_vec();
    let val = chosen[counts[0]..counts[0] + counts[1]].to_vec();
    let test = chosen[counts[0] + counts[1]..total].to_vec();
    [train, val, test]
}

/// Key of row `i` of an ID column, `None` for a null. `Err` for an unsupported column type.
fn key_at(arr: &dyn Array, i: usize) -> std::result::Result<Option<Key>, String> {
    Ok(match RawId::at(arr, i)? {
        None => None,
        Some(RawId::Int(v)) => Some(Key::Int(v)),
        Some(RawId::Float(x)) => Some(Key::from_f64(x)),
        Some(RawId::Float32(x)) => Some(Key::from_f64(x as f64)),
        Some(RawId::Str(s)) => Some(Key::Str(s.to_string())),
        Some(RawId::Bool(_)) => return Err("ID columns of type Boolean are not supported".into()),
    })
}

/// Keys of every row of a block file: the node ID, or the `(src, dst)` pair.
pub(crate) fn row_keys(ids: &[ArrayRef], file: &Path) -> Result<Vec<Option<Key>>> {
    let n = ids.first().map_or(0, |a| a.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let k = match ids {
            [one] => key_at(one.as_ref(), i),
            [s, d] => match (key_at(s.as_ref(), i), key_at(d.as_ref(), i)) {
                (Ok(Some(a)), Ok(Some(b))) => Ok(Some(Key::Pair(Box::new(a), Box::new(b)))),
                (Err(e), _) | (_, Err(e)) => Err(e),
                _ => Ok(None),
            },
            _ => Err(format!(
                "custom splits need 1 (node) or 2 (edge) ID columns, got {}",
                ids.len()
            )),
        }
        .map_err(|e| Error::input(file, e))?;
        out.push(k);
    }
    Ok(out)
}

fn json_key(v: &serde_json::Value) -> Option<Key> {
    use serde_json::Value;
    match v {
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Key::Int(i),
            None => Key::from_f64(n.as_f64()?),
        }),
        Value::String(s) => Some(Key::Str(s.clone())),
        _ => None,
    }
}

/// Reads one JSON-lines split file: one ID (nodes, `pair == false`) or `[src, dst]` (edges) per
/// line; blank lines are skipped.
fn read_json_split(file: &Path, pair: bool, out: &mut HashSet<Key>) -> Result<()> {
    let f = std::fs::File::open(file)
        .map_err(|e| Error::input(file, format!("cannot open split file: {e}")))?;
    for (lineno, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| Error::input(file, format!("cannot read split file: {e}")))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad =
            |what: &str| Error::input(file, format!("line {}: {what}, found {line:?}", lineno + 1));
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| bad(&format!("each line must be one JSON value ({e})")))?;
        let key = match (&v, pair) {
            (serde_json::Value::Array(items), true) if items.len() == 2 => {
                match (json_key(&items[0]), json_key(&items[1])) {
                    (Some(a), Some(b)) => Key::Pair(Box::new(a), Box::new(b)),
                    _ => return Err(bad("edge IDs must be numbers or strings")),
                }
            }
            (_, true) => return Err(bad("edge split lines must be [src_id, dst_id]")),
            (v, false) => json_key(v)
                .ok_or_else(|| bad("node split lines must be one ID (a number or a string)"))?,
        };
        out.insert(key);
    }
    Ok(())
}

/// Reads one Parquet split file's `columns` (1 for nodes, 2 for edges).
fn read_parquet_split(file: &Path, columns: &[String], out: &mut HashSet<Key>) -> Result<()> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let f = std::fs::File::open(file)
        .map_err(|e| Error::input(file, format!("cannot open split file: {e}")))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .map_err(|e| Error::input(file, format!("cannot read parquet split file: {e}")))?;
    for batch in reader {
        let batch = batch.map_err(|e| Error::input(file, format!("cannot read parquet: {e}")))?;
        let mut cols = Vec::with_capacity(columns.len());
        for c in columns {
            let arr = batch.column_by_name(c).ok_or_else(|| {
                let have: Vec<_> = batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                Error::input(
                    file,
                    format!("split file has no column '{c}' (columns: {have:?})"),
                )
            })?;
            cols.push(arr.clone());
        }
        for k in row_keys(&cols, file)?.into_iter().flatten() {
            out.insert(k);
        }
    }
    Ok(())
}

/// The set of IDs listed by the split files of one split.
pub(crate) fn read_split_set(
    files: &[std::path::PathBuf],
    columns: &[String],
    pair: bool,
) -> Result<HashSet<Key>> {
    let mut set = HashSet::new();
    for f in files {
        match f.extension().and_then(|e| e.to_str()) {
            Some("parquet") => read_parquet_split(f, columns, &mut set)?,
            _ => read_json_split(f, pair, &mut set)?,
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_counts_are_global_floors_and_disjoint() {
        let [tr, va, te] = pct_split((0..10).collect(), [0.8, 0.1, 0.1], 7);
        assert_eq!((tr.len(), va.len(), te.len()), (8, 1, 1));
        let all: HashSet<_> = tr.iter().chain(&va).chain(&te).collect();
        assert_eq!(all.len(), 10);
        let [tr, va, te] = pct_split((0..20).collect(), [0.4, 0.05, 0.05], 7);
        assert_eq!((tr.len(), va.len(), te.len()), (8, 1, 1));
    }

    #[test]
    fn pct_is_seeded() {
        let a = pct_split((0..100).collect(), [0.5, 0.2, 0.2], 1);
        let b = pct_split((0..100).collect(), [0.5, 0.2, 0.2], 1);
        let c = pct_split((0..100).collect(), [0.5, 0.2, 0.2], 2);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn json_keys_are_type_sensitive() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        std::fs::write(&p, "1\n\"2\"\n3.0\n\n").unwrap();
        let s = read_split_set(std::slice::from_ref(&p), &[], false).unwrap();
        assert!(s.contains(&Key::Int(1)));
        assert!(s.contains(&Key::Str("2".into())));
        assert!(!s.contains(&Key::Int(2)));
        assert!(s.contains(&Key::Int(3)));
        std::fs::write(&p, "[1, 2]\n").unwrap();
        let err = read_split_set(std::slice::from_ref(&p), &[], false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
        let s = read_split_set(&[p], &[], true).unwrap();
        assert!(s.contains(&Key::Pair(Box::new(Key::Int(1)), Box::new(Key::Int(2)))));
    }
}
