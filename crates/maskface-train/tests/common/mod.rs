//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// This crate's `tests/`: the fixtures live in `tests/fixtures`, so the
/// tests run from the crate alone (a packaged copy included).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// `models/` with dlib's face-recognition model, when `scripts/setup.sh`
/// has run (`MASKFACE_MODELS` names another folder). In CI its absence
/// fails the test; elsewhere it is skipped.
pub fn models() -> Option<PathBuf> {
    let dir = std::env::var_os("MASKFACE_MODELS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    );
    if dir
        .join(maskface_nets::face_resnet::DLIB_RESNET_FILE)
        .is_file()
    {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("models/ is missing in CI");
    }
    eprintln!("skipped: models/ not found (run scripts/setup.sh)");
    None
}
