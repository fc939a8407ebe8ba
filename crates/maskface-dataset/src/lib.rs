//! # maskface-dataset
//!
//! Dataset curation for maskface: read an LFW-style folder
//! (`<root>/<Person>/<Person>_NNNN.jpg`), choose identities (by image count
//! and a seeded draw, by name, or the authors' published split), split each
//! identity's images into train / val / test with a seed, draw strangers
//! (people outside a gallery) for open-set tests, and summarise the result
//! as a table and PNG charts.
//!
//! Everything produces or consumes a [`maskface_core::Manifest`], so each
//! dataset on disk records how it was made.
//!
//! Feature `plot` (on by default) adds the charts ([`count_histogram_chart`],
//! [`per_identity_chart`]) and with them `maskface-plot` and its font.
//!
//! ```no_run
//! use maskface_dataset::{curate, scan_lfw, split_stratified, Selection, SplitRatios, Verify};
//!
//! # fn main() -> Result<(), maskface_dataset::DatasetError> {
//! let index = scan_lfw("data/lfw".as_ref(), Verify::Header)?;
//! let curated = curate(&index, &Selection::paper(42))?; // 50 people with 20..=80 images
//! let split = split_stratified(&curated, &SplitRatios::default(), 42)?;
//! split.write("data/curated/manifest.csv".as_ref())?;
//! # Ok(()) }
//! ```

mod curation;
mod error;
mod extra;
mod labels;
mod predictions;
mod scan;
mod seed_split;
mod select;
mod split;
mod stats;
mod strangers;

#[cfg(feature = "plot")]
pub use curation::write_curation;
pub use curation::ImageCheck;
pub use error::DatasetError;
pub use extra::extra_identities;
pub use labels::class_names;
#[cfg(feature = "plot")]
pub use predictions::write_predictions;
pub use predictions::{confusion_counts, Answer};
pub use scan::{scan_lfw, IdentityImages, LfwIndex, Skipped, Verify, IMAGE_EXTENSIONS};
pub use seed_split::read_seed_split;
pub use select::{curate, Selection};
pub use split::{split_counts, split_stratified, SplitRatios};
#[cfg(feature = "plot")]
pub use stats::{count_histogram_chart, per_identity_chart};
pub use stats::{identity_counts, write_identity_counts, write_skipped, IdentityCount};
pub use strangers::{draw_strangers, DEFAULT_STRANGERS};

/// Re-exported because the charts are [`image::RgbImage`]s: use this path to
/// get the same version.
pub use image;

/// The name and version of this crate, as recorded in manifests.
pub const TOOL: &str = concat!("maskface-dataset ", env!("CARGO_PKG_VERSION"));
