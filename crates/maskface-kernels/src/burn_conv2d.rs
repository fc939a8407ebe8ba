//! The kernels behind burn's tensors: a backend extension for burn's CPU
//! backend (`flex`), forward and, under autodiff, backward.
//!
//! burn's own `ModuleOps::conv2d` for `flex` cannot be replaced from outside
//! burn, so networks call [`conv2d`] or [`ForwardFast::forward_fast`] where
//! they called `burn::tensor::module::conv2d` or `Conv2d::forward`. On any
//! other backend (wgpu, cuda, ndarray), for asymmetric padding and for
//! element types other than `f32`, both hand the convolution to burn
//! unchanged, so a network gives the same result everywhere, only faster on
//! `flex`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex, TensorMetadata};
use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Device, Shape, Tensor, TensorData};
use std::sync::atomic::{AtomicU8, Ordering};

use crate::{conv2d_bias_grad, conv2d_forward, conv2d_input_grad, conv2d_weight_grad, Conv2dShape};

/// The convolution as a burn backend operation, implemented for `Flex` and
/// for `Autodiff<Flex, C>` (with its own backward pass), and with the
/// features `wgpu` or `cuda` for burn's GPU backend (`Cube`), where the
/// fused convolution, bias and PReLU is a CubeCL kernel. Call it through
/// [`conv2d`] and [`conv2d_prelu`], which route other backends to burn.
#[backend_extension(Flex, Autodiff, Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait KernelBackend: Backend {
    /// `burn::tensor::module::conv2d` on this crate's kernels, without a
    /// bias (burn's own convolution on backends without them).
    fn kernel_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, None, options)
    }

    /// `burn::tensor::module::conv2d` on this crate's kernels, with a bias
    /// (burn's extension macro takes no optional tensors, hence two).
    fn kernel_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options)
    }

    /// The convolution with a bias followed by a per-channel PReLU
    /// (`alpha` holds one slope per output channel), in one pass where a
    /// backend has the fused kernel: on host buffers for `Flex`, in CubeCL
    /// for `Cube`. Elsewhere (under autodiff) the convolution and burn's
    /// own tensor operations, so gradients flow through both.
    fn kernel_conv2d_bias_prelu(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let y = Self::kernel_conv2d_bias(x, weight, bias, options);
        prelu_composed::<Self>(y, alpha)
    }
}

/// PReLU over the channels (dimension 1) of `y` from burn's own operations:
/// `max(y, 0) + alpha * min(y, 0)`.
pub(crate) fn prelu_composed<B: Backend>(
    y: FloatTensor<B>,
    alpha: FloatTensor<B>,
) -> FloatTensor<B> {
    let dims = y.shape();
    let mut slope_shape = vec![1; dims.num_dims()];
    if let Some(c) = slope_shape.get_mut(1) {
        *c = alpha.shape().num_elements();
    }
    let slope = B::float_reshape(alpha, Shape::from(slope_shape));
    let positive = B::relu(y.clone());
    let negative = B::float_sub(y, positive.clone());
    B::float_add(positive, B::float_mul(negative, slope))
}

/// Which convolution [`conv2d`] runs on burn's CPU backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvRoute {
    /// This crate's kernels (the default).
    Kernels,
    /// burn's own convolution: for comparisons (before and after, in one
    /// process) and as an escape hatch.
    Burn,
}

/// 0: not chosen yet, 1: kernels, 2: burn.
static ROUTE: AtomicU8 = AtomicU8::new(0);

/// Chooses the convolution [`conv2d`] runs on burn's CPU backend, for the
/// whole process.
pub fn set_conv_route(route: ConvRoute) {
    ROUTE.store(
        match route {
            ConvRoute::Kernels => 1,
            ConvRoute::Burn => 2,
        },
        Ordering::Relaxed,
    );
}

