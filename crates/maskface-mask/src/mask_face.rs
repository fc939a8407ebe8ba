//! The pipeline on one detected face: crop, landmarks on the crop, mask,
//! upper cut and, when asked, the aligned chips.

use image::{imageops, RgbImage};
use maskface_core::{
    crop_face, resize_triangle, rng_for, Detection, FaceBox, LandmarkPredictor, Landmarks68,
    MaskRenderer, MaskedFace, Point2,
};

use crate::{
    landmark_box, FaceMasker, GenerateOptions, MaskError, MaskedImage, PaintArea, PhotoOptions,
    UpperCut, Variant,
};

/// Every step of the pipeline on one face: what [`mask_face`] returns, and
/// what the preview contact sheet shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceSteps {
    /// The chosen detection, in source-image pixels.
    pub detection: Detection,
    /// The source pixels the crop covers, `[left, top, right, bottom)`.
    pub crop_box: [u32; 4],
    /// The crop without a mask.
    pub crop: RgbImage,
    /// The box given to the landmark model, in crop pixels.
    pub landmark_box: FaceBox,
    /// The 68 landmarks, in crop pixels.
    pub landmarks: Landmarks68,
    /// The masked crop, its mask and its description.
    pub masked: MaskedFace,
    /// The first crop row not kept in the upper part.
    pub cut_row: u32,
    /// The aligned chips, when a chip variant was asked for.
    pub chips: Option<FaceChips>,
}

/// The face aligned for recognition ([`crate::face_chip`]), with and
/// without the mask.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceChips {
    /// The chip of the unmasked face.
    pub unmasked: RgbImage,
    /// The chip of the masked face (the mask painted on the source image
    /// with the same draws as on the crop).
    pub masked: RgbImage,
    /// The first chip row below the cut (black in the upper chip).
    pub cut_row: u32,
}

impl FaceChips {
    /// The masked chip with the rows from [`FaceChips::cut_row`] down black.
    pub fn masked_upper(&self) -> RgbImage {
        let mut chip = self.masked.clone();
        let w = chip.width() as usize;
        let start = (self.cut_row.min(chip.height()) as usize) * 3 * w;
        chip.as_mut()[start..].fill(0);
        chip
    }
}

impl FaceSteps {
    /// The upper part (rows above [`FaceSteps::cut_row`]) of `image` (the
    /// crop or the masked crop), resized to `size`.
    pub fn upper(&self, image: &RgbImage, size: [u32; 2]) -> RgbImage {
        let rows = self.cut_row.clamp(1, image.height().max(1));
        let top = imageops::crop_imm(image, 0, 0, image.width(), rows).to_image();
        resize_triangle(&top, size[0], size[1])
    }

    /// The image of one variant.
    pub fn variant(&self, variant: Variant, upper_size: [u32; 2]) -> RgbImage {
        match variant {
            Variant::MaskedUpper => self.upper(&self.masked.image, upper_size),
            Variant::MaskedFull => self.masked.image.clone(),
            Variant::UnmaskedFull => self.crop.clone(),
            Variant::UnmaskedUpper => self.upper(&self.crop, upper_size),
            Variant::MaskedChip => self.chips.as_ref().map_or_else(empty, |c| c.masked.clone()),
            Variant::MaskedChipUpper => self
                .chips
                .as_ref()
                .map_or_else(empty, FaceChips::masked_upper),
            Variant::UnmaskedChip => self
                .chips
                .as_ref()
                .map_or_else(empty, |c| c.unmasked.clone()),
        }
    }
}

fn empty() -> RgbImage {
    RgbImage::new(0, 0)
}

/// Maps a point of the crop back into the source image (the inverse of
/// [`to_crop`]).
fn from_crop(p: Point2, crop_box: &[u32; 4], size: u32) -> Point2 {
    let sx = (crop_box[2] - crop_box[0]).max(1) as f32 / size as f32;
    let sy = (crop_box[3] - crop_box[1]).max(1) as f32 / size as f32;
    Point2::new(
        (p.x + 0.5) * sx - 0.5 + crop_box[0] as f32,
        (p.y + 0.5) * sy - 0.5 + crop_box[1] as f32,
    )
}

/// Maps a point of the source image into the crop, as `imageops::resize`
/// maps pixel centres.
fn to_crop(p: Point2, crop_box: &[u32; 4], size: u32) -> Point2 {
    let sx = size as f32 / (crop_box[2] - crop_box[0]).max(1) as f32;
    let sy = size as f32 / (crop_box[3] - crop_box[1]).max(1) as f32;
    Point2::new(
        (p.x - crop_box[0] as f32 + 0.5) * sx - 0.5,
        (p.y - crop_box[1] as f32 + 0.5) * sy - 0.5,
    )
}

