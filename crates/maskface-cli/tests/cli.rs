//! The `maskface` program end to end: help texts, exit codes, outputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{fails, have_models, maskface, ok, repo, required, split_fixtures_with};
use maskface_core::Manifest;

#[test]
fn help_explains_every_option_and_default() {
    let top = ok(&["--help"]);
    for cmd in [
        "curate",
        "split",
        "augment",
        "detect",
        "generate",
        "eigen",
        "openset",
        "recognize",
        "enroll",
        "identify",
        "run",
    ] {
        assert!(top.contains(cmd), "{top}");
    }
    let curate = ok(&["curate", "--help"]);
    for s in [
        "--seed-split",
        "--min-images",
        "[default: 20]",
        "[default: 80]",
        "[default: 50]",
        "--verify",
    ] {
        assert!(curate.contains(s), "curate --help lacks {s}:\n{curate}");
    }
    let split = ok(&["split", "--help"]);
    assert!(
        split.contains("[default: 0.8 0.1 0.1]") || split.contains("[default: 0.8,0.1,0.1]"),
        "{split}"
    );
    let augment = ok(&["augment", "--help"]);
    for s in [
        "[default: 3]",
        "[default: 20]",
        "[default: black]",
        "--overwrite",
        "--color-jitter",
    ] {
        assert!(augment.contains(s), "augment --help lacks {s}:\n{augment}");
    }
}

#[test]
fn bad_input_exits_non_zero_with_a_clear_message() {
    let err = fails(&[
        "curate",
        "--lfw",
        "/no/such/lfw",
        "--out",
        "/tmp/unused-maskface",
    ]);
    assert!(
        err.contains("error: dataset root /no/such/lfw does not exist"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let err = fails(&[
        "split",
        "--manifest",
        &format!("{out}/none.csv"),
        "--out",
        out,
    ]);
    assert!(err.contains("none.json"), "{err}");

    let err = fails(&[
        "curate",
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        out,
        "--identities",
        "9",
        "--min-images",
        "3",
    ]);
    assert!(
        err.contains("9 identities asked for, 4 have 3..=80 images"),
        "{err}"
    );

    let curated = format!("{out}/c");
    ok(&[
        "curate",
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        &curated,
        "--min-images",
        "1",
        "--identities",
        "0",
    ]);
    let err = fails(&[
        "split",
        "--manifest",
        &format!("{curated}/manifest.csv"),
        "--out",
        out,
    ]);
    assert!(
        err.contains("Abdel_Madi_Shabneh: 1 image(s), needs at least 3"),
        "{err}"
    );
    let err = fails(&[
        "split",
        "--manifest",
        &format!("{curated}/manifest.csv"),
        "--out",
        out,
        "--ratios",
        "0.8,0.3,0.1",
    ]);
    assert!(err.contains("sum to"), "{err}");
    let err = fails(&[
        "augment",
        "--manifest",
        &format!("{curated}/manifest.csv"),
        "--out",
        out,
    ]);
    assert!(err.contains("run `maskface split` first"), "{err}");
    let err = fails(&[
        "augment",
        "--manifest",
        &format!("{curated}/manifest.csv"),
        "--fill",
        "1,2",
    ]);
    assert!(err.contains("--fill"), "{err}");
}

#[test]
fn curate_split_augment_on_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let d = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
    let line = ok(&[
        "curate",
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        &d("c"),
        "--min-images",
        "3",
        "--identities",
        "0",
    ]);
    assert!(
        line.starts_with("curated 4 identities, 15 images"),
        "{line}"
    );
    for f in [
        "manifest.csv",
        "manifest.json",
        "identity_counts.csv",
        "skipped.csv",
        "images_per_identity_lfw.png",
        "images_per_identity_selected.png",
    ] {
        assert!(dir.path().join("c").join(f).is_file(), "missing {f}");
    }
    let line = ok(&[
        "split",
        "--manifest",
        &d("c/manifest.csv"),
        "--out",
        &d("s"),
        "--seed",
        "3",
    ]);
    assert!(line.contains("train 7, val 4, test 4"), "{line}");
    let line = ok(&[
        "augment",
        "--manifest",
        &d("s/manifest.csv"),
        "--out",
        &d("a"),
        "--threads",
        "2",
    ]);
    assert!(
        line.contains("21 new") && line.contains("train 28, val 4, test 4"),
        "{line}"
    );
    let png = image::open(dir.path().join("a/preview.png")).unwrap();
    assert_eq!(png.width(), 4 * 180);

    // Again in the same folder: nothing to do, same answer.
    let again = ok(&[
        "augment",
        "--manifest",
        &d("s/manifest.csv"),
        "--out",
        &d("a"),
    ]);
    assert!(again.contains("21 new"), "{again}");
    let err = fails(&[
        "augment",
        "--manifest",
        &d("s/manifest.csv"),
        "--out",
        &d("a"),
        "--seed",
        "1",
    ]);
    assert!(err.contains("other parameters"), "{err}");
}

#[test]
fn seed_split_is_reproduced_by_the_cli() {
    if !required(
        "../shared/seed-split",
        "put LFW deep-funneled at ../shared/lfw and the authors' split at ../shared/seed-split",
        repo().join("../shared/seed-split").is_dir(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let line = ok(&[
        "curate",
        "--lfw",
        "../shared/lfw",
        "--seed-split",
        "../shared/seed-split",
        "--out",
        out,
    ]);
    assert!(
        line.starts_with(
            "curated 50 identities, 1702 images (train 1340, val 166, test 196, unassigned 0)"
        ),
        "{line}"
    );
}

#[test]
fn detect_writes_json_and_crops() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("det.json");
    let crops = dir.path().join("crops");
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"not an image").unwrap();
    let line = ok(&[
        "detect",
        "fixtures/lfw-mini/Clare_Short",
        bad.to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
        "--crops",
        crops.to_str().unwrap(),
    ]);
    assert!(
        line.starts_with("faces in 4 of 5 images (0 without a face, 1 errors)"),
        "{line}"
    );
    let entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let first = &entries[0];
    assert_eq!(first["width"], 250);
    let chosen = first["chosen"].as_u64().unwrap() as usize;
    let face = &first["faces"][chosen];
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    assert!(face["score"].as_f64().unwrap() > 0.9);
    assert!(entries[4]["error"].as_str().unwrap().contains("bad.jpg"));
    let crop = image::open(crops.join("Clare_Short_0001.png")).unwrap();
    assert_eq!((crop.width(), crop.height()), (160, 160));

    let err = fails(&[
        "detect",
        "fixtures/lfw-mini",
        "--models",
        "/no/models",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert!(
        err.contains("/no/models/pnet.pt") && err.contains("file not found"),
        "{err}"
    );
    let err = fails(&["detect", "/no/such/image.jpg"]);
    assert!(err.contains("/no/such/image.jpg does not exist"), "{err}");
}

#[test]
fn generate_masks_a_split_and_draws_the_preview() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    split_fixtures(d, "0.8,0.1,0.1");
    let line = ok(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/m"),
        "--mask",
        "realistic",
        "--variants",
        "masked-upper,unmasked-full",
        "--preview",
        "2",
    ]);
    assert!(
        line.starts_with("masked 15 of 15 images (0 resumed, 0 failed)"),
        "{line}"
    );
    let preview = image::open(dir.path().join("m/preview.png")).unwrap();
    assert_eq!(preview.width(), 5 * 160);
    assert!(dir.path().join("m/masked_upper/manifest.csv").is_file());
    assert!(dir.path().join("m/unmasked_full/manifest.csv").is_file());
    assert!(!dir.path().join("m/masked_full").exists());
    // Called again: nothing to do, same answer.
    let again = ok(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/m"),
        "--mask",
        "realistic",
        "--variants",
        "masked-upper,unmasked-full",
        "--preview",
        "0",
    ]);
    assert!(again.starts_with("masked 15 of 15 images"), "{again}");
    // Other parameters in the same folder: refused, with the way out.
    let err = fails(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/m"),
    ]);
    assert!(err.contains("--overwrite"), "{err}");
    let err = fails(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/x"),
        "--models",
        "/no/models",
    ]);
    assert!(
        err.contains("/no/models/shape_predictor_68_face_landmarks.dat"),
        "{err}"
    );
}

