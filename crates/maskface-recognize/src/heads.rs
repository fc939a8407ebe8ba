//! Classifiers on embeddings (linfa style: parameters are fitted into
//! models): the nearest class centre by cosine similarity, and a softmax
//! (multinomial logistic) head.

use maskface_core::vector::{argmax, dot, l2_normalized};
use serde::{Deserialize, Serialize};

use crate::RecognizeError;

fn check(x: &[Vec<f32>], labels: &[u32]) -> Result<(usize, usize), RecognizeError> {
    if x.is_empty() || x.len() != labels.len() {
        return Err(RecognizeError::Data(format!(
            "{} embeddings and {} labels",
            x.len(),
            labels.len()
        )));
    }
    let dim = x[0].len();
    if dim == 0
        || x.iter()
            .any(|v| v.len() != dim || v.iter().any(|f| !f.is_finite()))
    {
        return Err(RecognizeError::Data(
            "embeddings of different lengths, empty or not finite".into(),
        ));
    }
    let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    Ok((dim, classes))
}

/// The class centres of unit-length embeddings; a face's score for a class
/// is its cosine similarity to the centre (in `[-1, 1]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Centroids {
    /// One unit-length centre per class; a class without embeddings has an
    /// all-zero centre (similarity 0).
    pub centres: Vec<Vec<f32>>,
}

impl Centroids {
    /// The mean of each class's unit-length embeddings, made unit length.
    pub fn fit(x: &[Vec<f32>], labels: &[u32]) -> Result<Self, RecognizeError> {
        let (dim, classes) = check(x, labels)?;
        let mut sums = vec![vec![0f64; dim]; classes];
        for (v, &l) in x.iter().zip(labels) {
            for (s, a) in sums[l as usize].iter_mut().zip(l2_normalized(v)) {
                *s += f64::from(a);
            }
        }
        let centres = sums
            .into_iter()
            .map(|s| l2_normalized(&s.iter().map(|&v| v as f32).collect::<Vec<_>>()))
            .collect();
        Ok(Centroids { centres })
    }

    /// Cosine similarity of `v` to each centre: the centres are unit length,
    /// so it is the dot product with `v` made unit length.
    pub fn scores(&self, v: &[f32]) -> Vec<f32> {
        let q = l2_normalized(v);
        self.centres.iter().map(|c| dot(c, &q)).collect()
    }
}

/// Parameters of a [`SoftmaxHead`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxParams {
    /// Full-batch gradient steps.
    pub epochs: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// L2 penalty on the weights.
    pub weight_decay: f32,
    /// The inputs are scaled to unit length and multiplied by this (a
    /// temperature: logits of well-separated classes grow with it).
    pub scale: f32,
}

impl Default for SoftmaxParams {
    fn default() -> Self {
        SoftmaxParams {
            epochs: 300,
            learning_rate: 0.05,
            weight_decay: 1e-4,
            scale: 10.0,
        }
    }
}

/// A linear layer with a softmax, trained by cross-entropy on unit-length
/// embeddings: `logits = W * (scale * v / |v|) + b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxHead {
    /// `[classes][dim]`.
    pub weights: Vec<Vec<f32>>,
    /// One per class.
    pub bias: Vec<f32>,
    /// The input scale it was trained with.
    pub scale: f32,
}

