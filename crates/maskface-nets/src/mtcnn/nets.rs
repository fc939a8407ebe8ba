//! P-Net, R-Net and O-Net with facenet-pytorch 2.6.0's layer names and shapes,
//! so that its state dicts load by name.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PRelu, PReluConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::Slice;
use maskface_kernels::{conv2d_forward, conv2d_forward_serial, Conv2dShape, ForwardFast};
use rayon::prelude::*;

fn conv(c_in: usize, c_out: usize, k: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [k, k]).init(device)
}

fn prelu(n: usize, device: &Device) -> PRelu {
    PReluConfig::new().with_num_parameters(n).init(device)
}

/// Square max pooling, `k` x `k` with stride `s`, with PyTorch's
/// `ceil_mode=True` (all MTCNN pools use it): windows may run past the
/// bottom and right edges, but each starts inside the input.
#[derive(Module, Debug)]
pub struct CeilMaxPool {
    k: usize,
    s: usize,
}

impl CeilMaxPool {
    /// Pools `[n, c, h, w]`.
    ///
    /// burn-flex 0.22.1 runs `MaxPool2d` through a generic 3-d pooling with
    /// indices that took 41% of MTCNN's time; max is separable, so this
    /// pools rows, then columns, each as the maximum of `k` strided slices:
    /// plain element-wise work on any backend.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let x = self.pool_axis(x, 2, h);
        self.pool_axis(x, 3, w)
    }

    /// Output length along an axis of `len`: PyTorch's ceil-mode rule.
    fn out_len(&self, len: usize) -> usize {
        maskface_kernels::ceil_pool_len(len, self.k, self.s)
    }

    fn pool_axis(&self, x: Tensor<4>, axis: usize, len: usize) -> Tensor<4> {
        let (k, s) = (self.k as i64, self.s as i64);
        let out = self.out_len(len) as i64;
        let needed = ((out - 1) * s + k) as usize;
        let x = pad_axis(x, axis, needed.saturating_sub(len));
        let full = Slice {
            start: 0,
            end: None,
            step: 1,
        };
        let mut acc: Option<Tensor<4>> = None;
        for i in 0..k {
            let mut ranges = [full; 4];
            ranges[axis] = Slice {
                start: i as isize,
                end: Some((i + (out - 1) * s + 1) as isize),
                step: s as isize,
            };
            let part = x.clone().slice(ranges);
            acc = Some(match acc {
                None => part,
                Some(a) => a.max_pair(part),
            });
        }
        acc.unwrap_or(x)
    }
}

/// Appends `extra` rows (axis 2) or columns (axis 3) of `-inf`.
fn pad_axis(x: Tensor<4>, axis: usize, extra: usize) -> Tensor<4> {
    if extra == 0 {
        return x;
    }
    let mut shape = x.dims();
    shape[axis] = extra;
    let pad = Tensor::<4>::full(shape, f32::NEG_INFINITY, &x.device());
    Tensor::cat(vec![x, pad], axis)
}

/// One MTCNN layer: a convolution, its PReLU and, for some, a max pooling.
type Layer<'a> = (&'a Conv2d, &'a PRelu, Option<&'a CeilMaxPool>);

