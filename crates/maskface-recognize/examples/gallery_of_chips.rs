//! A gallery without training: three people enrolled from one aligned face
//! chip each, embedded by dlib's face-recognition ResNet; then each of four
//! people's other chip is identified, the fourth (never enrolled) as
//! "unknown". The gallery is saved and read back as one JSON file.
//!
//! ```text
//! cargo run --release -p maskface-recognize --example gallery_of_chips -- [MODELS_DIR] [GALLERY]
//! ```
//! MODELS_DIR (default: `$MASKFACE_MODELS`, else `models`) holds
//! `dlib_face_recognition_resnet_model_v1.dat` (the maskface repository's
//! `scripts/setup.sh` fetches it); GALLERY, the file written, defaults to
//! `maskface-recognize-example/gallery.json` in the system's temporary folder.

use std::path::{Path, PathBuf};

use maskface_core::{load_rgb, FaceEmbedder};
use maskface_nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_recognize::{image_hash, Gallery, Template, DEFAULT_THRESHOLD};

type Error = Box<dyn std::error::Error>;

/// dlib's network in the folder named by `arg`, else `$MASKFACE_MODELS`,
/// else `models`.
fn dlib_weights(arg: Option<String>) -> Result<PathBuf, Error> {
    let folder = match arg.or_else(|| std::env::var("MASKFACE_MODELS").ok()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from("models"),
    };
    let weights = folder.join(DLIB_RESNET_FILE);
    if !weights.is_file() {
        let why = "run scripts/setup.sh, or name the folder that holds it";
        return Err(format!("no {}: {why}", weights.display()).into());
    }
    Ok(weights)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let weights = dlib_weights(args.first().cloned())?;
    let path = match args.get(1) {
        Some(file) => PathBuf::from(file),
        None => std::env::temp_dir().join("maskface-recognize-example/gallery.json"),
    };
    let chips = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/chips");
    let net = FaceEmbedderResNet::from_file(&weights, &Backend::Flex.device()?)?;

    // One chip in, one template out: the embedding and what it came from.
    let template = |file: &str| -> Result<Template, Error> {
        let chip = load_rgb(&chips.join(file))?;
        Ok(Template::new(
            image_hash(&chip),
            file,
            net.embed(std::slice::from_ref(&chip))?.remove(0),
        ))
    };

    let people = [
        ("Aaron Peirsol", "aaron_peirsol_0001"),
        ("Abel Pacheco", "abel_pacheco_0001_rot25"),
        ("Barbra Streisand", "barbra_streisand_0001"),
        ("Clare Short", "clare_short_0002"),
    ];
    // The first three are enrolled; the fourth stays a stranger.
    let mut gallery = Gallery::new(DLIB_RESNET_FILE, DEFAULT_THRESHOLD);
    for (name, chip) in &people[..3] {
        gallery.enroll(name, vec![template(&format!("{chip}_chip68.jpg"))?])?;
    }
    gallery.save(&path)?;
    let gallery = Gallery::load(&path)?;
    println!(
        "{}: {} people, threshold {}",
        path.display(),
        gallery.people.len(),
        gallery.threshold
    );

    for (_, chip) in &people {
        let probe = template(&format!("{chip}_chip5.jpg"))?;
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