impl SoftmaxParams {
    /// Trains the head with Adam on the whole set (deterministic: zero
    /// initial weights, full batches).
    pub fn fit(&self, x: &[Vec<f32>], labels: &[u32]) -> Result<SoftmaxHead, RecognizeError> {
        let (dim, classes) = check(x, labels)?;
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if self.epochs == 0 || !positive(self.learning_rate) || !positive(self.scale) {
            return Err(RecognizeError::InvalidParameter {
                name: "softmax",
                reason: format!("{self:?}: epochs, learning rate and scale must be positive"),
            });
        }
        let inputs: Vec<Vec<f32>> = x
            .iter()
            .map(|v| l2_normalized(v).iter().map(|a| a * self.scale).collect())
            .collect();
        let n = inputs.len() as f32;
        let mut head = SoftmaxHead {
            weights: vec![vec![0.0; dim]; classes],
            bias: vec![0.0; classes],
            scale: self.scale,
        };
        let size = classes * (dim + 1);
        let (mut m, mut v) = (vec![0f32; size], vec![0f32; size]);
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        for t in 1..=self.epochs {
            let mut grad = vec![0f32; size];
            for (xi, &yi) in inputs.iter().zip(labels) {
                let p = softmax(&head.raw_logits(xi));
                for (c, pc) in p.iter().enumerate() {
                    let g = pc - if c == yi as usize { 1.0 } else { 0.0 };
                    let row = &mut grad[c * (dim + 1)..(c + 1) * (dim + 1)];
                    for (gw, a) in row[..dim].iter_mut().zip(xi) {
                        *gw += g * a;
                    }
                    row[dim] += g;
                }
            }
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for c in 0..classes {
                for k in 0..=dim {
                    let i = c * (dim + 1) + k;
                    let w = if k < dim {
                        head.weights[c][k]
                    } else {
                        head.bias[c]
                    };
                    let decay = if k < dim { self.weight_decay * w } else { 0.0 };
                    let g = grad[i] / n + decay;
                    m[i] = b1 * m[i] + (1.0 - b1) * g;
                    v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                    let step = self.learning_rate * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
                    if k < dim {
                        head.weights[c][k] -= step;
                    } else {
                        head.bias[c] -= step;
                    }
                }
            }
        }
        Ok(head)
    }
}

impl SoftmaxHead {
    fn raw_logits(&self, input: &[f32]) -> Vec<f32> {
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(input).map(|(a, x)| a * x).sum::<f32>() + b)
            .collect()
    }

    /// The logits of an embedding.
    pub fn logits(&self, v: &[f32]) -> Vec<f32> {
        let input: Vec<f32> = l2_normalized(v).iter().map(|a| a * self.scale).collect();
        self.raw_logits(&input)
    }
}

