//! Principal component analysis on LAPACK: the mean face and the eigenfaces.

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Slice};
use ndarray_linalg::{Eigh, JobSvd, SVDDC, UPLO};
use serde::{Deserialize, Serialize};

use crate::{EigenError, Fit};

/// How many components are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Components {
    /// Exactly this many (at most the rank of the centred data).
    Count(usize),
    /// The fewest whose explained variance reaches this fraction, in (0, 1].
    Variance(f64),
}

/// How the components are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// The thin SVD: on eigenface-sized data (1,340 faces of 4,096 pixels)
    /// it is twice as fast as the Gram route (`benches/pca_fit.rs`,
    /// `docs/benchmarks.md`).
    Auto,
    /// Thin SVD of the centred data (LAPACK `gesdd`).
    Svd,
    /// Eigendecomposition of the `n x n` Gram matrix of the centred data
    /// (LAPACK `syevd`), the classic eigenface trick for `n < d`.
    Gram,
}

/// Parameters of a PCA: what [`Fit::fit`] turns into a [`Pca`].
///
/// ```
/// use maskface_eigen::{Components, Fit, PcaParams};
/// use ndarray::array;
///
/// let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]];
/// let pca = PcaParams::new(Components::Count(1)).fit(&x).unwrap();
/// assert_eq!(pca.n_components(), 1);
/// assert!(pca.explained_variance_ratio()[0] > 0.99);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaParams {
    /// Components kept.
    pub components: Components,
    /// Divide each projection by its component's standard deviation.
    pub whiten: bool,
    /// How the components are computed.
    pub solver: Solver,
}

impl PcaParams {
    /// Keep `components`, no whitening, automatic solver.
    pub fn new(components: Components) -> Self {
        PcaParams {
            components,
            whiten: false,
            solver: Solver::Auto,
        }
    }

    /// With or without whitening.
    pub fn whiten(mut self, whiten: bool) -> Self {
        self.whiten = whiten;
        self
    }

    /// With this solver.
    pub fn solver(mut self, solver: Solver) -> Self {
        self.solver = solver;
        self
    }
}

/// A fitted PCA: mean, components (rows, unit length, orthogonal) and the
/// variance each explains. Serialisable, so a fitted model can be saved
/// ([`Pca::save`]) and loaded ([`Pca::load`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    mean: Array1<f64>,
    components: Array2<f64>,
    explained_variance: Array1<f64>,
    total_variance: f64,
    whiten: bool,
}

impl Fit<&Array2<f64>> for PcaParams {
    type Object = Pca;
    type Error = EigenError;

