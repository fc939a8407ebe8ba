//! What the classification networks return.

use burn::prelude::*;

/// The output of a classification network: its penultimate features and,
/// when it has a classification layer, the class scores.
#[derive(Debug, Clone)]
pub struct ClassifierOutput {
    /// The features the classification layer reads, `[n, dim]`.
    pub embedding: Tensor<2>,
    /// Unnormalised class scores, `[n, classes]`; `None` for a network
    /// built without a classification layer.
    pub logits: Option<Tensor<2>>,
}
