//! Mask-invariant distillation: a student network sees a masked face and is
//! pulled onto the embedding a frozen teacher gives the same photo without
//! the mask, so unmasked enrollment photos and masked probes land in one
//! space.

use burn::prelude::*;

use crate::head::unit_rows;

/// The batch mean of `1 - cos(student_i, teacher_i)`: 0 when every student
/// embedding points where its teacher's does, 2 when opposite.
///
/// Cosine, not squared distance, because galleries compare embeddings by
/// their angle: the length of an embedding is free to change.
/// `student` and `teacher` are `[n, dim]`; the teacher is a target (detach
/// it, or build it from data, so no gradient flows into it).
///
/// ```
/// use maskface_train::burn::prelude::*;
/// use maskface_train::cosine_distillation;
///
/// let device = Device::flex();
/// let s = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 2.0]], &device);
/// let t = Tensor::<2>::from_floats([[3.0, 0.0], [2.0, 0.0]], &device);
/// let loss: f32 = cosine_distillation(s, t).into_scalar::<f32>();
/// assert!((loss - 0.5).abs() < 1e-6); // (0 + 1) / 2
/// ```
pub fn cosine_distillation(student: Tensor<2>, teacher: Tensor<2>) -> Tensor<1> {
    let [n, _] = student.dims();
    let cos = (unit_rows(student) * unit_rows(teacher)).sum_dim(1);
    cos.neg().add_scalar(1.0).sum().div_scalar(n.max(1) as f64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn loss_of(s: &[f32], t: &[f32], dim: usize) -> f64 {
        let device = Device::flex();
        let n = s.len() / dim;
        let s = Tensor::<2>::from_data(TensorData::new(s.to_vec(), [n, dim]), &device);
        let t = Tensor::<2>::from_data(TensorData::new(t.to_vec(), [n, dim]), &device);
        f64::from(cosine_distillation(s, t).into_scalar::<f32>())
    }

    #[test]
    fn known_values() {
        // Same direction (any length), orthogonal, opposite.
        assert!(loss_of(&[2.0, 0.0], &[5.0, 0.0], 2).abs() < 1e-6);
        assert!((loss_of(&[0.0, 1.0], &[1.0, 0.0], 2) - 1.0).abs() < 1e-6);
        assert!((loss_of(&[-1.0, 0.0], &[1.0, 0.0], 2) - 2.0).abs() < 1e-6);
    }

    /// The student's gradient from autodiff against the closed form
    /// `-(t/|t| - cos * s/|s|) / (n |s|)` and against central differences;
    /// the teacher, a plain target, gets none.
    #[test]
    fn the_gradient_matches_the_closed_form_and_finite_differences() {
        let dim = 3;
        let s = [0.3f32, -1.2, 0.5, 2.0, 0.1, -0.7];
        let t = [1.0f32, 0.4, -0.2, -0.5, 1.5, 0.9];
        let n = s.len() / dim;
        let device = Device::flex();
        let student = Tensor::<2>::from_data(TensorData::new(s.to_vec(), [n, dim]), &device)
            .autodiff()
            .require_grad();
        let teacher = Tensor::<2>::from_data(TensorData::new(t.to_vec(), [n, dim]), &device);
        let grads = cosine_distillation(student.clone(), teacher.clone()).backward();
        let g: Vec<f32> = student
            .grad(&grads)
            .unwrap()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(teacher.grad(&grads).is_none());
        for i in 0..n {
            let (si, ti) = (&s[i * dim..][..dim], &t[i * dim..][..dim]);
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let (ns, nt) = (norm(si), norm(ti));
            let cos = si.iter().zip(ti).map(|(a, b)| a * b).sum::<f32>() / (ns * nt);
            for k in 0..dim {
                let closed = -(ti[k] / nt - cos * si[k] / ns) / (n as f32 * ns);
                assert!((g[i * dim + k] - closed).abs() < 1e-5, "{i},{k}");
                let h = 1e-3;
                let (mut up, mut down) = (s, s);
                up[i * dim + k] += h;
                down[i * dim + k] -= h;
                let numeric =
                    (loss_of(&up, &t, dim) - loss_of(&down, &t, dim)) / (2.0 * f64::from(h));
                assert!(
                    (f64::from(g[i * dim + k]) - numeric).abs() < 2e-3,
                    "{i},{k}"
                );
            }
        }
    }
}
