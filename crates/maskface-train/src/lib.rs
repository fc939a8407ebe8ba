//! # maskface-train
//!
//! Training for maskface's networks on burn, on any backend (autodiff on
//! top of the device given):
//!
//! - data: [`ManifestSet`] (one split of a manifest, optionally mirrored)
//!   with [`ImageBatcher`], and [`TensorSet`] (samples held in memory, such
//!   as a frozen prefix's cached output) with [`TensorBatcher`]: burn
//!   `Dataset`s and `Batcher`s whose batches are `Result`s, so a bad image
//!   is an error naming its file;
//! - [`MarginHead`]: a softmax layer or an ArcFace layer
//!   ([`MarginLoss`]), optionally started at the classes' centres;
//! - [`Trainer`]: Adam with one rate for the [`Backbone`] and one for the
//!   head, validation after each epoch, `best.bpk`, a resumable
//!   `last.ckpt`, `metrics.csv` and `loss.png`; each batch optionally split
//!   across several devices ([`Trainer::with_devices`]);
//! - [`cosine_distillation`] and [`TrainConfig::distill_weight`]:
//!   mask-invariant distillation, each sample's embedding pulled onto a
//!   teacher's (rows set with [`TensorSet::set_teachers`]), for any
//!   [`Backbone`];
//! - [`FineTuneParams`]: fine-tuning of dlib's face ResNet (its last blocks)
//!   on aligned, masked face chips, with dlib's own network on the unmasked
//!   twin of each chip as the teacher when distilling
//!   ([`FineTuneData::teachers`], [`ManifestSet::twins`]).
//!
//! Any network trains through [`Trainer`] once it implements [`Backbone`]:
//!
//! ```
//! use burn::prelude::*;
//! use maskface_train::{Backbone, BackboneWithHead, MarginHeadConfig, MarginLoss, TensorBatcher,
//!     TensorSet, TrainConfig, Trainer};
//!
//! /// Flattens its input: a linear classifier once the head is on top.
//! #[derive(Module, Debug)]
//! struct Flatten;
//!
//! impl Backbone for Flatten {
//!     fn embed(&self, x: Tensor<4>) -> Tensor<2> {
//!         let [n, c, h, w] = x.dims();
//!         x.reshape([n, c * h * w])
//!     }
//! }
//!
//! # fn main() -> Result<(), maskface_train::TrainError> {
//! // Two separable classes in two dimensions.
//! let mut set = TensorSet::new([2, 1, 1]);
//! set.extend(&[1.0, 0.1, 0.9, -0.1, -1.0, 0.2, -0.8, 0.0], &[0, 0, 1, 1])?;
//! let device = Device::flex();
//! let model = BackboneWithHead {
//!     backbone: Flatten,
//!     head: MarginHeadConfig::new(2, 2).with_loss(MarginLoss::Softmax).init(&device),
//! };
//! let out = tempfile::tempdir().unwrap();
//! let config = TrainConfig::new().with_epochs(30).with_batch_size(4).with_head_lr(0.1);
//! let (_, report) = Trainer::new(config, out.path())
//!     .fit(model, &set, &set, &TensorBatcher { shape: [2, 1, 1] }, &device)?;
//! assert_eq!(report.history.last().unwrap().valid_accuracy, 1.0);
//! assert!(out.path().join("best.bpk").is_file() && out.path().join("loss.png").is_file());
//! # Ok(()) }
//! ```

mod data;
mod distillation;
mod error;
mod face_resnet;
mod head;
mod paper_nets;
mod param_ids;
mod run_report;
mod trainer;

pub use data::{
    load_items, ImageBatcher, ImageItem, ManifestSet, TensorBatcher, TensorItem, TensorSet,
    TrainBatch,
};
pub use distillation::cosine_distillation;
pub use error::TrainError;
pub use face_resnet::{
    cache_features, class_centres, embed_features, mean_row, FineTuneData, FineTuneParams,
    FineTuned,
};
pub use head::{LossKind, ARCFACE_MARGIN, ARCFACE_SCALE};
pub use head::{MarginHead, MarginHeadConfig, MarginLoss};
pub use paper_nets::{
    fit_paper_net, pretrain_paper_net, save_backbone, PaperBackbone, PaperClassifier, PaperData,
    PaperInit, PaperModelFile, PaperNet, PaperRun, PretrainData, Projected, PAPER_MODEL_KIND,
};
pub use param_ids::sequential_param_ids;
pub use run_report::TrainRunReport;
pub use trainer::{
    check_checkpoint, Backbone, BackboneWithHead, EpochMetrics, FitReport, LrSchedule,
    OptimizerKind, Progress, Selection, TrainConfig, Trainer,
};

/// Re-exported because burn is pinned to an exact version and [`Backbone`],
/// [`Trainer`] and the datasets are written against it: use this path instead
/// of matching the version by hand.
pub use burn;
/// Re-exported because [`load_items`] gives [`image::RgbImage`]s: use this
/// path to get the same version.
pub use image;
