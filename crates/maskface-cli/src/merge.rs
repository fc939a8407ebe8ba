//! `maskface merge`: joins the shards of a `mask`, `generate` or `augment`
//! run into the outputs one process would have written.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::{has_shard_journals, Manifest, Shard, ShardRun};

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The output folder the shards share (their --out).
    pub out: PathBuf,

    /// The manifest the shards read (their --manifest): needed for
    /// `generate` and `augment` folders, whose outputs follow its order.
    #[arg(long)]
    pub manifest: Option<PathBuf>,

    /// Print how often each mask was drawn (`mask` folders).
    #[arg(short, long)]
    pub verbose: bool,
}

/// Which job made a folder: the parameters file it records, the job's name
/// in its shards' journals, and the output that exists once merged.
const JOBS: [(&str, &str, &str); 3] = [
    ("mask-params.json", "mask", "report.csv"),
    ("generate-params.json", "generate", "records.jsonl"),
    ("augment-params.json", "augment", "manifest.csv"),
];

pub fn run(args: &MergeArgs) -> Result<()> {
    let out = &args.out;
    let Some(&(_, job, merged)) = JOBS
        .iter()
        .find(|(params, _, _)| out.join(params).is_file())
    else {
        bail!(
            "{} holds no mask, generate or augment run (none of {} is there)",
            out.display(),
            JOBS.map(|j| j.0).join(", ")
        );
    };
    if !has_shard_journals(out, job) && out.join(merged).is_file() {
        println!(
            "{} is already merged: see {}",
            out.display(),
            out.join(merged).display()
        );
        return Ok(());
    }
    let manifest = || -> Result<Manifest> {
        let Some(path) = &args.manifest else {
            bail!("merging a `{job}` folder needs --manifest, the manifest its shards read");
        };
        Manifest::read(path).with_context(|| format!("reading {}", path.display()))
    };
    match job {
        "mask" => crate::mask::merge(out, args.verbose),
        "generate" => {
            let report = maskface_mask::merge_generated(&manifest()?, out)?;
            println!(
                "merged {} images ({} masked, {} failed) -> {}",
                report.masked + report.failures.len(),
                report.masked,
                report.failures.len(),
                out.display()
            );
            Ok(())
        }
        _ => {
            let report = maskface_augment::merge_augmented(&manifest()?, out)?;
            println!(
                "merged {} source images ({} new, {} failed) -> {}",
                report.originals + report.failures.len(),
                report.augmented,
                report.failures.len(),
                out.join("manifest.csv").display()
            );
            Ok(())
        }
    }
}

/// The line a finished shard prints: what it did and what comes next.
pub fn print_shard_run(
    job: &str,
    shard: Shard,
    run: &ShardRun,
    out: &Path,
    manifest: Option<&Path>,
) {
    if run.merged {
        println!(
            "{} is already merged: shard {shard} has nothing to do",
            out.display()
        );
        return;
    }
    let manifest = manifest
        .map(|m| format!(" --manifest {}", m.display()))
        .unwrap_or_default();
    println!(
        "{job} shard {shard}: {} items ({} resumed) -> {}; when all {} shards are done: \
         maskface merge {}{manifest}",
        run.items,
        run.resumed,
        out.display(),
        shard.count(),
        out.display()
    );
}
