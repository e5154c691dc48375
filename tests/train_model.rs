//! `train::model` and `train::optim` against hand-written math (spec `training.md` §2.1, §2.2,
//! §2.4, §2.9, §9.5 items 1, 2, 3, 7):
//!
//! * a 2-layer RGCN on a 3-ntype / 4-etype toy graph with integer weights, compared with a plain
//!   f64 reference forward and with hand-computed literals (a node with no in-edge of one relation,
//!   the featureless/no-incoming-etype cases, a parallel edge); the `mlp` encoder; decoder/softmax;
//! * float64 finite differences of a cross-entropy loss w.r.t. every dense parameter and the
//!   gathered embedding rows;
//! * GraphStorm's initialisation (xavier(√2) with torch's fan rule, 3-D rule for relation weights,
//!   basis shapes, zero biases, U(−1, 1) embeddings);
//! * `torch.optim.Adam` and DGL's `SparseAdam` against their closed forms, `clip_grad_norm_`;
//! * seeded determinism of the initialisation.
#![cfg(feature = "train")]

use graphprep::train::model::{
    mean_aggregate, xavier_bound, EmbTrace, Encoder, Head, LayerGraph, Model, ModelSpec, Norm,
};
use graphprep::train::optim::{clip_grad_norm, zero_grad, Adam, SparseAdam, BETA1, BETA2, EPS};
use std::sync::{Mutex, MutexGuard};

use tch::{Device, Kind, Tensor};

/// torch's CPU generator is global: tests that seed it or draw from it run one at a time.
static TORCH_RNG: Mutex<()> = Mutex::new(());

fn rng_lock() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The toy graph

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
/// (src ntype, dst ntype) per etype: r0 A→A, r1 B→A, r2 A→B, r3 C→A. C has no incoming etype.
const ETYPES: [(usize, usize); 4] = [(A, A), (B, A), (A, B), (C, A)];
const NUM_NODES: [usize; 3] = [3, 2, 1];

/// Global (src, dst) edges per etype.
fn edges() -> [Vec<(usize, usize)>; 4] {
    [
        // r0: a0→a1 twice (parallel edge), a2→a1, a1→a0; a2 has no r0 in-edge.
        vec![(0, 1), (0, 1), (2, 1), (1, 0)],
        // r1: b0→a0, b1→a0 twice (parallel), b1→a2; a1 has no r1 in-edge.
        vec![(0, 0), (1, 0), (1, 0), (1, 2)],
        // r2: a0→b0, a2→b0; b1 has no in-edge at all.
        vec![(0, 0), (2, 0)],
        // r3: c0→a2.
        vec![(0, 2)],
    ]
}

/// Seeds of the output block (dst-prefix order on purpose not sorted).
const SEEDS_A: [usize; 2] = [2, 0];
/// Layer-1 src nodes = layer-0 dst nodes (global IDs per ntype, dst prefix first).
fn mid_nodes() -> Vec<Vec<usize>> {
    vec![vec![2, 0, 1], vec![1, 0], vec![0]]
}

/// A `LayerGraph` with full neighbourhoods: `dst[t]` must be a prefix of `src[t]`; for every
/// etype and dst node (in dst order) all its in-edges in edge-list order, as src-local indices.
fn block(dst: &[Vec<usize>], src: &[Vec<usize>]) -> LayerGraph {
    for t in 0..3 {
        assert_eq!(
            &src[t][..dst[t].len()],
            &dst[t][..],
            "dst prefix of ntype {t}"
        );
    }
    let es = edges();
    let rels = ETYPES
        .iter()
        .enumerate()
        .map(|(e, &(s, d))| {
            let mut offsets = vec![0i64];
            let mut idx = Vec::new();
            for &v in &dst[d] {
                for &(u, w) in &es[e] {
                    if w == v {
                        let local = src[s].iter().position(|&x| x == u).expect("src in block");
                        idx.push(local as i64);
                    }
                }
                offsets.push(idx.len() as i64);
            }
            (!idx.is_empty()).then(|| (Tensor::from_slice(&offsets), Tensor::from_slice(&idx)))
        })
        .collect();
    LayerGraph {
        num_dst: dst.iter().map(|v| v.len() as i64).collect(),
        rels,
    }
}

/// The two blocks: layer 0 (src = every node, dst = `mid_nodes`), layer 1 (src = `mid_nodes`,
/// dst = A seeds only). Also the layer-0 input IDs.
fn blocks() -> (Vec<Vec<usize>>, LayerGraph, LayerGraph) {
    let mid = mid_nodes();
    let input = vec![vec![2, 0, 1], vec![1, 0], vec![0]];
    let g0 = block(&mid, &input);
    let g1 = block(&[SEEDS_A.to_vec(), vec![], vec![]], &mid);
    (input, g0, g1)
}

fn ids_tensors(ids: &[Vec<usize>]) -> Vec<Tensor> {
    ids.iter()
        .map(|v| Tensor::from_slice(&v.iter().map(|&x| x as i64).collect::<Vec<_>>()))
        .collect()
}

fn spec(hidden: usize, encoder: Encoder, num_layers: usize, head: Head) -> ModelSpec {
    ModelSpec {
        encoder,
        hidden,
        out_dim: hidden,
        num_layers,
        num_bases: None,
        use_self_loop: true,
        dropout: 0.0,
        gnn_norm: None,
        input_activate: false,
        use_node_embeddings: false,
        feat_dims: vec![2, 0, 2],
        num_nodes: NUM_NODES.to_vec(),
        ntype_names: vec!["A".into(), "B".into(), "C".into()],
        etypes: ETYPES.to_vec(),
        head,
        decoder_bias: true,
    }
}

fn to_vec(t: &Tensor) -> Vec<f64> {
    let flat = t.detach().to_kind(Kind::Double).contiguous().view([-1]);
    Vec::<f64>::try_from(&flat).expect("tensor to vec")
}

fn set_param(model: &mut Model, name: &str, vals: &[f64]) {
    let mut found = false;
    for (n, p) in model.named_parameters_mut() {
        if n == name {
            assert_eq!(p.numel(), vals.len(), "{name}: size");
            let src = Tensor::from_slice(vals)
                .to_kind(p.kind())
                .view(p.size().as_slice());
            tch::no_grad(|| p.copy_(&src));
            found = true;
        }
    }
    assert!(found, "no parameter {name}");
}

