//! The saved embedding recognizer (`model.json` of `maskface recognize`):
//! which network embeds the faces, the class names and the head, and the
//! loaders of the networks it names.

use std::path::Path;

use maskface_nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use serde::{Deserialize, Serialize};

use crate::{Centroids, CohortParams, Head, RecognizeError, SoftmaxParams};

/// What `model.json` of an embedding recognizer says it is.
pub const EMBEDDING_MODEL_KIND: &str = "embedding";

/// How a head is fitted on the training embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// Cosine similarity to each person's mean embedding.
    Centroid,
    /// A softmax layer trained on the embeddings.
    Softmax,
    /// Nearest centre, each person's scores normalised against the faces
    /// of a cohort of other people (their [`CohortParams::top_k`] closest),
    /// so one open-set threshold suits everyone.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Nearest centre, each person's scores normalised against the faces of --cohort (their 300 closest), so one open-set threshold suits everyone"
        )
    )]
    Cohort,
}

impl HeadKind {
    /// Fits the head on the embeddings `x` with labels `labels`: class
    /// centres, a softmax layer ([`SoftmaxParams::default`]), or class
    /// centres normalised against the `cohort` embeddings (faces of people
    /// outside the classes; needed by [`HeadKind::Cohort`] only).
    pub fn fit(
        self,
        x: &[Vec<f32>],
        labels: &[u32],
        cohort: Option<&[Vec<f32>]>,
        cohort_params: &CohortParams,
    ) -> Result<Head, RecognizeError> {
        Ok(match self {
            HeadKind::Centroid => Head::Centroids(Centroids::fit(x, labels)?),
            HeadKind::Softmax => Head::Softmax(SoftmaxParams::default().fit(x, labels)?),
            HeadKind::Cohort => {
                let Some(cohort) = cohort else {
                    return Err(RecognizeError::InvalidParameter {
                        name: "cohort",
                        reason: "a cohort head needs the embeddings of a cohort".into(),
                    });
                };
                Head::CohortCentroids(cohort_params.fit(Centroids::fit(x, labels)?, cohort)?)
            }
        })
    }
}

/// An embedding recognizer as saved: which embedder, the class names and
/// the head.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddingModel {
    /// Always [`EMBEDDING_MODEL_KIND`].
    pub kind: String,
    /// The embedder: dlib's model file (found in the models folder), or the
    /// path of fine-tuned weights.
    pub embedder: String,
    /// Whether each embedding is averaged with its mirror image's.
    #[serde(default)]
    pub mirror: bool,
    /// Class names by label.
    pub classes: Vec<String>,
    /// The classifier on the embeddings.
    pub head: Head,
}

impl EmbeddingModel {
    /// A model of [`EMBEDDING_MODEL_KIND`].
    pub fn new(embedder: String, mirror: bool, classes: Vec<String>, head: Head) -> Self {
        EmbeddingModel {
            kind: EMBEDDING_MODEL_KIND.into(),
            embedder,
            mirror,
            classes,
            head,
        }
    }

    /// Reads a model from its file's bytes (`path` names it in errors).
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Self, RecognizeError> {
        let m: EmbeddingModel =
            serde_json::from_slice(bytes).map_err(|e| RecognizeError::File {
                path: path.to_path_buf(),
                reason: format!("not an embedding model: {e}"),
            })?;
        if m.kind != EMBEDDING_MODEL_KIND || m.classes.len() != m.head.num_classes() {
            return Err(RecognizeError::File {
                path: path.to_path_buf(),
                reason: format!(
                    "kind `{}` with {} classes for a head of {}",
                    m.kind,
                    m.classes.len(),
                    m.head.num_classes()
                ),
            });
        }
        Ok(m)
    }

    /// Writes the model as compact JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), RecognizeError> {
        let json = serde_json::to_vec(self).map_err(|e| RecognizeError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        maskface_core::write_atomic(path, |w| w.write_all(&json))?;
        Ok(())
    }

    /// A short description for tables.
    pub fn describe(&self) -> String {
        format!(
            "{}{} + {}",
            if self.embedder == DLIB_RESNET_FILE {
                "dlib ResNet"
            } else {
                "fine-tuned ResNet"
            },
            if self.mirror {
                " (mirror-averaged)"
            } else {
                ""
            },
            match self.head {
                Head::Centroids(_) => "nearest centre (cosine)",
                Head::Softmax(_) => "softmax head",
                Head::CohortCentroids(_) => "nearest centre (cosine, cohort-normalised)",
            }
        )
    }

    /// The network the model names, from `models`, with the model's mirror
    /// setting.
    pub fn embedder(&self, models: &Path) -> Result<FaceEmbedderResNet, RecognizeError> {
        let mut net = load_embedder(models, &self.embedder)?;
        net.mirror = self.mirror;
        Ok(net)
    }
}

/// The name a model or gallery records for its network: dlib's file name,
/// or the path of fine-tuned weights.
pub fn embedder_name(weights: Option<&Path>) -> String {
    match weights {
        Some(w) => w.display().to_string(),
        None => DLIB_RESNET_FILE.to_string(),
    }
}

/// The network a model or gallery names (see [`embedder_name`]): dlib's
/// from `models`, or fine-tuned weights on dlib's architecture; on the CPU.
pub fn load_embedder(models: &Path, name: &str) -> Result<FaceEmbedderResNet, RecognizeError> {
    let device = Backend::Flex.device()?;
    let dlib = models.join(DLIB_RESNET_FILE);
    if name == DLIB_RESNET_FILE {
        return FaceEmbedderResNet::from_file(&dlib, &device).map_err(|e| RecognizeError::Load {
            what: "dlib's face-recognition model".into(),
            cause: Box::new(e),
        });
    }
    FaceEmbedderResNet::from_tuned(&dlib, Path::new(name), &device).map_err(|e| {
        RecognizeError::Load {
            what: format!("the fine-tuned network {name}"),
            cause: Box::new(e),
        }
    })
}
