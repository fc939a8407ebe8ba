use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use image::RgbImage;
use maskface_core::{write_atomic, Manifest, Split};
use maskface_dataset::{class_names, write_predictions, Answer};
use maskface_nets::face_resnet::FaceEmbedderResNet;
use maskface_recognize::{
    embed_all, embedder_name, load_chips, load_embedder, CohortParams, EmbeddingModel, HeadKind,
};
use serde::Serialize;

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
    #[arg(long, value_enum, default_value_t = HeadKind::Softmax)]
    pub head: HeadKind,

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

/// Embeds with a progress bar.
fn embed_with_bar(
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
    head: HeadKind,
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
    let embedder_name = embedder_name(args.weights.as_deref());
    let mut net = load_embedder(&args.models, &embedder_name)?;
    net.mirror = args.mirror;
    let (x, y) = load_chips(&train, Some(Split::Train))?;
    if x.is_empty() {
        bail!("{} has no training images", args.train.display());
    }
    let (xt, yt) = load_chips(&test, Some(Split::Test))?;
    let e = embed_with_bar(&net, &x, "embed")?;
    let et = embed_with_bar(&net, &xt, "embed")?;
    let cohort = match (&args.cohort, args.head) {
        (_, HeadKind::Centroid | HeadKind::Softmax) => None,
        (None, HeadKind::Cohort) => {
            bail!("--head cohort needs --cohort MANIFEST (chips of people outside the targets)")
        }
        (Some(path), HeadKind::Cohort) => {
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
            Some(embed_with_bar(&net, &images, "cohort")?)
        }
    };
    let head = args.head.fit(
        &e,
        &y,
        cohort.as_deref(),
        &CohortParams {
            top_k: args.cohort_top_k,
        },
    )?;
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
    let model = EmbeddingModel::new(embedder_name, args.mirror, class_names(&train)?, head);
    let test_samples: Vec<_> = test.split(Split::Test).collect();
    write_predictions(
        &args.out,
        &model.describe(),
        &model.classes,
        &test_samples,
        &answers,
    )?;
    model.save(&args.out.join("model.json"))?;
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
