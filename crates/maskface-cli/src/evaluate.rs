//! `maskface evaluate`: any saved model on one split of a manifest, with
//! what the paper shows of its classifiers (accuracy, the confusion matrix,
//! the faces it gets wrong, the loss curves).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::vector::argmax;
use maskface_core::{load_rgb, save_image_atomic, write_atomic, Manifest, Sample, Split};
use maskface_dataset::{class_names, write_predictions, Answer};
use maskface_recognize::SavedModel;
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct EvaluateArgs {
    /// The model: a `model.json` of `maskface train --model
    /// inception-resnet-v1|resnet50|vgg16` (or `model-last.json`, its last
    /// epoch), `maskface eigen` or `maskface recognize`.
    #[arg(long)]
    pub model: PathBuf,

    /// The manifest whose --split is scored, made the way the model's
    /// training images were (default: the paper's masked upper faces).
    #[arg(long, default_value = "data/augmented/manifest.csv")]
    pub manifest: PathBuf,

    /// Which split.
    #[arg(long, default_value = "test")]
    pub split: Split,

    /// Folder with dlib's models (for embedding models).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// The most wrongly classified faces shown in errors.png.
    #[arg(long, default_value_t = 48)]
    pub max_errors: usize,

    /// Output folder (default: `eval-<split>` beside the model file, or
    /// `eval-<split>-last` for `model-last.json`): report.json,
    /// evaluation.md, predictions.csv, per_class.csv, confusion.png,
    /// errors.png and, when the model was trained here, loss.png.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Serialize)]
struct ClassResult {
    identity: String,
    images: usize,
    correct: usize,
    accuracy: f64,
}

#[derive(Serialize)]
struct EvaluationReport {
    model: String,
    model_file: String,
    manifest: String,
    split: Split,
    images: usize,
    correct: usize,
    accuracy: f64,
    per_class: Vec<ClassResult>,
}

fn default_out(args: &EvaluateArgs) -> PathBuf {
    let dir = args.model.parent().unwrap_or(Path::new("."));
    let last = args
        .model
        .file_stem()
        .is_some_and(|s| s.to_string_lossy().ends_with("-last"));
    dir.join(format!(
        "eval-{}{}",
        args.split,
        if last { "-last" } else { "" }
    ))
}

/// Scores the model and writes the report; returns the accuracy.
pub fn run(args: &EvaluateArgs) -> Result<f64> {
    let model = SavedModel::load(&args.model, &args.models)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let manifest = Manifest::read(&args.manifest)
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    let classes = class_names(&manifest)?;
    if let Some(detail) = model.class_mismatch(&classes) {
        bail!(
            "{} was not trained on the people of {}: {detail}",
            args.model.display(),
            args.manifest.display()
        );
    }
    let samples: Vec<&Sample> = manifest.split(args.split).collect();
    if samples.is_empty() {
        bail!("{} has no {} images", args.manifest.display(), args.split);
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(args));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let pb = crate::progress::bar(samples.len(), "score");
    let logits = model.manifest_logits(&manifest, &samples, &|n| pb.inc(n as u64))?;
    pb.finish_and_clear();
    let answers: Vec<Answer> = logits
        .iter()
        .map(|row| {
            let best = argmax(row);
            Answer {
                predicted: best.map(|b| b as u32),
                score: best.map_or(f64::NAN, |b| f64::from(row[b])),
            }
        })
        .collect();
    let describe = model.describe();
    write_predictions(&out, &describe, &classes, &samples, &answers)?;

    let mut per_class: Vec<ClassResult> = classes
        .iter()
        .map(|identity| ClassResult {
            identity: identity.clone(),
            images: 0,
            correct: 0,
            accuracy: 0.0,
        })
        .collect();
    let mut wrong = Vec::new();
    for (s, a) in samples.iter().zip(&answers) {
        let Some(class) = per_class.get_mut(s.label as usize) else {
            continue;
        };
        class.images += 1;
        if a.predicted == Some(s.label) {
            class.correct += 1;
        } else {
            wrong.push((*s, a.predicted));
        }
    }
    let mut csv = String::from("identity,images,correct,accuracy\n");
    for c in &mut per_class {
        c.accuracy = c.correct as f64 / c.images.max(1) as f64;
        csv.push_str(&format!(
            "{},{},{},{:.4}\n",
            c.identity, c.images, c.correct, c.accuracy
        ));
    }
    write_atomic(&out.join("per_class.csv"), |w| w.write_all(csv.as_bytes()))?;
    write_errors(&out, &manifest, &classes, &wrong, args.max_errors)?;
    let training_curve = args
        .model
        .parent()
        .unwrap_or(Path::new("."))
        .join("loss.png");
    if training_curve.is_file() {
        std::fs::copy(&training_curve, out.join("loss.png"))
            .with_context(|| format!("copying {}", training_curve.display()))?;
    }

    let correct = samples.len() - wrong.len();
    let accuracy = correct as f64 / samples.len() as f64;
    let report = EvaluationReport {
        model: describe.clone(),
        model_file: args.model.display().to_string(),
        manifest: args.manifest.display().to_string(),
        split: args.split,
        images: samples.len(),
        correct,
        accuracy,
        per_class,
    };
    crate::json_report::write(&out.join("report.json"), &report)?;
    let md = format!(
        "# {describe}\n\n{} split of `{}`: **{:.1}%** ({correct} of {} faces).\n\n\
         Files: `predictions.csv`, `per_class.csv`, `confusion.png`, `errors.png` \
         (the faces it gets wrong, with the person it named){}.\n",
        args.split,
        args.manifest.display(),
        100.0 * accuracy,
        samples.len(),
        if training_curve.is_file() {
            ", `loss.png` (the training curves)"
        } else {
            ""
        }
    );
    write_atomic(&out.join("evaluation.md"), |w| w.write_all(md.as_bytes()))?;
    println!(
        "{describe}: {:.1}% of the {} faces ({correct}/{}) -> {}",
        100.0 * accuracy,
        args.split,
        samples.len(),
        out.display()
    );
    Ok(accuracy)
}

/// `errors.png`: up to `max` wrongly classified faces, each captioned with
/// who it is and whom the model named (the paper's figure 14).
fn write_errors(
    out: &Path,
    manifest: &Manifest,
    classes: &[String],
    wrong: &[(&Sample, Option<u32>)],
    max: usize,
) -> Result<()> {
    let path = out.join("errors.png");
    let shown = &wrong[..wrong.len().min(max)];
    if shown.is_empty() {
        // No stale picture of an earlier, worse model.
        if path.is_file() {
            std::fs::remove_file(&path)?;
        }
        return Ok(());
    }
    let images = shown
        .iter()
        .map(|(s, _)| load_rgb(&manifest.resolve(&s.path)))
        .collect::<Result<Vec<_>, _>>()?;
    let short = |name: &str| name.chars().take(14).collect::<String>();
    let captions: Vec<String> = shown
        .iter()
        .map(|(s, p)| {
            let named = p
                .and_then(|p| classes.get(p as usize))
                .map_or("?".to_string(), |n| short(n));
            format!("{} > {named}", short(&s.identity))
        })
        .collect();
    let refs: Vec<&str> = captions.iter().map(String::as_str).collect();
    let grid = maskface_plot::image_grid(&images, &refs, 6, 160)?;
    save_image_atomic(&grid, &path)?;
    Ok(())
}
