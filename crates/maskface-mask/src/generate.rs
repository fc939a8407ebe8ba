//! The masked-dataset pipeline: detect and crop each face, place 68
//! landmarks on the crop, paint a mask, cut the upper part of the face.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use image::{imageops, GrayImage, Luma, RgbImage};
use maskface_core::{
    crop_face, load_rgb, prepare_job_dir, read_failures, rng_for, write_atomic,
    write_atomic_unsynced, write_failures, CoreError, CropConfig, Detection, FaceBox, FaceDetector,
    FaceSelection, Failure, Journal, LandmarkPredictor, Landmarks68, Manifest, MaskRenderer,
    MaskedFace, OutputFormat, Point2, Sample, Split, Stage,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{landmark_box, MaskError, TOOL};

/// Where the upper part of the face ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UpperCut {
    /// At the nose bridge: the row of landmark 28 (0-based), the top vertex
    /// of the paper's mask polygon. Everything above the mask is kept, so
    /// the cut follows the face, wherever it sits in the crop (the default).
    NoseBridge,
    /// A fixed fraction of the crop's height from the top (the paper's
    /// "upper 1/2" is 0.5).
    Fraction {
        /// Kept fraction, in (0, 1].
        fraction: f32,
    },
}

impl UpperCut {
    /// The first row *not* kept, in a crop of `height` rows with these
    /// landmarks; at least 1 and at most `height`.
    pub fn row(&self, landmarks: &Landmarks68, height: u32) -> u32 {
        let y = match *self {
            UpperCut::NoseBridge => landmarks.points()[28].y,
            UpperCut::Fraction { fraction } => fraction * height as f32,
        };
        if y.is_finite() {
            (y.round().max(1.0) as u32).min(height.max(1))
        } else {
            height.max(1)
        }
    }
}

/// One image written per source image and variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The masked crop's upper part, resized to `upper_size` (the paper's input).
    MaskedUpper,
    /// The whole masked crop.
    MaskedFull,
    /// The crop without a mask.
    UnmaskedFull,
    /// The unmasked crop's upper part, resized to `upper_size`.
    UnmaskedUpper,
    /// The masked face aligned as dlib's `get_face_chip` does (150x150,
    /// padding 0.25), cut from the source image with the mask painted there:
    /// the input of dlib's face-recognition network.
    MaskedChip,
    /// The masked chip with everything below the cut black: the
    /// recognizer's view of the upper part.
    MaskedChipUpper,
    /// The aligned chip without a mask.
    UnmaskedChip,
}

impl Variant {
    /// All variants.
    pub const ALL: [Variant; 7] = [
        Variant::MaskedUpper,
        Variant::MaskedFull,
        Variant::UnmaskedFull,
        Variant::UnmaskedUpper,
        Variant::MaskedChip,
        Variant::MaskedChipUpper,
        Variant::UnmaskedChip,
    ];

    /// Whether this is an aligned chip (which [`mask_face`] makes only
    /// when asked).
    pub fn is_chip(&self) -> bool {
        matches!(
            self,
            Variant::MaskedChip | Variant::MaskedChipUpper | Variant::UnmaskedChip
        )
    }

    /// The folder name (`masked_upper`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Variant::MaskedUpper => "masked_upper",
            Variant::MaskedFull => "masked_full",
            Variant::UnmaskedFull => "unmasked_full",
            Variant::UnmaskedUpper => "unmasked_upper",
            Variant::MaskedChip => "masked_chip",
            Variant::MaskedChipUpper => "masked_chip_upper",
            Variant::UnmaskedChip => "unmasked_chip",
        }
    }
}

