//! # maskface-recognize
//!
//! Face recognition on embeddings (dlib's ResNet in `maskface-nets`, or any
//! [`maskface_core::FaceEmbedder`]):
//!
//! - [`Centroids`]: each class's centre; scores are cosine similarities;
//! - [`SoftmaxParams`] / [`SoftmaxHead`]: a linear layer trained by
//!   cross-entropy on the embeddings;
//! - [`CohortParams`] / [`CohortCentroids`]: class centres whose scores are
//!   normalised per class against a cohort of other people (top-k Z-norm),
//!   so one open-set threshold suits every class;
//! - [`EmbeddingClassifier`]: an embedder and a [`Head`] together, a
//!   [`maskface_core::Classifier`] over face chips;
//! - [`parse_pairs`], [`fold_accuracy`]: LFW's 10-fold verification
//!   protocol;
//! - [`EmbeddingModel`]: a fitted recognizer as saved (network, classes,
//!   head); [`SavedModel`] reads it or the Eigenface model by its kind;
//! - [`evaluate`]: a head fitted on a manifest's training chips and its
//!   test chips answered, written as model, predictions and report;
//! - [`FacePipeline`]: photo -> detection -> landmarks -> aligned chip ->
//!   embedding, one photo at a time or a batch;
//! - [`MaskedEnrollment`]: enroll people from unmasked photos, identify
//!   masked photos of them and of strangers (LFW people outside training):
//!   rank-1, named right and strangers accepted at the gallery threshold,
//!   DIR at FPIR 1% and 5%;
//! - [`PeopleDraw`]: people drawn from LFW outside the targets (open-set
//!   strangers, extra training identities), masked the way the targets
//!   were;
//! - [`MaskClassifier`]: whether an aligned face wears a mask, from the
//!   pixels of its lower face, so a gallery can use the threshold measured
//!   for masked or for unmasked faces;
//! - [`Gallery`]: people enrolled from a few images each, without
//!   retraining; one versioned file, written atomically; identification
//!   answers a name or "unknown" against a threshold.
//!
//! ```
//! use maskface_recognize::{Centroids, Gallery, Template};
//!
//! # fn main() -> Result<(), maskface_recognize::RecognizeError> {
//! let x = vec![vec![1.0, 0.1], vec![0.9, 0.0], vec![0.0, 1.0]];
//! let centres = Centroids::fit(&x, &[0, 0, 1])?;
//! assert!(centres.scores(&[1.0, 0.0])[0] > 0.99);
//!
//! let mut gallery = Gallery::new("toy", 0.8);
//! gallery.enroll("Ada", vec![Template::new("h1", "ada.png", vec![1.0, 0.0])])?;
//! assert_eq!(gallery.identify(&[0.95, 0.05]).name.as_deref(), Some("Ada"));
//! assert_eq!(gallery.identify(&[0.0, 1.0]).name, None);
//! # Ok(()) }
//! ```

mod chips;
mod classifier;
mod cohort;
mod embedding_model;
mod enrollment;
mod error;
mod evaluation;
mod gallery;
mod heads;
mod installed_network;
mod json_file;
mod mask_classifier;
mod masked_enrollment;
mod masked_verification;
mod people_draw;
mod pipeline;
mod saved_model;
mod verify;

pub use chips::load_chips;
pub use classifier::{embed_all, EmbeddingClassifier};
pub use cohort::{CohortCentroids, CohortParams};
pub use embedding_model::{
    embedder_name, load_embedder, EmbeddingModel, HeadKind, EMBEDDING_MODEL_KIND,
};
pub use enrollment::{Enrollment, NetworkChoice};
pub use error::RecognizeError;
pub use evaluation::{
    evaluate, EmbedProgress, NamedManifest, Recognition, RecognitionReport, RecognitionTask,
};
pub use gallery::{
    file_sha256, image_hash, Enrolled, Gallery, Identification, Person, Template,
    DEFAULT_THRESHOLD, DEFAULT_TUNED_THRESHOLD, GALLERY_FORMAT, GALLERY_VERSION,
};
pub use heads::{Centroids, Head, SoftmaxHead, SoftmaxParams};
pub use installed_network::{
    install_embedder, installed_embedder, Calibration, INSTALLED_EMBEDDER_FILE,
};
pub use mask_classifier::{
    mask_features, MaskClassifier, MaskClassifierParams, MASKED_AT, MASK_CLASSIFIER_FILE,
    MASK_CLASSIFIER_FORMAT, MASK_FEATURES,
};
pub use masked_enrollment::{
    MaskedEnrollment, MaskedEnrollmentReport, ProtocolPeople, ProtocolPerson, BOOTSTRAP_DRAWS,
    DEFAULT_MASKED_TEMPLATES,
};
pub use masked_verification::{
    pair_images, MaskedChips, MaskedVerification, PairCondition, PairMetric, VerificationRow,
    LFW_CENTRE_BOX,
};
pub use people_draw::{DrawProgress, DrawnPeople, PeopleDraw, DRAW_SOURCE_FILE, EXTRA_MIN_IMAGES};
pub use pipeline::{FacePipeline, IdentifiedFace, LocatedFace};
pub use saved_model::{SavedModel, SCORE_BATCH};
pub use verify::{
    fold_accuracy, parse_pair_list, parse_pairs, read_pairs, verification_rates, Pair, PairsFile,
    VerificationRates,
};

/// Re-exported because this crate's API takes and returns `image` buffers
/// ([`image::RgbImage`]): use this path to get the same version.
pub use image;
