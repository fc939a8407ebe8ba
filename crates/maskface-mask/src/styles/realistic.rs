//! What the realistic masks are: the styles, the cloth patterns and the
//! renderer's parameters, with their validation.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;
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
    /// The fold-flat KN95 of [`MaskStyle::N95`], always.
    Kn95,
    /// The moulded N95 cup of [`MaskStyle::N95`], always.
    N95Cup,
    /// An elastomeric half-face respirator: a rubber body over nose and
    /// mouth, two round filter cartridges at the lower cheeks, an
    /// exhalation valve in front of the mouth and head straps.
    Gas,
}

impl MaskStyle {
    /// The three styles [`RealisticMask::default`] draws from.
    pub const ALL: [MaskStyle; 3] = [MaskStyle::Surgical, MaskStyle::N95, MaskStyle::Cloth];

    /// Every style.
    pub const EVERY: [MaskStyle; 6] = [
        MaskStyle::Surgical,
        MaskStyle::N95,
        MaskStyle::Cloth,
        MaskStyle::Kn95,
        MaskStyle::N95Cup,
        MaskStyle::Gas,
    ];

    /// The name used in descriptions (`surgical`, `n95`, `cloth`, `kn95`,
    /// `n95_cup`, `gas`).
    pub fn name(self) -> &'static str {
        match self {
            MaskStyle::Surgical => "surgical",
            MaskStyle::N95 => "n95",
            MaskStyle::Cloth => "cloth",
            MaskStyle::Kn95 => "kn95",
            MaskStyle::N95Cup => "n95_cup",
            MaskStyle::Gas => "gas",
        }
    }

    /// The style called `name` (as [`MaskStyle::name`] gives it; ASCII case
    /// and `-` for `_` are accepted), or `None`.
    ///
    /// ```
    /// use maskface_mask::MaskStyle;
    /// assert_eq!(MaskStyle::from_name("n95-cup"), Some(MaskStyle::N95Cup));
    /// assert_eq!(MaskStyle::from_name("scarf"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<MaskStyle> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        MaskStyle::EVERY.into_iter().find(|s| s.name() == name)
    }

    /// Whether the style is one of the respirators drawn with the N95 cup
    /// outline.
    pub(super) fn is_respirator(self) -> bool {
        matches!(self, MaskStyle::N95 | MaskStyle::Kn95 | MaskStyle::N95Cup)
    }
}

/// Where the mask sits on the face.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskFit {
    /// Worn properly: over the nose bridge, under the chin.
    #[default]
    Proper,
    /// Slid down under the nose: the top edge runs under the nostrils
    /// (between points 33 and 51), the mouth stays covered.
    NoseOut,
    /// Pulled down on the chin: the top edge runs under the lower lip
    /// (from point 57 towards 8), the mouth is uncovered and the mask hangs
    /// below the chin.
    Chin,
}

impl MaskFit {
    /// Every fit.
    pub const ALL: [MaskFit; 3] = [MaskFit::Proper, MaskFit::NoseOut, MaskFit::Chin];

    /// The name used in descriptions (`proper`, `nose_out`, `chin`).
    pub fn name(self) -> &'static str {
        match self {
            MaskFit::Proper => "proper",
            MaskFit::NoseOut => "nose_out",
            MaskFit::Chin => "chin",
        }
    }

    /// The fit called `name` (as [`MaskFit::name`] gives it; ASCII case and
    /// `-` for `_` are accepted), or `None`.
    ///
    /// ```
    /// use maskface_mask::MaskFit;
    /// assert_eq!(MaskFit::from_name("nose-out"), Some(MaskFit::NoseOut));
    /// assert_eq!(MaskFit::from_name("forehead"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<MaskFit> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        MaskFit::ALL.into_iter().find(|f| f.name() == name)
    }

    fn is_proper(&self) -> bool {
        *self == MaskFit::Proper
    }
}

/// An image stretched over the mask body and blended into its colour
/// (MaskTheFace's `--pattern`): its `x` runs across the mask from the left
/// edge to the right edge and its `y` from the top edge to the bottom edge,
/// so it turns and foreshortens with the head.
///
/// Serialised as its name only: a texture read back from JSON has no
/// pixels, and rendering with it fails until it is loaded again.
#[derive(Clone, Serialize, Deserialize)]
pub struct Texture {
    /// The file name, or the name it was given.
    pub name: String,
    /// The pixels (empty after deserialising).
    #[serde(skip)]
    pub image: Arc<RgbImage>,
}

