//! The face ResNet's building blocks: dlib's per-channel affine layer and
//! its residual block, each with a config that builds it.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::PadMode;
use maskface_kernels::ForwardFast;

/// Configuration of an [`Affine`] layer.
#[derive(Config, Debug)]
pub struct AffineConfig {
    /// The number of channels.
    pub channels: usize,
}

impl AffineConfig {
    /// The identity on [`AffineConfig::channels`] channels (scales 1,
    /// offsets 0).
    pub fn init(&self, device: &Device) -> Affine {
        Affine {
            gamma: Param::from_tensor(Tensor::ones([self.channels], device)),
            beta: Param::from_tensor(Tensor::zeros([self.channels], device)),
        }
    }
}

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
    /// Applies the layer.
    ///
    /// # Shapes
    ///
    /// - input: `[n, channels, h, w]`
    /// - output: `[n, channels, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let c = self.gamma.dims()[0];
        x * self.gamma.val().reshape([1, c, 1, 1]) + self.beta.val().reshape([1, c, 1, 1])
    }
}

/// Configuration of a [`ResidualBlock`]: its channels and the stride of its
/// first convolution.
#[derive(Config, Debug, PartialEq)]
pub struct ResidualBlockConfig {
    /// Input and output channels.
    pub channels: [usize; 2],
    /// The first convolution's stride: 1 keeps the size, `s > 1` divides it
    /// by `s` (and the shortcut is average-pooled `s x s` to match).
    #[config(default = 1)]
    pub stride: usize,
}

impl ResidualBlockConfig {
    /// Whether the block shrinks its input.
    pub fn downsamples(&self) -> bool {
        self.stride > 1
    }

    /// A block with untrained weights (burn's default initialisation,
    /// identity affine layers).
    pub fn init(&self, device: &Device) -> ResidualBlock {
        let [c_in, c_out] = self.channels;
        let s = self.stride;
        // dlib pads stride-1 convolutions by half the kernel, strided ones not at all.
        let padding = if self.downsamples() {
            PaddingConfig2d::Valid
        } else {
            PaddingConfig2d::Explicit(1, 1, 1, 1)
        };
        ResidualBlock {
            conv1: Conv2dConfig::new([c_in, c_out], [3, 3])
                .with_stride([s, s])
                .with_padding(padding)
                .init(device),
            affine1: AffineConfig::new(c_out).init(device),
            conv2: Conv2dConfig::new([c_out, c_out], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            affine2: AffineConfig::new(c_out).init(device),
            shortcut_pool: self
                .downsamples()
                .then(|| AvgPool2dConfig::new([s, s]).with_strides([s, s]).init()),
        }
    }
}

/// One residual block (dlib's `ares` / `ares_down`): conv 3x3 (with the
/// config's stride), affine, relu, conv 3x3, affine, plus the input
/// (average-pooled when the block shrinks it), relu.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    pub(super) conv1: Conv2d,
    pub(super) affine1: Affine,
    pub(super) conv2: Conv2d,
    pub(super) affine2: Affine,
    /// The shortcut's pooling, for the blocks that shrink their input.
    shortcut_pool: Option<AvgPool2d>,
}

impl ResidualBlock {
    /// Applies the block.
    ///
    /// # Shapes
    ///
    /// - input: `[n, c_in, h, w]`
    /// - output: `[n, c_out, h', w']`, where `h' = h` at stride 1 and
    ///   `h' = max((h - 3) / s + 1, h / s)` at stride `s` (the larger of the
    ///   two branches, the smaller zero-padded as dlib does); likewise `w'`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = relu(self.affine1.forward(self.conv1.forward_fast(x.clone())));
        let y = self.affine2.forward(self.conv2.forward_fast(y));
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
