use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use maskface_core::{
    decode_rgb, has_shard_journals, mark_shard_done, open_shard_journal, prepare_shard_dir,
    read_failures, remove_stale_temp_files, write_atomic_unsynced, write_failures, Failure,
    JobParams, Manifest, OutputFormat, Sample, Shard, ShardInput, ShardParts, ShardRun, Split,
    Stage, SHARDS_DIR,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{AugmentError, Policy, TOOL};

/// Options of [`augment_dataset`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentOptions {
    /// Seed of every random draw.
    pub seed: u64,
    /// Encoding of the new images.
    pub format: OutputFormat,
    /// Splits whose images are augmented (the paper: training only). Images
    /// of the other splits are copied unchanged.
    pub splits: Vec<Split>,
    /// Start again in an output folder made with other parameters, deleting
    /// its images, instead of failing.
    pub overwrite: bool,
}

impl Default for AugmentOptions {
    fn default() -> Self {
        AugmentOptions {
            seed: 42,
            format: OutputFormat::Png,
            splits: vec![Split::Train],
            overwrite: false,
        }
    }
}

/// What [`augment_dataset`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentReport {
    /// The output dataset (also written to `out_dir/manifest.csv`).
    pub manifest: Manifest,
    /// Source images copied.
    pub originals: usize,
    /// New images made.
    pub augmented: usize,
    /// Source images taken from an earlier, interrupted run.
    pub resumed: usize,
    /// Source images that could not be read (also in `out_dir/failures.csv`).
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalEntry {
    source: PathBuf,
    samples: Vec<Sample>,
    failure: Option<String>,
}

const PARAMS_FILE: &str = "augment-params.json";
/// The job's name in its shards' journals (`shards/augment-I-of-N.jsonl`).
const JOB: &str = "augment";
const MANIFEST_FILE: &str = "manifest.csv";
const FAILURES_FILE: &str = "failures.csv";

/// Augments a dataset: copies every image of `input` into
/// `out_dir/images/<split>/...` and adds `policy.copies()` augmented images
/// for each image of the chosen splits, then writes `out_dir/manifest.csv`
/// (rooted at `out_dir`) in which every new image names its `origin` and
/// `transform`.
///
/// Images are processed in parallel; each file is written atomically and
/// each finished source image is appended to a journal, so an interrupted
/// run called again with the same parameters continues where it stopped.
/// A finished run called again returns at once. Unreadable source images are
/// recorded as failures, not errors. The output depends only on the input
/// and the parameters: the same seed gives byte-identical files.
///
/// `on_progress` is called once per source image (for a progress bar).
pub fn augment_dataset(
    input: &Manifest,
    policy: &Policy,
    out_dir: &Path,
    opts: &AugmentOptions,
    on_progress: &(dyn Fn() + Sync),
) -> Result<AugmentReport, AugmentError> {
    let run = augment_shard(
        &ShardInput::of(input, Shard::WHOLE),
        policy,
        out_dir,
        opts,
        on_progress,
    )?;
    if run.merged {
        let manifest = Manifest::read(&out_dir.join(MANIFEST_FILE))?;
        return Ok(summarise(
            manifest,
            input.samples.len(),
            0,
            read_failures(&out_dir.join(FAILURES_FILE)),
        ));
    }
    let mut report = merge_augmented(input, out_dir)?;
    report.resumed = run.resumed;
    Ok(report)
}

/// One shard of [`augment_dataset`]: the source images of `input` (a
/// shard's part of a manifest, [`ShardInput`]: the images the shard owns by
/// [`Shard::owns`] of their paths), journaled under
/// `out_dir/shards/`; [`merge_augmented`] then writes the manifest and
/// failures once every shard is done, the same bytes as one process would.
/// Each shard is resumable and may run on any machine that sees `out_dir`.
pub fn augment_shard(
    input: &ShardInput<'_>,
    policy: &Policy,
    out_dir: &Path,
    opts: &AugmentOptions,
    on_progress: &(dyn Fn() + Sync),
) -> Result<ShardRun, AugmentError> {
    let shard = input.shard();
    opts.format.validate()?;
    prepare_shard_dir(
        out_dir,
        PARAMS_FILE,
        &params(input.manifest(), input.total(), policy, opts),
        opts.overwrite,
        &[
            "images",
            SHARDS_DIR,
            MANIFEST_FILE,
            "manifest.json",
            FAILURES_FILE,
        ],
        shard,
    )?;
    let mine: Vec<(u64, &Sample)> = input.samples().collect();
    if out_dir.join(MANIFEST_FILE).is_file() && !has_shard_journals(out_dir, JOB) {
        mine.iter().for_each(|_| on_progress());
        return Ok(ShardRun {
            items: mine.len(),
            resumed: 0,
            merged: true,
        });
    }

    let (journal, earlier) = open_shard_journal::<JournalEntry>(out_dir, JOB, shard)?;
    // Failures are tried again: a file that could not be read may be back.
    let done: HashSet<u64> = earlier
        .into_iter()
        .filter(|(_, e)| e.failure.is_none())
        .map(|(o, _)| o)
        .collect();
    let resumed = mine.iter().filter(|(o, _)| done.contains(o)).count();
    mine.par_iter().try_for_each(|(o, sample)| {
        if !done.contains(o) {
            let entry = process(input.manifest(), sample, policy, out_dir, opts)?;
            journal.append(&(*o, entry))?;
        }
        on_progress();
        Ok::<(), AugmentError>(())
    })?;
    drop(journal);
    mark_shard_done(out_dir, JOB, shard, mine.len() as u64, input.total() as u64)?;
    Ok(ShardRun {
        items: mine.len(),
        resumed,
        merged: false,
    })
}

