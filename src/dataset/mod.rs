//! Layouts read back: an output directory → typed, memory-mapped views. This is the one door
//! for everything that consumes a constructed graph (`train`, `infer`, `remap`, `inspect`):
//! it builds on [`crate::format`] (byte formats), [`crate::partition::book`] and
//! [`crate::graph::csr`], and never on the pipeline, the transforms or the writers.
//!
//! * [`chunked`]: a chunked-format graph (DGL's pipeline input: graphprep's `--output-format
//!   chunked`, GSProcessing's output) into a [`crate::graph::Graph`].
//! * [`distdgl`]: a DistDGL output (partition JSON, `part*/`, ID mappings, raw ID maps), from
//!   graphprep or from GraphStorm's `construct_graph`.

pub mod chunked;
pub mod distdgl;