fn softmax(l: &[f32]) -> Vec<f32> {
    let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = l.iter().map(|v| (v - max).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// A fitted classifier on embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Head {
    /// Cosine similarity to class centres.
    Centroids(Centroids),
    /// A trained softmax layer.
    Softmax(SoftmaxHead),
    /// Cosine similarity to class centres, normalised per class against a
    /// cohort of other people.
    CohortCentroids(crate::CohortCentroids),
}

impl Head {
    /// One score per class for an embedding.
    pub fn scores(&self, v: &[f32]) -> Vec<f32> {
        match self {
            Head::Centroids(c) => c.scores(v),
            Head::Softmax(h) => h.logits(v),
            Head::CohortCentroids(c) => c.scores(v),
        }
    }

    /// The best-scoring class of an embedding (ties to the lower class).
    pub fn predict(&self, v: &[f32]) -> u32 {
        self.best(v).0
    }

    /// The best-scoring class of an embedding and its score (ties to the
    /// lower class).
    pub fn best(&self, v: &[f32]) -> (u32, f32) {
        let s = self.scores(v);
        match argmax(&s) {
            Some(best) => (best as u32, s[best]),
            None => (0, f32::NEG_INFINITY),
        }
    }

    /// The number of classes.
    pub fn num_classes(&self) -> usize {
        match self {
            Head::Centroids(c) => c.centres.len(),
            Head::Softmax(h) => h.bias.len(),
            Head::CohortCentroids(c) => c.centroids.centres.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three classes around three directions, with noise.
    fn data() -> (Vec<Vec<f32>>, Vec<u32>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for c in 0..3u32 {
            for k in 0..6 {
                let mut v = vec![0.1 * (k as f32 - 2.5); 4];
                v[c as usize] += 2.0 + 0.1 * k as f32;
                x.push(v);
                y.push(c);
            }
        }
        (x, y)
    }

    fn argmax(v: &[f32]) -> u32 {
        super::argmax(v).unwrap_or(0) as u32
    }

    #[test]
    fn centroids_and_softmax_separate_the_classes() {
        let (x, y) = data();
        let c = Centroids::fit(&x, &y).unwrap();
        let h = SoftmaxParams::default().fit(&x, &y).unwrap();
        for (v, &l) in x.iter().zip(&y) {
            assert_eq!(argmax(&c.scores(v)), l);
            assert_eq!(argmax(&h.logits(v)), l);
        }
        // Centres are unit length; a centre's similarity to itself is 1.
        for centre in &c.centres {
            let n: f32 = centre.iter().map(|a| a * a).sum();
            assert!((n - 1.0).abs() < 1e-5);
            assert!((c.scores(centre).iter().copied().fold(f32::MIN, f32::max) - 1.0).abs() < 1e-5);
        }
        // A head's best answer is the arg-max and the score it wins with.
        let head = Head::Centroids(c.clone());
        for (v, &l) in x.iter().zip(&y) {
            let (best, score) = head.best(v);
            assert_eq!((best, head.predict(v)), (l, l));
            assert_eq!(score, c.scores(v)[l as usize]);
        }
        // Deterministic.
        assert_eq!(h, SoftmaxParams::default().fit(&x, &y).unwrap());
        // Scale does not matter to either: embeddings are normalised, so
        // ten times every embedding gives the same centres, the same head
        // and the same logits. The slack is float rounding only: v / |v| and
        // 10v / |10v| can differ in the last bit (about 6e-8 on unit
        // vectors); 300 Adam steps carry that to about 1e-6 on the weights.
        let x10: Vec<Vec<f32>> = x
            .iter()
            .map(|v| v.iter().map(|a| a * 10.0).collect())
            .collect();
        let close = |a: &[f32], b: &[f32], tol: f32| {
            assert_eq!(a.len(), b.len());
            let worst = a
                .iter()
                .zip(b)
                .map(|(p, q)| (p - q).abs())
                .fold(0f32, f32::max);
            assert!(worst <= tol, "{a:?} vs {b:?}: {worst}");
        };
        let c10 = Centroids::fit(&x10, &y).unwrap();
        assert_eq!(c10.centres.len(), 3);
        for (a, b) in c10.centres.iter().zip(&c.centres) {
            close(a, b, 1e-6);
        }
        let h10 = SoftmaxParams::default().fit(&x10, &y).unwrap();
        for (a, b) in h10.weights.iter().zip(&h.weights) {
            close(a, b, 1e-4);
        }
        close(&h10.bias, &h.bias, 1e-4);
        for (v, v10) in x.iter().zip(&x10) {
            close(&h.logits(v10), &h.logits(v), 1e-4);
            close(&c.scores(v10), &c.scores(v), 1e-6);
        }
        // A centre computed by hand: class 1's embeddings made unit length,
        // averaged and made unit length again.
        let mut mean = [0f64; 4];
        for v in x.iter().zip(&y).filter(|(_, &l)| l == 1).map(|(v, _)| v) {
            let n = v.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
            for (m, a) in mean.iter_mut().zip(v) {
                *m += f64::from(*a) / n;
            }
        }
        let n = mean.iter().map(|a| a * a).sum::<f64>().sqrt();
        let by_hand: Vec<f32> = mean.iter().map(|a| (a / n) as f32).collect();
        close(&c.centres[1], &by_hand, 1e-6);
    }

    #[test]
    fn bad_input_is_explained() {
        assert!(Centroids::fit(&[], &[]).is_err());
        assert!(Centroids::fit(&[vec![1.0]], &[0, 1]).is_err());
        assert!(Centroids::fit(&[vec![1.0], vec![1.0, 2.0]], &[0, 1]).is_err());
        assert!(Centroids::fit(&[vec![f32::NAN]], &[0]).is_err());
        let bad = SoftmaxParams {
            epochs: 0,
            ..SoftmaxParams::default()
        };
        assert!(bad.fit(&[vec![1.0]], &[0]).is_err());
    }
}
