#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The kernels behind burn's tensors (`conv2d`, `ForwardFast`) against
//! burn's own convolution: outputs without autodiff, and the gradients burn's
//! autodiff hands to every parameter, with and without a bias, under both
//! checkpointing strategies, and where the kernels hand back to burn
//! (asymmetric padding).

use burn::backend::GradientCheckpointingStrategy;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use maskface_kernels::{conv2d, ForwardFast};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn assert_close(name: &str, ours: Tensor<4>, reference: Tensor<4>) {
    assert_eq!(ours.dims(), reference.dims(), "{name}: shapes");
    let ours = ours.try_into_vec_as::<f32>().unwrap();
    let reference = reference.try_into_vec_as::<f32>().unwrap();
    let scale = reference.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale,
            "{name}[{i}]: {a} against burn's {b} (largest {scale})"
        );
    }
}

/// Uniform values in [-1, 1) from `rng`: the tests run in parallel, and
/// burn's per-device generator would interleave their draws.
fn random<const D: usize>(dims: [usize; D], rng: &mut ChaCha8Rng, device: &Device) -> Tensor<D> {
    let n = dims.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}

#[test]
fn forward_matches_burn_without_autodiff() {
    let device = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = random([3, 6, 11, 9], &mut rng, &device);
    let w = random([8, 3, 3, 3], &mut rng, &device);
    let b = random([8], &mut rng, &device);
    for (stride, padding, dilation) in [([1, 1], [1, 1], [1, 1]), ([2, 2], [0, 1], [1, 2])] {
        let options = ConvOptions::new(stride, padding, dilation, 2);
        let ours = conv2d(x.clone(), w.clone(), Some(b.clone()), options.clone());
        let burns = burn::tensor::module::conv2d(x.clone(), w.clone(), Some(b.clone()), options);
        assert_close("output", ours, burns);
    }
}

/// Gradients of `sum(conv(x) * dy)` for x, the weights and the bias, the
/// convolution run by `run`.
fn gradients(
    strategy: GradientCheckpointingStrategy,
    bias: bool,
    options: &ConvOptions<2>,
    run: fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, ConvOptions<2>) -> Tensor<4>,
) -> Vec<Tensor<4>> {
    let device = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x = random([2, 4, 10, 7], &mut rng, &device)
        .with_gradient_checkpointing_strategy(strategy)
        .require_grad();
    let w = random([5, 4, 3, 3], &mut rng, &device)
        .with_gradient_checkpointing_strategy(strategy)
        .require_grad();
    let b = random([5], &mut rng, &device)
        .with_gradient_checkpointing_strategy(strategy)
        .require_grad();
    let y = run(
        x.clone(),
        w.clone(),
        bias.then(|| b.clone()),
        options.clone(),
    );
    let dy = random(y.dims(), &mut rng, &device).with_gradient_checkpointing_strategy(strategy);
    let grads = (y.clone() * dy).sum().backward();
    let mut out = vec![y.inner(), x.grad(&grads).unwrap(), w.grad(&grads).unwrap()];
    if bias {
        out.push(b.grad(&grads).unwrap().reshape([1, 1, 1, 5]));
    } else {
        assert!(b.grad(&grads).is_none(), "an unused bias got a gradient");
    }
    out
}

#[test]
fn gradients_match_burns_autodiff() {
    let names = [
        "output",
        "input gradient",
        "weight gradient",
        "bias gradient",
    ];
    for strategy in [
        GradientCheckpointingStrategy::Disabled,
        GradientCheckpointingStrategy::Balanced,
    ] {
        for bias in [true, false] {
            for options in [
                ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
                ConvOptions::new([2, 2], [1, 0], [1, 1], 1),
                // Asymmetric: the kernels hand the whole operation to burn.
                ConvOptions::new_with_padding([1, 1], [(0, 1), (1, 2)], [1, 1], 1),
            ] {
                let ours = gradients(strategy, bias, &options, conv2d);
                let burns = gradients(strategy, bias, &options, burn::tensor::module::conv2d);
                for ((o, r), name) in ours.into_iter().zip(burns).zip(names) {
                    assert_close(
                        &format!("{strategy:?} bias {bias} {options:?} {name}"),
                        o,
                        r,
                    );
                }
            }
        }
    }
}

#[test]
fn a_network_of_convolutions_trains_to_the_same_gradients() {
    // Two layers, the first one's output feeding the second: the input
    // gradient of the kernels' backward flows into the first layer's.
    let device = Device::flex().autodiff();
    let first: Conv2d = Conv2dConfig::new([3, 6], [3, 3])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&device);
    let second: Conv2d = Conv2dConfig::new([6, 4], [1, 1]).init(&device);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = random([2, 3, 13, 13], &mut rng, &device);
    let ours = second.forward_fast(first.forward_fast(x.clone()).tanh());
    let burns = second.forward(first.forward(x).tanh());
    let g_ours = ours.clone().powi_scalar(2).sum().backward();
    let g_burns = burns.clone().powi_scalar(2).sum().backward();
    assert_close("output", ours.inner(), burns.inner());
    let weight = |g| first.weight.val().grad(g).unwrap();
    assert_close("first weight gradient", weight(&g_ours), weight(&g_burns));
}

#[test]
fn same_padding_matches_burns_module() {
    let device = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Odd kernel at stride 1: symmetric, the kernels run. Even kernel, or
    // stride 2 on an even size: asymmetric, burn runs. Both must agree.
    for (kernel, stride, size) in [(3, 1, 9), (4, 1, 9), (3, 2, 10), (5, 2, 11)] {
        let conv: Conv2d = Conv2dConfig::new([2, 3], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        let x = random([1, 2, size, size], &mut rng, &device);
        assert_close(
            &format!("same padding k{kernel} s{stride} n{size}"),
            conv.forward_fast(x.clone()),
            conv.forward(x),
        );
    }
}

#[test]
fn the_kernels_run_under_burn_not_burns_fallback() {
    // Bit for bit equal to the host kernels, forward and backward, which
    // burn's own convolution (other summation order) is not.
    use maskface_kernels::{conv2d_forward, conv2d_input_grad, conv2d_weight_grad, Conv2dShape};
    let shape = Conv2dShape::new(2, 8, [9, 9], 6, [3, 3])
        .with_stride([2, 2])
        .with_padding([1, 1]);
    let options = ConvOptions::new(shape.stride, shape.padding, shape.dilation, 1);
    let device = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let x = random([2, 8, 9, 9], &mut rng, &device).require_grad();
    let w = random([6, 8, 3, 3], &mut rng, &device).require_grad();
    let y = conv2d(x.clone(), w.clone(), None, options);
    let dy = random(y.dims(), &mut rng, &device);
    let grads = (y.clone() * dy.clone()).sum().backward();
    let host = |t: Tensor<4>| t.inner().try_into_vec_as::<f32>().unwrap();
    let (xv, wv, dyv) = (host(x.clone()), host(w.clone()), host(dy));
    let by_burn = |t: Tensor<4>| t.try_into_vec_as::<f32>().unwrap();
    assert_eq!(host(y), conv2d_forward(&shape, &xv, &wv, None).unwrap());
    assert_eq!(
        by_burn(x.grad(&grads).unwrap()),
        conv2d_input_grad(&shape, &dyv, &wv).unwrap()
    );
    assert_eq!(
        by_burn(w.grad(&grads).unwrap()),
        conv2d_weight_grad(&shape, &xv, &dyv).unwrap()
    );
}
