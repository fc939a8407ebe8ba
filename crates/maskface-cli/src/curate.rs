use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use maskface_core::{save_image_atomic, Manifest, Split};
use maskface_dataset::{
    count_histogram_chart, curate, identity_counts, per_identity_chart, read_seed_split, scan_lfw,
    write_identity_counts, write_skipped, LfwIndex, Selection, Verify,
};

/// How much of each image `curate` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyArg {
    /// Headers of all images; full decode of the selected identities' images.
    Selected,
    /// Full decode of every image (slow on all of LFW).
    All,
    /// Headers only.
    Header,
}

#[derive(Args, Debug, Clone)]
pub struct CurateArgs {
    /// The LFW-style folder: one sub-folder per person, images inside.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// Output folder: manifest.csv + manifest.json, identity_counts.csv,
    /// skipped.csv and the charts images_per_identity_{lfw,selected}.png.
    #[arg(long, default_value = "data/curated")]
    pub out: PathBuf,

    /// Reproduce a published split instead of drawing identities: a folder
    /// with target_names.csv, train.csv, val.csv and test.csv (as the
    /// authors' seed-split). The manifest then already has its splits.
    #[arg(long, conflicts_with_all = ["names", "identities"])]
    pub seed_split: Option<PathBuf>,

    /// Keep exactly these identities (comma-separated folder names).
    #[arg(long, value_delimiter = ',', conflicts_with = "identities")]
    pub names: Vec<String>,

    /// Fewest images an identity may have to be drawn.
    #[arg(long, default_value_t = 20)]
    pub min_images: usize,

    /// Most images an identity may have to be drawn.
    #[arg(long, default_value_t = 80)]
    pub max_images: usize,

    /// How many identities to draw from the count range (0: all of them).
    #[arg(long, default_value_t = 50)]
    pub identities: usize,

    /// Seed of the identity draw.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// How thoroughly images are checked; unreadable ones are listed in
    /// skipped.csv and left out.
    #[arg(long, value_enum, default_value_t = VerifyArg::Selected)]
    pub verify: VerifyArg,
}

pub fn run(args: &CurateArgs) -> Result<Manifest> {
    let verify = if args.verify == VerifyArg::All {
        Verify::Decode
    } else {
        Verify::Header
    };
    let spinner = crate::progress::spinner(&format!("scanning {}", args.lfw.display()));
    let scanned = scan_lfw(&args.lfw, verify);
    spinner.finish_and_clear();
    let mut index = scanned?;
    let manifest = match &args.seed_split {
        Some(dir) => read_seed_split(dir, &args.lfw)?,
        None => {
            let selection = if args.names.is_empty() {
                Selection::CountRange {
                    min: args.min_images,
                    max: args.max_images,
                    count: (args.identities > 0).then_some(args.identities),
                    seed: args.seed,
                }
            } else {
                Selection::Names(args.names.clone())
            };
            if args.verify == VerifyArg::Selected {
                verify_candidates(&mut index, &selection);
            }
            curate(&index, &selection)?
        }
    };
    write_outputs(&index, &manifest, &args.out)?;
    println!(
        "curated {} identities, {} images (train {}, val {}, test {}, unassigned {}) from {} ({} identities, {} images, {} skipped) -> {}",
        manifest.identities().len(),
        manifest.samples.len(),
        manifest.count(Split::Train),
        manifest.count(Split::Val),
        manifest.count(Split::Test),
        manifest.count(Split::Unassigned),
        args.lfw.display(),
        index.identities.len(),
        index.num_images(),
        index.skipped.len(),
        args.out.join("manifest.csv").display(),
    );
    Ok(manifest)
}

/// Decodes the images of every identity the selection could pick, so that a
/// broken image cannot end up in the dataset.
fn verify_candidates(index: &mut LfwIndex, selection: &Selection) {
    let names: Vec<String> = match selection {
        Selection::Names(n) => n.clone(),
        Selection::CountRange { min, max, .. } => index
            .identities
            .iter()
            .filter(|i| (*min..=*max).contains(&i.images.len()))
            .map(|i| i.name.clone())
            .collect(),
    };
    let pb = crate::progress::bar(index.count_images(&names), "verify");
    index.verify_decode(&names, &|| pb.inc(1));
    pb.finish_and_clear();
}

fn write_outputs(index: &LfwIndex, manifest: &Manifest, out: &Path) -> Result<()> {
    if manifest.samples.is_empty() {
        bail!("the selection is empty: nothing to write");
    }
    manifest.write(&out.join("manifest.csv"))?;
    write_identity_counts(
        &identity_counts(index, manifest, false),
        &out.join("identity_counts.csv"),
    )?;
    write_skipped(&index.skipped, &out.join("skipped.csv"))?;
    save_image_atomic(
        &count_histogram_chart(index)?,
        &out.join("images_per_identity_lfw.png"),
    )
    .context("writing the LFW chart")?;
    save_image_atomic(
        &per_identity_chart(manifest)?,
        &out.join("images_per_identity_selected.png"),
    )
    .context("writing the selection chart")?;
    Ok(())
}
