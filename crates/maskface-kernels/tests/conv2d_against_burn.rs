#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every kernel against burn's own convolution on its CPU backend: the
//! output, and the input's, weights' and bias's gradients from burn's
//! autodiff, within 1e-4 relative to the largest value.

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use maskface_kernels::{conv2d_backward, conv2d_forward, Conv2dShape, KernelError};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

struct Reference {
    y: Vec<f32>,
    dx: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
}

/// burn's forward, and its gradients for the loss `sum(y * dy)`.
fn burn_reference(s: &Conv2dShape, x: &[f32], w: &[f32], b: &[f32], dy: &[f32]) -> Reference {
    let device = Device::flex().autodiff();
    let [oh, ow] = s.output().unwrap();
    let t4 = |v: &[f32], dims: [usize; 4]| {
        Tensor::<4>::from_data(TensorData::new(v.to_vec(), dims), &device)
    };
    let x = t4(x, [s.batch, s.in_channels, s.height, s.width]).require_grad();
    let w = t4(
        w,
        [
            s.out_channels,
            s.in_channels / s.groups,
            s.kernel[0],
            s.kernel[1],
        ],
    )
    .require_grad();
    let b = Tensor::<1>::from_data(TensorData::new(b.to_vec(), [s.out_channels]), &device)
        .require_grad();
    let dy = t4(dy, [s.batch, s.out_channels, oh, ow]);
    let options = ConvOptions::new(s.stride, s.padding, s.dilation, s.groups);
    let y = conv2d(x.clone(), w.clone(), Some(b.clone()), options);
    let grads = (y.clone() * dy).sum().backward();
    let vec = |t: Tensor<4>| t.try_into_vec_as::<f32>().unwrap();
    Reference {
        y: vec(y),
        dx: vec(x.grad(&grads).unwrap()),
        dw: vec(w.grad(&grads).unwrap()),
        db: b.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap(),
    }
}

fn assert_close(name: &str, ours: &[f32], reference: &[f32]) {
    assert_eq!(ours.len(), reference.len(), "{name}: lengths");
    let scale = reference.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale,
            "{name}[{i}]: {a} against burn's {b} (largest {scale})"
        );
    }
}

fn check(shape: Conv2dShape, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = random(shape.input_len(), &mut rng);
    let w = random(shape.weight_len(), &mut rng);
    let b = random(shape.out_channels, &mut rng);
    let dy = random(shape.output_len().unwrap(), &mut rng);
    let reference = burn_reference(&shape, &x, &w, &b, &dy);
    let y = conv2d_forward(&shape, &x, &w, Some(&b)).unwrap();
    assert_close("output", &y, &reference.y);
    let g = conv2d_backward(&shape, &x, &w, &dy).unwrap();
    assert_close("input gradient", &g.input, &reference.dx);
    assert_close("weight gradient", &g.weight, &reference.dw);
    assert_close("bias gradient", &g.bias, &reference.db);
}

#[test]
fn the_networks_kinds_of_convolution_match_burn() {
    // A 3x3 with padding (ResNet, dlib), odd sizes.
    check(
        Conv2dShape::new(3, 5, [9, 7], 6, [3, 3]).with_padding([1, 1]),
        1,
    );
    // A 7x7 stride 2 stem with padding 3 (ResNet50).
    check(
        Conv2dShape::new(2, 3, [23, 19], 4, [7, 7])
            .with_stride([2, 2])
            .with_padding([3, 3]),
        2,
    );
    // 1x1 (bottlenecks, IRv1's blocks): no unrolling.
    check(Conv2dShape::new(4, 16, [5, 6], 8, [1, 1]), 3);
    // 1x1 with stride 2 (ResNet's downsample): unrolled.
    check(
        Conv2dShape::new(2, 8, [7, 7], 4, [1, 1]).with_stride([2, 2]),
        4,
    );
    // 1x7 and 7x1 with one-sided padding (IRv1's block17).
    check(
        Conv2dShape::new(2, 4, [8, 8], 4, [1, 7]).with_padding([0, 3]),
        5,
    );
    check(
        Conv2dShape::new(2, 4, [8, 8], 4, [7, 1]).with_padding([3, 0]),
        6,
    );
    // Unpadded 3x3 at stride 1 (MTCNN) and stride 2 (IRv1's stem), batch 1.
    check(Conv2dShape::new(1, 3, [12, 13], 10, [3, 3]), 7);
    check(
        Conv2dShape::new(1, 3, [15, 16], 4, [3, 3]).with_stride([2, 2]),
        8,
    );
    // Groups and dilation.
    check(Conv2dShape::new(2, 6, [9, 9], 4, [3, 3]).with_groups(2), 9);
    check(
        Conv2dShape::new(2, 2, [11, 10], 3, [3, 3])
            .with_dilation([2, 2])
            .with_padding([2, 1]),
        10,
    );
    // Stride 2 with padding on rows only, the last padded row unused.
    check(
        Conv2dShape::new(2, 4, [10, 7], 5, [3, 3])
            .with_stride([2, 2])
            .with_padding([1, 0]),
        12,
    );
    // More images than threads and fewer: both schedules.
    check(
        Conv2dShape::new(9, 4, [6, 6], 5, [3, 3]).with_padding([1, 1]),
        11,
    );
}

