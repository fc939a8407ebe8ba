//! The enrolled people: one versioned JSON file, written atomically, so a
//! crash mid-write leaves the previous gallery. Adding a person needs no
//! retraining: their templates are embeddings, and identification compares
//! a face with each person's centre.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use maskface_core::vector::{dot, l2_normalized};

use crate::RecognizeError;

/// What a gallery file says it is.
pub const GALLERY_FORMAT: &str = "maskface-gallery";
/// The layout version this crate writes and reads.
pub const GALLERY_VERSION: u32 = 1;

/// The cosine similarity to a person's centre at which 1% of 1,000 masked
/// LFW strangers are taken for one of the authors' 50 people (0.971; 73% of
/// those people's masked test faces pass it; docs/recognition.md). dlib's
/// embeddings share a large common direction, so similarities crowd near 1.
/// A gallery's threshold is set when it is made (`maskface enroll --threshold`).
pub const DEFAULT_THRESHOLD: f32 = 0.97;

/// The same operating point for the network `maskface train` fine-tunes on
/// its defaults: 1% of the 1,000 masked strangers reach 0.735 against one of
/// the 50 people's centres, and 92% of those people's masked test faces
/// pass it (docs/recognition.md). Fine-tuned embeddings are centred on the
/// training faces' mean, so similarities spread over the whole range.
pub const DEFAULT_TUNED_THRESHOLD: f32 = 0.74;

/// One enrolled image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// SHA-256 of the face chip's size and pixels: enrolling the same image
    /// again changes nothing.
    pub image: String,
    /// Where it came from (for people reading the file).
    pub source: String,
    /// Its embedding.
    pub embedding: Vec<f32>,
    /// For a synthetic template (a mask painted on the enrollment photo),
    /// the mask it got; `None` for a photo as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<String>,
}

impl Template {
    /// A template of a photo as it is (not synthetic).
    pub fn new(image: impl Into<String>, source: impl Into<String>, embedding: Vec<f32>) -> Self {
        Template {
            image: image.into(),
            source: source.into(),
            embedding,
            synthetic: None,
        }
    }
}

/// An enrolled person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The name given at enrollment.
    pub name: String,
    /// Their images.
    pub templates: Vec<Template>,
}

impl Person {
    /// The unit-length mean of the unit-length templates of the photos as
    /// they are (of all templates when there are only synthetic ones).
    pub fn centre(&self) -> Vec<f32> {
        let real: Vec<&Template> = self
            .templates
            .iter()
            .filter(|t| t.synthetic.is_none())
            .collect();
        if real.is_empty() {
            return mean_direction(self.templates.iter());
        }
        mean_direction(real.into_iter())
    }

    /// The unit-length mean of the synthetic (masked) templates, when the
    /// person has some: masked probes are compared with it as well as with
    /// [`Person::centre`], so the masked copies do not pull the person's
    /// centre away from their unmasked photos.
    pub fn masked_centre(&self) -> Option<Vec<f32>> {
        let mut synthetic = self
            .templates
            .iter()
            .filter(|t| t.synthetic.is_some())
            .peekable();
        synthetic.peek()?;
        Some(mean_direction(synthetic))
    }

    /// The similarity of a unit-length embedding to the person: the higher
    /// of its cosines to the two centres.
    pub fn similarity(&self, unit: &[f32]) -> f32 {
        let real = dot(&self.centre(), unit);
        match self.masked_centre() {
            Some(m) => real.max(dot(&m, unit)),
            None => real,
        }
    }
}

fn mean_direction<'a>(templates: impl Iterator<Item = &'a Template>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    for t in templates {
        if sum.is_empty() {
            sum = vec![0f32; t.embedding.len()];
        }
        for (s, v) in sum.iter_mut().zip(l2_normalized(&t.embedding)) {
            *s += v;
        }
    }
    l2_normalized(&sum)
}

/// The answer for one face.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identification {
    /// The person, or `None` ("unknown") below the threshold.
    pub name: Option<String>,
    /// The closest person whatever the threshold, and the similarity.
    pub nearest: Option<(String, f32)>,
    /// The threshold in force.
    pub threshold: f32,
}

