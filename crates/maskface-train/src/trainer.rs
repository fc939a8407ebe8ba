use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::module::ModuleDisplay;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdamConfig, AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer,
    OptimizerRecord, SgdConfig,
};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use maskface_core::write_atomic;
use maskface_plot::LineChart;
use rand::seq::SliceRandom;
use rand::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::data::TrainBatch;
use crate::distillation::cosine_distillation;
use crate::head::MarginHead;
use crate::TrainError;

/// A network that turns a batch of inputs into embeddings (or features)
/// for a [`MarginHead`]: what the trainer fits. dlib's ResNet implements
/// it for fine-tuning; the paper's CNNs implement it with their pooled
/// features.
pub trait Backbone: Module + ModuleDisplay {
    /// The embeddings of a batch, `[n, dim]`.
    fn embed(&self, inputs: Tensor<4>) -> Tensor<2>;
}

/// A backbone with a [`MarginHead`] on its embeddings: the classification
/// network the trainer fits and checkpoints. (Not to be confused with the
/// [`maskface_core::Classifier`] trait, which classifies face images.)
#[derive(Module, Debug)]
pub struct BackboneWithHead<B> {
    /// The embedding network.
    pub backbone: B,
    /// The classifier on the embeddings.
    pub head: MarginHead,
}

impl<B: Backbone> BackboneWithHead<B> {
    /// Class scores for prediction.
    pub fn forward(&self, inputs: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.backbone.embed(inputs))
    }
}

/// The training loop's settings.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set.
    #[config(default = 6)]
    pub epochs: usize,
    /// Samples per step.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam's learning rate for the backbone: small, so a pretrained
    /// network adapts without forgetting.
    #[config(default = 3e-5)]
    pub backbone_lr: f64,
    /// Adam's learning rate for the head.
    #[config(default = 1e-3)]
    pub head_lr: f64,
    /// Seed of the shuffling (each epoch's order depends on it and the
    /// epoch only, so a resumed run sees the same batches).
    #[config(default = 42)]
    pub seed: u64,
    /// Weight of the distillation term ([`cosine_distillation`] of each
    /// sample's embedding against its teacher row) added to the
    /// classification loss; 0: none. Above 0 every training batch must
    /// carry teacher embeddings ([`TrainBatch::teachers`]).
    #[config(default = 0.0)]
    pub distill_weight: f64,
    /// The optimiser (both the backbone's and the head's).
    #[config(default = "OptimizerKind::Adam")]
    pub optimizer: OptimizerKind,
    /// Weight decay: an L2 term for Adam and SGD, decoupled for AdamW; 0:
    /// none.
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// How the learning rates change over the epochs.
    #[config(default = "LrSchedule::Constant")]
    pub schedule: LrSchedule,
    /// Label smoothing of the training loss (the validation loss is
    /// measured without it); 0: none.
    #[config(default = 0.0)]
    pub label_smoothing: f64,
    /// The first epochs train the head alone, the backbone frozen (the
    /// paper's first stage); 0: all layers from the start; all of them: a
    /// linear probe of the backbone's features.
    #[config(default = 0)]
    pub head_only_epochs: usize,
    /// What makes an epoch the best one, kept as `best.bpk`.
    #[config(default = "Selection::Accuracy")]
    pub select_by: Selection,
}

/// The optimisers [`TrainConfig::optimizer`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam (betas 0.9 and 0.999).
    Adam,
    /// Adam with decoupled weight decay.
    AdamW,
    /// Stochastic gradient descent with momentum 0.9.
    Sgd,
}

impl OptimizerKind {
    fn init(self, weight_decay: f64) -> ModuleOptimizer {
        let decay = (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32));
        match self {
            OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
            OptimizerKind::AdamW => AdamWConfig::new()
                .with_weight_decay(weight_decay as f32)
                .init(),
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
                .with_weight_decay(decay)
                .init(),
        }
    }
}

/// Learning-rate schedules: the factor on both rates in each epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// The rates as given, every epoch.
    Constant,
    /// Half a cosine from the rates down to 0 over the run's epochs.
    Cosine,
}

