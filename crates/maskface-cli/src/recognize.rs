use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use image::RgbImage;
use maskface_core::{load_rgb, write_atomic, Manifest, Split};
use maskface_nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_recognize::{embed_all, Centroids, CohortParams, Head, SoftmaxParams};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::test_answers::{write_test_answers, Answer};

/// What `model.json` of an embedding recognizer says it is.
pub const EMBEDDING_MODEL_KIND: &str = "embedding";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadArg {
    /// Cosine similarity to each person's mean embedding.
    Centroid,
    /// A softmax layer trained on the embeddings.
    Softmax,
    /// Nearest centre, each person's scores normalised against the faces
    /// of --cohort (their 300 closest), so one open-set threshold suits
    /// everyone.
    Cohort,
}

#[derive(Args, Debug, Clone)]
pub struct RecognizeArgs {
    /// Manifest of aligned 150x150 face chips (a `*_chip` variant of
    /// `maskface generate`); its training split is enrolled.
    #[arg(long, default_value = "data/masked/masked_chip/manifest.csv")]
    pub train: PathBuf,

    /// Manifest whose test split is recognized (default: --train's).
    #[arg(long)]
    pub test: Option<PathBuf>,

    /// The classifier on the embeddings.
    #[arg(long, value_enum, default_value_t = HeadArg::Softmax)]
    pub head: HeadArg,

    /// Folder with dlib's face-recognition model.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Fine-tuned weights (`maskface train`'s embedder.bpk) in place of
    /// dlib's.
    #[arg(long)]
    pub weights: Option<PathBuf>,

    /// Average each face's embedding with its mirror image's (two forward
    /// passes per face).
    #[arg(long)]
    pub mirror: bool,

    /// Chips of other people for `--head cohort` (every split): e.g. the
    /// extra identities `maskface train` masked, `data/train/extra/masked_chip/manifest.csv`.
    /// Never the open-set strangers.
    #[arg(long)]
    pub cohort: Option<PathBuf>,

    /// The cohort faces closest to each person that give `--head cohort`
    /// its per-person mean and spread.
    #[arg(long, default_value_t = CohortParams::default().top_k)]
    pub cohort_top_k: usize,

    /// Output folder: model.json, report.json, predictions.csv (each test
    /// face's answer) and confusion.png.
    #[arg(long, default_value = "data/recognize")]
    pub out: PathBuf,
}

/// An embedding recognizer as saved: which embedder, the class names and
/// the head.
#[derive(Serialize, Deserialize)]
pub struct EmbeddingModel {
    /// Always [`EMBEDDING_MODEL_KIND`].
    pub kind: String,
    /// The embedder: dlib's model file (found in `--models`), or the path
    /// of fine-tuned weights.
    pub embedder: String,
    /// Whether each embedding is averaged with its mirror image's.
    #[serde(default)]
    pub mirror: bool,
    /// Class names by label.
    pub classes: Vec<String>,
    /// The classifier on the embeddings.
    pub head: Head,
}

impl EmbeddingModel {
    /// Reads a model from its file's bytes (`path` names it in errors).
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Self> {
        let m: EmbeddingModel = serde_json::from_slice(bytes)
            .with_context(|| format!("{} is not an embedding model", path.display()))?;
        if m.kind != EMBEDDING_MODEL_KIND || m.classes.len() != m.head.num_classes() {
            bail!(
                "{}: kind `{}` with {} classes for a head of {}",
                path.display(),
                m.kind,
                m.classes.len(),
                m.head.num_classes()
            );
        }
        Ok(m)
    }

    /// A short description for tables.
    pub fn describe(&self) -> String {
        format!(
            "{}{} + {}",
            if self.embedder == DLIB_RESNET_FILE {
                "dlib ResNet"
            } else {
                "fine-tuned ResNet"
            },
            if self.mirror {
                " (mirror-averaged)"
            } else {
                ""
            },
            match self.head {
                Head::Centroids(_) => "nearest centre (cosine)",
                Head::Softmax(_) => "softmax head",
                Head::CohortCentroids(_) => "nearest centre (cosine, cohort-normalised)",
            }
        )
    }
}

/// dlib's network from `models`.
pub fn embedder(models: &Path) -> Result<FaceEmbedderResNet> {
    FaceEmbedderResNet::from_file(&models.join(DLIB_RESNET_FILE), &Backend::Flex.device()?)
        .context("loading dlib's face-recognition model (run scripts/setup.sh)")
}

/// The network a model names: dlib's, or fine-tuned weights on dlib's
/// architecture.
pub fn embedder_named(models: &Path, name: &str) -> Result<FaceEmbedderResNet> {
    if name == DLIB_RESNET_FILE {
        return embedder(models);
    }
    FaceEmbedderResNet::from_tuned(
        &models.join(DLIB_RESNET_FILE),
        Path::new(name),
        &Backend::Flex.device()?,
    )
    .with_context(|| format!("loading the fine-tuned network {name} (made by `maskface train`)"))
}

