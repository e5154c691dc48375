//! Link prediction and edge classification / regression on the shared training loop
//! ([`super::run::fit`]): GraphStorm's `gsgnn_lp.py` / `gsgnn_ep.py` and their inference
//! scripts on one machine (spec/training.md §2.5–2.8, §3.4).
//!
//! * **Data.** Train / val / test edges from the target edge types' `train_mask` /
//!   `val_mask` / `test_mask` (an LP edge type without a train mask trains on all its edges).
//!   For link prediction, message passing sees only the train edges of every edge type that
//!   has a `train_mask` (GraphStorm's `edge_mask="train_mask"`), in training and evaluation.
//! * **Exclusion.** With `exclude_training_targets`, each batch's target edges and their
//!   reverse edges (matched by construction edge ID, so correct with any number of
//!   partitions) are removed from the sampled blocks on every hop: after sampling (DGL ≥ 2.3,
//!   default), before sampling, or not at all (`--exclusion off`, what DGL 2.1 — and so
//!   GraphStorm 0.5.1 — actually does). With exclusion on, the reverses of the held-out
//!   (val/test) edges also leave message passing; GraphStorm masks only the target edge type,
//!   so a test edge's reverse stays visible when it is scored (spec §8 #12). `off` keeps
//!   GraphStorm's graph exactly.
//! * **LP loss.** Scores of the positives and of their negatives (`uniform`: `k` own random
//!   destinations; `joint`: a pool of `B` random destinations, positive `i` seeing pool
//!   entries `(i·k + j) mod B`; `inbatch_joint`: joint plus every other positive's
//!   destination); `cross_entropy` = binary cross-entropy over all scores, `contrastive` =
//!   InfoNCE over `[pos, negs]` with a temperature. Embeddings are L2-normalised first when
//!   `lp_embed_normalizer` says so (the default with `contrastive`).
//! * **LP evaluation.** Node embeddings of every node, layer by layer over the (train-masked)
//!   graph with `eval_fanout`, normalised as in training; each val/test edge is ranked among
//!   `2k` unfiltered candidates (`k` corrupted sources, then `k` corrupted destinations,
//!   `joint`: shared by a batch of `eval_batch_size` edges, `uniform`: per edge), after a
//!   float32 sigmoid, ties ranking the positive first; MRR and hit@k over all eval edge
//!   types. `--lp-filtered` removes candidates that are true edges of the graph.
//! * **Edge tasks.** Mini-batches of target edges, the edge decoder on their endpoints'
//!   representations; `remove_target_edge_type` sets the fanout of the target edge type and
//!   of its reverse to 0 (training and evaluation).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rustc_hash::FxHashSet;
use tch::{Device, Kind, Reduction, Tensor};

use super::config::{LpConfig, LpLoss, NegSampler, Task, TrainConfig};
use super::edges::{
    edge_split, eval_negatives, resolve_etypes, reverse_edge_ids, EdgeSet, Endpoints,
    EvalNegatives, ExcludeRule, LpBatch, LpBatcher,
};
use super::graph::TrainGraph;
use super::metrics::{self, Metric};
use super::model::{EmbTrace, Model};
use super::run::{
    encode, eval_fanouts, first_metric, fit, full_graph_embeddings, ids_tensor, model_spec,
    train_fanouts, write_infer_metrics, Driver, Inputs, RunOptions, RunSummary,
};
use super::sampler::{self, LayerFanout, Stream};
use crate::error::{Error, Result};

/// L2-normalises the rows of `h` (`F.normalize(p=2, dim=-1)`, eps 1e-12).
pub fn l2_normalize(h: &Tensor) -> Tensor {
    let n = h
        .norm_scalaropt_dim(2, [-1i64].as_slice(), true)
        .clamp_min(1e-12);
    h / n
}

/// The link prediction loss of positive scores `pos` (B) and negative scores `neg` (B, K).
pub fn lp_loss(loss: LpLoss, temperature: f64, pos: &[Tensor], neg: &[Tensor]) -> Tensor {
    match loss {
        LpLoss::Contrastive => {
            let per: Vec<Tensor> = pos
                .iter()
                .zip(neg)
                .map(|(p, n)| {
                    let logits = Tensor::cat(&[p.unsqueeze(1), n.shallow_clone()], 1) / temperature;
                    -logits.log_softmax(1, Kind::Float).select(1, 0)
                })
                .collect();
            Tensor::cat(&per, 0).mean(Kind::Float)
        }
        LpLoss::CrossEntropy => {
            let p = Tensor::cat(pos, 0);
            let n: Vec<Tensor> = neg.iter().map(|x| x.flatten(0, -1)).collect();
            let n = Tensor::cat(&n, 0);
            let score = Tensor::cat(&[p.shallow_clone(), n.shallow_clone()], 0);
            let label = Tensor::cat(&[p.ones_like(), n.zeros_like()], 0);
            score.binary_cross_entropy_with_logits::<Tensor>(&label, None, None, Reduction::Mean)
        }
    }
}

/// Edge sets and endpoints of the target edge types.
struct EdgeData {
    endpoints: Arc<Vec<Option<Endpoints>>>,
    train: Vec<EdgeSet>,
    val: Vec<EdgeSet>,
    test: Vec<EdgeSet>,
}

