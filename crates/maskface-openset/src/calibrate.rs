//! Thresholds: the paper's percentile rule and a target FPIR.

use serde::{Deserialize, Serialize};

use crate::{percentile, threshold_at_fpir};

/// The paper's rule: the `p`-th percentile of the target scores (most
/// targets score above it) against the `(100 - p)`-th percentile of the
/// non-target scores (most strangers score below it). The gap between them
/// is the paper's "exponential margin"; the threshold sits in its middle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PercentileRule {
    /// The target percentile (low end of the targets).
    pub target: f64,
    /// The non-target percentile (high end of the strangers).
    pub nontarget: f64,
    /// `target - nontarget`: positive when the two sets separate.
    pub margin: f64,
    /// The midpoint, the threshold in force.
    pub threshold: f64,
}

impl PercentileRule {
    /// Calibrates on target and non-target scores with percentile `p` (the
    /// paper: 5).
    pub fn calibrate(targets: &[f64], nontargets: &[f64], p: f64) -> Self {
        let target = percentile(targets, p);
        let nontarget = percentile(nontargets, 100.0 - p);
        PercentileRule {
            target,
            nontarget,
            margin: target - nontarget,
            threshold: (target + nontarget) / 2.0,
        }
    }
}

/// The threshold that accepts at most a fraction `fpir` of the calibration
/// set's non-targets.
pub fn calibrate_fpir(nontargets: &[f64], fpir: f64) -> f64 {
    threshold_at_fpir(nontargets, fpir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_rule_by_hand() {
        let t = [5.0, 6.0, 7.0, 8.0, 9.0];
        let n = [1.0, 2.0, 3.0, 4.0, 10.0];
        let r = PercentileRule::calibrate(&t, &n, 5.0);
        // numpy: percentile(t, 5) = 5.2, percentile(n, 95) = 8.8
        assert!((r.target - 5.2).abs() < 1e-12 && (r.nontarget - 8.8).abs() < 1e-12);
        assert!((r.margin + 3.6).abs() < 1e-12);
        assert!((r.threshold - 7.0).abs() < 1e-12);
        assert_eq!(calibrate_fpir(&n, 0.2), 4.0);
    }
}
