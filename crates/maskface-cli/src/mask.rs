//! `maskface mask`: every face in any photo folder masked, with a report
//! row for every input file, labels for training, and MaskTheFace's
//! options and output layout.

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use image::{ImageFormat, RgbImage};
use maskface_core::{
    decode_rgb, encode_jpeg, has_shard_journals, mark_shard_done, open_shard_journal,
    prepare_shard_dir, remove_stale_temp_files, write_atomic, write_atomic_unsynced, Detection,
    FaceDetector, JobParams, Journal, Shard, ShardParts, ShardRun, SHARDS_DIR,
};
use maskface_mask::{
    parse_code, parse_color, FaceMasker, FaceRecord, FitMix, MaskChoice, MaskKind, MaskMix,
    MaskSpec, MaskedImage, PhotoOptions, ShapePredictor, SkippedFace, Texture,
};
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::Backend;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::inputs::{visit_files, InputFile};

/// Where the masked images go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// MaskTheFace's: `<out>/<folders>/<name>_<mask>.<ext>`, the original
    /// beside it with --keep-original.
    Maskthefaces,
    /// The input tree as it is: `<out>/<folders>/<name>.<ext>` (with
    /// `--mask-type all`, `<out>/<mask>/<folders>/<name>.<ext>`).
    Mirror,
}

/// The encoding of the masked images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// The input's own (JPEG, PNG, BMP, TIFF); PNG for the others (GIF, WebP).
    Same,
    /// JPEG at --quality.
    Jpeg,
    /// Lossless PNG.
    Png,
}

#[derive(Args, Debug, Clone)]
pub struct MaskArgs {
    /// Images, or folders searched recursively (links to folders are not
    /// followed). Every file found gets a row in the report, images or not.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Output folder. Default: `<input>_masked` beside the one input folder
    /// (or `<name>_masked` beside the one input file); needed with several inputs.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Folder with the MTCNN weights and shape_predictor_68_face_landmarks.dat.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Mask type: surgical, surgical_blue, surgical_green, n95, kn95, cloth,
    /// gas, paper (the paper's flat polygon), random (drawn per face from
    /// every type but paper), or all (one output per type).
    #[arg(long, default_value = "surgical")]
    pub mask_type: String,

    /// A colour blended into every mask: #RRGGBB, #RGB or a name (white,
    /// black, grey, blue, sky-blue, light-blue, navy, green, mint, red, pink,
    /// purple, yellow, orange, beige).
    #[arg(long)]
    pub color: Option<String>,

    /// How much of --color replaces the mask's own colour, 0..=1.
    #[arg(long, default_value_t = 0.5)]
    pub color_weight: f32,

    /// A texture image blended into every mask (stretched over it, turning
    /// with the face).
    #[arg(long)]
    pub pattern: Option<PathBuf>,

    /// How much of --pattern replaces the mask's own colour, 0..=1.
    #[arg(long, default_value_t = 0.5)]
    pub pattern_weight: f32,

    /// Masks drawn uniformly per face, as MaskTheFace's --code:
    /// "TYPE[-#RRGGBB|-TEXTURE_FILE], ..." (for example
    /// "cloth-#e54294, n95, cloth-masks/check.png, surgical_blue").
    /// Overrides --mask-type, --color and --pattern.
    #[arg(long)]
    pub code: Option<String>,

    /// Where the mask sits: proper, nose-out (under the nose), chin (pulled
    /// down on the chin), worn (a preset mix: 0.75 / 0.17 / 0.08), or a
    /// weighted mix such as "proper=0.8,nose-out=0.15,chin=0.05".
    #[arg(long, default_value = "proper")]
    pub fit: String,

    /// Seed of every draw; the same seed gives byte-identical output.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Smallest face masked, in pixels (the detector searches down to this
    /// size; smaller faces it finds anyway are reported as skipped). 40
    /// matches the smallest faces MaskTheFace's detector (dlib's HOG,
    /// upsampled once) finds; 20 finds smaller ones at about 1.4x the time.
    #[arg(long, default_value_t = 40)]
    pub min_face: u32,

