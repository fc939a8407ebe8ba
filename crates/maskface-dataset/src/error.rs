use std::path::PathBuf;

use maskface_core::CoreError;

/// Errors of `maskface-dataset`; each names the file, identity or parameter
/// concerned.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Manifest, image or file-system error from `maskface-core`.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The dataset root does not exist or is not a folder.
    #[error("dataset root {path} does not exist or is not a folder")]
    MissingRoot {
        /// The root that was given.
        path: PathBuf,
    },
    /// A folder could not be listed.
    #[error("cannot list {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A seed-split file is malformed or names an image that is not there.
    #[error("{path}, line {line}: {reason}")]
    SeedSplit {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number (1 is the header).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Some identities have too few images for the requested split.
    #[error("cannot split {} identities with these ratios:\n{details}", .identities.len())]
    Unsplittable {
        /// The identities concerned.
        identities: Vec<String>,
        /// One line per identity: its image count and what it needs.
        details: String,
    },
    /// An identity named in a selection is not in the dataset.
    #[error("identity `{name}` is not in the dataset at {root}")]
    UnknownIdentity {
        /// The name asked for.
        name: String,
        /// The dataset root.
        root: PathBuf,
    },
    /// A selection cannot be satisfied (for example more identities asked for
    /// than exist in the count range).
    #[error("cannot select identities: {0}")]
    Selection(String),
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A manifest's labels do not name one identity each, `0..n`.
    #[error("{0}")]
    Labels(String),
    /// A chart could not be drawn.
    #[cfg(feature = "plot")]
    #[error("cannot draw chart: {0}")]
    Plot(#[from] maskface_plot::PlotError),
}
