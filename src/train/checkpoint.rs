//! Checkpoints in `save_model_path` (spec/training.md §4.1, §9.4): per epoch a folder
//! `epoch-<e>` (or `epoch-<e>-iter-<i>`) with `model.safetensors` (dense parameters, buffers and
//! the learnable embedding tables), `optimizer.safetensors` (dense Adam moments and step, and the
//! sparse-Adam row states GraphStorm never saves), `graphprep_model.json` (architecture and the
//! graph it was trained on, checked on restore) and GraphStorm's own
//! `<ntype>/sparse_emb_00000.pt` files. Every folder is written under a temporary name and
//! renamed into place, so a killed run never leaves a half checkpoint.

use std::fs;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::graph::TrainGraph;
use super::model::Model;
use super::optim::{Adam, SparseAdam};
use crate::error::{Error, Result};
use crate::format::array::ArraySource;
use crate::format::pt::{save_pt, PtObject};

const MODEL_FILE: &str = "model.safetensors";
const OPTIM_FILE: &str = "optimizer.safetensors";
const META_FILE: &str = "graphprep_model.json";
/// Name GraphStorm gives the merged training config in `save_model_path`.
pub const RUNTIME_YAML: &str = "GRAPHSTORM_RUNTIME_UPDATED_TRAINING_CONFIG.yaml";

fn tch_err(path: &Path, e: tch::TchError) -> Error {
    Error::input(path, format!("cannot read/write tensors: {e}"))
}

/// What the architecture and graph of a checkpoint are (compared on restore).
fn meta(model: &Model, epoch: usize, g: Option<&TrainGraph>) -> serde_json::Value {
    let s = &model.spec;
    let etypes: Vec<serde_json::Value> = match g {
        Some(g) => g
            .etypes()
            .iter()
            .map(|e| serde_json::json!([e.name.0, e.name.1, e.name.2]))
            .collect(),
        None => Vec::new(),
    };
    serde_json::json!({
        "format": "graphprep-checkpoint-1",
        "epoch": epoch,
        "encoder": format!("{:?}", s.encoder).to_lowercase(),
        "hidden_size": s.hidden,
        "out_dim": s.out_dim,
        "num_layers": s.num_layers,
        "num_bases": s.num_bases,
        "head": format!("{:?}", s.head),
        "ntypes": s.ntype_names,
        "num_nodes": s.num_nodes,
        "feat_dims": s.feat_dims,
        "etypes": etypes,
        "libtorch": "2.11.0",
        "graphprep": env!("CARGO_PKG_VERSION"),
    })
}

/// A copy of every dense parameter, buffer and embedding table (for "best model" restore).
pub fn snapshot(model: &Model) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = model
        .named_parameters()
        .into_iter()
        .chain(model.named_buffers())
        .map(|(n, t)| (n, t.detach().copy()))
        .collect();
    for e in model.embeddings.iter().flatten() {
        out.push((
            format!(
                "node_embed.sparse_embeds.{}",
                model.spec.ntype_names[e.ntype]
            ),
            e.table.copy(),
        ));
    }
    out
}

/// Overwrites the model's tensors with a [`snapshot`] (or a loaded checkpoint); names not in
/// `state` are an error naming them.
pub fn load_snapshot(model: &mut Model, state: &[(String, Tensor)]) {
    let _ = try_load(model, state, Path::new("(snapshot)"));
}