    /// Output layout.
    #[arg(long, value_enum, default_value_t = Layout::Maskthefaces)]
    pub layout: Layout,

    /// Also write each original image beside its masked copies
    /// (MaskTheFace's --write_original_image; with --layout mirror, under
    /// `<out>/original/`).
    #[arg(long, alias = "write-original-image")]
    pub keep_original: bool,

    /// Copy images in which no face was masked to the output unchanged, at
    /// the place a masked copy would have had in the input tree.
    #[arg(long)]
    pub copy_unmasked: bool,

    /// Write per output image a JSON file under `<out>/labels/`: every face's
    /// box, 68 landmarks, mask polygon, type, colour, texture and fit.
    #[arg(long)]
    pub labels: bool,

    /// Write per output image its binary mask (255 = mask) as PNG under
    /// `<out>/masks/`.
    #[arg(long)]
    pub binary_masks: bool,

    /// Write `<out>/annotations.json`: COCO-style instances (a category per
    /// mask type, polygon, box, area, and the face box) for the whole folder.
    #[arg(long)]
    pub coco: bool,

    /// Encoding of the masked images.
    #[arg(long, value_enum, default_value_t = Format::Same)]
    pub format: Format,

    /// JPEG quality, 1..=100.
    #[arg(long, default_value_t = 95)]
    pub quality: u8,

    /// Print each image's faces, and how often each mask was drawn.
    #[arg(short, long)]
    pub verbose: bool,

    /// Images per detector forward pass (images of equal size are batched;
    /// batches run in parallel).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,

    /// Start again in an --out made with other parameters instead of stopping.
    /// (A run with the same parameters resumes where it stopped.)
    #[arg(long)]
    pub overwrite: bool,

    /// burn backend that runs the detector.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,

    /// Mask only shard I of N (I counts from 0): the files whose name hashes
    /// to it. Shards share --out and run anywhere, in any order, each
    /// resumable; `maskface merge OUT` then writes the report, the same
    /// bytes as one process would. See docs/scale.md.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
}

/// One row of `report.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    /// The input file, relative to its input.
    source: String,
    /// Faces the detector found.
    faces: usize,
    /// Faces masked.
    masked: usize,
    /// Faces found but not masked.
    skipped: usize,
    /// Why the image, or some of its faces, were not masked.
    reason: String,
    /// The files written, relative to the output folder, `;`-separated.
    outputs: String,
}

/// What one input gave: its report row and, for the annotations, its
/// output images.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Done {
    row: Row,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    images: Vec<OutputImage>,
    /// The mask drawn for each masked face, for --verbose's counts.
    #[serde(default)]
    choices: Vec<String>,
}

/// One masked image written, with its faces.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OutputImage {
    file: String,
    width: u32,
    height: u32,
    faces: Vec<FaceRecord>,
}

/// The label file of one output image.
#[derive(Serialize)]
struct Labels<'a> {
    source: &'a str,
    image: &'a str,
    width: u32,
    height: u32,
    faces: &'a [FaceRecord],
    skipped: &'a [SkippedFace],
}

const PARAMS_FILE: &str = "mask-params.json";
/// The job's name in its shards' journals (`shards/mask-I-of-N.jsonl`).
const JOB: &str = "mask";
const REPORT_FILE: &str = "report.csv";
const COCO_FILE: &str = "annotations.json";

