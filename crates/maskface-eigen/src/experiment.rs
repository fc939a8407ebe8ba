//! The Eigenface experiment as `maskface eigen` runs it: preprocess a
//! manifest's faces, fit the PCA and a nearest classifier on its training
//! split, classify the test split, and write the pictures, the answers,
//! the model and a report.

use std::path::Path;

use maskface_core::{load_rgb, save_image_atomic, write_atomic, Manifest, Split};
use maskface_dataset::{class_names, write_predictions, Answer};
use serde::Serialize;

use crate::{
    eigenface_grid, variance_curve, Components, EigenError, EigenModel, Eigenfaces, Fit, Metric,
    NearestParams, PcaParams, Preprocess, Rule,
};

/// Width the faces are resized to when no size is given.
const DEFAULT_WIDTH: u32 = 64;
/// Eigenfaces drawn in `eigenfaces.png`.
const GRID_FACES: usize = 16;

/// The experiment's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EigenExperiment {
    /// Size the faces are resized to, `[width, height]`; `None`: 64 wide,
    /// the height keeping the first training image's aspect.
    pub size: Option<[u32; 2]>,
    /// Equalise each face's histogram first.
    pub equalize: bool,
    /// How many components the PCA keeps.
    pub components: Components,
    /// Divide each projection by its component's standard deviation.
    pub whiten: bool,
    /// The classifier on the projections.
    pub nearest: NearestParams,
}

/// What an experiment measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EigenOutcome {
    /// The faces' size, `[width, height]`.
    pub size: [u32; 2],
    /// Components kept.
    pub components: usize,
    /// The fraction of the variance they explain.
    pub explained_variance: f64,
    /// Training faces.
    pub train_images: usize,
    /// Test faces.
    pub test_images: usize,
    /// Test faces classified right.
    pub correct: usize,
    /// Test faces rejected by the threshold.
    pub rejected: usize,
    /// `correct / test_images`.
    pub accuracy: f64,
}

#[derive(Serialize)]
struct Report {
    train: String,
    test: String,
    size: [u32; 2],
    equalize: bool,
    components: usize,
    explained_variance: f64,
    whiten: bool,
    classifier: Rule,
    metric: Metric,
    threshold: Option<f64>,
    train_images: usize,
    test_images: usize,
    correct: usize,
    rejected: usize,
    accuracy: f64,
}

impl EigenExperiment {
    /// Fits on the training split of `train` and classifies the test split
    /// of `test` (the manifests read from `train_path` and `test_path`,
    /// which the report names); writes `eigenfaces.png`, `variance.png`,
    /// `predictions.csv`, `confusion.png`, `model.json` and `report.json`
    /// into `out`, which is made when missing.
    pub fn run(
        &self,
        train: &Manifest,
        train_path: &Path,
        test: &Manifest,
        test_path: &Path,
        out: &Path,
    ) -> Result<EigenOutcome, EigenError> {
        let size = match self.size {
            Some(size) => size,
            None => {
                let Some(first) = train.samples.iter().find(|s| s.split == Split::Train) else {
                    return Err(EigenError::Data(format!(
                        "{} has no training images",
                        train_path.display()
                    )));
                };
                let img = load_rgb(&train.resolve(&first.path))?;
                let h = (f64::from(DEFAULT_WIDTH) * img.height() as f64 / img.width().max(1) as f64)
                    .round() as u32;
                [DEFAULT_WIDTH, h.max(1)]
            }
        };
        if size.contains(&0) {
            return Err(EigenError::InvalidParameter {
                name: "size",
                reason: format!("{}x{}: must be at least 1x1", size[0], size[1]),
            });
        }
        let pre = Preprocess {
            size,
            equalize: self.equalize,
        };
        let (x, y) = pre.load_split(train, Split::Train)?;
        let (xt, yt) = pre.load_split(test, Split::Test)?;
        let pca = PcaParams::new(self.components)
            .whiten(self.whiten)
            .fit(&x)?;
        let clf = self.nearest.fit((&pca.transform(&x)?, &y[..]))?;
        let decisions = clf.predict(&pca.transform(&xt)?)?;
        let correct = decisions
            .iter()
            .zip(&yt)
            .filter(|(d, l)| d.label == Some(**l))
            .count();
        let rejected = decisions.iter().filter(|d| d.label.is_none()).count();
        let accuracy = correct as f64 / yt.len() as f64;

        std::fs::create_dir_all(out).map_err(|e| maskface_core::CoreError::io(out, e))?;
        save_image_atomic(
            &eigenface_grid(&pca, size, GRID_FACES)?,
            &out.join("eigenfaces.png"),
        )?;
        save_image_atomic(&variance_curve(&pca)?, &out.join("variance.png"))?;
        let classes = class_names(train)?;
        let answers: Vec<Answer> = decisions
            .iter()
            .map(|d| Answer {
                predicted: d.label,
                score: -d.distance,
            })
            .collect();
        let test_samples: Vec<_> = test.split(Split::Test).collect();
        write_predictions(out, "eigenfaces", &classes, &test_samples, &answers)?;
        let outcome = EigenOutcome {
            size,
            components: pca.n_components(),
            explained_variance: pca.explained_variance_ratio().sum(),
            train_images: y.len(),
            test_images: yt.len(),
            correct,
            rejected,
            accuracy,
        };
        EigenModel::new(
            classes,
            Eigenfaces {
                preprocess: pre,
                pca,
            },
            clf,
        )?
        .save(&out.join("model.json"))?;
        let report = Report {
            train: train_path.display().to_string(),
            test: test_path.display().to_string(),
            size,
            equalize: pre.equalize,
            components: outcome.components,
            explained_variance: outcome.explained_variance,
            whiten: self.whiten,
            classifier: self.nearest.rule,
            metric: self.nearest.metric,
            threshold: self.nearest.threshold,
            train_images: outcome.train_images,
            test_images: outcome.test_images,
            correct,
            rejected,
            accuracy,
        };
        let path = out.join("report.json");
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| EigenError::Data(format!("{}: {e}", path.display())))?;
        write_atomic(&path, |w| w.write_all(&json))?;
        Ok(outcome)
    }
}
