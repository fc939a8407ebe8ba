#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The fused convolution + bias + PReLU (`conv2d_prelu`) against burn's own
//! convolution followed by burn's PReLU on burn's CPU backend: outputs at
//! MTCNN's shapes and at odd ones (stride 2, padding, dilation, groups,
//! asymmetric padding, no bias), and, under autodiff, the gradients of the
//! input, weights, bias and slopes.
//!
//! With the feature `wgpu` or `cuda` the same cases run on burn's GPU backend, where
//! the fused operation is a CubeCL kernel (`scripts/test_gpu_kernels.sh`;
//! CI does not build wgpu's tests).

use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use maskface_kernels::conv2d_prelu;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One case: input `[n, c, h, w]`, `out` channels, a `k x k` kernel, the
/// options, whether there is a bias.
struct Case {
    x: [usize; 4],
    out: usize,
    k: usize,
    options: ConvOptions<2>,
    bias: bool,
}

fn cases() -> Vec<Case> {
    let o = |s: usize, p: usize, d: usize, g: usize| ConvOptions::new([s, s], [p, p], [d, d], g);
    vec![
        // MTCNN: P-Net's first layer on a pyramid level, R-Net's second,
        // O-Net's fourth (2x2).
        Case {
            x: [1, 3, 37, 29],
            out: 10,
            k: 3,
            options: o(1, 0, 1, 1),
            bias: true,
        },
        Case {
            x: [4, 28, 11, 11],
            out: 48,
            k: 3,
            options: o(1, 0, 1, 1),
            bias: true,
        },
        Case {
            x: [3, 64, 3, 3],
            out: 128,
            k: 2,
            options: o(1, 0, 1, 1),
            bias: true,
        },
        // Odd sizes, stride 2, padding, dilation, no bias.
        Case {
            x: [2, 5, 13, 8],
            out: 7,
            k: 3,
            options: o(2, 1, 1, 1),
            bias: true,
        },
        Case {
            x: [2, 4, 9, 12],
            out: 6,
            k: 3,
            options: o(1, 2, 2, 1),
            bias: false,
        },
        // Groups and asymmetric padding: burn's operations on every backend.
        Case {
            x: [2, 6, 8, 8],
            out: 4,
            k: 3,
            options: o(1, 1, 1, 2),
            bias: true,
        },
        Case {
            x: [1, 3, 7, 6],
            out: 5,
            k: 3,
            options: ConvOptions::new_with_padding([1, 1], [(0, 1), (1, 0)], [1, 1], 1),
            bias: true,
        },
    ]
}

/// The case's values: input, weights, bias, slopes (some negative, some
/// above 1, so a swapped branch shows).
fn values(case: &Case, seed: u64) -> [(Vec<f32>, Vec<usize>); 4] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |dims: Vec<usize>, lo: f32, hi: f32| {
        let n = dims.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
        (v, dims)
    };
    let in_per_group = case.x[1] / case.options.groups;
    [
        draw(case.x.to_vec(), -1.0, 1.0),
        draw(vec![case.out, in_per_group, case.k, case.k], -0.5, 0.5),
        draw(vec![case.out], -0.5, 0.5),
        draw(vec![case.out], -0.5, 1.5),
    ]
}

fn tensor<const D: usize>((v, dims): &(Vec<f32>, Vec<usize>), device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v.clone(), dims.clone()), device)
}

fn assert_close(name: &str, ours: Tensor<4>, reference: Tensor<4>) {
    assert_eq!(ours.dims(), reference.dims(), "{name}: shapes");
    let ours = ours.try_into_vec_as::<f32>().unwrap();
    let reference = reference.try_into_vec_as::<f32>().unwrap();
    let scale = reference.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    assert!(scale > 1e-3, "{name}: the reference is all but zero");
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale,
            "{name}[{i}]: {a} against burn's {b} (largest {scale})"
        );
    }
}