impl LrSchedule {
    /// The factor in `epoch` (from 1) of `epochs`.
    pub fn factor(self, epoch: usize, epochs: usize) -> f64 {
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => {
                let t = epoch.saturating_sub(1) as f64 / epochs.max(1) as f64;
                0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// What makes an epoch the best one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The highest validation accuracy, then the lowest validation loss.
    Accuracy,
    /// The lowest validation loss (the paper's choice).
    Loss,
}

impl Selection {
    fn better(self, new: &EpochMetrics, best: &EpochMetrics) -> bool {
        match self {
            Selection::Accuracy => {
                (new.valid_accuracy, -new.valid_loss) > (best.valid_accuracy, -best.valid_loss)
            }
            Selection::Loss => {
                (-new.valid_loss, new.valid_accuracy) > (-best.valid_loss, best.valid_accuracy)
            }
        }
    }
}

impl TrainConfig {
    fn validate(&self) -> Result<(), TrainError> {
        let bad = |name, reason: String| Err(TrainError::InvalidParameter { name, reason });
        if self.epochs == 0 {
            return bad("epochs", "at least one epoch".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size", "at least one sample per batch".into());
        }
        for (name, value) in [
            ("distill_weight", self.distill_weight),
            ("weight_decay", self.weight_decay),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return bad(name, format!("{value}: must be a finite value >= 0"));
            }
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad(
                "label_smoothing",
                format!("{}: must be in [0, 1)", self.label_smoothing),
            );
        }
        for (name, lr) in [("backbone_lr", self.backbone_lr), ("head_lr", self.head_lr)] {
            if !(lr >= 0.0 && lr.is_finite()) {
                return bad(name, format!("{lr}: must be a finite value >= 0"));
            }
        }
        Ok(())
    }

    /// Whether a run with `self` can continue one made with `other`: all
    /// settings equal except the number of epochs.
    fn continues(&self, other: &TrainConfig) -> bool {
        TrainConfig {
            epochs: other.epochs,
            ..self.clone()
        } == *other
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean training loss (with the margin, for ArcFace).
    pub train_loss: f64,
    /// Training accuracy of the logits the loss saw.
    pub train_accuracy: f64,
    /// Mean validation loss (without the margin).
    pub valid_loss: f64,
    /// Validation accuracy.
    pub valid_accuracy: f64,
    /// Wall time of the epoch, validation included.
    pub seconds: f64,
}

/// Where a run stands; saved in the checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainState {
    format: u32,
    config: TrainConfig,
    classes: usize,
    samples: usize,
    history: Vec<EpochMetrics>,
    best_epoch: usize,
}

/// What [`Trainer::fit`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// Every epoch so far, resumed ones included.
    pub history: Vec<EpochMetrics>,
    /// The epoch whose weights were kept (highest validation accuracy,
    /// then lowest validation loss).
    pub best_epoch: usize,
    /// The best weights (`best.bpk`).
    pub best: PathBuf,
    /// The last epoch's weights (`last.bpk`).
    pub last: PathBuf,
    /// Epochs taken from an earlier run's checkpoint.
    pub resumed_epochs: usize,
    /// Devices each training batch was split across in this run
    /// ([`Trainer::with_devices`]); 1 without data parallelism.
    pub devices: usize,
}

/// Progress reported while training.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Images run through a network's frozen part before training.
    Features {
        /// Images done.
        done: usize,
        /// Images in all.
        total: usize,
    },
    /// A training batch is done.
    Batch {
        /// The epoch, from 1.
        epoch: usize,
        /// Samples done in this epoch.
        done: usize,
        /// Samples in an epoch.
        total: usize,
        /// The batch's mean training loss (before the step it led to).
        loss: f64,
    },
    /// An epoch is done.
    Epoch(EpochMetrics),
}

type ProgressFn = Box<dyn Fn(&Progress) + Send + Sync>;

/// The training loop: Adam (one rate for the backbone, one for the head),
/// a validation pass after each epoch, the best and the last weights kept,
/// `metrics.csv` and `loss.png` rewritten each epoch, and resume from the
/// last finished epoch. Each training batch may be split across several
/// devices ([`Trainer::with_devices`]).
///
/// Files in the output folder:
/// - `best.bpk`: the best epoch's [`BackboneWithHead`] (a burnpack record);
/// - `last.ckpt`: the last epoch's model, both optimizers' state and the
///   run's state, in one file written atomically;
/// - `metrics.csv`, `loss.png`: the history.
pub struct Trainer {
    config: TrainConfig,
    out: PathBuf,
    progress: Option<ProgressFn>,
    devices: Option<Vec<Device>>,
}

