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
/// looked up there, and both are skipped when absent.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn required(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing in CI");
    }
    eprintln!("skipped: {what} not found (run scripts/setup.sh)");
    false
}

/// `models/` with the MTCNN weights, when `scripts/setup.sh` has run
/// (`MASKFACE_MODELS` names another folder).
pub fn models() -> Option<PathBuf> {
    let dir =
        std::env::var_os("MASKFACE_MODELS").map_or_else(|| repo().join("models"), PathBuf::from);
    required("models/pnet.pt", dir.join("pnet.pt").is_file()).then_some(dir)
}

/// `../shared` when present.
pub fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared");
    required("../shared/lfw", dir.join("lfw").is_dir()).then_some(dir)
}

pub fn mtcnn(config: MtcnnConfig) -> Option<Mtcnn> {
    let dir = models()?;
    Some(Mtcnn::from_dir(&dir, config, &Backend::Flex.device().unwrap()).unwrap())
}
