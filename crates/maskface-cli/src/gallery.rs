use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use image::Rgb;
use maskface_core::{load_rgb, save_image_atomic};
use maskface_plot::{draw_labelled_boxes, LabelledBox};
use maskface_recognize::{
    Enrollment, FacePipeline, Gallery, IdentifiedFace, NetworkChoice, DEFAULT_MASKED_TEMPLATES,
    INSTALLED_EMBEDDER_FILE,
};
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct EnrollArgs {
    /// The gallery file (made when missing).
    #[arg(long)]
    pub gallery: PathBuf,

    /// The person's name.
    #[arg(long)]
    pub name: String,

    /// Photos of the person (masked or not), one face each.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,

    /// Cosine similarity at or above which a face is a gallery person;
    /// used when the gallery is made [default: the threshold calibrated for
    /// the network (beside its weights), else 0.74 with fine-tuned weights
    /// and 0.97 with dlib's network].
    #[arg(long)]
    pub threshold: Option<f32>,

    /// Fine-tuned weights (`maskface train`'s embedder.bpk) for a new
    /// gallery. Default: the mask-robust network `maskface run` installs
    /// in --models (maskface_embedder.bpk), or dlib's network when there is
    /// none. A gallery records its network (by absolute path and digest);
    /// `identify` then uses it, and an existing gallery keeps it.
    #[arg(long, conflicts_with = "dlib")]
    pub weights: Option<PathBuf>,

    /// Make a new gallery with dlib's network as it is, even when a
    /// mask-robust network is installed.
    #[arg(long)]
    pub dlib: bool,

    /// Synthetic templates per photo with a mask painted on (the training
    /// mask family): masked faces are also compared with them, unmasked
    /// ones are not affected. 0: none.
    #[arg(long, default_value_t = DEFAULT_MASKED_TEMPLATES)]
    pub masked_templates: usize,

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct IdentifyArgs {
    /// The gallery file.
    #[arg(long)]
    pub gallery: PathBuf,

    /// Photos to identify.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,

    /// Folder with MTCNN, the landmark model and dlib's ResNet (the
    /// network itself is the one the gallery names), and the mask
    /// classifier when `maskface run` installed one: a face it finds
    /// unmasked is held to the gallery's unmasked threshold.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Print one JSON document (every photo, every face with its box,
    /// whether it is masked, answer, closest person, similarity and the
    /// threshold used) instead of lines of text.
    #[arg(long)]
    pub json: bool,

    /// Also write each photo to this folder with every face's box and
    /// answer drawn on it (`<name>.png`).
    #[arg(long)]
    pub annotate: Option<PathBuf>,
}

pub fn enroll(args: &EnrollArgs) -> Result<()> {
    // Read (and so check) the gallery before any work: a corrupt file is an
    // error and stays as it is.
    let network = match (&args.weights, args.dlib) {
        (Some(w), _) => NetworkChoice::Weights(w),
        (None, true) => NetworkChoice::Dlib,
        (None, false) => NetworkChoice::Default,
    };
    let mut enrollment = Enrollment::open(&args.gallery, &args.models, network, args.threshold)?;
    if enrollment.fell_back_to_dlib {
        eprintln!(
            "note: no mask-robust network in {} (`maskface run` installs {INSTALLED_EMBEDDER_FILE}): the gallery uses dlib's network, which names few masked faces",
            args.models.display()
        );
    }
    enrollment.masked_templates = args.masked_templates;
    let done = enrollment.enroll(&args.name, &args.images)?;
    let gallery = &enrollment.gallery;
    println!(
        "{}: {} image(s) added (with {} masked templates), {} already enrolled; the gallery has {} people -> {}",
        args.name,
        done.added,
        done.synthetic,
        done.already,
        gallery.people.len(),
        args.gallery.display()
    );
    Ok(())
}

/// One photo's answer, as `--json` prints it.
#[derive(Serialize)]
struct PhotoAnswer {
    photo: String,
    faces: Vec<IdentifiedFace>,
    error: Option<String>,
}

pub fn identify(args: &IdentifyArgs) -> Result<()> {
    let gallery = Gallery::load(&args.gallery)?;
    let pipeline = FacePipeline::for_gallery(&gallery, &args.gallery, &args.models)?;
    if let Some(dir) = &args.annotate {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut answers = Vec::new();
    let mut unreadable = 0;
    for path in &args.images {
        let answer = match pipeline.identify_faces(&gallery, path) {
            Ok(faces) => {
                if let Some(dir) = &args.annotate {
                    annotate(path, &faces, dir)?;
                }
                PhotoAnswer {
                    photo: path.display().to_string(),
                    faces,
                    error: None,
                }
            }
            Err(e) => {
                // A photo without a face is an answer; one that cannot be
                // read makes the exit status say so.
                if !matches!(e, maskface_recognize::RecognizeError::NoFace { .. }) {
                    unreadable += 1;
                }
                PhotoAnswer {
                    photo: path.display().to_string(),
                    faces: Vec::new(),
                    error: Some(e.to_string()),
                }
            }
        };
        if !args.json {
            print_answer(&answer);
        }
        answers.push(answer);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answers)?);
    }
    if unreadable > 0 {
        anyhow::bail!(
            "{unreadable} of {} photos could not be read (each is named above)",
            answers.len()
        );
    }
    Ok(())
}

