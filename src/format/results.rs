//! GraphStorm's embedding and prediction layouts (spec `training.md` §4.2–4.3), written by
//! `graphprep train`/`infer` and read by `graphprep remap`:
//!
//! ```text
//! <save_embed_path>/emb_info.json              {"format", "emb_name", "world_size", "emb_dim"}
//! <save_embed_path>/<ntype>/embed-00000.pt      float32 (n, d)
//! <save_embed_path>/<ntype>/embed_nids-00000.pt int64 (n,) construction IDs
//! <save_prediction_path>/result_info.json       {"format", "world_size", "ntypes" | "etypes"}
//! <save_prediction_path>/<ntype>/predict-00000.pt       float32 (n, C) or int64 (n,)
//! <save_prediction_path>/<ntype>/predict_nids-00000.pt  int64 (n,)
//! <save_prediction_path>/<s>_<r>_<d>/predict-00000.pt, src_nids-00000.pt, dst_nids-00000.pt
//! ```
//! JSON files are `json.dump(obj, indent=4)` byte for byte (no trailing newline); `.pt` files
//! are bare tensors ([`super::pt`]). The 5-digit suffix is the trainer rank.
//!
//! # Memory
//! Writers stream from the caller's slices; readers copy one file's values.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::array::ArraySource;
use super::partition_json::save_python_json;
use super::pt::{load_pt, save_pt, PtContent, PtObject};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// Node predictions of one ntype (spec §4.3).
#[derive(Clone, Debug, PartialEq)]
pub enum Pred {
    /// float32 (rows, cols): class probabilities (`return_proba`), or regression values with
    /// `cols == 1`.
    Proba {
        data: Vec<f32>,
        rows: usize,
        cols: usize,
    },
    /// int64 (rows,): argmax class IDs (`return_proba: false`).
    Class(Vec<i64>),
}

impl Pred {
    pub fn rows(&self) -> usize {
        match self {
            Pred::Proba { rows, .. } => *rows,
            Pred::Class(v) => v.len(),
        }
    }
}

/// One ntype's embeddings as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    /// Row-major (rows, dim).
    pub data: Vec<f32>,
    pub rows: usize,
    pub dim: usize,
    /// Construction ID of each row.
    pub nids: Vec<i64>,
}

/// `emb_info.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbInfo {
    pub format: String,
    pub emb_name: Vec<String>,
    pub world_size: usize,
    /// `(ntype, dim)` in file order.
    pub emb_dim: Vec<(String, usize)>,
}

/// `result_info.json` (node tasks carry `ntypes`, edge tasks `etypes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultInfo {
    pub format: String,
    pub world_size: usize,
    pub ntypes: Vec<String>,
    pub etypes: Vec<(String, String, String)>,
}

/// The 5-digit rank suffix (`pad_file_index`).
pub fn rank_suffix(rank: usize) -> String {
    format!("{rank:05}")
}

/// The folder of an edge type's predictions: `<src>_<rel>_<dst>`.
pub fn etype_dir_name(et: &(String, String, String)) -> String {
    format!("{}_{}_{}", et.0, et.1, et.2)
}

fn mkdir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))
}

/// Writes `<dir>/emb_info.json` for `ntypes` with embedding sizes `dims` (world size 1).
pub fn write_emb_info(dir: &Path, ntypes: &[String], dims: &[usize]) -> Result<()> {
    assert_eq!(ntypes.len(), dims.len(), "one dim per ntype");
    mkdir(dir)?;
    let mut emb_dim = Map::new();
    for (t, d) in ntypes.iter().zip(dims) {
        emb_dim.insert(t.clone(), json!(d));
    }
    let v = json!({
        "format": "pytorch",
        "emb_name": ntypes,
        "world_size": 1,
        "emb_dim": Value::Object(emb_dim),
    });
    save_python_json(&dir.join("emb_info.json"), &v)
}

/// Writes `<dir>/result_info.json` for node predictions of `ntypes` (world size 1).
pub fn write_result_info_nodes(dir: &Path, ntypes: &[String]) -> Result<()> {
    mkdir(dir)?;
    let v = json!({"format": "pytorch", "world_size": 1, "ntypes": ntypes});
    save_python_json(&dir.join("result_info.json"), &v)
}

/// Writes `<dir>/result_info.json` for edge predictions of `etypes` (world size 1).
pub fn write_result_info_edges(dir: &Path, etypes: &[(String, String, String)]) -> Result<()> {
    mkdir(dir)?;
    let ets: Vec<Value> = etypes.iter().map(|e| json!([e.0, e.1, e.2])).collect();
    let v = json!({"format": "pytorch", "world_size": 1, "etypes": ets});
    save_python_json(&dir.join("result_info.json"), &v)
}

