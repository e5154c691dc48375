//! The training loop and inference driver of node tasks (GraphStorm's `gsgnn_np.py` /
//! `np_infer_gnn.py` on one machine): data from [`super::graph::TrainGraph`], batches from
//! [`super::sampler`], the model of [`super::model`], GraphStorm's log lines, `metrics.json`,
//! checkpoints ([`super::checkpoint`]) and the embedding / prediction outputs
//! ([`crate::format::results`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tch::{Device, Kind, Reduction, Tensor};

use super::checkpoint;
use super::config::{Encoder, NodeFeat, Task, TrainConfig};
use super::graph::TrainGraph;
use super::metrics::{Best, EarlyStop, Metric};
use super::model::{EmbTrace, Head, LayerGraph, Model, ModelSpec};
use super::optim::{clip_grad_norm, zero_grad, Adam, SparseAdam};
use super::sampler::{self, LayerFanout, MiniBatch};
use crate::error::{Error, Result};
use crate::format::results::Pred;

/// Run-level options that are not part of the GraphStorm config.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub part_config: PathBuf,
    pub seed: u64,
    pub device: Device,
    pub inference: bool,
    pub metrics_file: Option<PathBuf>,
    pub progress: bool,
    /// Merged config written as `GRAPHSTORM_RUNTIME_UPDATED_TRAINING_CONFIG.yaml`.
    pub runtime_yaml: Option<String>,
    /// Sampler batches prepared ahead of the model.
    pub prefetch: usize,
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub best_val: Option<f64>,
    pub best_test: Option<f64>,
    pub test: Option<f64>,
    pub metric: String,
    pub epoch_seconds: Vec<f64>,
    pub embed_dir: Option<PathBuf>,
    pub prediction_dir: Option<PathBuf>,
    pub metrics_file: Option<PathBuf>,
}

/// Labels of the target ntype.
enum Labels {
    Class(Vec<i64>),
    Multi { cols: usize, data: Vec<f32> },
    Value(Vec<f32>),
}

/// The loaded graph with the tensors the model reads.
pub(crate) struct Data {
    pub g: Arc<TrainGraph>,
    pub target: usize,
    pub feats: Vec<Option<Tensor>>,
    pub feat_dims: Vec<usize>,
    labels: Option<Labels>,
    pub train: Arc<Vec<i64>>,
    pub val: Arc<Vec<i64>>,
    pub test: Arc<Vec<i64>>,
    pub device: Device,
}

