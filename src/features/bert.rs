//! `bert_hf`: text → the `pooler_output` of a local Hugging Face BERT-family encoder,
//! `(N, hidden_size)` per text column (several columns side by side), in `out_dtype`
//! (float32 by default; float16/float64 rounded once from the float32 result, as numpy's
//! `astype` does).
//!
//! What (GraphStorm's `Text2BERT`): every text is tokenized exactly as `tokenize_hf` does
//! (`truncation=True, padding='max_length', max_length=L`), then `AutoModel(...)` runs in eval
//! mode without gradients and its `pooler_output` is stored: `tanh(W · h[:, 0] + b)` over the
//! last hidden state of the first position. The encoder is written here on libtorch (tch):
//! embeddings (word + position + token type, LayerNorm), `num_hidden_layers` post-norm
//! transformer layers (multi-head self-attention with the attention mask, dense + residual +
//! LayerNorm, feed-forward with `hidden_act`, dense + residual + LayerNorm), then the pooler.
//! BERT numbers positions `0..L`; RoBERTa / XLM-RoBERTa count them from `pad_token_id + 1`
//! over the non-pad tokens, as `transformers` does. Checkpoints saved from a task model
//! (`bert.` / `roberta.` prefixes, `cls.*` / `lm_head.*` heads, legacy LayerNorm
//! `gamma`/`beta` names) load like `AutoModel` loads them; a checkpoint without pooler weights
//! is refused (Hugging Face would initialise the pooler randomly and every embedding would be
//! noise).
//!
//! Weights: `model.safetensors` (read by libtorch's safetensors reader) or `pytorch_model.bin`,
//! read by [`crate::format::pt`]'s pickle machine, which builds only tensors, dicts and
//! `OrderedDict`s and refuses every other global by name, so a hostile `.bin` cannot run code.
//! Any float dtype is converted to float32, as `AutoModel.from_pretrained` does by default.
//!
//! Algorithm: rows are processed in windows of [`WINDOW_ROWS`] in row order. A producer thread
//! tokenizes window w+1 (without padding: the token IDs and their count) while the model runs
//! on window w. Within a window, rows are sorted by token count (stable) and cut into batches
//! of at most `infer_batch_size` rows and [`BATCH_TOKENS`] padded tokens; each batch is padded
//! only to its longest row. With right padding (the default) this gives the same
//! `pooler_output` as padding every row to `max_seq_length`: pad positions are masked out of
//! attention and come after every real token, so they change nothing but the amount of work.
//! With `padding_side: "left"` rows are padded to `max_seq_length` (BERT's positions would
//! move otherwise). The last layer runs its queries and feed-forward for position 0 only (the
//! pooler reads nothing else). Outputs are written back in the original row order.
//!
//! Determinism: the batches depend only on the input and `infer_batch_size`, so the same
//! input, thread count and device give the same bytes.
//!
//! Memory: the model's weights in float32, one window of token IDs (≤ `WINDOW_ROWS · L`
//! integers, two windows in flight), one batch's activations (≈ `BATCH_TOKENS ·
//! (intermediate_size + 4 · hidden_size)` floats), and the output array (spilled under
//! `--memory` like every feature).
//!
//! Parallelism: libtorch's intra-op threads (set to the run's thread count), plus the
//! tokenizing thread. `--device cuda` (or `auto` with a CUDA libtorch and a GPU) runs the model
//! on GPU 0.
//!
//! Deviations: a missing value is an error naming file, row and column (GraphStorm: an
//! assertion); tokens beyond the model's vocabulary are an error (GraphStorm: an index error).

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use arrow::array::ArrayRef;
use tch::{Device, Kind, TchError};

use super::column::StrCol;
use super::Part;
use crate::config::plan::{FeatureSpec, HfModel, LmConfig};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};
use crate::workspace::spill::OutBuf;

/// Rows tokenized, sorted by length and embedded together.
const WINDOW_ROWS: usize = if cfg!(test) { 5 } else { 16384 };
/// Most padded tokens in one forward pass on a GPU (bounds the activations).
const BATCH_TOKENS: usize = 32768;
/// The same on the CPU, where one batch per thread is in flight.
const BATCH_TOKENS_CPU: usize = 8192;

/// The transform's options.
pub(crate) struct Options {
    pub max_len: usize,
    /// `infer_batch_size`: most rows per forward pass.
    pub batch_rows: usize,
    pub dtype: DType,
}

type Tch<T> = std::result::Result<T, TchError>;

