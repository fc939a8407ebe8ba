use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::Distribution;
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// The classification loss a [`MarginHead`] trains with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MarginLoss {
    /// A linear layer with bias and cross-entropy: the paper's classifiers.
    Softmax,
    /// Additive angular margin (ArcFace): logits are `scale * cos(theta)`
    /// between the L2-normalised embedding and class weights, with the
    /// target class's angle widened by `margin` radians during training.
    ArcFace {
        /// The logit scale `s`.
        scale: f64,
        /// The angular margin `m`, in radians.
        margin: f64,
    },
}

/// ArcFace's default logit scale `s` (see [`MarginLoss::default`]).
pub const ARCFACE_SCALE: f64 = 30.0;
/// ArcFace's default angular margin `m`, in radians.
pub const ARCFACE_MARGIN: f64 = 0.3;

impl Default for MarginLoss {
    /// ArcFace with s = 30 and m = 0.3: the setting fine-tuning was
    /// measured with (docs/training.md).
    fn default() -> Self {
        MarginLoss::ArcFace {
            scale: ARCFACE_SCALE,
            margin: ARCFACE_MARGIN,
        }
    }
}

/// A [`MarginLoss`] by name, its parameters given apart: the choices a
/// command line offers. (`Debug` gives the names reports record.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum LossKind {
    /// Additive angular margin on cosine logits (ArcFace).
    #[cfg_attr(
        feature = "clap",
        value(help = "Additive angular margin on cosine logits (--scale, --margin)")
    )]
    #[default]
    Arcface,
    /// A linear softmax layer and cross-entropy.
    Softmax,
}

impl LossKind {
    /// The loss; `scale` and `margin` are ArcFace's.
    pub fn with_params(self, scale: f64, margin: f64) -> MarginLoss {
        match self {
            LossKind::Arcface => MarginLoss::ArcFace { scale, margin },
            LossKind::Softmax => MarginLoss::Softmax,
        }
    }
}

impl MarginLoss {
    /// Checks the parameters' ranges.
    pub fn validate(&self) -> Result<(), TrainError> {
        if let MarginLoss::ArcFace { scale, margin } = *self {
            if !(scale > 0.0 && scale.is_finite()) {
                return Err(TrainError::InvalidParameter {
                    name: "scale",
                    reason: format!("{scale}: must be positive"),
                });
            }
            if !(0.0..std::f64::consts::FRAC_PI_2).contains(&margin) {
                return Err(TrainError::InvalidParameter {
                    name: "margin",
                    reason: format!("{margin}: must lie in [0, pi/2) radians"),
                });
            }
        }
        Ok(())
    }
}

/// Configuration of a [`MarginHead`].
#[derive(Config, Debug)]
pub struct MarginHeadConfig {
    /// Length of the embedding it reads.
    pub inputs: usize,
    /// Number of classes.
    pub classes: usize,
    /// The loss.
    #[config(default = "MarginLoss::default()")]
    pub loss: MarginLoss,
}

impl MarginHeadConfig {
    /// A head with random weights (Kaiming-uniform, as burn's `Linear`).
    pub fn init(&self, device: &Device) -> MarginHead {
        let bound = (1.0 / self.inputs.max(1) as f64).sqrt();
        let weight = Tensor::<2>::random(
            [self.classes, self.inputs],
            Distribution::Uniform(-bound, bound),
            device,
        );
        self.build(weight, device)
    }

    /// A head whose class weights start at `centres` (one row per class,
    /// e.g. the classes' mean embeddings): a pretrained embedder is then a
    /// nearest-centre classifier before the first step, and training starts
    /// from its accuracy instead of chance.
    pub fn init_with_centres(
        &self,
        centres: &[Vec<f32>],
        device: &Device,
    ) -> Result<MarginHead, TrainError> {
        if centres.len() != self.classes || centres.iter().any(|c| c.len() != self.inputs) {
            return Err(TrainError::InvalidParameter {
                name: "centres",
                reason: format!(
                    "{} rows for {} classes of length {}",
                    centres.len(),
                    self.classes,
                    self.inputs
                ),
            });
        }
        let flat: Vec<f32> = centres.iter().flatten().copied().collect();
        if flat.iter().any(|v| !v.is_finite()) {
            return Err(TrainError::InvalidParameter {
                name: "centres",
                reason: "values must be finite".into(),
            });
        }
        let weight = Tensor::from_data(TensorData::new(flat, [self.classes, self.inputs]), device);
        Ok(self.build(weight, device))
    }

    fn build(&self, weight: Tensor<2>, device: &Device) -> MarginHead {
        let bias = matches!(self.loss, MarginLoss::Softmax)
            .then(|| Param::from_tensor(Tensor::zeros([self.classes], device)));
        MarginHead {
            weight: Param::from_tensor(weight),
            bias,
            loss: self.loss,
        }
    }
}

/// The classifier layer on an embedding, with its loss: a linear softmax
/// layer, or an ArcFace layer of class directions.
#[derive(Module, Debug)]
pub struct MarginHead {
    /// Class weights, `[classes, inputs]`.
    pub weight: Param<Tensor<2>>,
    /// Class biases (softmax only).
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    loss: MarginLoss,
}