/// What [`Gallery::enroll`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enrolled {
    /// Photos added.
    pub added: usize,
    /// Photos the person already had.
    pub already: usize,
    /// Synthetic (masked) templates added with them.
    pub synthetic: usize,
}

/// Enrolled people and the threshold identification uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    /// Always [`GALLERY_FORMAT`].
    pub format: String,
    /// [`GALLERY_VERSION`].
    pub version: u32,
    /// The embedder the templates come from (another one's embeddings do
    /// not compare).
    pub embedder: String,
    /// SHA-256 of the embedder's weights file when it is not dlib's own
    /// (fine-tuned weights can be retrained in place; the templates would
    /// then no longer compare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedder_sha256: Option<String>,
    /// Cosine similarity to a person's centre at or above which a face is
    /// that person (for every face, or for masked ones when
    /// `unmasked_threshold` is set).
    pub threshold: f32,
    /// The threshold for faces a [`crate::MaskClassifier`] finds unmasked,
    /// when the network was calibrated for them too; faces of unknown mask
    /// state get `threshold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmasked_threshold: Option<f32>,
    /// Whether the templates, and so the faces compared with them, are
    /// embedded together with their mirror images
    /// ([`crate::FacePipeline::mirror`]). Galleries made before it existed
    /// read as `false` and stay as they were made.
    #[serde(default)]
    pub mirror: bool,
    /// The people, by name.
    pub people: Vec<Person>,
}

/// SHA-256 of a file, in lower-case hex (what
/// [`Gallery::embedder_sha256`] holds).
pub fn file_sha256(path: &Path) -> Result<String, RecognizeError> {
    let bytes = std::fs::read(path).map_err(|e| RecognizeError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash [`Template::image`] holds.
pub fn image_hash(chip: &RgbImage) -> String {
    let mut h = Sha256::new();
    h.update(chip.width().to_le_bytes());
    h.update(chip.height().to_le_bytes());
    h.update(chip.as_raw());
    hex(&h.finalize())
}

/// An exclusive advisory lock on a gallery's lock file, held until dropped
/// (the operating system also lets go when the process dies, so a killed
/// writer never leaves the gallery locked).
struct GalleryLock(std::fs::File);

impl GalleryLock {
    fn acquire(gallery: &Path) -> Result<Self, RecognizeError> {
        let name = gallery
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| RecognizeError::File {
                path: gallery.to_path_buf(),
                reason: "not a file name".into(),
            })?;
        let path = gallery.with_file_name(format!(".{name}.lock"));
        let failed = |what: &str, e: std::io::Error| RecognizeError::File {
            path: path.clone(),
            reason: format!("{what} the gallery's lock file: {e}"),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| failed("cannot make the folder of", e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| failed("cannot open", e))?;
        file.lock().map_err(|e| failed("cannot lock", e))?;
        Ok(GalleryLock(file))
    }
}

impl Drop for GalleryLock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first only
        // hands it on a little sooner.
        let _ = self.0.unlock();
    }
}

impl Gallery {
    /// An empty gallery for `embedder`'s embeddings.
    pub fn new(embedder: impl Into<String>, threshold: f32) -> Self {
        Gallery {
            format: GALLERY_FORMAT.into(),
            version: GALLERY_VERSION,
            embedder: embedder.into(),
            embedder_sha256: None,
            threshold,
            unmasked_threshold: None,
            mirror: false,
            people: Vec::new(),
        }
    }