fn torch_err(what: &str, e: TchError) -> Error {
    Error::Other(format!("bert_hf: {what}: {e}"))
}

/// One transformer layer's weights.
struct Layer {
    q: (tch::Tensor, tch::Tensor),
    /// Keys and values in one matrix `(2·hidden, hidden)`.
    kv: (tch::Tensor, tch::Tensor),
    attn_out: (tch::Tensor, tch::Tensor),
    ln1: (tch::Tensor, tch::Tensor),
    inter: (tch::Tensor, tch::Tensor),
    out: (tch::Tensor, tch::Tensor),
    ln2: (tch::Tensor, tch::Tensor),
}

/// An [`Encoder`] shared by the threads that run CPU batches.
struct SharedEncoder<'a>(&'a Encoder);

// SAFETY: `tch::Tensor` is not `Sync` only because it wraps a raw libtorch pointer. The
// threads only read the weight tensors: every op in `Encoder::forward` allocates its outputs
// (none is in place, no autograd state: it runs under `no_grad`), and libtorch's tensor
// reference counts are atomic, so concurrent forward passes over the same weights are the
// documented thread-safe use of libtorch (inference from several threads).
unsafe impl Sync for SharedEncoder<'_> {}

impl SharedEncoder<'_> {
    /// (A method, so that closures capture the whole `Sync` wrapper, not its field.)
    fn get(&self) -> &Encoder {
        self.0
    }
}

/// A loaded BERT-family encoder with its pooler.
pub(crate) struct Encoder {
    conf: LmConfig,
    device: Device,
    word: tch::Tensor,
    position: tch::Tensor,
    token_type: tch::Tensor,
    emb_ln: (tch::Tensor, tch::Tensor),
    layers: Vec<Layer>,
    pooler: (tch::Tensor, tch::Tensor),
}

/// Reads every tensor of the weight files, names normalized (see the module docs).
fn read_weights(model: &HfModel) -> Result<HashMap<String, tch::Tensor>> {
    let mut all = HashMap::new();
    for file in &model.weights {
        let named: Vec<(String, tch::Tensor)> =
            if file.extension().is_some_and(|e| e == "safetensors") {
                tch::Tensor::read_safetensors(file).map_err(|e| {
                    Error::input(file, format!("cannot read the safetensors weights: {e}"))
                })?
            } else {
                read_bin(file)?
            };
        for (name, t) in named {
            all.insert(normalize_name(&name), t);
        }
    }
    Ok(all)
}

/// A `pytorch_model.bin` through the restricted pickle reader.
fn read_bin(file: &Path) -> Result<Vec<(String, tch::Tensor)>> {
    use crate::format::pt::{load_pt, PtContent, PtKeyBuf};
    let PtContent::Dict(items) = load_pt(file)? else {
        return Err(Error::input(
            file,
            "expected a state dict (a dict of tensors), found a bare tensor",
        ));
    };
    items
        .into_iter()
        .map(|(k, t)| {
            let PtKeyBuf::Str(name) = k else {
                return Err(Error::input(file, "state dict key is not a string"));
            };
            let kind = match t.dtype {
                DType::F16 => Kind::Half,
                DType::F32 => Kind::Float,
                DType::F64 => Kind::Double,
                DType::I64 => Kind::Int64,
                DType::I32 => Kind::Int,
                DType::I16 => Kind::Int16,
                DType::I8 => Kind::Int8,
                DType::U8 => Kind::Uint8,
            };
            let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
            let v = tch::Tensor::f_from_data_size(t.bytes(), &shape, kind)
                .map_err(|e| Error::input(file, format!("tensor {name}: {e}")))?;
            Ok((name, v))
        })
        .collect()
}

