use image::{Rgb, RgbImage};
use maskface_core::{rng_for, Landmarks68, MaskRenderer, MaskedFace, Point2};
use proptest::prelude::*;

use super::palette::{luma, to_f};
use super::{
    mask_outline, mask_outline_fitted, ClothPattern, MaskFit, MaskStyle, RealisticMask, Texture,
};
use crate::polygon::contains;
use crate::MaskError;

const FIXTURE: &str = include_str!("../../tests/fixtures/reference/dlib_hog68_seed_test.json");

/// Every face of the reference fixture (real dlib landmarks on LFW).
fn fixture_faces() -> Vec<(String, Landmarks68)> {
    let json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let mut faces: Vec<(String, Landmarks68)> = json["images"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(name, v)| {
            let pts = v["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
                .collect();
            (name.clone(), Landmarks68::new(pts).unwrap())
        })
        .collect();
    faces.sort_by(|a, b| a.0.cmp(&b.0));
    faces
}

fn first_face() -> Landmarks68 {
    fixture_faces().remove(0).1
}

/// A plain test image with a little texture, the size of an LFW photo.
fn photo(level: u8) -> RgbImage {
    RgbImage::from_fn(250, 250, |x, y| {
        let t = ((x * 7 + y * 3) % 16) as u8;
        Rgb([level.saturating_add(t), level, level.saturating_sub(t / 2)])
    })
}

fn covers_nose_and_mouth(outline: &[Point2], lm: &Landmarks68) -> Result<(), String> {
    for i in std::iter::once(30).chain(48..=67) {
        let p = lm.points()[i];
        if !contains(outline, p) {
            return Err(format!("point {i} at ({:.1}, {:.1}) is outside", p.x, p.y));
        }
    }
    Ok(())
}

#[test]
fn outlines_cover_nose_mouth_and_chin_on_real_faces() {
    let faces = fixture_faces();
    assert!(
        faces.len() > 150,
        "only {} faces in the fixture",
        faces.len()
    );
    for (name, lm) in &faces {
        for style in MaskStyle::ALL {
            let outline = mask_outline(style, lm);
            assert!(
                (40..=80).contains(&outline.len()),
                "{} points",
                outline.len()
            );
            if let Err(e) = covers_nose_and_mouth(&outline, lm) {
                panic!("{name}, {style:?}: {e}");
            }
            let chin = lm.points()[8];
            let below = Point2::new(chin.x, chin.y + 3.0);
            assert!(
                contains(&outline, chin) || contains(&outline, below),
                "{name}, {style:?}: the chin is not covered"
            );
        }
    }
}

/// Even-odd point-in-polygon, written here again so that the mask is
/// checked against something other than the code that drew it.
fn inside(polygon: &[Point2], x: f32, y: f32) -> bool {
    let n = polygon.len();
    let mut odd = false;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        if (a.y > y) != (b.y > y) && x < a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y) {
            odd = !odd;
        }
    }
    odd
}

/// The mask drawn is the polygon returned: full wherever a pixel lies
/// wholly inside the polygon, empty wherever it lies wholly outside, and
/// its coverage adds up to the polygon's area (shoelace formula).
#[test]
fn render_mask_is_the_returned_polygon_filled() {
    let lm = first_face();
    for style in MaskStyle::ALL {
        let out = RealisticMask::only(style)
            .render(&photo(120), &lm, &mut rng_for(3, "poly"))
            .unwrap();
        assert_eq!(out.polygon, mask_outline(style, &lm));
        assert!(out.description.contains(&format!("\"{}\"", style.name())));
        let poly = &out.polygon;
        let (mut full, mut empty) = (0, 0);
        for (x, y, m) in out.mask.enumerate_pixels() {
            // The pixel's four corners and centre on one side of the outline.
            let (x0, y0) = (x as f32, y as f32);
            let probes = [(0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)];
            let sides: Vec<bool> = probes
                .iter()
                .map(|(dx, dy)| inside(poly, x0 + dx, y0 + dy))
                .collect();
            if sides.iter().all(|&s| s) {
                assert_eq!(m[0], 255, "{style:?} ({x}, {y}) is inside");
                full += 1;
            } else if sides.iter().all(|&s| !s) {
                // A pixel whose corners are all outside can still be
                // grazed by a vertex poking into it; only a clear margin
                // is certain to be empty.
                let clear = (-1..=1).all(|dy| {
                    (-1..=1).all(|dx| !inside(poly, x0 + 0.5 + dx as f32, y0 + 0.5 + dy as f32))
                });
                if clear {
                    assert_eq!(m[0], 0, "{style:?} ({x}, {y}) is outside");
                    empty += 1;
                }
            }
        }
        let shoelace = (0..poly.len())
            .map(|i| {
                let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                f64::from(a.x) * f64::from(b.y) - f64::from(b.x) * f64::from(a.y)
            })
            .sum::<f64>()
            .abs()
            / 2.0;
        let covered = out.mask.iter().map(|&v| f64::from(v)).sum::<f64>() / 255.0;
        eprintln!(
            "{style:?}: area {shoelace:.1}, covered {covered:.1}, {full} full, {empty} empty"
        );
        // Measured: 5,556 to 5,910 pixels wholly inside, 56,009 to 56,419
        // clear outside, of 62,500.
        assert!(full > 5500 && empty > 55_000, "{full} {empty}");
        // Coverage samples four rows per pixel and rounds each pixel to
        // 1/255; measured within 1.3e-4 of the area, held to 5e-4.
        assert!(
            (covered / shoelace - 1.0).abs() < 5e-4,
            "{style:?}: {covered} vs {shoelace}"
        );
    }
}

