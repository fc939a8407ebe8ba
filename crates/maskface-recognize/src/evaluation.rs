//! Recognition of a manifest's test faces (`maskface recognize`): a head
//! fitted on the training chips' embeddings, each test chip answered, and
//! the model, predictions, confusion chart and report written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use maskface_core::{write_atomic, FaceEmbedder, Manifest, Sample, Split};
use maskface_dataset::{class_names, write_predictions, Answer};
use serde::Serialize;

use crate::{embed_all, load_chips, CohortParams, EmbeddingModel, HeadKind, RecognizeError};

/// Chips embedded per forward pass.
const EMBED_BATCH: usize = 32;

/// A manifest and the path it was read from (named in the report and in
/// errors).
#[derive(Debug, Clone, Copy)]
pub struct NamedManifest<'a> {
    /// Where the manifest was read from.
    pub path: &'a Path,
    /// The manifest.
    pub manifest: &'a Manifest,
}

/// What [`evaluate`] recognizes, and with what.
#[derive(Debug, Clone)]
pub struct RecognitionTask<'a> {
    /// The manifest whose training split is enrolled.
    pub train: NamedManifest<'a>,
    /// The manifest whose test split is recognized.
    pub test: NamedManifest<'a>,
    /// The head fitted on the embeddings.
    pub head: HeadKind,
    /// Chips of other people (every split), which [`HeadKind::Cohort`]
    /// needs; none of them may be one of the people to recognize.
    pub cohort: Option<NamedManifest<'a>>,
    /// The cohort normalisation's parameters.
    pub cohort_params: CohortParams,
    /// The embedder's name, as the saved model records it
    /// ([`crate::embedder_name`]).
    pub embedder: String,
    /// Whether the embedder averages each face with its mirror image.
    pub mirror: bool,
}

/// Progress of [`evaluate`]'s embedding passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedProgress {
    /// A pass over `total` chips starts: "embed" (training, then test
    /// chips) or "cohort".
    Start {
        /// What is embedded.
        what: &'static str,
        /// How many chips.
        total: usize,
    },
    /// This many more chips are embedded.
    Advance(usize),
    /// The pass is over.
    Finish,
}

/// `report.json`: what was recognized and how well.
#[derive(Debug, Clone, Serialize)]
pub struct RecognitionReport {
    /// The training manifest's path.
    pub train: String,
    /// The test manifest's path.
    pub test: String,
    /// The head.
    pub head: HeadKind,
    /// Training chips enrolled.
    pub train_images: usize,
    /// Test chips recognized.
    pub test_images: usize,
    /// Test chips answered with their own person.
    pub correct: usize,
    /// `correct / test_images` (0 without test chips).
    pub accuracy: f64,
    /// Wall-clock seconds from the start to the written outputs.
    pub seconds: f64,
}

/// A fitted recognizer and its answers on the test faces, ready to be
/// written by [`Recognition::write`].
#[derive(Debug, Clone)]
pub struct Recognition {
    /// The fitted model, as `model.json` saves it.
    pub model: EmbeddingModel,
    /// The test split's samples, in manifest order.
    pub test_samples: Vec<Sample>,
    /// Each test sample's answer.
    pub answers: Vec<Answer>,
    /// The report, whose `seconds` [`Recognition::write`] fills in.
    pub report: RecognitionReport,
}

/// Embeds `images` as one reported pass.
fn embed_pass<E: FaceEmbedder + ?Sized>(
    embedder: &E,
    images: &[image::RgbImage],
    what: &'static str,
    progress: &dyn Fn(EmbedProgress),
) -> Result<Vec<Vec<f32>>, RecognizeError> {
    progress(EmbedProgress::Start {
        what,
        total: images.len(),
    });
    let e = embed_all(embedder, images, EMBED_BATCH, &|n| {
        progress(EmbedProgress::Advance(n))
    })?;
    progress(EmbedProgress::Finish);
    Ok(e)
}

