//! The shared vocabulary on its own: cut a face out of a photo with a margin
//! (as facenet-pytorch does), then record it in a manifest, write the
//! manifest and read it back.
//!
//! ```text
//! cargo run -p maskface-core --example manifest_and_crop -- [OUT_DIR]
//! ```
//! Default OUT_DIR: `maskface-core-example` in the system's temporary folder.

use std::path::{Path, PathBuf};

use maskface_core::{
    crop_face, load_rgb, save_image_atomic, CropConfig, FaceBox, Manifest, Sample, Split,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("maskface-core-example"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&out)?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");

    // A 125 x 125 LFW photo; the face fills roughly its middle third.
    let photo = load_rgb(&data.join("Aaron_Peirsol_0001.jpg"))?;
    let face = FaceBox::new(38.0, 35.0, 87.0, 95.0, 1.0);
    let (crop, covered) = crop_face(&photo, &face, &CropConfig::default())?;
    let crop_path = out.join("Aaron_Peirsol/Aaron_Peirsol_0001.png");
    save_image_atomic(&crop, &crop_path)?;
    println!(
        "cropped {:?} of the {}x{} photo to {}x{}: {}",
        covered,
        photo.width(),
        photo.height(),
        crop.width(),
        crop.height(),
        crop_path.display()
    );

    // Paths in a manifest are relative to its root, so a dataset can move.
    let mut manifest = Manifest::new(&out);
    manifest.samples.push(Sample::new(
        "Aaron_Peirsol/Aaron_Peirsol_0001.png",
        "Aaron_Peirsol",
        0,
        Split::Train,
    ));
    let csv = out.join("manifest.csv");
    manifest.write(&csv)?;

    let again = Manifest::read(&csv)?;
    println!(
        "{} (and {}): {} identity, {} training image",
        csv.display(),
        Manifest::info_path(&csv).display(),
        again.identities().len(),
        again.count(Split::Train)
    );
    Ok(())
}
