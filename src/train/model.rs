//! GraphStorm's node-task model on libtorch, exactly the math of spec/training.md §2:
//! the input layer `GSNodeEncoderInputLayer` (per-ntype projection without bias, learnable
//! embeddings for featureless types), `RelationalGCNEncoder` (per-relation weights with optional
//! basis decomposition, mean aggregation over sampled in-neighbours, self loop, bias,
//! ReLU/norm/dropout on hidden layers only) or no encoder (`mlp`), and the node decoders
//! (`EntityClassifier`, `EntityRegression`).
//!
//! Parameters are plain tensors with `requires_grad`, named like GraphStorm's state-dict keys
//! (`gnn._layers.0.weight`, `node_embed.input_projs.paper`, `decoder.decoder`, ...), so the
//! optimizer, the checkpoint and the tests address them by name. Learnable node embeddings are
//! not parameters: each batch gathers its rows into a fresh leaf, and [`super::optim::SparseAdam`]
//! applies the gradient to the touched rows only (DGL's DistEmbedding semantics, §2.9).

use tch::{Kind, Tensor};

pub use super::config::{Encoder, GnnNorm as Norm};

/// What the decoder produces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Head {
    /// `EntityClassifier` with this many classes.
    Classes(usize),
    /// `EntityRegression` (one output).
    Regression,
    /// Link prediction `LinkPredictDotDecoder`: score = ⟨h_u, h_v⟩, no parameters.
    DotProduct,
    /// Link prediction `LinkPredictDistMultDecoder`: score = Σ h_u·w_r·h_v with one relation
    /// vector per edge type of the graph (`_w_relation`, U(−γ/H, γ/H)).
    DistMult { gamma: f64 },
    /// Edge classification (`classes`) or regression (`classes == 0`): `DenseBiDecoder`
    /// with `bases` bases, or `MLPDecoder` (`bases == 0`).
    Edge { classes: usize, bases: usize },
}

/// Everything that fixes the parameter shapes and the forward pass.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub encoder: Encoder,
    pub hidden: usize,
    /// Output size of the last GNN layer (`out_emb_size`, default `hidden`).
    pub out_dim: usize,
    pub num_layers: usize,
    /// `num_bases`; `None` = one weight per relation.
    pub num_bases: Option<usize>,
    pub use_self_loop: bool,
    pub dropout: f64,
    pub gnn_norm: Option<Norm>,
    pub input_activate: bool,
    pub use_node_embeddings: bool,
    /// Input feature width per ntype (0 = featureless).
    pub feat_dims: Vec<usize>,
    pub num_nodes: Vec<usize>,
    pub ntype_names: Vec<String>,
    /// (src ntype, dst ntype) per etype, in etype-ID order.
    pub etypes: Vec<(usize, usize)>,
    pub head: Head,
    pub decoder_bias: bool,
}

/// One learnable embedding table (all nodes of one ntype).
pub struct Embedding {
    pub ntype: usize,
    pub table: Tensor,
}

struct NormParams {
    weight: Tensor,
    bias: Tensor,
    running: Option<(Tensor, Tensor)>,
}

struct RgcnLayer {
    /// (R, in, out) relation weights, or (B, in, out) bases with `w_comp` (R, B).
    weight: Tensor,
    w_comp: Option<Tensor>,
    h_bias: Tensor,
    loop_weight: Option<Tensor>,
    norms: Vec<Option<NormParams>>,
    activation: bool,
    dropout: f64,
}

/// The graph structure of one message-passing step, in tensors: per ntype the number of dst
/// nodes (the first `num_dst[t]` src nodes), per etype the dst-sorted neighbour lists.
pub struct LayerGraph {
    pub num_dst: Vec<i64>,
    /// Per etype: `(offsets [num_dst(dst)+1], src local indices)`; `None` when no edge.
    pub rels: Vec<Option<(Tensor, Tensor)>>,
}

