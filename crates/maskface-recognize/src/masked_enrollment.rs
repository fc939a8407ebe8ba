//! Enroll unmasked, identify masked: what a user does who enrolls people
//! from ordinary photos and points the program at masked faces, measured on
//! LFW people no network here trained on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use maskface_core::{rng_for, MaskRenderer};
use maskface_dataset::LfwIndex;
use maskface_mask::{MaskError, MaskFamily, PaperMask};
use maskface_openset::{
    auroc, dir_at_fpir, dir_at_fpir_bootstrap, DirSpread, OperatingPoint, Probe,
};
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::{
    embed_all, image_hash, FacePipeline, Gallery, MaskClassifier, MaskClassifierParams,
    MaskedChips, RecognizeError, Template, LFW_CENTRE_BOX,
};

/// Synthetic masked templates `enroll` adds per photo by default: on
/// people outside training probed in unseen masks they lift the
/// fine-tuned network's DIR at FPIR 1% from 44% to 63% and leave unmasked
/// probes as they were (docs/results.md).
pub const DEFAULT_MASKED_TEMPLATES: usize = 3;

/// Resamples of the strangers behind [`MaskedEnrollmentReport::at_fpir_1_spread`].
pub const BOOTSTRAP_DRAWS: usize = 1000;

/// Chips embedded per network call.
const EMBED_BATCH: usize = 32;

/// The protocol's settings.
///
/// People with at least `enroll_images + 1` photos are shuffled with the
/// seed; the first half are enrolled from `enroll_images` unmasked photos
/// each, the others are strangers. Every person's next photos (at most
/// `max_probes`), with a mask painted on, are the probes: an enrolled
/// person's should be named, a stranger's should be "unknown".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedEnrollment {
    /// Unmasked photos enrolled per person.
    pub enroll_images: usize,
    /// Masked probes per person, at most.
    pub max_probes: usize,
    /// Seed of who is enrolled, which photos enroll and the masks.
    pub seed: u64,
    /// Synthetic masked templates per enrollment photo (masks of
    /// [`MaskFamily::training`], so never a held-out style), beside the
    /// photo's own.
    pub masked_templates: usize,
}

impl Default for MaskedEnrollment {
    /// Two enrollment photos, up to five probes, seed 42, and
    /// [`DEFAULT_MASKED_TEMPLATES`] masked templates per photo, as `enroll`
    /// makes them.
    fn default() -> Self {
        MaskedEnrollment {
            enroll_images: 2,
            max_probes: 5,
            seed: 42,
            masked_templates: DEFAULT_MASKED_TEMPLATES,
        }
    }
}

/// One person of the protocol and their photos (relative to the LFW root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolPerson {
    /// The person's name.
    pub name: String,
    /// Photos enrolled unmasked (empty for a stranger).
    pub enroll: Vec<PathBuf>,
    /// Photos probed with a mask.
    pub probes: Vec<PathBuf>,
}

/// Who is enrolled and who is a stranger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolPeople {
    /// Enrolled people, sorted by name.
    pub enrolled: Vec<ProtocolPerson>,
    /// Strangers, sorted by name.
    pub strangers: Vec<ProtocolPerson>,
}

