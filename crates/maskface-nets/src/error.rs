use std::path::PathBuf;

/// Errors of `maskface-nets`: each names the file or parameter concerned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NetsError {
    /// A weight file is missing, truncated or not the expected network.
    #[error("cannot load weights from {path}: {reason}")]
    Weights {
        /// The weight file.
        path: PathBuf,
        /// What went wrong and what was expected.
        reason: String,
    },
    /// The image is smaller than the smallest face the detector looks for.
    #[error("image of {width}x{height} is too small for a minimum face size of {min_face} px")]
    ImageTooSmall {
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
        /// The configured minimum face size.
        min_face: u32,
    },
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The requested backend was not compiled in or cannot start.
    #[error("backend `{name}` is not available: {reason}")]
    Backend {
        /// The backend's name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device failed: {0}")]
    Readback(String),
}
