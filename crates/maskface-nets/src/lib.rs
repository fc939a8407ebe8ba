//! # maskface-nets
//!
//! The networks of maskface, as [burn](https://burn.dev) modules that run on
//! any burn backend chosen at run time ([`Backend`]): `flex` on the CPU by
//! default, `wgpu` (Vulkan, Metal, ...) and `cuda` behind cargo features.
//!
//! So far: **MTCNN** face detection ([`mtcnn`]), the P-Net / R-Net / O-Net
//! cascade of facenet-pytorch 2.6.0, loading that package's own weight files
//! (`pnet.pt`, `rnet.pt`, `onet.pt`, fetched by `scripts/setup.sh`), with the
//! detector implementing [`maskface_core::FaceDetector`]; and dlib's
//! **face-recognition ResNet** ([`face_resnet`]), read from dlib's own model
//! file without dlib, a [`maskface_core::FaceEmbedder`] of 128-d embeddings.
//!
//! The paper's three classification networks, each loading the reference
//! implementation's PyTorch state dicts by name: **InceptionResnetV1** as
//! facenet-pytorch defines it ([`inception_resnet_v1`]), **ResNet50** and
//! **VGG16** as torchvision defines them ([`resnet`], [`vgg`], the latter
//! with the paper's classifier surgery as an option). Each returns a
//! [`ClassifierOutput`]: the penultimate embedding and the logits.
//!
//! ```no_run
//! use maskface_core::FaceDetector;
//! use maskface_nets::{mtcnn::Mtcnn, mtcnn::MtcnnConfig, Backend};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = Backend::Flex.device()?;
//! let mtcnn = Mtcnn::from_dir("models".as_ref(), MtcnnConfig::default(), &device)?;
//! let image = maskface_core::load_rgb("face.jpg".as_ref())?;
//! for face in mtcnn.detect(&image)? {
//!     println!("{:?} {:?}", face.bbox, face.landmarks);
//! }
//! # Ok(()) }
//! ```

mod backend;
mod classifier_output;
mod error;
pub mod face_resnet;
pub mod inception_resnet_v1;
mod input;
pub mod mtcnn;
mod parameter_count;
pub mod resnet;
mod torch_weights;
pub mod vgg;

pub use backend::Backend;
pub use classifier_output::ClassifierOutput;
pub use error::NetsError;
pub use input::{images_to_input, InputNorm};
pub use parameter_count::{parameter_count, trainable_parameter_count};
pub use torch_weights::pytorch_dim;

/// Re-exported because burn is pinned to an exact version and the networks
/// are burn modules on its devices: use this path instead of matching the
/// version by hand.
pub use burn;
/// Re-exported because the detectors and embedders take [`image::RgbImage`]s:
/// use this path to get the same version.
pub use image;
