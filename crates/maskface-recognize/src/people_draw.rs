//! People drawn from an LFW-style folder outside a set of targets and put
//! through the pipeline that made the targets: the strangers of an open-set
//! test, the extra identities of a fine-tune.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use maskface_core::Manifest;
use maskface_dataset::{draw_strangers, extra_identities, scan_lfw, LfwIndex, Verify};
use maskface_mask::{generate_like, GenerationParams, MaskSpec};
use maskface_nets::mtcnn::MtcnnConfig;

use crate::pipeline::{load_mtcnn, load_predictor};
use crate::RecognizeError;

/// The fewest images an extra identity has by default: two, so that one
/// person's images pull together in training. (With one, a person still
/// teaches a distilled network what their masked face should look like.)
pub const EXTRA_MIN_IMAGES: usize = 2;

/// The name of the drawn people's own manifest, beside the masked variant.
pub const DRAW_SOURCE_FILE: &str = "source.csv";

/// What a [`PeopleDraw`] reports while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawProgress {
    /// The LFW folder is being scanned (about a second for LFW).
    Scanning,
    /// The scan is over; `total` drawn images are being masked.
    Masking {
        /// How many images.
        total: usize,
    },
    /// This many more images are masked.
    Advance(usize),
    /// Everything is done.
    Finish,
}

/// People drawn from `lfw` outside the identities of `targets`.
///
/// When `targets` was made by `maskface generate` (its manifest records the
/// stage, see [`GenerationParams::from_manifest`]), the drawn images are put
/// through the same pipeline and seed, with the targets' mask or `mask`, so
/// they look like the targets; otherwise they are left as the LFW photos
/// they are.
#[derive(Debug, Clone, Copy)]
pub struct PeopleDraw<'a> {
    /// The LFW-style folder (one sub-folder per person).
    pub lfw: &'a Path,
    /// The known people: their identities are never drawn.
    pub targets: &'a Manifest,
    /// The folder with MTCNN's weights and the landmark model.
    pub models: &'a Path,
    /// Smallest face MTCNN looks for in the drawn images.
    pub min_face: u32,
    /// The mask painted on the drawn faces; `None`: the targets' own.
    pub mask: Option<&'a MaskSpec>,
    /// Also write each drawn face without its mask (the variant's
    /// [`Variant::unmasked`](maskface_mask::Variant::unmasked) twin), for
    /// training on masked / unmasked pairs.
    pub unmasked: bool,
}

/// A draw, as written to its folder.
#[derive(Debug, Clone)]
pub struct DrawnPeople {
    /// The manifest of the drawn images: the masked variant when
    /// `masked`, else the LFW photos themselves.
    pub manifest: Manifest,
    /// Where `manifest` was written.
    pub path: PathBuf,
    /// The manifest of the LFW photos drawn (`dir/source.csv`).
    pub source: PathBuf,
    /// Whether the images went through the targets' pipeline.
    pub masked: bool,
    /// `false` when the targets' manifest did not record its mask, so the
    /// paper's polygon was painted instead (worth a warning).
    pub mask_recorded: bool,
    /// The same faces without the mask and where they were written, when
    /// [`PeopleDraw::unmasked`] asked for them.
    pub unmasked: Option<(Manifest, PathBuf)>,
}

impl PeopleDraw<'_> {
    /// `count` stranger images (one per person first, see
    /// [`draw_strangers`]) seeded by `seed`, written to `dir`.
    ///
    /// `overwrite` makes them again when `dir` holds a draw made with other
    /// parameters; an interrupted draw resumes.
    pub fn strangers(
        &self,
        count: usize,
        seed: u64,
        dir: &Path,
        overwrite: bool,
        on_progress: &(dyn Fn(DrawProgress) + Sync),
    ) -> Result<DrawnPeople, RecognizeError> {
        let index = self.scan(on_progress)?;
        let drawn = draw_strangers(&index, &self.known(), count, seed)?;
        self.mask(drawn, dir, overwrite, on_progress)
    }

    /// Everyone in the folder with at least `min_images` images (their
    /// first `images_per_person`; see [`EXTRA_MIN_IMAGES`]), outside the
    /// targets and outside
    /// the strangers that [`PeopleDraw::strangers`] draws with
    /// `strangers_excluded` and `seed` (none when 0), written to `dir`.
    ///
    /// Training on them keeps the open-set test's strangers unseen.
    pub fn extra_identities(
        &self,
        min_images: usize,
        images_per_person: usize,
        strangers_excluded: usize,
        seed: u64,
        dir: &Path,
        on_progress: &(dyn Fn(DrawProgress) + Sync),
    ) -> Result<DrawnPeople, RecognizeError> {
        let index = self.scan(on_progress)?;
        let known = self.known();
        let mut exclude = known.clone();
        if strangers_excluded > 0 {
            exclude.extend(draw_strangers(&index, &known, strangers_excluded, seed)?.identities());
        }
        let drawn = extra_identities(&index, &exclude, min_images, images_per_person)?;
        self.mask(drawn, dir, false, on_progress)
    }

    fn known(&self) -> BTreeSet<String> {
        self.targets.identities().into_iter().collect()
    }

    fn scan(
        &self,
        on_progress: &(dyn Fn(DrawProgress) + Sync),
    ) -> Result<LfwIndex, RecognizeError> {
        on_progress(DrawProgress::Scanning);
        Ok(scan_lfw(self.lfw, Verify::Header)?)
    }

    fn mask(
        &self,
        drawn: Manifest,
        dir: &Path,
        overwrite: bool,
        on_progress: &(dyn Fn(DrawProgress) + Sync),
    ) -> Result<DrawnPeople, RecognizeError> {
        let source = dir.join(DRAW_SOURCE_FILE);
        drawn.write(&source)?;
        let Some(mut params) = GenerationParams::from_manifest(self.targets)? else {
            on_progress(DrawProgress::Finish);
            return Ok(DrawnPeople {
                manifest: drawn,
                path: source.clone(),
                source,
                masked: false,
                mask_recorded: false,
                unmasked: None,
            });
        };
        let mask_recorded = params.mask.is_some() || self.mask.is_some();
        if let Some(mask) = self.mask {
            params.mask = Some(mask.clone());
        }
        if self.unmasked {
            let Some(twin) = params.variant.unmasked() else {
                return Err(RecognizeError::InvalidParameter {
                    name: "unmasked",
                    reason: format!(
                        "the targets' variant `{}` has no unmasked counterpart",
                        params.variant.as_str()
                    ),
                });
            };
            params.options.variants.push(twin);
        }
        let predictor = load_predictor(self.models)?;
        let config = MtcnnConfig {
            min_face_size: self.min_face,
            selection: params.options.selection,
            ..MtcnnConfig::default()
        };
        let mtcnn = load_mtcnn(self.models, config)?;
        on_progress(DrawProgress::Masking {
            total: drawn.samples.len(),
        });
        let made = generate_like(&params, &drawn, &mtcnn, &predictor, dir, overwrite, &|n| {
            on_progress(DrawProgress::Advance(n))
        })?;
        on_progress(DrawProgress::Finish);
        Ok(DrawnPeople {
            manifest: made.manifest,
            path: made.path,
            source,
            masked: true,
            mask_recorded,
            unmasked: made.unmasked,
        })
    }
}
