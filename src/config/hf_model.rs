//! Resolution of `tokenize_hf`'s `bert_model` into local tokenizer files (no network).
//!
//! What: GraphStorm calls `AutoTokenizer.from_pretrained(bert_model)` and
//! `AutoConfig.from_pretrained(bert_model)`, which download from the Hugging Face hub. graphprep
//! never downloads; `bert_model` must name files that exist on this machine:
//! 1. a path to a `tokenizer.json` file (any file name), or to a folder containing
//!    `tokenizer.json` (what `save_pretrained` of a fast tokenizer writes); relative paths are
//!    looked up next to the config first, then in the working directory;
//! 2. otherwise a hub model name (`bert-base-uncased`, `org/name`) looked up in the local
//!    Hugging Face cache: `<cache>/models--<org>--<name>/snapshots/<rev>/tokenizer.json`, where
//!    `<rev>` is the commit in `refs/main` when present, else the first snapshot (in name order)
//!    that has a `tokenizer.json`. `<cache>` is [`LoadOptions::hf_hub_cache`] (from
//!    `HF_HUB_CACHE`, `HF_HOME/hub`, `XDG_CACHE_HOME/huggingface/hub` or
//!    `~/.cache/huggingface/hub`, as the `huggingface_hub` library does).
//!
//! Next to the tokenizer file, `config.json` gives `hidden_size` (the `feature_dim` GraphStorm
//! writes; also read as `dim`, `d_model` or `n_embd`, the usual aliases) and
//! `tokenizer_config.json` gives `pad_token`, `padding_side` and `truncation_side` (what
//! `AutoTokenizer` reads). Both are optional.
//!
//! `bert_hf` ([`resolve_model`]) resolves `bert_model` the same way, then needs the model
//! next to the tokenizer: `config.json` (a BERT-family `model_type`: `bert`, `roberta`,
//! `xlm-roberta`; other architectures are refused by name) and the weights,
//! `model.safetensors`, else `pytorch_model.bin`, or the shards of a
//! `model.safetensors.index.json` / `pytorch_model.bin.index.json`.
//!
//! Errors name the JSON path of `bert_model`, say where graphprep looked, and how to produce
//! the files on a machine with network access.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::files::{locate, Bases};
use super::plan::{HfModel, HfTokenizer, LmConfig};
use super::LoadOptions;
use crate::error::{Error, Result};

/// The hub cache folder from environment values (the `huggingface_hub` rules: `HF_HUB_CACHE`,
/// else `HF_HOME/hub`, else `XDG_CACHE_HOME/huggingface/hub`, else
/// `~/.cache/huggingface/hub`); `get` reads one variable.
pub fn hub_cache_from_env(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = nonempty("HF_HUB_CACHE").or_else(|| nonempty("HUGGINGFACE_HUB_CACHE")) {
        return Some(p);
    }
    if let Some(h) = nonempty("HF_HOME") {
        return Some(h.join("hub"));
    }
    if let Some(x) = nonempty("XDG_CACHE_HOME") {
        return Some(x.join("huggingface").join("hub"));
    }
    nonempty("HOME").map(|h| h.join(".cache").join("huggingface").join("hub"))
}

/// How to make the files offline (appended to `tokenize_hf`'s "not found" errors).
fn how_to_fix(bert_model: &str) -> String {
    offline_advice(bert_model, "AutoConfig", "tok")
}

/// The same for `bert_hf`, which needs the model's weights too.
fn how_to_fix_model(bert_model: &str) -> String {
    offline_advice(bert_model, "AutoModel", "lm")
}

fn offline_advice(bert_model: &str, class: &str, folder: &str) -> String {
    format!(
        "graphprep does not download models. On a machine with network access run\n  python -c \
         \"from transformers import AutoTokenizer, {class}; \
         AutoTokenizer.from_pretrained('{bert_model}').save_pretrained('{folder}'); \
         {class}.from_pretrained('{bert_model}').save_pretrained('{folder}')\"\nthen copy the \
         folder `{folder}` here and set bert_model to its path (or copy that machine's Hugging \
         Face cache folder `models--{}` into HF_HOME/hub here)",
        bert_model.replace('/', "--")
    )
}