/// Loads a split's chips in parallel (every split with `None`): the images
/// and their labels.
pub fn load_chips(manifest: &Manifest, split: Option<Split>) -> Result<(Vec<RgbImage>, Vec<u32>)> {
    let samples: Vec<_> = manifest
        .samples
        .iter()
        .filter(|s| split.is_none_or(|split| s.split == split))
        .collect();
    let images = samples
        .par_iter()
        .map(|s| load_rgb(&manifest.resolve(&s.path)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((images, samples.iter().map(|s| s.label).collect()))
}

/// Embeds with a progress bar.
pub fn embed_with_bar(
    net: &FaceEmbedderResNet,
    images: &[RgbImage],
    what: &str,
) -> Result<Vec<Vec<f32>>> {
    let pb = crate::progress::bar(images.len(), what);
    let e = embed_all(net, images, 32, &|n| pb.inc(n as u64))?;
    pb.finish_and_clear();
    Ok(e)
}

#[derive(Serialize)]
struct Report {
    train: String,
    test: String,
    head: HeadArg,
    train_images: usize,
    test_images: usize,
    correct: usize,
    accuracy: f64,
    seconds: f64,
}

/// The test accuracy.
pub fn run(args: &RecognizeArgs) -> Result<f64> {
    let start = Instant::now();
    let train =
        Manifest::read(&args.train).with_context(|| format!("reading {}", args.train.display()))?;
    let test_path = args.test.clone().unwrap_or_else(|| args.train.clone());
    let test =
        Manifest::read(&test_path).with_context(|| format!("reading {}", test_path.display()))?;
    let embedder_name = match &args.weights {
        Some(w) => w.display().to_string(),
        None => DLIB_RESNET_FILE.to_string(),
    };
    let mut net = embedder_named(&args.models, &embedder_name)?;
    net.mirror = args.mirror;
    let (x, y) = load_chips(&train, Some(Split::Train))?;
    if x.is_empty() {
        bail!("{} has no training images", args.train.display());
    }
    let (xt, yt) = load_chips(&test, Some(Split::Test))?;
    let e = embed_with_bar(&net, &x, "embed")?;
    let et = embed_with_bar(&net, &xt, "embed")?;
    let head = match args.head {
        HeadArg::Centroid => Head::Centroids(Centroids::fit(&e, &y)?),
        HeadArg::Softmax => Head::Softmax(SoftmaxParams::default().fit(&e, &y)?),
        HeadArg::Cohort => {
            let Some(path) = &args.cohort else {
                bail!(
                    "--head cohort needs --cohort MANIFEST (chips of people outside the targets)"
                );
            };
            let cohort =
                Manifest::read(path).with_context(|| format!("reading {}", path.display()))?;
            let gallery: std::collections::BTreeSet<String> =
                train.identities().into_iter().collect();
            if let Some(s) = cohort
                .samples
                .iter()
                .find(|s| gallery.contains(&s.identity))
            {
                bail!(
                    "{}: the cohort holds `{}`, one of the people to recognize",
                    path.display(),
                    s.identity
                );
            }
            let (images, _) = load_chips(&cohort, None)?;
            let ec = embed_with_bar(&net, &images, "cohort")?;
            Head::CohortCentroids(
                CohortParams {
                    top_k: args.cohort_top_k,
                }
                .fit(Centroids::fit(&e, &y)?, &ec)?,
            )
        }
    };
    let answers: Vec<Answer> = et
        .iter()
        .map(|v| {
            let (label, score) = head.best(v);
            Answer {
                predicted: Some(label),
                score: f64::from(score),
            }
        })
        .collect();
    let correct = answers
        .iter()
        .zip(&yt)
        .filter(|(a, &l)| a.predicted == Some(l))
        .count();
    let accuracy = correct as f64 / yt.len().max(1) as f64;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let model = EmbeddingModel {
        kind: EMBEDDING_MODEL_KIND.into(),
        embedder: embedder_name,
        mirror: args.mirror,
        classes: crate::eigen::class_names(&train)?,
        head,
    };
    let test_samples: Vec<_> = test.split(Split::Test).collect();
    write_test_answers(
        &args.out,
        &model.describe(),
        &model.classes,
        &test_samples,
        &answers,
    )?;
    let json = serde_json::to_vec(&model)?;
    write_atomic(&args.out.join("model.json"), |w| w.write_all(&json))?;
    let seconds = start.elapsed().as_secs_f64();
    let report = Report {
        train: args.train.display().to_string(),
        test: test_path.display().to_string(),
        head: args.head,
        train_images: y.len(),
        test_images: yt.len(),
        correct,
        accuracy,
        seconds,
    };
    let json = serde_json::to_vec_pretty(&report)?;
    write_atomic(&args.out.join("report.json"), |w| w.write_all(&json))?;
    println!(
        "{}: {} training images, test accuracy {:.1}% ({correct}/{}) in {seconds:.1} s -> {}",
        model.describe(),
        y.len(),
        100.0 * accuracy,
        yt.len(),
        args.out.display()
    );
    Ok(accuracy)
}
