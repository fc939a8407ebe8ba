//! ResNet with bottleneck blocks as torchvision defines it (He et al.,
//! 2016, "ResNet v1.5": the stride on the 3x3 convolution), ResNet50 by
//! default. Layer names follow torchvision's, so its state dicts
//! (`resnet50-0676ba61.pth`, `resnet50-11ad3fa6.pth`) load with
//! [`ResNet::load_pytorch`]. Any input of at least 32x32 pixels works: the
//! pooling before `fc` is global.
//!
//! ```
//! use burn::prelude::*;
//! use maskface_nets::resnet::ResNetConfig;
//!
//! let device = Device::flex();
//! let net = ResNetConfig::resnet50(50).init(&device);
//! let out = net.forward(Tensor::zeros([1, 3, 64, 64], &device));
//! assert_eq!(out.embedding.dims(), [1, 2048]);
//! assert_eq!(out.logits.map(|l| l.dims()), Some([1, 50]));
//! ```

use std::path::Path;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use maskface_kernels::ForwardFast;

use crate::classifier_output::ClassifierOutput;
use crate::torch_weights::load_state_dict;
use crate::NetsError;

/// Output channels of a bottleneck block per channel of its 3x3
/// convolution.
const EXPANSION: usize = 4;

fn conv(channels: [usize; 2], kernel: usize, stride: usize, device: &Device) -> Conv2d {
    let p = kernel / 2;
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .init(device)
}

/// Configuration of a [`Bottleneck`] block.
#[derive(Config, Debug, PartialEq)]
pub struct BottleneckConfig {
    /// Input channels.
    pub input: usize,
    /// Channels of the 3x3 convolution (the output has 4 times as many).
    pub planes: usize,
    /// Stride of the 3x3 convolution (and of the shortcut's projection).
    #[config(default = 1)]
    pub stride: usize,
}

impl BottleneckConfig {
    /// The block with burn's default initialisation.
    pub fn init(&self, device: &Device) -> Bottleneck {
        let out = self.planes * EXPANSION;
        let projects = self.stride != 1 || self.input != out;
        Bottleneck {
            conv1: conv([self.input, self.planes], 1, 1, device),
            bn1: BatchNormConfig::new(self.planes).init(device),
            conv2: conv([self.planes, self.planes], 3, self.stride, device),
            bn2: BatchNormConfig::new(self.planes).init(device),
            conv3: conv([self.planes, out], 1, 1, device),
            bn3: BatchNormConfig::new(out).init(device),
            downsample: projects.then(|| Downsample {
                conv: conv([self.input, out], 1, self.stride, device),
                bn: BatchNormConfig::new(out).init(device),
            }),
        }
    }
}

/// The shortcut's projection: a strided 1x1 convolution and a batch norm
/// (torchvision's `downsample.0` and `downsample.1`).
#[derive(Module, Debug)]
pub struct Downsample {
    /// The 1x1 convolution.
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm,
}

/// torchvision's `Bottleneck`: 1x1, 3x3 (strided), 1x1 convolutions with
/// batch norms, plus the input (projected when the shape changes), ReLU.
#[derive(Module, Debug)]
#[allow(missing_docs)] // the layers are named and documented by torchvision
pub struct Bottleneck {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub conv3: Conv2d,
    pub bn3: BatchNorm,
    pub downsample: Option<Downsample>,
}

impl Bottleneck {
    /// Applies the block.
    ///
    /// # Shapes
    ///
    /// - input: `[n, input, h, w]`
    /// - output: `[n, 4 planes, (h - 1) / stride + 1, (w - 1) / stride + 1]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = relu(self.bn1.forward(self.conv1.forward_fast(x.clone())));
        let y = relu(self.bn2.forward(self.conv2.forward_fast(y)));
        let y = self.bn3.forward(self.conv3.forward_fast(y));
        let shortcut = match &self.downsample {
            Some(d) => d.bn.forward(d.conv.forward_fast(x)),
            None => x,
        };
        relu(y + shortcut)
    }
}

/// Configuration of a [`ResNet`].
#[derive(Config, Debug, PartialEq)]
pub struct ResNetConfig {
    /// Bottleneck blocks per stage (ResNet50: 3, 4, 6, 3; ResNet101: 3, 4,
    /// 23, 3; ResNet152: 3, 8, 36, 3).
    #[config(default = "[3, 4, 6, 3]")]
    pub layers: [usize; 4],
    /// Classes of `fc` (torchvision: 1000 for ImageNet); `None`: no `fc`,
    /// a feature network (for a trainer's own head).
    #[config(default = "Some(1000)")]
    pub num_classes: Option<usize>,
}

