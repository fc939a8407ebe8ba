//! The paper's three networks as [`Backbone`]s, its fine-tuning recipe
//! (Ning and Cai, 2023, section 3.2) and the saved classifier it yields.
//!
//! The recipe is [`PaperNet::paper_config`]: cross-entropy, Adam at 1e-3,
//! batch 8, the new classifier alone for 2 epochs and then all layers
//! (InceptionResnetV1: all layers from the start), the best epoch by
//! validation loss, and both the best and the last epoch's weights kept.
//! The [`Trainer`] runs it like any other; only the input (size and
//! standardisation) and the way each network starts differ by network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::store::ModuleRecord;
use image::RgbImage;
use maskface_core::{Classifier, Manifest, Split};
use maskface_nets::inception_resnet_v1::{InceptionResnetV1, InceptionResnetV1Config};
use maskface_nets::resnet::{ResNet, ResNetConfig};
use maskface_nets::vgg::{Vgg, VggConfig};
use maskface_nets::{images_to_input, InputNorm};
use serde::{Deserialize, Serialize};

use crate::{
    Backbone, BackboneWithHead, FitReport, ImageBatcher, ManifestSet, MarginHeadConfig, MarginLoss,
    Selection, TrainConfig, TrainError, Trainer,
};

impl Backbone for InceptionResnetV1 {
    fn embed(&self, inputs: Tensor<4>) -> Tensor<2> {
        InceptionResnetV1::embed(self, inputs)
    }
}

impl Backbone for ResNet {
    fn embed(&self, inputs: Tensor<4>) -> Tensor<2> {
        ResNet::embed(self, inputs)
    }
}

impl Backbone for Vgg {
    fn embed(&self, inputs: Tensor<4>) -> Tensor<2> {
        Vgg::embed(self, inputs)
    }
}

/// The paper's networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum PaperNet {
    /// facenet-pytorch's InceptionResnetV1 (160x160, 512-d embedding).
    InceptionResnetV1,
    /// torchvision's ResNet50 (224x224, 2048 pooled features).
    Resnet50,
    /// torchvision's VGG16 with the paper's surgery (224x224, 1024 units
    /// before the classifier).
    Vgg16,
}

impl PaperNet {
    /// The three, in the paper's order.
    pub const ALL: [PaperNet; 3] = [
        PaperNet::InceptionResnetV1,
        PaperNet::Resnet50,
        PaperNet::Vgg16,
    ];

    /// The name used on command lines and in model files.
    pub fn name(self) -> &'static str {
        match self {
            PaperNet::InceptionResnetV1 => "inception-resnet-v1",
            PaperNet::Resnet50 => "resnet50",
            PaperNet::Vgg16 => "vgg16",
        }
    }

    /// The input side the paper resized faces to (its table 3).
    pub fn input_size(self) -> usize {
        match self {
            PaperNet::InceptionResnetV1 => 160,
            PaperNet::Resnet50 | PaperNet::Vgg16 => 224,
        }
    }

    /// The standardisation the network's pretrained weights expect.
    pub fn input_norm(self) -> InputNorm {
        match self {
            PaperNet::InceptionResnetV1 => InputNorm::FACENET,
            PaperNet::Resnet50 | PaperNet::Vgg16 => InputNorm::IMAGENET,
        }
    }

    /// Length of the features the classifier reads.
    pub fn embedding_dim(self) -> usize {
        match self {
            PaperNet::InceptionResnetV1 => 512,
            PaperNet::Resnet50 => 2048,
            PaperNet::Vgg16 => maskface_nets::vgg::PAPER_HIDDEN,
        }
    }

    /// The paper's hyper-parameters (its tables 1 to 4 and section 3.2):
    /// Adam at 1e-3 for every layer, batch 8, the classifier alone for the
    /// first 2 epochs except for InceptionResnetV1, the best epoch by
    /// validation loss; at most 35 epochs for InceptionResnetV1 (with
    /// augmentation) and 50 for the others.
    pub fn paper_config(self) -> TrainConfig {
        let (epochs, head_only) = match self {
            PaperNet::InceptionResnetV1 => (35, 0),
            PaperNet::Resnet50 | PaperNet::Vgg16 => (50, 2),
        };
        TrainConfig::new()
            .with_epochs(epochs)
            .with_batch_size(8)
            .with_backbone_lr(1e-3)
            .with_head_lr(1e-3)
            .with_head_only_epochs(head_only)
            .with_select_by(Selection::Loss)
    }

    /// A batcher reading images and turning them into this network's input.
    pub fn batcher(
        self,
    ) -> ImageBatcher<impl Fn(&[RgbImage], &Device) -> Result<Tensor<4>, TrainError> + Send + Sync>
    {
        let (size, norm) = (self.input_size(), self.input_norm());
        ImageBatcher::new(move |images: &[RgbImage], device: &Device| {
            Ok(images_to_input(images, size, norm, device)?)
        })
    }
}