/// The convolution [`conv2d`] runs on burn's CPU backend: the last
/// [`set_conv_route`], else `burn` when the environment variable
/// `MASKFACE_CONV` says `burn`, else the kernels.
pub fn conv_route() -> ConvRoute {
    match ROUTE.load(Ordering::Relaxed) {
        1 => ConvRoute::Kernels,
        2 => ConvRoute::Burn,
        _ => {
            let route = match std::env::var("MASKFACE_CONV") {
                Ok(v) if v.eq_ignore_ascii_case("burn") => ConvRoute::Burn,
                _ => ConvRoute::Kernels,
            };
            set_conv_route(route);
            route
        }
    }
}

/// A 2-D convolution, as `burn::tensor::module::conv2d`: on this crate's
/// kernels when `x` lives on burn's CPU backend (with or without autodiff),
/// on burn's own convolution otherwise or when [`conv_route`] says so.
///
/// ```
/// use burn::tensor::{ops::ConvOptions, Device, Tensor};
///
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 2, 4, 4], &device);
/// let w = Tensor::<4>::ones([3, 2, 3, 3], &device);
/// let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
/// let y = maskface_kernels::conv2d(x, w, None, options);
/// assert_eq!(y.dims(), [1, 3, 4, 4]);
/// // A corner sees 2 channels x 2 x 2 ones.
/// let corner: f32 = y.slice([0..1, 0..1, 0..1, 0..1]).into_scalar();
/// assert_eq!(corner, 8.0);
/// ```
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if x.device() != Device::flex() || conv_route() == ConvRoute::Burn {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    }
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(match bias {
        Some(b) => {
            <Dispatch as KernelBackend>::kernel_conv2d_bias(x, weight, b.into_dispatch(), options)
        }
        None => <Dispatch as KernelBackend>::kernel_conv2d(x, weight, options),
    })
}

/// Whether `device` belongs to burn's GPU backend (`Cube`) and this build
/// has the fused kernel for it.
fn on_cube(device: &Device) -> bool {
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    {
        matches!(
            device.as_dispatch().clone().inner(),
            burn::backend::DispatchDevice::Cube(_)
        )
    }
    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    {
        let _ = device;
        false
    }
}

/// A 2-D convolution followed by a per-channel PReLU (`alpha`: one slope
/// per output channel), as `activation::prelu(module::conv2d(..), alpha)`:
/// one fused pass on burn's CPU backend (this crate's kernels, then the
/// slope on the same buffer) and, with the features `wgpu` or `cuda`, on
/// burn's GPU backend (a CubeCL kernel); burn's own operations elsewhere.
///
/// ```
/// use burn::tensor::{ops::ConvOptions, Device, Tensor};
///
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 1, 3, 3], &device);
/// let w = Tensor::<4>::ones([2, 1, 1, 1], &device);
/// let b = Tensor::<1>::from_floats([-3.0, 1.0], &device);
/// let alpha = Tensor::<1>::from_floats([0.25, 0.25], &device);
/// let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
/// let y = maskface_kernels::conv2d_prelu(x, w, Some(b), alpha, options);
/// // Channel 0: 1 - 3 = -2, times the slope; channel 1: 1 + 1 = 2.
/// let v: Vec<f32> = y.into_data().to_vec().unwrap();
/// assert_eq!(&v[..1], &[-0.5]);
/// assert_eq!(&v[9..10], &[2.0]);
/// ```
pub fn conv2d_prelu(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    alpha: Tensor<1>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let device = x.device();
    let fused =
        (device == Device::flex() && conv_route() == ConvRoute::Kernels) || on_cube(&device);
    if !fused {
        let y = burn::tensor::module::conv2d(x, weight, bias, options);
        return burn::tensor::activation::prelu(y, alpha);
    }
    let bias = bias.unwrap_or_else(|| Tensor::zeros([weight.dims()[0]], &device));
    Tensor::from_dispatch(<Dispatch as KernelBackend>::kernel_conv2d_bias_prelu(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        alpha.into_dispatch(),
        options,
    ))
}

