//! Photo in, aligned face chip and embedding out: MTCNN finds the face,
//! dlib's 68 landmarks align it as dlib's `get_face_chip` does, and dlib's
//! ResNet (or fine-tuned weights on it) embeds the chip.

use std::path::Path;

use image::RgbImage;
use maskface_core::vector::l2_normalized;
use maskface_core::{
    load_rgb, rng_for, Detection, FaceBox, FaceEmbedder, LandmarkPredictor, Landmarks68,
    MaskRenderer,
};
use maskface_mask::{face_chip, landmark_box, ChipParams, MaskFamily, ShapePredictor};
use maskface_nets::face_resnet::FaceEmbedderResNet;
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::Backend;
use rayon::prelude::*;

use serde::Serialize;

use crate::{
    file_sha256, image_hash, load_embedder, Gallery, Identification, MaskClassifier,
    RecognizeError, Template, MASKED_AT,
};

/// MTCNN from `models` with `config`, on the CPU.
pub(crate) fn load_mtcnn(models: &Path, config: MtcnnConfig) -> Result<Mtcnn, RecognizeError> {
    Mtcnn::from_dir(models, config, &Backend::Flex.device()?).map_err(|e| RecognizeError::Load {
        what: "MTCNN".into(),
        cause: Box::new(e),
    })
}

/// dlib's 68-point landmark model from `models`.
pub(crate) fn load_predictor(models: &Path) -> Result<ShapePredictor, RecognizeError> {
    ShapePredictor::from_file(models.join(ShapePredictor::DLIB_68_FILE)).map_err(|e| {
        RecognizeError::Load {
            what: "the landmark model".into(),
            cause: Box::new(e),
        }
    })
}

/// The main face of a photo, located.
#[derive(Debug, Clone)]
pub struct LocatedFace {
    /// Its 68 landmarks.
    pub landmarks: Landmarks68,
    /// Whether MTCNN found it (`false`: the fallback box was used).
    pub detected: bool,
}

/// One face of a photo and who it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentifiedFace {
    /// Where the face is (MTCNN's box and score).
    pub bbox: FaceBox,
    /// The probability that the face wears a mask, when a
    /// [`MaskClassifier`] is installed.
    pub mask_probability: Option<f32>,
    /// Whether it wears one (probability [`MASKED_AT`] or more); `None`: no
    /// classifier, so the gallery's masked threshold was used.
    pub masked: Option<bool>,
    /// The gallery's answer, at the threshold for the face's mask state.
    pub identification: Identification,
}

/// Detection, landmarks, alignment and embedding of one face per photo;
/// everything on the CPU.
pub struct FacePipeline {
    /// The face detector (its default settings).
    pub mtcnn: Mtcnn,
    /// dlib's 68-point landmark model.
    pub predictor: ShapePredictor,
    /// The embedding network.
    pub net: FaceEmbedderResNet,
    /// Whether a face wears a mask, when one is installed in the models
    /// folder ([`crate::MASK_CLASSIFIER_FILE`]).
    pub mask_classifier: Option<MaskClassifier>,
    /// Whether each chip is embedded together with its mirror image (the
    /// sum of the two unit-length embeddings): a face's embedding then
    /// depends less on which way it is turned. Galleries record it
    /// ([`Gallery::mirror`]); [`FacePipeline::load`] leaves it off.
    pub mirror: bool,
}

impl FacePipeline {
    /// The detector and landmarks from `models`, and the network `embedder`
    /// names (see [`crate::load_embedder`]: dlib's file name, as a gallery
    /// records it, or fine-tuned weights), and the mask classifier when
    /// `models` has one (an unreadable one is an error naming it).
    pub fn load(models: &Path, embedder: &str) -> Result<Self, RecognizeError> {
        let mtcnn = load_mtcnn(models, MtcnnConfig::default())?;
        let predictor = load_predictor(models)?;
        Ok(FacePipeline {
            mtcnn,
            predictor,
            net: load_embedder(models, embedder)?,
            mask_classifier: MaskClassifier::installed(models)?,
            mirror: false,
        })
    }

