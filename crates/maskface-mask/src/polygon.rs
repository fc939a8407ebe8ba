//! Anti-aliased polygon rasterisation and alpha blending: the drawing
//! primitives every mask style is built from.

use image::{GrayImage, Luma, Rgb, RgbImage};
use maskface_core::Point2;

/// Sub-scanlines per pixel row. Horizontal coverage is exact; vertical
/// coverage is sampled, so edges get 4 x (exact) levels, which is smooth at
/// the sizes faces are drawn (and much cheaper than 16x supersampling).
const SUB_ROWS: usize = 4;

/// The fraction of each pixel covered by `polygon`, as 0..=255 (even-odd
/// rule; the polygon is closed implicitly).
///
/// Pixel `(x, y)` is the square `[x, x+1) x [y, y+1)`. Points may lie outside
/// the image; the result is clipped. Fewer than 3 points, or any non-finite
/// coordinate, cover nothing.
///
/// ```
/// use maskface_core::Point2;
/// use maskface_mask::polygon_coverage;
///
/// let square = [
///     Point2::new(2.0, 2.0),
///     Point2::new(6.0, 2.0),
///     Point2::new(6.0, 6.0),
///     Point2::new(2.0, 6.0),
/// ];
/// let cov = polygon_coverage(8, 8, &square);
/// assert_eq!(cov.get_pixel(3, 3)[0], 255);
/// assert_eq!(cov.get_pixel(1, 3)[0], 0);
/// // Half a pixel inside on the left edge of a shifted square.
/// let shifted: Vec<Point2> = square.iter().map(|p| Point2::new(p.x + 0.5, p.y)).collect();
/// assert_eq!(polygon_coverage(8, 8, &shifted).get_pixel(2, 3)[0], 128);
/// ```
pub fn polygon_coverage(width: u32, height: u32, polygon: &[Point2]) -> GrayImage {
    let mut out = GrayImage::new(width, height);
    if polygon.len() < 3
        || width == 0
        || height == 0
        || polygon.iter().any(|p| !p.x.is_finite() || !p.y.is_finite())
    {
        return out;
    }
    let (ymin, ymax) = polygon
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.y), hi.max(p.y))
        });
    let (xmin, xmax) = polygon
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.x), hi.max(p.x))
        });
    let row0 = ymin.floor().max(0.0) as u32;
    let row1 = (ymax.ceil().max(0.0) as u32).min(height);
    let w = width as usize;
    // Columns outside the polygon's extent stay 0: only its own are
    // cleared and written (a face's mask is a small part of a photo).
    let col0 = (xmin.floor().max(0.0) as usize).min(w);
    let col1 = (xmax.ceil().max(0.0) as usize).saturating_add(1).min(w);
    let mut acc = vec![0f32; w + 1];
    let mut xs: Vec<f32> = Vec::with_capacity(polygon.len());
    for y in row0..row1 {
        acc[col0..=col1].iter_mut().for_each(|a| *a = 0.0);
        for s in 0..SUB_ROWS {
            let sy = y as f32 + (s as f32 + 0.5) / SUB_ROWS as f32;
            xs.clear();
            for (i, a) in polygon.iter().enumerate() {
                let b = &polygon[(i + 1) % polygon.len()];
                // Half-open in y so that a vertex on the scanline counts once.
                if (a.y <= sy) != (b.y <= sy) {
                    xs.push(a.x + (sy - a.y) / (b.y - a.y) * (b.x - a.x));
                }
            }
            xs.sort_by(f32::total_cmp);
            for span in xs.chunks_exact(2) {
                add_span(&mut acc, span[0], span[1], 1.0 / SUB_ROWS as f32);
            }
        }
        for (x, a) in acc.iter().enumerate().take(col1).skip(col0) {
            out.put_pixel(
                x as u32,
                y,
                Luma([(a.clamp(0.0, 1.0) * 255.0).round() as u8]),
            );
        }
    }
    out
}

/// Adds `weight` times the length of `[x0, x1)` inside each pixel column.
fn add_span(acc: &mut [f32], x0: f32, x1: f32, weight: f32) {
    let w = (acc.len() - 1) as f32;
    let (x0, x1) = (x0.clamp(0.0, w), x1.clamp(0.0, w));
    if x1 <= x0 {
        return;
    }
    let (c0, c1) = (x0.floor() as usize, x1.floor() as usize);
    if c0 == c1 {
        acc[c0] += (x1 - x0) * weight;
        return;
    }
    acc[c0] += (c0 as f32 + 1.0 - x0) * weight;
    for a in &mut acc[c0 + 1..c1] {
        *a += weight;
    }
    acc[c1] += (x1 - c1 as f32) * weight;
}

/// Paints `color` over `image` wherever `coverage` is non-zero, with the
/// coverage as opacity (so anti-aliased edges blend into the face).
///
/// `coverage` must have `image`'s size; pixels outside either are ignored.
pub fn blend_color(image: &mut RgbImage, coverage: &GrayImage, color: Rgb<u8>) {
    blend_with(image, coverage, |_, _| color);
}

