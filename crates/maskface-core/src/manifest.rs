use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{write_atomic, write_csv_atomic, CoreError, Sample, Split};

/// Version of the manifest layout written by this crate.
pub const MANIFEST_FORMAT_VERSION: u32 = 1;

/// One step in the history of a dataset: which command made it, with which
/// parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// What the step did: `curate`, `split`, `augment`, ...
    pub step: String,
    /// The crate and version that ran it, e.g. `maskface-dataset 0.1.0`.
    pub tool: String,
    /// The step's parameters (seed, ranges, ratios, ...), as the step chose to
    /// record them.
    pub params: serde_json::Value,
}

/// The JSON half of a manifest: where the images are and how the dataset was
/// made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Layout version ([`MANIFEST_FORMAT_VERSION`]).
    pub format_version: u32,
    /// The folder that sample paths are relative to. In memory it is as the
    /// program gave it; on disk it is written relative to the manifest's
    /// folder when both are on the same tree, so that a dataset can be moved
    /// together with its images.
    pub root: PathBuf,
    /// Every step that produced this dataset, oldest first.
    pub stages: Vec<Stage>,
}

/// A dataset on disk: samples (a CSV with a header `path,identity,label,split,
/// origin,transform`) and a [`DatasetInfo`] in a JSON file of the same name
/// beside it (`manifest.csv` + `manifest.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Where the images are and how the dataset was made.
    pub info: DatasetInfo,
    /// One entry per image.
    pub samples: Vec<Sample>,
}

