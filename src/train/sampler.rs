//! Seeded neighbour sampling with DGL's `MultiLayerNeighborSampler` semantics (spec
//! `training.md` §3.2) on a [`TrainGraph`], and the epoch's mini-batch stream.
//!
//! * Direction: in-edges. Per hop, for every destination node and every edge type whose
//!   destination type is the node's type, `min(fanout, deg)` distinct in-edges are picked
//!   uniformly without replacement (parallel edges count separately); fanout `-1` takes all,
//!   `0` none.
//! * Layers: `fanouts[l]` is the fanout of GNN layer `l` (layer 0 consumes the input
//!   features). Sampling starts at the seeds with the **last** layer's fanout, building
//!   `blocks[L-1]`; its source nodes are the next hop's destinations, down to `blocks[0]`.
//! * Blocks (DGL `to_block`): per node type, the source nodes are the destination nodes first
//!   (same order: the "dst prefix" invariant), then newly reached nodes in order of first
//!   appearance, scanning edge types in etype-ID order, destinations in order and each
//!   destination's picked edges in ascending edge ID. Each relation block lists the picked
//!   edges grouped by destination (`offsets`), with the source's local index and the edge ID.
//!
//! Determinism: the random choice for one destination depends only on (batch seed, layer,
//! edge type, destination position) through a counter-based hash, so results are identical
//! for any rayon thread count; local IDs are assigned sequentially in the order above.
//! Picking uses Floyd's algorithm (`k` draws for `k` of `deg`) for small `k` and a partial
//! Fisher-Yates shuffle otherwise; fanout ≥ degree takes the whole list without drawing.
//!
//! # Memory
//! Per thread, a reusable `8·nodes` bytes ID map per node type (generation-stamped, never
//! cleared between blocks); per batch, the blocks themselves (`16` bytes per sampled edge plus
//! `8` per source node).

use std::cell::RefCell;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

use super::graph::TrainGraph;

/// Fanout of one GNN layer: one value per edge type (index = etype ID); `-1` = all
/// in-neighbours, `0` = none.
pub type LayerFanout = Vec<i64>;

/// When excluded edges leave the sampled neighbourhood (spec §3.4 step 6, §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExclusionMode {
    /// Sample as usual, then drop the excluded edges (DGL ≥ 2.3's `exclude` semantics: a
    /// node can end up with fewer than `fanout` neighbours).
    After,
    /// Drop the excluded edges from the candidates, then sample `min(fanout, remaining)`.
    Before,
}

/// Edges a mini-batch must not pass messages over (link prediction / edge task targets and
/// their reverse edges), on every hop.
#[derive(Clone, Debug, Default)]
pub struct Exclusion {
    /// Per edge type: the excluded edge IDs.
    eids: Vec<rustc_hash::FxHashSet<i64>>,
    /// Per edge type: the destination nodes of the excluded edges.
    dsts: Vec<rustc_hash::FxHashSet<i64>>,
    mode: Option<ExclusionMode>,
}

impl Exclusion {
    /// An exclusion over `num_etypes` edge types, nothing excluded yet.
    pub fn new(num_etypes: usize, mode: ExclusionMode) -> Exclusion {
        Exclusion {
            eids: vec![Default::default(); num_etypes],
            dsts: vec![Default::default(); num_etypes],
            mode: Some(mode),
        }
    }
    /// Excludes edge `eid` of edge type `r`, whose destination is `dst`.
    pub fn add(&mut self, r: usize, eid: i64, dst: i64) {
        self.eids[r].insert(eid);
        self.dsts[r].insert(dst);
    }
    /// Whether edge `eid` of type `r` is excluded.
    pub fn contains(&self, r: usize, eid: i64) -> bool {
        self.eids.get(r).is_some_and(|s| s.contains(&eid))
    }
    /// Number of excluded edges.
    pub fn len(&self) -> usize {
        self.eids.iter().map(|s| s.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn rel(&self, r: usize) -> Option<RelExclusion<'_>> {
        let mode = self.mode?;
        let eids = self.eids.get(r).filter(|s| !s.is_empty())?;
        Some(RelExclusion {
            eids,
            dsts: &self.dsts[r],
            mode,
        })
    }
}

/// The exclusion of one edge type.
#[derive(Clone, Copy)]
struct RelExclusion<'a> {
    eids: &'a rustc_hash::FxHashSet<i64>,
    dsts: &'a rustc_hash::FxHashSet<i64>,
    mode: ExclusionMode,
}

