//! dlib's face-recognition ResNet as a burn module: 29 convolutions in five
//! residual stages, 150x150 RGB chips in, 128-d embeddings out.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::PadMode;
use image::RgbImage;

use super::reader::{DlibLayer, DlibNet, STAGES};
use crate::NetsError;

/// Per-channel `gamma * x + beta`: batch normalisation folded into a scale
/// and an offset, as dlib stores it.
#[derive(Module, Debug)]
pub struct Affine {
    /// Scales, one per channel.
    pub gamma: Param<Tensor<1>>,
    /// Offsets, one per channel.
    pub beta: Param<Tensor<1>>,
}

impl Affine {
    /// The identity on `channels` channels.
    pub fn new(channels: usize, device: &Device) -> Self {
        Affine {
            gamma: Param::from_tensor(Tensor::ones([channels], device)),
            beta: Param::from_tensor(Tensor::zeros([channels], device)),
        }
    }

    /// Applies it to `[n, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let c = self.gamma.dims()[0];
        x * self.gamma.val().reshape([1, c, 1, 1]) + self.beta.val().reshape([1, c, 1, 1])
    }
}

/// One residual block: conv 3x3 (stride 1 or 2), affine, relu, conv 3x3,
/// affine, plus the input (average-pooled 2x2 when the block halves the
/// size), relu.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    conv1: Conv2d,
    affine1: Affine,
    conv2: Conv2d,
    affine2: Affine,
    /// The shortcut's pooling, for the blocks that halve the size.
    shortcut_pool: Option<AvgPool2d>,
}

impl ResidualBlock {
    fn new(c_in: usize, c_out: usize, down: bool, device: &Device) -> Self {
        let stride = if down { 2 } else { 1 };
        // dlib pads stride-1 convolutions by half the kernel, strided ones not at all.
        let padding = if down {
            PaddingConfig2d::Valid
        } else {
            PaddingConfig2d::Explicit(1, 1, 1, 1)
        };
        ResidualBlock {
            conv1: Conv2dConfig::new([c_in, c_out], [3, 3])
                .with_stride([stride, stride])
                .with_padding(padding)
                .init(device),
            affine1: Affine::new(c_out, device),
            conv2: Conv2dConfig::new([c_out, c_out], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            affine2: Affine::new(c_out, device),
            shortcut_pool: down.then(|| AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
        }
    }

    /// Applies the block to `[n, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = relu(self.affine1.forward(self.conv1.forward(x.clone())));
        let y = self.affine2.forward(self.conv2.forward(y));
        let shortcut = match &self.shortcut_pool {
            Some(pool) => pool.forward(x),
            None => x,
        };
        relu(add_zero_padded(y, shortcut))
    }
}

/// dlib's `add_prev`: the sum over the larger of the two shapes, each
/// input zero-padded at the high end of every axis. In the last two
/// down-sampling blocks the branches differ in size (256x3x3 and 128x4x4),
/// so neither may be cropped.
fn add_zero_padded(a: Tensor<4>, b: Tensor<4>) -> Tensor<4> {
    let (da, db) = (a.dims(), b.dims());
    if da == db {
        return a + b;
    }
    let target: [usize; 4] = std::array::from_fn(|i| da[i].max(db[i]));
    let pad = |t: Tensor<4>, d: [usize; 4]| {
        if d == target {
            return t;
        }
        let pairs: [(usize, usize); 4] = std::array::from_fn(|i| (0, target[i] - d[i]));
        t.pad(pairs, PadMode::Constant(0.0))
    };
    pad(a, da) + pad(b, db)
}

/// Configuration of [`FaceResNet`]: the embedding length (dlib's: 128).
#[derive(Config, Debug)]
pub struct FaceResNetConfig {
    /// Length of the embedding.
    #[config(default = 128)]
    pub embedding: usize,
}

impl FaceResNetConfig {
    /// A network with dlib's architecture and untrained weights (identity
    /// affine layers); [`FaceResNet::from_dlib`] loads dlib's.
    pub fn init(&self, device: &Device) -> FaceResNet {
        let mut blocks = Vec::new();
        let mut c_in = 32;
        for (c_out, n, down) in STAGES {
            for b in 0..n {
                blocks.push(ResidualBlock::new(c_in, c_out, down && b == 0, device));
                c_in = c_out;
            }
        }
        FaceResNet {
            conv: Conv2dConfig::new([3, 32], [7, 7])
                .with_stride([2, 2])
                .init(device),
            affine: Affine::new(32, device),
            pool: MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init(),
            blocks,
            fc: LinearConfig::new(256, self.embedding)
                .with_bias(false)
                .init(device),
        }
    }
}

/// dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1`):
/// input `[n, 3, 150, 150]` normalised by [`normalize_chips`], output
/// `[n, 128]` embeddings (not L2-normalised; same-person pairs are closer
/// than 0.6 in dlib's calibration).
#[derive(Module, Debug)]
pub struct FaceResNet {
    conv: Conv2d,
    affine: Affine,
    pool: MaxPool2d,
    /// The 14 residual blocks, in order.
    pub blocks: Vec<ResidualBlock>,
    fc: Linear,
}

impl FaceResNet {
    /// The embeddings of a normalised batch.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.features(x, self.blocks.len());
        self.head(x)
    }

    /// The output of the stem and the first `blocks` residual blocks: the
    /// frozen part when only the last stages are fine-tuned.
    pub fn features(&self, x: Tensor<4>, blocks: usize) -> Tensor<4> {
        let x = relu(self.affine.forward(self.conv.forward(x)));
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

    /// The network with dlib's weights.
    pub fn from_dlib(net: &DlibNet, device: &Device) -> Result<Self, NetsError> {
        let mut model = FaceResNetConfig::new().init(device);
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
            if [*filters, *channels, kernel[0], kernel[1]] != [o, i, kh, kw] {
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