#[test]
fn eigen_fits_reports_and_draws() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    split_fixtures(d, "0.5,0.25,0.25");
    let line = ok(&[
        "eigen",
        "--train",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/e"),
        "--components",
        "3",
        "--size",
        "32x32",
    ]);
    assert!(
        line.starts_with("eigenfaces: 3 components (") && line.contains("of 32x32 faces"),
        "{line}"
    );
    for f in [
        "eigenfaces.png",
        "variance.png",
        "model.json",
        "report.json",
        "confusion.png",
    ] {
        assert!(dir.path().join("e").join(f).is_file(), "{f}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("e/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["components"], 3);
    assert_predictions_match(
        &dir.path().join("e"),
        &report,
        &format!("{d}/s/manifest.csv"),
    );
    // A known answer: test faces that are the training faces themselves
    // are each their own nearest neighbour, at distance 0.
    let mut same = Manifest::read(&dir.path().join("s/manifest.csv")).unwrap();
    same.samples
        .retain(|s| s.split == maskface_core::Split::Train);
    let copies: Vec<_> = same
        .samples
        .iter()
        .map(|s| {
            let mut t = s.clone();
            t.split = maskface_core::Split::Test;
            t
        })
        .collect();
    same.samples.extend(copies);
    std::fs::create_dir_all(dir.path().join("same")).unwrap();
    same.write(&dir.path().join("same/manifest.csv")).unwrap();
    ok(&[
        "eigen",
        "--train",
        &format!("{d}/s/manifest.csv"),
        "--test",
        &format!("{d}/same/manifest.csv"),
        "--out",
        &format!("{d}/e-same"),
        "--components",
        "3",
        "--size",
        "32x32",
    ]);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("e-same/report.json")).unwrap(),
    )
    .unwrap();
    let rows = assert_predictions_match(
        &dir.path().join("e-same"),
        &report,
        &format!("{d}/same/manifest.csv"),
    );
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(
            (r[3].as_str(), r[5].as_str()),
            (r[2].as_str(), "1"),
            "{r:?}"
        );
        assert_eq!(r[6].parse::<f64>().unwrap(), 0.0, "{r:?}");
    }
    let err = fails(&[
        "eigen",
        "--train",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/e"),
        "--components",
        "500",
    ]);
    assert!(err.contains("500 components asked of"), "{err}");
}

/// `predictions.csv` against the test manifest it was made from: one row
/// per test face, in the manifest's order, with the manifest's path,
/// identity and label; a row is right when the answer is the label; the
/// report counts the same. Returns the rows.
fn assert_predictions_match(
    out: &std::path::Path,
    report: &serde_json::Value,
    test_manifest: &str,
) -> Vec<Vec<String>> {
    let csv = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("path,identity,label,predicted,predicted_identity,correct,score")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let manifest = Manifest::read(Path::new(test_manifest)).unwrap();
    let tests: Vec<_> = manifest.split(maskface_core::Split::Test).collect();
    assert_eq!(rows.len(), tests.len());
    // label -> identity, from the manifest.
    let names: std::collections::BTreeMap<String, String> = manifest
        .samples
        .iter()
        .map(|s| (s.label.to_string(), s.identity.clone()))
        .collect();
    for (r, s) in rows.iter().zip(&tests) {
        assert_eq!(r[0], s.path.display().to_string(), "{r:?}");
        assert_eq!(
            (r[1].as_str(), r[2].as_str()),
            (s.identity.as_str(), &*s.label.to_string())
        );
        assert_eq!(r[5] == "1", r[3] == r[2], "{r:?}");
        if let Some(name) = names.get(&r[3]) {
            assert_eq!(&r[4], name, "{r:?}");
        }
    }
    let right = rows.iter().filter(|r| r[5] == "1").count();
    assert_eq!(rows.len() as u64, report["test_images"].as_u64().unwrap());
    assert_eq!(right as u64, report["correct"].as_u64().unwrap());
    rows
}

