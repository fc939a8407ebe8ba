//! The paper's mask: one flat-coloured polygon through the jaw and the nose
//! bridge.

use image::Rgb;
use maskface_core::{Landmarks68, MaskRenderer, MaskedFace, Point2, RngCore};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::polygon::{blend_color, polygon_coverage};
use crate::MaskError;

/// The paper's three mask colours.
///
/// With the `clap` feature this is a `clap::ValueEnum` (`black`, `white`,
/// `sky-blue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum PaperColor {
    /// (0, 0, 0).
    Black,
    /// (255, 255, 255).
    White,
    /// Sky blue, (135, 206, 250).
    #[cfg_attr(feature = "clap", value(help = "(135, 206, 250)"))]
    SkyBlue,
}

impl PaperColor {
    /// All three, in the paper's order.
    pub const ALL: [PaperColor; 3] = [PaperColor::Black, PaperColor::White, PaperColor::SkyBlue];

    /// The colour's RGB value.
    pub fn rgb(self) -> Rgb<u8> {
        match self {
            PaperColor::Black => Rgb([0, 0, 0]),
            PaperColor::White => Rgb([255, 255, 255]),
            PaperColor::SkyBlue => Rgb([135, 206, 250]),
        }
    }

    /// The name used in records and on the command line (`sky_blue`).
    pub fn name(self) -> &'static str {
        match self {
            PaperColor::Black => "black",
            PaperColor::White => "white",
            PaperColor::SkyBlue => "sky_blue",
        }
    }
}

/// The 0-based landmark indices of the paper's mask outline: the jaw from
/// point 2 to point 14, then up to point 28 on the nose bridge.
pub const PAPER_OUTLINE: [usize; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 28];

/// The paper's mask outline in image pixels ([`PAPER_OUTLINE`]).
pub fn paper_polygon(landmarks: &Landmarks68) -> Vec<Point2> {
    PAPER_OUTLINE
        .iter()
        .map(|&i| landmarks.points()[i])
        .collect()
}

/// The paper's mask: [`paper_polygon`] filled with one of `colors`, drawn
/// uniformly per image, with anti-aliased edges.
///
/// ```
/// use maskface_core::{Landmarks68, MaskRenderer, Point2, rng_for};
/// use maskface_mask::{PaperColor, PaperMask};
///
/// // A toy face: 68 points on a circle, enough to draw the outline.
/// let pts = (0..68)
///     .map(|i| {
///         let t = i as f32 / 68.0 * std::f32::consts::TAU;
///         Point2::new(50.0 + 30.0 * t.cos(), 50.0 + 30.0 * t.sin())
///     })
///     .collect();
/// let face = Landmarks68::new(pts).unwrap();
/// let image = image::RgbImage::from_pixel(100, 100, image::Rgb([128, 128, 128]));
/// let masked = PaperMask::only(PaperColor::SkyBlue)
///     .render(&image, &face, &mut rng_for(1, "doc"))
///     .unwrap();
/// assert_eq!(masked.polygon.len(), 14);
/// assert!(masked.description.contains("sky_blue"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperMask {
    /// The colours drawn from (the paper: all three).
    pub colors: Vec<PaperColor>,
}

impl Default for PaperMask {
    fn default() -> Self {
        PaperMask {
            colors: PaperColor::ALL.to_vec(),
        }
    }
}

impl PaperMask {
    /// A paper mask that always uses `color`.
    pub fn only(color: PaperColor) -> Self {
        PaperMask {
            colors: vec![color],
        }
    }
}

impl MaskRenderer for PaperMask {
    type Error = MaskError;

    fn describe(&self) -> serde_json::Value {
        crate::MaskSpec::Paper(self.clone()).to_json()
    }

    fn render(
        &self,
        image: &image::RgbImage,
        landmarks: &Landmarks68,
        rng: &mut dyn RngCore,
    ) -> Result<MaskedFace, MaskError> {
        if self.colors.is_empty() {
            return Err(MaskError::InvalidParameter {
                name: "colors",
                reason: "the paper mask needs at least one colour".into(),
            });
        }
        let color = self.colors[rng.random_range(0..self.colors.len())];
        let polygon = paper_polygon(landmarks);
        let mask = polygon_coverage(image.width(), image.height(), &polygon);
        let mut out = image.clone();
        blend_color(&mut out, &mask, color.rgb());
        let c = color.rgb().0;
        Ok(MaskedFace {
            image: out,
            mask,
            polygon,
            description: format!(
                r#"{{"style":"paper","color":"{}","rgb":[{},{},{}]}}"#,
                color.name(),
                c[0],
                c[1],
                c[2]
            ),
        })
    }
}
