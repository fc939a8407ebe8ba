//! Sharded jobs with no coordinator: each of N processes takes the items
//! whose stable hash falls in its slice, journals them under
//! `<out>/shards/`, and a merge joins the journals into the outputs a single
//! process would have written.
//!
//! A single-process run is shard `0/1` followed by the same merge, so the
//! merged outputs of N = 1, 2, 4, ... shards are byte-identical by
//! construction wherever the items themselves are (seeds are per item).

use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;

use crate::{fnv1a64, CoreError, Journal, Manifest, Sample};

/// The folder under a job's output that holds its shards' journals.
pub const SHARDS_DIR: &str = "shards";

/// One slice of a job split over `count` processes: `index` of `count`,
/// written `I/N` with `I` in `0..N` (the numbering of Slurm array tasks and
/// Kubernetes completion indexes).
///
/// ```
/// use maskface_core::Shard;
/// let shards: Vec<Shard> = (0..4).map(|i| Shard::new(i, 4).unwrap()).collect();
/// // Every item belongs to exactly one shard, whatever else is in the job.
/// let key = "Ada_Lovelace/Ada_Lovelace_0001.jpg";
/// assert_eq!(shards.iter().filter(|s| s.owns(key)).count(), 1);
/// assert_eq!("2/4".parse::<Shard>().unwrap(), shards[2]);
/// assert!("4/4".parse::<Shard>().is_err());
/// assert!(Shard::WHOLE.owns(key));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// The whole job in one process: `0/1`.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; `index` must be below `count`.
    pub fn new(index: u32, count: u32) -> Result<Self, CoreError> {
        if count == 0 || index >= count {
            return Err(CoreError::InvalidParameter {
                name: "shard",
                reason: format!("{index}/{count}: needs I/N with 0 <= I < N"),
            });
        }
        Ok(Shard { index, count })
    }

    /// This shard's number, `0..count`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards the job is split into.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether this is the whole job (`0/1`).
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// Whether the item named `key` (a source path relative to its input)
    /// is this shard's.
    pub fn owns(&self, key: &str) -> bool {
        shard_of(key, self.count) == self.index
    }

    /// The samples of `manifest` this shard owns (by [`Sample::shard_key`]),
    /// each with its position in the whole manifest: the ordinal its journal
    /// entry carries, so that the merge restores input order.
    ///
    /// ```
    /// use maskface_core::{Manifest, Sample, Shard, Split};
    /// let mut m = Manifest::new("/data");
    /// for i in 0..10 {
    ///     m.samples.push(Sample::new(format!("Ada/Ada_{i:04}.jpg"), "Ada", 0, Split::Train));
    /// }
    /// let halves = [Shard::new(0, 2).unwrap(), Shard::new(1, 2).unwrap()];
    /// let mut ordinals: Vec<u64> = halves.iter().flat_map(|s| s.select(&m)).map(|(o, _)| o).collect();
    /// ordinals.sort();
    /// assert_eq!(ordinals, (0..10).collect::<Vec<u64>>());
    /// ```
    pub fn select<'a>(&self, manifest: &'a Manifest) -> Vec<(u64, &'a Sample)> {
        manifest
            .samples
            .iter()
            .enumerate()
            .filter(|(_, s)| self.owns(&s.shard_key()))
            .map(|(o, s)| (o as u64, s))
            .collect()
    }

    /// The name of this shard's journal for `job`: `<job>-<I>-of-<N>.jsonl`.
    fn journal_name(&self, job: &str) -> String {
        format!("{job}-{}-of-{}.jsonl", self.index, self.count)
    }

    fn done_name(&self, job: &str) -> String {
        format!("{job}-{}-of-{}.done", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        let bad = || CoreError::InvalidParameter {
            name: "shard",
            reason: format!("`{s}`: expected I/N, such as 0/4 (I counts from 0)"),
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index = i.trim().parse().map_err(|_| bad())?;
        let count = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }
}

/// The shard of `count` that the item named `key` belongs to.
///
/// A hash of the name alone: adding items to a job moves no other item to
/// another shard, and every process agrees without talking to the others.
/// FNV-1a is fixed by its definition; its high bits are folded in (a
/// SplitMix64 finaliser) because its low bits alone spread short, similar
/// names unevenly.
///
/// ```
/// assert_eq!(maskface_core::shard_of("anything", 1), 0);
/// assert!(maskface_core::shard_of("Ada/Ada_0001.jpg", 16) < 16);
/// ```
pub fn shard_of(key: &str, count: u32) -> u32 {
    if count <= 1 {
        return 0;
    }
    let mut z = fnv1a64(key.as_bytes());
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % u64::from(count)) as u32
}

