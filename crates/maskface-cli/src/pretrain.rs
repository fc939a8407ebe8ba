//! `maskface pretrain`: face weights for the paper's networks made here,
//! by distillation from dlib's face-recognition network over LFW people
//! outside the experiment (the pretrained files the paper started from
//! are not available everywhere).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::{load_rgb, Manifest, Split, DEFAULT_SEED};
use maskface_dataset::DEFAULT_STRANGERS;
use maskface_mask::Variant;
use maskface_nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_recognize::{embed_all, PeopleDraw};
use maskface_train::{
    pretrain_paper_net, save_backbone, ManifestSet, PaperBackbone, PaperInit, PaperNet,
    PretrainData, TrainConfig,
};
use rayon::prelude::*;
use serde::Serialize;

use crate::generate::GenerateArgs;
use crate::paper_train::distilled_file;
use crate::run::defaults;

#[derive(Args, Debug, Clone)]
pub struct PretrainArgs {
    /// The network to pretrain.
    #[arg(long, value_enum)]
    pub model: PaperNet,

    /// The experiment's people (the curated manifest): never drawn.
    #[arg(long, default_value = "data/curated/manifest.csv")]
    pub targets: PathBuf,

    /// The LFW-style folder the people come from.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// The fewest images a drawn person has.
    #[arg(long, default_value_t = 2)]
    pub min_images: usize,

    /// Images per drawn person (their first ones).
    #[arg(long, default_value_t = 4)]
    pub images_per_person: usize,

    /// Size of the open-set stranger draw kept out (as `maskface openset
    /// --strangers` draws it with --seed).
    #[arg(long, default_value_t = DEFAULT_STRANGERS)]
    pub strangers: usize,

    /// Seed of the stranger draw, the masks and the training.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Passes over the drawn images.
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,

    /// Samples per step.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,

    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,

    /// Weight of the distillation term beside the softmax over the people.
    #[arg(long, default_value_t = 10.0)]
    pub distill: f64,

    /// Folder with MTCNN's weights, the landmark model and dlib's network
    /// (the teacher).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Smallest face MTCNN looks for.
    #[arg(long, default_value_t = 40)]
    pub min_face: u32,

    /// Backend the training runs on.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,

    /// Output folder (default data/pretrain-<model>): people/ (the drawn
    /// photos), faces/ (their masked upper faces and unmasked chips),
    /// best.bpk, last.ckpt (resumed), metrics.csv, loss.png, backbone.bpk,
    /// report.json.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Copy the backbone to <models>/<model>-distilled.bpk, where `maskface
    /// train --init distilled` finds it.
    #[arg(long)]
    pub install: bool,
}

/// One in this many drawn images validates (one of the last `n` when
/// fewer are drawn).
const VALID_EVERY: usize = 10;

#[derive(Serialize)]
struct PretrainReport<'a> {
    net: PaperNet,
    people: usize,
    train_images: usize,
    valid_images: usize,
    teacher: String,
    config: &'a TrainConfig,
    fit: &'a maskface_train::FitReport,
    seconds: f64,
    backbone: String,
    installed: Option<String>,
}

