//! Output layouts: a constructed graph (plus its partition assignment) → a directory, written
//! through the byte formats of [`crate::format`].
//!
//! * [`distdgl`]: the whole DistDGL output directory of `--output-format DistDGL`
//!   ([`write_distdgl`]).
//! * [`chunked`]: DGL's chunked graph format of `--output-format chunked` and the partition
//!   assignment folder for DGL's dispatch pipeline ([`chunked::write_chunked`]).
//! * [`dgl`]: the single-file heterograph of `--output-format DGL` ([`write_dgl_graph`]).
//!
//! Algorithm, memory and parallelism are documented per file. Common rule: every writer streams
//! into a [`std::io::BufWriter`] with large sequential writes and never copies a whole feature
//! matrix; rows are gathered straight from the source [`crate::tensor::Tensor`] into the output.

pub mod chunked;
pub mod dgl;
pub mod distdgl;
#[cfg(test)]
mod sample_output;

pub use dgl::write_dgl_graph;
pub use distdgl::{write_distdgl, DistDglOptions, PartitionLayout, WrittenPart};
