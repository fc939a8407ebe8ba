//! Open-set identification metrics, as NIST FRVT 1:N and IJB-C report them.

use serde::{Deserialize, Serialize};

/// One probe of an open-set test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// The open-set score (higher: more likely a target).
    pub score: f64,
    /// The identity the system names.
    pub predicted: u32,
    /// The true identity; `None` for a non-target (a stranger).
    pub truth: Option<u32>,
}

/// What one threshold gives on a set of probes: a point of the open-set
/// ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// The threshold. [`dir_at`] and [`dir_at_fpir`] accept the scores
    /// above it; a point of [`dir_curve`] accepts the scores at or above it
    /// (the lowest score it accepts).
    pub threshold: f64,
    /// False-positive identification rate: the fraction of non-targets
    /// accepted.
    pub fpir: f64,
    /// Detection and identification rate: the fraction of targets accepted
    /// *and* named correctly (1 - FNIR).
    pub dir: f64,
}

/// Area under the ROC curve of target against non-target scores: the
/// probability that a random target scores above a random non-target, ties
/// counting half (the Mann-Whitney statistic; scikit-learn's
/// `roc_auc_score`). NaN when either set is empty.
pub fn auroc(targets: &[f64], nontargets: &[f64]) -> f64 {
    if targets.is_empty() || nontargets.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = targets
        .iter()
        .map(|&s| (s, true))
        .chain(nontargets.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the target ranks, ties given their mean rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mean_rank * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (nt, nn) = (targets.len() as f64, nontargets.len() as f64);
    (rank_sum - nt * (nt + 1.0) / 2.0) / (nt * nn)
}

/// The linear-interpolation percentile (numpy's default), `q` in `[0, 100]`.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() || !(0.0..=100.0).contains(&q) {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The lowest threshold at which at most a fraction `fpir` of the
/// non-targets is accepted (a probe is accepted when its score is above the
/// threshold).
pub fn threshold_at_fpir(nontargets: &[f64], fpir: f64) -> f64 {
    if nontargets.is_empty() {
        return f64::NEG_INFINITY;
    }
    let mut v = nontargets.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    let allowed = (fpir.clamp(0.0, 1.0) * v.len() as f64).floor() as usize;
    if allowed >= v.len() {
        return f64::NEG_INFINITY;
    }
    v[allowed]
}

/// Closed-set rank-1 accuracy over the target probes.
pub fn rank1(probes: &[Probe]) -> f64 {
    let targets: Vec<&Probe> = probes.iter().filter(|p| p.truth.is_some()).collect();
    if targets.is_empty() {
        return f64::NAN;
    }
    targets
        .iter()
        .filter(|p| p.truth == Some(p.predicted))
        .count() as f64
        / targets.len() as f64
}

/// The DIR and FPIR at `threshold` (probes scoring above it are accepted).
pub fn dir_at(probes: &[Probe], threshold: f64) -> OperatingPoint {
    let (mut hits, mut targets, mut false_alarms, mut strangers) = (0usize, 0usize, 0usize, 0usize);
    for p in probes {
        let accepted = p.score > threshold;
        match p.truth {
            Some(t) => {
                targets += 1;
                hits += usize::from(accepted && p.predicted == t);
            }
            None => {
                strangers += 1;
                false_alarms += usize::from(accepted);
            }
        }
    }
    OperatingPoint {
        threshold,
        fpir: false_alarms as f64 / strangers.max(1) as f64,
        dir: hits as f64 / targets.max(1) as f64,
    }
}

/// The operating point at the threshold that gives a false-positive
/// identification rate of at most `fpir` on these probes' non-targets
/// ([`threshold_at_fpir`]).
pub fn dir_at_fpir(probes: &[Probe], fpir: f64) -> OperatingPoint {
    let nontargets: Vec<f64> = probes
        .iter()
        .filter(|p| p.truth.is_none())
        .map(|p| p.score)
        .collect();
    dir_at(probes, threshold_at_fpir(&nontargets, fpir))
}

/// How much DIR at one FPIR moves when other strangers are drawn: the mean
/// and standard deviation over bootstrap resamples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DirSpread {
    /// The FPIR the threshold is set at.
    pub fpir: f64,
    /// Resamples drawn.
    pub draws: usize,
    /// The mean DIR over them.
    pub mean: f64,
    /// Its standard deviation.
    pub std: f64,
}