fn save_f32(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    assert_eq!(data.len(), rows * cols, "data holds rows x cols values");
    let mut src = ArraySource::slice(data);
    src.shape = vec![rows, cols];
    save_pt(path, &PtObject::Tensor(src))
}

fn save_i64(path: &Path, data: &[i64]) -> Result<()> {
    save_pt(path, &PtObject::Tensor(ArraySource::slice(data)))
}

/// Writes `<dir>/<ntype>/embed-<rank>.pt` (float32 (rows, dim), row-major `data`) and
/// `embed_nids-<rank>.pt` (int64 `nids`, one per row).
pub fn save_embeddings(
    dir: &Path,
    ntype: &str,
    rank: usize,
    data: &[f32],
    rows: usize,
    dim: usize,
    nids: &[i64],
) -> Result<()> {
    assert_eq!(nids.len(), rows, "one nid per row");
    let d = dir.join(ntype);
    mkdir(&d)?;
    let r = rank_suffix(rank);
    save_f32(&d.join(format!("embed-{r}.pt")), data, rows, dim)?;
    save_i64(&d.join(format!("embed_nids-{r}.pt")), nids)
}

fn save_pred_file(path: &Path, pred: &Pred) -> Result<()> {
    match pred {
        Pred::Proba { data, rows, cols } => save_f32(path, data, *rows, *cols),
        Pred::Class(v) => save_i64(path, v),
    }
}

/// Writes `<dir>/<ntype>/predict-<rank>.pt` and `predict_nids-<rank>.pt`.
pub fn save_predictions(
    dir: &Path,
    ntype: &str,
    rank: usize,
    pred: &Pred,
    nids: &[i64],
) -> Result<()> {
    assert_eq!(nids.len(), pred.rows(), "one nid per row");
    let d = dir.join(ntype);
    mkdir(&d)?;
    let r = rank_suffix(rank);
    save_pred_file(&d.join(format!("predict-{r}.pt")), pred)?;
    save_i64(&d.join(format!("predict_nids-{r}.pt")), nids)
}

/// Writes `<dir>/<s>_<r>_<d>/predict-<rank>.pt`, `src_nids-<rank>.pt`, `dst_nids-<rank>.pt`.
pub fn save_edge_predictions(
    dir: &Path,
    etype: &(String, String, String),
    rank: usize,
    pred: &Pred,
    src_nids: &[i64],
    dst_nids: &[i64],
) -> Result<()> {
    assert_eq!(src_nids.len(), pred.rows(), "one src nid per row");
    assert_eq!(dst_nids.len(), pred.rows(), "one dst nid per row");
    let d = dir.join(etype_dir_name(etype));
    mkdir(&d)?;
    let r = rank_suffix(rank);
    save_pred_file(&d.join(format!("predict-{r}.pt")), pred)?;
    save_i64(&d.join(format!("src_nids-{r}.pt")), src_nids)?;
    save_i64(&d.join(format!("dst_nids-{r}.pt")), dst_nids)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| Error::input(path, format!("invalid JSON: {e}")))
}

fn strings(v: &Value, path: &Path, key: &str) -> Result<Vec<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    Error::input(path, format!("\"{key}\" must be a list of strings"))
                })
            })
            .collect(),
        Some(_) => Err(Error::input(path, format!("\"{key}\" must be a list"))),
    }
}

fn usize_of(v: &Value, path: &Path, key: &str) -> Result<usize> {
    v.get(key)
        .and_then(Value::as_u64)
        .map(|x| x as usize)
        .ok_or_else(|| Error::input(path, format!("\"{key}\" must be a non-negative integer")))
}

/// Reads `<dir>/emb_info.json`.
pub fn read_emb_info(dir: &Path) -> Result<EmbInfo> {
    let path = dir.join("emb_info.json");
    let v = read_json(&path)?;
    let mut emb_dim = Vec::new();
    if let Some(m) = v.get("emb_dim").and_then(Value::as_object) {
        for (k, d) in m {
            let d = d.as_u64().ok_or_else(|| {
                Error::input(&path, format!("\"emb_dim\".\"{k}\" must be an integer"))
            })?;
            emb_dim.push((k.clone(), d as usize));
        }
    }
    Ok(EmbInfo {
        format: v
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("pytorch")
            .to_string(),
        emb_name: strings(&v, &path, "emb_name")?,
        world_size: usize_of(&v, &path, "world_size")?,
        emb_dim,
    })
}

