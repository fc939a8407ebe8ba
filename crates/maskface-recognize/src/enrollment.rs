//! Enrolling people into a gallery file from photos: the gallery opened
//! (or made) with the network its templates come from.

use std::path::{Path, PathBuf};

use maskface_nets::face_resnet::DLIB_RESNET_FILE;

use crate::{
    file_sha256, Enrolled, FacePipeline, Gallery, RecognizeError, DEFAULT_THRESHOLD,
    DEFAULT_TUNED_THRESHOLD,
};

/// A gallery open for enrolling, with the pipeline of its network.
pub struct Enrollment {
    /// The gallery file.
    pub path: PathBuf,
    /// The gallery.
    pub gallery: Gallery,
    /// Photo -> embedding with the gallery's network.
    pub pipeline: FacePipeline,
}

impl Enrollment {
    /// Opens the gallery at `path`, or makes it when missing: on dlib's
    /// network, or on the fine-tuned `weights` (recorded by absolute path
    /// and SHA-256), with `threshold` or the network's default
    /// ([`DEFAULT_THRESHOLD`], [`DEFAULT_TUNED_THRESHOLD`]). An existing
    /// gallery is read (and so checked) first and keeps its network and
    /// threshold: `weights` or a `threshold` that differ from them are
    /// errors, and its network's digest is checked. The detector, landmarks
    /// and dlib's network come from `models`.
    pub fn open(
        path: &Path,
        models: &Path,
        weights: Option<&Path>,
        threshold: Option<f32>,
    ) -> Result<Self, RecognizeError> {
        let asked = match weights {
            Some(w) => Some(
                std::fs::canonicalize(w)
                    .map_err(|e| RecognizeError::File {
                        path: w.to_path_buf(),
                        reason: format!("the fine-tuned weights: {e}"),
                    })?
                    .display()
                    .to_string(),
            ),
            None => None,
        };
        let exists = path.exists();
        let gallery = if exists {
            Gallery::load(path)?
        } else {
            let embedder = asked.clone().unwrap_or_else(|| DLIB_RESNET_FILE.into());
            let threshold = threshold.unwrap_or(if asked.is_some() {
                DEFAULT_TUNED_THRESHOLD
            } else {
                DEFAULT_THRESHOLD
            });
            let mut g = Gallery::new(embedder, threshold);
            if let Some(w) = weights {
                g.embedder_sha256 = Some(file_sha256(w)?);
            }
            g
        };
        if let Some(asked) = asked.filter(|a| *a != gallery.embedder) {
            return Err(RecognizeError::File {
                path: path.to_path_buf(),
                reason: format!("holds embeddings of {}, not of {asked}", gallery.embedder),
            });
        }
        if let Some(t) = threshold.filter(|t| exists && *t != gallery.threshold) {
            return Err(RecognizeError::InvalidParameter {
                name: "threshold",
                reason: format!(
                    "{t}: {} was made with threshold {}; a threshold is only used when a gallery is made",
                    path.display(),
                    gallery.threshold
                ),
            });
        }
        // A new gallery's digest was just taken from the weights: no need to
        // read them again to check it.
        let pipeline = if exists {
            FacePipeline::for_gallery(&gallery, path, models)?
        } else {
            FacePipeline::load(models, &gallery.embedder)?
        };
        Ok(Enrollment {
            path: path.to_path_buf(),
            gallery,
            pipeline,
        })
    }

    /// Enrolls `name` from `photos` (one face each; a photo already in the
    /// gallery changes nothing) and saves the gallery, atomically.
    pub fn enroll(&mut self, name: &str, photos: &[PathBuf]) -> Result<Enrolled, RecognizeError> {
        let templates = photos
            .iter()
            .map(|photo| self.pipeline.template(photo))
            .collect::<Result<Vec<_>, _>>()?;
        let done = self.gallery.enroll(name, templates)?;
        self.gallery.save(&self.path)?;
        Ok(done)
    }
}
