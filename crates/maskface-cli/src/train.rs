use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::{Manifest, Split};
use maskface_dataset::{class_names, DEFAULT_STRANGERS};
use maskface_mask::PaperColor;
use maskface_nets::face_resnet::{DlibNet, DEFAULT_FROZEN_BLOCKS, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_recognize::{DrawnPeople, PeopleDraw, EXTRA_MIN_IMAGES};

use crate::generate::{mask_spec, MaskArg};
use maskface_train::{
    FineTuneData, FineTuneParams, FitReport, LossKind, LrSchedule, ManifestSet, OptimizerKind,
    PaperNet, TrainConfig, TrainRunReport, ARCFACE_MARGIN, ARCFACE_SCALE,
};

/// The file `maskface train` writes the fine-tuned network to.
pub const EMBEDDER_FILE: &str = "embedder.bpk";

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// The network: dlib's face ResNet fine-tuned as an embedder (the
    /// default), or one of the paper's three classifiers trained with the
    /// paper's recipe.
    #[arg(long, value_enum, default_value_t = ModelArg::DlibResnet)]
    pub model: ModelArg,

    /// Manifest to train on: its train split trains, its val split picks
    /// the best epoch. Default for dlib-resnet: the aligned masked chips
    /// (data/masked/masked_chip/manifest.csv, trained with mirrored
    /// copies); for the paper's networks: the augmented masked upper faces
    /// (data/augmented/manifest.csv).
    #[arg(long)]
    pub train: Option<PathBuf>,

    /// The paper's networks: how the weights start. `random`; `distilled`
    /// (the face pretraining of `maskface pretrain`, from
    /// models/<model>-distilled.bpk); or a file: a PyTorch state dict of
    /// the reference implementation (facenet-pytorch's
    /// 20180402-114759-vggface2.pt, torchvision's resnet50-*.pth or
    /// vgg16-*.pth) or a .bpk backbone.
    #[arg(long, default_value = "random")]
    pub init: String,

    /// The paper's networks: the optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    pub optimizer: OptimizerArg,

    /// The paper's networks: weight decay (L2 for Adam and SGD, decoupled
    /// for AdamW).
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,

    /// The paper's networks: the learning-rate schedule.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Constant)]
    pub schedule: ScheduleArg,

    /// The paper's networks: label smoothing of the training loss.
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f64,

    /// The paper's networks: epochs that train the new classifier alone
    /// (default: the paper's, 2; 0 for inception-resnet-v1).
    #[arg(long)]
    pub head_only_epochs: Option<usize>,

    /// Backend the training runs on (GPU backends need their cargo
    /// feature).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,

    /// Devices each training batch is split across (data parallelism):
    /// with cuda, GPUs 0..N-1; with wgpu, discrete GPUs 0..N-1; with flex,
    /// the one CPU device N times, sharing its cores (a check of the
    /// data-parallel path, not a speed-up). The loss curve is the
    /// one-device curve up to float rounding; batch norm (in the paper's
    /// networks) sees each device's share of the batch alone.
    #[arg(long, default_value_t = 1)]
    pub devices: usize,

    /// Images per extra identity: LFW people with two or more images,
    /// outside the targets and the open-set strangers (--strangers,
    /// --seed), masked like the targets, train beside them. 0: none.
    #[arg(long, default_value_t = 20)]
    pub extra_images: usize,

    /// The fewest images an extra identity has; 1 takes everyone (a person
    /// with one image still teaches a distilled network).
    #[arg(long, default_value_t = EXTRA_MIN_IMAGES)]
    pub extra_min_images: usize,

    /// The mask painted on the extra identities (`family`: every kind,
    /// drawn per face); default: the targets' own.
    #[arg(long, value_enum)]
    pub extra_mask: Option<MaskArg>,

    /// Weight of mask-invariant distillation: each masked training face is
    /// pulled onto dlib's embedding of the same photo without the mask,
    /// and the unmasked faces train too (each its own teacher). Needs the
    /// targets' unmasked chips (--unmasked). 0: none.
    #[arg(long, default_value_t = TrainConfig::new().distill_weight)]
    pub distill: f64,

    /// With --distill: the targets' chips without the mask (the
    /// `unmasked-chip` variant of the same `maskface generate` run).
    /// Default: `unmasked_chip/manifest.csv` beside --train's folder.
    #[arg(long)]
    pub unmasked: Option<PathBuf>,

    /// The LFW-style folder the extra identities come from.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// Size of the open-set stranger draw kept out of the extra identities
    /// (as `maskface openset --strangers` draws it).
    #[arg(long, default_value_t = DEFAULT_STRANGERS)]
    pub strangers: usize,

    /// Seed of that draw, and of the shuffling.
    #[arg(long, default_value_t = TrainConfig::new().seed)]
    pub seed: u64,

    /// Passes over the training set (default: 6 for dlib-resnet; the
    /// paper's 35 for inception-resnet-v1 and 50 for the others).
    #[arg(long)]
    pub epochs: Option<usize>,

    /// Samples per step (default: 32 for dlib-resnet, the paper's 8 for
    /// the others).
    #[arg(long)]
    pub batch_size: Option<usize>,

    /// Learning rate for the network's trained blocks (default: 3e-5 for
    /// dlib-resnet, the paper's 1e-3 for the others).
    #[arg(long)]
    pub backbone_lr: Option<f64>,

    /// Learning rate for the head (default 1e-3).
    #[arg(long)]
    pub head_lr: Option<f64>,

    /// The loss.
    #[arg(long, value_enum, default_value_t = LossKind::Arcface)]
    pub loss: LossKind,

    /// ArcFace's logit scale.
    #[arg(long, default_value_t = ARCFACE_SCALE)]
    pub scale: f64,

    /// ArcFace's angular margin, in radians.
    #[arg(long, default_value_t = ARCFACE_MARGIN)]
    pub margin: f64,

    /// Residual blocks of 14 left as dlib trained them.
    #[arg(long, default_value_t = DEFAULT_FROZEN_BLOCKS)]
    pub frozen_blocks: usize,

    /// Folder with dlib's models, MTCNN's weights and the landmark model.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Smallest face MTCNN looks for in the extra identities' images.
    #[arg(long, default_value_t = 40)]
    pub min_face: u32,

    /// Output folder (default: data/train for dlib-resnet, data/train-<model>
    /// for the others): best.bpk, last.bpk, last.ckpt (resumed when
    /// present), metrics.csv, loss.png, report.json; embedder.bpk and
    /// extra/ for dlib-resnet; model.json (the best epoch) and
    /// model-last.json (the last) for the paper's networks.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The networks `maskface train` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelArg {
    /// dlib's face-recognition ResNet, fine-tuned as an embedder.
    DlibResnet,
    /// facenet-pytorch's InceptionResnetV1 (the paper's recipe).
    InceptionResnetV1,
    /// torchvision's ResNet50 (the paper's recipe).
    Resnet50,
    /// torchvision's VGG16 with the paper's surgery (the paper's recipe).
    Vgg16,
}