/// What one shard of a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRun {
    /// The shard's items.
    pub items: usize,
    /// Items an earlier, interrupted run of the shard had done.
    pub resumed: usize,
    /// The job was already merged: nothing was done.
    pub merged: bool,
}

/// The journal of one shard of `job` in `out_dir`, opened for appending,
/// with the entries already in it: `(ordinal, item)` pairs, `ordinal` being
/// the item's place in the whole job's input order.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use maskface_core::{open_shard_journal, Shard};
/// let shard = Shard::new(1, 2).unwrap();
/// let (journal, earlier) = open_shard_journal::<String>(dir.path(), "demo", shard).unwrap();
/// assert!(earlier.is_empty());
/// journal.append(&(7, "seventh".to_string())).unwrap();
/// let (_, earlier) = open_shard_journal::<String>(dir.path(), "demo", shard).unwrap();
/// assert_eq!(earlier, vec![(7, "seventh".to_string())]);
/// ```
#[allow(clippy::type_complexity)]
pub fn open_shard_journal<T: Serialize + DeserializeOwned>(
    out_dir: &Path,
    job: &str,
    shard: Shard,
) -> Result<(Journal<(u64, T)>, Vec<(u64, T)>), CoreError> {
    let dir = out_dir.join(SHARDS_DIR);
    fs::create_dir_all(&dir).map_err(|e| CoreError::io(&dir, e))?;
    Journal::open(&dir.join(shard.journal_name(job)))
}

/// Records that `shard` of `job` has journaled all its `items` (out of
/// `total` in the whole job), for [`ShardParts::open`]'s report of what is
/// missing.
pub fn mark_shard_done(
    out_dir: &Path,
    job: &str,
    shard: Shard,
    items: u64,
    total: u64,
) -> Result<(), CoreError> {
    let path = out_dir.join(SHARDS_DIR).join(shard.done_name(job));
    let text = format!("{{\"items\": {items}, \"total\": {total}}}\n");
    crate::write_atomic(&path, |w| w.write_all(text.as_bytes()))
}

/// Whether `out_dir` holds any shard journal of `job`.
pub fn has_shard_journals(out_dir: &Path, job: &str) -> bool {
    !list_parts(out_dir, job).unwrap_or_default().is_empty()
}

/// `(shard, journal path)` of every journal of `job` in `out_dir/shards`.
fn list_parts(out_dir: &Path, job: &str) -> Result<Vec<(Shard, PathBuf)>, CoreError> {
    let dir = out_dir.join(SHARDS_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CoreError::io(&dir, e)),
    };
    let prefix = format!("{job}-");
    let mut parts = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| CoreError::io(&dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".jsonl"))
        else {
            continue;
        };
        let Some((i, n)) = rest.split_once("-of-") else {
            continue;
        };
        if let (Ok(i), Ok(n)) = (i.parse(), n.parse()) {
            if let Ok(shard) = Shard::new(i, n) {
                parts.push((shard, path));
            }
        }
    }
    parts.sort_by_key(|(s, _)| (s.count, s.index));
    Ok(parts)
}

/// Where the entry of each item is: its part and the byte offset of its
/// line, packed in one word (16 bits of part, 48 of offset), so that the
/// index of a job of millions of items stays a few tens of megabytes.
const MISSING: u64 = u64::MAX;
const OFFSET_BITS: u32 = 48;

