use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_augment::{
    augment_dataset, augment_shard, AugmentOptions, AugmentReport, Fill, Policy, PolicySettings,
};
use maskface_core::{OutputFormatKind, Shard, ShardInput, Split, DEFAULT_SEED};

// generate.rs names the library's choice by the option's former name; this
// goes when it is rewritten on the library (issue 13).

#[derive(Args, Debug, Clone)]
pub struct AugmentArgs {
    /// The split manifest whose images to augment.
    #[arg(long, default_value = "data/split/manifest.csv")]
    pub manifest: PathBuf,

    /// Output folder: images/<split>/..., manifest.csv + manifest.json,
    /// failures.csv, augment-params.json and preview.png.
    #[arg(long, default_value = "data/augmented")]
    pub out: PathBuf,

    /// Seed of every random draw; the same seed gives byte-identical output.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Augmented copies per training image (the paper: 3).
    #[arg(long, default_value_t = PolicySettings::default().copies)]
    pub copies: usize,

    /// Largest rotation either way, in degrees (0 disables rotation).
    #[arg(long, default_value_t = PolicySettings::default().max_degrees)]
    pub max_degrees: f32,

    /// Fill of the corners a rotation uncovers: `black`, `white`,
    /// `replicate` (nearest edge pixel) or `R,G,B`.
    #[arg(long, default_value = "black")]
    pub fill: String,

    /// Colour jitter spreads `BRIGHTNESS,CONTRAST,SATURATION` (each factor
    /// drawn from 1 +- spread), applied after rotation. Off by default.
    #[arg(long, value_delimiter = ',')]
    pub color_jitter: Option<Vec<f32>>,

    /// Probability of a horizontal flip, applied last. Off by default.
    #[arg(long)]
    pub hflip: Option<f32>,

    /// Splits to augment (the others are copied unchanged).
    #[arg(long, value_delimiter = ',', default_value = "train")]
    pub splits: Vec<String>,

    /// Encoding of the augmented images.
    #[arg(long, value_enum, default_value_t = OutputFormatKind::Png)]
    pub format: OutputFormatKind,

    /// JPEG quality, 1..=100 (with --format jpeg).
    #[arg(long, default_value_t = 95)]
    pub quality: u8,

    /// Delete an earlier run in --out made with other parameters instead of
    /// stopping. (A run with the same parameters is always resumed.)
    #[arg(long)]
    pub overwrite: bool,

    /// Originals shown in preview.png, each with its copies (0: no
    /// preview; not drawn by shards).
    #[arg(long, default_value_t = 4)]
    pub preview: usize,

    /// Augment only shard I of N (I counts from 0): the images whose path
    /// hashes to it. Shards share --out and run anywhere, each resumable;
    /// `maskface merge OUT --manifest MANIFEST` then writes the manifest,
    /// the same bytes as one process would. See docs/scale.md.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
}

pub fn policy(args: &AugmentArgs) -> Result<Policy> {
    let color_jitter = match &args.color_jitter {
        Some(j) => {
            let [b, c, s] = j[..] else {
                bail!(
                    "--color-jitter needs three values BRIGHTNESS,CONTRAST,SATURATION, got {j:?}"
                );
            };
            Some([b, c, s])
        }
        None => None,
    };
    let settings = PolicySettings {
        copies: args.copies,
        max_degrees: args.max_degrees,
        // Without rotation nothing is filled, and --fill is not read.
        fill: if args.max_degrees > 0.0 {
            args.fill
                .parse::<Fill>()
                .with_context(|| format!("--fill `{}`", args.fill))?
        } else {
            Fill::default()
        },
        color_jitter,
        hflip: args.hflip,
    };
    Ok(settings.policy()?)
}

/// Runs `augment`; a shard returns no report (the merge writes it).
pub fn run(args: &AugmentArgs) -> Result<Option<AugmentReport>> {
    let policy = policy(args)?;
    // A shard reads only its own rows of the manifest.
    let input = ShardInput::read(&args.manifest, args.shard.unwrap_or(Shard::WHOLE))
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    let splits = args
        .splits
        .iter()
        .map(|s| s.parse::<Split>())
        .collect::<Result<Vec<_>, _>>()?;
    // A manifest with no split has no sample with one: any shard that has
    // samples sees it.
    let own = &input.manifest().samples;
    if !own.is_empty() && own.iter().all(|s| s.split == Split::Unassigned) {
        bail!(
            "{} has no split yet: run `maskface split` first (only the training split is augmented)",
            args.manifest.display()
        );
    }
    let opts = AugmentOptions {
        seed: args.seed,
        format: args.format.with_quality(args.quality),
        splits,
        overwrite: args.overwrite,
    };
    if let Some(shard) = args.shard {
        let pb = crate::progress::bar(input.len(), "augment");
        let run = augment_shard(&input, &policy, &args.out, &opts, &|| pb.inc(1))?;
        pb.finish_and_clear();
        crate::merge::print_shard_run("augment", shard, &run, &args.out, Some(&args.manifest));
        return Ok(None);
    }
    let input = input.manifest();
    let pb = crate::progress::bar(input.samples.len(), "augment");
    let report = augment_dataset(input, &policy, &args.out, &opts, &|| pb.inc(1))?;
    pb.finish_and_clear();
    if args.preview > 0 {
        maskface_augment::write_preview(
            &report.manifest,
            args.preview,
            policy.copies(),
            &args.out.join("preview.png"),
        )?;
    }
    let m = &report.manifest;
    println!(
        "augmented {} images ({} new, {} resumed, {} failed): train {}, val {}, test {} -> {}",
        report.originals,
        report.augmented,
        report.resumed,
        report.failures.len(),
        m.count(Split::Train),
        m.count(Split::Val),
        m.count(Split::Test),
        args.out.join("manifest.csv").display()
    );
    Ok(Some(report))
}
