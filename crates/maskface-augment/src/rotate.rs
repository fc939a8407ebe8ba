use image::RgbImage;
use maskface_core::{Augmentation, Augmented, RngCore};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What fills the corners that a rotation uncovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// A constant colour (torchvision's `RandomRotation` uses black).
    Constant([u8; 3]),
    /// The nearest edge pixel.
    Replicate,
}

impl Default for Fill {
    fn default() -> Self {
        Fill::Constant([0, 0, 0])
    }
}

impl std::fmt::Display for Fill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fill::Constant([r, g, b]) => write!(f, "constant[{r},{g},{b}]"),
            Fill::Replicate => f.write_str("replicate"),
        }
    }
}

/// Rotates `image` about its centre by `degrees` counter-clockwise (the
/// convention of torchvision and of mathematics; negative turns clockwise),
/// with bilinear interpolation (1/256-pixel weights, rounded to the nearest
/// level). The output has the input's size; uncovered
/// corners are filled as `fill` says.
///
/// ```
/// use image::{Rgb, RgbImage};
/// let mut img = RgbImage::new(5, 5);
/// img.put_pixel(4, 2, Rgb([255, 255, 255])); // right of centre
/// let r = maskface_augment::rotate(&img, 90.0, maskface_augment::Fill::default());
/// assert_eq!(r.get_pixel(2, 0).0, [255, 255, 255]); // now above centre
/// ```
pub fn rotate(image: &RgbImage, degrees: f32, fill: Fill) -> RgbImage {
    let (w, h) = image.dimensions();
    let mut out = RgbImage::new(w, h);
    if w == 0 || h == 0 {
        return out;
    }
    // Pixel centres are at integer coordinates, so the image's centre is
    // ((w-1)/2, (h-1)/2); an odd-sized image keeps its centre pixel exactly.
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let (sin, cos) = f64::from(degrees).to_radians().sin_cos();
    let src = image.as_raw();
    let stride = w as usize * 3;
    out.as_mut()
        .par_chunks_mut(stride)
        .enumerate()
        .for_each(|(y, row)| {
            let dy = y as f64 - cy;
            // Inverse of a counter-clockwise turn in y-down coordinates:
            // source = centre + R(-theta) (dest - centre), linear in x.
            let (sx0, sy0) = (cx - cx * cos - dy * sin, cy - cx * sin + dy * cos);
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                let sx = sx0 + x as f64 * cos;
                let sy = sy0 + x as f64 * sin;
                px.copy_from_slice(&bilinear(src, w, h, sx, sy, fill));
            }
        });
    out
}

/// Samples at `(x, y)` with 8-bit fixed-point bilinear weights (1/256
/// pixel, as Pillow); neighbours outside the image are the fill colour (so
/// edges blend into it) or, for `Replicate`, the nearest edge pixel.
///
/// The position is rounded to 1/256 pixel before it is split into integer
/// and fraction, so exact quarter turns stay exact although `cos(90 deg)` is
/// 6e-17 rather than 0.
#[inline(always)]
fn bilinear(src: &[u8], w: u32, h: u32, x: f64, y: f64, fill: Fill) -> [u8; 3] {
    // Rounds to 1/256 pixel: shifted positive so that `as` (truncation) is
    // floor, which avoids a libm call per pixel on x86-64 without SSE4.1.
    const SHIFT: f64 = 1_048_576.0;
    let fixed = |v: f64| (((v + SHIFT) * 256.0 + 0.5) as i64) - (SHIFT as i64) * 256;
    let (xs, ys) = (fixed(x), fixed(y));
    let (x0, y0) = (xs >> 8, ys >> 8);
    let (fx, fy) = ((xs & 255) as u32, (ys & 255) as u32);
    let (wi, hi) = (i64::from(w), i64::from(h));
    let stride = w as usize * 3;
    let blend = |p00: [u32; 3], p10: [u32; 3], p01: [u32; 3], p11: [u32; 3]| {
        let mut out = [0u8; 3];
        for c in 0..3 {
            let top = p00[c] * (256 - fx) + p10[c] * fx;
            let bottom = p01[c] * (256 - fx) + p11[c] * fx;
            out[c] = ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8;
        }
        out
    };
    let rgb = |k: usize| {
        [
            u32::from(src[k]),
            u32::from(src[k + 1]),
            u32::from(src[k + 2]),
        ]
    };
    if x0 >= 0 && y0 >= 0 && x0 + 1 < wi && y0 + 1 < hi {
        // All four neighbours inside: the common case, no border logic.
        let k = y0 as usize * stride + x0 as usize * 3;
        return blend(rgb(k), rgb(k + 3), rgb(k + stride), rgb(k + stride + 3));
    }
    if x0 < -1 || y0 < -1 || x0 >= wi || y0 >= hi {
        if let Fill::Constant(c) = fill {
            return c;
        }
    }
    let pixel = |xi: i64, yi: i64| -> [u32; 3] {
        let inside = xi >= 0 && yi >= 0 && xi < wi && yi < hi;
        let (xi, yi) = match (inside, fill) {
            (true, _) => (xi, yi),
            (false, Fill::Replicate) => (xi.clamp(0, wi - 1), yi.clamp(0, hi - 1)),
            (false, Fill::Constant(c)) => return c.map(u32::from),
        };
        rgb(yi as usize * stride + xi as usize * 3)
    };
    blend(
        pixel(x0, y0),
        pixel(x0 + 1, y0),
        pixel(x0, y0 + 1),
        pixel(x0 + 1, y0 + 1),
    )
}