fn load_edge_data(
    plan: &TrainConfig,
    g: &TrainGraph,
    train_etypes: &[usize],
    eval_etypes: &[usize],
    inference: bool,
) -> Result<EdgeData> {
    let nr = g.etypes().len();
    let mut endpoints: Vec<Option<Endpoints>> = (0..nr).map(|_| None).collect();
    let lp = plan.task == Task::LinkPrediction;
    for &r in train_etypes.iter().chain(eval_etypes) {
        if endpoints[r].is_none() {
            endpoints[r] = Some(Endpoints::of(g, r));
        }
    }
    let [tm, vm, sm] = &plan.mask_fields;
    let mut train = Vec::new();
    if !inference {
        for &r in train_etypes {
            // LP trains on every edge of a type without a train mask; edge tasks need one
            let s = edge_split(g, r, tm, lp)?;
            if s.eids.is_empty() && !lp {
                return Err(Error::config(
                    format!("gsf.{}.target_etype", plan.task.section()),
                    format!(
                        "edge type {} has no edge mask '{tm}' selecting any edge (its edge data: {})",
                        g.etypes()[r].colon_key(),
                        g.edge_feature_names(r).join(", ")
                    ),
                ));
            }
            train.push(s);
        }
        if train.iter().all(|s| s.eids.is_empty()) {
            return Err(Error::Graph(format!(
                "no training edge in {}: nothing to train on",
                train_etypes
                    .iter()
                    .map(|&r| g.etypes()[r].colon_key())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let mut val = Vec::new();
    let mut test = Vec::new();
    for &r in eval_etypes {
        if !plan.no_validation {
            val.push(edge_split(g, r, vm, false)?);
        }
        test.push(edge_split(g, r, sm, false)?);
    }
    if !inference && !plan.no_validation && val.iter().all(|s| s.eids.is_empty()) {
        return Err(Error::config(
            format!("gsf.{}", plan.task.section()),
            format!(
                "no validation edge (edge mask '{vm}') in the evaluation edge types; add one \
                 (construct's split_pct on the edge labels) or set no_validation: true"
            ),
        ));
    }
    Ok(EdgeData {
        endpoints: Arc::new(endpoints),
        train,
        val,
        test,
    })
}

/// The exclusion rule of each target edge type: its reverse edge type from
/// `reverse_edge_types_map` and the reverse ID of each of its edges.
fn exclude_rules(
    plan: &TrainConfig,
    g: &TrainGraph,
    etypes: &[usize],
    endpoints: &[Option<Endpoints>],
    with_reverse: bool,
) -> Result<Vec<ExcludeRule>> {
    etypes
        .iter()
        .map(|&r| {
            if !with_reverse {
                return Ok(ExcludeRule {
                    etype: r,
                    reverse: None,
                });
            }
            let name = &g.etypes()[r].name;
            let Some((_, rev_name)) = plan.reverse_edge_types_map.iter().find(|(f, _)| f == name)
            else {
                log::warn!(
                    "reverse_edge_types_map has no entry for {}: only its own target edges are excluded",
                    g.etypes()[r].colon_key()
                );
                return Ok(ExcludeRule {
                    etype: r,
                    reverse: None,
                });
            };
            let rev = resolve_etypes(
                g,
                Some(std::slice::from_ref(rev_name)),
                "gsf.link_prediction.reverse_edge_types_map",
            )?[0];
            let back = Endpoints::of(g, rev);
            let fwd = endpoints[r].as_ref().expect("endpoints of target edge types");
            let map = reverse_edge_ids(g, r, rev, fwd, &back)?;
            Ok(ExcludeRule {
                etype: r,
                reverse: Some((rev, Arc::new(map))),
            })
        })
        .collect()
}

/// With target-edge exclusion on, message passing must not see the held-out (val/test)
/// edges through their reverse edges either: GraphStorm masks only the target edge type
/// (`train_mask`; reverse edge types carry no mask, spec §8 #12), so the reverse of every test
/// edge stays in the graph it evaluates on. Keeps, in each reverse edge type, only the
/// reverses of the forward type's train edges.
fn hide_reverse_of_held_out(
    plan: &TrainConfig,
    g: &mut TrainGraph,
    rules: &[ExcludeRule],
) -> Result<()> {
    let tm = &plan.mask_fields[0];
    for rule in rules {
        let Some((rev, map)) = &rule.reverse else {
            continue;
        };
        let Some(train) = g.edge_mask_ids(rule.etype, tm)? else {
            continue;
        };
        let reverses: Vec<i64> = train.iter().map(|&e| map[e as usize]).collect();
        let what = format!(
            "the reverses of {}'s '{tm}' edges",
            g.etypes()[rule.etype].colon_key()
        );
        keep_only(g, *rev, &reverses, &what);
    }
    Ok(())
}

/// The link prediction [`Driver`].
struct LpDriver<'a> {
    plan: &'a TrainConfig,
    opts: &'a RunOptions,
    lp: LpConfig,
    inputs: Inputs,
    batcher: Arc<LpBatcher>,
    edges: EdgeData,
    eval_fanouts: Vec<LayerFanout>,
    metric: Metric,
    /// Edges of each eval edge type (for `--lp-filtered`).
    known: Vec<Option<FxHashSet<(i64, i64)>>>,
}

/// Opens the graph for LP and hides the non-train edges of every edge type with a train mask
/// from message passing (unless inference with `no_validation`); edge endpoints stay readable
/// for every edge ([`TrainGraph::edge_endpoints`]).
fn open_lp_graph(
    plan: &TrainConfig,
    opts: &RunOptions,
) -> Result<(TrainGraph, Vec<usize>, Vec<usize>)> {
    let mut g = TrainGraph::open(&opts.part_config)?;
    let lp = plan.lp.as_ref().expect("an LP config");
    let train_etypes = resolve_etypes(
        &g,
        lp.train_etype.as_deref(),
        "gsf.link_prediction.train_etype",
    )?;
    let eval_etypes = resolve_etypes(
        &g,
        lp.eval_etype.as_deref(),
        "gsf.link_prediction.eval_etype",
    )?;
    if lp.decoder == super::config::LpDecoder::DistMult && train_etypes.len() == 1 {
        return Err(Error::config(
            "gsf.link_prediction.lp_decoder_type",
            "distmult with a single train edge type: GraphStorm refuses it (\"If number of train \
             etype is 1, please use dot product\"); set lp_decoder_type: dot_product",
        ));
    }
    if !(opts.inference && plan.no_validation) {
        let tm = &plan.mask_fields[0];
        for r in 0..g.etypes().len() {
            if let Some(ids) = g.edge_mask_ids(r, tm)? {
                let what = format!("'{tm}'");
                keep_only(&mut g, r, &ids, &what);
            }
        }
    }
    Ok((g, train_etypes, eval_etypes))
}

/// Narrows message passing over edge type `r` to the edges `ids` (`what` names them in the
/// log line).
fn keep_only(g: &mut TrainGraph, r: usize, ids: &[i64], what: &str) {
    let n = g.num_edges(r);
    let mut keep = vec![false; n];
    for &e in ids {
        keep[e as usize] = true;
    }
    log::info!(
        "message passing over {} of {n} edges of {} ({what})",
        ids.len(),
        g.etypes()[r].colon_key()
    );
    g.restrict_edges(r, |e| keep[e as usize]);
}

impl LpDriver<'_> {
    /// Node embeddings of every node for evaluation / saving (normalised like training).
    fn all_embeddings(&self, model: &Model) -> Vec<Tensor> {
        let h = full_graph_embeddings(model, &self.inputs, &self.eval_fanouts, self.opts.seed);
        if self.lp.l2_normalize {
            h.iter().map(l2_normalize).collect()
        } else {
            h
        }
    }

    /// Ranks of every edge of `sets` among its candidates.
    fn ranks(&self, model: &Model, h: &[Tensor], sets: &[EdgeSet], key: u64) -> Vec<u32> {
        let g = &self.inputs.g;
        let dev = self.inputs.device;
        let k = self.lp.num_negative_edges_eval;
        let bs = self.plan.eval_batch_size.max(1);
        let mut ranks = Vec::new();
        tch::no_grad(|| {
            for set in sets {
                let r = set.etype;
                let e = &g.etypes()[r];
                let ends = self.edges.endpoints[r].as_ref().expect("eval endpoints");
                let (ns, nd) = (g.num_nodes(e.src), g.num_nodes(e.dst));
                for (c, chunk) in set.eids.chunks(bs).enumerate() {
                    let u: Vec<i64> = chunk.iter().map(|&x| ends.src[x as usize]).collect();
                    let v: Vec<i64> = chunk.iter().map(|&x| ends.dst[x as usize]).collect();
                    let hu = h[e.src].index_select(0, &ids_tensor(&u, dev));
                    let hv = h[e.dst].index_select(0, &ids_tensor(&v, dev));
                    let pos = model.score_pairs(&hu, &hv, r);
                    let seed = sampler::hash(&[self.opts.seed, key, r as u64, c as u64]);
                    let negs =
                        eval_negatives(self.lp.eval_negative_sampler, u.len(), k, ns, nd, seed);
                    let (neg, nsrc, ndst) = match &negs {
                        EvalNegatives::Joint { src, dst } => {
                            let cs = h[e.src].index_select(0, &ids_tensor(src, dev));
                            let cd = h[e.dst].index_select(0, &ids_tensor(dst, dev));
                            let a = model.score_shared(&hv, &cs, r);
                            let b = model.score_shared(&hu, &cd, r);
                            (Tensor::cat(&[a, b], 1), src, dst)
                        }
                        EvalNegatives::Uniform { src, dst } => {
                            let b = u.len() as i64;
                            let d = h[e.src].size()[1];
                            let cs = h[e.src]
                                .index_select(0, &ids_tensor(src, dev))
                                .view([b, k as i64, d]);
                            let cd = h[e.dst]
                                .index_select(0, &ids_tensor(dst, dev))
                                .view([b, k as i64, d]);
                            let a = model.score_candidates(&hv, &cs, r);
                            let bb = model.score_candidates(&hu, &cd, r);
                            (Tensor::cat(&[a, bb], 1), src, dst)
                        }
                    };
                    let pos: Vec<f32> =
                        Vec::try_from(pos.to_device(Device::Cpu)).unwrap_or_default();
                    let neg: Vec<f32> = Vec::try_from(neg.to_device(Device::Cpu).flatten(0, -1))
                        .unwrap_or_default();
                    let per = 2 * k;
                    let joint = matches!(negs, EvalNegatives::Joint { .. });
                    for i in 0..u.len() {
                        let row = &neg[i * per..(i + 1) * per];
                        let r_i = match &self.known[r] {
                            None => metrics::rank_of(pos[i], row, false),
                            Some(known) => {
                                // filtered: drop candidates that are edges of the graph
                                let kept: Vec<f32> = (0..per)
                                    .filter(|&j| {
                                        let (a, b) = if j < k {
                                            let s = if joint { nsrc[j] } else { nsrc[i * k + j] };
                                            (s, v[i])
                                        } else {
                                            let j = j - k;
                                            let d = if joint { ndst[j] } else { ndst[i * k + j] };
                                            (u[i], d)
                                        };
                                        !known.contains(&(a, b))
                                    })
                                    .map(|j| row[j])
                                    .collect();
                                metrics::rank_of(pos[i], &kept, false)
                            }
                        };
                        ranks.push(r_i);
                    }
                }
            }
        });
        ranks
    }

    fn log_scores(&self, step: usize, split: &str, ranks: &[u32]) -> f64 {
        let mut first = None;
        for m in &self.plan.eval_metric {
            if let Some(metric) = Metric::parse(m) {
                let v = metric.ranking(ranks);
                log::info!("Step {step} | {split} {}: {v:.4}", metric.name());
                first.get_or_insert(v);
            }
        }
        first.unwrap_or_else(|| self.metric.ranking(ranks))
    }
}

impl Driver for LpDriver<'_> {
    type Batch = LpBatch;
    fn batches(&self, epoch: usize) -> Stream<LpBatch> {
        self.batcher.epoch(
            &self.edges.train,
            self.opts.seed,
            epoch as u64,
            self.opts.prefetch,
        )
    }
    fn loss(&self, model: &Model, b: &LpBatch, trace: &mut EmbTrace) -> Tensor {
        let g = &self.inputs.g;
        let dev = self.inputs.device;
        let mut h = encode(model, &self.inputs, &b.mb, true, Some(trace));
        if self.lp.l2_normalize {
            h = h.iter().map(l2_normalize).collect();
        }
        let mut pos = Vec::new();
        let mut neg = Vec::new();
        for grp in &b.groups {
            let r = grp.etype;
            let e = &g.etypes()[r];
            let u = h[e.src].index_select(0, &ids_tensor(&grp.src, dev));
            let v = h[e.dst].index_select(0, &ids_tensor(&grp.dst, dev));
            let n = grp.len() as i64;
            pos.push(model.score_pairs(&u, &v, r));
            let d = u.size()[1];
            let cand = h[e.dst]
                .index_select(0, &ids_tensor(&grp.neg_dst, dev))
                .view([n, grp.k as i64, d]);
            let mut s = model.score_candidates(&u, &cand, r);
            if grp.in_batch && n > 1 {
                // every other positive's destination: the off-diagonal of u·vᵀ
                let all = model.score_shared(&u, &v, r);
                let off = Tensor::ones([n, n], (Kind::Bool, dev))
                    .logical_xor(&Tensor::eye(n, (Kind::Bool, dev)));
                let inb = all.masked_select(&off).view([n, n - 1]);
                s = Tensor::cat(&[s, inb], 1);
            }
            neg.push(s);
        }
        lp_loss(
            self.lp.loss,
            self.lp.contrastive_loss_temperature,
            &pos,
            &neg,
        )
    }
    fn input_sizes(&self, b: &LpBatch) -> Vec<usize> {
        b.mb.input_nodes.iter().map(Vec::len).collect()
    }
    fn log_batch(&self, epoch: usize, i: usize, loss: f64, secs: f64) {
        log::info!("Epoch {epoch:05} | Batch {i:03} | Train Loss: {loss:.4} | Time: {secs:.4}");
    }
    fn evaluate(&self, model: &Model, step: usize) -> Result<(f64, f64)> {
        let t0 = Instant::now();
        let h = self.all_embeddings(model);
        let te = t0.elapsed().as_secs_f64();
        let key = step as u64;
        let vr = self.ranks(model, &h, &self.edges.val, key.wrapping_mul(2));
        let v = self.log_scores(step, "Validation", &vr);
        let tr = self.ranks(model, &h, &self.edges.test, key.wrapping_mul(2) + 1);
        let t = if tr.is_empty() {
            0.0
        } else {
            self.log_scores(step, "Test", &tr)
        };
        log::info!(
            " Eval time: {:.4}, Evaluation step: {step}.",
            t0.elapsed().as_secs_f64()
        );
        log::info!(
            "evaluation: node embeddings {te:.3}s, ranking {} val + {} test edges against {} candidates each {:.3}s",
            vr.len(),
            tr.len(),
            2 * self.lp.num_negative_edges_eval,
            t0.elapsed().as_secs_f64() - te
        );
        Ok((v, t))
    }
    fn save_embeddings(&self, model: &Model, dir: &Path) -> Result<()> {
        save_all_embeddings(&self.inputs, &self.all_embeddings(model), dir)
    }
    fn graph(&self) -> &TrainGraph {
        &self.inputs.g
    }
    fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "exclusion": match (self.plan.exclude_training_targets, self.opts.exclusion) {
                (false, _) => "off (exclude_training_targets: false)",
                (true, None) => "off",
                (true, Some(sampler::ExclusionMode::After)) => "after",
                (true, Some(sampler::ExclusionMode::Before)) => "before",
            },
            "train_edges": self.edges.train.iter().map(|s| s.eids.len()).sum::<usize>(),
            "val_edges": self.edges.val.iter().map(|s| s.eids.len()).sum::<usize>(),
            "test_edges": self.edges.test.iter().map(|s| s.eids.len()).sum::<usize>(),
            "eval_candidates": 2 * self.lp.num_negative_edges_eval,
            "eval_negative_sampler": format!("{:?}", self.lp.eval_negative_sampler).to_lowercase(),
            "filtered": self.known.iter().any(Option::is_some),
        })
    }
}