/// One line per face: the photo, the answer, the face's box (and its
/// number when the photo has several).
fn print_answer(answer: &PhotoAnswer) {
    if let Some(e) = &answer.error {
        println!("{}\terror: {e}", answer.photo);
        return;
    }
    let n = answer.faces.len();
    for (k, face) in answer.faces.iter().enumerate() {
        let id = &face.identification;
        let (nearest, score) = id.nearest.clone().unwrap_or_default();
        let text = match &id.name {
            Some(name) => format!(
                "{name} (similarity {score:.3}, threshold {:.3})",
                id.threshold
            ),
            None => format!(
                "unknown (closest {nearest}, similarity {score:.3}, threshold {:.3})",
                id.threshold
            ),
        };
        let b = &face.bbox;
        let which = if n > 1 {
            format!("face {} of {n}, ", k + 1)
        } else {
            String::new()
        };
        let mask = match (face.masked, face.mask_probability) {
            (Some(true), Some(p)) => format!("masked ({p:.2}), "),
            (Some(false), Some(p)) => format!("unmasked ({p:.2}), "),
            _ => String::new(),
        };
        println!(
            "{}\t{text}\t{mask}{which}box {:.0},{:.0},{:.0},{:.0}",
            answer.photo, b.x0, b.y0, b.x1, b.y1
        );
    }
}

/// The photo with every face's box and answer drawn, as `dir/<name>.png`,
/// written atomically.
fn annotate(path: &Path, faces: &[IdentifiedFace], dir: &Path) -> Result<()> {
    let mut photo = load_rgb(path)?;
    let boxes: Vec<LabelledBox> = faces
        .iter()
        .map(|f| {
            let id = &f.identification;
            let score = id.nearest.as_ref().map_or(0.0, |n| n.1);
            let mask = if f.masked == Some(true) {
                " (mask)"
            } else {
                ""
            };
            let (label, color) = match &id.name {
                Some(name) => (format!("{name}{mask} {score:.2}"), Rgb([20, 150, 40])),
                None => (format!("unknown{mask} {score:.2}"), Rgb([200, 40, 30])),
            };
            LabelledBox {
                corners: [f.bbox.x0, f.bbox.y0, f.bbox.x1, f.bbox.y1],
                label,
                color,
            }
        })
        .collect();
    draw_labelled_boxes(&mut photo, &boxes)?;
    let stem = path
        .file_stem()
        .map_or_else(|| "photo".into(), |s| s.to_string_lossy().into_owned());
    let out = dir.join(format!("{stem}.png"));
    save_image_atomic(&photo, &out)?;
    Ok(())
}