/// `forward` on this crate's kernels for burn's convolution module.
pub trait ForwardFast {
    /// The module's `forward`, through [`conv2d`].
    fn forward_fast(&self, x: Tensor<4>) -> Tensor<4>;

    /// The module's `forward` followed by a per-channel PReLU with the
    /// slopes `alpha` (burn's `PRelu` module keeps them in `alpha`), fused
    /// where [`conv2d_prelu`] can.
    fn forward_prelu(&self, x: Tensor<4>, alpha: Tensor<1>) -> Tensor<4>;
}

impl ForwardFast for Conv2d {
    /// ```
    /// use burn::nn::conv::Conv2dConfig;
    /// use burn::nn::PaddingConfig2d;
    /// use burn::tensor::{Device, Tensor};
    /// use maskface_kernels::ForwardFast;
    ///
    /// let device = Device::flex();
    /// let conv = Conv2dConfig::new([3, 8], [3, 3])
    ///     .with_padding(PaddingConfig2d::Same)
    ///     .init(&device);
    /// let x = Tensor::<4>::random([2, 3, 9, 9], burn::tensor::Distribution::Default, &device);
    /// let ours = conv.forward_fast(x.clone());
    /// let burns = conv.forward(x);
    /// ours.into_data().assert_approx_eq::<f32>(&burns.into_data(), Default::default());
    /// ```
    fn forward_fast(&self, x: Tensor<4>) -> Tensor<4> {
        let options = conv_options(self, &x);
        conv2d(
            x,
            self.weight.val(),
            self.bias.as_ref().map(|b| b.val()),
            options,
        )
    }

    fn forward_prelu(&self, x: Tensor<4>, alpha: Tensor<1>) -> Tensor<4> {
        let options = conv_options(self, &x);
        conv2d_prelu(
            x,
            self.weight.val(),
            self.bias.as_ref().map(|b| b.val()),
            alpha,
            options,
        )
    }
}

/// The options of `conv` on `x`, with burn's padding rule.
fn conv_options(conv: &Conv2d, x: &Tensor<4>) -> ConvOptions<2> {
    let [_, _, height, width] = x.dims();
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [(0, 0); 2],
        PaddingConfig2d::Same => [
            same_padding(height, conv.kernel_size[0], conv.stride[0]),
            same_padding(width, conv.kernel_size[1], conv.stride[1]),
        ],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
    };
    ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, conv.groups)
}

/// burn's (and ONNX's) "same" padding along one axis of `len`: enough for
/// `ceil(len / stride)` outputs, the odd pixel at the end.
fn same_padding(len: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let outputs = len.div_ceil(stride.max(1));
    let total = match outputs {
        0 => 0,
        n => ((n - 1) * stride + kernel).saturating_sub(len),
    };
    (total / 2, total - total / 2)
}

/// The kernels' description of a convolution of `x` by `weight` (on any
/// backend); `None` when they do not cover it (asymmetric padding).
pub(crate) fn shape_of(
    x: &impl TensorMetadata,
    weight: &impl TensorMetadata,
    options: &ConvOptions<2>,
) -> Option<Conv2dShape> {
    let xs = x.shape();
    let ws = weight.shape();
    if xs.num_dims() != 4 || ws.num_dims() != 4 || options.is_asymmetric() {
        return None;
    }
    Some(
        Conv2dShape::new(xs[0], xs[1], [xs[2], xs[3]], ws[0], [ws[2], ws[3]])
            .with_stride(options.stride)
            .with_padding(options.padding_begin())
            .with_dilation(options.dilation)
            .with_groups(options.groups),
    )
}

/// `f(values)` on `t`'s `f32` values in row-major order, copying only when
/// `t` is a strided view; `None` for other element types.
fn with_values<R>(t: &FlexTensor, f: impl FnOnce(&[f32]) -> Option<R>) -> Option<R> {
    match t.as_slice::<f32>() {
        Some(values) => f(values),
        None => f(t.to_contiguous().as_slice::<f32>()?),
    }
}

