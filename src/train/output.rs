//! Embeddings and predictions of a run in GraphStorm's layout (spec/training.md §4.2–4.3),
//! through [`crate::format::results`], with construction IDs in the `*_nids` files.

use std::path::Path;

use tch::Tensor;

use super::config::TrainConfig;
use super::run::{prediction_values, Data, Inputs};
use crate::error::{Error, Result};
use crate::format::results;

/// Writes `path` as pretty JSON (temp file + rename).
pub fn write_json(path: &Path, doc: &serde_json::Value) -> Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
        }
    }
    let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    let text = serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    std::fs::write(&tmp, text).map_err(|e| Error::write(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::write(path, e))
}

/// Writes an output folder's files into a staging folder beside `dir` and then renames each
/// file into `dir` (creating subfolders): a killed run leaves no half-written file where a
/// finished one is expected, and files of `dir` that the run does not write stay untouched.
fn staged(dir: &Path, body: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    let stage = dir.join(format!(".graphprep-tmp-{}", std::process::id()));
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| Error::write(&stage, e))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| Error::write(&stage, e))?;
    let result = body(&stage).and_then(|()| move_into(&stage, dir));
    let _ = std::fs::remove_dir_all(&stage);
    result
}

fn move_into(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).map_err(|e| Error::write(from, e))? {
        let entry = entry.map_err(|e| Error::write(from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if src.is_dir() {
            std::fs::create_dir_all(&dst).map_err(|e| Error::write(&dst, e))?;
            move_into(&src, &dst)?;
        } else {
            std::fs::rename(&src, &dst).map_err(|e| Error::write(&dst, e))?;
        }
    }
    Ok(())
}

/// Construction IDs of the per-type shuffled IDs `ids` of ntype `t`.
fn construction_ids(data: &Inputs, t: usize, ids: &[i64]) -> Result<Vec<i64>> {
    let map = data.g.construction_ids(t)?;
    Ok(ids.iter().map(|&i| map[i as usize]).collect())
}

/// Saves embeddings `(ntype, rows (n, d), shuffled IDs)` under `dir` (GraphStorm's
/// `emb_info.json` + `<ntype>/embed-00000.pt` + `embed_nids-00000.pt`).
pub(crate) fn save_embeddings(
    dir: &Path,
    data: &Inputs,
    embs: &[(usize, &Tensor, &[i64])],
) -> Result<()> {
    staged(dir, |dir| {
        let mut names = Vec::new();
        let mut dims = Vec::new();
        for (t, h, ids) in embs {
            let h = h.to_device(tch::Device::Cpu).contiguous();
            let rows = h.size()[0] as usize;
            let dim = h.size().get(1).copied().unwrap_or(1) as usize;
            let values = Vec::<f32>::try_from(h.flatten(0, -1))
                .map_err(|e| Error::Other(format!("embeddings: {e}")))?;
            let nids = construction_ids(data, *t, ids)?;
            let name = &data.g.ntypes()[*t];
            results::save_embeddings(dir, name, 0, &values, rows, dim, &nids)?;
            names.push(name.clone());
            dims.push(dim);
        }
        results::write_emb_info(dir, &names, &dims)
    })
}

/// Saves predictions of the target ntype under `dir` (`result_info.json` +
/// `<ntype>/predict-00000.pt` + `predict_nids-00000.pt`).
pub(crate) fn save_predictions(
    dir: &Path,
    data: &Data,
    plan: &TrainConfig,
    out: &Tensor,
    ids: &[i64],
) -> Result<()> {
    staged(dir, |dir| {
        let pred = prediction_values(plan, out);
        let nids = construction_ids(data, data.target, ids)?;
        let name = &data.g.ntypes()[data.target];
        results::save_predictions(dir, name, 0, &pred, &nids)?;
        results::write_result_info_nodes(dir, std::slice::from_ref(name))
    })
}

/// Saves edge predictions of edge type `etype` under `dir` (`result_info.json` +
/// `<s>_<r>_<d>/predict-00000.pt` + `src_nids-00000.pt` + `dst_nids-00000.pt`, construction
/// node IDs).
pub(crate) fn save_edge_predictions(
    dir: &Path,
    etype: &(String, String, String),
    pred: &results::Pred,
    src_nids: &[i64],
    dst_nids: &[i64],
) -> Result<()> {
    staged(dir, |dir| {
        results::save_edge_predictions(dir, etype, 0, pred, src_nids, dst_nids)?;
        results::write_result_info_edges(dir, std::slice::from_ref(etype))
    })
}