/// Parses GraphStorm's fanout string (spec §1.6) for `num_layers` layers: either one integer
/// per layer (`"10,10"`, same for every edge type, `-1` = all), or per layer
/// `src/rel/dst:n@src/rel/dst:n...` naming **every** edge type of the graph once.
pub fn parse_fanout(
    s: &str,
    num_layers: usize,
    g: &TrainGraph,
) -> Result<Vec<LayerFanout>, String> {
    let valid = || {
        g.etypes()
            .iter()
            .map(|e| e.slash_key())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let s = s.trim();
    let elems: Vec<&str> = if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::trim).collect()
    };
    if elems.len() != num_layers {
        return Err(format!(
            "fanout '{s}' has {} element(s), but the model has {num_layers} GNN layer(s); \
             give one per layer, separated by ','",
            elems.len()
        ));
    }
    let num = |x: &str, what: &str| -> Result<i64, String> {
        match x.trim().parse::<i64>() {
            Ok(v) if v >= -1 => Ok(v),
            _ => Err(format!(
                "fanout {what} '{x}' is not an integer >= -1 (-1 = all neighbours)"
            )),
        }
    };
    let numeric = elems.first().is_some_and(|e| e.parse::<i64>().is_ok());
    let nr = g.etypes().len();
    elems
        .iter()
        .map(|&e| {
            if numeric {
                return Ok(vec![num(e, "element")?; nr]);
            }
            let mut f = vec![None; nr];
            for item in e.split('@') {
                let (key, n) = item.rsplit_once(':').ok_or_else(|| {
                    format!(
                        "fanout element '{item}' (in '{e}') is not 'src/rel/dst:n'; \
                         valid edge types: {}",
                        valid()
                    )
                })?;
                let key = key.trim();
                let r = g
                    .etypes()
                    .iter()
                    .position(|x| x.slash_key() == key)
                    .ok_or_else(|| {
                        format!(
                            "fanout names unknown edge type '{key}' (in '{item}'); valid edge \
                             types: {}",
                            valid()
                        )
                    })?;
                if f[r].is_some() {
                    return Err(format!(
                        "fanout element '{e}' names edge type '{key}' twice"
                    ));
                }
                f[r] = Some(num(n, &format!("of '{key}'"))?);
            }
            let missing: Vec<String> = f
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_none())
                .map(|(r, _)| g.etypes()[r].slash_key())
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "fanout element '{e}' gives no fanout for edge type(s) {} (every edge type \
                     needs one; 0 = never sample it)",
                    missing.join(", ")
                ));
            }
            Ok(f.into_iter().map(|x| x.expect("checked")).collect())
        })
        .collect()
}

/// `-1` (all in-neighbours) for every edge type on every layer: GraphStorm's `eval_fanout`
/// default.
pub fn full_fanout(num_layers: usize, g: &TrainGraph) -> Vec<LayerFanout> {
    vec![vec![-1; g.etypes().len()]; num_layers]
}

/// The sampled edges of one edge type in a block, grouped by destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelBlock {
    /// `num_dst[dst type] + 1` offsets into `src_local` / `eids`.
    pub offsets: Vec<i64>,
    /// Index of each edge's source in `src_nodes[src type]`.
    pub src_local: Vec<i64>,
    /// Per-etype shuffled edge ID of each edge.
    pub eids: Vec<i64>,
}

impl RelBlock {
    pub fn num_edges(&self) -> usize {
        self.src_local.len()
    }
}

/// One message-flow graph (DGL block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// Per node type, per-type IDs of the source nodes; the first `num_dst[t]` are the
    /// destination nodes.
    pub src_nodes: Vec<Vec<i64>>,
    /// Destination nodes per node type.
    pub num_dst: Vec<usize>,
    /// Per edge type (empty, with zeroed offsets, where the fanout is 0).
    pub rels: Vec<RelBlock>,
}

