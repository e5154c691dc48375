//! Raw node IDs → dense per-type construction IDs (in progress).

/// Looks up raw IDs of one node type. Implemented by the ID maps; used by transforms that
/// carry raw IDs inside feature columns (`edge_dst_hard_negative`) and by custom splits.
pub trait RawIdLookup: Sync {
    /// Construction ID of a string raw ID (integer-keyed maps parse nothing: `None`).
    fn lookup_str(&self, raw: &str) -> Option<u32>;
    /// Construction ID of an integer raw ID.
    fn lookup_int(&self, raw: i64) -> Option<u32>;
}