/// Rotation by an angle drawn uniformly from `[-max_degrees, max_degrees]`,
/// as torchvision's `RandomRotation(max_degrees)` (the paper uses 20).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RandomRotation {
    /// Largest rotation either way, in degrees.
    pub max_degrees: f32,
    /// What fills the uncovered corners.
    pub fill: Fill,
}

impl RandomRotation {
    /// Rotation within `+-max_degrees`, black fill.
    pub fn new(max_degrees: f32) -> Self {
        RandomRotation {
            max_degrees: max_degrees.abs(),
            fill: Fill::default(),
        }
    }

    /// Sets the fill.
    pub fn with_fill(mut self, fill: Fill) -> Self {
        self.fill = fill;
        self
    }
}

impl Augmentation for RandomRotation {
    fn name(&self) -> &str {
        "rotate"
    }

    fn describe(&self) -> String {
        format!(
            "rotate(max_degrees={}, fill={}, bilinear)",
            self.max_degrees, self.fill
        )
    }

    fn apply(&self, image: &RgbImage, rng: &mut dyn RngCore) -> Augmented {
        let m = self.max_degrees.abs();
        let degrees = if m > 0.0 {
            rng.random_range(-m..=m)
        } else {
            0.0
        };
        Augmented {
            image: rotate(image, degrees, self.fill),
            record: format!("rotate({degrees:.3})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use proptest::prelude::*;

    #[test]
    fn corners_take_the_fill() {
        let img = RgbImage::from_pixel(21, 21, Rgb([100, 100, 100]));
        let r = rotate(&img, 45.0, Fill::Constant([1, 2, 3]));
        assert_eq!(r.get_pixel(0, 0).0, [1, 2, 3]);
        assert_eq!(r.get_pixel(10, 10).0, [100, 100, 100]);
        let r = rotate(&img, 45.0, Fill::Replicate);
        assert_eq!(r.get_pixel(0, 0).0, [100, 100, 100]);
    }

    #[test]
    fn zero_rotation_is_identity() {
        let img = RgbImage::from_fn(7, 5, |x, y| Rgb([x as u8 * 30, y as u8 * 40, 9]));
        assert_eq!(rotate(&img, 0.0, Fill::default()), img);
    }

    #[test]
    fn quarter_turns_match_exact_rotation() {
        let img = RgbImage::from_fn(9, 9, |x, y| Rgb([(x * 25) as u8, (y * 25) as u8, 0]));
        let ccw = rotate(&img, 90.0, Fill::default());
        assert_eq!(ccw, image::imageops::rotate270(&img));
        let cw = rotate(&img, -90.0, Fill::default());
        assert_eq!(cw, image::imageops::rotate90(&img));
        assert_eq!(
            rotate(&img, 180.0, Fill::default()),
            image::imageops::rotate180(&img)
        );
    }

    #[test]
    fn draws_stay_in_range() {
        let aug = RandomRotation::new(20.0);
        let img = RgbImage::new(8, 8);
        let mut rng = maskface_core::rng_for(1, "x");
        for _ in 0..200 {
            let rec = aug.apply(&img, &mut rng).record;
            let deg: f32 = rec
                .trim_start_matches("rotate(")
                .trim_end_matches(')')
                .parse()
                .unwrap();
            assert!((-20.0..=20.0).contains(&deg), "{rec}");
        }
    }

    proptest! {
        #[test]
        fn rotation_keeps_size_and_centre_pixel(w in 3u32..40, h in 3u32..40, deg in -180f32..180.0) {
            // Odd sizes have a pixel exactly at the centre of rotation.
            let (w, h) = (w | 1, h | 1);
            let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7 % 256) as u8, (y * 11 % 256) as u8, 77]));
            let r = rotate(&img, deg, Fill::Constant([1, 2, 3]));
            prop_assert_eq!(r.dimensions(), (w, h));
            prop_assert_eq!(r.get_pixel(w / 2, h / 2), img.get_pixel(w / 2, h / 2));
        }
    }
}
