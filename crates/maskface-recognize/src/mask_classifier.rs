//! Is the face masked? A logistic regression on the lower face of an
//! aligned chip, compared with the skin of the nose bridge, which no mask
//! covers. It reads pixels, not a network's embedding, so one classifier
//! serves every network (a mask-robust embedding is meant to hide the mask).

use std::path::Path;

use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::json_file::{read_json, write_json};
use crate::RecognizeError;

/// The classifier's file in the models folder (`maskface heldout --install`
/// writes it; `identify` reads it when present).
pub const MASK_CLASSIFIER_FILE: &str = "mask_classifier.json";

/// The probability from which a face counts as masked.
pub const MASKED_AT: f32 = 0.5;

/// What [`MaskClassifier`] files hold in `format`.
pub const MASK_CLASSIFIER_FORMAT: &str = "maskface-mask-classifier";

/// The skin reference: the nose bridge between the eyes, as fractions of
/// the chip (x0, y0, x1, y1) of dlib's alignment (`ChipParams::default`).
const BRIDGE: [f32; 4] = [0.41, 0.27, 0.59, 0.37];
/// The lower face (nose tip to chin, cheek to cheek), where a mask sits.
const LOWER: [f32; 4] = [0.17, 0.47, 0.83, 0.95];
/// The lower face's grid: rows, columns.
const GRID: (usize, usize) = (6, 5);
/// Values per grid cell (see [`mask_features`]).
const PER_CELL: usize = 11;

/// Length of [`mask_features`]' vector.
pub const MASK_FEATURES: usize = GRID.0 * GRID.1 * PER_CELL + 1;

/// The features of an aligned chip: for each cell of a 6x5 grid over the
/// lower face, its mean colour minus the nose bridge's (and the absolute
/// difference), the same for chromaticity (r, g over r+g+b), and the
/// spread of its brightness; then the mean vertical brightness change of
/// the whole lower face. Colours are in 0..1.
pub fn mask_features(chip: &RgbImage) -> Vec<f32> {
    let (w, h) = (chip.width() as f32, chip.height() as f32);
    let px = |f: f32, n: f32| ((f * n).round() as u32).min(n as u32);
    let region = |r: [f32; 4]| (px(r[0], w), px(r[1], h), px(r[2], w), px(r[3], h));
    let mean_rgb = |(x0, y0, x1, y1): (u32, u32, u32, u32)| {
        let mut sum = [0f32; 3];
        let mut lum = (0f32, 0f32);
        for y in y0..y1 {
            for x in x0..x1 {
                let p = chip.get_pixel(x, y).0;
                let l = (f32::from(p[0]) + f32::from(p[1]) + f32::from(p[2])) / (3.0 * 255.0);
                for (s, v) in sum.iter_mut().zip(p) {
                    *s += f32::from(v) / 255.0;
                }
                lum.0 += l;
                lum.1 += l * l;
            }
        }
        let n = ((x1 - x0) * (y1 - y0)).max(1) as f32;
        let mean = lum.0 / n;
        (
            sum.map(|s| s / n),
            (lum.1 / n - mean * mean).max(0.0).sqrt(),
        )
    };
    let chroma = |c: [f32; 3]| {
        let s = c[0] + c[1] + c[2] + 1e-3;
        [c[0] / s, c[1] / s]
    };
    let (skin, _) = mean_rgb(region(BRIDGE));
    let skin_chroma = chroma(skin);
    let (lx0, ly0, lx1, ly1) = region(LOWER);
    let mut out = Vec::with_capacity(MASK_FEATURES);
    let (rows, cols) = GRID;
    let mut cells = Vec::with_capacity(rows * cols);
    for r in 0..rows as u32 {
        for c in 0..cols as u32 {
            let cell = (
                lx0 + (lx1 - lx0) * c / cols as u32,
                ly0 + (ly1 - ly0) * r / rows as u32,
                lx0 + (lx1 - lx0) * (c + 1) / cols as u32,
                ly0 + (ly1 - ly0) * (r + 1) / rows as u32,
            );
            cells.push(mean_rgb(cell));
        }
    }
    // Grouped by kind, as the classifier's standardisation expects.
    let diffs: Vec<[f32; 3]> = cells
        .iter()
        .map(|(m, _)| [m[0] - skin[0], m[1] - skin[1], m[2] - skin[2]])
        .collect();
    let chroma_diffs: Vec<[f32; 2]> = cells
        .iter()
        .map(|(m, _)| {
            let c = chroma(*m);
            [c[0] - skin_chroma[0], c[1] - skin_chroma[1]]
        })
        .collect();
    out.extend(diffs.iter().flatten());
    out.extend(diffs.iter().flatten().map(|d| d.abs()));
    out.extend(chroma_diffs.iter().flatten());
    out.extend(chroma_diffs.iter().flatten().map(|d| d.abs()));
    out.extend(cells.iter().map(|(_, spread)| *spread));
    let mut change = 0f32;
    let mut n = 0u32;
    for y in ly0 + 1..ly1 {
        for x in lx0..lx1 {
            let l = |y| {
                let p = chip.get_pixel(x, y).0;
                (f32::from(p[0]) + f32::from(p[1]) + f32::from(p[2])) / (3.0 * 255.0)
            };
            change += (l(y) - l(y - 1)).abs();
            n += 1;
        }
    }
    out.push(change / n.max(1) as f32);
    out
}

