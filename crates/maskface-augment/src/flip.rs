use image::{imageops, RgbImage};
use maskface_core::{Augmentation, Augmented, RngCore};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Mirrors `image` left to right.
///
/// ```
/// let img = image::RgbImage::from_fn(2, 1, |x, _| image::Rgb([x as u8, 0, 0]));
/// assert_eq!(maskface_augment::flip_horizontal(&img).get_pixel(0, 0).0, [1, 0, 0]);
/// ```
pub fn flip_horizontal(image: &RgbImage) -> RgbImage {
    imageops::flip_horizontal(image)
}

/// Mirrors the image left to right with probability `p`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HorizontalFlip {
    /// Probability of flipping, in `0..=1`.
    pub p: f32,
}

impl Augmentation for HorizontalFlip {
    fn name(&self) -> &str {
        "hflip"
    }

    fn describe(&self) -> String {
        format!("hflip(p={})", self.p)
    }

    fn apply(&self, image: &RgbImage, rng: &mut dyn RngCore) -> Augmented {
        let flip = rng.random::<f32>() < self.p.clamp(0.0, 1.0);
        Augmented {
            image: if flip {
                flip_horizontal(image)
            } else {
                image.clone()
            },
            record: format!("hflip({flip})"),
        }
    }
}
