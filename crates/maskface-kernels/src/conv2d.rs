//! 2-D convolution on `f32` buffers in NCHW order: forward, and the
//! gradients of the input, the weights and the bias for training.
//!
//! Each image is unrolled into a column matrix (im2col: one row per input
//! channel and kernel tap, one column per output pixel) and multiplied by
//! the weights, so the work is one well-shaped matrix product per image and
//! group:
//!
//! - forward: `y[oc, P] = W[oc, K] * col[K, P]`, the bias written first and
//!   accumulated onto;
//! - input gradient: `dcol[K, P] = W^T * dy[oc, P]`, then folded back onto
//!   the image (col2im);
//! - weight gradient: `dW[oc, K] += dy[oc, P] * col^T`, summed over images.
//!
//! `K` is `in_channels / groups * kh * kw` and `P` the output's pixels. A
//! 1x1 convolution with stride 1 and no padding skips the unrolling: the
//! image already is its column matrix. Images are spread over rayon's
//! threads when there are at least as many as threads; otherwise each
//! product uses all of them.

use rayon::prelude::*;
use std::cell::RefCell;

use crate::matmul::{matmul, Threads, View};
use crate::KernelError;

thread_local! {
    /// Each thread's column buffer, kept between convolutions.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `f` on a column buffer of `len` floats: this thread's scratch buffer,
/// grown when short, or a new one when the scratch is in use further up
/// this thread's stack (rayon may run another image's job inside a
/// product's join). Its old values are never read: every user overwrites
/// the buffer whole (`im2col`, or a product that does not accumulate).
/// Small convolutions (MTCNN's, over hundreds of crops an image) spent 4%
/// of a masking job allocating and zeroing a buffer per call.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0f32; len]),
    })
}

/// `dst.copy_from_slice(src)` for short rows: eight values at a time as
/// fixed-size copies (a few vector moves, inlined), the rest one by one.
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d8, s8) in (&mut d).zip(&mut s) {
        d8.copy_from_slice(s8);
    }
    for (dv, sv) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *dv = *sv;
    }
}

/// The geometry of one 2-D convolution: input `[batch, in_channels,
/// height, width]`, weights `[out_channels, in_channels / groups,
/// kernel[0], kernel[1]]`, output `[batch, out_channels, out_h, out_w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Zero padding above and below, left and right.
    pub padding: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Channel groups: each output channel sees `in_channels / groups`
    /// inputs.
    pub groups: usize,
}

impl Conv2dShape {
    /// A convolution with stride 1, no padding, no dilation, one group.
    pub fn new(
        batch: usize,
        in_channels: usize,
        [height, width]: [usize; 2],
        out_channels: usize,
        kernel: [usize; 2],
    ) -> Self {
        Conv2dShape {
            batch,
            in_channels,
            height,
            width,
            out_channels,
            kernel,
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }

    /// This shape with another stride.
    pub fn with_stride(mut self, stride: [usize; 2]) -> Self {
        self.stride = stride;
        self
    }

    /// This shape with another padding.
    pub fn with_padding(mut self, padding: [usize; 2]) -> Self {
        self.padding = padding;
        self
    }

    /// This shape with another dilation.
    pub fn with_dilation(mut self, dilation: [usize; 2]) -> Self {
        self.dilation = dilation;
        self
    }

    /// This shape with channel groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// The output's height and width; [`KernelError::Shape`] when the
    /// geometry is impossible (a zero size, stride or group count, channels
    /// not divisible by the groups, a dilated kernel larger than the padded
    /// input).
    pub fn output(&self) -> Result<[usize; 2], KernelError> {
        let bad = |what: String| {
            Err(KernelError::Shape {
                shape: Box::new(*self),
                what,
            })
        };
        if self.groups == 0
            || !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return bad(format!(
                "{} input and {} output channels are not divisible into {} groups",
                self.in_channels, self.out_channels, self.groups
            ));
        }
        if self.stride.contains(&0) || self.dilation.contains(&0) || self.kernel.contains(&0) {
            return bad("zero stride, dilation or kernel size".into());
        }
        let mut out = [0; 2];
        for (axis, len) in [self.height, self.width].into_iter().enumerate() {
            let span = self.dilation[axis] * (self.kernel[axis] - 1) + 1;
            let padded = len + 2 * self.padding[axis];
            if padded < span {
                return bad(format!(
                    "the kernel spans {span} pixels, the padded input only {padded}"
                ));
            }
            out[axis] = (padded - span) / self.stride[axis] + 1;
        }
        Ok(out)
    }

