//! The resumable masked-dataset runner: every image of a manifest through
//! [`mask_face`], in parallel batches, journaled so that an interrupted run
//! continues where it stopped; and [`generate_like`], which puts another
//! image set through the pipeline a finished run recorded.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use image::{GrayImage, Luma, RgbImage};
use maskface_core::{
    has_shard_journals, load_rgb, mark_shard_done, open_shard_journal, prepare_shard_dir,
    read_failures, remove_stale_temp_files, write_atomic, write_atomic_unsynced, write_failures,
    CoreError, Detection, FaceDetector, Failure, JobParams, LandmarkPredictor, Landmarks68,
    Manifest, MaskRenderer, OutputFormat, Point2, Sample, Shard, ShardInput, ShardParts, ShardRun,
    Split, Stage, SHARDS_DIR,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{mask_face, GenerateOptions, GenerationParams, MaskError, Variant, TOOL};

/// What was done to one source image: a line of `records.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
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
/// The job's name in its shards' journals (`shards/generate-I-of-N.jsonl`).
const JOB: &str = "generate";
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
    let run = generate_shard(
        &ShardInput::of(input, Shard::WHOLE),
        detector,
        predictor,
        renderer,
        out_dir,
        opts,
        on_progress,
    )?;
    if run.merged {
        return finished_report(input, out_dir, opts);
    }
    let mut report = merge_generated(input, out_dir)?;
    report.resumed = run.resumed;
    Ok(report)
}

/// One shard of [`generate_dataset`]: masks the images of `input` (a
/// shard's part of a manifest, [`ShardInput`]: the images the shard owns by
/// [`Shard::owns`] of their paths), writing their files and journaling them
/// under `out_dir/shards/`; [`merge_generated`] then writes the manifests,
/// records and failures once every shard is done, the same bytes as one
/// process would.
///
/// Shards may run at once, on any machine that sees `out_dir`; each is
/// resumable, so a shard run again redoes only what it has not finished.
#[allow(clippy::too_many_arguments)]
pub fn generate_shard<D, L, M>(
    input: &ShardInput<'_>,
    detector: &D,
    predictor: &L,
    renderer: &M,
    out_dir: &Path,
    opts: &GenerateOptions,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Result<ShardRun, MaskError>
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
    let variants = sorted_variants(opts);
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
        "input_root": input.manifest().info.root.display().to_string(),
        "input_samples": input.total(),
        "mask": renderer.describe(),
    });
    let mut outputs: Vec<&str> = vec!["masks", SHARDS_DIR, RECORDS_FILE, FAILURES_FILE];
    outputs.extend(Variant::ALL.iter().map(|v| v.as_str()));
    prepare_shard_dir(
        out_dir,
        PARAMS_FILE,
        &params,
        opts.overwrite,
        &outputs,
        input.shard(),
    )?;

    let shard = input.shard();
    let mine: Vec<(u64, &Sample)> = input.samples().collect();
    if out_dir.join(RECORDS_FILE).is_file() && !has_shard_journals(out_dir, JOB) {
        on_progress(mine.len());
        return Ok(ShardRun {
            items: mine.len(),
            resumed: 0,
            merged: true,
        });
    }

    let (journal, earlier) = open_shard_journal::<ImageRecord>(out_dir, JOB, shard)?;
    let done: HashSet<u64> = earlier.into_iter().map(|(o, _)| o).collect();
    let resumed = mine.iter().filter(|(o, _)| done.contains(o)).count();
    on_progress(resumed);

    // Batches are fixed ranges of the shard's items, detected whole even
    // when part of one was done before an interruption: the detector
    // treats each image alone, but reading whole batches keeps a resumed
    // run on the path the first one took.
    for chunk in mine.chunks(opts.batch) {
        if chunk.iter().all(|(o, _)| done.contains(o)) {
            continue;
        }
        let loaded: Vec<Result<RgbImage, String>> = chunk
            .par_iter()
            .map(|(_, s)| load_rgb(&input.manifest().resolve(&s.path)).map_err(|e| e.to_string()))
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
        let jobs: Vec<(&(u64, &Sample), Job<'_>)> = chunk
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
        jobs.into_par_iter()
            .filter(|((o, _), _)| !done.contains(o))
            .try_for_each(|((o, sample), job)| {
                let record = match job {
                    Ok((image, dets)) => process(
                        sample, image, &dets, predictor, renderer, out_dir, opts, &variants,
                    )?,
                    Err(reason) => failed(sample, reason),
                };
                journal.append(&(*o, record))?;
                on_progress(1);
                Ok::<(), MaskError>(())
            })?;
    }
    drop(journal);
    mark_shard_done(out_dir, JOB, shard, mine.len() as u64, input.total() as u64)?;
    Ok(ShardRun {
        items: mine.len(),
        resumed,
        merged: false,
    })
}

