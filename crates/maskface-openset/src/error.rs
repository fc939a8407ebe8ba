use std::path::PathBuf;

/// Errors of `maskface-openset`.
#[derive(Debug, thiserror::Error)]
pub enum OpenSetError {
    /// The inputs of an evaluation do not fit together.
    #[error("open-set data: {0}")]
    Data(String),
    /// A parameter is outside its range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A chart could not be drawn.
    #[cfg(feature = "plot")]
    #[error("drawing {what}: {source}")]
    Plot {
        /// The chart.
        what: &'static str,
        /// The cause.
        #[source]
        source: maskface_plot::PlotError,
    },
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: maskface_core::CoreError,
    },
}