/// The outputs per image: each with the name its files carry (`None`:
/// the name of the masks actually drawn) and its renderer.
fn specs(args: &MaskArgs) -> Result<Vec<(Option<String>, MaskSpec)>> {
    let fits = FitMix::parse(&args.fit)?;
    for (name, w) in [
        ("--color-weight", args.color_weight),
        ("--pattern-weight", args.pattern_weight),
    ] {
        if !(0.0..=1.0).contains(&w) {
            bail!("{name} {w}: must be in 0..=1");
        }
    }
    let mix = |choices: Vec<MaskChoice>| MaskMix {
        choices,
        color_weight: args.color_weight,
        texture_weight: args.pattern_weight,
        fits: fits.clone(),
        ear_loops: true,
    };
    if let Some(code) = &args.code {
        return Ok(vec![(None, MaskSpec::Mix(mix(parse_code(code)?)))]);
    }
    let color = args.color.as_deref().map(parse_color).transpose()?;
    let texture = args
        .pattern
        .as_deref()
        .map(Texture::from_file)
        .transpose()?;
    let choice = |kind| MaskChoice {
        kind,
        color,
        texture: texture.clone(),
    };
    let kind_name = args.mask_type.trim().to_ascii_lowercase();
    Ok(match kind_name.as_str() {
        "all" => MaskKind::ALL
            .into_iter()
            .map(|k| {
                (
                    Some(k.name().to_string()),
                    MaskSpec::Mix(mix(vec![choice(k)])),
                )
            })
            .collect(),
        "random" => vec![(
            None,
            MaskSpec::Mix(mix(MaskKind::RANDOM.iter().copied().map(choice).collect())),
        )],
        name => {
            let Some(kind) = MaskKind::from_name(name) else {
                bail!(
                    "--mask-type `{}`: one of {}, random, all",
                    args.mask_type,
                    MaskKind::ALL.map(MaskKind::name).join(", ")
                );
            };
            vec![(
                Some(kind.name().to_string()),
                MaskSpec::Mix(mix(vec![choice(kind)])),
            )]
        }
    })
}

fn default_out(inputs: &[PathBuf]) -> Result<PathBuf> {
    let [input] = inputs else {
        bail!("--out is needed with several inputs");
    };
    let trimmed = PathBuf::from(input.to_string_lossy().trim_end_matches(['/', '\\']));
    let name = if input.is_dir() {
        trimmed.file_name()
    } else {
        trimmed.file_stem()
    };
    let Some(name) = name else {
        bail!(
            "--out is needed: {} has no name to derive it from",
            input.display()
        );
    };
    let mut out_name = name.to_os_string();
    out_name.push("_masked");
    Ok(trimmed.with_file_name(out_name))
}

/// The extension masked images of `source` get.
fn out_extension(format: Format, source: &Path) -> String {
    match format {
        Format::Jpeg => "jpg".into(),
        Format::Png => "png".into(),
        Format::Same => {
            let ext = source
                .extension()
                .map(|e| e.to_string_lossy().to_string())
                .unwrap_or_default();
            match ext.to_lowercase().as_str() {
                "jpg" | "jpeg" | "png" | "bmp" | "tif" | "tiff" => ext,
                _ => "png".into(),
            }
        }
    }
}

fn encode(image: &RgbImage, ext: &str, quality: u8, path: &Path) -> Result<Vec<u8>> {
    let format = ImageFormat::from_extension(ext).unwrap_or(ImageFormat::Png);
    if format == ImageFormat::Jpeg {
        return Ok(encode_jpeg(image, quality, path)?);
    }
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .with_context(|| format!("encoding {}", path.display()))?;
    Ok(out.into_inner())
}

