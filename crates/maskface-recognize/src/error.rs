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
}
