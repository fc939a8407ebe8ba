//! What the `maskface` program's integration tests share: running the
//! program from the repository root, and the rule for missing inputs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root, where the tests run the program (so `models/` and
/// `fixtures/` resolve as a user's would).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The program, ready to run from the repository root.
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_maskface"));
    c.args(args).current_dir(repo());
    c
}

/// Runs the program to its end.
pub fn maskface(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// Runs the program, which must succeed; returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = maskface(args);
    assert!(
        out.status.success(),
        "maskface {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the program, which must fail; returns its standard error.
pub fn fails(args: &[&str]) -> String {
    let out = maskface(args);
    assert!(!out.status.success(), "maskface {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

pub use maskface_core::require_test_input as required;

/// Whether `models/` holds the MTCNN weights and the landmark model (see
/// [`required`]).
pub fn have_models() -> bool {
    let dir = repo().join("models");
    required(
        "models/ (MTCNN and the 68-point model)",
        "run `bash scripts/setup.sh` (README)",
        dir.join("pnet.pt").is_file()
            && dir.join("shape_predictor_68_face_landmarks.dat").is_file(),
    )
}

/// Curates the fixtures' people with at least `min_images` photos into
/// `d/c` and splits them by `ratios` into `d/s`.
pub fn split_fixtures_with(d: &str, min_images: usize, ratios: &str) {
    ok(&[
        "curate",
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        &format!("{d}/c"),
        "--min-images",
        &min_images.to_string(),
        "--identities",
        "0",
    ]);
    ok(&[
        "split",
        "--manifest",
        &format!("{d}/c/manifest.csv"),
        "--out",
        &format!("{d}/s"),
        "--ratios",
        ratios,
    ]);
}

/// Every file under `dir` with its bytes, by path relative to `dir`: two
/// output folders compare equal when every file is byte-identical.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
