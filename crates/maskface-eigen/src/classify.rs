//! Classifiers on projections: nearest neighbour and nearest class mean,
//! with an optional distance threshold for "none of the known people".

use ndarray::{Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::{EigenError, Fit};

/// How far apart two projections are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Euclidean distance.
    Euclidean,
    /// One minus the cosine similarity (0 for the same direction, 2 for
    /// opposite ones).
    #[cfg_attr(feature = "clap", value(help = "One minus the cosine similarity"))]
    Cosine,
}

impl Metric {
    /// The distance between `a` and `b`.
    pub fn distance(&self, a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
        match self {
            Metric::Euclidean => a
                .iter()
                .zip(b.iter())
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt(),
            Metric::Cosine => {
                let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
                for (x, y) in a.iter().zip(b.iter()) {
                    ab += x * y;
                    aa += x * x;
                    bb += y * y;
                }
                if aa == 0.0 || bb == 0.0 {
                    1.0
                } else {
                    1.0 - ab / (aa.sqrt() * bb.sqrt())
                }
            }
        }
    }
}

/// Which classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The label of the closest training sample.
    #[cfg_attr(
        feature = "clap",
        value(name = "nn", help = "The label of the closest training image")
    )]
    NearestNeighbour,
    /// The label of the closest class mean.
    #[cfg_attr(feature = "clap", value(name = "mean"))]
    NearestMean,
}

/// Parameters of a [`Nearest`] classifier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NearestParams {
    /// Nearest neighbour or nearest class mean.
    pub rule: Rule,
    /// The distance.
    pub metric: Metric,
    /// Farther than this from every reference: not one of the targets.
    pub threshold: Option<f64>,
}

impl Default for NearestParams {
    fn default() -> Self {
        NearestParams {
            rule: Rule::NearestNeighbour,
            metric: Metric::Euclidean,
            threshold: None,
        }
    }
}

/// A fitted nearest-reference classifier: references (training samples or
/// class means) with their labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nearest {
    params: NearestParams,
    references: Array2<f64>,
    labels: Vec<u32>,
}

/// One answer of [`Nearest::predict`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The closest reference's label, or `None` when it is farther than the
    /// threshold.
    pub label: Option<u32>,
    /// The closest reference's label, whatever the threshold.
    pub nearest: u32,
    /// Its distance.
    pub distance: f64,
}

impl Fit<(&Array2<f64>, &[u32])> for NearestParams {
    type Object = Nearest;
    type Error = EigenError;

    /// Fits on projections (rows) and their labels.
    fn fit(&self, (x, labels): (&Array2<f64>, &[u32])) -> Result<Nearest, EigenError> {
        if x.nrows() == 0 || x.nrows() != labels.len() {
            return Err(EigenError::Data(format!(
                "{} samples and {} labels",
                x.nrows(),
                labels.len()
            )));
        }
        if let Some(t) = self.threshold {
            if !(t.is_finite() && t >= 0.0) {
                return Err(EigenError::InvalidParameter {
                    name: "threshold",
                    reason: format!("{t} is not a non-negative distance"),
                });
            }
        }
        let (references, labels) = match self.rule {
            Rule::NearestNeighbour => (x.clone(), labels.to_vec()),
            Rule::NearestMean => {
                let mut classes: Vec<u32> = labels.to_vec();
                classes.sort_unstable();
                classes.dedup();
                let mut means = Array2::zeros((classes.len(), x.ncols()));
                let mut counts = vec![0usize; classes.len()];
                for (row, l) in x.rows().into_iter().zip(labels) {
                    let i = classes.binary_search(l).unwrap_or(0);
                    let mut m = means.row_mut(i);
                    m += &row;
                    counts[i] += 1;
                }
                for (mut m, c) in means.rows_mut().into_iter().zip(&counts) {
                    m /= (*c).max(1) as f64;
                }
                (means, classes)
            }
        };
        Ok(Nearest {
            params: *self,
            references,
            labels,
        })
    }
}

impl Nearest {
    /// The distance from `x` to each reference.
    pub fn distances(&self, x: ArrayView1<'_, f64>) -> Vec<f64> {
        self.references
            .rows()
            .into_iter()
            .map(|r| self.params.metric.distance(x, r))
            .collect()
    }

