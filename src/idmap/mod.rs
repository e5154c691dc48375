//! Raw node IDs → dense per-type construction IDs.
//!
//! GraphStorm's rules (spec §3.3–§3.4): a node type whose ID column is an integer column equal to
//! `0, 1, …, N−1` in row order keeps its IDs ([`IdMap::Identity`], no `raw_id_mappings`),
//! unless `--remap-node-id`; otherwise the new ID of a node is its row position in the
//! concatenated ID column (first-seen order, not sorted). Node types that only appear in edges
//! get their IDs from the sorted unique raw IDs.
//!
//! String IDs are interned into one byte arena (`bytes` + `offsets`) and indexed by a
//! open-addressing table whose slots hold the new ID plus the key's length and first 16 bytes:
//! no heap allocation per ID, IDs of up to 16 bytes are found without touching the arena (one
//! cache miss per lookup instead of three), and batched lookups prefetch 16 slots at a time.
//! Lookups of edge endpoints run in parallel over row chunks (rayon).
//!
//! Deliberate difference from GraphStorm: integer raw IDs looked up in a string-keyed map are
//! matched by their decimal text (and string IDs in an integer-keyed map by parsing), instead of
//! failing with "The key of ID map is string, input IDs are integers" — the usual cause is CSV
//! type inference on one side only.
//!
//! # Memory
//! String maps: the raw bytes + 8 bytes offset + 32–64 bytes of table slots per ID. Integer maps:
//! 8 bytes key + ~13 bytes table entry per ID. Identity maps: nothing.

use std::hash::BuildHasher;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::datatypes::DataType;
use hashbrown::HashTable;
use rayon::prelude::*;

use crate::error::{Error, Result};

mod raw_id;

pub use raw_id::{py_float32_str, py_float_str, RawId};

/// Marker for "not found" in endpoint lookups.
pub const MISSING: u32 = u32::MAX;

/// Largest node count of one type (IDs are `u32`, `u32::MAX` is the missing marker).
pub const MAX_NODES_PER_TYPE: usize = (u32::MAX - 1) as usize;

/// Looks up raw IDs of one node type. Implemented by the ID maps; used by transforms that
/// carry raw IDs inside feature columns (`edge_dst_hard_negative`) and by custom splits.
pub trait RawIdLookup: Sync {
    /// Construction ID of a string raw ID.
    fn lookup_str(&self, raw: &str) -> Option<u32>;
    /// Construction ID of an integer raw ID.
    fn lookup_int(&self, raw: i64) -> Option<u32>;
}

/// Raw ID values of one column, converted to the two key kinds GraphStorm distinguishes.
#[derive(Debug, Clone)]
pub enum RawIds {
    Int(Vec<i64>),
    Str(StrArena),
}

