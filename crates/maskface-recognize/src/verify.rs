//! Face verification as LFW's protocol measures it: `pairs.txt` (10 folds
//! of 300 same-person and 300 different-person pairs); on each fold the
//! threshold that is best on the other nine is applied.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::RecognizeError;

/// One pair of images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The first image, relative to the LFW root.
    pub a: PathBuf,
    /// The second image.
    pub b: PathBuf,
    /// Whether both show the same person.
    pub same: bool,
    /// The fold, `0..folds`.
    pub fold: usize,
}

fn image(name: &str, number: &str, line: usize) -> Result<PathBuf, RecognizeError> {
    let n: u32 = number.parse().map_err(|_| {
        RecognizeError::Data(format!(
            "pairs line {line}: `{number}` is not an image number"
        ))
    })?;
    Ok(PathBuf::from(format!("{name}/{name}_{n:04}.jpg")))
}

/// Reads LFW's `pairs.txt`: a header `folds pairs`, then per fold `pairs`
/// lines `name n1 n2` (same person) and `pairs` lines `name1 n1 name2 n2`.
pub fn parse_pairs(text: &str) -> Result<Vec<Pair>, RecognizeError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let bad = |line: usize, what: String| {
        RecognizeError::Data(format!("pairs line {}: {what}", line + 1))
    };
    let (h, header) = lines
        .next()
        .ok_or_else(|| RecognizeError::Data("empty pairs file".into()))?;
    let fields: Vec<usize> = header
        .split_whitespace()
        .map(|f| {
            f.parse::<usize>()
                .map_err(|_| bad(h, format!("header `{header}`")))
        })
        .collect::<Result<_, _>>()?;
    let [folds, per] = fields[..] else {
        return Err(bad(h, format!("header `{header}`: expected `folds pairs`")));
    };
    let mut pairs = Vec::with_capacity(folds * per * 2);
    for fold in 0..folds {
        for k in 0..2 * per {
            let (i, line) = lines.next().ok_or_else(|| {
                RecognizeError::Data(format!("pairs file ends in fold {}", fold + 1))
            })?;
            let f: Vec<&str> = line.split_whitespace().collect();
            let pair = match (k < per, f.len()) {
                (true, 3) => Pair {
                    a: image(f[0], f[1], i + 1)?,
                    b: image(f[0], f[2], i + 1)?,
                    same: true,
                    fold,
                },
                (false, 4) => Pair {
                    a: image(f[0], f[1], i + 1)?,
                    b: image(f[2], f[3], i + 1)?,
                    same: false,
                    fold,
                },
                _ => return Err(bad(i, format!("`{line}` out of place"))),
            };
            pairs.push(pair);
        }
    }
    Ok(pairs)
}

/// Reads a list of pairs, one per line: two image paths and a label
/// (`same`, `1`, `true` or `yes`; `different`, `0`, `false` or `no`),
/// separated by tabs, or by spaces when the paths have none. Paths are
/// joined to `base`; blank lines and lines starting with `#` are skipped.
/// Every pair is in fold 0.
pub fn parse_pair_list(text: &str, base: &Path) -> Result<Vec<Pair>, RecognizeError> {
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let bad = |what: String| RecognizeError::Data(format!("pairs line {}: {what}", i + 1));
        let [a, b, label] = fields[..] else {
            return Err(bad(format!(
                "`{line}`: expected two paths and same / different"
            )));
        };
        let same = match label.to_ascii_lowercase().as_str() {
            "same" | "1" | "true" | "yes" => true,
            "different" | "0" | "false" | "no" => false,
            other => return Err(bad(format!("`{other}` is neither same nor different"))),
        };
        pairs.push(Pair {
            a: base.join(a),
            b: base.join(b),
            same,
            fold: 0,
        });
    }
    if pairs.is_empty() {
        return Err(RecognizeError::Data("the pairs list holds no pair".into()));
    }
    Ok(pairs)
}

/// A pairs file as read by [`read_pairs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairsFile {
    /// The pairs.
    pub pairs: Vec<Pair>,
    /// The folder the pairs' paths are relative to.
    pub root: PathBuf,
    /// Whether the file is in LFW's `pairs.txt` format.
    pub lfw_format: bool,
}

