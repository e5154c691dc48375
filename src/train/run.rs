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
use super::config::{EdgeDecoder, Encoder, LpDecoder, NodeFeat, Task, TrainConfig};
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
    /// Link prediction / edge tasks: how the batch's target edges leave message passing
    /// (`None` = `--exclusion off`, DGL 2.1's actual behaviour).
    pub exclusion: Option<super::sampler::ExclusionMode>,
    /// Link prediction evaluation: drop candidates that are edges of the graph (filtered
    /// ranking) instead of GraphStorm's unfiltered protocol.
    pub lp_filtered: bool,
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

/// The graph and the input tensors every task's model reads.
pub(crate) struct Inputs {
    pub g: Arc<TrainGraph>,
    /// Per ntype: the `node_feat_name` features (rows in per-type shuffled order), or None.
    pub feats: Vec<Option<Tensor>>,
    pub feat_dims: Vec<usize>,
    pub device: Device,
}

impl Inputs {
    /// Loads the input features `plan` names for every node type of `g` onto `device`.
    pub(crate) fn load(plan: &TrainConfig, g: Arc<TrainGraph>, device: Device) -> Result<Inputs> {
        let nt = g.ntypes().len();
        let mut feats = Vec::with_capacity(nt);
        let mut feat_dims = Vec::with_capacity(nt);
        for t in 0..nt {
            match feature_names(plan, &g, t) {
                Some(names) if !names.is_empty() => {
                    let m = g.node_features(t, &names)?;
                    feat_dims.push(m.dim);
                    let x = Tensor::from_slice(&m.data)
                        .view([m.rows as i64, m.dim as i64])
                        .to_device(device);
                    feats.push(Some(x));
                }
                _ => {
                    feat_dims.push(0);
                    feats.push(None);
                }
            }
        }
        Ok(Inputs {
            g,
            feats,
            feat_dims,
            device,
        })
    }
}

/// The loaded graph with the tensors a node task reads.
pub(crate) struct Data {
    pub inputs: Inputs,
    pub target: usize,
    labels: Option<Labels>,
    pub train: Arc<Vec<i64>>,
    pub val: Arc<Vec<i64>>,
    pub test: Arc<Vec<i64>>,
}

impl std::ops::Deref for Data {
    type Target = Inputs;
    fn deref(&self) -> &Inputs {
        &self.inputs
    }
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
        let n_target = g.num_nodes(target);
        let labels = match g.node_column(target, &plan.label_field)? {
            None => None,
            Some(col) => {
                let v = super::graph::to_f32(&col);
                let shape = col.shape.clone();
                Some(match plan.task {
                    Task::NodeRegression
                    | Task::LinkPrediction
                    | Task::EdgeClassification
                    | Task::EdgeRegression => Labels::Value(v),
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
            inputs: Inputs::load(plan, g, opts.device)?,
            target,
            labels,
            train: Arc::new(train),
            val: Arc::new(val),
            test: Arc::new(test),
        })
    }
}

/// The model spec of `plan` on `data`'s graph.
pub(crate) fn model_spec(plan: &TrainConfig, data: &Inputs) -> ModelSpec {
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
            Task::LinkPrediction => match plan.lp.as_ref().map(|l| (l.decoder, l.gamma)) {
                Some((LpDecoder::DistMult, gamma)) => Head::DistMult { gamma },
                _ => Head::DotProduct,
            },
            Task::EdgeClassification | Task::EdgeRegression => {
                let e = plan.edge.as_ref();
                Head::Edge {
                    classes: if plan.task == Task::EdgeClassification {
                        num_classes(plan)
                    } else {
                        0
                    },
                    bases: match e.map(|e| e.decoder_type) {
                        Some(EdgeDecoder::Mlp) => 0,
                        _ => e.map_or(2, |e| e.num_decoder_basis),
                    },
                }
            }
        },
        decoder_bias: plan.decoder_bias,
    }
}

fn num_classes(plan: &TrainConfig) -> usize {
    plan.num_classes.unwrap_or(1)
}