impl RawIds {
    pub fn len(&self) -> usize {
        match self {
            RawIds::Int(v) => v.len(),
            RawIds::Str(a) => a.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Strings stored back to back in one buffer.
#[derive(Debug, Clone, Default)]
pub struct StrArena {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

impl StrArena {
    pub fn new() -> Self {
        StrArena {
            bytes: Vec::new(),
            offsets: vec![0],
        }
    }
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        self.offsets.push(self.bytes.len());
    }
    pub fn get(&self, i: usize) -> &str {
        // SAFETY: only whole `&str`s are pushed, so every [offsets[i], offsets[i+1]) range is
        // valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(&self.bytes[self.offsets[i]..self.offsets[i + 1]]) }
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
    fn append(&mut self, other: &StrArena) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.offsets
            .extend(other.offsets[1..].iter().map(|o| o + base));
    }
}

/// Converts an ID column to raw IDs. `what` names the column for errors; nulls are errors.
pub fn raw_ids_from_array(arr: &ArrayRef, path: &Path, column: &str) -> Result<RawIds> {
    if arr.data_type() == &DataType::Null {
        // pandas/pyarrow write an all-empty block's columns with Arrow type Null: no rows is
        // no IDs; a row of type Null is a missing ID.
        if arr.is_empty() {
            return Ok(RawIds::Int(Vec::new()));
        }
        return Err(Error::Data {
            file: path.into(),
            row: 0,
            column: column.into(),
            msg: "missing node ID (the column has type Null: every value is empty); every row \
                  needs an ID"
                .into(),
        });
    }
    if arr.null_count() > 0 {
        let row = (0..arr.len()).find(|&i| arr.is_null(i)).unwrap_or(0);
        return Err(Error::Data {
            file: path.into(),
            row: row as u64,
            column: column.into(),
            msg: "missing node ID; every row needs an ID".into(),
        });
    }
    match arr.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let a = arrow::compute::cast(arr, &DataType::Int64)
                .map_err(|e| Error::input(path, format!("column '{column}': {e}")))?;
            Ok(RawIds::Int(
                a.as_primitive::<arrow::datatypes::Int64Type>()
                    .values()
                    .to_vec(),
            ))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let a = arrow::compute::cast(arr, &DataType::Utf8)
                .map_err(|e| Error::input(path, format!("column '{column}': {e}")))?;
            let s = a.as_string::<i32>();
            let mut arena = StrArena::new();
            arena.bytes.reserve(s.value_data().len());
            arena.offsets.reserve(s.len());
            for v in s.iter() {
                arena.push(v.unwrap_or(""));
            }
            Ok(RawIds::Str(arena))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            // GraphStorm keys non-integer IDs by `str(value)`: Python float text.
            let mut arena = StrArena::new();
            for i in 0..arr.len() {
                let id = RawId::at(arr.as_ref(), i)
                    .map_err(|e| Error::input(path, format!("column '{column}': {e}")))?;
                arena.push(&id.map(|v| v.text()).unwrap_or_default());
            }
            Ok(RawIds::Str(arena))
        }
        other => Err(Error::input(
            path,
            format!("column '{column}' has type {other}; node IDs must be integers or strings"),
        )),
    }
}

/// Concatenates per-file raw IDs; if any part is string-typed, integers become decimal strings.
pub fn concat_raw_ids(parts: Vec<RawIds>) -> RawIds {
    let any_str = parts.iter().any(|p| matches!(p, RawIds::Str(_)));
    if !any_str {
        let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            if let RawIds::Int(v) = p {
                out.extend_from_slice(&v);
            }
        }
        return RawIds::Int(out);
    }
    let mut arena = StrArena::new();
    for p in parts {
        match p {
            RawIds::Str(a) => arena.append(&a),
            RawIds::Int(v) => {
                let mut buf = itoa_buf();
                for x in v {
                    buf.clear();
                    use std::fmt::Write;
                    let _ = write!(buf, "{x}");
                    arena.push(&buf);
                }
            }
        }
    }
    RawIds::Str(arena)
}

fn itoa_buf() -> String {
    String::with_capacity(24)
}

type Hasher = hashbrown::DefaultHashBuilder;

/// Rows per parallel task of the lookups.
const LOOKUP_CHUNK: usize = 1 << 14;

/// Integer-keyed map: `keys[new_id] = raw`.
#[derive(Debug)]
pub struct IntMap {
    keys: Vec<i64>,
    table: HashTable<u32>,
    hasher: Hasher,
}

/// String-keyed map: `arena.get(new_id) = raw`.
#[derive(Debug)]
pub struct StrMap {
    arena: StrArena,
    table: StrTable,
    hasher: Hasher,
}

/// Open-addressing (linear probing) table of [`StrEntry`] slots, at most 3/4 full. Its own
/// rather than `hashbrown`'s so that batched lookups can prefetch the slots of a group of keys
/// before probing them: random lookups in a table larger than the caches are latency-bound, and
/// overlapping 16 misses is what makes endpoint mapping fast.
#[derive(Debug)]
struct StrTable {
    slots: Vec<StrEntry>,
    mask: usize,
}

const EMPTY_SLOT: u32 = u32::MAX;

