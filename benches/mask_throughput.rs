#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The masked-dataset pipeline on 250x250 LFW images: the 68-point landmark
//! model alone (ms per face), the masks, and the whole pipeline per image
//! (MTCNN, crop, landmarks, the paper's mask, upper cut, PNG encoding) on two
//! threads.
//!
//! `cargo bench --bench mask_throughput` (needs models/ from
//! scripts/setup.sh). The reference, the same work with dlib in Python (HOG
//! detector + 68 points + the paper's polygon), is timed beside it by
//! `scripts/bench_dlib_mask_pipeline.py`; ratios go into docs/benchmarks.md.

use std::path::Path;

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use maskface::core::{rng_for, LandmarkPredictor, MaskRenderer, OutputFormat};
use maskface::mask::{
    landmark_box, mask_face, GenerateOptions, PaperMask, RealisticMask, ShapePredictor, Variant,
};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;
use rayon::prelude::*;

fn bench(c: &mut Criterion) {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let Ok(device) = Backend::Flex.device() else {
        return;
    };
    let config = MtcnnConfig {
        min_face_size: 40,
        ..MtcnnConfig::default()
    };
    let (Ok(mtcnn), Ok(sp)) = (
        Mtcnn::from_dir(&models, config, &device),
        ShapePredictor::from_file(models.join("shape_predictor_68_face_landmarks.dat")),
    ) else {
        eprintln!("models/ not found: run scripts/setup.sh");
        return;
    };
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(2).build() else {
        return;
    };
    let images = common::fixture_faces(32);
    let detections: Vec<_> = mtcnn
        .detect_images(&images)
        .into_iter()
        .zip(&images)
        .map(|(d, img)| {
            let d = d.unwrap();
            mtcnn.select(&d, img.width(), img.height()).unwrap().clone()
        })
        .collect();
    let opts = GenerateOptions::default();

    let mut group = c.benchmark_group("landmarks_68");
    let boxes: Vec<_> = detections.iter().map(landmark_box).collect();
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_face_1thread", |b| {
        b.iter(|| LandmarkPredictor::predict(&sp, &images[0], &boxes[0]).unwrap())
    });
    group.throughput(Throughput::Elements(images.len() as u64));
    group.bench_function("32_faces_2threads", |b| {
        b.iter(|| {
            pool.install(|| {
                images
                    .par_iter()
                    .zip(&boxes)
                    .map(|(img, bx)| LandmarkPredictor::predict(&sp, img, bx).unwrap())
                    .count()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("mask_render_160");
    let steps = mask_face(
        &images[0],
        &detections[0],
        &sp,
        &PaperMask::default(),
        &opts,
        "k",
    )
    .unwrap();
    group.throughput(Throughput::Elements(1));
    group.bench_function("paper", |b| {
        b.iter(|| {
            PaperMask::default()
                .render(&steps.crop, &steps.landmarks, &mut rng_for(1, "b"))
                .unwrap()
        })
    });
    group.bench_function("realistic", |b| {
        b.iter(|| {
            RealisticMask::default()
                .render(&steps.crop, &steps.landmarks, &mut rng_for(1, "b"))
                .unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("mask_pipeline_250x250_2threads");
    group.sample_size(10);
    group.throughput(Throughput::Elements(images.len() as u64));
    let one_image = |img: &image::RgbImage, det: &maskface::core::Detection| {
        let s = mask_face(img, det, &sp, &PaperMask::default(), &opts, "k").unwrap();
        let upper = s.variant(Variant::MaskedUpper, opts.upper_size);
        OutputFormat::Png
            .encode(&upper, Path::new("bench.png"))
            .unwrap()
            .len()
    };
    group.bench_function("detect_landmarks_paper_mask_upper_png_32_images", |b| {
        b.iter(|| {
            pool.install(|| {
                let dets = mtcnn.detect_images(&images);
                images
                    .par_iter()
                    .zip(dets)
                    .map(|(img, d)| {
                        let d = d.unwrap();
                        one_image(img, mtcnn.select(&d, img.width(), img.height()).unwrap())
                    })
                    .sum::<usize>()
            })
        })
    });
    group.bench_function("without_detection_32_images", |b| {
        b.iter(|| {
            pool.install(|| {
                images
                    .par_iter()
                    .zip(&detections)
                    .map(|(img, d)| one_image(img, d))
                    .sum::<usize>()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
