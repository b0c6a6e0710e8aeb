//! Statistics: means and percentile bootstrap confidence intervals.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Arithmetic mean (0 for an empty slice).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// A point estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The point estimate (the sample mean).
    pub estimate: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Linear-interpolated quantile of sorted values (`q` in [0, 1]).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Percentile bootstrap CI of the mean, deterministic for a given `seed`.
pub fn bootstrap_mean_ci(values: &[f64], resamples: usize, confidence: f64, seed: u64) -> Interval {
    if values.is_empty() {
        return Interval {
            estimate: 0.0,
            lo: 0.0,
            hi: 0.0,
        };
    }
    let estimate = mean(values);
    if values.len() == 1 || resamples == 0 {
        return Interval {
            estimate,
            lo: estimate,
            hi: estimate,
        };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = values.len();
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence.clamp(0.0, 1.0)) / 2.0;
    Interval {
        estimate,
        lo: quantile(&means, alpha),
        hi: quantile(&means, 1.0 - alpha),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_basics() {
        assert_eq!(mean(&[]), 0.0);
        assert!((mean(&[1.0, 2.0, 3.0]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn quantile_interpolates() {
        // sorted [0,10]: q=0.25 → pos 0.25 → 2.5
        assert!((quantile(&[0.0, 10.0], 0.25) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_edge_cases() {
        assert_eq!(
            bootstrap_mean_ci(&[], 1000, 0.95, 1),
            Interval {
                estimate: 0.0,
                lo: 0.0,
                hi: 0.0
            }
        );
        assert_eq!(
            bootstrap_mean_ci(&[0.4], 1000, 0.95, 1),
            Interval {
                estimate: 0.4,
                lo: 0.4,
                hi: 0.4
            }
        );
        let c = bootstrap_mean_ci(&[2.0, 2.0, 2.0], 100, 0.95, 3);
        assert!((c.lo - 2.0).abs() < 1e-12 && (c.hi - 2.0).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_deterministic_and_brackets() {
        let v: Vec<f64> = (0..50).map(|i| (i % 2) as f64).collect();
        let a = bootstrap_mean_ci(&v, 1000, 0.95, 7);
        let b = bootstrap_mean_ci(&v, 1000, 0.95, 7);
        assert_eq!(a, b);
        assert!(a.lo <= a.estimate && a.estimate <= a.hi);
        assert!(a.lo > 0.2 && a.hi < 0.8 && a.hi > a.lo);
    }
}