impl ModelArg {
    /// The paper's network, for the three that are.
    pub fn paper_net(self) -> Option<PaperNet> {
        match self {
            ModelArg::DlibResnet => None,
            ModelArg::InceptionResnetV1 => Some(PaperNet::InceptionResnetV1),
            ModelArg::Resnet50 => Some(PaperNet::Resnet50),
            ModelArg::Vgg16 => Some(PaperNet::Vgg16),
        }
    }
}

/// `--optimizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizerArg {
    /// Adam.
    Adam,
    /// AdamW (decoupled weight decay).
    Adamw,
    /// SGD with momentum 0.9.
    Sgd,
}

/// `--schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleArg {
    /// The same rates every epoch.
    Constant,
    /// Half a cosine down to 0 over the epochs.
    Cosine,
}

impl TrainArgs {
    /// The manifest trained on.
    pub fn train_manifest(&self) -> PathBuf {
        self.train.clone().unwrap_or_else(|| match self.model {
            ModelArg::DlibResnet => "data/masked/masked_chip/manifest.csv".into(),
            _ => "data/augmented/manifest.csv".into(),
        })
    }

    /// The output folder.
    pub fn out_dir(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| match self.model.paper_net() {
                None => "data/train".into(),
                Some(net) => format!("data/train-{net}").into(),
            })
    }

    /// The training settings: `base` (the model's defaults) with what the
    /// command line sets.
    pub fn config(&self, base: TrainConfig) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs.unwrap_or(base.epochs),
            batch_size: self.batch_size.unwrap_or(base.batch_size),
            backbone_lr: self.backbone_lr.unwrap_or(base.backbone_lr),
            head_lr: self.head_lr.unwrap_or(base.head_lr),
            head_only_epochs: self.head_only_epochs.unwrap_or(base.head_only_epochs),
            seed: self.seed,
            distill_weight: self.distill,
            optimizer: match self.optimizer {
                OptimizerArg::Adam => OptimizerKind::Adam,
                OptimizerArg::Adamw => OptimizerKind::AdamW,
                OptimizerArg::Sgd => OptimizerKind::Sgd,
            },
            weight_decay: self.weight_decay,
            schedule: match self.schedule {
                ScheduleArg::Constant => LrSchedule::Constant,
                ScheduleArg::Cosine => LrSchedule::Cosine,
            },
            label_smoothing: self.label_smoothing,
            ..base
        }
    }
}

