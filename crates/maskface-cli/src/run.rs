use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use maskface_core::Split;
use maskface_openset::{PAPER_PERCENTILE, REPORTED_FPIRS};

use crate::augment::AugmentArgs;
use crate::curate::{CurateArgs, VerifyArg};
use crate::eigen::{EigenArgs, MetricArg, RuleArg};
use crate::generate::GenerateArgs;
use crate::openset::{OpensetArgs, ScoreArg};
use crate::recognize::{HeadArg, RecognizeArgs};
use crate::split::SplitArgs;
use crate::train::{LossArg, TrainArgs};
use maskface_nets::face_resnet::DEFAULT_FROZEN_BLOCKS;

/// Strangers in the open-set tests (kept out of the extra training identities).
const STRANGERS: usize = 1000;

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The LFW-style folder.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// The authors' published split; used when the folder exists (the
    /// setup script links it), otherwise 50 identities with 20..=80 images
    /// are drawn with --seed and split 0.8/0.1/0.1.
    #[arg(long, default_value = "data/seed-split")]
    pub seed_split: PathBuf,

    /// Folder that receives curated/, split/ (when drawn), masked/,
    /// augmented/, eigen/, openset/, recognize-dlib/, train/, recognize/,
    /// openset-dlib/ and openset-resnet/.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,

    /// Folder with the MTCNN weights and the 68-point landmark model.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Seed of every random step.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: &RunArgs) -> Result<()> {
    let use_seed_split = args.seed_split.join("target_names.csv").is_file();
    println!(
        "[1/9] curate: {}",
        if use_seed_split {
            format!("the published split in {}", args.seed_split.display())
        } else {
            format!("50 identities with 20..=80 images, seed {}", args.seed)
        }
    );
    let curated_dir = args.data.join("curated");
    let curated = crate::curate::run(&CurateArgs {
        lfw: args.lfw.clone(),
        out: curated_dir.clone(),
        seed_split: use_seed_split.then(|| args.seed_split.clone()),
        names: vec![],
        min_images: 20,
        max_images: 80,
        identities: 50,
        seed: args.seed,
        verify: VerifyArg::Selected,
    })?;
    let split_manifest = if curated.count(Split::Unassigned) > 0 {
        let out = args.data.join("split");
        crate::split::run(&SplitArgs {
            manifest: curated_dir.join("manifest.csv"),
            out: out.clone(),
            ratios: vec![0.8, 0.1, 0.1],
            seed: args.seed,
        })?;
        out.join("manifest.csv")
    } else {
        curated_dir.join("manifest.csv")
    };
    println!("[2/9] generate: MTCNN crop, 68 landmarks, the paper's mask, upper part");
    let masked = args.data.join("masked");
    crate::generate::run(&GenerateArgs {
        manifest: split_manifest,
        out: masked.clone(),
        models: args.models.clone(),
        seed: args.seed,
        mask: crate::generate::MaskArg::Paper,
        colors: vec![
            maskface_mask::PaperColor::Black,
            maskface_mask::PaperColor::White,
            maskface_mask::PaperColor::SkyBlue,
        ],
        cut: crate::generate::CutArg::NoseBridge,
        upper_size: "160x80".into(),
        variants: vec![
            maskface_mask::Variant::MaskedUpper,
            maskface_mask::Variant::MaskedFull,
            maskface_mask::Variant::MaskedChip,
            maskface_mask::Variant::MaskedChipUpper,
        ],
        margin: 15,
        size: 160,
        min_face: 40,
        select: crate::detect::SelectArg::Center,
        format: crate::augment::FormatArg::Png,
        quality: 95,
        backend: crate::detect::BackendArg::Flex,
        overwrite: false,
        preview: 4,
    })?;
    println!("[3/9] augment: 3 rotated copies (+-20 degrees) of each masked training image");
    crate::augment::run(&AugmentArgs {
        manifest: masked.join("masked_upper/manifest.csv"),
        out: args.data.join("augmented"),
        seed: args.seed,
        copies: 3,
        max_degrees: 20.0,
        fill: "black".into(),
        color_jitter: None,
        hflip: None,
        splits: vec!["train".into()],
        format: crate::augment::FormatArg::Png,
        quality: 95,
        overwrite: false,
        preview: 4,
    })?;
    println!("[4/9] eigen: the Eigenface baseline on the masked upper faces (whitened, cosine)");
    let masked_upper = masked.join("masked_upper/manifest.csv");
    let eigen_dir = args.data.join("eigen");
    crate::eigen::run(&EigenArgs {
        train: masked_upper.clone(),
        test: None,
        out: eigen_dir.clone(),
        size: None,
        no_equalize: false,
        components: None,
        variance: 0.95,
        whiten: true,
        classifier: RuleArg::Nn,
        metric: MetricArg::Cosine,
        threshold: None,
    })?;
    println!("[5/9] openset: the test faces against 1000 strangers from LFW, masked the same way");
    let scores = vec![
        ScoreArg::Confidence,
        ScoreArg::MaxSoftmax,
        ScoreArg::MaxLogit,
        ScoreArg::Energy,
    ];
    crate::openset::run(&open_set(
        args,
        eigen_dir.join("model.json"),
        masked_upper,
        scores,
        "openset",
    ))?;
    println!(
        "[6/9] recognize: dlib's ResNet (in burn) on the aligned masked faces, a softmax head"
    );
    let chips = masked.join("masked_chip/manifest.csv");
    crate::recognize::run(&RecognizeArgs {
        train: chips.clone(),
        test: None,
        head: HeadArg::Softmax,
        models: args.models.clone(),
        weights: None,
        mirror: false,
        cohort: None,
        cohort_top_k: maskface_recognize::CohortParams::default().top_k,
        out: args.data.join("recognize-dlib"),
    })?;
    println!(
        "[7/9] train: fine-tune dlib's ResNet on the masked training faces and extra LFW people (ArcFace)"
    );
    let train_dir = args.data.join("train");
    let trained = crate::train::run(&TrainArgs {
        train: chips.clone(),
        extra_images: 20,
        lfw: args.lfw.clone(),
        strangers: STRANGERS,
        seed: args.seed,
        epochs: 6,
        batch_size: 32,
        backbone_lr: 3e-5,
        head_lr: 1e-3,
        loss: LossArg::Arcface,
        scale: 30.0,
        margin: 0.3,
        frozen_blocks: DEFAULT_FROZEN_BLOCKS,
        models: args.models.clone(),
        min_face: 40,
        out: train_dir,
    })?;
    println!(
        "[8/9] recognize: the fine-tuned network, nearest centre, normalised against the extra people"
    );
    let recognize_dir = args.data.join("recognize");
    crate::recognize::run(&RecognizeArgs {
        train: chips.clone(),
        test: None,
        head: HeadArg::Cohort,
        models: args.models.clone(),
        weights: Some(trained.embedder),
        mirror: false,
        cohort: trained.extra,
        cohort_top_k: maskface_recognize::CohortParams::default().top_k,
        out: recognize_dir.clone(),
    })?;
    println!(
        "[9/9] openset: the same 1000 strangers, aligned and masked, against both recognizers"
    );
    crate::openset::run(&open_set(
        args,
        args.data.join("recognize-dlib/model.json"),
        chips.clone(),
        vec![ScoreArg::Confidence, ScoreArg::MaxLogit],
        "openset-dlib",
    ))?;
    crate::openset::run(&open_set(
        args,
        recognize_dir.join("model.json"),
        chips,
        vec![ScoreArg::MaxLogit, ScoreArg::Confidence],
        "openset-resnet",
    ))?;
    Ok(())
}

/// The open-set step on the defaults: the targets' test split against 1,000
/// strangers drawn with the run's seed.
fn open_set(
    args: &RunArgs,
    model: PathBuf,
    targets: PathBuf,
    scores: Vec<ScoreArg>,
    out: &str,
) -> OpensetArgs {
    OpensetArgs {
        model,
        targets,
        split: Split::Test,
        strangers: STRANGERS,
        lfw: args.lfw.clone(),
        seed: args.seed,
        models: args.models.clone(),
        min_face: 40,
        scores,
        fpir: REPORTED_FPIRS.to_vec(),
        percentile: PAPER_PERCENTILE,
        overwrite: false,
        out: args.data.join(out),
    }
}