/// Resolves `bert_model` (at JSON path `path`) into local tokenizer files. See the module docs.
pub(crate) fn resolve_tokenizer(
    bert_model: &str,
    path: &str,
    bases: Bases<'_>,
    opts: &LoadOptions,
) -> Result<HfTokenizer> {
    find_tokenizer(bert_model, path, bases, opts, how_to_fix)
}

/// [`resolve_tokenizer`], with `fix` giving the "how to make the files" advice.
fn find_tokenizer(
    bert_model: &str,
    path: &str,
    bases: Bases<'_>,
    opts: &LoadOptions,
    how_to_fix: fn(&str) -> String,
) -> Result<HfTokenizer> {
    let file = match locate(bert_model, bases) {
        Some(p) if p.is_dir() => {
            let f = p.join("tokenizer.json");
            if !f.is_file() {
                let slow = if p.join("vocab.txt").is_file() {
                    " (it has vocab.txt: a slow-tokenizer save; graphprep needs the fast \
                     tokenizer's tokenizer.json)"
                } else {
                    ""
                };
                return Err(Error::config(
                    path,
                    format!(
                        "folder {} has no tokenizer.json{slow}; {}",
                        p.display(),
                        how_to_fix(bert_model)
                    ),
                ));
            }
            f
        }
        Some(p) => p,
        None => find_in_cache(bert_model, opts.hf_hub_cache.as_deref()).ok_or_else(|| {
            let cache = match &opts.hf_hub_cache {
                Some(c) => format!("the Hugging Face cache {}", c.display()),
                None => "the Hugging Face cache (no HF_HOME or HOME set)".to_string(),
            };
            Error::config(
                path,
                format!(
                    "bert_model {bert_model:?} is neither a tokenizer.json file nor a folder \
                     with one (looked next to the config in {} and in the working directory \
                     {}), and no tokenizer.json for it was found in {cache}; {}",
                    bases.config_dir.display(),
                    bases.cwd.display(),
                    how_to_fix(bert_model)
                ),
            )
        })?,
    };
    let tok = tokenizers::Tokenizer::from_file(&file).map_err(|e| {
        Error::config(
            path,
            format!(
                "{}: cannot load the tokenizer (expected a Hugging Face tokenizer.json): {e}",
                file.display()
            ),
        )
    })?;
    let special_tokens = tok
        .get_post_processor()
        .map_or(0, |p| tokenizers::PostProcessor::added_tokens(p, false));
    let dir = file.parent().unwrap_or(Path::new("."));
    let model_conf = read_json(&dir.join("config.json"), path)?;
    let tok_conf = read_json(&dir.join("tokenizer_config.json"), path)?;
    let hidden_size = model_conf.as_ref().and_then(|c| {
        ["hidden_size", "dim", "d_model", "n_embd"]
            .iter()
            .find_map(|k| c.get(*k).and_then(Value::as_u64))
            .map(|v| v as usize)
    });
    let tc = |k: &str| tok_conf.as_ref().and_then(|c| c.get(k));
    let pad_token = tc("pad_token").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
        _ => None,
    });
    let left = |k: &str| -> Result<bool> {
        match tc(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::String(s)) if s == "right" => Ok(false),
            Some(Value::String(s)) if s == "left" => Ok(true),
            Some(other) => Err(Error::config(
                path,
                format!(
                    "{}: `{k}` must be \"left\" or \"right\", found {other}",
                    dir.join("tokenizer_config.json").display()
                ),
            )),
        }
    };
    Ok(HfTokenizer {
        tokenizer_file: file.clone(),
        special_tokens,
        hidden_size,
        pad_token,
        pad_left: left("padding_side")?,
        truncate_left: left("truncation_side")?,
    })
}