/// The checkpoint's magic bytes and format version.
const CHECKPOINT_MAGIC: &[u8; 8] = b"MFCKPT01";
const STATE_FORMAT: u32 = 1;

impl Trainer {
    /// A trainer writing to `out`.
    pub fn new(config: TrainConfig, out: impl Into<PathBuf>) -> Self {
        Trainer {
            config,
            out: out.into(),
            progress: None,
            devices: None,
        }
    }

    /// Calls `f` after each batch and each epoch.
    pub fn with_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Splits each training batch across `devices`: data-parallel training.
    ///
    /// A batch of `n` samples is cut into contiguous slices, one per device,
    /// whose sizes differ by at most one (with fewer samples than devices
    /// the last devices get none). Each device runs the forward and backward
    /// pass of its own copy of the model ([`Module::fork`]) on its slice,
    /// with the slice's mean loss weighted by its share `n_d / n`; the
    /// gradients are moved to the device given to [`Trainer::fit`] and
    /// summed there in device order ([`GradientsAccumulator`]), and one
    /// optimiser step follows. The sum is the gradient of the mean loss
    /// over the whole batch, so a run follows the one-device run up to float
    /// rounding. Two kinds of layer break that equality: batch norm
    /// normalises each slice by the slice's own statistics (its running
    /// statistics become the average of the devices' updates), and random
    /// layers (dropout) draw other masks.
    ///
    /// The model, the optimisers' state and the validation stay on `fit`'s
    /// device, which need not be one of `devices`. Each device keeps one
    /// worker thread for the whole run. A device may be named more than once:
    /// burn's CPU backend has a single device, so two of it run the
    /// data-parallel path on the same cores. The device count is not part of
    /// the checkpoint: a run may resume on other devices.
    ///
    /// Default: `fit`'s device alone. An empty list is an error
    /// ([`TrainError::InvalidParameter`] `devices`) when `fit` starts.
    pub fn with_devices(mut self, devices: Vec<Device>) -> Self {
        self.devices = Some(devices);
        self
    }

    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.out
    }

    fn report(&self, p: Progress) {
        if let Some(f) = &self.progress {
            f(&p);
        }
    }

    /// The devices a batch is split across.
    fn devices(&self, device: &Device) -> Result<Vec<Device>, TrainError> {
        match &self.devices {
            None => Ok(vec![device.clone()]),
            Some(devices) => main_device(devices).map(|_| devices.clone()),
        }
    }

    /// Trains `model` on `train`, validating on `valid` after each epoch,
    /// and returns the best epoch's model (on `device`) with the report.
    ///
    /// A checkpoint of an earlier run in the output folder with the same
    /// settings (the number of epochs aside) is resumed; one with other
    /// settings is an error, so a run is never mixed with another.
    ///
    /// `device` holds the model and the optimisers' state and runs the
    /// validation; the training batches run there too unless
    /// [`Trainer::with_devices`] names other devices.
    pub fn fit<B, I, D, T>(
        &self,
        model: BackboneWithHead<B>,
        train: &D,
        valid: &D,
        batcher: &T,
        device: &Device,
    ) -> Result<(BackboneWithHead<B>, FitReport), TrainError>
    where
        B: Backbone,
        I: Send + Sync,
        D: Dataset<I, TrainError>,
        T: Batcher<I, Result<TrainBatch, TrainError>>,
    {
        self.config.validate()?;
        let devices = self.devices(device)?;
        if train.is_empty() || valid.is_empty() {
            return Err(TrainError::Data {
                what: "training".into(),
                reason: format!(
                    "{} training and {} validation samples; both must be non-empty",
                    train.len(),
                    valid.len()
                ),
            });
        }
        std::fs::create_dir_all(&self.out).map_err(|e| TrainError::Data {
            what: self.out.display().to_string(),
            reason: format!("cannot create the output folder: {e}"),
        })?;
        // What a killed run was writing (a checkpoint, a weight file) goes.
        maskface_core::remove_stale_temp_files(&self.out)?;
        let classes = model.head.classes();
        let autodiff = device.clone().autodiff();
        // Ids in the module's order, not burn's random ones: a run's files
        // (and a resumed run's) are then the same bytes every time.
        let mut model = crate::sequential_param_ids(model.to_device(device).train());
        let config = &self.config;
        let mut opt_backbone = config.optimizer.init(config.weight_decay);
        let mut opt_head = config.optimizer.init(config.weight_decay);
        let mut state = TrainState {
            format: STATE_FORMAT,
            config: self.config.clone(),
            classes,
            samples: train.len(),
            history: Vec::new(),
            best_epoch: 0,
        };
        let ckpt = self.out.join("last.ckpt");
        let best_path = self.out.join("best.bpk");
        let last_path = self.out.join("last.bpk");
        if ckpt.is_file() {
            let (saved, m, ob, oh) = read_checkpoint(&ckpt)?;
            if !self.config.continues(&saved.config)
                || saved.classes != classes
                || saved.samples != train.len()
            {
                return Err(TrainError::Checkpoint {
                    path: ckpt,
                    reason: format!(
                        "made with other settings or data ({:?}, {} classes, {} samples); \
                         use another output folder or delete it",
                        saved.config, saved.classes, saved.samples
                    ),
                });
            }
            model = model
                .try_load_record(m)
                .map_err(|e| TrainError::Checkpoint {
                    path: ckpt.clone(),
                    reason: format!("the model does not fit: {e}"),
                })?;
            opt_backbone = opt_backbone.load_record(ob);
            opt_head = opt_head.load_record(oh);
            state.history = saved.history;
            state.best_epoch = saved.best_epoch;
        }
        let resumed_epochs = state.history.len();
        let data = StepData {
            train,
            batcher,
            config,
            item: std::marker::PhantomData,
        };
        let model = std::thread::scope(|scope| -> Result<BackboneWithHead<B>, TrainError> {
            let mut model = model;
            // One device that already holds the model needs no worker thread.
            let workers = (devices.len() > 1 || devices[0] != *device)
                .then(|| Workers::start(scope, &devices, &data));
            for epoch in resumed_epochs + 1..=self.config.epochs {
                let start = Instant::now();
                let mut order: Vec<usize> = (0..train.len()).collect();
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                    self.config.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                );
                order.shuffle(&mut rng);
                // Random layers (dropout) draw from the backend's generator:
                // seeded per epoch, so a resumed run draws what an
                // uninterrupted one would have.
                let seed = rng.next_u64();
                autodiff.seed(seed);
                if workers.is_some() {
                    // Distinct seeds: the same masks on every slice would
                    // correlate the devices' gradients.
                    for (i, d) in devices.iter().enumerate() {
                        d.clone().autodiff().seed(seed.wrapping_add(i as u64));
                    }
                }
                let (mut loss_sum, mut correct, mut done) = (0.0f64, 0usize, 0usize);
                let rate = config.schedule.factor(epoch, config.epochs);
                let head_only = epoch <= config.head_only_epochs;
                for chunk in order.chunks(self.config.batch_size) {
                    let n = chunk.len();
                    let step = match &workers {
                        None => data.step(&model, chunk, None, &autodiff, head_only)?,
                        Some(workers) => workers.step(&model, chunk, head_only, device)?,
                    };
                    if !step.loss.is_finite() {
                        return Err(TrainError::Diverged {
                            epoch,
                            loss: step.loss,
                        });
                    }
                    loss_sum += step.loss * n as f64;
                    correct += step.correct;
                    if let Some(g_backbone) = step.backbone {
                        model.backbone = opt_backbone.step(
                            config.backbone_lr * rate,
                            model.backbone,
                            g_backbone,
                        );
                    }
                    model.head = opt_head.step(config.head_lr * rate, model.head, step.head);
                    done += n;
                    self.report(Progress::Batch {
                        epoch,
                        done,
                        total: train.len(),
                        loss: step.loss,
                    });
                }
                // One plain copy of the weights per epoch: validated, then saved.
                let snapshot = model.valid();
                let (valid_loss, valid_accuracy) =
                    self.validate(&snapshot, valid, batcher, device)?;
                let metrics = EpochMetrics {
                    epoch,
                    train_loss: loss_sum / train.len() as f64,
                    train_accuracy: correct as f64 / train.len() as f64,
                    valid_loss,
                    valid_accuracy,
                    seconds: start.elapsed().as_secs_f64(),
                };
                let improved = state
                    .history
                    .iter()
                    .find(|m| m.epoch == state.best_epoch)
                    .is_none_or(|best| config.select_by.better(&metrics, best));
                state.history.push(metrics.clone());
                let weights = snapshot
                    .into_record()
                    .into_bytes()
                    .map_err(|e| record_error(&ckpt, e))?;
                // Both written before the checkpoint that records them: a crash
                // in between redoes this epoch, which rewrites them.
                write_atomic(&last_path, |w| w.write_all(&weights))?;
                if improved {
                    state.best_epoch = epoch;
                    write_atomic(&best_path, |w| w.write_all(&weights))?;
                }
                write_checkpoint(
                    &ckpt,
                    &state,
                    &weights,
                    opt_backbone.to_record(),
                    opt_head.to_record(),
                )?;
                write_history(&self.out, &state.history)?;
                self.report(Progress::Epoch(metrics));
            }
            Ok(model)
        })?;
        let record = ModuleRecord::load(&best_path).map_err(|e| TrainError::Checkpoint {
            path: best_path.clone(),
            reason: e.to_string(),
        })?;
        let best = model
            .valid()
            .try_load_record(record)
            .map_err(|e| TrainError::Checkpoint {
                path: best_path.clone(),
                reason: format!("the model does not fit: {e}"),
            })?
            .to_device(device);
        Ok((
            best,
            FitReport {
                history: state.history,
                best_epoch: state.best_epoch,
                best: best_path,
                last: last_path,
                resumed_epochs,
                devices: devices.len(),
            },
        ))
    }

    fn validate<B, I, D, T>(
        &self,
        model: &BackboneWithHead<B>,
        valid: &D,
        batcher: &T,
        device: &Device,
    ) -> Result<(f64, f64), TrainError>
    where
        B: Backbone,
        I: Send + Sync,
        D: Dataset<I, TrainError>,
        T: Batcher<I, Result<TrainBatch, TrainError>>,
    {
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        let indices: Vec<usize> = (0..valid.len()).collect();
        for chunk in indices.chunks(self.config.batch_size.max(64)) {
            let batch = batcher.batch(valid.get_many(chunk.to_vec())?, device)?;
            let logits = model.forward(batch.inputs);
            correct += count_correct(logits.clone(), batch.labels.clone())?;
            let loss: f64 = MarginHead::cross_entropy(logits, batch.labels).into_scalar::<f64>();
            loss_sum += loss * chunk.len() as f64;
        }
        Ok((
            loss_sum / valid.len() as f64,
            correct as f64 / valid.len() as f64,
        ))
    }
}

