use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use maskface_core::{Manifest, Split, DEFAULT_SEED};
use maskface_dataset::{per_identity_chart, split_stratified, SplitRatios};

#[derive(Args, Debug, Clone)]
pub struct SplitArgs {
    /// The curated manifest to split.
    #[arg(long, default_value = "data/curated/manifest.csv")]
    pub manifest: PathBuf,

    /// Output folder for the split manifest (manifest.csv + manifest.json).
    #[arg(long, default_value = "data/split")]
    pub out: PathBuf,

    /// Train, val and test fractions of each identity's images; they must
    /// sum to 1. Every identity gets at least one image in each non-empty split.
    #[arg(long, value_delimiter = ',', default_values_t = [0.8, 0.1, 0.1])]
    pub ratios: Vec<f64>,

    /// Seed of the per-identity shuffles.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

pub fn run(args: &SplitArgs) -> Result<Manifest> {
    let input = Manifest::read(&args.manifest)
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    let [train, val, test] = args.ratios[..] else {
        anyhow::bail!(
            "--ratios needs three values TRAIN,VAL,TEST, got {:?}",
            args.ratios
        );
    };
    let ratios = SplitRatios { train, val, test };
    let out = split_stratified(&input, &ratios, args.seed)?;
    out.write(&args.out.join("manifest.csv"))?;
    maskface_core::save_image_atomic(
        &per_identity_chart(&out)?,
        &args.out.join("images_per_identity.png"),
    )?;
    println!(
        "split {} images of {} identities: train {}, val {}, test {} -> {}",
        out.samples.len(),
        out.identities().len(),
        out.count(Split::Train),
        out.count(Split::Val),
        out.count(Split::Test),
        args.out.join("manifest.csv").display()
    );
    Ok(out)
}
