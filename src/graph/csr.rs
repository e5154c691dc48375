//! One compression kernel for edge lists: a stable counting sort of COO entries by row, giving
//! CSR (rows = sources) or CSC (rows = destinations) with the edge ID of every entry.
//!
//! Algorithm (three passes over the entries): degree count with a range check of every row
//! ID → exclusive prefix sum into `indptr` → scatter each entry to the next free slot of its
//! row, in increasing edge ID, so every row lists its entries in edge-ID order (what DGL's own
//! conversion produces and what etype-sorted sampling relies on). Column IDs are range-checked
//! during the scatter, so a corrupted file read back is an error, never an out-of-bounds write.
//!
//! Used by the DGL graph writer (CSR/CSC sections of `graph.dgl`) and by `dataset::distdgl`
//! (CSC/CSR of a partition read back, for samplers).
//!
//! # Memory
//! `8·(rows + 1) + 16·nnz` bytes for the result plus `8·rows` for the scatter cursors, e.g. a
//! partition with 1 M nodes and 20 M edges needs ~340 MB.
//!
//! Parallelism: none (sequential and deterministic); callers compress different relations or
//! partitions in parallel.

/// Which endpoint indexes the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Rows are sources: out-edges per node.
    Csr,
    /// Rows are destinations: in-edges per node.
    Csc,
}

/// A compressed sparse matrix with the edge ID of every entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compressed {
    pub num_rows: usize,
    pub num_cols: usize,
    /// `num_rows + 1` offsets; row `r`'s entries are `indptr[r]..indptr[r + 1]`.
    pub indptr: Vec<i64>,
    /// Column of each entry.
    pub indices: Vec<i64>,
    /// Edge ID (position in the input) of each entry.
    pub eids: Vec<i64>,
}

impl Compressed {
    /// Entries of row `r` as `(column, edge ID)` pairs.
    pub fn row(&self, r: usize) -> impl Iterator<Item = (i64, i64)> + '_ {
        let (a, b) = (self.indptr[r] as usize, self.indptr[r + 1] as usize);
        self.indices[a..b]
            .iter()
            .copied()
            .zip(self.eids[a..b].iter().copied())
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
}

/// Counting sort of the `nnz` entries `(row(e), col(e))` by row, stable in `e`. Fails naming
/// the first entry whose row is `>= num_rows` or column `>= num_cols`.
pub fn compress(
    num_rows: usize,
    num_cols: usize,
    nnz: usize,
    row: impl Fn(usize) -> u64,
    col: impl Fn(usize) -> u64,
) -> Result<Compressed, String> {
    let mut indptr = vec![0i64; num_rows + 1];
    for e in 0..nnz {
        let r = row(e);
        if r >= num_rows as u64 {
            return Err(format!("entry {e}: row ID {r} out of range 0..{num_rows}"));
        }
        indptr[r as usize + 1] += 1;
    }
    for i in 0..num_rows {
        indptr[i + 1] += indptr[i];
    }
    let mut cursor: Vec<i64> = indptr[..num_rows].to_vec();
    let mut indices = vec![0i64; nnz];
    let mut eids = vec![0i64; nnz];
    for e in 0..nnz {
        let c = col(e);
        if c >= num_cols as u64 {
            return Err(format!(
                "entry {e}: column ID {c} out of range 0..{num_cols}"
            ));
        }
        let slot = &mut cursor[row(e) as usize];
        let pos = *slot as usize;
        *slot += 1;
        indices[pos] = c as i64;
        eids[pos] = e as i64;
    }
    Ok(Compressed {
        num_rows,
        num_cols,
        indptr,
        indices,
        eids,
    })
}

/// CSR or CSC of the edge list `(src(e), dst(e))` over `num_src` × `num_dst` nodes.
pub fn compress_edges(
    layout: Layout,
    num_src: usize,
    num_dst: usize,
    nnz: usize,
    src: impl Fn(usize) -> u64,
    dst: impl Fn(usize) -> u64,
) -> Result<Compressed, String> {
    match layout {
        Layout::Csr => compress(num_src, num_dst, nnz, src, dst),
        Layout::Csc => compress(num_dst, num_src, nnz, dst, src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn csc_lists_in_edges_in_edge_order() {
        let src = [0u64, 2, 1, 2];
        let dst = [1u64, 1, 0, 2];
        let m = compress_edges(Layout::Csc, 3, 3, 4, |e| src[e], |e| dst[e]).unwrap();
        assert_eq!(m.indptr, vec![0, 1, 3, 4]);
        assert_eq!(m.row(1).collect::<Vec<_>>(), vec![(0, 0), (2, 1)]);
        let e = compress_edges(Layout::Csr, 2, 3, 4, |e| src[e], |e| dst[e]).unwrap_err();
        assert!(e.contains("entry 1: row ID 2 out of range 0..2"), "{e}");
    }

    proptest! {
        #[test]
        fn equals_naive_adjacency(edges in proptest::collection::vec((0u64..6, 0u64..5), 0..40)) {
            let m = compress(6, 5, edges.len(), |e| edges[e].0, |e| edges[e].1).unwrap();
            for r in 0..6 {
                let naive: Vec<(i64, i64)> = edges
                    .iter()
                    .enumerate()
                    .filter(|(_, &(a, _))| a == r as u64)
                    .map(|(e, &(_, b))| (b as i64, e as i64))
                    .collect();
                prop_assert_eq!(m.row(r).collect::<Vec<_>>(), naive);
            }
        }
    }
}