    /// The pipeline of a gallery's network (read from `gallery_path`),
    /// after checking the network's file against the SHA-256 the gallery
    /// recorded: templates of other weights would not compare.
    pub fn for_gallery(
        gallery: &Gallery,
        gallery_path: &Path,
        models: &Path,
    ) -> Result<Self, RecognizeError> {
        // A gallery that names weights of its own must say which bytes they
        // were: otherwise a hand-edited or foreign gallery could have any
        // file loaded as a network.
        if gallery.embedder != maskface_nets::face_resnet::DLIB_RESNET_FILE
            && gallery.embedder_sha256.is_none()
        {
            return Err(RecognizeError::File {
                path: gallery_path.to_path_buf(),
                reason: format!(
                    "names the network {} without its SHA-256 (`embedder_sha256`): \
                     refused, since its templates could not be checked against it",
                    gallery.embedder
                ),
            });
        }
        if let Some(want) = &gallery.embedder_sha256 {
            let have = file_sha256(Path::new(&gallery.embedder))?;
            if &have != want {
                return Err(RecognizeError::File {
                    path: gallery_path.to_path_buf(),
                    reason: format!(
                        "{} changed since the gallery was made (SHA-256 {have}, recorded {want}); \
                         its templates no longer compare: enroll the people again in a new gallery",
                        gallery.embedder
                    ),
                });
            }
        }
        Ok(FacePipeline {
            mirror: gallery.mirror,
            ..Self::load(models, &gallery.embedder)?
        })
    }

    /// The embeddings of aligned chips, each summed with its mirror
    /// image's when [`FacePipeline::mirror`] is on.
    pub fn embed_chips(&self, chips: &[RgbImage]) -> Result<Vec<Vec<f32>>, RecognizeError> {
        if !self.mirror {
            return Ok(self.net.embed(chips)?);
        }
        let flipped: Vec<RgbImage> = chips.iter().map(image::imageops::flip_horizontal).collect();
        let e = self.net.embed(chips)?;
        let mirrored = self.net.embed(&flipped)?;
        Ok(e.iter()
            .zip(&mirrored)
            .map(|(a, b)| {
                l2_normalized(a)
                    .iter()
                    .zip(l2_normalized(b))
                    .map(|(x, y)| x + y)
                    .collect()
            })
            .collect())
    }

    /// The main face of each photo, detected in one batch, with its
    /// landmarks (in parallel). Without a face, or when detection fails,
    /// `fallback` is taken as the face box when given; otherwise a photo
    /// without a face gives `None` and a failed detection an error.
    pub fn locate(
        &self,
        photos: &[RgbImage],
        fallback: Option<FaceBox>,
    ) -> Result<Vec<Option<LocatedFace>>, RecognizeError> {
        let detections = self.mtcnn.detect_images(photos);
        photos
            .par_iter()
            .zip(detections)
            .map(|(photo, dets)| {
                let found = match dets {
                    Ok(d) => self
                        .mtcnn
                        .select(&d, photo.width(), photo.height())
                        .cloned(),
                    Err(_) if fallback.is_some() => None,
                    Err(e) => return Err(e.into()),
                };
                let (face, detected) = match (found, fallback) {
                    (Some(d), _) => (d, true),
                    (None, Some(bbox)) => (
                        Detection {
                            bbox,
                            landmarks: None,
                        },
                        false,
                    ),
                    (None, None) => return Ok(None),
                };
                let landmarks =
                    LandmarkPredictor::predict(&self.predictor, photo, &landmark_box(&face))?;
                Ok(Some(LocatedFace {
                    landmarks,
                    detected,
                }))
            })
            .collect()
    }

    /// The aligned chip (dlib's 150x150) of the photo's main face.
    pub fn chip(&self, path: &Path) -> Result<RgbImage, RecognizeError> {
        let (image, face) = self.main_face(path)?;
        Ok(face_chip(
            &image,
            face.landmarks.points(),
            &ChipParams::default(),
        )?)
    }

