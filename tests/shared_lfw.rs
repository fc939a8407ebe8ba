//! Integration tests on the real data in ../shared (skipped outside CI when
//! it is absent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface::augment::{augment_dataset, AugmentOptions, Policy};
use maskface::core::Split;
use maskface::dataset::{
    curate, read_seed_split, scan_lfw, split_stratified, Selection, SplitRatios, Verify,
};

#[test]
fn authors_split_is_reproduced_exactly() {
    let Some(shared) = common::shared() else {
        return;
    };
    let m = read_seed_split(&shared.join("seed-split"), &shared.join("lfw")).unwrap();
    assert_eq!(m.identities().len(), 50);
    assert_eq!(m.samples.len(), 1702);
    assert_eq!(
        (
            m.count(Split::Train),
            m.count(Split::Val),
            m.count(Split::Test)
        ),
        (1340, 166, 196)
    );
    assert_eq!(m.identities()[0], "Luiz_Inacio_Lula_da_Silva");
    assert_eq!(
        m.samples[0].path,
        std::path::Path::new("Luiz_Inacio_Lula_da_Silva/Luiz_Inacio_Lula_da_Silva_0011.jpg")
    );
    let test_rows = m.split(Split::Test).filter(|s| s.label == 0).count();
    let expected = std::fs::read_to_string(shared.join("seed-split/test.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(",0"))
        .count();
    assert_eq!(test_rows, expected);
}

#[test]
fn seeded_paper_selection_and_split() {
    let Some(shared) = common::shared() else {
        return;
    };
    let index = scan_lfw(&shared.join("lfw"), Verify::Header).unwrap();
    assert_eq!(index.identities.len(), 5749);
    assert_eq!(index.num_images(), 13233);
    let in_range = index
        .identities
        .iter()
        .filter(|i| (20..=80).contains(&i.images.len()))
        .count();
    assert_eq!(in_range, 57);

    let m = curate(&index, &Selection::paper(42)).unwrap();
    assert_eq!(m.identities().len(), 50);
    assert!(
        (1500..=1900).contains(&m.samples.len()),
        "{}",
        m.samples.len()
    );
    assert_eq!(m, curate(&index, &Selection::paper(42)).unwrap());
    assert_ne!(
        m.identities(),
        curate(&index, &Selection::paper(43)).unwrap().identities()
    );

    let s = split_stratified(&m, &SplitRatios::default(), 42).unwrap();
    for (name, n) in m.counts_per_identity() {
        let count = |sp| {
            s.samples
                .iter()
                .filter(|x| x.identity == name && x.split == sp)
                .count()
        };
        let (tr, va, te) = (count(Split::Train), count(Split::Val), count(Split::Test));
        assert_eq!(tr + va + te, n);
        for (got, ratio) in [(tr, 0.8), (va, 0.1), (te, 0.1)] {
            assert!(
                (got as f64 - ratio * n as f64).abs() <= 1.0,
                "{name}: {tr}/{va}/{te} of {n}"
            );
        }
    }
}

#[test]
fn authors_training_split_augments_to_4x() {
    let Some(shared) = common::shared() else {
        return;
    };
    let m = read_seed_split(&shared.join("seed-split"), &shared.join("lfw")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = augment_dataset(
        &m,
        &Policy::paper(),
        dir.path(),
        &AugmentOptions::default(),
        &|| {},
    )
    .unwrap();
    assert!(report.failures.is_empty());
    assert_eq!(report.manifest.count(Split::Train), 4 * 1340);
    assert_eq!(report.manifest.count(Split::Val), 166);
    assert_eq!(report.manifest.count(Split::Test), 196);
}
