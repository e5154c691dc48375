//! Typed errors of the library. Each variant says what went wrong, where (file, row, column,
//! JSON path) and, where it helps, what to do about it. The CLI maps them to exit code 1.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid; `path` is a JSON path such as `nodes[1].labels[0].split_pct`.
    #[error("config error at {path}: {msg}")]
    Config { path: String, msg: String },

    /// An input file cannot be read or has unexpected content.
    #[error("{}: {msg}", file.display())]
    Input { file: PathBuf, msg: String },

    /// Bad data inside an input file, at a known row and column.
    #[error("{}: row {row}, column '{column}': {msg}", file.display())]
    Data {
        file: PathBuf,
        row: u64,
        column: String,
        msg: String,
    },

    /// A file in one of graphprep's output formats (DGL, `.pt`, partition JSON, ...) is
    /// truncated or corrupted at `offset` (bytes from the file's start).
    #[error("{}: byte offset {offset}: {msg}", file.display())]
    Format {
        file: PathBuf,
        offset: u64,
        msg: String,
    },

    /// The graph as a whole is inconsistent (e.g. unknown edge endpoints).
    #[error("{0}")]
    Graph(String),

    /// Writing output failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The run does not fit the memory budget (`--memory`) or the spill workspace.
    #[error("memory budget: {0}")]
    Budget(String),

    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn config(path: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::Config {
            path: path.into(),
            msg: msg.into(),
        }
    }
    pub fn input(file: impl Into<PathBuf>, msg: impl Into<String>) -> Error {
        Error::Input {
            file: file.into(),
            msg: msg.into(),
        }
    }
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