/// `rel` with `suffix` added to its file stem and its extension set to `ext`.
fn renamed(rel: &Path, suffix: &str, ext: &str) -> PathBuf {
    let stem = rel
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    rel.with_file_name(format!("{stem}{suffix}.{ext}"))
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// The name a masked image carries: the spec's, or the drawn masks' when
/// they are all one kind (`mixed` otherwise).
fn label_of(fixed: &Option<String>, masked: &MaskedImage) -> String {
    if let Some(name) = fixed {
        return name.clone();
    }
    let mut names: Vec<&str> = masked
        .faces
        .iter()
        .filter_map(|f| f.mask.get("choice").and_then(|c| c.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [one] => one.to_string(),
        _ => "mixed".into(),
    }
}

struct Job<'a> {
    args: &'a MaskArgs,
    out: &'a Path,
    specs: &'a [(Option<String>, MaskSpec)],
    masker: FaceMasker<'a, Mtcnn, ShapePredictor>,
}

impl Job<'_> {
    fn write(&self, rel: &Path, bytes: &[u8]) -> Result<()> {
        write_atomic_unsynced(&self.out.join(rel), |w| w.write_all(bytes))?;
        Ok(())
    }

    /// Masks one decoded image with every spec and writes what was asked for.
    fn process(
        &self,
        file: &InputFile,
        bytes: &[u8],
        image: &RgbImage,
        detections: &[Detection],
    ) -> Result<Done> {
        let args = self.args;
        let key = slash(&file.rel);
        let ext = out_extension(args.format, &file.path);
        let mut outputs = Vec::new();
        let mut images = Vec::new();
        let mut choices = Vec::new();
        let (mut masked_faces, mut skipped) = (0, Vec::new());
        for (i, (fixed, spec)) in self.specs.iter().enumerate() {
            let masked = self.masker.mask_detected(image, detections, spec, &key);
            if i == 0 {
                masked_faces = masked.faces.len();
                skipped = masked.skipped.clone();
                choices = masked
                    .faces
                    .iter()
                    .map(|f| {
                        f.mask
                            .get("choice")
                            .and_then(|c| c.as_str())
                            .unwrap_or("mask")
                            .to_string()
                    })
                    .collect();
            }
            if masked.faces.is_empty() {
                continue;
            }
            let label = label_of(fixed, &masked);
            let rel = match (args.layout, self.specs.len()) {
                (Layout::Maskthefaces, _) => renamed(&file.rel, &format!("_{label}"), &ext),
                (Layout::Mirror, 1) => renamed(&file.rel, "", &ext),
                (Layout::Mirror, _) => Path::new(&label).join(renamed(&file.rel, "", &ext)),
            };
            self.write(&rel, &encode(&masked.image, &ext, args.quality, &rel)?)?;
            outputs.push(slash(&rel));
            if args.labels {
                let side = renamed(&rel, "", "json");
                let labels = Labels {
                    source: &key,
                    image: &slash(&rel),
                    width: image.width(),
                    height: image.height(),
                    faces: &masked.faces,
                    skipped: &masked.skipped,
                };
                let path = Path::new("labels").join(&side);
                self.write(&path, &serde_json::to_vec_pretty(&labels)?)?;
                outputs.push(slash(&path));
            }
            if args.binary_masks {
                let path = Path::new("masks").join(renamed(&rel, "", "png"));
                self.write(&path, &encode_gray(&masked.binary_mask(), &path)?)?;
                outputs.push(slash(&path));
            }
            if args.coco {
                images.push(OutputImage {
                    file: slash(&rel),
                    width: image.width(),
                    height: image.height(),
                    faces: masked.faces,
                });
            }
        }
        let original = match args.layout {
            Layout::Maskthefaces => file.rel.clone(),
            Layout::Mirror => Path::new("original").join(&file.rel),
        };
        if args.keep_original || (args.copy_unmasked && masked_faces == 0) {
            let rel = if args.keep_original {
                original
            } else {
                file.rel.clone()
            };
            self.write(&rel, bytes)?;
            outputs.push(slash(&rel));
        }
        let mut reasons: Vec<String> = Vec::new();
        if detections.is_empty() {
            reasons.push("no face found".into());
        }
        for s in &skipped {
            reasons.push(format!("face {}: {}", s.index + 1, s.reason));
        }
        Ok(Done {
            row: Row {
                source: key,
                faces: detections.len(),
                masked: masked_faces,
                skipped: skipped.len(),
                reason: reasons.join("; "),
                outputs: outputs.join(";"),
            },
            images,
            choices,
        })
    }
}

