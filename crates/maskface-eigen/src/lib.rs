//! # maskface-eigen
//!
//! The paper's traditional baseline, Eigenfaces, as a small linfa-style
//! crate: parameters ([`PcaParams`], [`NearestParams`]) are turned into
//! fitted models ([`Pca`], [`Nearest`]) by [`Fit`], and the models
//! [`Predict`].
//!
//! - [`Preprocess`]: grayscale, histogram equalisation, a fixed size, one
//!   vector per face;
//! - [`PcaParams`] / [`Pca`]: the mean face and the components (eigenfaces)
//!   from LAPACK (ndarray-linalg on the system OpenBLAS): a thin SVD of the
//!   centred data or the Gram-matrix trick, components by count or by
//!   explained variance, optional whitening; saved and loaded as JSON;
//! - [`NearestParams`] / [`Nearest`]: nearest neighbour or nearest class
//!   mean, Euclidean or cosine, with a distance threshold for strangers;
//! - [`Eigenfaces`]: preprocessing and PCA together, a
//!   [`maskface_core::FaceEmbedder`];
//! - [`EigenModel`]: all of it with the class names in one JSON file, a
//!   [`maskface_core::Classifier`] whose scores are minus the distance to
//!   each class's closest reference (for open-set scoring);
//! - [`eigenface_grid`], [`variance_curve`]: the pictures, and
//!   [`EigenExperiment`]: the whole experiment as `maskface eigen` runs it,
//!   pictures included (feature `plot`, on by default, which brings in
//!   `maskface-plot` and its font).
//!
//! ```
//! use maskface_eigen::{Components, Fit, NearestParams, PcaParams};
//! use ndarray::array;
//!
//! // Four "faces" of two people.
//! let x = array![[0.0, 0.1, 1.0], [0.1, 0.0, 0.9], [1.0, 0.9, 0.0], [0.9, 1.0, 0.1]];
//! let labels = [0, 0, 1, 1];
//! let pca = PcaParams::new(Components::Count(2)).fit(&x).unwrap();
//! let proj = pca.transform(&x).unwrap();
//! let clf = NearestParams::default().fit((&proj, &labels[..])).unwrap();
//! let query = pca.transform(&array![[0.95, 0.95, 0.05]]).unwrap();
//! assert_eq!(clf.predict(&query).unwrap()[0].label, Some(1));
//! ```

mod classify;
mod error;
#[cfg(feature = "plot")]
mod experiment;
mod model;
mod pca;
mod pictures;
mod preprocess;

pub use classify::{Decision, Metric, Nearest, NearestParams, Rule};
pub use error::EigenError;
#[cfg(feature = "plot")]
pub use experiment::{EigenExperiment, EigenOutcome};
pub use model::{EigenModel, EIGEN_MODEL_KIND};
pub use pca::{Components, Pca, PcaParams, Solver};
pub use pictures::vector_image;
#[cfg(feature = "plot")]
pub use pictures::{eigenface_grid, variance_curve};
pub use preprocess::{equalize, Preprocess};

/// Re-exported because [`Preprocess`] and the models take [`image::RgbImage`]s:
/// use this path to get the same version.
pub use image;
/// Re-exported because [`Fit`] and [`Predict`] take and return `ndarray`
/// arrays: use this path to get the same version.
pub use ndarray;

use image::RgbImage;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Parameters that can be fitted to data, giving a model.
pub trait Fit<R> {
    /// The fitted model.
    type Object;
    /// Why fitting failed.
    type Error;
    /// Fits the parameters to `records`.
    fn fit(&self, records: R) -> Result<Self::Object, Self::Error>;
}

/// A fitted model that maps inputs to outputs.
pub trait Predict<R> {
    /// What it gives for `R`.
    type Output;
    /// Applies the model.
    fn predict(&self, records: R) -> Self::Output;
}

impl Predict<&Array2<f64>> for Pca {
    type Output = Result<Array2<f64>, EigenError>;

    /// The projections ([`Pca::transform`]).
    fn predict(&self, x: &Array2<f64>) -> Self::Output {
        self.transform(x)
    }
}

impl Predict<&Array2<f64>> for Nearest {
    type Output = Result<Vec<Decision>, EigenError>;

    /// The decisions ([`Nearest::predict`]).
    fn predict(&self, x: &Array2<f64>) -> Self::Output {
        Nearest::predict(self, x)
    }
}

/// Preprocessing and a fitted PCA: faces in, projections out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eigenfaces {
    /// How images become vectors.
    pub preprocess: Preprocess,
    /// The fitted PCA.
    pub pca: Pca,
}

impl Eigenfaces {
    /// Fits a PCA on `images` preprocessed by `preprocess`.
    pub fn fit(
        preprocess: Preprocess,
        params: &PcaParams,
        images: &[RgbImage],
    ) -> Result<Self, EigenError> {
        let x = preprocess.matrix(images);
        Ok(Eigenfaces {
            preprocess,
            pca: params.fit(&x)?,
        })
    }

    /// The projections of `images`, one row each.
    pub fn project(&self, images: &[RgbImage]) -> Result<Array2<f64>, EigenError> {
        self.pca.transform(&self.preprocess.matrix(images))
    }
}

impl maskface_core::FaceEmbedder for Eigenfaces {
    type Error = EigenError;

    fn dim(&self) -> usize {
        self.pca.n_components()
    }

    fn embed(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, EigenError> {
        Ok(self
            .project(faces)?
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|&v| v as f32).collect())
            .collect())
    }
}
