//! The contact sheets of `docs/masks.md`: every mask type, colour, texture
//! and fit of `maskface mask` on one face, and the ten most turned faces of
//! LFW before and after masking.
//!
//! ```text
//! cargo run --release --example mask_sheets -- [LFW_DIR] [OUT_DIR]
//! ```
//! Default: `data/lfw` and `docs/images` (writes `mask_types.png` and
//! `mask_turned.png`). Needs `models/` (run `scripts/setup.sh`); the turned
//! faces are searched over every image of LFW (about two minutes on two
//! cores).

use std::path::{Path, PathBuf};

use image::{imageops, RgbImage};
use maskface::core::{
    load_rgb, Detection, FaceBox, FaceDetector, FaceSelection, LandmarkPredictor,
};
use maskface::mask::{
    landmark_box, FaceMasker, FitMix, MaskChoice, MaskKind, MaskMix, MaskSpec, PhotoOptions,
    ShapePredictor, Texture,
};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;
use maskface::plot::image_grid;
use rayon::prelude::*;

type Error = Box<dyn std::error::Error>;

/// The face's surroundings: its box grown by 40% each way, clipped, resized
/// to 160 px wide.
fn around(image: &RgbImage, b: &FaceBox) -> RgbImage {
    let (w, h) = (b.width() * 1.8, b.height() * 1.8);
    let (cx, cy) = (b.center().x, b.center().y + 0.1 * b.height());
    let x0 = (cx - w / 2.0).clamp(0.0, image.width() as f32 - 1.0) as u32;
    let y0 = (cy - h / 2.0).clamp(0.0, image.height() as f32 - 1.0) as u32;
    let cw = (w as u32).min(image.width() - x0).max(1);
    let ch = (h as u32).min(image.height() - y0).max(1);
    let crop = imageops::crop_imm(image, x0, y0, cw, ch).to_image();
    imageops::resize(&crop, 160, 160 * ch / cw, imageops::FilterType::Triangle)
}

fn mix(choices: Vec<MaskChoice>, fit: &str, weight: f32) -> Result<MaskSpec, Error> {
    Ok(MaskSpec::Mix(MaskMix {
        choices,
        color_weight: weight,
        texture_weight: weight,
        fits: FitMix::parse(fit)?,
        ear_loops: true,
    }))
}

/// Every type, colours, textures and fits on one face.
fn types_sheet(masker: &FaceMasker<Mtcnn, ShapePredictor>, out: &Path) -> Result<(), Error> {
    let photo = load_rgb("fixtures/lfw-mini/Aaron_Peirsol/Aaron_Peirsol_0001.jpg".as_ref())?;
    let check = Texture::from_file("fixtures/textures/check.png".as_ref())?;
    let mut specs: Vec<(String, MaskSpec)> = Vec::new();
    for k in MaskKind::ALL {
        specs.push((
            k.name().into(),
            mix(vec![MaskChoice::of(k)], "proper", 0.5)?,
        ));
    }
    for (kind, color) in [
        (MaskKind::Surgical, "#0473e2"),
        (MaskKind::Surgical, "pink"),
        (MaskKind::Kn95, "black"),
        (MaskKind::Cloth, "#ffc900"),
    ] {
        let choice = MaskChoice {
            color: Some(maskface::mask::parse_color(color)?),
            ..MaskChoice::of(kind)
        };
        specs.push((
            format!("{} {color}", kind.name()),
            mix(vec![choice], "proper", 0.7)?,
        ));
    }
    for (kind, weight) in [
        (MaskKind::Cloth, 0.3),
        (MaskKind::Cloth, 0.6),
        (MaskKind::Cloth, 1.0),
        (MaskKind::Kn95, 0.6),
    ] {
        let choice = MaskChoice {
            texture: Some(check.clone()),
            ..MaskChoice::of(kind)
        };
        specs.push((
            format!("{} check.png {weight}", kind.name()),
            mix(vec![choice], "proper", weight)?,
        ));
    }
    for kind in [
        MaskKind::Surgical,
        MaskKind::Kn95,
        MaskKind::Cloth,
        MaskKind::Gas,
    ] {
        for fit in ["nose-out", "chin"] {
            specs.push((
                format!("{} {fit}", kind.name()),
                mix(vec![MaskChoice::of(kind)], fit, 0.5)?,
            ));
        }
    }
    let mut tiles = Vec::new();
    let mut captions = Vec::new();
    for (caption, spec) in &specs {
        let masked = masker.mask_image(&photo, spec, "sheet")?;
        let Some(face) = masked.faces.first() else {
            return Err(format!("no face masked for {caption}").into());
        };
        tiles.push(around(&masked.image, &face.detection.bbox));
        captions.push(caption.as_str());
    }
    let sheet = image_grid(&tiles, &captions, 8, 150)?;
    sheet.save(out.join("mask_types.png"))?;
    println!(
        "{} masks -> {}",
        specs.len(),
        out.join("mask_types.png").display()
    );
    Ok(())
}

