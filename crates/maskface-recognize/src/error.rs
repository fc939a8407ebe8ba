use std::path::PathBuf;

/// Errors of `maskface-recognize`; each names the file, person or
/// parameter concerned.
#[derive(Debug, thiserror::Error)]
pub enum RecognizeError {
    /// Embeddings and labels that do not fit together.
    #[error("embeddings: {0}")]
    Data(String),
    /// A parameter is outside its range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A gallery or model file is unreadable, corrupt or of another kind.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file error from `maskface-core`.
    #[error(transparent)]
    Core(#[from] maskface_core::CoreError),
    /// The embedder failed.
    #[error("embedding faces: {0}")]
    Embedder(String),
    /// A saved model file does not exist.
    #[error("model {path} not found")]
    ModelNotFound {
        /// The file asked for.
        path: PathBuf,
    },
    /// A network or model file could not be loaded; its own error names
    /// the file.
    #[error("loading {what}: {cause}")]
    Load {
        /// What was being loaded (for example "MTCNN").
        what: String,
        /// The loader's error.
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A manifest's training split is empty.
    #[error("{manifest} has no training images")]
    NoTrainingImages {
        /// The manifest.
        manifest: PathBuf,
    },
    /// Searching a photo for faces failed (one too small for the detector,
    /// say).
    #[error("{path}: {reason}")]
    Photo {
        /// The photo.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No face was found in a photo.
    #[error("{path}: no face found")]
    NoFace {
        /// The photo.
        path: PathBuf,
    },
    /// A network failed on images.
    #[error(transparent)]
    Nets(#[from] maskface_nets::NetsError),
    /// A fine-tuned paper network failed to load or run.
    #[error(transparent)]
    Train(#[from] maskface_train::TrainError),
    /// Landmarks, a mask or a chip failed.
    #[error(transparent)]
    Mask(#[from] maskface_mask::MaskError),
    /// The Eigenface model failed.
    #[error(transparent)]
    Eigen(#[from] maskface_eigen::EigenError),
    /// A dataset-level error (for example a manifest's labels).
    #[error(transparent)]
    Dataset(#[from] maskface_dataset::DatasetError),
}