impl Data {
    pub(crate) fn load(plan: &TrainConfig, opts: &RunOptions) -> Result<Data> {
        let started = Instant::now();
        let g = Arc::new(TrainGraph::open(&opts.part_config)?);
        let target = g.ntype_id(&plan.target_ntype).ok_or_else(|| {
            Error::config(
                "gsf.node_classification.target_ntype",
                format!(
                    "'{}' is not a node type of {} (node types: {})",
                    plan.target_ntype,
                    opts.part_config.display(),
                    g.ntypes().join(", ")
                ),
            )
        })?;
        let nt = g.ntypes().len();
        let mut feats = Vec::with_capacity(nt);
        let mut feat_dims = Vec::with_capacity(nt);
        for t in 0..nt {
            let names = feature_names(plan, &g, t);
            match names {
                Some(names) if !names.is_empty() => {
                    let m = g.node_features(t, &names)?;
                    feat_dims.push(m.dim);
                    let x = Tensor::from_slice(&m.data)
                        .view([m.rows as i64, m.dim as i64])
                        .to_device(opts.device);
                    feats.push(Some(x));
                }
                _ => {
                    feat_dims.push(0);
                    feats.push(None);
                }
            }
        }
        let n_target = g.num_nodes(target);
        let labels = match g.node_column(target, &plan.label_field)? {
            None => None,
            Some(col) => {
                let v = super::graph::to_f32(&col);
                let shape = col.shape.clone();
                Some(match plan.task {
                    Task::NodeRegression => Labels::Value(v),
                    Task::NodeClassification if plan.multilabel => {
                        let cols = shape.get(1).copied().unwrap_or(1);
                        if cols != num_classes(plan) {
                            return Err(Error::config(
                                "gsf.node_classification.num_classes",
                                format!(
                                    "multilabel label '{}' of '{}' has {cols} columns, num_classes is {}",
                                    plan.label_field, plan.target_ntype, num_classes(plan)
                                ),
                            ));
                        }
                        Labels::Multi { cols, data: v }
                    }
                    Task::NodeClassification => Labels::Class(
                        v.iter()
                            .map(|x| if x.is_nan() { -1 } else { *x as i64 })
                            .collect(),
                    ),
                })
            }
        };
        if labels.is_none() && !opts.inference {
            return Err(Error::config(
                "gsf.node_classification.label_field",
                format!(
                    "node type '{}' has no feature '{}' (its node data: {})",
                    plan.target_ntype,
                    plan.label_field,
                    g.node_feature_names(target).join(", ")
                ),
            ));
        }
        let names = g.node_feature_names(target);
        let mask = |i: usize, required: bool| -> Result<Vec<i64>> {
            let name = &plan.mask_fields[i];
            match names.contains(name) {
                true => g.mask_ids(target, name),
                false if required => Err(Error::config(
                    "gsf.node_classification",
                    format!(
                        "node type '{}' has no mask '{name}' (its node data: {})",
                        plan.target_ntype,
                        names.join(", ")
                    ),
                )),
                false => Ok(Vec::new()),
            }
        };
        let train = if opts.inference {
            Vec::new()
        } else {
            mask(0, true)?
        };
        let val = if plan.no_validation {
            Vec::new()
        } else {
            mask(1, !opts.inference)?
        };
        let test = mask(2, false)?;
        if !opts.inference && train.is_empty() {
            return Err(Error::Graph(format!(
                "'{}' of node type '{}' selects no node: nothing to train on",
                plan.mask_fields[0], plan.target_ntype
            )));
        }
        if let Some(Labels::Class(l)) = &labels {
            for &i in train.iter().chain(&val).chain(&test) {
                let y = l[i as usize];
                if y < 0 || y as usize >= num_classes(plan) {
                    return Err(Error::Graph(format!(
                        "label '{}' of '{}' node {i} (shuffled ID) is {y}, outside 0..{} (num_classes): fix num_classes or the labels",
                        plan.label_field, plan.target_ntype, num_classes(plan)
                    )));
                }
            }
        }
        log::info!(
            "loaded {} ({} node types, {} edge types, {} {} nodes: {} train, {} val, {} test) in {:.3}s",
            opts.part_config.display(),
            nt,
            g.etypes().len(),
            n_target,
            plan.target_ntype,
            train.len(),
            val.len(),
            test.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(Data {
            g,
            target,
            feats,
            feat_dims,
            labels,
            train: Arc::new(train),
            val: Arc::new(val),
            test: Arc::new(test),
            device: opts.device,
        })
    }
}

/// The model spec of `plan` on `data`'s graph.
pub(crate) fn model_spec(plan: &TrainConfig, data: &Data) -> ModelSpec {
    let g = &data.g;
    let num_layers = if plan.model_encoder_type == Encoder::Mlp {
        0
    } else {
        plan.num_layers
    };
    ModelSpec {
        encoder: plan.model_encoder_type,
        hidden: plan.hidden_size,
        out_dim: if num_layers > 1 {
            plan.out_emb_size.unwrap_or(plan.hidden_size)
        } else {
            plan.hidden_size
        },
        num_layers,
        num_bases: (plan.num_bases > 0).then_some(plan.num_bases as usize),
        use_self_loop: plan.use_self_loop,
        dropout: plan.dropout,
        gnn_norm: plan.gnn_norm,
        input_activate: plan.input_activate.is_some(),
        use_node_embeddings: plan.use_node_embeddings,
        feat_dims: data.feat_dims.clone(),
        num_nodes: (0..g.ntypes().len()).map(|t| g.num_nodes(t)).collect(),
        ntype_names: g.ntypes().to_vec(),
        etypes: g.etypes().iter().map(|e| (e.src, e.dst)).collect(),
        head: match plan.task {
            Task::NodeClassification => Head::Classes(num_classes(plan)),
            Task::NodeRegression => Head::Regression,
        },
        decoder_bias: plan.decoder_bias,
    }
}

fn num_classes(plan: &TrainConfig) -> usize {
    plan.num_classes.unwrap_or(1)
}

fn first_metric(plan: &TrainConfig) -> Metric {
    plan.eval_metric
        .first()
        .and_then(|m| Metric::parse(m))
        .unwrap_or(match plan.task {
            Task::NodeClassification => Metric::Accuracy,
            Task::NodeRegression => Metric::Rmse,
        })
}

fn f32_tensor(w: &[f64]) -> Tensor {
    let v: Vec<f32> = w.iter().map(|x| *x as f32).collect();
    Tensor::from_slice(&v)
}

/// The features `node_feat_name` gives ntype `t`: `["feat"]` applies to the ntypes that have
/// every listed feature (the others are featureless, as in GraphStorm).
fn feature_names(plan: &TrainConfig, g: &TrainGraph, t: usize) -> Option<Vec<String>> {
    let names = plan.node_feat_names(&g.ntypes()[t])?;
    if let NodeFeat::All(_) = plan.node_feat_name {
        let have = g.node_feature_names(t);
        if !names.iter().all(|n| have.contains(n)) {
            return None;
        }
    }
    Some(names)
}

fn ids_tensor(v: &[i64], device: Device) -> Tensor {
    Tensor::from_slice(v).to_device(device)
}

fn layer_graph(block: &sampler::Block, device: Device) -> LayerGraph {
    LayerGraph {
        num_dst: block.num_dst.iter().map(|n| *n as i64).collect(),
        rels: block
            .rels
            .iter()
            .map(|r| {
                (!r.src_local.is_empty()).then(|| {
                    (
                        ids_tensor(&r.offsets, device),
                        ids_tensor(&r.src_local, device),
                    )
                })
            })
            .collect(),
    }
}

/// Forward pass on one mini-batch: decoder output for the target-type seeds.
pub(crate) fn forward(
    model: &Model,
    data: &Data,
    mb: &MiniBatch,
    train: bool,
    mut trace: Option<&mut EmbTrace>,
) -> Tensor {
    let ids: Vec<Tensor> = mb
        .input_nodes
        .iter()
        .map(|v| ids_tensor(v, data.device))
        .collect();
    let mut h = Vec::new();
    for (l, block) in mb.blocks.iter().enumerate() {
        let lg = layer_graph(block, data.device);
        h = if l == 0 && model.linear_first_layer() {
            model.first_layer_from_inputs(&data.feats, &ids, &lg, train, trace.take())
        } else {
            if l == 0 {
                h = model.input_layer(&data.feats, &ids, train, trace.take());
            }
            model.gnn_layer(l, &lg, &h, train)
        };
    }
    if mb.blocks.is_empty() {
        h = model.input_layer(&data.feats, &ids, train, trace.take());
    }
    model.decode(&h[data.target])
}

/// Node representations of every node of every ntype, layer by layer over the whole graph
/// (GraphStorm's `dist_inference`), with `fanouts[l]` per layer (-1 = all neighbours).
pub(crate) fn full_graph_embeddings(
    model: &Model,
    data: &Data,
    fanouts: &[LayerFanout],
    seed: u64,
) -> Vec<Tensor> {
    tch::no_grad(|| {
        let g = &data.g;
        let nt = g.ntypes().len();
        let all: Vec<Vec<i64>> = (0..nt)
            .map(|t| (0..g.num_nodes(t) as i64).collect())
            .collect();
        let ids: Vec<Tensor> = all.iter().map(|v| ids_tensor(v, data.device)).collect();
        let mut h = model.input_layer(&data.feats, &ids, false, None);
        for (l, fanout) in fanouts.iter().enumerate().take(model.num_gnn_layers()) {
            let mb = sampler::sample(
                g,
                all.clone(),
                std::slice::from_ref(fanout),
                seed ^ (l as u64 + 1),
            );
            let lg = layer_graph(&mb.blocks[0], data.device);
            h = model.gnn_layer(l, &lg, &h, false);
        }
        h
    })
}

/// Decoder outputs (logits / values) for `ids` of the target ntype, in `ids` order.
fn predict(
    model: &Model,
    data: &Data,
    plan: &TrainConfig,
    ids: &Arc<Vec<i64>>,
    eval_fanouts: &[LayerFanout],
    seed: u64,
    prefetch: usize,
) -> Tensor {
    tch::no_grad(|| {
        if !plan.use_mini_batch_infer && model.num_gnn_layers() > 0 {
            let h = full_graph_embeddings(model, data, eval_fanouts, seed);
            let rows = h[data.target].index_select(0, &ids_tensor(ids, data.device));
            return model.decode(&rows);
        }
        let batches = sampler::epoch_batches(
            data.g.clone(),
            data.target,
            ids.clone(),
            plan.eval_batch_size.max(1),
            false,
            eval_fanouts.to_vec(),
            seed,
            0,
            prefetch,
        );
        let outs: Vec<Tensor> = batches
            .map(|mb| forward(model, data, &mb, false, None))
            .collect();
        if outs.is_empty() {
            let c = match plan.task {
                Task::NodeClassification => num_classes(plan) as i64,
                Task::NodeRegression => 1,
            };
            return Tensor::zeros([0, c], (Kind::Float, data.device));
        }
        Tensor::cat(&outs, 0)
    })
}

/// Scores of `metric` for decoder outputs `out` of the nodes `ids`.
fn score(data: &Data, metric: Metric, out: &Tensor, ids: &[i64]) -> f64 {
    let out = out.to_device(Device::Cpu);
    match data.labels.as_ref() {
        Some(Labels::Class(l)) => {
            let pred: Vec<i64> = Vec::<i64>::try_from(out.argmax(1, false)).unwrap_or_default();
            let y: Vec<i64> = ids.iter().map(|&i| l[i as usize]).collect();
            metric.classify(&pred, &y)
        }
        Some(Labels::Multi { cols, data: d }) => {
            let prob: Vec<f32> =
                Vec::<f32>::try_from(out.sigmoid().flatten(0, -1)).unwrap_or_default();
            let mut y = Vec::with_capacity(ids.len() * cols);
            for &i in ids {
                y.extend_from_slice(&d[i as usize * cols..(i as usize + 1) * cols]);
            }
            super::metrics::roc_auc_macro(&prob, &y, *cols)
        }
        Some(Labels::Value(v)) => {
            let p: Vec<f32> = Vec::<f32>::try_from(out.flatten(0, -1)).unwrap_or_default();
            let y: Vec<f32> = ids.iter().map(|&i| v[i as usize]).collect();
            metric.regress(&p, &y)
        }
        None => f64::NAN,
    }
}

/// Loss of decoder outputs `out` against the labels of `seeds`.
fn loss(plan: &TrainConfig, data: &Data, out: &Tensor, seeds: &[i64]) -> Tensor {
    let dev = data.device;
    match data.labels.as_ref().expect("labels checked at load") {
        Labels::Class(l) => {
            let y: Vec<i64> = seeds.iter().map(|&i| l[i as usize]).collect();
            let y = Tensor::from_slice(&y).to_device(dev);
            let w = plan
                .imbalance_class_weights
                .as_ref()
                .map(|w| f32_tensor(w).to_device(dev));
            out.cross_entropy_loss(&y, w.as_ref(), Reduction::Mean, -100, 0.0)
        }
        Labels::Multi { cols, data: d } => {
            let mut y = Vec::with_capacity(seeds.len() * cols);
            for &i in seeds {
                y.extend_from_slice(&d[i as usize * cols..(i as usize + 1) * cols]);
            }
            let y = Tensor::from_slice(&y)
                .view([seeds.len() as i64, *cols as i64])
                .to_device(dev);
            let w = plan
                .imbalance_class_weights
                .as_ref()
                .map(|w| f32_tensor(w).to_device(dev));
            let pw = plan
                .multilabel_weights
                .as_ref()
                .map(|w| f32_tensor(w).to_device(dev));
            out.binary_cross_entropy_with_logits(&y, w.as_ref(), pw.as_ref(), Reduction::Mean)
        }
        Labels::Value(v) => {
            let y: Vec<f32> = seeds.iter().map(|&i| v[i as usize]).collect();
            let y = Tensor::from_slice(&y)
                .view([seeds.len() as i64, 1])
                .to_device(dev);
            out.mse_loss(&y, Reduction::Mean)
        }
    }
}

/// Where an epoch's training time went (seconds): waiting for the sampler's next batch
/// (sampling overlaps compute, so this is the part it did not hide), forward pass + loss,
/// backward pass, dense + sparse optimizer steps.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Profile {
    sample_wait: f64,
    forward: f64,
    backward: f64,
    optimizer: f64,
}

