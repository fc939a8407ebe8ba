use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use maskface_core::Split;

use crate::augment::AugmentArgs;
use crate::curate::{CurateArgs, VerifyArg};
use crate::split::SplitArgs;

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

    /// Folder that receives curated/, split/ (when drawn) and augmented/.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,

    /// Seed of every random step.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: &RunArgs) -> Result<()> {
    let use_seed_split = args.seed_split.join("target_names.csv").is_file();
    println!(
        "[1/2] curate: {}",
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
    println!("[2/2] augment: 3 rotated copies (+-20 degrees) of each training image");
    crate::augment::run(&AugmentArgs {
        manifest: split_manifest,
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
    Ok(())
}