/// DIR at `fpir` over `draws` resamples of the strangers: the stranger
/// probes belong to groups (`stranger_groups`, one per stranger probe in
/// the order they appear in `probes`: the person each photo shows), and
/// each resample draws as many groups as there are, with replacement
/// (seeded by `seed`), so one stranger's photos stay together; the targets
/// stay as they are. With no stranger or no draw it is the plain
/// [`dir_at_fpir`] with a spread of 0; group ids need not be contiguous.
pub fn dir_at_fpir_bootstrap(
    probes: &[Probe],
    stranger_groups: &[usize],
    fpir: f64,
    draws: usize,
    seed: u64,
) -> DirSpread {
    use rand::Rng;
    use std::collections::BTreeMap;
    let plain = DirSpread {
        fpir,
        draws: 0,
        mean: dir_at_fpir(probes, fpir).dir,
        std: 0.0,
    };
    let mut groups: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (p, g) in probes
        .iter()
        .filter(|p| p.truth.is_none())
        .zip(stranger_groups)
    {
        groups.entry(*g).or_default().push(p.score);
    }
    if groups.is_empty() || draws == 0 {
        return plain;
    }
    let groups: Vec<Vec<f64>> = groups.into_values().collect();
    let mut rng = maskface_core::rng_for(seed, "dir-at-fpir-bootstrap");
    let dirs: Vec<f64> = (0..draws)
        .map(|_| {
            let strangers: Vec<f64> = (0..groups.len())
                .flat_map(|_| groups[rng.random_range(0..groups.len())].iter().copied())
                .collect();
            dir_at(probes, threshold_at_fpir(&strangers, fpir)).dir
        })
        .collect();
    let mean = dirs.iter().sum::<f64>() / draws as f64;
    let var = dirs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws as f64;
    DirSpread {
        fpir,
        draws,
        mean,
        std: var.sqrt(),
    }
}

/// The open-set ROC curve: an operating point at every distinct score, from
/// accepting nothing (`threshold = +inf`) to accepting everything; a point's
/// threshold is the lowest score it accepts (scores `>=` it). NaN scores are
/// never accepted. The DET curve is the same points with `fnir = 1 - dir`.
pub fn dir_curve(probes: &[Probe]) -> Vec<OperatingPoint> {
    let mut sorted: Vec<&Probe> = probes.iter().filter(|p| !p.score.is_nan()).collect();
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    let targets = probes.iter().filter(|p| p.truth.is_some()).count().max(1) as f64;
    let strangers = probes.iter().filter(|p| p.truth.is_none()).count().max(1) as f64;
    let mut curve = vec![OperatingPoint {
        threshold: f64::INFINITY,
        fpir: 0.0,
        dir: 0.0,
    }];
    let (mut hits, mut false_alarms) = (0usize, 0usize);
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].score;
        // A tie group moves the curve in one step.
        while i < sorted.len() && sorted[i].score == t {
            match sorted[i].truth {
                Some(truth) => hits += usize::from(sorted[i].predicted == truth),
                None => false_alarms += 1,
            }
            i += 1;
        }
        curve.push(OperatingPoint {
            threshold: t,
            fpir: false_alarms as f64 / strangers,
            dir: hits as f64 / targets,
        });
    }
    curve
}

