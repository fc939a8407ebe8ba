//! Loading a manifest's aligned face chips.

use image::RgbImage;
use maskface_core::{load_rgb, Manifest, Split};
use rayon::prelude::*;

use crate::RecognizeError;

/// Loads a split's chips in parallel (every split with `None`): the images
/// and their labels, in manifest order.
pub fn load_chips(
    manifest: &Manifest,
    split: Option<Split>,
) -> Result<(Vec<RgbImage>, Vec<u32>), RecognizeError> {
    let samples: Vec<_> = manifest
        .samples
        .iter()
        .filter(|s| split.is_none_or(|split| s.split == split))
        .collect();
    let images = samples
        .par_iter()
        .map(|s| load_rgb(&manifest.resolve(&s.path)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((images, samples.iter().map(|s| s.label).collect()))
}
