//! dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`,
//! 128-d embeddings, 99.38% on LFW, public domain), read from dlib's own
//! file without dlib and run as a burn module.
//!
//! As burn's own modules: [`FaceResNetConfig`] describes the architecture
//! (stem, residual stages, embedding length; dlib's by default) and
//! [`FaceResNetConfig::init`] builds the [`FaceResNet`] from
//! [`ResidualBlockConfig`]s and [`AffineConfig`]s. [`DlibNet`] reads dlib's
//! file, checking it layer by layer against a config, and
//! [`FaceResNet::from_dlib`] fills its weights into that architecture.
//!
//! ```no_run
//! use maskface_core::FaceEmbedder;
//! use maskface_nets::{face_resnet::FaceEmbedderResNet, Backend};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = Backend::Flex.device()?;
//! let net = FaceEmbedderResNet::from_file(
//!     "models/dlib_face_recognition_resnet_model_v1.dat".as_ref(),
//!     &device,
//! )?;
//! // 150x150 chips aligned as dlib's get_face_chip does (maskface-mask's face_chip).
//! let chip = maskface_core::load_rgb("chip.png".as_ref())?;
//! let e = net.embed(&[chip])?;
//! assert_eq!(e[0].len(), 128);
//! # Ok(()) }
//! ```

mod blocks;
mod model;
mod reader;
mod tuned;

use std::path::Path;

use burn::prelude::*;
use image::RgbImage;

pub use blocks::{Affine, AffineConfig, ResidualBlock, ResidualBlockConfig};
pub use model::{normalize_chips, FaceResNet, FaceResNetConfig, ResidualStageConfig};
pub use reader::{DlibLayer, DlibNet};
pub use tuned::{TunedFaceResNet, DEFAULT_FROZEN_BLOCKS};

use crate::NetsError;

/// The file name of dlib's model, as `scripts/setup.sh` unpacks it.
pub const DLIB_RESNET_FILE: &str = "dlib_face_recognition_resnet_model_v1.dat";

/// Faces embedded per forward pass.
pub const BATCH: usize = 32;

/// dlib's ResNet with its input normalisation: a
/// [`maskface_core::FaceEmbedder`] over 150x150 aligned chips.
#[derive(Debug)]
pub struct FaceEmbedderResNet {
    /// The network.
    pub net: FaceResNet,
    /// The mean colour subtracted from the input.
    pub mean: [f32; 3],
    /// The chip size.
    pub size: u32,
    /// Subtracted from every embedding: the centre of a fine-tuned
    /// network ([`TunedFaceResNet`]); none for dlib's own weights.
    pub centre: Option<Vec<f32>>,
    /// Average each face's embedding with its mirror image's (test-time
    /// augmentation: two forward passes per face).
    pub mirror: bool,
    device: Device,
}

impl FaceEmbedderResNet {
    /// Loads dlib's model file.
    pub fn from_file(path: &Path, device: &Device) -> Result<Self, NetsError> {
        let dlib = DlibNet::from_file(path)?;
        let net = FaceResNet::from_dlib(&dlib, device).map_err(|e| NetsError::Weights {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(FaceEmbedderResNet {
            net,
            mean: dlib.input_mean,
            size: dlib.input_size[0] as u32,
            centre: None,
            mirror: false,
            device: device.clone(),
        })
    }

    /// dlib's architecture and input normalisation from `dlib_path` with
    /// the fine-tuned weights and centre that [`TunedFaceResNet::save`]
    /// wrote to `weights`.
    pub fn from_tuned(
        dlib_path: &Path,
        weights: &Path,
        device: &Device,
    ) -> Result<Self, NetsError> {
        let dlib = DlibNet::from_file(dlib_path)?;
        let tuned = TunedFaceResNet::load(&dlib, weights, device)?;
        let centre: Vec<f32> = tuned
            .centre
            .val()
            .try_into_vec_as::<f32>()
            .map_err(|e| NetsError::Readback(format!("{e:?}")))?;
        Ok(FaceEmbedderResNet {
            net: tuned.net,
            mean: dlib.input_mean,
            size: dlib.input_size[0] as u32,
            centre: Some(centre),
            mirror: false,
            device: device.clone(),
        })
    }

    /// The device it runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The normalised input tensor of `chips`.
    pub fn input(&self, chips: &[RgbImage]) -> Result<Tensor<4>, NetsError> {
        normalize_chips(chips, self.mean, self.size, &self.device)
    }
}

impl maskface_core::FaceEmbedder for FaceEmbedderResNet {
    type Error = NetsError;

    fn dim(&self) -> usize {
        self.net.embedding_dim()
    }

    fn embed(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, NetsError> {
        let dim = self.net.embedding_dim();
        let mut out = Vec::with_capacity(faces.len());
        for batch in faces.chunks(BATCH) {
            let mut y = self.net.forward(self.input(batch)?);
            if self.mirror {
                let mirrored: Vec<RgbImage> =
                    batch.iter().map(image::imageops::flip_horizontal).collect();
                y = (y + self.net.forward(self.input(&mirrored)?)).div_scalar(2.0);
            }
            let values: Vec<f32> = y
                .try_into_vec_as::<f32>()
                .map_err(|e| NetsError::Readback(format!("{e:?}")))?;
            out.extend(values.chunks_exact(dim).map(|e| match &self.centre {
                Some(c) => e.iter().zip(c).map(|(v, c)| v - c).collect(),
                None => e.to_vec(),
            }));
        }
        Ok(out)
    }
}
