//! Curate -> split -> augment on the committed fixtures: determinism, the
//! paper's 4x training set, resuming after an interruption.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use maskface::augment::{augment_dataset, AugmentOptions, Policy};
use maskface::core::{Manifest, Split};
use maskface::dataset::{curate, scan_lfw, split_stratified, Selection, SplitRatios, Verify};

fn split_fixture(seed: u64) -> Manifest {
    let index = scan_lfw(&common::fixtures_lfw(), Verify::Decode).unwrap();
    let sel = Selection::CountRange {
        min: 3,
        max: 80,
        count: None,
        seed,
    };
    let curated = curate(&index, &sel).unwrap();
    split_stratified(&curated, &SplitRatios::default(), seed).unwrap()
}

#[test]
fn fixture_scan_and_curation() {
    let index = scan_lfw(&common::fixtures_lfw(), Verify::Decode).unwrap();
    assert_eq!(index.identities.len(), 5);
    assert_eq!(index.num_images(), 4 + 4 + 4 + 3 + 1);
    assert!(index.skipped.is_empty(), "{:?}", index.skipped);
    let m = split_fixture(1);
    // Abdel_Madi_Shabneh has a single image: outside 3..=80.
    assert_eq!(
        m.identities(),
        vec![
            "Aaron_Peirsol",
            "Abel_Pacheco",
            "Barbra_Streisand",
            "Clare_Short"
        ]
    );
    for label in 0..4 {
        for split in Split::ASSIGNED {
            assert!(m
                .samples
                .iter()
                .any(|s| s.label == label && s.split == split));
        }
    }
    // 4 images -> 2/1/1 (largest remainder: 3.2, 0.4, 0.4 -> 3, 0, 0, then one each).
    assert_eq!(m.count(Split::Train), 2 + 2 + 2 + 1);
}

#[test]
fn augment_is_4x_and_byte_identical_per_seed() {
    let input = split_fixture(3);
    let train = input.count(Split::Train);
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: u64| {
        let out = dir.path().join(name);
        let opts = AugmentOptions {
            seed,
            ..Default::default()
        };
        let report = augment_dataset(&input, &Policy::paper(), &out, &opts, &|| {}).unwrap();
        (report, common::snapshot(&out))
    };
    let (report, a) = run("a", 7);
    let (_, b) = run("b", 7);
    let (_, c) = run("c", 8);

    let m = &report.manifest;
    assert_eq!(m.count(Split::Train), 4 * train, "original + 3 rotations");
    assert_eq!(m.count(Split::Val), input.count(Split::Val));
    assert_eq!(m.count(Split::Test), input.count(Split::Test));
    assert_eq!(report.augmented, 3 * train);
    for s in m.samples.iter().filter(|s| s.origin.is_some()) {
        assert_eq!(s.split, Split::Train);
        let origin = m
            .samples
            .iter()
            .find(|o| Some(&o.path) == s.origin.as_ref())
            .unwrap();
        assert_eq!(origin.identity, s.identity);
        assert!(s.transform.starts_with("rotate("), "{}", s.transform);
    }

    assert_eq!(a, b, "same seed must give byte-identical output");
    assert_eq!(a.len(), c.len());
    let differing = a.iter().filter(|(k, v)| c.get(*k) != Some(v)).count();
    // Every augmented image and the manifest differ with another seed;
    // copied originals do not.
    assert!(differing > 3 * train, "{differing} files differ");
    assert_eq!(a[std::path::Path::new("failures.csv")], b"path,reason\n");
}

#[test]
fn interrupted_augment_resumes_to_the_same_bytes() {
    let input = split_fixture(5);
    let dir = tempfile::tempdir().unwrap();
    let opts = AugmentOptions::default();

    let clean = dir.path().join("clean");
    augment_dataset(&input, &Policy::paper(), &clean, &opts, &|| {}).unwrap();

    let resumed = dir.path().join("resumed");
    let calls = AtomicUsize::new(0);
    let crashed = catch_unwind(AssertUnwindSafe(|| {
        augment_dataset(&input, &Policy::paper(), &resumed, &opts, &|| {
            if calls.fetch_add(1, Ordering::SeqCst) == 5 {
                panic!("simulated crash");
            }
        })
    }));
    assert!(crashed.is_err());
    assert!(
        !resumed.join("manifest.csv").exists(),
        "no manifest before the end"
    );
    assert!(resumed.join("shards/augment-0-of-1.jsonl").exists());

    let report = augment_dataset(&input, &Policy::paper(), &resumed, &opts, &|| {}).unwrap();
    assert!(report.resumed >= 1, "resumed {}", report.resumed);
    assert_eq!(common::snapshot(&clean), common::snapshot(&resumed));

    // Finished: another call returns the same manifest at once.
    let again = augment_dataset(&input, &Policy::paper(), &resumed, &opts, &|| {}).unwrap();
    assert_eq!(again.manifest, report.manifest);

    // Other parameters in the same folder: refused unless --overwrite.
    let other = AugmentOptions {
        seed: 99,
        ..Default::default()
    };
    let err = augment_dataset(&input, &Policy::paper(), &resumed, &other, &|| {}).unwrap_err();
    assert!(err.to_string().contains("other parameters"), "{err}");
    let over = AugmentOptions {
        seed: 99,
        overwrite: true,
        ..Default::default()
    };
    augment_dataset(&input, &Policy::paper(), &resumed, &over, &|| {}).unwrap();
    assert_ne!(common::snapshot(&clean), common::snapshot(&resumed));
}

#[test]
fn manifest_roundtrip_through_disk() {
    let m = split_fixture(2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m/manifest.csv");
    m.write(&path).unwrap();
    let back = Manifest::read(&path).unwrap();
    assert_eq!(back.samples, m.samples);
    assert_eq!(back.info.stages, m.info.stages);
    assert_eq!(back.info.stages.len(), 2);
    assert_eq!(back.info.stages[1].params["seed"], 2);
    assert!(back.resolve(&back.samples[0].path).is_file());
}
