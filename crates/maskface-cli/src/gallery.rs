use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use image::RgbImage;
use maskface_core::{load_rgb, FaceEmbedder, LandmarkPredictor};
use maskface_mask::{face_chip, landmark_box, ChipParams, ShapePredictor};
use maskface_nets::face_resnet::DLIB_RESNET_FILE;
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::Backend;
use maskface_recognize::{image_hash, Gallery, Template};

use maskface_recognize::DEFAULT_THRESHOLD;

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
    /// used when the gallery is made.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f32,

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

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
}

/// Detection, landmarks, alignment and embedding of one face per photo.
pub struct Pipeline {
    pub mtcnn: Mtcnn,
    pub predictor: ShapePredictor,
    pub net: maskface_nets::face_resnet::FaceEmbedderResNet,
}

impl Pipeline {
    pub fn load(models: &Path) -> Result<Self> {
        let device = Backend::Flex.device()?;
        Ok(Pipeline {
            mtcnn: Mtcnn::from_dir(models, MtcnnConfig::default(), &device)
                .context("loading MTCNN (run scripts/setup.sh)")?,
            predictor: ShapePredictor::from_file(
                models.join("shape_predictor_68_face_landmarks.dat"),
            )
            .context("loading the landmark model (run scripts/setup.sh)")?,
            net: maskface_nets::face_resnet::FaceEmbedderResNet::from_file(
                &models.join(DLIB_RESNET_FILE),
                &device,
            )
            .context("loading dlib's face-recognition model (run scripts/setup.sh)")?,
        })
    }

    /// The aligned chip of the photo's main face.
    fn chip(&self, path: &Path) -> Result<RgbImage> {
        let image = load_rgb(path)?;
        let dets = self
            .mtcnn
            .detect_images(std::slice::from_ref(&image))
            .pop()
            .unwrap_or_else(|| Ok(Vec::new()))?;
        let Some(det) = self.mtcnn.select(&dets, image.width(), image.height()) else {
            bail!("{}: no face found", path.display());
        };
        let points = LandmarkPredictor::predict(&self.predictor, &image, &landmark_box(det))?;
        Ok(face_chip(&image, points.points(), &ChipParams::default())?)
    }

    fn embed(&self, chip: &RgbImage) -> Result<Vec<f32>> {
        let mut e = self.net.embed(std::slice::from_ref(chip))?;
        e.pop().context("the network gave no embedding")
    }
}

pub fn enroll(args: &EnrollArgs) -> Result<()> {
    // Read (and so check) the gallery before any work: a corrupt file is an
    // error and stays as it is.
    let mut gallery = if args.gallery.exists() {
        Gallery::load(&args.gallery)?
    } else {
        Gallery::new(DLIB_RESNET_FILE, args.threshold)
    };
    if gallery.embedder != DLIB_RESNET_FILE {
        bail!(
            "{} holds embeddings of {}, not of {DLIB_RESNET_FILE}",
            args.gallery.display(),
            gallery.embedder
        );
    }
    let pipeline = Pipeline::load(&args.models)?;
    let mut templates = Vec::new();
    for path in &args.images {
        let chip = pipeline.chip(path)?;
        templates.push(Template {
            image: image_hash(&chip),
            source: path.display().to_string(),
            embedding: pipeline.embed(&chip)?,
        });
    }
    let done = gallery.enroll(&args.name, templates)?;
    gallery.save(&args.gallery)?;
    println!(
        "{}: {} image(s) added, {} already enrolled; the gallery has {} people -> {}",
        args.name,
        done.added,
        done.already,
        gallery.people.len(),
        args.gallery.display()
    );
    Ok(())
}

pub fn identify(args: &IdentifyArgs) -> Result<()> {
    let gallery = Gallery::load(&args.gallery)?;
    let pipeline = Pipeline::load(&args.models)?;
    for path in &args.images {
        let answer = match pipeline.chip(path) {
            Ok(chip) => {
                let id = gallery.identify(&pipeline.embed(&chip)?);
                let (nearest, score) = id.nearest.unwrap_or_default();
                match id.name {
                    Some(name) => format!(
                        "{name} (similarity {score:.3}, threshold {:.3})",
                        id.threshold
                    ),
                    None => format!(
                        "unknown (closest {nearest}, similarity {score:.3}, threshold {:.3})",
                        id.threshold
                    ),
                }
            }
            Err(e) => format!("error: {e}"),
        };
        println!("{}\t{answer}", path.display());
    }
    Ok(())
}
