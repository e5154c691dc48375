//! Output writers: DGL binary formats, the DistDGL partition layout, and torch `.pt` files.
//!
//! * [`dglfmt`]: streaming writers (and a minimal reader) for DGL's serialization formats:
//!   NDArray records, tensor-dict files (`node_feat.dgl`, `edge_feat.dgl`) and graph files
//!   (`graph.dgl`, `<graph_name>.dgl`, i.e. `dgl.save_graphs`), both the one-type partition graph
//!   and the general heterograph.
//! * [`pt`]: a `torch.save`-compatible zip writer for ID mappings (`node_mapping.pt`, ...).
//! * [`distdgl`]: the whole DistDGL output directory of `--output-format DistDGL`
//!   ([`write_distdgl`]).
//! * [`dgl`]: the single-file heterograph of `--output-format DGL` ([`write_dgl_graph`]).
//!
//! Algorithm, memory and parallelism are documented per file. Common rule: every writer streams
//! into a [`std::io::BufWriter`] with large sequential writes and never copies a whole feature
//! matrix; rows are gathered straight from the source [`crate::tensor::Tensor`] into the output.

pub mod dgl;
pub mod dglfmt;
pub mod distdgl;
pub mod pt;
#[cfg(test)]
mod sample_output;

pub use dgl::write_dgl_graph;
pub use distdgl::{write_distdgl, DistDglOptions, PartitionLayout, PartitionStats};

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Buffer size of the output [`BufWriter`]s: large enough that the OS sees big sequential
/// writes.
pub(crate) const WRITE_BUF: usize = 1 << 20;

/// Creates (truncates) `path`, runs `body` on a 1 MiB buffered writer to it and flushes.
/// I/O errors are reported with the path.
pub(crate) fn write_file<F>(path: &Path, body: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let file = File::create(path).map_err(|e| Error::write(path, e))?;
    let mut w = BufWriter::with_capacity(WRITE_BUF, file);
    body(&mut w).map_err(|e| Error::write(path, e))?;
    w.flush().map_err(|e| Error::write(path, e))
}