/// Like [`blend_color`] with a colour per pixel: `paint(x, y)` is called only
/// where the coverage is non-zero, so procedural textures cost nothing
/// outside the mask.
pub fn blend_with(
    image: &mut RgbImage,
    coverage: &GrayImage,
    mut paint: impl FnMut(u32, u32) -> Rgb<u8>,
) {
    let (w, h) = (
        image.width().min(coverage.width()),
        image.height().min(coverage.height()),
    );
    for y in 0..h {
        for x in 0..w {
            let a = u32::from(coverage.get_pixel(x, y)[0]);
            if a == 0 {
                continue;
            }
            let c = paint(x, y);
            let p = image.get_pixel_mut(x, y);
            for k in 0..3 {
                // Rounded integer blend: exact at a = 0 and a = 255.
                p[k] = ((u32::from(c[k]) * a + u32::from(p[k]) * (255 - a) + 127) / 255) as u8;
            }
        }
    }
}

/// Whether `p` lies inside `polygon` (even-odd rule).
pub fn contains(polygon: &[Point2], p: Point2) -> bool {
    let mut inside = false;
    for (i, a) in polygon.iter().enumerate() {
        let b = &polygon[(i + 1) % polygon.len()];
        if (a.y <= p.y) != (b.y <= p.y) {
            let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// The signed area of `polygon` (positive when its points run clockwise in
/// image coordinates, with `y` down).
pub fn signed_area(polygon: &[Point2]) -> f32 {
    let mut twice = 0.0;
    for (i, a) in polygon.iter().enumerate() {
        let b = &polygon[(i + 1) % polygon.len()];
        twice += a.x * b.y - b.x * a.y;
    }
    twice / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn total(cov: &GrayImage) -> f32 {
        cov.pixels().map(|p| f32::from(p[0]) / 255.0).sum()
    }

    #[test]
    fn triangle_area_is_preserved() {
        let tri = [
            Point2::new(10.3, 5.7),
            Point2::new(40.1, 12.2),
            Point2::new(18.9, 44.6),
        ];
        let cov = polygon_coverage(64, 64, &tri);
        let area = signed_area(&tri).abs();
        assert!(
            (total(&cov) - area).abs() / area < 0.01,
            "{} vs {area}",
            total(&cov)
        );
    }

    #[test]
    fn degenerate_polygons_cover_nothing() {
        assert_eq!(total(&polygon_coverage(8, 8, &[])), 0.0);
        let line = [Point2::new(0.0, 0.0), Point2::new(8.0, 8.0)];
        assert_eq!(total(&polygon_coverage(8, 8, &line)), 0.0);
        let nan = [
            Point2::new(0.0, 0.0),
            Point2::new(f32::NAN, 8.0),
            Point2::new(8.0, 0.0),
        ];
        assert_eq!(total(&polygon_coverage(8, 8, &nan)), 0.0);
    }

    #[test]
    fn blend_is_exact_at_full_and_zero_coverage() {
        let mut img = RgbImage::from_pixel(2, 1, Rgb([10, 20, 30]));
        let mut cov = GrayImage::new(2, 1);
        cov.put_pixel(0, 0, Luma([255]));
        blend_color(&mut img, &cov, Rgb([200, 100, 0]));
        assert_eq!(img.get_pixel(0, 0), &Rgb([200, 100, 0]));
        assert_eq!(img.get_pixel(1, 0), &Rgb([10, 20, 30]));
    }

    proptest! {
        #[test]
        fn coverage_matches_area_of_clipped_rectangles(
            x0 in -20.0f32..60.0, y0 in -20.0f32..60.0,
            w in 1.0f32..50.0, h in 1.0f32..50.0,
        ) {
            let rect = [
                Point2::new(x0, y0),
                Point2::new(x0 + w, y0),
                Point2::new(x0 + w, y0 + h),
                Point2::new(x0, y0 + h),
            ];
            let cov = polygon_coverage(48, 48, &rect);
            let cw = ((x0 + w).min(48.0) - x0.max(0.0)).max(0.0);
            let ch = ((y0 + h).min(48.0) - y0.max(0.0)).max(0.0);
            // Vertical sampling at 4 sub-rows: each horizontal edge errs by
            // at most 1/8 pixel row over its width, plus byte rounding.
            let tol = 0.25 * cw + 0.01 * cw * ch + 1.0;
            prop_assert!((total(&cov) - cw * ch).abs() <= tol);
        }

        #[test]
        fn pixels_whose_centre_is_deep_inside_are_full(
            cx in 10.0f32..38.0, cy in 10.0f32..38.0, r in 4.0f32..10.0,
        ) {
            let poly: Vec<Point2> = (0..24)
                .map(|k| {
                    let t = k as f32 / 24.0 * std::f32::consts::TAU;
                    Point2::new(cx + r * t.cos(), cy + r * t.sin())
                })
                .collect();
            let cov = polygon_coverage(48, 48, &poly);
            prop_assert_eq!(cov.get_pixel(cx as u32, cy as u32)[0], 255);
            prop_assert!(contains(&poly, Point2::new(cx, cy)));
            prop_assert!(!contains(&poly, Point2::new(cx + r + 1.0, cy)));
        }
    }
}
