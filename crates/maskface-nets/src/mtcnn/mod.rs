//! MTCNN face detection (Zhang et al., 2016) as facenet-pytorch 2.6.0 runs
//! it: an image pyramid scanned by P-Net, candidates refined by R-Net on
//! 24x24 crops and by O-Net on 48x48 crops, which also places five landmarks.
//!
//! - [`PNet`], [`RNet`], [`ONet`]: the networks, with facenet-pytorch's layer
//!   names so that its `pnet.pt`, `rnet.pt`, `onet.pt` load by name.
//! - [`Mtcnn`]: the detector ([`maskface_core::FaceDetector`]), batched over
//!   images of equal size, plus [`Mtcnn::detect_and_crop`] for datasets.
//! - [`crop_face`]: the crop with a margin, as facenet-pytorch's `extract_face`.

mod boxes;
mod detections_file;
mod detector;
mod nets;
mod resample;

pub use detections_file::{CropOutput, DetectedFace, DetectionEntry};
pub use detector::{Mtcnn, MtcnnConfig};
/// Face selection and cropping live in `maskface-core`, shared by every
/// detector; re-exported here where MTCNN users look for them.
pub use maskface_core::{crop_face, CropConfig, FaceCrop, FaceSelection};
pub use nets::{ONet, ONetConfig, PNet, PNetConfig, RNet, RNetConfig};
