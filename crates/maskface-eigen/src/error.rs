use std::path::PathBuf;

/// Errors of `maskface-eigen`: each names the file or parameter that failed.
#[derive(Debug, thiserror::Error)]
pub enum EigenError {
    /// A parameter is out of range or inconsistent with the data.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The data cannot be fitted or used (sizes, constant images, ...).
    #[error("invalid data: {0}")]
    Data(String),
    /// LAPACK failed.
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    /// A saved model could not be read or written.
    #[error("model file {path}: {reason}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A manifest's labels, or the answers file, from `maskface-dataset`.
    #[error(transparent)]
    Dataset(#[from] maskface_dataset::DatasetError),
    /// An image, manifest or file error from `maskface-core`.
    #[error(transparent)]
    Core(#[from] maskface_core::CoreError),
}
