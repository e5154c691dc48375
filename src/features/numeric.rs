//! Numeric transforms (`no-op`, `max_min_norm`, `standard`, `bucket_numerical`, `rank_gauss`)
//! and the driver that turns fitted per-column plans into one output tensor.
//!
//! What: each input column of the feature gets a [`ColPlan`] (separator, truncation, agreed input
//! width, fitted [`Kernel`]); the driver applies the plans file by file and writes every
//! column's result side by side (`np.column_stack` order = `feature_col` list order) into one
//! `(N, Σ widths)` tensor of the output dtype.
//!
//! Algorithm: phase 0 agrees on each column's width over all files; phase 1 (two-phase
//! transforms) collects per-file statistics in parallel and merges them in file order; phase 2
//! converts each file's column to `f64`, applies the kernel, casts and writes the file's rows
//! into its slot of the preallocated output. `rank_gauss` is computed once over all rows
//! ([`Kernel::Global`]) because its ranks are global.
//!
//! Memory: the output tensor, plus per busy thread one file's column as `f64` (and its
//! transformed copy). `rank_gauss` additionally holds its column over all rows as `f64`.
//!
//! Parallelism: files in parallel on the ambient rayon pool; results are merged and written in
//! file order, so the output is identical at any thread count. The first error in file order
//! (then row order) is reported.

use rayon::prelude::*;

use super::column::{self, agree_width, Loc, Mat};
use super::{FeatureCtx, Part};
use crate::config::plan::FeatureSpec;
use crate::error::Result;
use crate::tensor::{DType, Element, Tensor};

/// Output element types: conversion from the `f64` working values (numpy `astype` semantics
/// except for out-of-range/NaN → int8, which saturates / gives 0 instead of wrapping).
pub(crate) trait OutElem: Element + Default + Send + Sync {
    fn from_f64(x: f64) -> Self;
}
impl OutElem for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}
impl OutElem for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
}
impl OutElem for half::f16 {
    fn from_f64(x: f64) -> Self {
        f16_from_f64(x)
    }
}

/// `numpy.float16(x)` for a float64 `x`: rounded once, to nearest with ties to even, from the
/// float64 bits (overflow → ±inf, NaN keeps its top payload bits as numpy does).
///
/// `half::f16::from_f64` rounds through float32 on CPUs with F16C, and rounding twice is off
/// by one unit in the last place whenever the float32 value lands exactly halfway between two
/// float16 values (e.g. 1.0288085800147668 → 1.029296875 instead of numpy's 1.0283203125), and
/// can overflow to inf just below 65520.
pub(crate) fn f16_from_f64(x: f64) -> half::f16 {
    let bits = x.to_bits();
    let sign = ((bits >> 48) & 0x8000) as u16;
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let man = bits & 0x000f_ffff_ffff_ffff;
    if exp == 0x7ff {
        if man == 0 {
            return half::f16::from_bits(sign | 0x7c00);
        }
        let mut h = 0x7c00u16 + (man >> 42) as u16;
        if h == 0x7c00 {
            h += 1;
        }
        return half::f16::from_bits(sign | h);
    }
    let e = exp - 1023;
    if e > 15 {
        return half::f16::from_bits(sign | 0x7c00);
    }
    // Rounds `v >> shift` to nearest, ties to even (a carry may reach the exponent: correct,
    // up to inf).
    let round = |v: u64, shift: u32| -> u16 {
        let q = v >> shift;
        let rem = v & ((1u64 << shift) - 1);
        let half = 1u64 << (shift - 1);
        let up = rem > half || (rem == half && q & 1 == 1);
        (q + up as u64) as u16
    };
    if e >= -14 {
        // Biased float16 exponent above the 52 mantissa bits; keep the top 10 of those.
        return half::f16::from_bits(sign | round((((e + 15) as u64) << 52) | man, 42));
    }
    if exp == 0 {
        // float64 subnormals are far below float16's smallest subnormal.
        return half::f16::from_bits(sign);
    }
    // float16 subnormal: value / 2^-24 = sig >> (28 - e), with e ≤ -15 so the shift is ≥ 43.
    let shift = (28 - e) as u32;
    if shift >= 54 {
        // Below half the smallest subnormal (sig < 2^53).
        return half::f16::from_bits(sign);
    }
    half::f16::from_bits(sign | round(man | (1u64 << 52), shift))
}
impl OutElem for i8 {
    fn from_f64(x: f64) -> Self {
        x as i8
    }
}
impl OutElem for i64 {
    fn from_f64(x: f64) -> Self {
        x as i64
    }
}

