//! The curation step's choices and outputs: how thoroughly the images are
//! checked, and the files a curated dataset is written as.

#[cfg(feature = "plot")]
use std::path::Path;

#[cfg(feature = "plot")]
use maskface_core::{save_image_atomic, Manifest};

#[cfg(feature = "plot")]
use crate::{
    count_histogram_chart, identity_counts, per_identity_chart, write_identity_counts,
    write_skipped, DatasetError,
};
use crate::{LfwIndex, Selection, Verify};

/// How much of each image curation checks; unreadable images are listed as
/// skipped and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ImageCheck {
    /// Headers of all images; full decode of the selected identities' images.
    #[default]
    Selected,
    /// Full decode of every image (slow on all of LFW).
    All,
    /// Headers only.
    Header,
}

impl ImageCheck {
    /// How [`crate::scan_lfw`] checks every image.
    pub fn scan(self) -> Verify {
        match self {
            ImageCheck::All => Verify::Decode,
            ImageCheck::Selected | ImageCheck::Header => Verify::Header,
        }
    }
}

impl Selection {
    /// The identities of `index` this selection could pick: by name, or
    /// every one in the count range (before the draw). [`ImageCheck::Selected`]
    /// decodes their images ([`LfwIndex::verify_decode`]) so that a broken
    /// image cannot end up in the dataset.
    pub fn candidates(&self, index: &LfwIndex) -> Vec<String> {
        match self {
            Selection::Names(n) => n.clone(),
            Selection::CountRange { min, max, .. } => index
                .identities
                .iter()
                .filter(|i| (*min..=*max).contains(&i.images.len()))
                .map(|i| i.name.clone())
                .collect(),
        }
    }
}

/// Writes a curated dataset into `out`: `manifest.csv` (+ `.json`),
/// `identity_counts.csv`, `skipped.csv` and the charts
/// `images_per_identity_lfw.png` and `images_per_identity_selected.png`.
/// Feature `plot`.
#[cfg(feature = "plot")]
pub fn write_curation(
    index: &LfwIndex,
    manifest: &Manifest,
    out: &Path,
) -> Result<(), DatasetError> {
    if manifest.samples.is_empty() {
        return Err(DatasetError::Selection(
            "the selection is empty: nothing to write".into(),
        ));
    }
    manifest.write(&out.join("manifest.csv"))?;
    write_identity_counts(
        &identity_counts(index, manifest, false),
        &out.join("identity_counts.csv"),
    )?;
    write_skipped(&index.skipped, &out.join("skipped.csv"))?;
    save_image_atomic(
        &count_histogram_chart(index)?,
        &out.join("images_per_identity_lfw.png"),
    )?;
    save_image_atomic(
        &per_identity_chart(manifest)?,
        &out.join("images_per_identity_selected.png"),
    )?;
    Ok(())
}
