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
    FineTuneData, FineTuneParams, FitReport, LossKind, ManifestSet, Progress, TrainConfig,
    TrainRunReport, ARCFACE_MARGIN, ARCFACE_SCALE,
};

/// The file `maskface train` writes the fine-tuned network to.
pub const EMBEDDER_FILE: &str = "embedder.bpk";

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Manifest of aligned masked chips (a `*_chip` variant of `maskface
    /// generate`): its train split trains (with mirrored copies), its val
    /// split picks the best epoch.
    #[arg(long, default_value = "data/masked/masked_chip/manifest.csv")]
    pub train: PathBuf,

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

    /// Passes over the training set.
    #[arg(long, default_value_t = TrainConfig::new().epochs)]
    pub epochs: usize,

    /// Samples per step.
    #[arg(long, default_value_t = TrainConfig::new().batch_size)]
    pub batch_size: usize,

    /// Adam's learning rate for the network's trained blocks.
    #[arg(long, default_value_t = TrainConfig::new().backbone_lr)]
    pub backbone_lr: f64,

    /// Adam's learning rate for the head.
    #[arg(long, default_value_t = TrainConfig::new().head_lr)]
    pub head_lr: f64,

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

    /// Output folder: embedder.bpk, best.bpk, last.ckpt (resumed when
    /// present), metrics.csv, loss.png, report.json, extra/.
    #[arg(long, default_value = "data/train")]
    pub out: PathBuf,
}

/// What `maskface train` made.
pub struct Trained {
    /// The fine-tuned network.
    pub embedder: PathBuf,
    /// The extra identities' chips, when any.
    pub extra: Option<PathBuf>,
}

/// Fine-tunes dlib's ResNet.
pub fn run(args: &TrainArgs) -> Result<Trained> {
    let start = Instant::now();
    let targets =
        Manifest::read(&args.train).with_context(|| format!("reading {}", args.train.display()))?;
    let classes = class_names(&targets)?;
    let mut train = ManifestSet::new(&targets, Split::Train, true);
    let valid = ManifestSet::new(&targets, Split::Val, false);
    if train.items().is_empty() || valid.items().is_empty() {
        bail!(
            "{} needs images in both its train and val splits",
            args.train.display()
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
        train: TrainConfig::new()
            .with_epochs(args.epochs)
            .with_batch_size(args.batch_size)
            .with_backbone_lr(args.backbone_lr)
            .with_head_lr(args.head_lr)
            .with_seed(args.seed)
            .with_distill_weight(args.distill),
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
        "fine-tuning dlib's ResNet (blocks {}..14 and the dense layer) on {} training images of {} people ({} targets, {extra_people} extra), {} epochs",
        args.frozen_blocks,
        data.train.items().len(),
        data.classes,
        classes.len(),
        args.epochs
    );
    let pb = crate::progress::bar(
        data.train.items().len() + data.valid.items().len(),
        "features",
    );
    let bar = pb.clone();
    let fitted = params.fit(&dlib, &data, &args.out, &Backend::Flex.device()?, move |p| match p {
        Progress::Features { done, total } => {
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
        }
        Progress::Batch { epoch, done, total } => {
            bar.set_message(format!("epoch {epoch}"));
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
        }
        // Printed around the bar, which is hidden when stderr is not a terminal.
        Progress::Epoch(m) => bar.suspend(|| {
            println!(
                "epoch {}: train loss {:.4} (accuracy {:.1}%), validation loss {:.4}, accuracy {:.1}% ({:.0} s)",
                m.epoch,
                m.train_loss,
                100.0 * m.train_accuracy,
                m.valid_loss,
                100.0 * m.valid_accuracy,
                m.seconds
            )
        }),
    })?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    write_report(args, &fitted.report, extra_people, seconds)?;
    let embedder = args.out.join(EMBEDDER_FILE);
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

/// `--unmasked`, or `unmasked_chip/manifest.csv` beside --train's folder.
fn unmasked_manifest(args: &TrainArgs) -> PathBuf {
    args.unmasked.clone().unwrap_or_else(|| {
        let variant_dir = args.train.parent().unwrap_or(Path::new("."));
        variant_dir
            .parent()
            .unwrap_or(Path::new("."))
            .join("unmasked_chip/manifest.csv")
    })
}

/// The extra identities, masked like the targets (or with --extra-mask),
/// in `out/extra`, with their unmasked twins when distilling.
fn extra_set(args: &TrainArgs, targets: &Manifest) -> Result<DrawnPeople> {
    let dir = args.out.join("extra");
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
            args.train.display()
        );
    }
    crate::openset::warn_unrecorded_mask(&drawn, &args.train, "extra");
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
        train: args.train.display().to_string(),
        unmasked: (args.distill > 0.0).then(|| unmasked_manifest(args).display().to_string()),
    }
    .write(&args.out.join("report.json"))?;
    Ok(())
}
