//! Embedding-vector arithmetic shared by the recognizers, the open-set
//! scores and training: dot products, L2 norms and normalisation, cosine
//! similarity and arg-max, each written once.
//!
//! The precision of every operation is part of its contract, because saved
//! models and reports record its results: sums of squares and divisions run
//! in `f64` ([`l2_normalized`]) unless a caller asks for `f32`
//! ([`l2_normalized_in`]), and dot products add `f32` products in order.
//!
//! ```
//! use maskface_core::vector::{argmax, cosine_similarity, l2_normalized};
//!
//! assert_eq!(l2_normalized(&[3.0, 4.0]), [0.6, 0.8]);
//! assert_eq!(cosine_similarity(&[2.0, 0.0], &[-1.0, 0.0]), -1.0);
//! assert_eq!(argmax(&[0.5, 2.0, 2.0]), Some(1)); // ties go to the lower index
//! ```

use std::ops::{Add, Div, Mul};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The float type an L2 norm is accumulated and divided in: `f64` (what
/// [`l2_normalized`] uses) or `f32`.
pub trait Accumulator:
    sealed::Sealed + Copy + PartialEq + Add<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    /// Zero.
    const ZERO: Self;
    /// `v` in this precision (exact).
    fn from_f32(v: f32) -> Self;
    /// Rounded to `f32`.
    fn to_f32(self) -> f32;
    /// The square root.
    fn sqrt(self) -> Self;
}

impl Accumulator for f32 {
    const ZERO: Self = 0.0;
    fn from_f32(v: f32) -> Self {
        v
    }
    fn to_f32(self) -> f32 {
        self
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}

impl Accumulator for f64 {
    const ZERO: Self = 0.0;
    fn from_f32(v: f32) -> Self {
        f64::from(v)
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// `sum(a[i] * b[i])`, `f32` products added in order; the shorter slice
/// decides the length.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The Euclidean length of `v`, squares summed in order in `A`.
pub fn l2_norm_in<A: Accumulator>(v: &[f32]) -> A {
    let squares = v.iter().map(|&x| {
        let x = A::from_f32(x);
        x * x
    });
    squares.fold(A::ZERO, |sum, s| sum + s).sqrt()
}

/// `v / |v|` with the norm and the divisions in `A`, each value rounded to
/// `f32`; a zero vector stays zero (a NaN in `v` gives NaNs).
pub fn l2_normalized_in<A: Accumulator>(v: &[f32]) -> Vec<f32> {
    let n = l2_norm_in::<A>(v);
    if n == A::ZERO {
        return v.to_vec();
    }
    v.iter().map(|&x| (A::from_f32(x) / n).to_f32()).collect()
}

/// `v` scaled to unit length, computed in `f64`; a zero vector stays zero.
pub fn l2_normalized(v: &[f32]) -> Vec<f32> {
    l2_normalized_in::<f64>(v)
}

/// The cosine of the angle between `a` and `b`: the [`dot`] product of
/// their [`l2_normalized`] copies, in `[-1, 1]` up to rounding. A zero
/// vector has similarity 0 to everything, and so do vectors of different
/// lengths (they are not comparable).
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    dot(&l2_normalized(a), &l2_normalized(b))
}

/// The index of the largest value, the first one on ties; `None` for an
/// empty slice. A NaN is never larger than anything, and a leading NaN is
/// never replaced.
pub fn argmax(v: &[f32]) -> Option<usize> {
    let mut best = 0;
    for (i, x) in v.iter().enumerate().skip(1) {
        if *x > v[best] {
            best = i;
        }
    }
    (!v.is_empty()).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_in_both_precisions() {
        assert_eq!(l2_normalized(&[0.0, 0.0]), [0.0, 0.0]);
        assert_eq!(l2_normalized_in::<f32>(&[0.0, -0.0]), [0.0, -0.0]);
        assert_eq!(l2_norm_in::<f64>(&[3.0, 4.0]), 5.0);
        let v = [0.1f32, -0.7, 0.3, 2.5];
        let n64 = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        let want64: Vec<f32> = v.iter().map(|x| (f64::from(*x) / n64) as f32).collect();
        assert_eq!(l2_normalized(&v), want64);
        let n32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let want32: Vec<f32> = v.iter().map(|x| x / n32).collect();
        assert_eq!(l2_normalized_in::<f32>(&v), want32);
        assert!(l2_normalized(&[1.0, f32::NAN]).iter().all(|x| x.is_nan()));
    }

    #[test]
    fn cosine_by_hand() {
        let s = cosine_similarity(&[1.0, 1.0], &[0.0, 2.0]);
        assert!((s - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert_eq!(cosine_similarity(&[2.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(cosine_similarity(&[2.0, 0.0], &[1.0]), 0.0);
        assert_eq!(dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[0.0, 2.0, 1.0]), Some(1));
        assert_eq!(argmax(&[5.0, 5.0, -1.0]), Some(0));
        assert_eq!(argmax(&[-3.0, -2.0, -1.0]), Some(2));
        assert_eq!(argmax(&[1.0, f32::NAN, 2.0]), Some(2));
    }
}
