use maskface_core::CoreError;

/// Errors of `maskface-augment`.
#[derive(Debug, thiserror::Error)]
pub enum AugmentError {
    /// Manifest, image or file-system error from `maskface-core`.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The preview could not be drawn.
    #[cfg(feature = "plot")]
    #[error("drawing the preview: {0}")]
    Plot(#[from] maskface_plot::PlotError),
}
