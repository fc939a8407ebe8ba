//! The mask-robust network `maskface run` installs in the models folder,
//! and the threshold measured for it, which new galleries use by default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::json_file::{read_json, write_json};
use crate::{file_sha256, RecognizeError};

/// The installed network's file in the models folder.
pub const INSTALLED_EMBEDDER_FILE: &str = "maskface_embedder.bpk";

/// A network's threshold as measured, kept beside its weights
/// (`<weights>.json`): the similarity at which a share `fpir` of masked
/// strangers is taken for an enrolled person, measured on people outside
/// training in masks never seen in training (`maskface heldout`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The gallery threshold (cosine similarity).
    pub threshold: f32,
    /// The false-positive identification rate it was set at.
    pub fpir: f64,
    /// The share of enrolled people's masked probes named right at it.
    pub dir: f64,
    /// The threshold for faces the [`crate::MaskClassifier`] finds
    /// unmasked, measured the same way on the same people's unmasked
    /// photos (at the same `fpir`), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmasked_threshold: Option<f32>,
    /// The share of unmasked probes named right at `unmasked_threshold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmasked_dir: Option<f64>,
    /// What it was measured on, in words.
    pub protocol: String,
    /// SHA-256 of the weights it was measured for: a calibration of other
    /// weights is not used.
    pub weights_sha256: String,
}

impl Calibration {
    /// Where the calibration of `weights` is kept.
    pub fn path_for(weights: &Path) -> PathBuf {
        weights.with_extension("json")
    }

    /// The calibration kept beside `weights`, when there is one made for
    /// these very weights; an unreadable file is an error naming it.
    pub fn read_for(weights: &Path) -> Result<Option<Calibration>, RecognizeError> {
        let path = Self::path_for(weights);
        if !path.is_file() {
            return Ok(None);
        }
        let c: Calibration = read_json(&path, "calibration")?;
        Ok((c.weights_sha256 == file_sha256(weights)?).then_some(c))
    }

    /// Writes the calibration beside `weights`, atomically.
    pub fn write_for(&self, weights: &Path) -> Result<(), RecognizeError> {
        write_json(&Self::path_for(weights), self)
    }
}

/// The installed network in `models`, when there is one.
pub fn installed_embedder(models: &Path) -> Option<PathBuf> {
    let path = models.join(INSTALLED_EMBEDDER_FILE);
    path.is_file().then_some(path)
}

/// Copies `weights` into `models` as the installed network and writes its
/// calibration (with the copy's digest) beside it; both atomically. Returns
/// the installed file.
pub fn install_embedder(
    weights: &Path,
    models: &Path,
    calibration: &Calibration,
) -> Result<PathBuf, RecognizeError> {
    let bytes = std::fs::read(weights).map_err(|e| RecognizeError::File {
        path: weights.to_path_buf(),
        reason: e.to_string(),
    })?;
    let target = models.join(INSTALLED_EMBEDDER_FILE);
    maskface_core::write_atomic(&target, |w| w.write_all(&bytes))?;
    Calibration {
        weights_sha256: file_sha256(&target)?,
        ..calibration.clone()
    }
    .write_for(&target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_calibration_belongs_to_its_weights() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("net.bpk");
        std::fs::write(&weights, b"weights").unwrap();
        let models = dir.path().join("models");
        std::fs::create_dir_all(&models).unwrap();
        assert_eq!(installed_embedder(&models), None);
        let c = Calibration {
            threshold: 0.6,
            fpir: 0.01,
            dir: 0.9,
            unmasked_threshold: Some(0.5),
            unmasked_dir: Some(0.95),
            protocol: "test".into(),
            weights_sha256: String::new(),
        };
        let installed = install_embedder(&weights, &models, &c).unwrap();
        assert_eq!(installed_embedder(&models), Some(installed.clone()));
        let read = Calibration::read_for(&installed).unwrap().unwrap();
        assert_eq!(read.threshold, 0.6);
        assert_eq!(read.unmasked_threshold, Some(0.5));
        // A calibration written before the unmasked threshold existed
        // still reads.
        let old = r#"{"threshold": 0.6, "fpir": 0.01, "dir": 0.9, "protocol": "t", "weights_sha256": "x"}"#;
        let old: Calibration = serde_json::from_str(old).unwrap();
        assert_eq!(old.unmasked_threshold, None);
        assert_eq!(read.weights_sha256, file_sha256(&weights).unwrap());
        // Other weights in place: the calibration is not theirs.
        std::fs::write(&installed, b"other weights").unwrap();
        assert_eq!(Calibration::read_for(&installed).unwrap(), None);
        // A broken calibration is an error naming it.
        std::fs::write(Calibration::path_for(&installed), b"{").unwrap();
        let e = Calibration::read_for(&installed).unwrap_err();
        assert!(e.to_string().contains("maskface_embedder.json"), "{e}");
    }
}
