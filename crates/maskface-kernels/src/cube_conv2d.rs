//! The fused convolution on burn's GPU backends: one CubeCL kernel, compiled
//! by cubecl for whichever runtime the device runs (wgpu's Vulkan, Metal or
//! DirectX, or CUDA).
//!
//! Why this operation: MTCNN, the detector every masking and recognition
//! job starts with, is a chain of convolution, bias and PReLU with few
//! channels (3 to 128) over many pyramid levels. burn runs each as a
//! channels-last matrix-product convolution and then two more kernels (the
//! bias is inside the product; PReLU is a comparison, a product and a
//! select), each reading and writing the whole feature map. Here one unit
//! computes one output value from the input window, adds the bias and
//! applies the slope before its only write. With few channels the window is
//! short, so a direct convolution has no product tiles to lose.

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Cube, TensorMetadata};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Shape};
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::{calculate_cube_count_elemwise, prelude::*};

use crate::burn_conv2d::{prelu_composed, shape_of, KernelBackend};

/// One output value per unit: the window's sum, the bias, the slope.
/// `x` is `[N, Cin, H, W]`, `weight` `[Cout, Cin, Kh, Kw]`, `out`
/// `[N, Cout, Oh, Ow]`, all contiguous; padding is symmetric.
#[cube(launch)]
fn conv2d_bias_prelu_kernel<F: Float>(
    x: &Tensor<F>,
    weight: &Tensor<F>,
    bias: &Tensor<F>,
    alpha: &Tensor<F>,
    out: &mut Tensor<F>,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    dilation_h: u32,
    dilation_w: u32,
    #[define(F)] _dtype: ElemType,
) {
    let pos = ABSOLUTE_POS;
    if pos >= out.len() {
        terminate!();
    }
    let out_w = out.shape(3);
    let out_h = out.shape(2);
    let out_c = out.shape(1);
    let ox = pos % out_w;
    let oy = (pos / out_w) % out_h;
    let co = (pos / (out_w * out_h)) % out_c;
    let n = pos / (out_w * out_h * out_c);

    let in_c = x.shape(1);
    let in_h = x.shape(2);
    let in_w = x.shape(3);
    let k_h = weight.shape(2);
    let k_w = weight.shape(3);
    let (sh, sw) = (stride_h as usize, stride_w as usize);
    let (ph, pw) = (pad_h as usize, pad_w as usize);
    let (dh, dw) = (dilation_h as usize, dilation_w as usize);

    let mut acc = bias[co];
    for ci in 0..in_c {
        let x_plane = (n * in_c + ci) * in_h * in_w;
        let w_plane = (co * in_c + ci) * k_h * k_w;
        for ky in 0..k_h {
            // Coordinates in the padded input, so nothing goes negative.
            let py = oy * sh + ky * dh;
            if py >= ph && py < in_h + ph {
                let x_row = x_plane + (py - ph) * in_w;
                let w_row = w_plane + ky * k_w;
                for kx in 0..k_w {
                    let px = ox * sw + kx * dw;
                    if px >= pw && px < in_w + pw {
                        acc += x[x_row + px - pw] * weight[w_row + kx];
                    }
                }
            }
        }
    }
    if acc < F::new(0.0) {
        acc *= alpha[co];
    }
    out[pos] = acc;
}

/// The fused kernel on a cube device; `None` where it does not apply
/// (groups, asymmetric padding, element types other than `f32`).
fn cube_conv2d_bias_prelu(
    x: &CubeTensor,
    weight: &CubeTensor,
    bias: &CubeTensor,
    alpha: &CubeTensor,
    options: &ConvOptions<2>,
) -> Option<CubeTensor> {
    let shape = shape_of(x, weight, options)?;
    if shape.groups != 1
        || x.dtype != DType::F32
        || weight.shape()[1] != shape.in_channels
        || bias.shape().num_elements() != shape.out_channels
        || alpha.shape().num_elements() != shape.out_channels
    {
        return None;
    }
    let [oh, ow] = shape.output().ok()?;
    let u = |v: usize| u32::try_from(v).ok();
    let (sh, sw) = (u(shape.stride[0])?, u(shape.stride[1])?);
    let (ph, pw) = (u(shape.padding[0])?, u(shape.padding[1])?);
    let (dh, dw) = (u(shape.dilation[0])?, u(shape.dilation[1])?);

    let client = x.client.clone();
    let dims = [shape.batch, shape.out_channels, oh, ow];
    let out = empty_device_dtype(client.clone(), x.device.clone(), Shape::new(dims), x.dtype);
    let count = dims.iter().product();
    if count == 0 {
        return Some(out);
    }
    let cube_dim = CubeDim::new(&client, count);
    let cube_count = calculate_cube_count_elemwise(&client, count, cube_dim);
    conv2d_bias_prelu_kernel::launch(
        &client,
        cube_count,
        cube_dim,
        into_contiguous(x.clone()).into_tensor_arg(),
        into_contiguous(weight.clone()).into_tensor_arg(),
        into_contiguous(bias.clone()).into_tensor_arg(),
        into_contiguous(alpha.clone()).into_tensor_arg(),
        out.clone().into_tensor_arg(),
        sh,
        sw,
        ph,
        pw,
        dh,
        dw,
        dtype_to_storage_type(x.dtype),
    );
    Some(out)
}

/// burn's convolution, and the fused kernel for convolution, bias and
/// PReLU.
impl KernelBackend for Cube {
    fn kernel_conv2d_bias_prelu(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        cube_conv2d_bias_prelu(&x, &weight, &bias, &alpha, &options).unwrap_or_else(|| {
            let y = <Cube as ModuleOps<Cube>>::conv2d(x, weight, Some(bias), options);
            prelu_composed::<Cube>(y, alpha)
        })
    }
}

/// Under autodiff on a cube device every operation is burn's own (its
/// backward passes come with them); the fused forward is for inference.
impl<C: CheckpointStrategy> KernelBackend for Autodiff<Cube, C> {}