/// Saves the embeddings of every node of every node type (GraphStorm's LP output).
fn save_all_embeddings(inputs: &Inputs, h: &[Tensor], dir: &Path) -> Result<()> {
    let t0 = Instant::now();
    let g = &inputs.g;
    let ids: Vec<Vec<i64>> = (0..g.ntypes().len())
        .map(|t| (0..g.num_nodes(t) as i64).collect())
        .collect();
    let embs: Vec<(usize, &Tensor, &[i64])> = (0..g.ntypes().len())
        .map(|t| (t, &h[t], ids[t].as_slice()))
        .collect();
    super::output::save_embeddings(dir, inputs, &embs)?;
    log::info!(
        "saved embeddings of {} nodes ({} node types) to {} in {:.3}s",
        ids.iter().map(Vec::len).sum::<usize>(),
        ids.len(),
        dir.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn lp_driver<'a>(
    plan: &'a TrainConfig,
    opts: &'a RunOptions,
    filtered: bool,
) -> Result<(LpDriver<'a>, super::model::ModelSpec)> {
    let started = Instant::now();
    let lp = plan.lp.clone().expect("an LP config");
    let (mut g, train_etypes, eval_etypes) = open_lp_graph(plan, opts)?;
    let edges = load_edge_data(plan, &g, &train_etypes, &eval_etypes, opts.inference)?;
    let exclusion = if plan.exclude_training_targets {
        opts.exclusion
    } else {
        None
    };
    let rules = exclude_rules(
        plan,
        &g,
        &train_etypes,
        &edges.endpoints,
        exclusion.is_some(),
    )?;
    if exclusion.is_some() && !(opts.inference && plan.no_validation) {
        hide_reverse_of_held_out(plan, &mut g, &rules)?;
    }
    // the endpoints of every eval edge type are loaded already
    let known = edges
        .endpoints
        .iter()
        .enumerate()
        .map(|(r, ends)| {
            let ends = ends
                .as_ref()
                .filter(|_| filtered && eval_etypes.contains(&r))?;
            Some(
                ends.src
                    .iter()
                    .copied()
                    .zip(ends.dst.iter().copied())
                    .collect::<FxHashSet<(i64, i64)>>(),
            )
        })
        .collect();
    let g = Arc::new(g);
    let inputs = Inputs::load(plan, g.clone(), opts.device)?;
    let spec = model_spec(plan, &inputs);
    let fanouts = train_fanouts(plan, spec.num_layers, &g)?;
    let eval_fanouts = eval_fanouts(plan, spec.num_layers, &g)?;
    if plan.use_mini_batch_infer {
        log::info!(
            "use_mini_batch_infer: graphprep computes link prediction embeddings layer by layer over the whole graph (same result with eval_fanout -1)"
        );
    }
    log::info!(
        "link prediction on {}: {} train, {} val, {} test edges; exclusion {}; loaded in {:.3}s",
        train_etypes
            .iter()
            .map(|&r| g.etypes()[r].colon_key())
            .collect::<Vec<_>>()
            .join(", "),
        edges.train.iter().map(|s| s.eids.len()).sum::<usize>(),
        edges.val.iter().map(|s| s.eids.len()).sum::<usize>(),
        edges.test.iter().map(|s| s.eids.len()).sum::<usize>(),
        match exclusion {
            None => "off",
            Some(sampler::ExclusionMode::After) => "after sampling",
            Some(sampler::ExclusionMode::Before) => "before sampling",
        },
        started.elapsed().as_secs_f64()
    );
    let batcher = Arc::new(LpBatcher {
        g: g.clone(),
        endpoints: edges.endpoints.clone(),
        fanouts,
        sampler: lp.train_negative_sampler,
        k: lp.num_negative_edges,
        batch_size: plan.batch_size.max(1),
        exclusion,
        rules,
    });
    Ok((
        LpDriver {
            plan,
            opts,
            lp,
            inputs,
            batcher,
            edges,
            eval_fanouts,
            metric: first_metric(plan),
            known,
        },
        spec,
    ))
}

/// Trains a link prediction model per `plan`.
pub fn train(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    let (driver, spec) = lp_driver(plan, opts, opts.lp_filtered)?;
    fit(&driver, plan, opts, &spec)
}

/// Restores the checkpoint of `restore_model_path` for `spec`.
fn restored_model(
    plan: &TrainConfig,
    spec: &super::model::ModelSpec,
    opts: &RunOptions,
) -> Result<Model> {
    let dir = plan.restore_model_path.as_ref().ok_or_else(|| {
        Error::config(
            "gsf.input.restore_model_path",
            "inference needs restore_model_path (a checkpoint folder written by train, e.g. <save_model_path>/epoch-4)",
        )
    })?;
    tch::manual_seed(opts.seed as i64);
    let mut model = Model::new(spec.clone());
    super::checkpoint::restore(dir, &mut model, None)?;
    model.to_device(opts.device);
    Ok(model)
}

/// Inference of link prediction and edge tasks: test scores when the test set has edges,
/// embeddings of every node (LP) and edge predictions of the test edges (edge tasks).
pub fn infer(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    if plan.task.is_edge_task() {
        return infer_edge_task(plan, opts);
    }
    let (driver, spec) = lp_driver(plan, opts, opts.lp_filtered)?;
    let model = restored_model(plan, &spec, opts)?;
    let metric = first_metric(plan);
    let mut summary = RunSummary {
        metric: metric.name(),
        ..Default::default()
    };
    let t0 = Instant::now();
    let h = driver.all_embeddings(&model);
    if !plan.no_validation && driver.edges.test.iter().any(|s| !s.eids.is_empty()) {
        let ranks = driver.ranks(&model, &h, &driver.edges.test, 1);
        summary.test = Some(driver.log_scores(0, "Test", &ranks));
    }
    log::info!(
        " Eval time: {:.4}, Evaluation step: 0.",
        t0.elapsed().as_secs_f64()
    );
    if let Some(dir) = &plan.save_embed_path {
        save_all_embeddings(&driver.inputs, &h, dir)?;
        summary.embed_dir = Some(dir.clone());
    }
    write_infer_metrics(opts, &mut summary, ("details", driver.report()))?;
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------
// Edge classification / regression
// ---------------------------------------------------------------------------------------------

/// Labels of the target edge type.
enum EdgeLabels {
    Class(Vec<i64>),
    Value(Vec<f32>),
}

/// The edge task [`Driver`].
struct EdgeDriver<'a> {
    plan: &'a TrainConfig,
    opts: &'a RunOptions,
    inputs: Inputs,
    target: usize,
    labels: Option<EdgeLabels>,
    batcher: Arc<LpBatcher>,
    eval_batcher: LpBatcher,
    edges: EdgeData,
    metric: Metric,
}

impl EdgeDriver<'_> {
    /// Decoder outputs for the edges `eids` of the target edge type, in batches of
    /// `eval_batch_size` with the evaluation fanouts.
    fn predict(&self, model: &Model, eids: &[i64]) -> Tensor {
        let dev = self.inputs.device;
        let r = self.target;
        tch::no_grad(|| {
            let outs: Vec<Tensor> = eids
                .chunks(self.plan.eval_batch_size.max(1))
                .enumerate()
                .map(|(c, chunk)| {
                    let edges: Vec<(usize, i64)> = chunk.iter().map(|&e| (r, e)).collect();
                    let b = self
                        .eval_batcher
                        .batch(&edges, sampler::hash(&[self.opts.seed, c as u64, 0x6576]));
                    self.decode(model, &b, false, None)
                })
                .collect();
            if outs.is_empty() {
                let c = match self.plan.task {
                    Task::EdgeClassification => self.plan.num_classes.unwrap_or(1) as i64,
                    _ => 1,
                };
                return Tensor::zeros([0, c], (Kind::Float, dev));
            }
            Tensor::cat(&outs, 0)
        })
    }

    fn decode(
        &self,
        model: &Model,
        b: &LpBatch,
        train: bool,
        trace: Option<&mut EmbTrace>,
    ) -> Tensor {
        let dev = self.inputs.device;
        let e = &self.inputs.g.etypes()[self.target];
        let h = encode(model, &self.inputs, &b.mb, train, trace);
        let grp = &b.groups[0];
        let u = h[e.src].index_select(0, &ids_tensor(&grp.src, dev));
        let v = h[e.dst].index_select(0, &ids_tensor(&grp.dst, dev));
        model.decode_edges(&u, &v, train)
    }

    fn score(&self, out: &Tensor, eids: &[i64]) -> f64 {
        let out = out.to_device(Device::Cpu);
        match &self.labels {
            Some(EdgeLabels::Class(l)) => {
                let pred: Vec<i64> = Vec::try_from(out.argmax(1, false)).unwrap_or_default();
                let y: Vec<i64> = eids.iter().map(|&i| l[i as usize]).collect();
                self.metric.classify(&pred, &y)
            }
            Some(EdgeLabels::Value(v)) => {
                let p: Vec<f32> = Vec::try_from(out.flatten(0, -1)).unwrap_or_default();
                let y: Vec<f32> = eids.iter().map(|&i| v[i as usize]).collect();
                self.metric.regress(&p, &y)
            }
            None => f64::NAN,
        }
    }

    fn eids(sets: &[EdgeSet]) -> Vec<i64> {
        sets.iter().flat_map(|s| s.eids.iter().copied()).collect()
    }
}

