//! # maskface-augment
//!
//! Seeded data augmentation for maskface.
//!
//! - Plain functions over `image` buffers: [`rotate`], [`adjust_colors`],
//!   [`flip_horizontal`].
//! - The same as random [`Augmentation`](maskface_core::Augmentation)s:
//!   [`RandomRotation`] (the paper's +-20 degrees), [`ColorJitter`],
//!   [`HorizontalFlip`].
//! - A [`Policy`]: a list of augmentations applied in order, `copies` times
//!   per image ([`Policy::paper`]: three rotated copies).
//! - [`augment_dataset`]: runs a policy over a manifest's training images in
//!   parallel, writes a self-contained dataset with a manifest that records
//!   the origin and transform of every new image, and resumes after an
//!   interruption.
//! - [`write_preview`]: the grid of originals and their copies people look
//!   at (feature `plot`, on by default, which brings in `maskface-plot` and
//!   its font).
//!
//! Every random draw comes from [`maskface_core::rng_for`]`(seed, key)` with a
//! key made of the image's path and the copy number, so the same seed gives
//! byte-identical output however many threads run.
//!
//! ```
//! use maskface_augment::Policy;
//! use image::RgbImage;
//!
//! let policy = Policy::paper();
//! let face = RgbImage::from_pixel(64, 64, image::Rgb([200, 150, 120]));
//! let copies = policy.apply(&face, 42, "Ada/Ada_0001.jpg");
//! assert_eq!(copies.len(), 3);
//! assert!(copies[0].record.starts_with("rotate("));
//! ```

mod color;
mod dataset;
mod error;
mod flip;
mod policy;
mod policy_settings;
#[cfg(feature = "plot")]
mod preview;
mod rotate;

pub use color::{adjust_colors, ColorJitter};
pub use dataset::{augment_dataset, augment_shard, merge_augmented, AugmentOptions, AugmentReport};
pub use error::AugmentError;
pub use flip::{flip_horizontal, HorizontalFlip};
pub use maskface_core::{Failure, OutputFormat};
pub use policy::Policy;
pub use policy_settings::PolicySettings;
#[cfg(feature = "plot")]
pub use preview::write_preview;
pub use rotate::{rotate, Fill, RandomRotation};

/// Re-exported because this crate's API takes and returns `image` buffers
/// ([`image::RgbImage`]): use this path to get the same version.
pub use image;

/// The name and version of this crate, as recorded in manifests.
pub const TOOL: &str = concat!("maskface-augment ", env!("CARGO_PKG_VERSION"));
