//! `maskface`: the command-line program of the maskface workspace.
//!
//! Run `maskface --help` for the subcommands and `maskface <command> --help`
//! for every option with its default.

mod augment;
mod curate;
mod detect;
mod eigen;
mod evaluate;
mod gallery;
mod generate;
mod heldout;
mod inputs;
mod json_report;
mod mask;
mod merge;
mod openset;
mod paper_train;
mod pretrain;
mod progress;
mod recognize;
mod run;
mod split;
mod train;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Masked-face dataset generation and masked face recognition.
///
/// The pipeline: `curate` picks identities from an LFW-style folder (or
/// reproduces a published split), `split` divides each identity's images
/// into train / val / test, `augment` adds rotated copies of the training
/// images, `detect` finds and crops faces, `generate` masks them, `eigen`
/// runs the Eigenface baseline, `openset` tests it against strangers. `run`
/// does all of it with the defaults. Every dataset step writes a manifest
/// (CSV + JSON) that records how its dataset was made.
#[derive(Parser, Debug)]
#[command(name = "maskface", version, about, long_about, max_term_width = 100)]
struct Cli {
    /// Worker threads for image work (0: one per core).
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Select identities from an LFW-style folder and write a manifest.
    Curate(curate::CurateArgs),
    /// Split a curated manifest into train / val / test per identity.
    Split(split::SplitArgs),
    /// Add augmented copies of the training images.
    Augment(augment::AugmentArgs),
    /// Detect faces (MTCNN): boxes, scores and five landmarks as JSON, and
    /// optionally the chosen face of each image cropped with a margin.
    Detect(detect::DetectArgs),
    /// Mask every face in any photos or folders (MaskTheFace's options and
    /// layout): a report row for every file, labels and COCO annotations
    /// for training, where the mask sits, seeded.
    Mask(mask::MaskArgs),
    /// Make a masked-face dataset: detect and crop each face, place 68
    /// landmarks, paint a mask, cut the upper part of the face.
    Generate(generate::GenerateArgs),
    /// Join the shards of a `mask`, `generate` or `augment` run (`--shard
    /// I/N`) into the outputs one process would write.
    Merge(merge::MergeArgs),
    /// The Eigenface baseline: PCA on the training split, nearest-neighbour
    /// (or class-mean) classification of the test split.
    Eigen(eigen::EigenArgs),
    /// Open-set identification: the model's targets against strangers
    /// drawn from LFW outside the gallery and masked the same way; AUROC,
    /// DIR at FPIR, the paper's percentile rule, ROC and DET curves.
    Openset(openset::OpensetArgs),
    /// Face recognition with dlib's ResNet (run in burn): embeds aligned
    /// chips, fits a head on the training split, reports the test accuracy.
    Recognize(recognize::RecognizeArgs),
    /// Train a network: by default fine-tune dlib's ResNet on the masked
    /// training faces (and extra LFW identities outside the targets and
    /// strangers) with ArcFace; with --model one of the paper's three CNNs
    /// (inception-resnet-v1, resnet50, vgg16) with the paper's recipe.
    /// Validation each epoch, best and last checkpoints, resumable.
    Train(train::TrainArgs),
    /// Face weights for the paper's networks made here: distillation from
    /// dlib's network (on the unmasked chip) into the network (on the
    /// paper's masked upper face) over LFW people outside the experiment;
    /// `train --init distilled` starts from them.
    Pretrain(pretrain::PretrainArgs),
    /// Score a saved model on a split: accuracy per person, predictions,
    /// the confusion matrix, the faces it gets wrong, the loss curves.
    Evaluate(evaluate::EvaluateArgs),
    /// Add a person to a gallery from a few photos (masked or not), without
    /// retraining anything; enrolling the same photo twice changes nothing.
    Enroll(gallery::EnrollArgs),
    /// Name the person in each photo from a gallery, or say "unknown".
    /// Every photo gets its answer; the exit status is 1 when a photo could
    /// not be read (a photo without a face is an answer, not an error).
    Identify(gallery::IdentifyArgs),
    /// Enroll unmasked, identify masked, on LFW people outside training:
    /// half of them enrolled from unmasked photos, masked photos of all of
    /// them identified; rank-1, named right and strangers accepted at the
    /// gallery threshold, DIR at FPIR 1% and 5%, per probe mask.
    Heldout(heldout::HeldoutArgs),
    /// LFW face verification (pairs.txt, 10 folds) with dlib's ResNet:
    /// unmasked, one image of each pair masked, both masked.
    Verify(verify::VerifyArgs),
    /// The whole job on the defaults: curate (the authors' split when
    /// available), split if needed, generate the masked dataset, augment it,
    /// fit the Eigenface baseline and dlib's ResNet with a softmax head,
    /// fine-tune the ResNet (nearest centre), test them against 1,000
    /// strangers, then measure the fine-tuned network on people outside
    /// training (enrolled unmasked, probed in unseen masks) and install it
    /// in --models as the network new galleries use.
    Run(run::RunArgs),
}

/// The error and its causes, each cause only where the message before it
/// does not already say it (the libraries' errors print their source).
fn error_chain(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.threads > 0 {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(cli.threads)
            .build_global()
        {
            eprintln!("error: cannot start {} threads: {e}", cli.threads);
            return ExitCode::from(2);
        }
    }
    let result = match cli.command {
        Command::Curate(a) => curate::run(&a).map(|_| ()),
        Command::Split(a) => split::run(&a).map(|_| ()),
        Command::Augment(a) => augment::run(&a).map(|_| ()),
        Command::Detect(a) => detect::run(&a),
        Command::Mask(a) => mask::run(&a),
        Command::Generate(a) => generate::run(&a).map(|_| ()),
        Command::Merge(a) => merge::run(&a),
        Command::Eigen(a) => eigen::run(&a).map(|_| ()),
        Command::Openset(a) => openset::run(&a).map(|_| ()),
        Command::Recognize(a) => recognize::run(&a).map(|_| ()),
        Command::Train(a) => train::run(&a).map(|_| ()),
        Command::Evaluate(a) => evaluate::run(&a).map(|_| ()),
        Command::Pretrain(a) => pretrain::run(&a).map(|_| ()),
        Command::Enroll(a) => gallery::enroll(&a),
        Command::Identify(a) => gallery::identify(&a),
        Command::Heldout(a) => heldout::run(&a).map(|_| ()),
        Command::Verify(a) => verify::run(&a).map(|_| ()),
        Command::Run(a) => run::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The libraries name the model file that failed; where the
            // model files come from is the program's to say.
            let message = error_chain(&e);
            let hint = match e.downcast_ref::<maskface_recognize::RecognizeError>() {
                Some(maskface_recognize::RecognizeError::Load { .. })
                    if !message.contains("scripts/setup.sh") =>
                {
                    " (run scripts/setup.sh)"
                }
                _ => "",
            };
            eprintln!("error: {message}{hint}");
            ExitCode::FAILURE
        }
    }
}
