//! LFW verification with masks (`maskface verify`): every image of the
//! pairs as an aligned chip, bare and with the paper's mask painted on the
//! photo, then the pairs scored unmasked, with one image masked, and with
//! both masked.

use std::path::{Path, PathBuf};

use image::RgbImage;
use maskface_core::{load_rgb, rng_for, write_atomic, FaceBox, MaskRenderer};
use maskface_mask::{chip_details, extract_chip, ChipParams, PaperMask};
use rayon::prelude::*;
use serde::Serialize;

use crate::{
    fold_accuracy, verification_rates, FacePipeline, Pair, RecognizeError, VerificationRates,
};

/// Where LFW's deep-funneled 250x250 photos have their face when MTCNN
/// finds none: LFW centres every face.
pub const LFW_CENTRE_BOX: FaceBox = FaceBox {
    x0: 70.0,
    y0: 70.0,
    x1: 180.0,
    y1: 180.0,
    score: 0.0,
};

/// Photos decoded and detected per batch.
const PHOTO_BATCH: usize = 64;

/// The images the pairs name, sorted, each once.
pub fn pair_images(pairs: &[Pair]) -> Vec<PathBuf> {
    let mut images: Vec<PathBuf> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    images.sort();
    images.dedup();
    images
}

/// Each image's two chips.
#[derive(Debug, Clone, Default)]
pub struct MaskedChips {
    /// The aligned chips of the photos as they are.
    pub unmasked: Vec<RgbImage>,
    /// The same chips cut from the photos with the paper's mask painted on.
    pub masked: Vec<RgbImage>,
    /// Images in which MTCNN found no face (cut from the middle instead).
    pub fallbacks: usize,
}

impl MaskedChips {
    /// The chips of `images` (paths under `lfw`): detection in batches,
    /// then landmarks, the paper's mask on the photo (its colour drawn with
    /// `seed` and the image's path) and both chips, in parallel. LFW centres
    /// each face, so a photo without a detection is cut from its middle.
    /// `progress` gets each batch's size.
    pub fn make(
        pipeline: &FacePipeline,
        lfw: &Path,
        images: &[PathBuf],
        seed: u64,
        progress: &dyn Fn(usize),
    ) -> Result<Self, RecognizeError> {
        let mask = PaperMask::default();
        Self::make_with(
            pipeline,
            lfw,
            images,
            &mask,
            seed,
            Some(LFW_CENTRE_BOX),
            progress,
        )
    }

    /// [`MaskedChips::make`] with another mask and fallback: `renderer`
    /// draws each image's mask with `seed` and the image's path (as given,
    /// relative to `root`); a photo without a detected face is cut at
    /// `fallback`, or is an error naming it when `fallback` is `None`.
    pub fn make_with<R>(
        pipeline: &FacePipeline,
        root: &Path,
        images: &[PathBuf],
        renderer: &R,
        seed: u64,
        fallback: Option<FaceBox>,
        progress: &dyn Fn(usize),
    ) -> Result<Self, RecognizeError>
    where
        R: MaskRenderer<Error = maskface_mask::MaskError> + Sync + ?Sized,
    {
        let lfw = root;
        let mut chips = MaskedChips {
            unmasked: Vec::with_capacity(images.len()),
            masked: Vec::with_capacity(images.len()),
            fallbacks: 0,
        };
        for chunk in images.chunks(PHOTO_BATCH) {
            let photos = chunk
                .par_iter()
                .map(|p| load_rgb(&lfw.join(p)))
                .collect::<Result<Vec<_>, _>>()?;
            let faces = pipeline.locate(&photos, fallback)?;
            let done = chunk
                .par_iter()
                .zip(&photos)
                .zip(faces)
                .map(|((path, photo), face)| {
                    let face = face.ok_or_else(|| RecognizeError::NoFace {
                        path: lfw.join(path),
                    })?;
                    let points = &face.landmarks;
                    let key = format!("mask/{}", path.to_string_lossy().replace('\\', "/"));
                    let painted = renderer.render(photo, points, &mut rng_for(seed, &key))?;
                    let details = chip_details(points.points(), &ChipParams::default())?;
                    Ok((
                        extract_chip(photo, &details),
                        extract_chip(&painted.image, &details),
                        !face.detected,
                    ))
                })
                .collect::<Result<Vec<_>, RecognizeError>>()?;
            for (u, m, fallback) in done {
                chips.unmasked.push(u);
                chips.masked.push(m);
                chips.fallbacks += usize::from(fallback);
            }
            progress(chunk.len());
        }
        Ok(chips)
    }
}