#[test]
fn same_seed_gives_identical_pixels() {
    let lm = first_face();
    let img = photo(130);
    let r = RealisticMask::default();
    for k in 0..6 {
        let a = r.render(&img, &lm, &mut rng_for(k, "same")).unwrap();
        let b = r.render(&img, &lm, &mut rng_for(k, "same")).unwrap();
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        assert_eq!(a.mask.as_raw(), b.mask.as_raw());
        assert_eq!(a.description, b.description);
    }
}

#[test]
fn seeds_vary_style_colour_and_pattern() {
    let lm = first_face();
    let img = photo(130);
    let r = RealisticMask::default();
    let mut styles = std::collections::BTreeSet::new();
    let mut colors = std::collections::BTreeSet::new();
    for k in 0..20 {
        let d: serde_json::Value = serde_json::from_str(
            &r.render(&img, &lm, &mut rng_for(k, "vary"))
                .unwrap()
                .description,
        )
        .unwrap();
        styles.insert(d["style"].as_str().unwrap().to_string());
        colors.insert(d["color"].to_string());
    }
    assert!(styles.len() >= 2, "{styles:?}");
    assert!(colors.len() >= 5, "{colors:?}");
}

#[test]
fn description_is_compact_json_with_the_drawn_parameters() {
    let lm = first_face();
    let img = photo(130);
    let cloth = RealisticMask {
        patterns: vec![ClothPattern::Stripes],
        ..RealisticMask::only(MaskStyle::Cloth)
    };
    let out = cloth.render(&img, &lm, &mut rng_for(1, "json")).unwrap();
    assert!(!out.description.contains(' '), "{}", out.description);
    let d: serde_json::Value = serde_json::from_str(&out.description).unwrap();
    assert_eq!(d["style"], "cloth");
    assert_eq!(d["pattern"], "stripes");
    assert_eq!(d["ear_loops"], true);
    assert_eq!(d["color"].as_array().unwrap().len(), 3);
    let b = d["brightness"].as_f64().unwrap();
    assert!((0.55..=1.15).contains(&b), "{b}");

    let n95 = RealisticMask::only(MaskStyle::N95);
    let d: serde_json::Value = serde_json::from_str(
        &n95.render(&img, &lm, &mut rng_for(1, "json"))
            .unwrap()
            .description,
    )
    .unwrap();
    assert!(d["variant"] == "kn95" || d["variant"] == "cup", "{d}");
    assert!(d.get("pattern").is_none());
}

#[test]
fn user_colours_replace_the_palettes() {
    let lm = first_face();
    let r = RealisticMask {
        colors: Some(vec![[10, 200, 30]]),
        ..RealisticMask::default()
    };
    for k in 0..6 {
        let out = r.render(&photo(130), &lm, &mut rng_for(k, "user")).unwrap();
        assert!(
            out.description.contains("[10,200,30]"),
            "{}",
            out.description
        );
    }
}

#[test]
fn mask_is_empty_far_away_and_full_at_the_mouth() {
    let lm = first_face();
    let mouth = lm.mean_of(48..68);
    for style in MaskStyle::ALL {
        let out = RealisticMask::only(style)
            .render(&photo(120), &lm, &mut rng_for(5, "cov"))
            .unwrap();
        let m = &out.mask;
        for (x, y) in [(0, 0), (249, 0), (0, 249), (249, 249)] {
            assert_eq!(m.get_pixel(x, y)[0], 0, "{style:?} at ({x}, {y})");
        }
        assert_eq!(
            m.get_pixel(mouth.x as u32, mouth.y as u32)[0],
            255,
            "{style:?}"
        );
    }
}

#[test]
fn ear_loops_are_painted_outside_the_mask_and_darker() {
    let lm = first_face();
    let img = photo(128);
    let with = RealisticMask {
        colors: Some(vec![[240, 240, 240]]),
        ..RealisticMask::only(MaskStyle::Surgical)
    };
    let without = RealisticMask {
        ear_loops: false,
        ..with.clone()
    };
    let a = with.render(&img, &lm, &mut rng_for(2, "loops")).unwrap();
    let b = without.render(&img, &lm, &mut rng_for(2, "loops")).unwrap();
    assert_eq!(a.mask, b.mask, "loops are not part of the mask");
    let changed = a
        .image
        .pixels()
        .zip(b.image.pixels())
        .zip(a.mask.pixels())
        .filter(|((p, q), m)| p != q && m[0] == 0)
        .count();
    // Two strings per side, each some 10-25 px long and 1-2 px wide.
    assert!(
        (20..2000).contains(&changed),
        "{changed} pixels changed by the loops"
    );
}

/// Mean luminance of the pixels fully inside the mask.
fn body_mean(out: &MaskedFace) -> f32 {
    let (mut sum, mut n) = (0.0, 0.0);
    for (p, m) in out.image.pixels().zip(out.mask.pixels()) {
        if m[0] == 255 {
            sum += luma(to_f(p.0));
            n += 1.0;
        }
    }
    sum / n
}