/// Open-set classification rate: the area under DIR (correct and accepted
/// targets) against FPIR (accepted non-targets) (Dhamija et al., 2018).
pub fn oscr(probes: &[Probe]) -> f64 {
    let curve = dir_curve(probes);
    curve
        .windows(2)
        .map(|w| (w[1].fpir - w[0].fpir) * (w[1].dir + w[0].dir) / 2.0)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_matches_scikit_learn() {
        // roc_auc_score([1,1,1,1,0,0,0,0,0,1], [.9,.8,.55,.3,.6,.2,.3,.1,.55,.7])
        let t = [0.9, 0.8, 0.55, 0.3, 0.7];
        let n = [0.6, 0.2, 0.3, 0.1, 0.55];
        assert!((auroc(&t, &n) - 0.8400000000000001).abs() < 1e-12);
        assert_eq!(auroc(&[1.0], &[0.0]), 1.0);
        assert_eq!(auroc(&[0.0], &[1.0]), 0.0);
        assert_eq!(auroc(&[1.0], &[1.0]), 0.5);
        assert!(auroc(&[], &[1.0]).is_nan());
        // Ties across the sets, and -0.0 against 0.0 (numpy rng 7, rounded
        // to one decimal): roc_auc_score = 0.9361111111111111.
        let t = [1.0, 1.3, 0.7, 0.1, 0.5, 0.0, 1.1, 2.3, 0.5, 0.4, 1.5, 1.4];
        let n = [
            0.1, -0.9, -0.0, 0.7, -1.3, -0.5, -1.9, -1.3, -1.8, -0.2, -1.3, 0.3, 0.2, -0.2, -2.5,
        ];
        assert!((auroc(&t, &n) - 0.9361111111111111).abs() < 1e-12);
    }

    /// Four targets named right at .9, .7, .5, .3; strangers in groups.
    fn grouped(strangers: &[f64]) -> Vec<Probe> {
        let mut p: Vec<Probe> = [0.9, 0.7, 0.5, 0.3]
            .iter()
            .map(|&score| Probe {
                score,
                predicted: 0,
                truth: Some(0),
            })
            .collect();
        p.extend(strangers.iter().map(|&score| Probe {
            score,
            predicted: 0,
            truth: None,
        }));
        p
    }

    #[test]
    fn bootstrap_spread_comes_from_the_strangers_drawn() {
        // Two strangers of two photos each, both at .1: every resample gives
        // the same threshold, so no spread.
        let calm = grouped(&[0.1, 0.1, 0.1, 0.1]);
        let s = dir_at_fpir_bootstrap(&calm, &[7, 7, 9, 9], 0.0, 200, 1);
        assert_eq!((s.mean, s.std, s.draws), (1.0, 0.0, 200));
        // One stranger at .8 (two photos), one at .1: at FPIR 0 a resample
        // holding the first names one target (DIR .25), one without it all
        // four; three of four resamples hold it.
        let wild = grouped(&[0.8, 0.8, 0.1, 0.1]);
        let s = dir_at_fpir_bootstrap(&wild, &[0, 0, 1, 1], 0.0, 4000, 1);
        assert!((s.mean - (0.75 * 0.25 + 0.25 * 1.0)).abs() < 0.03, "{s:?}");
        let expected_std = 0.75f64.sqrt() * 0.25f64.sqrt() * 0.75;
        assert!((s.std - expected_std).abs() < 0.03, "{s:?}");
        // Seeded: the same seed, the same figures.
        assert_eq!(s, dir_at_fpir_bootstrap(&wild, &[0, 0, 1, 1], 0.0, 4000, 1));
        // No draw, or no stranger: the plain figure.
        let none = dir_at_fpir_bootstrap(&wild, &[0, 0, 1, 1], 0.0, 0, 1);
        assert_eq!((none.mean, none.std), (dir_at_fpir(&wild, 0.0).dir, 0.0));
        let alone = grouped(&[]);
        assert_eq!(dir_at_fpir_bootstrap(&alone, &[], 0.01, 10, 1).std, 0.0);
    }

    #[test]
    fn percentiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((percentile(&v, 5.0) - 1.2).abs() < 1e-12);
        assert!((percentile(&v, 95.0) - 8.799999999999999).abs() < 1e-12);
        assert_eq!(percentile(&v, 50.0), 3.0);
    }

    fn probes() -> Vec<Probe> {
        // Targets: right at .9 and .7, wrong at .8, right at .4.
        // Strangers at .85, .5, .3, .2.
        vec![
            Probe {
                score: 0.9,
                predicted: 1,
                truth: Some(1),
            },
            Probe {
                score: 0.8,
                predicted: 2,
                truth: Some(3),
            },
            Probe {
                score: 0.7,
                predicted: 4,
                truth: Some(4),
            },
            Probe {
                score: 0.4,
                predicted: 5,
                truth: Some(5),
            },
            Probe {
                score: 0.85,
                predicted: 1,
                truth: None,
            },
            Probe {
                score: 0.5,
                predicted: 2,
                truth: None,
            },
            Probe {
                score: 0.3,
                predicted: 2,
                truth: None,
            },
            Probe {
                score: 0.2,
                predicted: 2,
                truth: None,
            },
        ]
    }

    #[test]
    fn hand_computed_open_set_figures() {
        let p = probes();
        assert_eq!(rank1(&p), 0.75);
        let point = |threshold, fpir, dir| OperatingPoint {
            threshold,
            fpir,
            dir,
        };
        // FPIR 0: threshold .85, only the .9 target passes: DIR 1/4.
        assert_eq!(dir_at_fpir(&p, 0.0), point(0.85, 0.0, 0.25));
        // FPIR 25% (one stranger of four): threshold .5: .9 and .7 right.
        assert_eq!(dir_at_fpir(&p, 0.25), point(0.5, 0.25, 0.5));
        // FPIR 50%: threshold .3: .9, .7, .4 right.
        assert_eq!(dir_at_fpir(&p, 0.5), point(0.3, 0.5, 0.75));
        assert_eq!(dir_at(&p, 0.0), point(0.0, 1.0, 0.75));
        // OSCR by hand: steps of DIR over FPIR (trapezoids).
        // Curve: (0,0) (0,.25)@.9 (.25,.25)@.85 (.25,.25)@.8 (.25,.5)@.7
        // (.5,.5)@.5 (.5,.75)@.4 (.75,.75)@.3 (1,.75)@.2
        let area = 0.25 * 0.25 + 0.25 * 0.5 + 0.25 * 0.75 + 0.25 * 0.75;
        assert!((oscr(&p) - area).abs() < 1e-12, "{}", oscr(&p));
    }
}
