//! Edge-level training data for link prediction and edge tasks (spec/training.md §3.1, §3.4):
//! the train / validation / test edge sets of the target edge types (edge masks, or all edges
//! of an edge type without a train mask), the reverse edge of every target edge (for
//! target-edge exclusion, matched through **construction** edge IDs so it is right with any
//! number of partitions), link-prediction mini-batches (positives, negatives, the seed nodes
//! and the sampled blocks without the batch's targets) and the evaluation candidates of
//! GraphStorm's ranking protocol (§2.8).
//!
//! # Randomness
//! Every draw comes from a ChaCha8 stream seeded by `(seed, epoch, batch)` for training and
//! `(seed, evaluation step, split, batch)` for evaluation: same seed ⇒ same batches,
//! negatives and candidates whatever the thread count (GraphStorm draws them unseeded).
//!
//! # Memory
//! `16·edges` bytes per target edge type for the endpoint arrays, `8·edges` per reverse map
//! (plus `16·edges` transient while matching); per batch, the seeds, the blocks and the
//! negative index arrays (`8·B·k` bytes).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

use super::config::{EtypeName, NegSampler};
use super::graph::TrainGraph;
use super::sampler::{self, Exclusion, ExclusionMode, LayerFanout, MiniBatch, Stream};
use crate::error::{Error, Result};

/// The edges of one split of one edge type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeSet {
    pub etype: usize,
    /// Per-type shuffled edge IDs, ascending.
    pub eids: Vec<i64>,
}

/// Endpoints of the edges of one edge type, by per-type edge ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub src: Vec<i64>,
    pub dst: Vec<i64>,
}

impl Endpoints {
    /// The endpoints of every edge of type `r` of `g` (also edges hidden from sampling).
    pub fn of(g: &TrainGraph, r: usize) -> Endpoints {
        let (src, dst) = g.edge_endpoints(r);
        Endpoints { src, dst }
    }
}

/// Resolves `names` (or every edge type when `None`) to edge type IDs of `g`; `key` names the
/// YAML key in errors.
pub fn resolve_etypes(
    g: &TrainGraph,
    names: Option<&[EtypeName]>,
    key: &str,
) -> Result<Vec<usize>> {
    let Some(names) = names else {
        return Ok((0..g.etypes().len()).collect());
    };
    names
        .iter()
        .map(|n| {
            g.etypes().iter().position(|e| e.name == *n).ok_or_else(|| {
                Error::config(
                    key,
                    format!(
                        "'{},{},{}' is not an edge type of the graph (edge types: {})",
                        n.0,
                        n.1,
                        n.2,
                        g.etypes()
                            .iter()
                            .map(|e| format!("{},{},{}", e.name.0, e.name.1, e.name.2))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                )
            })
        })
        .collect()
}

/// The edge set of split `mask` of edge type `r`: the masked edges, or every edge when `all`
/// and the edge type has no such mask (GraphStorm's `get_edge_train_set`).
pub fn edge_split(g: &TrainGraph, r: usize, mask: &str, all: bool) -> Result<EdgeSet> {
    let eids = match g.edge_mask_ids(r, mask)? {
        Some(ids) => ids,
        None if all => (0..g.num_edges(r) as i64).collect(),
        None => Vec::new(),
    };
    Ok(EdgeSet { etype: r, eids })
}

/// For every edge `e` of `r`, the edge of `rev` that is its reverse: the one with the same
/// construction ID (GraphStorm/graphprep `--add-reverse-edges` write the reverse edge list in
/// the forward list's order, then partitioning shuffles both independently). Checked: both
/// types have as many edges, and each pair joins the same nodes in opposite directions.
pub fn reverse_edge_ids(
    g: &TrainGraph,
    r: usize,
    rev: usize,
    fwd: &Endpoints,
    back: &Endpoints,
) -> Result<Vec<i64>> {
    let (er, ev) = (&g.etypes()[r], &g.etypes()[rev]);
    let path = "gsf.link_prediction.reverse_edge_types_map";
    if g.num_edges(r) != g.num_edges(rev) {
        return Err(Error::config(
            path,
            format!(
                "{} has {} edges but its reverse {} has {}: it is not the reverse edge type",
                er.colon_key(),
                g.num_edges(r),
                ev.colon_key(),
                g.num_edges(rev)
            ),
        ));
    }
    let cons_r = g.edge_construction_ids(r)?;
    let cons_v = g.edge_construction_ids(rev)?;
    let mut inv = vec![-1i64; cons_v.len()];
    for (shuffled, &c) in cons_v.iter().enumerate() {
        if let Some(x) = usize::try_from(c).ok().and_then(|c| inv.get_mut(c)) {
            *x = shuffled as i64;
        }
    }
    let mut out = Vec::with_capacity(cons_r.len());
    for (e, &c) in cons_r.iter().enumerate() {
        let b = usize::try_from(c)
            .ok()
            .and_then(|c| inv.get(c).copied())
            .unwrap_or(-1);
        if b < 0 || fwd.src[e] != back.dst[b as usize] || fwd.dst[e] != back.src[b as usize] {
            return Err(Error::config(
                path,
                format!(
                    "edge {e} of {} (construction ID {c}) has no reverse in {} with the same \
                     construction ID: the map names an edge type that is not its reverse (use the \
                     relation construct --add-reverse-edges writes, <rel>-rev), or set \
                     exclude_training_targets: false",
                    er.colon_key(),
                    ev.colon_key()
                ),
            ));
        }
        out.push(b);
    }
    Ok(out)
}

/// How one target edge type's batch edges are excluded: the edge type, and where its reverse
/// edges are (`(reverse edge type, reverse ID per edge ID)`).
#[derive(Clone, Debug)]
pub struct ExcludeRule {
    pub etype: usize,
    pub reverse: Option<(usize, Arc<Vec<i64>>)>,
}

/// The positives and negatives of one target edge type in a batch, as local indices into the
/// batch's seed nodes (`MiniBatch::seeds[type]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LpGroup {
    pub etype: usize,
    /// Per positive: its per-type edge ID.
    pub eids: Vec<i64>,
    /// Per positive: local index of its source (in the src type's seeds).
    pub src: Vec<i64>,
    /// Per positive: local index of its destination (in the dst type's seeds).
    pub dst: Vec<i64>,
    /// `k` negative destinations per positive, row-major `(B, k)`, local indices in the dst
    /// type's seeds (the source of negative `(i, j)` is positive `i`'s source).
    pub neg_dst: Vec<i64>,
    pub k: usize,
    /// `inbatch_joint`: positive `i` also has every other positive's destination as negative.
    pub in_batch: bool,
}