fn try_load(model: &mut Model, state: &[(String, Tensor)], file: &Path) -> Result<()> {
    let find = |name: &str| state.iter().find(|(n, _)| n == name).map(|(_, t)| t);
    let names = model.spec.ntype_names.clone();
    tch::no_grad(|| -> Result<()> {
        for (name, p) in model.named_parameters_mut() {
            let src = find(&name).ok_or_else(|| {
                Error::input(file, format!("checkpoint has no parameter '{name}'"))
            })?;
            if src.size() != p.size() {
                return Err(Error::input(
                    file,
                    format!(
                        "parameter '{name}' has shape {:?} in the checkpoint, {:?} in this model: the checkpoint is from another model or graph",
                        src.size(),
                        p.size()
                    ),
                ));
            }
            p.copy_(src);
        }
        let buffer_names: Vec<String> = model.named_buffers().into_iter().map(|(n, _)| n).collect();
        for name in buffer_names {
            if let (Some(src), Some(b)) = (find(&name), model.buffer_mut(&name)) {
                b.copy_(src);
            }
        }
        for e in model.embeddings.iter_mut().flatten() {
            let name = format!("node_embed.sparse_embeds.{}", names[e.ntype]);
            let src = find(&name).ok_or_else(|| {
                Error::input(file, format!("checkpoint has no embedding table '{name}'"))
            })?;
            if src.size() != e.table.size() {
                return Err(Error::input(
                    file,
                    format!(
                        "embedding table '{name}' has shape {:?} in the checkpoint, {:?} in this graph: the checkpoint is from another graph",
                        src.size(),
                        e.table.size()
                    ),
                ));
            }
            e.table.copy_(src);
        }
        Ok(())
    })
}

/// Writes one checkpoint folder at `path` (replacing an older one of that name).
pub fn save(
    path: &Path,
    model: &Model,
    adam: &Adam,
    sparse: &[Option<SparseAdam>],
    epoch: usize,
    g: &TrainGraph,
) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "checkpoint".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::write(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| Error::write(&tmp, e))?;
    let cpu = |t: &Tensor| t.detach().to_device(tch::Device::Cpu).contiguous();

    let state: Vec<(String, Tensor)> = snapshot(model)
        .into_iter()
        .map(|(n, t)| (n, cpu(&t)))
        .collect();
    let mp = tmp.join(MODEL_FILE);
    Tensor::write_safetensors(&state, &mp).map_err(|e| tch_err(&mp, e))?;

    let mut opt: Vec<(String, Tensor)> =
        vec![("dense.step".to_string(), Tensor::from_slice(&[adam.step]))];
    for ((n, _), (m, v)) in model.named_parameters().into_iter().zip(&adam.state) {
        opt.push((format!("dense.{n}.exp_avg"), cpu(m)));
        opt.push((format!("dense.{n}.exp_avg_sq"), cpu(v)));
    }
    for (t, s) in sparse.iter().enumerate() {
        if let Some(s) = s {
            let nt = &model.spec.ntype_names[t];
            opt.push((format!("sparse.{nt}.step"), cpu(&s.step)));
            opt.push((format!("sparse.{nt}.mem"), cpu(&s.mem)));
            opt.push((format!("sparse.{nt}.power"), cpu(&s.power)));
        }
    }
    let op = tmp.join(OPTIM_FILE);
    Tensor::write_safetensors(&opt, &op).map_err(|e| tch_err(&op, e))?;

    for e in model.embeddings.iter().flatten() {
        let nt = &model.spec.ntype_names[e.ntype];
        let dir = tmp.join(nt);
        fs::create_dir_all(&dir).map_err(|err| Error::write(&dir, err))?;
        let table = cpu(&e.table);
        let rows = table.size()[0] as usize;
        let cols = table.size()[1] as usize;
        let data = Vec::<f32>::try_from(table.flatten(0, -1)).map_err(|err| tch_err(&dir, err))?;
        let mut a = ArraySource::slice(&data);
        a.shape = vec![rows, cols];
        save_pt(&dir.join("sparse_emb_00000.pt"), &PtObject::Tensor(a))?;
    }
    let meta = meta(model, epoch, Some(g));
    let text = serde_json::to_string_pretty(&meta).unwrap_or_default();
    let jp = tmp.join(META_FILE);
    fs::write(&jp, text).map_err(|e| Error::write(&jp, e))?;

    if path.exists() {
        fs::remove_dir_all(path).map_err(|e| Error::write(path, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| Error::write(path, e))?;
    log::info!("saved checkpoint {}", path.display());
    Ok(())
}

/// What [`restore`] found.
pub struct Restored {
    /// The epoch to continue with (the checkpoint's epoch + 1).
    pub next_epoch: usize,
}

/// Loads the checkpoint folder `dir` into `model` (and the optimizers when given), after
/// checking it was written for the same architecture and graph.
pub fn restore(
    dir: &Path,
    model: &mut Model,
    optim: Option<(&mut Adam, &mut Vec<Option<SparseAdam>>)>,
) -> Result<Restored> {
    let jp = dir.join(META_FILE);
    let text = fs::read_to_string(&jp).map_err(|e| {
        Error::input(
            &jp,
            format!("cannot read ({e}): restore_model_path must be a checkpoint folder written by graphprep train, e.g. <save_model_path>/epoch-4"),
        )
    })?;
    let saved: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(&jp, format!("not valid JSON: {e}")))?;
    let here = meta(model, 0, None);
    for key in [
        "ntypes",
        "num_nodes",
        "feat_dims",
        "encoder",
        "hidden_size",
        "num_layers",
        "head",
    ] {
        if saved.get(key) != here.get(key) {
            return Err(Error::input(
                &jp,
                format!(
                    "the checkpoint was trained with {key} = {}, this run has {}: it comes from another graph or model config",
                    saved.get(key).unwrap_or(&serde_json::Value::Null),
                    here.get(key).unwrap_or(&serde_json::Value::Null)
                ),
            ));
        }
    }
    let epoch = saved.get("epoch").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
    let mp = dir.join(MODEL_FILE);
    let state = Tensor::read_safetensors(&mp).map_err(|e| tch_err(&mp, e))?;
    try_load(model, &state, &mp)?;
    if let Some((adam, sparse)) = optim {
        let op = dir.join(OPTIM_FILE);
        let st = Tensor::read_safetensors(&op).map_err(|e| tch_err(&op, e))?;
        let find = |name: &str| {
            st.iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| Error::input(&op, format!("optimizer state has no '{name}'")))
        };
        adam.step = find("dense.step")?.int64_value(&[0]);
        let names: Vec<String> = model
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        for (n, (m, v)) in names.iter().zip(adam.state.iter_mut()) {
            *m = find(&format!("dense.{n}.exp_avg"))?.to_kind(Kind::Float);
            *v = find(&format!("dense.{n}.exp_avg_sq"))?.to_kind(Kind::Float);
        }
        for (t, s) in sparse.iter_mut().enumerate() {
            if let Some(s) = s {
                let nt = &model.spec.ntype_names[t];
                s.step = find(&format!("sparse.{nt}.step"))?;
                s.mem = find(&format!("sparse.{nt}.mem"))?;
                s.power = find(&format!("sparse.{nt}.power"))?;
            }
        }
    }
    Ok(Restored {
        next_epoch: epoch + 1,
    })
}