impl Block {
    /// The destination nodes of type `t` (a prefix of `src_nodes[t]`).
    pub fn dst_nodes(&self, t: usize) -> &[i64] {
        &self.src_nodes[t][..self.num_dst[t]]
    }
}

/// A sampled mini-batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MiniBatch {
    /// Per node type, the output nodes.
    pub seeds: Vec<Vec<i64>>,
    /// `blocks[0]` consumes the input features (fanout of layer 0); `blocks[L-1]` has the
    /// seeds as destinations.
    pub blocks: Vec<Block>,
    /// Per node type, the nodes whose input features are needed: `blocks[0].src_nodes`, or the
    /// seeds when there are no layers.
    pub input_nodes: Vec<Vec<i64>>,
}

/// SplitMix64's finaliser: a bijective 64-bit mix.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hash of a tuple of words.
#[inline]
pub(crate) fn hash(words: &[u64]) -> u64 {
    words.iter().fold(0x243f_6a88_85a3_08d3, |h, &w| {
        mix(h ^ mix(w.wrapping_add(GOLDEN)))
    })
}

/// A small counter-based generator (SplitMix64 stream) for one destination's draws.
struct SmallRng(u64);

impl SmallRng {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }
    /// Uniform in `0..n` (`n > 0`), by multiply-shift (bias below `n / 2^64`).
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

/// Largest `k` for which Floyd's algorithm with a linear membership scan is used.
const FLOYD_MAX: usize = 48;

/// Writes `k` distinct positions of `0..deg` (ascending) to `out` (`out.len() == k`,
/// `0 < k < deg`). `scratch` is a reusable buffer for the partial shuffle.
#[inline]
fn pick(rng: &mut SmallRng, deg: usize, out: &mut [i64], scratch: &mut Vec<u32>) {
    let k = out.len();
    if k <= FLOYD_MAX {
        // Floyd: for j in deg-k..deg, take t uniform in 0..=j, or j itself if t is taken.
        for (n, j) in (deg - k..deg).enumerate() {
            let t = rng.below(j as u64 + 1) as i64;
            out[n] = if out[..n].contains(&t) { j as i64 } else { t };
        }
    } else {
        scratch.clear();
        scratch.extend(0..deg as u32);
        for n in 0..k {
            let j = n + rng.below((deg - n) as u64) as usize;
            scratch.swap(n, j);
            out[n] = scratch[n] as i64;
        }
    }
    out.sort_unstable();
}

/// A per-type "per-type ID → local index" map, reused across blocks by generation stamps:
/// one word per node, generation in the high half and local index in the low half (one cache
/// line touched per lookup).
#[derive(Default)]
struct LocalMap {
    slots: Vec<u64>,
    gen: u32,
}

impl LocalMap {
    /// Starts a new, empty map over `n` nodes.
    fn reset(&mut self, n: usize) {
        if self.slots.len() < n {
            self.slots.resize(n, 0);
        }
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.slots.fill(0);
            self.gen = 1;
        }
    }
    /// The local index of `v`, inserting it as `next` if new; returns (index, inserted).
    #[inline]
    fn get_or_insert(&mut self, v: usize, next: usize) -> (usize, bool) {
        let slot = &mut self.slots[v];
        if (*slot >> 32) as u32 == self.gen {
            ((*slot & 0xffff_ffff) as usize, false)
        } else {
            *slot = (self.gen as u64) << 32 | next as u64;
            (next, true)
        }
    }
}

thread_local! {
    static MAPS: RefCell<Vec<LocalMap>> = const { RefCell::new(Vec::new()) };
}

/// Destinations per parallel sampling task.
const CHUNK: usize = 512;

/// The picks of one edge type: (offsets, source per-type IDs, edge IDs).
type Picked = (Vec<i64>, Vec<i64>, Vec<i64>);