/// The finished journals of every shard of a job, indexed by item: what a
/// merge reads, item by item in input order, without holding the entries in
/// memory.
pub struct ShardParts<T> {
    dir: PathBuf,
    parts: Vec<Part>,
    index: Vec<u64>,
    _entries: std::marker::PhantomData<fn() -> T>,
}

struct Part {
    path: PathBuf,
    reader: BufReader<fs::File>,
    pos: u64,
}

impl<T: DeserializeOwned> ShardParts<T> {
    /// Opens the journals of `job` in `out_dir/shards` for a job of `total`
    /// items.
    ///
    /// Fails with [`CoreError::ShardsIncomplete`], naming the shards that
    /// have not finished, unless every item `0..total` has an entry; the
    /// journals must all come from one split (the same N).
    pub fn open(out_dir: &Path, job: &str, total: u64) -> Result<Self, CoreError> {
        let dir = out_dir.join(SHARDS_DIR);
        let found = list_parts(out_dir, job)?;
        let count = match found.first() {
            Some((s, _)) => s.count,
            None => {
                return Err(CoreError::ShardsIncomplete {
                    dir,
                    missing: total,
                    total,
                    shards: "no shard has started".into(),
                })
            }
        };
        if let Some((other, _)) = found.iter().find(|(s, _)| s.count != count) {
            return Err(CoreError::ShardSplitMismatch {
                dir,
                counts: format!("{count} and {}", other.count),
            });
        }
        let mut index = vec![MISSING; usize::try_from(total).unwrap_or(usize::MAX)];
        let mut parts = Vec::with_capacity(found.len());
        for (p, (_, path)) in found.iter().enumerate() {
            let file = fs::File::open(path).map_err(|e| CoreError::io(path, e))?;
            let mut reader = BufReader::new(file);
            let mut offset = 0u64;
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|e| CoreError::io(path, e))?;
                if n == 0 {
                    break;
                }
                // A torn line (a writer killed mid-append) names no item.
                if line.ends_with(b"\n") {
                    if let Ok((ordinal, IgnoredAny)) =
                        serde_json::from_slice::<(u64, IgnoredAny)>(&line)
                    {
                        if let Some(slot) =
                            usize::try_from(ordinal).ok().and_then(|o| index.get_mut(o))
                        {
                            *slot = ((p as u64) << OFFSET_BITS) | offset;
                        }
                    }
                }
                offset += n as u64;
            }
            let file = fs::File::open(path).map_err(|e| CoreError::io(path, e))?;
            parts.push(Part {
                path: path.clone(),
                reader: BufReader::with_capacity(1 << 16, file),
                pos: 0,
            });
        }
        let missing = index.iter().filter(|&&i| i == MISSING).count() as u64;
        if missing > 0 {
            let unfinished: Vec<String> = (0..count)
                .filter(|&i| {
                    let Ok(shard) = Shard::new(i, count) else {
                        return true;
                    };
                    !dir.join(shard.done_name(job)).is_file()
                })
                .map(|i| i.to_string())
                .collect();
            return Err(CoreError::ShardsIncomplete {
                dir,
                missing,
                total,
                shards: if unfinished.is_empty() {
                    format!("every shard of {count} marked itself done, yet items are missing")
                } else {
                    format!("not finished: {} of {count}", unfinished.join(", "))
                },
            });
        }
        Ok(ShardParts {
            dir,
            parts,
            index,
            _entries: std::marker::PhantomData,
        })
    }

    /// How many items the job has.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the job has no item.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The entry of item `ordinal`.
    pub fn get(&mut self, ordinal: u64) -> Result<T, CoreError> {
        let slot = usize::try_from(ordinal)
            .ok()
            .and_then(|o| self.index.get(o))
            .copied()
            .unwrap_or(MISSING);
        let (p, offset) = (
            (slot >> OFFSET_BITS) as usize,
            slot & ((1 << OFFSET_BITS) - 1),
        );
        let Some(part) = self.parts.get_mut(p).filter(|_| slot != MISSING) else {
            return Err(CoreError::InvalidParameter {
                name: "ordinal",
                reason: format!("{ordinal} is not an item of this job"),
            });
        };
        // Items are read in input order and each part was written in
        // roughly that order, so most reads stay inside the buffer.
        let delta = offset as i64 - part.pos as i64;
        part.reader
            .seek_relative(delta)
            .map_err(|e| CoreError::io(&part.path, e))?;
        let mut line = Vec::new();
        let n = part
            .reader
            .read_until(b'\n', &mut line)
            .map_err(|e| CoreError::io(&part.path, e))?;
        part.pos = offset + n as u64;
        let (_, item): (u64, T) =
            serde_json::from_slice(&line).map_err(|source| CoreError::Json {
                path: part.path.clone(),
                source,
            })?;
        Ok(item)
    }

    /// Deletes the journals (and the folder holding them, once empty) after
    /// the merged outputs are written.
    pub fn remove(self) -> Result<(), CoreError> {
        let job_files: Vec<PathBuf> = self.parts.iter().map(|p| p.path.clone()).collect();
        drop(self.parts);
        for path in job_files {
            fs::remove_file(&path).map_err(|e| CoreError::io(&path, e))?;
            let done = path.with_extension("done");
            match fs::remove_file(&done) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(CoreError::io(&done, e))
                }
                _ => {}
            }
        }
        // Other jobs' journals may share the folder: it goes only when empty.
        let _ = fs::remove_dir(&self.dir);
        Ok(())
    }
}