/// `bert.encoder.layer.0.attention.output.LayerNorm.gamma` →
/// `encoder.layer.0.attention.output.LayerNorm.weight`.
fn normalize_name(name: &str) -> String {
    let n = ["bert.", "roberta."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    if let Some(stem) = n.strip_suffix(".gamma") {
        format!("{stem}.weight")
    } else if let Some(stem) = n.strip_suffix(".beta") {
        format!("{stem}.bias")
    } else {
        n.to_string()
    }
}

impl Encoder {
    /// Loads the weights onto `device` as float32, checking every shape against the config.
    pub(crate) fn load(model: &HfModel, device: Device) -> Result<Encoder> {
        let c = &model.config;
        let mut w = read_weights(model)?;
        let files = model
            .weights
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let (h, i) = (c.hidden_size as i64, c.intermediate_size as i64);
        let mut take = |name: &str, shape: &[i64]| -> Result<tch::Tensor> {
            let t = w.remove(name).ok_or_else(|| {
                let hint = if name.starts_with("pooler.") {
                    " (the checkpoint has no pooler: Hugging Face would initialise it \
                     randomly, so pooler_output would be noise; use a checkpoint saved with \
                     its pooler, e.g. from AutoModel)"
                } else {
                    ""
                };
                Error::Config {
                    path: model.config_file.display().to_string(),
                    msg: format!("the weights ({files}) have no tensor {name}{hint}"),
                }
            })?;
            if t.size() != shape {
                return Err(Error::Config {
                    path: model.config_file.display().to_string(),
                    msg: format!(
                        "tensor {name} has shape {:?} in the weights, the config implies {shape:?}",
                        t.size()
                    ),
                });
            }
            t.f_to_kind(Kind::Float)
                .and_then(|t| t.f_to_device(device))
                .map_err(|e| torch_err(&format!("moving {name} to {device:?}"), e))
        };
        let pair = |take: &mut dyn FnMut(&str, &[i64]) -> Result<tch::Tensor>,
                    stem: &str,
                    out: i64,
                    inp: Option<i64>|
         -> Result<(tch::Tensor, tch::Tensor)> {
            let weight = match inp {
                Some(inp) => take(&format!("{stem}.weight"), &[out, inp])?,
                None => take(&format!("{stem}.weight"), &[out])?,
            };
            Ok((weight, take(&format!("{stem}.bias"), &[out])?))
        };
        let word = take(
            "embeddings.word_embeddings.weight",
            &[c.vocab_size as i64, h],
        )?;
        let position = take(
            "embeddings.position_embeddings.weight",
            &[c.max_position_embeddings as i64, h],
        )?;
        let token_type = take(
            "embeddings.token_type_embeddings.weight",
            &[c.type_vocab_size as i64, h],
        )?;
        let emb_ln = pair(&mut take, "embeddings.LayerNorm", h, None)?;
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for l in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let q = pair(&mut take, &format!("{p}.attention.self.query"), h, Some(h))?;
            let k = pair(&mut take, &format!("{p}.attention.self.key"), h, Some(h))?;
            let v = pair(&mut take, &format!("{p}.attention.self.value"), h, Some(h))?;
            let cat = |a: &tch::Tensor, b: &tch::Tensor| {
                tch::Tensor::f_cat(&[a, b], 0).map_err(|e| torch_err("joining key/value", e))
            };
            layers.push(Layer {
                kv: (cat(&k.0, &v.0)?, cat(&k.1, &v.1)?),
                q,
                attn_out: pair(
                    &mut take,
                    &format!("{p}.attention.output.dense"),
                    h,
                    Some(h),
                )?,
                ln1: pair(
                    &mut take,
                    &format!("{p}.attention.output.LayerNorm"),
                    h,
                    None,
                )?,
                inter: pair(&mut take, &format!("{p}.intermediate.dense"), i, Some(h))?,
                out: pair(&mut take, &format!("{p}.output.dense"), h, Some(i))?,
                ln2: pair(&mut take, &format!("{p}.output.LayerNorm"), h, None)?,
            });
        }
        let pooler = pair(&mut take, "pooler.dense", h, Some(h))?;
        Ok(Encoder {
            conf: c.clone(),
            device,
            word,
            position,
            token_type,
            emb_ln,
            layers,
            pooler,
        })
    }

    fn act(&self, x: &tch::Tensor) -> Tch<tch::Tensor> {
        match self.conf.hidden_act.as_str() {
            "gelu" => x.f_gelu("none"),
            "gelu_new" | "gelu_pytorch_tanh" => x.f_gelu("tanh"),
            "relu" => x.f_relu(),
            _ => x.f_silu(),
        }
    }

    fn ln(&self, x: &tch::Tensor, p: &(tch::Tensor, tch::Tensor)) -> Tch<tch::Tensor> {
        let h = self.conf.hidden_size as i64;
        x.f_layer_norm([h], Some(&p.0), Some(&p.1), self.conf.layer_norm_eps, false)
    }

    /// `pooler_output` `(b, hidden)` of a batch of `b` rows of `l` tokens (row-major
    /// `ids`/`types`/`mask`, mask 1 for real tokens).
    pub(crate) fn pooled(
        &self,
        ids: &[i64],
        types: &[i64],
        mask: &[bool],
        b: usize,
        l: usize,
    ) -> Tch<tch::Tensor> {
        tch::no_grad(|| self.forward(ids, types, mask, b as i64, l as i64))
    }

    fn forward(
        &self,
        ids: &[i64],
        types: &[i64],
        mask: &[bool],
        b: i64,
        l: i64,
    ) -> Tch<tch::Tensor> {
        let c = &self.conf;
        let (h, heads) = (c.hidden_size as i64, c.num_attention_heads as i64);
        let d = h / heads;
        let dev = self.device;
        let ids_t = tch::Tensor::f_from_slice(ids)?
            .f_view([b, l])?
            .f_to_device(dev)?;
        let types_t = tch::Tensor::f_from_slice(types)?
            .f_view([b, l])?
            .f_to_device(dev)?;
        let mask_t = tch::Tensor::f_from_slice(mask)?
            .f_view([b, 1, 1, l])?
            .f_to_device(dev)?;
        let positions = if c.roberta_positions() {
            let pad = c.pad_token_id as i64;
            let real = ids_t.f_ne(pad)?.f_to_kind(Kind::Int64)?;
            real.f_cumsum(1, Kind::Int64)?
                .f_mul(&real)?
                .f_add_scalar(pad)?
        } else {
            tch::Tensor::f_arange(l, (Kind::Int64, dev))?
                .f_unsqueeze(0)?
                .f_expand([b, l], false)?
        };
        let emb = tch::Tensor::f_embedding(&self.word, &ids_t, -1, false, false)?
            .f_add(&tch::Tensor::f_embedding(
                &self.position,
                &positions,
                -1,
                false,
                false,
            )?)?
            .f_add(&tch::Tensor::f_embedding(
                &self.token_type,
                &types_t,
                -1,
                false,
                false,
            )?)?;
        let mut x = self.ln(&emb, &self.emb_ln)?;
        let last = self.layers.len().saturating_sub(1);
        for (n, layer) in self.layers.iter().enumerate() {
            // The pooler reads position 0 only: the last layer computes nothing else.
            let xq = if n == last {
                x.f_narrow(1, 0, 1)?
            } else {
                x.shallow_clone()
            };
            let lq = xq.size()[1];
            let heads_of = |t: tch::Tensor, len: i64| -> Tch<tch::Tensor> {
                t.f_view([b, len, heads, d])?.f_transpose(1, 2)
            };
            let q = heads_of(xq.f_linear(&layer.q.0, Some(&layer.q.1))?, lq)?;
            let kv = x.f_linear(&layer.kv.0, Some(&layer.kv.1))?;
            let kv = kv.f_split(h, 2)?;
            let k = heads_of(kv[0].shallow_clone(), l)?;
            let v = heads_of(kv[1].shallow_clone(), l)?;
            let ctx = tch::Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(&mask_t),
                0.0,
                false,
                None,
                false,
            )?
            .f_transpose(1, 2)?
            .f_reshape([b, lq, h])?;
            let a = self.ln(
                &ctx.f_linear(&layer.attn_out.0, Some(&layer.attn_out.1))?
                    .f_add(&xq)?,
                &layer.ln1,
            )?;
            let inter = self.act(&a.f_linear(&layer.inter.0, Some(&layer.inter.1))?)?;
            x = self.ln(
                &inter
                    .f_linear(&layer.out.0, Some(&layer.out.1))?
                    .f_add(&a)?,
                &layer.ln2,
            )?;
        }
        x.f_select(1, 0)?
            .f_linear(&self.pooler.0, Some(&self.pooler.1))?
            .f_tanh()
    }
}

