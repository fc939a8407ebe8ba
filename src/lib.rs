//! # maskface
//!
//! Masked-face dataset generation and masked face recognition, as a set of
//! reusable crates. This umbrella crate re-exports them under one name:
//!
//! | module | crate | what |
//! | --- | --- | --- |
//! | [`core`] | `maskface-core` | samples, manifests, face geometry, the pipeline traits |
//! | [`dataset`] | `maskface-dataset` | LFW scanning, identity selection, seeded stratified splits |
//! | [`augment`] | `maskface-augment` | seeded rotation / colour / flip augmentation over manifests |
//! | [`plot`] | `maskface-plot` | PNG bar charts and image grids |
//! | [`kernels`] | `maskface-kernels` | CPU convolution forward and backward (im2col + GEMM) |
//! | [`nets`] | `maskface-nets` | networks on burn: MTCNN face detection, dlib's face ResNet |
//! | [`mask`] | `maskface-mask` | landmarks, masks, face chips, the masked-dataset pipeline |
//! | [`eigen`] | `maskface-eigen` | the Eigenface (PCA) baseline |
//! | [`openset`] | `maskface-openset` | open-set scores, metrics and curves |
//! | [`recognize`] | `maskface-recognize` | recognizers on embeddings, galleries, LFW verification |
//! | [`train`] | `maskface-train` | the training loop, margin heads, fine-tuning dlib's ResNet |
//!
//! ```no_run
//! use maskface::{augment, dataset};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let index = dataset::scan_lfw("data/lfw".as_ref(), dataset::Verify::Header)?;
//! let curated = dataset::curate(&index, &dataset::Selection::paper(42))?;
//! let split = dataset::split_stratified(&curated, &Default::default(), 42)?;
//! let report = augment::augment_dataset(
//!     &split,
//!     &augment::Policy::paper(),
//!     "data/augmented".as_ref(),
//!     &Default::default(),
//!     &|| {},
//! )?;
//! println!("{} new images", report.augmented);
//! # Ok(()) }
//! ```

pub use maskface_augment as augment;
pub use maskface_core as core;
pub use maskface_dataset as dataset;
pub use maskface_eigen as eigen;
pub use maskface_kernels as kernels;
pub use maskface_mask as mask;
pub use maskface_nets as nets;
pub use maskface_openset as openset;
pub use maskface_plot as plot;
pub use maskface_recognize as recognize;
pub use maskface_train as train;