impl std::fmt::Display for PaperNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a network's weights start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperInit {
    /// burn's default initialisation.
    Random,
    /// A PyTorch state dict of the reference implementation
    /// (facenet-pytorch's `20180402-114759-vggface2.pt`, torchvision's
    /// `resnet50-*.pth` or `vgg16-*.pth`), whose own classifier is dropped
    /// (and, for VGG16, whose second hidden layer the surgery replaces).
    PyTorch(PathBuf),
    /// A backbone saved by maskface (a `.bpk` record of the network without
    /// its classifier, as [`save_backbone`] writes).
    Backbone(PathBuf),
}

impl PaperInit {
    /// A file by its extension: `.bpk` is a maskface backbone, anything
    /// else a PyTorch state dict.
    pub fn from_file(path: &Path) -> Self {
        if path.extension().is_some_and(|e| e == "bpk") {
            PaperInit::Backbone(path.to_path_buf())
        } else {
            PaperInit::PyTorch(path.to_path_buf())
        }
    }
}

/// Runs `$body` on the network inside a [`PaperBackbone`] whatever it is,
/// with `$net` bound to it, `$backbone` to its [`PaperBackbone`] variant and
/// `$model` to its [`PaperModel`] variant (as constructors): one generic
/// body instead of three arms that differ by type alone.
macro_rules! each_net {
    ($value:expr, |$net:pat_param, $backbone:ident, $model:ident| $body:expr) => {
        match $value {
            PaperBackbone::InceptionResnetV1($net) => {
                let ($backbone, $model) = (
                    PaperBackbone::InceptionResnetV1,
                    PaperModel::InceptionResnetV1,
                );
                $body
            }
            PaperBackbone::Resnet50($net) => {
                let ($backbone, $model) = (PaperBackbone::Resnet50, PaperModel::Resnet50);
                $body
            }
            PaperBackbone::Vgg16($net) => {
                let ($backbone, $model) = (PaperBackbone::Vgg16, PaperModel::Vgg16);
                $body
            }
        }
    };
}

/// One of the paper's networks without its classifier, ready for a head.
#[derive(Debug, Clone)]
// One per run, moved a handful of times: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum PaperBackbone {
    /// InceptionResnetV1 without `logits`.
    InceptionResnetV1(InceptionResnetV1),
    /// ResNet50 without `fc`.
    Resnet50(ResNet),
    /// VGG16 with the paper's surgery, without `fc3`.
    Vgg16(Vgg),
}

impl PaperBackbone {
    /// `net` started as `init` says, on `device`.
    pub fn new(net: PaperNet, init: &PaperInit, device: &Device) -> Result<Self, TrainError> {
        let mut backbone = match net {
            PaperNet::InceptionResnetV1 => {
                PaperBackbone::InceptionResnetV1(InceptionResnetV1Config::new().init(device))
            }
            PaperNet::Resnet50 => {
                PaperBackbone::Resnet50(ResNetConfig::new().with_num_classes(None).init(device))
            }
            PaperNet::Vgg16 => PaperBackbone::Vgg16(paper_vgg(None, device)),
        };
        match init {
            PaperInit::Random => {}
            PaperInit::Backbone(path) => backbone = backbone.load_record(path)?,
            PaperInit::PyTorch(path) => backbone = PaperBackbone::from_pytorch(net, path, device)?,
        }
        Ok(backbone)
    }

    /// The network.
    pub fn net(&self) -> PaperNet {
        match self {
            PaperBackbone::InceptionResnetV1(_) => PaperNet::InceptionResnetV1,
            PaperBackbone::Resnet50(_) => PaperNet::Resnet50,
            PaperBackbone::Vgg16(_) => PaperNet::Vgg16,
        }
    }