/// What the protocol measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedEnrollmentReport {
    /// The network.
    pub embedder: String,
    /// The mask painted on the probes, as its spec (`null`: none).
    pub mask: serde_json::Value,
    /// The settings.
    pub protocol: MaskedEnrollment,
    /// Whether faces were embedded with their mirror images
    /// ([`FacePipeline::mirror`]).
    pub mirror: bool,
    /// People enrolled.
    pub enrolled_people: usize,
    /// Masked probes of enrolled people.
    pub target_probes: usize,
    /// Masked probes of strangers.
    pub stranger_probes: usize,
    /// Photos in which MTCNN found no face (cut from the middle).
    pub fallbacks: usize,
    /// Target probes whose closest enrolled person is right.
    pub rank1: f64,
    /// The gallery's threshold.
    pub threshold: f32,
    /// Target probes named right at `threshold`.
    pub named_right: f64,
    /// Stranger probes taken for someone at `threshold`.
    pub strangers_accepted: f64,
    /// Area under the open-set ROC (target against stranger similarity).
    pub auroc: f64,
    /// DIR at FPIR 1%, with its threshold (measured after the fact on
    /// these strangers).
    pub at_fpir_1: OperatingPoint,
    /// How much DIR at FPIR 1% moves when other strangers are drawn
    /// ([`BOOTSTRAP_DRAWS`] resamples of the stranger people, seeded by
    /// the settings' seed): the protocol's noise on that figure.
    pub at_fpir_1_spread: DirSpread,
    /// DIR at FPIR 5%.
    pub at_fpir_5: OperatingPoint,
    /// The share of probes the pipeline's [`MaskClassifier`] finds masked
    /// (with no classifier, `None`): its accuracy on masked probes, one
    /// minus it on unmasked ones.
    pub found_masked: Option<f64>,
    /// Every probe: its similarity to the closest enrolled person, that
    /// person and the truth (`None`: a stranger).
    pub probes: Vec<Probe>,
}

