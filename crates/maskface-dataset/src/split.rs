use std::collections::BTreeMap;

use maskface_core::{rng_for, Manifest, Split, Stage};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{DatasetError, TOOL};

/// Fractions of each identity's images that go to train, val and test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitRatios {
    /// Training fraction.
    pub train: f64,
    /// Validation fraction.
    pub val: f64,
    /// Test fraction.
    pub test: f64,
}

impl Default for SplitRatios {
    /// The paper's 0.8 / 0.1 / 0.1.
    fn default() -> Self {
        SplitRatios {
            train: 0.8,
            val: 0.1,
            test: 0.1,
        }
    }
}

impl SplitRatios {
    /// Checks that the ratios are finite, non-negative and sum to 1 (within 1e-6),
    /// and that train is positive.
    pub fn validate(&self) -> Result<(), DatasetError> {
        let all = [self.train, self.val, self.test];
        if all.iter().any(|r| !r.is_finite() || *r < 0.0) || self.train <= 0.0 {
            return Err(DatasetError::InvalidParameter {
                name: "ratios",
                reason: format!("{all:?}: each must be >= 0 and train > 0"),
            });
        }
        let sum: f64 = all.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(DatasetError::InvalidParameter {
                name: "ratios",
                reason: format!("{all:?} sum to {sum}, not 1"),
            });
        }
        Ok(())
    }
}

/// How many of `n` images go to train, val and test.
///
/// Largest-remainder rounding of `n * ratio` (ties go to train, then val),
/// then every split with a positive ratio gets at least one image, taken
/// from the largest split. `None` when `n` is smaller than the number of
/// splits with a positive ratio.
///
/// ```
/// use maskface_dataset::{split_counts, SplitRatios};
/// let r = SplitRatios::default();
/// assert_eq!(split_counts(20, &r), Some([16, 2, 2]));
/// assert_eq!(split_counts(25, &r), Some([20, 3, 2]));
/// assert_eq!(split_counts(3, &r), Some([1, 1, 1]));
/// assert_eq!(split_counts(2, &r), None);
/// ```
pub fn split_counts(n: usize, ratios: &SplitRatios) -> Option<[usize; 3]> {
    let r = [ratios.train, ratios.val, ratios.test];
    let needed = r.iter().filter(|x| **x > 0.0).count();
    if n < needed {
        return None;
    }
    let exact: Vec<f64> = r.iter().map(|x| x * n as f64).collect();
    let mut counts = [0usize; 3];
    for k in 0..3 {
        counts[k] = exact[k].floor() as usize;
    }
    let mut left = n.saturating_sub(counts.iter().sum());
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.partial_cmp(&fa)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for &k in order.iter().cycle() {
        if left == 0 {
            break;
        }
        if r[k] > 0.0 {
            counts[k] += 1;
            left -= 1;
        }
    }
    for k in 0..3 {
        if r[k] > 0.0 && counts[k] == 0 {
            let donor = (0..3).max_by_key(|&d| (counts[d], usize::MAX - d))?;
            counts[donor] -= 1;
            counts[k] += 1;
        }
    }
    Some(counts)
}