    fn from_pytorch(net: PaperNet, path: &Path, device: &Device) -> Result<Self, TrainError> {
        Ok(match net {
            PaperNet::InceptionResnetV1 => {
                let classes = maskface_nets::pytorch_dim(path, "logits.weight", 0)?;
                let mut m = InceptionResnetV1Config::new()
                    .with_num_classes(classes)
                    .init(device);
                m.load_pytorch(path)?;
                PaperBackbone::InceptionResnetV1(m.without_classifier())
            }
            PaperNet::Resnet50 => {
                let classes = maskface_nets::pytorch_dim(path, "fc.weight", 0)?;
                let mut m = ResNetConfig::new().with_num_classes(classes).init(device);
                m.load_pytorch(path)?;
                PaperBackbone::Resnet50(m.without_classifier())
            }
            PaperNet::Vgg16 => {
                // torchvision's file holds the plain network: load it, then
                // make the paper's classifier around its first hidden layer.
                let classes = maskface_nets::pytorch_dim(path, "classifier.6.weight", 0)?;
                let mut plain = VggConfig::vgg16(classes.unwrap_or(1000)).init(device);
                plain.load_pytorch(path)?;
                let mut m = paper_vgg(None, device);
                m.features = plain.features;
                m.fc1 = plain.fc1;
                PaperBackbone::Vgg16(m)
            }
        })
    }

    fn load_record(self, path: &Path) -> Result<Self, TrainError> {
        let record = ModuleRecord::load(path).map_err(|e| TrainError::Checkpoint {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let what = format!("a {} backbone", self.net());
        let fit = |e| mismatch(path, &what, e);
        Ok(each_net!(&self, |m, wrap, _model| wrap(
            m.clone().try_load_record(record).map_err(fit)?
        )))
    }
}

/// A record that does not fit the network it is loaded into.
fn mismatch(path: &Path, what: &str, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("not {what}: {e}"),
    }
}

fn paper_vgg(classes: Option<usize>, device: &Device) -> Vgg {
    VggConfig::vgg16(0)
        .with_num_classes(classes)
        .with_paper_surgery()
        .init(device)
}

/// Writes a backbone's weights as a `.bpk` record that
/// [`PaperInit::Backbone`] starts from.
pub fn save_backbone(backbone: &PaperBackbone, path: &Path) -> Result<(), TrainError> {
    let bytes = each_net!(backbone, |m, _wrap, _model| m
        .clone()
        .into_record()
        .into_bytes())
    .map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    maskface_core::write_atomic(path, |w| w.write_all(&bytes))?;
    Ok(())
}

/// The data of a paper run: a manifest's train and validation splits.
pub struct PaperData {
    /// The training images.
    pub train: ManifestSet,
    /// The validation images.
    pub valid: ManifestSet,
    /// The class names, by label.
    pub classes: Vec<String>,
}

impl PaperData {
    /// The train and validation splits of `manifest` (the paper's masked
    /// upper faces, with the augmented copies in the train split).
    pub fn new(manifest: &Manifest, classes: Vec<String>) -> Result<Self, TrainError> {
        let data = PaperData {
            train: ManifestSet::new(manifest, Split::Train, false),
            valid: ManifestSet::new(manifest, Split::Val, false),
            classes,
        };
        if data.classes.is_empty() {
            return Err(TrainError::Data {
                what: "paper run".into(),
                reason: "no classes".into(),
            });
        }
        Ok(data)
    }
}

/// The model file a paper run writes beside its weights, read back by
/// [`PaperClassifier::load`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperModelFile {
    /// [`PAPER_MODEL_KIND`].
    pub kind: String,
    /// The network.
    pub net: PaperNet,
    /// Class names by label.
    pub classes: Vec<String>,
    /// The weights (a record of the network with its head), relative to
    /// the model file's folder.
    pub weights: PathBuf,
    /// The epoch the weights are from.
    pub epoch: usize,
    /// How the network started.
    pub init: PaperInit,
}

/// The `kind` of a [`PaperModelFile`].
pub const PAPER_MODEL_KIND: &str = "paper-cnn";

impl PaperModelFile {
    /// Writes the file (atomically).
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| TrainError::Data {
            what: path.display().to_string(),
            reason: e.to_string(),
        })?;
        maskface_core::write_atomic(path, |w| w.write_all(text.as_bytes()))?;
        Ok(())
    }

    /// Reads a file [`PaperModelFile::save`] wrote.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path).map_err(|e| maskface_core::CoreError::io(path, e))?;
        let file: PaperModelFile =
            serde_json::from_slice(&bytes).map_err(|e| TrainError::Data {
                what: path.display().to_string(),
                reason: format!("not a paper network's model file: {e}"),
            })?;
        if file.kind != PAPER_MODEL_KIND {
            return Err(TrainError::Data {
                what: path.display().to_string(),
                reason: format!("kind `{}`, expected `{PAPER_MODEL_KIND}`", file.kind),
            });
        }
        Ok(file)
    }
}

