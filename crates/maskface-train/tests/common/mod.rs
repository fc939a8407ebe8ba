//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// This crate's `tests/`: the fixtures live in `tests/fixtures`, so the
/// tests run from the crate alone (a packaged copy included).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// How to get the weights.
const MODELS_HOW: &str = "run `bash scripts/setup.sh` (README)";

use maskface_core::require_test_input as required;

/// `models/` with dlib's face-recognition model, when `scripts/setup.sh`
/// has run (`MASKFACE_MODELS` names another folder); see [`required`] for
/// when it has not.
pub fn models() -> Option<PathBuf> {
    let dir = std::env::var_os("MASKFACE_MODELS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    );
    let file = maskface_nets::face_resnet::DLIB_RESNET_FILE;
    required(
        &format!("models/{file}"),
        MODELS_HOW,
        dir.join(file).is_file(),
    )
    .then_some(dir)
}

/// The fixture face chips as a manifest: four people, two chips each
/// (`chip68` and `chip5` alignments of one photo), all in the train split.
pub fn fixture_chips() -> maskface_core::Manifest {
    let root = tests_dir().join("fixtures/face_chips");
    let mut manifest = maskface_core::Manifest::new(&root);
    for (label, face) in FIXTURE_FACES.iter().enumerate() {
        for kind in ["chip68", "chip5"] {
            manifest.samples.push(maskface_core::Sample::new(
                format!("{face}_{kind}.png"),
                face.to_string(),
                label as u32,
                maskface_core::Split::Train,
            ));
        }
    }
    manifest
}

/// The people of [`fixture_chips`], by label.
pub const FIXTURE_FACES: [&str; 4] = [
    "aaron_peirsol_0001",
    "abel_pacheco_0001_rot25",
    "barbra_streisand_0001",
    "clare_short_0002",
];