/// A column's fitted transform.
#[derive(Debug)]
pub(crate) enum Kernel {
    /// Values pass through.
    Noop,
    /// `(x - min) / (max - min)` clipped to `[0, 1]`; one (max, min) per input element.
    MaxMin { max: Vec<f64>, min: Vec<f64> },
    /// `x / sum`; one sum per input element.
    Standard { sum: Vec<f64> },
    /// One-hot / window buckets of a scalar.
    Bucket {
        lo: f64,
        hi: f64,
        cnt: usize,
        window: f64,
    },
    /// Already computed over all rows of the block (file rows are a contiguous range).
    Global(Mat),
}

/// One input column's fitted plan.
#[derive(Debug)]
pub(crate) struct ColPlan<'s> {
    pub sep: Option<&'s str>,
    pub truncate: Option<usize>,
    /// Values per row of the input column (agreed over all files, before truncation).
    pub width: usize,
    pub kernel: Kernel,
}

impl ColPlan<'_> {
    /// Values per row fed to the kernel (after truncation).
    pub(crate) fn in_width(&self) -> usize {
        self.truncate.map_or(self.width, |k| k.min(self.width))
    }

    pub(crate) fn out_width(&self) -> usize {
        match &self.kernel {
            Kernel::Bucket { cnt, .. } => *cnt,
            Kernel::Global(m) => m.cols,
            _ => self.in_width(),
        }
    }

    /// Applies the kernel to one file's matrix (in place where the shape is kept).
    fn apply(&self, mut m: Mat) -> Mat {
        match &self.kernel {
            Kernel::Noop | Kernel::Global(_) => m,
            Kernel::MaxMin { max, min } => {
                for row in m.data.chunks_mut(self.in_width().max(1)) {
                    for ((x, &hi), &lo) in row.iter_mut().zip(max).zip(min) {
                        *x = ((*x - lo) / (hi - lo)).clamp(0.0, 1.0);
                    }
                }
                m
            }
            Kernel::Standard { sum } => {
                for row in m.data.chunks_mut(self.in_width().max(1)) {
                    for (x, &s) in row.iter_mut().zip(sum) {
                        *x /= s;
                    }
                }
                m
            }
            Kernel::Bucket {
                lo,
                hi,
                cnt,
                window,
            } => {
                let mut out = Mat::zeros(m.rows, *cnt);
                for (r, &f) in m.data.iter().enumerate() {
                    bucketize(
                        f,
                        *lo,
                        *hi,
                        *cnt,
                        *window,
                        &mut out.data[r * cnt..(r + 1) * cnt],
                    );
                }
                out
            }
        }
    }
}

/// GraphStorm's `BucketTransform` for one value (spec §2.5), writing 0/1 into `out`.
pub(crate) fn bucketize(f: f64, lo_b: f64, hi_b: f64, cnt: usize, s: f64, out: &mut [f64]) {
    if f.is_nan() {
        return;
    }
    let size = (hi_b - lo_b) / cnt as f64;
    let high = (f + s / 2.0).min(hi_b) - lo_b;
    let low = (f - s / 2.0).max(lo_b) - lo_b;
    let lo_i = (low / size).floor().max(0.0) as usize;
    let hi_i = ((high / size).floor() + 1.0).clamp(0.0, cnt as f64) as usize;
    for o in out.iter_mut().take(hi_i).skip(lo_i) {
        *o = 1.0;
    }
    if f >= hi_b {
        out[cnt - 1] = 1.0;
    }
    if f <= lo_b {
        out[0] = 1.0;
    }
}