    /// Elements of the input.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.height * self.width
    }

    /// Elements of the weights.
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.column_rows()
    }

    /// Elements of the output.
    pub fn output_len(&self) -> Result<usize, KernelError> {
        let [oh, ow] = self.output()?;
        Ok(self.batch * self.out_channels * oh * ow)
    }

    /// Floating-point operations of the forward pass (a multiply-add counts
    /// two); the backward pass (input and weight gradients) costs twice as
    /// much.
    pub fn forward_flop(&self) -> Result<u64, KernelError> {
        let [oh, ow] = self.output()?;
        Ok(2 * (self.batch * self.out_channels * oh * ow * self.column_rows()) as u64)
    }

    /// Rows of one group's column matrix: its input channels times the taps.
    fn column_rows(&self) -> usize {
        self.in_channels / self.groups.max(1) * self.kernel[0] * self.kernel[1]
    }

    /// Whether the image is its own column matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [0, 0]
    }

    fn check(&self, name: &'static str, len: usize, expected: usize) -> Result<(), KernelError> {
        if len == expected {
            Ok(())
        } else {
            Err(KernelError::Length {
                shape: Box::new(*self),
                name,
                len,
                expected,
            })
        }
    }
}

/// Per-shape sizes the kernels share.
#[derive(Clone, Copy)]
struct Plan {
    shape: Conv2dShape,
    out: [usize; 2],
    /// Input channels per group.
    icg: usize,
    /// Output channels per group.
    ocg: usize,
    /// Rows of a group's column matrix.
    k: usize,
    /// Output pixels of one image.
    p: usize,
    /// Input pixels of one image.
    plane: usize,
}

impl Plan {
    fn new(shape: &Conv2dShape) -> Result<Self, KernelError> {
        let out = shape.output()?;
        let icg = shape.in_channels / shape.groups;
        Ok(Plan {
            shape: *shape,
            out,
            icg,
            ocg: shape.out_channels / shape.groups,
            k: shape.column_rows(),
            p: out[0] * out[1],
            plane: shape.height * shape.width,
        })
    }

    /// Whether images run in parallel (each product on one thread) rather
    /// than one after the other (each product on all threads).
    fn images_in_parallel(&self) -> bool {
        self.shape.batch >= rayon::current_num_threads()
    }

    fn threads(&self) -> Threads {
        if self.images_in_parallel() {
            Threads::One
        } else {
            Threads::All
        }
    }

    /// For each tap along one axis, the output positions whose input
    /// position is inside the image: `lo..hi`, and the input position of
    /// output 0 (possibly negative).
    fn valid_range(&self, axis: usize, tap: usize) -> (usize, usize, isize) {
        let s = &self.shape;
        let len = if axis == 0 { s.height } else { s.width } as isize;
        let (stride, pad) = (s.stride[axis] as isize, s.padding[axis] as isize);
        let first = tap as isize * s.dilation[axis] as isize - pad;
        let out = self.out[axis] as isize;
        // o is valid when 0 <= first + o * stride < len.
        let lo = if first >= 0 {
            0
        } else {
            (-first + stride - 1) / stride
        };
        let hi = if first >= len {
            0
        } else {
            ((len - first + stride - 1) / stride).min(out)
        };
        (lo.min(out) as usize, hi.max(lo.min(out)) as usize, first)
    }

