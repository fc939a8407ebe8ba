//! What the realistic masks are: the styles, the cloth patterns and the
//! renderer's parameters, with their validation.

use maskface_core::Landmarks68;
use serde::{Deserialize, Serialize};

use crate::MaskError;

/// The kinds of mask [`RealisticMask`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskStyle {
    /// A pleated surgical mask: square corners at the cheeks, three
    /// horizontal folds, a nose wire and bound top and bottom hems.
    Surgical,
    /// A respirator with a rounded cup outline and radial shading; drawn
    /// either as a fold-flat KN95 (centre seam, welded border) or as a
    /// moulded N95 cup (raised rim), chosen per image.
    N95,
    /// A contoured cloth mask with a centre seam, stitched hems and a
    /// procedural fabric pattern ([`ClothPattern`]).
    Cloth,
}

impl MaskStyle {
    /// All three styles.
    pub const ALL: [MaskStyle; 3] = [MaskStyle::Surgical, MaskStyle::N95, MaskStyle::Cloth];

    /// The name used in descriptions (`surgical`, `n95`, `cloth`).
    pub fn name(self) -> &'static str {
        match self {
            MaskStyle::Surgical => "surgical",
            MaskStyle::N95 => "n95",
            MaskStyle::Cloth => "cloth",
        }
    }
}

/// The fabric patterns of [`MaskStyle::Cloth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClothPattern {
    /// One colour.
    Plain,
    /// Parallel stripes at a random angle.
    Stripes,
    /// Polka dots on a staggered grid.
    Dots,
    /// Gingham checks (two crossing sets of translucent stripes).
    Checks,
    /// Small five-petal flowers with a centre, randomly turned.
    Floral,
}

impl ClothPattern {
    /// All patterns.
    pub const ALL: [ClothPattern; 5] = [
        ClothPattern::Plain,
        ClothPattern::Stripes,
        ClothPattern::Dots,
        ClothPattern::Checks,
        ClothPattern::Floral,
    ];

    /// The name used in descriptions (`plain`, `stripes`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ClothPattern::Plain => "plain",
            ClothPattern::Stripes => "stripes",
            ClothPattern::Dots => "dots",
            ClothPattern::Checks => "checks",
            ClothPattern::Floral => "floral",
        }
    }
}

/// Realistic masks shaped by the 68 landmarks, with shading matched to the
/// photo's brightness.
///
/// Per image, a style is drawn uniformly from `styles`, a body colour from
/// `colors` (or from the style's own palette), and for cloth a pattern from
/// `patterns` with random pattern colour, scale and angle. Every choice comes
/// from the `rng` passed to [`MaskRenderer::render`], so a seed gives
/// byte-identical output.
///
/// The output's `mask` is the mask body only (the ear loops are painted on
/// the image but not included: they are thin strings, not occluders);
/// `polygon` is [`mask_outline`] for the drawn style; `description` is a
/// compact JSON object such as
/// `{"brightness":0.87,"color":[150,196,226],"ear_loops":true,"style":"surgical"}`
/// (`brightness` is the factor applied to the shading; cloth adds `pattern`,
/// `pattern_color`, `pattern_scale` (the period in pixels) and
/// `pattern_angle` (degrees in the face frame); N95 adds `variant`: `kn95`
/// or `cup`).
///
/// ```
/// use maskface_core::{Landmarks68, MaskRenderer, Point2, rng_for};
/// use maskface_mask::{MaskStyle, RealisticMask};
///
/// // A toy face: 68 points on a circle are enough to draw a mask.
/// let pts = (0..68)
///     .map(|i| {
///         let t = i as f32 / 68.0 * std::f32::consts::TAU;
///         Point2::new(50.0 + 30.0 * t.cos(), 50.0 + 30.0 * t.sin())
///     })
///     .collect();
/// let face = Landmarks68::new(pts).unwrap();
/// let image = image::RgbImage::from_pixel(100, 100, image::Rgb([128, 128, 128]));
/// let masked = RealisticMask::only(MaskStyle::Surgical)
///     .render(&image, &face, &mut rng_for(1, "doc"))
///     .unwrap();
/// assert_eq!(masked.image.dimensions(), (100, 100));
/// assert!(masked.description.contains("\"surgical\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealisticMask {
    /// The styles drawn from, uniformly (default: all three).
    pub styles: Vec<MaskStyle>,
    /// Body colours drawn from, uniformly, for every style; `None` (the
    /// default) uses each style's own palette with a slight random tint.
    pub colors: Option<Vec<[u8; 3]>>,
    /// The cloth patterns drawn from, uniformly (default: all).
    pub patterns: Vec<ClothPattern>,
    /// Whether to paint ear loops (default: true).
    pub ear_loops: bool,
    /// Whether to scale the mask's shading to the brightness of the skin
    /// above it (default: true); when false the factor is 1.
    pub match_brightness: bool,
}

impl Default for RealisticMask {
    fn default() -> Self {
        RealisticMask {
            styles: MaskStyle::ALL.to_vec(),
            colors: None,
            patterns: ClothPattern::ALL.to_vec(),
            ear_loops: true,
            match_brightness: true,
        }
    }
}

impl RealisticMask {
    /// The default renderer restricted to one style.
    pub fn only(style: MaskStyle) -> Self {
        RealisticMask {
            styles: vec![style],
            ..RealisticMask::default()
        }
    }
}

impl RealisticMask {
    pub(super) fn validate(&self, landmarks: &Landmarks68) -> Result<(), MaskError> {
        if self.styles.is_empty() {
            return Err(MaskError::InvalidParameter {
                name: "styles",
                reason: "the realistic mask needs at least one style".into(),
            });
        }
        if matches!(&self.colors, Some(c) if c.is_empty()) {
            return Err(MaskError::InvalidParameter {
                name: "colors",
                reason: "an explicit colour list must not be empty (use None for the palettes)"
                    .into(),
            });
        }
        if self.patterns.is_empty() && self.styles.contains(&MaskStyle::Cloth) {
            return Err(MaskError::InvalidParameter {
                name: "patterns",
                reason: "cloth masks need at least one pattern".into(),
            });
        }
        if let Some(i) = landmarks
            .points()
            .iter()
            .position(|p| !p.x.is_finite() || !p.y.is_finite())
        {
            return Err(MaskError::InvalidParameter {
                name: "landmarks",
                reason: format!("point {i} is not finite"),
            });
        }
        Ok(())
    }
}
