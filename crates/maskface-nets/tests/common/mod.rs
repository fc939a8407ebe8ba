//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod torch_state_dict;

use std::path::PathBuf;

use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::Backend;

/// This crate's `tests/`: the fixtures live in `tests/fixtures`, so the
/// tests run from the crate alone (a packaged copy included).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The repository around the crate: only `models/` and `../shared` are
/// looked up there (see [`required`] for when they are absent).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// How to get the weights.
const MODELS_HOW: &str = "run `bash scripts/setup.sh` (README)";
/// How to get the data.
const SHARED_HOW: &str =
    "put LFW deep-funneled at ../shared/lfw and the authors' split at ../shared/seed-split";

use maskface_core::require_test_input as required;

/// `models/` with the MTCNN weights, when `scripts/setup.sh` has run
/// (`MASKFACE_MODELS` names another folder).
pub fn models() -> Option<PathBuf> {
    let dir =
        std::env::var_os("MASKFACE_MODELS").map_or_else(|| repo().join("models"), PathBuf::from);
    required("models/pnet.pt", MODELS_HOW, dir.join("pnet.pt").is_file()).then_some(dir)
}

/// `../shared` when present.
pub fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared");
    required("../shared/lfw", SHARED_HOW, dir.join("lfw").is_dir()).then_some(dir)
}

pub fn mtcnn(config: MtcnnConfig) -> Option<Mtcnn> {
    let dir = models()?;
    Some(Mtcnn::from_dir(&dir, config, &Backend::Flex.device().unwrap()).unwrap())
}