    /// Fits on `x`, one sample per row.
    fn fit(&self, x: &Array2<f64>) -> Result<Pca, EigenError> {
        let (n, d) = x.dim();
        if n < 2 || d == 0 {
            return Err(EigenError::Data(format!(
                "PCA needs at least 2 samples of at least 1 value; got {n} x {d}"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(EigenError::Data(
                "the data holds NaN or infinite values".into(),
            ));
        }
        match self.components {
            Components::Count(0) => {
                return Err(EigenError::InvalidParameter {
                    name: "components",
                    reason: "at least one component is needed".into(),
                })
            }
            Components::Count(k) if k > n.min(d) => {
                return Err(EigenError::InvalidParameter {
                    name: "components",
                    reason: format!(
                        "{k} components asked of {n} samples of {d} values (at most {})",
                        n.min(d)
                    ),
                })
            }
            Components::Variance(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(EigenError::InvalidParameter {
                    name: "components",
                    reason: format!("explained variance {f} is outside (0, 1]"),
                })
            }
            _ => {}
        }
        let mean = x
            .mean_axis(Axis(0))
            .ok_or_else(|| EigenError::Data("no samples".into()))?;
        let centred = x - &mean;
        let total_variance = centred.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;
        if total_variance <= f64::EPSILON * d as f64 {
            return Err(EigenError::Data(format!(
                "all {n} samples are the same (constant images?): nothing to analyse"
            )));
        }
        let solver = match self.solver {
            Solver::Auto => Solver::Svd,
            s => s,
        };
        // Components as rows, variances descending.
        let (components, variances) = match solver {
            Solver::Gram => gram_components(&centred)?,
            _ => svd_components(&centred)?,
        };
        let keep = match self.components {
            Components::Count(k) => k.min(variances.len()),
            Components::Variance(f) => {
                let mut acc = 0.0;
                let mut k = variances.len();
                for (i, v) in variances.iter().enumerate() {
                    acc += v;
                    if acc >= f * total_variance * (1.0 - 1e-12) {
                        k = i + 1;
                        break;
                    }
                }
                k
            }
        };
        Ok(Pca {
            mean,
            components: components
                .slice_axis(Axis(0), Slice::from(..keep))
                .to_owned(),
            explained_variance: variances
                .slice_axis(Axis(0), Slice::from(..keep))
                .to_owned(),
            total_variance,
            whiten: self.whiten,
        })
    }
}

/// Rows of `Vt` from the thin SVD of the centred data.
fn svd_components(centred: &Array2<f64>) -> Result<(Array2<f64>, Array1<f64>), EigenError> {
    let n = centred.nrows();
    let (_, s, vt) = centred.svddc(JobSvd::Some).map_err(|e| {
        EigenError::Linalg(format!("SVD of the {n} x {} data: {e}", centred.ncols()))
    })?;
    let vt = vt.ok_or_else(|| EigenError::Linalg("the SVD returned no right vectors".into()))?;
    let var = s.mapv(|s| s * s / (n - 1) as f64);
    // Only directions with variance: the rank of the centred data.
    let rank = rank(&var);
    Ok((
        vt.slice_axis(Axis(0), Slice::from(..rank)).to_owned(),
        var.slice_axis(Axis(0), Slice::from(..rank)).to_owned(),
    ))
}

/// Eigenvectors `u` of `X Xt` give the components `Xt u / |Xt u|`.
fn gram_components(centred: &Array2<f64>) -> Result<(Array2<f64>, Array1<f64>), EigenError> {
    let n = centred.nrows();
    let gram = centred.dot(&centred.t());
    let (vals, vecs) = gram.eigh(UPLO::Upper).map_err(|e| {
        EigenError::Linalg(format!(
            "eigendecomposition of the {n} x {n} Gram matrix: {e}"
        ))
    })?;
    let var_all: Array1<f64> = vals
        .iter()
        .rev()
        .map(|v| v.max(0.0) / (n - 1) as f64)
        .collect();
    let rank = rank(&var_all);
    // Eigenvalues come ascending: take the last `rank` columns, largest first.
    let u = vecs
        .slice_axis(Axis(1), Slice::new((n - rank) as isize, None, -1))
        .to_owned();
    let mut comps = u.t().dot(centred);
    for mut row in comps.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    Ok((
        comps,
        var_all.slice_axis(Axis(0), Slice::from(..rank)).to_owned(),
    ))
}

/// Number of variances above the numerical noise of the largest.
fn rank(var: &Array1<f64>) -> usize {
    let top = var.iter().copied().fold(0.0, f64::max);
    var.iter().filter(|&&v| v > top * 1e-12).count()
}

impl Pca {
    /// The mean sample (the mean face).
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The components, one per row (the eigenfaces), strongest first.
    pub fn components(&self) -> ArrayView2<'_, f64> {
        self.components.view()
    }

    /// Whether projections are divided by their component's standard
    /// deviation.
    pub fn is_whitened(&self) -> bool {
        self.whiten
    }

    /// Number of components kept.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Length of the samples.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Variance along each component.
    pub fn explained_variance(&self) -> ArrayView1<'_, f64> {
        self.explained_variance.view()
    }

    /// Fraction of the total variance along each component.
    pub fn explained_variance_ratio(&self) -> Array1<f64> {
        self.explained_variance.mapv(|v| v / self.total_variance)
    }

    /// Projects samples (rows) onto the components.
    pub fn transform(&self, x: &Array2<f64>) -> Result<Array2<f64>, EigenError> {
        self.check_dim(x.ncols())?;
        let mut p = (x - &self.mean).dot(&self.components.t());
        if self.whiten {
            let sd = self.explained_variance.mapv(f64::sqrt);
            p /= &sd;
        }
        Ok(p)
    }

    /// Samples back from their projections.
    pub fn inverse_transform(&self, p: &Array2<f64>) -> Result<Array2<f64>, EigenError> {
        if p.ncols() != self.n_components() {
            return Err(EigenError::Data(format!(
                "projections of {} values given to a PCA of {} components",
                p.ncols(),
                self.n_components()
            )));
        }
        let p = if self.whiten {
            p * &self.explained_variance.mapv(f64::sqrt)
        } else {
            p.clone()
        };
        Ok(p.dot(&self.components) + &self.mean)
    }

    fn check_dim(&self, d: usize) -> Result<(), EigenError> {
        if d != self.dim() {
            return Err(EigenError::Data(format!(
                "samples of {d} values given to a PCA fitted on {} (a different image size?)",
                self.dim()
            )));
        }
        Ok(())
    }

    /// Saves the model as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), EigenError> {
        crate::model::save_json(self, path)
    }

    /// Loads a model written by [`Pca::save`].
    pub fn load(path: &Path) -> Result<Self, EigenError> {
        let pca: Pca = crate::model::load_json(path)?;
        if pca.components.ncols() != pca.mean.len()
            || pca.explained_variance.len() != pca.components.nrows()
        {
            return Err(EigenError::Model {
                path: path.to_path_buf(),
                reason: "inconsistent sizes".into(),
            });
        }
        Ok(pca)
    }
}