impl Texture {
    /// Reads an image file (any format `maskface_core::load_rgb` reads);
    /// the name is the file name. Errors name the file.
    pub fn from_file(path: &Path) -> Result<Texture, MaskError> {
        let image = maskface_core::load_rgb(path)?;
        if image.width() == 0 || image.height() == 0 {
            return Err(MaskError::InvalidParameter {
                name: "texture",
                reason: format!("{} has no pixels", path.display()),
            });
        }
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Texture {
            name,
            image: Arc::new(image),
        })
    }

    /// A texture from pixels already in memory.
    pub fn from_image(name: impl Into<String>, image: RgbImage) -> Texture {
        Texture {
            name: name.into(),
            image: Arc::new(image),
        }
    }

    /// Whether there are pixels to paint with.
    pub(super) fn is_loaded(&self) -> bool {
        self.image.width() > 0 && self.image.height() > 0
    }
}

impl PartialEq for Texture {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.image.dimensions() == other.image.dimensions()
            && self.image.as_raw() == other.image.as_raw()
    }
}

impl std::fmt::Debug for Texture {
    // The pixels would flood any log: their size stands for them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texture")
            .field("name", &self.name)
            .field("size", &self.image.dimensions())
            .finish()
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
/// from the `rng` passed to
/// [`MaskRenderer::render`](maskface_core::MaskRenderer::render), so a seed gives
/// byte-identical output. The mask sits as `fit` says; a `texture` is
/// stretched over the body and blended into its colour.
///
/// The output's `mask` is what occludes the face: the mask body, and for
/// [`MaskStyle::Gas`] also its filter cartridges and valve (the ear loops
/// and straps are painted on the image but not included: they are thin
/// strings, not occluders); `polygon` is [`mask_outline_fitted`] for the
/// drawn style and fit (for gas the rubber body's outline only, so the
/// cartridges are in `mask` but not in `polygon`); `description` is a
/// compact JSON object such as
/// `{"brightness":0.87,"color":[150,196,226],"ear_loops":true,"style":"surgical"}`
/// (`brightness` is the factor applied to the shading; cloth adds `pattern`,
/// `pattern_color`, `pattern_scale` (the period in pixels) and
/// `pattern_angle` (degrees in the face frame); the respirators `n95`,
/// `kn95` and `n95_cup` add `variant`: `kn95` or `cup`; gas adds
/// `cartridge_color`, and its `ear_loops` are head straps). Keys that
/// would hold a default are left out: `fit` appears when it is not
/// `proper`, `color_weight` when `colors` are given and it is below 1,
/// `texture` (the texture's name) and `texture_weight` when a texture is
/// set.
///
/// [`mask_outline_fitted`]: crate::mask_outline_fitted
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
    /// Where the mask sits on the face (default: [`MaskFit::Proper`]).
    #[serde(default, skip_serializing_if = "MaskFit::is_proper")]
    pub fit: MaskFit,
    /// With `colors` given, how much of the listed colour the body gets, in
    /// `0..=1`: the body colour is the style's own palette colour mixed with
    /// the listed one by this weight (MaskTheFace's `--color_weight`). At 1
    /// (the default) the listed colour replaces the palette; without
    /// `colors` it has no effect.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub color_weight: f32,
    /// An image blended into the body colour (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texture: Option<Texture>,
    /// How much of the texture the body colour gets, in `0..=1` (default
    /// 0.5, as MaskTheFace's `--pattern_weight`).
    #[serde(default = "half", skip_serializing_if = "is_half")]
    pub texture_weight: f32,
}

// Defaults are left out of the serialised form, so the records of
// configurations that predate these fields keep their exact text.
fn one() -> f32 {
    1.0
}
fn is_one(w: &f32) -> bool {
    *w == 1.0
}
fn half() -> f32 {
    0.5
}
fn is_half(w: &f32) -> bool {
    *w == 0.5
}

impl Default for RealisticMask {
    fn default() -> Self {
        RealisticMask {
            styles: MaskStyle::ALL.to_vec(),
            colors: None,
            patterns: ClothPattern::ALL.to_vec(),
            ear_loops: true,
            match_brightness: true,
            fit: MaskFit::Proper,
            color_weight: 1.0,
            texture: None,
            texture_weight: 0.5,
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
        check_weights(self.color_weight, self.texture_weight)?;
        if let Some(t) = &self.texture {
            if !t.is_loaded() {
                return Err(MaskError::InvalidParameter {
                    name: "texture",
                    reason: format!(
                        "`{}` has no pixels (a texture read back from JSON must be loaded again)",
                        t.name
                    ),
                });
            }
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

/// Checks a colour weight and a texture weight: each in `0..=1` (NaN is
/// not), the error naming the one that is not.
pub(crate) fn check_weights(color_weight: f32, texture_weight: f32) -> Result<(), MaskError> {
    for (name, w) in [
        ("color_weight", color_weight),
        ("texture_weight", texture_weight),
    ] {
        if !(0.0..=1.0).contains(&w) {
            return Err(MaskError::InvalidParameter {
                name,
                reason: format!("{w}: must be in 0..=1"),
            });
        }
    }
    Ok(())
}
