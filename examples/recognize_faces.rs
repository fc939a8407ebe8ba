//! Enroll people from a few photos and identify others, without training:
//! MTCNN finds each face, dlib's 68 landmarks align it as dlib's
//! `get_face_chip` does, dlib's ResNet (run in burn) embeds it, and a
//! gallery compares embeddings with each person's centre.
//!
//! ```text
//! cargo run --release --example recognize_faces
//! ```
//! Uses the fixture photos and `models/` (run `scripts/setup.sh`).

use maskface::core::{load_rgb, FaceEmbedder, LandmarkPredictor};
use maskface::mask::{face_chip, landmark_box, ChipParams, ShapePredictor};
use maskface::nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;
use maskface::recognize::{image_hash, Gallery, Template, DEFAULT_THRESHOLD};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Backend::Flex.device()?;
    let models = std::path::Path::new("models");
    let mtcnn = Mtcnn::from_dir(models, MtcnnConfig::default(), &device)?;
    let landmarks =
        ShapePredictor::from_file(models.join("shape_predictor_68_face_landmarks.dat"))?;
    let net = FaceEmbedderResNet::from_file(&models.join(DLIB_RESNET_FILE), &device)?;

    // Photo -> aligned chip -> embedding.
    let embed = |path: &str| -> Result<Template, Box<dyn std::error::Error>> {
        let image = load_rgb(path.as_ref())?;
        let faces = mtcnn
            .detect_images(std::slice::from_ref(&image))
            .remove(0)?;
        let face = mtcnn
            .select(&faces, image.width(), image.height())
            .ok_or(format!("{path}: no face"))?;
        let points = LandmarkPredictor::predict(&landmarks, &image, &landmark_box(face))?;
        let chip = face_chip(&image, points.points(), &ChipParams::default())?;
        Ok(Template {
            image: image_hash(&chip),
            source: path.into(),
            embedding: net.embed(&[chip])?.remove(0),
        })
    };
    let photo = |who: &str, k: u32| format!("fixtures/lfw-mini/{who}/{who}_{k:04}.jpg");

    let mut gallery = Gallery::new(DLIB_RESNET_FILE, DEFAULT_THRESHOLD);
    for who in ["Aaron_Peirsol", "Clare_Short"] {
        let templates = (1..=3)
            .map(|k| embed(&photo(who, k)))
            .collect::<Result<_, _>>()?;
        gallery.enroll(who, templates)?;
    }
    for (who, k) in [
        ("Aaron_Peirsol", 4),
        ("Clare_Short", 4),
        ("Barbra_Streisand", 1),
    ] {
        let id = gallery.identify(&embed(&photo(who, k))?.embedding);
        let (nearest, similarity) = id.nearest.unwrap_or_default();
        println!(
            "{who}_{k:04}: {} (closest {nearest}, similarity {similarity:.3})",
            id.name.as_deref().unwrap_or("unknown")
        );
    }
    Ok(())
}
