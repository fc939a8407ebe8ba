use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::{Manifest, Split, DEFAULT_SEED};
use maskface_dataset::{class_names, DEFAULT_STRANGERS};
use maskface_openset::{
    OpenSetExperiment, OpenSetParams, OpenSetReport, Score, StrangerSource, PAPER_PERCENTILE,
    PAPER_RULE,
};
use maskface_recognize::{DrawnPeople, PeopleDraw, RecognizeError, SavedModel};

#[derive(Args, Debug, Clone)]
pub struct OpensetArgs {
    /// The model: a `model.json` written by `maskface eigen` or
    /// `maskface recognize`.
    #[arg(long, default_value = "data/eigen/model.json")]
    pub model: PathBuf,

    /// Manifest of the known people; its --split images are the target
    /// probes, and its identities are kept out of the strangers.
    #[arg(long, default_value = "data/masked/masked_upper/manifest.csv")]
    pub targets: PathBuf,

    /// Which split of --targets is probed.
    #[arg(long, default_value = "test")]
    pub split: Split,

    /// How many stranger images to draw from --lfw (one per person first).
    /// The paper used 195.
    #[arg(long, default_value_t = DEFAULT_STRANGERS)]
    pub strangers: usize,

    /// The LFW-style folder the strangers are drawn from.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// Seed of the strangers' draw.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Folder with the MTCNN weights and the landmark model, for masking
    /// the strangers the way the targets were masked.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Smallest face MTCNN looks for in the strangers' images.
    #[arg(long, default_value_t = 40)]
    pub min_face: u32,

    /// Scores to evaluate (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "confidence,max-softmax,max-logit,energy"
    )]
    pub scores: Vec<Score>,

    /// FPIRs at which DIR is reported (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.05,0.1")]
    pub fpir: Vec<f64>,

    /// Percentile of the paper's rule: the targets' p-th percentile against
    /// the strangers' (100-p)-th.
    #[arg(long, default_value_t = PAPER_PERCENTILE)]
    pub percentile: f64,

    /// Make the strangers again when their folder was made with other
    /// parameters (for example another LFW path).
    #[arg(long)]
    pub overwrite: bool,

    /// Output folder: report.json, openset.md, roc.csv, roc.png, det.png,
    /// scores_<score>.png, probes.csv and the masked strangers.
    #[arg(long, default_value = "data/openset")]
    pub out: PathBuf,
}

/// The reports, one per score.
pub fn run(args: &OpensetArgs) -> Result<Vec<OpenSetReport>> {
    if args.scores.is_empty() {
        bail!("--scores: name at least one score");
    }
    let model = SavedModel::load(&args.model, &args.models).map_err(|e| match e {
        RecognizeError::ModelNotFound { .. } => anyhow::anyhow!(
            "{e} (make one with `maskface eigen --out {}`)",
            args.model.parent().unwrap_or(Path::new(".")).display()
        ),
        e => e.into(),
    })?;
    let targets = Manifest::read(&args.targets)
        .with_context(|| format!("reading {}", args.targets.display()))?;
    let classes = class_names(&targets)?;
    if let Some(detail) = model.class_mismatch(&classes) {
        bail!(
            "{} was not fitted on {}: {detail}",
            args.model.display(),
            args.targets.display()
        );
    }
    let target_samples: Vec<_> = targets.split(args.split).collect();
    if target_samples.is_empty() {
        bail!("{} has no {} images", args.targets.display(), args.split);
    }

    let DrawnPeople {
        manifest: strangers,
        path: strangers_manifest,
        masked,
        ..
    } = strangers(args, &targets)?;
    let stranger_samples: Vec<_> = strangers.samples.iter().collect();
    if stranger_samples.is_empty() {
        bail!(
            "no stranger could be processed (see the failures under {})",
            args.out.display()
        );
    }

    let pb = crate::progress::bar(target_samples.len() + stranger_samples.len(), "score");
    let mut logits = model.manifest_logits(&targets, &target_samples, &|n| pb.inc(n as u64))?;
    logits.extend(model.manifest_logits(&strangers, &stranger_samples, &|n| pb.inc(n as u64))?);
    pb.finish_and_clear();
    let outcome = OpenSetExperiment {
        model: model.describe(),
        model_file: args.model.display().to_string(),
        targets_file: args.targets.display().to_string(),
        split: args.split,
        targets: &target_samples,
        strangers: &stranger_samples,
        stranger_source: StrangerSource {
            drawn: args.strangers,
            seed: args.seed,
            manifest: strangers_manifest.display().to_string(),
            same_pipeline_as_targets: masked,
        },
        logits: &logits,
        scores: &args.scores,
        params: OpenSetParams {
            fpirs: args.fpir.clone(),
            percentile: args.percentile,
        },
    }
    .run(&args.out)?;
    let table = outcome.table;
    print!("{table}");
    println!(
        "{} target probes, {} strangers ({} drawn{}); the paper's rule (ResNet50, confidence): target p15 {} vs stranger p85 {} -> {}",
        target_samples.len(),
        stranger_samples.len(),
        args.strangers,
        if masked { ", processed like the targets" } else { "" },
        PAPER_RULE.0,
        PAPER_RULE.1,
        args.out.display()
    );
    Ok(outcome.reports)
}

/// Draws the strangers and, when the targets were made by `generate`, masks
/// them the same way.
fn strangers(args: &OpensetArgs, targets: &Manifest) -> Result<DrawnPeople> {
    let dir = args
        .out
        .join(format!("strangers-{}-seed{}", args.strangers, args.seed));
    let drawn = crate::progress::draw(
        |on_progress| {
            PeopleDraw {
                lfw: &args.lfw,
                targets,
                models: &args.models,
                min_face: args.min_face,
                mask: None,
                unmasked: false,
            }
            .strangers(args.strangers, args.seed, &dir, args.overwrite, on_progress)
        },
        "strangers",
    )
    .with_context(|| format!("drawing strangers from {}", args.lfw.display()))?;
    warn_unrecorded_mask(&drawn, &args.targets, "strangers");
    Ok(drawn)
}

/// Warns when the draw was masked with the paper's polygon because
/// `targets` did not record its mask.
pub fn warn_unrecorded_mask(drawn: &DrawnPeople, targets: &Path, what: &str) {
    if drawn.masked && !drawn.mask_recorded {
        eprintln!(
            "warning: {} does not record its mask; the {what} get the paper's",
            targets.display()
        );
    }
}