/// Rows gathered from embedding tables during a forward pass, whose gradients the sparse
/// optimizer applies after `backward`.
#[derive(Default)]
pub struct EmbTrace {
    pub rows: Vec<(usize, Tensor, Tensor)>,
}

pub struct Model {
    pub spec: ModelSpec,
    input_projs: Vec<Option<Tensor>>,
    proj_matrix: Vec<Option<Tensor>>,
    pub embeddings: Vec<Option<Embedding>>,
    layers: Vec<RgcnLayer>,
    /// Decoder parameters with their state-dict names (`decoder.*`).
    decoder: Vec<(String, Tensor)>,
}

/// `torch.nn.init.xavier_uniform_` bound for a tensor of `shape` with `gain` (torch's fan rule:
/// fan_in = shape[1]·receptive, fan_out = shape[0]·receptive, receptive = Π shape[2..]).
pub fn xavier_bound(shape: &[i64], gain: f64) -> f64 {
    let receptive: i64 = shape[2..].iter().product();
    let fan_in = (shape[1] * receptive) as f64;
    let fan_out = (shape[0] * receptive) as f64;
    gain * (6.0 / (fan_in + fan_out)).sqrt()
}

fn xavier(shape: &[i64], gain: f64) -> Tensor {
    let b = xavier_bound(shape, gain);
    Tensor::empty(shape, (Kind::Float, tch::Device::Cpu)).uniform_(-b, b)
}

const RELU_GAIN: f64 = std::f64::consts::SQRT_2;

impl Model {
    /// Builds the model with GraphStorm's initialisation, drawing from torch's CPU generator
    /// (seed it with `tch::manual_seed` first for reproducible weights).
    pub fn new(spec: ModelSpec) -> Model {
        let h = spec.hidden as i64;
        let nt = spec.feat_dims.len();
        let mut input_projs = Vec::with_capacity(nt);
        let mut proj_matrix = Vec::with_capacity(nt);
        let mut embeddings = Vec::with_capacity(nt);
        for t in 0..nt {
            let f = spec.feat_dims[t] as i64;
            if f > 0 {
                input_projs.push(Some(xavier(&[f, h], RELU_GAIN)));
                if spec.use_node_embeddings {
                    embeddings.push(Some(Embedding::new(t, spec.num_nodes[t], spec.hidden)));
                    proj_matrix.push(Some(xavier(&[2 * h, h], RELU_GAIN)));
                } else {
                    embeddings.push(None);
                    proj_matrix.push(None);
                }
            } else {
                input_projs.push(None);
                embeddings.push(Some(Embedding::new(t, spec.num_nodes[t], spec.hidden)));
                proj_matrix.push(Some(xavier(&[h, h], RELU_GAIN)));
            }
        }
        let mut layers = Vec::new();
        if spec.encoder == Encoder::Rgcn {
            let r = spec.etypes.len() as i64;
            let bases = match spec.num_bases {
                Some(b) if (b as i64) < r && b > 0 => Some(b as i64),
                _ => None,
            };
            for l in 0..spec.num_layers {
                let last = l + 1 == spec.num_layers;
                let (din, dout) = (h, if last { spec.out_dim as i64 } else { h });
                let (weight, w_comp) = match bases {
                    Some(b) => (
                        xavier(&[b, din, dout], RELU_GAIN),
                        Some(xavier(&[r, b], RELU_GAIN)),
                    ),
                    None => (xavier(&[r, din, dout], RELU_GAIN), None),
                };
                let loop_weight = spec.use_self_loop.then(|| xavier(&[din, dout], RELU_GAIN));
                let norms = (0..nt)
                    .map(|_| match (last, spec.gnn_norm) {
                        (false, Some(kind)) => Some(NormParams {
                            weight: Tensor::ones([dout], (Kind::Float, tch::Device::Cpu)),
                            bias: Tensor::zeros([dout], (Kind::Float, tch::Device::Cpu)),
                            running: (kind == Norm::Batch).then(|| {
                                (
                                    Tensor::zeros([dout], (Kind::Float, tch::Device::Cpu)),
                                    Tensor::ones([dout], (Kind::Float, tch::Device::Cpu)),
                                )
                            }),
                        }),
                        _ => None,
                    })
                    .collect();
                layers.push(RgcnLayer {
                    weight,
                    w_comp,
                    h_bias: Tensor::zeros([dout], (Kind::Float, tch::Device::Cpu)),
                    loop_weight,
                    norms,
                    activation: !last,
                    dropout: if last { 0.0 } else { spec.dropout },
                });
            }
        }
        let dec_in = match spec.encoder {
            Encoder::Rgcn if spec.num_layers > 0 => spec.out_dim as i64,
            _ => h,
        };
        let decoder = decoder_params(&spec, dec_in);
        let mut m = Model {
            spec,
            input_projs,
            proj_matrix,
            embeddings,
            layers,
            decoder,
        };
        for (_, p) in m.named_parameters_mut() {
            let _ = p.set_requires_grad(true);
        }
        m
    }

