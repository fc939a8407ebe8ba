//! The face ResNet as a burn module, described by [`FaceResNetConfig`]
//! (dlib's architecture by default: 29 convolutions in five residual
//! stages, 150x150 RGB chips in, 128-d embeddings out).

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use image::RgbImage;
use maskface_kernels::ForwardFast;

use super::blocks::{Affine, AffineConfig, ResidualBlock, ResidualBlockConfig};
use super::reader::{DlibLayer, DlibNet};
use crate::NetsError;

/// One stage of residual blocks of the same width.
#[derive(Config, Debug, PartialEq)]
pub struct ResidualStageConfig {
    /// Output channels of every block of the stage.
    pub channels: usize,
    /// The number of blocks.
    pub blocks: usize,
    /// The first block's stride (the others keep the size).
    #[config(default = 1)]
    pub stride: usize,
}

/// dlib's residual stages, in forward order (its `alevel4` .. `alevel0`):
/// 3 blocks of 32 channels, then 4 of 64, 3 of 128, 3 of 256 and 1 of 256,
/// each stage after the first halving the size.
fn dlib_stages() -> Vec<ResidualStageConfig> {
    [
        (32, 3, 1),
        (64, 4, 2),
        (128, 3, 2),
        (256, 3, 2),
        (256, 1, 2),
    ]
    .into_iter()
    .map(|(channels, blocks, stride)| {
        ResidualStageConfig::new(channels, blocks).with_stride(stride)
    })
    .collect()
}

/// Configuration of a [`FaceResNet`]: the whole architecture. The defaults
/// are dlib's (`dlib_face_recognition_resnet_model_v1`): a 7x7 stride-2
/// convolution to 32 channels, a 3x3 stride-2 max pool, 14 residual blocks
/// in five stages, a global average and a dense layer to 128 values.
#[derive(Config, Debug, PartialEq)]
pub struct FaceResNetConfig {
    /// Input channels (RGB).
    #[config(default = 3)]
    pub input_channels: usize,
    /// Output channels of the stem's convolution.
    #[config(default = 32)]
    pub stem_channels: usize,
    /// The stem convolution's kernel size (square).
    #[config(default = 7)]
    pub stem_kernel: usize,
    /// The stem convolution's stride.
    #[config(default = 2)]
    pub stem_stride: usize,
    /// The max pool's window (square).
    #[config(default = 3)]
    pub pool_window: usize,
    /// The max pool's stride.
    #[config(default = 2)]
    pub pool_stride: usize,
    /// The residual stages, in forward order.
    #[config(default = "dlib_stages()")]
    pub stages: Vec<ResidualStageConfig>,
    /// Length of the embedding (the dense layer's outputs).
    #[config(default = 128)]
    pub embedding: usize,
}

impl FaceResNetConfig {
    /// Every residual block, in forward order: each stage's first block
    /// has the stage's stride, and takes the previous stage's channels.
    pub fn blocks(&self) -> Vec<ResidualBlockConfig> {
        let mut c_in = self.stem_channels;
        let mut blocks = Vec::new();
        for stage in &self.stages {
            for b in 0..stage.blocks {
                let stride = if b == 0 { stage.stride } else { 1 };
                blocks.push(ResidualBlockConfig::new([c_in, stage.channels]).with_stride(stride));
                c_in = stage.channels;
            }
        }
        blocks
    }

    /// The channels of the last stage: the dense layer's inputs.
    pub fn feature_channels(&self) -> usize {
        self.stages
            .last()
            .map_or(self.stem_channels, |stage| stage.channels)
    }

    /// The network with untrained weights (burn's default initialisation,
    /// identity affine layers); [`FaceResNet::from_dlib`] loads dlib's.
    pub fn init(&self, device: &Device) -> FaceResNet {
        let (k, s) = (self.stem_kernel, self.stem_stride);
        // dlib pads stride-1 convolutions by half the kernel, strided ones not at all.
        let padding = if s == 1 {
            PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2)
        } else {
            PaddingConfig2d::Valid
        };
        FaceResNet {
            conv: Conv2dConfig::new([self.input_channels, self.stem_channels], [k, k])
                .with_stride([s, s])
                .with_padding(padding)
                .init(device),
            affine: AffineConfig::new(self.stem_channels).init(device),
            pool: MaxPool2dConfig::new([self.pool_window, self.pool_window])
                .with_strides([self.pool_stride, self.pool_stride])
                .init(),
            blocks: self.blocks().iter().map(|b| b.init(device)).collect(),
            fc: LinearConfig::new(self.feature_channels(), self.embedding)
                .with_bias(false)
                .init(device),
        }
    }
}

/// The face ResNet built by [`FaceResNetConfig::init`]: a stem (convolution,
/// affine, relu, max pool), residual blocks, a global average and a dense
/// layer without bias. With dlib's weights ([`FaceResNet::from_dlib`]) it is
/// `dlib_face_recognition_resnet_model_v1`, whose embeddings are not
/// L2-normalised (same-person pairs are closer than 0.6 in dlib's
/// calibration).
#[derive(Module, Debug)]
pub struct FaceResNet {
    conv: Conv2d,
    affine: Affine,
    pool: MaxPool2d,
    /// The residual blocks, in order (dlib's: 14).
    pub blocks: Vec<ResidualBlock>,
    fc: Linear,
}

