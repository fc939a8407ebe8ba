use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use maskface_core::{
    load_rgb, save_image_atomic, CropConfig, Manifest, MaskRenderer, Shard, ShardInput, Split,
};
use maskface_mask::{
    contact_sheet, generate_dataset, generate_shard, mask_face, GenerateOptions, GenerateReport,
    MaskError, MaskFamily, MaskSpec, MaskStyle, PaperColor, PaperMask, RealisticMask,
    ShapePredictor, UpperCut, Variant,
};
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};

use maskface_core::{FaceSelectionKind, OutputFormatKind};
use maskface_nets::Backend;

// The library has no enum with these five choices: `paper` is `PaperMask`,
// `realistic` is `RealisticMask` over all three `MaskStyle`s, the others one
// style each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaskArg {
    /// The paper's flat polygon (landmarks 2..=14 and 28).
    Paper,
    /// Surgical masks: pleats, nose wire, ear loops.
    Surgical,
    /// N95 / KN95 cups.
    N95,
    /// Cloth masks with procedural patterns.
    Cloth,
    /// Surgical, N95 and cloth, drawn per image.
    Realistic,
    /// The paper's polygon (one face in five) or a realistic mask, drawn per
    /// image, without the cloth patterns held out for testing (checks,
    /// floral): training data.
    Family,
    /// Only cloth masks in the held-out patterns (checks, floral): test
    /// faces in masks a network trained on `family` never saw.
    HeldOut,
}

// `UpperCut::Fraction` carries a number; the command line offers one value
// of it, the paper's half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CutArg {
    /// At the nose bridge (landmark 28), the top of the paper's mask.
    NoseBridge,
    /// The top half of the crop, as the paper.
    Half,
}

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// The split manifest whose images to mask.
    #[arg(long, default_value = "data/split/manifest.csv")]
    pub manifest: PathBuf,

    /// Output folder: <variant>/images/<split>/..., <variant>/manifest.csv,
    /// masks/, records.jsonl, failures.csv, preview.png.
    #[arg(long, default_value = "data/masked")]
    pub out: PathBuf,

    /// Folder with the MTCNN weights and shape_predictor_68_face_landmarks.dat.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Seed of every random draw; the same seed gives byte-identical output.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Mask style.
    #[arg(long, value_enum, default_value_t = MaskArg::Paper)]
    pub mask: MaskArg,

    /// Colours drawn from for the paper's mask.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "black,white,sky-blue"
    )]
    pub colors: Vec<PaperColor>,

    /// Where the upper part of the face ends.
    #[arg(long, value_enum, default_value_t = CutArg::NoseBridge)]
    pub cut: CutArg,

    /// Size the upper parts are resized to, WIDTHxHEIGHT.
    #[arg(long, default_value = "160x80")]
    pub upper_size: String,

    /// Images written per source image.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "masked-upper,masked-full,masked-chip,masked-chip-upper"
    )]
    pub variants: Vec<Variant>,

    /// Margin around the face box, in pixels of the crop (the paper: 15).
    #[arg(long, default_value_t = 15)]
    pub margin: u32,

    /// Side of the square face crop.
    #[arg(long, default_value_t = 160)]
    pub size: u32,

    /// Smallest face searched for, in pixels.
    #[arg(long, default_value_t = 40)]
    pub min_face: u32,

    /// Which face is kept when an image has several.
    #[arg(long, value_enum, default_value_t = FaceSelectionKind::Center)]
    pub select: FaceSelectionKind,

    /// Encoding of the images written.
    #[arg(long, value_enum, default_value_t = OutputFormatKind::Png)]
    pub format: OutputFormatKind,

    /// JPEG quality, 1..=100 (with --format jpeg).
    #[arg(long, default_value_t = 95)]
    pub quality: u8,

    /// burn backend that runs the detector.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,

    /// Delete an earlier run in --out made with other parameters instead of
    /// stopping. (A run with the same parameters is always resumed.)
    #[arg(long)]
    pub overwrite: bool,

    /// Faces shown step by step in <out>/preview.png (0: none; not drawn
    /// by shards).
    #[arg(long, default_value_t = 4)]
    pub preview: usize,

    /// Mask only shard I of N (I counts from 0): the images whose path
    /// hashes to it. Shards share --out and run anywhere, each resumable;
    /// `maskface merge OUT --manifest MANIFEST` then writes the manifests,
    /// the same bytes as one process would. See docs/scale.md.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
}

fn renderer(args: &GenerateArgs) -> MaskSpec {
    mask_spec(args.mask, &args.colors)
}

/// A `--mask` value's name on the command line (`held-out`, ...).
pub fn mask_name(mask: MaskArg) -> String {
    clap::ValueEnum::to_possible_value(&mask)
        .map(|v| v.get_name().to_string())
        .unwrap_or_else(|| format!("{mask:?}"))
}

/// The renderer a `--mask` value names; `colors` are the paper mask's.
pub fn mask_spec(mask: MaskArg, colors: &[PaperColor]) -> MaskSpec {
    match mask {
        MaskArg::Paper => MaskSpec::Paper(PaperMask {
            colors: colors.to_vec(),
        }),
        MaskArg::Surgical => MaskSpec::Realistic(RealisticMask::only(MaskStyle::Surgical)),
        MaskArg::N95 => MaskSpec::Realistic(RealisticMask::only(MaskStyle::N95)),
        MaskArg::Cloth => MaskSpec::Realistic(RealisticMask::only(MaskStyle::Cloth)),
        MaskArg::Realistic => MaskSpec::Realistic(RealisticMask::default()),
        MaskArg::Family => MaskSpec::Family(MaskFamily::training()),
        MaskArg::HeldOut => MaskSpec::Family(MaskFamily::held_out()),
    }
}

