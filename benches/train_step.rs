#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! One training step (forward, loss, backward) of each network on burn's CPU
//! backend, batch 8 at the network's input size, with the convolutions on
//! maskface-kernels and on burn's own, back to back in one run: the ratio
//! is the training speed-up the kernels give.
//!
//! `cargo bench --bench train_step`; `MASKFACE_TRAIN_NETS=resnet50` narrows
//! it (`dlib-resnet`, `resnet50`, `inception-resnet-v1`, `vgg16`; the
//! default is the first three). Throughput is in images.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use maskface::kernels::{set_conv_route, ConvRoute};
use maskface::nets::burn::tensor::{Device, Distribution, Tensor};
use maskface::nets::face_resnet::FaceResNetConfig;
use maskface::nets::inception_resnet_v1::InceptionResnetV1Config;
use maskface::nets::resnet::ResNetConfig;
use maskface::nets::vgg::VggConfig;

const BATCH: usize = 8;

/// A network's forward pass to the values the loss is taken of.
type Forward = Box<dyn Fn(Tensor<4>) -> Tensor<2>>;

fn network(name: &str, device: &Device) -> Option<(usize, Forward)> {
    Some(match name {
        "dlib-resnet" => {
            let net = FaceResNetConfig::new().init(device);
            (150, Box::new(move |x| net.forward(x)))
        }
        "resnet50" => {
            let net = ResNetConfig::resnet50(50).init(device);
            (224, Box::new(move |x| net.forward(x).logits.unwrap()))
        }
        "inception-resnet-v1" => {
            let net = InceptionResnetV1Config::new()
                .with_num_classes(Some(50))
                .init(device);
            (160, Box::new(move |x| net.forward(x).logits.unwrap()))
        }
        "vgg16" => {
            let net = VggConfig::vgg16(50).with_paper_surgery().init(device);
            (224, Box::new(move |x| net.forward(x).logits.unwrap()))
        }
        _ => return None,
    })
}

fn bench(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    let nets = std::env::var("MASKFACE_TRAIN_NETS")
        .unwrap_or_else(|_| "dlib-resnet,resnet50,inception-resnet-v1".to_string());
    for name in nets.split(',').map(str::trim) {
        let Some((size, forward)) = network(name, &device) else {
            eprintln!("unknown network {name}");
            continue;
        };
        let x = Tensor::<4>::random([BATCH, 3, size, size], Distribution::Default, &device);
        let mut group = c.benchmark_group(format!("train_step_{name}"));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(BATCH as u64));
        for (label, route) in [("burn", ConvRoute::Burn), ("kernels", ConvRoute::Kernels)] {
            group.bench_function(label, |b| {
                set_conv_route(route);
                b.iter(|| {
                    let y = forward(x.clone());
                    let grads = y.powi_scalar(2).mean().backward();
                    drop(grads);
                })
            });
        }
        group.finish();
    }
    set_conv_route(ConvRoute::Kernels);
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