/// How the two images of a pair are shown to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairCondition {
    /// Both as they are, nothing painted (images that are already masked,
    /// or not).
    AsIs,
    /// Both without a mask.
    Unmasked,
    /// The pair's first image with a mask painted on.
    OneMasked,
    /// Both with a mask painted on.
    BothMasked,
}

impl PairCondition {
    /// The three conditions of masked verification.
    pub const MASKED: [PairCondition; 3] = [
        PairCondition::Unmasked,
        PairCondition::OneMasked,
        PairCondition::BothMasked,
    ];

    /// How the condition is named in tables.
    pub fn name(self) -> &'static str {
        match self {
            PairCondition::AsIs => "as is",
            PairCondition::Unmasked => "unmasked",
            PairCondition::OneMasked => "one image masked",
            PairCondition::BothMasked => "both masked",
        }
    }

    /// Whether the first and the second image are masked.
    fn masked(self) -> (bool, bool) {
        match self {
            PairCondition::AsIs | PairCondition::Unmasked => (false, false),
            PairCondition::OneMasked => (true, false),
            PairCondition::BothMasked => (true, true),
        }
    }
}

/// How two embeddings are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairMetric {
    /// dlib's: the Euclidean distance between raw embeddings (a pair is the
    /// same person below the threshold).
    Euclidean,
    /// The cosine similarity (the same person above the threshold): for
    /// fine-tuned, centred embeddings.
    Cosine,
}

/// One condition's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationRow {
    /// The condition's name ([`PairCondition::name`]).
    pub condition: &'static str,
    /// Mean accuracy over the folds.
    pub accuracy: f64,
    /// Its standard deviation.
    pub std: f64,
    /// Whether each fold's threshold was picked on the other folds;
    /// `false` for a single fold, picked on the pairs themselves.
    pub cross_validated: bool,
    /// Each fold's threshold: a distance (Euclidean) or a similarity
    /// (cosine).
    pub thresholds: Vec<f64>,
    /// TAR at FAR 1% and 0.1%, EER.
    pub rates: VerificationRates,
}

/// The pairs scored under some [`PairCondition`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedVerification {
    /// One row per condition.
    pub rows: Vec<VerificationRow>,
    /// Each condition's score of every pair (same order as `rows`): a
    /// distance (Euclidean) or a similarity (cosine).
    pub distances: Vec<Vec<f64>>,
    /// The metric.
    pub metric: PairMetric,
}

impl MaskedVerification {
    /// Scores `pairs` by dlib's metric, the Euclidean distance between raw
    /// embeddings, unmasked, with one image masked and with both;
    /// `unmasked[i]` and `masked[i]` embed `images[i]`, which is sorted.
    /// With one image masked, the pair's first is.
    pub fn score(
        pairs: &[Pair],
        images: &[PathBuf],
        unmasked: &[Vec<f32>],
        masked: &[Vec<f32>],
    ) -> Result<Self, RecognizeError> {
        Self::score_with(
            pairs,
            images,
            unmasked,
            masked,
            &PairCondition::MASKED,
            PairMetric::Euclidean,
        )
    }

