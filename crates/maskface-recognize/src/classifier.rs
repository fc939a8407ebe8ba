//! An embedder and a head as one classifier over face chips.

use image::RgbImage;
use maskface_core::FaceEmbedder;

use crate::{Head, RecognizeError};

/// Embeds `faces` in batches of `batch`, calling `progress` with each
/// batch's size.
pub fn embed_all<E: FaceEmbedder + ?Sized>(
    embedder: &E,
    faces: &[RgbImage],
    batch: usize,
    progress: &dyn Fn(usize),
) -> Result<Vec<Vec<f32>>, RecognizeError> {
    let mut out = Vec::with_capacity(faces.len());
    for chunk in faces.chunks(batch.max(1)) {
        out.extend(
            embedder
                .embed(chunk)
                .map_err(|e| RecognizeError::Embedder(e.to_string()))?,
        );
        progress(chunk.len());
    }
    Ok(out)
}

/// Face chips in, one score per class out: an embedder followed by a
/// [`Head`]. A [`maskface_core::Classifier`], so the open-set tools take it
/// as they take the Eigenface model.
pub struct EmbeddingClassifier<'a, E: FaceEmbedder + ?Sized> {
    /// The embedder.
    pub embedder: &'a E,
    /// The head on its embeddings.
    pub head: &'a Head,
}

impl<E: FaceEmbedder + ?Sized> maskface_core::Classifier for EmbeddingClassifier<'_, E> {
    type Error = RecognizeError;

    fn num_classes(&self) -> usize {
        self.head.num_classes()
    }

    fn logits(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>, RecognizeError> {
        Ok(embed_all(self.embedder, faces, 32, &|_| ())?
            .iter()
            .map(|e| self.head.scores(e))
            .collect())
    }
}
