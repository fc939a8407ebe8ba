//! InceptionResnetV1 as facenet-pytorch 2.6.0 defines it (Szegedy et al.,
//! 2016, in the FaceNet variant of David Sandberg's TensorFlow port): a
//! stem, 5 Block35, Mixed_6a, 10 Block17, Mixed_7a, 5 Block8 and a final
//! Block8 without ReLU, global average pooling, dropout, a 512-unit
//! `last_linear` with `last_bn`, and an optional `logits` layer. Layer
//! names follow facenet-pytorch's, so its state dicts
//! (`20180402-114759-vggface2.pt`, `20180408-102900-casia-webface.pt`)
//! load with [`InceptionResnetV1::load_pytorch`].
//!
//! ```
//! use burn::prelude::*;
//! use maskface_nets::inception_resnet_v1::InceptionResnetV1Config;
//!
//! let device = Device::flex();
//! let net = InceptionResnetV1Config::new().with_num_classes(Some(50)).init(&device);
//! let out = net.forward(Tensor::zeros([1, 3, 160, 160], &device));
//! assert_eq!(out.embedding.dims(), [1, 512]);
//! assert_eq!(out.logits.map(|l| l.dims()), Some([1, 50]));
//! ```

use std::path::Path;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use maskface_kernels::ForwardFast;

use crate::classifier_output::ClassifierOutput;
use crate::torch_weights::load_state_dict;
use crate::NetsError;

/// The batch norms' epsilon in facenet-pytorch (taken from TensorFlow).
const BN_EPSILON: f64 = 1e-3;

/// The number of identities of facenet-pytorch's VGGFace2 weights, whose
/// file carries a `logits` layer of that size.
pub const VGGFACE2_CLASSES: usize = 8631;

/// Configuration of a [`BasicConv2d`]: a convolution without bias, a batch
/// norm and a ReLU.
#[derive(Config, Debug, PartialEq)]
pub struct BasicConv2dConfig {
    /// Input and output channels.
    pub channels: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride, both axes.
    #[config(default = 1)]
    pub stride: usize,
    /// Zero padding, height and width (each on both sides).
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
}

impl BasicConv2dConfig {
    /// A layer with burn's default initialisation.
    pub fn init(&self, device: &Device) -> BasicConv2d {
        let [ph, pw] = self.padding;
        BasicConv2d {
            conv: Conv2dConfig::new(self.channels, self.kernel)
                .with_stride([self.stride, self.stride])
                .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(self.channels[1])
                .with_epsilon(BN_EPSILON)
                .init(device),
        }
    }
}

/// facenet-pytorch's `BasicConv2d`: convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct BasicConv2d {
    /// The convolution (no bias).
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm,
}

impl BasicConv2d {
    /// Applies the layer.
    ///
    /// # Shapes
    ///
    /// - input: `[n, c_in, h, w]`
    /// - output: `[n, c_out, (h + 2 ph - kh) / s + 1, (w + 2 pw - kw) / s + 1]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward_fast(x)))
    }
}

fn basic(c_in: usize, c_out: usize, kernel: [usize; 2], stride: usize) -> BasicConv2dConfig {
    // Every stride-1 layer with a kernel over 1 keeps its size ("same"
    // padding), except the stem's, which facenet-pytorch lists without it.
    BasicConv2dConfig::new([c_in, c_out], kernel).with_stride(stride)
}

fn same(c_in: usize, c_out: usize, kernel: [usize; 2]) -> BasicConv2dConfig {
    basic(c_in, c_out, kernel, 1).with_padding([kernel[0] / 2, kernel[1] / 2])
}

/// Configuration of a [`ResidualInception`] block (Block35, Block17 and
/// Block8 are three settings of it).
#[derive(Config, Debug, PartialEq)]
pub struct ResidualInceptionConfig {
    /// The 1x1 branch.
    pub branch0: BasicConv2dConfig,
    /// The second branch's layers, in order.
    pub branch1: Vec<BasicConv2dConfig>,
    /// The third branch's layers, in order (empty in Block17 and Block8).
    pub branch2: Vec<BasicConv2dConfig>,
    /// Channels of the block's input and output.
    pub channels: usize,
    /// The factor on the branches' sum before the shortcut is added.
    pub scale: f64,
    /// Whether a ReLU follows the sum (not in the last Block8).
    #[config(default = true)]
    pub relu: bool,
}

