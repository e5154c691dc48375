//! Evaluation metrics and the bookkeeping around them, as GraphStorm 0.5.1 computes them
//! (spec/training.md §2.8–2.9): accuracy (argmax vs label), macro F1 / precision / recall
//! (scikit-learn's `average="macro"` over the classes present in labels or predictions),
//! RMSE / MSE / MAE; best-score tracking (ties move "best" to the later evaluation, one rule
//! for the reported best and the best checkpoint) and early stopping.

/// A metric a node task can be evaluated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Accuracy,
    F1Score,
    Precision,
    Recall,
    Rmse,
    Mse,
    Mae,
    /// Link prediction: mean reciprocal rank of each positive among its negatives.
    Mrr,
    /// Link prediction: fraction of positives ranked within the top `k`.
    HitAt(usize),
}

impl Metric {
    pub fn parse(s: &str) -> Option<Metric> {
        Some(match s {
            "accuracy" => Metric::Accuracy,
            "f1_score" => Metric::F1Score,
            "precision" => Metric::Precision,
            "recall" => Metric::Recall,
            "rmse" => Metric::Rmse,
            "mse" => Metric::Mse,
            "mae" => Metric::Mae,
            "mrr" => Metric::Mrr,
            _ => match s.strip_prefix("hit_at_").and_then(|k| k.parse().ok()) {
                Some(k) if k > 0 => Metric::HitAt(k),
                _ => return None,
            },
        })
    }

    pub fn name(self) -> String {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::F1Score => "f1_score",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Rmse => "rmse",
            Metric::Mse => "mse",
            Metric::Mae => "mae",
            Metric::Mrr => "mrr",
            Metric::HitAt(k) => return format!("hit_at_{k}"),
        }
        .to_string()
    }

    /// Link prediction metric from the rank (1 = best) of every positive.
    pub fn ranking(self, ranks: &[u32]) -> f64 {
        match self {
            Metric::HitAt(k) => hit_at(ranks, k),
            _ => mrr(ranks),
        }
    }

    /// Larger is better (classification) or smaller is better (regression errors).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Metric::Rmse | Metric::Mse | Metric::Mae)
    }

    pub fn is_regression(self) -> bool {
        !self.higher_is_better()
    }

    /// Classification metric from predicted classes and labels.
    pub fn classify(self, pred: &[i64], labels: &[i64]) -> f64 {
        match self {
            Metric::Accuracy => accuracy(pred, labels),
            Metric::F1Score => macro_prf(pred, labels).2,
            Metric::Precision => macro_prf(pred, labels).0,
            Metric::Recall => macro_prf(pred, labels).1,
            _ => f64::NAN,
        }
    }

    /// Regression metric from predictions and targets.
    pub fn regress(self, pred: &[f32], target: &[f32]) -> f64 {
        let n = pred.len().max(1) as f64;
        match self {
            Metric::Mse => sq_err(pred, target) / n,
            Metric::Rmse => (sq_err(pred, target) / n).sqrt(),
            Metric::Mae => {
                pred.iter()
                    .zip(target)
                    .map(|(p, y)| (*p as f64 - *y as f64).abs())
                    .sum::<f64>()
                    / n
            }
            _ => f64::NAN,
        }
    }
}

fn sq_err(pred: &[f32], target: &[f32]) -> f64 {
    pred.iter()
        .zip(target)
        .map(|(p, y)| (*p as f64 - *y as f64).powi(2))
        .sum()
}

/// Mean of `1 / rank` (0 for no ranks).
pub fn mrr(ranks: &[u32]) -> f64 {
    if ranks.is_empty() {
        return 0.0;
    }
    ranks.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / ranks.len() as f64
}

/// Fraction of ranks `<= k` (0 for no ranks).
pub fn hit_at(ranks: &[u32], k: usize) -> f64 {
    if ranks.is_empty() {
        return 0.0;
    }
    ranks.iter().filter(|&&r| r as usize <= k).count() as f64 / ranks.len() as f64
}

