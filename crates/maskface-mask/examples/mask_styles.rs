//! Renders every realistic mask style on a few faces and writes a grid for
//! visual inspection, then times the renderer.
//!
//! ```text
//! cargo run --release -p maskface-mask --example mask_styles -- target/mask_styles.png
//! ```
//!
//! Rows are faces: LFW photos (`../shared/lfw` beside the repository, with
//! dlib's landmarks from `tests/fixtures/reference/dlib_hog68_seed_test.json`)
//! when they are there, otherwise the crate's own fixture faces
//! (`tests/fixtures/landmarks/`, dlib's landmarks from
//! `dlib_shape_reference.json`), so the example needs nothing outside the
//! crate. Columns are: the photo, two surgical masks, two N95 / KN95 masks,
//! and cloth masks with each pattern.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use image::RgbImage;
use maskface_core::{load_rgb, rng_for, Landmarks68, MaskRenderer, Point2};
use maskface_mask::{ClothPattern, MaskStyle, RealisticMask};

const LFW_LANDMARKS: &str = include_str!("../tests/fixtures/reference/dlib_hog68_seed_test.json");
const FIXTURE_LANDMARKS: &str =
    include_str!("../tests/fixtures/landmarks/dlib_shape_reference.json");
const FACES: usize = 6;

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/mask_styles.png".into());
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lfw = crate_dir.join("../../../shared/lfw");
    let mut faces = if lfw.is_dir() {
        lfw_faces(&lfw)?
    } else {
        println!(
            "{} not found: using the crate's fixture faces",
            lfw.display()
        );
        fixture_faces(&crate_dir.join("tests"))?
    };

    // One more row: the first face turned by 25 degrees, to show that the
    // masks follow the head.
    if let Some((img, lm)) = faces.first() {
        let turned = rotate(img, lm, 25f32.to_radians())?;
        faces.push(turned);
    }

    let cloth = |p: ClothPattern| RealisticMask {
        patterns: vec![p],
        ..RealisticMask::only(MaskStyle::Cloth)
    };
    let columns: Vec<(RealisticMask, u64)> = vec![
        (RealisticMask::only(MaskStyle::Surgical), 1),
        (RealisticMask::only(MaskStyle::Surgical), 2),
        (RealisticMask::only(MaskStyle::N95), 3),
        (RealisticMask::only(MaskStyle::N95), 4),
        (cloth(ClothPattern::Plain), 5),
        (cloth(ClothPattern::Stripes), 6),
        (cloth(ClothPattern::Dots), 7),
        (cloth(ClothPattern::Checks), 8),
        (cloth(ClothPattern::Floral), 9),
    ];

    let (cw, ch) = faces.first().ok_or("no faces")?.0.dimensions();
    let mut grid = RgbImage::new(cw * (columns.len() as u32 + 1), ch * faces.len() as u32);
    for (row, (img, lm)) in faces.iter().enumerate() {
        let y = i64::from(ch) * row as i64;
        image::imageops::overlay(&mut grid, img, 0, y);
        for (col, (renderer, seed)) in columns.iter().enumerate() {
            let masked = renderer.render(img, lm, &mut rng_for(*seed, &format!("row{row}")))?;
            println!("row {row} col {col}: {}", masked.description);
            image::imageops::overlay(
                &mut grid,
                &masked.image,
                i64::from(cw) * (col as i64 + 1),
                y,
            );
        }
    }
    grid.save(&out)?;
    println!("wrote {out}");

    // Timing: the default renderer (all styles) over the loaded faces.
    let renderer = RealisticMask::default();
    let n = 200;
    let start = Instant::now();
    for i in 0..n {
        let (img, lm) = &faces[i % faces.len()];
        renderer.render(img, lm, &mut rng_for(i as u64, "timing"))?;
    }
    let per = start.elapsed().as_secs_f64() / n as f64;
    println!(
        "render: {:.3} ms per 250x250 image (mean of {n})",
        per * 1e3
    );
    Ok(())
}

/// 68 points from a JSON array of `[x, y]` pairs.
fn landmarks(points: &serde_json::Value) -> Result<Landmarks68, Box<dyn Error>> {
    let pts = points
        .as_array()
        .ok_or("points")?
        .iter()
        .map(|p| {
            Point2::new(
                p[0].as_f64().unwrap_or(0.0) as f32,
                p[1].as_f64().unwrap_or(0.0) as f32,
            )
        })
        .collect();
    Ok(Landmarks68::new(pts)?)
}

/// LFW photos spread over the reference, so different poses and exposures
/// show.
fn lfw_faces(lfw: &Path) -> Result<Vec<(RgbImage, Landmarks68)>, Box<dyn Error>> {
    let json: serde_json::Value = serde_json::from_str(LFW_LANDMARKS)?;
    let entries: Vec<_> = json["images"]
        .as_object()
        .ok_or("fixture has no images")?
        .iter()
        .filter(|(_, v)| !v.is_null())
        .collect();
    entries
        .iter()
        .step_by((entries.len() / FACES).max(1))
        .take(FACES)
        .map(|(name, v)| Ok((load_rgb(&lfw.join(name))?, landmarks(&v["points"])?)))
        .collect()
}

/// The fixture faces of one size (the grid's cells), each image once;
/// their paths are relative to `root`.
fn fixture_faces(root: &Path) -> Result<Vec<(RgbImage, Landmarks68)>, Box<dyn Error>> {
    let json: serde_json::Value = serde_json::from_str(FIXTURE_LANDMARKS)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut faces: Vec<(RgbImage, Landmarks68)> = Vec::new();
    for case in json["cases"].as_array().ok_or("fixture has no cases")? {
        let image = case["image"].as_str().ok_or("image")?;
        if !seen.insert(image) {
            continue;
        }
        let photo = load_rgb(&root.join(image))?;
        if faces
            .first()
            .is_some_and(|(first, _)| first.dimensions() != photo.dimensions())
        {
            continue;
        }
        faces.push((photo, landmarks(&case["points68"])?));
    }
    Ok(faces)
}

/// `img` and `lm` turned by `angle` about the image centre (nearest
/// neighbour; corners that come from outside are black).
fn rotate(
    img: &RgbImage,
    lm: &Landmarks68,
    angle: f32,
) -> Result<(RgbImage, Landmarks68), Box<dyn Error>> {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = angle.sin_cos();
    let out = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            image::Rgb([0, 0, 0])
        }
    });
    let pts = lm
        .points()
        .iter()
        .map(|p| {
            let (dx, dy) = (p.x - cx, p.y - cy);
            Point2::new(c * dx - s * dy + cx, s * dx + c * dy + cy)
        })
        .collect();
    Ok((out, Landmarks68::new(pts)?))
}