impl Driver for EdgeDriver<'_> {
    type Batch = LpBatch;
    fn batches(&self, epoch: usize) -> Stream<LpBatch> {
        self.batcher.epoch(
            &self.edges.train,
            self.opts.seed,
            epoch as u64,
            self.opts.prefetch,
        )
    }
    fn loss(&self, model: &Model, b: &LpBatch, trace: &mut EmbTrace) -> Tensor {
        let dev = self.inputs.device;
        let out = self.decode(model, b, true, Some(trace));
        let eids = &b.groups[0].eids;
        match self.labels.as_ref().expect("labels checked at load") {
            EdgeLabels::Class(l) => {
                let y: Vec<i64> = eids.iter().map(|&i| l[i as usize]).collect();
                let w = self.plan.imbalance_class_weights.as_ref().map(|w| {
                    let v: Vec<f32> = w.iter().map(|x| *x as f32).collect();
                    Tensor::from_slice(&v).to_device(dev)
                });
                out.cross_entropy_loss(
                    &Tensor::from_slice(&y).to_device(dev),
                    w.as_ref(),
                    Reduction::Mean,
                    -100,
                    0.0,
                )
            }
            EdgeLabels::Value(v) => {
                let y: Vec<f32> = eids.iter().map(|&i| v[i as usize]).collect();
                let y = Tensor::from_slice(&y)
                    .view([eids.len() as i64, 1])
                    .to_device(dev);
                out.mse_loss(&y, Reduction::Mean)
            }
        }
    }
    fn evaluate(&self, model: &Model, step: usize) -> Result<(f64, f64)> {
        let t0 = Instant::now();
        let val = Self::eids(&self.edges.val);
        let v = self.score(&self.predict(model, &val), &val);
        let test = Self::eids(&self.edges.test);
        let t = if test.is_empty() {
            0.0
        } else {
            self.score(&self.predict(model, &test), &test)
        };
        log::info!("Step {step} | Validation {}: {v:.4}", self.metric.name());
        log::info!("Step {step} | Test {}: {t:.4}", self.metric.name());
        log::info!(
            " Eval time: {:.4}, Evaluation step: {step}.",
            t0.elapsed().as_secs_f64()
        );
        Ok((v, t))
    }
    fn save_embeddings(&self, model: &Model, dir: &Path) -> Result<()> {
        let fanouts = eval_fanouts(self.plan, model.num_gnn_layers(), &self.inputs.g)?;
        let h = full_graph_embeddings(model, &self.inputs, &fanouts, self.opts.seed);
        save_all_embeddings(&self.inputs, &h, dir)
    }
    fn graph(&self) -> &TrainGraph {
        &self.inputs.g
    }
}

