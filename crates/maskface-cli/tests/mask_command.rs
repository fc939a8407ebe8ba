//! `maskface mask` on photo folders: every face masked, every file a row
//! in the report, MaskTheFace's options, labels, layouts and resume.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{fails, have_models, ok, repo, tree};

/// The report's rows by source: (faces, masked, skipped, reason, outputs).
fn report(out: &Path) -> BTreeMap<String, (usize, usize, usize, String, Vec<String>)> {
    let mut r = csv::Reader::from_path(out.join("report.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["source", "faces", "masked", "skipped", "reason", "outputs"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let outputs = rec[5]
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            (
                rec[0].to_string(),
                (
                    rec[1].parse().unwrap(),
                    rec[2].parse().unwrap(),
                    rec[3].parse().unwrap(),
                    rec[4].to_string(),
                    outputs,
                ),
            )
        })
        .collect()
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    (dir, out)
}

fn mask(args: &[&str]) -> String {
    let mut all = vec!["mask"];
    all.extend_from_slice(args);
    ok(&all)
}

fn labels(out: &Path, rel: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("labels").join(rel)).unwrap()).unwrap()
}

#[test]
fn a_photo_folder_every_face_masked_every_file_a_row() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let o = out.to_str().unwrap();
    let summary = mask(&[
        "fixtures/photos",
        "--out",
        o,
        "--labels",
        "--binary-masks",
        "--coco",
    ]);
    let rows = report(&out);
    assert_eq!(rows.len(), 6, "{rows:?}");
    let row = |k: &str| {
        rows.get(k)
            .unwrap_or_else(|| panic!("no row for {k}: {rows:?}"))
    };
    assert_eq!(row("group/three_people.jpg").0, 3);
    assert_eq!(row("group/three_people.jpg").1, 3);
    assert_eq!(row("portraits/one_face.jpg").1, 1);
    // The woman in the portrait and, half hidden behind her, another person.
    assert_eq!(row("portraits/clare_short.png").1, 2);
    assert_eq!(row("no_face.png").3, "no face found");
    assert!(
        row("notes.txt").3.starts_with("not an image"),
        "{:?}",
        row("notes.txt")
    );
    assert!(
        row("group/broken.jpg").3.starts_with("unreadable"),
        "{:?}",
        row("group/broken.jpg")
    );
    assert!(
        summary.contains("masked 6 faces in 3 of 6 files")
            && summary.contains("1 images without a face")
            && summary.contains("1 unreadable")
            && summary.contains("1 not images"),
        "{summary}"
    );

    // MaskTheFace's layout: <name>_<mask>.<ext>, in the input's folders,
    // in the input's format.
    assert_eq!(
        row("group/three_people.jpg").4,
        [
            "group/three_people_surgical.jpg",
            "labels/group/three_people_surgical.json",
            "masks/group/three_people_surgical.png"
        ]
    );
    let masked = image::open(out.join("group/three_people_surgical.jpg"))
        .unwrap()
        .to_rgb8();
    let original = image::open(repo().join("fixtures/photos/group/three_people.jpg"))
        .unwrap()
        .to_rgb8();
    assert_eq!(masked.dimensions(), original.dimensions());
    image::open(out.join("portraits/clare_short_surgical.png")).unwrap();
    assert!(!out.join("no_face_surgical.png").exists());

    // Labels: per face its box, 68 landmarks, polygon, style and fit; the
    // three faces are the three people, left to right in some order.
    let l = labels(&out, "group/three_people_surgical.json");
    let faces = l["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 3);
    let mut centres: Vec<f64> = faces
        .iter()
        .map(|f| {
            assert_eq!(f["landmarks"].as_array().unwrap().len(), 68);
            assert!(f["polygon"].as_array().unwrap().len() > 20);
            assert_eq!(f["mask"]["style"], "surgical");
            assert_eq!(f["mask"]["fit"], "proper");
            let b = &f["detection"]["bbox"];
            (b["x0"].as_f64().unwrap() + b["x1"].as_f64().unwrap()) / 2.0
        })
        .collect();
    centres.sort_by(f64::total_cmp);
    for (c, expected) in centres.iter().zip([100.0, 295.0, 490.0]) {
        assert!((c - expected).abs() < 40.0, "{centres:?}");
    }
    // The mask changed the pixels under it and only around the faces: the
    // grey background between the people is untouched.
    let bin = image::open(out.join("masks/group/three_people_surgical.png"))
        .unwrap()
        .to_luma8();
    let area: u64 = faces.iter().map(|f| f["area"].as_u64().unwrap()).sum();
    let white = bin.pixels().filter(|p| p[0] == 255).count() as u64;
    assert_eq!(white, area);
    assert!(area > 3 * 1500, "{area}");
    let (mut inside, mut n) = (0f64, 0f64);
    for (x, y, p) in bin.enumerate_pixels() {
        if p[0] == 255 {
            let (a, b) = (masked.get_pixel(x, y), original.get_pixel(x, y));
            inside += (0..3)
                .map(|i| (f64::from(a[i]) - f64::from(b[i])).abs())
                .sum::<f64>();
            n += 3.0;
        }
    }
    assert!(
        inside / n > 25.0,
        "mean change under the masks {}",
        inside / n
    );
    let gap = masked.get_pixel(195, 10);
    assert!(
        gap.0
            .iter()
            .zip([90u8, 110, 130])
            .all(|(a, b)| a.abs_diff(b) < 12),
        "{gap:?}"
    );

    // COCO: an image per output, an annotation per face.
    let coco: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("annotations.json")).unwrap()).unwrap();
    assert_eq!(coco["images"].as_array().unwrap().len(), 3);
    let ann = coco["annotations"].as_array().unwrap();
    assert_eq!(ann.len(), 6);
    let surgical = coco["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "surgical")
        .unwrap()["id"]
        .clone();
    assert!(ann.iter().all(
        |a| a["category_id"] == surgical && a["segmentation"][0].as_array().unwrap().len() > 40
    ));

    // Run again with the same parameters: nothing changes.
    let before = tree(&out);
    mask(&[
        "fixtures/photos",
        "--out",
        o,
        "--labels",
        "--binary-masks",
        "--coco",
    ]);
    assert_eq!(tree(&out), before);
    // Other parameters in the same folder stop, naming the parameter file.
    let err = fails(&["mask", "fixtures/photos", "--out", o, "--mask-type", "n95"]);
    assert!(err.contains("mask-params.json"), "{err}");
}

