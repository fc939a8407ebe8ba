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

use crate::{fold_accuracy, FacePipeline, Pair, RecognizeError};

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
        Self::make_with(pipeline, lfw, images, &PaperMask::default(), seed, progress)
    }

    /// [`MaskedChips::make`] with another mask: `renderer` draws each
    /// image's mask with `seed` and the image's path.
    pub fn make_with<R>(
        pipeline: &FacePipeline,
        lfw: &Path,
        images: &[PathBuf],
        renderer: &R,
        seed: u64,
        progress: &dyn Fn(usize),
    ) -> Result<Self, RecognizeError>
    where
        R: MaskRenderer<Error = maskface_mask::MaskError> + Sync + ?Sized,
    {
        let centre = FaceBox::new(70.0, 70.0, 180.0, 180.0, 0.0);
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
            let faces = pipeline.locate(&photos, Some(centre))?;
            let done = chunk
                .par_iter()
                .zip(&photos)
                .zip(faces)
                .map(|((path, photo), face)| {
                    // A fallback box always gives a face; `None` cannot occur.
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

/// One condition's 10-fold result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationRow {
    /// "unmasked", "one image masked" or "both masked".
    pub condition: &'static str,
    /// Mean accuracy over the folds.
    pub accuracy: f64,
    /// Its standard deviation.
    pub std: f64,
    /// Each fold's distance threshold.
    pub thresholds: Vec<f64>,
}

/// The pairs scored under the three conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedVerification {
    /// Unmasked, one image masked, both masked.
    pub rows: Vec<VerificationRow>,
    /// Each condition's distance of every pair (same order as `rows`).
    pub distances: Vec<Vec<f64>>,
}

impl MaskedVerification {
    /// Scores `pairs` by dlib's metric, the Euclidean distance between raw
    /// embeddings; `unmasked[i]` and `masked[i]` embed `images[i]`, which
    /// is sorted. With one image masked, the pair's first is.
    pub fn score(
        pairs: &[Pair],
        images: &[PathBuf],
        unmasked: &[Vec<f32>],
        masked: &[Vec<f32>],
    ) -> Result<Self, RecognizeError> {
        let index = |p: &PathBuf| images.binary_search(p).unwrap_or(0);
        let similarity = |a: &[f32], b: &[f32]| {
            -a.iter()
                .zip(b)
                .map(|(x, y)| f64::from(x - y).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let mut rows = Vec::new();
        let mut distances: Vec<Vec<f64>> = Vec::new();
        for (condition, first, second) in [
            ("unmasked", unmasked, unmasked),
            ("one image masked", masked, unmasked),
            ("both masked", masked, masked),
        ] {
            let s: Vec<f64> = pairs
                .iter()
                .map(|p| similarity(&first[index(&p.a)], &second[index(&p.b)]))
                .collect();
            let (accuracy, std, thresholds) = fold_accuracy(&s, pairs)?;
            distances.push(s.iter().map(|v| -v).collect());
            rows.push(VerificationRow {
                condition,
                accuracy,
                std,
                thresholds: thresholds.iter().map(|t| -t).collect(),
            });
        }
        Ok(MaskedVerification { rows, distances })
    }

    /// The results as a Markdown table: accuracy and mean threshold per
    /// condition.
    pub fn table(&self) -> String {
        let mut table = String::from(
            "| pairs | accuracy (10 folds) | distance threshold (mean) |\n| --- | --- | --- |\n",
        );
        for r in &self.rows {
            let mean_t = r.thresholds.iter().sum::<f64>() / r.thresholds.len().max(1) as f64;
            table.push_str(&format!(
                "| {} | {:.2}% ± {:.2} | {mean_t:.3} |\n",
                r.condition,
                100.0 * r.accuracy,
                100.0 * r.std
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
        let mut csv = String::from("fold,same,a,b,unmasked,one_masked,both_masked\n");
        for (i, p) in pairs.iter().enumerate() {
            csv.push_str(&format!(
                "{},{},{},{},{:.6},{:.6},{:.6}\n",
                p.fold + 1,
                p.same,
                p.a.display(),
                p.b.display(),
                self.distances[0][i],
                self.distances[1][i],
                self.distances[2][i]
            ));
        }
        write_atomic(&out.join("pairs.csv"), |w| w.write_all(csv.as_bytes()))?;
        let report = out.join("report.json");
        let json = serde_json::to_vec_pretty(&serde_json::json!({
            "pairs": pairs.len(),
            "images": images,
            "no_face_found": fallbacks,
            "seconds": seconds,
            "rows": self.rows,
        }))
        .map_err(|e| RecognizeError::File {
            path: report.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&report, |w| w.write_all(&json))?;
        Ok(())
    }
}