impl ResidualInceptionConfig {
    /// facenet-pytorch's `Block35` (256 channels, 35x35 in the original
    /// 299-pixel network).
    pub fn block35(scale: f64) -> Self {
        Self::new(
            basic(256, 32, [1, 1], 1),
            vec![basic(256, 32, [1, 1], 1), same(32, 32, [3, 3])],
            vec![
                basic(256, 32, [1, 1], 1),
                same(32, 32, [3, 3]),
                same(32, 32, [3, 3]),
            ],
            256,
            scale,
        )
    }

    /// facenet-pytorch's `Block17` (896 channels, 1x7 and 7x1 kernels).
    pub fn block17(scale: f64) -> Self {
        Self::new(
            basic(896, 128, [1, 1], 1),
            vec![
                basic(896, 128, [1, 1], 1),
                same(128, 128, [1, 7]),
                same(128, 128, [7, 1]),
            ],
            vec![],
            896,
            scale,
        )
    }

    /// facenet-pytorch's `Block8` (1792 channels, 1x3 and 3x1 kernels).
    pub fn block8(scale: f64) -> Self {
        Self::new(
            basic(1792, 192, [1, 1], 1),
            vec![
                basic(1792, 192, [1, 1], 1),
                same(192, 192, [1, 3]),
                same(192, 192, [3, 1]),
            ],
            vec![],
            1792,
            scale,
        )
    }

    /// The block with burn's default initialisation.
    pub fn init(&self, device: &Device) -> ResidualInception {
        let out = |layers: &[BasicConv2dConfig]| layers.last().map_or(0, |l| l.channels[1]);
        let joined = self.branch0.channels[1] + out(&self.branch1) + out(&self.branch2);
        ResidualInception {
            branch0: self.branch0.init(device),
            branch1: self.branch1.iter().map(|l| l.init(device)).collect(),
            branch2: self.branch2.iter().map(|l| l.init(device)).collect(),
            conv2d: Conv2dConfig::new([joined, self.channels], [1, 1]).init(device),
            scale: self.scale,
            relu: self.relu,
        }
    }
}

/// An Inception-ResNet block: parallel branches, concatenated, a 1x1
/// convolution back to the input's channels, scaled and added to the
/// input, then a ReLU.
#[derive(Module, Debug)]
pub struct ResidualInception {
    /// The 1x1 branch.
    pub branch0: BasicConv2d,
    /// The second branch.
    pub branch1: Vec<BasicConv2d>,
    /// The third branch (empty in Block17 and Block8).
    pub branch2: Vec<BasicConv2d>,
    /// The 1x1 convolution on the concatenated branches (with bias).
    pub conv2d: Conv2d,
    /// The factor on the residual.
    pub scale: f64,
    /// Whether a ReLU follows the sum.
    pub relu: bool,
}

fn chain(layers: &[BasicConv2d], x: Tensor<4>) -> Tensor<4> {
    layers.iter().fold(x, |x, layer| layer.forward(x))
}

impl ResidualInception {
    /// Applies the block.
    ///
    /// # Shapes
    ///
    /// - input: `[n, channels, h, w]`
    /// - output: `[n, channels, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut branches = vec![self.branch0.forward(x.clone())];
        for branch in [&self.branch1, &self.branch2] {
            if !branch.is_empty() {
                branches.push(chain(branch, x.clone()));
            }
        }
        let out = self.conv2d.forward_fast(Tensor::cat(branches, 1)) * self.scale + x;
        if self.relu {
            relu(out)
        } else {
            out
        }
    }
}

/// Configuration of a [`Reduction`] block (Mixed_6a and Mixed_7a).
#[derive(Config, Debug, PartialEq)]
pub struct ReductionConfig {
    /// The convolution branches, each a chain of layers ending at stride 2.
    pub branches: Vec<Vec<BasicConv2dConfig>>,
}

impl ReductionConfig {
    /// facenet-pytorch's `Mixed_6a`: 256 channels in, 896 out.
    pub fn mixed_6a() -> Self {
        Self::new(vec![
            vec![basic(256, 384, [3, 3], 2)],
            vec![
                basic(256, 192, [1, 1], 1),
                same(192, 192, [3, 3]),
                basic(192, 256, [3, 3], 2),
            ],
        ])
    }