/// Picks the in-edges of every destination `dst[i]` of edge type `r` with fanout `f`
/// (`f != 0`): returns (offsets, source per-type IDs, edge IDs).
fn sample_rel(
    g: &TrainGraph,
    r: usize,
    dst: &[i64],
    f: i64,
    key: u64,
    excl: Option<RelExclusion<'_>>,
) -> Picked {
    let csc = g.csc(r);
    // `Before`: the candidates of a destination with excluded in-edges are its other edges
    let before = excl.filter(|x| x.mode == ExclusionMode::Before);
    let candidates = |v: usize| -> Option<Vec<usize>> {
        let x = before?;
        if !x.dsts.contains(&(v as i64)) {
            return None;
        }
        let (a, b) = (csc.indptr[v] as usize, csc.indptr[v + 1] as usize);
        Some((a..b).filter(|&p| !x.eids.contains(&csc.eids[p])).collect())
    };
    let mut offsets = Vec::with_capacity(dst.len() + 1);
    offsets.push(0i64);
    let mut acc = 0i64;
    for &v in dst {
        let deg = match candidates(v as usize) {
            Some(c) => c.len() as i64,
            None => csc.degree(v as usize) as i64,
        };
        acc += if f < 0 { deg } else { deg.min(f) };
        offsets.push(acc);
    }
    let total = acc as usize;
    let mut src = vec![0i64; total];
    let mut eids = vec![0i64; total];
    // split the outputs at chunk boundaries, then fill the chunks in parallel
    let mut tasks = Vec::with_capacity(dst.len().div_ceil(CHUNK));
    let (mut s_rest, mut e_rest) = (&mut src[..], &mut eids[..]);
    for c0 in (0..dst.len()).step_by(CHUNK) {
        let c1 = (c0 + CHUNK).min(dst.len());
        let len = (offsets[c1] - offsets[c0]) as usize;
        let (s, s2) = s_rest.split_at_mut(len);
        let (e, e2) = e_rest.split_at_mut(len);
        s_rest = s2;
        e_rest = e2;
        tasks.push((c0, c1, s, e));
    }
    let offsets_ref = &offsets;
    let work = |(c0, c1, s, e): (usize, usize, &mut [i64], &mut [i64])| {
        let base = offsets_ref[c0];
        let mut scratch = Vec::new();
        for i in c0..c1 {
            let v = dst[i] as usize;
            let (a, b) = (csc.indptr[v] as usize, csc.indptr[v + 1] as usize);
            let (o0, o1) = (
                (offsets_ref[i] - base) as usize,
                (offsets_ref[i + 1] - base) as usize,
            );
            let k = o1 - o0;
            let out = &mut s[o0..o1];
            if let Some(cand) = candidates(v) {
                if k == cand.len() {
                    for (x, &p) in out.iter_mut().zip(&cand) {
                        *x = p as i64;
                    }
                } else if k > 0 {
                    let mut rng = SmallRng(mix(key ^ (i as u64).wrapping_mul(GOLDEN)));
                    pick(&mut rng, cand.len(), out, &mut scratch);
                    for x in out.iter_mut() {
                        *x = cand[*x as usize] as i64;
                    }
                }
                continue;
            }
            let deg = b - a;
            if k == deg {
                for (q, x) in out.iter_mut().enumerate() {
                    *x = (a + q) as i64;
                }
                continue;
            }
            let mut rng = SmallRng(mix(key ^ (i as u64).wrapping_mul(GOLDEN)));
            pick(&mut rng, deg, out, &mut scratch);
            for x in out.iter_mut() {
                *x += a as i64;
            }
        }
        // `s` holds CSC positions: gather sources and edge IDs in one pass (no per-node copies)
        for (x, y) in s.iter_mut().zip(e.iter_mut()) {
            let p = *x as usize;
            *x = csc.indices[p];
            *y = csc.eids[p];
        }
    };
    if tasks.len() > 1 {
        tasks.into_par_iter().for_each(work);
    } else {
        tasks.into_iter().for_each(work);
    }
    match excl {
        Some(x) if x.mode == ExclusionMode::After => drop_excluded(offsets, src, eids, x.eids),
        _ => (offsets, src, eids),
    }
}

