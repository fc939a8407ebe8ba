//! Face chips against the real dlib's `get_face_chip(img, shape, 150, 0.25)`.
//!
//! `tests/fixtures/face_chips/dlib_face_reference.json` holds dlib's 68 and 5
//! points on lossless fixture faces (one enlarged 3x, so that dlib samples
//! from its image pyramid) and the chips dlib cut from them, recorded by
//! `scripts/record_dlib_face_descriptors.py`. From the same points our chip
//! must be dlib's, byte for byte (measured: 100% identical). No slack: the
//! chip is scalar float arithmetic, truncated as dlib truncates, with no
//! SIMD whose summation order could change between machines; only
//! `atan2` and `sin_cos` come from the system's libm, the same on CI's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface_core::{load_rgb, Point2};
use maskface_mask::{chip_details, face_chip, ChipParams};
use serde_json::Value;

fn points(v: &Value) -> Vec<Point2> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
        .collect()
}

#[test]
fn chips_match_dlib() {
    let root = common::fixtures_parent();
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("fixtures/face_chips/dlib_face_reference.json"))
            .unwrap(),
    )
    .unwrap();
    let faces = reference["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 5);
    for face in faces {
        let image = load_rgb(&root.join(face["image"].as_str().unwrap())).unwrap();
        for key in ["68", "5"] {
            let pts = points(&face[format!("points{key}")]);
            let ours = face_chip(&image, &pts, &ChipParams::default()).unwrap();
            let dlib = load_rgb(&root.join(face[format!("chip{key}")].as_str().unwrap())).unwrap();
            assert_eq!(ours.dimensions(), (150, 150));
            let diffs: Vec<u8> = ours
                .as_raw()
                .iter()
                .zip(dlib.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .collect();
            let within = diffs.iter().filter(|&&d| d <= 1).count() as f64 / diffs.len() as f64;
            let same = diffs.iter().filter(|&&d| d == 0).count() as f64 / diffs.len() as f64;
            let max = diffs.iter().max().copied().unwrap_or(0);
            let name = face["name"].as_str().unwrap();
            eprintln!(
                "{name} ({key} points): {:.3}% identical, {:.3}% within 1, max {max}",
                100.0 * same,
                100.0 * within
            );
            assert_eq!(max, 0, "{name} {key}: {:.3}% identical", 100.0 * same);
            assert_eq!(within, 1.0);
        }
    }
}

#[test]
fn chip_geometry_follows_the_face() {
    let root = common::fixtures_parent();
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("fixtures/face_chips/dlib_face_reference.json"))
            .unwrap(),
    )
    .unwrap();
    let face = &reference["faces"][3];
    let pts = points(&face["points68"]);
    let d = chip_details(&pts, &ChipParams::default()).unwrap();
    // Three times the image, three times the chip's footprint, same angle.
    let big: Vec<Point2> = points(&reference["faces"][4]["points68"]);
    let d3 = chip_details(&big, &ChipParams::default()).unwrap();
    assert!(
        (d3.scale() / d.scale() - 3.0).abs() < 0.05,
        "{} {}",
        d.scale(),
        d3.scale()
    );
    assert!((d3.angle - d.angle).abs() < 0.02);
    // Shifting the points shifts the rectangle; rotating them turns it.
    let moved: Vec<Point2> = pts
        .iter()
        .map(|p| Point2::new(p.x + 10.0, p.y - 4.0))
        .collect();
    let dm = chip_details(&moved, &ChipParams::default()).unwrap();
    assert!(
        (dm.rect[0] - d.rect[0] - 10.0).abs() < 1e-9 && (dm.rect[1] - d.rect[1] + 4.0).abs() < 1e-9
    );
    let (s, c) = 0.3f32.sin_cos();
    let turned: Vec<Point2> = pts
        .iter()
        .map(|p| Point2::new(c * p.x - s * p.y, s * p.x + c * p.y))
        .collect();
    let dt = chip_details(&turned, &ChipParams::default()).unwrap();
    assert!(
        (dt.angle - d.angle - 0.3).abs() < 1e-5,
        "{} {}",
        dt.angle,
        d.angle
    );
    // Bad input is an error, not a panic.
    assert!(chip_details(&pts[..10], &ChipParams::default()).is_err());
    let same = vec![Point2::new(5.0, 5.0); 68];
    assert!(chip_details(&same, &ChipParams::default()).is_err());
    let nan = vec![Point2::new(f32::NAN, 5.0); 5];
    assert!(chip_details(&nan, &ChipParams::default()).is_err());
}