    /// Reads a gallery; a corrupt, foreign or newer file is an error
    /// naming it.
    pub fn load(path: &Path) -> Result<Self, RecognizeError> {
        let bad = |reason: String| RecognizeError::File {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let g: Gallery = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not a readable gallery ({e})")))?;
        if g.format != GALLERY_FORMAT {
            return Err(bad(format!(
                "format `{}`, not a maskface gallery",
                g.format
            )));
        }
        if g.version != GALLERY_VERSION {
            return Err(bad(format!(
                "gallery version {} (this program reads {GALLERY_VERSION})",
                g.version
            )));
        }
        if !g.threshold.is_finite() || g.unmasked_threshold.is_some_and(|t| !t.is_finite()) {
            return Err(bad("a threshold that is not a number".into()));
        }
        let dim = g.dim();
        for p in &g.people {
            if p.templates.is_empty()
                || p.templates.iter().any(|t| {
                    Some(t.embedding.len()) != dim || t.embedding.iter().any(|v| !v.is_finite())
                })
            {
                return Err(bad(format!("person `{}` has unusable templates", p.name)));
            }
        }
        Ok(g)
    }

    /// The embeddings' length, once someone is enrolled.
    pub fn dim(&self) -> Option<usize> {
        self.people
            .iter()
            .flat_map(|p| &p.templates)
            .map(|t| t.embedding.len())
            .next()
    }

    /// Writes the gallery atomically (a crash leaves the old file).
    ///
    /// This replaces the file with `self` whatever it holds now: a program
    /// that read the gallery, changed it and saves it while another program
    /// does the same loses one of the two changes. [`Gallery::update`] does
    /// the read, the change and the write under a lock instead.
    pub fn save(&self, path: &Path) -> Result<(), RecognizeError> {
        crate::json_file::write_json(path, self)
    }

    /// Reads the gallery at `path` (or takes `new()` when there is none yet),
    /// applies `change` and saves it, holding an exclusive advisory lock on
    /// `.NAME.lock` beside it from the read to the write. Programs that
    /// update one gallery at the same time take turns, and each sees the
    /// others' changes: eight `maskface enroll` processes started at once
    /// leave eight people.
    ///
    /// Readers ([`Gallery::load`]) take no lock: the file is replaced
    /// atomically, so they see the gallery before or after a change, never
    /// half of one. Temporary files a killed writer left are removed. When
    /// `change` fails, the file is left as it was.
    ///
    /// ```
    /// # use maskface_recognize::{Gallery, Template};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("gallery.json");
    /// let add = |name: &str| {
    ///     Gallery::update(&path, || Gallery::new("net", 0.5), |g| {
    ///         g.enroll(name, vec![Template::new(name, name, vec![1.0, 0.0])])
    ///     })
    /// };
    /// add("alice").unwrap();
    /// let (gallery, _) = add("bob").unwrap();
    /// assert_eq!(gallery.people.len(), 2);
    /// ```
    pub fn update<T>(
        path: &Path,
        new: impl FnOnce() -> Gallery,
        change: impl FnOnce(&mut Gallery) -> Result<T, RecognizeError>,
    ) -> Result<(Gallery, T), RecognizeError> {
        let _lock = GalleryLock::acquire(path)?;
        maskface_core::remove_stale_temp_files_of(path)?;
        let mut gallery = if path.exists() {
            Gallery::load(path)?
        } else {
            new()
        };
        let done = change(&mut gallery)?;
        gallery.save(path)?;
        Ok((gallery, done))
    }

    /// Adds `templates` to `name` (creating the person); images already
    /// enrolled for them are skipped.
    pub fn enroll(
        &mut self,
        name: &str,
        templates: Vec<Template>,
    ) -> Result<Enrolled, RecognizeError> {
        if name.trim().is_empty() {
            return Err(RecognizeError::InvalidParameter {
                name: "name",
                reason: "an empty name".into(),
            });
        }
        let dim = self.dim();
        if let Some(t) = templates.iter().find(|t| {
            t.embedding.is_empty()
                || dim.is_some_and(|d| d != t.embedding.len())
                || t.embedding.iter().any(|v| !v.is_finite())
        }) {
            return Err(RecognizeError::Data(format!(
                "{}: an embedding of {} values does not fit this gallery",
                t.source,
                t.embedding.len()
            )));
        }
        let i = match self.people.binary_search_by(|p| p.name.as_str().cmp(name)) {
            Ok(i) => i,
            Err(i) => {
                self.people.insert(
                    i,
                    Person {
                        name: name.to_string(),
                        templates: Vec::new(),
                    },
                );
                i
            }
        };
        let person = &mut self.people[i];
        let mut done = Enrolled {
            added: 0,
            already: 0,
            synthetic: 0,
        };
        for t in templates {
            let synthetic = t.synthetic.is_some();
            if person.templates.iter().any(|old| old.image == t.image) {
                done.already += usize::from(!synthetic);
            } else {
                person.templates.push(t);
                if synthetic {
                    done.synthetic += 1;
                } else {
                    done.added += 1;
                }
            }
        }
        if person.templates.is_empty() {
            self.people.remove(i);
        }
        Ok(done)
    }

    /// The person whose centre is most similar to `embedding`, if the
    /// similarity reaches the threshold.
    pub fn identify(&self, embedding: &[f32]) -> Identification {
        self.identify_face(embedding, None)
    }

    /// The threshold for a face that wears a mask (`Some(true)`), does not
    /// (`Some(false)`) or of unknown state (`None`).
    pub fn threshold_for(&self, masked: Option<bool>) -> f32 {
        match (masked, self.unmasked_threshold) {
            (Some(false), Some(t)) => t,
            _ => self.threshold,
        }
    }

    /// [`Gallery::identify`] at the threshold for the face's mask state
    /// ([`Gallery::threshold_for`]).
    pub fn identify_face(&self, embedding: &[f32], masked: Option<bool>) -> Identification {
        let threshold = self.threshold_for(masked);
        let q = l2_normalized(embedding);
        let nearest = self
            .people
            .iter()
            .map(|p| (p.name.clone(), p.similarity(&q)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        Identification {
            name: nearest
                .as_ref()
                .filter(|(_, s)| *s >= threshold)
                .map(|(n, _)| n.clone()),
            nearest,
            threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(source: &str, e: Vec<f32>) -> Template {
        Template::new(format!("hash-{source}"), source, e)
    }

    #[test]
    fn updates_under_the_lock_keep_each_others_people() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.json");
        // Threads of one process contend for the lock as processes do: each
        // opens the lock file itself.
        std::thread::scope(|s| {
            for i in 0..8 {
                let path = &path;
                s.spawn(move || {
                    Gallery::update(
                        path,
                        || Gallery::new("net", 0.5),
                        |g| {
                            g.enroll(
                                &format!("p{i}"),
                                vec![template(&format!("s{i}"), vec![1.0, 0.0])],
                            )
                        },
                    )
                    .unwrap();
                });
            }
        });
        let g = Gallery::load(&path).unwrap();
        let names: Vec<&str> = g.people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"]);
        // A failed change leaves the file as it was.
        let before = std::fs::read(&path).unwrap();
        let err = Gallery::update(
            &path,
            || Gallery::new("net", 0.5),
            |g| g.enroll("p8", vec![template("s8", vec![1.0, 0.0, 0.0])]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_gallery_naming_weights_without_their_digest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.json");
        let g = Gallery::new("/somewhere/weights.bpk", 0.5);
        let err = crate::FacePipeline::for_gallery(&g, &path, dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("g.json")
                && err.contains("/somewhere/weights.bpk")
                && err.contains("SHA-256"),
            "{err}"
        );
    }

    #[test]
    fn enroll_is_idempotent_and_identify_uses_the_threshold() {
        let mut g = Gallery::new("test", 0.9);
        let a = g
            .enroll(
                "Ada",
                vec![
                    template("a1", vec![1.0, 0.0]),
                    template("a2", vec![0.9, 0.1]),
                ],
            )
            .unwrap();
        assert_eq!(
            a,
            Enrolled {
                added: 2,
                already: 0,
                synthetic: 0
            }
        );
        let again = g
            .enroll("Ada", vec![template("a1", vec![1.0, 0.0])])
            .unwrap();
        assert_eq!(
            again,
            Enrolled {
                added: 0,
                already: 1,
                synthetic: 0
            }
        );
        g.enroll("Bob", vec![template("b1", vec![0.0, 1.0])])
            .unwrap();
        assert_eq!(g.people.len(), 2);
        assert_eq!(g.identify(&[2.0, 0.1]).name.as_deref(), Some("Ada"));
        let unknown = g.identify(&[1.0, 1.0]);
        assert_eq!(unknown.name, None);
        assert!(unknown.nearest.is_some());
        assert!(g
            .enroll("Cy", vec![template("c", vec![1.0, 2.0, 3.0])])
            .is_err());
        assert!(g.enroll(" ", vec![template("c", vec![1.0, 2.0])]).is_err());
    }

    /// A face known to be unmasked is held to the unmasked threshold, a
    /// masked one or one of unknown state to the gallery's threshold; a
    /// gallery without an unmasked threshold uses its one threshold, and
    /// one saved before the field existed reads as such.
    #[test]
    fn the_threshold_follows_the_mask_state() {
        let mut g = Gallery::new("test", 0.9);
        g.enroll("Ada", vec![template("a1", vec![1.0, 0.0])])
            .unwrap();
        // Cosine 0.8 to Ada's centre.
        let probe = [0.8, 0.6];
        for masked in [None, Some(true), Some(false)] {
            assert_eq!(g.threshold_for(masked), 0.9);
            assert_eq!(g.identify_face(&probe, masked).name, None);
        }
        g.unmasked_threshold = Some(0.7);
        assert_eq!(g.threshold_for(Some(false)), 0.7);
        let id = g.identify_face(&probe, Some(false));
        assert_eq!(id.name.as_deref(), Some("Ada"));
        assert_eq!(id.threshold, 0.7);
        assert_eq!(g.identify_face(&probe, Some(true)).name, None);
        assert_eq!(g.identify_face(&probe, None).name, None);
        assert_eq!(g.identify(&probe).threshold, 0.9);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.json");
        g.save(&path).unwrap();
        assert_eq!(Gallery::load(&path).unwrap(), g);
        g.unmasked_threshold = None;
        g.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("unmasked_threshold"));
        assert_eq!(Gallery::load(&path).unwrap(), g);
    }

    /// Synthetic masked templates get a centre of their own: a probe is
    /// compared with both, and they do not move the person's real centre.
    #[test]
    fn masked_templates_add_a_second_centre() {
        let mut g = Gallery::new("test", 0.9);
        let masked = Template {
            synthetic: Some("surgical".into()),
            ..template("a1-masked", vec![0.0, 1.0])
        };
        let done = g
            .enroll("Ada", vec![template("a1", vec![1.0, 0.0]), masked])
            .unwrap();
        assert_eq!(
            done,
            Enrolled {
                added: 1,
                already: 0,
                synthetic: 1
            }
        );
        let ada = &g.people[0];
        assert_eq!(ada.centre(), vec![1.0, 0.0]);
        assert_eq!(ada.masked_centre(), Some(vec![0.0, 1.0]));
        // Near the masked centre only: still Ada.
        assert_eq!(g.identify(&[0.1, 1.0]).name.as_deref(), Some("Ada"));
        // The file keeps the mark, and a template without it reads as real.
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json.matches("\"synthetic\"").count(), 1);
        let back: Gallery = serde_json::from_str(&json).unwrap();
        assert_eq!(back, g);
    }

    #[test]
    fn files_round_trip_and_corrupt_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gallery.json");
        let mut g = Gallery::new("test", 0.5);
        g.enroll("Ada", vec![template("a1", vec![1.0, 0.0])])
            .unwrap();
        g.save(&path).unwrap();
        assert_eq!(Gallery::load(&path).unwrap(), g);
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        let e = Gallery::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("gallery.json") && e.contains("not a readable gallery"),
            "{e}"
        );
        std::fs::write(
            &path,
            br#"{"format":"x","version":1,"embedder":"e","threshold":0,"people":[]}"#,
        )
        .unwrap();
        assert!(Gallery::load(&path)
            .unwrap_err()
            .to_string()
            .contains("not a maskface gallery"));
    }

    #[test]
    fn the_weights_digest_is_optional_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gallery.json");
        // A file written before the digest existed still loads.
        std::fs::write(
            &path,
            br#"{"format":"maskface-gallery","version":1,"embedder":"e","threshold":0.5,"people":[]}"#,
        )
        .unwrap();
        let mut g = Gallery::load(&path).unwrap();
        assert_eq!(g.embedder_sha256, None);
        g.save(&path).unwrap();
        assert!(!std::fs::read_to_string(&path)
            .unwrap()
            .contains("embedder_sha256"));
        let weights = dir.path().join("w.bin");
        std::fs::write(&weights, b"abc").unwrap();
        // SHA-256("abc"), FIPS 180-2's first example.
        let digest = file_sha256(&weights).unwrap();
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        g.embedder_sha256 = Some(digest);
        g.save(&path).unwrap();
        assert_eq!(Gallery::load(&path).unwrap(), g);
        let e = file_sha256(&dir.path().join("missing.bin")).unwrap_err();
        assert!(e.to_string().contains("missing.bin"), "{e}");
    }
}