/// Runs `layers` in turn: convolution, PReLU, max pooling where given.
///
/// On burn's CPU backend the whole chain runs on one host buffer
/// ([`conv_host`], [`prelu_pool_data`]), which saves two copies per layer
/// between the host and burn's tensors. Other backends run
/// [`conv_chain_tensors`].
fn conv_chain(x: Tensor<4>, layers: &[Layer<'_>]) -> Tensor<4> {
    let device = x.device();
    if device == Device::flex() {
        if let Some(y) = conv_chain_host(x.clone(), layers, &device) {
            return y;
        }
    }
    conv_chain_tensors(x, layers)
}

/// [`conv_chain`] on burn's tensors: the convolution and its PReLU fused
/// where maskface-kernels has the kernel (a CubeCL kernel on wgpu and
/// CUDA), burn's operations elsewhere.
fn conv_chain_tensors(x: Tensor<4>, layers: &[Layer<'_>]) -> Tensor<4> {
    layers.iter().fold(x, |x, (conv, prelu, pool)| {
        let x = conv.forward_prelu(x, prelu.alpha.val());
        match pool {
            Some(p) => p.forward(x),
            None => x,
        }
    })
}

fn conv_chain_host(x: Tensor<4>, layers: &[Layer<'_>], device: &Device) -> Option<Tensor<4>> {
    let dims = x.dims();
    let data: Vec<f32> = x.try_into_vec_as::<f32>().ok()?;
    let host = layers
        .iter()
        .map(|(conv, prelu, pool)| HostLayer::new(conv, prelu, *pool))
        .collect::<Option<Vec<_>>>()?;
    let n = dims[0];
    // With an image per thread or more, conv2d_forward runs images in
    // parallel anyway: here each image goes through every layer while its
    // activations are in cache (a batch of R- or O-Net crops is 100 MB a
    // layer), with the same products, so the same bits.
    let (data, dims) = if n > 0 && n >= rayon::current_num_threads() {
        let per = data.len() / n;
        let image_dims = [1, dims[1], dims[2], dims[3]];
        let parts = data
            .par_chunks_exact(per)
            .map(|image| run_host_layers(&host, image, image_dims, true))
            .collect::<Option<Vec<_>>>()?;
        let [_, c, h, w] = parts.first()?.1;
        let mut all = Vec::with_capacity(n * c * h * w);
        for (part, _) in parts {
            all.extend_from_slice(&part);
        }
        (all, [n, c, h, w])
    } else {
        run_host_layers(&host, &data, dims, false)?
    };
    Some(Tensor::from_data(TensorData::new(data, dims), device))
}

/// A layer of [`conv_chain_host`] with its parameters read out once.
struct HostLayer<'a> {
    conv: &'a Conv2d,
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
    alpha: Vec<f32>,
    pool: Option<&'a CeilMaxPool>,
}

impl<'a> HostLayer<'a> {
    fn new(conv: &'a Conv2d, prelu: &PRelu, pool: Option<&'a CeilMaxPool>) -> Option<Self> {
        Some(HostLayer {
            conv,
            weight: conv.weight.val().try_into_vec_as::<f32>().ok()?,
            bias: match &conv.bias {
                Some(b) => Some(b.val().try_into_vec_as::<f32>().ok()?),
                None => None,
            },
            alpha: prelu.alpha.val().try_into_vec_as::<f32>().ok()?,
            pool,
        })
    }
}

/// Every layer on `x`, on the calling thread alone when `serial`.
fn run_host_layers(
    layers: &[HostLayer<'_>],
    x: &[f32],
    dims: [usize; 4],
    serial: bool,
) -> Option<(Vec<f32>, [usize; 4])> {
    let mut out: Option<(Vec<f32>, [usize; 4])> = None;
    for l in layers {
        let (input, input_dims) = match &out {
            Some((d, dm)) => (d.as_slice(), *dm),
            None => (x, dims),
        };
        let (d, dm) = conv_host(l, input, input_dims, serial)?;
        out = Some(prelu_pool_data(d, dm, &l.alpha, l.pool)?);
    }
    out.or_else(|| Some((x.to_vec(), dims)))
}

/// An unpadded convolution (all of MTCNN's) on a host buffer, by
/// maskface-kernels. `None` for the convolutions this does not cover.
fn conv_host(
    layer: &HostLayer<'_>,
    data: &[f32],
    [n, c, h, w]: [usize; 4],
    serial: bool,
) -> Option<(Vec<f32>, [usize; 4])> {
    let conv = layer.conv;
    if !matches!(conv.padding, PaddingConfig2d::Valid) {
        return None;
    }
    let [oc, _, kh, kw] = conv.weight.dims();
    let shape = Conv2dShape::new(n, c, [h, w], oc, [kh, kw])
        .with_stride(conv.stride)
        .with_dilation(conv.dilation)
        .with_groups(conv.groups);
    let [oh, ow] = shape.output().ok()?;
    let forward = if serial {
        conv2d_forward_serial
    } else {
        conv2d_forward
    };
    let y = forward(&shape, data, &layer.weight, layer.bias.as_deref()).ok()?;
    Some((y, [n, oc, oh, ow]))
}

/// PReLU and pooling on a host buffer `[n, c, h, w]`, by maskface-kernels.
fn prelu_pool_data(
    mut data: Vec<f32>,
    [n, c, h, w]: [usize; 4],
    alpha: &[f32],
    pool: Option<&CeilMaxPool>,
) -> Option<(Vec<f32>, [usize; 4])> {
    if data.len() != n * c * h * w {
        return None;
    }
    match pool {
        // With non-negative slopes PReLU never reorders two values, so the
        // maximum of the activations is the activation of the maximum:
        // pooling first leaves a quarter of the values to activate.
        Some(p) if alpha.iter().all(|a| *a >= 0.0) => {
            let (mut y, dims) =
                maskface_kernels::max_pool2d_ceil(&data, [n, c, h, w], p.k, p.s).ok()?;
            maskface_kernels::prelu(&mut y, c, dims[2] * dims[3], alpha).ok()?;
            Some((y, dims))
        }
        Some(p) => {
            maskface_kernels::prelu(&mut data, c, h * w, alpha).ok()?;
            maskface_kernels::max_pool2d_ceil(&data, [n, c, h, w], p.k, p.s).ok()
        }
        None => {
            maskface_kernels::prelu(&mut data, c, h * w, alpha).ok()?;
            Some((data, [n, c, h, w]))
        }
    }
}

fn pool(k: usize, s: usize) -> CeilMaxPool {
    CeilMaxPool { k, s }
}

/// The dense layers were trained on features flattened in (width, height,
/// channel) order, PyTorch's `x.permute(0, 3, 2, 1)` before `view`: burn's
/// default (channel, height, width) flatten would feed them scrambled input.
fn flatten_whc(x: Tensor<4>) -> Tensor<2> {
    let n = x.dims()[0];
    x.permute([0, 3, 2, 1]).reshape([n as i64, -1])
}

/// Configuration of [`PNet`] (it has no free parameters).
#[derive(Config, Debug)]
pub struct PNetConfig {}

/// The proposal network: fully convolutional, slides a 12x12 window with
/// stride 2 over each pyramid level.
#[derive(Module, Debug)]
pub struct PNet {
    conv1: Conv2d,
    prelu1: PRelu,
    pool1: CeilMaxPool,
    conv2: Conv2d,
    prelu2: PRelu,
    conv3: Conv2d,
    prelu3: PRelu,
    conv4_1: Conv2d,
    conv4_2: Conv2d,
}

impl PNetConfig {
    /// A P-Net with random weights on `device`.
    pub fn init(&self, device: &Device) -> PNet {
        PNet {
            conv1: conv(3, 10, 3, device),
            prelu1: prelu(10, device),
            pool1: pool(2, 2),
            conv2: conv(10, 16, 3, device),
            prelu2: prelu(16, device),
            conv3: conv(16, 32, 3, device),
            prelu3: prelu(32, device),
            conv4_1: conv(32, 2, 1, device),
            conv4_2: conv(32, 4, 1, device),
        }
    }
}

impl PNet {
    /// `x`: `[n, 3, h, w]` normalised images. Returns the box regression
    /// `[n, 4, h', w']` and the face probability `[n, 2, h', w']` (channel 1
    /// = face), `h' = ceil((h - 2) / 2) - 4`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let x = conv_chain(
            x,
            &[
                (&self.conv1, &self.prelu1, Some(&self.pool1)),
                (&self.conv2, &self.prelu2, None),
                (&self.conv3, &self.prelu3, None),
            ],
        );
        let prob = softmax(self.conv4_1.forward_fast(x.clone()), 1);
        (self.conv4_2.forward_fast(x), prob)
    }
}

/// Configuration of [`RNet`].
#[derive(Config, Debug)]
pub struct RNetConfig {}

/// The refinement network: scores and refines 24x24 crops.
#[derive(Module, Debug)]
pub struct RNet {
    conv1: Conv2d,
    prelu1: PRelu,
    pool1: CeilMaxPool,
    conv2: Conv2d,
    prelu2: PRelu,
    pool2: CeilMaxPool,
    conv3: Conv2d,
    prelu3: PRelu,
    dense4: Linear,
    prelu4: PRelu,
    dense5_1: Linear,
    dense5_2: Linear,
}

impl RNetConfig {
    /// An R-Net with random weights on `device`.
    pub fn init(&self, device: &Device) -> RNet {
        RNet {
            conv1: conv(3, 28, 3, device),
            prelu1: prelu(28, device),
            pool1: pool(3, 2),
            conv2: conv(28, 48, 3, device),
            prelu2: prelu(48, device),
            pool2: pool(3, 2),
            conv3: conv(48, 64, 2, device),
            prelu3: prelu(64, device),
            dense4: LinearConfig::new(576, 128).init(device),
            prelu4: prelu(128, device),
            dense5_1: LinearConfig::new(128, 2).init(device),
            dense5_2: LinearConfig::new(128, 4).init(device),
        }
    }
}

impl RNet {
    /// `x`: `[n, 3, 24, 24]`. Returns box regression `[n, 4]` and face
    /// probability `[n, 2]`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let x = conv_chain(
            x,
            &[
                (&self.conv1, &self.prelu1, Some(&self.pool1)),
                (&self.conv2, &self.prelu2, Some(&self.pool2)),
                (&self.conv3, &self.prelu3, None),
            ],
        );
        let x = self.prelu4.forward(self.dense4.forward(flatten_whc(x)));
        let prob = softmax(self.dense5_1.forward(x.clone()), 1);
        (self.dense5_2.forward(x), prob)
    }
}