    /// Unrolls one group of one image (`x`: its `icg` channels) into `col`
    /// (`k x p`, every element written).
    fn im2col(&self, x: &[f32], col: &mut [f32]) {
        let s = &self.shape;
        let [kh, kw] = s.kernel;
        let [oh, ow] = self.out;
        let sw = s.stride[1];
        if s.padding == [0, 0] && s.stride == [1, 1] && s.dilation == [1, 1] {
            // Every tap's window lies inside the image (all of MTCNN's
            // convolutions): rows of `ow` values, copied without the bounds
            // work below. They are short (3 to 46 values), where a call to
            // memcpy per row cost more than the copy.
            for (r, row) in col.chunks_exact_mut(self.p).enumerate() {
                let (c, ky, kx) = (r / (kh * kw), (r / kw) % kh, r % kw);
                let src = &x[c * self.plane + ky * s.width + kx..];
                for (dst, line) in row.chunks_exact_mut(ow).zip(src.chunks(s.width)) {
                    copy_short(dst, &line[..ow]);
                }
            }
            return;
        }
        for (r, row) in col.chunks_exact_mut(self.p).enumerate() {
            let (c, ky, kx) = (r / (kh * kw), (r / kw) % kh, r % kw);
            let src = &x[c * self.plane..(c + 1) * self.plane];
            let (ylo, yhi, y0) = self.valid_range(0, ky);
            let (xlo, xhi, x0) = self.valid_range(1, kx);
            row[..ylo * ow].fill(0.0);
            row[yhi * ow..oh * ow].fill(0.0);
            for oy in ylo..yhi {
                let iy = (y0 + (oy * s.stride[0]) as isize) as usize;
                let line = &src[iy * s.width..(iy + 1) * s.width];
                let dst = &mut row[oy * ow..(oy + 1) * ow];
                dst[..xlo].fill(0.0);
                dst[xhi..].fill(0.0);
                if xlo < xhi {
                    let ix0 = (x0 + (xlo * sw) as isize) as usize;
                    if sw == 1 {
                        dst[xlo..xhi].copy_from_slice(&line[ix0..ix0 + (xhi - xlo)]);
                    } else {
                        for (d, v) in dst[xlo..xhi].iter_mut().zip(line[ix0..].iter().step_by(sw)) {
                            *d = *v;
                        }
                    }
                }
            }
        }
    }

    /// Adds the column matrix `col` (`k x p`) back onto one group of one
    /// image (`dx`: its `icg` channels): the transpose of [`Plan::im2col`].
    fn col2im(&self, col: &[f32], dx: &mut [f32]) {
        let s = &self.shape;
        let [kh, kw] = s.kernel;
        let ow = self.out[1];
        let sw = s.stride[1];
        for (r, row) in col.chunks_exact(self.p).enumerate() {
            let (c, ky, kx) = (r / (kh * kw), (r / kw) % kh, r % kw);
            let dst = &mut dx[c * self.plane..(c + 1) * self.plane];
            let (ylo, yhi, y0) = self.valid_range(0, ky);
            let (xlo, xhi, x0) = self.valid_range(1, kx);
            if xlo >= xhi {
                continue;
            }
            for oy in ylo..yhi {
                let iy = (y0 + (oy * s.stride[0]) as isize) as usize;
                let line = &mut dst[iy * s.width..(iy + 1) * s.width];
                let src = &row[oy * ow + xlo..oy * ow + xhi];
                let ix0 = (x0 + (xlo * sw) as isize) as usize;
                if sw == 1 {
                    for (d, v) in line[ix0..ix0 + src.len()].iter_mut().zip(src) {
                        *d += *v;
                    }
                } else {
                    for (d, v) in line[ix0..].iter_mut().step_by(sw).zip(src) {
                        *d += *v;
                    }
                }
            }
        }
    }

    fn col_len(&self) -> usize {
        if self.shape.is_pointwise() {
            0
        } else {
            self.k * self.p
        }
    }

