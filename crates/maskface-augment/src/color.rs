use image::RgbImage;
use maskface_core::{Augmentation, Augmented, RngCore};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Multiplies brightness, then contrast, then saturation of `image` by the
/// given factors (1 leaves the image unchanged), the way torchvision's
/// functional `adjust_*` do:
///
/// - brightness: every channel times `brightness`;
/// - contrast: blend with the image's mean grey level, `mean + c * (v - mean)`;
/// - saturation: blend with each pixel's own grey level.
///
/// Grey is ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B). Results are clamped
/// to 0..=255 and rounded.
///
/// ```
/// use image::{Rgb, RgbImage};
/// let img = RgbImage::from_pixel(2, 2, Rgb([100, 50, 0]));
/// let out = maskface_augment::adjust_colors(&img, 2.0, 1.0, 1.0);
/// assert_eq!(out.get_pixel(0, 0).0, [200, 100, 0]);
/// ```
pub fn adjust_colors(
    image: &RgbImage,
    brightness: f32,
    contrast: f32,
    saturation: f32,
) -> RgbImage {
    const LUMA: [f32; 3] = [0.299, 0.587, 0.114];
    let luma = |p: &[f32]| p[0] * LUMA[0] + p[1] * LUMA[1] + p[2] * LUMA[2];
    let clamp = |v: f32| v.clamp(0.0, 255.0);
    let mut buf: Vec<f32> = image
        .as_raw()
        .iter()
        .map(|&v| clamp(f32::from(v) * brightness))
        .collect();
    if contrast != 1.0 {
        let n = (buf.len() / 3).max(1) as f32;
        // torchvision rounds the mean grey of a uint8 image to an integer.
        let mean = (buf.chunks_exact(3).map(luma).sum::<f32>() / n).round();
        buf.iter_mut()
            .for_each(|v| *v = clamp(mean + contrast * (*v - mean)));
    }
    if saturation != 1.0 {
        for px in buf.chunks_exact_mut(3) {
            let g = luma(px);
            px.iter_mut()
                .for_each(|v| *v = clamp(g + saturation * (*v - g)));
        }
    }
    let raw = buf.into_iter().map(|v| v.round() as u8).collect();
    RgbImage::from_raw(image.width(), image.height(), raw).unwrap_or_else(|| image.clone())
}

/// Random brightness, contrast and saturation, each factor drawn uniformly
/// from `[1 - x, 1 + x]` (`x` clamped to `0..=1`), as torchvision's
/// `ColorJitter(brightness, contrast, saturation)`; applied in that fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColorJitter {
    /// Brightness spread.
    pub brightness: f32,
    /// Contrast spread.
    pub contrast: f32,
    /// Saturation spread.
    pub saturation: f32,
}

impl ColorJitter {
    /// Jitter with the given spreads.
    pub fn new(brightness: f32, contrast: f32, saturation: f32) -> Self {
        ColorJitter {
            brightness,
            contrast,
            saturation,
        }
    }
}

fn draw(rng: &mut dyn RngCore, spread: f32) -> f32 {
    let s = spread.clamp(0.0, 1.0);
    if s > 0.0 {
        rng.random_range(1.0 - s..=1.0 + s)
    } else {
        1.0
    }
}

impl Augmentation for ColorJitter {
    fn name(&self) -> &str {
        "color_jitter"
    }

    fn describe(&self) -> String {
        format!(
            "color_jitter(brightness={}, contrast={}, saturation={})",
            self.brightness, self.contrast, self.saturation
        )
    }

    fn apply(&self, image: &RgbImage, rng: &mut dyn RngCore) -> Augmented {
        let b = draw(rng, self.brightness);
        let c = draw(rng, self.contrast);
        let s = draw(rng, self.saturation);
        Augmented {
            image: adjust_colors(image, b, c, s),
            record: format!("color(b={b:.3},c={c:.3},s={s:.3})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use proptest::prelude::*;

    #[test]
    fn known_answers() {
        let img = RgbImage::from_fn(2, 1, |x, _| {
            if x == 0 {
                Rgb([0, 0, 0])
            } else {
                Rgb([200, 100, 50])
            }
        });
        // mean luma: (0 + 0.299*200 + 0.587*100 + 0.114*50)/2 = 62.15 -> 62
        let c = adjust_colors(&img, 1.0, 0.5, 1.0);
        assert_eq!(c.get_pixel(0, 0).0, [31, 31, 31]);
        assert_eq!(c.get_pixel(1, 0).0, [131, 81, 56]);
        // saturation 0 gives grey: luma of (200,100,50) = 124.2
        let s = adjust_colors(&img, 1.0, 1.0, 0.0);
        assert_eq!(s.get_pixel(1, 0).0, [124, 124, 124]);
    }

    proptest! {
        #[test]
        fn unit_factors_are_identity(w in 1u32..20, h in 1u32..20, seed in any::<u8>()) {
            let img = RgbImage::from_fn(w, h, |x, y| Rgb([seed.wrapping_add(x as u8), (y * 13) as u8, 200]));
            prop_assert_eq!(adjust_colors(&img, 1.0, 1.0, 1.0), img);
        }

        #[test]
        fn brighter_never_darker(v in any::<[u8; 3]>(), b in 1.0f32..3.0) {
            let img = RgbImage::from_pixel(1, 1, Rgb(v));
            let out = adjust_colors(&img, b, 1.0, 1.0);
            for (o, i) in out.get_pixel(0, 0).0.iter().zip(v) { prop_assert!(*o >= i); }
        }
    }
}