pub(crate) fn first_metric(plan: &TrainConfig) -> Metric {
    plan.eval_metric
        .first()
        .and_then(|m| Metric::parse(m))
        .unwrap_or(match plan.task {
            Task::NodeClassification | Task::EdgeClassification => Metric::Accuracy,
            Task::NodeRegression | Task::EdgeRegression => Metric::Rmse,
            Task::LinkPrediction => Metric::Mrr,
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

pub(crate) fn ids_tensor(v: &[i64], device: Device) -> Tensor {
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
    trace: Option<&mut EmbTrace>,
) -> Tensor {
    let h = encode(model, data, mb, train, trace);
    model.decode(&h[data.target])
}

/// The encoder on one mini-batch: the representations of the seeds of every node type.
pub(crate) fn encode(
    model: &Model,
    data: &Inputs,
    mb: &MiniBatch,
    train: bool,
    mut trace: Option<&mut EmbTrace>,
) -> Vec<Tensor> {
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
    h
}

/// Node representations of every node of every ntype, layer by layer over the whole graph
/// (GraphStorm's `dist_inference`), with `fanouts[l]` per layer (-1 = all neighbours).
pub(crate) fn full_graph_embeddings(
    model: &Model,
    data: &Inputs,
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
                _ => 1,
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

/// The dense Adam over the model's parameters and one sparse Adam per embedding table.
pub(crate) struct Optimizers {
    pub adam: Adam,
    pub sparse: Vec<Option<SparseAdam>>,
}

impl Optimizers {
    pub(crate) fn new(model: &Model, plan: &TrainConfig) -> Optimizers {
        let adam = Adam::new(
            &model
                .named_parameters()
                .into_iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>(),
            plan.lr,
            plan.wd_l2norm,
        );
        let sparse = model
            .embeddings
            .iter()
            .map(|e| {
                e.as_ref()
                    .map(|e| SparseAdam::new(&e.table, plan.sparse_optimizer_lr))
            })
            .collect();
        Optimizers { adam, sparse }
    }

    fn move_to(&mut self, device: Device) {
        for s in self.sparse.iter_mut().flatten() {
            s.step = s.step.to_device(device);
            s.mem = s.mem.to_device(device);
            s.power = s.power.to_device(device);
        }
        for (m, v) in self.adam.state.iter_mut() {
            *m = m.to_device(device);
            *v = v.to_device(device);
        }
    }

    /// One training step on the batch loss `l` (forward started at `tb`): adds the
    /// `alpha_l2norm` penalty, clears the gradients, back-propagates, clips (before the
    /// step, graphprep's fix of GraphStorm's order), then the dense and the sparse updates of
    /// the embedding rows in `trace`. Returns the loss value; a non-finite loss is an error
    /// naming the epoch and batch.
    // `x += y` on a tch Tensor is the in-place `add_`: keep the out-of-place form for autograd.
    #[allow(clippy::assign_op_pattern, clippy::too_many_arguments)]
    pub(crate) fn step(
        &mut self,
        model: &mut Model,
        plan: &TrainConfig,
        mut l: Tensor,
        trace: &EmbTrace,
        tb: Instant,
        prof: &mut Profile,
        epoch: usize,
        batch: usize,
    ) -> Result<f64> {
        if plan.alpha_l2norm > 0.0 {
            let mut reg = Tensor::zeros([], (Kind::Float, l.device()));
            for (_, p) in model.named_parameters() {
                reg = reg + p.pow_tensor_scalar(2).sum(Kind::Float);
            }
            l = l + reg * plan.alpha_l2norm;
        }
        let lv = l.double_value(&[]);
        prof.forward += tb.elapsed().as_secs_f64();
        if !lv.is_finite() {
            return Err(Error::Other(format!(
                "loss became {lv} at epoch {epoch}, batch {batch}: lower lr, set max_grad_norm, or check the features for NaN/inf"
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
            self.adam.step(&mut ps);
        }
        for (t, idx, leaf) in &trace.rows {
            let grad = leaf.grad();
            if !grad.defined() {
                continue;
            }
            if let (Some(opt), Some(emb)) =
                (self.sparse[*t].as_mut(), model.embeddings[*t].as_mut())
            {
                opt.update(&mut emb.table, idx, &grad);
            }
        }
        prof.optimizer += to.elapsed().as_secs_f64();
        Ok(lv)
    }
}

/// The model of `spec` seeded by `--seed`, its optimizers, restored from
/// `restore_model_path` when set (then also the epoch to continue with), on the run's device.
pub(crate) fn new_model(
    plan: &TrainConfig,
    spec: &ModelSpec,
    opts: &RunOptions,
) -> Result<(Model, Optimizers, usize)> {
    tch::manual_seed(opts.seed as i64);
    let mut model = Model::new(spec.clone());
    let mut optim = Optimizers::new(&model, plan);
    let mut start_epoch = 0;
    if let Some(dir) = &plan.restore_model_path {
        let restored =
            checkpoint::restore(dir, &mut model, Some((&mut optim.adam, &mut optim.sparse)))?;
        start_epoch = restored.next_epoch;
        log::info!(
            "restored model from {} (continuing at epoch {start_epoch})",
            dir.display()
        );
    }
    model.to_device(opts.device);
    optim.move_to(opts.device);
    Ok((model, optim, start_epoch))
}

/// Where an epoch's training time went (seconds): waiting for the sampler's next batch
/// (sampling overlaps compute, so this is the part it did not hide), forward pass + loss,
/// backward pass, dense + sparse optimizer steps.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Profile {
    pub sample_wait: f64,
    pub forward: f64,
    pub backward: f64,
    pub optimizer: f64,
}

/// Per-epoch record for `metrics.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct EpochRecord {
    pub epoch: usize,
    pub profile: Profile,
    pub train_seconds: f64,
    pub eval_seconds: Option<f64>,
    pub mean_loss: f64,
    pub val: Option<f64>,
    pub test: Option<f64>,
}

/// What a task supplies to the shared training loop ([`fit`]): its batches, the loss of a
/// batch, validation/test scores, and the embeddings it saves.
pub(crate) trait Driver {
    type Batch: Send + 'static;
    /// The training batches of `epoch`.
    fn batches(&self, epoch: usize) -> sampler::Stream<Self::Batch>;
    /// The loss of one training batch (embedding rows gathered into `trace`).
    fn loss(&self, model: &Model, batch: &Self::Batch, trace: &mut EmbTrace) -> Tensor;
    /// Validation and test scores of the first eval metric after `step` steps (logs
    /// GraphStorm's lines).
    fn evaluate(&self, model: &Model, step: usize) -> Result<(f64, f64)>;
    /// Writes the embeddings a finished training run saves to `dir`.
    fn save_embeddings(&self, model: &Model, dir: &std::path::Path) -> Result<()>;
    fn graph(&self) -> &TrainGraph;
    /// GraphStorm's per-20-batches log line.
    fn log_batch(&self, epoch: usize, i: usize, loss: f64, secs: f64) {
        log::info!("Part 0 | Epoch {epoch:05} | Batch {i:03} | Loss: {loss:.4} | Time: {secs:.4}");
    }
    /// Input nodes per node type of a batch (debug log).
    fn input_sizes(&self, _batch: &Self::Batch) -> Vec<usize> {
        Vec::new()
    }
    /// Extra fields for `metrics.json`.
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// The node task's [`Driver`].
struct NodeDriver<'a> {
    plan: &'a TrainConfig,
    opts: &'a RunOptions,
    data: Data,
    fanouts: Vec<LayerFanout>,
    eval_fanouts: Vec<LayerFanout>,
    metric: Metric,
}

impl Driver for NodeDriver<'_> {
    type Batch = MiniBatch;
    fn batches(&self, epoch: usize) -> sampler::Stream<MiniBatch> {
        sampler::epoch_batches(
            self.data.g.clone(),
            self.data.target,
            self.data.train.clone(),
            self.plan.batch_size.max(1),
            true,
            self.fanouts.clone(),
            self.opts.seed,
            epoch as u64,
            self.opts.prefetch,
        )
    }
    fn loss(&self, model: &Model, mb: &MiniBatch, trace: &mut EmbTrace) -> Tensor {
        let out = forward(model, &self.data, mb, true, Some(trace));
        loss(self.plan, &self.data, &out, &mb.seeds[self.data.target])
    }
    fn evaluate(&self, model: &Model, step: usize) -> Result<(f64, f64)> {
        evaluate(
            model,
            &self.data,
            self.plan,
            &self.eval_fanouts,
            self.opts,
            self.metric,
            step,
        )
    }
    fn save_embeddings(&self, model: &Model, dir: &std::path::Path) -> Result<()> {
        let data = &self.data;
        let t0 = Instant::now();
        let h = full_graph_embeddings(model, data, &self.eval_fanouts, self.opts.seed);
        let all_target: Vec<i64> = (0..data.g.num_nodes(data.target) as i64).collect();
        super::output::save_embeddings(dir, data, &[(data.target, &h[data.target], &all_target)])?;
        log::info!(
            "saved {} embeddings of '{}' to {} in {:.3}s",
            all_target.len(),
            data.g.ntypes()[data.target],
            dir.display(),
            t0.elapsed().as_secs_f64()
        );
        Ok(())
    }
    fn graph(&self) -> &TrainGraph {
        &self.data.g
    }
}

/// The training fanouts of `plan` (none for `mlp`).
pub(crate) fn train_fanouts(
    plan: &TrainConfig,
    num_layers: usize,
    g: &TrainGraph,
) -> Result<Vec<LayerFanout>> {
    let raw = plan.fanout.as_ref().map_or("", |f| f.raw.as_str());
    layer_fanouts(raw, "gsf.gnn.fanout", num_layers, g)
}

/// A fanout string per GNN layer resolved on `g` (none for 0 layers); errors name `key`.
fn layer_fanouts(
    raw: &str,
    key: &str,
    num_layers: usize,
    g: &TrainGraph,
) -> Result<Vec<LayerFanout>> {
    if num_layers == 0 {
        return Ok(Vec::new());
    }
    sampler::parse_fanout(raw, num_layers, g).map_err(|m| Error::config(key, m))
}

/// Trains per `plan` (and evaluates, checkpoints, saves embeddings).
pub fn train(plan: &TrainConfig, opts: &RunOptions) -> Result<RunSummary> {
    if plan.task == Task::LinkPrediction {
        return super::lp::train(plan, opts);
    }
    if plan.task.is_edge_task() {
        return super::lp::train_edge_task(plan, opts);
    }
    let data = Data::load(plan, opts)?;
    let spec = model_spec(plan, &data);
    let g = data.g.clone();
    let fanouts = train_fanouts(plan, spec.num_layers, &g)?;
    let eval_fanouts = eval_fanouts(plan, spec.num_layers, &g)?;
    let driver = NodeDriver {
        plan,
        opts,
        data,
        fanouts,
        eval_fanouts,
        metric: first_metric(plan),
    };
    fit(&driver, plan, opts, &spec)
}

/// The shared training loop: epochs of batches, evaluation at `eval_frequency` and epoch
/// ends, best-model bookkeeping, early stopping, checkpoints, embeddings, `metrics.json`.
pub(crate) fn fit<D: Driver>(
    driver: &D,
    plan: &TrainConfig,
    opts: &RunOptions,
    spec: &ModelSpec,
) -> Result<RunSummary> {
    let metric = first_metric(plan);
    let g = driver.graph();
    let (mut model, mut optim, start_epoch) = new_model(plan, spec, opts)?;

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
        let batches = driver.batches(epoch);
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
            let l = driver.loss(&model, &mb, &mut trace);
            let lv = optim.step(&mut model, plan, l, &trace, tb, &mut prof, epoch, i)?;
            loss_sum += lv;
            log::debug!(
                "batch {i}: {:.4}s, input nodes per type {:?}",
                tb.elapsed().as_secs_f64(),
                driver.input_sizes(&mb)
            );
            if i % 20 == 0 {
                driver.log_batch(epoch, i, lv, tb.elapsed().as_secs_f64());
            }
            step += 1;
            bar.inc(1);
            if plan.eval_frequency != usize::MAX
                && step.is_multiple_of(plan.eval_frequency)
                && !plan.no_validation
                && i + 1 != nb
            {
                let te = Instant::now();
                let (v, t) = driver.evaluate(&model, step)?;
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
                    checkpoint::save(&path, &model, &optim.adam, &optim.sparse, epoch, g)?;
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
            let (v, t) = driver.evaluate(&model, step)?;
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
            checkpoint::save(&path, &model, &optim.adam, &optim.sparse, epoch, g)?;
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
        metric: metric.name(),
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
        driver.save_embeddings(&model, dir)?;
        summary.embed_dir = Some(dir.clone());
    }
    let metrics_path = opts.metrics_file.clone().or_else(|| {
        plan.save_model_path
            .as_ref()
            .map(|d| d.join("metrics.json"))
    });
    if let Some(p) = &metrics_path {
        let doc = serde_json::json!({
            "task": plan.task.section(),
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
            "details": driver.report(),
        });
        super::output::write_json(p, &doc)?;
        summary.metrics_file = Some(p.clone());
    }
    Ok(summary)
}

pub(crate) fn median(v: &[f64]) -> Option<f64> {
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

pub(crate) fn eval_fanouts(
    plan: &TrainConfig,
    num_layers: usize,
    g: &TrainGraph,
) -> Result<Vec<LayerFanout>> {
    layer_fanouts(&plan.eval_fanout.raw, "gsf.gnn.eval_fanout", num_layers, g)
}

/// Writes the `metrics.json` of an inference run (`--metrics-file`), with one extra field.
pub(crate) fn write_infer_metrics(
    opts: &RunOptions,
    summary: &mut RunSummary,
    extra: (&str, serde_json::Value),
) -> Result<()> {
    let Some(p) = &opts.metrics_file else {
        return Ok(());
    };
    let mut doc = serde_json::json!({
        "task": "inference",
        "metric": summary.metric,
        "test": summary.test,
    });
    doc[extra.0] = extra.1;
    super::output::write_json(p, &doc)?;
    summary.metrics_file = Some(p.clone());
    Ok(())
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
    if !plan.task.is_node_task() {
        return super::lp::infer(plan, opts);
    }
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
    write_infer_metrics(
        opts,
        &mut summary,
        ("inferred_nodes", infer_ids.len().into()),
    )?;
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
    let classification = matches!(
        plan.task,
        Task::NodeClassification | Task::EdgeClassification
    );
    match plan.task {
        _ if !classification => values(out),
        _ if plan.multilabel && plan.return_proba => values(out.sigmoid()),
        _ if plan.multilabel => values(out.sigmoid().gt(0.5).to_kind(Kind::Float)),
        _ if plan.return_proba => values(out.softmax(-1, Kind::Float)),
        _ => Pred::Class(Vec::<i64>::try_from(out.argmax(1, false)).unwrap_or_default()),
    }
}
