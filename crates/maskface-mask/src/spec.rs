//! Renderers as data: what a generated dataset records, and how the same
//! masks are made again from that record.

use image::RgbImage;
use maskface_core::{Landmarks68, Manifest, MaskRenderer, MaskedFace, RngCore};
use serde::{Deserialize, Serialize};

use crate::{GenerateOptions, MaskError, MaskFamily, MaskMix, PaperMask, RealisticMask, Variant};

/// Either renderer with its parameters; serialised with a `kind` tag
/// (`{"kind": "paper", "colors": [...]}`), as [`MaskRenderer::describe`]
/// gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MaskSpec {
    /// The paper's flat polygon.
    Paper(PaperMask),
    /// Surgical, N95 and cloth masks.
    Realistic(RealisticMask),
    /// Either of them, drawn per face.
    Family(MaskFamily),
    /// MaskTheFace's mask types, colours, textures and `--code` lists, and
    /// where the mask sits (what `maskface mask` paints).
    Mix(MaskMix),
}

impl MaskSpec {
    /// The spec as JSON (what `describe` returns).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl MaskRenderer for MaskSpec {
    type Error = MaskError;

    fn render(
        &self,
        image: &RgbImage,
        landmarks: &Landmarks68,
        rng: &mut dyn RngCore,
    ) -> Result<MaskedFace, MaskError> {
        match self {
            MaskSpec::Paper(m) => m.render(image, landmarks, rng),
            MaskSpec::Realistic(m) => m.render(image, landmarks, rng),
            MaskSpec::Family(m) => m.render(image, landmarks, rng),
            MaskSpec::Mix(m) => m.render(image, landmarks, rng),
        }
    }

    fn describe(&self) -> serde_json::Value {
        self.to_json()
    }
}

/// The parameters of a finished [`generate_dataset`](crate::generate_dataset)
/// run, read back from one of the manifests it wrote: enough to put other
/// images (strangers, extra identities) through the same pipeline with
/// [`generate_like`](crate::generate_like). (What was done to each image is
/// in [`ImageRecord`](crate::ImageRecord)s instead.)
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    /// The variant the manifest holds.
    pub variant: Variant,
    /// The options, with `variants` set to that one variant.
    pub options: GenerateOptions,
    /// The renderer, when the manifest recorded it.
    pub mask: Option<MaskSpec>,
}

impl GenerationParams {
    /// The last `generate:<variant>` stage of `manifest`; `None` when the
    /// images were not made by `generate`.
    pub fn from_manifest(manifest: &Manifest) -> Result<Option<Self>, MaskError> {
        let Some((stage, variant)) = manifest.info.stages.iter().rev().find_map(|s| {
            let name = s.step.strip_prefix("generate:")?;
            let v = Variant::ALL.into_iter().find(|v| v.as_str() == name)?;
            Some((s, v))
        }) else {
            return Ok(None);
        };
        let bad = |what: &str, e: serde_json::Error| MaskError::InvalidParameter {
            name: "manifest",
            reason: format!("its `{}` stage has unreadable {what}: {e}", stage.step),
        };
        let mut options: GenerateOptions =
            serde_json::from_value(stage.params.clone()).map_err(|e| bad("options", e))?;
        options.variants = vec![variant];
        options.overwrite = false;
        let mask = match stage.params.get("mask") {
            None | Some(serde_json::Value::Null) => None,
            Some(m) => Some(serde_json::from_value(m.clone()).map_err(|e| bad("mask", e))?),
        };
        Ok(Some(GenerationParams {
            variant,
            options,
            mask,
        }))
    }

    /// The renderer to use again: the recorded one, or the paper's mask
    /// when the manifest did not record it.
    pub fn renderer(&self) -> MaskSpec {
        self.mask
            .clone()
            .unwrap_or_else(|| MaskSpec::Paper(PaperMask::default()))
    }
}