/// Options of [`generate_dataset`] and [`mask_face`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateOptions {
    /// Seed of every random draw (mask style and colour).
    pub seed: u64,
    /// The face crop (the paper: 15 px margin, 160 px).
    pub crop: CropConfig,
    /// Which face is kept when an image has several.
    pub selection: FaceSelection,
    /// Where the upper part ends.
    pub cut: UpperCut,
    /// Width and height the upper parts are resized to.
    pub upper_size: [u32; 2],
    /// The images written for each source image.
    pub variants: Vec<Variant>,
    /// Encoding of the images written.
    pub format: OutputFormat,
    /// Images detected per batch.
    pub batch: usize,
    /// Smallest fraction of the face box that must lie inside the image.
    /// The crop of a face mostly outside the image is a stretched sliver
    /// (the crop is clipped to the image, then resized to a square), so such
    /// faces are recorded as skipped.
    pub min_visible: f32,
    /// Start again in an output folder made with other parameters.
    #[serde(default)]
    pub overwrite: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            seed: 42,
            crop: CropConfig::default(),
            selection: FaceSelection::CenterWeighted { weight: 2.0 },
            cut: UpperCut::NoseBridge,
            upper_size: [160, 80],
            variants: vec![
                Variant::MaskedUpper,
                Variant::MaskedFull,
                Variant::MaskedChip,
                Variant::MaskedChipUpper,
            ],
            format: OutputFormat::Png,
            batch: 64,
            min_visible: 0.6,
            overwrite: false,
        }
    }
}

/// Every step of the pipeline on one face: what [`mask_face`] returns, and
/// what the preview contact sheet shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceSteps {
    /// The chosen detection, in source-image pixels.
    pub detection: Detection,
    /// The source pixels the crop covers, `[left, top, right, bottom)`.
    pub crop_box: [u32; 4],
    /// The crop without a mask.
    pub crop: RgbImage,
    /// The box given to the landmark model, in crop pixels.
    pub landmark_box: FaceBox,
    /// The 68 landmarks, in crop pixels.
    pub landmarks: Landmarks68,
    /// The masked crop, its mask and its description.
    pub masked: MaskedFace,
    /// The first crop row not kept in the upper part.
    pub cut_row: u32,
    /// The aligned chips, when a chip variant was asked for.
    pub chips: Option<FaceChips>,
}

/// The face aligned for recognition ([`crate::face_chip`]), with and
/// without the mask.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceChips {
    /// The chip of the unmasked face.
    pub unmasked: RgbImage,
    /// The chip of the masked face (the mask painted on the source image
    /// with the same draws as on the crop).
    pub masked: RgbImage,
    /// The first chip row below the cut (black in the upper chip).
    pub cut_row: u32,
}

impl FaceChips {
    /// The masked chip with the rows from [`FaceChips::cut_row`] down black.
    pub fn masked_upper(&self) -> RgbImage {
        let mut chip = self.masked.clone();
        let w = chip.width() as usize;
        let start = (self.cut_row.min(chip.height()) as usize) * 3 * w;
        chip.as_mut()[start..].fill(0);
        chip
    }
}

impl FaceSteps {
    /// The upper part (rows above [`FaceSteps::cut_row`]) of `image` (the
    /// crop or the masked crop), resized to `size`.
    pub fn upper(&self, image: &RgbImage, size: [u32; 2]) -> RgbImage {
        let rows = self.cut_row.clamp(1, image.height().max(1));
        let top = imageops::crop_imm(image, 0, 0, image.width(), rows).to_image();
        imageops::resize(&top, size[0], size[1], imageops::FilterType::Triangle)
    }

    /// The image of one variant.
    pub fn variant(&self, variant: Variant, upper_size: [u32; 2]) -> RgbImage {
        match variant {
            Variant::MaskedUpper => self.upper(&self.masked.image, upper_size),
            Variant::MaskedFull => self.masked.image.clone(),
            Variant::UnmaskedFull => self.crop.clone(),
            Variant::UnmaskedUpper => self.upper(&self.crop, upper_size),
            Variant::MaskedChip => self.chips.as_ref().map_or_else(empty, |c| c.masked.clone()),
            Variant::MaskedChipUpper => self
                .chips
                .as_ref()
                .map_or_else(empty, FaceChips::masked_upper),
            Variant::UnmaskedChip => self
                .chips
                .as_ref()
                .map_or_else(empty, |c| c.unmasked.clone()),
        }
    }
}

fn empty() -> RgbImage {
    RgbImage::new(0, 0)
}