impl Manifest {
    /// An empty manifest whose samples live under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Manifest {
            info: DatasetInfo {
                format_version: MANIFEST_FORMAT_VERSION,
                root: root.into(),
                stages: Vec::new(),
            },
            samples: Vec::new(),
        }
    }

    /// The JSON file that goes with a manifest CSV.
    pub fn info_path(csv_path: &Path) -> PathBuf {
        csv_path.with_extension("json")
    }

    /// The full path of a sample's image (or of any path relative to the root).
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        self.info.root.join(relative)
    }

    /// Number of samples in `split`.
    pub fn count(&self, split: Split) -> usize {
        self.samples.iter().filter(|s| s.split == split).count()
    }

    /// The samples of one split, in manifest order.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.split == split)
    }

    /// Identity names ordered by label (index `i` is the name of label `i`
    /// when labels are `0..n`).
    pub fn identities(&self) -> Vec<String> {
        let by_label: BTreeMap<u32, &str> = self
            .samples
            .iter()
            .map(|s| (s.label, s.identity.as_str()))
            .collect();
        by_label.into_values().map(str::to_owned).collect()
    }

    /// Number of samples per identity, sorted by name.
    pub fn counts_per_identity(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in &self.samples {
            *counts.entry(s.identity.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Checks that every label names one identity and every identity one
    /// label; `path` is only used in the error.
    pub fn validate(&self, path: &Path) -> Result<(), CoreError> {
        let mut check = LabelCheck::default();
        self.samples.iter().try_for_each(|s| check.add(s, path))
    }

    /// Writes the CSV at `csv_path` and the JSON beside it, each atomically
    /// (the JSON last, so a JSON newer than its CSV never describes an older one).
    pub fn write(&self, csv_path: &Path) -> Result<(), CoreError> {
        let rows: Vec<CsvRow> = self.samples.iter().map(CsvRow::from).collect();
        write_csv_atomic(csv_path, &CsvRow::HEADER, &rows)?;

        let info_path = Self::info_path(csv_path);
        let mut info = self.info.clone();
        let manifest_dir = absolute(csv_path.parent().unwrap_or(Path::new(".")));
        info.root = relative_to(&absolute(&self.info.root), &manifest_dir);
        let json = serde_json::to_vec_pretty(&info).map_err(|source| CoreError::Json {
            path: info_path.clone(),
            source,
        })?;
        write_atomic(&info_path, |w| {
            w.write_all(&json)?;
            w.write_all(b"\n")
        })
    }

    /// Reads a manifest CSV and the JSON beside it. The root is resolved
    /// against the manifest's folder, and the labels are checked
    /// ([`Manifest::validate`]).
    pub fn read(csv_path: &Path) -> Result<Self, CoreError> {
        Ok(Self::read_where(csv_path, |_| true)?.0)
    }

    /// [`Manifest::read`] keeping only the samples `keep` accepts, read one
    /// row at a time: memory holds the kept samples, not the file (a shard
    /// of a large manifest, say). Every row is still checked, labels
    /// included. Returns the manifest of the kept samples, each one's
    /// position among all the rows, and the number of rows.
    pub fn read_where(
        csv_path: &Path,
        mut keep: impl FnMut(&Sample) -> bool,
    ) -> Result<(Self, Vec<u64>, usize), CoreError> {
        let info_path = Self::info_path(csv_path);
        let info_bytes = fs::read(&info_path).map_err(|e| CoreError::io(&info_path, e))?;
        let mut info: DatasetInfo =
            serde_json::from_slice(&info_bytes).map_err(|source| CoreError::Json {
                path: info_path.clone(),
                source,
            })?;
        if info.format_version != MANIFEST_FORMAT_VERSION {
            return Err(CoreError::InvalidManifest {
                path: info_path,
                reason: format!(
                    "format version {} is not supported (this build reads {MANIFEST_FORMAT_VERSION})",
                    info.format_version
                ),
            });
        }
        let manifest_dir = csv_path.parent().unwrap_or(Path::new("."));
        if info.root.is_relative() {
            info.root = normalize(&manifest_dir.join(&info.root));
        }

        let csv_err = |source| CoreError::Csv {
            path: csv_path.to_path_buf(),
            source,
        };
        let mut reader = csv::Reader::from_path(csv_path).map_err(csv_err)?;
        let headers = reader.headers().map_err(csv_err)?.clone();
        for required in ["path", "identity", "label", "split"] {
            if !headers.iter().any(|h| h == required) {
                return Err(CoreError::InvalidManifest {
                    path: csv_path.to_path_buf(),
                    reason: format!("missing column `{required}` (header: {headers:?})"),
                });
            }
        }
        let mut check = LabelCheck::default();
        let mut samples = Vec::new();
        let mut ordinals = Vec::new();
        let mut rows = 0usize;
        for row in reader.deserialize::<CsvRow>() {
            let sample = row.map_err(csv_err)?.into_sample(csv_path)?;
            check.add(&sample, csv_path)?;
            if keep(&sample) {
                samples.push(sample);
                ordinals.push(rows as u64);
            }
            rows += 1;
        }
        Ok((Manifest { info, samples }, ordinals, rows))
    }
}

/// The label check of [`Manifest::validate`], one sample at a time: memory
/// grows with the identities, not the samples.
#[derive(Default)]
struct LabelCheck {
    label_of: BTreeMap<String, u32>,
    name_of: BTreeMap<u32, String>,
}

impl LabelCheck {
    fn add(&mut self, s: &Sample, path: &Path) -> Result<(), CoreError> {
        if let Some(&l) = self.label_of.get(s.identity.as_str()) {
            if l != s.label {
                return Err(CoreError::InvalidManifest {
                    path: path.to_path_buf(),
                    reason: format!(
                        "identity {} has labels {l} and {} ({})",
                        s.identity,
                        s.label,
                        s.path.display()
                    ),
                });
            }
        } else {
            self.label_of.insert(s.identity.clone(), s.label);
        }
        match self.name_of.get(&s.label) {
            Some(n) if *n != s.identity => Err(CoreError::InvalidManifest {
                path: path.to_path_buf(),
                reason: format!("label {} names both {n} and {}", s.label, s.identity),
            }),
            Some(_) => Ok(()),
            None => {
                self.name_of.insert(s.label, s.identity.clone());
                Ok(())
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CsvRow {
    path: String,
    identity: String,
    label: u32,
    split: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    transform: String,
}

impl CsvRow {
    const HEADER: [&'static str; 6] = ["path", "identity", "label", "split", "origin", "transform"];

    fn into_sample(self, csv_path: &Path) -> Result<Sample, CoreError> {
        let split = self
            .split
            .parse::<Split>()
            .map_err(|e| CoreError::InvalidManifest {
                path: csv_path.to_path_buf(),
                reason: format!("{}: {e}", self.path),
            })?;
        // An image path is relative and stays under the manifest's root: a
        // manifest from elsewhere cannot make a job read (or, through the
        // outputs named after it, write) files outside the dataset.
        let inside = Path::new(&self.path).components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        if self.path.is_empty() || !inside {
            return Err(CoreError::InvalidManifest {
                path: csv_path.to_path_buf(),
                reason: format!(
                    "image path `{}` is not inside the dataset's root (paths are relative, without `..`)",
                    self.path
                ),
            });
        }
        Ok(Sample {
            path: PathBuf::from(self.path),
            identity: self.identity,
            label: self.label,
            split,
            origin: (!self.origin.is_empty()).then(|| PathBuf::from(self.origin)),
            transform: self.transform,
        })
    }
}

impl From<&Sample> for CsvRow {
    fn from(s: &Sample) -> Self {
        // Manifests use '/' on every platform so they can be shared.
        let slash = |p: &Path| p.to_string_lossy().replace('\\', "/");
        CsvRow {
            path: slash(&s.path),
            identity: s.identity.clone(),
            label: s.label,
            split: s.split.as_str().to_owned(),
            origin: s.origin.as_deref().map(slash).unwrap_or_default(),
            transform: s.transform.clone(),
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// Removes `.` and resolves `..` lexically (symbolic links are kept, so a
/// `data/lfw` link stays `data/lfw`).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `target` relative to `base` (both absolute); `target` itself when they
/// share nothing but the file-system root (a dataset in /tmp pointing at
/// images in /data keeps an absolute root).
fn relative_to(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let shares_only_root = t
        .iter()
        .take(common)
        .all(|c| matches!(c, Component::RootDir | Component::Prefix(_)));
    if shares_only_root {
        return target.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_manifest(root: &Path) -> Manifest {
        let mut m = Manifest::new(root);
        m.info.stages.push(Stage {
            step: "curate".into(),
            tool: "test".into(),
            params: serde_json::json!({"seed": 7}),
        });
        m.samples
            .push(Sample::new("B/B_0001.jpg", "B", 1, Split::Train));
        m.samples
            .push(Sample::new("A/A_0001.jpg", "A", 0, Split::Val));
        let mut aug = Sample::new("train/A/A_0001_aug1.png", "A", 0, Split::Train);
        aug.origin = Some("A/A_0001.jpg".into());
        aug.transform = "rotate(3.5)".into();
        m.samples.push(aug);
        m
    }

    #[test]
    fn roundtrip_with_relative_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lfw");
        let csv = dir.path().join("out/manifest.csv");
        let m = sample_manifest(&root);
        m.write(&csv).unwrap();
        let json = fs::read_to_string(dir.path().join("out/manifest.json")).unwrap();
        assert!(json.contains("\"root\": \"../lfw\""), "{json}");
        let text = fs::read_to_string(&csv).unwrap();
        assert!(text.starts_with("path,identity,label,split,origin,transform\n"));
        let back = Manifest::read(&csv).unwrap();
        assert_eq!(back.samples, m.samples);
        assert_eq!(back.info.stages, m.info.stages);
        assert_eq!(back.info.root, root);
        assert_eq!(back.identities(), vec!["A", "B"]);
        assert_eq!(back.count(Split::Train), 2);
    }

    #[test]
    fn empty_manifest_has_header() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        Manifest::new(dir.path()).write(&csv).unwrap();
        assert_eq!(
            fs::read_to_string(&csv).unwrap(),
            "path,identity,label,split,origin,transform\n"
        );
        assert!(Manifest::read(&csv).unwrap().samples.is_empty());
    }

    #[test]
    fn inconsistent_labels_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        let mut m = sample_manifest(dir.path());
        m.samples
            .push(Sample::new("A/A_0002.jpg", "A", 5, Split::Test));
        m.write(&csv).unwrap();
        let err = Manifest::read(&csv).unwrap_err().to_string();
        assert!(err.contains("identity A has labels 0 and 5"), "{err}");
    }

    #[test]
    fn read_where_keeps_what_it_is_asked_and_checks_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        let m = sample_manifest(dir.path());
        m.write(&csv).unwrap();
        let (own, ordinals, rows) = Manifest::read_where(&csv, |s| s.identity == "A").unwrap();
        assert_eq!(rows, 3);
        assert_eq!(ordinals, vec![1, 2]);
        assert_eq!(own.samples, m.samples[1..].to_vec());
        assert_eq!(own.info.stages, m.info.stages);
        let (none, ordinals, rows) = Manifest::read_where(&csv, |_| false).unwrap();
        assert!(none.samples.is_empty() && ordinals.is_empty());
        assert_eq!(rows, 3);

        // A conflict in rows that are not kept is still an error.
        let mut bad = m.clone();
        bad.samples
            .push(Sample::new("C/C_0001.jpg", "C", 1, Split::Test));
        bad.write(&csv).unwrap();
        let err = Manifest::read_where(&csv, |s| s.identity == "A")
            .unwrap_err()
            .to_string();
        assert!(err.contains("label 1 names both B and C"), "{err}");
    }

    #[test]
    fn missing_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        fs::write(&csv, "path,identity,label,split\n").unwrap();
        let err = Manifest::read(&csv).unwrap_err().to_string();
        assert!(err.contains("m.json"), "{err}");
    }

    #[test]
    fn bad_split_names_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        Manifest::new(dir.path()).write(&csv).unwrap();
        fs::write(&csv, "path,identity,label,split\nA/a.jpg,A,0,holdout\n").unwrap();
        let err = Manifest::read(&csv).unwrap_err().to_string();
        assert!(err.contains("A/a.jpg") && err.contains("holdout"), "{err}");
    }

    #[test]
    fn image_paths_outside_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("m.csv");
        Manifest::new(dir.path()).write(&csv).unwrap();
        for bad in ["../../etc/passwd", "/etc/passwd", "A/../../x.jpg", ""] {
            fs::write(
                &csv,
                format!("path,identity,label,split\n\"{bad}\",A,0,train\n"),
            )
            .unwrap();
            let err = Manifest::read(&csv).unwrap_err().to_string();
            assert!(
                err.contains("m.csv") && err.contains(&format!("`{bad}`")) && err.contains("root"),
                "{err}"
            );
        }
        fs::write(&csv, "path,identity,label,split\n./A/a.jpg,A,0,train\n").unwrap();
        assert_eq!(Manifest::read(&csv).unwrap().samples.len(), 1);
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_to(Path::new("/a/b/c"), Path::new("/a/d")),
            PathBuf::from("../b/c")
        );
        assert_eq!(
            relative_to(Path::new("/x/y"), Path::new("/a/d")),
            PathBuf::from("/x/y")
        );
        assert_eq!(
            relative_to(Path::new("/a"), Path::new("/a")),
            PathBuf::from(".")
        );
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
