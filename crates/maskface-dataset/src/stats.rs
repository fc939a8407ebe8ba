use std::collections::BTreeMap;
use std::path::Path;

#[cfg(feature = "plot")]
use image::RgbImage;
use maskface_core::{write_csv_atomic, Manifest, Split};
#[cfg(feature = "plot")]
use maskface_plot::BarChart;
use serde::Serialize;

use crate::{DatasetError, LfwIndex, Skipped};

/// One row of the per-identity table: images in the source and in each split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityCount {
    /// Person's name.
    pub identity: String,
    /// Readable images in the source dataset.
    pub source_images: usize,
    /// Whether the identity is in the manifest.
    pub selected: bool,
    /// Images in the training split.
    pub train: usize,
    /// Images in the validation split.
    pub val: usize,
    /// Images in the test split.
    pub test: usize,
    /// Images not assigned to a split yet.
    pub unassigned: usize,
}

/// Per-identity counts for every identity of `index` that is in `manifest`,
/// plus, when `all` is set, every other identity of `index` (not selected).
pub fn identity_counts(index: &LfwIndex, manifest: &Manifest, all: bool) -> Vec<IdentityCount> {
    let mut per: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for s in &manifest.samples {
        let k = match s.split {
            Split::Train => 0,
            Split::Val => 1,
            Split::Test => 2,
            Split::Unassigned => 3,
        };
        per.entry(s.identity.as_str()).or_default()[k] += 1;
    }
    index
        .identities
        .iter()
        .filter_map(|ident| {
            let c = per.get(ident.name.as_str());
            (all || c.is_some()).then(|| {
                let c = c.copied().unwrap_or_default();
                IdentityCount {
                    identity: ident.name.clone(),
                    source_images: ident.images.len(),
                    selected: per.contains_key(ident.name.as_str()),
                    train: c[0],
                    val: c[1],
                    test: c[2],
                    unassigned: c[3],
                }
            })
        })
        .collect()
}

/// Writes the per-identity table as CSV, atomically.
pub fn write_identity_counts(rows: &[IdentityCount], path: &Path) -> Result<(), DatasetError> {
    let header = [
        "identity",
        "source_images",
        "selected",
        "train",
        "val",
        "test",
        "unassigned",
    ];
    Ok(write_csv_atomic(path, &header, rows)?)
}

/// Writes the scan's skipped files (path, reason) as CSV, atomically.
pub fn write_skipped(skipped: &[Skipped], path: &Path) -> Result<(), DatasetError> {
    Ok(write_csv_atomic(path, &["path", "reason"], skipped)?)
}

/// How many identities of the source have 1, 2, 3-4, 5-9, 10-19, 20-80 and
/// more than 80 images: the shape of the source before selection.
#[cfg(feature = "plot")]
pub fn count_histogram_chart(index: &LfwIndex) -> Result<RgbImage, DatasetError> {
    let buckets: [(&str, usize, usize); 7] = [
        ("1", 1, 1),
        ("2", 2, 2),
        ("3-4", 3, 4),
        ("5-9", 5, 9),
        ("10-19", 10, 19),
        ("20-80", 20, 80),
        (">80", 81, usize::MAX),
    ];
    let bars = buckets
        .iter()
        .map(|(label, lo, hi)| {
            let n = index
                .identities
                .iter()
                .filter(|i| (*lo..=*hi).contains(&i.images.len()))
                .count();
            (format!("{label} ({n})"), n as f64)
        })
        .collect();
    let chart = BarChart::new(format!(
        "Identities by number of images ({} people, {} images)",
        index.identities.len(),
        index.num_images()
    ))
    .y_label("identities")
    .bars(bars);
    Ok(chart.render(900, 420)?)
}

/// Images per selected identity, one bar each, stacked by nothing: the
/// paper's Figure 1 after selection.
#[cfg(feature = "plot")]
pub fn per_identity_chart(manifest: &Manifest) -> Result<RgbImage, DatasetError> {
    let counts = manifest.counts_per_identity();
    let n = counts.len().max(1);
    let mean = manifest.samples.len() as f64 / n as f64;
    let chart = BarChart::new(format!(
        "Images per selected identity ({} people, {} images, mean {mean:.1})",
        counts.len(),
        manifest.samples.len()
    ))
    .y_label("images")
    .color([220, 120, 60])
    .bars(counts.into_iter().map(|(k, v)| (k, v as f64)).collect());
    Ok(chart.render((n as u32 * 22 + 80).max(600), 560)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_counts_header_matches_fields() {
        let dir = tempfile::tempdir().unwrap();
        let row = IdentityCount {
            identity: "Ada".into(),
            source_images: 5,
            selected: true,
            train: 3,
            val: 1,
            test: 1,
            unassigned: 0,
        };
        let path = dir.path().join("c.csv");
        write_identity_counts(std::slice::from_ref(&row), &path).unwrap();
        let mut serde_header = csv::Writer::from_writer(Vec::new());
        serde_header.serialize(&row).unwrap();
        let expected = String::from_utf8(serde_header.into_inner().unwrap()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    }
}