/// Maps a point of the crop back into the source image (the inverse of
/// [`to_crop`]).
fn from_crop(p: Point2, crop_box: &[u32; 4], size: u32) -> Point2 {
    let sx = (crop_box[2] - crop_box[0]).max(1) as f32 / size as f32;
    let sy = (crop_box[3] - crop_box[1]).max(1) as f32 / size as f32;
    Point2::new(
        (p.x + 0.5) * sx - 0.5 + crop_box[0] as f32,
        (p.y + 0.5) * sy - 0.5 + crop_box[1] as f32,
    )
}

/// Maps a point of the source image into the crop, as `imageops::resize`
/// maps pixel centres.
fn to_crop(p: Point2, crop_box: &[u32; 4], size: u32) -> Point2 {
    let sx = size as f32 / (crop_box[2] - crop_box[0]).max(1) as f32;
    let sy = size as f32 / (crop_box[3] - crop_box[1]).max(1) as f32;
    Point2::new(
        (p.x - crop_box[0] as f32 + 0.5) * sx - 0.5,
        (p.y - crop_box[1] as f32 + 0.5) * sy - 0.5,
    )
}

/// Runs the pipeline on one detected face: crop, landmarks on the crop,
/// mask, upper cut. `key` names the image in the random stream, so a face
/// gets the same mask whichever order images are processed in.
pub fn mask_face<L, M>(
    image: &RgbImage,
    detection: &Detection,
    predictor: &L,
    renderer: &M,
    opts: &GenerateOptions,
    key: &str,
) -> Result<FaceSteps, MaskError>
where
    L: LandmarkPredictor + ?Sized,
    M: MaskRenderer + ?Sized,
{
    let b = &detection.bbox;
    let inside = (b.x1.min(image.width() as f32) - b.x0.max(0.0)).max(0.0)
        * (b.y1.min(image.height() as f32) - b.y0.max(0.0)).max(0.0);
    let visible = if b.area() > 0.0 {
        inside / b.area()
    } else {
        0.0
    };
    if visible < opts.min_visible {
        return Err(MaskError::Step {
            step: "crop",
            reason: format!(
                "face cut by the image border: {:.0}% of its box is inside the image (minimum {:.0}%)",
                100.0 * visible,
                100.0 * opts.min_visible
            ),
        });
    }
    let (crop, crop_box) = crop_face(image, &detection.bbox, &opts.crop)?;
    let size = opts.crop.size;
    let in_crop = Detection {
        bbox: {
            let a = to_crop(
                Point2::new(detection.bbox.x0, detection.bbox.y0),
                &crop_box,
                size,
            );
            let b = to_crop(
                Point2::new(detection.bbox.x1, detection.bbox.y1),
                &crop_box,
                size,
            );
            FaceBox::new(a.x, a.y, b.x, b.y, detection.bbox.score)
        },
        landmarks: detection
            .landmarks
            .map(|l| maskface_core::Landmarks5(l.0.map(|p| to_crop(p, &crop_box, size)))),
    };
    let lbox = landmark_box(&in_crop);
    let landmarks = predictor
        .predict(&crop, &lbox)
        .map_err(|e| MaskError::Step {
            step: "landmarks",
            reason: e.to_string(),
        })?;
    let mut rng = rng_for(opts.seed, &format!("mask/{key}"));
    let masked = renderer
        .render(&crop, &landmarks, &mut rng)
        .map_err(|e| MaskError::Step {
            step: "mask",
            reason: e.to_string(),
        })?;
    let cut_row = opts.cut.row(&landmarks, crop.height());
    let chips = if opts.variants.iter().any(Variant::is_chip) {
        Some(chips(
            image, &crop_box, size, &landmarks, renderer, opts, key,
        )?)
    } else {
        None
    };
    Ok(FaceSteps {
        detection: detection.clone(),
        crop_box,
        crop,
        landmark_box: lbox,
        landmarks,
        masked,
        cut_row,
        chips,
    })
}

