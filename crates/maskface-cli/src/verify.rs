use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use maskface_core::DEFAULT_SEED;
use maskface_mask::PaperColor;
use maskface_recognize::{
    embed_all, embedder_name, pair_images, read_pairs, FacePipeline, MaskedChips,
    MaskedVerification, PairCondition, PairMetric, LFW_CENTRE_BOX,
};

use crate::generate::{mask_name, mask_spec, MaskArg};

#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The pairs: LFW's pairs.txt (10 folds of 300 same and 300 different
    /// pairs, paths under --lfw), or a list with one pair per line: two
    /// image paths (relative to the list's folder) and `same` or
    /// `different` (also 1 / 0).
    #[arg(long, default_value = "data/lfw-meta/pairs.txt")]
    pub pairs: PathBuf,

    /// The LFW folder that LFW's pairs file names.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// Compare the images as they are, without painting a mask (for photos
    /// that are already masked, or not); one condition instead of three.
    #[arg(long)]
    pub as_is: bool,

    /// The mask painted for the masked conditions.
    #[arg(long, value_enum, default_value_t = MaskArg::Paper)]
    pub mask: MaskArg,

    /// Fine-tuned weights (`maskface train`'s embedder.bpk), compared by
    /// cosine similarity; default: dlib's network, by Euclidean distance.
    #[arg(long)]
    pub weights: Option<PathBuf>,

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Seed of the masks.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Output folder: report.json, verify.md, pairs.csv (every pair's
    /// score under each condition).
    #[arg(long, default_value = "data/verify")]
    pub out: PathBuf,
}

/// The mean accuracy of each condition: unmasked, one image masked, both
/// (or only "as is").
pub fn run(args: &VerifyArgs) -> Result<Vec<f64>> {
    let start = Instant::now();
    let file = read_pairs(&args.pairs, &args.lfw).map_err(|e| {
        anyhow::anyhow!("{e} (scripts/setup.sh links data/lfw-meta for LFW's pairs)")
    })?;
    let (pairs, root, lfw_format) = (file.pairs, file.root, file.lfw_format);
    let images = pair_images(&pairs);
    let weights = match &args.weights {
        Some(w) => Some(
            std::fs::canonicalize(w)
                .with_context(|| format!("the fine-tuned weights {}", w.display()))?,
        ),
        None => None,
    };
    let pipeline = FacePipeline::load(&args.models, &embedder_name(weights.as_deref()))?;
    let pb = crate::progress::bar(images.len(), "faces");
    // LFW centres its faces, so a photo without a detection is cut from its
    // middle; any other photo without a face is an error naming it.
    let fallback = lfw_format.then_some(LFW_CENTRE_BOX);
    let mask = mask_spec(args.mask, &PaperColor::ALL);
    let chips = MaskedChips::make_with(
        &pipeline,
        &root,
        &images,
        &mask,
        args.seed,
        fallback,
        &|n| pb.inc(n as u64),
    )?;
    pb.finish_and_clear();
    let conditions: &[PairCondition] = if args.as_is {
        &[PairCondition::AsIs]
    } else {
        &PairCondition::MASKED
    };
    let pb = crate::progress::bar(images.len() * (1 + usize::from(!args.as_is)), "embed");
    let eu = embed_all(&pipeline, &chips.unmasked, 32, &|n| pb.inc(n as u64))?;
    let em = if args.as_is {
        Vec::new()
    } else {
        embed_all(&pipeline, &chips.masked, 32, &|n| pb.inc(n as u64))?
    };
    pb.finish_and_clear();

    let metric = if weights.is_some() {
        PairMetric::Cosine
    } else {
        PairMetric::Euclidean
    };
    let verification =
        MaskedVerification::score_with(&pairs, &images, &eu, &em, conditions, metric)?;
    let fallbacks = chips.fallbacks;
    verification.write(
        &args.out,
        &pairs,
        images.len(),
        fallbacks,
        start.elapsed().as_secs_f64(),
    )?;
    print!("{}", verification.table());
    let network = match &args.weights {
        Some(w) => w.display().to_string(),
        None => "dlib's ResNet".into(),
    };
    let masks = if args.as_is {
        "no mask painted".to_string()
    } else {
        format!("`{}` masks", mask_name(args.mask))
    };
    println!(
        "{} pairs of {} images ({fallbacks} without a detected face, cut from the middle), {network}, {masks}, in {:.0} s -> {}",
        pairs.len(),
        images.len(),
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(verification.rows.iter().map(|r| r.accuracy).collect())
}