    /// Dense parameters with their GraphStorm state-dict names, in a fixed order.
    pub fn named_parameters(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            if let Some(c) = &layer.w_comp {
                out.push((format!("gnn._layers.{l}.basis.weight"), &layer.weight));
                out.push((format!("gnn._layers.{l}.basis.w_comp"), c));
            } else {
                out.push((format!("gnn._layers.{l}.weight"), &layer.weight));
            }
            out.push((format!("gnn._layers.{l}.h_bias"), &layer.h_bias));
            if let Some(w) = &layer.loop_weight {
                out.push((format!("gnn._layers.{l}.loop_weight"), w));
            }
            for (t, n) in layer.norms.iter().enumerate() {
                if let Some(n) = n {
                    let name = &self.spec.ntype_names[t];
                    out.push((format!("gnn._layers.{l}.norm.{name}.weight"), &n.weight));
                    out.push((format!("gnn._layers.{l}.norm.{name}.bias"), &n.bias));
                }
            }
        }
        for (t, w) in self.input_projs.iter().enumerate() {
            if let Some(w) = w {
                let name = &self.spec.ntype_names[t];
                out.push((format!("node_embed.input_projs.{name}"), w));
            }
        }
        for (t, w) in self.proj_matrix.iter().enumerate() {
            if let Some(w) = w {
                let name = &self.spec.ntype_names[t];
                out.push((format!("node_embed.proj_matrix.{name}"), w));
            }
        }
        for (n, t) in &self.decoder {
            out.push((n.clone(), t));
        }
        out
    }

    /// Same order as [`Model::named_parameters`], mutable.
    pub fn named_parameters_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        let names: Vec<String> = self
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let mut refs: Vec<&mut Tensor> = Vec::new();
        for layer in self.layers.iter_mut() {
            refs.push(&mut layer.weight);
            if let Some(c) = &mut layer.w_comp {
                refs.push(c);
            }
            refs.push(&mut layer.h_bias);
            if let Some(w) = &mut layer.loop_weight {
                refs.push(w);
            }
            for n in layer.norms.iter_mut().flatten() {
                refs.push(&mut n.weight);
                refs.push(&mut n.bias);
            }
        }
        for w in self.input_projs.iter_mut().flatten() {
            refs.push(w);
        }
        for w in self.proj_matrix.iter_mut().flatten() {
            refs.push(w);
        }
        for (_, t) in self.decoder.iter_mut() {
            refs.push(t);
        }
        names.into_iter().zip(refs).collect()
    }

    /// Non-trainable state (batch-norm running statistics) by name.
    pub fn named_buffers(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            for (t, n) in layer.norms.iter().enumerate() {
                if let Some(NormParams {
                    running: Some((m, v)),
                    ..
                }) = n
                {
                    let name = &self.spec.ntype_names[t];
                    out.push((format!("gnn._layers.{l}.norm.{name}.running_mean"), m));
                    out.push((format!("gnn._layers.{l}.norm.{name}.running_var"), v));
                }
            }
        }
        out
    }

    /// Moves every parameter, buffer and embedding table to `device`.
    pub fn to_device(&mut self, device: tch::Device) {
        let mv = |t: &mut Tensor| {
            let rg = t.requires_grad();
            *t = t.detach().to_device(device).set_requires_grad(rg);
        };
        for (_, p) in self.named_parameters_mut() {
            mv(p);
        }
        for layer in self.layers.iter_mut() {
            for n in layer.norms.iter_mut().flatten() {
                if let Some((m, v)) = &mut n.running {
                    mv(m);
                    mv(v);
                }
            }
        }
        for e in self.embeddings.iter_mut().flatten() {
            mv(&mut e.table);
        }
    }

    /// Overwrites the buffer `name` (checkpoint restore).
    pub fn buffer_mut(&mut self, name: &str) -> Option<&mut Tensor> {
        let names = self.spec.ntype_names.clone();
        for (l, layer) in self.layers.iter_mut().enumerate() {
            for (t, n) in layer.norms.iter_mut().enumerate() {
                if let Some(NormParams {
                    running: Some((m, v)),
                    ..
                }) = n
                {
                    if name == format!("gnn._layers.{l}.norm.{}.running_mean", names[t]) {
                        return Some(m);
                    }
                    if name == format!("gnn._layers.{l}.norm.{}.running_var", names[t]) {
                        return Some(v);
                    }
                }
            }
        }
        None
    }

    /// Input layer for the nodes `ids[t]` of every ntype: (n_t, H) per ntype. Rows gathered
    /// from embedding tables are recorded in `trace` when training.
    pub fn input_layer(
        &self,
        feats: &[Option<Tensor>],
        ids: &[Tensor],
        train: bool,
        trace: Option<&mut EmbTrace>,
    ) -> Vec<Tensor> {
        let mut trace = trace;
        let mut out = Vec::with_capacity(ids.len());
        for (t, idx) in ids.iter().enumerate() {
            let n = idx.size()[0];
            let x = match (&self.input_projs[t], &feats[t]) {
                (Some(w), Some(f)) if n > 0 => Some(f.index_select(0, idx).mm(w)),
                (Some(w), _) => Some(Tensor::zeros(
                    [n, self.spec.hidden as i64],
                    (Kind::Float, w.device()),
                )),
                _ => None,
            };
            let emb = self.embeddings[t]
                .as_ref()
                .map(|e| e.gather(idx, train, trace.as_deref_mut()));
            let mut h = match (x, emb) {
                (Some(x), Some(e)) => {
                    let p = self.proj_matrix[t].as_ref().expect("proj for embeddings");
                    Tensor::cat(&[x, e], 1).mm(p)
                }
                (Some(x), None) => x,
                (None, Some(e)) => {
                    let p = self.proj_matrix[t].as_ref().expect("proj for embeddings");
                    e.mm(p)
                }
                (None, None) => unreachable!("every ntype has features or an embedding"),
            };
            if self.spec.input_activate {
                h = h.relu().dropout(self.spec.dropout, train);
            }
            out.push(h);
        }
        out
    }

    /// Number of GNN layers (0 for `mlp`).
    pub fn num_gnn_layers(&self) -> usize {
        self.layers.len()
    }

    /// GNN layer `l` on one message-passing step: src representations per ntype (the first
    /// `num_dst[t]` rows are the dst nodes) → dst representations per ntype.
    pub fn gnn_layer(
        &self,
        l: usize,
        g: &LayerGraph,
        h_src: &[Tensor],
        train: bool,
    ) -> Vec<Tensor> {
        let w = self.relation_weights(l);
        let aggs = self.aggregate_by_source(g, h_src);
        self.combine(
            l,
            g,
            &aggs,
            |e| w.get(e as i64),
            |d| h_src[d].narrow(0, 0, g.num_dst[d]),
            train,
        )
    }

    /// Whether layer 0 may aggregate the raw inputs instead of their projections: the input
    /// layer is linear (h_t = z_t·A_t with z_t the features or the embedding rows) when there
    /// is no `input_activate` and no `use_node_embeddings`, and the mean commutes with it:
    /// mean(z_u·A_s)·W_r = mean(z_u)·(A_s·W_r). Same function, but the projection runs on the
    /// dst nodes only and no gradient flows back through the aggregation of constant features.
    pub fn linear_first_layer(&self) -> bool {
        self.spec.encoder == Encoder::Rgcn
            && !self.layers.is_empty()
            && !self.spec.input_activate
            && !self.spec.use_node_embeddings
    }

    /// Input layer + GNN layer 0 in one step for [`Model::linear_first_layer`] models:
    /// `ids[t]` are the src nodes of the first block (equal to what
    /// `gnn_layer(0, g, &input_layer(feats, ids, ..), ..)` computes).
    pub fn first_layer_from_inputs(
        &self,
        feats: &[Option<Tensor>],
        ids: &[Tensor],
        g: &LayerGraph,
        train: bool,
        trace: Option<&mut EmbTrace>,
    ) -> Vec<Tensor> {
        let mut trace = trace;
        // Per ntype: the rows the aggregation reads (the whole feature table for featured
        // types: no gradient flows into features, so no gather of the src rows is needed, the
        // aggregation indexes the table by per-type ID), whether they are the full table, and
        // the input projection A_t.
        let mut raw = Vec::with_capacity(ids.len());
        let mut full_table = Vec::with_capacity(ids.len());
        let mut proj = Vec::with_capacity(ids.len());
        for (t, idx) in ids.iter().enumerate() {
            let n = idx.size()[0];
            match (&self.input_projs[t], &feats[t], &self.embeddings[t]) {
                (Some(w), Some(f), _) => {
                    raw.push(f.shallow_clone());
                    full_table.push(true);
                    proj.push(w);
                }
                (Some(w), None, _) => {
                    raw.push(Tensor::zeros([n, w.size()[0]], (Kind::Float, w.device())));
                    full_table.push(false);
                    proj.push(w);
                }
                (None, _, Some(e)) => {
                    raw.push(e.gather(idx, train, trace.as_deref_mut()));
                    full_table.push(false);
                    proj.push(self.proj_matrix[t].as_ref().expect("proj for embeddings"));
                }
                (None, _, None) => unreachable!("every ntype has features or an embedding"),
            }
        }
        // Neighbour lists of featured source types re-expressed in per-type IDs.
        let global = LayerGraph {
            num_dst: g.num_dst.clone(),
            rels: g
                .rels
                .iter()
                .enumerate()
                .map(|(e, r)| {
                    r.as_ref().map(|(o, i)| {
                        let s = self.spec.etypes[e].0;
                        let i = if full_table[s] {
                            ids[s].index_select(0, i)
                        } else {
                            i.shallow_clone()
                        };
                        (o.shallow_clone(), i)
                    })
                })
                .collect(),
        };
        let w = self.relation_weights(0);
        let aggs = self.aggregate_by_source(&global, &raw);
        self.combine(
            0,
            g,
            &aggs,
            |e| proj[self.spec.etypes[e].0].mm(&w.get(e as i64)),
            |d| {
                let nd = g.num_dst[d];
                let x = if full_table[d] {
                    raw[d].index_select(0, &ids[d].narrow(0, 0, nd))
                } else {
                    raw[d].narrow(0, 0, nd)
                };
                x.mm(proj[d])
            },
            train,
        )
    }

    /// (R, in, out) relation weights of layer `l` (bases combined when decomposed).
    fn relation_weights(&self, l: usize) -> Tensor {
        let layer = &self.layers[l];
        let r = self.spec.etypes.len() as i64;
        match &layer.w_comp {
            Some(c) => {
                let s = layer.weight.size();
                c.mm(&layer.weight.view([s[0], -1])).view([r, s[1], s[2]])
            }
            None => layer.weight.shallow_clone(),
        }
    }

    /// The per-dst-type tail of an RGCN layer: Σ_r agg_r·weight(r) + h_dst·W_loop + b, then
    /// norm, activation and dropout as the layer says.
    // `h += x` on a tch Tensor is the in-place `add_`: keep the out-of-place form for autograd.
    #[allow(clippy::assign_op_pattern)]
    fn combine(
        &self,
        l: usize,
        g: &LayerGraph,
        aggs: &[Option<Tensor>],
        weight: impl Fn(usize) -> Tensor,
        h_dst: impl Fn(usize) -> Tensor,
        train: bool,
    ) -> Vec<Tensor> {
        let layer = &self.layers[l];
        let dout = layer.h_bias.size()[0];
        let device = layer.h_bias.device();
        let mut out = Vec::with_capacity(g.num_dst.len());
        for (d, &nd) in g.num_dst.iter().enumerate() {
            let mut acc: Option<Tensor> = None;
            for (e, &(_, dt)) in self.spec.etypes.iter().enumerate() {
                if dt != d || nd == 0 {
                    continue;
                }
                let Some(agg) = &aggs[e] else {
                    continue;
                };
                let m = agg.mm(&weight(e));
                acc = Some(match acc {
                    Some(a) => a + m,
                    None => m,
                });
            }
            let mut h = match acc {
                Some(a) => a,
                None => Tensor::zeros([nd, dout], (Kind::Float, device)),
            };
            if let Some(lw) = &layer.loop_weight {
                h = h + h_dst(d).mm(lw);
            }
            h = h + &layer.h_bias;
            if let Some(norm) = &layer.norms[d] {
                h = apply_norm(norm, &h, train);
            }
            if layer.activation {
                h = h.relu();
            }
            if layer.dropout > 0.0 {
                h = h.dropout(layer.dropout, train);
            }
            out.push(h);
        }
        out
    }

    /// Mean of the sampled in-neighbours' representations per etype ((num_dst(dst), in), None
    /// for an etype without edges). Etypes that share a source type are aggregated in one
    /// fused call over their concatenated neighbour lists: the backward pass then builds one
    /// gradient of the source rows per source type instead of one per etype.
    fn aggregate_by_source(&self, g: &LayerGraph, h_src: &[Tensor]) -> Vec<Option<Tensor>> {
        let mut aggs: Vec<Option<Tensor>> = (0..self.spec.etypes.len()).map(|_| None).collect();
        for (s, hs) in h_src.iter().enumerate() {
            let members: Vec<usize> = self
                .spec
                .etypes
                .iter()
                .enumerate()
                .filter(|&(e, &(src, dst))| src == s && g.num_dst[dst] > 0 && g.rels[e].is_some())
                .map(|(e, _)| e)
                .collect();
            match members.as_slice() {
                [] => {}
                [e] => {
                    if let Some((offsets, idx)) = &g.rels[*e] {
                        aggs[*e] = Some(mean_aggregate(hs, idx, offsets));
                    }
                }
                _ => {
                    let mut offs = Vec::with_capacity(members.len());
                    let mut idxs = Vec::with_capacity(members.len());
                    let mut base = 0i64;
                    for (k, &e) in members.iter().enumerate() {
                        let Some((o, i)) = &g.rels[e] else { continue };
                        let n = o.size()[0];
                        offs.push(if k == 0 {
                            o.shallow_clone()
                        } else {
                            o.narrow(0, 1, n - 1) + base
                        });
                        base += i.size()[0];
                        idxs.push(i.shallow_clone());
                    }
                    let all = mean_aggregate(hs, &Tensor::cat(&idxs, 0), &Tensor::cat(&offs, 0));
                    let mut start = 0i64;
                    for &e in &members {
                        let nd = g.num_dst[self.spec.etypes[e].1];
                        aggs[e] = Some(all.narrow(0, start, nd));
                        start += nd;
                    }
                }
            }
        }
        aggs
    }

    fn dec(&self, name: &str) -> Option<&Tensor> {
        self.decoder.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Node decoder logits (classification) or values (regression, shape (n, 1)).
    pub fn decode(&self, h: &Tensor) -> Tensor {
        let w = self
            .dec("decoder.decoder")
            .expect("decode() is for node heads");
        let y = h.mm(w);
        match self.dec("decoder.bias") {
            Some(b) => y + b,
            None => y,
        }
    }

    /// Link prediction scores of `n` pairs of edge type `rel`: `u`, `v` are (n, H).
    pub fn score_pairs(&self, u: &Tensor, v: &Tensor, rel: usize) -> Tensor {
        match self.dec("decoder._w_relation.weight") {
            Some(w) => (u * w.get(rel as i64) * v).sum_dim_intlist(-1, false, Kind::Float),
            None => (u * v).sum_dim_intlist(-1, false, Kind::Float),
        }
    }

    /// Link prediction scores of each of `B` sources against its `K` candidates of edge type
    /// `rel`: `u` is (B, H), `cand` is (B, K, H); result (B, K).
    pub fn score_candidates(&self, u: &Tensor, cand: &Tensor, rel: usize) -> Tensor {
        let u = match self.dec("decoder._w_relation.weight") {
            Some(w) => u * w.get(rel as i64),
            None => u.shallow_clone(),
        };
        cand.bmm(&u.unsqueeze(-1)).squeeze_dim(-1)
    }

    /// Link prediction scores of each of `b` sources against `k` candidates shared by all of
    /// them, edge type `rel`: `u` is (b, H), `cand` is (k, H); result (b, k). (The DistMult
    /// score Σ u·w·v is symmetric in u and v, so this also scores corrupted sources.)
    pub fn score_shared(&self, u: &Tensor, cand: &Tensor, rel: usize) -> Tensor {
        let u = match self.dec("decoder._w_relation.weight") {
            Some(w) => u * w.get(rel as i64),
            None => u.shallow_clone(),
        };
        u.mm(&cand.tr())
    }

    /// Edge decoder output for edges with endpoint representations `u`, `v` ((n, H) each):
    /// logits (n, C) for classification, values (n, 1) for regression (GraphStorm's
    /// `DenseBiDecoder` / `MLPDecoder`, dropout on the inputs when training).
    pub fn decode_edges(&self, u: &Tensor, v: &Tensor, train: bool) -> Tensor {
        let p = self.spec.dropout;
        let y = if let Some(basis) = self.dec("decoder.basis_para") {
            let (u, v) = (u.dropout(p, train), v.dropout(p, train));
            // score_b = u·M_b·v for every basis b: (n, B)
            let scores = Tensor::einsum("ni,bij,nj->nb", &[&u, basis, &v], None::<i64>);
            let w = self.dec("decoder.combine_basis.weight").expect("basis");
            let y = scores.mm(&w.tr());
            match self.dec("decoder.combine_basis.bias") {
                Some(b) => y + b,
                None => y,
            }
        } else {
            // MLPEdgeDecoder creates a dropout but does not apply it (no NGNN layers)
            let w = self.dec("decoder.decoder").expect("edge decoder");
            let y = Tensor::cat(&[u, v], 1).mm(w);
            match self.dec("decoder.bias") {
                Some(b) => y + b,
                None => y,
            }
        };
        match self.dec("decoder.regression_head.weight") {
            Some(w) => {
                let b = self.dec("decoder.regression_head.bias").expect("head bias");
                y.mm(&w.tr()) + b
            }
            None => y,
        }
    }
}

