//! GraphStorm-compatible construction config: serde types, validation with JSON paths, and
//! resolution into a [`plan::Plan`].
//!
//! Entry point: [`load_plan`]. Flow (parse → resolve; nothing downstream re-validates):
//! 1. read the file and parse JSON (syntax errors report line and column);
//! 2. version handling (§2.1): missing or `gconstruct*` → as is; `gsprocessing*` → convert
//!    `graph` with [`gsprocessing::convert`]; anything else → warning, processed as GConstruct;
//! 3. [`validate`]: decode every object with unknown-key checks, check every rule, resolve file
//!    lists against the config folder (falling back to the working directory), homogeneous
//!    renaming, and keep the runtime JSON in [`plan::Plan::raw`].
//!
//! `schemas/gconstruct.schema.json` describes the same GConstruct dialect for editors; tests in
//! this file check that it stays in sync with the transform list.

pub mod gsp_export;
pub mod gsprocessing;
pub mod plan;
pub mod raw;
pub mod runtime;
pub mod validate;

mod files;
mod hf_model;
#[cfg(all(test, feature = "train"))]
pub(crate) use hf_model::model_in;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

pub use hf_model::hub_cache_from_env;
pub use plan::Plan;

/// Options of [`load_plan`] that do not come from the config itself. The library never reads
/// the environment: the CLI fills these in (see [`hub_cache_from_env`]).
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Working directory: base of a relative `conf_file`, and the fallback base for relative
    /// input paths that do not exist next to the config (GraphStorm resolves against it).
    pub cwd: PathBuf,
    /// Local Hugging Face hub cache, where `tokenize_hf` looks up model names; `None`: model
    /// names cannot be resolved, only paths.
    pub hf_hub_cache: Option<PathBuf>,
}

impl LoadOptions {
    /// Options with working directory `cwd` and no Hugging Face cache.
    pub fn new(cwd: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            cwd: cwd.into(),
            hf_hub_cache: None,
        }
    }
}

/// Reads, validates and resolves the construction config at `conf_file`.
///
/// Errors: [`Error::Input`] when the file cannot be read or is not JSON (with line/column);
/// [`Error::Config`] with the JSON path for every semantic problem.
pub fn load_plan(conf_file: &Path, opts: &LoadOptions) -> Result<Plan> {
    let conf_path = if conf_file.is_absolute() {
        conf_file.to_path_buf()
    } else {
        opts.cwd.join(conf_file)
    };
    let text = std::fs::read_to_string(&conf_path)
        .map_err(|e| Error::input(&conf_path, format!("cannot read the config file: {e}")))?;
    let value = parse_json(&text, &conf_path)?;
    let base_dir = conf_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| opts.cwd.clone());
    plan_from_value(value, &base_dir, opts)
}

/// Like [`load_plan`] for an already-parsed config whose relative paths resolve against
/// `base_dir` (then `opts.cwd`).
pub fn plan_from_value(value: Value, base_dir: &Path, opts: &LoadOptions) -> Result<Plan> {
    let conf = normalize_version(value)?;
    validate::resolve(conf, base_dir, opts)
}

/// Parses JSON text; errors carry the line and column.
pub(crate) fn parse_json(text: &str, file: &Path) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::input(
            file,
            format!(
                "invalid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Version handling (§2.1); returns a GConstruct-dialect config.
fn normalize_version(value: Value) -> Result<Value> {
    let Value::Object(obj) = &value else {
        return Err(Error::config(
            "(top level)",
            format!(
                "the config must be a JSON object, found {}",
                raw::type_name(&value)
            ),
        ));
    };
    let version = match obj.get("version") {
        None => return Ok(value),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::config(
                "version",
                format!("expected a string, found {other}"),
            ))
        }
    };
    if version.starts_with("gsprocessing") {
        raw::check_keys(&value, "", &["version", "graph"], "a GSProcessing config")?;
        let graph = obj.get("graph").ok_or_else(|| {
            Error::config("(top level)", "a GSProcessing config needs the `graph` key")
        })?;
        log::info!("converting GSProcessing config (version {version}) to GConstruct");
        return gsprocessing::convert(graph, "graph");
    }
    if !version.starts_with("gconstruct") {
        log::warn!(
            "unknown config version {version:?} (expected gconstruct-* or gsprocessing-*); \
             processing it as a GConstruct config"
        );
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