#[test]
fn a_darker_photo_gives_a_darker_mask() {
    let lm = first_face();
    let img = photo(150);
    let dark = RgbImage::from_fn(250, 250, |x, y| {
        Rgb(img.get_pixel(x, y).0.map(|c| (f32::from(c) * 0.4) as u8))
    });
    for style in MaskStyle::ALL {
        let r = RealisticMask::only(style);
        let bright = r.render(&img, &lm, &mut rng_for(9, "dark")).unwrap();
        let dim = r.render(&dark, &lm, &mut rng_for(9, "dark")).unwrap();
        assert!(
            body_mean(&dim) < 0.8 * body_mean(&bright),
            "{style:?}: {} vs {}",
            body_mean(&dim),
            body_mean(&bright)
        );
        let factor = |d: &str| {
            serde_json::from_str::<serde_json::Value>(d).unwrap()["brightness"]
                .as_f64()
                .unwrap()
        };
        assert!(factor(&dim.description) < factor(&bright.description));
    }
    // Without matching, the photo's exposure does not matter.
    let fixed = RealisticMask {
        match_brightness: false,
        ..RealisticMask::only(MaskStyle::N95)
    };
    let a = fixed.render(&img, &lm, &mut rng_for(9, "dark")).unwrap();
    let b = fixed.render(&dark, &lm, &mut rng_for(9, "dark")).unwrap();
    assert!((body_mean(&a) - body_mean(&b)).abs() < 1.0);
}

