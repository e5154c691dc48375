//! The partition book: which partition and type own each homogeneous node or edge ID (spec
//! `distdgl-format.md` §3). One [`RangeIndex`] per ID space holds the `[start, end)` ranges of
//! every `(partition, type)`, laid out partition-major and type-minor, and answers
//! [`RangeIndex::locate`] by binary search over the `P·T` range ends.
//!
//! Used by the DistDGL writer (HALO nodes' type and owner) and by `dataset::distdgl` (global
//! ID → partition, type, per-type shuffled ID) for everything that reads a partitioned graph.
//!
//! # Memory
//! `16·P·T` bytes per ID space.

/// A `[start, end)` range of homogeneous IDs.
pub type IdRange = [u64; 2];

/// The ranges of one ID space (nodes or edges).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeIndex {
    /// `ranges[t][p]`.
    ranges: Vec<Vec<IdRange>>,
    num_parts: usize,
    /// End of range `k = p·T + t`, non-decreasing in `k`.
    ends: Vec<u64>,
    /// `before[t][p]`: IDs of type `t` in partitions `0..p` (the per-type shuffled ID of the
    /// first ID of range `(t, p)`).
    before: Vec<Vec<u64>>,
}

/// Where a homogeneous ID lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    pub part: usize,
    pub type_id: usize,
    /// The per-type shuffled ID (row of the type's feature tensors across partitions and of
    /// `node_mapping.pt`).
    pub per_type: u64,
}

impl RangeIndex {
    /// Checks that `ranges[t][p]` tile `0..total` partition-major, type-minor, one range per
    /// partition for every type.
    pub fn new(ranges: Vec<Vec<IdRange>>, num_parts: usize) -> Result<RangeIndex, String> {
        let mut ends = Vec::with_capacity(num_parts * ranges.len());
        let mut off = 0;
        for p in 0..num_parts {
            for (t, r) in ranges.iter().enumerate() {
                let [a, b] = *r
                    .get(p)
                    .ok_or_else(|| format!("type {t} has no range for partition {p}"))?;
                if a != off || b < a {
                    return Err(format!(
                        "range ({p}, {t}) = [{a}, {b}) does not continue at {off}"
                    ));
                }
                off = b;
                ends.push(b);
            }
        }
        if let Some((t, r)) = ranges
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != num_parts)
        {
            return Err(format!(
                "type {t} has {} ranges for {num_parts} partitions",
                r.len()
            ));
        }
        let before = ranges
            .iter()
            .map(|r| {
                let mut acc = 0;
                r.iter()
                    .map(|&[a, b]| {
                        let v = acc;
                        acc += b - a;
                        v
                    })
                    .collect()
            })
            .collect();
        Ok(RangeIndex {
            ranges,
            num_parts,
            ends,
            before,
        })
    }

    pub fn num_parts(&self) -> usize {
        self.num_parts
    }

    pub fn num_types(&self) -> usize {
        self.ranges.len()
    }

    /// Total IDs of the space.
    pub fn total(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// `[start, end)` of type `t` in partition `p`.
    pub fn range(&self, t: usize, p: usize) -> IdRange {
        self.ranges[t][p]
    }

    /// All ranges, `[t][p]`.
    pub fn ranges(&self) -> &[Vec<IdRange>] {
        &self.ranges
    }

    /// IDs of type `t` over all partitions.
    pub fn type_count(&self, t: usize) -> u64 {
        self.ranges[t].iter().map(|&[a, b]| b - a).sum()
    }

    /// IDs of type `t` owned by partition `p`.
    pub fn count(&self, t: usize, p: usize) -> u64 {
        let [a, b] = self.ranges[t][p];
        b - a
    }

    /// The homogeneous range partition `p` owns (all its types).
    pub fn part_range(&self, p: usize) -> IdRange {
        let t = self.ranges.len();
        if t == 0 {
            return [0, 0];
        }
        [self.ranges[0][p][0], self.ranges[t - 1][p][1]]
    }

    /// Per-type shuffled ID of the first ID of range `(t, p)`.
    pub fn first_per_type(&self, t: usize, p: usize) -> u64 {
        self.before[t][p]
    }

    /// `(partition, type)` of `gid`, without range checks (`gid < total()`).
    #[inline]
    pub fn part_and_type(&self, gid: u64) -> (usize, usize) {
        let k = self.ends.partition_point(|&e| e <= gid);
        let nt = self.ranges.len().max(1);
        (k / nt, k % nt)
    }

    /// Where `gid` lives, or `None` if it is outside the space.
    pub fn locate(&self, gid: u64) -> Option<Located> {
        if gid >= self.total() {
            return None;
        }
        let (part, type_id) = self.part_and_type(gid);
        let [a, _] = self.ranges[type_id][part];
        Some(Located {
            part,
            type_id,
            per_type: self.before[type_id][part] + gid - a,
        })
    }

    /// The homogeneous ID of per-type shuffled ID `per_type` of type `t`, or `None` if out of
    /// range.
    pub fn to_global(&self, t: usize, per_type: u64) -> Option<u64> {
        let before = self.before.get(t)?;
        let p = before.partition_point(|&b| b <= per_type).checked_sub(1)?;
        let [a, b] = self.ranges[t][p];
        let g = a + per_type - before[p];
        (g < b).then_some(g)
    }
}

/// Node and edge ranges of a partitioned graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionBook {
    pub nodes: RangeIndex,
    pub edges: RangeIndex,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 2-part toy of spec §2: item [[0,2],[4,5]], user [[2,4],[5,7]].
    fn toy() -> RangeIndex {
        RangeIndex::new(vec![vec![[0, 2], [4, 5]], vec![[2, 4], [5, 7]]], 2).unwrap()
    }

    #[test]
    fn locate_and_back() {
        let r = toy();
        assert_eq!(r.total(), 7);
        let want = [
            (0, 0, 0),
            (0, 0, 1),
            (0, 1, 0),
            (0, 1, 1),
            (1, 0, 2),
            (1, 1, 2),
            (1, 1, 3),
        ];
        for (g, &(part, type_id, per_type)) in want.iter().enumerate() {
            let l = r.locate(g as u64).unwrap();
            assert_eq!((l.part, l.type_id, l.per_type), (part, type_id, per_type));
            assert_eq!(r.to_global(type_id, per_type), Some(g as u64));
        }
        assert_eq!(r.locate(7), None);
        assert_eq!(r.to_global(0, 3), None);
        assert_eq!(r.part_range(1), [4, 7]);
        assert_eq!(r.type_count(1), 4);
    }

    #[test]
    fn empty_ranges_are_skipped() {
        let r = RangeIndex::new(vec![vec![[0, 0], [1, 3]], vec![[0, 1], [3, 3]]], 2).unwrap();
        assert_eq!(r.locate(0).unwrap().type_id, 1);
        assert_eq!(
            r.locate(1).unwrap(),
            Located {
                part: 1,
                type_id: 0,
                per_type: 0
            }
        );
    }

    #[test]
    fn rejects_gaps() {
        assert!(RangeIndex::new(vec![vec![[0, 2], [3, 5]]], 2).is_err());
        assert!(RangeIndex::new(vec![vec![[0, 2]]], 2).is_err());
    }
}
