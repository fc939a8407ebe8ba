//! Bad input: unreadable JPEGs, empty identity folders, non-image files, a
//! missing root, seed-split CSVs naming missing files. Each gives a clear
//! error or a recorded skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use maskface::augment::{augment_dataset, AugmentOptions, Policy};
use maskface::core::{Manifest, Sample, Split};
use maskface::dataset::{curate, read_seed_split, scan_lfw, DatasetError, Selection, Verify};

fn damaged_tree(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("lfw");
    common::copy_tree(&common::fixtures_lfw(), &root);
    let broken = common::repo().join("fixtures/broken");
    fs::copy(
        broken.join("garbage_after_header.jpg"),
        root.join("Aaron_Peirsol/Aaron_Peirsol_0005.jpg"),
    )
    .unwrap();
    fs::copy(
        broken.join("truncated_header.jpg"),
        root.join("Abel_Pacheco/Abel_Pacheco_0005.jpg"),
    )
    .unwrap();
    fs::copy(
        broken.join("text_named_jpg.jpg"),
        root.join("Clare_Short/Clare_Short_0005.jpg"),
    )
    .unwrap();
    fs::write(root.join("Clare_Short/notes.txt"), "not an image").unwrap();
    fs::create_dir(root.join("Empty_Person")).unwrap();
    fs::write(root.join("README"), "stray file").unwrap();
    fs::write(root.join("Barbra_Streisand/.DS_Store"), "hidden").unwrap();
    root
}

fn reason<'a>(skipped: &'a [maskface::dataset::Skipped], path: &str) -> &'a str {
    skipped
        .iter()
        .find(|s| s.path == Path::new(path))
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{path} not recorded in {skipped:?}"))
}

