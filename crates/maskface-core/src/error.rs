use std::path::PathBuf;

/// Errors of `maskface-core`: every variant names the file or parameter that failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An image could not be opened or decoded.
    #[error("cannot decode image {path}: {source}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// An image could not be encoded or written.
    #[error("cannot write image {path}: {source}")]
    ImageWrite {
        /// The image file.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: image::ImageError,
    },
    /// A CSV file could not be read or written.
    #[error("CSV error in {path}: {source}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// The CSV parser's error (it includes the line).
        #[source]
        source: csv::Error,
    },
    /// A JSON file could not be read or written.
    #[error("JSON error in {path}: {source}")]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// The JSON parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A manifest is readable but inconsistent.
    #[error("invalid manifest {path}: {reason}")]
    InvalidManifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A job's output folder holds a run made with other parameters.
    #[error(
        "{path} was made with other parameters ({existing}); use another output folder or --overwrite"
    )]
    ParamsMismatch {
        /// The parameters file in the output folder.
        path: PathBuf,
        /// What it records.
        existing: String,
    },
    /// A merge found shards that have not finished their items.
    #[error("{dir}: {missing} of {total} items have no entry yet ({shards}); run the missing shards again, then merge")]
    ShardsIncomplete {
        /// The folder of the shards' journals.
        dir: PathBuf,
        /// Items without an entry.
        missing: u64,
        /// Items in the job.
        total: u64,
        /// Which shards have not finished.
        shards: String,
    },
    /// Journals of two different splits (another N) share one folder.
    #[error(
        "{dir} holds shards of different splits (N = {counts}); keep the journals of one split"
    )]
    ShardSplitMismatch {
        /// The folder of the shards' journals.
        dir: PathBuf,
        /// The shard counts found.
        counts: String,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// Why the value was rejected.
        reason: String,
    },
}

impl CoreError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Io {
            path: path.into(),
            source,
        }
    }
}