/// One column's tokens of one window: row r is `ids[start[r]..start[r + 1]]`.
struct Tokens {
    ids: Vec<u32>,
    types: Vec<u32>,
    /// The tokenizer's attention mask (all ones unless left padding padded the row).
    mask: Vec<u32>,
    start: Vec<usize>,
}

impl Tokens {
    fn len(&self, r: usize) -> usize {
        self.start[r + 1] - self.start[r]
    }
}

/// The output array in `out_dtype`.
enum Out {
    F16(OutBuf<half::f16>),
    F32(OutBuf<f32>),
    F64(OutBuf<f64>),
}

impl Out {
    fn write(&mut self, at: usize, v: &[f32]) -> Result<()> {
        match self {
            Out::F32(b) => b.write_at(at, v),
            Out::F64(b) => {
                let w: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
                b.write_at(at, &w)
            }
            Out::F16(b) => {
                let w: Vec<half::f16> = v
                    .iter()
                    .map(|&x| super::f16_from_f64(f64::from(x)))
                    .collect();
                b.write_at(at, &w)
            }
        }
    }

    fn into_tensor(self, shape: Vec<usize>) -> Result<Tensor> {
        match self {
            Out::F16(b) => b.into_tensor(shape),
            Out::F32(b) => b.into_tensor(shape),
            Out::F64(b) => b.into_tensor(shape),
        }
    }
}