/// What `maskface train` made.
pub struct Trained {
    /// The fine-tuned network.
    pub embedder: PathBuf,
    /// The extra identities' chips, when any.
    pub extra: Option<PathBuf>,
}

/// Trains the network `--model` names; for dlib's ResNet, what it made.
pub fn run(args: &TrainArgs) -> Result<Option<Trained>> {
    match args.model.paper_net() {
        Some(net) => crate::paper_train::run(args, net).map(|_| None),
        None => run_dlib(args).map(Some),
    }
}

/// Fine-tunes dlib's ResNet.
fn run_dlib(args: &TrainArgs) -> Result<Trained> {
    let start = Instant::now();
    // Before the extra identities and the features: a bad --devices fails fast.
    let devices = args.backend.devices(args.devices)?;
    let train_path = args.train_manifest();
    let out = args.out_dir();
    let config = args.config(TrainConfig::new());
    let targets =
        Manifest::read(&train_path).with_context(|| format!("reading {}", train_path.display()))?;
    let classes = class_names(&targets)?;
    let mut train = ManifestSet::new(&targets, Split::Train, true);
    let valid = ManifestSet::new(&targets, Split::Val, false);
    if train.items().is_empty() || valid.items().is_empty() {
        bail!(
            "{} needs images in both its train and val splits",
            train_path.display()
        );
    }
    let distill = args.distill > 0.0;
    let unmasked_path = distill.then(|| unmasked_manifest(args));
    let mut teachers = None;
    if let Some(path) = &unmasked_path {
        let unmasked = Manifest::read(path)
            .with_context(|| format!("reading {} (--unmasked)", path.display()))?;
        let mut t = train.twins(&targets, &unmasked)?;
        let bare = ManifestSet::new(&unmasked, Split::Train, true);
        train.append(bare.clone());
        t.append(bare);
        teachers = Some(t);
    }
    let mut extra_people = 0;
    let mut extra_path = None;
    if args.extra_images > 0 {
        let drawn = extra_set(args, &targets)?;
        extra_people = drawn.manifest.identities().len();
        let offset = classes.len() as u32;
        let masked = ManifestSet::all(&drawn.manifest, offset, false);
        if let (Some(t), Some((bare, _))) = (teachers.as_mut(), &drawn.unmasked) {
            t.append(masked.twins(&drawn.manifest, bare)?);
            let bare = ManifestSet::all(bare, offset, false);
            train.append(masked);
            train.append(bare.clone());
            t.append(bare);
        } else {
            train.append(masked);
        }
        extra_path = Some(drawn.path);
    }
    let params = FineTuneParams {
        frozen_blocks: args.frozen_blocks,
        loss: args.loss.with_params(args.scale, args.margin),
        train: config.clone(),
    };
    let data = FineTuneData {
        train,
        teachers,
        valid,
        // The extra set's labels run 0..people, after the targets'.
        classes: classes.len() + extra_people,
    };
    let dlib_path = args.models.join(DLIB_RESNET_FILE);
    let dlib = DlibNet::from_file(&dlib_path)
        .context("loading dlib's face-recognition model (run scripts/setup.sh)")?;
    println!(
        "fine-tuning dlib's ResNet (blocks {}..14 and the dense layer) on {} training images of {} people ({} targets, {extra_people} extra), {} epochs{}",
        args.frozen_blocks,
        data.train.items().len(),
        data.classes,
        classes.len(),
        config.epochs,
        on_devices(args)
    );
    let pb = crate::progress::bar(
        data.train.items().len() + data.valid.items().len(),
        "features",
    );
    let fitted = params.fit(&dlib, &data, &out, &devices, crate::progress::training(&pb))?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    write_report(args, &fitted.report, extra_people, seconds)?;
    let embedder = out.join(EMBEDDER_FILE);
    let best = &fitted.report.history[fitted.report.best_epoch.saturating_sub(1)];
    println!(
        "best epoch {} of {} (validation accuracy {:.1}%){} in {seconds:.0} s -> {}",
        fitted.report.best_epoch,
        fitted.report.history.len(),
        100.0 * best.valid_accuracy,
        if fitted.report.resumed_epochs > 0 {
            format!(", {} epochs resumed", fitted.report.resumed_epochs)
        } else {
            String::new()
        },
        embedder.display()
    );
    Ok(Trained {
        embedder,
        extra: extra_path,
    })
}