/// Runs the pipeline on one detected face: crop, landmarks on the crop,
/// mask, upper cut. `key` names the image in the random stream, so a face
/// gets the same mask whichever order images are processed in.
pub fn mask_face<L, M>(
    image: &RgbImage,
    detection: &Detection,
    predictor: &L,
    renderer: &M,
    opts: &GenerateOptions,
    key: &str,
) -> Result<FaceSteps, MaskError>
where
    L: LandmarkPredictor + ?Sized,
    M: MaskRenderer + ?Sized,
{
    let b = &detection.bbox;
    let inside = (b.x1.min(image.width() as f32) - b.x0.max(0.0)).max(0.0)
        * (b.y1.min(image.height() as f32) - b.y0.max(0.0)).max(0.0);
    let visible = if b.area() > 0.0 {
        inside / b.area()
    } else {
        0.0
    };
    if visible < opts.min_visible {
        return Err(MaskError::Step {
            step: "crop",
            reason: format!(
                "face cut by the image border: {:.0}% of its box is inside the image (minimum {:.0}%)",
                100.0 * visible,
                100.0 * opts.min_visible
            ),
        });
    }
    let (crop, crop_box) = crop_face(image, &detection.bbox, &opts.crop)?;
    let size = opts.crop.size;
    let in_crop = Detection {
        bbox: {
            let a = to_crop(
                Point2::new(detection.bbox.x0, detection.bbox.y0),
                &crop_box,
                size,
            );
            let b = to_crop(
                Point2::new(detection.bbox.x1, detection.bbox.y1),
                &crop_box,
                size,
            );
            FaceBox::new(a.x, a.y, b.x, b.y, detection.bbox.score)
        },
        landmarks: detection
            .landmarks
            .map(|l| maskface_core::Landmarks5(l.0.map(|p| to_crop(p, &crop_box, size)))),
    };
    // The crop is masked as `maskface mask` masks a photo's faces, by the
    // same code: the mask painted over the whole crop, from the image's own
    // random stream.
    let masker = FaceMasker::for_detections(
        predictor,
        PhotoOptions {
            min_face: 0.0,
            seed: opts.seed,
            area: PaintArea::Whole,
        },
    );
    let mut painted = MaskedImage::unmasked(crop.clone());
    let face = masker.mask_face(&crop, &mut painted, 0, &in_crop, renderer, key)?;
    let landmarks = face.landmarks;
    let masked = MaskedFace {
        image: painted.image,
        mask: painted.mask,
        polygon: face.polygon,
        description: face.mask.to_string(),
    };
    let cut_row = opts.cut.row(&landmarks, crop.height());
    let chips = if opts.variants.iter().any(Variant::is_chip) {
        Some(chips(
            image, &crop_box, size, &landmarks, renderer, opts, key,
        )?)
    } else {
        None
    };
    Ok(FaceSteps {
        detection: detection.clone(),
        crop_box,
        crop,
        landmark_box: landmark_box(&in_crop),
        landmarks,
        masked,
        cut_row,
        chips,
    })
}

/// The aligned chips: the landmarks mapped back to the source image, the
/// mask painted there with the crop's draws (the same random stream), and
/// both faces cut out as dlib aligns them.
fn chips<M: MaskRenderer + ?Sized>(
    image: &RgbImage,
    crop_box: &[u32; 4],
    size: u32,
    landmarks: &Landmarks68,
    renderer: &M,
    opts: &GenerateOptions,
    key: &str,
) -> Result<FaceChips, MaskError> {
    let points: Vec<Point2> = landmarks
        .points()
        .iter()
        .map(|&p| from_crop(p, crop_box, size))
        .collect();
    let source_landmarks = Landmarks68::new(points)?;
    let mut rng = rng_for(opts.seed, &crate::mask_image::face_stream(key, 0));
    let masked = renderer
        .render(image, &source_landmarks, &mut rng)
        .map_err(|e| MaskError::Step {
            step: "mask",
            reason: e.to_string(),
        })?;
    let params = crate::ChipParams::default();
    let details = crate::chip_details(source_landmarks.points(), &params)?;
    // The cut in chip rows: the nose bridge where it lands in the chip, or
    // the same fraction of the chip.
    let cut_row = match opts.cut {
        UpperCut::NoseBridge => details.to_chip(source_landmarks.points()[28]).y.round(),
        UpperCut::Fraction { fraction } => (fraction * params.size as f32).round(),
    };
    Ok(FaceChips {
        unmasked: crate::extract_chip(image, &details),
        masked: crate::extract_chip(&masked.image, &details),
        cut_row: cut_row.clamp(1.0, params.size as f32) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_mapping_follows_pixel_centres() {
        // A 100 px wide region scaled to 50: pixel centres 0.5 apart map
        // (0 -> -0.25, 1 -> 0.25).
        let b = [10, 20, 110, 120];
        let p = to_crop(Point2::new(10.0, 20.0), &b, 50);
        assert!(
            (p.x + 0.25).abs() < 1e-6 && (p.y + 0.25).abs() < 1e-6,
            "{p:?}"
        );
        let q = to_crop(Point2::new(109.0, 119.0), &b, 50);
        assert!((q.x - 49.25).abs() < 1e-5, "{q:?}");
    }
}
