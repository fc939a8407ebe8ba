//! Enrolling people into a gallery file from photos: the gallery opened
//! (or made) with the network its templates come from.

use std::path::{Path, PathBuf};

use maskface_nets::face_resnet::DLIB_RESNET_FILE;

#[cfg(doc)]
use crate::INSTALLED_EMBEDDER_FILE;
use crate::{
    file_sha256, installed_embedder, Calibration, Enrolled, FacePipeline, Gallery, RecognizeError,
    DEFAULT_MASKED_TEMPLATES, DEFAULT_THRESHOLD, DEFAULT_TUNED_THRESHOLD,
};

/// Which network a new gallery is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkChoice<'a> {
    /// The mask-robust network installed in the models folder
    /// ([`INSTALLED_EMBEDDER_FILE`], which `maskface run` puts there), or
    /// dlib's network when there is none.
    Default,
    /// dlib's network as it is.
    Dlib,
    /// Fine-tuned weights (`maskface train`'s `embedder.bpk`).
    Weights(&'a Path),
}

/// A gallery open for enrolling, with the pipeline of its network.
pub struct Enrollment {
    /// The gallery file.
    pub path: PathBuf,
    /// The gallery.
    pub gallery: Gallery,
    /// Photo -> embedding with the gallery's network.
    pub pipeline: FacePipeline,
    /// Whether a new gallery got dlib's network because no mask-robust
    /// network is installed (worth saying once).
    pub fell_back_to_dlib: bool,
    /// Synthetic masked templates added per photo
    /// ([`DEFAULT_MASKED_TEMPLATES`] unless changed).
    pub masked_templates: usize,
    /// Seed of the synthetic masks.
    pub seed: u64,
}

impl Enrollment {
    /// Opens the gallery at `path`, or makes it when missing with the
    /// `network` chosen, at `threshold` or the network's default: the
    /// thresholds calibrated for the weights ([`Calibration`], kept beside
    /// them: masked faces, and unmasked ones when measured), else
    /// [`DEFAULT_TUNED_THRESHOLD`] for fine-tuned weights and
    /// [`DEFAULT_THRESHOLD`] for dlib's network. Fine-tuned weights are
    /// recorded by absolute path and SHA-256.
    ///
    /// An existing gallery is read (and so checked) first and keeps its
    /// network and threshold: another network asked for by name
    /// ([`NetworkChoice::Dlib`] or [`NetworkChoice::Weights`]) or a
    /// `threshold` that differs is an error, and its network's digest is
    /// checked. A new gallery embeds every face together with its mirror
    /// image ([`Gallery::mirror`]); an existing one as it was made. The
    /// detector, landmarks and dlib's network come from `models`.
    pub fn open(
        path: &Path,
        models: &Path,
        network: NetworkChoice<'_>,
        threshold: Option<f32>,
    ) -> Result<Self, RecognizeError> {
        let installed = installed_embedder(models);
        let fell_back_to_dlib = network == NetworkChoice::Default && installed.is_none();
        let weights: Option<PathBuf> = match network {
            NetworkChoice::Default => installed,
            NetworkChoice::Dlib => None,
            NetworkChoice::Weights(w) => Some(w.to_path_buf()),
        };
        let asked = match &weights {
            Some(w) => Some(
                std::fs::canonicalize(w)
                    .map_err(|e| RecognizeError::File {
                        path: w.clone(),
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
            let calibrated = match &weights {
                Some(w) => Calibration::read_for(w)?,
                None => None,
            };
            let chosen = threshold
                .or(calibrated.as_ref().map(|c| c.threshold))
                .unwrap_or(if asked.is_some() {
                    DEFAULT_TUNED_THRESHOLD
                } else {
                    DEFAULT_THRESHOLD
                });
            let mut g = Gallery::new(embedder, chosen);
            g.mirror = true;
            // A threshold asked for holds for every face.
            if threshold.is_none() {
                g.unmasked_threshold = calibrated.and_then(|c| c.unmasked_threshold);
            }
            if let Some(w) = &weights {
                g.embedder_sha256 = Some(file_sha256(w)?);
            }
            g
        };
        let asked_by_name = match network {
            NetworkChoice::Default => None,
            NetworkChoice::Dlib => Some(DLIB_RESNET_FILE.to_string()),
            NetworkChoice::Weights(_) => asked,
        };
        if let Some(asked) = asked_by_name.filter(|a| *a != gallery.embedder) {
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
            FacePipeline {
                mirror: gallery.mirror,
                ..FacePipeline::load(models, &gallery.embedder)?
            }
        };
        Ok(Enrollment {
            path: path.to_path_buf(),
            gallery,
            pipeline,
            fell_back_to_dlib: fell_back_to_dlib && !exists,
            masked_templates: DEFAULT_MASKED_TEMPLATES,
            seed: maskface_core::DEFAULT_SEED,
        })
    }

    /// Enrolls `name` from `photos` (one face each; a photo already in the
    /// gallery changes nothing) and saves the gallery, atomically.
    pub fn enroll(&mut self, name: &str, photos: &[PathBuf]) -> Result<Enrolled, RecognizeError> {
        let mut templates = Vec::new();
        for photo in photos {
            templates.extend(
                self.pipeline
                    .templates(photo, self.masked_templates, self.seed)?,
            );
        }
        // The templates took the time; the gallery is read again under its
        // lock, so enrollments running at the same time all land.
        let opened = &self.gallery;
        let (gallery, done) = Gallery::update(
            &self.path,
            || opened.clone(),
            |g| {
                if g.embedder != opened.embedder || g.embedder_sha256 != opened.embedder_sha256 {
                    return Err(RecognizeError::File {
                        path: self.path.clone(),
                        reason: format!(
                            "was made meanwhile for embeddings of {}, not of {}",
                            g.embedder, opened.embedder
                        ),
                    });
                }
                g.enroll(name, templates)
            },
        )?;
        self.gallery = gallery;
        Ok(done)
    }
}