/// Per-epoch record for `metrics.json`.
#[derive(Debug, Clone, serde::Serialize)]
struct EpochRecord {
    epoch: usize,
    profile: Profile,
    train_seconds: f64,
    eval_seconds: Option<f64>,
    mean_loss: f64,
    val: Option<f64>,
    test: Option<f64>,
}

/// Trains per `plan` (and evaluates, checkpoints, saves embeddings).
// `x += y` on a tch Tensor is the in-place `add_`: keep the out-of-place form for autograd.
#[allow(clippy::assign_op_pattern)]
pub fn train(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    let data = Data::load(plan, opts)?;
    let spec = model_spec(plan, &data);
    let metric = first_metric(plan);
    let g = data.g.clone();
    let num_layers = spec.num_layers;
    let fanouts = if num_layers == 0 {
        Vec::new()
    } else {
        sampler::parse_fanout(
            plan.fanout.as_ref().map_or("", |f| f.raw.as_str()),
            num_layers,
            &g,
        )
        .map_err(|m| Error::config("gsf.gnn.fanout", m))?
    };
    let eval_fanouts = eval_fanouts(plan, num_layers, &g)?;

    tch::manual_seed(opts.seed as i64);
    let mut model = Model::new(spec.clone());
    let mut start_epoch = 0usize;
    let mut adam = Adam::new(
        &model
            .named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>(),
        plan.lr,
        plan.wd_l2norm,
    );
    let mut sparse: Vec<Option<SparseAdam>> = model
        .embeddings
        .iter()
        .map(|e| {
            e.as_ref()
                .map(|e| SparseAdam::new(&e.table, plan.sparse_optimizer_lr))
        })
        .collect();
    if let Some(dir) = &plan.restore_model_path {
        let restored = checkpoint::restore(dir, &mut model, Some((&mut adam, &mut sparse)))?;
        start_epoch = restored.next_epoch;
        log::info!(
            "restored model from {} (continuing at epoch {start_epoch})",
            dir.display()
        );
    }
    model.to_device(opts.device);
    for s in sparse.iter_mut().flatten() {
        s.step = s.step.to_device(opts.device);
        s.mem = s.mem.to_device(opts.device);
        s.power = s.power.to_device(opts.device);
    }
    for (m, v) in adam.state.iter_mut() {
        *m = m.to_device(opts.device);
        *v = v.to_device(opts.device);
    }

    if let Some(dir) = &plan.save_model_path {
        checkpoint::write_run_files(dir, &opts.part_config, opts.runtime_yaml.as_deref())?;
    }

    let mut best = Best::new(metric);
    let mut best_state: Option<Vec<(String, Tensor)>> = None;
    let mut early = EarlyStop::new(
        plan.early_stop_burnin_rounds,
        plan.early_stop_rounds,
        plan.early_stop_strategy,
        metric.higher_is_better(),
    );
    let mut records: Vec<EpochRecord> = Vec::new();
    let mut saved: Vec<(f64, PathBuf)> = Vec::new();
    let mut step = 0usize;
    let mut stop = false;
    let mut last_test = None;
    let need_best_copy = plan.save_embed_path.is_some();

    let progress = crate::progress::Progress::new(opts.progress);
    if plan.num_epochs == 0 {
        log::warn!("num_epochs is 0 (GraphStorm's default): nothing is trained");
    }
    for epoch in start_epoch..plan.num_epochs {
        tch::manual_seed(opts.seed.wrapping_add(epoch as u64 * 7919) as i64);
        let t0 = Instant::now();
        let batches = sampler::epoch_batches(
            g.clone(),
            data.target,
            data.train.clone(),
            plan.batch_size.max(1),
            true,
            fanouts.clone(),
            opts.seed,
            epoch as u64,
            opts.prefetch,
        );
        let nb = batches.len();
        let bar = progress.stage(&format!("epoch {epoch}"), Some(nb as u64), "batches");
        let mut loss_sum = 0.0;
        let mut eval_time = 0.0;
        let mut epoch_val = None;
        let mut epoch_test = None;
        let mut prof = Profile::default();
        let mut batches = batches.enumerate();
        loop {
            let tw = Instant::now();
            let Some((i, mb)) = batches.next() else {
                break;
            };
            prof.sample_wait += tw.elapsed().as_secs_f64();
            let tb = Instant::now();
            let mut trace = EmbTrace::default();
            let out = forward(&model, &data, &mb, true, Some(&mut trace));
            let seeds = &mb.seeds[data.target];
            let mut l = loss(plan, &data, &out, seeds);
            if plan.alpha_l2norm > 0.0 {
                let mut reg = Tensor::zeros([], (Kind::Float, opts.device));
                for (_, p) in model.named_parameters() {
                    reg = reg + p.pow_tensor_scalar(2).sum(Kind::Float);
                }
                l = l + reg * plan.alpha_l2norm;
            }
            let lv = l.double_value(&[]);
            prof.forward += tb.elapsed().as_secs_f64();
            if !lv.is_finite() {
                return Err(Error::Other(format!(
                    "loss became {lv} at epoch {epoch}, batch {i}: lower lr, set max_grad_norm, or check the features for NaN/inf"
                )));
            }
            {
                let mut ps: Vec<&mut Tensor> = model
                    .named_parameters_mut()
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect();
                zero_grad(&mut ps);
            }
            let tk = Instant::now();
            l.backward();
            prof.backward += tk.elapsed().as_secs_f64();
            let to = Instant::now();
            if let Some(max) = plan.max_grad_norm {
                let ps: Vec<&Tensor> = model
                    .named_parameters()
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect();
                clip_grad_norm(&ps, max, plan.grad_norm_type);
            }
            {
                let mut ps: Vec<&mut Tensor> = model
                    .named_parameters_mut()
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect();
                adam.step(&mut ps);
            }
            for (t, idx, leaf) in &trace.rows {
                let grad = leaf.grad();
                if !grad.defined() {
                    continue;
                }
                if let (Some(opt), Some(emb)) = (sparse[*t].as_mut(), model.embeddings[*t].as_mut())
                {
                    opt.update(&mut emb.table, idx, &grad);
                }
            }
            prof.optimizer += to.elapsed().as_secs_f64();
            loss_sum += lv;
            if i % 20 == 0 {
                log::info!(
                    "Part 0 | Epoch {epoch:05} | Batch {i:03} | Loss: {lv:.4} | Time: {:.4}",
                    tb.elapsed().as_secs_f64()
                );
            }
            step += 1;
            bar.inc(1);
            if plan.eval_frequency != usize::MAX
                && step.is_multiple_of(plan.eval_frequency)
                && !plan.no_validation
                && i + 1 != nb
            {
                let te = Instant::now();
                let (v, t) = evaluate(&model, &data, plan, &eval_fanouts, opts, metric, step)?;
                eval_time += te.elapsed().as_secs_f64();
                if best.update(v, t, step, epoch) && need_best_copy {
                    best_state = Some(checkpoint::snapshot(&model));
                }
            }
            if plan.save_model_frequency > 0
                && step.is_multiple_of(plan.save_model_frequency as usize)
            {
                if let Some(dir) = &plan.save_model_path {
                    let path = dir.join(format!("epoch-{epoch}-iter-{i}"));
                    checkpoint::save(&path, &model, &adam, &sparse, epoch, &data.g)?;
                }
            }
        }
        bar.finish(nb as u64);
        let train_secs = t0.elapsed().as_secs_f64() - eval_time;
        log::info!("Epoch {epoch} take {train_secs:.3} seconds");
        log::info!(
            "epoch {epoch} profile: waiting for sampled batches {:.3}s, forward+loss {:.3}s, backward {:.3}s, optimizers {:.3}s",
            prof.sample_wait,
            prof.forward,
            prof.backward,
            prof.optimizer
        );
        let mut eval_secs = None;
        if !plan.no_validation {
            let te = Instant::now();
            let (v, t) = evaluate(&model, &data, plan, &eval_fanouts, opts, metric, step)?;
            eval_secs = Some(te.elapsed().as_secs_f64());
            epoch_val = Some(v);
            epoch_test = Some(t);
            last_test = Some(t);
            if best.update(v, t, step, epoch) && need_best_copy {
                best_state = Some(checkpoint::snapshot(&model));
            }
            log::info!(
                "Step {step} | Best Validation {}: {:.4}",
                metric.name(),
                best.val
            );
            log::info!(
                "Step {step} | Best Test {}: {:.4}",
                metric.name(),
                best.test
            );
            if plan.use_early_stop && early.check(v) {
                log::info!("early stopping after epoch {epoch} (no validation improvement)");
                stop = true;
            }
        } else if need_best_copy {
            best_state = Some(checkpoint::snapshot(&model));
        }
        records.push(EpochRecord {
            epoch,
            train_seconds: train_secs,
            eval_seconds: eval_secs,
            mean_loss: loss_sum / nb.max(1) as f64,
            profile: prof,
            val: epoch_val,
            test: epoch_test,
        });
        if let Some(dir) = &plan.save_model_path {
            let path = dir.join(format!("epoch-{epoch}"));
            checkpoint::save(&path, &model, &adam, &sparse, epoch, &data.g)?;
            saved.push((epoch_val.unwrap_or(0.0), path));
            if let Some(k) = plan.topk_model_to_save {
                checkpoint::keep_topk(&mut saved, k, metric.higher_is_better())?;
            }
        }
        if stop {
            break;
        }
    }

    let mut summary = RunSummary {
        metric: metric.name().to_string(),
        epoch_seconds: records.iter().map(|r| r.train_seconds).collect(),
        best_val: best.found.then_some(best.val),
        best_test: best.found.then_some(best.test),
        test: last_test,
        ..Default::default()
    };
    if let Some(dir) = &plan.save_embed_path {
        if let Some(state) = &best_state {
            checkpoint::load_snapshot(&mut model, state);
        }
        let t0 = Instant::now();
        let h = if model.num_gnn_layers() > 0 {
            full_graph_embeddings(&model, &data, &eval_fanouts, opts.seed)
        } else {
            let all: Vec<Tensor> = (0..g.ntypes().len())
                .map(|t| {
                    let v: Vec<i64> = (0..g.num_nodes(t) as i64).collect();
                    ids_tensor(&v, data.device)
                })
                .collect();
            tch::no_grad(|| model.input_layer(&data.feats, &all, false, None))
        };
        let all_target: Vec<i64> = (0..g.num_nodes(data.target) as i64).collect();
        super::output::save_embeddings(dir, &data, &[(data.target, &h[data.target], &all_target)])?;
        log::info!(
            "saved {} embeddings of '{}' to {} in {:.3}s",
            all_target.len(),
            g.ntypes()[data.target],
            dir.display(),
            t0.elapsed().as_secs_f64()
        );
        summary.embed_dir = Some(dir.clone());
    }
    let metrics_path = opts.metrics_file.clone().or_else(|| {
        plan.save_model_path
            .as_ref()
            .map(|d| d.join("metrics.json"))
    });
    if let Some(p) = &metrics_path {
        let doc = serde_json::json!({
            "task": match plan.task { Task::NodeClassification => "node_classification", Task::NodeRegression => "node_regression" },
            "metric": metric.name(),
            "seed": opts.seed,
            "epochs": records,
            "best": {
                "epoch": best.found.then_some(best.epoch),
                "step": best.found.then_some(best.step),
                "val": summary.best_val,
                "test": summary.best_test,
            },
            "median_epoch_seconds": median(&summary.epoch_seconds),
        });
        super::output::write_json(p, &doc)?;
        summary.metrics_file = Some(p.clone());
    }
    Ok(summary)
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    Some(if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    })
}

