//! Every command that takes images, on `fixtures/bad/` (made by
//! `scripts/make_bad_fixtures.py`) plus the cases a repository cannot hold,
//! made here: a name that is not UTF-8, a folder named `folder.jpg`, a
//! link to itself, a dangling link, a link to the parent folder, and an
//! unreadable file. No command panics; each file is a clear error naming
//! it, a skip recorded with its reason, or a face.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{have_models, maskface, ok};

/// Whole pictures of one face in forms cameras, phones and editors write.
const ONE_FACE: [&str; 16] = [
    "Zoë Ñúñez.jpg",
    "a face with spaces.jpg",
    "animated.gif",
    "cmyk.jpg",
    "exif_rotated.jpg",
    "face.bmp",
    "face.tif",
    "gray_alpha.png",
    "grayscale.jpg",
    "lossless.webp",
    "palette.gif",
    "png_named.jpg",
    "progressive.jpg",
    "rgba.png",
    "sixteen_bit.png",
    "trailing_bytes.jpg",
];
/// Readable, with no face in them.
const NO_FACE: [&str; 2] = ["all_black.jpg", "no_face.png"];
/// Readable, smaller than the smallest face searched for.
const TOO_SMALL: [&str; 3] = ["one_row.png", "tiny_1x1.png", "tiny_8x8.jpg"];
/// Not a picture, or not a whole one, or one over the size budget.
const UNREADABLE: [&str; 18] = [
    "bad_crc.png",
    "html_named.png",
    "huge_header.gif",
    "huge_header.jpg",
    "huge_header.png",
    "jpeg_markers_only.jpg",
    "png_no_idat.png",
    "text_named.jpg",
    "truncated.bmp",
    "truncated.gif",
    "truncated.png",
    "truncated.tif",
    "truncated.webp",
    "truncated_header.jpg",
    "truncated_mid_scan.jpg",
    "zero_byte.jpg",
    // Made at run time:
    "dangling.jpg",
    "loop.jpg",
];
/// Files no command takes for an image, by their extension.
const NOT_IMAGES: [&str; 2] = ["notes.txt", "unsupported.heic"];

/// The corpus as one person's folder of an LFW-style tree under `dir`:
/// returns the person's folder.
fn bad_tree(dir: &Path) -> PathBuf {
    let person = dir.join("lfw/Bad_Person");
    std::fs::create_dir_all(&person).unwrap();
    let corpus = common::repo().join("fixtures/bad");
    let mut names = Vec::new();
    for e in std::fs::read_dir(&corpus).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), person.join(e.file_name())).unwrap();
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    let mut known: Vec<&str> = ONE_FACE
        .iter()
        .chain(&NO_FACE)
        .chain(&TOO_SMALL)
        .chain(&UNREADABLE[..16])
        .chain(&NOT_IMAGES)
        .chain(&["many_faces.jpg"])
        .copied()
        .collect();
    known.sort();
    assert_eq!(names, known, "fixtures/bad and this test disagree");
    assert!(names.len() >= 30);
    std::fs::create_dir(person.join("folder.jpg")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::symlink;
        let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
        std::fs::copy(person.join("face.bmp"), person.join(latin1)).unwrap();
        symlink("loop.jpg", person.join("loop.jpg")).unwrap();
        symlink("missing.jpg", person.join("dangling.jpg")).unwrap();
        symlink("..", person.join("up")).unwrap();
        // Root reads it anyway; for everyone else it is unreadable.
        let locked = person.join("unreadable.jpg");
        std::fs::copy(person.join("face.bmp"), &locked).unwrap();
        std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
            .unwrap();
    }
    person
}

fn root_user() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }
    #[cfg(not(unix))]
    false
}