/// The device that holds the model when a run is split across `devices`:
/// the first; none is an error naming the parameter.
pub(crate) fn main_device(devices: &[Device]) -> Result<&Device, TrainError> {
    devices.first().ok_or_else(|| TrainError::InvalidParameter {
        name: "devices",
        reason: "at least one device".into(),
    })
}

/// What a training step reads, shared by the devices' worker threads.
struct StepData<'a, I, D, T> {
    train: &'a D,
    batcher: &'a T,
    config: &'a TrainConfig,
    item: std::marker::PhantomData<fn() -> I>,
}

/// The gradients and figures of a batch, or of one device's slice of it.
struct StepOutput {
    /// `None` while the backbone is frozen (head-only epochs).
    backbone: Option<GradientsParams>,
    head: GradientsParams,
    /// The mean training loss over the samples.
    loss: f64,
    correct: usize,
}

impl<I, D, T> StepData<'_, I, D, T>
where
    I: Send + Sync,
    D: Dataset<I, TrainError>,
    T: Batcher<I, Result<TrainBatch, TrainError>>,
{
    /// The forward and backward pass of `model` on the samples `indices`,
    /// on `device`. `weight` scales the loss before the backward pass (a
    /// slice's share of its batch); the reported loss is the slice's own
    /// mean.
    fn step<B: Backbone>(
        &self,
        model: &BackboneWithHead<B>,
        indices: &[usize],
        weight: Option<f64>,
        device: &Device,
        head_only: bool,
    ) -> Result<StepOutput, TrainError> {
        let config = self.config;
        let batch = self
            .batcher
            .batch(self.train.get_many(indices.to_vec())?, device)?;
        let mut embeddings = model.backbone.embed(batch.inputs);
        if head_only {
            // No gradient reaches the backbone, so no backward pass runs through it.
            embeddings = embeddings.detach();
        }
        let logits = model
            .head
            .forward_train(embeddings.clone(), batch.labels.clone());
        let correct = count_correct(logits.clone(), batch.labels.clone())?;
        let mut loss =
            MarginHead::smoothed_cross_entropy(logits, batch.labels, config.label_smoothing);
        let w = config.distill_weight;
        if w > 0.0 {
            let Some(teachers) = batch.teachers else {
                return Err(TrainError::Data {
                    what: "training".into(),
                    reason: format!(
                        "distill_weight is {w} but the training samples have no teacher embeddings"
                    ),
                });
            };
            loss = loss + cosine_distillation(embeddings, teachers).mul_scalar(w);
        }
        let value: f64 = loss.clone().into_scalar::<f64>();
        if let Some(weight) = weight {
            loss = loss.mul_scalar(weight);
        }
        let mut grads = loss.backward();
        let backbone =
            (!head_only).then(|| GradientsParams::from_module(&mut grads, &model.backbone));
        let head = GradientsParams::from_module(&mut grads, &model.head);
        Ok(StepOutput {
            backbone,
            head,
            loss: value,
            correct,
        })
    }
}

