//! `rank_gauss`: per column, rank the values over all rows of the block and map the ranks onto
//! a Gaussian (`erfinv` of the ranks spread over `(-1, 1)`).
//!
//! Algorithm (GraphStorm's `RankGaussTransform`, after merge): for each element column of the
//! `(N, d)` input, `r` = 0-based rank, `y = (r/(N-1) - 0.5) * 2`, clipped to
//! `[-1+ε, 1-ε]`, then `erfinv(y)`. With `uniquify`, ranks are computed over the distinct rows
//! (sorted lexicographically, as `np.unique(axis=0)`) and scattered back, so equal rows get
//! equal outputs. Ties are broken by row position (numpy uses an unstable sort, so its tie
//! order is arbitrary); this makes the output deterministic. One row (or one distinct row with
//! `uniquify`) gives zeros instead of GraphStorm's division by zero.
//!
//! `erfinv` is computed in `f64` from Wichura's AS241 normal quantile (relative error about
//! 1e-16), with the tail argument `(1 - |y|)/2` formed exactly.
//!
//! Memory: the column over all rows as `f64` (8·N·d bytes), the result (same size), and an
//! index permutation (8·N bytes).
//!
//! Parallelism: per-file conversion in parallel; sorting with rayon's parallel sort (the order
//! is total, so the result does not depend on the thread count); `erfinv` in parallel.

use rayon::prelude::*;

use super::column::Mat;
use super::numeric::{map_files, width_of, ColPlan, Kernel};
use super::{FeatureCtx, Part};
use crate::config::plan::FeatureSpec;
use crate::error::Result;

/// Fits (= computes) rank-gauss for input column `c` over all rows.
pub(crate) fn fit<'s>(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    ctx: &FeatureCtx<'_>,
    c: usize,
    epsilon: f64,
    uniquify: bool,
) -> Result<ColPlan<'s>> {
    let width = width_of(spec, files, c, None)?;
    let parts = map_files(spec, files, ctx, c, None, width, None, |_, m| Ok(m))?;
    let rows: usize = parts.iter().map(|m| m.rows).sum();
    let mut all = Mat {
        rows,
        cols: width,
        data: Vec::with_capacity(rows * width),
    };
    for p in parts {
        all.data.extend_from_slice(&p.data);
    }
    let out = if uniquify {
        rank_gauss_unique(&all, epsilon)
    } else {
        rank_gauss(&all, epsilon)
    };
    Ok(ColPlan {
        sep: None,
        truncate: None,
        width,
        kernel: Kernel::Global(out),
    })
}

/// Total order on values: numeric, with -0.0 == 0.0 and NaN last (NaN only reaches here
/// with validation off).
fn cmp(a: f64, b: f64) -> std::cmp::Ordering {
    (a + 0.0).total_cmp(&(b + 0.0))
}

/// Maps rank `r` of `n` onto the Gaussian.
fn gauss(r: usize, n: usize, epsilon: f64) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let y = (r as f64 / (n - 1) as f64 - 0.5) * 2.0;
    erfinv(y.clamp(-1.0 + epsilon, 1.0 - epsilon))
}

/// Rank-gauss of every column of `m` (ties by row position).
pub(crate) fn rank_gauss(m: &Mat, epsilon: f64) -> Mat {
    let (n, d) = (m.rows, m.cols);
    let mut out = Mat::zeros(n, d);
    for j in 0..d {
        let mut order: Vec<usize> = (0..n).collect();
        order.par_sort_unstable_by(|&a, &b| {
            cmp(m.data[a * d + j], m.data[b * d + j]).then(a.cmp(&b))
        });
        let vals: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|r| gauss(r, n, epsilon))
            .collect();
        for (r, &i) in order.iter().enumerate() {
            out.data[i * d + j] = vals[r];
        }
    }
    out
}

