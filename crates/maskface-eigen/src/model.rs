//! The whole baseline in one file: preprocessing, PCA and the classifier
//! with its references, as `maskface eigen` saves it and `maskface openset`
//! loads it.

use std::path::Path;

use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{EigenError, Eigenfaces, Nearest};

/// What [`EigenModel::save`] writes in its `kind` field.
pub const EIGEN_MODEL_KIND: &str = "eigenfaces";

/// A fitted Eigenface classifier: faces in, one score per class out
/// (minus the distance to the class's closest reference), a
/// [`maskface_core::Classifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EigenModel {
    /// Always [`EIGEN_MODEL_KIND`].
    pub kind: String,
    /// The class names, by label.
    pub classes: Vec<String>,
    /// Preprocessing and PCA.
    pub eigenfaces: Eigenfaces,
    /// The classifier on the projections.
    pub nearest: Nearest,
}

impl EigenModel {
    /// Puts the parts together, checking that they fit.
    pub fn new(
        classes: Vec<String>,
        eigenfaces: Eigenfaces,
        nearest: Nearest,
    ) -> Result<Self, EigenError> {
        let model = EigenModel {
            kind: EIGEN_MODEL_KIND.into(),
            classes,
            eigenfaces,
            nearest,
        };
        model.check().map_err(EigenError::Data)?;
        Ok(model)
    }

    fn check(&self) -> Result<(), String> {
        if self.kind != EIGEN_MODEL_KIND {
            return Err(format!("kind `{}`, not `{EIGEN_MODEL_KIND}`", self.kind));
        }
        let pca = &self.eigenfaces.pca;
        if self.eigenfaces.preprocess.dim() != pca.mean().len() {
            return Err(format!(
                "preprocessing gives {} values, the PCA takes {}",
                self.eigenfaces.preprocess.dim(),
                pca.mean().len()
            ));
        }
        if self.nearest.dim() != pca.n_components() {
            return Err(format!(
                "the classifier compares {} values, the PCA gives {}",
                self.nearest.dim(),
                pca.n_components()
            ));
        }
        if self.classes.len() != self.nearest.num_classes() {
            return Err(format!(
                "{} class names for {} classes",
                self.classes.len(),
                self.nearest.num_classes()
            ));
        }
        Ok(())
    }

    /// A one-line description: `eigenfaces (k components, whitened,
    /// nearest neighbour, cosine)`.
    pub fn describe(&self) -> String {
        let p = self.nearest.params();
        format!(
            "eigenfaces ({} components{}, {}, {})",
            self.eigenfaces.pca.n_components(),
            if self.eigenfaces.pca.is_whitened() {
                ", whitened"
            } else {
                ""
            },
            match p.rule {
                crate::Rule::NearestNeighbour => "nearest neighbour",
                crate::Rule::NearestMean => "nearest mean",
            },
            match p.metric {
                crate::Metric::Euclidean => "Euclidean",
                crate::Metric::Cosine => "cosine",
            }
        )
    }

    /// Writes the model as one JSON file, atomically.
    pub fn save(&self, path: &Path) -> Result<(), EigenError> {
        save_json(self, path)
    }

    /// Loads a model written by [`EigenModel::save`], checking its parts.
    pub fn load(path: &Path) -> Result<Self, EigenError> {
        let bytes = std::fs::read(path).map_err(|e| EigenError::Model {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_slice(&bytes, path)
    }

    /// The same from the file's bytes, read by the caller (`path` names it
    /// in errors).
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Self, EigenError> {
        let model_err = |reason: String| EigenError::Model {
            path: path.to_path_buf(),
            reason,
        };
        let model: EigenModel =
            serde_json::from_slice(bytes).map_err(|e| model_err(e.to_string()))?;
        model.check().map_err(model_err)?;
        Ok(model)
    }
}

/// Writes `value` as JSON to `path`, atomically.
pub(crate) fn save_json<T: Serialize>(value: &T, path: &Path) -> Result<(), EigenError> {
    let bytes = serde_json::to_vec(value).map_err(|e| EigenError::Model {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    maskface_core::write_atomic(path, |w| w.write_all(&bytes))?;
    Ok(())
}

/// Reads JSON written by [`save_json`]; errors name the file.
pub(crate) fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EigenError> {
    let model_err = |reason: String| EigenError::Model {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| model_err(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| model_err(e.to_string()))
}

impl maskface_core::Classifier for EigenModel {
    type Error = EigenError;

    fn num_classes(&self) -> usize {
        self.classes.len()
    }

    fn logits(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, EigenError> {
        let proj = self.eigenfaces.project(faces)?;
        Ok((0..proj.nrows())
            .into_par_iter()
            .map(|i| {
                self.nearest
                    .class_scores(proj.row(i))
                    .into_iter()
                    .map(|v| v as f32)
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Components, Fit, NearestParams, PcaParams, Preprocess};
    use image::Rgb;
    use maskface_core::Classifier;

    /// Faces of three "people": a bright band at a person-specific row,
    /// shifted a little per image.
    fn faces() -> (Vec<RgbImage>, Vec<u32>) {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for person in 0..3u32 {
            for k in 0..4u32 {
                let band = 4 + person * 8 + k % 2;
                images.push(RgbImage::from_fn(16, 32, |x, y| {
                    let v = if y.abs_diff(band) < 2 {
                        220
                    } else {
                        30 + (x * 3 + k) as u8
                    };
                    Rgb([v, v, v])
                }));
                labels.push(person);
            }
        }
        (images, labels)
    }

    fn model() -> EigenModel {
        let (images, labels) = faces();
        let pre = Preprocess {
            size: [16, 32],
            equalize: false,
        };
        let eig = Eigenfaces::fit(pre, &PcaParams::new(Components::Count(4)), &images).unwrap();
        let nearest = NearestParams::default()
            .fit((&eig.project(&images).unwrap(), &labels[..]))
            .unwrap();
        EigenModel::new(vec!["a".into(), "b".into(), "c".into()], eig, nearest).unwrap()
    }

    #[test]
    fn logits_decide_like_the_classifier_and_survive_a_round_trip() {
        let m = model();
        let (images, labels) = faces();
        assert_eq!(m.num_classes(), 3);
        assert_eq!(
            m.describe(),
            "eigenfaces (4 components, nearest neighbour, Euclidean)"
        );
        assert_eq!(m.predict(&images).unwrap(), labels);
        let logits = m.logits(&images).unwrap();
        // A training image is its own nearest reference: distance 0.
        assert!(logits
            .iter()
            .zip(&labels)
            .all(|(l, &y)| l[y as usize] == 0.0));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        m.save(&path).unwrap();
        assert_eq!(EigenModel::load(&path).unwrap(), m);
    }

    #[test]
    fn bad_model_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        let m = model();
        m.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = EigenModel::load(&path).unwrap_err().to_string();
        assert!(e.contains("model.json"), "{e}");
        let mut wrong = m.clone();
        wrong.classes.pop();
        wrong.save(&path).unwrap();
        let e = EigenModel::load(&path).unwrap_err().to_string();
        assert!(e.contains("2 class names for 3 classes"), "{e}");
        assert!(EigenModel::load(&dir.path().join("none.json")).is_err());
    }
}
