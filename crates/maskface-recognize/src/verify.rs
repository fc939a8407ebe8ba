//! Face verification as LFW's protocol measures it: `pairs.txt` (10 folds
//! of 300 same-person and 300 different-person pairs); on each fold the
//! threshold that is best on the other nine is applied.

use std::path::PathBuf;

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
        let train = |f: usize| f != fold;
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
}
