#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! 2-D convolution, forward and forward+backward, at the shapes the
//! project's networks run (`benches/conv_shapes.csv`: MTCNN's P-Net, dlib's
//! ResNet, ResNet50 and InceptionResnetV1): through `maskface-kernels`
//! (group `conv_*_maskface`) and on every burn backend this build enables:
//! `flex` always, `ndarray` and `wgpu` with the features of those names.
//!
//! `cargo bench --bench conv` (add `--features ndarray,wgpu` for the
//! others). Throughput is in floating-point operations: criterion's
//! "Gelem/s" reads as GFLOP/s. A multiply-add counts as two; the backward
//! pass computes the input's and the weights' gradients, twice the
//! forward's work, so forward+backward counts three forwards.
//!
//! `MASKFACE_CONV_BATCHES` (default `1,8,32`) and `MASKFACE_CONV_MODES`
//! (default `forward,backward`) narrow the run. The reference, the same
//! convolutions through ONNX Runtime, and the table of both against the
//! machine's peak: `benches/reference/conv_onnxruntime.py` and
//! `benches/reference/conv_table.py` (docs/benchmarks.md).

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use maskface::kernels::{conv2d_backward, conv2d_forward, Conv2dShape};
use maskface::nets::burn::tensor::module::conv2d;
use maskface::nets::burn::tensor::ops::ConvOptions;
use maskface::nets::burn::tensor::{Device, Distribution, Tensor};

/// One row of `benches/conv_shapes.csv`: its name and the convolution
/// for one image.
#[derive(Debug, Clone)]
struct Shape {
    name: String,
    conv: Conv2dShape,
}

impl Shape {
    /// The convolution over `batch` images.
    fn batch(&self, batch: usize) -> Conv2dShape {
        Conv2dShape { batch, ..self.conv }
    }
}

fn shapes() -> Vec<Shape> {
    let text = include_str!("conv_shapes.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let n = |i: usize| -> usize { f[i].trim().parse().unwrap() };
            Shape {
                name: f[0].to_string(),
                conv: Conv2dShape::new(1, n(1), [n(3), n(4)], n(2), [n(5), n(6)])
                    .with_stride([n(7); 2])
                    .with_padding([n(8), n(9)]),
            }
        })
        .collect()
}

/// Ten samples after half a second of warm-up, over two seconds: every
/// group alike.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn backends() -> Vec<(&'static str, Device)> {
    #[allow(unused_mut)]
    let mut all = vec![("flex", Device::flex())];
    // Deprecated in burn 0.22; kept as the comparison the project started from.
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    all.push(("ndarray", Device::ndarray()));
    #[cfg(feature = "wgpu")]
    all.push((
        "wgpu",
        Device::wgpu(maskface::nets::burn::tensor::DeviceKind::DefaultDevice),
    ));
    all
}

struct Operands {
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    options: ConvOptions<2>,
}

fn operands(s: &Conv2dShape, device: &Device) -> Operands {
    let normal = Distribution::Normal(0.0, 1.0);
    let [kh, kw] = s.kernel;
    Operands {
        x: Tensor::random([s.batch, s.in_channels, s.height, s.width], normal, device),
        weight: Tensor::random([s.out_channels, s.in_channels, kh, kw], normal, device),
        bias: Tensor::random([s.out_channels], normal, device),
        options: ConvOptions::new(s.stride, s.padding, s.dilation, s.groups),
    }
}

fn forward(ops: &Operands, device: &Device) {
    let y = conv2d(
        ops.x.clone(),
        ops.weight.clone(),
        Some(ops.bias.clone()),
        ops.options.clone(),
    );
    drop(y);
    device.sync().unwrap();
}

/// The gradients of the input and of the weights: `y.sum()` seeds the
/// output's gradient with ones, as a loss would with its own values.
fn forward_backward(ops: &Operands, device: &Device) {
    let x = ops.x.clone().require_grad();
    let weight = ops.weight.clone().require_grad();
    let bias = ops.bias.clone().require_grad();
    let y = conv2d(x.clone(), weight.clone(), Some(bias), ops.options.clone());
    let grads = y.sum().backward();
    drop((x.grad(&grads), weight.grad(&grads)));
    device.sync().unwrap();
}

/// The same convolution through `maskface-kernels` on host buffers (the
/// buffers made once, as a network's layers would hand them on).
fn bench_kernels(c: &mut Criterion, shapes: &[Shape], batches: &[usize], modes: &[String]) {
    for mode in modes {
        let mut group = c.benchmark_group(format!("conv_{mode}_maskface"));
        configure(&mut group);
        for s in shapes {
            for &batch in batches {
                let shape = s.batch(batch);
                let fill = |len: usize| -> Vec<f32> {
                    (0..len)
                        .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
                        .collect()
                };
                let x = fill(shape.input_len());
                let w = fill(shape.weight_len());
                let b = fill(shape.out_channels);
                let dy = fill(shape.output_len().unwrap());
                let flop = shape.forward_flop().unwrap();
                let id = BenchmarkId::new(&s.name, batch);
                if mode == "forward" {
                    group.throughput(Throughput::Elements(flop));
                    group.bench_function(id, |bench| {
                        bench.iter(|| conv2d_forward(&shape, &x, &w, Some(&b)).unwrap())
                    });
                } else {
                    // The forward pass too, as burn's forward+backward runs it.
                    group.throughput(Throughput::Elements(3 * flop));
                    group.bench_function(id, |bench| {
                        bench.iter(|| {
                            let y = conv2d_forward(&shape, &x, &w, Some(&b)).unwrap();
                            (y, conv2d_backward(&shape, &x, &w, &dy).unwrap())
                        })
                    });
                }
            }
        }
        group.finish();
    }
}

fn bench(c: &mut Criterion) {
    let batches: Vec<usize> = env_list("MASKFACE_CONV_BATCHES", "1,8,32")
        .iter()
        .map(|b| {
            b.parse()
                .expect("MASKFACE_CONV_BATCHES: comma-separated integers")
        })
        .collect();
    let modes = env_list("MASKFACE_CONV_MODES", "forward,backward");
    let shapes = shapes();
    bench_kernels(c, &shapes, &batches, &modes);
    for (backend, device) in backends() {
        for mode in &modes {
            let (device, factor) = match mode.as_str() {
                "forward" => (device.clone(), 1),
                "backward" => (device.clone().autodiff(), 3),
                other => panic!("MASKFACE_CONV_MODES: unknown mode {other}"),
            };
            let mut group = c.benchmark_group(format!("conv_{mode}_{backend}"));
            configure(&mut group);
            for s in &shapes {
                for &batch in &batches {
                    let shape = s.batch(batch);
                    let ops = operands(&shape, &device);
                    group.throughput(Throughput::Elements(factor * shape.forward_flop().unwrap()));
                    group.bench_with_input(BenchmarkId::new(&s.name, batch), &ops, |b, ops| {
                        match mode.as_str() {
                            "forward" => b.iter(|| forward(ops, &device)),
                            _ => b.iter(|| forward_backward(ops, &device)),
                        }
                    });
                }
            }
            group.finish();
        }
    }
}

// Criterion's charts need a system font, which the workspace's plotters
// build (ab_glyph, no font-kit) does not find: the table script reads the
// numbers instead.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
