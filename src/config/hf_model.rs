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
//! Errors name the JSON path of `bert_model`, say where graphprep looked, and how to produce
//! the files on a machine with network access.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::files::{locate, Bases};
use super::plan::HfTokenizer;
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

/// How to make the files offline (appended to "not found" errors).
fn how_to_fix(bert_model: &str) -> String {
    format!(
        "graphprep does not download models. On a machine with network access run\n  python -c \
         \"from transformers import AutoTokenizer, AutoConfig; \
         AutoTokenizer.from_pretrained('{bert_model}').save_pretrained('tok'); \
         AutoConfig.from_pretrained('{bert_model}').save_pretrained('tok')\"\nthen copy the \
         folder `tok` here and set bert_model to its path (or copy that machine's Hugging Face \
         cache folder `models--{}` into HF_HOME/hub here)",
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
