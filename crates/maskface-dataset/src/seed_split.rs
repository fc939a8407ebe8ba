use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use maskface_core::{Manifest, Sample, Split, Stage};

use crate::{DatasetError, TOOL};

/// Reads the authors' published split (a folder with `target_names.csv`,
/// `train.csv`, `val.csv`, `test.csv`) into a manifest over `lfw_root`.
///
/// `target_names.csv` maps label to name (`,0` header, then `label,name`);
/// each split file lists `img_train,label_train` (file name, label). The
/// split is reproduced exactly: every file must exist under
/// `lfw_root/<name>/`, belong to the identity its label names, and appear
/// once; otherwise the error names the CSV file and line. Samples keep the
/// CSVs' order (train, val, test).
pub fn read_seed_split(dir: &Path, lfw_root: &Path) -> Result<Manifest, DatasetError> {
    if !lfw_root.is_dir() {
        return Err(DatasetError::MissingRoot {
            path: lfw_root.to_path_buf(),
        });
    }
    let names_path = dir.join("target_names.csv");
    let mut names = BTreeMap::new();
    for (line, rec) in read_rows(&names_path)? {
        let label = parse_label(&names_path, line, rec.get(0))?;
        let name = rec
            .get(1)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| seed_err(&names_path, line, "missing name"))?;
        if names.insert(label, name.to_string()).is_some() {
            return Err(seed_err(
                &names_path,
                line,
                &format!("label {label} is listed twice"),
            ));
        }
    }
    if names.is_empty() {
        return Err(seed_err(&names_path, 1, "no identities listed"));
    }

    let mut manifest = Manifest::new(lfw_root);
    let mut seen = HashSet::new();
    let mut counts = BTreeMap::new();
    for (split, file) in [
        (Split::Train, "train.csv"),
        (Split::Val, "val.csv"),
        (Split::Test, "test.csv"),
    ] {
        let path = dir.join(file);
        for (line, rec) in read_rows(&path)? {
            let image = rec
                .get(0)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| seed_err(&path, line, "missing file name"))?;
            let label = parse_label(&path, line, rec.get(1))?;
            let name = names.get(&label).ok_or_else(|| {
                seed_err(
                    &path,
                    line,
                    &format!("label {label} is not in target_names.csv"),
                )
            })?;
            if !image.starts_with(&format!("{name}_")) {
                return Err(seed_err(
                    &path,
                    line,
                    &format!("{image} does not belong to {name} (label {label})"),
                ));
            }
            let rel = PathBuf::from(name).join(image);
            if !lfw_root.join(&rel).is_file() {
                return Err(seed_err(
                    &path,
                    line,
                    &format!(
                        "{} does not exist under {}",
                        rel.display(),
                        lfw_root.display()
                    ),
                ));
            }
            if !seen.insert(rel.clone()) {
                return Err(seed_err(&path, line, &format!("{image} is listed twice")));
            }
            *counts.entry(split.as_str()).or_insert(0usize) += 1;
            manifest
                .samples
                .push(Sample::new(rel, name.clone(), label, split));
        }
    }
    manifest.info.stages.push(Stage {
        step: "curate".into(),
        tool: TOOL.into(),
        params: serde_json::json!({
            "source_root": lfw_root.display().to_string(),
            "selection": {"kind": "seed_split", "params": dir.display().to_string()},
            "identities": names.len(),
            "images": manifest.samples.len(),
            "split_counts": counts,
        }),
    });
    Ok(manifest)
}

fn read_rows(path: &Path) -> Result<Vec<(u64, csv::StringRecord)>, DatasetError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| seed_err(path, 0, &e.to_string()))?;
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            seed_err(path, line, &e.to_string())
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push((line, rec));
    }
    Ok(rows)
}

fn parse_label(path: &Path, line: u64, field: Option<&str>) -> Result<u32, DatasetError> {
    let f = field.unwrap_or("").trim();
    f.parse().map_err(|_| {
        seed_err(
            path,
            line,
            &format!("label `{f}` is not a non-negative integer"),
        )
    })
}

fn seed_err(path: &Path, line: u64, reason: &str) -> DatasetError {
    DatasetError::SeedSplit {
        path: path.to_path_buf(),
        line,
        reason: reason.to_string(),
    }
}