fn encode_gray(mask: &image::GrayImage, path: &Path) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    mask.write_to(&mut out, ImageFormat::Png)
        .with_context(|| format!("encoding {}", path.display()))?;
    Ok(out.into_inner())
}

fn not_masked(file: &InputFile, reason: String) -> Done {
    Done {
        row: Row {
            source: slash(&file.rel),
            faces: 0,
            masked: 0,
            skipped: 0,
            reason,
            outputs: String::new(),
        },
        images: Vec::new(),
        choices: Vec::new(),
    }
}

pub fn run(args: &MaskArgs) -> Result<()> {
    let out = match &args.out {
        Some(o) => o.clone(),
        None => default_out(&args.inputs)?,
    };
    let specs = specs(args)?;
    if !(1..=100).contains(&args.quality) {
        bail!("--quality {} must be in 1..=100", args.quality);
    }
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    // A first walk counts the files (the parameters record how many, and
    // the merge needs it) and this shard's own; the second, below, streams
    // them to the detector, so no list of files is held.
    let mut owned = 0usize;
    let total = visit_files(&args.inputs, args.inputs.len() > 1, Some(&out), &mut |f| {
        owned += usize::from(shard.owns(&slash(&f.rel)));
    })?;
    if total == 0 {
        bail!("no files found in {:?}", args.inputs);
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let params = serde_json::json!({
        "inputs": args.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "files": total,
        "masks": specs.iter().map(|(name, spec)| serde_json::json!({"name": name, "spec": spec.to_json()})).collect::<Vec<_>>(),
        "seed": args.seed,
        "min_face": args.min_face,
        "layout": args.layout,
        "keep_original": args.keep_original,
        "copy_unmasked": args.copy_unmasked,
        "labels": args.labels,
        "binary_masks": args.binary_masks,
        "coco": args.coco,
        "format": args.format,
        "quality": args.quality,
        "tool": maskface_mask::TOOL,
    });
    prepare_shard_dir(
        &out,
        PARAMS_FILE,
        &params,
        args.overwrite,
        &[REPORT_FILE, COCO_FILE, SHARDS_DIR, "labels", "masks"],
        shard,
    )?;
    if out.join(REPORT_FILE).is_file() && !has_shard_journals(&out, JOB) {
        let run = ShardRun {
            items: owned,
            resumed: 0,
            merged: true,
        };
        crate::merge::print_shard_run(JOB, shard, &run, &out, None);
        return Ok(());
    }

    let (journal, earlier) = open_shard_journal::<Done>(&out, JOB, shard)?;
    let done: HashSet<u64> = earlier.into_iter().map(|(o, _)| o).collect();
    let resumed = done.len();
    let pb = crate::progress::bar(owned, "mask");
    pb.inc(resumed as u64);
    stream_files(args, &out, shard, &done, total, |chunks| {
        mask_files(args, &out, &specs, chunks, &journal, &pb)
    })?;
    pb.finish_and_clear();
    drop(journal);
    mark_shard_done(&out, JOB, shard, owned as u64, total)?;
    if shard.is_whole() {
        return merge(&out, args.verbose);
    }
    let run = ShardRun {
        items: owned,
        resumed,
        merged: false,
    };
    crate::merge::print_shard_run(JOB, shard, &run, &out, None);
    Ok(())
}

/// The files of `shard` not yet `done`, in chunks, in the order of the walk,
/// each with its place in the whole walk (the merge puts the shards'
/// entries back in that order): a second walk on its own thread feeds
/// `consume` through a channel two chunks deep, so memory holds a few chunks
/// whatever the number of files. Fails if the walk no longer finds `total`
/// files.
fn stream_files(
    args: &MaskArgs,
    out: &Path,
    shard: Shard,
    done: &HashSet<u64>,
    total: u64,
    consume: impl FnOnce(&mut (dyn Iterator<Item = Vec<(u64, InputFile)>> + Send)) -> Result<()>,
) -> Result<()> {
    let chunk_len = args.batch.max(1) * 16;
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<(u64, InputFile)>>(2);
    std::thread::scope(|scope| {
        let walker = scope.spawn(move || {
            let mut chunk = Vec::with_capacity(chunk_len);
            let mut ordinal = 0u64;
            // Set when the consumer has stopped (an error): the walk ends
            // without queueing more.
            let mut stopped = false;
            let walked = visit_files(&args.inputs, args.inputs.len() > 1, Some(out), &mut |f| {
                let o = ordinal;
                ordinal += 1;
                if stopped || done.contains(&o) || !shard.owns(&slash(&f.rel)) {
                    return;
                }
                chunk.push((o, f));
                if chunk.len() == chunk_len {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(chunk_len));
                    stopped = send.send(full).is_err();
                }
            });
            if !stopped && !chunk.is_empty() {
                // An error here means the consumer stopped; it reports why.
                let _ = send.send(chunk);
            }
            walked
        });
        let consumed = consume(&mut receive.into_iter());
        let walked = walker
            .join()
            .map_err(|_| anyhow::anyhow!("the walk over {:?} stopped", args.inputs))?;
        consumed?;
        let walked = walked?;
        if walked != total {
            bail!(
                "{:?} held {total} files when the run began and {walked} now: \
                 the inputs changed during the run; run it again",
                args.inputs
            );
        }
        Ok(())
    })
}

