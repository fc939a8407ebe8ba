//! dlib's face-recognition ResNet, read and run without dlib, against the
//! real dlib's descriptors of the same chips
//! (`tests/fixtures/face_chips/dlib_face_reference.json`, recorded by
//! `scripts/record_dlib_face_descriptors.py`): every value within 1e-6
//! (measured: 3.3e-7 to 4.2e-7 at most on this project's machines).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface_core::{load_rgb, FaceEmbedder};
use maskface_nets::face_resnet::{DlibNet, FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use serde_json::Value;

fn model() -> Option<std::path::PathBuf> {
    let dir = common::models()?;
    Some(dir.join(DLIB_RESNET_FILE))
}

#[test]
fn descriptors_match_dlib() {
    let Some(path) = model() else {
        return;
    };
    let root = common::tests_dir();
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("fixtures/face_chips/dlib_face_reference.json"))
            .unwrap(),
    )
    .unwrap();
    let net = FaceEmbedderResNet::from_file(&path, &Backend::Flex.device().unwrap()).unwrap();
    let mut chips = Vec::new();
    let mut want: Vec<Vec<f64>> = Vec::new();
    for face in reference["faces"].as_array().unwrap() {
        for key in ["68", "5"] {
            chips.push(load_rgb(&root.join(face[format!("chip{key}")].as_str().unwrap())).unwrap());
            want.push(
                face[format!("descriptor{key}")]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect(),
            );
        }
    }
    assert_eq!(chips.len(), 10);
    let got = net.embed(&chips).unwrap();
    let mut worst = 0f64;
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.len(), 128);
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((f64::from(*a) - b).abs());
        }
    }
    eprintln!("largest difference from dlib's descriptors: {worst:.2e}");
    // Measured 3.3e-7 to 4.2e-7: float rounding only, dlib's convolutions and ours
    // add up their products in different orders (f32, 29 layers). The
    // order of ours also follows the CPU's SIMD width (gemm picks AVX2 or
    // AVX-512 kernels at run time), so another machine lands at the same
    // scale but not on the same bits: the bound leaves 2.4x over the worst
    // seen. A wrong
    // weight, layer or normalisation is off by 1e-2 or more.
    assert!(worst < 1e-6, "{worst}");
    // One chip alone gives the same as in the batch: each image is its
    // own product in the convolutions, so the sums run in the same order.
    let one = net.embed(&chips[3..4]).unwrap();
    let d = one[0]
        .iter()
        .zip(&got[3])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    eprintln!("one chip against the batch: {d:.2e}");
    assert!(d <= 1e-7, "{d}");
    // A chip of the wrong size is an error naming it.
    let small = image::RgbImage::new(100, 100);
    let e = net.embed(&[small]).unwrap_err().to_string();
    assert!(e.contains("100x100") && e.contains("150x150"), "{e}");

    // Mirror averaging: the mean of a chip's and its mirror image's embeddings.
    let flipped: Vec<_> = chips[..4]
        .iter()
        .map(image::imageops::flip_horizontal)
        .collect();
    let of_flipped = net.embed(&flipped).unwrap();
    let mut mirrored = net;
    mirrored.mirror = true;
    let averaged = mirrored.embed(&chips[..4]).unwrap();
    let mut worst = 0f32;
    for i in 0..4 {
        for k in 0..128 {
            let want = (got[i][k] + of_flipped[i][k]) / 2.0;
            worst = worst.max((averaged[i][k] - want).abs());
        }
        assert_ne!(got[i], averaged[i]);
    }
    eprintln!("mirror average against the mean of two runs: {worst:.2e}");
    assert!(worst <= 1e-7, "{worst}");
}

#[test]
fn truncated_or_foreign_files_are_errors() {
    let Some(path) = model() else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let net = DlibNet::from_bytes(&bytes).unwrap();
    assert_eq!(net.layers.len(), 108);
    assert_eq!(net.input_size, [150, 150]);
    assert_eq!(net.loss, [0.04, 0.6]);
    // Cut anywhere: inside the header, a tensor, a trailer, the last byte.
    for cut in [0, 1, 30, 300, 5_000, 11_000_000, bytes.len() - 1] {
        let e = DlibNet::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(e.offset <= cut, "{cut}: {e:?}");
    }
    // Bytes after the end.
    let mut longer = bytes.clone();
    longer.push(0);
    let e = DlibNet::from_bytes(&longer).unwrap_err();
    assert!(e.reason.contains("after the last layer"), "{e:?}");
    // Another dlib model (the landmark predictor) is refused, as is junk.
    let other = std::fs::read(path.with_file_name("shape_predictor_5_face_landmarks.dat")).unwrap();
    assert!(DlibNet::from_bytes(&other).is_err());
    assert!(DlibNet::from_bytes(b"not a model at all").is_err());
    // The file error names the file.
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.dat");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = FaceEmbedderResNet::from_file(&cut, &Backend::Flex.device().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cut.dat") && e.contains("at byte"), "{e}");
}
