//! Put a mask on the face in a photograph: MTCNN finds the face, dlib's
//! 68-point model (in Rust) places the landmarks on the crop, and a mask is
//! painted; writes the masked crop and its upper part.
//!
//! ```text
//! cargo run --release --example mask_face -- [IMAGE] [paper|realistic] [OUT_PREFIX]
//! ```
//! Default: a fixture face, the paper's mask, `masked` (writes `masked.png`
//! and `masked_upper.png`). Needs `models/` (run `scripts/setup.sh`).

use maskface::core::{load_rgb, FaceDetector, MaskRenderer};
use maskface::mask::{
    mask_face, GenerateOptions, MaskError, PaperMask, RealisticMask, ShapePredictor, Variant,
};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .map_or("fixtures/lfw-mini/Clare_Short/Clare_Short_0001.jpg", |s| s);
    let style = args.get(1).map_or("paper", |s| s);
    let out = args.get(2).map_or("masked", |s| s);

    let mtcnn = Mtcnn::from_dir(
        "models".as_ref(),
        MtcnnConfig::default(),
        &Backend::Flex.device()?,
    )?;
    let predictor = ShapePredictor::from_file("models/shape_predictor_68_face_landmarks.dat")?;
    let renderer: Box<dyn MaskRenderer<Error = MaskError>> = match style {
        "realistic" => Box::new(RealisticMask::default()),
        _ => Box::new(PaperMask::default()),
    };

    let image = load_rgb(path.as_ref())?;
    let opts = GenerateOptions::default();
    let faces = mtcnn.detect(&image)?;
    let Some(face) = opts.selection.pick(&faces, image.width(), image.height()) else {
        println!("{path}: no face found");
        return Ok(());
    };
    let steps = mask_face(&image, face, &predictor, renderer.as_ref(), &opts, path)?;
    steps.masked.image.save(format!("{out}.png"))?;
    steps
        .variant(Variant::MaskedUpper, opts.upper_size)
        .save(format!("{out}_upper.png"))?;
    println!(
        "{path}: {} -> {out}.png, {out}_upper.png (cut at row {})",
        steps.masked.description, steps.cut_row
    );
    Ok(())
}