/// Float32 logistic function as GraphStorm applies it to scores before ranking.
#[inline]
pub fn sigmoid32(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// GraphStorm's rank of a positive score among its negatives (`eval/utils.py`
/// `calc_ranking`): scores go through a float32 sigmoid first (so large scores tie at
/// exactly 1.0), then rank = 1 + the number of negatives scoring strictly higher — among
/// ties the positive ranks first, as a stable descending sort of `[pos, negs...]` puts it.
/// `pessimistic` counts tied negatives as ranked above instead.
pub fn rank_of(pos: f32, negs: &[f32], pessimistic: bool) -> u32 {
    let p = sigmoid32(pos);
    let above = if pessimistic {
        negs.iter().filter(|&&n| sigmoid32(n) >= p).count()
    } else {
        negs.iter().filter(|&&n| sigmoid32(n) > p).count()
    };
    1 + above as u32
}

/// Fraction of positions where `pred == labels` (0 for no labels).
pub fn accuracy(pred: &[i64], labels: &[i64]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let eq = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
    eq as f64 / labels.len() as f64
}

/// Macro-averaged (precision, recall, F1) over the classes that occur in labels or predictions,
/// with 0 for an undefined ratio (scikit-learn's `zero_division` default outcome).
pub fn macro_prf(pred: &[i64], labels: &[i64]) -> (f64, f64, f64) {
    let mut classes: Vec<i64> = pred.iter().chain(labels).copied().collect();
    classes.sort_unstable();
    classes.dedup();
    if classes.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let (mut ps, mut rs, mut fs) = (0.0, 0.0, 0.0);
    for &c in &classes {
        let tp = pred
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p == c && **l == c)
            .count() as f64;
        let pp = pred.iter().filter(|p| **p == c).count() as f64;
        let ap = labels.iter().filter(|l| **l == c).count() as f64;
        let p = if pp > 0.0 { tp / pp } else { 0.0 };
        let r = if ap > 0.0 { tp / ap } else { 0.0 };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        ps += p;
        rs += r;
        fs += f;
    }
    let k = classes.len() as f64;
    (ps / k, rs / k, fs / k)
}

/// Best validation score so far and the test score at that evaluation.
#[derive(Debug, Clone)]
pub struct Best {
    pub metric: Metric,
    pub val: f64,
    pub test: f64,
    pub step: usize,
    pub epoch: usize,
    pub found: bool,
}

impl Best {
    pub fn new(metric: Metric) -> Best {
        let init = if metric.higher_is_better() {
            0.0
        } else {
            f32::MAX as f64
        };
        Best {
            metric,
            val: init,
            test: init,
            step: 0,
            epoch: 0,
            found: false,
        }
    }

    /// Records an evaluation; returns true when it becomes the best (ties: the later wins).
    pub fn update(&mut self, val: f64, test: f64, step: usize, epoch: usize) -> bool {
        let better = if self.metric.higher_is_better() {
            self.val <= val
        } else {
            self.val >= val
        };
        if better {
            self.val = val;
            self.test = test;
            self.step = step;
            self.epoch = epoch;
            self.found = true;
        }
        better
    }
}

pub use super::config::EarlyStopStrategy as StopStrategy;

/// GraphStorm's `do_early_stop`: burn-in calls, then a sliding window of `rounds` scores.
#[derive(Debug, Clone)]
pub struct EarlyStop {
    pub burnin: usize,
    pub rounds: usize,
    pub strategy: StopStrategy,
    pub higher_is_better: bool,
    calls: usize,
    window: Vec<f64>,
}

impl EarlyStop {
    pub fn new(
        burnin: usize,
        rounds: usize,
        strategy: StopStrategy,
        higher_is_better: bool,
    ) -> EarlyStop {
        EarlyStop {
            burnin,
            rounds,
            strategy,
            higher_is_better,
            calls: 0,
            window: Vec::new(),
        }
    }

    /// True when training should stop after this validation score.
    pub fn check(&mut self, val: f64) -> bool {
        self.calls += 1;
        if self.calls <= self.burnin {
            return false;
        }
        if self.window.len() < self.rounds {
            self.window.push(val);
            return false;
        }
        // "not better than": for higher-is-better metrics val <= reference.
        let worse = |reference: f64| {
            if self.higher_is_better {
                val <= reference
            } else {
                val >= reference
            }
        };
        let stop = match self.strategy {
            StopStrategy::AverageIncrease => {
                let mean = self.window.iter().sum::<f64>() / self.window.len() as f64;
                worse(mean)
            }
            StopStrategy::ConsecutiveIncrease => self.window.iter().all(|s| worse(*s)),
        };
        self.window.remove(0);
        self.window.push(val);
        stop
    }
}