impl FaceResNet {
    /// The embeddings of a batch normalised by [`normalize_chips`].
    ///
    /// # Shapes
    ///
    /// - input: `[n, input_channels, h, w]` (dlib's: `[n, 3, 150, 150]`)
    /// - output: `[n, embedding]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.features(x, self.blocks.len());
        self.head(x)
    }

    /// The output of the stem and the first `blocks` residual blocks: the
    /// frozen part when only the last stages are fine-tuned.
    pub fn features(&self, x: Tensor<4>, blocks: usize) -> Tensor<4> {
        let x = relu(self.affine.forward(self.conv.forward_fast(x)));
        let x = self.pool.forward(x);
        self.blocks.iter().take(blocks).fold(x, |x, b| b.forward(x))
    }

    /// The remaining blocks after [`FaceResNet::features`]`(x, from)`, the
    /// global average and the dense layer.
    pub fn forward_from(&self, x: Tensor<4>, from: usize) -> Tensor<2> {
        let x = self.blocks.iter().skip(from).fold(x, |x, b| b.forward(x));
        self.head(x)
    }

    /// The length of the embedding.
    pub fn embedding_dim(&self) -> usize {
        let [_, dim] = self.fc.weight.dims();
        dim
    }

    fn head(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, c, _, _] = x.dims();
        let x = x.mean_dim(3).mean_dim(2).reshape([n, c]);
        self.fc.forward(x)
    }

    /// The network of the architecture `net` was read with
    /// ([`DlibNet::config`]), with `net`'s weights.
    pub fn from_dlib(net: &DlibNet, device: &Device) -> Result<Self, NetsError> {
        let mut model = net.config.init(device);
        let mut layers = net.layers.iter();
        let mismatch = |what: &str| NetsError::InvalidParameter {
            name: "dlib network",
            reason: format!("expected {what} in the face ResNet's layer sequence"),
        };
        let mut next_conv = |conv: &mut Conv2d, affine: &mut Affine| -> Result<(), NetsError> {
            let (
                Some(DlibLayer::Conv {
                    filters,
                    channels,
                    kernel,
                    weight,
                    bias,
                    ..
                }),
                Some(DlibLayer::Affine { gamma, beta }),
            ) = (
                layers.find(|l| matches!(l, DlibLayer::Conv { .. })),
                layers.next(),
            )
            else {
                return Err(mismatch("a convolution followed by an affine layer"));
            };
            let [o, i, kh, kw] = conv.weight.dims();
            if [*filters, *channels, kernel[0], kernel[1]] != [o, i, kh, kw]
                || weight.len() != o * i * kh * kw
                || [bias.len(), gamma.len(), beta.len()] != [o; 3]
            {
                return Err(mismatch(&format!("a {o}x{i}x{kh}x{kw} convolution")));
            }
            conv.weight = Param::from_tensor(tensor(weight, [o, i, kh, kw], device));
            conv.bias = Some(Param::from_tensor(tensor(bias, [o], device)));
            affine.gamma = Param::from_tensor(tensor(gamma, [o], device));
            affine.beta = Param::from_tensor(tensor(beta, [o], device));
            Ok(())
        };
        next_conv(&mut model.conv, &mut model.affine)?;
        for block in &mut model.blocks {
            next_conv(&mut block.conv1, &mut block.affine1)?;
            next_conv(&mut block.conv2, &mut block.affine2)?;
        }
        let Some(DlibLayer::Fc {
            inputs,
            outputs,
            weight,
        }) = net.layers.last()
        else {
            return Err(mismatch("a dense layer at the end"));
        };
        let [d_input, d_output] = model.fc.weight.dims();
        if [*inputs, *outputs] != [d_input, d_output] || weight.len() != d_input * d_output {
            return Err(mismatch(&format!("a {d_input} -> {d_output} dense layer")));
        }
        model.fc.weight = Param::from_tensor(tensor(weight, [*inputs, *outputs], device));
        Ok(model)
    }
}

fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// dlib's input normalisation (`input_rgb_image_sized`): planar R, G, B,
/// `(pixel - mean) / 256`. Every chip must be `size` x `size`.
pub fn normalize_chips(
    chips: &[RgbImage],
    mean: [f32; 3],
    size: u32,
    device: &Device,
) -> Result<Tensor<4>, NetsError> {
    let plane = (size * size) as usize;
    let mut data = vec![0f32; chips.len() * 3 * plane];
    for (i, chip) in chips.iter().enumerate() {
        if chip.dimensions() != (size, size) {
            return Err(NetsError::InvalidParameter {
                name: "chip",
                reason: format!(
                    "face chip {i} is {}x{}, the network takes {size}x{size}",
                    chip.width(),
                    chip.height()
                ),
            });
        }
        let out = &mut data[i * 3 * plane..(i + 1) * 3 * plane];
        for (p, px) in chip.pixels().enumerate() {
            for c in 0..3 {
                out[c * plane + p] = (f32::from(px[c]) - mean[c]) / 256.0;
            }
        }
    }
    Ok(Tensor::from_data(
        TensorData::new(data, [chips.len(), 3, size as usize, size as usize]),
        device,
    ))
}