    /// Runs `f` on each image's slice of `src` (`src_len` elements) and of
    /// `dst` (`dst_len`), with a column buffer of its own and the threads
    /// one product may use: images in parallel when there are enough of
    /// them, otherwise one after the other with every product threaded.
    fn each_image<F>(
        &self,
        src: &[f32],
        src_len: usize,
        dst: &mut [f32],
        dst_len: usize,
        f: F,
    ) -> Result<(), KernelError>
    where
        F: Fn(&[f32], &mut [f32], &mut [f32], Threads) -> Result<(), KernelError> + Sync,
    {
        let threads = self.threads();
        let len = self.col_len();
        if self.images_in_parallel() {
            src.par_chunks_exact(src_len)
                .zip(dst.par_chunks_exact_mut(dst_len))
                .try_for_each(|(s, d)| with_scratch(len, |col| f(s, d, col, threads)))
        } else {
            with_scratch(len, |col| {
                src.chunks_exact(src_len)
                    .zip(dst.chunks_exact_mut(dst_len))
                    .try_for_each(|(s, d)| f(s, d, col, threads))
            })
        }
    }

    /// The column matrix of one group of one image: the image itself for a
    /// pointwise convolution, otherwise `xg` unrolled into `col`.
    fn columns<'a>(&self, xg: &'a [f32], col: &'a mut [f32]) -> &'a [f32] {
        if self.shape.is_pointwise() {
            xg
        } else {
            self.im2col(xg, col);
            col
        }
    }

    /// `y` of one image (`out_channels x p`) from its input `x`.
    fn forward_image(
        &self,
        x: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        col: &mut [f32],
        threads: Threads,
    ) -> Result<(), KernelError> {
        // `y` holds the bias already ([`conv2d_forward`]); the product adds
        // onto it.
        for g in 0..self.shape.groups {
            let xg = &x[g * self.icg * self.plane..(g + 1) * self.icg * self.plane];
            let cols = self.columns(xg, col);
            let w = &weight[g * self.ocg * self.k..(g + 1) * self.ocg * self.k];
            let yg = &mut y[g * self.ocg * self.p..(g + 1) * self.ocg * self.p];
            matmul(
                yg,
                self.p,
                View::rows(w, self.ocg, self.k),
                View::rows(cols, self.k, self.p),
                bias.is_some(),
                threads,
            )?;
        }
        Ok(())
    }

    /// The input gradient of one image from its output gradient.
    fn input_grad_image(
        &self,
        dy: &[f32],
        weight: &[f32],
        dx: &mut [f32],
        dcol: &mut [f32],
        threads: Threads,
    ) -> Result<(), KernelError> {
        for g in 0..self.shape.groups {
            let w = View::rows(
                &weight[g * self.ocg * self.k..(g + 1) * self.ocg * self.k],
                self.ocg,
                self.k,
            );
            let dyg = View::rows(
                &dy[g * self.ocg * self.p..(g + 1) * self.ocg * self.p],
                self.ocg,
                self.p,
            );
            let dxg = &mut dx[g * self.icg * self.plane..(g + 1) * self.icg * self.plane];
            if self.shape.is_pointwise() {
                matmul(dxg, self.plane, w.t(), dyg, false, threads)?;
            } else {
                matmul(dcol, self.p, w.t(), dyg, false, threads)?;
                dxg.fill(0.0);
                self.col2im(dcol, dxg);
            }
        }
        Ok(())
    }

    /// Adds one image's share of the weight gradient to `dw`.
    fn weight_grad_image(
        &self,
        x: &[f32],
        dy: &[f32],
        dw: &mut [f32],
        col: &mut [f32],
        threads: Threads,
    ) -> Result<(), KernelError> {
        for g in 0..self.shape.groups {
            let xg = &x[g * self.icg * self.plane..(g + 1) * self.icg * self.plane];
            let cols = self.columns(xg, col);
            let dyg = View::rows(
                &dy[g * self.ocg * self.p..(g + 1) * self.ocg * self.p],
                self.ocg,
                self.p,
            );
            let dwg = &mut dw[g * self.ocg * self.k..(g + 1) * self.ocg * self.k];
            matmul(
                dwg,
                self.k,
                dyg,
                View::rows(cols, self.k, self.p).t(),
                true,
                threads,
            )?;
        }
        Ok(())
    }
}