fn eval_fanouts(plan: &TrainConfig, num_layers: usize, g: &TrainGraph) -> Result<Vec<LayerFanout>> {
    if num_layers == 0 {
        return Ok(Vec::new());
    }
    sampler::parse_fanout(&plan.eval_fanout.raw, num_layers, g)
        .map_err(|m| Error::config("gsf.gnn.eval_fanout", m))
}

/// Validation and test scores (logs GraphStorm's lines).
fn evaluate(
    model: &Model,
    data: &Data,
    plan: &TrainConfig,
    eval_fanouts: &[LayerFanout],
    opts: &RunOptions,
    metric: Metric,
    step: usize,
) -> Result<(f64, f64)> {
    let t0 = Instant::now();
    let vo = predict(
        model,
        data,
        plan,
        &data.val,
        eval_fanouts,
        opts.seed,
        opts.prefetch,
    );
    let v = score(data, metric, &vo, &data.val);
    let t = if data.test.is_empty() {
        0.0
    } else {
        let to = predict(
            model,
            data,
            plan,
            &data.test,
            eval_fanouts,
            opts.seed,
            opts.prefetch,
        );
        score(data, metric, &to, &data.test)
    };
    log::info!("Step {step} | Validation {}: {v:.4}", metric.name());
    log::info!("Step {step} | Test {}: {t:.4}", metric.name());
    log::info!(
        " Eval time: {:.4}, Evaluation step: {step}.",
        t0.elapsed().as_secs_f64()
    );
    Ok((v, t))
}