/// How a [`MaskClassifier`] is fitted: L2-regularised logistic regression
/// by full-batch gradient descent on standardised features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaskClassifierParams {
    /// Weight of the L2 penalty.
    pub l2: f64,
    /// Gradient steps.
    pub iterations: usize,
    /// Step size.
    pub learning_rate: f64,
}

impl Default for MaskClassifierParams {
    /// 3,000 steps of 0.5 with an L2 weight of 0.001: on people outside
    /// training, chips in masks of the training family against the same
    /// chips unmasked, this classifies 99% of both right, and 99% of masks
    /// in the held-out cloth patterns (docs/results.md).
    fn default() -> Self {
        MaskClassifierParams {
            l2: 1e-3,
            iterations: 3000,
            learning_rate: 0.5,
        }
    }
}

/// A fitted mask classifier (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskClassifier {
    /// Always [`MASK_CLASSIFIER_FORMAT`].
    pub format: String,
    /// Each feature's mean over the training chips.
    pub mean: Vec<f32>,
    /// Each feature's standard deviation over the training chips.
    pub scale: Vec<f32>,
    /// The regression's weights on the standardised features.
    pub weights: Vec<f32>,
    /// Its bias.
    pub bias: f32,
    /// What it was fitted on, in words.
    pub fitted_on: String,
}