/// Reads `<dir>/result_info.json`.
pub fn read_result_info(dir: &Path) -> Result<ResultInfo> {
    let path = dir.join("result_info.json");
    let v = read_json(&path)?;
    let mut etypes = Vec::new();
    if let Some(a) = v.get("etypes").and_then(Value::as_array) {
        for e in a {
            match e
                .as_array()
                .map(|x| x.iter().map(Value::as_str).collect::<Vec<_>>())
            {
                Some(x) if x.len() == 3 && x.iter().all(Option::is_some) => etypes.push((
                    x[0].unwrap_or_default().to_string(),
                    x[1].unwrap_or_default().to_string(),
                    x[2].unwrap_or_default().to_string(),
                )),
                _ => {
                    return Err(Error::input(
                        &path,
                        "\"etypes\" entries must be [src, rel, dst] lists",
                    ))
                }
            }
        }
    }
    Ok(ResultInfo {
        format: v
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("pytorch")
            .to_string(),
        world_size: usize_of(&v, &path, "world_size")?,
        ntypes: strings(&v, &path, "ntypes")?,
        etypes,
    })
}

/// Loads a `.pt` file holding a bare tensor.
pub fn load_tensor(path: &Path) -> Result<Tensor> {
    match load_pt(path)? {
        PtContent::Tensor(t) => Ok(t),
        PtContent::Dict(_) => Err(Error::input(
            path,
            "holds a dict; expected a bare tensor (GraphStorm's embedding/prediction layout)",
        )),
    }
}

/// The values of an int64 (n,) ID file.
pub fn load_nids(path: &Path) -> Result<Vec<i64>> {
    let t = load_tensor(path)?;
    if t.shape.len() != 1 {
        return Err(Error::input(
            path,
            format!("ID tensor has shape {:?}, expected (n,)", t.shape),
        ));
    }
    match t.dtype {
        DType::I64 => Ok(t
            .values::<i64>()
            .map(|v| v.into_owned())
            .unwrap_or_default()),
        DType::I32 => Ok(t
            .values::<i32>()
            .map(|v| v.iter().map(|&x| x as i64).collect())
            .unwrap_or_default()),
        d => Err(Error::input(
            path,
            format!("ID tensor has dtype {}, expected int64", d.name()),
        )),
    }
}

/// A float (rows, cols) tensor as f32 values; 1-D tensors are (n, 1).
pub fn load_f32_matrix(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let t = load_tensor(path)?;
    let (rows, cols) = match t.shape.as_slice() {
        [n] => (*n, 1),
        [n, d] => (*n, *d),
        s => {
            return Err(Error::input(
                path,
                format!("tensor has shape {s:?}, expected (n, d)"),
            ))
        }
    };
    let data: Vec<f32> = match t.dtype {
        DType::F32 => t
            .values::<f32>()
            .map(|v| v.into_owned())
            .unwrap_or_default(),
        DType::F64 => t
            .values::<f64>()
            .map(|v| v.iter().map(|&x| x as f32).collect())
            .unwrap_or_default(),
        DType::F16 => t
            .values::<half::f16>()
            .map(|v| v.iter().map(|x| x.to_f32()).collect())
            .unwrap_or_default(),
        d => {
            return Err(Error::input(
                path,
                format!("tensor has dtype {}, expected float32", d.name()),
            ))
        }
    };
    Ok((data, rows, cols))
}

/// A prediction file: float → [`Pred::Proba`], integer (n,) → [`Pred::Class`].
pub fn load_pred_file(path: &Path) -> Result<Pred> {
    let t = load_tensor(path)?;
    if t.dtype.is_float() {
        drop(t);
        let (data, rows, cols) = load_f32_matrix(path)?;
        return Ok(Pred::Proba { data, rows, cols });
    }
    if t.shape.len() == 2 && t.shape[1] == 1 {
        // (n, 1) integer predictions: read as (n,).
        let v: Vec<i64> = match t.dtype {
            DType::I64 => t
                .values::<i64>()
                .map(|v| v.into_owned())
                .unwrap_or_default(),
            DType::I32 => t
                .values::<i32>()
                .map(|v| v.iter().map(|&x| x as i64).collect())
                .unwrap_or_default(),
            d => {
                return Err(Error::input(
                    path,
                    format!("prediction tensor has dtype {}", d.name()),
                ))
            }
        };
        return Ok(Pred::Class(v));
    }
    drop(t);
    Ok(Pred::Class(load_nids(path)?))
}

fn check_rows(path: &Path, rows: usize, nids: usize) -> Result<()> {
    if rows != nids {
        return Err(Error::input(
            path,
            format!("{rows} rows but {nids} IDs in the matching *nids* file"),
        ));
    }
    Ok(())
}

/// Reads `<dir>/<ntype>/embed-<rank>.pt` and `embed_nids-<rank>.pt`.
pub fn load_embeddings(dir: &Path, ntype: &str, rank: usize) -> Result<Embeddings> {
    let r = rank_suffix(rank);
    let p: PathBuf = dir.join(ntype).join(format!("embed-{r}.pt"));
    let (data, rows, dim) = load_f32_matrix(&p)?;
    let nids = load_nids(&dir.join(ntype).join(format!("embed_nids-{r}.pt")))?;
    check_rows(&p, rows, nids.len())?;
    Ok(Embeddings {
        data,
        rows,
        dim,
        nids,
    })
}