/// Detects and masks the chunks of files, journaling each as it is done;
/// loads the models only if there is a chunk.
fn mask_files(
    args: &MaskArgs,
    out: &Path,
    specs: &[(Option<String>, MaskSpec)],
    chunks: &mut (dyn Iterator<Item = Vec<(u64, InputFile)>> + Send),
    journal: &Journal<(u64, Done)>,
    pb: &indicatif::ProgressBar,
) -> Result<()> {
    let Some(first) = chunks.next() else {
        return Ok(());
    };
    let config = MtcnnConfig {
        min_face_size: args.min_face.max(12),
        batch_size: args.batch.max(1),
        ..MtcnnConfig::default()
    };
    let mtcnn = Mtcnn::from_dir(&args.models, config, &args.backend.device()?)
        .context("loading MTCNN (run scripts/setup.sh)")?;
    // The landmark model loads (one core, half a second) while the first
    // images are decoded and detected; after that, each chunk is masked
    // while the next one is read from the walk and detected, so both cores
    // stay busy.
    let (predictor, detected) = rayon::join(
        || ShapePredictor::from_file(args.models.join(ShapePredictor::DLIB_68_FILE)),
        || detect_chunk(&mtcnn, &first),
    );
    let predictor = predictor.context("loading the landmark model (run scripts/setup.sh)")?;
    let job = Job {
        args,
        out,
        specs,
        masker: FaceMasker::new(
            &mtcnn,
            &predictor,
            PhotoOptions {
                min_face: args.min_face as f32,
                seed: args.seed,
                ..PhotoOptions::default()
            },
        ),
    };
    let mut current = Some((first, detected));
    while let Some((chunk, detected)) = current.take() {
        let (result, following) = rayon::join(
            || mask_chunk(&job, &chunk, detected, journal, pb),
            || {
                chunks.next().map(|c| {
                    let d = detect_chunk(&mtcnn, &c);
                    (c, d)
                })
            },
        );
        result?;
        current = following;
    }
    Ok(())
}

