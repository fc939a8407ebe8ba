use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_rect_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;

use crate::PlotError;

/// A box to draw on a photo, with the label written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledBox {
    /// Left, top, right, bottom, in the image's pixels (clipped to it).
    pub corners: [f32; 4],
    /// The text above the box.
    pub label: String,
    /// The box's colour; the label is written in white on it.
    pub color: Rgb<u8>,
}

/// Draws each box (a frame about 1/150 of the image's size thick, at least
/// 2 px) and its label on a filled strip above it, or inside the box's top
/// when there is no room above.
///
/// ```
/// use maskface_plot::{draw_labelled_boxes, LabelledBox};
/// let mut photo = image::RgbImage::new(200, 120);
/// let face = LabelledBox { corners: [40.0, 30.0, 120.0, 110.0], label: "Ada 0.91".into(), color: image::Rgb([0, 160, 0]) };
/// draw_labelled_boxes(&mut photo, &[face]).unwrap();
/// assert_eq!(photo.get_pixel(40, 70), &image::Rgb([0, 160, 0]));
/// ```
pub fn draw_labelled_boxes(image: &mut RgbImage, boxes: &[LabelledBox]) -> Result<(), PlotError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Ok(());
    }
    let font = FontRef::try_from_slice(dejavu::sans::regular())
        .map_err(|e| PlotError::Font(e.to_string()))?;
    let thick = (w.max(h) / 150).max(2);
    let px = PxScale::from((w.max(h) as f32 / 30.0).clamp(11.0, 28.0));
    for b in boxes {
        let [x0, y0, x1, y1] = b.corners;
        if !b.corners.iter().all(|v| v.is_finite()) {
            return Err(PlotError::InvalidParameter {
                name: "corners",
                reason: format!("{:?} for {:?}", b.corners, b.label),
            });
        }
        let clip = |v: f32, max: u32| v.round().clamp(0.0, (max - 1) as f32) as i32;
        let (l, t, r, btm) = (clip(x0, w), clip(y0, h), clip(x1, w), clip(y1, h));
        for k in 0..thick as i32 {
            let (bw, bh) = (
                (r - l + 1 - 2 * k).max(1) as u32,
                (btm - t + 1 - 2 * k).max(1) as u32,
            );
            draw_hollow_rect_mut(image, Rect::at(l + k, t + k).of_size(bw, bh), b.color);
        }
        if b.label.is_empty() {
            continue;
        }
        let (tw, th) = text_size(px, &font, &b.label);
        let strip_h = th as i32 + 6;
        let top = if t >= strip_h { t - strip_h } else { t };
        draw_filled_rect_mut(
            image,
            Rect::at(l, top).of_size(tw + 6, strip_h as u32),
            b.color,
        );
        draw_text_mut(image, Rgb([255; 3]), l + 3, top + 2, px, &font, &b.label);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_frame_is_drawn_and_the_inside_left_alone() {
        let mut img = RgbImage::from_pixel(300, 200, Rgb([10, 10, 10]));
        let red = Rgb([200, 0, 0]);
        let b = LabelledBox {
            corners: [50.0, 80.0, 150.0, 190.0],
            label: "Ada".into(),
            color: red,
        };
        draw_labelled_boxes(&mut img, &[b]).unwrap();
        assert_eq!(img.get_pixel(50, 150), &red);
        assert_eq!(img.get_pixel(51, 150), &red, "2 px thick");
        assert_eq!(img.get_pixel(100, 150), &Rgb([10, 10, 10]));
        // The label's strip sits above the box.
        assert_eq!(img.get_pixel(51, 70), &red);
        let white = (50..120)
            .flat_map(|x| (60..80).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[1] > 150)
            .count();
        assert!(white > 10, "the label's text: {white} light pixels");
    }

    #[test]
    fn boxes_outside_the_image_are_clipped_and_bad_ones_refused() {
        let mut img = RgbImage::new(40, 30);
        let b = LabelledBox {
            corners: [-20.0, -5.0, 100.0, 100.0],
            label: "x".into(),
            color: Rgb([0, 0, 255]),
        };
        draw_labelled_boxes(&mut img, std::slice::from_ref(&b)).unwrap();
        assert_eq!(img.get_pixel(39, 15), &Rgb([0, 0, 255]));
        let nan = LabelledBox {
            corners: [f32::NAN, 0.0, 1.0, 1.0],
            ..b
        };
        assert!(draw_labelled_boxes(&mut img, &[nan]).is_err());
    }
}
