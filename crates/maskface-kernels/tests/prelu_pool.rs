#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! PReLU and ceil-mode max pooling against their definitions, window by
//! window, on random shapes.

use maskface_kernels::{ceil_pool_len, max_pool2d_ceil, prelu, KernelError};
use proptest::prelude::*;

/// PyTorch's ceil-mode output length, from its definition: the smallest
/// count of windows covering the input, dropping a last one that would
/// start in the padding.
fn torch_len(len: usize, k: usize, s: usize) -> usize {
    let mut out = (len.saturating_sub(k)).div_ceil(s) + 1;
    if (out - 1) * s >= len {
        out -= 1;
    }
    out.max(1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn max_pool_takes_each_windows_maximum(
        n in 1usize..3, c in 1usize..4, h in 1usize..20, w in 1usize..20,
        (k, s) in prop_oneof![Just((2usize, 2usize)), Just((3, 2)), Just((3, 1)), Just((2, 1))],
        seed in any::<u64>(),
    ) {
        let values: Vec<f32> = (0..n * c * h * w)
            .map(|i| ((i as u64).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 - 500.0)
            .collect();
        let (out, dims) = max_pool2d_ceil(&values, [n, c, h, w], k, s).unwrap();
        let (oh, ow) = (torch_len(h, k, s), torch_len(w, k, s));
        prop_assert_eq!(dims, [n, c, oh, ow]);
        prop_assert_eq!((ceil_pool_len(h, k, s), ceil_pool_len(w, k, s)), (oh, ow));
        for p in 0..n * c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut m = f32::NEG_INFINITY;
                    for y in oy * s..(oy * s + k).min(h) {
                        for x in ox * s..(ox * s + k).min(w) {
                            m = m.max(values[(p * h + y) * w + x]);
                        }
                    }
                    prop_assert_eq!(out[(p * oh + oy) * ow + ox], m);
                }
            }
        }
    }

    #[test]
    fn prelu_scales_negatives_of_each_channel(
        n in 1usize..3, c in 1usize..5, plane in 1usize..30, seed in any::<u64>(),
    ) {
        let values: Vec<f32> = (0..n * c * plane)
            .map(|i| ((i as u64).wrapping_mul(40503).wrapping_add(seed) % 200) as f32 - 100.0)
            .collect();
        let alpha: Vec<f32> = (0..c).map(|i| 0.1 * (i + 1) as f32).collect();
        let mut out = values.clone();
        prelu(&mut out, c, plane, &alpha).unwrap();
        for (i, (&o, &v)) in out.iter().zip(&values).enumerate() {
            let a = alpha[(i / plane) % c];
            prop_assert_eq!(o, if v < 0.0 { v * a } else { v });
        }
    }
}

#[test]
fn wrong_lengths_are_errors() {
    let mut v = vec![0f32; 10];
    assert!(matches!(
        prelu(&mut v, 3, 3, &[0.1; 3]),
        Err(KernelError::Buffer {
            len: 10,
            expected: 18,
            ..
        })
    ));
    assert!(matches!(
        prelu(&mut v, 2, 5, &[0.1; 3]),
        Err(KernelError::Buffer {
            len: 3,
            expected: 2,
            ..
        })
    ));
    assert!(matches!(
        max_pool2d_ceil(&v, [1, 1, 3, 3], 2, 2),
        Err(KernelError::Buffer {
            len: 10,
            expected: 9,
            ..
        })
    ));
    assert!(max_pool2d_ceil(&v, [1, 1, 2, 5], 2, 0).is_err());
}

#[test]
fn a_window_wider_than_the_input_takes_what_there_is() {
    // 3x3 windows over a 1x2 image: one output, the maximum of both.
    let (out, dims) = max_pool2d_ceil(&[1.0, 2.0], [1, 1, 1, 2], 3, 2).unwrap();
    assert_eq!((out, dims), (vec![2.0], [1, 1, 1, 1]));
}
