//! The pipeline's extension points. Each trait states its contract; the
//! crates that implement them (`maskface-augment`, and the detection, mask,
//! network, Eigenface and recognition crates) are composed by the `maskface`
//! program.

use image::{GrayImage, RgbImage};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::vector::argmax;
use crate::{FaceBox, Landmarks5, Landmarks68, Point2};

/// One face found by a [`FaceDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The face box, in the input image's pixels.
    pub bbox: FaceBox,
    /// The five landmarks, for detectors that produce them.
    pub landmarks: Option<Landmarks5>,
}

/// Finds faces in images.
///
/// Contract: an image without a face gives `Ok` with an empty list (not an
/// error); detections are sorted by descending score; coordinates are in the
/// input image's pixels and may extend past its border. Errors are for inputs
/// the detector cannot process at all (for example an image smaller than its
/// smallest window).
pub trait FaceDetector {
    /// The implementation's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Detects every face in one image.
    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, Self::Error>;

    /// Detects faces in several images; one result per image, in order.
    /// Implementations override this to batch work across images.
    fn detect_batch(&self, images: &[RgbImage]) -> Vec<Result<Vec<Detection>, Self::Error>> {
        images.iter().map(|img| self.detect(img)).collect()
    }
}

/// Places the 68 iBUG landmarks on a face.
///
/// Contract: `face` is a box around one face in `image` (as a detector gives
/// it); the result is in `image`'s pixels, in the point order documented on
/// [`Landmarks68`]. Deterministic: the same image and box give the same points.
pub trait LandmarkPredictor {
    /// The implementation's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Predicts the landmarks of the face in `face`.
    fn predict(&self, image: &RgbImage, face: &FaceBox) -> Result<Landmarks68, Self::Error>;
}

/// What a [`MaskRenderer`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedFace {
    /// The image with the mask painted on.
    pub image: RgbImage,
    /// Where the mask is: 255 inside, 0 outside (anti-aliased edges in between).
    pub mask: GrayImage,
    /// The mask's outline in image pixels.
    pub polygon: Vec<Point2>,
    /// Style, colour and any drawn parameters, for the dataset's records.
    pub description: String,
}

/// Paints a face mask on a face.
///
/// Contract: the output image has the input's size; every random choice
/// (style, colour, pattern) is drawn from `rng` only, so the same seed gives
/// the same pixels.
pub trait MaskRenderer {
    /// The implementation's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Paints a mask on the face described by `landmarks`.
    fn render(
        &self,
        image: &RgbImage,
        landmarks: &Landmarks68,
        rng: &mut dyn RngCore,
    ) -> Result<MaskedFace, Self::Error>;

    /// The renderer with every parameter, as JSON: generated datasets record
    /// it so that the same masks can be made again (for example on the
    /// strangers of an open-set test). `null` when the renderer cannot say.
    fn describe(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// An augmented image and a record of what was done.
#[derive(Debug, Clone, PartialEq)]
pub struct Augmented {
    /// The new image.
    pub image: RgbImage,
    /// What was done with the values drawn, e.g. `rotate(-12.41)`.
    pub record: String,
}

/// A random image transformation for data augmentation.
///
/// Contract: every random choice is drawn from `rng` only, so the same seed
/// gives byte-identical output; applying it never fails (any image, including
/// a 1x1 one, gives an image). Implementations are `Send + Sync` so that a
/// policy can run on many images in parallel.
pub trait Augmentation: Send + Sync {
    /// A short name for logs and records (`rotate`, `color_jitter`, ...).
    fn name(&self) -> &str;

    /// The name with every parameter, for the records of a dataset (e.g.
    /// `rotate(max_degrees=20, fill=constant[0,0,0], bilinear)`).
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// Transforms `image` with parameters drawn from `rng`.
    fn apply(&self, image: &RgbImage, rng: &mut dyn RngCore) -> Augmented;
}

/// Maps aligned face crops to embedding vectors.
///
/// Contract: one vector of length [`FaceEmbedder::dim`] per input face, in
/// order; vectors of the same person are close in cosine similarity.
pub trait FaceEmbedder {
    /// The implementation's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Length of each embedding.
    fn dim(&self) -> usize;

    /// Embeds a batch of face crops.
    fn embed(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, Self::Error>;
}

/// Assigns face crops to one of a fixed set of classes.
///
/// Contract: [`Classifier::logits`] returns one row of
/// [`Classifier::num_classes`] unnormalised scores per face (higher = more
/// likely); class `i` is label `i` of the training manifest.
pub trait Classifier {
    /// The implementation's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Number of classes.
    fn num_classes(&self) -> usize;

    /// Scores of every class for each face.
    fn logits(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, Self::Error>;

    /// The best class of each face (ties go to the lower label).
    fn predict(&self, faces: &[RgbImage]) -> Result<Vec<u32>, Self::Error> {
        Ok(self
            .logits(faces)?
            .iter()
            .map(|row| argmax(row).unwrap_or(0) as u32)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    struct Fixed(Vec<Vec<f32>>);
    impl Classifier for Fixed {
        type Error = Infallible;
        fn num_classes(&self) -> usize {
            3
        }
        fn logits(&self, _: &[RgbImage]) -> Result<Vec<Vec<f32>>, Infallible> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn default_predict_is_argmax_with_low_label_ties() {
        let c = Fixed(vec![
            vec![0.0, 2.0, 1.0],
            vec![5.0, 5.0, -1.0],
            vec![-3.0, -2.0, -1.0],
        ]);
        assert_eq!(c.predict(&[]).unwrap(), vec![1, 0, 2]);
    }
}
