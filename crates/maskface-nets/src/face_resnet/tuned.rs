use std::path::Path;

use burn::module::Param;
use burn::prelude::*;
use burn::store::ModuleRecord;

use super::model::FaceResNet;
use super::reader::DlibNet;
use crate::NetsError;

/// Residual blocks left frozen by default when fine-tuning: the last four
/// of fourteen (the 256-channel stage and the last 128-channel block) train.
pub const DEFAULT_FROZEN_BLOCKS: usize = 10;

/// dlib's ResNet prepared for fine-tuning: the network, the blocks left
/// frozen, and a centre subtracted from every embedding.
///
/// dlib's embeddings share a large common component (two strangers' cosine
/// similarity is typically above 0.9); subtracting the training set's mean
/// embedding spreads them over the sphere, which angular-margin losses and
/// cosine scores need. The centre is saved with the weights and is not
/// trained.
///
/// The first [`TunedFaceResNet::frozen_blocks`] blocks are not trained, so
/// their output can be computed once per image
/// ([`TunedFaceResNet::frozen_features`]) and the trainable tail run on it
/// ([`TunedFaceResNet::forward_tail`]) every epoch.
#[derive(Module, Debug)]
pub struct TunedFaceResNet {
    /// The network.
    pub net: FaceResNet,
    /// The centre subtracted from the embeddings (one value per embedding
    /// dimension).
    pub centre: Param<Tensor<1>>,
    /// Residual blocks before this index are frozen.
    pub frozen_blocks: usize,
}

impl TunedFaceResNet {
    /// Wraps `net` with `centre` (one value per embedding dimension) and the
    /// first `frozen_blocks` of its 14 blocks frozen.
    pub fn new(
        net: FaceResNet,
        centre: &[f32],
        frozen_blocks: usize,
        device: &Device,
    ) -> Result<Self, NetsError> {
        if frozen_blocks > net.blocks.len() {
            return Err(NetsError::InvalidParameter {
                name: "frozen_blocks",
                reason: format!(
                    "{frozen_blocks} frozen blocks, the network has {}",
                    net.blocks.len()
                ),
            });
        }
        let dim = net.embedding_dim();
        if centre.len() != dim || centre.iter().any(|v| !v.is_finite()) {
            return Err(NetsError::InvalidParameter {
                name: "centre",
                reason: format!(
                    "{} values (finite ones expected) for {dim} dimensions",
                    centre.len()
                ),
            });
        }
        let centre = Tensor::<1>::from_data(TensorData::new(centre.to_vec(), [dim]), device);
        Ok(TunedFaceResNet {
            net,
            centre: Param::from_tensor(centre).set_require_grad(false),
            frozen_blocks,
        })
    }

    /// The centred embeddings of a normalised batch of chips.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_tail(self.frozen_features(images))
    }

    /// The output of the frozen part.
    pub fn frozen_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.net.features(images, self.frozen_blocks)
    }

    /// The centred embeddings from the frozen part's output: the trainable
    /// part of the network.
    pub fn forward_tail(&self, features: Tensor<4>) -> Tensor<2> {
        let e = self.net.forward_from(features, self.frozen_blocks);
        let [_, dim] = e.dims();
        e - self.centre.val().reshape([1, dim])
    }

    /// Saves the weights and the centre (a burnpack record), atomically.
    pub fn save(&self, path: &Path) -> Result<(), NetsError> {
        let bytes = self
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| NetsError::Weights {
                path: path.to_path_buf(),
                reason: format!("serializing: {e}"),
            })?;
        maskface_core::write_atomic(path, |w| w.write_all(&bytes)).map_err(|e| NetsError::Weights {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Loads weights saved by [`TunedFaceResNet::save`] into dlib's
    /// architecture (`dlib` gives the structure; every tensor is replaced).
    pub fn load(dlib: &DlibNet, path: &Path, device: &Device) -> Result<Self, NetsError> {
        let net = FaceResNet::from_dlib(dlib, device)?;
        let dim = net.embedding_dim();
        TunedFaceResNet::new(net, &vec![0.0; dim], 0, device)?.load_weights(path)
    }

    /// Replaces every tensor by those saved in `path`; a file of another
    /// network, or a truncated one, is an error.
    pub fn load_weights(self, path: &Path) -> Result<Self, NetsError> {
        let weights_error = |reason: String| NetsError::Weights {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| weights_error(e.to_string()))?;
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| weights_error(format!("not a saved network: {e}")))?;
        let expected = self.clone().into_record().len();
        if record.len() != expected {
            return Err(weights_error(format!(
                "{} tensors, this network has {expected}",
                record.len()
            )));
        }
        self.try_load_record(record)
            .map_err(|e| weights_error(format!("not this network's weights: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face_resnet::FaceResNetConfig;
    use burn::tensor::Distribution;

    fn small() -> (FaceResNet, Device) {
        let device = Device::flex();
        (FaceResNetConfig::new().init(&device), device)
    }

    #[test]
    fn the_tail_after_the_frozen_features_is_the_whole_network() {
        let (net, device) = small();
        let centre: Vec<f32> = (0..128).map(|i| i as f32 / 100.0).collect();
        let tuned = TunedFaceResNet::new(net.clone(), &centre, 6, &device).unwrap();
        let x = Tensor::<4>::random([2, 3, 150, 150], Distribution::Default, &device);
        let whole: Vec<f32> = net
            .forward(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let tuned: Vec<f32> = tuned.forward(x).into_data().try_to_vec::<f32>().unwrap();
        for (i, (a, b)) in whole.iter().zip(&tuned).enumerate() {
            let c = centre[i % 128];
            assert!((a - c - b).abs() < 1e-4, "{i}: {a} - {c} != {b}");
        }
    }

    #[test]
    fn saved_weights_load_back_and_foreign_files_are_refused() {
        let (net, device) = small();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tuned.bpk");
        let centre: Vec<f32> = (0..128).map(|i| i as f32).collect();
        let a = TunedFaceResNet::new(net, &centre, 10, &device).unwrap();
        a.save(&path).unwrap();
        let blank = TunedFaceResNet::new(
            FaceResNetConfig::new().init(&device),
            &[0.0; 128],
            10,
            &device,
        )
        .unwrap();
        let b = blank.clone().load_weights(&path).unwrap();
        let x = Tensor::<4>::random([1, 3, 150, 150], Distribution::Default, &device);
        let ya: Vec<f32> = a
            .forward(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let yb: Vec<f32> = b.forward(x).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(ya, yb);

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = blank.clone().load_weights(&path).unwrap_err().to_string();
        assert!(err.contains("tuned.bpk"), "{err}");
        std::fs::write(&path, b"not a network").unwrap();
        assert!(blank.load_weights(&path).is_err());
    }

    #[test]
    fn bad_centres_and_block_counts_are_refused() {
        let (net, device) = small();
        assert!(TunedFaceResNet::new(net.clone(), &[0.0; 127], 0, &device).is_err());
        assert!(TunedFaceResNet::new(net.clone(), &[f32::NAN; 128], 0, &device).is_err());
        assert!(TunedFaceResNet::new(net, &[0.0; 128], 15, &device).is_err());
    }
}