/// Reads pairs in either format: LFW's `pairs.txt` (a first line of two
/// numbers; paths relative to `lfw`) or a [`parse_pair_list`] list (paths
/// relative to the list's folder; absolute paths stay as they are).
pub fn read_pairs(path: &Path, lfw: &Path) -> Result<PairsFile, RecognizeError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecognizeError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let fields: Vec<&str> = first.split_whitespace().collect();
    let named = |e: RecognizeError| RecognizeError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if fields.len() == 2 && fields.iter().all(|f| f.parse::<usize>().is_ok()) {
        Ok(PairsFile {
            pairs: parse_pairs(&text).map_err(named)?,
            root: lfw.to_path_buf(),
            lfw_format: true,
        })
    } else {
        Ok(PairsFile {
            pairs: parse_pair_list(&text, Path::new("")).map_err(named)?,
            root: path.parent().unwrap_or(Path::new("")).to_path_buf(),
            lfw_format: false,
        })
    }
}

/// Verification rates of similarities (higher: more alike) over pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VerificationRates {
    /// Same-person pairs accepted when 1% of different pairs are.
    pub tar_at_far_1: f64,
    /// Same-person pairs accepted when 0.1% of different pairs are.
    pub tar_at_far_0_1: f64,
    /// The equal error rate: where the false-accept and false-reject rates
    /// meet (their mean at the closest threshold).
    pub eer: f64,
    /// The similarity at the equal error rate.
    pub eer_threshold: f64,
}

/// [`VerificationRates`] of `similarity[i]` for `pairs[i]`; NaN rates when
/// either kind of pair is missing. A pair is accepted when its similarity
/// is above the threshold; the threshold for a FAR is the lowest one that
/// accepts at most that share of different pairs.
pub fn verification_rates(similarity: &[f64], pairs: &[Pair]) -> VerificationRates {
    let mut same: Vec<f64> = Vec::new();
    let mut diff: Vec<f64> = Vec::new();
    for (s, p) in similarity.iter().zip(pairs) {
        if p.same {
            same.push(*s);
        } else {
            diff.push(*s);
        }
    }
    if same.is_empty() || diff.is_empty() {
        return VerificationRates {
            tar_at_far_1: f64::NAN,
            tar_at_far_0_1: f64::NAN,
            eer: f64::NAN,
            eer_threshold: f64::NAN,
        };
    }
    diff.sort_by(|a, b| b.total_cmp(a));
    let tar_at = |far: f64| {
        // The k highest different-pair scores may be accepted.
        let k = (far * diff.len() as f64).floor() as usize;
        let t = diff.get(k).copied().unwrap_or(f64::NEG_INFINITY);
        same.iter().filter(|s| **s > t).count() as f64 / same.len() as f64
    };
    let mut candidates: Vec<f64> = same.iter().chain(&diff).copied().collect();
    candidates.sort_by(f64::total_cmp);
    let mut eer = (f64::INFINITY, f64::NAN, f64::NAN);
    for &t in &candidates {
        let far = diff.iter().filter(|s| **s >= t).count() as f64 / diff.len() as f64;
        let frr = same.iter().filter(|s| **s < t).count() as f64 / same.len() as f64;
        if (far - frr).abs() < eer.0 {
            eer = ((far - frr).abs(), (far + frr) / 2.0, t);
        }
    }
    VerificationRates {
        tar_at_far_1: tar_at(0.01),
        tar_at_far_0_1: tar_at(0.001),
        eer: eer.1,
        eer_threshold: eer.2,
    }
}