impl MaskedEnrollment {
    /// The protocol's people among `people` (names in `index`).
    pub fn select(
        &self,
        index: &LfwIndex,
        people: &BTreeSet<String>,
    ) -> Result<ProtocolPeople, RecognizeError> {
        if self.enroll_images == 0 || self.max_probes == 0 {
            return Err(RecognizeError::InvalidParameter {
                name: "enroll_images / max_probes",
                reason: "at least one enrollment photo and one probe".into(),
            });
        }
        let mut eligible: Vec<ProtocolPerson> = index
            .identities
            .iter()
            .filter(|p| people.contains(&p.name) && p.images.len() > self.enroll_images)
            .map(|p| {
                let mut images = p.images.clone();
                images.shuffle(&mut rng_for(
                    self.seed,
                    &format!("masked-enrollment/{}", p.name),
                ));
                let probes = images
                    .iter()
                    .skip(self.enroll_images)
                    .take(self.max_probes)
                    .cloned()
                    .collect();
                images.truncate(self.enroll_images);
                ProtocolPerson {
                    name: p.name.clone(),
                    enroll: images,
                    probes,
                }
            })
            .collect();
        if eligible.len() < 2 {
            return Err(RecognizeError::InvalidParameter {
                name: "people",
                reason: format!(
                    "{} people with more than {} photos; the protocol needs two",
                    eligible.len(),
                    self.enroll_images
                ),
            });
        }
        eligible.shuffle(&mut rng_for(self.seed, "masked-enrollment/people"));
        let mut strangers = eligible.split_off(eligible.len().div_ceil(2));
        let mut enrolled = eligible;
        for s in &mut strangers {
            s.enroll.clear();
        }
        enrolled.sort_by(|a, b| a.name.cmp(&b.name));
        strangers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ProtocolPeople {
            enrolled,
            strangers,
        })
    }

    /// People of `people` the protocol does not use (too few photos), one
    /// photo each: faces outside the protocol to fit a [`MaskClassifier`]
    /// on, so its accuracy on the probes is measured on people it never saw.
    pub fn others(
        &self,
        index: &LfwIndex,
        people: &BTreeSet<String>,
        protocol: &ProtocolPeople,
    ) -> Vec<PathBuf> {
        let used: BTreeSet<&str> = protocol
            .enrolled
            .iter()
            .chain(&protocol.strangers)
            .map(|p| p.name.as_str())
            .collect();
        index
            .identities
            .iter()
            .filter(|p| people.contains(&p.name) && !used.contains(p.name.as_str()))
            .filter_map(|p| p.images.first().cloned())
            .collect()
    }

    /// A [`MaskClassifier`] fitted with `params` on `photos` (under `lfw`)
    /// as they are and with a mask of [`MaskFamily::training`] painted on
    /// (seeded by the settings' seed), so held-out mask styles stay unseen.
    pub fn fit_mask_classifier(
        &self,
        params: &MaskClassifierParams,
        pipeline: &FacePipeline,
        lfw: &Path,
        photos: &[PathBuf],
        progress: &dyn Fn(usize),
    ) -> Result<MaskClassifier, RecognizeError> {
        let chips = MaskedChips::make_with(
            pipeline,
            lfw,
            photos,
            &MaskFamily::training(),
            self.seed,
            Some(LFW_CENTRE_BOX),
            progress,
        )?;
        params.fit(
            &chips.unmasked,
            &chips.masked,
            &format!(
                "{} LFW faces outside training and outside the held-out protocol, unmasked and with masks of the training family (seed {})",
                photos.len(),
                self.seed
            ),
        )
    }

    /// Enrolls `people.enrolled` from their unmasked photos in a gallery of
    /// `pipeline`'s network `embedder` at `threshold`, then identifies every
    /// probe with `mask` painted on (seeded by the settings' seed and the
    /// photo's path), or as it is when `mask` is `None`. `progress` gets
    /// the photos done.
    #[allow(clippy::too_many_arguments)]
    pub fn run<R>(
        &self,
        pipeline: &FacePipeline,
        embedder: &str,
        lfw: &Path,
        people: &ProtocolPeople,
        mask: Option<&R>,
        threshold: f32,
        progress: &dyn Fn(usize),
    ) -> Result<MaskedEnrollmentReport, RecognizeError>
    where
        R: MaskRenderer<Error = MaskError> + Sync + ?Sized,
    {
        let all = people.enrolled.iter().chain(&people.strangers);
        let mut images: Vec<PathBuf> = all
            .flat_map(|p| p.enroll.iter().chain(&p.probes).cloned())
            .collect();
        images.sort();
        images.dedup();
        let chips = match mask {
            Some(m) => MaskedChips::make_with(
                pipeline,
                lfw,
                &images,
                m,
                self.seed,
                Some(LFW_CENTRE_BOX),
                progress,
            )?,
            // The probes are shown as they are; the painted chips go unused.
            None => MaskedChips::make_with(
                pipeline,
                lfw,
                &images,
                &PaperMask::default(),
                self.seed,
                Some(LFW_CENTRE_BOX),
                progress,
            )?,
        };
        let probe_chips = if mask.is_some() {
            &chips.masked
        } else {
            &chips.unmasked
        };
        let position = |p: &PathBuf| images.binary_search(p).unwrap_or_default();
        let bare: Vec<image::RgbImage> = people
            .enrolled
            .iter()
            .flat_map(|p| &p.enroll)
            .map(|p| chips.unmasked[position(p)].clone())
            .collect();
        let probe_people = people
            .enrolled
            .iter()
            .enumerate()
            .map(|(i, p)| (Some(i as u32), p))
            .chain(people.strangers.iter().map(|p| (None, p)));
        // The person each stranger probe shows, for the bootstrap.
        let stranger_groups: Vec<usize> = people
            .strangers
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.probes.iter().map(move |_| i))
            .collect();
        let truths: Vec<Option<u32>> = probe_people
            .clone()
            .flat_map(|(t, p)| p.probes.iter().map(move |_| t))
            .collect();
        let masked: Vec<image::RgbImage> = probe_people
            .flat_map(|(_, p)| &p.probes)
            .map(|p| probe_chips[position(p)].clone())
            .collect();
        let found_masked = pipeline.mask_classifier.as_ref().map(|c| {
            masked.iter().filter(|chip| c.is_masked(chip)).count() as f64
                / masked.len().max(1) as f64
        });
        let bare_e = embed_all(pipeline, &bare, EMBED_BATCH, &|_| {})?;
        let masked_e = embed_all(pipeline, &masked, EMBED_BATCH, &|_| {})?;

        let mut gallery = Gallery::new(embedder, threshold);
        let mut next = bare.iter().zip(bare_e);
        for person in &people.enrolled {
            let templates = person
                .enroll
                .iter()
                .zip(next.by_ref())
                .map(|(source, (chip, embedding))| {
                    Template::new(image_hash(chip), source.display().to_string(), embedding)
                })
                .collect();
            gallery.enroll(&person.name, templates)?;
        }
        let enroll_images: Vec<PathBuf> = people
            .enrolled
            .iter()
            .flat_map(|p| p.enroll.iter().cloned())
            .collect();
        let family = MaskFamily::training();
        for k in 1..=self.masked_templates {
            // Another seed than the probes' masks: other draws of the family.
            let seed = self.seed.wrapping_add(k as u64);
            let painted = MaskedChips::make_with(
                pipeline,
                lfw,
                &enroll_images,
                &family,
                seed,
                Some(LFW_CENTRE_BOX),
                &|_| {},
            )?;
            let e = embed_all(pipeline, &painted.masked, EMBED_BATCH, &|_| {})?;
            let mut next = enroll_images.iter().zip(painted.masked.iter().zip(e));
            for person in &people.enrolled {
                let templates = next
                    .by_ref()
                    .take(person.enroll.len())
                    .map(|(source, (chip, embedding))| Template {
                        synthetic: Some(format!("mask family, seed {seed}")),
                        ..Template::new(image_hash(chip), source.display().to_string(), embedding)
                    })
                    .collect();
                gallery.enroll(&person.name, templates)?;
            }
        }
        let names: Vec<&str> = people.enrolled.iter().map(|p| p.name.as_str()).collect();
        let probes: Vec<(Probe, bool)> = masked_e
            .iter()
            .zip(truths)
            .map(|(e, truth)| {
                let id = gallery.identify(e);
                let (nearest, score) = id.nearest.unwrap_or_default();
                let predicted = names.iter().position(|n| *n == nearest).unwrap_or(0) as u32;
                let probe = Probe {
                    score: f64::from(score),
                    predicted,
                    truth,
                };
                (probe, id.name.is_some())
            })
            .collect();
        let targets: Vec<&(Probe, bool)> = probes.iter().filter(|p| p.0.truth.is_some()).collect();
        let strangers: Vec<&(Probe, bool)> =
            probes.iter().filter(|p| p.0.truth.is_none()).collect();
        let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
        let plain: Vec<Probe> = probes.iter().map(|p| p.0).collect();
        let score_of = |v: &[&(Probe, bool)]| v.iter().map(|p| p.0.score).collect::<Vec<_>>();
        Ok(MaskedEnrollmentReport {
            embedder: embedder.to_string(),
            mask: mask.map_or(serde_json::Value::Null, |m| m.describe()),
            protocol: self.clone(),
            mirror: pipeline.mirror,
            enrolled_people: people.enrolled.len(),
            target_probes: targets.len(),
            stranger_probes: strangers.len(),
            fallbacks: chips.fallbacks,
            rank1: share(
                targets
                    .iter()
                    .filter(|p| p.0.truth == Some(p.0.predicted))
                    .count(),
                targets.len(),
            ),
            threshold,
            named_right: share(
                targets
                    .iter()
                    .filter(|p| p.1 && p.0.truth == Some(p.0.predicted))
                    .count(),
                targets.len(),
            ),
            strangers_accepted: share(strangers.iter().filter(|p| p.1).count(), strangers.len()),
            auroc: auroc(&score_of(&targets), &score_of(&strangers)),
            at_fpir_1: dir_at_fpir(&plain, 0.01),
            at_fpir_1_spread: dir_at_fpir_bootstrap(
                &plain,
                &stranger_groups,
                0.01,
                BOOTSTRAP_DRAWS,
                self.seed,
            ),
            at_fpir_5: dir_at_fpir(&plain, 0.05),
            found_masked,
            probes: plain,
        })
    }
}