#[test]
fn invalid_parameters_are_rejected() {
    let lm = first_face();
    let img = photo(100);
    let mut pts = lm.points().to_vec();
    pts[33].x = f32::NAN;
    let bad = Landmarks68::new(pts).unwrap();
    let err = RealisticMask::default().render(&img, &bad, &mut rng_for(0, "bad"));
    assert!(matches!(
        err,
        Err(MaskError::InvalidParameter {
            name: "landmarks",
            ..
        })
    ));

    let cases = [
        (
            RealisticMask {
                styles: vec![],
                ..RealisticMask::default()
            },
            "styles",
        ),
        (
            RealisticMask {
                colors: Some(vec![]),
                ..RealisticMask::default()
            },
            "colors",
        ),
        (
            RealisticMask {
                patterns: vec![],
                ..RealisticMask::default()
            },
            "patterns",
        ),
    ];
    for (r, field) in cases {
        match r.render(&img, &lm, &mut rng_for(0, "bad")) {
            Err(MaskError::InvalidParameter { name, .. }) => assert_eq!(name, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Without cloth, an empty pattern list is fine.
    let no_cloth = RealisticMask {
        styles: vec![MaskStyle::Surgical],
        patterns: vec![],
        ..RealisticMask::default()
    };
    assert!(no_cloth.render(&img, &lm, &mut rng_for(0, "ok")).is_ok());
}

#[test]
fn tiny_degenerate_and_offscreen_faces_do_not_panic() {
    let lm = first_face();
    let r = RealisticMask::default();
    let moved = |dx: f32, dy: f32, k: f32| {
        Landmarks68::new(
            lm.points()
                .iter()
                .map(|p| Point2::new(p.x * k + dx, p.y * k + dy))
                .collect(),
        )
        .unwrap()
    };
    let cases = [
        moved(0.0, 0.0, 0.02),      // a face of 2 px
        moved(-120.0, -100.0, 1.0), // mostly off the top-left
        moved(200.0, 180.0, 1.0),   // mostly off the bottom-right
        moved(5000.0, 5000.0, 1.0), // entirely outside
        moved(40.0, 40.0, 0.0),     // all points on one spot
        moved(0.0, 0.0, 1e30),      // absurdly large, still finite
    ];
    let mut renderers = vec![r];
    for fit in MaskFit::ALL {
        for style in [MaskStyle::Kn95, MaskStyle::N95Cup, MaskStyle::Gas] {
            renderers.push(RealisticMask {
                fit,
                ..RealisticMask::only(style)
            });
        }
        renderers.push(RealisticMask {
            fit,
            texture: Some(Texture::from_image(
                "t",
                RgbImage::from_pixel(1, 1, Rgb([9, 9, 9])),
            )),
            colors: Some(vec![[1, 2, 3]]),
            color_weight: 0.5,
            ..RealisticMask::default()
        });
    }
    for r in &renderers {
        for (i, face) in cases.iter().enumerate() {
            for size in [(0, 0), (1, 1), (160, 160)] {
                let img = RgbImage::from_pixel(size.0, size.1, Rgb([90, 80, 70]));
                let out = r
                    .render(&img, face, &mut rng_for(i as u64, "edge"))
                    .unwrap();
                assert_eq!(out.image.dimensions(), size);
                assert_eq!(out.mask.dimensions(), size);
                assert!(out
                    .polygon
                    .iter()
                    .all(|p| p.x.is_finite() && p.y.is_finite()));
            }
        }
    }
}

/// Squeezes the side of the face left of the nose (a turned head), then
/// rotates, scales and moves the landmarks.
fn transform(lm: &Landmarks68, squeeze: f32, angle: f32, scale: f32, t: (f32, f32)) -> Landmarks68 {
    let nose = lm.points()[30];
    let (s, c) = angle.to_radians().sin_cos();
    let pts = lm
        .points()
        .iter()
        .map(|p| {
            let x = if p.x < nose.x {
                nose.x + (p.x - nose.x) * squeeze
            } else {
                p.x
            };
            let (dx, dy) = (x - nose.x, p.y - nose.y);
            Point2::new(
                (c * dx - s * dy) * scale + 80.0 + t.0,
                (s * dx + c * dy) * scale + 80.0 + t.1,
            )
        })
        .collect();
    Landmarks68::new(pts).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn outline_follows_turned_rotated_and_scaled_faces(
        face in 0usize..190,
        squeeze in 0.4f32..1.0,
        angle in -35.0f32..35.0,
        scale in 0.5f32..2.0,
        tx in -60.0f32..60.0,
        ty in -60.0f32..60.0,
        seed in 0u64..1000,
    ) {
        let faces = fixture_faces();
        let lm = transform(&faces[face % faces.len()].1, squeeze, angle, scale, (tx, ty));
        for style in MaskStyle::ALL {
            let outline = mask_outline(style, &lm);
            prop_assert!(outline.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
            if let Err(e) = covers_nose_and_mouth(&outline, &lm) {
                prop_assert!(false, "{:?}: {}", style, e);
            }
        }
        let img = RgbImage::from_pixel(160, 160, Rgb([120, 100, 90]));
        let out = RealisticMask::default().render(&img, &lm, &mut rng_for(seed, "prop")).unwrap();
        prop_assert_eq!(out.image.dimensions(), (160, 160));
        prop_assert_eq!(out.mask.dimensions(), (160, 160));
    }

    /// The paper's polygon and every realistic outline, on real faces
    /// turned, rolled and scaled inside a 400x400 image: inside the
    /// image, over the nose tip and the whole mouth, and the painted
    /// mask is full there.
    #[test]
    fn masks_stay_inside_the_image_and_cover_nose_and_mouth(
        face in 0usize..190,
        squeeze in 0.4f32..1.0,
        angle in -35.0f32..35.0,
        scale in 0.6f32..1.6,
        seed in 0u64..1000,
    ) {
        let faces = fixture_faces();
        let lm = transform(&faces[face % faces.len()].1, squeeze, angle, scale, (120.0, 120.0));
        let paper = crate::paper_polygon(&lm);
        let inside = |poly: &[Point2]| {
            poly.iter().all(|p| (0.0..400.0).contains(&p.x) && (0.0..400.0).contains(&p.y))
        };
        prop_assert!(inside(&paper), "{:?}", paper);
        if let Err(e) = covers_nose_and_mouth(&paper, &lm) {
            prop_assert!(false, "paper: {}", e);
        }
        for style in MaskStyle::ALL {
            prop_assert!(inside(&mask_outline(style, &lm)), "{:?}", style);
        }
        let img = RgbImage::from_pixel(400, 400, Rgb([120, 100, 90]));
        let out = crate::PaperMask::default()
            .render(&img, &lm, &mut rng_for(seed, "prop"))
            .unwrap();
        for i in [30usize, 51, 57, 62, 66] {
            let p = lm.points()[i];
            prop_assert_eq!(out.mask.get_pixel(p.x as u32, p.y as u32)[0], 255, "point {}", i);
        }
    }
}

/// FNV-1a over a byte stream: stable across Rust releases, unlike
/// `DefaultHasher`, so recorded values stay valid.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn eat(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A hash of everything a render returns: pixels, coverage, polygon and
/// description.
fn render_hash(out: &MaskedFace) -> u64 {
    let mut h = Fnv::new();
    h.eat(out.image.as_raw());
    h.eat(out.mask.as_raw());
    for p in &out.polygon {
        h.eat(&p.x.to_bits().to_le_bytes());
        h.eat(&p.y.to_bits().to_le_bytes());
    }
    h.eat(out.description.as_bytes());
    h.0
}

/// The configurations whose output the project's recorded figures rest on.
fn recorded_configurations() -> Vec<(&'static str, Box<dyn MaskRenderer<Error = MaskError>>)> {
    vec![
        ("default", Box::new(RealisticMask::default())),
        (
            "surgical",
            Box::new(RealisticMask::only(MaskStyle::Surgical)),
        ),
        ("n95", Box::new(RealisticMask::only(MaskStyle::N95))),
        ("cloth", Box::new(RealisticMask::only(MaskStyle::Cloth))),
        (
            "colors",
            Box::new(RealisticMask {
                colors: Some(vec![[10, 200, 30], [200, 60, 90]]),
                ..RealisticMask::default()
            }),
        ),
        (
            "plain",
            Box::new(RealisticMask {
                ear_loops: false,
                match_brightness: false,
                ..RealisticMask::default()
            }),
        ),
        ("family", Box::new(crate::MaskFamily::default())),
        ("training", Box::new(crate::MaskFamily::training())),
        ("held_out", Box::new(crate::MaskFamily::held_out())),
    ]
}

/// Existing configurations render byte-identical images, masks, polygons
/// and descriptions, and describe themselves with identical JSON, as they
/// did before the fits, the new styles, colour weights and textures were
/// added (values recorded on that code).
#[test]
fn existing_configurations_render_as_recorded() {
    let faces = fixture_faces();
    let img = photo(130);
    let mut got = Vec::new();
    for (name, r) in recorded_configurations() {
        let mut h = Fnv::new();
        h.eat(r.describe().to_string().as_bytes());
        let mut renders = vec![h.0];
        for (k, face) in [0usize, 57, 133].into_iter().enumerate() {
            for seed in 0..4u64 {
                let out = r
                    .render(
                        &img,
                        &faces[face].1,
                        &mut rng_for(seed + 10 * k as u64, name),
                    )
                    .unwrap();
                renders.push(render_hash(&out));
            }
        }
        let mut all = Fnv::new();
        for v in &renders {
            all.eat(&v.to_le_bytes());
        }
        got.push((name, all.0));
    }
    let expected: [(&str, u64); 9] = [
        ("default", 0x74dea4609e252b7d),
        ("surgical", 0x5d5dea8c6ec7b667),
        ("n95", 0x6ca24b5f3e40ec83),
        ("cloth", 0x22a2a17d98d15b7b),
        ("colors", 0x7b6f9f294885ea77),
        ("plain", 0xee88e7e3fd400321),
        ("family", 0xc25a7863086c2c07),
        ("training", 0x5ffcab36d1ecb393),
        ("held_out", 0x1e5dd11971b71039),
    ];
    for (name, hash) in &got {
        eprintln!("(\"{name}\", 0x{hash:016x}),");
    }
    assert_eq!(got, expected.to_vec());
}

/// The crate's fixture photos with dlib's landmarks, and, when the LFW
/// photos lie beside the repository, the two most turned faces of the
/// reference fixture (cropped to the same size).
fn preview_faces() -> Vec<(RgbImage, Landmarks68)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let json: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/landmarks/dlib_shape_reference.json"
    ))
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut faces = Vec::new();
    for case in json["cases"].as_array().unwrap() {
        let image = case["image"].as_str().unwrap();
        if !seen.insert(image.to_string()) || image.contains("edge") {
            continue;
        }
        let pts = case["points68"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
            .collect();
        let photo = maskface_core::load_rgb(&root.join(image)).unwrap();
        faces.push((photo, Landmarks68::new(pts).unwrap()));
    }
    let lfw = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/lfw");
    if lfw.is_dir() {
        let mut turned: Vec<(f32, String, Landmarks68)> = fixture_faces()
            .into_iter()
            .map(|(name, lm)| {
                let yaw = super::geometry::Face::new(&lm).yaw_sin();
                (yaw, name, lm)
            })
            .collect();
        turned.sort_by(|a, b| a.0.total_cmp(&b.0));
        let picks = [turned[0].clone(), turned[turned.len() - 1].clone()];
        for (_, name, lm) in picks {
            let Ok(photo) = maskface_core::load_rgb(&lfw.join(&name)) else {
                continue;
            };
            let crop = image::imageops::crop_imm(&photo, 50, 50, 150, 150).to_image();
            let pts = lm
                .points()
                .iter()
                .map(|p| Point2::new(p.x - 50.0, p.y - 50.0))
                .collect();
            faces.push((crop, Landmarks68::new(pts).unwrap()));
        }
    }
    faces
}

/// Writes `target/styles_preview.png`: for each face, a row per fit and a
/// column per style, after the photo itself, for a person to look at.
#[test]
#[ignore = "writes a picture for inspection"]
fn write_styles_preview() {
    let faces = preview_faces();
    let cell = 150u32;
    let cols = MaskStyle::EVERY.len() as u32 + 1;
    let rows = (faces.len() * MaskFit::ALL.len()) as u32;
    let mut grid = RgbImage::new(cell * cols, cell * rows);
    for (f, (photo, lm)) in faces.iter().enumerate() {
        for (r, fit) in MaskFit::ALL.into_iter().enumerate() {
            let y = i64::from(cell) * (f * MaskFit::ALL.len() + r) as i64;
            image::imageops::overlay(&mut grid, photo, 0, y);
            for (c, style) in MaskStyle::EVERY.into_iter().enumerate() {
                let renderer = RealisticMask {
                    fit,
                    ..RealisticMask::only(style)
                };
                let out = renderer
                    .render(photo, lm, &mut rng_for((f * 10 + c) as u64, "preview"))
                    .unwrap();
                image::imageops::overlay(
                    &mut grid,
                    &out.image,
                    i64::from(cell) * (c as i64 + 1),
                    y,
                );
            }
        }
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/styles_preview.png");
    grid.save(&path).unwrap();
    eprintln!("wrote {}", path.display());
}

/// Whether the outline covers `p`.
fn covers(poly: &[Point2], p: Point2) -> bool {
    contains(poly, p)
}

/// Points around `c` at `r` pixels, in eight directions, and `c` itself.
fn neighbourhood(c: Point2, r: f32) -> Vec<Point2> {
    let mut pts = vec![c];
    pts.extend((0..8).map(|k| {
        let t = k as f32 * std::f32::consts::FRAC_PI_4;
        Point2::new(c.x + r * t.cos(), c.y + r * t.sin())
    }));
    pts
}

/// Each fit covers what it should and leaves uncovered what it should, for
/// every style, on every face of the reference fixture.
#[test]
fn fits_cover_and_uncover_the_right_landmarks_on_real_faces() {
    for (name, lm) in fixture_faces() {
        let p = lm.points();
        let h = p[8].distance(&p[27]);
        for style in MaskStyle::EVERY {
            let proper = mask_outline_fitted(style, MaskFit::Proper, &lm);
            assert_eq!(proper, mask_outline(style, &lm), "{name} {style:?}");
            for q in neighbourhood(p[30], 0.03 * h) {
                assert!(covers(&proper, q), "{name} {style:?} proper: nose tip area");
            }
            assert!(covers(&proper, p[62]), "{name} {style:?} proper: mouth");

            let nose_out = mask_outline_fitted(style, MaskFit::NoseOut, &lm);
            for q in neighbourhood(p[30], 0.04 * h) {
                assert!(
                    !covers(&nose_out, q),
                    "{name} {style:?} nose_out covers the nose tip area at {q:?}"
                );
            }
            for i in [51, 57, 62, 66] {
                assert!(
                    covers(&nose_out, p[i]),
                    "{name} {style:?} nose_out: point {i}"
                );
            }

            let chin = mask_outline_fitted(style, MaskFit::Chin, &lm);
            for i in [30, 33, 51, 62, 66] {
                assert!(
                    !covers(&chin, p[i]),
                    "{name} {style:?} chin covers point {i}"
                );
            }
            for q in neighbourhood(p[8], 0.03 * h) {
                assert!(
                    covers(&chin, q),
                    "{name} {style:?} chin: chin area at {q:?}"
                );
            }
            // Pulled down, the mask hangs below the chin.
            let below = Point2::new(
                p[8].x + (p[8].x - p[27].x) * 0.1,
                p[8].y + (p[8].y - p[27].y) * 0.1,
            );
            assert!(
                covers(&chin, below),
                "{name} {style:?} chin: below the chin"
            );
        }
    }
}

/// The painted coverage agrees with the outlines: rendered on a face, each
/// fit's mask is full and empty where its outline says.
#[test]
fn rendered_fits_cover_what_their_outlines_cover() {
    let faces = fixture_faces();
    for (name, lm) in faces.iter().step_by(20) {
        let p = lm.points();
        for style in MaskStyle::EVERY {
            for fit in MaskFit::ALL {
                let out = RealisticMask {
                    fit,
                    ..RealisticMask::only(style)
                }
                .render(&photo(120), lm, &mut rng_for(4, "fit"))
                .unwrap();
                assert_eq!(out.polygon, mask_outline_fitted(style, fit, lm));
                let at = |i: usize| out.mask.get_pixel(p[i].x as u32, p[i].y as u32)[0];
                let (covered, open): (&[usize], &[usize]) = match fit {
                    MaskFit::Proper => (&[30, 62, 57], &[27]),
                    MaskFit::NoseOut => (&[62, 57], &[30, 27]),
                    MaskFit::Chin => (&[8], &[30, 62]),
                };
                for &i in covered {
                    assert_eq!(at(i), 255, "{name} {style:?} {fit:?}: point {i}");
                }
                for &i in open {
                    assert_eq!(at(i), 0, "{name} {style:?} {fit:?}: point {i}");
                }
                let d: serde_json::Value = serde_json::from_str(&out.description).unwrap();
                assert_eq!(d["style"], style.name());
                if fit == MaskFit::Proper {
                    assert!(d.get("fit").is_none(), "{d}");
                } else {
                    assert_eq!(d["fit"], fit.name());
                }
            }
        }
    }
}

/// The gas respirator's cartridges stand out beside the jaw, where no
/// proper outline reaches, and are part of its coverage.
#[test]
fn gas_cartridges_cover_beside_the_jaw() {
    let faces = fixture_faces();
    let mut checked = 0;
    for (name, lm) in &faces {
        let face = super::geometry::Face::new(lm);
        // Cartridges of a turned head hide behind it or turn edge-on;
        // the claim is about faces seen nearly from the front.
        if face.yaw_sin().abs() > 0.2 {
            continue;
        }
        let out = RealisticMask::only(MaskStyle::Gas)
            .render(&photo(120), lm, &mut rng_for(6, "gas"))
            .unwrap();
        assert_eq!(out.polygon, mask_outline(MaskStyle::Gas, lm));
        let d: serde_json::Value = serde_json::from_str(&out.description).unwrap();
        assert_eq!(d["style"], "gas");
        assert_eq!(d["cartridge_color"].as_array().unwrap().len(), 3);
        for i in [4usize, 12] {
            // Beyond every proper outline (the cloth mask's reaches 0.05 h).
            let beside = face.p[i] + face.jaw_normal[i] * (0.08 * face.h);
            let q = beside.point();
            for style in MaskStyle::EVERY {
                assert!(
                    !contains(&mask_outline(style, lm), q),
                    "{name}: {q:?} is inside the proper {style:?} outline"
                );
            }
            let m = out.mask.get_pixel(q.x as u32, q.y as u32)[0];
            assert_eq!(m, 255, "{name}: the cartridge beside point {i} at {q:?}");
        }
        // More coverage than the body alone.
        let body = crate::polygon_coverage(250, 250, &out.polygon);
        let sum = |g: &image::GrayImage| g.iter().map(|&v| u64::from(v)).sum::<u64>();
        assert!(sum(&out.mask) > sum(&body) * 11 / 10, "{name}");
        checked += 1;
    }
    assert!(checked > 50, "only {checked} frontal faces");
}

#[test]
fn respirator_styles_say_what_they_are() {
    let lm = first_face();
    for seed in 0..8 {
        for (style, variant) in [(MaskStyle::Kn95, "kn95"), (MaskStyle::N95Cup, "cup")] {
            let out = RealisticMask::only(style)
                .render(&photo(130), &lm, &mut rng_for(seed, "resp"))
                .unwrap();
            let d: serde_json::Value = serde_json::from_str(&out.description).unwrap();
            assert_eq!(d["style"], style.name(), "{d}");
            assert_eq!(d["variant"], variant, "{d}");
        }
    }
    // The fold-flat KN95 has a centre seam: a dark line down the nose line
    // that the moulded cup has not.
    let seam_contrast = |style: MaskStyle| {
        let out = RealisticMask {
            colors: Some(vec![[230, 230, 230]]),
            match_brightness: false,
            ..RealisticMask::only(style)
        }
        .render(&photo(130), &lm, &mut rng_for(1, "seam"))
        .unwrap();
        let p = lm.points();
        let (c, r) = (p[62], p[62].distance(&p[54]) * 0.5);
        let at = |x: f32| luma(to_f(out.image.get_pixel(x as u32, c.y as u32).0));
        (at(c.x - r) + at(c.x + r)) / 2.0 - at(c.x)
    };
    let (kn95, cup) = (
        seam_contrast(MaskStyle::Kn95),
        seam_contrast(MaskStyle::N95Cup),
    );
    assert!(kn95 > cup + 8.0, "seam: kn95 {kn95}, cup {cup}");
    assert_eq!(MaskStyle::EVERY.len(), 6);
    assert_eq!(
        MaskStyle::ALL,
        [MaskStyle::Surgical, MaskStyle::N95, MaskStyle::Cloth]
    );
    for style in MaskStyle::EVERY {
        assert_eq!(MaskStyle::from_name(style.name()), Some(style));
        let json = serde_json::to_string(&style).unwrap();
        assert_eq!(json, format!("\"{}\"", style.name()));
    }
    for fit in MaskFit::ALL {
        assert_eq!(MaskFit::from_name(fit.name()), Some(fit));
        assert_eq!(
            serde_json::to_string(&fit).unwrap(),
            format!("\"{}\"", fit.name())
        );
    }
    assert_eq!(MaskFit::default(), MaskFit::Proper);
    assert_eq!(MaskStyle::from_name("KN95"), Some(MaskStyle::Kn95));
    assert_eq!(MaskFit::from_name("nose"), None);
}

/// Mean colour of the pixels fully inside the mask.
fn body_rgb(out: &MaskedFace) -> [f32; 3] {
    let (mut sum, mut n) = ([0.0f32; 3], 0.0);
    for (p, m) in out.image.pixels().zip(out.mask.pixels()) {
        if m[0] == 255 {
            for k in 0..3 {
                sum[k] += f32::from(p[k]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

#[test]
fn color_weight_mixes_the_palette_and_the_listed_colour() {
    let lm = first_face();
    let listed = [200u8, 30, 30];
    let render = |w: f32| {
        RealisticMask {
            colors: Some(vec![listed]),
            color_weight: w,
            match_brightness: false,
            ear_loops: false,
            ..RealisticMask::only(MaskStyle::Surgical)
        }
        .render(&photo(130), &lm, &mut rng_for(2, "weight"))
        .unwrap()
    };
    let color_of = |out: &MaskedFace| {
        let d: serde_json::Value = serde_json::from_str(&out.description).unwrap();
        let c: Vec<u8> = serde_json::from_value(d["color"].clone()).unwrap();
        (c, d.get("color_weight").and_then(|w| w.as_f64()))
    };
    let (zero, half, full) = (render(0.0), render(0.5), render(1.0));
    let (c0, w0) = color_of(&zero);
    let (c5, w5) = color_of(&half);
    let (c1, w1) = color_of(&full);
    assert_eq!(c1, listed.to_vec());
    assert_eq!((w0, w5, w1), (Some(0.0), Some(0.5), None));
    // At 0 the body is a (slightly tinted) surgical palette colour.
    assert!(
        super::palette::SURGICAL_COLORS
            .iter()
            .any(|p| p
                .iter()
                .zip(&c0)
                .all(|(a, b)| (i32::from(*a) - i32::from(*b)).abs() <= 6)),
        "{c0:?}"
    );
    for k in 0..3 {
        let mid = (f32::from(c0[k]) + f32::from(listed[k])) / 2.0;
        assert!((f32::from(c5[k]) - mid).abs() <= 0.5, "{c5:?} vs {c0:?}");
    }
    let (m0, m5, m1) = (body_rgb(&zero), body_rgb(&half), body_rgb(&full));
    for k in 0..3 {
        let mid = (m0[k] + m1[k]) / 2.0;
        assert!(
            (m5[k] - mid).abs() < 3.0,
            "channel {k}: {m0:?} {m5:?} {m1:?}"
        );
    }
    assert!(m1[0] > 2.5 * m1[1] && m1[0] > 2.5 * m1[2], "{m1:?}");
    // At 1 nothing extra is drawn: the same image as before the weight.
    let old = RealisticMask {
        colors: Some(vec![listed]),
        match_brightness: false,
        ear_loops: false,
        ..RealisticMask::only(MaskStyle::Surgical)
    }
    .render(&photo(130), &lm, &mut rng_for(2, "weight"))
    .unwrap();
    assert_eq!(old.image, full.image);
}

fn solid(rgb: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(8, 8, Rgb(rgb))
}

#[test]
fn a_texture_tints_the_body_and_turns_with_the_surface() {
    let lm = first_face();
    let white = RealisticMask {
        colors: Some(vec![[235, 235, 235]]),
        match_brightness: false,
        ear_loops: false,
        ..RealisticMask::only(MaskStyle::Surgical)
    };
    let with = |texture: RgbImage, weight: f32| {
        RealisticMask {
            texture: Some(Texture::from_image("t.png", texture)),
            texture_weight: weight,
            ..white.clone()
        }
        .render(&photo(130), &lm, &mut rng_for(3, "tex"))
        .unwrap()
    };
    let green = with(solid([20, 170, 40]), 1.0);
    let m = body_rgb(&green);
    assert!(m[1] > 2.0 * m[0] && m[1] > 2.0 * m[2], "{m:?}");
    let d: serde_json::Value = serde_json::from_str(&green.description).unwrap();
    assert_eq!(d["texture"], "t.png");
    assert_eq!(d["texture_weight"], 1.0);
    // Half the weight, half the tint.
    let half = body_rgb(&with(solid([20, 170, 40]), 0.5));
    let plain_out = white
        .render(&photo(130), &lm, &mut rng_for(3, "tex"))
        .unwrap();
    let plain = body_rgb(&plain_out);
    for k in 0..3 {
        assert!((half[k] - (plain[k] + m[k]) / 2.0).abs() < 3.0, "{half:?}");
    }
    // Weight 0 paints the mask without it.
    assert_eq!(with(solid([20, 170, 40]), 0.0).image, plain_out.image);
    // The texture's left half lies on the mask's left, its right on the
    // right: red left of the nose line, blue right of it.
    let split = RgbImage::from_fn(16, 8, |x, _| {
        if x < 8 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let out = with(split, 1.0);
    let p = lm.points();
    let (l, r) = (p[48], p[54]);
    let left = out.image.get_pixel(l.x as u32, l.y as u32).0;
    let right = out.image.get_pixel(r.x as u32, r.y as u32).0;
    assert!(left[0] > 2 * left[2], "{left:?}");
    assert!(right[2] > 2 * right[0], "{right:?}");
}

#[test]
fn weights_and_textures_are_validated_by_name() {
    let lm = first_face();
    let img = photo(100);
    let cases = [
        (
            RealisticMask {
                color_weight: 1.5,
                ..RealisticMask::default()
            },
            "color_weight",
        ),
        (
            RealisticMask {
                color_weight: -0.1,
                ..RealisticMask::default()
            },
            "color_weight",
        ),
        (
            RealisticMask {
                color_weight: f32::NAN,
                ..RealisticMask::default()
            },
            "color_weight",
        ),
        (
            RealisticMask {
                texture_weight: 2.0,
                ..RealisticMask::default()
            },
            "texture_weight",
        ),
        (
            RealisticMask {
                texture: Some(serde_json::from_str(r#"{"name":"brick.png"}"#).unwrap()),
                ..RealisticMask::default()
            },
            "texture",
        ),
    ];
    for (r, field) in cases {
        match r.render(&img, &lm, &mut rng_for(0, "bad")) {
            Err(e @ MaskError::InvalidParameter { name, .. }) => {
                assert_eq!(name, field);
                assert!(e.to_string().contains(field), "{e}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn new_fields_round_trip_through_json_and_old_json_still_reads() {
    let texture = Texture::from_image("brick.png", solid([120, 60, 40]));
    let r = RealisticMask {
        styles: MaskStyle::EVERY.to_vec(),
        colors: Some(vec![[1, 2, 3]]),
        fit: MaskFit::NoseOut,
        color_weight: 0.25,
        texture: Some(texture.clone()),
        texture_weight: 0.75,
        ..RealisticMask::default()
    };
    let json = serde_json::to_string(&r).unwrap();
    let back: RealisticMask = serde_json::from_str(&json).unwrap();
    assert_eq!(back.fit, MaskFit::NoseOut);
    assert_eq!(back.color_weight, 0.25);
    assert_eq!(back.texture_weight, 0.75);
    assert_eq!(back.styles, MaskStyle::EVERY.to_vec());
    let t = back.texture.as_ref().unwrap();
    assert_eq!(t.name, "brick.png");
    assert_eq!(t.image.dimensions(), (0, 0), "pixels are not serialised");
    assert_ne!(*t, texture);
    let reloaded = RealisticMask {
        texture: Some(texture),
        ..back
    };
    assert_eq!(reloaded, r);

    // The defaults are left out, so older records keep their exact text and
    // read back unchanged.
    let old = serde_json::to_value(RealisticMask::default()).unwrap();
    for key in ["fit", "color_weight", "texture", "texture_weight"] {
        assert!(old.get(key).is_none(), "{key} in {old}");
    }
    let back: RealisticMask = serde_json::from_value(old).unwrap();
    assert_eq!(back, RealisticMask::default());
}

#[test]
fn textures_are_read_from_files_with_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stripes.png");
    solid([10, 20, 30]).save(&path).unwrap();
    let t = Texture::from_file(&path).unwrap();
    assert_eq!(t.name, "stripes.png");
    assert_eq!(t, Texture::from_image("stripes.png", solid([10, 20, 30])));
    assert_ne!(t, Texture::from_image("stripes.png", solid([10, 20, 31])));
    let missing = dir.path().join("no-such-texture.png");
    let err = Texture::from_file(&missing).unwrap_err();
    assert!(err.to_string().contains("no-such-texture.png"), "{err}");
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not an image").unwrap();
    let err = Texture::from_file(&junk).unwrap_err();
    assert!(err.to_string().contains("junk.png"), "{err}");
}

/// Rotates, scales and moves every point about the origin.
fn similarity(pts: &[Point2], angle: f32, scale: f32, t: (f32, f32)) -> Vec<Point2> {
    let (s, c) = angle.to_radians().sin_cos();
    pts.iter()
        .map(|p| {
            Point2::new(
                (c * p.x - s * p.y) * scale + t.0,
                (s * p.x + c * p.y) * scale + t.1,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Every style and fit follows the face: the outline of a rotated,
    /// scaled and moved face is the outline of the face, rotated, scaled
    /// and moved.
    #[test]
    fn fitted_outlines_rotate_with_the_face(
        face in 0usize..190,
        angle in -180.0f32..180.0,
        scale in 0.5f32..2.0,
        tx in -100.0f32..100.0,
        ty in -100.0f32..100.0,
    ) {
        let faces = fixture_faces();
        let lm = &faces[face % faces.len()].1;
        // Centred first, so that the rotation does not carry the points far
        // from the origin, where f32 rounding alone would exceed the bound.
        let c = lm.points()[30];
        let centred: Vec<Point2> =
            lm.points().iter().map(|p| Point2::new(p.x - c.x, p.y - c.y)).collect();
        let base = Landmarks68::new(centred.clone()).unwrap();
        let moved = Landmarks68::new(similarity(&centred, angle, scale, (tx, ty))).unwrap();
        for style in MaskStyle::EVERY {
            for fit in MaskFit::ALL {
                let a = mask_outline_fitted(style, fit, &moved);
                let b = similarity(&mask_outline_fitted(style, fit, &base), angle, scale, (tx, ty));
                prop_assert_eq!(a.len(), b.len());
                prop_assert!(a.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
                for (p, q) in a.iter().zip(&b) {
                    prop_assert!(
                        (p.x - q.x).abs() < 1e-2 && (p.y - q.y).abs() < 1e-2,
                        "{:?} {:?}: {:?} vs {:?}", style, fit, p, q
                    );
                }
            }
        }
    }
}
