//! The steps after a convolution in MTCNN's networks, on host buffers in
//! NCHW order: per-channel PReLU in place, and max pooling with PyTorch's
//! `ceil_mode=True`.
//!
//! burn-flex 0.22.1 evaluates the per-channel PReLU and the maxima of strided
//! views through generic broadcasting kernels (a third of MTCNN's time
//! before these); here each is one pass over the buffer, written as selects
//! rather than branches or `f32::max` so that they vectorise.

use crate::KernelError;

fn length(name: &'static str, len: usize, expected: usize) -> Result<(), KernelError> {
    if len == expected {
        Ok(())
    } else {
        Err(KernelError::Buffer {
            name,
            len,
            expected,
        })
    }
}

/// PReLU in place on `values` `[n, channels, plane]`: negative values of
/// channel `c` times `alpha[c]`.
///
/// ```
/// let mut v = vec![-2.0, 1.0, -2.0, 1.0];
/// maskface_kernels::prelu(&mut v, 2, 2, &[0.5, 0.25]).unwrap();
/// assert_eq!(v, vec![-1.0, 1.0, -0.5, 1.0]);
/// ```
pub fn prelu(
    values: &mut [f32],
    channels: usize,
    plane: usize,
    alpha: &[f32],
) -> Result<(), KernelError> {
    length("PReLU slopes", alpha.len(), channels)?;
    if plane == 0 || channels == 0 {
        return length("PReLU input", values.len(), 0);
    }
    let image = channels * plane;
    if !values.len().is_multiple_of(image) {
        return Err(KernelError::Buffer {
            name: "PReLU input",
            len: values.len(),
            expected: values.len().div_ceil(image) * image,
        });
    }
    for (i, plane_values) in values.chunks_exact_mut(plane).enumerate() {
        let a = alpha[i % channels];
        for v in plane_values {
            *v = if *v < 0.0 { *v * a } else { *v };
        }
    }
    Ok(())
}

/// Outputs along an axis of `len` of a `kernel`-wide max pooling with
/// `stride` in PyTorch's ceil mode: windows may run past the end, but each
/// starts inside the input.
///
/// ```
/// assert_eq!(maskface_kernels::ceil_pool_len(7, 2, 2), 4);
/// assert_eq!(maskface_kernels::ceil_pool_len(8, 3, 2), 4);
/// ```
pub fn ceil_pool_len(len: usize, kernel: usize, stride: usize) -> usize {
    let (k, s) = (kernel as i64, stride.max(1) as i64);
    let mut out = (len as i64 - k + s - 1).div_euclid(s) + 1;
    if (out - 1) * s >= len as i64 {
        out -= 1;
    }
    out.max(1) as usize
}

/// Max pooling of `values` `[n, c, h, w]`, `kernel` x `kernel` with
/// `stride`, in PyTorch's ceil mode ([`ceil_pool_len`]). Returns the
/// pooled buffer and its dimensions.
///
/// ```
/// let v: Vec<f32> = (0..9).map(|i| i as f32).collect();
/// let (y, dims) = maskface_kernels::max_pool2d_ceil(&v, [1, 1, 3, 3], 2, 2).unwrap();
/// assert_eq!((y, dims), (vec![4.0, 5.0, 7.0, 8.0], [1, 1, 2, 2]));
/// ```
pub fn max_pool2d_ceil(
    values: &[f32],
    [n, c, h, w]: [usize; 4],
    kernel: usize,
    stride: usize,
) -> Result<(Vec<f32>, [usize; 4]), KernelError> {
    length("pooling input", values.len(), n * c * h * w)?;
    if kernel == 0 || stride == 0 {
        return Err(KernelError::Internal(format!(
            "max pooling with kernel {kernel} and stride {stride}"
        )));
    }
    let plane = h * w;
    if plane == 0 {
        return Ok((Vec::new(), [n, c, 0, 0]));
    }
    let (oh, ow) = (
        ceil_pool_len(h, kernel, stride),
        ceil_pool_len(w, kernel, stride),
    );
    let mut out = vec![0f32; n * c * oh * ow];
    // Separable. Down the columns first: whole rows at a time, contiguous,
    // so it vectorises; then along the `oh` (not `h`) remaining rows with
    // the stride.
    let mut cols = vec![0f32; oh * w];
    for (src, dst) in values
        .chunks_exact(plane)
        .zip(out.chunks_exact_mut(oh * ow))
    {
        for (oy, col_row) in cols.chunks_exact_mut(w).enumerate() {
            let (y0, y1) = (oy * stride, (oy * stride + kernel).min(h));
            col_row.copy_from_slice(&src[y0 * w..(y0 + 1) * w]);
            for line in src[(y0 + 1) * w..y1 * w].chunks_exact(w) {
                for (o, &v) in col_row.iter_mut().zip(line) {
                    *o = if v > *o { v } else { *o };
                }
            }
        }
        for (col_row, out_row) in cols.chunks_exact(w).zip(dst.chunks_exact_mut(ow)) {
            match stride {
                // MTCNN's pools all have stride 2: a constant stride lets
                // the compiler vectorise the strided reads.
                2 => pool_row::<2>(col_row, kernel, out_row),
                1 => pool_row::<1>(col_row, kernel, out_row),
                _ => pool_row_any(col_row, kernel, stride, out_row),
            }
        }
    }
    Ok((out, [n, c, oh, ow]))
}

/// Maxima of the `kernel`-wide windows of `row` at stride `S` into `out`,
/// the windows past the row's end cut short.
fn pool_row<const S: usize>(row: &[f32], kernel: usize, out: &mut [f32]) {
    let w = row.len();
    // Outputs whose whole window lies inside the row.
    let inside = match w.checked_sub(kernel) {
        Some(rest) => (rest / S + 1).min(out.len()),
        None => 0,
    };
    let (whole, cut) = out.split_at_mut(inside);
    for (o, chunk) in whole.iter_mut().zip(row.chunks(S)) {
        *o = chunk[0];
    }
    // With no whole window the kernel is wider than the row: nothing to
    // read at offset `j`.
    for j in (1..kernel).filter(|_| inside > 0) {
        for (o, chunk) in whole.iter_mut().zip(row[j..].chunks(S)) {
            let v = chunk[0];
            *o = if v > *o { v } else { *o };
        }
    }
    pool_row_tail(row, kernel, S, inside, cut);
}

/// [`pool_row`] for any stride.
fn pool_row_any(row: &[f32], kernel: usize, stride: usize, out: &mut [f32]) {
    pool_row_tail(row, kernel, stride, 0, out);
}

/// The windows of `out` (output `first` onwards) one at a time, cut at the
/// row's end.
fn pool_row_tail(row: &[f32], kernel: usize, stride: usize, first: usize, out: &mut [f32]) {
    let w = row.len();
    for (i, o) in out.iter_mut().enumerate() {
        let x0 = (first + i) * stride;
        let window = &row[x0.min(w.saturating_sub(1))..(x0 + kernel).min(w)];
        let mut m = f32::NEG_INFINITY;
        for &v in window {
            m = if v > m { v } else { m };
        }
        *o = m;
    }
}
