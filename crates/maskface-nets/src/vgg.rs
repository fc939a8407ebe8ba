//! VGG as torchvision defines it (Simonyan and Zisserman, 2014), VGG16 by
//! default, with the surgery of Ning and Cai (2023) as an option
//! ([`VggConfig::with_paper_surgery`]): the classifier's dropout layers
//! replaced by batch norms and its second dense layer cut to 1024 units,
//! without which the paper's fine-tune did not converge. Layer names
//! follow torchvision's (`features.N`, `classifier.N`), so its state dicts
//! (`vgg16-397923af.pth`) load with [`Vgg::load_pytorch`].
//!
//! ```
//! use burn::prelude::*;
//! use maskface_nets::vgg::VggConfig;
//!
//! let device = Device::flex();
//! let net = VggConfig::vgg16(50).with_paper_surgery().init(&device);
//! let out = net.forward(Tensor::zeros([1, 3, 32, 32], &device));
//! assert_eq!(out.embedding.dims(), [1, 1024]);
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

/// The side of the feature map the classifier reads (torchvision pools any
/// input to it).
const POOLED: usize = 7;

/// Units of the paper's second dense layer.
pub const PAPER_HIDDEN: usize = 1024;

/// Configuration of a [`Vgg`].
#[derive(Config, Debug, PartialEq)]
pub struct VggConfig {
    /// The convolution stages, `[channels, convolutions]` each, every stage
    /// ending in a 2x2 max pool (VGG16: 64x2, 128x2, 256x3, 512x3, 512x3).
    pub stages: Vec<[usize; 2]>,
    /// Units of the two hidden dense layers (torchvision: 4096, 4096).
    pub hidden: [usize; 2],
    /// Classes of the last layer (torchvision: 1000); `None`: no `fc3`, a
    /// feature network (for a trainer's own head).
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// After each hidden layer's ReLU: a batch norm (`true`, the paper's
    /// surgery) instead of dropout.
    #[config(default = false)]
    pub batch_norm_classifier: bool,
    /// Dropout after each hidden layer when there is no batch norm.
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl VggConfig {
    /// torchvision's `vgg16` (configuration "D", no batch norm in the
    /// features) with `num_classes` outputs.
    pub fn vgg16(num_classes: usize) -> Self {
        Self::new(
            vec![[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]],
            [4096, 4096],
        )
        .with_num_classes(Some(num_classes))
    }

    /// The paper's surgery: batch norms instead of dropout in the
    /// classifier, and the second hidden layer cut to [`PAPER_HIDDEN`] units.
    pub fn with_paper_surgery(self) -> Self {
        Self {
            hidden: [self.hidden[0], PAPER_HIDDEN],
            batch_norm_classifier: true,
            ..self
        }
    }

    /// The network with burn's default initialisation.
    pub fn init(&self, device: &Device) -> Vgg {
        let mut input = 3;
        let mut features = Vec::new();
        let mut pool_after = Vec::new();
        for &[channels, convs] in &self.stages {
            for _ in 0..convs {
                features.push(
                    Conv2dConfig::new([input, channels], [3, 3])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(device),
                );
                input = channels;
            }
            pool_after.push(features.len() - 1);
        }
        let [h1, h2] = self.hidden;
        let norm = |units| {
            self.batch_norm_classifier
                .then(|| BatchNormConfig::new(units).init(device))
        };
        Vgg {
            features,
            pool_after,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            avgpool: AdaptiveAvgPool2dConfig::new([POOLED, POOLED]).init(),
            fc1: LinearConfig::new(input * POOLED * POOLED, h1).init(device),
            norm1: norm(h1),
            fc2: LinearConfig::new(h1, h2).init(device),
            norm2: norm(h2),
            dropout: DropoutConfig::new(self.dropout).init(),
            fc3: self
                .num_classes
                .map(|n| LinearConfig::new(h2, n).init(device)),
        }
    }
}

/// torchvision's `VGG` without batch norm in the features, for RGB images
/// normalised with ImageNet's mean and standard deviation. The classifier's
/// layers are `classifier.0` (`fc1`), `.3` (`fc2`) and `.6` (`fc3`), with
/// the surgery's batch norms at `.2` (`norm1`) and `.5` (`norm2`).
#[derive(Module, Debug)]
pub struct Vgg {
    /// The 3x3 convolutions, each followed by a ReLU.
    pub features: Vec<Conv2d>,
    /// The convolutions after which the 2x2 max pool runs.
    pub pool_after: Vec<usize>,
    /// The 2x2 max pool.
    pub pool: MaxPool2d,
    /// The pooling to 7x7 before the classifier.
    pub avgpool: AdaptiveAvgPool2d,
    /// The first hidden layer.
    pub fc1: Linear,
    /// Its batch norm (the paper's surgery).
    pub norm1: Option<BatchNorm>,
    /// The second hidden layer.
    pub fc2: Linear,
    /// Its batch norm (the paper's surgery).
    pub norm2: Option<BatchNorm>,
    /// The dropout after each hidden layer, when there is no batch norm.
    pub dropout: Dropout,
    /// The classification layer.
    pub fc3: Option<Linear>,
}

/// torchvision's classifier is one `nn.Sequential` of dense, ReLU and
/// dropout layers; its convolutions sit in `features` among ReLUs and pools
/// (whose indices burn-store closes up).
const KEY_MAP: &[(&str, &str)] = &[
    (r"^classifier\.0\.", "fc1."),
    (r"^classifier\.2\.", "norm1."),
    (r"^classifier\.3\.", "fc2."),
    (r"^classifier\.5\.", "norm2."),
    (r"^classifier\.6\.", "fc3."),
];

impl Vgg {
    /// The second hidden layer's activations (after its ReLU and batch
    /// norm or dropout) and the logits.
    ///
    /// # Shapes
    ///
    /// - input: `[n, 3, h, w]`, `h, w >= 32` (224 in torchvision)
    /// - output: embedding `[n, hidden[1]]`, logits `[n, num_classes]`
    ///   (when the network has `fc3`)
    pub fn forward(&self, x: Tensor<4>) -> ClassifierOutput {
        let embedding = self.embed(x);
        let logits = self.fc3.as_ref().map(|fc| fc.forward(embedding.clone()));
        ClassifierOutput { embedding, logits }
    }