/// A slice of a batch for one device.
struct Job<M> {
    model: M,
    indices: Vec<usize>,
    weight: f64,
    head_only: bool,
}

/// One worker thread per device, each alive for the whole run: burn's
/// `RunningState` (batch norm's running statistics) averages the updates
/// made on different threads, which is right only when each device keeps
/// its thread from step to step.
struct Workers<M> {
    jobs: Vec<mpsc::Sender<Job<M>>>,
    results: mpsc::Receiver<(usize, Result<StepOutput, TrainError>)>,
}

impl<B: Backbone> Workers<BackboneWithHead<B>> {
    fn start<'scope, I, D, T>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        devices: &[Device],
        data: &'scope StepData<'scope, I, D, T>,
    ) -> Self
    where
        I: Send + Sync,
        D: Dataset<I, TrainError>,
        T: Batcher<I, Result<TrainBatch, TrainError>>,
        B: 'scope,
    {
        let (results_tx, results) = mpsc::channel();
        let jobs = devices
            .iter()
            .enumerate()
            .map(|(index, device)| {
                let (jobs_tx, jobs_rx) = mpsc::channel::<Job<BackboneWithHead<B>>>();
                let results_tx = results_tx.clone();
                let device = device.clone().autodiff();
                scope.spawn(move || {
                    for job in jobs_rx {
                        // A backend panic (out of memory, a lost device)
                        // becomes an error, so the other devices' answers
                        // are still collected and the run stops cleanly.
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            let model = job.model.fork(&device);
                            data.step(
                                &model,
                                &job.indices,
                                Some(job.weight),
                                &device,
                                job.head_only,
                            )
                        }))
                        .unwrap_or_else(|panic| {
                            Err(TrainError::Device {
                                index,
                                device: format!("{device:?}"),
                                reason: panic_message(panic.as_ref()),
                            })
                        });
                        if results_tx.send((index, out)).is_err() {
                            break;
                        }
                    }
                });
                jobs_tx
            })
            .collect();
        Workers { jobs, results }
    }

    /// One batch split across the devices; the gradients summed on `main`.
    fn step(
        &self,
        model: &BackboneWithHead<B>,
        chunk: &[usize],
        head_only: bool,
        main: &Device,
    ) -> Result<StepOutput, TrainError> {
        let n = chunk.len();
        let slices = split_evenly(chunk, self.jobs.len());
        let gone = |index: usize| TrainError::Device {
            index,
            device: "?".into(),
            reason: "the worker thread is gone".into(),
        };
        for (index, (jobs, slice)) in self.jobs.iter().zip(&slices).enumerate() {
            jobs.send(Job {
                model: model.clone(),
                indices: slice.to_vec(),
                weight: slice.len() as f64 / n as f64,
                head_only,
            })
            .map_err(|_| gone(index))?;
        }
        // Every answer is taken before returning, even after an error, so
        // none is left to be read as the next batch's.
        let mut outputs: Vec<Option<StepOutput>> = (0..slices.len()).map(|_| None).collect();
        let mut failure = None;
        for _ in 0..slices.len() {
            let (index, out) = self.results.recv().map_err(|_| gone(0))?;
            match out {
                Ok(out) => outputs[index] = Some(out),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        // Summed in device order, not in the order the threads finished:
        // the rounding is then the same from run to run.
        let mut backbone = GradientsAccumulator::<B>::new();
        let mut head = GradientsAccumulator::<MarginHead>::new();
        let (mut loss, mut correct) = (0.0f64, 0usize);
        for (out, slice) in outputs.into_iter().zip(&slices) {
            let out = out.ok_or_else(|| gone(0))?;
            loss += out.loss * slice.len() as f64;
            correct += out.correct;
            if let Some(g) = out.backbone {
                backbone.accumulate(&model.backbone, g.to_device(main, &model.backbone));
            }
            head.accumulate(&model.head, out.head.to_device(main, &model.head));
        }
        Ok(StepOutput {
            backbone: (!head_only).then(|| backbone.grads()),
            head: head.grads(),
            loss: loss / n as f64,
            correct,
        })
    }
}

/// `chunk` cut into at most `parts` contiguous, non-empty slices whose
/// lengths differ by at most one, the longer ones first.
fn split_evenly(chunk: &[usize], parts: usize) -> Vec<&[usize]> {
    let parts = parts.max(1);
    let (base, extra) = (chunk.len() / parts, chunk.len() % parts);
    let mut rest = chunk;
    let mut slices = Vec::with_capacity(parts);
    for d in 0..parts {
        let len = base + usize::from(d < extra);
        if len == 0 {
            break;
        }
        let (slice, tail) = rest.split_at(len);
        slices.push(slice);
        rest = tail;
    }
    slices
}

/// The text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

fn count_correct(logits: Tensor<2>, labels: Tensor<1, Int>) -> Result<usize, TrainError> {
    let [n, _] = logits.dims();
    let hits: Vec<i64> = logits
        .argmax(1)
        .reshape([n])
        .equal(labels)
        .int()
        .try_into_vec_as::<i64>()
        .map_err(|e| TrainError::Readback(format!("{e:?}")))?;
    Ok(hits.iter().filter(|&&h| h != 0).count())
}

fn record_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The checkpoint: magic, then four length-prefixed sections (state JSON,
/// model, backbone optimizer, head optimizer), in one atomic write so the
/// four always belong together.
fn write_checkpoint(
    path: &Path,
    state: &TrainState,
    model: &[u8],
    opt_backbone: OptimizerRecord,
    opt_head: OptimizerRecord,
) -> Result<(), TrainError> {
    let state = serde_json::to_vec(state).map_err(|e| record_error(path, e))?;
    let ob = opt_backbone
        .into_bytes()
        .map_err(|e| record_error(path, e))?;
    let oh = opt_head.into_bytes().map_err(|e| record_error(path, e))?;
    write_atomic(path, |w| {
        w.write_all(CHECKPOINT_MAGIC)?;
        for section in [&state[..], model, &ob[..], &oh[..]] {
            w.write_all(&(section.len() as u64).to_le_bytes())?;
            w.write_all(section)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Checks that `bytes` are a training checkpoint this build can resume from
/// (`last.ckpt`, as [`Trainer::fit`] reads it): the magic, the four
/// length-prefixed sections, the state's format and the three records. It
/// does not check that the weights fit a particular network; `fit` does
/// that when it resumes. `path` only names the file in errors
/// ([`TrainError::Checkpoint`]). Every section length is checked against
/// the bytes left before anything is allocated for it.
pub fn check_checkpoint(bytes: &[u8], path: &Path) -> Result<(), TrainError> {
    parse_checkpoint(bytes, path).map(|_| ())
}

type Checkpoint = (TrainState, ModuleRecord, OptimizerRecord, OptimizerRecord);

fn read_checkpoint(path: &Path) -> Result<Checkpoint, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| record_error(path, e))?;
    parse_checkpoint(&bytes, path)
}

fn parse_checkpoint(bytes: &[u8], path: &Path) -> Result<Checkpoint, TrainError> {
    let rest = bytes
        .strip_prefix(CHECKPOINT_MAGIC)
        .ok_or_else(|| record_error(path, "not a maskface training checkpoint"))?;
    let mut sections = Vec::with_capacity(4);
    let mut rest = rest;
    for _ in 0..4 {
        let (len, tail) = rest
            .split_first_chunk::<8>()
            .ok_or_else(|| record_error(path, "truncated"))?;
        let len = usize::try_from(u64::from_le_bytes(*len))
            .map_err(|_| record_error(path, "corrupt section length"))?;
        if tail.len() < len {
            return Err(record_error(path, "truncated"));
        }
        let (section, tail) = tail.split_at(len);
        sections.push(section.to_vec());
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(record_error(path, "trailing bytes after the last section"));
    }
    let mut sections = sections.into_iter();
    let mut next = || Bytes::from_bytes_vec(sections.next().unwrap_or_default());
    let mut value: serde_json::Value =
        serde_json::from_slice(&next()).map_err(|e| record_error(path, format!("state: {e}")))?;
    // Checkpoints written before distillation existed trained without it.
    if let Some(config) = value.get_mut("config").and_then(|c| c.as_object_mut()) {
        config
            .entry("distill_weight")
            .or_insert(serde_json::json!(0.0));
    }
    let state: TrainState =
        serde_json::from_value(value).map_err(|e| record_error(path, format!("state: {e}")))?;
    if state.format != STATE_FORMAT {
        return Err(record_error(
            path,
            format!("format {} (this build reads {STATE_FORMAT})", state.format),
        ));
    }
    let model = ModuleRecord::from_bytes(next()).map_err(|e| record_error(path, e))?;
    let ob = OptimizerRecord::from_bytes(next()).map_err(|e| record_error(path, e))?;
    let oh = OptimizerRecord::from_bytes(next()).map_err(|e| record_error(path, e))?;
    Ok((state, model, ob, oh))
}

/// `metrics.csv` and `loss.png` from the history.
fn write_history(out: &Path, history: &[EpochMetrics]) -> Result<(), TrainError> {
    let mut csv =
        String::from("epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n");
    for m in history {
        csv.push_str(&format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.2}\n",
            m.epoch, m.train_loss, m.train_accuracy, m.valid_loss, m.valid_accuracy, m.seconds
        ));
    }
    write_atomic(&out.join("metrics.csv"), |w| w.write_all(csv.as_bytes()))?;
    let points = |f: fn(&EpochMetrics) -> f64| -> Vec<(f64, f64)> {
        history.iter().map(|m| (m.epoch as f64, f(m))).collect()
    };
    let chart = LineChart::new("Training")
        .series("train loss", points(|m| m.train_loss))
        .series("validation loss", points(|m| m.valid_loss))
        .x_label("epoch")
        .y_label("cross-entropy");
    let png = chart.render(640, 400)?;
    maskface_core::save_image_atomic(&png, &out.join("loss.png"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_splits_into_even_contiguous_slices() {
        let chunk: Vec<usize> = (0..7).collect();
        assert_eq!(
            split_evenly(&chunk, 2),
            vec![&[0, 1, 2, 3][..], &[4, 5, 6][..]]
        );
        assert_eq!(
            split_evenly(&chunk, 3),
            vec![&[0, 1, 2][..], &[3, 4][..], &[5, 6][..]]
        );
        assert_eq!(split_evenly(&chunk[..2], 4), vec![&[0][..], &[1][..]]);
        assert_eq!(split_evenly(&chunk, 1), vec![&chunk[..]]);
    }

    /// The checkpoint's 8-byte section lengths are checked against the
    /// bytes left before a section is copied: a length claiming 2^60 bytes
    /// is an error naming the file, not an allocation.
    #[test]
    fn a_section_length_past_the_end_is_an_error_before_any_allocation() {
        let path = Path::new("runs/last.ckpt");
        let mut bytes = CHECKPOINT_MAGIC.to_vec();
        bytes.extend((1u64 << 60).to_le_bytes());
        bytes.extend(b"{}");
        let err = check_checkpoint(&bytes, path).unwrap_err();
        assert!(
            matches!(&err, TrainError::Checkpoint { reason, .. } if reason == "truncated"),
            "{err}"
        );
        assert!(err.to_string().contains("runs/last.ckpt"), "{err}");
        // Four empty sections: the state is checked next.
        let mut bytes = CHECKPOINT_MAGIC.to_vec();
        for _ in 0..4 {
            bytes.extend(0u64.to_le_bytes());
        }
        let err = check_checkpoint(&bytes, path).unwrap_err();
        assert!(err.to_string().contains("state"), "{err}");
        assert!(check_checkpoint(b"MFCKPT0", path).is_err());
    }
}
