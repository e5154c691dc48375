//! Training and inference on a constructed graph (GraphStorm's `gs_node_classification` /
//! `gs_node_regression`, spec/training.md): the YAML task config ([`config`]), the in-memory
//! training graph read through [`crate::dataset`] ([`graph`]), the seeded neighbour sampler
//! ([`sampler`]). The libtorch parts (model, optimizers, the loop) need the `train` feature.

pub mod config;
pub mod device;
pub mod edges;
pub mod graph;
pub mod metrics;
pub mod sampler;

#[cfg(feature = "train")]
pub mod checkpoint;
#[cfg(feature = "train")]
pub mod lp;
#[cfg(feature = "train")]
pub mod model;
#[cfg(feature = "train")]
pub mod optim;
#[cfg(feature = "train")]
pub mod output;
#[cfg(feature = "train")]
pub mod run;