fn flex_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}

/// The kernels' output values and their `[N, C, H, W]` dimensions.
fn forward_host_values(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    options: &ConvOptions<2>,
) -> Option<(Vec<f32>, [usize; 4])> {
    let shape = shape_of(x, weight, options)?;
    let [oh, ow] = shape.output().ok()?;
    let y = with_both(x, weight, |xv, wv| match bias {
        Some(b) => with_values(b, |bv| conv2d_forward(&shape, xv, wv, Some(bv)).ok()),
        None => conv2d_forward(&shape, xv, wv, None).ok(),
    })?;
    Some((y, [shape.batch, shape.out_channels, oh, ow]))
}

fn forward_host(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    options: &ConvOptions<2>,
) -> Option<FlexTensor> {
    forward_host_values(x, weight, bias, options).map(|(y, dims)| flex_tensor(y, &dims))
}

fn flex_conv2d(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: ConvOptions<2>,
) -> FlexTensor {
    forward_host(&x, &weight, bias.as_ref(), &options)
        .unwrap_or_else(|| <Flex as ModuleOps<Flex>>::conv2d(x, weight, bias, options))
}

impl KernelBackend for Flex {
    fn kernel_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        flex_conv2d(x, weight, None, options)
    }

    fn kernel_conv2d_bias(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        flex_conv2d(x, weight, Some(bias), options)
    }

    fn kernel_conv2d_bias_prelu(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        alpha: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        let fused =
            forward_host_values(&x, &weight, Some(&bias), &options).and_then(|(mut y, dims)| {
                with_values(&alpha, |a| {
                    crate::prelu(&mut y, dims[1], dims[2] * dims[3], a).ok()
                })?;
                Some(flex_tensor(y, &dims))
            });
        fused.unwrap_or_else(|| {
            let y = <Flex as ModuleOps<Flex>>::conv2d(x, weight, Some(bias), options);
            prelu_composed::<Flex>(y, alpha)
        })
    }
}

/// `f` on the `f32` values of `a` and `b` ([`with_values`]).
fn with_both<R>(
    a: &FlexTensor,
    b: &FlexTensor,
    f: impl FnOnce(&[f32], &[f32]) -> Option<R>,
) -> Option<R> {
    with_values(a, |av| with_values(b, |bv| f(av, bv)))
}

/// What the backward step keeps: the checkpointed input, weights and bias,
/// and the options.
#[derive(Debug, Clone)]
struct ConvState {
    x: NodeId,
    weight: NodeId,
    bias: Option<NodeId>,
    options: ConvOptions<2>,
}

/// The convolution's backward step, with a bias (3 parents) or without (2).
#[derive(Debug)]
struct KernelConv;

impl KernelConv {
    /// Registers the gradient of each parent that wants one: the kernels'
    /// where they cover the convolution, burn's otherwise.
    fn backward_step(
        [x_id, w_id, b_id]: [Option<NodeId>; 3],
        dy: FlexTensor,
        state: ConvState,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let o = &state.options;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(state.x);
        let w = checkpointer.retrieve_node_output::<FlexTensor>(state.weight);
        let shape = shape_of(&x, &w, o);
        // A gradient shaped like `like` from the kernels (`host`), burn's
        // (`burn`) where they do not cover the convolution.
        let kernel_or = |like: &FlexTensor,
                         host: &dyn Fn(&Conv2dShape) -> Option<Vec<f32>>,
                         burn: &dyn Fn() -> FlexTensor| {
            shape
                .and_then(|s| host(&s))
                .map(|g| flex_tensor(g, like.shape().as_slice()))
                .unwrap_or_else(burn)
        };
        if let Some(id) = x_id {
            let dx = kernel_or(
                &x,
                &|s| with_both(&dy, &w, |dy, w| conv2d_input_grad(s, dy, w).ok()),
                &|| Flex::conv2d_x_backward(x.clone(), w.clone(), dy.clone(), o.clone()),
            );
            grads.register::<Flex>(id, dx);
        }
        if let Some(id) = w_id {
            let dw = kernel_or(
                &w,
                &|s| with_both(&x, &dy, |x, dy| conv2d_weight_grad(s, x, dy).ok()),
                &|| Flex::conv2d_weight_backward(x.clone(), w.clone(), dy.clone(), o.clone()),
            );
            grads.register::<Flex>(id, dw);
        }
        if let (Some(id), Some(b)) = (b_id, state.bias) {
            let b = checkpointer.retrieve_node_output::<FlexTensor>(b);
            let db = kernel_or(
                &b,
                &|s| with_values(&dy, |dy| conv2d_bias_grad(s, dy).ok()),
                &|| Flex::conv2d_bias_backward(x.clone(), b.clone(), dy.clone()),
            );
            grads.register::<Flex>(id, db);
        }
    }
}

