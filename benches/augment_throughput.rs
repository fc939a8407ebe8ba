#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Augmentation throughput on 250x250 RGB LFW images.
//!
//! `cargo bench --bench augment_throughput`. Each figure is compared with a
//! reference run in the same session: imageproc's own bilinear rotation (the
//! obvious alternative in Rust); `scripts/bench_augment_pillow.py` times
//! Pillow, which torchvision's `RandomRotation` calls, on the same images.

use std::hint::black_box;

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::{rotate_about_center, Border, Interpolation};
use maskface::augment::{rotate, ColorJitter, Fill, Policy};
use rayon::prelude::*;

fn bench(c: &mut Criterion) {
    let faces = common::fixture_faces(0);
    assert!(!faces.is_empty(), "fixtures/lfw-mini has no readable image");
    let face = &faces[0];

    let mut single = c.benchmark_group("rotate_one_250x250");
    single.throughput(Throughput::Elements(1));
    single.bench_function("maskface::augment::rotate", |b| {
        b.iter(|| rotate(black_box(face), black_box(13.7), Fill::default()))
    });
    single.bench_function("reference/imageproc::rotate_about_center", |b| {
        b.iter(|| {
            rotate_about_center(
                black_box(face),
                black_box(13.7f32.to_radians()),
                Interpolation::Bilinear,
                Border::Constant(Rgb([0, 0, 0])),
            )
        })
    });
    single.finish();

    // The paper's policy over a batch, on two threads (the target machine's
    // core count): throughput in source images per second, 3 copies each.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
    let Ok(pool) = pool else { return };
    let batch: Vec<&RgbImage> = faces.iter().cycle().take(64).collect();
    let mut group = c.benchmark_group("policy_batch64_2threads");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.sample_size(20);
    for (name, policy) in [
        ("paper_3x_rotate", Policy::paper()),
        (
            "3x_rotate+color_jitter",
            Policy::paper().then(ColorJitter::new(0.3, 0.3, 0.3)),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                pool.install(|| {
                    batch
                        .par_iter()
                        .enumerate()
                        .map(|(i, img)| policy.apply(img, 42, &i.to_string()).len())
                        .sum::<usize>()
                })
            })
        });
    }
    group.bench_function("reference/imageproc_3x_rotate", |b| {
        b.iter(|| {
            pool.install(|| {
                batch
                    .par_iter()
                    .map(|img| {
                        (0..3)
                            .map(|k| {
                                rotate_about_center(
                                    img,
                                    (k as f32 * 7.0 - 7.0).to_radians(),
                                    Interpolation::Bilinear,
                                    Border::Constant(Rgb([0, 0, 0])),
                                )
                                .width()
                            })
                            .sum::<u32>()
                    })
                    .sum::<u32>()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