/// Computes `bert_hf` over all slices of a block: the output `(N, hidden · columns)` and its
/// `feature_dim`.
pub(crate) fn compute(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    rows: &[usize],
    model: &HfModel,
    opts: &Options,
    ctx: &super::FeatureCtx<'_>,
) -> Result<(Tensor, Vec<usize>)> {
    let ncols = spec.columns.len();
    let hidden = model.config.hidden_size;
    let width = hidden * ncols;
    let total: usize = rows.iter().sum();
    // Text columns: [part][column].
    let arrays: Vec<Vec<ArrayRef>> = files
        .iter()
        .map(|f| {
            (spec.columns.iter().enumerate())
                .map(|(c, column)| super::tokenize::text_column(f, c, column, "bert_hf"))
                .collect()
        })
        .collect::<Result<_>>()?;

    let mut tok = super::tokenize::load(&model.tokenizer, opts.max_len)?;
    let pad_id = tok.get_padding().map_or(0, |p| p.pad_id);
    let pad_left = model.tokenizer.pad_left;
    if !pad_left {
        // Right padding: rows are padded per batch instead (see the module docs).
        tok.with_padding(None);
    }
    let vocab = model.config.vocab_size;
    if tok.get_vocab_size(true) > vocab {
        return Err(Error::Config {
            path: format!("{}.transform.bert_model", spec.json_path),
            msg: format!(
                "the tokenizer ({}) has {} tokens, the model's word embeddings ({}) {vocab}: \
                 they do not belong together",
                model.tokenizer.tokenizer_file.display(),
                tok.get_vocab_size(true),
                model.config_file.display()
            ),
        });
    }
    let device = crate::train::device::resolve(ctx.lm.device).map_err(Error::Other)?;
    let started = Instant::now();
    let encoder = Encoder::load(model, device)?;
    log::debug!(
        "{}: loaded {} ({} layers, hidden {}) on {device:?} in {:.2} s",
        spec.json_path,
        model.config_file.display(),
        model.config.num_hidden_layers,
        hidden,
        started.elapsed().as_secs_f64()
    );

    let mut out = match opts.dtype {
        DType::F16 => Out::F16(ctx.alloc(total, width, half::f16::ZERO, &spec.name)?),
        DType::F64 => Out::F64(ctx.alloc(total, width, 0f64, &spec.name)?),
        _ => Out::F32(ctx.alloc(total, width, 0f32, &spec.name)?),
    };

    // Windows: runs of whole slices with at least WINDOW_ROWS rows (the last may be shorter).
    let mut windows: Vec<std::ops::Range<usize>> = Vec::new();
    let mut first = 0;
    let mut acc = 0;
    for (i, &n) in rows.iter().enumerate() {
        acc += n;
        if acc >= WINDOW_ROWS || i + 1 == rows.len() {
            windows.push(first..i + 1);
            first = i + 1;
            acc = 0;
        }
    }

    let tokenize_window = |w: &std::ops::Range<usize>| -> Result<Vec<Tokens>> {
        (0..ncols)
            .map(|c| {
                let mut t = Tokens {
                    ids: Vec::new(),
                    types: Vec::new(),
                    mask: Vec::new(),
                    start: vec![0],
                };
                for p in w.clone() {
                    let loc = files[p].loc(&spec.columns[c]);
                    let strings =
                        StrCol::new(arrays[p][c].as_ref()).ok_or_else(|| loc.err(0, "not text"))?;
                    for r in 0..files[p].rows {
                        let enc = super::tokenize::encode_row(&tok, &strings, &loc, r, "bert_hf")?;
                        t.ids.extend_from_slice(enc.get_ids());
                        t.types.extend_from_slice(enc.get_type_ids());
                        t.mask.extend_from_slice(enc.get_attention_mask());
                        t.start.push(t.ids.len());
                    }
                }
                Ok(t)
            })
            .collect()
    };

    std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<Tokens>>>(1);
        let windows = &windows;
        let tokenize_window = &tokenize_window;
        s.spawn(move || {
            for w in windows {
                let r = tokenize_window(w);
                let failed = r.is_err();
                if tx.send(r).is_err() || failed {
                    break;
                }
            }
        });
        let mut row0 = 0usize;
        for w in windows {
            let n: usize = rows[w.clone()].iter().sum();
            let toks = rx.recv().map_err(|_| {
                Error::Other("bert_hf: the tokenizing thread stopped unexpectedly".into())
            })??;
            let mut emb = vec![0f32; n * width];
            if !ctx.lm.dry_run {
                for (c, t) in toks.iter().enumerate() {
                    embed_column(&encoder, t, n, pad_id, pad_left, opts, |r, v| {
                        emb[r * width + c * hidden..r * width + (c + 1) * hidden].copy_from_slice(v)
                    })
                    .map_err(|e| {
                        torch_err(
                            &format!("running the model on {device:?} ({})", spec.json_path),
                            e,
                        )
                    })?;
                }
            }
            out.write(row0 * width, &emb)?;
            row0 += n;
            if let Some(bar) = ctx.progress {
                bar.inc(n as u64);
            }
        }
        debug_assert_eq!(row0, total);
        Ok(())
    })?;
    log::debug!(
        "{}: {} texts × {ncols} column(s) embedded in {:.2} s",
        spec.json_path,
        total,
        started.elapsed().as_secs_f64()
    );
    Ok((out.into_tensor(vec![total, width])?, vec![width]))
}

