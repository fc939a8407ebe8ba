use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, FromArgMatches};
use maskface_core::{Split, DEFAULT_SEED};
use maskface_eigen::Metric;
use maskface_openset::Score;
use maskface_recognize::HeadKind;

use crate::augment::AugmentArgs;
use crate::curate::CurateArgs;
use crate::eigen::EigenArgs;
use crate::generate::{GenerateArgs, MaskArg};
use crate::heldout::HeldoutArgs;
use crate::openset::OpensetArgs;
use crate::recognize::RecognizeArgs;
use crate::split::SplitArgs;
use crate::train::TrainArgs;

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

    /// Folder with the MTCNN weights and the 68-point landmark model; the
    /// fine-tuned network is installed there (maskface_embedder.bpk).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Seed of every random step.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

/// A subcommand's options as its command line gives them when none is
/// passed: the run takes every default from there, so each is written once.
pub fn defaults<T: Args + FromArgMatches>() -> Result<T> {
    let command = T::augment_args(clap::Command::new("defaults"));
    Ok(T::from_arg_matches(
        &command.try_get_matches_from(["defaults"])?,
    )?)
}

pub fn run(args: &RunArgs) -> Result<()> {
    let use_seed_split = args.seed_split.join("target_names.csv").is_file();
    println!(
        "[1/10] curate: {}",
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
        seed: args.seed,
        ..defaults()?
    })?;
    let split_manifest = if curated.count(Split::Unassigned) > 0 {
        let out = args.data.join("split");
        crate::split::run(&SplitArgs {
            manifest: curated_dir.join("manifest.csv"),
            out: out.clone(),
            seed: args.seed,
            ..defaults()?
        })?;
        out.join("manifest.csv")
    } else {
        curated_dir.join("manifest.csv")
    };
    println!("[2/10] generate: MTCNN crop, 68 landmarks, the paper's mask, upper part");
    let masked = args.data.join("masked");
    crate::generate::run(&GenerateArgs {
        manifest: split_manifest,
        out: masked.clone(),
        models: args.models.clone(),
        seed: args.seed,
        ..defaults()?
    })?;
    println!("[3/10] augment: 3 rotated copies (+-20 degrees) of each masked training image");
    crate::augment::run(&AugmentArgs {
        manifest: masked.join("masked_upper/manifest.csv"),
        out: args.data.join("augmented"),
        seed: args.seed,
        ..defaults()?
    })?;
    println!("[4/10] eigen: the Eigenface baseline on the masked upper faces (whitened, cosine)");
    let masked_upper = masked.join("masked_upper/manifest.csv");
    let eigen_dir = args.data.join("eigen");
    crate::eigen::run(&EigenArgs {
        train: masked_upper.clone(),
        out: eigen_dir.clone(),
        whiten: true,
        metric: Metric::Cosine,
        ..defaults()?
    })?;
    println!("[5/10] openset: the test faces against 1000 strangers from LFW, masked the same way");
    let scores = vec![
        Score::Confidence,
        Score::MaxSoftmax,
        Score::MaxLogit,
        Score::Energy,
    ];
    crate::openset::run(&open_set(
        args,
        eigen_dir.join("model.json"),
        masked_upper,
        scores,
        "openset",
    )?)?;
    println!(
        "[6/10] recognize: dlib's ResNet (in burn) on the aligned masked faces, a softmax head"
    );
    let chips = masked.join("masked_chip/manifest.csv");
    crate::recognize::run(&RecognizeArgs {
        train: chips.clone(),
        head: HeadKind::Softmax,
        models: args.models.clone(),
        out: args.data.join("recognize-dlib"),
        ..defaults()?
    })?;
    println!(
        "[7/10] train: fine-tune dlib's ResNet on the masked training faces and extra LFW people (ArcFace)"
    );
    let train_dir = args.data.join("train");
    let trained = crate::train::run(&TrainArgs {
        train: Some(chips.clone()),
        lfw: args.lfw.clone(),
        seed: args.seed,
        models: args.models.clone(),
        out: Some(train_dir),
        ..defaults()?
    })?
    .context("the dlib fine-tune made no network")?;
    println!(
        "[8/10] recognize: the fine-tuned network, nearest centre, normalised against the extra people"
    );
    let recognize_dir = args.data.join("recognize");
    crate::recognize::run(&RecognizeArgs {
        train: chips.clone(),
        head: HeadKind::Cohort,
        models: args.models.clone(),
        weights: Some(trained.embedder.clone()),
        cohort: trained.extra,
        out: recognize_dir.clone(),
        ..defaults()?
    })?;
    println!(
        "[9/10] openset: the same 1000 strangers, aligned and masked, against both recognizers"
    );
    crate::openset::run(&open_set(
        args,
        args.data.join("recognize-dlib/model.json"),
        chips.clone(),
        vec![Score::Confidence, Score::MaxLogit],
        "openset-dlib",
    )?)?;
    crate::openset::run(&open_set(
        args,
        recognize_dir.join("model.json"),
        chips,
        vec![Score::MaxLogit, Score::Confidence],
        "openset-resnet",
    )?)?;
    println!(
        "[10/10] heldout: enroll unmasked, identify masked, on people outside training in unseen masks; install the fine-tuned network as the default for new galleries, with its thresholds for masked and unmasked faces and the mask classifier"
    );
    crate::heldout::run(&HeldoutArgs {
        lfw: args.lfw.clone(),
        targets: curated_dir.join("manifest.csv"),
        seed: args.seed,
        masks: vec![MaskArg::HeldOut],
        unmasked_probes: true,
        weights: Some(trained.embedder),
        install: true,
        models: args.models.clone(),
        out: args.data.join("heldout"),
        ..defaults()?
    })?;
    Ok(())
}

/// The open-set step on the defaults: the targets' test split against the
/// strangers drawn with the run's seed (the same people `train` kept out
/// of its extra identities).
fn open_set(
    args: &RunArgs,
    model: PathBuf,
    targets: PathBuf,
    scores: Vec<Score>,
    out: &str,
) -> Result<OpensetArgs> {
    Ok(OpensetArgs {
        model,
        targets,
        lfw: args.lfw.clone(),
        seed: args.seed,
        models: args.models.clone(),
        scores,
        out: args.data.join(out),
        ..defaults()?
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use maskface_openset::{PAPER_PERCENTILE, REPORTED_FPIRS};

    /// Defaults the command line spells out as text, checked against the
    /// library's constants.
    #[test]
    fn text_defaults_match_the_libraries() {
        let openset: OpensetArgs = defaults().unwrap();
        assert_eq!(openset.fpir, REPORTED_FPIRS);
        assert_eq!(openset.percentile, PAPER_PERCENTILE);
        assert_eq!(openset.split, Split::Test);
        let split: SplitArgs = defaults().unwrap();
        let r = maskface_dataset::SplitRatios::default();
        assert_eq!(split.ratios, [r.train, r.val, r.test]);
        let curate: CurateArgs = defaults().unwrap();
        assert_eq!(
            maskface_dataset::Selection::paper(curate.seed),
            maskface_dataset::Selection::CountRange {
                min: curate.min_images,
                max: curate.max_images,
                count: Some(curate.identities),
                seed: curate.seed,
            }
        );
    }
}
