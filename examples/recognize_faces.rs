//! Enroll people from a few photos and identify others, without training:
//! MTCNN finds each face, dlib's 68 landmarks align it as dlib's
//! `get_face_chip` does, dlib's ResNet (run in burn) embeds it, and a
//! gallery compares embeddings with each person's centre.
//!
//! ```text
//! cargo run --release --example recognize_faces
//! ```
//! Uses the fixture photos and `models/` (run `scripts/setup.sh`).

use std::path::Path;

use maskface::nets::face_resnet::DLIB_RESNET_FILE;
use maskface::recognize::{FacePipeline, Gallery, DEFAULT_THRESHOLD};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Photo -> detection -> landmarks -> aligned chip -> embedding.
    let pipeline = FacePipeline::load(Path::new("models"), DLIB_RESNET_FILE)?;
    let embed = |path: &str| pipeline.template(Path::new(path));
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