#[test]
fn every_mask_type_and_all_of_them() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let o = out.to_str().unwrap();
    let summary = mask(&[
        "fixtures/photos/portraits/one_face.jpg",
        "--out",
        o,
        "--mask-type",
        "all",
        "--labels",
    ]);
    assert!(
        summary.contains("masked 1 faces in 1 of 1 files"),
        "{summary}"
    );
    let kinds = [
        "surgical",
        "surgical_blue",
        "surgical_green",
        "n95",
        "kn95",
        "cloth",
        "gas",
        "paper",
    ];
    let mut images = Vec::new();
    for k in kinds {
        let l = labels(&out, &format!("one_face_{k}.json"));
        assert_eq!(l["faces"][0]["mask"]["choice"], k);
        images.push(std::fs::read(out.join(format!("one_face_{k}.jpg"))).unwrap());
    }
    let style =
        |k: &str| labels(&out, &format!("one_face_{k}.json"))["faces"][0]["mask"]["style"].clone();
    assert_eq!(style("n95"), "n95_cup");
    assert_eq!(style("kn95"), "kn95");
    assert_eq!(style("gas"), "gas");
    assert_eq!(style("paper"), "paper");
    assert_eq!(
        labels(&out, "one_face_surgical_blue.json")["faces"][0]["mask"]["color"],
        serde_json::json!([158, 202, 230])
    );
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            assert_ne!(
                images[i], images[j],
                "{} and {} are the same picture",
                kinds[i], kinds[j]
            );
        }
    }
    let err = fails(&[
        "mask",
        "fixtures/photos/portraits/one_face.jpg",
        "--out",
        o,
        "--mask-type",
        "scarf",
        "--overwrite",
    ]);
    assert!(err.contains("--mask-type `scarf`"), "{err}");
}

