//! Cohort score normalisation: each class's cosine scores rescaled by how
//! that class scores against a cohort of other people.

use maskface_core::vector::{dot, l2_normalized};
use serde::{Deserialize, Serialize};

use crate::{Centroids, RecognizeError};

/// Parameters of [`CohortCentroids`]: how many of the cohort's closest
/// faces describe each class's impostor scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CohortParams {
    /// The cohort faces closest to each class centre that give its mean
    /// and spread (adaptive, "top-k" normalisation).
    pub top_k: usize,
}

impl Default for CohortParams {
    /// The 300 closest cohort faces: the setting measured in
    /// docs/results.md.
    fn default() -> Self {
        CohortParams { top_k: 300 }
    }
}

impl CohortParams {
    /// For each class centre, the mean and standard deviation of its
    /// `top_k` highest cosine similarities to the `cohort` embeddings
    /// (faces of people outside the classes, never the ones an open-set
    /// test uses as strangers).
    pub fn fit(
        &self,
        centroids: Centroids,
        cohort: &[Vec<f32>],
    ) -> Result<CohortCentroids, RecognizeError> {
        if self.top_k < 2 || cohort.len() < self.top_k {
            return Err(RecognizeError::InvalidParameter {
                name: "top_k",
                reason: format!(
                    "{} closest of {} cohort faces; at least 2 and at most the cohort",
                    self.top_k,
                    cohort.len()
                ),
            });
        }
        let dim = centroids.centres.first().map_or(0, Vec::len);
        if cohort
            .iter()
            .any(|v| v.len() != dim || v.iter().any(|x| !x.is_finite()))
        {
            return Err(RecognizeError::Data(format!(
                "cohort embeddings must be finite and of length {dim}"
            )));
        }
        let cohort: Vec<Vec<f32>> = cohort.iter().map(|v| l2_normalized(v)).collect();
        let mut mean = Vec::with_capacity(centroids.centres.len());
        let mut std = Vec::with_capacity(centroids.centres.len());
        for c in &centroids.centres {
            // Both unit length: the dot product is the cosine.
            let mut sims: Vec<f32> = cohort.iter().map(|v| dot(c, v)).collect();
            sims.sort_by(|a, b| b.total_cmp(a));
            let top = &sims[..self.top_k];
            let m = top.iter().map(|&s| f64::from(s)).sum::<f64>() / top.len() as f64;
            let var =
                top.iter().map(|&s| (f64::from(s) - m).powi(2)).sum::<f64>() / top.len() as f64;
            mean.push(m as f32);
            // A class whose cohort scores are all equal keeps unit scale.
            std.push(if var > 0.0 { var.sqrt() as f32 } else { 1.0 });
        }
        Ok(CohortCentroids {
            centroids,
            mean,
            std,
            top_k: self.top_k,
            cohort_size: cohort.len(),
        })
    }
}

/// Class centres whose cosine scores are normalised per class: a face's
/// score for class `c` is `(cos - mean_c) / std_c`, where `mean_c` and
/// `std_c` describe the class's highest scores against a cohort of other
/// people. A class that strangers resemble more than the others gets a
/// higher bar, so one threshold suits every class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortCentroids {
    /// The class centres.
    pub centroids: Centroids,
    /// Per class: the mean of its top-k cohort similarities.
    pub mean: Vec<f32>,
    /// Per class: their standard deviation.
    pub std: Vec<f32>,
    /// How many cohort faces each class's statistics use.
    pub top_k: usize,
    /// How many faces the cohort had.
    pub cohort_size: usize,
}

impl CohortCentroids {
    /// The normalised score of `v` for each class.
    pub fn scores(&self, v: &[f32]) -> Vec<f32> {
        self.centroids
            .scores(v)
            .iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(s, (m, sd))| (s - m) / sd)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_standardised_against_each_class_top_cohort() {
        let centroids = Centroids {
            centres: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
        };
        // Cosines with class 0: 1.0, 0.8, 0.6, 0.0; with class 1: 0.0, 0.6, 0.8, 1.0.
        let cohort = vec![
            vec![1.0, 0.0],
            vec![0.8, 0.6],
            vec![0.6, 0.8],
            vec![0.0, 1.0],
        ];
        let head = CohortParams { top_k: 2 }.fit(centroids, &cohort).unwrap();
        assert!((head.mean[0] - 0.9).abs() < 1e-6 && (head.std[0] - 0.1).abs() < 1e-6);
        assert!((head.mean[1] - 0.9).abs() < 1e-6 && (head.std[1] - 0.1).abs() < 1e-6);
        let s = head.scores(&[3.0, 0.0]);
        assert!(
            (s[0] - 1.0).abs() < 1e-5 && (s[1] + 9.0).abs() < 1e-4,
            "{s:?}"
        );
        assert!(CohortParams { top_k: 5 }
            .fit(head.centroids.clone(), &cohort)
            .is_err());
        assert!(CohortParams { top_k: 2 }
            .fit(head.centroids.clone(), &[vec![1.0], vec![0.0]])
            .is_err());
    }
}