/// Resolves `bert_hf`'s `bert_model` (at JSON path `path`) into a local tokenizer, model
/// config and weights. See the module docs.
pub(crate) fn resolve_model(
    bert_model: &str,
    path: &str,
    bases: Bases<'_>,
    opts: &LoadOptions,
) -> Result<HfModel> {
    let tokenizer = find_tokenizer(bert_model, path, bases, opts, how_to_fix_model)?;
    let dir = tokenizer
        .tokenizer_file
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let config_file = dir.join("config.json");
    let Some(conf) = read_json(&config_file, path)? else {
        return Err(Error::config(
            path,
            format!(
                "bert_hf needs the model's config.json next to {}; {}",
                tokenizer.tokenizer_file.display(),
                how_to_fix_model(bert_model)
            ),
        ));
    };
    let config = lm_config(&conf, &config_file, path)?;
    let weights = weight_files(&dir, path).map_err(|msg| {
        Error::config(
            path,
            format!(
                "{msg} in {}; {}",
                dir.display(),
                how_to_fix_model(bert_model)
            ),
        )
    })?;
    Ok(HfModel {
        tokenizer,
        config,
        config_file,
        weights,
    })
}

/// [`resolve_model`] of a model folder given by its path (tests).
#[cfg(all(test, feature = "train"))]
pub(crate) fn model_in(dir: &Path) -> Result<HfModel> {
    let bases = Bases {
        config_dir: dir,
        cwd: dir,
    };
    let name = dir.to_string_lossy();
    resolve_model(&name, "bert_model", bases, &LoadOptions::new(dir))
}

/// The BERT-family architecture of a `config.json`.
fn lm_config(c: &Value, file: &Path, path: &str) -> Result<LmConfig> {
    let bad = |msg: String| Error::config(path, format!("{}: {msg}", file.display()));
    let model_type = c
        .get("model_type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let roberta = match model_type.as_str() {
        "bert" => false,
        "roberta" | "xlm-roberta" => true,
        other => {
            let what = if other.is_empty() {
                "no model_type".to_string()
            } else {
                format!("model_type {other:?}")
            };
            return Err(bad(format!(
                "{what}; bert_hf runs BERT-family encoders (model_type \"bert\", \"roberta\" \
                 or \"xlm-roberta\"). For another architecture, precompute the embeddings and \
                 feed them as a vector column (a Parquet list column) with no transform"
            )));
        }
    };
    let int = |k: &str, default: usize| -> Result<usize> {
        match c.get(k) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|v| v as usize)
                .ok_or_else(|| bad(format!("`{k}` must be a non-negative integer, found {v}"))),
        }
    };
    if let Some(p) = c.get("position_embedding_type").and_then(Value::as_str) {
        if p != "absolute" {
            return Err(bad(format!(
                "position_embedding_type {p:?} is not supported (only \"absolute\")"
            )));
        }
    }
    let hidden_act = c
        .get("hidden_act")
        .and_then(Value::as_str)
        .unwrap_or("gelu")
        .to_string();
    if ![
        "gelu",
        "gelu_new",
        "gelu_pytorch_tanh",
        "relu",
        "silu",
        "swish",
    ]
    .contains(&hidden_act.as_str())
    {
        return Err(bad(format!(
            "hidden_act {hidden_act:?} is not supported (gelu, gelu_new, gelu_pytorch_tanh, \
             relu, silu)"
        )));
    }
    let layer_norm_eps = match c.get("layer_norm_eps") {
        None | Some(Value::Null) => 1e-12,
        Some(v) => v
            .as_f64()
            .ok_or_else(|| bad(format!("`layer_norm_eps` must be a number, found {v}")))?,
    };
    let conf = LmConfig {
        vocab_size: int("vocab_size", if roberta { 50265 } else { 30522 })?,
        hidden_size: int("hidden_size", 768)?,
        num_hidden_layers: int("num_hidden_layers", 12)?,
        num_attention_heads: int("num_attention_heads", 12)?,
        intermediate_size: int("intermediate_size", 3072)?,
        hidden_act,
        layer_norm_eps,
        max_position_embeddings: int("max_position_embeddings", 512)?,
        type_vocab_size: int("type_vocab_size", 2)?,
        pad_token_id: int("pad_token_id", usize::from(roberta))?,
        model_type,
    };
    if conf.hidden_size == 0
        || conf.num_attention_heads == 0
        || !conf.hidden_size.is_multiple_of(conf.num_attention_heads)
    {
        return Err(bad(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            conf.hidden_size, conf.num_attention_heads
        )));
    }
    Ok(conf)
}