/// The fused operation on `device` (or burn's composition when `fused` is
/// false) and, with `grads`, the gradients of `sum(y * dy)` for the input,
/// weights, bias and slopes, all moved to burn's CPU backend.
fn run(case: &Case, device: &Device, fused: bool, grads: bool) -> Vec<Tensor<4>> {
    let [xv, wv, bv, av] = values(case, 7);
    let device = if grads {
        device.clone().autodiff()
    } else {
        device.clone()
    };
    let track = |t: Tensor<4>| if grads { t.require_grad() } else { t };
    let track1 = |t: Tensor<1>| if grads { t.require_grad() } else { t };
    let x = track(tensor::<4>(&xv, &device));
    let w = track(tensor::<4>(&wv, &device));
    let b = track1(tensor::<1>(&bv, &device));
    let a = track1(tensor::<1>(&av, &device));
    let bias = case.bias.then(|| b.clone());
    let y = if fused {
        conv2d_prelu(x.clone(), w.clone(), bias, a.clone(), case.options.clone())
    } else {
        let y = burn::tensor::module::conv2d(x.clone(), w.clone(), bias, case.options.clone());
        burn::tensor::activation::prelu(y, a.clone())
    };
    let cpu = Device::flex();
    if !grads {
        return vec![y.to_device(&cpu)];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let dy_values: Vec<f32> = (0..y.shape().num_elements())
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let dy = Tensor::<4>::from_data(TensorData::new(dy_values, y.dims()), &device);
    let g = (y.clone() * dy).sum().backward();
    let as4 = |t: Tensor<1>| {
        let n = t.dims()[0];
        t.reshape([1, 1, 1, n]).to_device(&cpu)
    };
    let mut out = vec![
        y.inner().to_device(&cpu),
        x.grad(&g).unwrap().to_device(&cpu),
        w.grad(&g).unwrap().to_device(&cpu),
        as4(a.grad(&g).unwrap()),
    ];
    if case.bias {
        out.push(as4(b.grad(&g).unwrap()));
    }
    out
}

/// Every case on `device` against burn's composition on the CPU backend.
fn check(device: &Device, grads: bool) {
    let names = [
        "output",
        "input gradient",
        "weight gradient",
        "slope gradient",
        "bias gradient",
    ];
    for (i, case) in cases().iter().enumerate() {
        let ours = run(case, device, true, grads);
        let reference = run(case, &Device::flex(), false, grads);
        assert_eq!(ours.len(), reference.len());
        for ((o, r), name) in ours.into_iter().zip(reference).zip(names) {
            assert_close(&format!("case {i} ({:?}) {name}", case.x), o, r);
        }
    }
}

#[test]
fn fused_forward_matches_burn_on_flex() {
    check(&Device::flex(), false);
}

#[test]
fn fused_gradients_match_burns_autodiff_on_flex() {
    check(&Device::flex(), true);
}

#[test]
fn fused_forward_is_the_kernels_plus_slope_bit_for_bit() {
    // On flex the fused operation is the kernels' convolution with the
    // slope applied to the same buffer: equal to `conv2d` then `prelu`
    // on host values, so a silent fall back to burn shows.
    let device = Device::flex();
    let case = &cases()[1];
    let [xv, wv, bv, av] = values(case, 7);
    let (x, w) = (tensor::<4>(&xv, &device), tensor::<4>(&wv, &device));
    let (b, a) = (tensor::<1>(&bv, &device), tensor::<1>(&av, &device));
    let fused = conv2d_prelu(
        x.clone(),
        w.clone(),
        Some(b.clone()),
        a,
        case.options.clone(),
    );
    let conv = maskface_kernels::conv2d(x, w, Some(b), case.options.clone());
    let [_, c, h, wd] = conv.dims();
    let mut expected = conv.try_into_vec_as::<f32>().unwrap();
    maskface_kernels::prelu(&mut expected, c, h * wd, &av.0).unwrap();
    assert_eq!(fused.try_into_vec_as::<f32>().unwrap(), expected);
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod gpu {
    use super::*;

    /// wgpu's default device with the feature `wgpu`, else CUDA's.
    fn device() -> Device {
        #[cfg(feature = "wgpu")]
        let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
        #[cfg(not(feature = "wgpu"))]
        let device = Device::cuda(burn::tensor::DeviceIndex::Default);
        device
    }

    #[test]
    fn fused_forward_matches_burn_on_the_gpu() {
        check(&device(), false);
    }

    #[test]
    fn gradients_on_the_gpu_match_burns_autodiff_on_flex() {
        check(&device(), true);
    }
}