/// Writes the run-level files of `save_model_path`: the merged YAML and a copy of the graph's
/// `data_transform_new.json` (when the partition folder has one).
pub fn write_run_files(dir: &Path, part_config: &Path, runtime_yaml: Option<&str>) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    if let Some(y) = runtime_yaml {
        let p = dir.join(RUNTIME_YAML);
        fs::write(&p, y).map_err(|e| Error::write(&p, e))?;
    }
    let graph_dir = if part_config.is_dir() {
        part_config.to_path_buf()
    } else {
        part_config
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let src = graph_dir.join("data_transform_new.json");
    if src.is_file() {
        let dst = dir.join("data_transform_new.json");
        fs::copy(&src, &dst).map_err(|e| Error::write(&dst, e))?;
    }
    Ok(())
}

/// Keeps the `k` best checkpoint folders of `saved` (by validation score; ties: the later one
/// ranks higher) and deletes the others.
pub fn keep_topk(saved: &mut Vec<(f64, PathBuf)>, k: usize, higher_is_better: bool) -> Result<()> {
    if saved.len() <= k {
        return Ok(());
    }
    let mut order: Vec<usize> = (0..saved.len()).collect();
    order.sort_by(|&a, &b| {
        let (sa, sb) = (saved[a].0, saved[b].0);
        let c = if higher_is_better {
            sb.total_cmp(&sa)
        } else {
            sa.total_cmp(&sb)
        };
        c.then(b.cmp(&a))
    });
    let drop: Vec<usize> = order[k..].to_vec();
    for &i in &drop {
        let p = &saved[i].1;
        if p.exists() {
            fs::remove_dir_all(p).map_err(|e| Error::write(p, e))?;
        }
    }
    let mut i = 0;
    saved.retain(|_| {
        let keep = !drop.contains(&i);
        i += 1;
        keep
    });
    Ok(())
}
