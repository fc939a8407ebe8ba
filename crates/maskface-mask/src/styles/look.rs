//! The look of one mask: everything drawn from the random stream, in a
//! fixed order.

use maskface_core::RngCore;
use rand::Rng;

use super::palette::{
    luma, mix, to_f, CARTRIDGE_COLORS, CLOTH_COLORS, GAS_COLORS, N95_COLORS, PATTERN_COLORS,
    SURGICAL_COLORS,
};
use super::{ClothPattern, MaskStyle, RealisticMask};

/// The N95 variants (one outline, different detailing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Respirator {
    /// Fold-flat: vertical centre seam, welded border.
    Kn95,
    /// Moulded cup: raised rim.
    Cup,
}

/// Cloth pattern parameters.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fabric {
    pub(super) pattern: ClothPattern,
    pub(super) color: [f32; 3],
    /// A third colour (flower centres).
    pub(super) accent: [f32; 3],
    /// Pattern period in pixels.
    pub(super) period: f32,
    /// Direction of the pattern's axes (cos, sin).
    pub(super) dir: (f32, f32),
    pub(super) angle_deg: f32,
    /// Fraction of a period covered by a stripe / dot size.
    pub(super) duty: f32,
}

/// Everything drawn for one image.
pub(super) struct Look {
    pub(super) style: MaskStyle,
    pub(super) color: [u8; 3],
    pub(super) respirator: Respirator,
    pub(super) fabric: Option<Fabric>,
    /// Horizontal light direction, -1 (from the image left) to 1.
    pub(super) light: f32,
    /// Seed of the per-pixel fibre noise.
    pub(super) grain: u32,
    /// Cloth folds: cycles over the mask's height and phase.
    pub(super) wrinkle: (f32, f32),
    /// The gas respirator's filter cartridges (`None` for other styles).
    pub(super) cartridge: Option<[u8; 3]>,
}

/// A palette colour of `style` with a slight random tint: two draws.
fn palette_color(style: MaskStyle, rng: &mut dyn RngCore) -> [u8; 3] {
    let palette: &[[u8; 3]] = match style {
        MaskStyle::Surgical => &SURGICAL_COLORS,
        MaskStyle::N95 | MaskStyle::Kn95 | MaskStyle::N95Cup => &N95_COLORS,
        MaskStyle::Cloth => &CLOTH_COLORS,
        MaskStyle::Gas => &GAS_COLORS,
    };
    let base = palette[rng.random_range(0..palette.len())];
    // A slight tint so that two masks of one palette colour differ as two
    // real products do.
    let mut c = base;
    for ch in &mut c {
        *ch = (i32::from(*ch) + rng.random_range(-6..=6)).clamp(0, 255) as u8;
    }
    c
}

impl RealisticMask {
    /// Draws the look; the order of draws is fixed so that a seed always
    /// gives the same mask.
    pub(super) fn draw_look(&self, rng: &mut dyn RngCore, face_h: f32) -> Look {
        let style = self.styles[rng.random_range(0..self.styles.len())];
        let color = match &self.colors {
            Some(list) => list[rng.random_range(0..list.len())],
            None => palette_color(style, rng),
        };
        // Drawn for every style, so that the draws after it do not depend
        // on the style.
        let variant = if rng.random::<bool>() {
            Respirator::Kn95
        } else {
            Respirator::Cup
        };
        let respirator = match style {
            MaskStyle::Kn95 => Respirator::Kn95,
            MaskStyle::N95Cup => Respirator::Cup,
            _ => variant,
        };
        let fabric = if style == MaskStyle::Cloth {
            let pattern = self.patterns[rng.random_range(0..self.patterns.len())];
            // The pattern colour must stand out from the body: try the palette
            // from a random start and keep the first with enough contrast.
            let start = rng.random_range(0..PATTERN_COLORS.len());
            let body = to_f(color);
            let pc = (0..PATTERN_COLORS.len())
                .map(|k| to_f(PATTERN_COLORS[(start + k) % PATTERN_COLORS.len()]))
                .find(|c| (luma(*c) - luma(body)).abs() > 55.0)
                .unwrap_or_else(|| {
                    if luma(body) > 128.0 {
                        [30.0, 30.0, 32.0]
                    } else {
                        [242.0, 240.0, 234.0]
                    }
                });
            let accent = to_f(PATTERN_COLORS[rng.random_range(0..PATTERN_COLORS.len())]);
            let rel = match pattern {
                ClothPattern::Stripes => rng.random_range(0.05..0.12),
                ClothPattern::Dots => rng.random_range(0.06..0.12),
                ClothPattern::Checks => rng.random_range(0.07..0.15),
                ClothPattern::Floral | ClothPattern::Plain => rng.random_range(0.12..0.2),
            };
            let angle_deg: f32 = match pattern {
                ClothPattern::Stripes => {
                    // Mostly horizontal, vertical or diagonal, as fabric is cut.
                    let base = [0.0, 90.0, 45.0, -45.0][rng.random_range(0..4)];
                    base + rng.random_range(-8.0..8.0)
                }
                ClothPattern::Checks | ClothPattern::Dots => rng.random_range(-10.0..10.0),
                _ => rng.random_range(-180.0..180.0),
            };
            let duty = rng.random_range(0.3..0.55);
            let a = angle_deg.to_radians();
            Some(Fabric {
                pattern,
                color: pc,
                accent,
                period: (rel * face_h).max(3.0),
                dir: (a.cos(), a.sin()),
                angle_deg,
                duty,
            })
        } else {
            None
        };
        let light = rng.random_range(-0.6..0.6);
        let grain = rng.random::<u32>();
        let wrinkle = (rng.random_range(1.5..3.0), rng.random::<f32>());
        // Draws added after the original sequence, so that configurations
        // that predate them draw exactly what they drew before.
        let cartridge = (style == MaskStyle::Gas)
            .then(|| CARTRIDGE_COLORS[rng.random_range(0..CARTRIDGE_COLORS.len())]);
        let color = match &self.colors {
            Some(_) if self.color_weight < 1.0 => {
                let own = to_f(palette_color(style, rng));
                mix(own, to_f(color), self.color_weight).map(|c| c.round().clamp(0.0, 255.0) as u8)
            }
            _ => color,
        };
        Look {
            style,
            color,
            respirator,
            fabric,
            light,
            grain,
            wrinkle,
            cartridge,
        }
    }
}
