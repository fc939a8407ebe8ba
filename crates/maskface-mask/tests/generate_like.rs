//! `generate_like` puts new images through a finished run's pipeline: the
//! parameters read back from the run's manifest give the same images as the
//! run itself made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};

use maskface_core::{
    Detection, FaceBox, FaceDetector, LandmarkPredictor, Landmarks68, Manifest, Point2, Sample,
    Split,
};
use maskface_mask::{
    generate_dataset, generate_like, GenerateOptions, GenerationParams, MaskSpec, RealisticMask,
    Variant,
};

/// One face in the same place in every image (the fixture faces' box).
struct FixedBox;

impl FaceDetector for FixedBox {
    type Error = Infallible;

    fn detect(&self, _: &image::RgbImage) -> Result<Vec<Detection>, Infallible> {
        Ok(vec![Detection {
            bbox: FaceBox::new(20.0, 32.0, 127.0, 140.0, 0.99),
            landmarks: None,
        }])
    }
}

/// 68 points on a circle inside the box: enough to draw every mask.
struct Circle;

impl LandmarkPredictor for Circle {
    type Error = maskface_core::CoreError;

    fn predict(&self, _: &image::RgbImage, face: &FaceBox) -> Result<Landmarks68, Self::Error> {
        let (cx, cy) = ((face.x0 + face.x1) / 2.0, (face.y0 + face.y1) / 2.0);
        let r = 0.4 * (face.x1 - face.x0);
        Landmarks68::new(
            (0..68)
                .map(|i| {
                    let t = i as f32 / 68.0 * std::f32::consts::TAU;
                    Point2::new(cx + r * t.cos(), cy + r * t.sin())
                })
                .collect(),
        )
    }
}

fn input() -> Manifest {
    let mut m = Manifest::new(common::fixtures_parent());
    for (i, name) in [
        "aaron_peirsol_0001",
        "barbra_streisand_0001",
        "clare_short_0002",
    ]
    .iter()
    .enumerate()
    {
        m.samples.push(Sample::new(
            format!("fixtures/landmarks/{name}.png"),
            *name,
            i as u32,
            Split::Test,
        ));
    }
    m
}

#[test]
fn generate_like_repeats_a_recorded_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = input();
    let opts = GenerateOptions {
        variants: vec![Variant::MaskedFull, Variant::MaskedUpper],
        ..GenerateOptions::default()
    };
    let first = generate_dataset(
        &input,
        &FixedBox,
        &Circle,
        &RealisticMask::default(),
        &dir.path().join("first"),
        &opts,
        &|_| {},
    )
    .unwrap();
    assert_eq!(first.masked, 3);

    // A manifest that `generate` did not make records no parameters.
    assert_eq!(GenerationParams::from_manifest(&input).unwrap(), None);

    let recorded = &first.manifests[&Variant::MaskedUpper];
    let params = GenerationParams::from_manifest(recorded).unwrap().unwrap();
    assert_eq!(params.variant, Variant::MaskedUpper);
    assert_eq!(params.options.variants, vec![Variant::MaskedUpper]);
    assert_eq!(
        params.renderer(),
        MaskSpec::Realistic(RealisticMask::default())
    );

    let done = AtomicUsize::new(0);
    let out = dir.path().join("again");
    let made = generate_like(&params, &input, &FixedBox, &Circle, &out, false, &|n| {
        done.fetch_add(n, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(done.load(Ordering::Relaxed), 3);
    assert_eq!(made.path, out.join("masked_upper").join("manifest.csv"));
    assert_eq!(
        Manifest::read(&made.path).unwrap().samples,
        made.manifest.samples
    );
    assert!(!out.join("masked_full").exists());
    for (a, b) in recorded.samples.iter().zip(&made.manifest.samples) {
        assert_eq!(a.path, b.path);
        assert_eq!(
            std::fs::read(recorded.resolve(&a.path)).unwrap(),
            std::fs::read(made.manifest.resolve(&b.path)).unwrap(),
            "{}",
            a.path.display()
        );
    }
}