/// The convolution of `x` (`[batch, in_channels, height, width]`) with
/// `weight` (`[out_channels, in_channels / groups, kh, kw]`) plus `bias`
/// (`[out_channels]`), as `[batch, out_channels, out_h, out_w]`.
///
/// ```
/// use maskface_kernels::{conv2d_forward, Conv2dShape};
///
/// // One 3x3 image, one 2x2 kernel of ones: sums of 2x2 windows.
/// let shape = Conv2dShape::new(1, 1, [3, 3], 1, [2, 2]);
/// let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
/// let y = conv2d_forward(&shape, &x, &[1.0; 4], Some(&[0.5])).unwrap();
/// assert_eq!(y, vec![12.5, 16.5, 24.5, 28.5]);
/// ```
pub fn conv2d_forward(
    shape: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
) -> Result<Vec<f32>, KernelError> {
    forward(shape, x, weight, bias, false)
}

/// [`conv2d_forward`] on the calling thread alone, every image's product
/// as [`conv2d_forward`] computes it when it runs images in parallel (a
/// batch of at least as many images as rayon has threads), so to the bit
/// the same. For callers that spread images over threads themselves: one
/// image through a whole chain of layers while it is in cache.
///
/// ```
/// use maskface_kernels::{conv2d_forward, conv2d_forward_serial, Conv2dShape};
///
/// let shape = Conv2dShape::new(4, 3, [9, 9], 5, [3, 3]);
/// let x: Vec<f32> = (0..4 * 3 * 81).map(|v| (v % 17) as f32 - 8.0).collect();
/// let w: Vec<f32> = (0..5 * 3 * 9).map(|v| (v % 5) as f32 * 0.25).collect();
/// let y = conv2d_forward_serial(&shape, &x, &w, None).unwrap();
/// assert_eq!(y, conv2d_forward(&shape, &x, &w, None).unwrap());
/// ```
pub fn conv2d_forward_serial(
    shape: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
) -> Result<Vec<f32>, KernelError> {
    forward(shape, x, weight, bias, true)
}

fn forward(
    shape: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    serial: bool,
) -> Result<Vec<f32>, KernelError> {
    let plan = Plan::new(shape)?;
    shape.check("input", x.len(), shape.input_len())?;
    shape.check("weight", weight.len(), shape.weight_len())?;
    if let Some(b) = bias {
        shape.check("bias", b.len(), shape.out_channels)?;
    }
    let len = shape.output_len()?;
    // With a bias the output starts as the bias, written once (not zeroed
    // first: that was 2% of a masking job); without one the product
    // overwrites it.
    let mut y = match bias {
        Some(b) => {
            let mut y = Vec::with_capacity(len);
            for _ in 0..shape.batch {
                for &v in b {
                    y.extend(std::iter::repeat_n(v, plan.p));
                }
            }
            y
        }
        None => vec![0f32; len],
    };
    let in_image = shape.in_channels * plan.plane;
    let out_image = shape.out_channels * plan.p;
    if in_image == 0 || out_image == 0 {
        return Ok(y);
    }
    if serial {
        with_scratch(plan.col_len(), |col| {
            x.chunks_exact(in_image)
                .zip(y.chunks_exact_mut(out_image))
                .try_for_each(|(xi, yi)| {
                    plan.forward_image(xi, weight, bias, yi, col, Threads::One)
                })
        })?;
    } else {
        plan.each_image(x, in_image, &mut y, out_image, |xi, yi, col, threads| {
            plan.forward_image(xi, weight, bias, yi, col, threads)
        })?;
    }
    Ok(y)
}

/// The gradients of a convolution's loss with respect to its input,
/// weights and bias.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dGrads {
    /// Same shape as the input.
    pub input: Vec<f32>,
    /// Same shape as the weights.
    pub weight: Vec<f32>,
    /// One per output channel.
    pub bias: Vec<f32>,
}