impl Backward<Flex, 3> for KernelConv {
    type State = ConvState;

    fn backward(
        self,
        ops: Ops<ConvState, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let ids = ops.parents.map(|p| p.map(|n| n.id));
        let dy = grads.consume::<Flex>(&ops.node);
        KernelConv::backward_step(ids, dy, ops.state, grads, checkpointer);
    }
}

impl Backward<Flex, 2> for KernelConv {
    type State = ConvState;

    fn backward(
        self,
        ops: Ops<ConvState, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [x, w] = ops.parents.map(|p| p.map(|n| n.id));
        let dy = grads.consume::<Flex>(&ops.node);
        KernelConv::backward_step([x, w, None], dy, ops.state, grads, checkpointer);
    }
}

/// The autodiff convolution of `N` tracked inputs (`nodes`: the input's,
/// the weights' and, when there is one, the bias's).
fn tracked_conv2d<C: CheckpointStrategy, const N: usize>(
    nodes: [NodeGuard; N],
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    bias: Option<FloatTensor<Autodiff<Flex, C>>>,
    options: ConvOptions<2>,
) -> FloatTensor<Autodiff<Flex, C>>
where
    KernelConv: Backward<Flex, N, State = ConvState>,
{
    match KernelConv.prepare::<C>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let state = ConvState {
                x: prep.checkpoint(&x),
                weight: prep.checkpoint(&weight),
                bias: bias.as_ref().map(|b| prep.checkpoint(b)),
                options: options.clone(),
            };
            let y = flex_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                bias.map(|b| b.into_primitive()),
                options,
            );
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(flex_conv2d(
            x.into_primitive(),
            weight.into_primitive(),
            bias.map(|b| b.into_primitive()),
            options,
        )),
    }
}

/// The autodiff convolution: the kernels forward, [`KernelConv`] backward.
fn autodiff_conv2d<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    bias: Option<FloatTensor<Autodiff<Flex, C>>>,
    options: ConvOptions<2>,
) -> FloatTensor<Autodiff<Flex, C>> {
    // Outside the kernels' reach burn's autodiff convolution runs whole,
    // forward and backward.
    if shape_of(x.primitive(), weight.primitive(), &options).is_none()
        || x.primitive().dtype() != DType::F32
    {
        return <Autodiff<Flex, C> as ModuleOps<Autodiff<Flex, C>>>::conv2d(
            x, weight, bias, options,
        );
    }
    match bias {
        Some(b) => {
            let nodes = [x.node(), weight.node(), b.node()];
            tracked_conv2d::<C, 3>(nodes, x, weight, Some(b), options)
        }
        None => {
            let nodes = [x.node(), weight.node()];
            tracked_conv2d::<C, 2>(nodes, x, weight, None, options)
        }
    }
}

impl<C: CheckpointStrategy> KernelBackend for Autodiff<Flex, C> {
    fn kernel_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        autodiff_conv2d::<C>(x, weight, None, options)
    }

    fn kernel_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        autodiff_conv2d::<C>(x, weight, Some(bias), options)
    }
}