/// Configuration of [`ONet`].
#[derive(Config, Debug)]
pub struct ONetConfig {}

/// The output network: scores 48x48 crops, refines their boxes and places
/// five landmarks.
#[derive(Module, Debug)]
pub struct ONet {
    conv1: Conv2d,
    prelu1: PRelu,
    pool1: CeilMaxPool,
    conv2: Conv2d,
    prelu2: PRelu,
    pool2: CeilMaxPool,
    conv3: Conv2d,
    prelu3: PRelu,
    pool3: CeilMaxPool,
    conv4: Conv2d,
    prelu4: PRelu,
    dense5: Linear,
    prelu5: PRelu,
    dense6_1: Linear,
    dense6_2: Linear,
    dense6_3: Linear,
}

impl ONetConfig {
    /// An O-Net with random weights on `device`.
    pub fn init(&self, device: &Device) -> ONet {
        ONet {
            conv1: conv(3, 32, 3, device),
            prelu1: prelu(32, device),
            pool1: pool(3, 2),
            conv2: conv(32, 64, 3, device),
            prelu2: prelu(64, device),
            pool2: pool(3, 2),
            conv3: conv(64, 64, 3, device),
            prelu3: prelu(64, device),
            pool3: pool(2, 2),
            conv4: conv(64, 128, 2, device),
            prelu4: prelu(128, device),
            dense5: LinearConfig::new(1152, 256).init(device),
            prelu5: prelu(256, device),
            dense6_1: LinearConfig::new(256, 2).init(device),
            dense6_2: LinearConfig::new(256, 4).init(device),
            dense6_3: LinearConfig::new(256, 10).init(device),
        }
    }
}

