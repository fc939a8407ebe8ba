//! What the renderers' unit tests share: a toy face and the descriptions
//! of many draws.
#![allow(clippy::unwrap_used)]

use image::RgbImage;
use maskface_core::{rng_for, Landmarks68, MaskRenderer, Point2};

/// 68 points on a circle in a plain 120x120 image: enough to draw any mask.
pub(crate) fn circle_face() -> (RgbImage, Landmarks68) {
    let pts = (0..68)
        .map(|i| {
            let t = i as f32 / 68.0 * std::f32::consts::TAU;
            Point2::new(60.0 + 35.0 * t.cos(), 60.0 + 35.0 * t.sin())
        })
        .collect();
    let image = RgbImage::from_pixel(120, 120, image::Rgb([150, 120, 100]));
    (image, Landmarks68::new(pts).unwrap())
}

/// The description records of `n` renders of [`circle_face`], seeds 0..n.
pub(crate) fn descriptions<M: MaskRenderer>(
    renderer: &M,
    n: u64,
    key: &str,
) -> Vec<serde_json::Value> {
    let (image, face) = circle_face();
    (0..n)
        .map(|seed| {
            let d = renderer
                .render(&image, &face, &mut rng_for(seed, key))
                .unwrap()
                .description;
            serde_json::from_str(&d).unwrap()
        })
        .collect()
}