    /// The labels of the references.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The parameters it was fitted with.
    pub fn params(&self) -> &NearestParams {
        &self.params
    }

    /// The number of classes: the largest label plus one.
    pub fn num_classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |&m| m as usize + 1)
    }

    /// The length of the projections it compares.
    pub fn dim(&self) -> usize {
        self.references.ncols()
    }

    /// One score per class (label `0..num_classes`): minus the distance to
    /// the class's closest reference, so that the largest score is the
    /// decision and open-set scores read "higher = more likely known". A
    /// label with no reference scores minus infinity.
    pub fn class_scores(&self, x: ArrayView1<'_, f64>) -> Vec<f64> {
        let mut scores = vec![f64::NEG_INFINITY; self.num_classes()];
        for (d, &l) in self.distances(x).into_iter().zip(&self.labels) {
            let s = &mut scores[l as usize];
            *s = s.max(-d);
        }
        scores
    }

    /// Classifies each row of `x`.
    pub fn predict(&self, x: &Array2<f64>) -> Result<Vec<Decision>, EigenError> {
        if x.ncols() != self.references.ncols() {
            return Err(EigenError::Data(format!(
                "projections of {} values given to a classifier of {}",
                x.ncols(),
                self.references.ncols()
            )));
        }
        Ok(x.rows()
            .into_iter()
            .map(|row| {
                let (mut best, mut dist) = (0usize, f64::INFINITY);
                for (i, d) in self.distances(row).into_iter().enumerate() {
                    if d < dist {
                        (best, dist) = (i, d);
                    }
                }
                let nearest = self.labels[best];
                let known = self.params.threshold.is_none_or(|t| dist <= t);
                Decision {
                    label: known.then_some(nearest),
                    nearest,
                    distance: dist,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn class_scores_are_minus_the_closest_distance() {
        let x = array![[0.0, 0.0], [0.0, 1.0], [10.0, 0.0]];
        let clf = NearestParams::default().fit((&x, &[0, 0, 2][..])).unwrap();
        assert_eq!(clf.num_classes(), 3);
        let s = clf.class_scores(array![0.0, 3.0].view());
        assert_eq!(s[0], -2.0);
        assert_eq!(s[1], f64::NEG_INFINITY);
        assert!((s[2] + (109.0f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn nearest_neighbour_mean_and_threshold() {
        let x = array![[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 2.0]];
        let labels = [3, 3, 7, 7];
        let q = array![[9.0, 1.0], [0.2, 0.2], [100.0, 0.0]];
        for rule in [Rule::NearestNeighbour, Rule::NearestMean] {
            let m = NearestParams {
                rule,
                metric: Metric::Euclidean,
                threshold: Some(5.0),
            }
            .fit((&x, &labels[..]))
            .unwrap();
            let d = m.predict(&q).unwrap();
            assert_eq!(d[0].label, Some(7));
            assert_eq!(d[1].label, Some(3));
            assert_eq!((d[2].label, d[2].nearest), (None, 7));
        }
        let mean = NearestParams {
            rule: Rule::NearestMean,
            ..Default::default()
        }
        .fit((&x, &labels[..]))
        .unwrap();
        assert_eq!(mean.labels(), &[3, 7]);
        // Mean of class 7 is (10, 1): distance from (9, 1) is 1.
        assert!((mean.predict(&q).unwrap()[0].distance - 1.0).abs() < 1e-12);
    }

    #[test]
    fn cosine_distance_known_values() {
        let (a, b, c) = (array![1.0, 0.0], array![0.0, 2.0], array![-3.0, 0.0]);
        assert!((Metric::Cosine.distance(a.view(), b.view()) - 1.0).abs() < 1e-12);
        assert!((Metric::Cosine.distance(a.view(), c.view()) - 2.0).abs() < 1e-12);
        assert!(Metric::Cosine.distance(a.view(), a.view()).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error() {
        let x = array![[0.0, 0.0]];
        assert!(NearestParams::default().fit((&x, &[1, 2][..])).is_err());
        let m = NearestParams::default().fit((&x, &[1][..])).unwrap();
        assert!(m.predict(&array![[1.0, 2.0, 3.0]]).is_err());
        let bad = NearestParams {
            threshold: Some(f64::NAN),
            ..Default::default()
        };
        assert!(bad.fit((&x, &[1][..])).is_err());
    }
}