impl StrTable {
    fn with_capacity(n: usize) -> StrTable {
        // Load factor at most 3/4 (linear probing stays short; 32–64 B per ID).
        let cap = (n.max(8) * 4 / 3 + 1).next_power_of_two();
        StrTable {
            slots: vec![
                StrEntry {
                    prefix: [0; 16],
                    len: 0,
                    id: EMPTY_SLOT,
                };
                cap
            ],
            mask: cap - 1,
        }
    }

    #[inline]
    fn matches(e: &StrEntry, k: &str, p: &[u8; 16], arena: &StrArena) -> bool {
        e.len == k.len() as u32
            && e.prefix == *p
            && (k.len() <= 16 || arena.get(e.id as usize) == k)
    }

    /// The ID of `k` (hash `h`), or `None`.
    #[inline]
    fn find(&self, h: u64, k: &str, arena: &StrArena) -> Option<u32> {
        let p = prefix16(k);
        let mut i = h as usize & self.mask;
        loop {
            let e = &self.slots[i];
            if e.id == EMPTY_SLOT {
                return None;
            }
            if Self::matches(e, k, &p, arena) {
                return Some(e.id);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts `k` with `id`; `false` if `k` is already present.
    fn insert(&mut self, h: u64, k: &str, id: u32, arena: &StrArena) -> bool {
        let p = prefix16(k);
        let mut i = h as usize & self.mask;
        loop {
            let e = &mut self.slots[i];
            if e.id == EMPTY_SLOT {
                *e = StrEntry {
                    prefix: p,
                    len: k.len() as u32,
                    id,
                };
                return true;
            }
            if Self::matches(e, k, &p, arena) {
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn prefetch(&self, h: u64) {
        let slot: *const StrEntry = &self.slots[h as usize & self.mask];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: prefetching is a hint that never faults; the pointer is in bounds anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch(slot.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }
}

/// A string-map slot: the key's first 16 bytes and length inline, so probing and matching
/// keys of up to 16 bytes (the usual ID) never touches the arena.
#[derive(Clone, Copy, Debug)]
struct StrEntry {
    prefix: [u8; 16],
    len: u32,
    id: u32,
}

#[inline]
fn prefix16(k: &str) -> [u8; 16] {
    let mut p = [0u8; 16];
    let n = k.len().min(16);
    p[..n].copy_from_slice(&k.as_bytes()[..n]);
    p
}

/// The ID map of one node type.
#[derive(Debug)]
pub enum IdMap {
    /// Raw IDs are already `0..n` (GraphStorm's `NoopMap`).
    Identity(u64),
    Int(IntMap),
    Str(StrMap),
}

/// A duplicate raw ID found while building a map: (raw ID as text, row of the second occurrence).
#[derive(Debug)]
pub struct Duplicate {
    pub id: String,
    pub row: usize,
}

/// Indexes keys `0..n` (`key(i)` is the key of new ID `i`); the row of the first repeated
/// key is returned as a [`Duplicate`].
fn index_keys<'k, K, F>(
    n: usize,
    key: F,
    hasher: &Hasher,
) -> std::result::Result<HashTable<u32>, Duplicate>
where
    K: std::hash::Hash + PartialEq + ToString + ?Sized + 'k,
    F: Fn(usize) -> &'k K,
{
    let mut table = HashTable::with_capacity(n);
    for i in 0..n {
        let k = key(i);
        match table.entry(
            hasher.hash_one(k),
            |&j: &u32| key(j as usize) == k,
            |&j: &u32| hasher.hash_one(key(j as usize)),
        ) {
            hashbrown::hash_table::Entry::Occupied(_) => {
                return Err(Duplicate {
                    id: k.to_string(),
                    row: i,
                })
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(i as u32);
            }
        }
    }
    Ok(table)
}

impl IntMap {
    fn build(keys: Vec<i64>) -> std::result::Result<IntMap, Duplicate> {
        let hasher = Hasher::default();
        let table = index_keys(keys.len(), |i| &keys[i], &hasher)?;
        Ok(IntMap {
            keys,
            table,
            hasher,
        })
    }
    fn get(&self, k: i64) -> Option<u32> {
        self.table
            .find(self.hasher.hash_one(k), |&j| self.keys[j as usize] == k)
            .copied()
    }
}

impl StrMap {
    fn build(arena: StrArena) -> std::result::Result<StrMap, Duplicate> {
        let hasher = Hasher::default();
        let n = arena.len();
        let mut table = StrTable::with_capacity(n);
        for i in 0..n {
            let k = arena.get(i);
            if !table.insert(hasher.hash_one(k), k, i as u32, &arena) {
                return Err(Duplicate {
                    id: k.to_string(),
                    row: i,
                });
            }
        }
        Ok(StrMap {
            arena,
            table,
            hasher,
        })
    }
    #[inline]
    fn get(&self, k: &str) -> Option<u32> {
        self.table.find(self.hasher.hash_one(k), k, &self.arena)
    }

    /// `out[i]` = ID of `key(i)` or [`MISSING`]; slots of 16 keys at a time are prefetched
    /// before they are probed.
    fn get_batch<'k>(&self, out: &mut [u32], key: impl Fn(usize) -> &'k str) {
        const GROUP: usize = 16;
        let mut hashes = [0u64; GROUP];
        for (g, o) in out.chunks_mut(GROUP).enumerate() {
            let base = g * GROUP;
            for (j, h) in hashes.iter_mut().enumerate().take(o.len()) {
                *h = self.hasher.hash_one(key(base + j));
                self.table.prefetch(*h);
            }
            for (j, o) in o.iter_mut().enumerate() {
                *o = self
                    .table
                    .find(hashes[j], key(base + j), &self.arena)
                    .unwrap_or(MISSING);
            }
        }
    }
}

impl IdMap {
    /// Builds the map of a node type from its concatenated ID column (row order = new IDs).
    /// Returns the duplicate (and its row) if a raw ID repeats.
    pub fn from_node_ids(ids: RawIds, remap: bool) -> std::result::Result<IdMap, Duplicate> {
        match ids {
            RawIds::Int(v) => {
                if !remap && v.iter().enumerate().all(|(i, &x)| x == i as i64) {
                    Ok(IdMap::Identity(v.len() as u64))
                } else {
                    IntMap::build(v).map(IdMap::Int)
                }
            }
            RawIds::Str(a) => StrMap::build(a).map(IdMap::Str),
        }
    }

    /// Builds the map of a node type seen only in edges: sorted unique raw IDs (numeric order
    /// for integers, byte order for strings). `ids` may contain duplicates.
    pub fn from_edge_ids(ids: RawIds, remap: bool) -> IdMap {
        let built = match ids {
            RawIds::Int(mut v) => {
                v.par_sort_unstable();
                v.dedup();
                if !remap && v.iter().enumerate().all(|(i, &x)| x == i as i64) {
                    return IdMap::Identity(v.len() as u64);
                }
                IntMap::build(v).map(IdMap::Int)
            }
            RawIds::Str(a) => {
                let mut idx: Vec<u32> = (0..a.len() as u32).collect();
                idx.par_sort_unstable_by(|&x, &y| a.get(x as usize).cmp(a.get(y as usize)));
                idx.dedup_by(|x, y| a.get(*x as usize) == a.get(*y as usize));
                let mut sorted = StrArena::new();
                for i in idx {
                    sorted.push(a.get(i as usize));
                }
                StrMap::build(sorted).map(IdMap::Str)
            }
        };
        built.expect("keys are unique after dedup")
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        match self {
            IdMap::Identity(n) => *n as usize,
            IdMap::Int(m) => m.keys.len(),
            IdMap::Str(m) => m.arena.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `raw_id_mappings` are written for this type (not for identity maps).
    pub fn has_mapping(&self) -> bool {
        !matches!(self, IdMap::Identity(_))
    }

    /// `out[i]` = construction ID of string `key(i)` or [`MISSING`].
    fn lookup_str_batch<'k>(&self, out: &mut [u32], key: impl Fn(usize) -> &'k str) {
        match self {
            IdMap::Str(m) => m.get_batch(out, key),
            _ => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = self.lookup_str(key(i)).unwrap_or(MISSING);
                }
            }
        }
    }

    /// Maps raw IDs to construction IDs ([`MISSING`] where unknown), in parallel.
    pub fn lookup(&self, ids: &RawIds) -> Vec<u32> {
        match ids {
            RawIds::Int(v) => self.lookup_ints(v),
            RawIds::Str(a) => self.lookup_strs(a.len(), |i| a.get(i)),
        }
    }

    /// Integer keys → construction IDs, in parallel over row chunks.
    fn lookup_ints<T: Copy + Into<i64> + Sync>(&self, v: &[T]) -> Vec<u32> {
        let mut out = vec![MISSING; v.len()];
        out.par_chunks_mut(LOOKUP_CHUNK)
            .zip(v.par_chunks(LOOKUP_CHUNK))
            .for_each(|(o, v)| {
                for (o, &x) in o.iter_mut().zip(v) {
                    *o = self.lookup_int(x.into()).unwrap_or(MISSING);
                }
            });
        out
    }

    /// String keys `key(0..n)` → construction IDs, in parallel over row chunks (batched,
    /// prefetching lookups inside a chunk).
    fn lookup_strs<'k>(&self, n: usize, key: impl Fn(usize) -> &'k str + Sync) -> Vec<u32> {
        let mut out = vec![MISSING; n];
        out.par_chunks_mut(LOOKUP_CHUNK)
            .enumerate()
            .for_each(|(c, o)| self.lookup_str_batch(o, |k| key(c * LOOKUP_CHUNK + k)));
        out
    }

    /// Maps an Arrow ID column straight to construction IDs ([`MISSING`] where unknown),
    /// in parallel, without copying the IDs (int32 columns are not widened first).
    pub fn lookup_array(&self, arr: &ArrayRef, path: &Path, column: &str) -> Result<Vec<u32>> {
        if arr.null_count() == 0 {
            if let Some(v) = arr.as_primitive_opt::<arrow::datatypes::Int32Type>() {
                return Ok(self.lookup_ints(v.values()));
            }
            if let Some(v) = arr.as_primitive_opt::<arrow::datatypes::Int64Type>() {
                return Ok(self.lookup_ints(v.values()));
            }
            if let Some(s) = arr.as_string_opt::<i32>() {
                return Ok(self.lookup_strs(s.len(), |i| s.value(i)));
            }
        }
        Ok(self.lookup(&raw_ids_from_array(arr, path, column)?))
    }

    /// The `orig` column of `raw_id_mappings` (raw IDs in new-ID order); `None` for identity maps.
    pub fn orig_column(&self) -> Option<ArrayRef> {
        match self {
            IdMap::Identity(_) => None,
            IdMap::Int(m) => Some(std::sync::Arc::new(Int64Array::from(m.keys.clone()))),
            IdMap::Str(m) => Some(std::sync::Arc::new(StringArray::from_iter_values(
                m.arena.iter(),
            ))),
        }
    }

    /// Raw ID of construction ID `i`, as text (for messages).
    pub fn raw_text(&self, i: u32) -> String {
        match self {
            IdMap::Identity(_) => i.to_string(),
            IdMap::Int(m) => m.keys[i as usize].to_string(),
            IdMap::Str(m) => m.arena.get(i as usize).to_string(),
        }
    }
}

impl RawIdLookup for IdMap {
    fn lookup_str(&self, raw: &str) -> Option<u32> {
        match self {
            IdMap::Str(m) => m.get(raw),
            _ => raw
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|v| self.lookup_int(v)),
        }
    }
    fn lookup_int(&self, raw: i64) -> Option<u32> {
        match self {
            IdMap::Identity(n) => (raw >= 0 && (raw as u64) < *n).then_some(raw as u32),
            IdMap::Int(m) => m.get(raw),
            IdMap::Str(m) => {
                let mut buf = String::with_capacity(20);
                use std::fmt::Write;
                let _ = write!(buf, "{raw}");
                m.get(&buf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> RawIds {
        let mut a = StrArena::new();
        for s in v {
            a.push(s);
        }
        RawIds::Str(a)
    }

    #[test]
    fn identity_only_for_ordered_ints() {
        assert!(matches!(
            IdMap::from_node_ids(RawIds::Int(vec![0, 1, 2]), false).unwrap(),
            IdMap::Identity(3)
        ));
        assert!(matches!(
            IdMap::from_node_ids(RawIds::Int(vec![0, 1, 2]), true).unwrap(),
            IdMap::Int(_)
        ));
        let m = IdMap::from_node_ids(RawIds::Int(vec![1, 0, 2]), false).unwrap();
        assert_eq!(
            m.lookup(&RawIds::Int(vec![0, 1, 2, 7])),
            vec![1, 0, 2, MISSING]
        );
    }

    #[test]
    fn string_map_first_seen_order_and_duplicates() {
        let m = IdMap::from_node_ids(strs(&["b", "a", "c"]), false).unwrap();
        assert_eq!(m.lookup(&strs(&["a", "c", "zz"])), vec![1, 2, MISSING]);
        let d = IdMap::from_node_ids(strs(&["x", "y", "x"]), false).unwrap_err();
        assert_eq!((d.id.as_str(), d.row), ("x", 2));
    }

    #[test]
    fn long_string_ids_share_prefixes() {
        // Keys longer than the 16 inline bytes, equal in their first 16 bytes and length.
        let keys = [
            "customer-0000000000001",
            "customer-0000000000002",
            "customer-000000000000",
            "",
            "\0",
        ];
        let m = IdMap::from_node_ids(strs(&keys), false).unwrap();
        assert_eq!(
            m.lookup(&strs(&[
                "customer-0000000000002",
                "\0",
                "",
                "customer-0000000000003"
            ])),
            vec![1, 4, 3, MISSING]
        );
        let d = IdMap::from_node_ids(strs(&[keys[0], keys[1], keys[0]]), false).unwrap_err();
        assert_eq!(d.row, 2);
    }

    #[test]
    fn featureless_sorted_unique() {
        // GraphStorm's worked example: 'directo4' < 'director1' < 'director3'.
        let m = IdMap::from_edge_ids(
            strs(&["director1", "directo4", "director3", "director1"]),
            false,
        );
        assert_eq!(m.raw_text(0), "directo4");
        assert_eq!(m.len(), 3);
        assert!(matches!(
            IdMap::from_edge_ids(RawIds::Int(vec![2, 0, 1, 1]), false),
            IdMap::Identity(3)
        ));
        let m = IdMap::from_edge_ids(RawIds::Int(vec![10, 2, 2]), false);
        assert_eq!(m.raw_text(0), "2");
    }

    #[test]
    fn cross_type_lookup() {
        let m = IdMap::from_node_ids(strs(&["10", "20"]), false).unwrap();
        assert_eq!(m.lookup_int(20), Some(1));
        let m = IdMap::from_node_ids(RawIds::Int(vec![10, 20]), false).unwrap();
        assert_eq!(m.lookup_str("20"), Some(1));
        assert_eq!(m.lookup_str("x"), None);
    }

    #[test]
    fn mixed_parts_become_strings() {
        let r = concat_raw_ids(vec![RawIds::Int(vec![1, 2]), strs(&["a"])]);
        match r {
            RawIds::Str(a) => assert_eq!(a.iter().collect::<Vec<_>>(), vec!["1", "2", "a"]),
            _ => panic!(),
        }
        assert_eq!(py_float_str(1.0), "1.0");
        assert_eq!(py_float_str(1.5), "1.5");
    }
}
