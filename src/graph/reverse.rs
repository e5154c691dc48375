//! Reverse edges (`--add-reverse-edges`, GraphStorm's `add_reverse_edges`):
//! * heterogeneous graphs: every relation `(s, r, d)` gets a relation `(d, r-rev, s)` with
//!   swapped endpoints and no data (unless a relation of that name exists already);
//! * homogeneous graphs (`_N:_E:_N`): the one relation is doubled in place: edges `0..E` as
//!   read, then `E..2E` with swapped endpoints; every data array is duplicated, except label
//!   masks, whose second half is zero (reverse edges are never train/val/test edges).
//!
//! # Memory
//! Heterogeneous: `8 B` per forward edge for the new lists (data is not copied). Homogeneous:
//! the doubled edge lists, and every edge data array at twice its rows, allocated through the
//! spill [`Store`] so arrays beyond the budget go to the workspace, like the features they
//! come from (output bytes do not depend on it).
//!
//! Parallelism: the duplicated arrays are filled in row blocks on the ambient rayon pool.

use std::collections::BTreeMap;

use super::{CanonicalEtype, EdgeList, NamedTensor};
use crate::error::Result;
use crate::tensor::{Element, Tensor};
use crate::workspace::spill::Store;

/// One relation before the graph is assembled.
#[derive(Debug, Default)]
pub struct Relation {
    pub edges: EdgeList,
    pub data: Vec<NamedTensor>,
    /// Names of the hard-negative features in `data`.
    pub hard_negatives: Vec<String>,
    /// Names of the label masks in `data`.
    pub masks: Vec<String>,
}

/// Adds the reverse edges to `rels` (the forward relations, none of them reverse yet); see
/// the module docs. `homogeneous` selects doubling over `-rev` relations.
pub fn add_reverse_edges(
    rels: &mut BTreeMap<CanonicalEtype, Relation>,
    homogeneous: bool,
    store: &Store,
) -> Result<()> {
    if homogeneous {
        for r in rels.values_mut() {
            double(r, store)?;
        }
        return Ok(());
    }
    let reverse: Vec<(CanonicalEtype, EdgeList)> = rels
        .iter()
        .map(|(et, r)| {
            let rev = CanonicalEtype::new(&et.dst, &format!("{}-rev", et.rel), &et.src);
            let list = EdgeList {
                src: r.edges.dst.clone(),
                dst: r.edges.src.clone(),
            };
            (rev, list)
        })
        .collect();
    for (et, edges) in reverse {
        rels.entry(et).or_insert_with(|| Relation {
            edges,
            ..Default::default()
        });
    }
    Ok(())
}

/// Homogeneous doubling of one relation.
fn double(r: &mut Relation, store: &Store) -> Result<()> {
    let EdgeList { src, dst } = std::mem::take(&mut r.edges);
    let mut new_src = Vec::with_capacity(2 * src.len());
    new_src.extend_from_slice(&src);
    new_src.extend_from_slice(&dst);
    let mut new_dst = dst;
    new_dst.extend_from_slice(&src);
    drop(src);
    r.edges = EdgeList {
        src: new_src,
        dst: new_dst,
    };
    for d in &mut r.data {
        let zero = r.masks.contains(&d.name);
        d.tensor = doubled(&d.tensor, zero, store, &d.name)?;
    }
    Ok(())
}

/// `t` stacked on itself (or on zeros, `zero_second`), through the spill store.
fn doubled(t: &Tensor, zero_second: bool, store: &Store, what: &str) -> Result<Tensor> {
    match t.dtype.size() {
        1 => doubled_as::<u8>(t, zero_second, store, what),
        2 => doubled_as::<i16>(t, zero_second, store, what),
        4 => doubled_as::<i32>(t, zero_second, store, what),
        _ => doubled_as::<i64>(t, zero_second, store, what),
    }
}

/// Rows per block when filling a doubled array.
const BLOCK_ROWS: usize = 1 << 16;

