//! What a masked-dataset run makes and how: the options shared by
//! [`mask_face`](crate::mask_face) and [`generate_dataset`](crate::generate_dataset),
//! the image variants written and where the upper part of the face ends.

use maskface_core::{CropConfig, FaceSelection, Landmarks68, OutputFormat};
use serde::{Deserialize, Serialize};

/// Where the upper part of the face ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UpperCut {
    /// At the nose bridge: the row of landmark 28 (0-based), the top vertex
    /// of the paper's mask polygon. Everything above the mask is kept, so
    /// the cut follows the face, wherever it sits in the crop (the default).
    NoseBridge,
    /// A fixed fraction of the crop's height from the top (the paper's
    /// "upper 1/2" is 0.5).
    Fraction {
        /// Kept fraction, in (0, 1].
        fraction: f32,
    },
}

impl UpperCut {
    /// The first row *not* kept, in a crop of `height` rows with these
    /// landmarks; at least 1 and at most `height`.
    pub fn row(&self, landmarks: &Landmarks68, height: u32) -> u32 {
        let y = match *self {
            UpperCut::NoseBridge => landmarks.points()[28].y,
            UpperCut::Fraction { fraction } => fraction * height as f32,
        };
        if y.is_finite() {
            (y.round().max(1.0) as u32).min(height.max(1))
        } else {
            height.max(1)
        }
    }
}

/// One image written per source image and variant.
///
/// With the `clap` feature this is a `clap::ValueEnum` (`masked-upper`,
/// ...), with help texts written for the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The masked crop's upper part, resized to `upper_size` (the paper's input).
    #[cfg_attr(
        feature = "clap",
        value(help = "The masked upper part, resized to --upper-size")
    )]
    MaskedUpper,
    /// The whole masked crop.
    MaskedFull,
    /// The crop without a mask.
    UnmaskedFull,
    /// The unmasked crop's upper part, resized to `upper_size`.
    #[cfg_attr(feature = "clap", value(help = "The unmasked upper part"))]
    UnmaskedUpper,
    /// The masked face aligned as dlib's `get_face_chip` does (150x150,
    /// padding 0.25), cut from the source image with the mask painted there:
    /// the input of dlib's face-recognition network.
    #[cfg_attr(
        feature = "clap",
        value(help = "The masked face aligned for recognition (150x150, dlib's chip)")
    )]
    MaskedChip,
    /// The masked chip with everything below the cut black: the
    /// recognizer's view of the upper part.
    #[cfg_attr(feature = "clap", value(help = "The masked chip, black below the cut"))]
    MaskedChipUpper,
    /// The aligned chip without a mask.
    UnmaskedChip,
}

impl Variant {
    /// All variants.
    pub const ALL: [Variant; 7] = [
        Variant::MaskedUpper,
        Variant::MaskedFull,
        Variant::UnmaskedFull,
        Variant::UnmaskedUpper,
        Variant::MaskedChip,
        Variant::MaskedChipUpper,
        Variant::UnmaskedChip,
    ];

    /// Whether this is an aligned chip (which [`mask_face`](crate::mask_face) makes only
    /// when asked).
    pub fn is_chip(&self) -> bool {
        matches!(
            self,
            Variant::MaskedChip | Variant::MaskedChipUpper | Variant::UnmaskedChip
        )
    }

    /// The same view without the mask (`MaskedChip` -> `UnmaskedChip`, ...):
    /// the other half of a masked / unmasked pair of one photo. `None` for
    /// the unmasked variants and for `MaskedChipUpper`, which has no
    /// unmasked counterpart.
    pub fn unmasked(&self) -> Option<Variant> {
        match self {
            Variant::MaskedUpper => Some(Variant::UnmaskedUpper),
            Variant::MaskedFull => Some(Variant::UnmaskedFull),
            Variant::MaskedChip => Some(Variant::UnmaskedChip),
            _ => None,
        }
    }

    /// The folder name (`masked_upper`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Variant::MaskedUpper => "masked_upper",
            Variant::MaskedFull => "masked_full",
            Variant::UnmaskedFull => "unmasked_full",
            Variant::UnmaskedUpper => "unmasked_upper",
            Variant::MaskedChip => "masked_chip",
            Variant::MaskedChipUpper => "masked_chip_upper",
            Variant::UnmaskedChip => "unmasked_chip",
        }
    }
}

/// Options of [`generate_dataset`](crate::generate_dataset) and [`mask_face`](crate::mask_face).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateOptions {
    /// Seed of every random draw (mask style and colour).
    pub seed: u64,
    /// The face crop (the paper: 15 px margin, 160 px).
    pub crop: CropConfig,
    /// Which face is kept when an image has several.
    pub selection: FaceSelection,
    /// Where the upper part ends.
    pub cut: UpperCut,
    /// Width and height the upper parts are resized to.
    pub upper_size: [u32; 2],
    /// The images written for each source image.
    pub variants: Vec<Variant>,
    /// Encoding of the images written.
    pub format: OutputFormat,
    /// Images detected per batch.
    pub batch: usize,
    /// Smallest fraction of the face box that must lie inside the image.
    /// The crop of a face mostly outside the image is a stretched sliver
    /// (the crop is clipped to the image, then resized to a square), so such
    /// faces are recorded as skipped.
    pub min_visible: f32,
    /// Start again in an output folder made with other parameters.
    #[serde(default)]
    pub overwrite: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            seed: 42,
            crop: CropConfig::default(),
            selection: FaceSelection::CenterWeighted { weight: 2.0 },
            cut: UpperCut::NoseBridge,
            upper_size: [160, 80],
            variants: vec![
                Variant::MaskedUpper,
                Variant::MaskedFull,
                Variant::MaskedChip,
                Variant::MaskedChipUpper,
            ],
            format: OutputFormat::Png,
            batch: 64,
            min_visible: 0.6,
            overwrite: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maskface_core::Point2;

    #[test]
    fn cut_rows_are_clamped() {
        let pts: Vec<Point2> = (0..68).map(|i| Point2::new(0.0, i as f32 * 3.0)).collect();
        let l = Landmarks68::new(pts).unwrap();
        assert_eq!(UpperCut::NoseBridge.row(&l, 160), 84);
        assert_eq!(UpperCut::NoseBridge.row(&l, 50), 50);
        assert_eq!(UpperCut::Fraction { fraction: 0.5 }.row(&l, 160), 80);
        assert_eq!(UpperCut::Fraction { fraction: 0.0 }.row(&l, 160), 1);
    }
}