/// Assigns every sample of `manifest` to train, val or test, per identity.
///
/// Each identity's images are sorted by path and shuffled by ChaCha8 seeded
/// with `seed` on a stream derived from the identity's name, so an
/// identity's split depends only on the seed and its own images, not on which
/// other identities are in the dataset. Counts follow [`split_counts`]. An
/// identity with fewer images than there are non-empty splits makes the
/// whole call fail, naming every such identity.
///
/// Samples come out ordered by label, then path.
pub fn split_stratified(
    manifest: &Manifest,
    ratios: &SplitRatios,
    seed: u64,
) -> Result<Manifest, DatasetError> {
    ratios.validate()?;
    let mut by_identity: BTreeMap<(u32, &str), Vec<usize>> = BTreeMap::new();
    for (i, s) in manifest.samples.iter().enumerate() {
        by_identity
            .entry((s.label, s.identity.as_str()))
            .or_default()
            .push(i);
    }
    let mut bad = Vec::new();
    let mut out = Manifest {
        info: manifest.info.clone(),
        samples: Vec::with_capacity(manifest.samples.len()),
    };
    for ((_, name), mut idx) in by_identity {
        idx.sort_by(|&a, &b| manifest.samples[a].path.cmp(&manifest.samples[b].path));
        let Some([n_train, n_val, _]) = split_counts(idx.len(), ratios) else {
            bad.push((name.to_string(), idx.len()));
            continue;
        };
        let mut rng = rng_for(seed, name);
        for i in (1..idx.len()).rev() {
            let j = rng.random_range(0..=i);
            idx.swap(i, j);
        }
        let mut assigned: Vec<_> = idx
            .iter()
            .enumerate()
            .map(|(rank, &i)| {
                let mut s = manifest.samples[i].clone();
                s.split = if rank < n_train {
                    Split::Train
                } else if rank < n_train + n_val {
                    Split::Val
                } else {
                    Split::Test
                };
                s
            })
            .collect();
        assigned.sort_by(|a, b| a.path.cmp(&b.path));
        out.samples.extend(assigned);
    }
    if !bad.is_empty() {
        let needed = [ratios.train, ratios.val, ratios.test]
            .iter()
            .filter(|r| **r > 0.0)
            .count();
        let details = bad
            .iter()
            .map(|(n, c)| {
                format!("  {n}: {c} image(s), needs at least {needed} (one per non-empty split)")
            })
            .collect::<Vec<_>>()
            .join("\n");
        return Err(DatasetError::Unsplittable {
            identities: bad.into_iter().map(|(n, _)| n).collect(),
            details,
        });
    }
    let counts: BTreeMap<&str, usize> = Split::ASSIGNED
        .iter()
        .map(|s| (s.as_str(), out.count(*s)))
        .collect();
    out.info.stages.push(Stage {
        step: "split".into(),
        tool: TOOL.into(),
        params: serde_json::json!({ "ratios": ratios, "seed": seed, "counts": counts }),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use maskface_core::Sample;
    use proptest::prelude::*;

    fn manifest(counts: &[usize]) -> Manifest {
        let mut m = Manifest::new("/r");
        for (label, &c) in counts.iter().enumerate() {
            let name = format!("P{label}");
            for k in 0..c {
                m.samples.push(Sample::new(
                    format!("{name}/{k:04}.jpg"),
                    name.clone(),
                    label as u32,
                    Split::Unassigned,
                ));
            }
        }
        m
    }

    #[test]
    fn identity_split_is_independent_of_other_identities() {
        let r = SplitRatios::default();
        let a = split_stratified(&manifest(&[30]), &r, 9).unwrap();
        let b = split_stratified(&manifest(&[30, 12, 40]), &r, 9).unwrap();
        let p0 = |m: &Manifest| {
            m.samples
                .iter()
                .filter(|s| s.label == 0)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(p0(&a), p0(&b));
        let c = split_stratified(&manifest(&[30]), &r, 10).unwrap();
        assert_ne!(p0(&a), p0(&c), "another seed must give another split");
    }

    #[test]
    fn unsplittable_identities_are_all_named() {
        let mut m = manifest(&[2, 10, 1]);
        m.samples
            .iter_mut()
            .for_each(|s| s.identity = format!("Person{}", s.label));
        let e = split_stratified(&m, &SplitRatios::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Person0: 2 image(s)") && e.contains("Person2: 1 image(s)"),
            "{e}"
        );
        assert!(!e.contains("Person1"));
        // A two-way split accepts identities with two images.
        let two_way = SplitRatios {
            train: 0.5,
            val: 0.5,
            test: 0.0,
        };
        assert!(split_stratified(&manifest(&[2, 2]), &two_way, 0).is_ok());
    }

    #[test]
    fn bad_ratios_rejected() {
        let m = manifest(&[10]);
        for r in [
            (0.5, 0.5, 0.5),
            (0.0, 0.5, 0.5),
            (-0.1, 0.6, 0.5),
            (f64::NAN, 0.5, 0.5),
        ] {
            let r = SplitRatios {
                train: r.0,
                val: r.1,
                test: r.2,
            };
            assert!(split_stratified(&m, &r, 0).is_err(), "{r:?}");
        }
    }

    proptest! {
        #[test]
        fn counts_sum_and_minimums(n in 0usize..200, t in 0.05f64..1.0, v in 0.0f64..1.0) {
            let v = v * (1.0 - t);
            let r = SplitRatios { train: t, val: v, test: 1.0 - t - v };
            match split_counts(n, &r) {
                None => prop_assert!(n < 3),
                Some(c) => {
                    prop_assert_eq!(c.iter().sum::<usize>(), n);
                    for (k, ratio) in [r.train, r.val, r.test].iter().enumerate() {
                        if *ratio > 0.0 { prop_assert!(c[k] >= 1); }
                        // Never more than one image away from the exact share,
                        // except where a minimum of one was enforced.
                        if c[k] > 1 { prop_assert!((c[k] as f64 - ratio * n as f64).abs() <= 2.0); }
                    }
                }
            }
        }

        #[test]
        fn split_is_a_partition(counts in proptest::collection::vec(3usize..40, 1..6), seed in any::<u64>()) {
            let m = manifest(&counts);
            let s = split_stratified(&m, &SplitRatios::default(), seed).unwrap();
            prop_assert_eq!(s.samples.len(), m.samples.len());
            let mut a: Vec<_> = m.samples.iter().map(|x| x.path.clone()).collect();
            let mut b: Vec<_> = s.samples.iter().map(|x| x.path.clone()).collect();
            a.sort(); b.sort();
            prop_assert_eq!(a, b);
            for label in 0..counts.len() as u32 {
                for split in Split::ASSIGNED {
                    prop_assert!(s.samples.iter().any(|x| x.label == label && x.split == split));
                }
            }
        }
    }
}