/// The fanouts of `f` with the target edge type and its reverse set to 0
/// (`remove_target_edge_type`).
fn without_target(
    mut f: Vec<LayerFanout>,
    target: usize,
    reverse: Option<usize>,
) -> Vec<LayerFanout> {
    for layer in f.iter_mut() {
        layer[target] = 0;
        if let Some(r) = reverse {
            layer[r] = 0;
        }
    }
    f
}

fn edge_driver<'a>(
    plan: &'a TrainConfig,
    opts: &'a RunOptions,
) -> Result<(EdgeDriver<'a>, super::model::ModelSpec)> {
    let started = Instant::now();
    let ec = plan.edge.clone().expect("an edge task config");
    let section = plan.task.section();
    let g = TrainGraph::open(&opts.part_config)?;
    let target = resolve_etypes(
        &g,
        Some(std::slice::from_ref(&ec.target_etype)),
        &format!("gsf.{section}.target_etype"),
    )?[0];
    let edges = load_edge_data(plan, &g, &[target], &[target], opts.inference)?;
    let labels = match g.edge_column(target, &plan.label_field)? {
        None if !opts.inference => {
            return Err(Error::config(
                format!("gsf.{section}.label_field"),
                format!(
                    "edge type {} has no edge data '{}' (its edge data: {})",
                    g.etypes()[target].colon_key(),
                    plan.label_field,
                    g.edge_feature_names(target).join(", ")
                ),
            ))
        }
        None => None,
        Some(col) => {
            let v = super::graph::to_f32(&col);
            Some(match plan.task {
                Task::EdgeClassification => {
                    let c = plan.num_classes.unwrap_or(1) as i64;
                    let l: Vec<i64> = v
                        .iter()
                        .map(|x| if x.is_nan() { -1 } else { *x as i64 })
                        .collect();
                    for s in edges.train.iter().chain(&edges.val).chain(&edges.test) {
                        for &e in &s.eids {
                            let y = l[e as usize];
                            if y < 0 || y >= c {
                                return Err(Error::Graph(format!(
                                    "label '{}' of edge {e} (shuffled ID) of {} is {y}, outside 0..{c} (num_classes): fix num_classes or the labels",
                                    plan.label_field,
                                    g.etypes()[target].colon_key()
                                )));
                            }
                        }
                    }
                    EdgeLabels::Class(l)
                }
                _ => EdgeLabels::Value(v),
            })
        }
    };
    let exclusion = if plan.exclude_training_targets {
        opts.exclusion
    } else {
        None
    };
    let rules = exclude_rules(plan, &g, &[target], &edges.endpoints, exclusion.is_some())?;
    let reverse = plan
        .reverse_edge_types_map
        .iter()
        .find(|(f, _)| *f == g.etypes()[target].name)
        .and_then(|(_, r)| g.etypes().iter().position(|e| e.name == *r));
    let g = Arc::new(g);
    let inputs = Inputs::load(plan, g.clone(), opts.device)?;
    let spec = model_spec(plan, &inputs);
    let mut fanouts = train_fanouts(plan, spec.num_layers, &g)?;
    let mut efan = eval_fanouts(plan, spec.num_layers, &g)?;
    if ec.remove_target_edge_type {
        fanouts = without_target(fanouts, target, reverse);
        efan = without_target(efan, target, reverse);
    }
    log::info!(
        "{section} on {}: {} train, {} val, {} test edges; loaded in {:.3}s",
        g.etypes()[target].colon_key(),
        edges.train.iter().map(|s| s.eids.len()).sum::<usize>(),
        edges.val.iter().map(|s| s.eids.len()).sum::<usize>(),
        edges.test.iter().map(|s| s.eids.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let batcher = Arc::new(LpBatcher {
        g: g.clone(),
        endpoints: edges.endpoints.clone(),
        fanouts,
        sampler: NegSampler::Uniform,
        k: 0,
        batch_size: plan.batch_size.max(1),
        exclusion,
        rules: rules.clone(),
    });
    let eval_batcher = LpBatcher {
        g: g.clone(),
        endpoints: edges.endpoints.clone(),
        fanouts: efan,
        sampler: NegSampler::Uniform,
        k: 0,
        batch_size: plan.eval_batch_size.max(1),
        exclusion: None,
        rules,
    };
    Ok((
        EdgeDriver {
            plan,
            opts,
            inputs,
            target,
            labels,
            batcher,
            eval_batcher,
            edges,
            metric: first_metric(plan),
        },
        spec,
    ))
}

/// Trains an edge classification / regression model per `plan`.
pub fn train_edge_task(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    let (driver, spec) = edge_driver(plan, opts)?;
    fit(&driver, plan, opts, &spec)
}

/// Edge-task inference: scores on the test edges (when labelled) and their predictions in
/// GraphStorm's edge layout (`<s>_<r>_<d>/predict-00000.pt`, `src_nids`, `dst_nids`).
fn infer_edge_task(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    let (driver, spec) = edge_driver(plan, opts)?;
    let model = restored_model(plan, &spec, opts)?;
    let metric = first_metric(plan);
    let mut summary = RunSummary {
        metric: metric.name(),
        ..Default::default()
    };
    let r = driver.target;
    let g = driver.inputs.g.clone();
    // the test edges, or every edge of the target type when it has no test mask
    let test = EdgeDriver::eids(&driver.edges.test);
    let infer_ids: Vec<i64> = if test.is_empty() {
        (0..g.num_edges(r) as i64).collect()
    } else {
        test.clone()
    };
    let t0 = Instant::now();
    let out = driver.predict(&model, &infer_ids);
    if !plan.no_validation && driver.labels.is_some() && !test.is_empty() {
        let t = driver.score(&out, &infer_ids);
        log::info!("Step 0 | Test {}: {t:.4}", metric.name());
        summary.test = Some(t);
    }
    log::info!(
        " Eval time: {:.4}, Evaluation step: 0.",
        t0.elapsed().as_secs_f64()
    );
    if let Some(dir) = &plan.save_embed_path {
        driver.save_embeddings(&model, dir)?;
        summary.embed_dir = Some(dir.clone());
    }
    if let Some(dir) = &plan.save_prediction_path {
        let pred = super::run::prediction_values(plan, &out);
        let ends = driver.edges.endpoints[r].as_ref().expect("endpoints");
        let e = &g.etypes()[r];
        let cs = g.construction_ids(e.src)?;
        let cd = g.construction_ids(e.dst)?;
        let src: Vec<i64> = infer_ids
            .iter()
            .map(|&x| cs[ends.src[x as usize] as usize])
            .collect();
        let dst: Vec<i64> = infer_ids
            .iter()
            .map(|&x| cd[ends.dst[x as usize] as usize])
            .collect();
        super::output::save_edge_predictions(dir, &e.name, &pred, &src, &dst)?;
        summary.prediction_dir = Some(dir.clone());
    }
    write_infer_metrics(
        opts,
        &mut summary,
        ("inferred_edges", infer_ids.len().into()),
    )?;
    Ok(summary)
}
