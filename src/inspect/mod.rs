//! `graphprep inspect`: a report on a finished DistDGL output (graphprep's or GraphStorm's),
//! read only through [`crate::dataset::distdgl`]: counts per type and partition, degree
//! distributions, self-loops and duplicate edges, feature statistics, labels and masks, and the
//! partition balance.
//!
//! Definitions:
//! * degrees are per edge type, over every node of its source (out-degree) or destination
//!   (in-degree) type, zeros included; `median` and `p99` are nearest-rank percentiles;
//! * `isolated_dst` = nodes of the destination type with in-degree 0 from that edge type;
//! * `self_loops` = edges whose source and destination are the same node (same-type relations);
//! * `duplicate_edges` = edges whose `(src, dst)` pair already occurred (copies beyond the first);
//! * feature column statistics cover the first [`MAX_COLUMNS`] columns (elements of a row, the
//!   trailing axes flattened) over finite values only; `std` is the population deviation;
//! * a mask is data ending in `_mask`, its `set` count the rows with a nonzero element;
//! * a label is data named `label` or ending in `_label`, or 1-D data (one value per row, not a
//!   mask) of a type that has masks: GraphStorm keeps a label under its column name (`cls`)
//!   and stores it 1-D, while features are 2-D;
//! * `edge_cut` = inner edges whose source node is a HALO node of the partition (DistDGL assigns
//!   an edge to its destination's partition, so these are the edges that cross partitions).
//!
//! # Memory
//! `16·E` bytes for the largest edge type's `(src, dst)` pairs (sorted for the duplicate count)
//! plus `4·N` per degree array; features are streamed from the mapped files.

pub mod plot;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::dataset::distdgl::{self, DistDglOutput};
use crate::error::{Error, Result};
use crate::partition::book::Located;
use crate::tensor::{DType, Tensor};

/// Columns of a feature that get min/max/mean/std.
pub const MAX_COLUMNS: usize = 16;

#[derive(Debug, Serialize)]
pub struct Report {
    pub path: String,
    pub graph_name: String,
    pub num_parts: usize,
    pub num_nodes: u64,
    pub num_edges: u64,
    pub node_types: Vec<TypeCount>,
    pub edge_types: Vec<EdgeTypeReport>,
    pub node_features: Vec<FeatureReport>,
    pub edge_features: Vec<FeatureReport>,
    pub labels: Vec<LabelReport>,
    pub masks: Vec<MaskReport>,
    pub balance: Balance,
}

#[derive(Debug, Serialize)]
pub struct TypeCount {
    pub name: String,
    pub total: u64,
    pub per_partition: Vec<u64>,
}

