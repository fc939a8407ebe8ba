//! Open-set scores from a classifier's logits (or a gallery's similarities),
//! computed without overflow: every exponential goes through log-sum-exp.

use serde::{Deserialize, Serialize};

/// `log(sum(exp(v)))` without overflow; `-inf` for an empty slice, NaN if
/// any value is NaN.
pub fn log_sum_exp(v: &[f32]) -> f64 {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    if !max.is_finite() {
        return f64::from(max);
    }
    let m = f64::from(max);
    m + v
        .iter()
        .map(|&x| (f64::from(x) - m).exp())
        .sum::<f64>()
        .ln()
}

/// The open-set scores: higher means "more likely one of the targets".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// The paper's confidence score `max(exp(l)) / mean(exp(l))`, which is
    /// `n` times the maximum softmax probability: in `[1, n]`, so a
    /// threshold depends on the number of classes. Invariant to adding a
    /// constant to every logit.
    #[cfg_attr(
        feature = "clap",
        value(help = "The paper's max(exp(l)) / mean(exp(l)) (n times the max softmax)")
    )]
    Confidence,
    /// The maximum softmax probability, in `[1/n, 1]`. Invariant to adding
    /// a constant.
    #[cfg_attr(feature = "clap", value(help = "The largest softmax probability"))]
    MaxSoftmax,
    /// The largest logit. Not invariant to adding a constant.
    #[cfg_attr(
        feature = "clap",
        value(help = "The largest logit (for a distance model: minus the closest distance)")
    )]
    MaxLogit,
    /// The negative free energy, `log(sum(exp(l)))`. Not invariant to
    /// adding a constant (it shifts by it).
    #[cfg_attr(feature = "clap", value(help = "log(sum(exp(l)))"))]
    Energy,
    /// The largest value as given: for cosine similarities to class centres
    /// or gallery templates (in `[-1, 1]`;
    /// [`maskface_core::vector::cosine_similarity`]).
    #[cfg_attr(
        feature = "clap",
        value(help = "The largest cosine similarity (embedding models)")
    )]
    MaxSimilarity,
}

impl Score {
    /// Every score.
    pub const ALL: [Score; 5] = [
        Score::Confidence,
        Score::MaxSoftmax,
        Score::MaxLogit,
        Score::Energy,
        Score::MaxSimilarity,
    ];

    /// The score of one face from its logits (or similarities). NaN for an
    /// empty slice or when any value is NaN: such a probe has no score, and
    /// [`crate::OpenSetParams::evaluate`] refuses it.
    pub fn of(&self, logits: &[f32]) -> f64 {
        if logits.is_empty() || logits.iter().any(|x| x.is_nan()) {
            return f64::NAN;
        }
        let max = f64::from(logits.iter().copied().fold(f32::NEG_INFINITY, f32::max));
        match self {
            Score::MaxLogit | Score::MaxSimilarity => max,
            Score::Energy => log_sum_exp(logits),
            // softmax max = exp(max - lse): stable for any logits.
            Score::MaxSoftmax => (max - log_sum_exp(logits)).exp(),
            Score::Confidence => logits.len() as f64 * (max - log_sum_exp(logits)).exp(),
        }
    }

    /// The name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Score::Confidence => "confidence",
            Score::MaxSoftmax => "max_softmax",
            Score::MaxLogit => "max_logit",
            Score::Energy => "energy",
            Score::MaxSimilarity => "max_similarity",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let l = [1.0f32, 2.0, 3.0];
        let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((Score::Energy.of(&l) - lse).abs() < 1e-12);
        let msp = 3f64.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp());
        assert!((Score::MaxSoftmax.of(&l) - msp).abs() < 1e-12);
        // The paper's form, computed directly where it does not overflow.
        let cs = 3f64.exp() / ((1f64.exp() + 2f64.exp() + 3f64.exp()) / 3.0);
        assert!((Score::Confidence.of(&l) - cs).abs() < 1e-12);
        assert_eq!(Score::MaxLogit.of(&l), 3.0);
        assert!(Score::Confidence.of(&[]).is_nan());
        assert!(Score::Energy.of(&[1.0, f32::NAN]).is_nan());
    }

    #[test]
    fn max_similarity_is_the_largest_cosine() {
        let t = [[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]];
        let s: Vec<f32> = t
            .iter()
            .map(|t| maskface_core::vector::cosine_similarity(&[1.0, 1.0], t))
            .collect();
        assert_eq!(Score::MaxSimilarity.of(&s), f64::from(s[0].max(s[1])));
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for l in [
            [100.0f32, -100.0, 0.0],
            [1e30, 1e30, -1e30],
            [-1e30, -1e30, -1e30],
        ] {
            for s in Score::ALL {
                assert!(s.of(&l).is_finite(), "{s:?} {l:?}");
            }
        }
        assert!((Score::Confidence.of(&[100.0, -100.0, 0.0]) - 3.0).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn shift_invariance_where_it_should_hold(
            l in proptest::collection::vec(-50.0f32..50.0, 2..20), c in -100.0f32..100.0,
        ) {
            let shifted: Vec<f32> = l.iter().map(|x| x + c).collect();
            for s in [Score::Confidence, Score::MaxSoftmax] {
                // Up to the f32 rounding of the shifted logits.
                prop_assert!((s.of(&l) - s.of(&shifted)).abs() < 1e-4 * s.of(&l).abs().max(1.0));
            }
            // These are not invariant: they move with the shift.
            let e = Score::Energy.of(&shifted) - Score::Energy.of(&l);
            prop_assert!((e - f64::from(c)).abs() < 1e-3);
            let m = Score::MaxLogit.of(&shifted) - Score::MaxLogit.of(&l);
            prop_assert!((m - f64::from(c)).abs() < 1e-3);
        }

        #[test]
        fn monotone_in_the_top_logit(
            l in proptest::collection::vec(-50.0f32..50.0, 2..20), bump in 0.01f32..10.0,
        ) {
            let top = maskface_core::vector::argmax(&l).unwrap_or(0);
            let mut up = l.clone();
            up[top] += bump;
            for s in Score::ALL {
                prop_assert!(s.of(&up) >= s.of(&l), "{:?}", s);
            }
            let n = l.len() as f64;
            let cs = Score::Confidence.of(&l);
            prop_assert!((1.0 - 1e-9..=n + 1e-9).contains(&cs));
        }
    }
}
