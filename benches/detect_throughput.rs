#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! MTCNN detection throughput on 250x250 LFW images, two threads.
//!
//! `cargo bench --bench detect_throughput` (needs models/ from
//! scripts/setup.sh). The reference, dlib's HOG detector on the same images
//! and threads, is timed beside it by `scripts/bench_dlib_hog.py`; the ratio
//! goes into docs/benchmarks.md.

use std::path::Path;

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;

fn bench(c: &mut Criterion) {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let Ok(device) = Backend::Flex.device() else {
        return;
    };
    let Ok(mtcnn) = Mtcnn::from_dir(&models, MtcnnConfig::default(), &device) else {
        eprintln!("models/ not found: run scripts/setup.sh");
        return;
    };
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(2).build() else {
        return;
    };
    let images = common::fixture_faces(32);

    let mut group = c.benchmark_group("mtcnn_250x250_2threads");
    group.sample_size(10);
    group.throughput(Throughput::Elements(images.len() as u64));
    // dlib's HOG window is 80 px: upsampling once finds faces down to about
    // 40 px. MTCNN's minimum face size makes the comparable settings.
    for min_face in [20u32, 40, 80] {
        let config = MtcnnConfig {
            min_face_size: min_face,
            ..MtcnnConfig::default()
        };
        let Ok(m) = Mtcnn::from_dir(&models, config, &device) else {
            return;
        };
        group.bench_function(format!("detect_32_images_min_face_{min_face}"), |b| {
            b.iter(|| pool.install(|| m.detect_images(&images).len()))
        });
    }
    drop(mtcnn);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