/// The decoder's parameters for `spec.head` on `dec_in`-wide representations, with
/// GraphStorm's initialisation.
fn decoder_params(spec: &ModelSpec, dec_in: i64) -> Vec<(String, Tensor)> {
    let cpu = (Kind::Float, tch::Device::Cpu);
    let n = |s: &str| s.to_string();
    match spec.head {
        Head::Classes(c) => {
            let mut v = vec![(n("decoder.decoder"), xavier(&[dec_in, c as i64], RELU_GAIN))];
            if spec.decoder_bias {
                v.push((n("decoder.bias"), Tensor::zeros([c as i64], cpu)));
            }
            v
        }
        Head::Regression => vec![
            (n("decoder.decoder"), xavier(&[dec_in, 1], 1.0)),
            (n("decoder.bias"), Tensor::zeros([1], cpu)),
        ],
        Head::DotProduct => Vec::new(),
        Head::DistMult { gamma } => {
            let r = spec.etypes.len() as i64;
            let b = gamma / dec_in as f64;
            vec![(
                n("decoder._w_relation.weight"),
                Tensor::empty([r, dec_in], cpu).uniform_(-b, b),
            )]
        }
        Head::Edge { classes, bases } => {
            // regression: the decoder keeps the hidden width, then a 1-output head
            let regression = classes == 0;
            let out = if regression { dec_in } else { classes as i64 };
            // torch.nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            let linear = |shape: &[i64], fan_in: i64| {
                let k = 1.0 / (fan_in as f64).sqrt();
                Tensor::empty(shape, cpu).uniform_(-k, k)
            };
            let mut v = Vec::new();
            if bases > 0 {
                // DenseBiDecoder: xavier(1) on every 2+-D parameter (reset_parameters)
                let b = bases as i64;
                v.push((n("decoder.basis_para"), xavier(&[b, dec_in, dec_in], 1.0)));
                v.push((n("decoder.combine_basis.weight"), xavier(&[out, b], 1.0)));
                if spec.decoder_bias {
                    v.push((n("decoder.combine_basis.bias"), linear(&[out], b)));
                }
            } else {
                v.push((n("decoder.decoder"), xavier(&[2 * dec_in, out], RELU_GAIN)));
                if spec.decoder_bias {
                    v.push((n("decoder.bias"), Tensor::zeros([out], cpu)));
                }
            }
            if regression {
                v.push((n("decoder.regression_head.weight"), linear(&[1, out], out)));
                v.push((n("decoder.regression_head.bias"), linear(&[1], out)));
            }
            v
        }
    }
}