/// The part of a manifest one shard works on: its own samples, each with its
/// position in the whole manifest, and the size of the whole.
///
/// [`ShardInput::read`] streams the manifest file and keeps only the shard's
/// rows, so each of N processes holds about 1/N of it;
/// [`ShardInput::of`] borrows a manifest already in memory.
///
/// ```
/// use maskface_core::{Manifest, Sample, Shard, ShardInput, Split};
/// let mut m = Manifest::new("/data");
/// for i in 0..10 {
///     m.samples.push(Sample::new(format!("Ada/Ada_{i:04}.jpg"), "Ada", 0, Split::Train));
/// }
/// let whole = ShardInput::of(&m, Shard::WHOLE);
/// assert_eq!((whole.len(), whole.total()), (10, 10));
/// let half = ShardInput::of(&m, "1/2".parse().unwrap());
/// assert_eq!(half.total(), 10);
/// assert!(half.samples().all(|(o, s)| m.samples[o as usize] == *s));
/// ```
#[derive(Debug, Clone)]
pub struct ShardInput<'a> {
    manifest: std::borrow::Cow<'a, Manifest>,
    /// The ordinals of `manifest.samples`; `None`: all of them, in order.
    ordinals: Option<Vec<u64>>,
    total: usize,
    shard: Shard,
}

impl<'a> ShardInput<'a> {
    /// Reads the rows of the manifest at `csv_path` that `shard` owns, one
    /// row at a time ([`Manifest::read_where`]).
    pub fn read(csv_path: &Path, shard: Shard) -> Result<ShardInput<'static>, CoreError> {
        let (manifest, ordinals, total) =
            Manifest::read_where(csv_path, |s| shard.owns(&s.shard_key()))?;
        Ok(ShardInput {
            manifest: std::borrow::Cow::Owned(manifest),
            ordinals: Some(ordinals),
            total,
            shard,
        })
    }

    /// The samples of `manifest` that `shard` owns; the whole manifest is
    /// borrowed, not copied, when the shard is [`Shard::WHOLE`].
    pub fn of(manifest: &'a Manifest, shard: Shard) -> Self {
        let total = manifest.samples.len();
        if shard.is_whole() {
            return ShardInput {
                manifest: std::borrow::Cow::Borrowed(manifest),
                ordinals: None,
                total,
                shard,
            };
        }
        let mut own = Manifest {
            info: manifest.info.clone(),
            samples: Vec::new(),
        };
        let mut ordinals = Vec::new();
        for (o, s) in shard.select(manifest) {
            own.samples.push(s.clone());
            ordinals.push(o);
        }
        ShardInput {
            manifest: std::borrow::Cow::Owned(own),
            ordinals: Some(ordinals),
            total,
            shard,
        }
    }

    /// The shard's samples (and the whole manifest's root and history).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The shard's samples with their positions in the whole manifest.
    pub fn samples(&self) -> impl Iterator<Item = (u64, &Sample)> {
        let ordinals = self.ordinals.as_deref();
        self.manifest
            .samples
            .iter()
            .enumerate()
            .map(move |(i, s)| (ordinals.map_or(i as u64, |o| o[i]), s))
    }

    /// How many samples the shard holds.
    pub fn len(&self) -> usize {
        self.manifest.samples.len()
    }

    /// Whether the shard holds no sample.
    pub fn is_empty(&self) -> bool {
        self.manifest.samples.is_empty()
    }

    /// How many samples the whole manifest holds.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The shard.
    pub fn shard(&self) -> Shard {
        self.shard
    }
}

