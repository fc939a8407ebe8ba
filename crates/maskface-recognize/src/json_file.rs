//! The crate's JSON files (galleries, calibrations, classifiers, reports):
//! written atomically, read with errors that name the file.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::RecognizeError;

/// Writes `value` to `path` as pretty JSON, atomically (a crash leaves the
/// old file).
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RecognizeError> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| RecognizeError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    maskface_core::write_atomic(path, |w| w.write_all(&json))?;
    Ok(())
}

/// Reads a `T` from the JSON file at `path`; an unreadable file or one that
/// is not a `what` is an error naming it.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, RecognizeError> {
    let bad = |reason: String| RecognizeError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("not a {what}: {e}")))
}