/// Joins the journals of every shard of a finished `maskface mask` run in
/// `out` into `report.csv` (and `annotations.json`), in the order of the
/// whole walk, one entry at a time: the same bytes whatever the number of
/// shards. Removes the journals and the temporary files killed writers left.
pub fn merge(out: &Path, verbose: bool) -> Result<()> {
    let params = JobParams::read(out, PARAMS_FILE)?;
    let total: u64 = params.field("files")?;
    let coco: bool = params.field("coco")?;
    let mut parts = ShardParts::<Done>::open(out, JOB, total)?;
    // Every shard has finished: no writer is left, on any machine.
    remove_stale_temp_files(out)?;

    let mut stats = Stats::default();
    let report = out.join(REPORT_FILE);
    write_atomic(&report, |w| {
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        csv.write_record(["source", "faces", "masked", "skipped", "reason", "outputs"])?;
        for o in 0..total {
            let done = parts.get(o).map_err(std::io::Error::other)?;
            stats.add(&done);
            csv.serialize(&done.row)?;
        }
        csv.flush()
    })?;
    if coco {
        write_atomic(&out.join(COCO_FILE), |w| write_coco(w, &mut parts, total))?;
    }
    parts.remove()?;

    if verbose {
        for (name, n) in &stats.choices {
            println!("{name}: {n} faces");
        }
    }
    println!(
        "masked {} faces in {} of {total} files: {} images without a face, \
         {} faces skipped, {} unreadable, {} not images \
         (every file has a row in {}) -> {}",
        stats.faces,
        stats.with_mask,
        stats.no_face,
        stats.skipped_faces,
        stats.unreadable,
        stats.not_images,
        report.display(),
        out.display()
    );
    Ok(())
}

/// The figures of the summary line, counted as the report is written.
#[derive(Default)]
struct Stats {
    faces: usize,
    with_mask: usize,
    no_face: usize,
    skipped_faces: usize,
    unreadable: usize,
    not_images: usize,
    choices: BTreeMap<String, usize>,
}

impl Stats {
    fn add(&mut self, d: &Done) {
        let r = &d.row;
        self.faces += r.masked;
        self.with_mask += usize::from(r.masked > 0);
        self.no_face += usize::from(r.reason == "no face found");
        self.skipped_faces += r.skipped;
        self.unreadable += usize::from(
            r.reason.starts_with("unreadable") || r.reason.starts_with("detection failed"),
        );
        self.not_images += usize::from(r.reason.starts_with("not an image"));
        for c in &d.choices {
            *self.choices.entry(c.clone()).or_default() += 1;
        }
    }
}

/// A chunk's files read and decoded (or why not), and its detections.
type Detected = Vec<(
    Result<(Vec<u8>, RgbImage), String>,
    Option<Result<Vec<Detection>, String>>,
)>;

/// Reads, decodes and detects the faces of a chunk of files.
fn detect_chunk(mtcnn: &Mtcnn, chunk: &[(u64, InputFile)]) -> Detected {
    let loaded: Vec<Result<(Vec<u8>, RgbImage), String>> = chunk
        .par_iter()
        .map(|(_, f)| {
            if !f.image {
                return Err("not an image (extension not read)".to_string());
            }
            let bytes = std::fs::read(&f.path).map_err(|e| format!("unreadable: {e}"))?;
            let image = decode_rgb(&bytes, &f.path).map_err(|e| format!("unreadable: {e}"))?;
            Ok((bytes, image))
        })
        .collect();
    // The decoded images move into the detector's batch and back, not copied.
    let mut images = Vec::with_capacity(loaded.len());
    let kept: Vec<Result<Vec<u8>, String>> = loaded
        .into_iter()
        .map(|r| {
            r.map(|(bytes, image)| {
                images.push(image);
                bytes
            })
        })
        .collect();
    let mut detections = mtcnn.detect_batch(&images).into_iter();
    let mut images = images.into_iter();
    kept.into_iter()
        .map(|r| match r {
            Ok(bytes) => match (images.next(), detections.next()) {
                (Some(image), d) => (
                    Ok((bytes, image)),
                    d.map(|d| d.map_err(|e| format!("detection failed: {e}"))),
                ),
                (None, _) => (Err("detection failed: no result".into()), None),
            },
            Err(reason) => (Err(reason), None),
        })
        .collect()
}

