#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! dlib's face-recognition ResNet in burn: 128-d embeddings of 32 aligned
//! 150x150 chips per batch, on two threads, and one chip alone; plus the
//! chip alignment itself.
//!
//! `cargo bench --bench embed_throughput` (needs models/ from
//! scripts/setup.sh). The reference, dlib's own `compute_face_descriptor`
//! on the same kind of chips and batch, is timed beside it by
//! `scripts/bench_dlib_face_descriptor.py`; ratios go into docs/benchmarks.md.

use std::path::Path;

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use maskface::core::{FaceEmbedder, LandmarkPredictor};
use maskface::mask::{face_chip, landmark_box, ChipParams, ShapePredictor};
use maskface::nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;

fn bench(c: &mut Criterion) {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let Ok(device) = Backend::Flex.device() else {
        return;
    };
    let (Ok(mtcnn), Ok(sp), Ok(net)) = (
        Mtcnn::from_dir(&models, MtcnnConfig::default(), &device),
        ShapePredictor::from_file(models.join("shape_predictor_68_face_landmarks.dat")),
        FaceEmbedderResNet::from_file(&models.join(DLIB_RESNET_FILE), &device),
    ) else {
        eprintln!("models/ not found: run scripts/setup.sh");
        return;
    };
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(2).build() else {
        return;
    };
    let images = common::fixture_faces(32);
    let points: Vec<_> = images
        .iter()
        .map(|img| {
            let dets = mtcnn
                .detect_images(std::slice::from_ref(img))
                .pop()
                .unwrap()
                .unwrap();
            let det = mtcnn.select(&dets, img.width(), img.height()).unwrap();
            LandmarkPredictor::predict(&sp, img, &landmark_box(det)).unwrap()
        })
        .collect();
    let chips: Vec<_> = images
        .iter()
        .zip(&points)
        .map(|(img, p)| face_chip(img, p.points(), &ChipParams::default()).unwrap())
        .collect();

    let mut group = c.benchmark_group("face_chip_150");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_face", |b| {
        b.iter(|| face_chip(&images[0], points[0].points(), &ChipParams::default()).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("face_resnet_embed");
    group.sample_size(10);
    group.throughput(Throughput::Elements(chips.len() as u64));
    group.bench_function("32_chips_2threads", |b| {
        b.iter(|| pool.install(|| net.embed(&chips).unwrap()))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("1_chip_2threads", |b| {
        b.iter(|| pool.install(|| net.embed(&chips[..1]).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