impl Embedding {
    /// Rows `idx` of the table; when training, as a fresh leaf whose gradient the sparse
    /// optimizer applies after `backward` (recorded in `trace`).
    fn gather(&self, idx: &Tensor, train: bool, trace: Option<&mut EmbTrace>) -> Tensor {
        let rows = self.table.index_select(0, idx);
        if !train || idx.size()[0] == 0 {
            return rows;
        }
        let leaf = rows.detach().set_requires_grad(true);
        if let Some(tr) = trace {
            tr.rows
                .push((self.ntype, idx.shallow_clone(), leaf.shallow_clone()));
        }
        leaf
    }

    fn new(ntype: usize, rows: usize, dim: usize) -> Embedding {
        let table = Tensor::empty([rows as i64, dim as i64], (Kind::Float, tch::Device::Cpu))
            .uniform_(-1.0, 1.0);
        Embedding { ntype, table }
    }
}

/// Mean of `h[idx[offsets[i]..offsets[i+1]]]` per segment `i` (0 for an empty segment): one
/// fused gather + mean (`embedding_bag`, mode mean), differentiable w.r.t. `h`.
pub fn mean_aggregate(h: &Tensor, idx: &Tensor, offsets: &Tensor) -> Tensor {
    let (out, _, _, _) =
        Tensor::embedding_bag::<Tensor>(h, idx, offsets, false, 1, false, None, true);
    out
}

fn apply_norm(n: &NormParams, h: &Tensor, train: bool) -> Tensor {
    match &n.running {
        None => {
            let d = h.size()[1];
            h.layer_norm([d], Some(&n.weight), Some(&n.bias), 1e-5, false)
        }
        Some((m, v)) => {
            if h.size()[0] == 0 {
                return h.shallow_clone();
            }
            h.batch_norm(
                Some(&n.weight),
                Some(&n.bias),
                Some(m),
                Some(v),
                train,
                0.1,
                1e-5,
                false,
            )
        }
    }
}