/// Joins the shards of an [`augment_shard`] run over `input` in `out_dir`
/// into `manifest.csv` and `failures.csv`, in input order, and removes the
/// shards' journals and the temporary files killed writers left. Fails,
/// naming the shards that have not finished, until every source image has
/// its entry.
pub fn merge_augmented(input: &Manifest, out_dir: &Path) -> Result<AugmentReport, AugmentError> {
    let params = JobParams::read(out_dir, PARAMS_FILE)?;
    params.check_input_samples(input.samples.len())?;
    let mut parts = ShardParts::<JournalEntry>::open(out_dir, JOB, input.samples.len() as u64)?;
    // Every shard has finished: no writer is left, on any machine.
    remove_stale_temp_files(out_dir)?;
    let mut manifest = Manifest::new(out_dir);
    manifest.info.stages = input.info.stages.clone();
    let mut failures = Vec::new();
    for o in 0..input.samples.len() {
        let e = parts.get(o as u64)?;
        match e.failure {
            Some(reason) => failures.push(Failure {
                path: e.source,
                reason,
            }),
            None => manifest.samples.extend(e.samples),
        }
    }
    let augmented = manifest
        .samples
        .iter()
        .filter(|s| s.origin.is_some())
        .count();
    let mut stage_params = params.value;
    stage_params["augmented"] = augmented.into();
    stage_params["failures"] = failures.len().into();
    manifest.info.stages.push(Stage {
        step: "augment".into(),
        tool: TOOL.into(),
        params: stage_params,
    });
    write_failures(&out_dir.join(FAILURES_FILE), &failures)?;
    manifest.write(&out_dir.join(MANIFEST_FILE))?;
    parts.remove()?;
    Ok(summarise(manifest, input.samples.len(), 0, failures))
}

/// What an output folder records of the job that made it.
fn params(
    input: &Manifest,
    samples: usize,
    policy: &Policy,
    opts: &AugmentOptions,
) -> serde_json::Value {
    serde_json::json!({
        "seed": opts.seed,
        "policy": policy.describe(),
        "format": opts.format,
        "splits": opts.splits,
        "input_root": input.info.root.display().to_string(),
        "input_samples": samples,
    })
}

fn summarise(
    manifest: Manifest,
    sources: usize,
    resumed: usize,
    failures: Vec<Failure>,
) -> AugmentReport {
    let augmented = manifest
        .samples
        .iter()
        .filter(|s| s.origin.is_some())
        .count();
    AugmentReport {
        originals: sources - failures.len(),
        augmented,
        resumed,
        failures,
        manifest,
    }
}

fn process(
    input: &Manifest,
    sample: &Sample,
    policy: &Policy,
    out_dir: &Path,
    opts: &AugmentOptions,
) -> Result<JournalEntry, AugmentError> {
    let src = input.resolve(&sample.path);
    let rel_original = Path::new("images")
        .join(sample.split.as_str())
        .join(&sample.path);
    let mut original = sample.clone();
    original.path = rel_original.clone();
    let failure = |reason: String| JournalEntry {
        source: sample.path.clone(),
        samples: Vec::new(),
        failure: Some(reason),
    };
    let bytes = match fs::read(&src) {
        Ok(b) => b,
        Err(e) => return Ok(failure(format!("cannot read {}: {e}", src.display()))),
    };
    let mut samples = Vec::with_capacity(1 + policy.copies());
    if opts.splits.contains(&sample.split) && policy.copies() > 0 {
        let image = match decode_rgb(&bytes, &src) {
            Ok(img) => img,
            Err(e) => return Ok(failure(e.to_string())),
        };
        let stem = sample
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = sample.path.to_string_lossy().replace('\\', "/");
        let mut derived = Vec::with_capacity(policy.copies());
        for k in 1..=policy.copies() {
            let aug = policy.apply_copy(&image, opts.seed, &key, k);
            let rel =
                rel_original.with_file_name(format!("{stem}_aug{k}.{}", opts.format.extension()));
            let path = out_dir.join(&rel);
            let encoded = opts.format.encode(&aug.image, &path)?;
            write_atomic_unsynced(&path, |w| w.write_all(&encoded))?;
            derived.push(Sample {
                path: rel,
                origin: Some(rel_original.clone()),
                transform: aug.record,
                ..sample.clone()
            });
        }
        samples.push(original);
        samples.extend(derived);
    } else {
        samples.push(original);
    }
    write_atomic_unsynced(&out_dir.join(&rel_original), |w| w.write_all(&bytes))?;
    Ok(JournalEntry {
        source: sample.path.clone(),
        samples,
        failure: None,
    })
}