/// The parameters a sharded job recorded in its output folder (the JSON its
/// first shard wrote): what a merge reads back, so that it needs no options
/// the shards were not given.
#[derive(Debug, Clone, PartialEq)]
pub struct JobParams {
    /// The parameters file.
    pub path: PathBuf,
    /// Its contents.
    pub value: serde_json::Value,
}

impl JobParams {
    /// Reads `out_dir/file`.
    pub fn read(out_dir: &Path, file: &str) -> Result<Self, CoreError> {
        let path = out_dir.join(file);
        let bytes = fs::read(&path).map_err(|e| CoreError::io(&path, e))?;
        let value = serde_json::from_slice(&bytes).map_err(|source| CoreError::Json {
            path: path.clone(),
            source,
        })?;
        Ok(JobParams { path, value })
    }

    /// The recorded field `name`, read as a `T`; an error names the file
    /// when the field is missing or of another type.
    pub fn field<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, CoreError> {
        let value = self
            .value
            .get(name)
            .ok_or_else(|| CoreError::InvalidParameter {
                name,
                reason: format!("{} does not record it", self.path.display()),
            })?;
        T::deserialize(value).map_err(|source| CoreError::Json {
            path: self.path.clone(),
            source,
        })
    }

    /// Checks that the shards read a manifest of `samples` samples (the
    /// recorded `input_samples`): a merge with another manifest would pair
    /// journal entries with the wrong images.
    pub fn check_input_samples(&self, samples: usize) -> Result<(), CoreError> {
        let recorded: u64 = self.field("input_samples")?;
        if recorded == samples as u64 {
            return Ok(());
        }
        Err(CoreError::InvalidParameter {
            name: "manifest",
            reason: format!(
                "{samples} samples, but the shards recorded in {} read a manifest of {recorded}",
                self.path.display()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shards_split_names_evenly() {
        let n = 4;
        let mut counts = [0usize; 4];
        for p in 0..1000 {
            for i in 1..=13 {
                counts[shard_of(&format!("Person_{p}/Person_{p}_{i:04}.jpg"), n) as usize] += 1;
            }
        }
        // 13,000 names: each shard within 5% of a quarter.
        for c in counts {
            assert!((3087..=3413).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn a_shard_reads_its_own_rows_and_their_places() {
        use crate::Split;
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        let mut m = Manifest::new(dir.path());
        for i in 0..40 {
            let who = format!("P{}", i % 7);
            let path = format!("{who}/{who}_{i:04}.jpg");
            m.samples.push(Sample::new(path, who, i % 7, Split::Train));
        }
        m.write(&csv).unwrap();
        let mut seen = Vec::new();
        for i in 0..3 {
            let shard = Shard::new(i, 3).unwrap();
            let part = ShardInput::read(&csv, shard).unwrap();
            let borrowed = ShardInput::of(&m, shard);
            assert_eq!(part.total(), 40);
            assert_eq!(part.shard(), shard);
            let got: Vec<(u64, Sample)> = part.samples().map(|(o, s)| (o, s.clone())).collect();
            let want: Vec<(u64, Sample)> =
                borrowed.samples().map(|(o, s)| (o, s.clone())).collect();
            assert_eq!(got, want);
            for (o, s) in got {
                assert_eq!(m.samples[o as usize], s);
                assert!(shard.owns(&s.shard_key()));
                seen.push(o);
            }
        }
        seen.sort();
        assert_eq!(seen, (0..40).collect::<Vec<u64>>());
        let whole = ShardInput::read(&csv, Shard::WHOLE).unwrap();
        assert_eq!(whole.manifest().samples, m.samples);
    }

    #[test]
    fn job_params_name_the_file_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("p.json"),
            r#"{"input_samples": 12, "seed": "x"}"#,
        )
        .unwrap();
        let params = JobParams::read(dir.path(), "p.json").unwrap();
        assert_eq!(params.field::<u64>("input_samples").unwrap(), 12);
        params.check_input_samples(12).unwrap();
        let other = params.check_input_samples(13).unwrap_err().to_string();
        assert!(
            other.contains("13 samples") && other.contains("of 12"),
            "{other}"
        );
        let missing = params.field::<u64>("files").unwrap_err().to_string();
        assert!(
            missing.contains("files") && missing.contains("p.json"),
            "{missing}"
        );
        let wrong = params.field::<u64>("seed").unwrap_err().to_string();
        assert!(wrong.contains("p.json"), "{wrong}");
        let absent = JobParams::read(dir.path(), "none.json").unwrap_err();
        assert!(absent.to_string().contains("none.json"), "{absent}");
    }

    #[test]
    fn parts_merge_in_input_order_and_name_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<String> = (0..50).map(|i| format!("p/{i}.jpg")).collect();
        for i in 0..3 {
            let shard = Shard::new(i, 3).unwrap();
            let (journal, _) = open_shard_journal::<String>(dir.path(), "job", shard).unwrap();
            // Written in reverse: the merge must not depend on journal order.
            for (o, k) in keys.iter().enumerate().rev() {
                if shard.owns(k) && !(i == 2 && o == 7) {
                    journal.append(&(o as u64, k.clone())).unwrap();
                }
            }
            if i < 2 {
                mark_shard_done(dir.path(), "job", shard, 0, 50).unwrap();
            }
        }
        let owner = shard_of("p/7.jpg", 3);
        let err = ShardParts::<String>::open(dir.path(), "job", 50)
            .err()
            .unwrap();
        if owner == 2 {
            assert!(err.to_string().contains("not finished: 2 of 3"), "{err}");
        } else {
            assert!(err.to_string().contains("1 of 50"), "{err}");
        }
        // The missing item, appended after a torn line, completes the job.
        let shard = Shard::new(owner, 3).unwrap();
        let path = dir.path().join(SHARDS_DIR).join(shard.journal_name("job"));
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut f, b"[3, \"tor").unwrap();
        drop(f);
        let (journal, _) = open_shard_journal::<String>(dir.path(), "job", shard).unwrap();
        journal.append(&(7, "p/7.jpg".into())).unwrap();
        let mut parts = ShardParts::<String>::open(dir.path(), "job", 50).unwrap();
        let merged: Vec<String> = (0..50).map(|o| parts.get(o).unwrap()).collect();
        assert_eq!(merged, keys);
        parts.remove().unwrap();
        assert!(!dir.path().join(SHARDS_DIR).exists());
    }

    proptest! {
        #[test]
        fn every_name_has_one_shard(key in ".{0,40}", n in 1u32..64) {
            let owners = (0..n).filter(|&i| Shard::new(i, n).unwrap().owns(&key)).count();
            prop_assert_eq!(owners, 1);
        }

        #[test]
        fn shard_text_round_trips(i in 0u32..1000, extra in 1u32..1000) {
            let s = Shard::new(i, i + extra).unwrap();
            prop_assert_eq!(s.to_string().parse::<Shard>().unwrap(), s);
        }
    }
}