    /// [`MaskedVerification::score`] under `conditions` with `metric`.
    pub fn score_with(
        pairs: &[Pair],
        images: &[PathBuf],
        unmasked: &[Vec<f32>],
        masked: &[Vec<f32>],
        conditions: &[PairCondition],
        metric: PairMetric,
    ) -> Result<Self, RecognizeError> {
        let index = |p: &PathBuf| {
            images
                .binary_search(p)
                .map_err(|_| RecognizeError::Data(format!("{} is not embedded", p.display())))
        };
        // Higher is more alike, whatever the metric.
        let similarity = |a: &[f32], b: &[f32]| match metric {
            PairMetric::Euclidean => -a
                .iter()
                .zip(b)
                .map(|(x, y)| f64::from(x - y).powi(2))
                .sum::<f64>()
                .sqrt(),
            PairMetric::Cosine => {
                let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum();
                let n = |v: &[f32]| v.iter().map(|x| f64::from(x * x)).sum::<f64>().sqrt();
                dot / (n(a) * n(b)).max(1e-12)
            }
        };
        let shown = |v: f64| match metric {
            PairMetric::Euclidean => -v,
            PairMetric::Cosine => v,
        };
        let folds = pairs.iter().map(|p| p.fold).max().unwrap_or(0) + 1;
        let mut rows = Vec::new();
        let mut distances: Vec<Vec<f64>> = Vec::new();
        for &condition in conditions {
            let (ma, mb) = condition.masked();
            let side = |m: bool| if m { masked } else { unmasked };
            let s: Vec<f64> = pairs
                .iter()
                .map(|p| {
                    let (a, b) = (index(&p.a)?, index(&p.b)?);
                    match (side(ma).get(a), side(mb).get(b)) {
                        (Some(x), Some(y)) => Ok(similarity(x, y)),
                        _ => Err(RecognizeError::Data(format!(
                            "{} images embedded for {}",
                            side(ma).len().min(side(mb).len()),
                            images.len()
                        ))),
                    }
                })
                .collect::<Result<_, _>>()?;
            let (accuracy, std, thresholds) = fold_accuracy(&s, pairs)?;
            let mut rates = verification_rates(&s, pairs);
            rates.eer_threshold = shown(rates.eer_threshold);
            distances.push(s.iter().map(|v| shown(*v)).collect());
            rows.push(VerificationRow {
                condition: condition.name(),
                accuracy,
                std,
                cross_validated: folds > 1,
                thresholds: thresholds.iter().map(|t| shown(*t)).collect(),
                rates,
            });
        }
        Ok(MaskedVerification {
            rows,
            distances,
            metric,
        })
    }

    /// The results as a Markdown table: accuracy, mean threshold, TAR at
    /// FAR 1% and 0.1%, EER per condition.
    pub fn table(&self) -> String {
        let threshold = match self.metric {
            PairMetric::Euclidean => "distance threshold (mean)",
            PairMetric::Cosine => "similarity threshold (mean)",
        };
        let mut table = format!(
            "| pairs | accuracy | {threshold} | TAR@FAR=1% | TAR@FAR=0.1% | EER |\n| --- | --- | --- | --- | --- | --- |\n"
        );
        for r in &self.rows {
            let mean_t = r.thresholds.iter().sum::<f64>() / r.thresholds.len().max(1) as f64;
            let accuracy = if r.cross_validated {
                format!(
                    "{:.2}% ± {:.2} ({} folds)",
                    100.0 * r.accuracy,
                    100.0 * r.std,
                    r.thresholds.len()
                )
            } else {
                format!(
                    "{:.2}% (threshold picked on these pairs)",
                    100.0 * r.accuracy
                )
            };
            table.push_str(&format!(
                "| {} | {accuracy} | {mean_t:.3} | {:.2}% | {:.2}% | {:.2}% |\n",
                r.condition,
                100.0 * r.rates.tar_at_far_1,
                100.0 * r.rates.tar_at_far_0_1,
                100.0 * r.rates.eer,
            ));
        }
        table
    }

    /// Writes `verify.md` (the [`table`](Self::table)), `pairs.csv` (every
    /// pair's three distances) and `report.json` (the rows, the counts of
    /// pairs, images and images without a detected face, and `seconds`)
    /// into `out`, which is made when missing.
    pub fn write(
        &self,
        out: &Path,
        pairs: &[Pair],
        images: usize,
        fallbacks: usize,
        seconds: f64,
    ) -> Result<(), RecognizeError> {
        std::fs::create_dir_all(out).map_err(|e| maskface_core::CoreError::io(out, e))?;
        let table = self.table();
        write_atomic(&out.join("verify.md"), |w| w.write_all(table.as_bytes()))?;
        let mut csv = String::from("fold,same,a,b");
        for r in &self.rows {
            csv.push(',');
            csv.push_str(&r.condition.replace(' ', "_"));
        }
        csv.push('\n');
        for (i, p) in pairs.iter().enumerate() {
            csv.push_str(&format!(
                "{},{},{},{}",
                p.fold + 1,
                p.same,
                p.a.display(),
                p.b.display()
            ));
            for d in &self.distances {
                csv.push_str(&format!(",{:.6}", d.get(i).copied().unwrap_or(f64::NAN)));
            }
            csv.push('\n');
        }
        write_atomic(&out.join("pairs.csv"), |w| w.write_all(csv.as_bytes()))?;
        crate::json_file::write_json(
            &out.join("report.json"),
            &serde_json::json!({
                "pairs": pairs.len(),
                "images": images,
                "no_face_found": fallbacks,
                "seconds": seconds,
                "metric": self.metric,
                "rows": self.rows,
            }),
        )
    }
}