/// The aligned chips: the landmarks mapped back to the source image, the
/// mask painted there with the crop's draws (the same random stream), and
/// both faces cut out as dlib aligns them.
fn chips<M: MaskRenderer + ?Sized>(
    image: &RgbImage,
    crop_box: &[u32; 4],
    size: u32,
    landmarks: &Landmarks68,
    renderer: &M,
    opts: &GenerateOptions,
    key: &str,
) -> Result<FaceChips, MaskError> {
    let points: Vec<Point2> = landmarks
        .points()
        .iter()
        .map(|&p| from_crop(p, crop_box, size))
        .collect();
    let source_landmarks = Landmarks68::new(points)?;
    let mut rng = rng_for(opts.seed, &format!("mask/{key}"));
    let masked = renderer
        .render(image, &source_landmarks, &mut rng)
        .map_err(|e| MaskError::Step {
            step: "mask",
            reason: e.to_string(),
        })?;
    let params = crate::ChipParams::default();
    let details = crate::chip_details(source_landmarks.points(), &params)?;
    // The cut in chip rows: the nose bridge where it lands in the chip, or
    // the same fraction of the chip.
    let cut_row = match opts.cut {
        UpperCut::NoseBridge => details.to_chip(source_landmarks.points()[28]).y.round(),
        UpperCut::Fraction { fraction } => (fraction * params.size as f32).round(),
    };
    Ok(FaceChips {
        unmasked: crate::extract_chip(image, &details),
        masked: crate::extract_chip(&masked.image, &details),
        cut_row: cut_row.clamp(1.0, params.size as f32) as u32,
    })
}

/// What was done to one source image: a line of `records.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRecord {
    /// The source image, relative to the input root.
    pub source: PathBuf,
    /// Its identity.
    pub identity: String,
    /// Its class label.
    pub label: u32,
    /// Its split.
    pub split: Split,
    /// Why it was skipped, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The chosen detection, in source pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
    /// The source pixels the crop covers, `[left, top, right, bottom)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop_box: Option<[u32; 4]>,
    /// The 68 landmarks, in crop pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmarks: Option<Landmarks68>,
    /// The mask outline, in crop pixels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygon: Vec<Point2>,
    /// The mask's style, colour and drawn parameters.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub mask: serde_json::Value,
    /// The binary mask (255 = mask), relative to the output folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_file: Option<PathBuf>,
    /// The first crop row not kept in the upper part.
    #[serde(default)]
    pub cut_row: u32,
    /// The first chip row below the cut, when chips were made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip_cut_row: Option<u32>,
}

/// What [`generate_dataset`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateReport {
    /// One manifest per variant, each also written to
    /// `out_dir/<variant>/manifest.csv`.
    pub manifests: BTreeMap<Variant, Manifest>,
    /// Source images masked.
    pub masked: usize,
    /// Source images taken from an earlier, interrupted run.
    pub resumed: usize,
    /// Source images skipped (also in `out_dir/failures.csv`).
    pub failures: Vec<Failure>,
}

/// A decoded image with its detections, or why there is none.
type Job<'a> = Result<(&'a RgbImage, Vec<Detection>), String>;

const PARAMS_FILE: &str = "generate-params.json";
const JOURNAL_FILE: &str = "generate-journal.jsonl";
const RECORDS_FILE: &str = "records.jsonl";
const FAILURES_FILE: &str = "failures.csv";

fn rel_image(variant: Variant, sample: &Sample, ext: &str) -> PathBuf {
    Path::new(variant.as_str())
        .join("images")
        .join(sample.split.as_str())
        .join(sample.path.with_extension(ext))
}