impl MaskedEnrollmentReport {
    /// The operating point at the threshold that gives `fpir` on these
    /// strangers.
    pub fn at_fpir(&self, fpir: f64) -> OperatingPoint {
        dir_at_fpir(&self.probes, fpir)
    }

    /// One Markdown table row: network, mask, rank-1, named right and
    /// strangers accepted at the threshold, AUROC, DIR at FPIR 1% (± its
    /// bootstrap standard deviation) and 5%, and the share of probes found
    /// masked.
    pub fn table_row(&self, network: &str, mask: &str) -> String {
        let found = self
            .found_masked
            .map_or_else(|| "-".to_string(), |f| format!("{:.1}%", 100.0 * f));
        format!(
            "| {network} | {mask} | {} / {} | {:.1}% | {:.1}% ({:.2}) | {:.1}% | {:.3} | {:.1}% ±{:.1} ({:.3}) | {:.1}% | {found} |",
            self.target_probes,
            self.stranger_probes,
            100.0 * self.rank1,
            100.0 * self.named_right,
            self.threshold,
            100.0 * self.strangers_accepted,
            self.auroc,
            100.0 * self.at_fpir_1.dir,
            100.0 * self.at_fpir_1_spread.std,
            self.at_fpir_1.threshold,
            100.0 * self.at_fpir_5.dir,
        )
    }

