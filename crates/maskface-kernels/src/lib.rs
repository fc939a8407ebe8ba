//! Kernels for maskface's networks: on the CPU, and in CubeCL for burn's GPU
//! backend (features `wgpu`, `cuda`).
//!
//! 2-D convolution on `f32` buffers in NCHW order, forward and backward
//! (the input's, the weights' and the bias's gradients), as im2col and one
//! packed, cache-blocked matrix product per image on the `gemm` crate (the
//! one burn's CPU backend uses; with this crate's `x86-v4` feature its
//! AVX-512 kernels are picked at run time, about 1.5x here).
//!
//! Why a kernel of our own: burn-flex 0.22.1 computes the weight gradient as
//! a convolution of the swapped input and output gradient, a matrix product
//! of a few columns over `batch x pixels` rows, and copies the input to
//! channels-last on one thread before every convolution. Here each image
//! is one product of the shape a GEMM is fast at, and images run on all
//! threads. `docs/benchmarks.md` has the figures (`cargo bench --bench conv`).
//!
//! With the `burn` feature (on by default) the convolution also runs under
//! burn's tensors, forward and backward: [`conv2d`] for
//! `burn::tensor::module::conv2d` and [`ForwardFast::forward_fast`] for
//! burn's `Conv2d::forward`, a backend extension ([`KernelBackend`]) on
//! burn's CPU backend with and without autodiff, burn's own convolution
//! elsewhere. [`conv2d_prelu`] (and [`ForwardFast::forward_prelu`]) fuses
//! the convolution, its bias and a per-channel PReLU: on the host kernels
//! for `flex` and, with the features `wgpu` or `cuda`, in one CubeCL kernel
//! on burn's GPU backend. [`prelu`] and [`max_pool2d_ceil`] are MTCNN's
//! steps after each convolution on host buffers.
//!
//! ```
//! use maskface_kernels::{conv2d_backward, conv2d_forward, Conv2dShape};
//!
//! let shape = Conv2dShape::new(2, 3, [8, 8], 4, [3, 3]).with_padding([1, 1]);
//! let x = vec![0.5f32; shape.input_len()];
//! let w = vec![0.1f32; shape.weight_len()];
//! let y = conv2d_forward(&shape, &x, &w, None).unwrap();
//! assert_eq!(y.len(), 2 * 4 * 8 * 8);
//! // The centre pixel sees all 27 inputs: 27 * 0.5 * 0.1.
//! assert!((y[4 * 8 + 4] - 1.35).abs() < 1e-6);
//! let grads = conv2d_backward(&shape, &x, &w, &vec![1.0; y.len()]).unwrap();
//! assert_eq!(grads.bias, vec![128.0; 4]);
//! ```
#![deny(missing_docs)]

#[cfg(feature = "burn")]
mod burn_conv2d;
mod conv2d;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod cube_conv2d;
mod matmul;
mod prelu_pool;

pub use prelu_pool::{ceil_pool_len, max_pool2d_ceil, prelu};

#[cfg(feature = "burn")]
pub use burn_conv2d::{
    conv2d, conv2d_prelu, conv_route, set_conv_route, ConvRoute, ForwardFast, KernelBackend,
};

pub use conv2d::{
    conv2d_backward, conv2d_bias_grad, conv2d_forward, conv2d_forward_serial, conv2d_input_grad,
    conv2d_weight_grad, Conv2dGrads, Conv2dShape,
};

/// What the kernels refuse.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The geometry of a convolution is impossible.
    #[error("convolution {shape:?}: {what}")]
    Shape {
        /// The convolution.
        shape: Box<Conv2dShape>,
        /// What is wrong with it.
        what: String,
    },
    /// A buffer's length does not match the convolution's shape.
    #[error("convolution {shape:?}: the {name} has {len} elements, the shape needs {expected}")]
    Length {
        /// The convolution.
        shape: Box<Conv2dShape>,
        /// Which buffer.
        name: &'static str,
        /// Its length.
        len: usize,
        /// The length the shape needs.
        expected: usize,
    },
    /// A buffer outside a convolution (PReLU, pooling) has the wrong length.
    #[error("the {name} has {len} elements, the shape needs {expected}")]
    Buffer {
        /// Which buffer.
        name: &'static str,
        /// Its length.
        len: usize,
        /// The length the shape needs.
        expected: usize,
    },
    /// A kernel's own bookkeeping failed (a bug: please report it).
    #[error("internal error: {0}")]
    Internal(String),
}