impl MaskClassifierParams {
    /// Fits the classifier on aligned chips without a mask and with one;
    /// `fitted_on` says what they are. Both sets must be non-empty.
    pub fn fit(
        &self,
        unmasked: &[RgbImage],
        masked: &[RgbImage],
        fitted_on: &str,
    ) -> Result<MaskClassifier, RecognizeError> {
        if unmasked.is_empty() || masked.is_empty() {
            return Err(RecognizeError::InvalidParameter {
                name: "chips",
                reason: format!(
                    "{} unmasked and {} masked chips: the classifier needs both",
                    unmasked.len(),
                    masked.len()
                ),
            });
        }
        if !(self.l2 >= 0.0 && self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(RecognizeError::InvalidParameter {
                name: "l2 / learning_rate",
                reason: format!(
                    "{} / {}: need l2 >= 0 and a finite learning rate > 0",
                    self.l2, self.learning_rate
                ),
            });
        }
        let rows: Vec<Vec<f32>> = unmasked
            .par_iter()
            .chain(masked.par_iter())
            .map(mask_features)
            .collect();
        let labels: Vec<f64> = (0..rows.len())
            .map(|i| if i < unmasked.len() { 0.0 } else { 1.0 })
            .collect();
        let n = rows.len() as f64;
        let d = MASK_FEATURES;
        let mut mean = vec![0f64; d];
        let mut var = vec![0f64; d];
        for r in &rows {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += f64::from(*v) / n;
            }
        }
        for r in &rows {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (f64::from(*v) - m).powi(2) / n;
            }
        }
        let scale: Vec<f64> = var.iter().map(|v| v.sqrt() + 1e-6).collect();
        let z: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&mean)
                    .zip(&scale)
                    .map(|((v, m), s)| (f64::from(*v) - m) / s)
                    .collect()
            })
            .collect();
        let mut w = vec![0f64; d];
        let mut b = 0f64;
        let mut grad = vec![0f64; d];
        for _ in 0..self.iterations {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let mut grad_b = 0.0;
            for (x, y) in z.iter().zip(&labels) {
                let logit = b + x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
                let err = sigmoid(logit) - y;
                for (g, v) in grad.iter_mut().zip(x) {
                    *g += err * v;
                }
                grad_b += err;
            }
            for (wi, g) in w.iter_mut().zip(&grad) {
                *wi -= self.learning_rate * (g / n + self.l2 * *wi);
            }
            b -= self.learning_rate * grad_b / n;
        }
        let to32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
        Ok(MaskClassifier {
            format: MASK_CLASSIFIER_FORMAT.into(),
            mean: to32(mean),
            scale: to32(scale),
            weights: to32(w),
            bias: b as f32,
            fitted_on: fitted_on.to_string(),
        })
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x.clamp(-40.0, 40.0)).exp())
}

