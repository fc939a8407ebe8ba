//! # maskface-core
//!
//! The shared vocabulary of the maskface workspace:
//!
//! - [`Sample`], [`Split`], [`Identity`] and the on-disk [`Manifest`] (a CSV of
//!   samples plus a JSON file recording how the dataset was made);
//! - face geometry: [`FaceBox`], [`Point2`], [`Landmarks5`], [`Landmarks68`];
//! - the pipeline traits that the other crates implement and the `maskface`
//!   command-line program composes: [`FaceDetector`], [`LandmarkPredictor`],
//!   [`MaskRenderer`], [`Augmentation`], [`FaceEmbedder`] and [`Classifier`];
//! - embedding-vector arithmetic, written once for every crate: [`vector`]
//!   (dot products, L2 normalisation, cosine similarity, arg-max);
//! - small I/O helpers every crate needs: atomic writes ([`write_atomic`],
//!   [`save_image_atomic`]) and tolerant image loading ([`load_rgb`]).
//!
//! ```
//! use maskface_core::{Manifest, Sample, Split};
//!
//! let mut manifest = Manifest::new("/data/lfw");
//! manifest.samples.push(Sample::new("Ada/Ada_0001.jpg", "Ada", 0, Split::Train));
//! manifest.samples.push(Sample::new("Ada/Ada_0002.jpg", "Ada", 0, Split::Test));
//! assert_eq!(manifest.count(Split::Train), 1);
//! assert_eq!(manifest.identities(), vec!["Ada".to_string()]);
//! ```

mod atomic;
pub mod dlib_io;
mod error;
mod face_crop;
mod geometry;
mod image_io;
mod job;
mod manifest;
mod resize;
mod sample;
mod seed;
mod shard;
mod test_input;
mod traits;
pub mod vector;

pub use atomic::{
    remove_stale_temp_files, remove_stale_temp_files_of, save_image_atomic, write_atomic,
    write_atomic_unsynced, write_csv_atomic,
};
pub use error::CoreError;
pub use face_crop::{crop_face, CropConfig, FaceCrop, FaceSelection, FaceSelectionKind};
pub use geometry::{FaceBox, Landmarks5, Landmarks68, Point2};
pub use image_io::{decode_rgb, encode_jpeg, load_rgb, MAX_IMAGE_PIXELS};
pub use job::{
    prepare_job_dir, prepare_shard_dir, read_failures, write_failures, Failure, Journal,
    OutputFormat, OutputFormatKind,
};
pub use manifest::{DatasetInfo, Manifest, Stage, MANIFEST_FORMAT_VERSION};
pub use resize::resize_triangle;
pub use sample::{Identity, Sample, Split};
pub use seed::{fnv1a64, rng_for, DEFAULT_SEED};
pub use shard::{
    has_shard_journals, mark_shard_done, open_shard_journal, shard_of, JobParams, Shard,
    ShardInput, ShardParts, ShardRun, SHARDS_DIR,
};
pub use test_input::require_test_input;
pub use traits::{
    Augmentation, Augmented, Classifier, Detection, FaceDetector, FaceEmbedder, LandmarkPredictor,
    MaskRenderer, MaskedFace,
};

/// Re-exported so that implementors of [`Augmentation`] and [`MaskRenderer`]
/// name the same random-number traits as this crate.
pub use rand::RngCore;

/// The seeded generator type returned by [`rng_for`].
pub use rand_chacha::ChaCha8Rng;

/// Re-exported because this crate's API takes and returns `image` buffers
/// ([`image::RgbImage`]): use this path to get the same version.
pub use image;
