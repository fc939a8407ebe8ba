use image::{Rgb, RgbImage};
use maskface_core::{rng_for, Landmarks68, MaskRenderer, MaskedFace, Point2};
use proptest::prelude::*;

use super::palette::{luma, to_f};
use super::{mask_outline, ClothPattern, MaskStyle, RealisticMask};
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
