//! `PeopleDraw` on the fixtures' five LFW people: who is drawn, who is kept
//! out, and masking like the targets when the targets were generated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use maskface_core::Manifest;
use maskface_dataset::{curate, scan_lfw, split_stratified, Selection, SplitRatios, Verify};
use maskface_mask::{generate_dataset, GenerateOptions, MaskFamily, MaskSpec, PaperMask, Variant};
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::Backend;
use maskface_recognize::{DrawProgress, PeopleDraw, DRAW_SOURCE_FILE, EXTRA_MIN_IMAGES};

fn lfw() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lfw-mini")
}

/// Aaron Peirsol's four images, split 2/1/1, as an unmasked target set.
fn aaron() -> Manifest {
    let index = scan_lfw(&lfw(), Verify::Header).unwrap();
    let curated = curate(&index, &Selection::Names(vec!["Aaron_Peirsol".into()])).unwrap();
    split_stratified(
        &curated,
        &SplitRatios {
            train: 0.5,
            val: 0.25,
            test: 0.25,
        },
        42,
    )
    .unwrap()
}

fn people(m: &Manifest) -> BTreeSet<String> {
    m.identities().into_iter().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn strangers_come_from_outside_the_targets_and_are_kept_unmasked() {
    let dir = tempfile::tempdir().unwrap();
    let targets = aaron();
    let seen = Mutex::new(Vec::new());
    let drawn = PeopleDraw {
        lfw: &lfw(),
        targets: &targets,
        models: Path::new("no-models-needed"),
        min_face: 40,
        mask: None,
        unmasked: false,
    }
    .strangers(4, 42, dir.path(), false, &|p| seen.lock().unwrap().push(p))
    .unwrap();
    // Four people outside the targets: one image each.
    assert_eq!(drawn.manifest.samples.len(), 4);
    assert_eq!(
        people(&drawn.manifest),
        set(&[
            "Abdel_Madi_Shabneh",
            "Abel_Pacheco",
            "Barbra_Streisand",
            "Clare_Short"
        ])
    );
    assert!(!drawn.masked);
    assert_eq!(drawn.path, dir.path().join(DRAW_SOURCE_FILE));
    assert_eq!(
        Manifest::read(&drawn.source).unwrap().samples,
        drawn.manifest.samples
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [DrawProgress::Scanning, DrawProgress::Finish]
    );
}

#[test]
fn extra_identities_leave_out_targets_strangers_and_people_with_one_image() {
    let dir = tempfile::tempdir().unwrap();
    let targets = aaron();
    let draw = PeopleDraw {
        lfw: &lfw(),
        targets: &targets,
        models: Path::new("no-models-needed"),
        min_face: 40,
        mask: None,
        unmasked: false,
    };
    let all = draw
        .extra_identities(EXTRA_MIN_IMAGES, 2, 0, 42, &dir.path().join("a"), &|_| {})
        .unwrap();
    // Abdel Madi Shabneh has a single image.
    assert_eq!(
        people(&all.manifest),
        set(&["Abel_Pacheco", "Barbra_Streisand", "Clare_Short"])
    );
    assert_eq!(all.manifest.samples.len(), 6);

    // One stranger drawn with seed 42 is kept out as well.
    let stranger = draw
        .strangers(1, 42, &dir.path().join("s"), false, &|_| {})
        .unwrap();
    let fewer = draw
        .extra_identities(EXTRA_MIN_IMAGES, 2, 1, 42, &dir.path().join("b"), &|_| {})
        .unwrap();
    let mut expected = people(&all.manifest);
    for p in people(&stranger.manifest) {
        expected.remove(&p);
    }
    assert_eq!(people(&fewer.manifest), expected);
}

#[test]
fn a_missing_lfw_folder_is_an_error_naming_it() {
    let targets = aaron();
    let err = PeopleDraw {
        lfw: Path::new("/no/such/lfw"),
        targets: &targets,
        models: Path::new("models"),
        min_face: 40,
        mask: None,
        unmasked: false,
    }
    .strangers(4, 42, Path::new("/no/such/out"), false, &|_| {})
    .unwrap_err();
    assert!(err.to_string().contains("/no/such/lfw"), "{err}");
}

/// `models/` with MTCNN and the landmark model, when `scripts/setup.sh` has
/// run (`MASKFACE_MODELS` names another folder).
fn models() -> Option<PathBuf> {
    let dir = std::env::var_os("MASKFACE_MODELS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    );
    let files = ["pnet.pt", maskface_mask::ShapePredictor::DLIB_68_FILE];
    if files.iter().all(|f| dir.join(f).is_file()) {
        return Some(dir);
    }
    maskface_core::require_test_input(
        "models/ (MTCNN and the 68-point model)",
        "run `bash scripts/setup.sh` (README)",
        false,
    );
    None
}

/// Aaron Peirsol's chips, made by `generate_dataset` with the paper's mask
/// into `out`: targets whose manifest records how they were made.
fn generated_aaron(models: &Path, out: &Path) -> Manifest {
    let predictor = maskface_mask::ShapePredictor::from_file(
        models.join(maskface_mask::ShapePredictor::DLIB_68_FILE),
    )
    .unwrap();
    let mtcnn = Mtcnn::from_dir(
        models,
        MtcnnConfig::default(),
        &Backend::Flex.device().unwrap(),
    )
    .unwrap();
    let options = GenerateOptions {
        variants: vec![Variant::MaskedChip],
        ..GenerateOptions::default()
    };
    let mut report = generate_dataset(
        &aaron(),
        &mtcnn,
        &predictor,
        &MaskSpec::Paper(PaperMask::default()),
        out,
        &options,
        &|_| {},
    )
    .unwrap();
    report.manifests.remove(&Variant::MaskedChip).unwrap()
}

#[test]
fn extra_identities_are_masked_like_generated_targets() {
    let Some(models) = models() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let targets = &generated_aaron(&models, &dir.path().join("t"));

    let drawn = PeopleDraw {
        lfw: &lfw(),
        targets,
        models: &models,
        min_face: 40,
        mask: None,
        unmasked: false,
    }
    .extra_identities(EXTRA_MIN_IMAGES, 2, 0, 42, &dir.path().join("x"), &|_| {})
    .unwrap();
    assert!(drawn.masked && drawn.mask_recorded);
    assert_eq!(drawn.path, dir.path().join("x/masked_chip/manifest.csv"));
    assert_eq!(
        people(&drawn.manifest),
        set(&["Abel_Pacheco", "Barbra_Streisand", "Clare_Short"])
    );
    assert_eq!(drawn.manifest.samples.len(), 6);
    let chip = image::open(drawn.manifest.resolve(&drawn.manifest.samples[0].path)).unwrap();
    assert_eq!((chip.width(), chip.height()), (150, 150));
    // The same renderer as the targets, recorded in the drawn set's stage.
    let stage = |m: &Manifest| {
        m.info
            .stages
            .iter()
            .rev()
            .find(|s| s.step == "generate:masked_chip")
            .map(|s| s.params["mask"].clone())
            .unwrap()
    };
    assert_eq!(stage(&drawn.manifest), stage(targets));
}

/// Another mask than the targets', every person (one image is enough), and
/// each face also written without its mask at the same relative path.
#[test]
fn extra_identities_with_the_mask_family_and_unmasked_twins() {
    let Some(models) = models() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let targets = &generated_aaron(&models, &dir.path().join("t"));
    let family = MaskSpec::Family(MaskFamily::training());
    let drawn = PeopleDraw {
        lfw: &lfw(),
        targets,
        models: &models,
        min_face: 40,
        mask: Some(&family),
        unmasked: true,
    }
    .extra_identities(1, 2, 0, 42, &dir.path().join("x"), &|_| {})
    .unwrap();
    assert!(drawn.masked && drawn.mask_recorded);
    // Abdel Madi Shabneh's single image counts now: 2 + 2 + 2 + 1.
    assert_eq!(drawn.manifest.samples.len(), 7);
    let stage = &drawn.manifest.info.stages.last().unwrap().params["mask"];
    assert_eq!(stage, &family.to_json());
    let (twins, twins_path) = drawn.unmasked.unwrap();
    assert_eq!(twins_path, dir.path().join("x/unmasked_chip/manifest.csv"));
    let paths = |m: &Manifest| m.samples.iter().map(|s| s.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&twins), paths(&drawn.manifest));
    let masked = image::open(drawn.manifest.resolve(&drawn.manifest.samples[0].path))
        .unwrap()
        .to_rgb8();
    let bare = image::open(twins.resolve(&twins.samples[0].path))
        .unwrap()
        .to_rgb8();
    assert_eq!(masked.dimensions(), bare.dimensions());
    // The mask covers the lower face: the chips differ there, and at the
    // top (the forehead) at most where an ear loop passes.
    let diff = |y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (0..150).map(move |x| (x, y)))
            .filter(|&(x, y)| masked.get_pixel(x, y) != bare.get_pixel(x, y))
            .count()
    };
    assert!(diff(100, 150) > 2000, "{}", diff(100, 150));
    assert!(diff(0, 30) < 45, "{}", diff(0, 30));
}