/// [`doubled`] with the element type `E` of `t`'s element size (only bytes are copied).
fn doubled_as<E: Element>(
    t: &Tensor,
    zero_second: bool,
    store: &Store,
    what: &str,
) -> Result<Tensor> {
    debug_assert_eq!(std::mem::size_of::<E>(), t.dtype.size());
    let (rows, width) = (t.rows(), t.row_len());
    let mut buf = store.alloc::<E>(2 * rows, width, bytemuck::Zeroable::zeroed(), what)?;
    // Blocks of at most BLOCK_ROWS rows that never straddle the two halves.
    let half: Vec<usize> = (0..rows.div_ceil(BLOCK_ROWS))
        .map(|b| BLOCK_ROWS.min(rows - b * BLOCK_ROWS))
        .collect();
    let blocks: Vec<usize> = half.iter().chain(&half).copied().collect();
    let row_bytes = t.row_bytes();
    let src = t.bytes();
    buf.fill_blocks(&blocks, width, |i, out| {
        let (second, b) = (i >= half.len(), i % half.len().max(1));
        if second && zero_second {
            return Ok(());
        }
        let start = b * BLOCK_ROWS * row_bytes;
        let out: &mut [u8] = bytemuck::cast_slice_mut(out);
        out.copy_from_slice(&src[start..start + out.len()]);
        Ok(())
    })?;
    let mut shape = t.shape.clone();
    shape[0] = 2 * rows;
    let mut out = buf.into_tensor(shape)?;
    out.dtype = t.dtype;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;
    use crate::workspace::budget::Budget;

    fn rel(src: Vec<u32>, dst: Vec<u32>) -> Relation {
        Relation {
            edges: EdgeList { src, dst },
            ..Default::default()
        }
    }

    #[test]
    fn heterogeneous_gets_rev_relations_without_data() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(Budget { bytes: 1 << 30 }, None, d.path(), 64);
        let mut rels = BTreeMap::new();
        let mut clicks = rel(vec![0, 1], vec![2, 3]);
        clicks.data.push(NamedTensor {
            name: "w".into(),
            tensor: Tensor::from_1d(vec![1.0f32, 2.0]),
        });
        rels.insert(CanonicalEtype::new("user", "clicks", "item"), clicks);
        add_reverse_edges(&mut rels, false, &store).unwrap();
        let rev = &rels[&CanonicalEtype::new("item", "clicks-rev", "user")];
        assert_eq!(
            (rev.edges.src.clone(), rev.edges.dst.clone()),
            (vec![2, 3], vec![0, 1])
        );
        assert!(rev.data.is_empty());
        assert_eq!(rels.len(), 2);
    }

    /// Doubling is byte-identical whether the arrays stay on the heap or spill.
    #[test]
    fn homogeneous_doubles_data_and_zeroes_masks() {
        for budget in [1u64 << 30, 1 << 10] {
            let d = tempfile::tempdir().unwrap();
            let store = Store::new(Budget { bytes: budget }, None, d.path(), 64);
            let n = 70_000usize;
            let mut r = rel(
                (0..n as u32).collect(),
                (0..n as u32).map(|i| i / 2).collect(),
            );
            r.data.push(NamedTensor {
                name: "feat".into(),
                tensor: Tensor::from_vec(vec![n, 2], (0..2 * n as i64).collect()),
            });
            r.data.push(NamedTensor {
                name: "train_mask".into(),
                tensor: Tensor::from_1d(vec![1u8; n]),
            });
            r.masks.push("train_mask".into());
            let mut rels = BTreeMap::from([(CanonicalEtype::new("_N", "_E", "_N"), r)]);
            add_reverse_edges(&mut rels, true, &store).unwrap();
            let r = &rels[&CanonicalEtype::new("_N", "_E", "_N")];
            assert_eq!(r.edges.len(), 2 * n);
            assert_eq!(r.edges.src[n + 3], 1);
            assert_eq!(r.edges.dst[n + 3], 3);
            let feat = r.data[0].tensor.values::<i64>().unwrap();
            assert_eq!(r.data[0].tensor.shape, vec![2 * n, 2]);
            assert_eq!(&feat[..2 * n], &feat[2 * n..]);
            let mask = &r.data[1].tensor;
            assert_eq!(mask.dtype, DType::U8);
            assert!(mask.bytes()[..n].iter().all(|&x| x == 1));
            assert!(mask.bytes()[n..].iter().all(|&x| x == 0));
            assert_eq!(r.data[0].tensor.is_mapped(), budget < 1 << 20);
        }
    }
}