#[derive(Debug, Serialize)]
pub struct EdgeTypeReport {
    pub name: String,
    pub total: u64,
    pub per_partition: Vec<u64>,
    pub out_degree: Degrees,
    pub in_degree: Degrees,
    pub isolated_dst: u64,
    pub self_loops: u64,
    pub duplicate_edges: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Degrees {
    pub min: u64,
    pub median: u64,
    pub p99: u64,
    pub max: u64,
    /// `(degree, number of nodes with it)` for every degree that occurs, ascending; kept for
    /// `--plot`, not part of the JSON report.
    #[serde(skip)]
    pub histogram: Vec<(u64, u64)>,
}

#[derive(Debug, Serialize)]
pub struct FeatureReport {
    /// Node type or `src:rel:dst`.
    pub owner: String,
    pub name: String,
    pub dtype: String,
    /// Rows summed over partitions, then the trailing axes.
    pub shape: Vec<usize>,
    pub nan: u64,
    pub inf: u64,
    pub columns: Vec<ColumnStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnStats {
    /// Finite values seen.
    pub count: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct LabelReport {
    pub owner: String,
    pub name: String,
    /// Class → count, for integer labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<BTreeMap<i64, u64>>,
    /// min/max/mean of float labels (first column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<ColumnStats>,
}

#[derive(Debug, Serialize)]
pub struct MaskReport {
    pub owner: String,
    pub name: String,
    pub rows: u64,
    pub set: u64,
}

#[derive(Debug, Serialize)]
pub struct Balance {
    pub inner_nodes: Vec<u64>,
    pub inner_edges: Vec<u64>,
    /// max / mean of `inner_nodes` (1 when empty).
    pub node_balance: f64,
    pub edge_balance: f64,
    pub edge_cut: u64,
    pub edge_cut_fraction: f64,
}

/// Running statistics of one column (Welford).
#[derive(Clone, Default)]
struct Acc {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Acc {
    #[inline]
    fn push(&mut self, x: f64) {
        if self.n == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    fn stats(&self) -> ColumnStats {
        let some = |v: f64| (self.n > 0).then_some(v);
        ColumnStats {
            count: self.n,
            min: some(self.min),
            max: some(self.max),
            mean: some(self.mean),
            std: some((self.m2 / self.n.max(1) as f64).sqrt()),
        }
    }
}

/// Everything gathered about one feature over the partitions.
struct FeatAcc {
    dtype: DType,
    trailing: Vec<usize>,
    rows: u64,
    nan: u64,
    inf: u64,
    cols: Vec<Acc>,
    classes: BTreeMap<i64, u64>,
    set_rows: u64,
    label: bool,
}

/// Whether feature `name` (tensor `t`) of a type whose feature names are `names` is a label.
fn is_label<'a>(name: &str, t: &Tensor, mut names: impl Iterator<Item = &'a str>) -> bool {
    name == "label"
        || name.ends_with("_label")
        || (!is_mask(name) && t.shape.len() == 1 && names.any(is_mask))
}

fn is_mask(name: &str) -> bool {
    name.ends_with("_mask")
}

/// Calls `f(element index, value)` for every element, widened to f64.
fn for_each_f64(t: &Tensor, mut f: impl FnMut(usize, f64)) {
    macro_rules! each {
        ($ty:ty, $conv:expr) => {
            if let Some(it) = t.iter_values::<$ty>() {
                for (i, v) in it.enumerate() {
                    f(i, $conv(v));
                }
            }
        };
    }
    match t.dtype {
        DType::I8 => each!(i8, f64::from),
        DType::U8 => each!(u8, f64::from),
        DType::I16 => each!(i16, f64::from),
        DType::I32 => each!(i32, f64::from),
        DType::I64 => each!(i64, |v: i64| v as f64),
        DType::F16 => each!(half::f16, half::f16::to_f64),
        DType::F32 => each!(f32, f64::from),
        DType::F64 => each!(f64, |v| v),
    }
}

impl FeatAcc {
    fn new(t: &Tensor, label: bool) -> FeatAcc {
        FeatAcc {
            label,
            dtype: t.dtype,
            trailing: t.shape[1..].to_vec(),
            rows: 0,
            nan: 0,
            inf: 0,
            cols: vec![Acc::default(); t.row_len().min(MAX_COLUMNS)],
            classes: BTreeMap::new(),
            set_rows: 0,
        }
    }

    fn add(&mut self, t: &Tensor, name: &str) {
        let width = t.row_len().max(1);
        let ncols = self.cols.len();
        let (label, mask) = (self.label, is_mask(name));
        let int_label = label && !t.dtype.is_float();
        let (mut row_set, mut cur_row) = (false, 0usize);
        let (nan, inf, cols) = (&mut self.nan, &mut self.inf, &mut self.cols);
        let (classes, set_rows) = (&mut self.classes, &mut self.set_rows);
        for_each_f64(t, |i, v| {
            let (r, c) = (i / width, i % width);
            if mask && r != cur_row {
                *set_rows += u64::from(row_set);
                row_set = false;
                cur_row = r;
            }
            if v.is_nan() {
                *nan += 1;
                return;
            }
            if v.is_infinite() {
                *inf += 1;
                return;
            }
            if c < ncols {
                cols[c].push(v);
            }
            if int_label && c == 0 {
                *classes.entry(v as i64).or_default() += 1;
            }
            row_set |= mask && v != 0.0;
        });
        if mask && t.rows() > 0 {
            *set_rows += u64::from(row_set);
        }
        self.rows += t.rows() as u64;
    }
}

/// Degree summary of a degree array (sorted in place).
fn degrees(d: &mut [u32]) -> Degrees {
    if d.is_empty() {
        return Degrees::default();
    }
    d.sort_unstable();
    let rank = |q: f64| {
        let k = ((q * d.len() as f64).ceil() as usize).clamp(1, d.len());
        u64::from(d[k - 1])
    };
    Degrees {
        min: u64::from(d[0]),
        median: rank(0.5),
        p99: rank(0.99),
        max: u64::from(d[d.len() - 1]),
        histogram: d
            .chunk_by(|a, b| a == b)
            .map(|run| (u64::from(run[0]), run.len() as u64))
            .collect(),
    }
}

fn max_over_mean(v: &[u64]) -> f64 {
    let sum: u64 = v.iter().sum();
    if v.is_empty() || sum == 0 {
        return 1.0;
    }
    *v.iter().max().unwrap() as f64 / (sum as f64 / v.len() as f64)
}

/// Reads the output at `path` (folder or partition JSON) and builds the report.
pub fn inspect(path: &Path) -> Result<Report> {
    let out = distdgl::open(path)?;
    let np = out.num_parts();
    let nt = out.ntypes().len();
    let ne = out.etypes().len();
    let node_types = (0..nt)
        .map(|t| TypeCount {
            name: out.ntypes()[t].clone(),
            total: out.num_nodes(t),
            per_partition: (0..np).map(|p| out.book.nodes.count(t, p)).collect(),
        })
        .collect();

    // (src, dst) per-type pairs of every edge type, from the inner edges of each partition.
    let mut pairs: Vec<Vec<(u64, u64)>> = (0..ne)
        .map(|r| Vec::with_capacity(out.num_edges(r) as usize))
        .collect();
    let mut feats: BTreeMap<(bool, usize, String), FeatAcc> = BTreeMap::new();
    let (mut inner_nodes, mut inner_edges) = (Vec::new(), Vec::new());
    let mut edge_cut = 0u64;
    for p in 0..np {
        let part = out.partition(p)?;
        inner_nodes.push(part.num_inner_nodes);
        inner_edges.push(part.num_inner_edges);
        edge_cut += collect_edges(&out, &part, &mut pairs)?;
        let node = part.all_node_feats().map(|(t, n, x)| (false, t, n, x));
        let edge = part.all_edge_feats().map(|(t, n, x)| (true, t, n, x));
        for (is_edge, t, name, x) in node.chain(edge) {
            let key = (is_edge, t, name.to_string());
            // A partition without rows of the type says nothing about the trailing shape.
            if x.rows() == 0 && feats.contains_key(&key) {
                continue;
            }
            if feats.get(&key).is_some_and(|a| a.rows == 0) {
                feats.remove(&key);
            }
            let acc = feats.entry(key).or_insert_with(|| {
                let list = if is_edge {
                    part.edge_feats(t)
                } else {
                    part.node_feats(t)
                };
                FeatAcc::new(x, is_label(name, x, list.iter().map(|(n, _)| n.as_str())))
            });
            if acc.dtype != x.dtype || acc.trailing[..] != x.shape[1..] {
                return Err(Error::input(
                    &part.graph_path,
                    format!(
                        "feature '{name}' is {} {:?} in partition {p} but {} {:?} before",
                        x.dtype.name(),
                        &x.shape[1..],
                        acc.dtype.name(),
                        acc.trailing
                    ),
                ));
            }
            acc.add(x, name);
        }
    }

    let mut edge_types = Vec::with_capacity(ne);
    for (r, list) in pairs.iter_mut().enumerate() {
        let (st, dt) = out.etype_ends(r);
        let mut out_deg = vec![0u32; out.num_nodes(st) as usize];
        let mut in_deg = vec![0u32; out.num_nodes(dt) as usize];
        let mut self_loops = 0;
        for &(s, d) in list.iter() {
            out_deg[s as usize] += 1;
            in_deg[d as usize] += 1;
            self_loops += u64::from(st == dt && s == d);
        }
        list.sort_unstable();
        let duplicate_edges = list.windows(2).filter(|w| w[0] == w[1]).count() as u64;
        *list = Vec::new();
        let isolated_dst = in_deg.iter().filter(|&&d| d == 0).count() as u64;
        edge_types.push(EdgeTypeReport {
            name: out.etypes()[r].colon_key(),
            total: out.num_edges(r),
            per_partition: (0..np).map(|p| out.book.edges.count(r, p)).collect(),
            out_degree: degrees(&mut out_deg),
            in_degree: degrees(&mut in_deg),
            isolated_dst,
            self_loops,
            duplicate_edges,
        });
    }

    let (mut node_features, mut edge_features) = (Vec::new(), Vec::new());
    let (mut labels, mut masks) = (Vec::new(), Vec::new());
    for ((is_edge, t, name), acc) in feats {
        let owner = if is_edge {
            out.etypes()[t].colon_key()
        } else {
            out.ntypes()[t].clone()
        };
        if acc.label {
            let int = !acc.dtype.is_float();
            labels.push(LabelReport {
                owner: owner.clone(),
                name: name.clone(),
                classes: int.then(|| acc.classes.clone()),
                values: (!int).then(|| acc.cols.first().cloned().unwrap_or_default().stats()),
            });
        }
        if is_mask(&name) {
            masks.push(MaskReport {
                owner: owner.clone(),
                name: name.clone(),
                rows: acc.rows,
                set: acc.set_rows,
            });
        }
        let mut shape = vec![acc.rows as usize];
        shape.extend(&acc.trailing);
        let f = FeatureReport {
            owner,
            name,
            dtype: acc.dtype.name().to_string(),
            shape,
            nan: acc.nan,
            inf: acc.inf,
            columns: acc.cols.iter().map(Acc::stats).collect(),
        };
        if is_edge {
            edge_features.push(f);
        } else {
            node_features.push(f);
        }
    }

    let num_edges = out.book.edges.total();
    Ok(Report {
        path: out.config_path.display().to_string(),
        graph_name: out.graph_name().to_string(),
        num_parts: np,
        num_nodes: out.book.nodes.total(),
        num_edges,
        node_types,
        edge_types,
        node_features,
        edge_features,
        labels,
        masks,
        balance: Balance {
            node_balance: max_over_mean(&inner_nodes),
            edge_balance: max_over_mean(&inner_edges),
            inner_nodes,
            inner_edges,
            edge_cut,
            edge_cut_fraction: if num_edges == 0 {
                0.0
            } else {
                edge_cut as f64 / num_edges as f64
            },
        },
    })
}

/// Appends the inner edges of `part` to `pairs` (per-type IDs) and returns how many of them
/// have a HALO source.
fn collect_edges(
    out: &DistDglOutput,
    part: &distdgl::Partition,
    pairs: &mut [Vec<(u64, u64)>],
) -> Result<u64> {
    let bad = |m: String| Error::input(&part.graph_path, m);
    let n = part.num_nodes();
    let node = |local: i64| -> Result<Located> {
        let i = usize::try_from(local)
            .ok()
            .filter(|&i| i < n)
            .ok_or_else(|| bad(format!("edge endpoint {local} is not a local node (< {n})")))?;
        part.global_nid(i)
            .and_then(|g| out.book.nodes.locate(g))
            .ok_or_else(|| bad(format!("local node {i} has no valid global ID (_ID)")))
    };
    let (src, dst) = (part.src(), part.dst());
    let mut cut = 0;
    for j in 0..part.num_inner_edges as usize {
        let e = part
            .global_eid(j)
            .and_then(|g| out.book.edges.locate(g))
            .ok_or_else(|| bad(format!("local edge {j} has no valid global ID (_ID)")))?;
        let (s, d) = (node(src.get(j))?, node(dst.get(j))?);
        let (st, dt) = out.etype_ends(e.type_id);
        if s.type_id != st || d.type_id != dt {
            return Err(bad(format!(
                "local edge {j} of type {} joins types {} -> {}",
                out.etypes()[e.type_id].colon_key(),
                out.ntypes()[s.type_id],
                out.ntypes()[d.type_id]
            )));
        }
        cut += u64::from(s.part != part.id);
        pairs[e.type_id].push((s.per_type, d.per_type));
    }
    Ok(cut)
}

fn fmt_opt(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x == x.trunc() && x.abs() < 1e15 => format!("{x}"),
        Some(x) => format!("{x:.4}"),
    }
}

fn join(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(" / ")
}

/// Left-aligned columns separated by two spaces.
fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: Vec<&str>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect();
        let _ = writeln!(out, "  {}", s.join("  ").trim_end());
    };
    line(out, head.to_vec());
    for r in rows {
        line(out, r.iter().map(String::as_str).collect());
    }
}

impl Report {
    /// The human-readable table.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "graph {}: {} partitions, {} nodes, {} edges ({})",
            self.graph_name, self.num_parts, self.num_nodes, self.num_edges, self.path
        );
        let _ = writeln!(s, "\nnode types (per partition):");
        let rows: Vec<_> = self
            .node_types
            .iter()
            .map(|t| vec![t.name.clone(), t.total.to_string(), join(&t.per_partition)])
            .collect();
        table(&mut s, &["type", "nodes", "per partition"], &rows);
        let _ = writeln!(
            s,
            "\nedge types (degrees: min/median/p99/max over all nodes of the end type):"
        );
        let deg = |d: &Degrees| format!("{}/{}/{}/{}", d.min, d.median, d.p99, d.max);
        let rows: Vec<_> = self
            .edge_types
            .iter()
            .map(|e| {
                vec![
                    e.name.clone(),
                    e.total.to_string(),
                    join(&e.per_partition),
                    deg(&e.out_degree),
                    deg(&e.in_degree),
                    e.isolated_dst.to_string(),
                    e.self_loops.to_string(),
                    e.duplicate_edges.to_string(),
                ]
            })
            .collect();
        table(
            &mut s,
            &[
                "type",
                "edges",
                "per partition",
                "out-deg",
                "in-deg",
                "isolated dst",
                "self-loops",
                "duplicates",
            ],
            &rows,
        );
        for (title, list) in [
            ("node features", &self.node_features),
            ("edge features", &self.edge_features),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "\n{title} (min/max/mean/std of column 0; columns shown: up to {MAX_COLUMNS} in JSON):"
            );
            let rows: Vec<_> = list
                .iter()
                .map(|f| {
                    let c0 = f.columns.first();
                    let g = |sel: fn(&ColumnStats) -> Option<f64>| fmt_opt(c0.and_then(sel));
                    vec![
                        f.owner.clone(),
                        f.name.clone(),
                        f.dtype.clone(),
                        format!("{:?}", f.shape),
                        f.nan.to_string(),
                        f.inf.to_string(),
                        g(|c| c.min),
                        g(|c| c.max),
                        g(|c| c.mean),
                        g(|c| c.std),
                    ]
                })
                .collect();
            table(
                &mut s,
                &[
                    "owner", "name", "dtype", "shape", "nan", "inf", "min", "max", "mean", "std",
                ],
                &rows,
            );
        }
        if !self.labels.is_empty() {
            let _ = writeln!(s, "\nlabels:");
            let rows: Vec<_> = self
                .labels
                .iter()
                .map(|l| {
                    let what = match (&l.classes, &l.values) {
                        (Some(c), _) => c
                            .iter()
                            .map(|(k, v)| format!("{k}:{v}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        (None, Some(v)) => format!(
                            "min {} max {} mean {}",
                            fmt_opt(v.min),
                            fmt_opt(v.max),
                            fmt_opt(v.mean)
                        ),
                        _ => String::new(),
                    };
                    vec![l.owner.clone(), l.name.clone(), what]
                })
                .collect();
            table(
                &mut s,
                &["owner", "name", "classes (class:count) / values"],
                &rows,
            );
        }
        if !self.masks.is_empty() {
            let _ = writeln!(s, "\nmasks:");
            let rows: Vec<_> = self
                .masks
                .iter()
                .map(|m| {
                    vec![
                        m.owner.clone(),
                        m.name.clone(),
                        m.set.to_string(),
                        m.rows.to_string(),
                    ]
                })
                .collect();
            table(&mut s, &["owner", "name", "set", "rows"], &rows);
        }
        let b = &self.balance;
        let _ = writeln!(s, "\npartition balance:");
        let rows: Vec<_> = (0..self.num_parts)
            .map(|p| {
                vec![
                    p.to_string(),
                    b.inner_nodes[p].to_string(),
                    b.inner_edges[p].to_string(),
                ]
            })
            .collect();
        table(&mut s, &["part", "inner nodes", "inner edges"], &rows);
        let _ = writeln!(
            s,
            "  max/mean: nodes {:.3}, edges {:.3}; edge cut {} ({:.1}% of edges)",
            b.node_balance,
            b.edge_balance,
            b.edge_cut,
            100.0 * b.edge_cut_fraction
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_degrees() {
        let mut d: Vec<u32> = (1..=100).rev().collect();
        let s = degrees(&mut d);
        assert_eq!((s.min, s.median, s.p99, s.max), (1, 50, 99, 100));
        let s = degrees(&mut [0, 7, 0]);
        assert_eq!((s.min, s.median, s.p99, s.max), (0, 0, 7, 7));
        assert_eq!(s.histogram, [(0, 2), (7, 1)]);
        let s = degrees(&mut []);
        assert_eq!((s.min, s.max), (0, 0));
    }

    #[test]
    fn column_stats_masks_and_classes() {
        let t = Tensor::from_vec(
            vec![3, 2],
            vec![1.0f32, f32::NAN, 3.0, f32::INFINITY, 5.0, 2.0],
        );
        let mut a = FeatAcc::new(&t, false);
        a.add(&t, "feat");
        assert_eq!((a.nan, a.inf, a.rows), (1, 1, 3));
        let c0 = a.cols[0].stats();
        assert_eq!(
            (c0.count, c0.min, c0.max, c0.mean),
            (3, Some(1.0), Some(5.0), Some(3.0))
        );
        assert!((c0.std.unwrap() - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(a.cols[1].stats().count, 1);

        let m = Tensor::from_1d(vec![1i8, 0, 0, 1, 1]);
        let mut a = FeatAcc::new(&m, false);
        a.add(&m, "train_mask");
        a.add(&m, "train_mask");
        assert_eq!((a.set_rows, a.rows), (6, 10));

        let l = Tensor::from_1d(vec![2i64, 0, 2, 1]);
        let names = ["label_x", "train_mask"];
        assert!(is_label("cls", &l, names.iter().copied()));
        assert!(!is_label("cls", &l, ["feat"].iter().copied()));
        let mut a = FeatAcc::new(&l, true);
        a.add(&l, "cls");
        assert_eq!(a.classes, BTreeMap::from([(0, 1), (1, 1), (2, 2)]));

        let h = Tensor::from_1d(vec![half::f16::from_f32(0.5), half::f16::NAN]);
        let mut a = FeatAcc::new(&h, false);
        a.add(&h, "x");
        assert_eq!((a.nan, a.cols[0].stats().max), (1, Some(0.5)));
    }
}