    /// The photo at `path` and its main face; no face is an error naming it.
    fn main_face(&self, path: &Path) -> Result<(RgbImage, LocatedFace), RecognizeError> {
        let image = load_rgb(path)?;
        match self
            .locate(std::slice::from_ref(&image), None)
            .map_err(|e| in_photo(path, e))?
            .pop()
            .flatten()
        {
            Some(face) => Ok((image, face)),
            None => Err(RecognizeError::NoFace {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Every face MTCNN finds in `image`, left to right, each with its
    /// aligned chip. No face gives an empty list.
    pub fn faces(&self, image: &RgbImage) -> Result<Vec<(FaceBox, RgbImage)>, RecognizeError> {
        let mut detections = self
            .mtcnn
            .detect_images(std::slice::from_ref(image))
            .pop()
            .unwrap_or_else(|| Ok(Vec::new()))?;
        detections.sort_by(|a, b| a.bbox.x0.total_cmp(&b.bbox.x0));
        detections
            .par_iter()
            .map(|d| {
                let landmarks =
                    LandmarkPredictor::predict(&self.predictor, image, &landmark_box(d))?;
                let chip = face_chip(image, landmarks.points(), &ChipParams::default())?;
                Ok((d.bbox, chip))
            })
            .collect()
    }

    /// Every face of the photo at `path` answered by `gallery`, left to
    /// right, each at the threshold for its mask state (see
    /// [`Gallery::threshold_for`]); a photo without a face is an error
    /// naming it.
    pub fn identify_faces(
        &self,
        gallery: &Gallery,
        path: &Path,
    ) -> Result<Vec<IdentifiedFace>, RecognizeError> {
        let image = load_rgb(path)?;
        let faces = self.faces(&image).map_err(|e| in_photo(path, e))?;
        if faces.is_empty() {
            return Err(RecognizeError::NoFace {
                path: path.to_path_buf(),
            });
        }
        let chips: Vec<RgbImage> = faces.iter().map(|(_, c)| c.clone()).collect();
        let embeddings = self.embed_chips(&chips)?;
        Ok(faces
            .iter()
            .zip(embeddings)
            .map(|((bbox, chip), e)| {
                let p = self.mask_classifier.as_ref().map(|c| c.probability(chip));
                let masked = p.map(|p| p >= MASKED_AT);
                IdentifiedFace {
                    bbox: *bbox,
                    mask_probability: p,
                    masked,
                    identification: gallery.identify_face(&e, masked),
                }
            })
            .collect())
    }

    /// The embedding of one chip.
    pub fn embed(&self, chip: &RgbImage) -> Result<Vec<f32>, RecognizeError> {
        self.embed_chips(std::slice::from_ref(chip))?
            .pop()
            .ok_or_else(|| RecognizeError::Embedder("the network gave no embedding".into()))
    }

    /// The photo's template and `masked` synthetic ones: its main face with
    /// a mask of [`MaskFamily::training`] painted on (each drawn with `seed`,
    /// the chip's hash and its number), each marked
    /// [`Template::synthetic`].
    pub fn templates(
        &self,
        path: &Path,
        masked: usize,
        seed: u64,
    ) -> Result<Vec<Template>, RecognizeError> {
        let (image, face) = self.main_face(path)?;
        let points = face.landmarks.points();
        let chip = face_chip(&image, points, &ChipParams::default())?;
        let hash = image_hash(&chip);
        let family = MaskFamily::training();
        let mut chips = vec![chip];
        let mut marks = vec![None];
        for k in 1..=masked {
            let key = format!("masked-template/{hash}/{k}");
            let painted = family.render(&image, &face.landmarks, &mut rng_for(seed, &key))?;
            chips.push(face_chip(&painted.image, points, &ChipParams::default())?);
            marks.push(Some(painted.description));
        }
        let embeddings = self.embed_chips(&chips)?;
        Ok(chips
            .iter()
            .zip(embeddings)
            .zip(marks)
            .map(|((c, e), synthetic)| Template {
                synthetic,
                ..Template::new(image_hash(c), path.display().to_string(), e)
            })
            .collect())
    }

    /// The gallery template of the photo at `path`: its chip's hash, the
    /// path, and the chip's embedding.
    pub fn template(&self, path: &Path) -> Result<Template, RecognizeError> {
        self.templates(path, 0, 0)?
            .pop()
            .ok_or_else(|| RecognizeError::Embedder("the network gave no embedding".into()))
    }
}

/// The pipeline as an embedder of aligned chips, its mirror setting
/// included, so batch helpers such as [`crate::embed_all`] embed the way
/// its galleries do.
impl FaceEmbedder for FacePipeline {
    type Error = RecognizeError;

    fn dim(&self) -> usize {
        self.net.dim()
    }

    fn embed(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, RecognizeError> {
        self.embed_chips(faces)
    }
}

/// `e`, naming the photo it happened in.
fn in_photo(path: &Path, e: RecognizeError) -> RecognizeError {
    RecognizeError::Photo {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