#[test]
fn damaged_files_are_recorded_skips() {
    let dir = tempfile::tempdir().unwrap();
    let root = damaged_tree(dir.path());

    let index = scan_lfw(&root, Verify::Decode).unwrap();
    assert_eq!(
        index.num_images(),
        16,
        "only the fixture's good images remain"
    );
    assert!(
        reason(&index.skipped, "Aaron_Peirsol/Aaron_Peirsol_0005.jpg")
            .starts_with("unreadable image")
    );
    assert!(reason(&index.skipped, "Abel_Pacheco/Abel_Pacheco_0005.jpg")
        .starts_with("unreadable image"));
    assert!(
        reason(&index.skipped, "Clare_Short/Clare_Short_0005.jpg").starts_with("unreadable image")
    );
    assert_eq!(
        reason(&index.skipped, "Clare_Short/notes.txt"),
        "not an image file (extension)"
    );
    assert_eq!(
        reason(&index.skipped, "Empty_Person"),
        "empty identity folder"
    );
    assert_eq!(
        reason(&index.skipped, "README"),
        "file outside an identity folder"
    );
    assert!(
        index.skipped.iter().all(|s| !s.path.ends_with(".DS_Store")),
        "hidden files are ignored"
    );
    assert_eq!(index.skipped.len(), 6);
    assert!(index.get("Empty_Person").is_none());

    // A header-only scan catches the broken headers, and `verify_decode`
    // then catches the corrupt pixel data of the selected identities.
    let mut quick = scan_lfw(&root, Verify::Header).unwrap();
    assert!(quick.get("Aaron_Peirsol").unwrap().images.len() == 5);
    let names = ["Aaron_Peirsol".to_string()];
    assert_eq!(quick.count_images(&names), 5);
    let decoded = std::sync::atomic::AtomicUsize::new(0);
    quick.verify_decode(&names, &|| {
        decoded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(decoded.into_inner(), 5);
    assert_eq!(quick.get("Aaron_Peirsol").unwrap().images.len(), 4);
    let m = curate(&quick, &Selection::Names(vec!["Aaron_Peirsol".into()])).unwrap();
    assert_eq!(m.samples.len(), 4);
}

#[test]
fn missing_root_is_an_error_naming_it() {
    let err = scan_lfw(Path::new("/no/such/lfw"), Verify::Header).unwrap_err();
    assert!(matches!(err, DatasetError::MissingRoot { .. }));
    assert!(err.to_string().contains("/no/such/lfw"), "{err}");
}

fn write_seed_split(dir: &Path, train: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("target_names.csv"),
        ",0\n0,Aaron_Peirsol\n1,Clare_Short\n",
    )
    .unwrap();
    fs::write(dir.join("train.csv"), train).unwrap();
    fs::write(
        dir.join("val.csv"),
        "img_train,label_train\nAaron_Peirsol_0003.jpg,0\n",
    )
    .unwrap();
    fs::write(
        dir.join("test.csv"),
        "img_train,label_train\nClare_Short_0004.jpg,1\n",
    )
    .unwrap();
}

#[test]
fn seed_split_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let lfw = common::fixtures_lfw();
    let ss = dir.path().join("ss");

    write_seed_split(
        &ss,
        "img_train,label_train\nAaron_Peirsol_0001.jpg,0\nClare_Short_0001.jpg,1\n",
    );
    let ok = read_seed_split(&ss, &lfw).unwrap();
    assert_eq!(
        (
            ok.count(Split::Train),
            ok.count(Split::Val),
            ok.count(Split::Test)
        ),
        (2, 1, 1)
    );

    let cases = [
        (
            "img_train,label_train\nAaron_Peirsol_0001.jpg,0\nAaron_Peirsol_0099.jpg,0\n",
            "line 3",
            "Aaron_Peirsol_0099.jpg does not exist",
        ),
        (
            "img_train,label_train\nAaron_Peirsol_0001.jpg,1\n",
            "line 2",
            "does not belong to Clare_Short",
        ),
        (
            "img_train,label_train\nAaron_Peirsol_0001.jpg,7\n",
            "line 2",
            "label 7 is not in target_names.csv",
        ),
        (
            "img_train,label_train\nAaron_Peirsol_0001.jpg,x\n",
            "line 2",
            "label `x` is not",
        ),
        (
            "img_train,label_train\nAaron_Peirsol_0003.jpg,0\n",
            "val.csv, line 2",
            "listed twice",
        ),
    ];
    for (train, line, what) in cases {
        write_seed_split(&ss, train);
        let err = read_seed_split(&ss, &lfw).unwrap_err().to_string();
        assert!(err.contains(line) && err.contains(what), "{err}");
        assert!(err.contains(".csv"), "{err}");
    }

    write_seed_split(&ss, "img_train,label_train\nAaron_Peirsol_0001.jpg,0\n");
    fs::remove_file(ss.join("test.csv")).unwrap();
    let err = read_seed_split(&ss, &lfw).unwrap_err().to_string();
    assert!(err.contains("test.csv"), "{err}");
}

#[test]
fn augment_records_unreadable_sources_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = damaged_tree(dir.path());
    let mut m = Manifest::new(&root);
    m.samples.push(Sample::new(
        "Aaron_Peirsol/Aaron_Peirsol_0001.jpg",
        "Aaron_Peirsol",
        0,
        Split::Train,
    ));
    m.samples.push(Sample::new(
        "Aaron_Peirsol/Aaron_Peirsol_0005.jpg",
        "Aaron_Peirsol",
        0,
        Split::Train,
    ));
    m.samples.push(Sample::new(
        "Aaron_Peirsol/Missing_0001.jpg",
        "Aaron_Peirsol",
        0,
        Split::Test,
    ));
    let out = dir.path().join("aug");
    let report = augment_dataset(
        &m,
        &Policy::paper(),
        &out,
        &AugmentOptions::default(),
        &|| {},
    )
    .unwrap();
    assert_eq!(report.manifest.samples.len(), 4);
    assert_eq!(report.failures.len(), 2);
    let failures = fs::read_to_string(out.join("failures.csv")).unwrap();
    assert!(
        failures.contains("Aaron_Peirsol_0005.jpg") && failures.contains("Missing_0001.jpg"),
        "{failures}"
    );
}