/// Rows of every file (all feature columns of a file must have the same length).
pub(crate) fn file_rows(
    spec: &FeatureSpec,
    files: &[super::FileColumns<'_>],
) -> Result<Vec<usize>> {
    files
        .iter()
        .map(|f| {
            if f.columns.len() != spec.columns.len() {
                return Err(crate::error::Error::Other(format!(
                    "feature {}: {} input arrays given for {} columns",
                    spec.json_path,
                    f.columns.len(),
                    spec.columns.len()
                )));
            }
            let n = f.columns.first().map_or(0, |a| a.len());
            if let Some((c, a)) = f.columns.iter().enumerate().find(|(_, a)| a.len() != n) {
                return Err(crate::error::Error::input(
                    f.path,
                    format!(
                        "column '{}' has {} rows, expected {n}",
                        spec.columns[c],
                        a.len()
                    ),
                ));
            }
            Ok(n)
        })
        .collect()
}

/// Agreed width of input column `c` over all files (files scanned in parallel).
pub(crate) fn width_of(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    c: usize,
    sep: Option<&str>,
) -> Result<usize> {
    let widths: Vec<Result<Option<usize>>> = files
        .par_iter()
        .map(|f| column::column_width(&f.columns[c], sep, &f.loc(&spec.columns[c])))
        .collect();
    let widths: Vec<Option<usize>> = widths.into_iter().collect::<Result<_>>()?;
    let locs: Vec<Loc<'_>> = files.iter().map(|f| f.loc(&spec.columns[c])).collect();
    agree_width(&widths, &locs)
}

/// Runs `f` on every file's matrix of column `c` in parallel; results in file order, first
/// error in file order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn map_files<R: Send>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    c: usize,
    sep: Option<&str>,
    width: usize,
    truncate: Option<usize>,
    f: impl Fn(usize, Mat) -> Result<R> + Sync + Send,
) -> Result<Vec<R>> {
    let out: Vec<Result<R>> = files
        .par_iter()
        .enumerate()
        .map(|(i, file)| {
            let loc = file.loc(&spec.columns[c]);
            let m = column::to_mat(&file.columns[c], sep, width, truncate, ctx.validate, &loc)?;
            f(i, m)
        })
        .collect();
    out.into_iter().collect()
}

/// Phase 2: applies the plans to every file and builds the `(N, Σ widths)` output.
pub(crate) fn apply_plans(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    plans: &[ColPlan<'_>],
    rows: &[usize],
    dtype: DType,
) -> Result<Tensor> {
    match dtype {
        DType::F16 => apply_typed::<half::f16>(spec, files, ctx, plans, rows),
        DType::F32 => apply_typed::<f32>(spec, files, ctx, plans, rows),
        DType::F64 => apply_typed::<f64>(spec, files, ctx, plans, rows),
        DType::I8 => apply_typed::<i8>(spec, files, ctx, plans, rows),
        DType::I64 => apply_typed::<i64>(spec, files, ctx, plans, rows),
        other => Err(crate::error::Error::config(
            &spec.json_path,
            format!(
                "out_dtype {} is not supported for this transform",
                other.name()
            ),
        )),
    }
}

fn apply_typed<T: OutElem>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    plans: &[ColPlan<'_>],
    rows: &[usize],
) -> Result<Tensor> {
    let width: usize = plans.iter().map(ColPlan::out_width).sum();
    let total: usize = rows.iter().sum();
    let mut out = ctx.alloc(total, width, T::default(), &spec.name)?;
    // First row of each slice.
    let starts: Vec<usize> = rows
        .iter()
        .scan(0, |acc, &n| {
            let s = *acc;
            *acc += n;
            Some(s)
        })
        .collect();
    out.fill_blocks(rows, width, |i, slot| {
        let row_start = starts[i];
        let file = &files[i];
        let mut off = 0;
        for (c, plan) in plans.iter().enumerate() {
            let w = plan.out_width();
            let computed;
            // Global kernels hold all rows: this file's rows start at `row_start`.
            let (m, first) = match &plan.kernel {
                Kernel::Global(g) => (g, row_start),
                _ => {
                    let loc = file.loc(&spec.columns[c]);
                    let m = column::to_mat(
                        &file.columns[c],
                        plan.sep,
                        plan.width,
                        plan.truncate,
                        ctx.validate,
                        &loc,
                    )?;
                    computed = plan.apply(m);
                    (&computed, 0)
                }
            };
            for r in 0..rows[i] {
                let dst = &mut slot[r * width + off..r * width + off + w];
                for (o, &x) in dst.iter_mut().zip(m.row(first + r)) {
                    *o = T::from_f64(x);
                }
            }
            off += w;
        }
        Ok(())
    })?;
    out.into_tensor(vec![total, width])
}

/// `no-op`: agreed width, optional truncation, no statistics.
pub(crate) fn fit_noop<'s>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    c: usize,
    sep: Option<&'s str>,
    truncate: Option<usize>,
) -> Result<ColPlan<'s>> {
    let width = width_of(spec, files, c, sep)?;
    if let Some(k) = truncate {
        let scalar = files.iter().all(|f| !f.columns[c].data_type().is_nested())
            && sep.is_none()
            && width == 1;
        if scalar {
            return Err(crate::error::Error::config(
                &spec.json_path,
                format!(
                    "truncate_dim {k} needs a vector column (a list column, or text with \
                     \"separator\"), but '{}' has one value per row",
                    spec.columns[c]
                ),
            ));
        }
    }
    Ok(ColPlan {
        sep,
        truncate,
        width,
        kernel: Kernel::Noop,
    })
}