/// The cohort's embeddings, refusing a cohort that holds one of the people
/// to recognize.
fn embed_cohort<E: FaceEmbedder + ?Sized>(
    embedder: &E,
    train: &Manifest,
    cohort: NamedManifest<'_>,
    progress: &dyn Fn(EmbedProgress),
) -> Result<Vec<Vec<f32>>, RecognizeError> {
    let gallery: BTreeSet<String> = train.identities().into_iter().collect();
    if let Some(s) = cohort
        .manifest
        .samples
        .iter()
        .find(|s| gallery.contains(&s.identity))
    {
        return Err(RecognizeError::File {
            path: cohort.path.to_path_buf(),
            reason: format!(
                "the cohort holds `{}`, one of the people to recognize",
                s.identity
            ),
        });
    }
    let (images, _) = load_chips(cohort.manifest, None)?;
    embed_pass(embedder, &images, "cohort", progress)
}

/// Fits `task.head` on the embeddings of the training split's chips and
/// answers each test chip with its best class. `progress` follows the
/// embedding passes.
pub fn evaluate<E: FaceEmbedder + ?Sized>(
    embedder: &E,
    task: &RecognitionTask<'_>,
    progress: &dyn Fn(EmbedProgress),
) -> Result<Recognition, RecognizeError> {
    let train = task.train.manifest;
    let test = task.test.manifest;
    let (x, y) = load_chips(train, Some(Split::Train))?;
    if x.is_empty() {
        return Err(RecognizeError::NoTrainingImages {
            manifest: task.train.path.to_path_buf(),
        });
    }
    let (xt, yt) = load_chips(test, Some(Split::Test))?;
    let e = embed_pass(embedder, &x, "embed", progress)?;
    let et = embed_pass(embedder, &xt, "embed", progress)?;
    let cohort = match (task.cohort, task.head) {
        (_, HeadKind::Centroid | HeadKind::Softmax) => None,
        (None, HeadKind::Cohort) => {
            return Err(RecognizeError::InvalidParameter {
                name: "cohort",
                reason: "the cohort head needs chips of people outside the targets".into(),
            })
        }
        (Some(cohort), HeadKind::Cohort) => Some(embed_cohort(embedder, train, cohort, progress)?),
    };
    let head = task
        .head
        .fit(&e, &y, cohort.as_deref(), &task.cohort_params)?;
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
    let model = EmbeddingModel::new(
        task.embedder.clone(),
        task.mirror,
        class_names(train)?,
        head,
    );
    Ok(Recognition {
        model,
        test_samples: test.split(Split::Test).cloned().collect(),
        answers,
        report: RecognitionReport {
            train: task.train.path.display().to_string(),
            test: task.test.path.display().to_string(),
            head: task.head,
            train_images: y.len(),
            test_images: yt.len(),
            correct,
            accuracy: correct as f64 / yt.len().max(1) as f64,
            seconds: 0.0,
        },
    })
}

impl Recognition {
    /// Writes `predictions.csv`, `confusion.png`, `model.json` and
    /// `report.json` into `out` (created if missing); the report's
    /// `seconds` count from `started`, and [`Recognition::report`] holds
    /// them afterwards.
    pub fn write(&mut self, out: &Path, started: Instant) -> Result<(), RecognizeError> {
        let file_error = |path: PathBuf, e: &dyn std::fmt::Display| RecognizeError::File {
            path,
            reason: e.to_string(),
        };
        std::fs::create_dir_all(out).map_err(|e| file_error(out.to_path_buf(), &e))?;
        let samples: Vec<&Sample> = self.test_samples.iter().collect();
        write_predictions(
            out,
            &self.model.describe(),
            &self.model.classes,
            &samples,
            &self.answers,
        )?;
        self.model.save(&out.join("model.json"))?;
        self.report.seconds = started.elapsed().as_secs_f64();
        let path = out.join("report.json");
        let json =
            serde_json::to_vec_pretty(&self.report).map_err(|e| file_error(path.clone(), &e))?;
        write_atomic(&path, |w| w.write_all(&json))?;
        Ok(())
    }
}