/// Turns a dataset into a masked-face dataset.
///
/// For every image of `input`: detect the faces, keep one
/// (`opts.selection`), crop it with a margin, place the 68 landmarks on the
/// crop, paint a mask, and write the requested [`Variant`]s to
/// `out_dir/<variant>/images/<split>/<identity>/<name>.png` with one
/// manifest per variant (`out_dir/<variant>/manifest.csv`), the binary
/// masks to `out_dir/masks/...`, what was done to each image (detection,
/// landmarks, mask polygon, style) to `out_dir/records.jsonl`, and the
/// skipped images with their reasons to `out_dir/failures.csv`.
///
/// Images are detected in batches and processed in parallel. Files are
/// written atomically and each finished batch is journaled, so a run that
/// is interrupted continues where it stopped when called again with the same
/// parameters; a finished run returns at once. The output depends only on
/// the input and the parameters: the same seed gives byte-identical files.
/// An unreadable image, an image without a face or a failed step is a
/// recorded skip, never an error.
///
/// `on_progress(n)` is called as `n` more source images are done.
pub fn generate_dataset<D, L, M>(
    input: &Manifest,
    detector: &D,
    predictor: &L,
    renderer: &M,
    out_dir: &Path,
    opts: &GenerateOptions,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Result<GenerateReport, MaskError>
where
    D: FaceDetector + ?Sized,
    L: LandmarkPredictor + Sync + ?Sized,
    M: MaskRenderer + Sync + ?Sized,
{
    opts.format.validate()?;
    if opts.variants.is_empty() || opts.batch == 0 || opts.upper_size.contains(&0) {
        return Err(MaskError::InvalidParameter {
            name: "options",
            reason:
                "at least one variant, a batch of at least 1 and a non-empty upper size are needed"
                    .into(),
        });
    }
    let mut variants = opts.variants.clone();
    variants.sort();
    variants.dedup();
    let params = serde_json::json!({
        "seed": opts.seed,
        "crop": opts.crop,
        "selection": opts.selection,
        "cut": opts.cut,
        "upper_size": opts.upper_size,
        "variants": variants,
        "format": opts.format,
        "batch": opts.batch,
        "min_visible": opts.min_visible,
        "input_root": input.info.root.display().to_string(),
        "input_samples": input.samples.len(),
        "mask": renderer.describe(),
    });
    let mut outputs: Vec<&str> = vec!["masks", JOURNAL_FILE, RECORDS_FILE, FAILURES_FILE];
    outputs.extend(Variant::ALL.iter().map(|v| v.as_str()));
    prepare_job_dir(out_dir, PARAMS_FILE, &params, opts.overwrite, &outputs)?;

    let journal_path = out_dir.join(JOURNAL_FILE);
    let records_path = out_dir.join(RECORDS_FILE);
    if records_path.is_file() && !journal_path.exists() {
        let mut manifests = BTreeMap::new();
        for v in &variants {
            let m = Manifest::read(&out_dir.join(v.as_str()).join("manifest.csv"))?;
            manifests.insert(*v, m);
        }
        on_progress(input.samples.len());
        let failures = read_failures(&out_dir.join(FAILURES_FILE));
        return Ok(GenerateReport {
            masked: input.samples.len() - failures.len(),
            manifests,
            resumed: 0,
            failures,
        });
    }

    let (journal, earlier) = Journal::<GenerateRecord>::open(&journal_path)?;
    let mut done: HashMap<PathBuf, GenerateRecord> =
        earlier.into_iter().map(|r| (r.source.clone(), r)).collect();
    let resumed = input
        .samples
        .iter()
        .filter(|s| done.contains_key(&s.path))
        .count();
    on_progress(resumed);

    // Batches are fixed ranges of the input, detected whole even when part
    // of one was done before an interruption: a detector's arithmetic may
    // depend on what else is in its batch, and the output must not.
    for chunk in input.samples.chunks(opts.batch) {
        if chunk.iter().all(|s| done.contains_key(&s.path)) {
            continue;
        }
        let loaded: Vec<Result<RgbImage, String>> = chunk
            .par_iter()
            .map(|s| load_rgb(&input.resolve(&s.path)).map_err(|e| e.to_string()))
            .collect();
        // Decoded images move into the detector's batch; each sample keeps
        // its decoding error, if any.
        let mut images = Vec::with_capacity(chunk.len());
        let load_errors: Vec<Option<String>> = loaded
            .into_iter()
            .map(|r| r.map(|img| images.push(img)).err())
            .collect();
        let mut detections = detector.detect_batch(&images).into_iter();
        let mut image_iter = images.iter();
        let jobs: Vec<(&Sample, Job<'_>)> = chunk
            .iter()
            .zip(load_errors)
            .map(|(s, error)| match error {
                None => match (image_iter.next(), detections.next()) {
                    (Some(img), Some(Ok(d))) => (s, Ok((img, d))),
                    (_, Some(Err(e))) => (s, Err(format!("detection failed: {e}"))),
                    _ => (s, Err("detection failed: no result".into())),
                },
                Some(e) => (s, Err(e)),
            })
            .collect();
        let records: Vec<GenerateRecord> = jobs
            .into_par_iter()
            .filter(|(s, _)| !done.contains_key(&s.path))
            .map(|(sample, job)| {
                let record = match job {
                    Ok((image, dets)) => process(
                        sample, image, &dets, predictor, renderer, out_dir, opts, &variants,
                    )?,
                    Err(reason) => failed(sample, reason),
                };
                journal.append(&record)?;
                on_progress(1);
                Ok(record)
            })
            .collect::<Result<_, MaskError>>()?;
        for r in records {
            done.insert(r.source.clone(), r);
        }
    }

    // Everything is done: write the outputs in input order.
    let mut manifests: BTreeMap<Variant, Manifest> = variants
        .iter()
        .map(|v| {
            let mut m = Manifest::new(out_dir.join(v.as_str()));
            m.info.stages = input.info.stages.clone();
            (*v, m)
        })
        .collect();
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    for sample in &input.samples {
        let Some(record) = done.get(&sample.path) else {
            continue;
        };
        let mut line = serde_json::to_vec(record).map_err(|source| CoreError::Json {
            path: records_path.clone(),
            source,
        })?;
        line.push(b'\n');
        lines.extend(line);
        if let Some(reason) = &record.failure {
            failures.push(Failure {
                path: sample.path.clone(),
                reason: reason.clone(),
            });
            continue;
        }
        let style = record
            .mask
            .get("style")
            .and_then(|s| s.as_str())
            .unwrap_or("mask");
        for (v, m) in manifests.iter_mut() {
            let rel = rel_image(*v, sample, opts.format.extension());
            let rel = rel.strip_prefix(v.as_str()).unwrap_or(&rel).to_path_buf();
            let transform = match v {
                Variant::MaskedUpper => format!("mask({style});upper(row={})", record.cut_row),
                Variant::MaskedFull => format!("mask({style})"),
                Variant::UnmaskedFull => String::new(),
                Variant::UnmaskedUpper => format!("upper(row={})", record.cut_row),
                Variant::MaskedChip => format!("mask({style});chip"),
                Variant::MaskedChipUpper => format!(
                    "mask({style});chip;upper(row={})",
                    record.chip_cut_row.unwrap_or_default()
                ),
                Variant::UnmaskedChip => "chip".into(),
            };
            m.samples.push(Sample {
                path: rel,
                transform,
                origin: None,
                ..sample.clone()
            });
        }
    }
    let mut stage_params = params;
    stage_params["masked"] = (input.samples.len() - failures.len()).into();
    stage_params["failures"] = failures.len().into();
    stage_params["renderer"] = describe_renderer(done.values());
    for (v, m) in manifests.iter_mut() {
        m.info.stages.push(Stage {
            step: format!("generate:{}", v.as_str()),
            tool: TOOL.into(),
            params: stage_params.clone(),
        });
        m.write(&out_dir.join(v.as_str()).join("manifest.csv"))?;
    }
    write_atomic(&records_path, |w| w.write_all(&lines))?;
    write_failures(&out_dir.join(FAILURES_FILE), &failures)?;
    journal.finish()?;
    Ok(GenerateReport {
        masked: input.samples.len() - failures.len(),
        manifests,
        resumed,
        failures,
    })
}

/// The set of mask styles used, for the manifest's record.
fn describe_renderer<'a>(records: impl Iterator<Item = &'a GenerateRecord>) -> serde_json::Value {
    let mut styles: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        if let Some(s) = r.mask.get("style").and_then(|s| s.as_str()) {
            *styles.entry(s.to_string()).or_default() += 1;
        }
    }
    serde_json::json!({ "styles": styles })
}

