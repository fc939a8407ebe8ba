use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::ProgressBar;
use maskface_core::Manifest;
use maskface_recognize::{
    embedder_name, evaluate, load_embedder, CohortParams, EmbedProgress, HeadKind, NamedManifest,
    RecognitionTask,
};

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

/// The test accuracy.
pub fn run(args: &RecognizeArgs) -> Result<f64> {
    let start = Instant::now();
    let train =
        Manifest::read(&args.train).with_context(|| format!("reading {}", args.train.display()))?;
    let test_path = args.test.clone().unwrap_or_else(|| args.train.clone());
    let test =
        Manifest::read(&test_path).with_context(|| format!("reading {}", test_path.display()))?;
    let embedder = embedder_name(args.weights.as_deref());
    let mut net = load_embedder(&args.models, &embedder)?;
    net.mirror = args.mirror;
    let cohort = match (&args.cohort, args.head) {
        (None, HeadKind::Cohort) => {
            bail!("--head cohort needs --cohort MANIFEST (chips of people outside the targets)")
        }
        (Some(path), HeadKind::Cohort) => {
            Some(Manifest::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        _ => None,
    };
    let task = RecognitionTask {
        train: NamedManifest {
            path: &args.train,
            manifest: &train,
        },
        test: NamedManifest {
            path: &test_path,
            manifest: &test,
        },
        head: args.head,
        cohort: args
            .cohort
            .as_deref()
            .zip(cohort.as_ref())
            .map(|(path, manifest)| NamedManifest { path, manifest }),
        cohort_params: CohortParams {
            top_k: args.cohort_top_k,
        },
        embedder,
        mirror: args.mirror,
    };
    let bar: RefCell<Option<ProgressBar>> = RefCell::new(None);
    let mut recognition = evaluate(&net, &task, &|p| match p {
        EmbedProgress::Start { what, total } => {
            *bar.borrow_mut() = Some(crate::progress::bar(total, what));
        }
        EmbedProgress::Advance(n) => {
            if let Some(pb) = bar.borrow().as_ref() {
                pb.inc(n as u64);
            }
        }
        EmbedProgress::Finish => {
            if let Some(pb) = bar.borrow_mut().take() {
                pb.finish_and_clear();
            }
        }
    })?;
    recognition.write(&args.out, start)?;
    let report = &recognition.report;
    println!(
        "{}: {} training images, test accuracy {:.1}% ({}/{}) in {:.1} s -> {}",
        recognition.model.describe(),
        report.train_images,
        100.0 * report.accuracy,
        report.correct,
        report.test_images,
        report.seconds,
        args.out.display()
    );
    Ok(report.accuracy)
}