    /// facenet-pytorch's `Mixed_7a`: 896 channels in, 1792 out.
    pub fn mixed_7a() -> Self {
        Self::new(vec![
            vec![basic(896, 256, [1, 1], 1), basic(256, 384, [3, 3], 2)],
            vec![basic(896, 256, [1, 1], 1), basic(256, 256, [3, 3], 2)],
            vec![
                basic(896, 256, [1, 1], 1),
                same(256, 256, [3, 3]),
                basic(256, 256, [3, 3], 2),
            ],
        ])
    }

    /// The block with burn's default initialisation.
    pub fn init(&self, device: &Device) -> Reduction {
        let mut chains = self
            .branches
            .iter()
            .map(|branch| branch.iter().map(|l| l.init(device)).collect::<Vec<_>>());
        Reduction {
            branch0: chains.next().unwrap_or_default(),
            branch1: chains.next().unwrap_or_default(),
            branch2: chains.next().unwrap_or_default(),
            pool: MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init(),
        }
    }
}

/// A reduction block: convolution branches and a 3x3 max pool, all at
/// stride 2, concatenated (the pool last).
#[derive(Module, Debug)]
pub struct Reduction {
    /// The first branch.
    pub branch0: Vec<BasicConv2d>,
    /// The second branch.
    pub branch1: Vec<BasicConv2d>,
    /// The third branch (empty in Mixed_6a, whose third branch is the pool).
    pub branch2: Vec<BasicConv2d>,
    /// The pooling branch.
    pub pool: MaxPool2d,
}

impl Reduction {
    /// Applies the block.
    ///
    /// # Shapes
    ///
    /// - input: `[n, c, h, w]`
    /// - output: `[n, c + branch channels, (h - 3) / 2 + 1, (w - 3) / 2 + 1]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut outputs: Vec<Tensor<4>> = [&self.branch0, &self.branch1, &self.branch2]
            .into_iter()
            .filter(|b| !b.is_empty())
            .map(|b| chain(b, x.clone()))
            .collect();
        outputs.push(self.pool.forward(x));
        Tensor::cat(outputs, 1)
    }
}

/// Configuration of an [`InceptionResnetV1`]. The defaults are
/// facenet-pytorch's: 512-d embeddings, dropout 0.6, no `logits` layer.
#[derive(Config, Debug, PartialEq)]
pub struct InceptionResnetV1Config {
    /// Classes of the `logits` layer; `None`: an embedding network only.
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// Dropout before `last_linear` (training only).
    #[config(default = 0.6)]
    pub dropout: f64,
    /// Length of the embedding.
    #[config(default = 512)]
    pub embedding: usize,
}

/// The smallest input side the network takes: each of its stride-2 stages
/// needs at least three pixels.
pub const MIN_INPUT: usize = 75;

impl InceptionResnetV1Config {
    /// The network with burn's default initialisation.
    pub fn init(&self, device: &Device) -> InceptionResnetV1 {
        let repeat = |n: usize, block: ResidualInceptionConfig| {
            (0..n).map(|_| block.init(device)).collect::<Vec<_>>()
        };
        InceptionResnetV1 {
            conv2d_1a: basic(3, 32, [3, 3], 2).init(device),
            conv2d_2a: basic(32, 32, [3, 3], 1).init(device),
            conv2d_2b: same(32, 64, [3, 3]).init(device),
            maxpool_3a: MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init(),
            conv2d_3b: basic(64, 80, [1, 1], 1).init(device),
            conv2d_4a: basic(80, 192, [3, 3], 1).init(device),
            conv2d_4b: basic(192, 256, [3, 3], 2).init(device),
            repeat_1: repeat(5, ResidualInceptionConfig::block35(0.17)),
            mixed_6a: ReductionConfig::mixed_6a().init(device),
            repeat_2: repeat(10, ResidualInceptionConfig::block17(0.10)),
            mixed_7a: ReductionConfig::mixed_7a().init(device),
            repeat_3: repeat(5, ResidualInceptionConfig::block8(0.20)),
            block8: ResidualInceptionConfig::block8(1.0)
                .with_relu(false)
                .init(device),
            avgpool_1a: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            last_linear: LinearConfig::new(1792, self.embedding)
                .with_bias(false)
                .init(device),
            last_bn: BatchNormConfig::new(self.embedding)
                .with_epsilon(BN_EPSILON)
                .init(device),
            logits: self
                .num_classes
                .map(|n| LinearConfig::new(self.embedding, n).init(device)),
        }
    }
}

