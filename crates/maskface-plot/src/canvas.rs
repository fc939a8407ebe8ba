use ab_glyph::{FontRef, PxScale};
use image::{imageops, Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_line_segment_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;

use crate::PlotError;

pub(crate) const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
pub(crate) const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
pub(crate) const GREY: Rgb<u8> = Rgb([200, 200, 200]);

/// A white image with text helpers.
pub(crate) struct Canvas {
    pub img: RgbImage,
    font: FontRef<'static>,
}

impl Canvas {
    pub fn new(width: u32, height: u32) -> Result<Self, PlotError> {
        if width < 16 || height < 16 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small (at least 16x16)"),
            });
        }
        let font = FontRef::try_from_slice(dejavu::sans::regular())
            .map_err(|e| PlotError::Font(e.to_string()))?;
        Ok(Canvas {
            img: RgbImage::from_pixel(width, height, WHITE),
            font,
        })
    }

    pub fn text_size(&self, px: f32, text: &str) -> (u32, u32) {
        text_size(PxScale::from(px), &self.font, text)
    }

    /// Draws `text` with its top-left corner at `(x, y)`.
    pub fn text(&mut self, x: i32, y: i32, px: f32, color: Rgb<u8>, text: &str) {
        draw_text_mut(
            &mut self.img,
            color,
            x,
            y,
            PxScale::from(px),
            &self.font,
            text,
        );
    }

    /// Draws `text` centred horizontally on `cx`.
    pub fn text_centered(&mut self, cx: i32, y: i32, px: f32, color: Rgb<u8>, text: &str) {
        let (w, _) = self.text_size(px, text);
        self.text(cx - w as i32 / 2, y, px, color, text);
    }

    /// Draws `text` rotated 90 degrees counter-clockwise (reading bottom to
    /// top), its right end (after rotation: top) at `(x, y)`.
    pub fn text_vertical(&mut self, x: i32, y: i32, px: f32, color: Rgb<u8>, text: &str) {
        let (w, h) = self.text_size(px, text);
        if w == 0 || h == 0 {
            return;
        }
        let mut strip = RgbImage::from_pixel(w + 2, h + 2, WHITE);
        draw_text_mut(&mut strip, color, 1, 1, PxScale::from(px), &self.font, text);
        let rotated = imageops::rotate270(&strip);
        // Only dark pixels are copied so that neighbouring labels and grid
        // lines are not painted over by the strip's white background.
        for (sx, sy, p) in rotated.enumerate_pixels() {
            let (tx, ty) = (x + sx as i32, y + sy as i32);
            if p.0 != WHITE.0
                && tx >= 0
                && ty >= 0
                && (tx as u32) < self.img.width()
                && (ty as u32) < self.img.height()
            {
                self.img.put_pixel(tx as u32, ty as u32, *p);
            }
        }
    }

    /// A grey grid line at height `y` from `left` to `right`, labelled with
    /// `text` left of the axis.
    pub fn y_tick(&mut self, left: u32, right: f32, y: f32, px: f32, text: &str) {
        self.line((left as f32, y), (right, y), GREY);
        let (tw, th) = self.text_size(px, text);
        self.text(
            left as i32 - tw as i32 - 6,
            y as i32 - th as i32 / 2,
            px,
            BLACK,
            text,
        );
    }

    pub fn rect(&mut self, x: i32, y: i32, w: u32, h: u32, color: Rgb<u8>) {
        if w > 0 && h > 0 {
            draw_filled_rect_mut(&mut self.img, Rect::at(x, y).of_size(w, h), color);
        }
    }

    pub fn line(&mut self, a: (f32, f32), b: (f32, f32), color: Rgb<u8>) {
        draw_line_segment_mut(&mut self.img, a, b, color);
    }
}

/// "Nice" tick spacing for an axis from 0 to `max` with about `n` ticks.
pub(crate) fn nice_step(max: f64, n: usize) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(80.0, 5), 20.0);
        assert_eq!(nice_step(7.0, 5), 2.0);
        assert_eq!(nice_step(0.9, 5), 0.2);
        assert_eq!(nice_step(0.0, 5), 1.0);
    }

    #[test]
    fn text_is_drawn() {
        let mut c = Canvas::new(100, 40).unwrap();
        c.text(2, 2, 16.0, BLACK, "Hi");
        assert!(c.img.pixels().any(|p| p.0 == [0, 0, 0] || p.0[0] < 128));
    }
}
