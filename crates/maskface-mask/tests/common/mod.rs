//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use maskface_mask::ShapePredictor;

/// The repository around this crate: where `models/` and `../shared` are.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder holding `fixtures/`, which the fixtures' own paths
/// (`fixtures/landmarks/...`) are relative to: inside the crate, so that
/// its packaged tests find them.
pub fn fixtures_parent() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// How to get the weights.
const MODELS_HOW: &str = "run `bash scripts/setup.sh` (README)";
/// How to get the data.
const SHARED_HOW: &str =
    "put LFW deep-funneled at ../shared/lfw and the authors' split at ../shared/seed-split";

use maskface_core::require_test_input as required;

/// A model file under `models/`, when `scripts/setup.sh` has run.
pub fn model(name: &str) -> Option<PathBuf> {
    let path = repo().join("models").join(name);
    required(&format!("models/{name}"), MODELS_HOW, path.is_file()).then_some(path)
}

/// dlib's 68-point predictor.
pub fn predictor68() -> Option<ShapePredictor> {
    model("shape_predictor_68_face_landmarks.dat").map(|p| ShapePredictor::from_file(p).unwrap())
}

/// `../shared` when present.
pub fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared");
    required("../shared/lfw", SHARED_HOW, dir.join("lfw").is_dir()).then_some(dir)
}