/// `np.finfo(out_dtype).max` (float32's for `int8`, where GraphStorm crashes).
pub(crate) fn finfo_max(dtype: DType) -> f64 {
    match dtype {
        DType::F16 => 65504.0,
        DType::F64 => f64::MAX,
        _ => f32::MAX as f64,
    }
}

/// Broadcasts a given per-column statistic (scalar or one value per element) to `width`.
pub(crate) fn broadcast(
    spec: &FeatureSpec,
    key: &str,
    given: &[f64],
    width: usize,
    column: &str,
) -> Result<Vec<f64>> {
    match given.len() {
        1 => Ok(vec![given[0]; width]),
        n if n == width => Ok(given.to_vec()),
        n => Err(crate::error::Error::config(
            format!("{}.transform.{key}", spec.json_path),
            format!("{key} has {n} values but column '{column}' has {width} values per row"),
        )),
    }
}

/// Statistics as a JSON list: integers when the input column is integer-typed and the value
/// is integral (GraphStorm writes numpy lists in the input dtype), floats otherwise.
pub(crate) fn json_list(v: &[f64], integer: bool) -> serde_json::Value {
    serde_json::Value::Array(
        v.iter()
            .map(|&x| {
                if integer && x.fract() == 0.0 && x.abs() < 9.0e15 {
                    serde_json::Value::from(x as i64)
                } else {
                    serde_json::Number::from_f64(x)
                        .map_or(serde_json::Value::Null, serde_json::Value::Number)
                }
            })
            .collect(),
    )
}

fn integer_input(files: &[Part<'_>], c: usize) -> bool {
    files
        .iter()
        .all(|f| column::is_integer_type(f.columns[c].data_type()))
}

/// Result of fitting `max_min_norm` on one column.
pub(crate) struct MaxMinFit<'s> {
    pub plan: ColPlan<'s>,
    pub max: Vec<f64>,
    pub min: Vec<f64>,
    pub integer: bool,
}

