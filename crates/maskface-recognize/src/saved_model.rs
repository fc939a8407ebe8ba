//! Any saved recognizer, read by the `kind` its file records: the
//! Eigenface model of `maskface-eigen`, an [`EmbeddingModel`], or one of
//! the paper's networks fine-tuned by `maskface-train`
//! ([`PaperClassifier`]).

use std::path::Path;

use image::RgbImage;
use maskface_core::{load_rgb, Classifier, Manifest, Sample};
use maskface_eigen::EigenModel;
use maskface_nets::face_resnet::FaceEmbedderResNet;
use maskface_nets::Backend;
use maskface_train::{PaperClassifier, PAPER_MODEL_KIND};
use rayon::prelude::*;

use crate::{EmbeddingClassifier, EmbeddingModel, RecognizeError, EMBEDDING_MODEL_KIND};

/// A saved model that gives one score per known person.
pub enum SavedModel {
    /// The Eigenface baseline.
    Eigen(Box<EigenModel>),
    /// An embedding recognizer with the network it names.
    Embedding {
        /// The model file's content.
        model: Box<EmbeddingModel>,
        /// Its network, loaded.
        net: Box<FaceEmbedderResNet>,
    },
    /// One of the paper's networks with its classifier.
    Paper(Box<PaperClassifier>),
}

impl SavedModel {
    /// Reads the model at `path`; an embedding model's network is loaded
    /// from `models` (dlib's) or from the weights it names. A file without
    /// the embedding kind is read as an Eigenface model.
    pub fn load(path: &Path, models: &Path) -> Result<Self, RecognizeError> {
        if !path.is_file() {
            return Err(RecognizeError::ModelNotFound {
                path: path.to_path_buf(),
            });
        }
        // The kind decides the reader: peek at it without the rest.
        #[derive(serde::Deserialize)]
        struct Kind {
            kind: String,
        }
        let bytes = std::fs::read(path).map_err(|e| maskface_core::CoreError::io(path, e))?;
        let kind = serde_json::from_slice::<Kind>(&bytes)
            .map(|k| k.kind)
            .unwrap_or_default();
        if kind == PAPER_MODEL_KIND {
            let device = Backend::default().device()?;
            return Ok(SavedModel::Paper(Box::new(PaperClassifier::load(
                path, &device,
            )?)));
        }
        if kind == EMBEDDING_MODEL_KIND {
            let model = EmbeddingModel::from_slice(&bytes, path)?;
            let net = model.embedder(models)?;
            return Ok(SavedModel::Embedding {
                model: Box::new(model),
                net: Box::new(net),
            });
        }
        Ok(SavedModel::Eigen(Box::new(EigenModel::from_slice(
            &bytes, path,
        )?)))
    }

    /// Class names by label.
    pub fn classes(&self) -> &[String] {
        match self {
            SavedModel::Eigen(m) => &m.classes,
            SavedModel::Embedding { model, .. } => &model.classes,
            SavedModel::Paper(m) => m.classes(),
        }
    }

    /// A short description for tables.
    pub fn describe(&self) -> String {
        match self {
            SavedModel::Eigen(m) => m.describe(),
            SavedModel::Embedding { model, .. } => model.describe(),
            SavedModel::Paper(m) => m.describe(),
        }
    }

    /// How the model's classes differ from `classes` (a manifest's, by
    /// label): `None` when they are the same, so the model's labels mean
    /// the manifest's.
    pub fn class_mismatch(&self, classes: &[String]) -> Option<String> {
        let own = self.classes();
        if own == classes {
            return None;
        }
        Some(match classes.iter().zip(own).position(|(a, b)| a != b) {
            Some(i) if classes.len() == own.len() => format!(
                "label {i} is `{}` in the model and `{}` in the manifest",
                own[i], classes[i]
            ),
            _ => format!(
                "it knows {} people, the manifest has {}",
                own.len(),
                classes.len()
            ),
        })
    }

    /// The logits of `samples` (of `manifest`), their images loaded in
    /// parallel and scored [`SCORE_BATCH`] at a time; `progress` gets each
    /// batch's size.
    pub fn manifest_logits(
        &self,
        manifest: &Manifest,
        samples: &[&Sample],
        progress: &dyn Fn(usize),
    ) -> Result<Vec<Vec<f32>>, RecognizeError> {
        let mut logits = Vec::with_capacity(samples.len());
        for chunk in samples.chunks(SCORE_BATCH) {
            let images = chunk
                .par_iter()
                .map(|s| load_rgb(&manifest.resolve(&s.path)))
                .collect::<Result<Vec<_>, _>>()?;
            logits.extend(self.logits(&images)?);
            progress(chunk.len());
        }
        Ok(logits)
    }
}

/// Images [`SavedModel::manifest_logits`] loads and scores at a time.
pub const SCORE_BATCH: usize = 256;

impl Classifier for SavedModel {
    type Error = RecognizeError;

    fn num_classes(&self) -> usize {
        self.classes().len()
    }

    fn logits(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, RecognizeError> {
        match self {
            SavedModel::Eigen(m) => Ok(m.logits(faces)?),
            SavedModel::Embedding { model, net } => EmbeddingClassifier {
                embedder: net.as_ref(),
                head: &model.head,
            }
            .logits(faces),
            SavedModel::Paper(m) => Ok(m.logits(faces)?),
        }
    }
}
