use ab_glyph::{FontRef, PxScale};
use image::{imageops, Rgb, RgbImage};
use imageproc::drawing::{draw_text_mut, text_size};

use crate::PlotError;

/// Lays images out in a grid of `cols` columns, each cell `cell` x `cell`
/// pixels (images are resized to fit, keeping their aspect ratio) with an
/// optional caption under each.
///
/// A contact sheet is not a chart: it is plain image code, its captions
/// written with imageproc rather than plotters.
///
/// ```
/// let tiles = vec![image::RgbImage::new(50, 50); 3];
/// let grid = maskface_plot::image_grid(&tiles, &["a", "b", "c"], 2, 64).unwrap();
/// assert_eq!(grid.width(), 2 * 64);
/// ```
pub fn image_grid(
    images: &[RgbImage],
    captions: &[&str],
    cols: u32,
    cell: u32,
) -> Result<RgbImage, PlotError> {
    if images.is_empty() || cols == 0 || cell < 16 {
        return Err(PlotError::InvalidParameter {
            name: "grid",
            reason: format!(
                "need at least one image, one column and cells of 16 px ({} images, {cols} columns, {cell} px)",
                images.len()
            ),
        });
    }
    let caption_h = if captions.is_empty() { 0 } else { 18 };
    let rows = (images.len() as u32).div_ceil(cols);
    let font = FontRef::try_from_slice(dejavu::sans::regular())
        .map_err(|e| PlotError::Font(e.to_string()))?;
    let caption_px = PxScale::from(12.0);
    let mut sheet = RgbImage::from_pixel(cols * cell, rows * (cell + caption_h), Rgb([255; 3]));
    for (i, img) in images.iter().enumerate() {
        let (col, row) = (i as u32 % cols, i as u32 / cols);
        let (x, y) = (col * cell, row * (cell + caption_h));
        if img.width() > 0 && img.height() > 0 {
            let scale = (cell as f32 / img.width() as f32).min(cell as f32 / img.height() as f32);
            let (w, h) = (
                ((img.width() as f32 * scale).round() as u32).clamp(1, cell),
                ((img.height() as f32 * scale).round() as u32).clamp(1, cell),
            );
            let tile = imageops::resize(img, w, h, imageops::FilterType::Triangle);
            imageops::replace(
                &mut sheet,
                &tile,
                (x + (cell - w) / 2) as i64,
                (y + (cell - h) / 2) as i64,
            );
        }
        if let Some(caption) = captions.get(i) {
            let (w, _) = text_size(caption_px, &font, caption);
            draw_text_mut(
                &mut sheet,
                Rgb([0; 3]),
                (x + cell / 2) as i32 - w as i32 / 2,
                (y + cell + 2) as i32,
                caption_px,
                &font,
                caption,
            );
        }
    }
    Ok(sheet)
}