/// `max_min_norm`: per-element max/min over all rows (clamped to the bounds, which are capped
/// at `finfo(out_dtype)`), or the given values; `max == min` anywhere is an error.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_maxmin<'s>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    c: usize,
    max_bound: f64,
    min_bound: f64,
    given_max: Option<&[f64]>,
    given_min: Option<&[f64]>,
    dtype: DType,
) -> Result<MaxMinFit<'s>> {
    let column = &spec.columns[c];
    let width = width_of(spec, files, c, None)?;
    let fmax = finfo_max(dtype);
    let (max_bound, min_bound) = (max_bound.min(fmax), min_bound.max(-fmax));
    let given_max = given_max
        .map(|g| broadcast(spec, "max_val", g, width, column))
        .transpose()?;
    let given_min = given_min
        .map(|g| broadcast(spec, "min_val", g, width, column))
        .transpose()?;
    let (max, min) = match (given_max, given_min) {
        (Some(mx), Some(mn)) => (mx, mn),
        (gmax, gmin) => {
            let per_file = map_files(spec, files, ctx, c, None, width, None, |_, m| {
                if m.rows == 0 {
                    return Ok(None);
                }
                let mut mx = vec![f64::NEG_INFINITY; width];
                let mut mn = vec![f64::INFINITY; width];
                for r in 0..m.rows {
                    for (j, &x) in m.row(r).iter().enumerate() {
                        mx[j] = mx[j].max(x);
                        mn[j] = mn[j].min(x);
                    }
                }
                Ok(Some((mx, mn)))
            })?;
            let mut mx = vec![f64::NEG_INFINITY; width];
            let mut mn = vec![f64::INFINITY; width];
            let mut any = false;
            for (fmx, fmn) in per_file.into_iter().flatten() {
                any = true;
                for j in 0..width {
                    mx[j] = mx[j].max(fmx[j].min(max_bound));
                    mn[j] = mn[j].min(fmn[j].max(min_bound));
                }
            }
            if !any {
                return Err(crate::error::Error::config(
                    &spec.json_path,
                    format!(
                        "column '{column}' has no rows to learn max_min_norm statistics from; \
                         give max_val and min_val"
                    ),
                ));
            }
            (gmax.unwrap_or(mx), gmin.unwrap_or(mn))
        }
    };
    if let Some(j) = (0..width).find(|&j| max[j] == min[j]) {
        return Err(crate::error::Error::config(
            &spec.json_path,
            format!(
                "max_min_norm on column '{column}': element {j} has max == min == {} (a constant \
                 column), which would divide by zero; drop the transform for this column or \
                 give different max_val/min_val",
                max[j]
            ),
        ));
    }
    let plan = ColPlan {
        sep: None,
        truncate: None,
        width,
        kernel: Kernel::MaxMin {
            max: max.clone(),
            min: min.clone(),
        },
    };
    Ok(MaxMinFit {
        plan,
        max,
        min,
        integer: integer_input(files, c),
    })
}

/// Exact floating-point sum (Shewchuk's non-overlapping partials, as Python's `math.fsum`):
/// the result is the correctly rounded exact sum, so it does not depend on the order in which
/// values and per-file partial sums are added (thread count, file split).
#[derive(Clone, Debug, Default)]
pub(crate) struct ExactSum {
    partials: Vec<f64>,
    /// Sum of non-finite inputs (only possible with validation off).
    special: f64,
}

impl ExactSum {
    pub(crate) fn add(&mut self, mut x: f64) {
        if !x.is_finite() {
            self.special += x;
            return;
        }
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    pub(crate) fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    pub(crate) fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Round half-even correctly when the remaining partials push past the halfway point.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
        hi
    }
}

/// Result of fitting `standard` on one column.
pub(crate) struct StandardFit<'s> {
    pub plan: ColPlan<'s>,
    /// The learned sums (`None` when given by the config).
    pub learned: Option<Vec<f64>>,
    pub integer: bool,
}

/// `standard`: per-element column sums over all rows (exact), or the given `sum`; a zero sum
/// is an error.
pub(crate) fn fit_standard<'s>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    c: usize,
    given: Option<&[f64]>,
) -> Result<StandardFit<'s>> {
    let column = &spec.columns[c];
    let width = width_of(spec, files, c, None)?;
    let (sum, learned) = match given {
        Some(g) => (broadcast(spec, "sum", g, width, column)?, None),
        None => {
            let per_file = map_files(spec, files, ctx, c, None, width, None, |_, m| {
                let mut acc = vec![ExactSum::default(); width];
                for r in 0..m.rows {
                    for (a, &x) in acc.iter_mut().zip(m.row(r)) {
                        a.add(x);
                    }
                }
                Ok(acc)
            })?;
            let mut acc = vec![ExactSum::default(); width];
            for f in &per_file {
                for (a, b) in acc.iter_mut().zip(f) {
                    a.merge(b);
                }
            }
            let sum: Vec<f64> = acc.iter().map(ExactSum::value).collect();
            (sum.clone(), Some(sum))
        }
    };
    if let Some(j) = sum.iter().position(|&s| s == 0.0) {
        return Err(crate::error::Error::config(
            &spec.json_path,
            format!(
                "standard transform on column '{column}': the sum of element {j} is 0, which \
                 would divide by zero; drop the transform or give a non-zero \"sum\""
            ),
        ));
    }
    let plan = ColPlan {
        sep: None,
        truncate: None,
        width,
        kernel: Kernel::Standard { sum },
    };
    Ok(StandardFit {
        plan,
        learned,
        integer: integer_input(files, c),
    })
}