impl MaskClassifier {
    /// The probability that the face on `chip` (aligned as dlib aligns
    /// faces) wears a mask.
    pub fn probability(&self, chip: &RgbImage) -> f32 {
        let logit = mask_features(chip)
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((v, m), s), w)| f64::from((v - m) / s * w))
            .sum::<f64>()
            + f64::from(self.bias);
        sigmoid(logit) as f32
    }

    /// Whether the face on `chip` wears a mask (probability [`MASKED_AT`]
    /// or more).
    pub fn is_masked(&self, chip: &RgbImage) -> bool {
        self.probability(chip) >= MASKED_AT
    }

    /// The share of `unmasked` chips called unmasked and of `masked` chips
    /// called masked.
    pub fn accuracy(&self, unmasked: &[RgbImage], masked: &[RgbImage]) -> (f64, f64) {
        let share = |chips: &[RgbImage], want: bool| {
            chips.iter().filter(|c| self.is_masked(c) == want).count() as f64
                / chips.len().max(1) as f64
        };
        (share(unmasked, false), share(masked, true))
    }

    /// Reads a classifier that [`MaskClassifier::save`] wrote; anything
    /// else is an error naming the file.
    pub fn load(path: &Path) -> Result<Self, RecognizeError> {
        let bad = |reason: String| RecognizeError::File {
            path: path.to_path_buf(),
            reason,
        };
        let c: MaskClassifier = read_json(path, "mask classifier")?;
        if c.format != MASK_CLASSIFIER_FORMAT {
            return Err(bad(format!("format `{}`, not a mask classifier", c.format)));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if [&c.mean, &c.scale, &c.weights]
            .iter()
            .any(|v| v.len() != MASK_FEATURES || !finite(v))
            || c.scale.iter().any(|s| *s <= 0.0)
            || !c.bias.is_finite()
        {
            return Err(bad(format!(
                "needs {MASK_FEATURES} finite means, positive scales and weights"
            )));
        }
        Ok(c)
    }

    /// The classifier in the models folder ([`MASK_CLASSIFIER_FILE`]), when
    /// there is one.
    pub fn installed(models: &Path) -> Result<Option<Self>, RecognizeError> {
        let path = models.join(MASK_CLASSIFIER_FILE);
        if path.is_file() {
            Self::load(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Writes the classifier as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), RecognizeError> {
        write_json(path, self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::Rgb;

    /// A plain "face": skin everywhere, with a darker mouth; masked: a
    /// block of `colour` over the lower face.
    fn face(seed: u32, mask: Option<[u8; 3]>) -> RgbImage {
        let tone = 150 + (seed * 37 % 80) as u8;
        let skin = Rgb([
            tone,
            (f32::from(tone) * 0.75) as u8,
            (f32::from(tone) * 0.6) as u8,
        ]);
        let mut img = RgbImage::from_pixel(150, 150, skin);
        for y in 110..122 {
            for x in 55..95 {
                img.put_pixel(x, y, Rgb([120, 50, 50]));
            }
        }
        if let Some(c) = mask {
            for y in 75..145 {
                for x in 20..130 {
                    let stripe = if (x / 6 + y / 6 + seed).is_multiple_of(2) {
                        0
                    } else {
                        30
                    };
                    img.put_pixel(x, y, Rgb(c.map(|v| v.saturating_sub(stripe))));
                }
            }
        }
        img
    }

    #[test]
    fn features_have_the_documented_length_for_any_chip_size() {
        assert_eq!(mask_features(&face(1, None)).len(), MASK_FEATURES);
        assert_eq!(mask_features(&RgbImage::new(40, 40)).len(), MASK_FEATURES);
        // A bare skin face: the lower face matches the bridge but for the
        // mouth, so most colour differences are zero.
        let f = mask_features(&face(1, None));
        let zeros = f[..GRID.0 * GRID.1 * 3]
            .iter()
            .filter(|v| v.abs() < 1e-4)
            .count();
        assert!(zeros > 60, "{zeros}");
    }

    #[test]
    fn learns_masks_and_recognises_a_colour_it_never_saw() {
        let bare: Vec<RgbImage> = (0..30).map(|s| face(s, None)).collect();
        let colours = [[230, 230, 235], [60, 90, 170], [30, 30, 30]];
        let masked: Vec<RgbImage> = (0..30)
            .map(|s| face(s, Some(colours[s as usize % 3])))
            .collect();
        let c = MaskClassifierParams::default()
            .fit(&bare, &masked, "test")
            .unwrap();
        assert_eq!(c.accuracy(&bare, &masked), (1.0, 1.0));
        // A green mask and new skin tones: unseen.
        let unseen_bare: Vec<RgbImage> = (100..110).map(|s| face(s, None)).collect();
        let unseen: Vec<RgbImage> = (100..110).map(|s| face(s, Some([40, 160, 90]))).collect();
        assert_eq!(c.accuracy(&unseen_bare, &unseen), (1.0, 1.0));
        assert!(c.probability(&unseen[0]) > 0.9);
        assert!(c.probability(&unseen_bare[0]) < 0.1);
    }

    #[test]
    fn saved_classifiers_load_and_bad_files_are_named() {
        let bare: Vec<RgbImage> = (0..4).map(|s| face(s, None)).collect();
        let masked: Vec<RgbImage> = (0..4).map(|s| face(s, Some([20, 20, 20]))).collect();
        let params = MaskClassifierParams {
            iterations: 50,
            ..MaskClassifierParams::default()
        };
        let c = params.fit(&bare, &masked, "four faces").unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(MaskClassifier::installed(dir.path()).unwrap(), None);
        let path = dir.path().join(MASK_CLASSIFIER_FILE);
        c.save(&path).unwrap();
        assert_eq!(
            MaskClassifier::installed(dir.path()).unwrap(),
            Some(c.clone())
        );
        let mut short = c.clone();
        short.weights.pop();
        std::fs::write(&path, serde_json::to_vec(&short).unwrap()).unwrap();
        let e = MaskClassifier::load(&path).unwrap_err().to_string();
        assert!(
            e.contains(MASK_CLASSIFIER_FILE) && e.contains("finite"),
            "{e}"
        );
        std::fs::write(&path, b"{\"format\": 1}").unwrap();
        assert!(MaskClassifier::load(&path).is_err());
        assert!(params.fit(&bare, &[], "nothing masked").is_err());
        let bad = MaskClassifierParams {
            learning_rate: 0.0,
            ..params
        };
        assert!(bad.fit(&bare, &masked, "x").is_err());
    }
}
