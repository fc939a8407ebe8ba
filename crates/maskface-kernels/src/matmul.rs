//! The one place this crate calls `gemm::gemm`: a matrix product over
//! strided views of slices, checked so that every element the product
//! reads or writes lies inside its slice.

use crate::KernelError;

/// A read-only `rows x cols` matrix inside a slice: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`. Transposes are views with the
/// strides swapped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major matrix whose rows follow each other.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, without moving data.
    pub fn t(self) -> Self {
        View {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Whether the highest index the view reaches is inside its slice.
    fn fits(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|a| (self.cols - 1).checked_mul(self.col_stride).map(|b| (a, b)))
            .and_then(|(a, b)| a.checked_add(b));
        matches!(last, Some(i) if i < self.data.len())
    }
}

/// How many threads one product may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// The calling thread only (the caller already runs in parallel).
    One,
    /// rayon's pool.
    All,
}

/// `dst = a * b`, or `dst += a * b` when `accumulate`; `dst` is row-major
/// `a.rows x b.cols` with rows `dst_row_stride` apart.
pub(crate) fn matmul(
    dst: &mut [f32],
    dst_row_stride: usize,
    a: View<'_>,
    b: View<'_>,
    accumulate: bool,
    threads: Threads,
) -> Result<(), KernelError> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let dst_view = View {
        data: dst,
        rows: m,
        cols: n,
        row_stride: dst_row_stride,
        col_stride: 1,
    };
    if b.rows != k || dst_row_stride < n || !a.fits() || !b.fits() || !dst_view.fits() {
        return Err(KernelError::Internal(format!(
            "matrix product {m}x{k} by {}x{n} into {} elements (row stride {dst_row_stride}) \
             does not fit its buffers",
            b.rows,
            dst.len()
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_row_stride).take(m) {
                row[..n].fill(0.0);
            }
        }
        return Ok(());
    }
    let parallelism = match threads {
        Threads::One => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(0),
    };
    let as_isize = |s: usize| {
        isize::try_from(s)
            .map_err(|_| KernelError::Internal(format!("stride {s} exceeds isize::MAX")))
    };
    let (a_rs, a_cs) = (as_isize(a.row_stride)?, as_isize(a.col_stride)?);
    let (b_rs, b_cs) = (as_isize(b.row_stride)?, as_isize(b.col_stride)?);
    let d_rs = as_isize(dst_row_stride)?;
    // SAFETY: the checks above put every element (i, j) that gemm reads of
    // `a` (i < m, j < k), of `b` (i < k, j < n) and reads or writes of `dst`
    // (i < m, j < n) inside its slice; strides are non-negative and fit
    // isize. `dst` is borrowed mutably, so it aliases neither input, and
    // with a column stride of 1 and a row stride of at least `n` distinct
    // (i, j) never share an element.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            d_rs,
            accumulate,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: View<'_>, b: View<'_>) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                out[i * b.cols + j] = (0..a.cols)
                    .map(|p| {
                        a.data[i * a.row_stride + p * a.col_stride]
                            * b.data[p * b.row_stride + j * b.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn products_of_transposed_views_match_the_definition() {
        let a: Vec<f32> = (0..15).map(|v| v as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..20).map(|v| (v as f32 * 0.37).sin()).collect();
        // a is 3x5, b stored as 4x5 and used transposed (5x4).
        let (va, vb) = (View::rows(&a, 3, 5), View::rows(&b, 4, 5).t());
        let mut dst = vec![7.0; 12];
        matmul(&mut dst, 4, va, vb, false, Threads::One).unwrap();
        for (x, y) in dst.iter().zip(naive(va, vb)) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        let before = dst.clone();
        matmul(&mut dst, 4, va, vb, true, Threads::All).unwrap();
        for (x, y) in dst.iter().zip(&before) {
            assert!((x - 2.0 * y).abs() < 1e-4);
        }
    }

    #[test]
    fn views_outside_their_slices_are_refused() {
        let a = vec![1.0; 6];
        let b = vec![1.0; 6];
        let mut dst = vec![0.0; 4];
        // a claims 3x3 over 6 elements.
        let err = matmul(
            &mut dst,
            2,
            View::rows(&a, 3, 3),
            View::rows(&b, 3, 2),
            false,
            Threads::One,
        );
        assert!(err.is_err());
        // dst too small for 3x2.
        let err = matmul(
            &mut dst,
            2,
            View::rows(&a, 3, 2),
            View::rows(&b, 2, 3),
            false,
            Threads::One,
        );
        assert!(err.is_err());
        // inner sizes disagree.
        let err = matmul(
            &mut dst,
            2,
            View::rows(&a, 2, 3),
            View::rows(&b, 2, 3),
            false,
            Threads::One,
        );
        assert!(err.is_err());
    }
}
