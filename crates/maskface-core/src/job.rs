//! The machinery of long, resumable dataset jobs (augmentation, masking):
//! an output folder guarded by its parameters, a journal of finished items
//! so that an interrupted run continues where it stopped, failure lists,
//! and image encoding.

use std::fs;
use std::io::{BufRead, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::{ImageFormat, RgbImage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{encode_jpeg, write_atomic, write_csv_atomic, CoreError};

/// How a job encodes the images it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// Lossless PNG (the default: no compression artefacts are added).
    Png,
    /// JPEG at the given quality (1..=100): about 5x smaller files.
    Jpeg {
        /// Encoder quality.
        quality: u8,
    },
}

/// An [`OutputFormat`] by name, its JPEG quality given apart: the choices a
/// command line offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum OutputFormatKind {
    /// Lossless PNG.
    Png,
    /// JPEG at the quality [`OutputFormatKind::with_quality`] is given.
    #[cfg_attr(feature = "clap", value(help = "JPEG (see --quality)"))]
    Jpeg,
}

impl OutputFormatKind {
    /// The format; `quality` is used by JPEG only.
    pub fn with_quality(self, quality: u8) -> OutputFormat {
        match self {
            OutputFormatKind::Png => OutputFormat::Png,
            OutputFormatKind::Jpeg => OutputFormat::Jpeg { quality },
        }
    }
}

impl OutputFormat {
    /// The file extension, without the dot.
    pub fn extension(&self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg { .. } => "jpg",
        }
    }

    /// Checks the JPEG quality.
    pub fn validate(&self) -> Result<(), CoreError> {
        match self {
            OutputFormat::Jpeg { quality } if !(1..=100).contains(quality) => {
                Err(CoreError::InvalidParameter {
                    name: "quality",
                    reason: format!("{quality} is outside 1..=100"),
                })
            }
            _ => Ok(()),
        }
    }

    /// Encodes `image`; `path` names the destination in errors.
    pub fn encode(&self, image: &RgbImage, path: &Path) -> Result<Vec<u8>, CoreError> {
        let mut out = std::io::Cursor::new(Vec::new());
        match self {
            OutputFormat::Png => image.write_to(&mut out, ImageFormat::Png),
            OutputFormat::Jpeg { quality } => return encode_jpeg(image, *quality, path),
        }
        .map_err(|source| CoreError::ImageWrite {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(out.into_inner())
    }
}

/// An input that a job could not process, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The source image, relative to the input root.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Writes `failures` as a CSV (`path,reason`), atomically.
pub fn write_failures(path: &Path, failures: &[Failure]) -> Result<(), CoreError> {
    write_csv_atomic(path, &["path", "reason"], failures)
}

/// Reads a list written by [`write_failures`]; empty if it is missing.
pub fn read_failures(path: &Path) -> Vec<Failure> {
    csv::Reader::from_path(path)
        .map(|mut r| r.deserialize().filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// Makes `out_dir` ready for a job with `params`, recorded in
/// `out_dir/params_file`.
///
/// A folder made with the same parameters is kept (the job resumes). One
/// made with other parameters is [`CoreError::ParamsMismatch`], unless
/// `overwrite`, in which case the `outputs` (files or folders, relative to
/// `out_dir`) are deleted first. Either way, the temporary files killed
/// writers left in the folder are removed
/// ([`remove_stale_temp_files`](crate::remove_stale_temp_files)).
pub fn prepare_job_dir(
    out_dir: &Path,
    params_file: &str,
    params: &serde_json::Value,
    overwrite: bool,
    outputs: &[&str],
) -> Result<(), CoreError> {
    prepare(out_dir, params_file, params, overwrite, outputs, true)
}

/// [`prepare_job_dir`] for one shard of a job that several processes share
/// ([`Shard`](crate::Shard)); the whole job (`0/1`) is exactly
/// [`prepare_job_dir`].
///
/// Every shard records the same parameters, so a shard started with other
/// options is refused. A shard removes no temporary file, since another
/// shard (perhaps on another machine, whose process ids this one cannot
/// see) may be writing it; the merge does, once every shard has finished.
/// `overwrite` is refused: one shard must not delete the others' work.
pub fn prepare_shard_dir(
    out_dir: &Path,
    params_file: &str,
    params: &serde_json::Value,
    overwrite: bool,
    outputs: &[&str],
    shard: crate::Shard,
) -> Result<(), CoreError> {
    if shard.is_whole() {
        return prepare(out_dir, params_file, params, overwrite, outputs, true);
    }
    if overwrite {
        return Err(CoreError::InvalidParameter {
            name: "overwrite",
            reason: format!(
                "shard {shard} would delete the other shards' work; empty {} first instead",
                out_dir.display()
            ),
        });
    }
    prepare(out_dir, params_file, params, false, outputs, false)
}

fn prepare(
    out_dir: &Path,
    params_file: &str,
    params: &serde_json::Value,
    overwrite: bool,
    outputs: &[&str],
    clean_temps: bool,
) -> Result<(), CoreError> {
    let params_path = out_dir.join(params_file);
    if let Ok(bytes) = fs::read(&params_path) {
        let existing: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        if existing.as_ref() == Some(params) {
            // A resumed job: what a killed run was writing goes.
            if clean_temps {
                crate::remove_stale_temp_files(out_dir)?;
            }
            return Ok(());
        }
        if !overwrite {
            return Err(CoreError::ParamsMismatch {
                path: params_path,
                existing: existing
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "unreadable".into()),
            });
        }
        for name in outputs {
            let p = out_dir.join(name);
            let removed = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(CoreError::io(&p, e))
                }
                _ => {}
            }
        }
    }
    // A run killed before it recorded its parameters (or while a caller
    // wrote its own inputs into the folder) may have left temporary files.
    if clean_temps {
        crate::remove_stale_temp_files(out_dir)?;
    }
    let text = serde_json::to_vec_pretty(params).map_err(|source| CoreError::Json {
        path: params_path.clone(),
        source,
    })?;
    write_atomic(&params_path, |w| w.write_all(&text))
}