#[test]
fn the_weight_gradient_repeats_bit_for_bit() {
    let shape = Conv2dShape::new(8, 16, [14, 14], 16, [3, 3]).with_padding([1, 1]);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = random(shape.input_len(), &mut rng);
    let w = random(shape.weight_len(), &mut rng);
    let dy = random(shape.output_len().unwrap(), &mut rng);
    let first = conv2d_backward(&shape, &x, &w, &dy).unwrap();
    for _ in 0..3 {
        assert_eq!(conv2d_backward(&shape, &x, &w, &dy).unwrap(), first);
    }
}

#[test]
fn impossible_shapes_and_wrong_lengths_are_errors() {
    let kernel_too_big = Conv2dShape::new(1, 1, [2, 2], 1, [3, 3]);
    assert!(matches!(
        conv2d_forward(&kernel_too_big, &[0.0; 4], &[0.0; 9], None),
        Err(KernelError::Shape { .. })
    ));
    let groups = Conv2dShape::new(1, 3, [4, 4], 2, [1, 1]).with_groups(2);
    assert!(matches!(groups.output(), Err(KernelError::Shape { .. })));
    let zero_stride = Conv2dShape::new(1, 1, [4, 4], 1, [1, 1]).with_stride([0, 1]);
    assert!(matches!(
        zero_stride.output(),
        Err(KernelError::Shape { .. })
    ));
    let ok = Conv2dShape::new(1, 1, [4, 4], 1, [3, 3]);
    let err = conv2d_forward(&ok, &[0.0; 15], &[0.0; 9], None).unwrap_err();
    assert!(
        matches!(
            err,
            KernelError::Length {
                name: "input",
                len: 15,
                expected: 16,
                ..
            }
        ),
        "{err}"
    );
    let err = conv2d_backward(&ok, &[0.0; 16], &[0.0; 9], &[0.0; 5]).unwrap_err();
    assert!(matches!(
        err,
        KernelError::Length {
            name: "output gradient",
            ..
        }
    ));
    // An empty batch gives empty outputs.
    let empty = Conv2dShape::new(0, 1, [4, 4], 1, [3, 3]);
    assert!(conv2d_forward(&empty, &[], &[0.0; 9], None)
        .unwrap()
        .is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn any_shape_matches_burn(
        batch in 1usize..4,
        groups in 1usize..3,
        icg in 1usize..4,
        ocg in 1usize..4,
        kh in 1usize..5,
        kw in 1usize..5,
        sh in 1usize..3,
        sw in 1usize..3,
        ph in 0usize..3,
        pw in 0usize..3,
        dh in 1usize..3,
        extra_h in 0usize..6,
        extra_w in 0usize..6,
        seed in any::<u64>(),
    ) {
        // Inputs at least as large as the dilated kernel.
        let h = dh * (kh - 1) + 1 + extra_h;
        let w = kw + extra_w;
        let shape = Conv2dShape::new(batch, groups * icg, [h, w], groups * ocg, [kh, kw])
            .with_stride([sh, sw])
            .with_padding([ph.min(kh - 1), pw.min(kw - 1)])
            .with_dilation([dh, 1])
            .with_groups(groups);
        check(shape, seed);
    }
}
