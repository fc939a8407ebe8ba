//! A gallery without training: three people enrolled from one aligned face
//! chip each, embedded by dlib's face-recognition ResNet; then each of four
//! people's other chip is identified, the fourth (never enrolled) as
//! "unknown". The gallery is saved and read back as one JSON file.
//!
//! ```text
//! cargo run --release -p maskface-recognize --example gallery_of_chips -- [MODELS_DIR] [OUT_DIR]
//! ```
//! MODELS_DIR (default: `$MASKFACE_MODELS`, else `models`) holds
//! `dlib_face_recognition_resnet_model_v1.dat` (the maskface repository's
//! `scripts/setup.sh` fetches it); OUT_DIR defaults to
//! `maskface-recognize-example` in the system's temporary folder.

use std::path::{Path, PathBuf};

use maskface_core::{load_rgb, FaceEmbedder};
use maskface_nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_recognize::{image_hash, Gallery, Template, DEFAULT_THRESHOLD};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let models = args
        .next()
        .or_else(|| std::env::var("MASKFACE_MODELS").ok());
    let weights = PathBuf::from(models.unwrap_or_else(|| "models".into())).join(DLIB_RESNET_FILE);
    if !weights.is_file() {
        return Err(format!(
            "{} is missing: run scripts/setup.sh or name the models folder",
            weights.display()
        )
        .into());
    }
    let out = args.next().map_or_else(
        || std::env::temp_dir().join("maskface-recognize-example"),
        PathBuf::from,
    );
    let chips = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/chips");
    let net = FaceEmbedderResNet::from_file(&weights, &Backend::Flex.device()?)?;

    // One chip in, one template out: the embedding and what it came from.
    let template = |file: &str| -> Result<Template, Error> {
        let chip = load_rgb(&chips.join(file))?;
        Ok(Template {
            image: image_hash(&chip),
            source: file.into(),
            embedding: net.embed(std::slice::from_ref(&chip))?.remove(0),
        })
    };

    let mut gallery = Gallery::new(DLIB_RESNET_FILE, DEFAULT_THRESHOLD);
    for who in [
        "aaron_peirsol_0001",
        "abel_pacheco_0001_rot25",
        "barbra_streisand_0001",
    ] {
        gallery.enroll(who, vec![template(&format!("{who}_chip68.jpg"))?])?;
    }
    let path = out.join("gallery.json");
    gallery.save(&path)?;
    let gallery = Gallery::load(&path)?;
    println!(
        "{}: {} people, threshold {}",
        path.display(),
        gallery.people.len(),
        gallery.threshold
    );

    for who in [
        "aaron_peirsol_0001",
        "abel_pacheco_0001_rot25",
        "barbra_streisand_0001",
        "clare_short_0002",
    ] {
        let probe = template(&format!("{who}_chip5.jpg"))?;
        let id = gallery.identify(&probe.embedding);
        let (nearest, similarity) = id.nearest.unwrap_or_default();
        println!(
            "  {}: {} (closest {nearest}, similarity {similarity:.3})",
            probe.source,
            id.name.as_deref().unwrap_or("unknown")
        );
    }
    Ok(())
}