/// An append-only log of finished items, one JSON line each.
///
/// Lines are flushed as they are written; after a crash, a torn last line is
/// ignored and that item is simply processed again. Appends from several
/// threads are serialised.
pub struct Journal<T> {
    path: PathBuf,
    file: Mutex<fs::File>,
    _entries: PhantomData<fn(T)>,
}

impl<T: Serialize + DeserializeOwned> Journal<T> {
    /// Opens (creating it if needed) the journal at `path` and returns it with
    /// the entries already in it.
    pub fn open(path: &Path) -> Result<(Self, Vec<T>), CoreError> {
        let done = match fs::File::open(path) {
            Ok(file) => std::io::BufReader::new(file)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| serde_json::from_str::<T>(&l).ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| CoreError::io(path, e))?;
        // A writer killed mid-line left a torn tail: end it, or the next
        // entry would be glued to it and lost with it.
        let torn = last_byte(path).is_some_and(|c| c != b'\n');
        if torn {
            file.write_all(b"\n").map_err(|e| CoreError::io(path, e))?;
        }
        Ok((
            Journal {
                path: path.to_path_buf(),
                file: Mutex::new(file),
                _entries: PhantomData,
            },
            done,
        ))
    }

    /// Appends one entry.
    pub fn append(&self, entry: &T) -> Result<(), CoreError> {
        let mut line = serde_json::to_vec(entry).map_err(|source| CoreError::Json {
            path: self.path.clone(),
            source,
        })?;
        line.push(b'\n');
        // A poisoned lock only means another thread panicked mid-append; the
        // file itself is still usable (a torn line is ignored on resume).
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(&line)
            .and_then(|_| file.flush())
            .map_err(|e| CoreError::io(&self.path, e))
    }

    /// Deletes the journal once the job's outputs are complete (it is written
    /// in thread order, so it is not reproducible byte for byte).
    pub fn finish(self) -> Result<(), CoreError> {
        drop(self.file);
        fs::remove_file(&self.path).map_err(|e| CoreError::io(&self.path, e))
    }
}

/// The last byte of the file at `path`, if it has one.
fn last_byte(path: &Path) -> Option<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = fs::File::open(path).ok()?;
    file.seek(SeekFrom::End(-1)).ok()?;
    let mut byte = [0u8];
    file.read_exact(&mut byte).ok()?;
    Some(byte[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_survives_a_torn_line_and_params_guard_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (j, done) = Journal::<u32>::open(&path).unwrap();
        assert!(done.is_empty());
        j.append(&1).unwrap();
        j.append(&2).unwrap();
        drop(j);
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"torn").unwrap();
        let (j, done) = Journal::<u32>::open(&path).unwrap();
        assert_eq!(done, vec![1, 2]);
        j.append(&3).unwrap();
        drop(j);
        let (j, done) = Journal::<u32>::open(&path).unwrap();
        assert_eq!(done, vec![1, 2, 3]);
        j.finish().unwrap();
        assert!(!path.exists());

        let a = serde_json::json!({"seed": 1});
        let b = serde_json::json!({"seed": 2});
        prepare_job_dir(dir.path(), "p.json", &a, false, &[]).unwrap();
        prepare_job_dir(dir.path(), "p.json", &a, false, &[]).unwrap();
        fs::write(dir.path().join("out.txt"), "x").unwrap();
        let err = prepare_job_dir(dir.path(), "p.json", &b, false, &["out.txt"]).unwrap_err();
        assert!(matches!(err, CoreError::ParamsMismatch { .. }), "{err}");
        prepare_job_dir(dir.path(), "p.json", &b, true, &["out.txt"]).unwrap();
        assert!(!dir.path().join("out.txt").exists());
    }

    #[test]
    fn jpeg_quality_is_checked() {
        assert!(OutputFormat::Jpeg { quality: 0 }.validate().is_err());
        assert!(OutputFormat::Jpeg { quality: 90 }.validate().is_ok());
    }
}