/// How far the head is turned: where the nose tip lies between the jaw's
/// ends along the eye line, -1 (turned fully to one side) to 1.
fn yaw(points: &[maskface::core::Point2]) -> f32 {
    let mean = |r: std::ops::Range<usize>| {
        let n = r.len() as f32;
        r.fold((0.0, 0.0), |(x, y), i| {
            (x + points[i].x / n, y + points[i].y / n)
        })
    };
    let (l, r) = (mean(36..42), mean(42..48));
    let len = (r.0 - l.0).hypot(r.1 - l.1).max(1e-3);
    let ex = ((r.0 - l.0) / len, (r.1 - l.1) / len);
    let along = |i: usize| points[i].x * ex.0 + points[i].y * ex.1;
    let (a, b) = (along(30) - along(0), along(16) - along(30));
    (a - b) / (a + b).abs().max(1e-3)
}

/// The ten most turned faces of LFW, before and after.
fn turned_sheet(
    masker: &FaceMasker<Mtcnn, ShapePredictor>,
    mtcnn: &Mtcnn,
    predictor: &ShapePredictor,
    lfw: &Path,
    out: &Path,
) -> Result<(), Error> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for person in std::fs::read_dir(lfw)? {
        for img in std::fs::read_dir(person?.path())? {
            paths.push(img?.path());
        }
    }
    paths.sort();
    let select = FaceSelection::CenterWeighted { weight: 2.0 };
    let mut scored: Vec<(f32, PathBuf)> = Vec::new();
    for (k, chunk) in paths.chunks(128).enumerate() {
        let loaded: Vec<(PathBuf, RgbImage)> = chunk
            .par_iter()
            .filter_map(|p| load_rgb(p).ok().map(|img| (p.clone(), img)))
            .collect();
        let (names, images): (Vec<PathBuf>, Vec<RgbImage>) = loaded.into_iter().unzip();
        let dets = mtcnn.detect_batch(&images);
        let found: Vec<(f32, PathBuf)> = images
            .par_iter()
            .zip(dets)
            .zip(names.into_par_iter())
            .filter_map(|((img, d), p)| {
                let d: Vec<Detection> = d.ok()?;
                let face = select.pick(&d, img.width(), img.height())?;
                let l = LandmarkPredictor::predict(predictor, img, &landmark_box(face)).ok()?;
                Some((yaw(l.points()).abs(), p))
            })
            .collect();
        scored.extend(found);
        if k % 20 == 0 {
            println!("{} of {} images", (k + 1) * 128, paths.len());
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut tiles = Vec::new();
    let mut captions = Vec::new();
    for (i, (score, path)) in scored.iter().take(10).enumerate() {
        let photo = load_rgb(path)?;
        let kind = MaskKind::RANDOM[i % MaskKind::RANDOM.len()];
        let spec = mix(vec![MaskChoice::of(kind)], "proper", 0.5)?;
        let key = path.to_string_lossy();
        let faces = mtcnn.detect(&photo)?;
        let Some(face) = select.pick(&faces, photo.width(), photo.height()) else {
            continue;
        };
        let masked = masker.mask_detected(&photo, std::slice::from_ref(face), &spec, &key);
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        tiles.push(around(&photo, &face.bbox));
        captions.push(format!("{name} yaw {score:.2}"));
        tiles.push(around(&masked.image, &face.bbox));
        captions.push(kind.name().to_string());
    }
    let captions: Vec<&str> = captions.iter().map(String::as_str).collect();
    let sheet = image_grid(&tiles, &captions, 4, 170)?;
    sheet.save(out.join("mask_turned.png"))?;
    println!(
        "10 most turned faces -> {}",
        out.join("mask_turned.png").display()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lfw = PathBuf::from(args.first().map_or("data/lfw", |s| s));
    let out = PathBuf::from(args.get(1).map_or("docs/images", |s| s));
    std::fs::create_dir_all(&out)?;
    let mtcnn = Mtcnn::from_dir(
        "models".as_ref(),
        MtcnnConfig::default(),
        &Backend::Flex.device()?,
    )?;
    let predictor = ShapePredictor::from_file("models/shape_predictor_68_face_landmarks.dat")?;
    let masker = FaceMasker::new(&mtcnn, &predictor, PhotoOptions::default());
    types_sheet(&masker, &out)?;
    turned_sheet(&masker, &mtcnn, &predictor, &lfw, &out)
}