/// The weight files of a model folder (see the module docs); `Err` says what is missing.
fn weight_files(dir: &Path, path: &str) -> std::result::Result<Vec<PathBuf>, String> {
    for single in ["model.safetensors", "pytorch_model.bin"] {
        let f = dir.join(single);
        if f.is_file() {
            return Ok(vec![f]);
        }
    }
    for index in [
        "model.safetensors.index.json",
        "pytorch_model.bin.index.json",
    ] {
        let f = dir.join(index);
        let Some(v) = read_json(&f, path).map_err(|e| e.to_string())? else {
            continue;
        };
        let mut shards: Vec<PathBuf> = v
            .get("weight_map")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{} has no weight_map object", f.display()))?
            .values()
            .filter_map(Value::as_str)
            .map(|s| dir.join(s))
            .collect();
        shards.sort();
        shards.dedup();
        if let Some(m) = shards.iter().find(|s| !s.is_file()) {
            return Err(format!(
                "{} lists {} but that file is missing",
                f.display(),
                m.display()
            ));
        }
        return Ok(shards);
    }
    let also = if dir.join("tf_model.h5").is_file() || dir.join("flax_model.msgpack").is_file() {
        " (only TensorFlow/Flax weights are there: save the model with PyTorch)"
    } else {
        ""
    };
    Err(format!(
        "no model weights (model.safetensors, pytorch_model.bin or their .index.json){also}"
    ))
}

/// `tokenizer.json` of a hub model name in the local cache.
fn find_in_cache(name: &str, cache: Option<&Path>) -> Option<PathBuf> {
    let repo = cache?.join(format!("models--{}", name.replace('/', "--")));
    let snapshots = repo.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let f = snapshots.join(rev.trim()).join("tokenizer.json");
        if f.is_file() {
            return Some(f);
        }
    }
    let mut revs: Vec<PathBuf> = std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    revs.sort();
    revs.into_iter()
        .map(|r| r.join("tokenizer.json"))
        .find(|f| f.is_file())
}

/// An optional JSON file: `None` when absent, an error naming it when unreadable.
fn read_json(file: &Path, path: &str) -> Result<Option<Value>> {
    if !file.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::config(path, format!("cannot read {}: {e}", file.display())))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::config(path, format!("{} is not valid JSON: {e}", file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn hub_cache_env_order() {
        assert_eq!(
            hub_cache_from_env(env(&[("HF_HUB_CACHE", "/c"), ("HF_HOME", "/h")])),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            hub_cache_from_env(env(&[("HF_HOME", "/h"), ("HOME", "/u")])),
            Some(PathBuf::from("/h/hub"))
        );
        assert_eq!(
            hub_cache_from_env(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/u")])),
            Some(PathBuf::from("/x/huggingface/hub"))
        );
        assert_eq!(
            hub_cache_from_env(env(&[("HF_HOME", ""), ("HOME", "/u")])),
            Some(PathBuf::from("/u/.cache/huggingface/hub"))
        );
        assert_eq!(hub_cache_from_env(env(&[])), None);
    }

    #[test]
    fn cache_lookup_prefers_refs_main() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("models--org--m");
        for rev in ["aaa", "bbb"] {
            let s = repo.join("snapshots").join(rev);
            std::fs::create_dir_all(&s).unwrap();
            std::fs::write(s.join("tokenizer.json"), "{}").unwrap();
        }
        assert_eq!(
            find_in_cache("org/m", Some(d.path())),
            Some(repo.join("snapshots/aaa/tokenizer.json"))
        );
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "bbb\n").unwrap();
        assert_eq!(
            find_in_cache("org/m", Some(d.path())),
            Some(repo.join("snapshots/bbb/tokenizer.json"))
        );
        assert_eq!(find_in_cache("org/other", Some(d.path())), None);
        assert_eq!(find_in_cache("org/m", None), None);
    }
}