/// facenet-pytorch's InceptionResnetV1, for 160x160 RGB faces scaled to
/// about `[-1, 1]` (`(x - 127.5) / 128`, facenet-pytorch's
/// `fixed_image_standardization`).
#[derive(Module, Debug)]
#[allow(missing_docs)] // the layers are named and documented by facenet-pytorch
pub struct InceptionResnetV1 {
    pub conv2d_1a: BasicConv2d,
    pub conv2d_2a: BasicConv2d,
    pub conv2d_2b: BasicConv2d,
    pub maxpool_3a: MaxPool2d,
    pub conv2d_3b: BasicConv2d,
    pub conv2d_4a: BasicConv2d,
    pub conv2d_4b: BasicConv2d,
    pub repeat_1: Vec<ResidualInception>,
    pub mixed_6a: Reduction,
    pub repeat_2: Vec<ResidualInception>,
    pub mixed_7a: Reduction,
    pub repeat_3: Vec<ResidualInception>,
    pub block8: ResidualInception,
    pub avgpool_1a: AdaptiveAvgPool2d,
    pub dropout: Dropout,
    pub last_linear: Linear,
    pub last_bn: BatchNorm,
    pub logits: Option<Linear>,
}

/// facenet-pytorch's `Mixed_6a` / `Mixed_7a` hold their single-layer branch
/// as one `BasicConv2d`; here every branch is a list.
const KEY_MAP: &[(&str, &str)] = &[(r"^mixed_6a\.branch0\.(conv|bn)\.", "mixed_6a.branch0.0.$1.")];

impl InceptionResnetV1 {
    /// The embedding (`last_bn`'s output, not L2-normalised; facenet-pytorch
    /// normalises it when it has no `logits` layer) and the logits.
    ///
    /// # Shapes
    ///
    /// - input: `[n, 3, h, w]`, `h, w >= `[`MIN_INPUT`] (160 in facenet-pytorch)
    /// - output: embedding `[n, embedding]`, logits `[n, num_classes]`
    pub fn forward(&self, x: Tensor<4>) -> ClassifierOutput {
        let embedding = self.embed(x);
        let logits = self.logits.as_ref().map(|l| l.forward(embedding.clone()));
        ClassifierOutput { embedding, logits }
    }

    /// The embedding alone; see [`InceptionResnetV1::forward`].
    pub fn embed(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self
            .conv2d_2b
            .forward(self.conv2d_2a.forward(self.conv2d_1a.forward(x)));
        let x = self.maxpool_3a.forward(x);
        let x = self
            .conv2d_4b
            .forward(self.conv2d_4a.forward(self.conv2d_3b.forward(x)));
        let x = self.repeat_1.iter().fold(x, |x, b| b.forward(x));
        let x = self.mixed_6a.forward(x);
        let x = self.repeat_2.iter().fold(x, |x, b| b.forward(x));
        let x = self.mixed_7a.forward(x);
        let x = self.repeat_3.iter().fold(x, |x, b| b.forward(x));
        let x = self.block8.forward(x);
        let x = self.dropout.forward(self.avgpool_1a.forward(x));
        let [n, c, _, _] = x.dims();
        self.last_bn
            .forward(self.last_linear.forward(x.reshape([n, c])))
    }

    /// The network without `logits`: the embedding alone, for a new head.
    pub fn without_classifier(self) -> Self {
        Self {
            logits: None,
            ..self
        }
    }

    /// Every layer frozen but `logits` (the paper's first stage: the new
    /// classifier alone).
    pub fn freeze_backbone(self) -> Self {
        let mut net = self.freeze();
        net.logits = net.logits.unfreeze();
        net
    }

    /// Loads a state dict of facenet-pytorch's `InceptionResnetV1` (for
    /// example `20180402-114759-vggface2.pt`, which needs
    /// `num_classes: Some(`[`VGGFACE2_CLASSES`]`)`). Every tensor must be
    /// present with its shape, and the file may hold no other weights.
    pub fn load_pytorch(&mut self, path: &Path) -> Result<(), NetsError> {
        let expected = match self.logits.as_ref().map(|l| l.weight.dims()[1]) {
            Some(n) => format!("facenet-pytorch's InceptionResnetV1 with {n} logits"),
            None => "facenet-pytorch's InceptionResnetV1 without logits".into(),
        };
        load_state_dict(self, path, KEY_MAP, &expected)
    }
}