/// What [`fit_paper_net`] made.
pub struct PaperRun {
    /// The training history and the files.
    pub report: FitReport,
    /// `model.json` (the best epoch) and `model-last.json` (the last).
    pub models: [PathBuf; 2],
}

/// Fine-tunes `backbone` with a new softmax classifier on `data` with
/// `config` (see [`PaperNet::paper_config`]), writing the trainer's files
/// to `out` and a model file for the best and for the last epoch.
///
/// The first of `devices` holds the network and validates; each training
/// batch is split across all of them ([`Trainer::with_devices`], whose
/// notes on batch norm apply to all three networks). None is an error.
pub fn fit_paper_net(
    backbone: PaperBackbone,
    init: &PaperInit,
    data: &PaperData,
    config: TrainConfig,
    out: &Path,
    progress: impl Fn(&crate::Progress) + Send + Sync + 'static,
    devices: &[Device],
) -> Result<PaperRun, TrainError> {
    let device = crate::trainer::main_device(devices)?;
    let net = backbone.net();
    let trainer = Trainer::new(config, out)
        .with_progress(progress)
        .with_devices(devices.to_vec());
    let batcher = net.batcher();
    let head = MarginHeadConfig::new(net.embedding_dim(), data.classes.len())
        .with_loss(MarginLoss::Softmax)
        .init(device);
    let sets = (&data.train, &data.valid);
    let report = each_net!(backbone, |backbone, _wrap, _model| {
        fit_model(
            &trainer,
            BackboneWithHead { backbone, head },
            sets,
            &batcher,
            device,
        )?
        .1
    });
    let last_epoch = report.history.last().map_or(0, |m| m.epoch);
    let mut models = [out.join("model.json"), out.join("model-last.json")];
    for (path, (weights, epoch)) in models.iter_mut().zip([
        (&report.best, report.best_epoch),
        (&report.last, last_epoch),
    ]) {
        PaperModelFile {
            kind: PAPER_MODEL_KIND.into(),
            net,
            classes: data.classes.clone(),
            weights: weights
                .file_name()
                .map_or_else(|| weights.clone(), PathBuf::from),
            epoch,
            init: init.clone(),
        }
        .save(path)?;
    }
    Ok(PaperRun { report, models })
}

/// [`Trainer::fit`] on a pair of image sets.
fn fit_model<B: Backbone>(
    trainer: &Trainer,
    model: BackboneWithHead<B>,
    (train, valid): (&ManifestSet, &ManifestSet),
    batcher: &ImageBatcher<
        impl Fn(&[RgbImage], &Device) -> Result<Tensor<4>, TrainError> + Send + Sync,
    >,
    device: &Device,
) -> Result<(BackboneWithHead<B>, FitReport), TrainError> {
    trainer.fit(model, train, valid, batcher, device)
}

/// A backbone with a dense layer into a teacher's embedding space: what
/// face pretraining by distillation trains, the layer dropped afterwards.
#[derive(Module, Debug)]
pub struct Projected<B> {
    /// The network pretrained.
    pub backbone: B,
    /// Its features mapped to the teacher's embedding length.
    pub projection: Linear,
}

impl<B: Backbone> Backbone for Projected<B> {
    fn embed(&self, inputs: Tensor<4>) -> Tensor<2> {
        self.projection.forward(self.backbone.embed(inputs))
    }
}

/// The data of face pretraining: images of people outside the experiment,
/// as the student sees them, each with its teacher's embedding.
pub struct PretrainData {
    /// The training images (labels `0..classes`).
    pub train: ManifestSet,
    /// The validation images.
    pub valid: ManifestSet,
    /// The teacher's embedding of each image file (of the same photo as
    /// the teacher sees it), all of one length.
    pub teachers: HashMap<PathBuf, Vec<f32>>,
    /// The number of people.
    pub classes: usize,
}

