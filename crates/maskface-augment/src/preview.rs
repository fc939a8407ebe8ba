//! The picture of an augmented dataset people look at (`preview.png`).

use std::path::Path;

use maskface_core::{load_rgb, save_image_atomic, Manifest};

use crate::AugmentError;

/// Writes a grid to `path`: each row one original of `manifest` followed by
/// its augmented copies (`copies` of them), captioned with the identity and
/// each copy's transform; at most `rows` rows. Writes nothing when no
/// original has copies.
pub fn write_preview(
    manifest: &Manifest,
    rows: usize,
    copies: usize,
    path: &Path,
) -> Result<(), AugmentError> {
    let mut images = Vec::new();
    let mut captions = Vec::new();
    let originals = manifest.samples.iter().filter(|s| {
        s.origin.is_none()
            && manifest
                .samples
                .iter()
                .any(|d| d.origin.as_ref() == Some(&s.path))
    });
    for original in originals.take(rows) {
        images.push(load_rgb(&manifest.resolve(&original.path))?);
        captions.push(original.identity.clone());
        for d in manifest
            .samples
            .iter()
            .filter(|d| d.origin.as_ref() == Some(&original.path))
        {
            images.push(load_rgb(&manifest.resolve(&d.path))?);
            captions.push(d.transform.clone());
        }
    }
    if images.is_empty() {
        return Ok(());
    }
    let caps: Vec<&str> = captions.iter().map(String::as_str).collect();
    let grid = maskface_plot::image_grid(&images, &caps, copies as u32 + 1, 180)?;
    save_image_atomic(&grid, path)?;
    Ok(())
}
