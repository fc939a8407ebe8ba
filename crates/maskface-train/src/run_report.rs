//! `report.json` of a fine-tuning run (`maskface train`): its settings
//! beside the [`FitReport`].

use std::path::Path;

use maskface_core::write_atomic;
use serde::Serialize;

use crate::{FitReport, LossKind, TrainError};

/// A fine-tuning run as `report.json` records it. The file's keys are
/// sorted at every level, as they have always been.
#[derive(Debug, Clone, Serialize)]
pub struct TrainRunReport<'a> {
    /// Weight of the distillation term (0: none).
    pub distill_weight: f64,
    /// Images per extra identity asked for (0: none).
    pub extra_images_per_person: usize,
    /// The mask painted on the extra identities, as its spec (`None`: the
    /// targets' own).
    pub extra_mask: Option<serde_json::Value>,
    /// The fewest images an extra identity has.
    pub extra_min_images: usize,
    /// Extra identities trained beside the targets.
    pub extra_people: usize,
    /// What the fit did, epoch by epoch.
    pub fit: &'a FitReport,
    /// Residual blocks left as dlib trained them.
    pub frozen_blocks: usize,
    /// The loss, by its `Debug` name.
    pub loss: String,
    /// ArcFace's angular margin, in radians.
    pub margin: f64,
    /// ArcFace's logit scale.
    pub scale: f64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// The seed of the stranger draw and of the shuffling.
    pub seed: u64,
    /// Size of the open-set stranger draw kept out of the extra identities.
    pub strangers_excluded: usize,
    /// The targets' manifest.
    pub train: String,
    /// The targets' unmasked twins' manifest, when distilling.
    pub unmasked: Option<String>,
}

impl TrainRunReport<'_> {
    /// The loss's name as the report records it.
    pub fn loss_name(loss: LossKind) -> String {
        format!("{loss:?}")
    }

    /// Writes the report, pretty-printed, to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<(), TrainError> {
        let error = |e: serde_json::Error| TrainError::Data {
            what: path.display().to_string(),
            reason: e.to_string(),
        };
        // A `Value`'s maps are sorted, which sorts the nested fit report's
        // keys too.
        let value = serde_json::to_value(self).map_err(error)?;
        let bytes = serde_json::to_vec_pretty(&value).map_err(error)?;
        write_atomic(path, |w| w.write_all(&bytes))?;
        Ok(())
    }
}