#[test]
fn colour_texture_and_their_weights() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let face = "fixtures/photos/portraits/one_face.jpg";
    let run = |name: &str, extra: &[&str]| {
        let o = out.join(name);
        let mut args = vec![
            face,
            "--out",
            o.to_str().unwrap(),
            "--labels",
            "--binary-masks",
            "--mask-type",
            "cloth",
        ];
        args.extend_from_slice(extra);
        mask(&args);
        let l = labels(&o, "one_face_cloth.json");
        let img = image::open(o.join("one_face_cloth.jpg")).unwrap().to_rgb8();
        let bin = image::open(o.join("masks/one_face_cloth.png"))
            .unwrap()
            .to_luma8();
        // Mean colour under the mask.
        let (mut sum, mut n) = ([0f64; 3], 0f64);
        for (x, y, p) in bin.enumerate_pixels() {
            if p[0] == 255 {
                let c = img.get_pixel(x, y);
                (0..3).for_each(|i| sum[i] += f64::from(c[i]));
                n += 1.0;
            }
        }
        (l["faces"][0]["mask"].clone(), sum.map(|s| s / n))
    };
    let (red, red_mean) = run("red", &["--color", "#ff0000", "--color-weight", "1"]);
    assert_eq!(red["color"], serde_json::json!([255, 0, 0]));
    assert!(
        red_mean[0] > 2.0 * red_mean[1] && red_mean[0] > 2.0 * red_mean[2],
        "{red_mean:?}"
    );
    let (half, _) = run("half", &["--color", "red", "--color-weight", "0.5"]);
    let (none, _) = run("none", &["--color", "red", "--color-weight", "0"]);
    let c = |v: &serde_json::Value, i: usize| v["color"][i].as_f64().unwrap();
    // At 0.5 the body colour lies halfway between the palette's and red.
    for i in 0..3 {
        let red_i = [200.0, 40.0, 48.0][i];
        assert!(
            (c(&half, i) - (c(&none, i) + red_i) / 2.0).abs() <= 1.0,
            "{half} {none}"
        );
    }
    let (tex, tex_mean) = run(
        "tex",
        &[
            "--pattern",
            "fixtures/textures/check.png",
            "--pattern-weight",
            "1",
        ],
    );
    assert_eq!(tex["texture"], "check.png");
    // Blue and white checks: the mask turns blue-grey whatever the cloth's colour.
    assert!(tex_mean[2] > tex_mean[0] + 20.0, "{tex_mean:?}");
    let err = fails(&[
        "mask",
        face,
        "--out",
        out.join("bad").to_str().unwrap(),
        "--color-weight",
        "2",
        "--color",
        "red",
    ]);
    assert!(err.contains("--color-weight 2"), "{err}");
    let err = fails(&[
        "mask",
        face,
        "--out",
        out.join("bad2").to_str().unwrap(),
        "--pattern",
        "no/such.png",
    ]);
    assert!(err.contains("no/such.png"), "{err}");
    let err = fails(&[
        "mask",
        face,
        "--out",
        out.join("bad3").to_str().unwrap(),
        "--color",
        "#12",
    ]);
    assert!(err.contains("#12"), "{err}");
}

#[test]
fn code_draws_per_face_and_a_seed_repeats_them() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let code = "cloth-#e54294, n95, kn95, gas, surgical_green, cloth-fixtures/textures/check.png";
    let run = |name: &str, seed: &str| {
        let o = out.join(name);
        let stdout = mask(&[
            "fixtures/photos",
            "--out",
            o.to_str().unwrap(),
            "--code",
            code,
            "--seed",
            seed,
            "--labels",
            "--verbose",
            "--fit",
            "worn",
        ]);
        (tree(&o), stdout)
    };
    let (a, stdout) = run("a", "7");
    let (b, _) = run("b", "7");
    let (c, _) = run("c", "8");
    let without_params = |m: &BTreeMap<String, Vec<u8>>| {
        m.iter()
            .filter(|(k, _)| k.as_str() != "mask-params.json")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        without_params(&a),
        without_params(&b),
        "the same seed, the same bytes"
    );
    assert_ne!(without_params(&a), without_params(&c));
    // --verbose: faces per image, then how often each mask was drawn.
    assert!(
        stdout.contains("group/three_people.jpg: 3 faces found, 3 masked"),
        "{stdout}"
    );
    let counted: usize = stdout
        .lines()
        .filter_map(|l| {
            l.strip_suffix(" faces")?
                .rsplit_once(": ")?
                .1
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(counted, 6, "{stdout}");
    // The group photo's name says `mixed` when its faces got different masks.
    let group: Vec<&String> = a
        .keys()
        .filter(|k| k.starts_with("group/three_people_"))
        .collect();
    assert_eq!(group.len(), 1, "{group:?}");
}

#[test]
fn where_the_mask_sits() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let face = "fixtures/photos/portraits/one_face.jpg";
    let mut tops = Vec::new();
    for fit in ["proper", "nose-out", "chin"] {
        let o = out.join(fit);
        mask(&[face, "--out", o.to_str().unwrap(), "--fit", fit, "--labels"]);
        let l = labels(&o, "one_face_surgical.json");
        let f = &l["faces"][0];
        assert_eq!(f["mask"]["fit"], fit.replace('-', "_"));
        let top = f["polygon"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["y"].as_f64().unwrap())
            .fold(f64::MAX, f64::min);
        let nose_tip = f["landmarks"][30]["y"].as_f64().unwrap();
        let mouth = f["landmarks"][62]["y"].as_f64().unwrap();
        tops.push((top, nose_tip, mouth));
    }
    let [(proper, tip, mouth), (nose_out, ..), (chin, ..)] = tops[..] else {
        unreachable!()
    };
    assert!(proper < tip, "proper: the mask covers the nose {tops:?}");
    assert!(
        nose_out > tip && nose_out < mouth,
        "nose out: between nose tip and mouth {tops:?}"
    );
    assert!(chin > mouth, "chin: below the mouth {tops:?}");
    let err = fails(&[
        "mask",
        face,
        "--out",
        out.join("x").to_str().unwrap(),
        "--fit",
        "sideways",
    ]);
    assert!(err.contains("sideways"), "{err}");
}

