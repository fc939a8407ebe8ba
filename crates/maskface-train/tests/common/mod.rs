//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `models/` with dlib's face-recognition model, when `scripts/setup.sh`
/// has run. In CI its absence fails the test; elsewhere it is skipped.
pub fn models() -> Option<PathBuf> {
    let dir = repo().join("models");
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