/// Reads `<dir>/<ntype>/predict-<rank>.pt` and `predict_nids-<rank>.pt`.
pub fn load_predictions(dir: &Path, ntype: &str, rank: usize) -> Result<(Pred, Vec<i64>)> {
    let r = rank_suffix(rank);
    let p = dir.join(ntype).join(format!("predict-{r}.pt"));
    let pred = load_pred_file(&p)?;
    let nids = load_nids(&dir.join(ntype).join(format!("predict_nids-{r}.pt")))?;
    check_rows(&p, pred.rows(), nids.len())?;
    Ok((pred, nids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emb_info_bytes_match_graphstorm() {
        let d = tempfile::tempdir().unwrap();
        write_emb_info(d.path(), &["paper".into()], &[64]).unwrap();
        let got = std::fs::read_to_string(d.path().join("emb_info.json")).unwrap();
        let want = "{\n    \"format\": \"pytorch\",\n    \"emb_name\": [\n        \"paper\"\n    ],\n    \"world_size\": 1,\n    \"emb_dim\": {\n        \"paper\": 64\n    }\n}";
        assert_eq!(got, want);
        let info = read_emb_info(d.path()).unwrap();
        assert_eq!(info.emb_dim, vec![("paper".to_string(), 64)]);
    }

    #[test]
    fn predictions_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = Pred::Proba {
            data: vec![0.25, 0.75, 1.0, 0.0],
            rows: 2,
            cols: 2,
        };
        save_predictions(d.path(), "paper", 0, &p, &[5, 3]).unwrap();
        assert_eq!(
            load_predictions(d.path(), "paper", 0).unwrap(),
            (p, vec![5, 3])
        );
        let c = Pred::Class(vec![1, 0, 2]);
        save_predictions(d.path(), "a", 0, &c, &[0, 1, 2]).unwrap();
        assert_eq!(load_predictions(d.path(), "a", 0).unwrap().0, c);
    }

    #[test]
    fn result_info_bytes_match_graphstorm() {
        let d = tempfile::tempdir().unwrap();
        write_result_info_nodes(d.path(), &["paper".into()]).unwrap();
        let got = std::fs::read_to_string(d.path().join("result_info.json")).unwrap();
        let want = "{\n    \"format\": \"pytorch\",\n    \"world_size\": 1,\n    \"ntypes\": [\n        \"paper\"\n    ]\n}";
        assert_eq!(got, want);
        let et = ("user".to_string(), "buys".to_string(), "item".to_string());
        write_result_info_edges(d.path(), std::slice::from_ref(&et)).unwrap();
        let got = std::fs::read_to_string(d.path().join("result_info.json")).unwrap();
        let want = "{\n    \"format\": \"pytorch\",\n    \"world_size\": 1,\n    \"etypes\": [\n        [\n            \"user\",\n            \"buys\",\n            \"item\"\n        ]\n    ]\n}";
        assert_eq!(got, want);
        let info = read_result_info(d.path()).unwrap();
        assert_eq!(info.etypes, vec![et]);
        assert!(info.ntypes.is_empty());
    }

    #[test]
    fn embeddings_are_bare_float32_and_int64_tensors() {
        let d = tempfile::tempdir().unwrap();
        let data: Vec<f32> = (0..6).map(|x| x as f32 * 0.5).collect();
        save_embeddings(d.path(), "paper", 0, &data, 3, 2, &[2, 0, 1]).unwrap();
        let PtContent::Tensor(t) = load_pt(&d.path().join("paper/embed-00000.pt")).unwrap() else {
            panic!("not a bare tensor")
        };
        assert_eq!((t.dtype, t.shape.clone()), (DType::F32, vec![3, 2]));
        assert_eq!(t.values::<f32>().unwrap().as_ref(), data.as_slice());
        let PtContent::Tensor(t) = load_pt(&d.path().join("paper/embed_nids-00000.pt")).unwrap()
        else {
            panic!("not a bare tensor")
        };
        assert_eq!((t.dtype, t.shape.clone()), (DType::I64, vec![3]));
        let e = load_embeddings(d.path(), "paper", 0).unwrap();
        assert_eq!((e.rows, e.dim, e.nids), (3, 2, vec![2, 0, 1]));
        assert_eq!(e.data, data);
        // Rows and IDs that disagree are an error naming the file.
        save_i64(&d.path().join("paper/embed_nids-00000.pt"), &[1]).unwrap();
        let err = load_embeddings(d.path(), "paper", 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("embed-00000.pt") && err.contains("3 rows but 1 IDs"),
            "{err}"
        );
    }
}