/// Removes the edges in `excluded` from picked lists, keeping the grouping by destination.
fn drop_excluded(
    mut offsets: Vec<i64>,
    mut src: Vec<i64>,
    mut eids: Vec<i64>,
    excluded: &rustc_hash::FxHashSet<i64>,
) -> Picked {
    let mut w = 0usize;
    let mut start = 0usize;
    for off in offsets.iter_mut().skip(1) {
        let end = *off as usize;
        for p in start..end {
            if !excluded.contains(&eids[p]) {
                src[w] = src[p];
                eids[w] = eids[p];
                w += 1;
            }
        }
        start = end;
        *off = w as i64;
    }
    src.truncate(w);
    eids.truncate(w);
    (offsets, src, eids)
}

/// One block: destinations `dst` (per node type), fanout `fanout` (per edge type).
fn sample_block(
    g: &TrainGraph,
    dst: Vec<Vec<i64>>,
    fanout: &[i64],
    key: u64,
    excl: Option<&Exclusion>,
) -> Block {
    let nt = g.ntypes().len();
    let nr = g.etypes().len();
    assert_eq!(
        fanout.len(),
        nr,
        "a layer fanout has {} values for {nr} edge types",
        fanout.len()
    );
    assert_eq!(dst.len(), nt, "seeds for {} of {nt} node types", dst.len());
    // pick in parallel per edge type (and per destination chunk inside)
    let picked: Vec<Option<Picked>> = (0..nr)
        .into_par_iter()
        .map(|r| {
            let e = &g.etypes()[r];
            (fanout[r] != 0 && !dst[e.dst].is_empty()).then(|| {
                let x = excl.and_then(|x| x.rel(r));
                sample_rel(g, r, &dst[e.dst], fanout[r], hash(&[key, r as u64]), x)
            })
        })
        .collect();
    let num_dst: Vec<usize> = dst.iter().map(Vec::len).collect();
    let mut src_nodes = dst;
    MAPS.with(|maps| {
        let mut maps = maps.borrow_mut();
        if maps.len() < nt {
            maps.resize_with(nt, LocalMap::default);
        }
        for (t, nodes) in src_nodes.iter().enumerate() {
            let m = &mut maps[t];
            m.reset(g.num_nodes(t));
            for (i, &v) in nodes.iter().enumerate() {
                m.get_or_insert(v as usize, i);
            }
        }
        let rels = picked
            .into_iter()
            .enumerate()
            .map(|(r, p)| {
                let e = &g.etypes()[r];
                let Some((offsets, mut src, eids)) = p else {
                    return RelBlock {
                        offsets: vec![0; num_dst[e.dst] + 1],
                        src_local: Vec::new(),
                        eids: Vec::new(),
                    };
                };
                let (m, nodes) = (&mut maps[e.src], &mut src_nodes[e.src]);
                for x in src.iter_mut() {
                    let (l, new) = m.get_or_insert(*x as usize, nodes.len());
                    if new {
                        nodes.push(*x);
                    }
                    *x = l as i64;
                }
                RelBlock {
                    offsets,
                    src_local: src,
                    eids,
                }
            })
            .collect();
        Block {
            src_nodes,
            num_dst,
            rels,
        }
    })
}

/// Samples the blocks of one mini-batch for `seeds` (per node type, per-type IDs), with
/// `fanouts[l]` for GNN layer `l`, from the batch seed `seed`.
pub fn sample(
    g: &TrainGraph,
    seeds: Vec<Vec<i64>>,
    fanouts: &[LayerFanout],
    seed: u64,
) -> MiniBatch {
    sample_excluding(g, seeds, fanouts, seed, None)
}

/// [`sample`] without the edges of `excl` on any hop.
pub fn sample_excluding(
    g: &TrainGraph,
    seeds: Vec<Vec<i64>>,
    fanouts: &[LayerFanout],
    seed: u64,
    excl: Option<&Exclusion>,
) -> MiniBatch {
    let mut blocks = Vec::with_capacity(fanouts.len());
    let mut cur = seeds.clone();
    for l in (0..fanouts.len()).rev() {
        let b = sample_block(g, cur, &fanouts[l], hash(&[seed, l as u64]), excl);
        cur = b.src_nodes.clone();
        blocks.push(b);
    }
    blocks.reverse();
    MiniBatch {
        seeds,
        blocks,
        input_nodes: cur,
    }
}

