//! MTCNN on the authors' 1,702 LFW images (../shared): detection rate, the
//! chosen face is the labelled (centred) person, and the five landmarks
//! agree with dlib's 68-point model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface_core::{load_rgb, Landmarks68, Point2};
use maskface_dataset::read_seed_split;
use maskface_nets::mtcnn::{FaceSelection, MtcnnConfig};
use serde_json::Value;

#[test]
fn authors_images_faces_found_and_centred() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let manifest = read_seed_split(&shared.join("seed-split"), &shared.join("lfw")).unwrap();
    let paths: Vec<_> = manifest
        .samples
        .iter()
        .map(|s| manifest.resolve(&s.path))
        .collect();
    let selections = [
        ("largest", FaceSelection::Largest),
        ("probability", FaceSelection::Probability),
        (
            "center_weighted(2)",
            FaceSelection::CenterWeighted { weight: 2.0 },
        ),
    ];
    let (mut found, mut centred, mut missed) = (0usize, [0usize; 3], Vec::new());
    let mut worst_default = 0f32;
    for chunk in paths.chunks(32) {
        let images: Vec<_> = chunk.iter().map(|p| load_rgb(p).unwrap()).collect();
        for ((path, image), dets) in chunk.iter().zip(&images).zip(mtcnn.detect_images(&images)) {
            let dets = dets.unwrap();
            if dets.is_empty() {
                missed.push(path.clone());
                continue;
            }
            found += 1;
            for (k, (_, sel)) in selections.iter().enumerate() {
                let face = sel.pick(&dets, image.width(), image.height()).unwrap();
                let c = face.bbox.center();
                let (cx, cy) = (image.width() as f32 / 2.0, image.height() as f32 / 2.0);
                let offset = (c.x - cx).hypot(c.y - cy);
                if offset <= 25.0 {
                    centred[k] += 1;
                }
                if k == 2 {
                    worst_default = worst_default.max(offset);
                    // The default choice is always the most central box.
                    let nearest = dets
                        .iter()
                        .map(|d| {
                            let c = d.bbox.center();
                            (c.x - cx).hypot(c.y - cy)
                        })
                        .fold(f32::MAX, f32::min);
                    assert_eq!(offset, nearest, "{}", path.display());
                }
            }
        }
    }
    let n = paths.len() as f64;
    eprintln!("found {found}/{n}, missed {missed:?}");
    for (k, (name, _)) in selections.iter().enumerate() {
        eprintln!(
            "chosen face within 25 px of the centre, {name}: {}/{n}",
            centred[k]
        );
    }
    assert_eq!(paths.len(), 1702);
    assert!(found as f64 >= 0.995 * n, "face found in {found} of {n}");
    // The default selection (centre-weighted) must pick the labelled person.
    assert_eq!(MtcnnConfig::default().selection, selections[2].1);
    // Measured: 1,692 of 1,702 (99.4%). The other ten are turned heads whose
    // only (or nearest) box is the labelled person 25.2 to 32.1 px off centre.
    assert!(
        centred[2] as f64 >= 0.994 * n,
        "chosen face centred in {} of {n}",
        centred[2]
    );
    assert!(
        worst_default <= 35.0,
        "a chosen face is {worst_default} px off centre"
    );
}

/// dlib's HOG detector + 68 points on the authors' 196 test images, recorded
/// by scripts/record_dlib_landmarks.py: MTCNN's eyes and mouth corners must
/// lie within 10% of the inter-ocular distance (mean of the four points) of
/// dlib's eye centres (mean of 36..=41, 42..=47) and mouth corners (48, 54)
/// on at least 95% of the faces.
#[test]
fn landmarks_agree_with_dlib() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::tests_dir().join("fixtures/reference/dlib_hog68_seed_test.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let images = reference["images"].as_object().unwrap();
    let (mut compared, mut within, mut errors) = (0usize, 0usize, Vec::new());
    for (rel, entry) in images {
        if entry.is_null() {
            continue; // dlib found no face here
        }
        let points: Vec<Point2> = entry["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
            .collect();
        let dlib = Landmarks68::new(points).unwrap();
        let image = load_rgb(&shared.join("lfw").join(rel)).unwrap();
        let dets = mtcnn
            .detect_images(std::slice::from_ref(&image))
            .pop()
            .unwrap()
            .unwrap();
        let Some(face) = mtcnn.select(&dets, image.width(), image.height()) else {
            errors.push(f32::INFINITY);
            compared += 1;
            continue;
        };
        let l = face.landmarks.unwrap();
        let (le, re) = (dlib.left_eye(), dlib.right_eye());
        let iod = le.distance(&re);
        let pairs = [
            (l.left_eye(), le),
            (l.right_eye(), re),
            (l.mouth_left(), dlib.points()[48]),
            (l.mouth_right(), dlib.points()[54]),
        ];
        let err = pairs.iter().map(|(a, b)| a.distance(b)).sum::<f32>() / 4.0 / iod;
        errors.push(err);
        compared += 1;
        if err < 0.10 {
            within += 1;
        }
    }
    errors.sort_by(f32::total_cmp);
    eprintln!(
        "{within}/{compared} within 10% IOD; median {:.3}, 95th percentile {:.3}",
        errors[errors.len() / 2],
        errors[errors.len() * 95 / 100]
    );
    assert!(compared >= 190, "{compared} faces compared");
    assert!(
        within as f64 >= 0.95 * compared as f64,
        "{within} of {compared} within 10% IOD"
    );
}
