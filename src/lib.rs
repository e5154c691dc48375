//! graphprep: GraphStorm-compatible graph construction (tables + JSON config → DistDGL partitions).
//!
//! Pipeline stages are modules: [`config`] (parse, validate, resolve into a plan), [`readers`]
//! (bounded Arrow batches), [`idmap`] (raw → dense IDs), [`features`], [`labels`], [`graph`]
//! (the constructed in-memory graph), [`partition`] (METIS / random assignment, the partition
//! book), [`writers`] (output layouts: DistDGL directory, DGL file), wired together by
//! [`pipeline`]. Only [`cli`] parses flags, builds the rayon pool and drives progress output.
//!
//! Reading output back has its own wing: [`format`] holds every byte format graphprep writes,
//! both directions (DGL, `.pt`, partition JSON, raw ID maps, `.npy`), and [`dataset`] opens a
//! whole output directory (graphprep's or GraphStorm's) as typed, memory-mapped views. Commands
//! that consume a constructed graph go through [`dataset`] only, never through the pipeline.

pub mod cli;
pub mod config;
pub mod dataset;
pub mod error;
pub mod features;
pub mod format;
pub mod graph;
pub mod idmap;
pub mod inspect;
pub(crate) mod labels;
pub mod partition;
pub(crate) mod pipeline;
pub(crate) mod progress;
pub(crate) mod readers;
pub mod remap;
pub mod tensor;
pub mod train;
pub(crate) mod validate;
pub(crate) mod workspace;
pub mod writers;