/// ROC-AUC per class (Mann-Whitney statistic, ties counted half), averaged over the classes
/// that have both positive and negative labels: scikit-learn's `roc_auc_score(average="macro")`
/// on a multilabel indicator matrix, which is what GraphStorm reports as "accuracy" for
/// multilabel tasks. `prob` and `labels` are row-major (n, cols).
pub fn roc_auc_macro(prob: &[f32], labels: &[f32], cols: usize) -> f64 {
    if cols == 0 {
        return f64::NAN;
    }
    let n = prob.len() / cols;
    let mut total = 0.0;
    let mut classes = 0usize;
    for c in 0..cols {
        let mut v: Vec<(f32, bool)> = (0..n)
            .map(|i| (prob[i * cols + c], labels[i * cols + c] > 0.5))
            .collect();
        let pos = v.iter().filter(|x| x.1).count();
        let neg = n - pos;
        if pos == 0 || neg == 0 {
            continue;
        }
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Sum of (average) ranks of the positives.
        let mut rank_sum = 0.0;
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && v[j + 1].0 == v[i].0 {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            rank_sum += avg * v[i..=j].iter().filter(|x| x.1).count() as f64;
            i = j + 1;
        }
        let auc = (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64;
        total += auc;
        classes += 1;
    }
    if classes == 0 {
        f64::NAN
    } else {
        total / classes as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_macro_f1_by_hand() {
        let labels = [0, 0, 1, 1, 2];
        let pred = [0, 1, 1, 1, 0];
        assert_eq!(accuracy(&pred, &labels), 0.6);
        // class 0: tp 1, pp 2, ap 2 → p .5 r .5 f .5; class 1: tp 2, pp 3, ap 2 → p 2/3 r 1 f .8;
        // class 2: tp 0, pp 0, ap 1 → 0.
        let (p, r, f) = macro_prf(&pred, &labels);
        assert!((p - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((r - 0.5).abs() < 1e-12);
        assert!((f - (0.5 + 0.8) / 3.0).abs() < 1e-12);
        assert_eq!(accuracy(&[], &[]), 0.0);
    }

    #[test]
    fn roc_auc_by_hand() {
        // class 0: scores pos {0.9, 0.4}, neg {0.5, 0.1}: pairs won 3 of 4 → 0.75;
        // class 1: pos {0.3}, neg {0.3, 0.2, 0.8}: 1 win + 1 tie of 3 → 0.5.
        let prob = [0.9, 0.3, 0.4, 0.3, 0.5, 0.2, 0.1, 0.8];
        let y = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert!((roc_auc_macro(&prob, &y, 2) - 0.625).abs() < 1e-12);
    }

    #[test]
    fn regression_metrics_by_hand() {
        let p = [1.0f32, 2.0, 4.0];
        let y = [1.0f32, 3.0, 2.0];
        assert!((Metric::Mse.regress(&p, &y) - 5.0 / 3.0).abs() < 1e-12);
        assert!((Metric::Rmse.regress(&p, &y) - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((Metric::Mae.regress(&p, &y) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn best_ties_move_to_the_later_evaluation() {
        let mut b = Best::new(Metric::Accuracy);
        assert!(b.update(0.5, 0.4, 10, 0));
        assert!(!b.update(0.4, 0.9, 20, 1));
        assert!(b.update(0.5, 0.6, 30, 2));
        assert_eq!((b.test, b.step), (0.6, 30));
        let mut r = Best::new(Metric::Rmse);
        assert!(r.update(2.0, 2.5, 1, 0));
        assert!(!r.update(3.0, 1.0, 2, 1));
        assert!(r.update(1.0, 1.5, 3, 2));
    }

    #[test]
    fn early_stop_average_and_consecutive() {
        let mut e = EarlyStop::new(1, 2, StopStrategy::AverageIncrease, true);
        assert!(!e.check(0.1)); // burn-in
        assert!(!e.check(0.5)); // fill
        assert!(!e.check(0.6)); // fill
        assert!(!e.check(0.7)); // 0.7 > mean(0.5, 0.6)
        assert!(e.check(0.6)); // 0.6 <= mean(0.6, 0.7)
        let mut c = EarlyStop::new(0, 2, StopStrategy::ConsecutiveIncrease, true);
        assert!(!c.check(0.5));
        assert!(!c.check(0.6));
        assert!(!c.check(0.55)); // not <= 0.6
        assert!(c.check(0.5)); // <= 0.6 and <= 0.55
    }
}