fn assert_no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// `detect` over the folder: every file with an image extension gets an
/// entry, with its faces or an error naming it; the exit status is 0.
#[test]
fn detect_answers_every_bad_file() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let person = bad_tree(dir.path());
    let json = dir.path().join("d.json");
    let out = maskface(&[
        "detect",
        person.to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
    ]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let by_name: BTreeMap<String, &serde_json::Value> = entries
        .iter()
        .map(|e| {
            let p = e["path"].as_str().unwrap();
            (p.rsplit('/').next().unwrap().to_string(), e)
        })
        .collect();
    let faces = |name: &str| by_name[name]["faces"].as_array().map_or(0, Vec::len);
    let error = |name: &str| by_name[name]["error"].as_str().unwrap_or("").to_string();
    for name in ONE_FACE.iter().chain(&["caf\u{fffd}.jpg"]) {
        assert_eq!(faces(name), 1, "{name}: {}", error(name));
    }
    assert!(faces("many_faces.jpg") >= 4);
    for name in NO_FACE {
        assert_eq!((faces(name), error(name)), (0, String::new()), "{name}");
    }
    for name in TOO_SMALL {
        assert!(error(name).contains("too small"), "{name}: {}", error(name));
    }
    // A folder named like an image is searched as a folder (it is empty).
    assert!(!by_name.contains_key("folder.jpg"));
    for name in UNREADABLE {
        assert!(
            error(name).contains(&format!("Bad_Person/{name}")),
            "{name}: {}",
            error(name)
        );
    }
    if !root_user() {
        assert!(error("unreadable.jpg").contains("Permission denied"));
    }
    for name in NOT_IMAGES {
        assert!(!by_name.contains_key(name), "{name} taken for an image");
    }
    // The link to the parent folder is not followed (it would list every
    // file again, and a loop for ever).
    assert_eq!(entries.len(), by_name.len());
}

/// The dataset commands record a skip, with its reason, for each file they
/// cannot use, and carry on: `curate` (what is not a readable image),
/// `generate` (no face), `augment` (nothing left to refuse).
#[test]
fn dataset_commands_record_each_skip() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    bad_tree(dir.path());
    let d = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
    let line = ok(&[
        "curate",
        "--lfw",
        &d("lfw"),
        "--out",
        &d("c"),
        "--min-images",
        "3",
        "--identities",
        "0",
    ]);
    let readable = ONE_FACE.len() + NO_FACE.len() + TOO_SMALL.len() + 1;
    let readable = readable + usize::from(root_user());
    assert!(
        line.starts_with(&format!("curated 1 identities, {readable} images")),
        "{line}"
    );
    let skipped = std::fs::read_to_string(dir.path().join("c/skipped.csv")).unwrap();
    let reason = |name: &str| {
        skipped
            .lines()
            .find(|l| l.starts_with(&format!("Bad_Person/{name},")))
            .unwrap_or_else(|| panic!("{name} not in skipped.csv:\n{skipped}"))
            .to_string()
    };
    for name in &UNREADABLE {
        assert!(
            reason(name).contains("unreadable image"),
            "{}",
            reason(name)
        );
    }
    for name in NOT_IMAGES {
        assert!(reason(name).contains("extension"), "{}", reason(name));
    }
    assert!(reason("folder.jpg").contains("nested folder"));
    assert!(reason("caf\u{fffd}.jpg").contains("not UTF-8"));

    ok(&[
        "split",
        "--manifest",
        &d("c/manifest.csv"),
        "--out",
        &d("s"),
        "--ratios",
        "0.5,0.25,0.25",
    ]);
    let line = ok(&[
        "generate",
        "--manifest",
        &d("s/manifest.csv"),
        "--out",
        &d("g"),
        "--preview",
        "0",
    ]);
    let failed = NO_FACE.len() + TOO_SMALL.len();
    assert!(
        line.contains(&format!("({} resumed, {failed} failed", 0)),
        "{line}"
    );
    let failures = std::fs::read_to_string(dir.path().join("g/failures.csv")).unwrap();
    for name in NO_FACE {
        assert!(
            failures.contains(&format!("Bad_Person/{name},no face found")),
            "{failures}"
        );
    }
    for name in TOO_SMALL {
        assert!(
            failures
                .lines()
                .any(|l| l.starts_with(&format!("Bad_Person/{name},")) && l.contains("too small")),
            "{failures}"
        );
    }
    let line = ok(&[
        "augment",
        "--manifest",
        &d("s/manifest.csv"),
        "--out",
        &d("a"),
    ]);
    assert!(line.contains("0 resumed, 0 failed"), "{line}");
}

