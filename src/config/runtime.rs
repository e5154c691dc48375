//! The runtime config (`data_transform_new.json`): the input config as GraphStorm rewrites it,
//! so that a later run (or inference) can reuse the learned transform state.
//!
//! Two rooms fill it, each through this file only: resolution ([`resolved`], called by
//! `validate`) writes `version`, `is_homogeneous`, the homogeneous type names and the resolved
//! defaults GraphStorm writes back; the pipeline ([`RuntimeConfig`]) adds each feature's learned
//! state and `feature_dim`, and `add_reverse_edges`. Keys keep the input's order and new keys
//! are appended in GraphStorm's order (serde_json `preserve_order`).

use serde_json::{json, Map, Value};

use super::plan::{LabelSpec, Plan, Split};

/// The version string written into runtime configs.
pub const RUNTIME_VERSION: &str = "gconstruct-runtime-v0.1";

/// A node block or an edge block (the config's `nodes` / `edges` lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Node,
    Edge,
}

impl BlockKind {
    fn key(self) -> &'static str {
        match self {
            BlockKind::Node => "nodes",
            BlockKind::Edge => "edges",
        }
    }
}

/// The resolution half: `conf` (the GConstruct-dialect input) with `version`, `is_homogeneous`
/// (the only place it is written), the homogeneous renaming (`homogeneous`: the node type and
/// relation every block gets) and the custom-split `column` default of every label.
pub(crate) fn resolved(
    mut conf: Value,
    is_homogeneous: bool,
    homogeneous: Option<(&str, [&str; 3])>,
    node_labels: &[(usize, &[LabelSpec])],
    edge_labels: &[(usize, &[LabelSpec])],
) -> Value {
    if let Some(obj) = conf.as_object_mut() {
        obj.insert("version".into(), json!(RUNTIME_VERSION));
        obj.insert("is_homogeneous".into(), json!(is_homogeneous));
    }
    for (kind, blocks) in [
        (BlockKind::Node, node_labels),
        (BlockKind::Edge, edge_labels),
    ] {
        for &(index, labels) in blocks {
            let block = &mut conf[kind.key()][index];
            if let Some((ntype, relation)) = homogeneous {
                match kind {
                    BlockKind::Node => block["node_type"] = json!(ntype),
                    BlockKind::Edge => block["relation"] = json!(relation),
                }
            }
            for (i, l) in labels.iter().enumerate() {
                if let Split::Custom(_) = &l.split {
                    if let Some(cs) = block["labels"][i]["custom_split_filenames"].as_object_mut() {
                        cs.entry("column").or_insert(json!([]));
                    }
                }
            }
        }
    }
    conf
}

/// The pipeline half: the plan's runtime JSON plus what the run learned.
#[derive(Clone, Debug)]
pub struct RuntimeConfig(Value);

impl RuntimeConfig {
    /// Starts from the runtime JSON of the resolved plan.
    pub fn new(plan: &Plan) -> RuntimeConfig {
        RuntimeConfig(plan.raw.clone())
    }

    /// Records feature `feature` of block `block`: the learned keys go into its `transform`
    /// object (created if absent), then its `feature_dim`.
    pub fn set_feature(
        &mut self,
        kind: BlockKind,
        block: usize,
        feature: usize,
        learned: Map<String, Value>,
        feature_dim: &[usize],
    ) {
        let fdict = &mut self.0[kind.key()][block]["features"][feature];
        if !learned.is_empty() {
            if !fdict.get("transform").is_some_and(Value::is_object) {
                fdict["transform"] = json!({});
            }
            for (key, v) in learned {
                fdict["transform"][key] = v;
            }
        }
        fdict["feature_dim"] = json!(feature_dim);
    }

    /// `add_reverse_edges` of the run.
    pub fn set_add_reverse_edges(&mut self, add: bool) {
        self.0["add_reverse_edges"] = json!(add);
    }

    /// The JSON to write.
    pub fn into_json(self) -> Value {
        self.0
    }
}
