use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use maskface_core::{Manifest, Split, DEFAULT_SEED};
use maskface_dataset::{curate, read_seed_split, scan_lfw, write_curation, ImageCheck, Selection};

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
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// How thoroughly images are checked; unreadable ones are listed in
    /// skipped.csv and left out.
    #[arg(long, value_enum, default_value_t = ImageCheck::Selected)]
    pub verify: ImageCheck,
}

pub fn run(args: &CurateArgs) -> Result<Manifest> {
    let spinner = crate::progress::spinner(&format!("scanning {}", args.lfw.display()));
    let scanned = scan_lfw(&args.lfw, args.verify.scan());
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
            if args.verify == ImageCheck::Selected {
                let names = selection.candidates(&index);
                let pb = crate::progress::bar(index.count_images(&names), "verify");
                index.verify_decode(&names, &|| pb.inc(1));
                pb.finish_and_clear();
            }
            curate(&index, &selection)?
        }
    };
    write_curation(&index, &manifest, &args.out)?;
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