impl ResNetConfig {
    /// torchvision's `resnet50` with `num_classes` outputs.
    pub fn resnet50(num_classes: usize) -> Self {
        Self::new().with_num_classes(Some(num_classes))
    }

    /// The network with burn's default initialisation.
    pub fn init(&self, device: &Device) -> ResNet {
        let mut input = 64;
        let mut stage = |i: usize| {
            let planes = 64 << i;
            (0..self.layers[i])
                .map(|b| {
                    let stride = if b == 0 && i > 0 { 2 } else { 1 };
                    let block = BottleneckConfig::new(input, planes)
                        .with_stride(stride)
                        .init(device);
                    input = planes * EXPANSION;
                    block
                })
                .collect::<Vec<_>>()
        };
        let (layer1, layer2, layer3, layer4) = (stage(0), stage(1), stage(2), stage(3));
        ResNet {
            conv1: conv([3, 64], 7, 2, device),
            bn1: BatchNormConfig::new(64).init(device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: self
                .num_classes
                .map(|n| LinearConfig::new(512 * EXPANSION, n).init(device)),
        }
    }
}

/// torchvision's `ResNet` with bottleneck blocks, for RGB images
/// normalised with ImageNet's mean and standard deviation.
#[derive(Module, Debug)]
#[allow(missing_docs)] // the layers are named and documented by torchvision
pub struct ResNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub maxpool: MaxPool2d,
    pub layer1: Vec<Bottleneck>,
    pub layer2: Vec<Bottleneck>,
    pub layer3: Vec<Bottleneck>,
    pub layer4: Vec<Bottleneck>,
    pub avgpool: AdaptiveAvgPool2d,
    pub fc: Option<Linear>,
}

/// torchvision keeps a shortcut's projection in an `nn.Sequential`.
const KEY_MAP: &[(&str, &str)] = &[
    (r"\.downsample\.0\.", ".downsample.conv."),
    (r"\.downsample\.1\.", ".downsample.bn."),
];

impl ResNet {
    /// The pooled features (2048 for ResNet50) and the logits.
    ///
    /// # Shapes
    ///
    /// - input: `[n, 3, h, w]`, `h, w >= 32` (224 in torchvision)
    /// - output: embedding `[n, 2048]`, logits `[n, num_classes]` (when
    ///   the network has `fc`)
    pub fn forward(&self, x: Tensor<4>) -> ClassifierOutput {
        let embedding = self.embed(x);
        let logits = self.fc.as_ref().map(|fc| fc.forward(embedding.clone()));
        ClassifierOutput { embedding, logits }
    }

    /// The pooled features alone; see [`ResNet::forward`].
    pub fn embed(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self
            .maxpool
            .forward(relu(self.bn1.forward(self.conv1.forward_fast(x))));
        let x = [&self.layer1, &self.layer2, &self.layer3, &self.layer4]
            .into_iter()
            .flatten()
            .fold(x, |x, block| block.forward(x));
        let x = self.avgpool.forward(x);
        let [n, c, _, _] = x.dims();
        x.reshape([n, c])
    }

    /// The network without `fc`: the features alone, for a new head.
    pub fn without_classifier(self) -> Self {
        Self { fc: None, ..self }
    }

    /// Every layer frozen but `fc` (the paper's first stage: the new
    /// classifier alone).
    pub fn freeze_backbone(self) -> Self {
        let mut net = self.freeze();
        net.fc = net.fc.unfreeze();
        net
    }

    /// Loads a state dict of torchvision's ResNet of the same depth and
    /// classes (for example `resnet50-0676ba61.pth` with 1000 classes).
    /// Every tensor must be present with its shape, and the file may hold
    /// no other weights.
    pub fn load_pytorch(&mut self, path: &Path) -> Result<(), NetsError> {
        let layers = [&self.layer1, &self.layer2, &self.layer3, &self.layer4].map(Vec::len);
        let classes = self.fc.as_ref().map_or(0, |fc| fc.weight.dims()[1]);
        let expected = format!("torchvision's ResNet {layers:?} with {classes} classes");
        load_state_dict(self, path, KEY_MAP, &expected)
    }
}