/// Joins the shards of a [`generate_shard`] run over `input` in `out_dir`
/// into one manifest per variant, `records.jsonl` and `failures.csv`, in
/// input order (the same bytes as one process would write), and removes
/// the shards' journals and the temporary files killed writers left.
///
/// Fails, naming the shards that have not finished, until every image of
/// `input` has its entry.
pub fn merge_generated(input: &Manifest, out_dir: &Path) -> Result<GenerateReport, MaskError> {
    let params = JobParams::read(out_dir, PARAMS_FILE)?;
    params.check_input_samples(input.samples.len())?;
    let variants: Vec<Variant> = params.field("variants")?;
    let format: OutputFormat = params.field("format")?;
    let mut parts = ShardParts::<ImageRecord>::open(out_dir, JOB, input.samples.len() as u64)?;
    // Every shard has finished: no writer is left, on any machine.
    remove_stale_temp_files(out_dir)?;

    let records_path = out_dir.join(RECORDS_FILE);
    let mut manifests: BTreeMap<Variant, Manifest> = variants
        .iter()
        .map(|v| {
            let mut m = Manifest::new(out_dir.join(v.as_str()));
            m.info.stages = input.info.stages.clone();
            (*v, m)
        })
        .collect();
    let mut failures = Vec::new();
    let mut styles: BTreeMap<String, usize> = BTreeMap::new();
    for (o, sample) in input.samples.iter().enumerate() {
        let record = parts.get(o as u64)?;
        if let Some(reason) = &record.failure {
            failures.push(Failure {
                path: sample.path.clone(),
                reason: reason.clone(),
            });
            continue;
        }
        let recorded_style = record.mask.get("style").and_then(|s| s.as_str());
        if let Some(style) = recorded_style {
            *styles.entry(style.to_string()).or_default() += 1;
        }
        let style = recorded_style.unwrap_or("mask");
        for (v, m) in manifests.iter_mut() {
            let rel = rel_image(*v, sample, format.extension());
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
    let mut stage_params = params.value;
    stage_params["masked"] = (input.samples.len() - failures.len()).into();
    stage_params["failures"] = failures.len().into();
    stage_params["renderer"] = serde_json::json!({ "styles": styles });
    for (v, m) in manifests.iter_mut() {
        m.info.stages.push(Stage {
            step: format!("generate:{}", v.as_str()),
            tool: TOOL.into(),
            params: stage_params.clone(),
        });
        m.write(&out_dir.join(v.as_str()).join("manifest.csv"))?;
    }
    write_failures(&out_dir.join(FAILURES_FILE), &failures)?;
    // The records go last, one at a time from the journals again (a second
    // pass, so they are never all in memory): their file is what marks the
    // merge done.
    let mut stopped = None;
    let written = write_atomic(&records_path, |w| {
        for o in 0..input.samples.len() as u64 {
            let record = parts.get(o).map_err(|e| {
                let message = e.to_string();
                stopped = Some(e);
                std::io::Error::other(message)
            })?;
            serde_json::to_writer(&mut *w, &record)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    });
    if let Some(e) = stopped {
        return Err(e.into());
    }
    written?;
    parts.remove()?;
    Ok(GenerateReport {
        masked: input.samples.len() - failures.len(),
        manifests,
        resumed: 0,
        failures,
    })
}

/// The report of a run that had finished before it was called.
fn finished_report(
    input: &Manifest,
    out_dir: &Path,
    opts: &GenerateOptions,
) -> Result<GenerateReport, MaskError> {
    let mut manifests = BTreeMap::new();
    for v in sorted_variants(opts) {
        let m = Manifest::read(&out_dir.join(v.as_str()).join("manifest.csv"))?;
        manifests.insert(v, m);
    }
    let failures = read_failures(&out_dir.join(FAILURES_FILE));
    Ok(GenerateReport {
        masked: input.samples.len() - failures.len(),
        manifests,
        resumed: 0,
        failures,
    })
}

fn sorted_variants(opts: &GenerateOptions) -> Vec<Variant> {
    let mut variants = opts.variants.clone();
    variants.sort();
    variants.dedup();
    variants
}

/// The manifest of the one variant [`generate_like`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedManifest {
    /// The manifest, as also written to `path`.
    pub manifest: Manifest,
    /// Where it was written: `out_dir/<variant>/manifest.csv`.
    pub path: PathBuf,
    /// The same images without the mask ([`Variant::unmasked`]), when the
    /// options asked for that variant too, and where it was written.
    pub unmasked: Option<(Manifest, PathBuf)>,
}

/// Puts `input` through the pipeline a finished run recorded (`params`,
/// read with [`GenerationParams::from_manifest`] from the manifest that run
/// wrote): the same options, seed and mask, and only the variant that
/// manifest holds, written to `out_dir` by [`generate_dataset`]. Images made
/// this way (strangers for an open-set test, extra identities for training)
/// look like the recorded ones.
///
/// A caller may change `params` first: another `mask`, or the variant's
/// [`Variant::unmasked`] twin added to `options.variants`, which then comes
/// back in [`GeneratedManifest::unmasked`].
///
/// The mask is the recorded one, or the paper's when the manifest did not
/// record it ([`GenerationParams::renderer`]). `overwrite` is passed on as
/// [`GenerateOptions::overwrite`]; an interrupted run is resumed as by
/// [`generate_dataset`], which also calls `on_progress`.
pub fn generate_like<D, L>(
    params: &GenerationParams,
    input: &Manifest,
    detector: &D,
    predictor: &L,
    out_dir: &Path,
    overwrite: bool,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Result<GeneratedManifest, MaskError>
where
    D: FaceDetector + ?Sized,
    L: LandmarkPredictor + Sync + ?Sized,
{
    let options = GenerateOptions {
        overwrite,
        ..params.options.clone()
    };
    let mut report = generate_dataset(
        input,
        detector,
        predictor,
        &params.renderer(),
        out_dir,
        &options,
        on_progress,
    )?;
    let variant = params.variant.as_str();
    let manifest =
        report
            .manifests
            .remove(&params.variant)
            .ok_or_else(|| MaskError::MissingOutput {
                dir: out_dir.to_path_buf(),
                variant,
            })?;
    let unmasked = params.variant.unmasked().and_then(|v| {
        Some((
            report.manifests.remove(&v)?,
            out_dir.join(v.as_str()).join("manifest.csv"),
        ))
    });
    Ok(GeneratedManifest {
        manifest,
        path: out_dir.join(variant).join("manifest.csv"),
        unmasked,
    })
}

fn failed(sample: &Sample, reason: String) -> ImageRecord {
    ImageRecord {
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
) -> Result<ImageRecord, MaskError>
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
    let key = sample.shard_key();
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
    Ok(ImageRecord {
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
