//! # maskface-mask
//!
//! Masked faces from unmasked photographs, and the dataset pipeline that
//! makes them:
//!
//! - [`ShapePredictor`]: dlib's 68- (or 5-) point shape predictor, read from
//!   dlib's model files and run exactly as dlib runs it, in pure Rust
//!   ([`maskface_core::LandmarkPredictor`]); [`landmark_box`] turns another
//!   detector's output into the box it expects;
//! - drawing primitives: anti-aliased [`polygon_coverage`], [`blend_color`];
//! - masks ([`maskface_core::MaskRenderer`]): the paper's flat polygon
//!   ([`PaperMask`]) and realistic, landmark-shaped masks ([`RealisticMask`]:
//!   surgical, N95 / KN95, cloth), and [`MaskFamily`], either drawn per
//!   face, for training;
//! - every face of any photo: [`FaceMasker`] (detect, landmarks, a mask per
//!   face from a [`MaskMix`] of MaskTheFace's types, colours, textures and
//!   fits, and what was painted where), behind `maskface mask`;
//! - the pipeline: [`mask_face`] on one face and [`generate_dataset`] over a
//!   manifest (detect, crop, landmarks, mask, upper cut; parallel,
//!   resumable, recorded), [`generate_like`] to put more images through a
//!   recorded run's pipeline ([`GenerationParams`]), and [`contact_sheet`]
//!   to show it.
//!
//! ```no_run
//! use maskface_core::{FaceBox, LandmarkPredictor, MaskRenderer, rng_for};
//! use maskface_mask::{PaperMask, ShapePredictor};
//!
//! let predictor = ShapePredictor::from_file("models/shape_predictor_68_face_landmarks.dat")?;
//! let image = maskface_core::load_rgb("face.jpg".as_ref())?;
//! let face = FaceBox::new(67.0, 80.0, 175.0, 187.0, 1.0);
//! let landmarks = LandmarkPredictor::predict(&predictor, &image, &face)?;
//! let masked = PaperMask::default().render(&image, &landmarks, &mut rng_for(42, "face.jpg"))?;
//! masked.image.save("masked.png")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dataset;
mod error;
mod face_box;
mod face_chip;
mod family;
mod mask_face;
mod mask_image;
mod mask_mix;
mod options;
mod paper;
mod polygon;
mod preview;
mod shape_predictor;
mod spec;
mod styles;
#[cfg(test)]
mod test_faces;

pub use dataset::{
    generate_dataset, generate_like, generate_shard, merge_generated, GenerateReport,
    GeneratedManifest, ImageRecord,
};
pub use error::MaskError;
pub use face_box::landmark_box;
pub use face_chip::{chip_details, extract_chip, face_chip, ChipDetails, ChipParams};
pub use family::{MaskFamily, HELD_OUT_PATTERNS};
pub use mask_face::{mask_face, FaceChips, FaceSteps};
pub use mask_image::{FaceMasker, FaceRecord, MaskedImage, PaintArea, PhotoOptions, SkippedFace};
pub use mask_mix::{parse_code, parse_color, FitMix, MaskChoice, MaskKind, MaskMix};
pub use options::{GenerateOptions, UpperCut, Variant};
pub use paper::{paper_polygon, PaperColor, PaperMask, PAPER_OUTLINE};
pub use polygon::{blend_color, blend_with, contains, polygon_coverage, signed_area};
pub use preview::contact_sheet;
pub use shape_predictor::ShapePredictor;
pub use spec::{GenerationParams, MaskSpec};
pub use styles::{
    mask_outline, mask_outline_fitted, ClothPattern, MaskFit, MaskStyle, RealisticMask, Texture,
};

/// This crate's name and version, as recorded in manifests.
pub const TOOL: &str = concat!("maskface-mask ", env!("CARGO_PKG_VERSION"));