/// Embeds the `n` rows of one column's window, sorted by length into batches; `put(r, v)`
/// receives row r's `pooler_output`. On the CPU the batches run in parallel on the ambient
/// rayon pool, each single-threaded in libtorch (so the bytes do not depend on the thread
/// count); on a GPU one after another.
fn embed_column(
    enc: &Encoder,
    t: &Tokens,
    n: usize,
    pad_id: u32,
    pad_left: bool,
    opts: &Options,
    mut put: impl FnMut(usize, &[f32]),
) -> Tch<()> {
    use rayon::prelude::*;
    let hidden = enc.conf.hidden_size;
    let cpu = enc.device == Device::Cpu;
    let budget = if cpu { BATCH_TOKENS_CPU } else { BATCH_TOKENS };
    let padded = |r: usize| if pad_left { opts.max_len } else { t.len(r) };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&r| t.len(r));
    // Sorted ascending: a batch's last row is its longest.
    let mut batches: Vec<&[usize]> = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && j - i < opts.batch_rows && (j - i + 1) * padded(order[j]) <= budget {
            j += 1;
        }
        batches.push(&order[i..j]);
        i = j;
    }
    let shared = SharedEncoder(enc);
    let run = |batch: &[usize]| -> Tch<Vec<f32>> {
        let enc = shared.get();
        let l = padded(batch[batch.len() - 1]);
        let b = batch.len();
        let mut ids = vec![i64::from(pad_id); b * l];
        let mut types = vec![0i64; b * l];
        let mut mask = vec![false; b * l];
        for (k, &r) in batch.iter().enumerate() {
            for (x, p) in (t.start[r]..t.start[r + 1]).enumerate() {
                ids[k * l + x] = i64::from(t.ids[p]);
                types[k * l + x] = i64::from(t.types[p]);
                mask[k * l + x] = t.mask[p] != 0;
            }
        }
        let pooled = enc
            .pooled(&ids, &types, &mask, b, l)?
            .f_to_device(Device::Cpu)?
            .f_contiguous()?;
        Vec::<f32>::try_from(pooled.f_view([-1])?)
    };
    let results: Vec<Vec<f32>> = if cpu {
        batches
            .par_iter()
            .map(|b| {
                tch::set_num_threads(1);
                run(b)
            })
            .collect::<Tch<_>>()?
    } else {
        batches.iter().map(|b| run(b)).collect::<Tch<_>>()?
    };
    for (batch, v) in batches.iter().zip(&results) {
        for (k, &r) in batch.iter().enumerate() {
            put(r, &v[k * hidden..(k + 1) * hidden]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use arrow::array::StringArray;
    use serde_json::Value;

    use super::*;
    use crate::config::plan::Transform;
    use crate::features::{compute_feature, FeatureCtx, FeatureOutput, FileColumns};

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn model(name: &str) -> HfModel {
        crate::config::model_in(&fixture(name)).unwrap()
    }

    /// `pooler_reference.json`: the sentences and, per max_seq_length, Hugging Face's rows.
    /// Hugging Face's rows per max_seq_length.
    type Rows = Vec<(usize, Vec<Vec<f32>>)>;

    fn reference(name: &str) -> (Vec<String>, Rows) {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(name).join("pooler_reference.json")).unwrap(),
        )
        .unwrap();
        let sentences = v["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        let mut by_len: Rows = v["pooler_output"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(l, rows)| {
                let rows = rows
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        r.as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_f64().unwrap() as f32)
                            .collect()
                    })
                    .collect();
                (l.parse().unwrap(), rows)
            })
            .collect();
        by_len.sort_by_key(|(l, _)| *l);
        (sentences, by_len)
    }

    fn spec(
        m: HfModel,
        columns: &[&str],
        max_len: usize,
        batch: usize,
        dtype: Option<DType>,
    ) -> FeatureSpec {
        FeatureSpec {
            json_path: "nodes[0].features[0]".into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            name: "emb".into(),
            out_dtype: dtype,
            transform: Transform::BertHf {
                bert_model: "tiny".into(),
                max_seq_length: max_len,
                infer_batch_size: batch,
                model: m,
            },
            feature_dim: None,
        }
    }

    fn run(spec: &FeatureSpec, files: Vec<Vec<ArrayRef>>, dry_run: bool) -> Result<FeatureOutput> {
        let paths: Vec<PathBuf> = (0..files.len())
            .map(|i| PathBuf::from(format!("f{i}.csv")))
            .collect();
        let files: Vec<FileColumns<'_>> = files
            .into_iter()
            .zip(&paths)
            .map(|(columns, p)| FileColumns { path: p, columns })
            .collect();
        let ctx = FeatureCtx {
            validate: true,
            dst_ids: None,
            store: None,
            lm: super::super::LmOptions {
                device: crate::train::device::DevicePref::Cpu,
                dry_run,
            },
            progress: None,
        };
        compute_feature(spec, &files, &ctx)
    }

    fn texts(v: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn rows(t: &Tensor) -> Vec<Vec<f32>> {
        t.as_slice::<f32>()
            .unwrap()
            .chunks(t.shape[1])
            .map(<[f32]>::to_vec)
            .collect()
    }

    #[track_caller]
    fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: width");
        let worst = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst <= tol, "{what}: max |diff| {worst} > {tol}");
    }

    /// Every fixture (BERT safetensors, BERT pytorch_model.bin, RoBERTa), every max_seq_length
    /// of the reference (truncation at 6), batch sizes that cut the sorted rows anywhere, in
    /// files and slices that cross windows: Hugging Face's pooler_output to 1e-5.
    #[test]
    fn matches_hugging_face_pooler_output() {
        for name in ["tiny-bert", "tiny-bert-bin", "tiny-roberta"] {
            let m = model(name);
            let (sentences, refs) = reference(name);
            let s: Vec<&str> = sentences.iter().map(String::as_str).collect();
            // Two files: the sentences, then the sentences reversed.
            let mut second = s.clone();
            second.reverse();
            for (len, want) in &refs {
                for batch in [1, 3, 1024] {
                    let sp = spec(m.clone(), &["t"], *len, batch, None);
                    let out = run(&sp, vec![vec![texts(&s)], vec![texts(&second)]], false).unwrap();
                    assert_eq!(out.feature_dim, vec![48]);
                    let t = &out.tensors[0].tensor;
                    assert_eq!(
                        (t.dtype, t.shape.clone()),
                        (DType::F32, vec![2 * s.len(), 48])
                    );
                    let got = rows(t);
                    for (i, w) in want.iter().enumerate() {
                        let what = format!("{name} L={len} batch={batch} row {i} {:?}", s[i]);
                        assert_close(&got[i], w, 1e-5, &what);
                        assert_close(&got[2 * s.len() - 1 - i], w, 1e-5, &what);
                    }
                }
            }
        }
    }

    #[test]
    fn columns_side_by_side_dtypes_and_dry_run() {
        let m = model("tiny-bert");
        let (sentences, refs) = reference("tiny-bert");
        let s: Vec<&str> = sentences.iter().map(String::as_str).collect();
        let mut rev = s.clone();
        rev.reverse();
        let want = &refs.iter().find(|(l, _)| *l == 16).unwrap().1;
        let sp = spec(m.clone(), &["a", "b"], 16, 4, None);
        let out = run(&sp, vec![vec![texts(&s), texts(&rev)]], false).unwrap();
        assert_eq!(out.feature_dim, vec![96]);
        let got = rows(&out.tensors[0].tensor);
        for i in 0..s.len() {
            assert_close(&got[i][..48], &want[i], 1e-5, "column a");
            assert_close(&got[i][48..], &want[s.len() - 1 - i], 1e-5, "column b");
        }
        // float16 and float64 are the float32 result rounded once.
        let f32s = rows(
            &run(
                &spec(m.clone(), &["t"], 16, 4, None),
                vec![vec![texts(&s)]],
                false,
            )
            .unwrap()
            .tensors[0]
                .tensor,
        );
        for (dt, check) in [
            (
                DType::F16,
                Box::new(|t: &Tensor, r: &[Vec<f32>]| {
                    let v = t.as_slice::<half::f16>().unwrap();
                    for (i, x) in r.concat().iter().enumerate() {
                        assert_eq!(v[i], half::f16::from_f32(*x));
                    }
                }) as Box<dyn Fn(&Tensor, &[Vec<f32>])>,
            ),
            (
                DType::F64,
                Box::new(|t: &Tensor, r: &[Vec<f32>]| {
                    let v = t.as_slice::<f64>().unwrap();
                    for (i, x) in r.concat().iter().enumerate() {
                        assert_eq!(v[i], f64::from(*x));
                    }
                }),
            ),
        ] {
            let out = run(
                &spec(m.clone(), &["t"], 16, 4, Some(dt)),
                vec![vec![texts(&s)]],
                false,
            )
            .unwrap();
            assert_eq!(out.tensors[0].tensor.dtype, dt);
            check(&out.tensors[0].tensor, &f32s);
        }
        // The dry run checks the input, and writes zeros of the real shape.
        let out = run(&spec(m, &["t"], 16, 4, None), vec![vec![texts(&s)]], true).unwrap();
        let t = &out.tensors[0].tensor;
        assert_eq!(t.shape, vec![s.len(), 48]);
        assert!(t.as_slice::<f32>().unwrap().iter().all(|&x| x == 0.0));
    }

    #[test]
    fn missing_values_and_non_text_are_errors_naming_the_row() {
        let m = model("tiny-bert");
        let sp = spec(m, &["t"], 8, 2, None);
        let col: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
        let e = run(&sp, vec![vec![texts(&["x"; 9])], vec![col]], false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f1.csv") && e.contains("row 2") && e.contains("missing value"),
            "{e}"
        );
        let ints: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![1, 2]));
        let e = run(&sp, vec![vec![ints]], false).unwrap_err().to_string();
        assert!(e.contains("needs a text column"), "{e}");
    }

    /// Same input, other thread counts: the same bytes.
    #[test]
    fn thread_count_does_not_change_the_bytes() {
        let m = model("tiny-bert");
        let (sentences, _) = reference("tiny-bert");
        let s: Vec<&str> = sentences.iter().map(String::as_str).collect();
        let sp = spec(m, &["t"], 40, 3, None);
        let at = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| run(&sp, vec![vec![texts(&s)]], false).unwrap())
                .tensors[0]
                .tensor
                .bytes()
                .to_vec()
        };
        assert_eq!(at(1), at(2));
    }

    #[test]
    fn checkpoint_names_are_normalized_like_auto_model() {
        assert_eq!(
            normalize_name("bert.encoder.layer.0.attention.output.LayerNorm.gamma"),
            "encoder.layer.0.attention.output.LayerNorm.weight"
        );
        assert_eq!(
            normalize_name("roberta.embeddings.LayerNorm.beta"),
            "embeddings.LayerNorm.bias"
        );
        assert_eq!(normalize_name("pooler.dense.weight"), "pooler.dense.weight");
    }

    #[test]
    fn a_checkpoint_without_pooler_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let src = fixture("tiny-bert");
        for f in ["config.json", "tokenizer.json"] {
            std::fs::copy(src.join(f), d.path().join(f)).unwrap();
        }
        let named = tch::Tensor::read_safetensors(src.join("model.safetensors")).unwrap();
        let kept: Vec<(String, tch::Tensor)> = named
            .into_iter()
            .filter(|(n, _)| !n.starts_with("pooler."))
            .collect();
        tch::Tensor::write_safetensors(&kept, d.path().join("model.safetensors")).unwrap();
        let mut m = model("tiny-bert");
        m.weights = vec![d.path().join("model.safetensors")];
        let e = Encoder::load(&m, Device::Cpu).err().unwrap().to_string();
        assert!(
            e.contains("no tensor pooler.dense.weight") && e.contains("randomly"),
            "{e}"
        );
    }
}