/// `bucket_numerical`: one value per row; `range` and `bucket_cnt` as given.
pub(crate) fn fit_bucket<'s>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    c: usize,
    range: [f64; 2],
    cnt: usize,
    window: f64,
) -> Result<ColPlan<'s>> {
    let width = width_of(spec, files, c, None)?;
    if width != 1 {
        return Err(crate::error::Error::config(
            &spec.json_path,
            format!(
                "bucket_numerical needs one value per row but column '{}' has {width}; list \
                 several scalar columns in feature_col instead",
                spec.columns[c]
            ),
        ));
    }
    debug_assert!(
        cnt > 0 && range[0] != range[1] && range.iter().all(|x| x.is_finite()),
        "bucket_cnt and range are checked when the plan is built"
    );
    let (lo, hi) = (range[0].min(range[1]), range[0].max(range[1]));
    Ok(ColPlan {
        sep: None,
        truncate: None,
        width: 1,
        kernel: Kernel::Bucket {
            lo,
            hi,
            cnt,
            window,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(f: f64, range: [f64; 2], cnt: usize, s: f64) -> Vec<f64> {
        let mut out = vec![0.0; cnt];
        bucketize(f, range[0], range[1], cnt, s, &mut out);
        out
    }

    #[test]
    fn bucket_worked_examples() {
        let r = [10.0, 30.0];
        for (f, want) in [
            (1.0, [1., 0.]),
            (11.0, [1., 0.]),
            (21.0, [0., 1.]),
            (31.0, [0., 1.]),
            (10.0, [1., 0.]),
            (20.0, [0., 1.]),
            (30.0, [0., 1.]),
        ] {
            assert_eq!(buckets(f, r, 2, 0.0), want, "f={f}");
        }
        assert_eq!(buckets(21.0, r, 2, 10.0), [1., 1.]);
        assert_eq!(buckets(10.0, r, 3, 20.0), [1., 1., 0.]);
        assert_eq!(buckets(20.0, r, 3, 20.0), [1., 1., 1.]);
        assert_eq!(buckets(30.0, r, 3, 20.0), [0., 1., 1.]);
        for f in [1.0, 11.0, 21.0, 31.0, 10.0, 20.0, 30.0] {
            assert_eq!(buckets(f, r, 2, 100.0), [1., 1.], "f={f}");
        }
    }

    #[test]
    fn exact_sum_is_order_independent() {
        let v = [1e16, 1.0, -1e16, 0.1, 0.2, 0.3, 1e-3, 3.0e10];
        let mut a = ExactSum::default();
        v.iter().for_each(|&x| a.add(x));
        let mut b = ExactSum::default();
        v.iter().rev().for_each(|&x| b.add(x));
        let (mut c1, mut c2) = (ExactSum::default(), ExactSum::default());
        v[..3].iter().for_each(|&x| c1.add(x));
        v[3..].iter().for_each(|&x| c2.add(x));
        c2.merge(&c1);
        assert_eq!(a.value(), b.value());
        assert_eq!(a.value(), c2.value());
        assert_eq!(a.value(), 30000000001.601); // math.fsum gives 30000000001.601
        assert_eq!(ExactSum::default().value(), 0.0);
    }

    #[test]
    fn json_lists_keep_integers() {
        assert_eq!(json_list(&[10.0, 1.5], true).to_string(), "[10,1.5]");
        assert_eq!(json_list(&[10.0], false).to_string(), "[10.0]");
    }
}