/// Inference (`--inference`): restores the model, evaluates on the test set when it has labels,
/// writes embeddings and predictions of the inference node set.
pub fn infer(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    let dir = plan.restore_model_path.as_ref().ok_or_else(|| {
        Error::config(
            "gsf.input.restore_model_path",
            "inference needs restore_model_path (a checkpoint folder written by train, e.g. <save_model_path>/epoch-4)",
        )
    })?;
    let data = Data::load(plan, opts)?;
    let spec = model_spec(plan, &data);
    let metric = first_metric(plan);
    let g = data.g.clone();
    tch::manual_seed(opts.seed as i64);
    let mut model = Model::new(spec.clone());
    checkpoint::restore(dir, &mut model, None)?;
    model.to_device(opts.device);
    let eval_fanouts = eval_fanouts(plan, spec.num_layers, &g)?;
    let mut summary = RunSummary {
        metric: metric.name().to_string(),
        ..Default::default()
    };
    let infer_ids: Arc<Vec<i64>> = if plan.infer_all_target_nodes
        || !g
            .node_feature_names(data.target)
            .contains(&plan.mask_fields[2])
    {
        Arc::new((0..g.num_nodes(data.target) as i64).collect())
    } else {
        data.test.clone()
    };
    let t0 = Instant::now();
    let out = predict(
        &model,
        &data,
        plan,
        &infer_ids,
        &eval_fanouts,
        opts.seed,
        opts.prefetch,
    );
    if !plan.no_validation && data.labels.is_some() && !data.test.is_empty() {
        let test_out = if Arc::ptr_eq(&infer_ids, &data.test) {
            out.shallow_clone()
        } else {
            predict(
                &model,
                &data,
                plan,
                &data.test,
                &eval_fanouts,
                opts.seed,
                opts.prefetch,
            )
        };
        let t = score(&data, metric, &test_out, &data.test);
        log::info!("Step 0 | Test {}: {t:.4}", metric.name());
        summary.test = Some(t);
    }
    log::info!(
        " Eval time: {:.4}, Evaluation step: 0.",
        t0.elapsed().as_secs_f64()
    );
    if let Some(dir) = &plan.save_embed_path {
        let h = if model.num_gnn_layers() > 0 {
            let all = full_graph_embeddings(&model, &data, &eval_fanouts, opts.seed);
            all[data.target].index_select(0, &ids_tensor(&infer_ids, data.device))
        } else {
            let mut ids: Vec<Tensor> = (0..g.ntypes().len())
                .map(|_| Tensor::zeros([0], (Kind::Int64, data.device)))
                .collect();
            ids[data.target] = ids_tensor(&infer_ids, data.device);
            tch::no_grad(|| model.input_layer(&data.feats, &ids, false, None))
                .swap_remove(data.target)
        };
        super::output::save_embeddings(dir, &data, &[(data.target, &h, &infer_ids)])?;
        summary.embed_dir = Some(dir.clone());
    }
    if let Some(dir) = &plan.save_prediction_path {
        super::output::save_predictions(dir, &data, plan, &out, &infer_ids)?;
        summary.prediction_dir = Some(dir.clone());
    }
    if let Some(p) = &opts.metrics_file {
        let doc = serde_json::json!({
            "task": "inference",
            "metric": metric.name(),
            "test": summary.test,
            "inferred_nodes": infer_ids.len(),
        });
        super::output::write_json(p, &doc)?;
        summary.metrics_file = Some(p.clone());
    }
    Ok(summary)
}

/// Predictions of decoder outputs as saved: probabilities (softmax / sigmoid), regression
/// values, multilabel 0/1 columns, or class IDs (`return_proba: false`).
pub(crate) fn prediction_values(plan: &TrainConfig, out: &Tensor) -> Pred {
    let out = out.to_device(Device::Cpu);
    let rows = out.size()[0] as usize;
    let values = |t: Tensor| Pred::Proba {
        rows,
        cols: t.size()[1] as usize,
        data: Vec::<f32>::try_from(t.flatten(0, -1)).unwrap_or_default(),
    };
    match plan.task {
        Task::NodeRegression => values(out),
        Task::NodeClassification if plan.multilabel && plan.return_proba => values(out.sigmoid()),
        Task::NodeClassification if plan.multilabel => {
            values(out.sigmoid().gt(0.5).to_kind(Kind::Float))
        }
        Task::NodeClassification if plan.return_proba => values(out.softmax(-1, Kind::Float)),
        Task::NodeClassification => {
            Pred::Class(Vec::<i64>::try_from(out.argmax(1, false)).unwrap_or_default())
        }
    }
}