impl LpGroup {
    pub fn len(&self) -> usize {
        self.src.len()
    }
    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

/// One link prediction mini-batch: the blocks for every node a positive or negative touches,
/// and the per-edge-type groups.
#[derive(Clone, Debug, Default)]
pub struct LpBatch {
    pub mb: MiniBatch,
    pub groups: Vec<LpGroup>,
    /// Edges kept out of message passing (targets and their reverses).
    pub excluded: usize,
}

/// Seed nodes per node type in order of first appearance, with a local index per node.
struct SeedSet {
    nodes: Vec<Vec<i64>>,
    index: Vec<FxHashMap<i64, i64>>,
}

impl SeedSet {
    fn new(num_ntypes: usize) -> SeedSet {
        SeedSet {
            nodes: vec![Vec::new(); num_ntypes],
            index: vec![FxHashMap::default(); num_ntypes],
        }
    }
    fn local(&mut self, t: usize, v: i64) -> i64 {
        let nodes = &mut self.nodes[t];
        *self.index[t].entry(v).or_insert_with(|| {
            nodes.push(v);
            nodes.len() as i64 - 1
        })
    }
}

/// Everything fixed over a training run that the LP batch producer needs.
pub struct LpBatcher {
    pub g: Arc<TrainGraph>,
    pub endpoints: Arc<Vec<Option<Endpoints>>>,
    pub fanouts: Vec<LayerFanout>,
    pub sampler: NegSampler,
    pub k: usize,
    pub batch_size: usize,
    /// None = no target-edge exclusion (`exclude_training_targets: false` or `--exclusion off`).
    pub exclusion: Option<ExclusionMode>,
    pub rules: Vec<ExcludeRule>,
}

impl LpBatcher {
    /// Builds batch `index` of the edges `edges` (`(etype, eid)` in batch order).
    pub fn batch(&self, edges: &[(usize, i64)], seed: u64) -> LpBatch {
        let g = &self.g;
        let mut rng = ChaCha8Rng::seed_from_u64(sampler::hash(&[seed, 0x006e_6567]));
        let mut seeds = SeedSet::new(g.ntypes().len());
        let mut excl = self.exclusion.map(|m| Exclusion::new(g.etypes().len(), m));
        // group by edge type, in the order of the rules (the train etypes)
        let mut groups = Vec::new();
        for rule in &self.rules {
            let r = rule.etype;
            let ids: Vec<i64> = edges
                .iter()
                .filter(|(t, _)| *t == r)
                .map(|&(_, e)| e)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let e = &g.etypes()[r];
            let ends = self.endpoints[r]
                .as_ref()
                .expect("endpoints of every train edge type");
            let b = ids.len();
            let mut grp = LpGroup {
                etype: r,
                k: self.k,
                in_batch: self.sampler == NegSampler::InBatchJoint,
                ..Default::default()
            };
            grp.eids = ids.clone();
            for &id in &ids {
                let (u, v) = (ends.src[id as usize], ends.dst[id as usize]);
                grp.src.push(seeds.local(e.src, u));
                grp.dst.push(seeds.local(e.dst, v));
                if let Some(x) = excl.as_mut() {
                    x.add(r, id, v);
                    if let Some((rev, map)) = &rule.reverse {
                        x.add(*rev, map[id as usize], u);
                    }
                }
            }
            let n_dst = g.num_nodes(e.dst) as u64;
            match self.sampler {
                _ if self.k == 0 => {}
                NegSampler::Uniform => {
                    for _ in 0..b * self.k {
                        let v = rng.random_range(0..n_dst) as i64;
                        grp.neg_dst.push(seeds.local(e.dst, v));
                    }
                }
                NegSampler::Joint | NegSampler::InBatchJoint => {
                    let pool: Vec<i64> = (0..b)
                        .map(|_| {
                            let v = rng.random_range(0..n_dst) as i64;
                            seeds.local(e.dst, v)
                        })
                        .collect();
                    for i in 0..b {
                        for j in 0..self.k {
                            grp.neg_dst.push(pool[(i * self.k + j) % b]);
                        }
                    }
                }
            }
            groups.push(grp);
        }
        let excluded = excl.as_ref().map_or(0, Exclusion::len);
        let mb = sampler::sample_excluding(
            g,
            seeds.nodes,
            &self.fanouts,
            sampler::hash(&[seed, 0x0062_6c6b]),
            excl.as_ref(),
        );
        LpBatch {
            mb,
            groups,
            excluded,
        }
    }