/// An open-set report against the `probes.csv` beside it, recomputed here
/// independently of the library: each score's AUROC by counting every
/// (target, stranger) pair (ties half), and each operating point's FPIR
/// and DIR by counting the probes that score above its threshold.
/// Returns each score's AUROC.
fn assert_openset_matches_probes(
    out: &Path,
    targets: usize,
    strangers: usize,
) -> Vec<(String, f64)> {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let probes = std::fs::read_to_string(out.join("probes.csv")).unwrap();
    let mut lines = probes.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[..5],
        ["kind", "path", "identity", "label", "predicted"]
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let is_target = |r: &Vec<&str>| r[0] == "target";
    assert_eq!(rows.iter().filter(|r| is_target(r)).count(), targets);
    assert_eq!(
        rows.iter().filter(|r| r[0] == "stranger").count(),
        strangers
    );
    assert_eq!(rows.len(), targets + strangers);
    assert_eq!(report["strangers"]["probes"], strangers);
    let mut aurocs = Vec::new();
    for r in report["reports"].as_array().unwrap() {
        let name = r["score"].as_str().unwrap();
        let col = header.iter().position(|h| *h == name).unwrap();
        let score = |row: &Vec<&str>| row[col].parse::<f64>().unwrap();
        let (t, n): (Vec<&Vec<&str>>, Vec<&Vec<&str>>) = rows.iter().partition(|r| is_target(r));
        let mut pairs = 0.0;
        for a in &t {
            for b in &n {
                let (x, y) = (score(a), score(b));
                pairs += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
            }
        }
        let auroc = pairs / (t.len() * n.len()) as f64;
        assert!(
            (r["auroc"].as_f64().unwrap() - auroc).abs() < 1e-12,
            "{name}: {} vs {auroc}",
            r["auroc"]
        );
        for p in r["operating_points"].as_array().unwrap() {
            let p = p.get("point").unwrap_or(p);
            let threshold = p["threshold"].as_f64().unwrap_or(f64::INFINITY);
            let hits = t
                .iter()
                .filter(|r| score(r) > threshold && r[4] == r[3])
                .count();
            let alarms = n.iter().filter(|r| score(r) > threshold).count();
            assert_eq!(
                p["dir"].as_f64().unwrap(),
                hits as f64 / t.len() as f64,
                "{name}: {p}"
            );
            assert_eq!(
                p["fpir"].as_f64().unwrap(),
                alarms as f64 / n.len() as f64,
                "{name}: {p}"
            );
        }
        aurocs.push((name.to_string(), auroc));
    }
    aurocs
}

/// The gallery: the three fixture people with 4 images (one test image
/// each); the strangers: the other two people's 4 images. Without a
/// `generate` stage the strangers are used as they are.
#[test]
fn openset_reports_targets_against_strangers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    split_fixtures_with(d, 4, "0.5,0.25,0.25");
    let manifest = format!("{d}/s/manifest.csv");
    ok(&[
        "eigen",
        "--train",
        &manifest,
        "--out",
        &format!("{d}/e"),
        "--components",
        "3",
        "--size",
        "32x32",
    ]);
    let model = format!("{d}/e/model.json");
    let out = format!("{d}/o");
    let base = [
        "openset",
        "--model",
        &model,
        "--targets",
        &manifest,
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        &out,
    ];
    let table = ok(&[&base[..], &["--strangers", "4"]].concat());
    assert!(table.contains("| confidence | 3 / 4 |"), "{table}");
    assert!(
        table.contains("3 target probes, 4 strangers (4 drawn)"),
        "{table}"
    );
    for f in [
        "report.json",
        "openset.md",
        "roc.csv",
        "roc.png",
        "det.png",
        "probes.csv",
        "scores_confidence.png",
        "scores_energy.png",
    ] {
        assert!(dir.path().join("o").join(f).is_file(), "{f}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["strangers"]["probes"], 4);
    assert_eq!(report["strangers"]["same_pipeline_as_targets"], false);
    let reports = report["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 4);
    for r in reports {
        assert_eq!(r["operating_points"].as_array().unwrap().len(), 3);
    }
    let aurocs = assert_openset_matches_probes(&dir.path().join("o"), 3, 4);
    eprintln!("AUROC: {aurocs:?}");
    // The fixtures' answer, the same on every machine: each AUROC counts
    // 12 (target, stranger) pairs, and no pair is within 0.02 of a tie,
    // far beyond what float order can move.
    assert_eq!(
        aurocs,
        [
            ("confidence".to_string(), 5.0 / 12.0),
            ("max_softmax".to_string(), 5.0 / 12.0),
            ("max_logit".to_string(), 8.0 / 12.0),
            ("energy".to_string(), 8.0 / 12.0),
        ]
    );
    // Every stranger is someone outside the gallery.
    let probes = std::fs::read_to_string(dir.path().join("o/probes.csv")).unwrap();
    let strangers: Vec<&str> = probes
        .lines()
        .filter(|l| l.starts_with("stranger,"))
        .collect();
    assert_eq!(strangers.len(), 4);
    assert!(strangers
        .iter()
        .all(|l| l.contains("Barbra_Streisand") || l.contains("Abdel_Madi_Shabneh")));
    // The curve: one row per distinct score plus the start, per score.
    let roc = std::fs::read_to_string(dir.path().join("o/roc.csv")).unwrap();
    assert!(
        roc.starts_with("curve,threshold,fpir,dir,fnir\nconfidence,inf,0,0,1\n"),
        "{roc}"
    );

    let err = fails(&[&base[..], &["--strangers", "5"]].concat());
    assert!(
        err.contains("5 strangers asked for; 4 images of 2 people"),
        "{err}"
    );
    let err = fails(&[
        "openset",
        "--model",
        &format!("{d}/none.json"),
        "--targets",
        &manifest,
    ]);
    assert!(err.contains("none.json not found"), "{err}");
    // A model fitted on other people is refused.
    split_fixtures(&format!("{d}/other"), "0.5,0.25,0.25");
    let err = fails(&[
        "openset",
        "--model",
        &model,
        "--targets",
        &format!("{d}/other/s/manifest.csv"),
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        &out,
    ]);
    assert!(
        err.contains("it knows 3 people, the manifest has 4"),
        "{err}"
    );
}

/// The same with masked targets: the strangers go through `generate` with
/// the targets' recorded options and mask.
#[test]
fn openset_masks_strangers_like_the_targets() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    split_fixtures_with(d, 4, "0.5,0.25,0.25");
    ok(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/m"),
        "--models",
        "models",
        "--mask",
        "surgical",
        "--preview",
        "0",
    ]);
    let manifest = format!("{d}/m/masked_upper/manifest.csv");
    ok(&[
        "eigen",
        "--train",
        &manifest,
        "--out",
        &format!("{d}/e"),
        "--components",
        "3",
    ]);
    let table = ok(&[
        "openset",
        "--model",
        &format!("{d}/e/model.json"),
        "--targets",
        &manifest,
        "--lfw",
        "fixtures/lfw-mini",
        "--strangers",
        "4",
        "--out",
        &format!("{d}/o"),
    ]);
    assert!(table.contains("processed like the targets"), "{table}");
    let strangers = Manifest::read(
        &dir.path()
            .join("o/strangers-4-seed42/masked_upper/manifest.csv"),
    )
    .unwrap();
    assert_eq!(strangers.samples.len(), 4);
    let img = image::open(strangers.resolve(&strangers.samples[0].path)).unwrap();
    assert_eq!((img.width(), img.height()), (160, 80));
    // The strangers' records name the targets' mask style.
    let records =
        std::fs::read_to_string(dir.path().join("o/strangers-4-seed42/records.jsonl")).unwrap();
    assert!(
        records.lines().all(|l| l.contains("\"surgical\"")),
        "{records}"
    );
    // Masked, three components know the three people less well than the
    // strangers: 4 of 12 pairs in order under every score, none within
    // 0.002 of a tie.
    let aurocs = assert_openset_matches_probes(&dir.path().join("o"), 3, 4);
    eprintln!("AUROC: {aurocs:?}");
    assert_eq!(
        aurocs,
        [
            ("confidence".to_string(), 4.0 / 12.0),
            ("max_softmax".to_string(), 4.0 / 12.0),
            ("max_logit".to_string(), 4.0 / 12.0),
            ("energy".to_string(), 4.0 / 12.0),
        ]
    );
}