#[test]
fn layouts_originals_and_unmasked_copies() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let mirror = out.join("mirror");
    mask(&[
        "fixtures/photos",
        "--out",
        mirror.to_str().unwrap(),
        "--layout",
        "mirror",
        "--copy-unmasked",
    ]);
    let files = tree(&mirror);
    let src = |rel: &str| std::fs::read(repo().join("fixtures/photos").join(rel)).unwrap();
    // The input tree as it is: masked images under their own names, the
    // image without a face copied unchanged; nothing for the broken file.
    for rel in [
        "group/three_people.jpg",
        "portraits/one_face.jpg",
        "portraits/clare_short.png",
    ] {
        assert!(files.contains_key(rel), "{rel} missing: {:?}", files.keys());
        assert_ne!(files[rel], src(rel));
    }
    assert_eq!(files["no_face.png"], src("no_face.png"));
    assert!(!files.contains_key("group/broken.jpg"));

    let side = out.join("side");
    mask(&[
        "fixtures/photos/portraits",
        "--out",
        side.to_str().unwrap(),
        "--keep-original",
        "--format",
        "png",
    ]);
    let files = tree(&side);
    assert_eq!(files["one_face.jpg"], src("portraits/one_face.jpg"));
    assert!(files.contains_key("one_face_surgical.png"));

    // The default output folder: <input>_masked beside the input.
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(
        repo().join("fixtures/photos/portraits/one_face.jpg"),
        photos.join("me.jpg"),
    )
    .unwrap();
    mask(&[photos.to_str().unwrap()]);
    assert!(dir.path().join("photos_masked/me_surgical.jpg").is_file());
    assert!(dir.path().join("photos_masked/report.csv").is_file());
    let err = fails(&["mask", "fixtures/photos/portraits", "fixtures/photos/group"]);
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn hostile_files_each_get_a_row_not_a_crash() {
    if !have_models() {
        return;
    }
    let (_dir, out) = tmp();
    let summary = mask(&["fixtures/bad", "--out", out.to_str().unwrap()]);
    let rows = report(&out);
    let on_disk = std::fs::read_dir(repo().join("fixtures/bad"))
        .unwrap()
        .count();
    assert_eq!(rows.len(), on_disk, "{summary}");
    for (name, row) in &rows {
        assert!(
            row.1 > 0 || !row.3.is_empty(),
            "{name}: neither masked nor a reason {row:?}"
        );
    }
    assert!(
        rows["many_faces.jpg"].1 >= 4,
        "{:?}",
        rows["many_faces.jpg"]
    );
    assert!(
        rows["truncated_mid_scan.jpg"].3.starts_with("unreadable")
            || rows["truncated_mid_scan.jpg"].1 == 1
    );
    assert!(rows["notes.txt"].3.starts_with("not an image"));
    assert!(
        rows["huge_header.png"].3.starts_with("unreadable"),
        "{:?}",
        rows["huge_header.png"]
    );
}