    /// The batches of one epoch: the train edges of every train edge type, shuffled together
    /// (seeded by `(seed, epoch)`), in batches of `batch_size`, prepared `prefetch` ahead.
    pub fn epoch(
        self: &Arc<Self>,
        train: &[EdgeSet],
        seed: u64,
        epoch: u64,
        prefetch: usize,
    ) -> Stream<LpBatch> {
        let all: Vec<(usize, i64)> = train
            .iter()
            .flat_map(|s| s.eids.iter().map(move |&e| (s.etype, e)))
            .collect();
        let order = sampler::shuffled(&all, seed, epoch);
        let bs = self.batch_size.max(1);
        let count = order.len().div_ceil(bs);
        let me = Arc::clone(self);
        let mut next = 0usize;
        Stream::new(count, prefetch, move || {
            let a = next * bs;
            if a >= order.len() {
                return None;
            }
            let b = (a + bs).min(order.len());
            let s = sampler::hash(&[seed, epoch, next as u64, 0x6c70]);
            next += 1;
            Some(me.batch(&order[a..b], s))
        })
    }
}

/// The negatives of one evaluation batch under GraphStorm's protocol (§2.8): both sides
/// corrupted, `k` each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalNegatives {
    /// `joint`: `k` sources and `k` destinations shared by the whole batch.
    Joint { src: Vec<i64>, dst: Vec<i64> },
    /// `uniform`: per positive its own `k` sources and `k` destinations, row-major `(B, k)`.
    Uniform { src: Vec<i64>, dst: Vec<i64> },
}

/// Draws the evaluation negatives of a batch of `b` positives of an edge type joining
/// `n_src` to `n_dst` nodes (uniform with replacement, as `th.randint`).
pub fn eval_negatives(
    sampler: NegSampler,
    b: usize,
    k: usize,
    n_src: usize,
    n_dst: usize,
    seed: u64,
) -> EvalNegatives {
    let mut rng = ChaCha8Rng::seed_from_u64(sampler::hash(&[seed, 0x6576_616c]));
    let mut draw = |n: usize, count: usize| -> Vec<i64> {
        (0..count)
            .map(|_| rng.random_range(0..n as u64) as i64)
            .collect()
    };
    match sampler {
        NegSampler::Uniform => EvalNegatives::Uniform {
            src: draw(n_src, b * k),
            dst: draw(n_dst, b * k),
        },
        _ => EvalNegatives::Joint {
            src: draw(n_src, k),
            dst: draw(n_dst, k),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_in_first_appearance_order() {
        let mut s = SeedSet::new(2);
        assert_eq!(s.local(0, 7), 0);
        assert_eq!(s.local(0, 3), 1);
        assert_eq!(s.local(0, 7), 0);
        assert_eq!(s.local(1, 7), 0);
        assert_eq!(s.nodes, vec![vec![7, 3], vec![7]]);
    }

    #[test]
    fn eval_negative_shapes() {
        match eval_negatives(NegSampler::Joint, 10, 4, 5, 6, 1) {
            EvalNegatives::Joint { src, dst } => {
                assert_eq!((src.len(), dst.len()), (4, 4));
                assert!(src.iter().all(|&x| (0..5).contains(&x)));
                assert!(dst.iter().all(|&x| (0..6).contains(&x)));
            }
            x => panic!("{x:?}"),
        }
        match eval_negatives(NegSampler::Uniform, 10, 4, 5, 6, 1) {
            EvalNegatives::Uniform { src, dst } => assert_eq!((src.len(), dst.len()), (40, 40)),
            x => panic!("{x:?}"),
        }
    }
}