/// Pretrains `--model` and returns where its backbone is.
pub fn run(args: &PretrainArgs) -> Result<PathBuf> {
    let start = Instant::now();
    let net = args.model;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("data/pretrain-{net}").into());
    let targets = Manifest::read(&args.targets)
        .with_context(|| format!("reading {}", args.targets.display()))?;

    // The people: outside the targets and the open-set strangers.
    let drawn = crate::progress::draw(
        |on_progress| {
            PeopleDraw {
                lfw: &args.lfw,
                targets: &targets,
                models: &args.models,
                min_face: args.min_face,
                mask: None,
                unmasked: false,
            }
            .extra_identities(
                args.min_images,
                args.images_per_person,
                args.strangers,
                args.seed,
                &out.join("people"),
                on_progress,
            )
        },
        "people",
    )?;
    if drawn.masked {
        bail!(
            "{} was made by `maskface generate`: give the curated manifest of the photos (data/curated/manifest.csv)",
            args.targets.display()
        );
    }
    let mut people = drawn.manifest;
    // A small draw still validates on one image.
    let every = VALID_EVERY.min(people.samples.len().max(2));
    for (i, s) in people.samples.iter_mut().enumerate() {
        s.split = if i % every == every - 1 {
            Split::Val
        } else {
            Split::Train
        };
    }
    let people_path = out.join("people/manifest.csv");
    people.write(&people_path)?;

    // What the student sees (the paper's masked upper face) and what the
    // teacher sees (dlib's aligned chip of the same photo, unmasked).
    let faces = out.join("faces");
    crate::generate::run(&GenerateArgs {
        manifest: people_path,
        out: faces.clone(),
        models: args.models.clone(),
        seed: args.seed,
        variants: vec![Variant::MaskedUpper, Variant::UnmaskedChip],
        min_face: args.min_face,
        preview: 0,
        ..defaults()?
    })?;
    let student = Manifest::read(&faces.join("masked_upper/manifest.csv"))?;
    let teacher_view = Manifest::read(&faces.join("unmasked_chip/manifest.csv"))?;
    let chips: HashMap<&std::path::Path, PathBuf> = teacher_view
        .samples
        .iter()
        .map(|s| (s.path.as_path(), teacher_view.resolve(&s.path)))
        .collect();
    let pairs: Vec<(PathBuf, PathBuf)> = student
        .samples
        .iter()
        .filter_map(|s| {
            chips
                .get(s.path.as_path())
                .map(|chip| (student.resolve(&s.path), chip.clone()))
        })
        .collect();

    let device = args.backend.device()?;
    let teacher_path = args.models.join(DLIB_RESNET_FILE);
    let teacher = FaceEmbedderResNet::from_file(&teacher_path, &device)
        .context("loading dlib's face-recognition network, the teacher (run scripts/setup.sh)")?;
    let pb = crate::progress::bar(pairs.len(), "teacher");
    let mut rows = HashMap::with_capacity(pairs.len());
    for chunk in pairs.chunks(256) {
        let images = chunk
            .par_iter()
            .map(|(_, chip)| load_rgb(chip))
            .collect::<Result<Vec<_>, _>>()?;
        let embedded = embed_all(&teacher, &images, 64, &|n| pb.inc(n as u64))?;
        for ((face, _), row) in chunk.iter().zip(embedded) {
            rows.insert(face.clone(), row);
        }
    }
    pb.finish_and_clear();
    let keep = |split| {
        let mut set = ManifestSet::default();
        for item in ManifestSet::new(&student, split, false).items() {
            if rows.contains_key(&item.path) {
                set.push(item.clone());
            }
        }
        set
    };
    let data = PretrainData {
        train: keep(Split::Train),
        valid: keep(Split::Val),
        classes: people.identities().len(),
        teachers: rows,
    };
    if data.train.items().is_empty() || data.valid.items().is_empty() {
        bail!(
            "no face was found in the drawn images (see {})",
            faces.display()
        );
    }

    let config = TrainConfig::new()
        .with_epochs(args.epochs)
        .with_batch_size(args.batch_size)
        .with_backbone_lr(args.lr)
        .with_head_lr(args.lr)
        .with_distill_weight(args.distill)
        .with_seed(args.seed);
    device.seed(config.seed);
    let backbone = PaperBackbone::new(net, &PaperInit::Random, &device)?;
    println!(
        "pretraining {net} on {} masked upper faces of {} people (validating on {}), pulled onto dlib's embeddings of their unmasked chips: {} epochs",
        data.train.items().len(),
        data.classes,
        data.valid.items().len(),
        config.epochs
    );
    let pb = crate::progress::bar(data.train.items().len(), "pretrain");
    let (backbone, fit) = pretrain_paper_net(
        backbone,
        &data,
        config.clone(),
        &out,
        crate::progress::training(&pb),
        &device,
    )?;
    pb.finish_and_clear();
    let backbone_path = out.join("backbone.bpk");
    save_backbone(&backbone, &backbone_path)?;
    let installed = if args.install {
        let path = args.models.join(distilled_file(net));
        let bytes = std::fs::read(&backbone_path)?;
        maskface_core::write_atomic(&path, |w| w.write_all(&bytes))
            .with_context(|| format!("installing {}", path.display()))?;
        Some(path)
    } else {
        None
    };
    let seconds = start.elapsed().as_secs_f64();
    let report = PretrainReport {
        net,
        people: data.classes,
        train_images: data.train.items().len(),
        valid_images: data.valid.items().len(),
        teacher: teacher_path.display().to_string(),
        config: &config,
        fit: &fit,
        seconds,
        backbone: backbone_path.display().to_string(),
        installed: installed.as_ref().map(|p| p.display().to_string()),
    };
    crate::json_report::write(&out.join("report.json"), &report)?;
    println!(
        "{net} pretrained in {seconds:.0} s -> {}{}",
        backbone_path.display(),
        installed.map_or(String::new(), |p| format!(
            " (installed as {})",
            p.display()
        ))
    );
    Ok(backbone_path)
}