fn param_names(model: &Model) -> Vec<String> {
    model
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w} (got {got:?}, want {want:?})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Plain f64 reference

type Mat = Vec<Vec<f64>>;

/// Row vector × (in, out) matrix.
fn vm(x: &[f64], w: &Mat) -> Vec<f64> {
    let out = w[0].len();
    (0..out)
        .map(|j| x.iter().zip(w).map(|(xi, row)| xi * row[j]).sum())
        .collect()
}

fn add(a: &mut [f64], b: &[f64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

fn flat(m: &Mat) -> Vec<f64> {
    m.iter().flatten().copied().collect()
}

struct Weights {
    w_in_a: Mat,
    w_in_c: Mat,
    p_b: Mat,
    rel: [[Mat; 4]; 2],
    self_loop: [Mat; 2],
    bias: [Vec<f64>; 2],
    dec: Mat,
    dec_b: Vec<f64>,
    x_a: Mat,
    x_c: Mat,
    emb_b: Mat,
}

fn m(rows: &[&[f64]]) -> Mat {
    rows.iter().map(|r| r.to_vec()).collect()
}

/// Small integer weights (and small features/embeddings) for the hand-computed forward.
fn weights() -> Weights {
    Weights {
        w_in_a: m(&[&[1., 0.], &[-1., 1.]]),
        w_in_c: m(&[&[0., 1.], &[1., 1.]]),
        p_b: m(&[&[1., -1.], &[0., 1.]]),
        rel: [
            [
                m(&[&[1., 0.], &[0., 1.]]),
                m(&[&[0., 1.], &[1., 0.]]),
                m(&[&[1., 1.], &[0., -1.]]),
                m(&[&[-1., 0.], &[1., 1.]]),
            ],
            [
                m(&[&[0., 1.], &[-1., 1.]]),
                m(&[&[1., 0.], &[1., -1.]]),
                m(&[&[2., 0.], &[0., 1.]]),
                m(&[&[1., 1.], &[0., 1.]]),
            ],
        ],
        self_loop: [m(&[&[1., -1.], &[1., 0.]]), m(&[&[1., 0.], &[-1., 1.]])],
        bias: [vec![1., -1.], vec![-1., 2.]],
        dec: m(&[&[1., 0., -1.], &[0., 1., 1.]]),
        dec_b: vec![0., 1., -1.],
        x_a: m(&[&[1., 2.], &[-1., 0.5], &[2., -1.]]),
        x_c: m(&[&[1., -2.]]),
        emb_b: m(&[&[0.5, 1.], &[-1., 2.]]),
    }
}

/// Full-graph RGCN in f64 on global IDs: per layer, per ntype, per node.
fn reference_rgcn(w: &Weights) -> Vec<Vec<Mat>> {
    let mut h: Vec<Mat> = vec![
        w.x_a.iter().map(|x| vm(x, &w.w_in_a)).collect(),
        w.emb_b.iter().map(|x| vm(x, &w.p_b)).collect(),
        w.x_c.iter().map(|x| vm(x, &w.w_in_c)).collect(),
    ];
    let es = edges();
    let mut all = vec![h.clone()];
    for l in 0..2 {
        let mut next = Vec::new();
        for d in 0..3 {
            let mut rows = Vec::new();
            for v in 0..NUM_NODES[d] {
                let mut acc = vec![0.0; 2];
                for (e, &(s, dt)) in ETYPES.iter().enumerate() {
                    if dt != d {
                        continue;
                    }
                    let mut sum = vec![0.0; 2];
                    let mut deg = 0usize;
                    for &(u, x) in &es[e] {
                        if x == v {
                            add(&mut sum, &h[s][u]);
                            deg += 1;
                        }
                    }
                    let mean: Vec<f64> = sum.iter().map(|x| x / deg.max(1) as f64).collect();
                    add(&mut acc, &vm(&mean, &w.rel[l][e]));
                }
                add(&mut acc, &vm(&h[d][v], &w.self_loop[l]));
                add(&mut acc, &w.bias[l]);
                if l == 0 {
                    for x in acc.iter_mut() {
                        *x = x.max(0.0);
                    }
                }
                rows.push(acc);
            }
            next.push(rows);
        }
        h = next;
        all.push(h.clone());
    }
    all
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let mx = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - mx).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// The integer-weight RGCN of the hand-computed tests.
fn integer_model(w: &Weights) -> Model {
    tch::manual_seed(0);
    let mut model = Model::new(spec(2, Encoder::Rgcn, 2, Head::Classes(3)));
    assert_eq!(
        param_names(&model),
        [
            "gnn._layers.0.weight",
            "gnn._layers.0.h_bias",
            "gnn._layers.0.loop_weight",
            "gnn._layers.1.weight",
            "gnn._layers.1.h_bias",
            "gnn._layers.1.loop_weight",
            "node_embed.input_projs.A",
            "node_embed.input_projs.C",
            "node_embed.proj_matrix.B",
            "decoder.decoder",
            "decoder.bias",
        ]
    );
    for l in 0..2 {
        let rel: Vec<f64> = w.rel[l].iter().flat_map(flat).collect();
        set_param(&mut model, &format!("gnn._layers.{l}.weight"), &rel);
        set_param(&mut model, &format!("gnn._layers.{l}.h_bias"), &w.bias[l]);
        set_param(
            &mut model,
            &format!("gnn._layers.{l}.loop_weight"),
            &flat(&w.self_loop[l]),
        );
    }
    set_param(&mut model, "node_embed.input_projs.A", &flat(&w.w_in_a));
    set_param(&mut model, "node_embed.input_projs.C", &flat(&w.w_in_c));
    set_param(&mut model, "node_embed.proj_matrix.B", &flat(&w.p_b));
    set_param(&mut model, "decoder.decoder", &flat(&w.dec));
    set_param(&mut model, "decoder.bias", &w.dec_b);
    let emb = model.embeddings[B]
        .as_mut()
        .expect("B has an embedding table");
    let src = Tensor::from_slice(&flat(&w.emb_b))
        .to_kind(Kind::Float)
        .view([2, 2]);
    tch::no_grad(|| emb.table.copy_(&src));
    assert!(model.embeddings[A].is_none() && model.embeddings[C].is_none());
    model
}

fn feats(w: &Weights, kind: Kind) -> Vec<Option<Tensor>> {
    vec![
        Some(Tensor::from_slice(&flat(&w.x_a)).to_kind(kind).view([3, 2])),
        None,
        Some(Tensor::from_slice(&flat(&w.x_c)).to_kind(kind).view([1, 2])),
    ]
}

// ---------------------------------------------------------------------------------------------
// 1. Hand-computed forward

#[test]
fn layer_graph_blocks_are_what_the_test_means() {
    let (_, g0, g1) = blocks();
    assert_eq!(g1.num_dst, [2, 0, 0]);
    let rel = |g: &LayerGraph, e: usize| {
        g.rels[e]
            .as_ref()
            .map(|(o, i)| (to_vec(o), to_vec(i)))
            .unwrap_or_default()
    };
    // Layer-1 block: dst A = [a2, a0]; src A = [a2, a0, a1], B = [b1, b0], C = [c0].
    assert_eq!(rel(&g1, 0), (vec![0., 0., 1.], vec![2.])); // a2: none, a0 ← a1
    assert_eq!(rel(&g1, 1), (vec![0., 1., 4.], vec![0., 1., 0., 0.])); // a2 ← b1, a0 ← b0,b1,b1
    assert!(g1.rels[2].is_none()); // no B dst in the output block
    assert_eq!(rel(&g1, 3), (vec![0., 1., 1.], vec![0.])); // a2 ← c0
                                                           // Layer-0 block: dst = A [a2, a0, a1], B [b1, b0], C [c0]; src = the same lists.
    assert_eq!(g0.num_dst, [3, 2, 1]);
    assert_eq!(rel(&g0, 0), (vec![0., 0., 1., 4.], vec![2., 1., 1., 0.]));
    assert_eq!(rel(&g0, 2), (vec![0., 0., 2.], vec![1., 0.])); // b1: none, b0 ← a0, a2
}

#[test]
fn mean_aggregate_means_with_zero_for_empty_segments() {
    let h = Tensor::from_slice(&[1.0f32, 2., 3., 4., 5., 6.]).view([3, 2]);
    let idx = Tensor::from_slice(&[0i64, 0, 2, 1]);
    let offsets = Tensor::from_slice(&[0i64, 3, 3, 4]);
    let out = to_vec(&mean_aggregate(&h, &idx, &offsets));
    // rows 0,0,2 (parallel: counted twice) → ((1+1+5)/3, (2+2+6)/3); empty → 0; row 1.
    assert_close(
        &out,
        &[7. / 3., 10. / 3., 0., 0., 3., 4.],
        1e-6,
        "mean_aggregate",
    );
}

#[test]
fn rgcn_forward_matches_hand_computation() {
    let _rng = rng_lock();
    let w = weights();
    let model = integer_model(&w);
    let (input, g0, g1) = blocks();
    let ids = ids_tensors(&input);
    let x = feats(&w, Kind::Float);
    let h0 = model.input_layer(&x, &ids, false, None);
    let h1 = model.gnn_layer(0, &g0, &h0, false);
    let h2 = model.gnn_layer(1, &g1, &h1, false);
    let reference = reference_rgcn(&w);

    // Input layer: x·W_in (no bias) and E[ids]·P for the featureless B.
    for t in 0..3 {
        let want: Vec<f64> = input[t]
            .iter()
            .flat_map(|&v| reference[0][t][v].clone())
            .collect();
        assert_close(&to_vec(&h0[t]), &want, 1e-6, &format!("input layer {t}"));
    }
    // Hand literals of the input layer: a0 = [1,2]·W_in_A, b1 = [-1,2]·P_B, c0 = [1,-2]·W_in_C.
    assert_close(&reference[0][A][0], &[-1., 2.], 1e-12, "a0 input");
    assert_close(&reference[0][B][1], &[-1., 3.], 1e-12, "b1 input");
    assert_close(&reference[0][C][0], &[-2., -1.], 1e-12, "c0 input");

    // Layer 0 (ReLU): every dst of the first block.
    let mid = mid_nodes();
    for t in 0..3 {
        assert_eq!(h1[t].size(), [mid[t].len() as i64, 2]);
        let want: Vec<f64> = mid[t]
            .iter()
            .flat_map(|&v| reference[1][t][v].clone())
            .collect();
        assert_close(&to_vec(&h1[t]), &want, 1e-6, &format!("layer 0 ntype {t}"));
    }
    // c0: no incoming etype → relu(h_c0·W_loop + b) = relu([-3, 2] + [1, -1]) = [0, 1].
    assert_close(&to_vec(&h1[C]), &[0., 1.], 1e-6, "c0 after layer 0");
    // a1 (local 2): r0 from a0, a0 (parallel), a2 → mean ([-1,2]·2 + [3,-1]) / 3 = [1/3, 1];
    // no r1/r3 in-edge → 0 from them; + a1·W_loop = [-1, 1.5]; + b = [1, -1] → [1/3, 1.5].
    assert_close(
        &to_vec(&h1[A].get(2)),
        &[1. / 3., 1.5],
        1e-6,
        "a1 after layer 0",
    );
    // b1 (local 0): its only etype r2 has no in-edge → relu([2, 1] + [1, -1]) = [3, 0].
    assert_close(&to_vec(&h1[B].get(0)), &[3., 0.], 1e-6, "b1 after layer 0");

    // Layer 1 (no activation): the seeds [a2, a0]; B and C have no dst.
    assert_eq!(h2[B].size(), [0, 2]);
    assert_eq!(h2[C].size(), [0, 2]);
    let want: Vec<f64> = SEEDS_A
        .iter()
        .flat_map(|&v| reference[2][A][v].clone())
        .collect();
    assert_close(&to_vec(&h2[A]), &want, 1e-6, "layer 1");
    // a2 at layer 1 written out: r0 none → 0; r1 ← b1 = [3,0]·[[1,0],[1,-1]] = [3, 0];
    // r3 ← c0 = [0,1]·[[1,1],[0,1]] = [0, 1]; a2 = relu(h0 r1 b1 [-1,3]·[[0,1],[1,0]] = [3,-1]
    // + r3 c0 [-2,-1]·[[-1,0],[1,1]] = [1,-1] + a2·loop [3,-1]·[[1,-1],[1,0]] = [2,-3] + b)
    //   = relu([7, -6]) = [7, 0]; loop [7,0]·[[1,0],[-1,1]] = [7, 0]; + b [-1, 2]
    // → [3+0+7-1, 0+1+0+2] = [9, 3].
    assert_close(&to_vec(&h2[A].get(0)), &[9., 3.], 1e-6, "a2 after layer 1");
    // ReLU only on layer 0: its outputs are ≥ 0 and clip something (c0, a0, b0, b1 above).
    assert!(reference[1].iter().flatten().flatten().all(|&v| v >= 0.0));

    // Decoder and softmax on the seeds.
    let logits = model.decode(&h2[A]);
    assert_eq!(logits.size(), [2, 3]);
    let mut want_logits = Vec::new();
    let mut want_proba = Vec::new();
    for &v in &SEEDS_A {
        let mut z = vm(&reference[2][A][v], &w.dec);
        add(&mut z, &w.dec_b);
        want_proba.extend(softmax(&z));
        want_logits.extend(z);
    }
    assert_close(&to_vec(&logits), &want_logits, 1e-6, "logits");
    // a2: [9, 3]·[[1,0,-1],[0,1,1]] + [0,1,-1] = [9, 4, -7].
    assert_close(
        &want_logits[..3],
        &[9., 4., -7.],
        1e-12,
        "a2 logits by hand",
    );
    let proba = logits.softmax(-1, Kind::Float);
    assert_close(&to_vec(&proba), &want_proba, 1e-6, "softmax");
    assert_eq!(to_vec(&logits.argmax(-1, false))[0], 0.0);
}

#[test]
fn rgcn_layer_with_parallel_edge_and_zero_degree_relation_by_hand() {
    let _rng = rng_lock();
    // A direct single-layer check with everything written out, independent of the reference.
    let w = weights();
    let model = integer_model(&w);
    let (input, g0, _) = blocks();
    let h0 = model.input_layer(&feats(&w, Kind::Float), &ids_tensors(&input), false, None);
    let h1 = model.gnn_layer(0, &g0, &h0, false);
    // a0 (local 1): r0 ← a1 = [-1.5, 0.5]·I; r1 ← b0, b1, b1: mean ([0.5,0.5] + 2·[-1,3]) / 3
    // = [-0.5, 6.5/3] ·[[0,1],[1,0]] = [6.5/3, -0.5]; loop [-1,2]·[[1,-1],[1,0]] = [1, 1];
    // + b [1, -1] → relu([-1.5 + 6.5/3 + 1 + 1, 0.5 - 0.5 + 1 - 1]) = [8/3, 0].
    let a0 = [
        -1.5 + 6.5 / 3.0 + 1.0 + 1.0,
        (0.5f64 - 0.5 + 1.0 - 1.0).max(0.0),
    ];
    assert_close(&to_vec(&h1[A].get(1)), &a0, 1e-6, "a0 after layer 0");
    // b0 (local 1): r2 ← a0, a2: mean ([-1,2] + [3,-1]) / 2 = [1, 0.5]·[[1,1],[0,-1]] = [1, 0.5];
    // loop [0.5,0.5]·[[1,-1],[1,0]] = [1, -0.5]; + b [1,-1] → relu([3, -1]) = [3, 0].
    assert_close(&to_vec(&h1[B].get(1)), &[3., 0.], 1e-6, "b0 after layer 0");
}

#[test]
fn mlp_encoder_is_input_projection_then_decoder() {
    let _rng = rng_lock();
    let w = weights();
    tch::manual_seed(0);
    let mut model = Model::new(spec(2, Encoder::Mlp, 0, Head::Classes(3)));
    assert_eq!(model.num_gnn_layers(), 0);
    assert_eq!(
        param_names(&model),
        [
            "node_embed.input_projs.A",
            "node_embed.input_projs.C",
            "node_embed.proj_matrix.B",
            "decoder.decoder",
            "decoder.bias",
        ]
    );
    set_param(&mut model, "node_embed.input_projs.A", &flat(&w.w_in_a));
    set_param(&mut model, "decoder.decoder", &flat(&w.dec));
    set_param(&mut model, "decoder.bias", &w.dec_b);
    let ids = ids_tensors(&[vec![2, 0, 1], vec![], vec![]]);
    let h = model.input_layer(&feats(&w, Kind::Float), &ids, false, None);
    assert_eq!(h[B].size(), [0, 2]);
    let logits = model.decode(&h[A]);
    let mut want = Vec::new();
    let mut want_p = Vec::new();
    for v in [2, 0, 1] {
        let mut z = vm(&vm(&w.x_a[v], &w.w_in_a), &w.dec);
        add(&mut z, &w.dec_b);
        want_p.extend(softmax(&z));
        want.extend(z);
    }
    // a2: [2,-1]·W_in_A = [3, -1]; ·dec = [3, -1, -4]; + b = [3, 0, -5].
    assert_close(&want[..3], &[3., 0., -5.], 1e-12, "a2 mlp by hand");
    assert_close(&to_vec(&logits), &want, 1e-6, "mlp logits");
    assert_close(
        &to_vec(&logits.softmax(-1, Kind::Float)),
        &want_p,
        1e-6,
        "mlp softmax",
    );

    // Regression head: (n, 1), decoder (H, 1) + bias.
    let mut reg = Model::new(spec(2, Encoder::Mlp, 0, Head::Regression));
    set_param(&mut reg, "node_embed.input_projs.A", &flat(&w.w_in_a));
    set_param(&mut reg, "decoder.decoder", &[2., -1.]);
    set_param(&mut reg, "decoder.bias", &[0.5]);
    let h = reg.input_layer(&feats(&w, Kind::Float), &ids, false, None);
    let y = reg.decode(&h[A]);
    assert_eq!(y.size(), [3, 1]);
    // a2 [3,-1] → 7.5, a0 [-1,2] → -3.5, a1 [-1.5,0.5] → -3.
    assert_close(&to_vec(&y), &[7.5, -3.5, -3.0], 1e-6, "regression");
}

// ---------------------------------------------------------------------------------------------
// 2. Gradients (float64 finite differences)

/// Converts every parameter and embedding table to float64 (the model code is dtype-agnostic
/// apart from its zero fillers, which type promotion lifts), so finite differences are exact
/// enough for a 1e-6 relative tolerance.
fn to_double(model: &mut Model) {
    for (_, p) in model.named_parameters_mut() {
        *p = p.detach().to_kind(Kind::Double).set_requires_grad(true);
    }
    for e in model.embeddings.iter_mut().flatten() {
        e.table = e.table.to_kind(Kind::Double);
    }
}

struct GradCase {
    x: Vec<Option<Tensor>>,
    ids: Vec<Tensor>,
    g0: LayerGraph,
    g1: LayerGraph,
    labels: Tensor,
}

fn loss(model: &Model, c: &GradCase, trace: Option<&mut EmbTrace>) -> Tensor {
    let h0 = model.input_layer(&c.x, &c.ids, true, trace);
    let h1 = model.gnn_layer(0, &c.g0, &h0, true);
    let h2 = model.gnn_layer(1, &c.g1, &h1, true);
    let logits = model.decode(&h2[A]);
    assert_eq!(logits.kind(), Kind::Double);
    -logits
        .log_softmax(-1, Kind::Double)
        .gather(1, &c.labels.unsqueeze(1), false)
        .mean(Kind::Double)
}

fn check_gradients(num_bases: Option<usize>, norm: Option<Norm>) {
    let _rng = rng_lock();
    tch::manual_seed(11);
    let mut s = spec(3, Encoder::Rgcn, 2, Head::Classes(3));
    s.num_bases = num_bases;
    s.gnn_norm = norm;
    let mut model = Model::new(s);
    to_double(&mut model);
    let (input, g0, g1) = blocks();
    let c = GradCase {
        x: vec![
            Some(Tensor::rand([3, 2], (Kind::Double, Device::Cpu)) * 2.0 - 1.0),
            None,
            Some(Tensor::rand([1, 2], (Kind::Double, Device::Cpu)) * 2.0 - 1.0),
        ],
        ids: ids_tensors(&input),
        g0,
        g1,
        labels: Tensor::from_slice(&[1i64, 2]),
    };
    let mut trace = EmbTrace::default();
    let l = loss(&model, &c, Some(&mut trace));
    l.backward();
    let step = 1e-6;
    let rel_err = |a: f64, n: f64| (a - n).abs() / a.abs().max(n.abs()).max(1e-3);
    let names = param_names(&model);
    let mut worst = 0.0f64;
    let mut nonzero = 0;
    for name in &names {
        let (vals, analytic) = {
            let params = model.named_parameters();
            let p = params.iter().find(|(n, _)| n == name).expect("param").1;
            (to_vec(p), to_vec(&p.grad()))
        };
        for i in 0..vals.len() {
            let mut v = vals.clone();
            v[i] = vals[i] + step;
            set_param(&mut model, name, &v);
            let lp = tch::no_grad(|| loss(&model, &c, None).double_value(&[]));
            v[i] = vals[i] - step;
            set_param(&mut model, name, &v);
            let lm = tch::no_grad(|| loss(&model, &c, None).double_value(&[]));
            set_param(&mut model, name, &vals);
            let numeric = (lp - lm) / (2.0 * step);
            let e = rel_err(analytic[i], numeric);
            assert!(
                e < 1e-6,
                "{name}[{i}] (bases {num_bases:?}, norm {norm:?}): analytic {} numeric {numeric}",
                analytic[i]
            );
            worst = worst.max(e);
            nonzero += (analytic[i].abs() > 1e-6) as usize;
        }
    }
    assert!(nonzero > 50, "only {nonzero} non-zero gradient entries");
    // Gathered embedding rows: leaf row i is table row ids[B][i].
    assert_eq!(trace.rows.len(), 1);
    let (t, idx, leaf) = &trace.rows[0];
    assert_eq!(*t, B);
    assert_eq!(to_vec(idx), [1.0, 0.0]);
    let analytic = to_vec(&leaf.grad());
    assert!(analytic.iter().any(|g| g.abs() > 1e-6));
    let table = to_vec(&model.embeddings[B].as_ref().expect("B table").table);
    let set_table = |model: &mut Model, vals: &[f64]| {
        let e = model.embeddings[B].as_mut().expect("B table");
        e.table = Tensor::from_slice(vals).view([2, 3]);
    };
    for (row, &gid) in [1usize, 0].iter().enumerate() {
        for j in 0..3 {
            let k = gid * 3 + j;
            let mut v = table.clone();
            v[k] = table[k] + step;
            set_table(&mut model, &v);
            let lp = tch::no_grad(|| loss(&model, &c, None).double_value(&[]));
            v[k] = table[k] - step;
            set_table(&mut model, &v);
            let lm = tch::no_grad(|| loss(&model, &c, None).double_value(&[]));
            set_table(&mut model, &table);
            let numeric = (lp - lm) / (2.0 * step);
            let a = analytic[row * 3 + j];
            assert!(
                rel_err(a, numeric) < 1e-6,
                "embedding row {gid}[{j}]: analytic {a} numeric {numeric}"
            );
            worst = worst.max(rel_err(a, numeric));
        }
    }
    eprintln!("bases {num_bases:?} norm {norm:?}: worst relative error {worst:.2e}");
}

#[test]
fn gradients_match_finite_differences() {
    check_gradients(None, None);
}

#[test]
fn gradients_match_finite_differences_basis_and_layer_norm() {
    check_gradients(Some(2), Some(Norm::Layer));
}

// ---------------------------------------------------------------------------------------------
// 3. Initialisation

/// `xavier_uniform_` bound written out with torch's fan rule.
fn bound(shape: &[i64], gain: f64) -> f64 {
    let (fan_in, fan_out) = match shape {
        [a, b] => (*b as f64, *a as f64),
        [r, i, o] => ((i * o) as f64, (r * o) as f64),
        _ => panic!("shape {shape:?}"),
    };
    gain * (6.0 / (fan_in + fan_out)).sqrt()
}

fn check_uniform(name: &str, t: &Tensor, b: f64) {
    let v = to_vec(t);
    let max = v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    assert!(max <= b * (1.0 + 1e-6), "{name}: max |w| {max} > bound {b}");
    if v.len() >= 32 {
        assert!(max > 0.8 * b, "{name}: max |w| {max} ≤ 0.8·{b}: not spread");
    }
    if v.len() >= 1000 {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        // 5 standard errors: mean ~ b/√(3n), sample variance relative ~ √(0.8/n).
        assert!(
            mean.abs() < 5.0 * b / (3.0 * n).sqrt(),
            "{name}: mean {mean}"
        );
        assert!(
            (var / (b * b / 3.0) - 1.0).abs() < 5.0 * (0.8 / n).sqrt(),
            "{name}: variance {var} vs {}",
            b * b / 3.0
        );
    }
}

#[test]
fn xavier_bound_follows_torch_fan_rule() {
    let s2 = std::f64::consts::SQRT_2;
    // Spec §2.2: in = out = 64, R = 6 → 0.0518.
    assert!((xavier_bound(&[6, 64, 64], s2) - 0.0518).abs() < 1e-4);
    for shape in [
        vec![6i64, 64, 64],
        vec![3, 16, 8],
        vec![64, 5],
        vec![5, 64],
        vec![7, 1],
    ] {
        let got = xavier_bound(&shape, s2);
        assert!((got - bound(&shape, s2)).abs() < 1e-12, "{shape:?}");
    }
    assert!((xavier_bound(&[32, 1], 1.0) - (6.0f64 / 33.0).sqrt()).abs() < 1e-12);
}

fn init_spec(head: Head, bases: Option<usize>, norm: Option<Norm>, node_emb: bool) -> ModelSpec {
    ModelSpec {
        encoder: Encoder::Rgcn,
        hidden: 64,
        out_dim: 32,
        num_layers: 2,
        num_bases: bases,
        use_self_loop: true,
        dropout: 0.1,
        gnn_norm: norm,
        input_activate: false,
        use_node_embeddings: node_emb,
        feat_dims: vec![48, 0, 16],
        num_nodes: vec![40, 600, 30],
        ntype_names: vec!["A".into(), "B".into(), "C".into()],
        etypes: ETYPES.to_vec(),
        head,
        decoder_bias: true,
    }
}

#[test]
fn initialisation_matches_graphstorm() {
    let _rng = rng_lock();
    let s2 = std::f64::consts::SQRT_2;
    for (head, bases, norm, node_emb) in [
        (Head::Classes(5), None, None, false),
        (Head::Classes(5), Some(2), Some(Norm::Layer), true),
        (Head::Regression, Some(4), Some(Norm::Batch), false),
    ] {
        tch::manual_seed(3);
        let model = Model::new(init_spec(head, bases, norm, node_emb));
        let mut names = Vec::new();
        for (name, p) in model.named_parameters() {
            names.push(name.clone());
            assert_eq!(p.kind(), Kind::Float, "{name}");
            assert!(p.requires_grad(), "{name}");
            let shape = p.size();
            let layer_dims = |l: usize| if l == 0 { (64i64, 64i64) } else { (64, 32) };
            if let Some(rest) = name.strip_prefix("gnn._layers.") {
                let l: usize = rest[..1].parse().expect("layer");
                let (din, dout) = layer_dims(l);
                match &rest[2..] {
                    "weight" => {
                        assert_eq!(shape, [4, din, dout], "{name}");
                        check_uniform(&name, p, bound(&shape, s2));
                    }
                    "basis.weight" => {
                        assert_eq!(shape, [2, din, dout], "{name}");
                        check_uniform(&name, p, bound(&shape, s2));
                    }
                    "basis.w_comp" => {
                        assert_eq!(shape, [4, 2], "{name}");
                        check_uniform(&name, p, bound(&shape, s2));
                    }
                    "loop_weight" => {
                        assert_eq!(shape, [din, dout], "{name}");
                        check_uniform(&name, p, bound(&shape, s2));
                    }
                    "h_bias" => {
                        assert_eq!(shape, [dout]);
                        assert!(to_vec(p).iter().all(|&x| x == 0.0), "{name}");
                    }
                    other if other.starts_with("norm.") => {
                        assert_eq!(l, 0, "no norm on the last layer: {name}");
                        let want = if other.ends_with(".weight") { 1.0 } else { 0.0 };
                        assert_eq!(shape, [64]);
                        assert!(to_vec(p).iter().all(|&x| x == want), "{name}");
                    }
                    other => panic!("unexpected {other}"),
                }
            } else if let Some(t) = name.strip_prefix("node_embed.input_projs.") {
                let f = if t == "A" { 48 } else { 16 };
                assert_eq!(shape, [f, 64], "{name}");
                check_uniform(&name, p, bound(&shape, s2));
            } else if let Some(t) = name.strip_prefix("node_embed.proj_matrix.") {
                let rows = if t == "B" || !node_emb { 64 } else { 128 };
                assert_eq!(shape, [rows, 64], "{name}");
                check_uniform(&name, p, bound(&shape, s2));
            } else if name == "decoder.decoder" {
                let (c, gain) = match head {
                    Head::Classes(c) => (c as i64, s2),
                    Head::Regression => (1, 1.0),
                    other => panic!("node heads only here, not {other:?}"),
                };
                assert_eq!(shape, [32, c]);
                check_uniform(&name, p, bound(&shape, gain));
            } else if name == "decoder.bias" {
                assert!(to_vec(p).iter().all(|&x| x == 0.0));
            } else {
                panic!("unexpected parameter {name}");
            }
        }
        let has = |n: &str| names.iter().any(|x| x == n);
        // num_bases < R → basis decomposition; num_bases ≥ R → one weight per relation.
        assert_eq!(has("gnn._layers.0.basis.weight"), bases == Some(2));
        assert_eq!(has("gnn._layers.1.basis.w_comp"), bases == Some(2));
        assert_eq!(has("gnn._layers.0.weight"), bases != Some(2));
        assert_eq!(has("gnn._layers.0.norm.B.weight"), norm.is_some());
        assert!(!has("gnn._layers.1.norm.B.weight"));
        assert_eq!(has("node_embed.proj_matrix.A"), node_emb);
        assert!(has("decoder.bias"));
        // Batch norm buffers: running mean 0, running var 1, only on hidden layers.
        let buffers = model.named_buffers();
        assert_eq!(buffers.len(), if norm == Some(Norm::Batch) { 6 } else { 0 });
        for (n, b) in buffers {
            let want = if n.ends_with("running_var") { 1.0 } else { 0.0 };
            assert!(to_vec(b).iter().all(|&x| x == want), "{n}");
        }
        // Embedding tables: all rows of featureless types (and of every type with
        // use_node_embeddings), U(-1, 1), not dense parameters.
        for t in 0..3 {
            let e = model.embeddings[t].as_ref();
            assert_eq!(e.is_some(), t == B || node_emb, "ntype {t}");
            if let Some(e) = e {
                assert_eq!(e.ntype, t);
                assert_eq!(e.table.size(), [[40, 600, 30][t], 64]);
                check_uniform(&format!("embed {t}"), &e.table, 1.0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4-6. Optimizers

#[test]
fn dense_adam_matches_torch_closed_form() {
    let (lr, wd) = (0.1, 0.05);
    let c = [1.0f64, 0.5, -3.0];
    let mut p = Tensor::from_slice(&[1.0f32, -2.0, 0.5]).set_requires_grad(true);
    let mut q = Tensor::from_slice(&[4.0f32, 5.0]).set_requires_grad(true);
    let mut adam = Adam::new(&[&p, &q], lr, wd);
    let ct = Tensor::from_slice(&c).to_kind(Kind::Float);
    let mut want = [1.0f64, -2.0, 0.5];
    let (mut m, mut v) = ([0.0f64; 3], [0.0f64; 3]);
    for t in 1..=2 {
        zero_grad(&mut [&mut p, &mut q]);
        // loss = Σ c·p² → g = 2·c·p; q is unused (no gradient: torch skips it).
        (&ct * &p * &p).sum(Kind::Float).backward();
        adam.step(&mut [&mut p, &mut q]);
        let bc1 = 1.0 - BETA1.powi(t);
        let bc2 = 1.0 - BETA2.powi(t);
        for i in 0..3 {
            let g = 2.0 * c[i] * want[i] + wd * want[i];
            m[i] = BETA1 * m[i] + (1.0 - BETA1) * g;
            v[i] = BETA2 * v[i] + (1.0 - BETA2) * g * g;
            want[i] -= lr / bc1 * m[i] / (v[i].sqrt() / bc2.sqrt() + EPS);
        }
        assert_close(&to_vec(&p), &want, 1e-6, &format!("adam step {t}"));
        assert_close(&to_vec(&adam.state[0].0), &m, 1e-6, "exp_avg");
        assert_close(&to_vec(&adam.state[0].1), &v, 1e-6, "exp_avg_sq");
        assert_eq!(
            to_vec(&q),
            [4.0, 5.0],
            "a parameter without gradient is untouched"
        );
    }
    assert_eq!(adam.step, 2);
}

#[test]
fn sparse_adam_matches_dgl_closed_form() {
    let lr = 0.1;
    let init: Vec<f64> = (0..10).map(|i| (i as f64 - 4.5) / 5.0).collect();
    let mut table = Tensor::from_slice(&init).to_kind(Kind::Float).view([5, 2]);
    let mut opt = SparseAdam::new(&table, lr);
    // Step 1: rows 1, 3, 1 (duplicate: gradients averaged, one step for row 1).
    // Step 2: rows 3, 4.
    let steps: [(Vec<i64>, Vec<[f64; 2]>); 2] = [
        (vec![1, 3, 1], vec![[0.5, -1.0], [2.0, 0.25], [-1.5, 3.0]]),
        (vec![3, 4], vec![[-0.75, 1.0], [0.1, -0.2]]),
    ];
    let mut want: Vec<[f64; 2]> = (0..5).map(|r| [init[2 * r], init[2 * r + 1]]).collect();
    let mut mem = [[0.0f64; 2]; 5];
    let mut power = [[0.0f64; 2]; 5];
    let mut count = [0i32; 5];
    for (idx, grads) in &steps {
        let g = Tensor::from_slice(&grads.iter().flatten().copied().collect::<Vec<_>>())
            .to_kind(Kind::Float)
            .view([idx.len() as i64, 2]);
        opt.update(&mut table, &Tensor::from_slice(idx), &g);
        let mut rows: Vec<i64> = idx.clone();
        rows.sort();
        rows.dedup();
        for &r in &rows {
            let r = r as usize;
            let hits: Vec<&[f64; 2]> = idx
                .iter()
                .zip(grads)
                .filter(|(i, _)| **i as usize == r)
                .map(|(_, g)| g)
                .collect();
            count[r] += 1;
            let s = count[r];
            for j in 0..2 {
                let gj = hits.iter().map(|g| g[j]).sum::<f64>() / hits.len() as f64;
                mem[r][j] = BETA1 * mem[r][j] + (1.0 - BETA1) * gj;
                power[r][j] = BETA2 * power[r][j] + (1.0 - BETA2) * gj * gj;
                let mh = mem[r][j] / (1.0 - BETA1.powi(s));
                let vh = power[r][j] / (1.0 - BETA2.powi(s));
                want[r][j] -= lr * mh / (vh.sqrt() + EPS);
            }
        }
        let flat_want: Vec<f64> = want.iter().flatten().copied().collect();
        assert_close(&to_vec(&table), &flat_want, 1e-6, "sparse adam table");
        let fm: Vec<f64> = mem.iter().flatten().copied().collect();
        let fp: Vec<f64> = power.iter().flatten().copied().collect();
        assert_close(&to_vec(&opt.mem), &fm, 1e-6, "mem");
        assert_close(&to_vec(&opt.power), &fp, 1e-6, "power");
    }
    assert_eq!(
        to_vec(&opt.step),
        [0.0, 1.0, 0.0, 2.0, 1.0],
        "per-row step counts"
    );
    let t = to_vec(&table);
    // Untouched rows 0 and 2 are bit-identical to the start.
    assert_eq!(&t[0..2], &[init[0] as f32 as f64, init[1] as f32 as f64]);
    assert_eq!(&t[4..6], &[init[4] as f32 as f64, init[5] as f32 as f64]);
    // Averaging, not summing: row 1's step-1 gradient is [-0.5, 1.0] → with step 1 Adam moves
    // each coordinate by lr·sign(g) (up to eps).
    assert_close(
        &t[2..4],
        &[init[2] + lr, init[3] - lr],
        1e-6,
        "row 1 after one averaged step",
    );
}

fn grads_of(ps: &[&Tensor]) -> Vec<Vec<f64>> {
    ps.iter().map(|p| to_vec(&p.grad())).collect()
}

/// Two parameters with gradients [3, 4] and [-12].
fn clip_case() -> (Tensor, Tensor) {
    let a = Tensor::from_slice(&[1.0f32, 1.0]).set_requires_grad(true);
    let b = Tensor::from_slice(&[2.0f32]).set_requires_grad(true);
    let l =
        (&a * Tensor::from_slice(&[3.0f32, 4.0])).sum(Kind::Float) + (&b * -12.0).sum(Kind::Float);
    l.backward();
    (a, b)
}

#[test]
fn clip_grad_norm_scales_like_torch() {
    // L2: total 13; max_norm 6.5 → coef 6.5 / (13 + 1e-6).
    let (a, b) = clip_case();
    let total = clip_grad_norm(&[&a, &b], 6.5, 2.0);
    assert!((total - 13.0).abs() < 1e-6);
    let k = 6.5 / (13.0 + 1e-6);
    let g = grads_of(&[&a, &b]);
    assert_close(&g[0], &[3.0 * k, 4.0 * k], 1e-6, "l2 a");
    assert_close(&g[1], &[-12.0 * k], 1e-6, "l2 b");
    // The clipped norm is max_norm (up to the 1e-6 guard).
    let n: f64 = g.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    assert!((n - 6.5).abs() < 1e-5);

    // Inf norm: total 12; max_norm 3 → coef 3 / (12 + 1e-6).
    let (a, b) = clip_case();
    let total = clip_grad_norm(&[&a, &b], 3.0, f64::INFINITY);
    assert!((total - 12.0).abs() < 1e-6);
    let k = 3.0 / (12.0 + 1e-6);
    let g = grads_of(&[&a, &b]);
    assert_close(&g[0], &[3.0 * k, 4.0 * k], 1e-6, "inf a");
    assert_close(&g[1], &[-12.0 * k], 1e-6, "inf b");

    // L1: total 19.
    let (a, b) = clip_case();
    assert!((clip_grad_norm(&[&a, &b], 1.0, 1.0) - 19.0).abs() < 1e-6);

    // Below the limit: gradients unchanged (torch clamps the coefficient to 1).
    let (a, b) = clip_case();
    let total = clip_grad_norm(&[&a, &b], 100.0, 2.0);
    assert!((total - 13.0).abs() < 1e-6);
    assert_eq!(grads_of(&[&a, &b]), [vec![3.0, 4.0], vec![-12.0]]);

    // Parameters without a gradient are ignored; none at all → 0.
    let c = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
    assert_eq!(clip_grad_norm(&[&c], 1.0, 2.0), 0.0);
    let (a, _) = clip_case();
    assert!((clip_grad_norm(&[&a, &c], 100.0, 2.0) - 5.0).abs() < 1e-6);
}

// ---------------------------------------------------------------------------------------------
// 7. Determinism

fn snapshot(model: &Model) -> Vec<(String, Vec<f64>)> {
    let mut out: Vec<(String, Vec<f64>)> = model
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, to_vec(p)))
        .collect();
    for e in model.embeddings.iter().flatten() {
        out.push((format!("embed.{}", e.ntype), to_vec(&e.table)));
    }
    out
}

#[test]
fn same_seed_same_parameters() {
    let _rng = rng_lock();
    let s = init_spec(Head::Classes(5), Some(2), Some(Norm::Layer), true);
    tch::manual_seed(42);
    let a = snapshot(&Model::new(s.clone()));
    tch::manual_seed(42);
    let b = snapshot(&Model::new(s.clone()));
    assert_eq!(
        a, b,
        "same seed → identical parameters and embedding tables"
    );
    tch::manual_seed(43);
    let c = snapshot(&Model::new(s));
    assert_ne!(a, c, "a different seed changes the initialisation");
}

// ---------------------------------------------------------------------------------------------
// The fused first layer (raw inputs aggregated, projected after) equals input layer + layer 0.

#[test]
fn linear_first_layer_equals_input_layer_then_gnn_layer() {
    let _rng = rng_lock();
    for num_bases in [None, Some(2)] {
        tch::manual_seed(5);
        let mut s = spec(3, Encoder::Rgcn, 2, Head::Classes(3));
        s.num_bases = num_bases;
        let model = Model::new(s);
        assert!(model.linear_first_layer());
        let (input, g0, _) = blocks();
        let ids = ids_tensors(&input);
        let x = vec![
            Some(Tensor::randn([3, 2], (Kind::Float, tch::Device::Cpu))),
            None,
            Some(Tensor::randn([1, 2], (Kind::Float, tch::Device::Cpu))),
        ];
        let run = |fused: bool| {
            let mut trace = EmbTrace::default();
            let out = if fused {
                model.first_layer_from_inputs(&x, &ids, &g0, true, Some(&mut trace))
            } else {
                let h = model.input_layer(&x, &ids, true, Some(&mut trace));
                model.gnn_layer(0, &g0, &h, true)
            };
            let total = out.iter().map(|t| (t * t).sum(Kind::Float)).fold(
                Tensor::zeros([], (Kind::Float, tch::Device::Cpu)),
                |a, b| a + b,
            );
            for (_, p) in model.named_parameters() {
                let mut p = p.shallow_clone();
                p.zero_grad();
            }
            total.backward();
            let grads: Vec<Vec<f64>> = model
                .named_parameters()
                .into_iter()
                .map(|(_, p)| {
                    let g = p.grad();
                    if g.defined() {
                        to_vec(&g)
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            let leaves: Vec<Vec<f64>> = trace
                .rows
                .iter()
                .map(|(_, _, l)| to_vec(&l.grad()))
                .collect();
            (out.iter().map(to_vec).collect::<Vec<_>>(), grads, leaves)
        };
        let (o1, g1, l1) = run(false);
        let (o2, g2, l2) = run(true);
        for (a, b) in o1.iter().zip(&o2) {
            assert_close(b, a, 1e-5, "layer-0 output");
        }
        for (a, b) in g1.iter().zip(&g2) {
            if a.iter().any(|v| *v != 0.0) || b.iter().any(|v| *v != 0.0) {
                assert_close(b, a, 1e-4, "parameter gradient");
            }
        }
        assert_eq!(l1.len(), l2.len());
        for (a, b) in l1.iter().zip(&l2) {
            assert_close(b, a, 1e-5, "embedding-row gradient");
        }
    }
}