/// The input gradient alone (`[batch, in_channels, height, width]`) from
/// the output gradient `dy`.
pub fn conv2d_input_grad(
    shape: &Conv2dShape,
    dy: &[f32],
    weight: &[f32],
) -> Result<Vec<f32>, KernelError> {
    let plan = Plan::new(shape)?;
    shape.check("output gradient", dy.len(), shape.output_len()?)?;
    shape.check("weight", weight.len(), shape.weight_len())?;
    let mut dx = vec![0f32; shape.input_len()];
    let in_image = shape.in_channels * plan.plane;
    let out_image = shape.out_channels * plan.p;
    if in_image == 0 || out_image == 0 {
        return Ok(dx);
    }
    plan.each_image(
        dy,
        out_image,
        &mut dx,
        in_image,
        |dyi, dxi, dcol, threads| plan.input_grad_image(dyi, weight, dxi, dcol, threads),
    )?;
    Ok(dx)
}

/// The weight gradient alone (`[out_channels, in_channels / groups, kh,
/// kw]`) from the input `x` and the output gradient `dy`.
pub fn conv2d_weight_grad(
    shape: &Conv2dShape,
    x: &[f32],
    dy: &[f32],
) -> Result<Vec<f32>, KernelError> {
    let plan = Plan::new(shape)?;
    shape.check("input", x.len(), shape.input_len())?;
    shape.check("output gradient", dy.len(), shape.output_len()?)?;
    let in_image = shape.in_channels * plan.plane;
    let out_image = shape.out_channels * plan.p;
    if in_image == 0 || out_image == 0 {
        return Ok(vec![0f32; shape.weight_len()]);
    }
    let threads = plan.threads();
    // Images in a fixed number of runs, one accumulator each, the runs'
    // sums added in order: the result depends on the thread count, never
    // on scheduling.
    let runs = if plan.images_in_parallel() {
        rayon::current_num_threads()
    } else {
        1
    };
    let per_run = shape.batch.div_ceil(runs);
    let partial: Vec<Vec<f32>> = x
        .par_chunks(per_run * in_image)
        .zip(dy.par_chunks(per_run * out_image))
        .map(|(xs, dys)| {
            let mut dw = vec![0f32; shape.weight_len()];
            let mut col = vec![0f32; plan.col_len()];
            for (xi, dyi) in xs.chunks_exact(in_image).zip(dys.chunks_exact(out_image)) {
                plan.weight_grad_image(xi, dyi, &mut dw, &mut col, threads)?;
            }
            Ok(dw)
        })
        .collect::<Result<_, KernelError>>()?;
    let mut parts = partial.into_iter();
    let mut dw = parts
        .next()
        .unwrap_or_else(|| vec![0f32; shape.weight_len()]);
    for part in parts {
        for (a, b) in dw.iter_mut().zip(&part) {
            *a += *b;
        }
    }
    Ok(dw)
}

/// The bias gradient: `dy` summed over images and pixels, per channel.
pub fn conv2d_bias_grad(shape: &Conv2dShape, dy: &[f32]) -> Result<Vec<f32>, KernelError> {
    let plan = Plan::new(shape)?;
    shape.check("output gradient", dy.len(), shape.output_len()?)?;
    let mut db = vec![0f32; shape.out_channels];
    if plan.p == 0 {
        return Ok(db);
    }
    for (i, row) in dy.chunks_exact(plan.p).enumerate() {
        db[i % shape.out_channels] += row.iter().sum::<f32>();
    }
    Ok(db)
}

/// All three gradients of a convolution from its input, weights and the
/// output gradient `dy`.
///
/// ```
/// use maskface_kernels::{conv2d_backward, Conv2dShape};
///
/// // y = x * w for one pixel: dL/dx = dy * w, dL/dw = dy * x, dL/db = dy.
/// let shape = Conv2dShape::new(1, 1, [1, 1], 1, [1, 1]);
/// let g = conv2d_backward(&shape, &[3.0], &[2.0], &[0.5]).unwrap();
/// assert_eq!((g.input, g.weight, g.bias), (vec![1.0], vec![1.5], vec![0.5]));
/// ```
pub fn conv2d_backward(
    shape: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
) -> Result<Conv2dGrads, KernelError> {
    Ok(Conv2dGrads {
        input: conv2d_input_grad(shape, dy, weight)?,
        weight: conv2d_weight_grad(shape, x, dy)?,
        bias: conv2d_bias_grad(shape, dy)?,
    })
}