    /// The table's header, for [`MaskedEnrollmentReport::table_row`].
    pub const TABLE_HEADER: &'static str = "| network | probe masks | targets / strangers | rank-1 | named right (threshold) | strangers accepted | AUROC | DIR@FPIR 1% ± sd (threshold) | DIR@FPIR 5% | found masked |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

    /// Writes the report as JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<(), RecognizeError> {
        crate::json_file::write_json(path, self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use maskface_dataset::IdentityImages;

    fn index(counts: &[(&str, usize)]) -> LfwIndex {
        LfwIndex {
            root: PathBuf::from("lfw"),
            identities: counts
                .iter()
                .map(|&(name, n)| IdentityImages {
                    name: name.into(),
                    images: (1..=n)
                        .map(|i| PathBuf::from(format!("{name}/{name}_{i:04}.jpg")))
                        .collect(),
                })
                .collect(),
            skipped: Vec::new(),
        }
    }

    fn names(people: &[ProtocolPerson]) -> Vec<&str> {
        people.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn half_are_enrolled_from_their_own_photos_and_probes_never_repeat_them() {
        let idx = index(&[("A", 3), ("B", 9), ("C", 2), ("D", 4), ("E", 5), ("F", 1)]);
        let all: BTreeSet<String> = ["A", "B", "C", "D", "E", "F"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let protocol = MaskedEnrollment::default();
        let people = protocol.select(&idx, &all).unwrap();
        // C and F have too few photos; of A, B, D, E two are enrolled.
        assert_eq!(people.enrolled.len(), 2);
        assert_eq!(people.strangers.len(), 2);
        let mut everyone = names(&people.enrolled);
        everyone.extend(names(&people.strangers));
        everyone.sort();
        assert_eq!(everyone, ["A", "B", "D", "E"]);
        for p in &people.enrolled {
            assert_eq!(p.enroll.len(), 2);
            assert!(p.enroll.iter().all(|e| !p.probes.contains(e)));
            assert!(p
                .enroll
                .iter()
                .chain(&p.probes)
                .all(|e| e.starts_with(&p.name)));
        }
        for p in &people.strangers {
            assert!(p.enroll.is_empty());
        }
        let b = people
            .enrolled
            .iter()
            .chain(&people.strangers)
            .find(|p| p.name == "B")
            .unwrap();
        assert_eq!(b.probes.len(), 5, "at most max_probes");
        // The same seed gives the same people and photos; another, others.
        assert_eq!(protocol.select(&idx, &all).unwrap(), people);
        let other = (1..20)
            .map(|seed| MaskedEnrollment {
                seed,
                ..MaskedEnrollment::default()
            })
            .any(|p| p.select(&idx, &all).unwrap() != people);
        assert!(other);
    }

    #[test]
    fn too_few_people_or_photos_are_refused_by_name() {
        let idx = index(&[("A", 3), ("B", 2)]);
        let all: BTreeSet<String> = ["A", "B"].iter().map(|s| s.to_string()).collect();
        let err = MaskedEnrollment::default().select(&idx, &all).unwrap_err();
        assert!(err.to_string().contains("1 people"), "{err}");
        let none = MaskedEnrollment {
            max_probes: 0,
            ..MaskedEnrollment::default()
        };
        assert!(none.select(&idx, &all).is_err());
    }
}