/// The fixtures split 2/1/1 per person (four people), masked and aligned
/// as chips under `d/m`; returns the chips' manifest.
fn masked_fixture_chips(d: &str) -> String {
    split_fixtures_with(d, 4, "0.5,0.25,0.25");
    ok(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/m"),
        "--variants",
        "masked-chip",
        "--preview",
        "0",
    ]);
    format!("{d}/m/masked_chip/manifest.csv")
}

/// dlib's ResNet on aligned masked chips: `recognize` fits a head and
/// reports the accuracy; `openset` takes its model.
#[test]
fn recognize_then_openset_with_the_resnet() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let chips = masked_fixture_chips(d);
    let line = ok(&["recognize", "--train", &chips, "--out", &format!("{d}/r")]);
    assert!(
        line.starts_with("dlib ResNet + softmax head: 6 training images"),
        "{line}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["test_images"], 3);
    // Three people, two training chips each, masked: all three test chips right.
    assert_eq!(report["correct"], 3, "{report}");
    assert_predictions_match(&dir.path().join("r"), &report, &chips);
    assert!(dir.path().join("r/confusion.png").is_file());
    let table = ok(&[
        "openset",
        "--model",
        &format!("{d}/r/model.json"),
        "--targets",
        &chips,
        "--lfw",
        "fixtures/lfw-mini",
        "--strangers",
        "4",
        "--out",
        &format!("{d}/o"),
    ]);
    assert!(
        table.contains("| dlib ResNet + softmax head | confidence | 3 / 4 |"),
        "{table}"
    );
    let strangers = Manifest::read(
        &dir.path()
            .join("o/strangers-4-seed42/masked_chip/manifest.csv"),
    )
    .unwrap();
    let img = image::open(strangers.resolve(&strangers.samples[0].path)).unwrap();
    assert_eq!((img.width(), img.height()), (150, 150));
    let aurocs = assert_openset_matches_probes(&dir.path().join("o"), 3, 4);
    eprintln!("AUROC: {aurocs:?}");
    // Each AUROC counts 12 (target, stranger) pairs, none within 0.01 of a
    // tie, so the CPU's float order cannot move it: every target above
    // every stranger.
    assert_eq!(
        aurocs,
        [
            ("confidence".to_string(), 1.0),
            ("max_softmax".to_string(), 1.0),
            ("max_logit".to_string(), 1.0),
            ("energy".to_string(), 1.0),
        ]
    );
}