impl MarginHead {
    /// The loss it trains with.
    pub fn loss_kind(&self) -> MarginLoss {
        self.loss
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Class scores for prediction: linear logits, or `scale * cos`.
    pub fn forward(&self, embeddings: Tensor<2>) -> Tensor<2> {
        match self.loss {
            MarginLoss::Softmax => {
                let logits = embeddings.matmul(self.weight.val().transpose());
                match &self.bias {
                    Some(b) => logits + b.val().unsqueeze_dim(0),
                    None => logits,
                }
            }
            MarginLoss::ArcFace { scale, .. } => self.cosines(embeddings).mul_scalar(scale),
        }
    }

    /// The logits the loss sees in training: as [`MarginHead::forward`], with
    /// the target class's angle widened by the margin for ArcFace.
    pub fn forward_train(&self, embeddings: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<2> {
        match self.loss {
            MarginLoss::Softmax => self.forward(embeddings),
            MarginLoss::ArcFace { scale, margin } => {
                let cos = self.cosines(embeddings);
                let target = labels.one_hot(self.classes()).float();
                let sin = cos
                    .clone()
                    .powf_scalar(2.0)
                    .neg()
                    .add_scalar(1.0)
                    .clamp_min(1e-7)
                    .sqrt();
                // cos(theta + m), applied to the target column only.
                let widened = cos.clone().mul_scalar(margin.cos()) - sin.mul_scalar(margin.sin());
                (cos.clone() + (widened - cos).mul(target)).mul_scalar(scale)
            }
        }
    }

    /// The mean cross-entropy of `logits` against `labels`.
    pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
        Self::smoothed_cross_entropy(logits, labels, 0.0)
    }

    /// The mean cross-entropy of `logits` against `labels` with label
    /// smoothing: the target puts `1 - smoothing` on the label and spreads
    /// `smoothing` evenly over all classes.
    pub fn smoothed_cross_entropy(
        logits: Tensor<2>,
        labels: Tensor<1, Int>,
        smoothing: f64,
    ) -> Tensor<1> {
        let [n, classes] = logits.dims();
        let mut target = labels.one_hot(classes).float();
        if smoothing > 0.0 {
            target = target
                .mul_scalar(1.0 - smoothing)
                .add_scalar(smoothing / classes as f64);
        }
        log_softmax(logits, 1)
            .mul(target)
            .sum()
            .neg()
            .div_scalar(n.max(1) as f64)
    }

    fn cosines(&self, embeddings: Tensor<2>) -> Tensor<2> {
        unit_rows(embeddings).matmul(unit_rows(self.weight.val()).transpose())
    }
}

/// Each row of `[n, d]` divided by its L2 norm plus `1e-8` (so a zero row
/// stays zero), on the tensor's device and inside the autodiff graph: the
/// training-time counterpart of [`maskface_core::vector::l2_normalized`],
/// which works on plain vectors.
pub(crate) fn unit_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .add_scalar(1e-8);
    x.div(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn arcface_logits_are_scaled_cosines_with_the_margin_on_the_target_only() {
        let device = Device::flex();
        let config = MarginHeadConfig::new(2, 2).with_loss(MarginLoss::ArcFace {
            scale: 10.0,
            margin: 0.5,
        });
        let head = config
            .init_with_centres(&[vec![1.0, 0.0], vec![0.0, 2.0]], &device)
            .unwrap();
        // An embedding at 30 degrees from class 0 and 60 from class 1.
        let a = 30f64.to_radians();
        let e = Tensor::<2>::from_data(
            TensorData::new(vec![3.0 * a.cos() as f32, 3.0 * a.sin() as f32], [1, 2]),
            &device,
        );
        let plain = values(head.forward(e.clone()));
        assert!((plain[0] as f64 - 10.0 * a.cos()).abs() < 1e-4);
        assert!((plain[1] as f64 - 10.0 * (2.0 * a).cos()).abs() < 1e-4);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &device);
        let train = values(head.forward_train(e, labels));
        assert!((train[0] as f64 - 10.0 * (a + 0.5).cos()).abs() < 1e-4);
        assert!((train[1] - plain[1]).abs() < 1e-5);
    }

    #[test]
    fn cross_entropy_matches_its_definition() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 0.5, 0.0], [2, 2]),
            &device,
        );
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
        let got: f32 = MarginHead::cross_entropy(logits, labels).into_scalar();
        let lse = |a: f64, b: f64| (a.exp() + b.exp()).ln();
        let want = ((lse(1.0, 2.0) - 2.0) + (lse(0.5, 0.0) - 0.5)) / 2.0;
        assert!((got as f64 - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn softmax_head_is_linear_with_bias() {
        let device = Device::flex();
        let head = MarginHeadConfig::new(2, 3)
            .with_loss(MarginLoss::Softmax)
            .init_with_centres(&[vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]], &device)
            .unwrap();
        let e = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 3.0], [1, 2]), &device);
        assert_eq!(values(head.forward(e)), vec![2.0, 3.0, 5.0]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let device = Device::flex();
        assert!(MarginHeadConfig::new(2, 2)
            .init_with_centres(&[vec![1.0, 0.0]], &device)
            .is_err());
        assert!(MarginLoss::ArcFace {
            scale: 0.0,
            margin: 0.3
        }
        .validate()
        .is_err());
        assert!(MarginLoss::ArcFace {
            scale: 30.0,
            margin: 2.0
        }
        .validate()
        .is_err());
        assert!(MarginLoss::default().validate().is_ok());
    }
}
