use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use maskface_core::{
    decode_rgb, prepare_job_dir, read_failures, write_atomic_unsynced, write_failures, Failure,
    Journal, Manifest, OutputFormat, Sample, Split, Stage,
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
const JOURNAL_FILE: &str = "augment-journal.jsonl";
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
    opts.format.validate()?;
    let params = serde_json::json!({
        "seed": opts.seed,
        "policy": policy.describe(),
        "format": opts.format,
        "splits": opts.splits,
        "input_root": input.info.root.display().to_string(),
        "input_samples": input.samples.len(),
    });
    prepare_job_dir(
        out_dir,
        PARAMS_FILE,
        &params,
        opts.overwrite,
        &[
            "images",
            JOURNAL_FILE,
            MANIFEST_FILE,
            "manifest.json",
            FAILURES_FILE,
        ],
    )?;

    let manifest_path = out_dir.join(MANIFEST_FILE);
    let journal_path = out_dir.join(JOURNAL_FILE);
    if manifest_path.is_file() && !journal_path.exists() {
        let manifest = Manifest::read(&manifest_path)?;
        for _ in &input.samples {
            on_progress();
        }
        return Ok(summarise(
            manifest,
            input.samples.len(),
            0,
            read_failures(&out_dir.join(FAILURES_FILE)),
        ));
    }

    let (journal, earlier) = Journal::<JournalEntry>::open(&journal_path)?;
    let done: HashMap<PathBuf, JournalEntry> = earlier
        .into_iter()
        .filter(|e| e.failure.is_none())
        .map(|e| (e.source.clone(), e))
        .collect();
    let resumed = input
        .samples
        .iter()
        .filter(|s| done.contains_key(&s.path))
        .count();

    let entries: Vec<JournalEntry> = input
        .samples
        .par_iter()
        .map(|sample| {
            let entry = match done.get(&sample.path) {
                Some(e) => Ok(e.clone()),
                None => process(input, sample, policy, out_dir, opts).and_then(|entry| {
                    journal.append(&entry)?;
                    Ok(entry)
                }),
            };
            on_progress();
            entry
        })
        .collect::<Result<_, AugmentError>>()?;

    let mut manifest = Manifest::new(out_dir);
    manifest.info.stages = input.info.stages.clone();
    let mut failures = Vec::new();
    for e in entries {
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
    let mut stage_params = params;
    stage_params["augmented"] = augmented.into();
    stage_params["failures"] = failures.len().into();
    manifest.info.stages.push(Stage {
        step: "augment".into(),
        tool: TOOL.into(),
        params: stage_params,
    });
    write_failures(&out_dir.join(FAILURES_FILE), &failures)?;
    manifest.write(&manifest_path)?;
    journal.finish()?;
    Ok(summarise(manifest, input.samples.len(), resumed, failures))
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