/// Enrollment without retraining: a gallery file grows person by person,
/// the same photo twice is idempotent, identification names or says
/// "unknown", a corrupt gallery is an error and stays as it was.
#[test]
fn enroll_and_identify() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("gallery.json");
    let g = g.to_str().unwrap();
    let photo = |who: &str, k: u32| format!("fixtures/lfw-mini/{who}/{who}_{k:04}.jpg");
    let line = ok(&[
        "enroll",
        "--gallery",
        g,
        "--dlib",
        "--name",
        "Aaron",
        &photo("Aaron_Peirsol", 1),
        &photo("Aaron_Peirsol", 2),
        &photo("Aaron_Peirsol", 3),
    ]);
    assert!(
        line.contains(
            "Aaron: 3 image(s) added (with 9 masked templates), 0 already enrolled; the gallery has 1 people"
        ),
        "{line}"
    );
    ok(&[
        "enroll",
        "--gallery",
        g,
        "--name",
        "Abel",
        &photo("Abel_Pacheco", 1),
        &photo("Abel_Pacheco", 2),
    ]);
    let before = std::fs::read(g).unwrap();
    let made: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(
        made["mirror"], true,
        "new galleries embed mirror images too"
    );
    let again = ok(&[
        "enroll",
        "--gallery",
        g,
        "--name",
        "Aaron",
        &photo("Aaron_Peirsol", 2),
    ]);
    assert!(
        again.contains("0 image(s) added (with 0 masked templates), 1 already enrolled; the gallery has 2 people"),
        "{again}"
    );
    assert_eq!(
        std::fs::read(g).unwrap(),
        before,
        "an idempotent enrollment rewrites the same bytes"
    );
    // Every photo is answered; the unreadable one makes the status 1.
    let answered = |args: &[&str]| {
        let out = maskface(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("1 of 3 photos could not be read"), "{err}");
        String::from_utf8(out.stdout).unwrap()
    };
    let out = answered(&[
        "identify",
        "--gallery",
        g,
        &photo("Aaron_Peirsol", 4),
        &photo("Clare_Short", 1),
        "fixtures/broken/text_named_jpg.jpg",
    ]);
    // Clare Short's photo has a second face behind her: one line each.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].contains("\tAaron (similarity"), "{out}");
    assert!(lines[0].ends_with("box 90,63,178,189"), "{out}");
    assert!(lines[1].contains("\tunknown (closest"), "{out}");
    assert!(lines[1].ends_with("face 1 of 2, box 54,32,111,93"), "{out}");
    assert!(
        lines[2].ends_with("face 2 of 2, box 85,75,174,188"),
        "{out}"
    );
    assert!(lines[3].contains("\terror: cannot decode image"), "{out}");
    // The same as JSON, and the photos drawn with their answers.
    let ann = dir.path().join("ann");
    let json = answered(&[
        "identify",
        "--gallery",
        g,
        "--json",
        "--annotate",
        ann.to_str().unwrap(),
        &photo("Aaron_Peirsol", 4),
        &photo("Clare_Short", 1),
        "fixtures/broken/text_named_jpg.jpg",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["faces"][0]["identification"]["name"], "Aaron");
    assert_eq!(
        v[0]["faces"][0]["bbox"]["x0"].as_f64().unwrap().round(),
        90.0
    );
    assert_eq!(v[1]["faces"].as_array().unwrap().len(), 2);
    assert_eq!(
        v[1]["faces"][1]["identification"]["name"],
        serde_json::Value::Null
    );
    assert!(v[2]["error"].as_str().unwrap().contains("cannot decode"));
    let drawn = image::open(ann.join("Aaron_Peirsol_0004.png"))
        .unwrap()
        .to_rgb8();
    // The box's left edge, in the "named" green.
    assert_eq!(drawn.get_pixel(90, 150), &image::Rgb([20, 150, 40]));
    assert!(ann.join("Clare_Short_0001.png").is_file());
    assert!(!ann.join("text_named_jpg.png").exists());
    // A photo without a face is an error naming it; the gallery is unchanged.
    let blank = dir.path().join("blank.png");
    image::RgbImage::from_pixel(120, 120, image::Rgb([90, 90, 90]))
        .save(&blank)
        .unwrap();
    let e = fails(&[
        "enroll",
        "--gallery",
        g,
        "--name",
        "Nobody",
        blank.to_str().unwrap(),
    ]);
    assert!(e.contains("blank.png: no face found"), "{e}");
    assert_eq!(std::fs::read(g).unwrap(), before);
    // A corrupt gallery is refused and left as it is.
    std::fs::write(g, &before[..before.len() / 2]).unwrap();
    let e = fails(&[
        "enroll",
        "--gallery",
        g,
        "--name",
        "Abel",
        &photo("Abel_Pacheco", 3),
    ]);
    assert!(
        e.contains("gallery.json") && e.contains("not a readable gallery"),
        "{e}"
    );
    assert_eq!(std::fs::read(g).unwrap(), &before[..before.len() / 2]);
}

/// `maskface train` on the fixtures' masked chips (one epoch, no extra
/// people), then a gallery made with the fine-tuned network: it records the
/// weights and their digest, `identify` uses them, and weights changed in
/// place or another network are refused.
#[test]
fn train_then_enroll_with_the_fine_tuned_network() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let chips = masked_fixture_chips(d);
    let out = ok(&[
        "train",
        "--train",
        &chips,
        "--extra-images",
        "0",
        "--epochs",
        "1",
        "--out",
        &format!("{d}/t"),
    ]);
    assert!(out.contains("best epoch 1 of 1"), "{out}");
    let metrics = std::fs::read_to_string(dir.path().join("t/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "{metrics}");
    for f in [
        "embedder.bpk",
        "best.bpk",
        "last.ckpt",
        "loss.png",
        "report.json",
    ] {
        assert!(dir.path().join("t").join(f).is_file(), "{f}");
    }
    let weights = dir.path().join("t/embedder.bpk");
    let w = weights.to_str().unwrap();
    let g = dir.path().join("gallery.json");
    let g = g.to_str().unwrap();
    let photo = |who: &str, k: u32| format!("fixtures/lfw-mini/{who}/{who}_{k:04}.jpg");
    ok(&[
        "enroll",
        "--gallery",
        g,
        "--weights",
        w,
        "--name",
        "Aaron",
        &photo("Aaron_Peirsol", 1),
        &photo("Aaron_Peirsol", 2),
    ]);
    let gallery: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(g).unwrap()).unwrap();
    assert_eq!(
        gallery["embedder"].as_str().unwrap(),
        std::fs::canonicalize(&weights).unwrap().to_str().unwrap()
    );
    assert_eq!(gallery["embedder_sha256"].as_str().unwrap().len(), 64);
    assert!((gallery["threshold"].as_f64().unwrap() - 0.74).abs() < 1e-6);
    // Later enrollments take the gallery's network without being told.
    ok(&[
        "enroll",
        "--gallery",
        g,
        "--name",
        "Abel",
        &photo("Abel_Pacheco", 1),
    ]);
    let answer = ok(&["identify", "--gallery", g, &photo("Aaron_Peirsol", 4)]);
    assert!(answer.contains("threshold 0.740)"), "{answer}");
    let e = fails(&[
        "enroll",
        "--gallery",
        g,
        "--weights",
        "models/dlib_face_recognition_resnet_model_v1.dat",
        "--name",
        "Abel",
        &photo("Abel_Pacheco", 2),
    ]);
    assert!(e.contains("holds embeddings of"), "{e}");
    // Weights retrained in place no longer match the templates.
    std::fs::copy(dir.path().join("t/best.bpk"), &weights).unwrap();
    let e = fails(&["identify", "--gallery", g, &photo("Aaron_Peirsol", 4)]);
    assert!(e.contains("changed since the gallery was made"), "{e}");
}

