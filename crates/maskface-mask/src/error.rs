use std::path::PathBuf;

/// Errors of `maskface-mask`: each names the file, image or parameter that failed.
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not a valid dlib shape predictor.
    #[error("{path} is not a valid dlib shape predictor (at byte {offset}): {reason}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// Where in the file reading stopped.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// A step of the pipeline failed on one image.
    #[error("{step} failed: {reason}")]
    Step {
        /// The step (`landmarks`, `mask`).
        step: &'static str,
        /// The step's error.
        reason: String,
    },
    /// A face is smaller than the smallest one masked.
    #[error("face of {side:.0} px, smaller than the minimum {min:.0} px")]
    FaceTooSmall {
        /// The shorter side of the face's box, in pixels.
        side: f32,
        /// The minimum, in pixels.
        min: f32,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// Why the value was rejected.
        reason: String,
    },
    /// A run finished without the manifest it was asked for.
    #[error("the run in {dir} wrote no `{variant}` manifest")]
    MissingOutput {
        /// The run's output folder.
        dir: PathBuf,
        /// The variant whose manifest is missing.
        variant: &'static str,
    },
    /// An error from `maskface-core` (manifests, images, atomic writes).
    #[error(transparent)]
    Core(#[from] maskface_core::CoreError),
}

impl MaskError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MaskError::Io {
            path: path.into(),
            source,
        }
    }
}