/// A stream of prepared batches: produced on the caller's thread when asked for, or on a
/// background thread a bounded number ahead.
pub struct Stream<T> {
    remaining: usize,
    source: Source<T>,
}

/// The mini-batches of one epoch (see [`epoch_batches`]).
pub type EpochBatches = Stream<MiniBatch>;

type ProduceFn<T> = Box<dyn FnMut() -> Option<T> + Send>;

enum Source<T> {
    /// Produced on the caller's thread (`prefetch == 0`).
    Inline(ProduceFn<T>),
    /// Produced on a background thread, `prefetch` batches ahead.
    Thread {
        rx: Option<Receiver<T>>,
        handle: Option<JoinHandle<()>>,
    },
}

impl<T: Send + 'static> Stream<T> {
    /// `count` items from `produce` (called in order until it returns `None`), `prefetch`
    /// ahead on a background thread named `graphprep-sampler` (0 = on the caller's thread).
    /// The producer's parallel work runs on the global rayon pool.
    pub fn new(
        count: usize,
        prefetch: usize,
        mut produce: impl FnMut() -> Option<T> + Send + 'static,
    ) -> Stream<T> {
        let source = if prefetch == 0 {
            Source::Inline(Box::new(produce))
        } else {
            let (tx, rx) = sync_channel(prefetch);
            let handle = std::thread::Builder::new()
                .name("graphprep-sampler".into())
                .spawn(move || {
                    while let Some(b) = produce() {
                        if tx.send(b).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawn the sampler thread");
            Source::Thread {
                rx: Some(rx),
                handle: Some(handle),
            }
        };
        Stream {
            remaining: count,
            source,
        }
    }
}

/// What produces the node batches of an epoch, in order.
struct Producer {
    g: Arc<TrainGraph>,
    ntype: usize,
    order: Vec<i64>,
    batch_size: usize,
    fanouts: Vec<LayerFanout>,
    seed: u64,
    epoch: u64,
    next: usize,
}

impl Producer {
    fn batch(&mut self) -> Option<MiniBatch> {
        let a = self.next * self.batch_size;
        if a >= self.order.len() {
            return None;
        }
        let b = (a + self.batch_size).min(self.order.len());
        let mut seeds = vec![Vec::new(); self.g.ntypes().len()];
        seeds[self.ntype] = self.order[a..b].to_vec();
        let s = hash(&[self.seed, self.epoch, self.next as u64, 0x0062_6174_6368]);
        self.next += 1;
        Some(sample(&self.g, seeds, &self.fanouts, s))
    }
}

impl<T> Iterator for Stream<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        if self.remaining == 0 {
            return None;
        }
        let b = match &mut self.source {
            Source::Inline(p) => p(),
            Source::Thread { rx, handle } => match rx.as_ref().and_then(|r| r.recv().ok()) {
                Some(b) => Some(b),
                None => {
                    // the producer ended early: it panicked
                    if let Some(h) = handle.take() {
                        if let Err(e) = h.join() {
                            std::panic::resume_unwind(e);
                        }
                    }
                    None
                }
            },
        };
        self.remaining -= 1;
        b
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> ExactSizeIterator for Stream<T> {}

impl<T> Drop for Stream<T> {
    fn drop(&mut self) {
        if let Source::Thread { rx, handle } = &mut self.source {
            drop(rx.take()); // a blocked producer's send fails, it stops
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// `items` shuffled with a ChaCha RNG seeded from `(seed, epoch)` (the epoch's seed order).
pub fn shuffled<T: Clone>(items: &[T], seed: u64, epoch: u64) -> Vec<T> {
    let mut order = items.to_vec();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(hash(&[seed, epoch, 0x7368_7566]));
    order.shuffle(&mut rng);
    order
}

/// The batches of one epoch: the seed list (per-type IDs of `ntype`), shuffled with a ChaCha
/// RNG seeded from `(seed, epoch)` when `shuffle`, cut into batches of `batch_size` (the last
/// one may be short), each sampled with a batch seed derived from `(seed, epoch, batch
/// index)`. With `prefetch > 0` the batches are sampled on a background thread up to
/// `prefetch` ahead (its sampling uses the global rayon pool); with `0`, on the caller's
/// thread when asked for. Same arguments ⇒ same batches, whatever the thread count.
#[allow(clippy::too_many_arguments)]
pub fn epoch_batches(
    g: Arc<TrainGraph>,
    ntype: usize,
    seeds: Arc<Vec<i64>>,
    batch_size: usize,
    shuffle: bool,
    fanouts: Vec<LayerFanout>,
    seed: u64,
    epoch: u64,
    prefetch: usize,
) -> EpochBatches {
    assert!(batch_size > 0, "batch size 0");
    let order = if shuffle {
        shuffled(&seeds, seed, epoch)
    } else {
        seeds.as_ref().clone()
    };
    let count = order.len().div_ceil(batch_size);
    let mut p = Producer {
        g,
        ntype,
        order,
        batch_size,
        fanouts,
        seed,
        epoch,
        next: 0,
    };
    Stream::new(count, prefetch, move || p.batch())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_graph() -> TrainGraph {
        // a: 0..4, b: 0..3; a->a chain edges, b->a one edge per a-node, parallel edge 2->3
        TrainGraph::from_edges(
            &[("a", 4), ("b", 3)],
            vec![
                (0, "next", 0, vec![(0, 1), (1, 2), (2, 3), (2, 3)]),
                (1, "to", 0, vec![(0, 0), (1, 1), (2, 2), (0, 3)]),
            ],
        )
    }

    #[test]
    fn pick_gives_distinct_sorted_positions() {
        let mut scratch = Vec::new();
        for (deg, k) in [(10, 3), (100, 60), (5, 4)] {
            for s in 0..50 {
                let mut rng = SmallRng(s);
                let mut out = vec![0; k];
                pick(&mut rng, deg, &mut out, &mut scratch);
                assert!(out.windows(2).all(|w| w[0] < w[1]), "{out:?}");
                assert!(out.iter().all(|&x| (0..deg as i64).contains(&x)));
            }
        }
    }

    #[test]
    fn full_block_on_a_small_graph() {
        let g = path_graph();
        let mb = sample(&g, vec![vec![3], vec![]], &full_fanout(1, &g), 7);
        let b = &mb.blocks[0];
        assert_eq!(b.num_dst, vec![1, 0]);
        // etype 0 first: a-node 2 twice (parallel edges), then etype 1: b-node 0
        assert_eq!(b.src_nodes, vec![vec![3, 2], vec![0]]);
        assert_eq!(b.rels[0].offsets, vec![0, 2]);
        assert_eq!(b.rels[0].src_local, vec![1, 1]);
        assert_eq!(b.rels[0].eids, vec![2, 3]);
        assert_eq!(b.rels[1].src_local, vec![0]);
        assert_eq!(b.rels[1].eids, vec![3]);
        assert_eq!(mb.input_nodes, b.src_nodes);
    }

    #[test]
    fn no_layers_means_the_seeds_are_the_input() {
        let g = path_graph();
        let mb = sample(&g, vec![vec![1, 0], vec![2]], &[], 1);
        assert!(mb.blocks.is_empty());
        assert_eq!(mb.input_nodes, vec![vec![1, 0], vec![2]]);
    }

    #[test]
    fn parse_numeric_and_dict() {
        let g = path_graph();
        assert_eq!(
            parse_fanout("10, -1", 2, &g).unwrap(),
            vec![vec![10, 10], vec![-1, -1]]
        );
        assert_eq!(
            parse_fanout("a/next/a:3@b/to/a:0,b/to/a:1@a/next/a:-1", 2, &g).unwrap(),
            vec![vec![3, 0], vec![-1, 1]]
        );
        assert!(parse_fanout("", 0, &g).unwrap().is_empty());
        let e = parse_fanout("a/next/a:3", 1, &g).unwrap_err();
        assert!(e.contains("b/to/a"), "{e}");
    }

    #[test]
    fn local_map_generations() {
        let mut m = LocalMap::default();
        m.reset(3);
        assert_eq!(m.get_or_insert(2, 0), (0, true));
        assert_eq!(m.get_or_insert(2, 1), (0, false));
        m.reset(3);
        assert_eq!(m.get_or_insert(2, 5), (5, true));
    }
}