/// Masks a detected chunk, journaling each file as it is done.
fn mask_chunk(
    job: &Job<'_>,
    chunk: &[(u64, InputFile)],
    detected: Detected,
    journal: &Journal<(u64, Done)>,
    pb: &indicatif::ProgressBar,
) -> Result<()> {
    chunk
        .par_iter()
        .zip(detected.into_par_iter())
        .map(|((ordinal, file), (load, dets))| {
            let result = match (load, dets) {
                (Err(reason), _) => not_masked(file, reason),
                (Ok(_), Some(Err(reason))) => not_masked(file, reason),
                (Ok(_), None) => not_masked(file, "detection failed: no result".into()),
                (Ok((bytes, image)), Some(Ok(dets))) => job.process(file, &bytes, &image, &dets)?,
            };
            if job.args.verbose {
                // Printed above the bar, and also when stderr is not a
                // terminal (where the bar and its `println` are hidden).
                let line = format!(
                    "{}: {} faces found, {} masked{}",
                    result.row.source,
                    result.row.faces,
                    result.row.masked,
                    if result.row.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", result.row.reason)
                    }
                );
                pb.suspend(|| println!("{line}"));
            }
            journal.append(&(*ordinal, result))?;
            pb.inc(1);
            Ok(())
        })
        .collect()
}

/// The COCO-style instances of every output image: one category per mask
/// type, a polygon, box and area per masked face, and the face's box.
///
/// Written entry by entry from the shards' journals (two passes: the
/// annotations, then the images), never held whole, with the keys in the
/// order `serde_json` gives a map: the same bytes as one document.
fn write_coco(
    w: &mut dyn std::io::Write,
    parts: &mut ShardParts<Done>,
    total: u64,
) -> std::io::Result<()> {
    let category = |name: &str| {
        MaskKind::ALL
            .iter()
            .position(|k| k.name() == name)
            .map_or(0, |i| i + 1)
    };
    w.write_all(b"{\"annotations\":[")?;
    let (mut image_id, mut annotation_id) = (0usize, 0usize);
    for o in 0..total {
        let d = parts.get(o).map_err(std::io::Error::other)?;
        for img in &d.images {
            image_id += 1;
            for f in &img.faces {
                annotation_id += 1;
                let seg: Vec<f32> = f.polygon.iter().flat_map(|p| [p.x, p.y]).collect();
                let b = f.mask_box;
                let fb = &f.detection.bbox;
                if annotation_id > 1 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(
                    &mut *w,
                    &serde_json::json!({
                        "id": annotation_id,
                        "image_id": image_id,
                        "category_id": category(f.mask.get("choice").and_then(|c| c.as_str()).unwrap_or("")),
                        "segmentation": [seg],
                        "area": f.area,
                        "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                        "iscrowd": 0,
                        "face_bbox": [fb.x0, fb.y0, fb.width(), fb.height()],
                        "attributes": f.mask,
                    }),
                )?;
            }
        }
    }
    w.write_all(b"],\"categories\":")?;
    let categories: Vec<serde_json::Value> = MaskKind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| serde_json::json!({"id": i + 1, "name": k.name(), "supercategory": "face_mask"}))
        .collect();
    serde_json::to_writer(&mut *w, &categories)?;
    w.write_all(b",\"images\":[")?;
    let mut image_id = 0usize;
    for o in 0..total {
        let d = parts.get(o).map_err(std::io::Error::other)?;
        for img in &d.images {
            image_id += 1;
            if image_id > 1 {
                w.write_all(b",")?;
            }
            serde_json::to_writer(
                &mut *w,
                &serde_json::json!({
                    "id": image_id,
                    "file_name": img.file,
                    "width": img.width,
                    "height": img.height,
                    "source": d.row.source,
                }),
            )?;
        }
    }
    w.write_all(b"],\"info\":")?;
    serde_json::to_writer(
        &mut *w,
        &serde_json::json!({"description": "masked faces", "tool": maskface_mask::TOOL}),
    )?;
    w.write_all(b"}")
}
