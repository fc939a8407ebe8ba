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
mod crop;
mod detector;
mod nets;
mod resample;
mod weights;

pub use crop::{crop_face, CropConfig, FaceCrop};
pub use detector::{FaceSelection, Mtcnn, MtcnnConfig};
pub use nets::{ONet, ONetConfig, PNet, PNetConfig, RNet, RNetConfig};