impl ONet {
    /// `x`: `[n, 3, 48, 48]`. Returns box regression `[n, 4]`, landmarks
    /// `[n, 10]` (five x then five y, relative to the box) and face
    /// probability `[n, 2]`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let x = conv_chain(
            x,
            &[
                (&self.conv1, &self.prelu1, Some(&self.pool1)),
                (&self.conv2, &self.prelu2, Some(&self.pool2)),
                (&self.conv3, &self.prelu3, Some(&self.pool3)),
                (&self.conv4, &self.prelu4, None),
            ],
        );
        let x = self.prelu5.forward(self.dense5.forward(flatten_whc(x)));
        let prob = softmax(self.dense6_1.forward(x.clone()), 1);
        (
            self.dense6_2.forward(x.clone()),
            self.dense6_3.forward(x),
            prob,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::pool::MaxPool2dConfig;

    #[test]
    fn host_prelu_pool_matches_tensor_ops() {
        let device = Device::flex();
        // A positive slope (pooled first, then activated) and a negative
        // one (activated first: the order matters then).
        for (h, w, slope) in [
            (7, 9, 0.25),
            (24, 24, 0.25),
            (3, 2, 0.25),
            (7, 9, -0.5),
            (8, 5, -0.5),
        ] {
            let prelu = PReluConfig::new()
                .with_num_parameters(3)
                .with_alpha(slope)
                .init(&device);
            let n = 2 * 3 * h * w;
            let v: Vec<f32> = (0..n).map(|i| ((i * 7919) % 101) as f32 - 50.0).collect();
            let x = Tensor::<4>::from_data(TensorData::new(v, [2, 3, h, w]), &device);
            for p in [None, Some(pool(2, 2)), Some(pool(3, 2))] {
                let values = x.clone().try_into_vec_as::<f32>().unwrap();
                let alpha = prelu.alpha.val().try_into_vec_as::<f32>().unwrap();
                let (fused, dims) =
                    prelu_pool_data(values, [2, 3, h, w], &alpha, p.as_ref()).unwrap();
                let plain = prelu.forward(x.clone());
                let plain = match &p {
                    Some(p) => p.forward(plain),
                    None => plain,
                };
                assert_eq!(dims, plain.dims());
                assert_eq!(fused, plain.try_into_vec_as::<f32>().unwrap());
            }
        }
    }

    #[test]
    fn host_convolution_matches_burns() {
        let device = Device::flex();
        for (c_in, c_out, k, h, w, n) in [
            (3, 10, 3, 12, 17, 2),
            (28, 48, 3, 11, 11, 5),
            (64, 128, 2, 3, 3, 3),
        ] {
            let conv = conv(c_in, c_out, k, &device);
            let len = n * c_in * h * w;
            let v: Vec<f32> = (0..len)
                .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let x = Tensor::<4>::from_data(TensorData::new(v, [n, c_in, h, w]), &device);
            let host = x.clone().try_into_vec_as::<f32>().unwrap();
            let layer = HostLayer::new(&conv, &prelu(c_out, &device), None).unwrap();
            let (a, dims) = conv_host(&layer, &host, [n, c_in, h, w], false).unwrap();
            let burn = conv.forward(x);
            assert_eq!(dims, burn.dims());
            let b = burn.try_into_vec_as::<f32>().unwrap();
            let worst = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-4, "{c_in}->{c_out} k{k}: {worst}");
        }
    }

    /// O-Net's layers (random weights) run image by image on one thread
    /// give the batch's activations to the bit.
    #[test]
    fn image_by_image_chain_is_the_batch_chain_to_the_bit() {
        let device = Device::flex();
        let onet = ONetConfig::new().init(&device);
        let layers = [
            (&onet.conv1, &onet.prelu1, Some(&onet.pool1)),
            (&onet.conv2, &onet.prelu2, Some(&onet.pool2)),
            (&onet.conv3, &onet.prelu3, Some(&onet.pool3)),
            (&onet.conv4, &onet.prelu4, None),
        ];
        let host: Vec<HostLayer<'_>> = layers
            .iter()
            .map(|(c, p, m)| HostLayer::new(c, p, *m).unwrap())
            .collect();
        let n = rayon::current_num_threads().max(2) + 1;
        let per = 3 * 48 * 48;
        let x: Vec<f32> = (0..n * per)
            .map(|i| ((i * 7919) % 251) as f32 / 125.0 - 1.0)
            .collect();
        let (batch, dims) = run_host_layers(&host, &x, [n, 3, 48, 48], false).unwrap();
        assert_eq!(dims, [n, 128, 3, 3]);
        let mut one_by_one = Vec::new();
        for image in x.chunks_exact(per) {
            let (y, d) = run_host_layers(&host, image, [1, 3, 48, 48], true).unwrap();
            assert_eq!(d, [1, 128, 3, 3]);
            one_by_one.extend(y);
        }
        let same = batch
            .iter()
            .zip(&one_by_one)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && batch.len() == one_by_one.len());
        let from_tensor = conv_chain_host(
            Tensor::<4>::from_data(TensorData::new(x, [n, 3, 48, 48]), &device),
            &layers,
            &device,
        )
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();
        assert!(from_tensor
            .iter()
            .zip(&batch)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    fn layer_refs(l: &[(Conv2d, PRelu, Option<CeilMaxPool>)]) -> Vec<Layer<'_>> {
        l.iter().map(|(c, p, m)| (c, p, m.as_ref())).collect()
    }

    /// R-Net's layers at its input size: the host chain is what runs on
    /// flex, the tensor chain (fused convolution + PReLU) what runs on
    /// `device` (a GPU's CubeCL kernel); both must agree.
    fn check_tensor_chain(device: &Device) {
        let cpu = Device::flex();
        let net = RNetConfig::new().init(&cpu);
        let len = 3 * 3 * 24 * 24;
        let v: Vec<f32> = (0..len)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(v, [3, 3, 24, 24]), &cpu);
        let layers = |n: &RNet| -> [(Conv2d, PRelu, Option<CeilMaxPool>); 3] {
            [
                (n.conv1.clone(), n.prelu1.clone(), Some(n.pool1.clone())),
                (n.conv2.clone(), n.prelu2.clone(), Some(n.pool2.clone())),
                (n.conv3.clone(), n.prelu3.clone(), None),
            ]
        };
        let on_cpu = layers(&net);
        let on_device = layers(&net.clone().to_device(device));
        let host = conv_chain_host(x.clone(), &layer_refs(&on_cpu), &cpu).unwrap();
        let tensors =
            conv_chain_tensors(x.to_device(device), &layer_refs(&on_device)).to_device(&cpu);
        assert_eq!(host.dims(), [3, 64, 3, 3]);
        assert_eq!(tensors.dims(), host.dims());
        let (h, t) = (
            host.try_into_vec_as::<f32>().unwrap(),
            tensors.try_into_vec_as::<f32>().unwrap(),
        );
        let scale = h.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.1, "the chain's output is all but zero");
        for (a, b) in h.iter().zip(&t) {
            assert!((a - b).abs() <= 1e-5 * scale, "{a} against {b}");
        }
    }

    #[test]
    fn tensor_chain_matches_host_chain() {
        check_tensor_chain(&Device::flex());
    }

    /// `scripts/test_gpu_kernels.sh`: MTCNN's layers on the CubeCL kernel.
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    #[test]
    fn tensor_chain_on_the_gpu_matches_host_chain() {
        let backend = if cfg!(feature = "wgpu") {
            crate::Backend::Wgpu
        } else {
            crate::Backend::Cuda
        };
        check_tensor_chain(&backend.device().unwrap());
    }

    #[test]
    fn ceil_max_pool_matches_burns_max_pool() {
        let device = Device::flex();
        for (k, s) in [(2, 2), (3, 2)] {
            for (h, w) in [(7, 9), (8, 8), (22, 23), (3, 2), (12, 5)] {
                let n = 2 * 3 * h * w;
                let v: Vec<f32> = (0..n).map(|i| ((i * 7919) % 101) as f32 - 50.0).collect();
                let x = Tensor::<4>::from_data(TensorData::new(v, [2, 3, h, w]), &device);
                let ours = pool(k, s).forward(x.clone());
                let burn = MaxPool2dConfig::new([k, k])
                    .with_strides([s, s])
                    .with_ceil_mode(true)
                    .init()
                    .forward(x);
                assert_eq!(ours.dims(), burn.dims(), "k{k} s{s} {h}x{w}");
                assert_eq!(
                    ours.try_into_vec_as::<f32>().unwrap(),
                    burn.try_into_vec_as::<f32>().unwrap(),
                    "k{k} s{s} {h}x{w}"
                );
            }
        }
    }
}
