//! MTCNN on the committed fixtures (needs models/ from scripts/setup.sh):
//! faces found and centred, landmark order, colour types, batches, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use image::{DynamicImage, RgbImage};
use maskface_core::{load_rgb, FaceDetector};
use maskface_nets::mtcnn::{CropConfig, MtcnnConfig};
use maskface_nets::NetsError;

fn fixture_images() -> Vec<(String, RgbImage)> {
    let root = common::tests_dir().join("fixtures/lfw-mini");
    let mut out = Vec::new();
    let mut people: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    for person in people {
        let mut files: Vec<_> = std::fs::read_dir(&person)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            out.push((
                f.file_name().unwrap().to_string_lossy().into_owned(),
                load_rgb(&f).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn every_fixture_face_is_found_centred_with_ordered_landmarks() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let fixtures = fixture_images();
    assert_eq!(fixtures.len(), 16);
    let images: Vec<RgbImage> = fixtures.iter().map(|(_, i)| i.clone()).collect();
    let batched = mtcnn.detect_images(&images);
    for ((name, image), dets) in fixtures.iter().zip(batched) {
        let dets = dets.unwrap();
        let face = mtcnn
            .select(&dets, image.width(), image.height())
            .unwrap_or_else(|| panic!("{name}: no face"));
        let c = face.bbox.center();
        assert!(
            (c.x - 125.0).hypot(c.y - 125.0) < 35.0,
            "{name}: box centre {c:?}"
        );
        assert!(face.bbox.score > 0.9, "{name}: score {}", face.bbox.score);
        assert!(
            (60.0..200.0).contains(&face.bbox.width()),
            "{name}: width {}",
            face.bbox.width()
        );
        let l = face.landmarks.unwrap();
        assert!(l.left_eye().x < l.right_eye().x, "{name}: eyes");
        assert!(l.mouth_left().x < l.mouth_right().x, "{name}: mouth");
        let eyes_y = (l.left_eye().y + l.right_eye().y) / 2.0;
        let mouth_y = (l.mouth_left().y + l.mouth_right().y) / 2.0;
        assert!(
            eyes_y < l.nose().y && l.nose().y < mouth_y,
            "{name}: vertical order"
        );
        for p in l.0 {
            assert!(
                face.bbox.x0 <= p.x
                    && p.x <= face.bbox.x1
                    && face.bbox.y0 <= p.y
                    && p.y <= face.bbox.y1,
                "{name}: {p:?} outside the box"
            );
        }
        // Sorted by score, as FaceDetector promises.
        assert!(dets.windows(2).all(|w| w[0].bbox.score >= w[1].bbox.score));
    }
}

#[test]
fn batches_give_the_same_answer_as_single_images() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig {
        batch_size: 3,
        ..MtcnnConfig::default()
    }) else {
        return;
    };
    let images: Vec<RgbImage> = fixture_images()
        .into_iter()
        .take(5)
        .map(|(_, i)| i)
        .collect();
    let batched = mtcnn.detect_batch(&images);
    for (image, b) in images.iter().zip(batched) {
        let single = mtcnn.detect(image).unwrap();
        let b = b.unwrap();
        assert_eq!(single.len(), b.len());
        for (s, b) in single.iter().zip(&b) {
            assert!(
                (s.bbox.x0 - b.bbox.x0).abs() < 1e-2 && (s.bbox.y1 - b.bbox.y1).abs() < 1e-2,
                "{s:?} vs {b:?}"
            );
            assert!((s.bbox.score - b.bbox.score).abs() < 1e-4);
        }
    }
}

#[test]
fn grey_rgba_and_16_bit_inputs_are_converted() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let (_, rgb) = fixture_images().swap_remove(0);
    let reference = mtcnn.detect(&rgb).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let variants = [
        (
            "gray.png",
            DynamicImage::ImageRgb8(rgb.clone()).into_luma8().into(),
        ),
        (
            "rgba.png",
            DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(rgb.clone()).into_rgba8()),
        ),
        (
            "rgb16.png",
            DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(rgb.clone()).into_rgb16()),
        ),
    ];
    for (name, img) in variants {
        let path = dir.path().join(name);
        img.save(&path).unwrap();
        let loaded = load_rgb(&path).unwrap();
        let dets = mtcnn.detect(&loaded).unwrap();
        let best = mtcnn
            .select(&dets, 250, 250)
            .unwrap_or_else(|| panic!("{name}: no face"));
        let iou = best
            .bbox
            .iou(&mtcnn.select(&reference, 250, 250).unwrap().bbox);
        assert!(iou > 0.8, "{name}: IoU {iou}");
    }
}

#[test]
fn cmyk_jpeg_is_converted() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    // The fixture face Clare_Short_0002 saved by Pillow as a CMYK JPEG.
    let cmyk =
        load_rgb(&common::tests_dir().join("fixtures/colour/Clare_Short_0002_cmyk.jpg")).unwrap();
    let rgb =
        load_rgb(&common::tests_dir().join("fixtures/lfw-mini/Clare_Short/Clare_Short_0002.jpg"))
            .unwrap();
    assert_eq!(cmyk.dimensions(), rgb.dimensions());
    let mean_diff = cmyk
        .as_raw()
        .iter()
        .zip(rgb.as_raw())
        .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
        .sum::<i32>() as f64
        / rgb.as_raw().len() as f64;
    assert!(
        mean_diff < 20.0,
        "CMYK decoded far from the RGB original: {mean_diff}"
    );
    let a = mtcnn.detect(&cmyk).unwrap();
    let b = mtcnn.detect(&rgb).unwrap();
    let iou = mtcnn
        .select(&a, 250, 250)
        .unwrap()
        .bbox
        .iou(&mtcnn.select(&b, 250, 250).unwrap().bbox);
    assert!(iou > 0.8, "IoU {iou}");
}

#[test]
fn no_face_is_empty_too_small_is_an_error() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let grey = RgbImage::from_pixel(250, 250, image::Rgb([128, 128, 128]));
    assert!(mtcnn.detect(&grey).unwrap().is_empty());
    let crops = mtcnn.detect_and_crop(&[grey], &CropConfig::default());
    assert!(matches!(crops[0], Ok(None)));

    let tiny = RgbImage::new(15, 40);
    let err = mtcnn.detect(&tiny).unwrap_err();
    assert!(
        matches!(
            err,
            NetsError::ImageTooSmall {
                width: 15,
                height: 40,
                min_face: 20
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("15x40"));
    // Exactly the minimum face size is accepted.
    assert!(mtcnn.detect(&RgbImage::new(20, 20)).is_ok());
}

#[test]
fn detect_and_crop_cuts_the_face_with_the_margin() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let images: Vec<RgbImage> = fixture_images()
        .into_iter()
        .take(3)
        .map(|(_, i)| i)
        .collect();
    for crop in mtcnn.detect_and_crop(&images, &CropConfig::default()) {
        let crop = crop.unwrap().unwrap();
        assert_eq!(crop.crop.dimensions(), (160, 160));
        let [l, t, r, b] = crop.crop_box;
        let bb = crop.detection.bbox;
        // 15 px of 160 is margin: the crop is wider than the box by 15/145.
        let expected = bb.width() * (1.0 + 15.0 / 145.0);
        assert!(
            ((r - l) as f32 - expected).abs() <= 2.0 || l == 0 || r == 250,
            "{l} {r} {expected}"
        );
        assert!(
            l as f32 <= bb.x0
                && t as f32 <= bb.y0
                && r as f32 >= bb.x1.min(250.0) - 1.0
                && b as f32 >= bb.y1.min(250.0) - 1.0
        );
    }
}