fn failed(sample: &Sample, reason: String) -> GenerateRecord {
    GenerateRecord {
        source: sample.path.clone(),
        identity: sample.identity.clone(),
        label: sample.label,
        split: sample.split,
        failure: Some(reason),
        detection: None,
        crop_box: None,
        landmarks: None,
        polygon: Vec::new(),
        mask: serde_json::Value::Null,
        mask_file: None,
        cut_row: 0,
        chip_cut_row: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn process<L, M>(
    sample: &Sample,
    image: &RgbImage,
    detections: &[Detection],
    predictor: &L,
    renderer: &M,
    out_dir: &Path,
    opts: &GenerateOptions,
    variants: &[Variant],
) -> Result<GenerateRecord, MaskError>
where
    L: LandmarkPredictor + ?Sized,
    M: MaskRenderer + ?Sized,
{
    let Some(det) = opts
        .selection
        .pick(detections, image.width(), image.height())
    else {
        return Ok(failed(sample, "no face found".into()));
    };
    let key = sample.path.to_string_lossy().replace('\\', "/");
    let steps = match mask_face(image, det, predictor, renderer, opts, &key) {
        Ok(s) => s,
        Err(e) => return Ok(failed(sample, e.to_string())),
    };
    for v in variants {
        let path = out_dir.join(rel_image(*v, sample, opts.format.extension()));
        let encoded = opts
            .format
            .encode(&steps.variant(*v, opts.upper_size), &path)?;
        write_atomic_unsynced(&path, |w| w.write_all(&encoded))?;
    }
    let mask_rel = Path::new("masks")
        .join(sample.split.as_str())
        .join(sample.path.with_extension("png"));
    let binary = GrayImage::from_fn(
        steps.masked.mask.width(),
        steps.masked.mask.height(),
        |x, y| {
            Luma([if steps.masked.mask.get_pixel(x, y)[0] >= 128 {
                255
            } else {
                0
            }])
        },
    );
    let mask_path = out_dir.join(&mask_rel);
    let mut png = std::io::Cursor::new(Vec::new());
    binary
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|source| CoreError::ImageWrite {
            path: mask_path.clone(),
            source,
        })?;
    write_atomic_unsynced(&mask_path, |w| w.write_all(png.get_ref()))?;
    Ok(GenerateRecord {
        source: sample.path.clone(),
        identity: sample.identity.clone(),
        label: sample.label,
        split: sample.split,
        failure: None,
        detection: Some(steps.detection),
        crop_box: Some(steps.crop_box),
        landmarks: Some(steps.landmarks),
        polygon: steps.masked.polygon,
        mask: serde_json::from_str(&steps.masked.description)
            .unwrap_or(serde_json::Value::String(steps.masked.description)),
        mask_file: Some(mask_rel),
        cut_row: steps.cut_row,
        chip_cut_row: steps.chips.as_ref().map(|c| c.cut_row),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_mapping_follows_pixel_centres() {
        // A 100 px wide region scaled to 50: pixel centres 0.5 apart map
        // (0 -> -0.25, 1 -> 0.25).
        let b = [10, 20, 110, 120];
        let p = to_crop(Point2::new(10.0, 20.0), &b, 50);
        assert!(
            (p.x + 0.25).abs() < 1e-6 && (p.y + 0.25).abs() < 1e-6,
            "{p:?}"
        );
        let q = to_crop(Point2::new(109.0, 119.0), &b, 50);
        assert!((q.x - 49.25).abs() < 1e-5, "{q:?}");
    }

    #[test]
    fn cut_rows_are_clamped() {
        let pts: Vec<Point2> = (0..68).map(|i| Point2::new(0.0, i as f32 * 3.0)).collect();
        let l = Landmarks68::new(pts).unwrap();
        assert_eq!(UpperCut::NoseBridge.row(&l, 160), 84);
        assert_eq!(UpperCut::NoseBridge.row(&l, 50), 50);
        assert_eq!(UpperCut::Fraction { fraction: 0.5 }.row(&l, 160), 80);
        assert_eq!(UpperCut::Fraction { fraction: 0.0 }.row(&l, 160), 1);
    }
}
