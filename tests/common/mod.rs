//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The small LFW-style tree committed under fixtures/.
pub fn fixtures_lfw() -> PathBuf {
    repo().join("fixtures/lfw-mini")
}

/// How to get the weights.
const MODELS_HOW: &str = "run `bash scripts/setup.sh` (README)";
/// How to get the data.
const SHARED_HOW: &str =
    "put LFW deep-funneled at ../shared/lfw and the authors' split at ../shared/seed-split";

use maskface_core::require_test_input as required;

/// `../shared` (the LFW copy and the authors' split), when present; see
/// [`required`] for when it is not.
pub fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared");
    required("../shared/lfw", SHARED_HOW, p.join("lfw").is_dir()).then_some(p)
}

/// `models/` with the MTCNN weights and the 68-point landmark model, when
/// `scripts/setup.sh` has run; see [`required`] for when it has not.
pub fn models() -> Option<PathBuf> {
    let dir = repo().join("models");
    let present = dir.join("shape_predictor_68_face_landmarks.dat").is_file()
        && dir.join("pnet.pt").is_file();
    required(
        "models/ (MTCNN and the 68-point model)",
        MODELS_HOW,
        present,
    )
    .then_some(dir)
}

/// Every file under `dir` (relative path -> bytes).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            fs::copy(&p, &t).unwrap();
        }
    }
}