/// 10-fold verification accuracy: for each fold, the threshold on
/// `similarity` (same person when `>=`) that is most accurate on the other
/// folds is applied to it. Returns the mean and standard deviation over the
/// folds, and the thresholds.
pub fn fold_accuracy(
    similarity: &[f64],
    pairs: &[Pair],
) -> Result<(f64, f64, Vec<f64>), RecognizeError> {
    if similarity.len() != pairs.len() || pairs.is_empty() {
        return Err(RecognizeError::Data(format!(
            "{} similarities for {} pairs",
            similarity.len(),
            pairs.len()
        )));
    }
    let folds = pairs.iter().map(|p| p.fold).max().unwrap_or(0) + 1;
    // One fold has no other folds to pick its threshold on: it is picked
    // on the pairs themselves (an optimistic figure, said where reported).
    let single = folds == 1;
    let accuracy = |t: f64, keep: &dyn Fn(usize) -> bool| {
        let (mut right, mut n) = (0usize, 0usize);
        for (s, p) in similarity.iter().zip(pairs) {
            if keep(p.fold) {
                n += 1;
                right += usize::from((*s >= t) == p.same);
            }
        }
        right as f64 / n.max(1) as f64
    };
    let mut candidates: Vec<f64> = similarity
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .collect();
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    let mut accs = Vec::with_capacity(folds);
    let mut thresholds = Vec::with_capacity(folds);
    for fold in 0..folds {
        let train = |f: usize| single || f != fold;
        let mut best = (f64::NEG_INFINITY, f64::INFINITY);
        for &t in &candidates {
            let a = accuracy(t, &train);
            if a > best.0 {
                best = (a, t);
            }
        }
        thresholds.push(best.1);
        accs.push(accuracy(best.1, &|f: usize| f == fold));
    }
    let mean = accs.iter().sum::<f64>() / folds as f64;
    let var = accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / folds as f64;
    Ok((mean, var.sqrt(), thresholds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_folds_pick_thresholds() {
        let text = "2\t2\nAda\t1\t2\nBob\t1\t3\nAda\t1\tBob\t2\nCy\t4\tAda\t2\n\
                    Dee\t1\t2\nEd\t2\t5\nDee\t1\tEd\t1\nFay\t1\tGus\t1\n";
        let pairs = parse_pairs(text).unwrap();
        assert_eq!(pairs.len(), 8);
        assert_eq!(pairs[0].a, PathBuf::from("Ada/Ada_0001.jpg"));
        assert_eq!(pairs[3].b, PathBuf::from("Ada/Ada_0002.jpg"));
        assert!(pairs[1].same && !pairs[2].same);
        assert_eq!(pairs[4].fold, 1);
        // Same pairs score .9/.8 and .7/.95, different ones .1/.3 and .75/.2.
        let s = [0.9, 0.8, 0.1, 0.3, 0.7, 0.95, 0.75, 0.2];
        let (mean, _, t) = fold_accuracy(&s, &pairs).unwrap();
        // On fold 1 the first threshold right on 3 of 4 is .3 (it rejects
        // only .2 and .1-like scores): fold 0 at .3 wrongly accepts .3 -> 3/4.
        assert_eq!(t[0], 0.3);
        // On fold 0, .7 is right on all four; fold 1 at .7 accepts .75 -> 3/4.
        assert_eq!(t[1], 0.7);
        assert!((mean - 0.75).abs() < 1e-12, "{mean}");
        assert!(parse_pairs("2 2\nAda 1 2\n").is_err());
        assert!(parse_pairs("x\n").is_err());
        assert!(parse_pairs("1 1\nAda 1\nAda 1 Bob 1\n").is_err());
    }

    fn pair(same: bool) -> Pair {
        Pair {
            a: "a".into(),
            b: "b".into(),
            same,
            fold: 0,
        }
    }

    #[test]
    fn rates_at_far_and_the_equal_error_rate() {
        // 4 same pairs, 4 different; one different pair (0.8) outscores one
        // same pair (0.7).
        let s = [0.9, 0.95, 0.7, 0.85, 0.1, 0.8, 0.3, 0.2];
        let pairs: Vec<Pair> = (0..8).map(|i| pair(i < 4)).collect();
        let r = verification_rates(&s, &pairs);
        // At FAR 1% of 4 different pairs none may pass: the threshold is the
        // highest different score, 0.8, and 3 of 4 same pairs beat it.
        assert_eq!(r.tar_at_far_1, 0.75);
        assert_eq!(r.tar_at_far_0_1, 0.75);
        // At 0.8: FAR 1/4, FRR 1/4.
        assert_eq!(r.eer, 0.25);
        assert_eq!(r.eer_threshold, 0.8);
        let one_kind: Vec<Pair> = (0..2).map(|_| pair(true)).collect();
        assert!(verification_rates(&[0.5, 0.6], &one_kind).eer.is_nan());
    }

    #[test]
    fn pair_lists_read_paths_and_labels() {
        let text = "# a comment\nx/1.jpg\ty/2.jpg\tsame\n\nmy photo.jpg\tz.png\t0\na b YES\n";
        let pairs = parse_pair_list(text, Path::new("base")).unwrap();
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[0].a, PathBuf::from("base/x/1.jpg"));
        assert_eq!(pairs[1].a, PathBuf::from("base/my photo.jpg"));
        assert!(pairs[0].same && !pairs[1].same && pairs[2].same);
        let e = parse_pair_list("a b c d\n", Path::new("")).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(parse_pair_list("# nothing\n", Path::new("")).is_err());
        // One fold: the threshold is picked on the pairs themselves.
        let pairs: Vec<Pair> = (0..4).map(|i| pair(i < 2)).collect();
        let (mean, _, t) = fold_accuracy(&[0.9, 0.8, 0.2, 0.1], &pairs).unwrap();
        assert_eq!(mean, 1.0);
        assert_eq!(t, vec![0.8]);
    }
}