/// `enroll` refuses a photo it cannot use with status 1 and an error
/// naming it, and leaves the gallery as it was; `identify` answers every
/// photo and exits 1 because some could not be read.
#[test]
fn enroll_and_identify_name_each_bad_photo() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let person = bad_tree(dir.path());
    let gallery = dir.path().join("g.json");
    let g = gallery.to_str().unwrap();
    let enroll = |name: &str, photo: &Path| {
        maskface(&[
            "enroll",
            "--gallery",
            g,
            "--dlib",
            "--masked-templates",
            "0",
            "--name",
            name,
            photo.to_str().unwrap(),
        ])
    };
    let first = enroll("Aaron", &person.join("trailing_bytes.jpg"));
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = std::fs::read(&gallery).unwrap();
    for name in [
        "zero_byte.jpg",
        "truncated_mid_scan.jpg",
        "huge_header.png",
        "no_face.png",
        "tiny_1x1.png",
        "folder.jpg",
        "loop.jpg",
        "dangling.jpg",
    ] {
        let out = enroll("Someone", &person.join(name));
        assert_no_panic(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(&format!("Bad_Person/{name}")), "{name}: {err}");
        // The cause once, not repeated by each error that wraps it.
        let first_line = err.lines().next().unwrap_or("");
        let parts: Vec<&str> = first_line.split(": ").collect();
        let mut seen = std::collections::BTreeSet::new();
        assert!(parts.iter().all(|p| seen.insert(*p)), "{err}");
        assert_eq!(std::fs::read(&gallery).unwrap(), before, "{name}");
    }

    let mut photos: Vec<String> = ONE_FACE
        .iter()
        .chain(&NO_FACE)
        .chain(&UNREADABLE)
        .map(|n| person.join(n).to_string_lossy().into_owned())
        .collect();
    photos.sort();
    let mut args = vec!["identify", "--gallery", g, "--json"];
    args.extend(photos.iter().map(String::as_str));
    let out = maskface(&args);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{} of {} photos could not be read",
            UNREADABLE.len(),
            photos.len()
        )),
        "{err}"
    );
    let answers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), photos.len());
    for a in &answers {
        let photo = a["photo"].as_str().unwrap();
        let name = photo.rsplit('/').next().unwrap();
        let faces = a["faces"].as_array().unwrap().len();
        let error = a["error"].as_str().unwrap_or("");
        if ONE_FACE.contains(&name) {
            assert_eq!((faces, error), (1, ""), "{name}");
        } else {
            assert_eq!(faces, 0, "{name}");
            assert!(error.contains(photo), "{name}: {error}");
        }
    }
    // The photo enrolled is named; the others are strangers.
    let trailing = answers
        .iter()
        .find(|a| a["photo"].as_str().unwrap().ends_with("trailing_bytes.jpg"))
        .unwrap();
    assert_eq!(
        trailing["faces"][0]["identification"]["name"], "Aaron",
        "{trailing}"
    );
}

/// `verify` scores pairs of the odd but whole pictures; a pair list naming
/// a photo it cannot use stops with status 1, naming the photo, and writes
/// no report.
#[test]
fn verify_scores_odd_pictures_and_names_a_bad_one() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    bad_tree(dir.path());
    let list = dir.path().join("pairs.txt");
    let p = |name: &str| format!("lfw/Bad_Person/{name}");
    let pairs = format!(
        "{} {} same\n{} {} same\n{} {} different\n",
        p("trailing_bytes.jpg"),
        p("progressive.jpg"),
        p("grayscale.jpg"),
        p("exif_rotated.jpg"),
        p("cmyk.jpg"),
        p("sixteen_bit.png"),
    );
    std::fs::write(&list, pairs).unwrap();
    let out = dir.path().join("v");
    let verify = || {
        maskface(&[
            "verify",
            "--pairs",
            list.to_str().unwrap(),
            "--as-is",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let good = verify();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let scored = std::fs::read_to_string(out.join("pairs.csv")).unwrap();
    assert_eq!(scored.lines().count(), 4, "{scored}");
    std::fs::remove_dir_all(&out).unwrap();
    for name in [
        "zero_byte.jpg",
        "truncated.png",
        "no_face.png",
        "folder.jpg",
        "loop.jpg",
    ] {
        std::fs::write(&list, format!("{} {} different\n", p(name), p("face.bmp"))).unwrap();
        let bad = verify();
        assert_no_panic(&bad);
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(bad.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(&p(name)), "{name}: {err}");
        assert!(!out.join("report.json").exists(), "{name}");
    }
}