/// Rank-gauss over the distinct rows of `m`, scattered back to all rows.
pub(crate) fn rank_gauss_unique(m: &Mat, epsilon: f64) -> Mat {
    let (n, d) = (m.rows, m.cols);
    let row_cmp = |a: usize, b: usize| {
        m.row(a)
            .iter()
            .zip(m.row(b))
            .map(|(&x, &y)| cmp(x, y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_unstable_by(|&a, &b| row_cmp(a, b).then(a.cmp(&b)));
    // Distinct rows in lexicographic order, and each row's distinct-row index.
    let mut uniq: Vec<usize> = Vec::new();
    let mut inverse = vec![0usize; n];
    for &i in &order {
        if uniq.last().is_none_or(|&u| row_cmp(u, i).is_ne()) {
            uniq.push(i);
        }
        inverse[i] = uniq.len() - 1;
    }
    let u = Mat {
        rows: uniq.len(),
        cols: d,
        data: uniq
            .iter()
            .flat_map(|&i| m.row(i).iter().copied())
            .collect(),
    };
    let g = rank_gauss(&u, epsilon);
    let mut out = Mat::zeros(n, d);
    for (i, &k) in inverse.iter().enumerate() {
        out.data[i * d..(i + 1) * d].copy_from_slice(g.row(k));
    }
    out
}

/// Inverse error function in `f64`: `erf(erfinv(y)) == y` for `y` in `(-1, 1)`; ±∞ at ±1,
/// NaN outside.
pub(crate) fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y == 1.0 {
        return f64::INFINITY;
    }
    if y == -1.0 {
        return f64::NEG_INFINITY;
    }
    // erfinv(y) = Φ⁻¹((y+1)/2) / √2, with q = p - 1/2 = y/2 and the tail probability
    // min(p, 1-p) = (1-|y|)/2, both exact.
    let q = y / 2.0;
    let tail = (1.0 - y.abs()) / 2.0;
    ndtri(q, tail) / std::f64::consts::SQRT_2
}

/// Wichura's AS241 (PPND16) normal quantile, given `q = p - 0.5` and `tail = min(p, 1 - p)`.
#[allow(clippy::excessive_precision)]
fn ndtri(q: f64, tail: f64) -> f64 {
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r
                + 67265.770927008700853)
                * r
                + 45921.953931549871457)
                * r
                + 13731.693765509461125)
                * r
                + 1971.5909503065514427)
                * r
                + 133.14166789178437745)
                * r
                + 3.387132872796366608)
            / (((((((r * 5226.495278852545925 + 28729.085735721942674) * r
                + 39307.89580009271061)
                * r
                + 21213.794301586595867)
                * r
                + 5394.1960214247511077)
                * r
                + 687.1870074920579083)
                * r
                + 42.313330701600911252)
                * r
                + 1.0);
    }
    let mut r = (-tail.ln()).sqrt();
    let val = if r <= 5.0 {
        r -= 1.6;
        (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r
            + 0.24178072517745061177)
            * r
            + 1.27045825245236838258)
            * r
            + 3.64784832476320460504)
            * r
            + 5.7694972214606914055)
            * r
            + 4.6303378461565452959)
            * r
            + 1.42343711074968357734)
            / (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r
                + 0.0151986665636164571966)
                * r
                + 0.14810397642748007459)
                * r
                + 0.68976733498510000455)
                * r
                + 1.6763848301838038494)
                * r
                + 2.05319162663775882187)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r
            + 0.0012426609473880784386)
            * r
            + 0.026532189526576123093)
            * r
            + 0.29656057182850489123)
            * r
            + 1.7848265399172913358)
            * r
            + 5.4637849111641143699)
            * r
            + 6.6579046435011037772)
            / (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r
                + 1.8463183175100546818e-5)
                * r
                + 7.868691311456132591e-4)
                * r
                + 0.0148753612908506148525)
                * r
                + 0.13692988092273580531)
                * r
                + 0.59983220655588793769)
                * r
                + 1.0)
    };
    if q < 0.0 {
        -val
    } else {
        val
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its everywhere-positive series (no cancellation), good to ~1e-16 for |x| < 6.
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        while term > sum * 1e-18 {
            n += 1.0;
            term *= 2.0 * x * x / (2.0 * n + 1.0);
            sum += term;
        }
        2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp() * sum
    }

    #[test]
    fn erfinv_known_values() {
        for (y, x) in [
            (0.5, 0.4769362762044699),
            (0.9, 1.1630871536766743),
            (0.95, 1.3859038243496777),
            (0.999, 2.3267537655135246),
        ] {
            assert!(
                (erfinv(y) - x).abs() <= 4e-16 * x,
                "erfinv({y}) = {} want {x}",
                erfinv(y)
            );
            assert_eq!(erfinv(-y), -erfinv(y));
        }
        assert_eq!(erfinv(0.0), 0.0);
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert!(erfinv(1.5).is_nan());
    }

    #[test]
    fn erfinv_inverts_erf() {
        for i in 1..2000 {
            let y = i as f64 / 2000.0 * 0.999;
            let x = erfinv(y);
            assert!(
                (erf_series(x) - y).abs() < 2e-15,
                "y={y} x={x} erf={}",
                erf_series(x)
            );
        }
        // Deep tail (rank_gauss with the default ε = 1e-6 reaches 1 - 1e-6).
        let x = erfinv(1.0 - 1e-6);
        let slope = 2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp();
        assert!(((1.0 - erf_series(x)) - 1e-6).abs() / slope < 1e-9, "x={x}");
    }

    #[test]
    fn rank_gauss_formula_and_antisymmetry() {
        // 200 unique values, shuffled: output is the reference formula at each value's rank.
        let n = 200;
        let vals: Vec<f64> = (0..n).map(|i| ((i * 37) % n) as f64 * 0.5 - 7.0).collect();
        let m = Mat {
            rows: n,
            cols: 1,
            data: vals.clone(),
        };
        let out = rank_gauss(&m, 1e-6);
        for (i, &v) in vals.iter().enumerate() {
            let r = ((v + 7.0) / 0.5) as usize;
            let y = ((r as f64 / (n - 1) as f64 - 0.5) * 2.0).clamp(-1.0 + 1e-6, 1.0 - 1e-6);
            assert_eq!(out.data[i], erfinv(y));
        }
        let mut s = out.data.clone();
        s.sort_by(f64::total_cmp);
        for k in 0..n {
            assert!((s[k] + s[n - 1 - k]).abs() < 1e-12);
        }
        let one = rank_gauss(
            &Mat {
                rows: 1,
                cols: 2,
                data: vec![3.0, 4.0],
            },
            1e-6,
        );
        assert_eq!(one.data, vec![0.0, 0.0]);
    }

    #[test]
    fn uniquify_gives_equal_rows_equal_outputs() {
        // 0/1 data: two distinct rows → two distinct outputs (±erfinv(1-ε)).
        let data: Vec<f64> = (0..10)
            .flat_map(|i| [(i % 2) as f64, (i % 2) as f64])
            .collect();
        let out = rank_gauss_unique(
            &Mat {
                rows: 10,
                cols: 2,
                data,
            },
            1e-6,
        );
        let hi = erfinv(1.0 - 1e-6);
        for i in 0..10 {
            let want = if i % 2 == 0 { -hi } else { hi };
            assert_eq!(out.row(i), &[want, want]);
        }
        let same = rank_gauss_unique(
            &Mat {
                rows: 3,
                cols: 1,
                data: vec![2.0; 3],
            },
            1e-6,
        );
        assert_eq!(same.data, vec![0.0; 3]);
    }
}
