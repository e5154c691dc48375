//! GraphStorm-compatible construction config: serde types, validation with JSON paths, and
//! resolution into a [`plan::Plan`].

pub mod plan;