/// Face pretraining by distillation: `backbone`, with a dense layer onto
/// the teacher's embedding, is pulled onto each image's teacher embedding
/// ([`TrainConfig::distill_weight`], which must be above 0) beside a
/// softmax over the people; the best epoch's backbone is returned, the
/// layer and the classifier dropped. Any [`PaperNet`] and any teacher.
pub fn pretrain_paper_net(
    backbone: PaperBackbone,
    data: &PretrainData,
    config: TrainConfig,
    out: &Path,
    progress: impl Fn(&crate::Progress) + Send + Sync + 'static,
    device: &Device,
) -> Result<(PaperBackbone, FitReport), TrainError> {
    if config.distill_weight <= 0.0 {
        return Err(TrainError::InvalidParameter {
            name: "distill_weight",
            reason: "pretraining distils: give the teacher a weight above 0".into(),
        });
    }
    let dim = data.teachers.values().next().map_or(0, Vec::len);
    if dim == 0 {
        return Err(TrainError::Data {
            what: "pretraining".into(),
            reason: "no teacher embeddings".into(),
        });
    }
    let net = backbone.net();
    let trainer = Trainer::new(config, out).with_progress(progress);
    let batcher = net.batcher().with_teachers(data.teachers.clone());
    let projection = LinearConfig::new(net.embedding_dim(), dim).init(device);
    let head = MarginHeadConfig::new(dim, data.classes)
        .with_loss(MarginLoss::Softmax)
        .init(device);
    let sets = (&data.train, &data.valid);
    Ok(each_net!(backbone, |b, wrap, _model| {
        let model = with_projection(b, &projection, head);
        let (best, report) = fit_model(&trainer, model, sets, &batcher, device)?;
        (wrap(best.backbone.backbone), report)
    }))
}

fn with_projection<B: Backbone>(
    backbone: B,
    projection: &Linear,
    head: crate::MarginHead,
) -> BackboneWithHead<Projected<B>> {
    BackboneWithHead {
        backbone: Projected {
            backbone,
            projection: projection.clone(),
        },
        head,
    }
}

/// A fine-tuned paper network with its classifier: a
/// [`maskface_core::Classifier`] of face images.
pub struct PaperClassifier {
    model: PaperModel,
    file: PaperModelFile,
    device: Device,
}

// One per loaded model: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
enum PaperModel {
    InceptionResnetV1(BackboneWithHead<InceptionResnetV1>),
    Resnet50(BackboneWithHead<ResNet>),
    Vgg16(BackboneWithHead<Vgg>),
}

/// Faces scored at a time.
const BATCH: usize = 32;

impl PaperClassifier {
    /// Loads a model file written by [`fit_paper_net`] and its weights.
    pub fn load(path: &Path, device: &Device) -> Result<Self, TrainError> {
        let file = PaperModelFile::read(path)?;
        let weights = path.parent().unwrap_or(Path::new(".")).join(&file.weights);
        let record = ModuleRecord::load(&weights).map_err(|e| TrainError::Checkpoint {
            path: weights.clone(),
            reason: e.to_string(),
        })?;
        let what = format!("{} with {} classes", file.net, file.classes.len());
        let fit = |e| mismatch(&weights, &what, e);
        let head = MarginHeadConfig::new(file.net.embedding_dim(), file.classes.len())
            .with_loss(MarginLoss::Softmax)
            .init(device);
        let backbone = PaperBackbone::new(file.net, &PaperInit::Random, device)?;
        let model = each_net!(backbone, |backbone, _wrap, wrap| wrap(
            BackboneWithHead { backbone, head }
                .try_load_record(record)
                .map_err(fit)?
        ));
        Ok(PaperClassifier {
            model,
            file,
            device: device.clone(),
        })
    }

    /// The model file's content.
    pub fn file(&self) -> &PaperModelFile {
        &self.file
    }

    /// Class names by label.
    pub fn classes(&self) -> &[String] {
        &self.file.classes
    }

    /// A short description for tables.
    pub fn describe(&self) -> String {
        format!(
            "{} fine-tuned (epoch {}, {} classes)",
            self.file.net,
            self.file.epoch,
            self.file.classes.len()
        )
    }

    fn batch_logits(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, TrainError> {
        let net = self.file.net;
        let x = images_to_input(faces, net.input_size(), net.input_norm(), &self.device)?;
        let logits = match &self.model {
            PaperModel::InceptionResnetV1(m) => m.forward(x),
            PaperModel::Resnet50(m) => m.forward(x),
            PaperModel::Vgg16(m) => m.forward(x),
        };
        let [n, classes] = logits.dims();
        let values: Vec<f32> = logits
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Readback(format!("{e:?}")))?;
        Ok((0..n)
            .map(|i| values[i * classes..(i + 1) * classes].to_vec())
            .collect())
    }
}

impl Classifier for PaperClassifier {
    type Error = TrainError;

    fn num_classes(&self) -> usize {
        self.file.classes.len()
    }

    fn logits(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, TrainError> {
        let mut out = Vec::with_capacity(faces.len());
        for chunk in faces.chunks(BATCH) {
            out.extend(self.batch_logits(chunk)?);
        }
        Ok(out)
    }
}
