//! graphprep: GraphStorm-compatible graph construction (tables + JSON config → DistDGL partitions).
//!
//! Pipeline stages are modules: [`config`] (parse, validate, resolve into a plan), [`readers`]
//! (bounded Arrow batches), [`idmap`] (raw → dense IDs), [`features`], [`labels`], [`graph`]
//! (the constructed in-memory graph), [`partition`] (METIS / random assignment), [`writers`]
//! (DGL binary formats, partition JSON, `.pt`, parquet), wired together by [`pipeline`].
//! Only [`cli`] parses flags, builds the rayon pool and drives progress output.

pub mod cli;
pub mod config;
pub mod error;
pub mod features;
pub mod graph;
pub mod idmap;
pub mod labels;
pub mod partition;
pub mod pipeline;
pub mod progress;
pub mod readers;
pub mod tensor;
pub mod workspace;
pub mod writers;
