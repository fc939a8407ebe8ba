use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use maskface_core::DEFAULT_SEED;
use maskface_nets::face_resnet::DLIB_RESNET_FILE;
use maskface_recognize::{
    embed_all, pair_images, parse_pairs, FacePipeline, MaskedChips, MaskedVerification,
};

#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// LFW's pairs file (10 folds of 300 same and 300 different pairs).
    #[arg(long, default_value = "data/lfw-meta/pairs.txt")]
    pub pairs: PathBuf,

    /// The LFW folder the pairs name.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Seed of the masks' colours.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Output folder: report.json, verify.md, pairs.csv (every pair's
    /// distances).
    #[arg(long, default_value = "data/verify")]
    pub out: PathBuf,
}

/// The mean accuracy of each condition: unmasked, one image masked, both.
pub fn run(args: &VerifyArgs) -> Result<Vec<f64>> {
    let start = Instant::now();
    let text = std::fs::read_to_string(&args.pairs).with_context(|| {
        format!(
            "reading {} (scripts/setup.sh links data/lfw-meta)",
            args.pairs.display()
        )
    })?;
    let pairs = parse_pairs(&text)?;
    let images = pair_images(&pairs);
    let pipeline = FacePipeline::load(&args.models, DLIB_RESNET_FILE)?;
    let pb = crate::progress::bar(images.len(), "faces");
    let chips = MaskedChips::make(&pipeline, &args.lfw, &images, args.seed, &|n| {
        pb.inc(n as u64)
    })?;
    pb.finish_and_clear();
    let pb = crate::progress::bar(2 * images.len(), "embed");
    let eu = embed_all(&pipeline.net, &chips.unmasked, 32, &|n| pb.inc(n as u64))?;
    let em = embed_all(&pipeline.net, &chips.masked, 32, &|n| pb.inc(n as u64))?;
    pb.finish_and_clear();

    let verification = MaskedVerification::score(&pairs, &images, &eu, &em)?;
    let fallbacks = chips.fallbacks;
    verification.write(
        &args.out,
        &pairs,
        images.len(),
        fallbacks,
        start.elapsed().as_secs_f64(),
    )?;
    print!("{}", verification.table());
    println!(
        "{} pairs of {} images ({fallbacks} without a detected face, cut from the middle), dlib's ResNet, the paper's mask, in {:.0} s -> {}",
        pairs.len(),
        images.len(),
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(verification.rows.iter().map(|r| r.accuracy).collect())
}