fn options(args: &GenerateArgs) -> Result<GenerateOptions> {
    let Some((w, h)) = args.upper_size.split_once('x') else {
        bail!("--upper-size `{}`: expected WIDTHxHEIGHT", args.upper_size);
    };
    let upper_size = [
        w.trim().parse().context("--upper-size width")?,
        h.trim().parse().context("--upper-size height")?,
    ];
    if args.margin >= args.size {
        bail!(
            "--margin {} must be smaller than --size {}",
            args.margin,
            args.size
        );
    }
    Ok(GenerateOptions {
        seed: args.seed,
        crop: CropConfig {
            margin: args.margin,
            size: args.size,
        },
        selection: args.select.into(),
        cut: match args.cut {
            CutArg::NoseBridge => UpperCut::NoseBridge,
            CutArg::Half => UpperCut::Fraction { fraction: 0.5 },
        },
        upper_size,
        variants: args.variants.clone(),
        format: args.format.with_quality(args.quality),
        batch: 64,
        min_visible: 0.6,
        overwrite: args.overwrite,
    })
}

/// Runs `generate`; a shard returns no report (the merge writes it).
pub fn run(args: &GenerateArgs) -> Result<Option<GenerateReport>> {
    let opts = options(args)?;
    let renderer = renderer(args);
    // A shard reads only its own rows of the manifest.
    let input = ShardInput::read(&args.manifest, args.shard.unwrap_or(Shard::WHOLE))
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    let predictor_path = args.models.join(ShapePredictor::DLIB_68_FILE);
    let predictor = ShapePredictor::from_file(&predictor_path)
        .context("loading the landmark model (run scripts/setup.sh)")?;
    let config = MtcnnConfig {
        min_face_size: args.min_face,
        selection: opts.selection,
        ..MtcnnConfig::default()
    };
    let mtcnn = Mtcnn::from_dir(&args.models, config, &args.backend.device()?)
        .context("loading MTCNN (run scripts/setup.sh)")?;
    if let Some(shard) = args.shard {
        let pb = crate::progress::bar(input.len(), "generate");
        let run = generate_shard(
            &input,
            &mtcnn,
            &predictor,
            &renderer,
            &args.out,
            &opts,
            &|n| pb.inc(n as u64),
        )?;
        pb.finish_and_clear();
        crate::merge::print_shard_run("generate", shard, &run, &args.out, Some(&args.manifest));
        return Ok(None);
    }
    let input = input.manifest();
    let pb = crate::progress::bar(input.samples.len(), "generate");
    let report = generate_dataset(
        input,
        &mtcnn,
        &predictor,
        &renderer,
        &args.out,
        &opts,
        &|n| pb.inc(n as u64),
    )?;
    pb.finish_and_clear();
    if args.preview > 0 {
        let path = args.out.join("preview.png");
        write_preview(
            input,
            &mtcnn,
            &predictor,
            &renderer,
            &opts,
            args.preview,
            &path,
        )?;
    }
    let first = report.manifests.values().next();
    println!(
        "masked {} of {} images ({} resumed, {} failed{}): train {}, val {}, test {} -> {}",
        report.masked,
        input.samples.len(),
        report.resumed,
        report.failures.len(),
        if report.failures.is_empty() {
            String::new()
        } else {
            format!(", see {}", args.out.join("failures.csv").display())
        },
        first.map_or(0, |m| m.count(Split::Train)),
        first.map_or(0, |m| m.count(Split::Val)),
        first.map_or(0, |m| m.count(Split::Test)),
        args.out.display()
    );
    Ok(Some(report))
}

/// The pipeline step by step on the first `n` images of different people.
pub fn write_preview(
    input: &Manifest,
    mtcnn: &Mtcnn,
    predictor: &ShapePredictor,
    renderer: &(dyn MaskRenderer<Error = MaskError> + Sync),
    opts: &GenerateOptions,
    n: usize,
    path: &std::path::Path,
) -> Result<()> {
    let mut faces = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for sample in &input.samples {
        if faces.len() >= n {
            break;
        }
        if !seen.insert(sample.identity.clone()) {
            continue;
        }
        let Ok(image) = load_rgb(&input.resolve(&sample.path)) else {
            continue;
        };
        let dets = mtcnn
            .detect_images(std::slice::from_ref(&image))
            .pop()
            .unwrap_or_else(|| Ok(Vec::new()))?;
        let Some(det) = opts.selection.pick(&dets, image.width(), image.height()) else {
            continue;
        };
        let key = sample.path.to_string_lossy().replace('\\', "/");
        if let Ok(steps) = mask_face(&image, det, predictor, renderer, opts, &key) {
            faces.push((image, steps));
        }
    }
    if faces.is_empty() {
        return Ok(());
    }
    let sheet = contact_sheet(&faces, opts.upper_size, 160)?;
    save_image_atomic(&sheet, path)?;
    Ok(())
}