/// LFW's verification protocol on a small pairs file of the fixtures (two
/// folds of two same and two different pairs).
#[test]
fn verify_runs_the_pairs_protocol() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.txt");
    std::fs::write(
        &pairs,
        "2\t2\nAaron_Peirsol\t1\t2\nAbel_Pacheco\t1\t3\n\
         Aaron_Peirsol\t3\tClare_Short\t1\nBarbra_Streisand\t1\tAbel_Pacheco\t4\n\
         Clare_Short\t2\t3\nAaron_Peirsol\t3\t4\n\
         Abdel_Madi_Shabneh\t1\tBarbra_Streisand\t2\nClare_Short\t4\tAbel_Pacheco\t2\n",
    )
    .unwrap();
    let out = ok(&[
        "verify",
        "--pairs",
        pairs.to_str().unwrap(),
        "--lfw",
        "fixtures/lfw-mini",
        "--out",
        dir.path().join("v").to_str().unwrap(),
    ]);
    assert!(out.contains("| unmasked |"), "{out}");
    // Unmasked, dlib's own threshold (0.6) separates every pair here.
    let csv = std::fs::read_to_string(dir.path().join("v/pairs.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 8);
    for r in &rows {
        let d: f64 = r[4].parse().unwrap();
        assert_eq!(d < 0.6, r[1] == "true", "{r:?}");
    }
    assert!(
        out.contains("| one image masked |") && out.contains("| both masked |"),
        "{out}"
    );
    assert!(
        out.contains("8 pairs of 15 images (0 without a detected face"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("v/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["rows"].as_array().unwrap().len(), 3);
    // A pairs file naming an image that is not there is an error naming it.
    std::fs::write(
        &pairs,
        "1\t1\nNobody\t1\t2\nAaron_Peirsol\t1\tAbel_Pacheco\t1\n",
    )
    .unwrap();
    let e = fails(&[
        "verify",
        "--pairs",
        pairs.to_str().unwrap(),
        "--lfw",
        "fixtures/lfw-mini",
    ]);
    assert!(e.contains("Nobody_0001.jpg"), "{e}");
}

/// Curates the fixture identities with at least 3 images into `{d}/c` and
/// splits them with `ratios` into `{d}/s`.
fn split_fixtures(d: &str, ratios: &str) {
    split_fixtures_with(d, 3, ratios);
}

/// `train --distill`: the targets' unmasked chips are found beside the
/// masked ones, the extra people get the mask family and their own
/// unmasked twins, and the report records it all. Without unmasked chips
/// the program says which manifest it looked for.
#[test]
fn train_with_distillation_and_the_mask_family() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let chips = masked_fixture_chips(d);
    let base = [
        "train",
        "--train",
        &chips,
        "--distill",
        "1",
        "--epochs",
        "1",
        "--lfw",
        "fixtures/lfw-mini",
        "--strangers",
        "1",
        "--extra-images",
        "2",
        "--extra-min-images",
        "1",
        "--extra-mask",
        "family",
    ];
    let err = fails(&[&base[..], &["--out", &format!("{d}/t0")]].concat());
    assert!(err.contains("m/unmasked_chip/manifest.csv"), "{err}");

    ok(&[
        "generate",
        "--manifest",
        &format!("{d}/s/manifest.csv"),
        "--out",
        &format!("{d}/m"),
        "--variants",
        "masked-chip,unmasked-chip",
        "--preview",
        "0",
        "--overwrite",
    ]);
    let out = ok(&[&base[..], &["--out", &format!("{d}/t")]].concat());
    assert!(out.contains("best epoch 1 of 1"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("t/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["distill_weight"], 1.0);
    assert_eq!(report["extra_mask"]["kind"], "family");
    assert!(report["unmasked"]
        .as_str()
        .unwrap()
        .ends_with("m/unmasked_chip/manifest.csv"));
    // Three of the five fixture people are targets, one is the stranger
    // kept out: one extra person is left.
    assert_eq!(report["extra_people"], 1);
    let extra = Manifest::read(&dir.path().join("t/extra/masked_chip/manifest.csv")).unwrap();
    let twins = Manifest::read(&dir.path().join("t/extra/unmasked_chip/manifest.csv")).unwrap();
    assert_eq!(extra.samples.len(), twins.samples.len());
}

/// `heldout` on the fixtures: Aaron Peirsol is the known person, so the
/// other four are "outside training"; with one enrollment photo, two of the
/// three with two or more photos are enrolled, the third is a stranger.
/// dlib's network ranks every masked probe right but, at its gallery
/// threshold, names none of them: the behaviour issue 14 reports on real
/// masked photos.
#[test]
fn heldout_enrolls_unmasked_and_identifies_masked() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok(&[
        "curate",
        "--lfw",
        "fixtures/lfw-mini",
        "--names",
        "Aaron_Peirsol",
        "--out",
        &format!("{d}/c"),
    ]);
    let out = ok(&[
        "heldout",
        "--lfw",
        "fixtures/lfw-mini",
        "--targets",
        &format!("{d}/c/manifest.csv"),
        "--strangers",
        "4",
        "--enroll-images",
        "1",
        "--out",
        &format!("{d}/o"),
    ]);
    assert!(
        out.contains("2 people enrolled from 1 unmasked photos each, 1 strangers"),
        "{out}"
    );
    let people: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/people.json")).unwrap())
            .unwrap();
    assert_eq!(people["enrolled"][0]["name"], "Barbra_Streisand");
    assert_eq!(people["enrolled"][1]["name"], "Clare_Short");
    assert_eq!(people["strangers"][0]["name"], "Abel_Pacheco");
    for mask in ["held-out", "family"] {
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("o/report-{mask}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(report["target_probes"], 5, "{mask}");
        assert_eq!(report["stranger_probes"], 3, "{mask}");
        assert_eq!(report["rank1"], 1.0, "{mask}");
        assert_eq!(report["threshold"].as_f64().unwrap() as f32, 0.97);
        assert_eq!(report["named_right"], 0.0, "{mask}");
        assert_eq!(report["strangers_accepted"], 0.0, "{mask}");
        assert_eq!(report["auroc"], 1.0, "{mask}");
        // One stranger: every resample draws that one, so no spread.
        assert_eq!(report["at_fpir_1_spread"]["draws"], 1000, "{mask}");
        assert_eq!(report["at_fpir_1_spread"]["std"], 0.0, "{mask}");
        // Fitted on the draw's one person outside the protocol.
        let found = report["found_masked"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&found), "{mask}: {found}");
    }
    let classifier = std::fs::read_to_string(dir.path().join("o/mask_classifier.json")).unwrap();
    assert!(
        classifier.contains("1 LFW faces outside training"),
        "{classifier}"
    );
    let held: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("o/report-held-out.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        held["mask"]["realistic"]["patterns"],
        serde_json::json!(["checks", "floral"])
    );
    let table = std::fs::read_to_string(dir.path().join("o/heldout.md")).unwrap();
    assert_eq!(table.lines().count(), 4, "{table}");
}

/// `verify` on a plain list of pairs, images compared as they are: one
/// condition, its threshold picked on the pairs themselves (said so), TAR
/// at FAR and EER; a malformed line and a photo without a face are errors
/// naming them.
#[test]
fn verify_any_pairs_as_they_are() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lfw = repo().join("fixtures/lfw-mini");
    let list = dir.path().join("pairs.tsv");
    let p = |who: &str, k: u32| {
        lfw.join(format!("{who}/{who}_{k:04}.jpg"))
            .display()
            .to_string()
    };
    std::fs::write(
        &list,
        format!(
            "# photo\tphoto\tlabel\n{}\t{}\tsame\n{}\t{}\t1\n{}\t{}\tdifferent\n{}\t{}\t0\n",
            p("Aaron_Peirsol", 1),
            p("Aaron_Peirsol", 2),
            p("Abel_Pacheco", 1),
            p("Abel_Pacheco", 3),
            p("Aaron_Peirsol", 3),
            p("Clare_Short", 1),
            p("Barbra_Streisand", 1),
            p("Abel_Pacheco", 4),
        ),
    )
    .unwrap();
    let out = ok(&[
        "verify",
        "--pairs",
        list.to_str().unwrap(),
        "--as-is",
        "--out",
        dir.path().join("v").to_str().unwrap(),
    ]);
    assert!(
        out.contains("| as is | 100.00% (threshold picked on these pairs) |"),
        "{out}"
    );
    assert!(out.contains("| 100.00% | 100.00% | 0.00% |"), "{out}");
    assert!(out.contains("no mask painted"), "{out}");
    let csv = std::fs::read_to_string(dir.path().join("v/pairs.csv")).unwrap();
    assert!(csv.starts_with("fold,same,a,b,as_is\n"), "{csv}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("v/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["rows"][0]["cross_validated"], false);
    assert_eq!(report["metric"], "euclidean");
    assert_eq!(report["rows"][0]["rates"]["eer"], 0.0);

    std::fs::write(&list, "a.jpg\tb.jpg\tperhaps\n").unwrap();
    let e = fails(&["verify", "--pairs", list.to_str().unwrap(), "--as-is"]);
    assert!(e.contains("pairs.tsv") && e.contains("`perhaps`"), "{e}");
    let blank = dir.path().join("blank.png");
    image::RgbImage::from_pixel(120, 120, image::Rgb([90, 90, 90]))
        .save(&blank)
        .unwrap();
    std::fs::write(
        &list,
        format!("blank.png\t{}\tsame\n", p("Aaron_Peirsol", 1)),
    )
    .unwrap();
    let e = fails(&["verify", "--pairs", list.to_str().unwrap(), "--as-is"]);
    assert!(e.contains("blank.png: no face found"), "{e}");
}

/// `heldout --install` puts fine-tuned weights in a models folder with the
/// threshold measured for them; a new gallery then uses them without being
/// told. Without an installed network, `enroll` says once that it falls
/// back to dlib's; `--dlib` asks for dlib's network outright.
#[test]
fn heldout_installs_the_network_new_galleries_use() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let chips = masked_fixture_chips(d);
    ok(&[
        "train",
        "--train",
        &chips,
        "--extra-images",
        "0",
        "--epochs",
        "1",
        "--out",
        &format!("{d}/t"),
    ]);
    // A models folder of links to the real files, nothing installed.
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    for f in [
        "pnet.pt",
        "rnet.pt",
        "onet.pt",
        "shape_predictor_68_face_landmarks.dat",
        "dlib_face_recognition_resnet_model_v1.dat",
    ] {
        std::os::unix::fs::symlink(repo().join("models").join(f), models.join(f)).unwrap();
    }
    let m = models.to_str().unwrap();
    let photo = |who: &str, k: u32| format!("fixtures/lfw-mini/{who}/{who}_{k:04}.jpg");
    let g1 = format!("{d}/g1.json");
    let out = maskface(&[
        "enroll",
        "--gallery",
        &g1,
        "--models",
        m,
        "--name",
        "Aaron",
        &photo("Aaron_Peirsol", 1),
    ]);
    assert!(out.status.success());
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("no mask-robust network") && note.contains("dlib's network"),
        "{note}"
    );
    let read = |g: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(g).unwrap()).unwrap()
    };
    assert_eq!(
        read(&g1)["embedder"],
        "dlib_face_recognition_resnet_model_v1.dat"
    );

    ok(&[
        "curate",
        "--lfw",
        "fixtures/lfw-mini",
        "--names",
        "Aaron_Peirsol",
        "--out",
        &format!("{d}/c1"),
    ]);
    let installed = ok(&[
        "heldout",
        "--lfw",
        "fixtures/lfw-mini",
        "--targets",
        &format!("{d}/c1/manifest.csv"),
        "--strangers",
        "4",
        "--enroll-images",
        "1",
        "--masks",
        "held-out",
        "--unmasked-probes",
        "--weights",
        &format!("{d}/t/embedder.bpk"),
        "--install",
        "--models",
        m,
        "--out",
        &format!("{d}/h"),
    ]);
    assert!(installed.contains("installed "), "{installed}");
    let calibration = read(models.join("maskface_embedder.json").to_str().unwrap());
    let threshold = calibration["threshold"].as_f64().unwrap();
    assert_eq!(calibration["fpir"], 0.01);
    assert!(calibration["protocol"]
        .as_str()
        .unwrap()
        .contains("`held-out` masks"));

    let g2 = format!("{d}/g2.json");
    let out = maskface(&[
        "enroll",
        "--gallery",
        &g2,
        "--models",
        m,
        "--name",
        "Aaron",
        &photo("Aaron_Peirsol", 1),
    ]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("no mask-robust"));
    let g = read(&g2);
    assert_eq!(
        g["embedder"].as_str().unwrap(),
        std::fs::canonicalize(models.join("maskface_embedder.bpk"))
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(g["threshold"].as_f64().unwrap() as f32, threshold as f32);
    // The threshold for unmasked faces, measured on the unmasked probes,
    // and the mask classifier that chooses between them.
    let unmasked = calibration["unmasked_threshold"].as_f64().unwrap();
    assert_eq!(
        g["unmasked_threshold"].as_f64().unwrap() as f32,
        unmasked as f32
    );
    assert!(models.join("mask_classifier.json").is_file());
    let answer = ok(&[
        "identify",
        "--gallery",
        &g2,
        "--models",
        m,
        "--json",
        &photo("Aaron_Peirsol", 2),
    ]);
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let face = &answer[0]["faces"][0];
    let masked = face["masked"].as_bool().unwrap();
    let p = face["mask_probability"].as_f64().unwrap();
    assert_eq!(masked, p >= 0.5, "{face}");
    let used = face["identification"]["threshold"].as_f64().unwrap() as f32;
    let want = if masked { threshold } else { unmasked } as f32;
    assert_eq!(used, want, "{face}");
    let g3 = format!("{d}/g3.json");
    ok(&[
        "enroll",
        "--gallery",
        &g3,
        "--models",
        m,
        "--dlib",
        "--name",
        "Aaron",
        &photo("Aaron_Peirsol", 1),
    ]);
    assert_eq!(
        read(&g3)["embedder"],
        "dlib_face_recognition_resnet_model_v1.dat"
    );
}

/// `train --model inception-resnet-v1`: the paper's recipe on the fixture
/// photos writes the best and the last epoch's models; `evaluate` scores
/// them with every file the paper shows; `openset` takes the model like
/// any other; a run asked for more epochs resumes; bad `--init` values
/// are refused with what to do.
#[test]
fn paper_network_trains_evaluates_and_faces_strangers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    split_fixtures_with(d, 4, "0.5,0.25,0.25");
    let manifest = format!("{d}/s/manifest.csv");
    let out = format!("{d}/t");
    let train = |epochs: &str| {
        ok(&[
            "train",
            "--model",
            "inception-resnet-v1",
            "--train",
            &manifest,
            "--epochs",
            epochs,
            "--batch-size",
            "4",
            "--out",
            &out,
        ])
    };
    let text = train("2");
    assert!(text.contains("training inception-resnet-v1 (160x160 input, from random weights) on 6 images of 3 people, validating on 3"), "{text}");
    assert!(text.contains("epoch 2: train loss"), "{text}");
    for f in [
        "model.json",
        "model-last.json",
        "best.bpk",
        "last.bpk",
        "last.ckpt",
        "metrics.csv",
        "loss.png",
        "report.json",
    ] {
        assert!(dir.path().join("t").join(f).is_file(), "{f}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("t/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["net"], "inception-resnet-v1");
    assert_eq!(report["config"]["head_only_epochs"], 0);
    assert_eq!(report["config"]["select_by"], "loss");
    assert!(report["seconds_per_epoch"].as_f64().unwrap() > 0.0);

    // Asked for a third epoch, it resumes after the second.
    train("3");
    let csv = std::fs::read_to_string(dir.path().join("t/metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");

    let text = ok(&[
        "evaluate",
        "--model",
        &format!("{out}/model-last.json"),
        "--manifest",
        &manifest,
    ]);
    assert!(
        text.contains("inception-resnet-v1 fine-tuned (epoch 3, 3 classes)"),
        "{text}"
    );
    let eval = dir.path().join("t/eval-test-last");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eval.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["images"], 3);
    let correct = report["correct"].as_u64().unwrap();
    let predictions = std::fs::read_to_string(eval.join("predictions.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 4);
    assert_eq!(
        predictions
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(5) == Some("1"))
            .count() as u64,
        correct
    );
    assert_eq!(
        std::fs::read_to_string(eval.join("per_class.csv"))
            .unwrap()
            .lines()
            .count(),
        4
    );
    for f in ["confusion.png", "loss.png", "evaluation.md"] {
        assert!(eval.join(f).is_file(), "{f}");
    }
    assert_eq!(eval.join("errors.png").is_file(), correct < 3);

    let table = ok(&[
        "openset",
        "--model",
        &format!("{out}/model.json"),
        "--targets",
        &manifest,
        "--lfw",
        "fixtures/lfw-mini",
        "--strangers",
        "4",
        "--scores",
        "confidence,max-logit",
        "--out",
        &format!("{d}/o"),
    ]);
    assert!(table.contains("3 target probes, 4 strangers"), "{table}");
    // The figures are the probes' (a network trained from random weights
    // moves with the CPU's float order, so no fixed value is held here).
    assert_openset_matches_probes(&dir.path().join("o"), 3, 4);

    let err = fails(&[
        "train",
        "--model",
        "resnet50",
        "--train",
        &manifest,
        "--init",
        "nowhere.pth",
    ]);
    assert!(err.contains("--init nowhere.pth: no such file"), "{err}");
    let err = fails(&[
        "train",
        "--model",
        "vgg16",
        "--train",
        &manifest,
        "--init",
        "distilled",
        "--models",
        d,
    ]);
    assert!(err.contains("maskface pretrain --model vgg16"), "{err}");
}

/// `pretrain`: people outside the targets, their masked upper faces
/// pulled onto dlib's embeddings of their unmasked chips; the installed
/// backbone is what `train --init distilled` starts from.
#[test]
fn pretrain_then_train_from_the_distilled_backbone() {
    if !have_models()
        || !repo()
            .join("models/dlib_face_recognition_resnet_model_v1.dat")
            .is_file()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    split_fixtures_with(d, 4, "0.5,0.25,0.25");
    let models = format!("{d}/models");
    std::fs::create_dir_all(&models).unwrap();
    for f in [
        "pnet.pt",
        "rnet.pt",
        "onet.pt",
        "shape_predictor_68_face_landmarks.dat",
        "dlib_face_recognition_resnet_model_v1.dat",
    ] {
        std::fs::copy(
            repo().join("models").join(f),
            dir.path().join("models").join(f),
        )
        .unwrap();
    }
    let text = ok(&[
        "pretrain",
        "--model",
        "inception-resnet-v1",
        "--targets",
        &format!("{d}/c/manifest.csv"),
        "--lfw",
        "fixtures/lfw-mini",
        "--min-images",
        "1",
        "--strangers",
        "0",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--models",
        &models,
        "--out",
        &format!("{d}/p"),
        "--install",
    ]);
    assert!(text.contains("of 2 people"), "{text}");
    assert!(dir
        .path()
        .join("models/inception-resnet-v1-distilled.bpk")
        .is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["people"], 2);
    assert_eq!(report["fit"]["history"].as_array().unwrap().len(), 1);
    let text = ok(&[
        "train",
        "--model",
        "inception-resnet-v1",
        "--train",
        &format!("{d}/s/manifest.csv"),
        "--init",
        "distilled",
        "--models",
        &models,
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--out",
        &format!("{d}/t"),
    ]);
    assert!(text.contains("inception-resnet-v1-distilled.bpk"), "{text}");
}