/// How a run's batches are split, for its opening line: nothing for one
/// device.
pub fn on_devices(args: &TrainArgs) -> String {
    match args.devices {
        1 => String::new(),
        n => format!(", each batch split across {n} {} devices", args.backend),
    }
}

/// `--unmasked`, or `unmasked_chip/manifest.csv` beside --train's folder.
fn unmasked_manifest(args: &TrainArgs) -> PathBuf {
    args.unmasked.clone().unwrap_or_else(|| {
        let train = args.train_manifest();
        let variant_dir = train.parent().unwrap_or(Path::new("."));
        variant_dir
            .parent()
            .unwrap_or(Path::new("."))
            .join("unmasked_chip/manifest.csv")
    })
}

/// The extra identities, masked like the targets (or with --extra-mask),
/// in `out/extra`, with their unmasked twins when distilling.
fn extra_set(args: &TrainArgs, targets: &Manifest) -> Result<DrawnPeople> {
    let dir = args.out_dir().join("extra");
    let mask = args.extra_mask.map(|m| mask_spec(m, &PaperColor::ALL));
    let drawn = crate::progress::draw(
        |on_progress| {
            PeopleDraw {
                lfw: &args.lfw,
                targets,
                models: &args.models,
                min_face: args.min_face,
                mask: mask.as_ref(),
                unmasked: args.distill > 0.0,
            }
            .extra_identities(
                args.extra_min_images,
                args.extra_images,
                args.strangers,
                args.seed,
                &dir,
                on_progress,
            )
        },
        "extra",
    )
    .with_context(|| format!("drawing extra identities from {}", args.lfw.display()))?;
    if !drawn.masked {
        bail!(
            "{} was not made by `maskface generate`, so the extra identities cannot be masked the same way (use --extra-images 0)",
            args.train_manifest().display()
        );
    }
    crate::openset::warn_unrecorded_mask(&drawn, &args.train_manifest(), "extra");
    Ok(drawn)
}

fn write_report(
    args: &TrainArgs,
    report: &FitReport,
    extra_people: usize,
    seconds: f64,
) -> Result<()> {
    TrainRunReport {
        distill_weight: args.distill,
        extra_images_per_person: args.extra_images,
        extra_mask: args
            .extra_mask
            .map(|m| mask_spec(m, &PaperColor::ALL).to_json()),
        extra_min_images: args.extra_min_images,
        extra_people,
        fit: report,
        frozen_blocks: args.frozen_blocks,
        loss: TrainRunReport::loss_name(args.loss),
        margin: args.margin,
        scale: args.scale,
        seconds,
        seed: args.seed,
        strangers_excluded: args.strangers,
        train: args.train_manifest().display().to_string(),
        unmasked: (args.distill > 0.0).then(|| unmasked_manifest(args).display().to_string()),
    }
    .write(&args.out_dir().join("report.json"))?;
    Ok(())
}
