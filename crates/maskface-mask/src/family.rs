//! Every mask this crate paints, drawn per face: training data that looks
//! like the masks people wear, not one kind.

use image::RgbImage;
use maskface_core::{Landmarks68, MaskRenderer, MaskedFace, RngCore};
use serde::{Deserialize, Serialize};

use crate::{ClothPattern, MaskError, PaperMask, RealisticMask};

/// The cloth patterns [`MaskFamily::training`] never paints, so that a
/// network trained on it can be measured on textures it has not seen
/// ([`MaskFamily::held_out`]).
pub const HELD_OUT_PATTERNS: [ClothPattern; 2] = [ClothPattern::Checks, ClothPattern::Floral];

/// The paper's polygon or a realistic mask, drawn per face: with
/// probability `paper_share` the paper's flat polygon (in one of its
/// colours), otherwise a [`RealisticMask`] (surgical, N95 / KN95 or cloth,
/// with its own colours, patterns and shading).
///
/// Every choice comes from the `rng` of [`MaskRenderer::render`], so a seed
/// gives byte-identical output; each image's record says which mask it got.
///
/// ```
/// use maskface_core::{Landmarks68, MaskRenderer, Point2, rng_for};
/// use maskface_mask::MaskFamily;
///
/// let pts = (0..68)
///     .map(|i| {
///         let t = i as f32 / 68.0 * std::f32::consts::TAU;
///         Point2::new(50.0 + 30.0 * t.cos(), 50.0 + 30.0 * t.sin())
///     })
///     .collect();
/// let face = Landmarks68::new(pts).unwrap();
/// let image = image::RgbImage::from_pixel(100, 100, image::Rgb([128, 128, 128]));
/// let masked = MaskFamily::training()
///     .render(&image, &face, &mut rng_for(7, "doc"))
///     .unwrap();
/// assert!(masked.description.contains("\"style\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskFamily {
    /// The share of faces that get the paper's polygon, in `0..=1`.
    pub paper_share: f64,
    /// The paper's mask, for that share.
    pub paper: PaperMask,
    /// The realistic masks, for the rest.
    pub realistic: RealisticMask,
}

impl Default for MaskFamily {
    /// Everything, one face in five with the paper's polygon.
    fn default() -> Self {
        MaskFamily {
            paper_share: 0.2,
            paper: PaperMask::default(),
            realistic: RealisticMask::default(),
        }
    }
}

impl MaskFamily {
    /// The training family: everything except the [`HELD_OUT_PATTERNS`].
    pub fn training() -> Self {
        let mut family = MaskFamily::default();
        family
            .realistic
            .patterns
            .retain(|p| !HELD_OUT_PATTERNS.contains(p));
        family
    }

    /// Only what [`MaskFamily::training`] leaves out: cloth masks in the
    /// [`HELD_OUT_PATTERNS`], never the paper's polygon.
    pub fn held_out() -> Self {
        MaskFamily {
            paper_share: 0.0,
            paper: PaperMask::default(),
            realistic: RealisticMask {
                styles: vec![crate::MaskStyle::Cloth],
                patterns: HELD_OUT_PATTERNS.to_vec(),
                ..RealisticMask::default()
            },
        }
    }

    fn validate(&self) -> Result<(), MaskError> {
        if !(0.0..=1.0).contains(&self.paper_share) {
            return Err(MaskError::InvalidParameter {
                name: "paper_share",
                reason: format!("{}: must be in 0..=1", self.paper_share),
            });
        }
        Ok(())
    }
}

impl MaskRenderer for MaskFamily {
    type Error = MaskError;

    fn describe(&self) -> serde_json::Value {
        crate::MaskSpec::Family(self.clone()).to_json()
    }

    fn render(
        &self,
        image: &RgbImage,
        landmarks: &Landmarks68,
        rng: &mut dyn RngCore,
    ) -> Result<MaskedFace, MaskError> {
        self.validate()?;
        // 53 bits: uniform in [0, 1) and exact in f64.
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if u < self.paper_share {
            self.paper.render(image, landmarks, rng)
        } else {
            self.realistic.render(image, landmarks, rng)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use maskface_core::rng_for;

    use crate::test_faces::circle_face as face;

    fn descriptions(family: &MaskFamily, n: u64) -> Vec<serde_json::Value> {
        crate::test_faces::descriptions(family, n, "family")
    }

    #[test]
    fn the_share_of_paper_masks_follows_paper_share() {
        let d = descriptions(&MaskFamily::training(), 400);
        let paper = d.iter().filter(|d| d["style"] == "paper").count();
        // 400 draws at 0.2: 80 expected, 3 standard deviations is 24.
        assert!((56..=104).contains(&paper), "{paper}");
        for style in ["surgical", "n95", "cloth"] {
            assert!(d.iter().any(|d| d["style"] == style), "{style} never drawn");
        }
    }

    #[test]
    fn training_never_paints_the_held_out_patterns_and_held_out_only_them() {
        let held: Vec<&str> = HELD_OUT_PATTERNS.iter().map(|p| p.name()).collect();
        let train = descriptions(&MaskFamily::training(), 300);
        let patterns: Vec<&str> = train.iter().filter_map(|d| d["pattern"].as_str()).collect();
        assert!(!patterns.is_empty());
        assert!(patterns.iter().all(|p| !held.contains(p)), "{patterns:?}");
        let out = descriptions(&MaskFamily::held_out(), 50);
        assert!(out
            .iter()
            .all(|d| d["style"] == "cloth" && held.contains(&d["pattern"].as_str().unwrap())));
    }

    #[test]
    fn a_seed_gives_the_same_image() {
        let (image, face) = face();
        let family = MaskFamily::default();
        let a = family.render(&image, &face, &mut rng_for(3, "x")).unwrap();
        let b = family.render(&image, &face, &mut rng_for(3, "x")).unwrap();
        assert_eq!(a.image, b.image);
        assert_eq!(a.description, b.description);
    }

    #[test]
    fn a_share_outside_0_1_is_refused_by_name() {
        let (image, face) = face();
        let family = MaskFamily {
            paper_share: 1.5,
            ..MaskFamily::default()
        };
        let err = family
            .render(&image, &face, &mut rng_for(1, "x"))
            .unwrap_err();
        assert!(err.to_string().contains("paper_share"), "{err}");
    }

    #[test]
    fn the_spec_round_trips_through_json() {
        let spec = crate::MaskSpec::Family(MaskFamily::training());
        let back: crate::MaskSpec = serde_json::from_value(spec.to_json()).unwrap();
        assert_eq!(back, spec);
        assert_eq!(spec.to_json()["kind"], "family");
    }
}