    /// The second hidden layer's activations alone; see [`Vgg::forward`].
    pub fn embed(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = x;
        for (i, conv) in self.features.iter().enumerate() {
            x = relu(conv.forward_fast(x));
            if self.pool_after.contains(&i) {
                x = self.pool.forward(x);
            }
        }
        let x = self.avgpool.forward(x);
        let [n, c, h, w] = x.dims();
        let x = self.hidden(&self.fc1, &self.norm1, x.reshape([n, c * h * w]));
        self.hidden(&self.fc2, &self.norm2, x)
    }

    fn hidden(&self, fc: &Linear, norm: &Option<BatchNorm>, x: Tensor<2>) -> Tensor<2> {
        let x = relu(fc.forward(x));
        match norm {
            Some(norm) => norm.forward(x),
            None => self.dropout.forward(x),
        }
    }

    /// The network without `fc3`: the features alone, for a new head.
    pub fn without_classifier(self) -> Self {
        Self { fc3: None, ..self }
    }

    /// Every layer frozen but `fc3` (the paper's first stage: the new
    /// classifier alone).
    pub fn freeze_backbone(self) -> Self {
        let mut net = self.freeze();
        net.fc3 = net.fc3.unfreeze();
        net
    }

    /// Loads a state dict of torchvision's VGG of the same configuration
    /// (for example `vgg16-397923af.pth` with 1000 classes and no surgery).
    /// Every tensor must be present with its shape, and the file may hold
    /// no other weights.
    pub fn load_pytorch(&mut self, path: &Path) -> Result<(), NetsError> {
        let expected = format!(
            "torchvision's VGG with {} convolutions, hidden layers {:?}{} and {} classes",
            self.features.len(),
            self.fc2.weight.dims(),
            if self.norm1.is_some() {
                " with batch norms"
            } else {
                ""
            },
            self.fc3.as_ref().map_or(0, |fc| fc.weight.dims()[1]),
        );
        load_state_dict(self, path, KEY_MAP, &expected)
    }
}
