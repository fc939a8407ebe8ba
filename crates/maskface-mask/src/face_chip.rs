//! Face alignment as dlib's `get_face_chip` does it: the face's landmarks
//! are mapped onto dlib's mean-face template by a least-squares similarity
//! transform, and a `size` x `size` chip is sampled bilinearly (from an
//! image pyramid when the face is more than twice the chip's size). dlib's
//! face-recognition network was trained on exactly these chips.

use image::RgbImage;
use maskface_core::Point2;

use crate::MaskError;

/// dlib's template for 5-point shapes, in the unpadded unit square.
const TEMPLATE_5: [(f64, f64); 5] = [
    (0.8595674595992, 0.2134981538014),
    (0.6460604764104, 0.2289674387677),
    (0.1205750620789, 0.2137274526848),
    (0.3340850613712, 0.2290642403242),
    (0.4901123135679, 0.6277975316475),
];

/// dlib's mean face for landmarks 17..=67 of the 68-point layout.
const MEAN_X: [f64; 51] = [
    0.000213256,
    0.0752622,
    0.18113,
    0.29077,
    0.393397,
    0.586856,
    0.689483,
    0.799124,
    0.904991,
    0.98004,
    0.490127,
    0.490127,
    0.490127,
    0.490127,
    0.36688,
    0.426036,
    0.490127,
    0.554217,
    0.613373,
    0.121737,
    0.187122,
    0.265825,
    0.334606,
    0.260918,
    0.182743,
    0.645647,
    0.714428,
    0.793132,
    0.858516,
    0.79751,
    0.719335,
    0.254149,
    0.340985,
    0.428858,
    0.490127,
    0.551395,
    0.639268,
    0.726104,
    0.642159,
    0.556721,
    0.490127,
    0.423532,
    0.338094,
    0.290379,
    0.428096,
    0.490127,
    0.552157,
    0.689874,
    0.553364,
    0.490127,
    0.42689,
];
const MEAN_Y: [f64; 51] = [
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915,
    0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345,
    0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852,
    0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388,
    0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746,
    0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];

/// The 68-point landmarks dlib aligns on: the nose and eyes (27..=54) and
/// the upper inner lip (60..=64); the eyebrows and lower lip move too much
/// with expression.
fn uses_68(i: usize) -> bool {
    (27..=54).contains(&i) || (60..=64).contains(&i)
}

/// A point in `f64`.
type XY = (f64, f64);

/// The chip's size and the margin around the template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipParams {
    /// Width and height of the chip (dlib's network: 150).
    pub size: u32,
    /// Margin around the template, as a fraction of its size (dlib: 0.25).
    pub padding: f64,
}

impl Default for ChipParams {
    fn default() -> Self {
        ChipParams {
            size: 150,
            padding: 0.25,
        }
    }
}

/// Where a chip lies in the source image: dlib's `chip_details`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipDetails {
    /// Left, top, right, bottom of the (unrotated) sampling rectangle,
    /// inclusive, in source pixels.
    pub rect: [f64; 4],
    /// Rotation of the rectangle about its centre, radians.
    pub angle: f64,
    /// Width and height of the chip.
    pub size: u32,
}

impl ChipDetails {
    /// Where a source-image point lands in the chip (the inverse of the
    /// sampling map of [`extract_chip`]).
    pub fn to_chip(&self, p: Point2) -> Point2 {
        let (tl, dx, dy) = self.sampling_map();
        let (x, y) = (f64::from(p.x) - tl.0, f64::from(p.y) - tl.1);
        let det = dx.0 * dy.1 - dx.1 * dy.0;
        if det == 0.0 {
            return Point2::new(f32::NAN, f32::NAN);
        }
        Point2::new(
            ((x * dy.1 - y * dy.0) / det) as f32,
            ((dx.0 * y - dx.1 * x) / det) as f32,
        )
    }

    /// The chip-to-source map at full resolution: the source point of chip
    /// pixel (0, 0), and the steps of one chip column and one chip row.
    fn sampling_map(&self) -> (XY, XY, XY) {
        corner_map(&self.rect, self.angle, self.size)
    }

    /// Source pixels per chip pixel.
    pub fn scale(&self) -> f64 {
        (self.rect[2] - self.rect[0] + 1.0) / f64::from(self.size)
    }
}

/// The chip of a face with 68 or 5 landmarks (dlib's
/// `get_face_chip_details`).
pub fn chip_details(points: &[Point2], params: &ChipParams) -> Result<ChipDetails, MaskError> {
    if params.size < 2 || !(params.padding.is_finite() && params.padding >= 0.0) {
        return Err(MaskError::InvalidParameter {
            name: "chip",
            reason: format!(
                "size {} and padding {} (need a size of at least 2 and a padding >= 0)",
                params.size, params.padding
            ),
        });
    }
    let (p, size) = (params.padding, f64::from(params.size));
    let place = |t: f64| (p + t) / (2.0 * p + 1.0) * size;
    let (from, to): (Vec<XY>, Vec<XY>) = match points.len() {
        68 => (0..68)
            .filter(|&i| uses_68(i))
            .map(|i| {
                let q = points[i];
                (
                    (place(MEAN_X[i - 17]), place(MEAN_Y[i - 17])),
                    (f64::from(q.x), f64::from(q.y)),
                )
            })
            .unzip(),
        5 => TEMPLATE_5
            .iter()
            .zip(points)
            .map(|(&(x, y), q)| ((place(x), place(y)), (f64::from(q.x), f64::from(q.y))))
            .unzip(),
        n => {
            return Err(MaskError::InvalidParameter {
                name: "landmarks",
                reason: format!("{n} landmarks; a face chip needs 68 or 5"),
            })
        }
    };
    if to.iter().any(|(x, y)| !(x.is_finite() && y.is_finite())) {
        return Err(MaskError::InvalidParameter {
            name: "landmarks",
            reason: "a landmark is not finite".into(),
        });
    }
    // The least-squares similarity from chip to image: for 2-d points its
    // rotation-and-scale part [[a, -b], [b, a]] has a closed form.
    let n = from.len() as f64;
    let mean = |v: &[XY]| {
        let (sx, sy) = v.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
        (sx / n, sy / n)
    };
    let (mf, mt) = (mean(&from), mean(&to));
    let (mut a, mut b, mut norm) = (0.0, 0.0, 0.0);
    for (f, t) in from.iter().zip(&to) {
        let (fx, fy, tx, ty) = (f.0 - mf.0, f.1 - mf.1, t.0 - mt.0, t.1 - mt.1);
        a += fx * tx + fy * ty;
        b += fx * ty - fy * tx;
        norm += fx * fx + fy * fy;
    }
    let (a, b) = (a / norm, b / norm);
    let (tx, ty) = (mt.0 - (a * mf.0 - b * mf.1), mt.1 - (b * mf.0 + a * mf.1));
    let scale = (a * a + b * b).sqrt();
    if !(scale.is_finite() && scale > 0.0) {
        return Err(MaskError::InvalidParameter {
            name: "landmarks",
            reason: "the landmarks are all at one point".into(),
        });
    }
    let angle = b.atan2(a);
    let half = size / 2.0;
    let (cx, cy) = (a * half - b * half + tx, b * half + a * half + ty);
    // dlib's rectangles are inclusive: width = right - left + 1.
    let (hw, hh) = ((size * scale - 1.0) / 2.0, (size * scale - 1.0) / 2.0);
    Ok(ChipDetails {
        rect: [cx - hw, cy - hh, cx + hw, cy + hh],
        angle,
        size: params.size,
    })
}

/// The face chip of `points` in `image` (dlib's `get_face_chip`).
pub fn face_chip(
    image: &RgbImage,
    points: &[Point2],
    params: &ChipParams,
) -> Result<RgbImage, MaskError> {
    Ok(extract_chip(image, &chip_details(points, params)?))
}

fn area(r: &[f64; 4]) -> f64 {
    (r[2] - r[0] + 1.0) * (r[3] - r[1] + 1.0)
}

/// dlib's `pyramid_down<2>` coordinate map (with its quarter-pixel quirk).
fn rect_down(r: &[f64; 4]) -> [f64; 4] {
    [
        r[0] / 2.0 - 1.25,
        r[1] / 2.0 - 0.75,
        r[2] / 2.0 - 1.25,
        r[3] / 2.0 - 0.75,
    ]
}

/// Samples the chip `details` describes (dlib's `extract_image_chip`,
/// bilinear): from a cropped image pyramid when the chip is much smaller
/// than the face, black where the source has no pixels.
pub fn extract_chip(image: &RgbImage, details: &ChipDetails) -> RgbImage {
    let size = details.size.max(1);
    let target = f64::from(size) * f64::from(size);
    let mut depth = 0;
    let mut grow = 2.0;
    let mut r = details.rect;
    while area(&rect_down(&r)) > target {
        r = rect_down(&r);
        depth += 1;
        grow = 2.0 * grow + 2.0;
    }
    let (sin, cos) = details.angle.sin_cos();
    let rect = details.rect;
    let (cx, cy) = ((rect[0] + rect[2]) / 2.0, (rect[1] + rect[3]) / 2.0);
    let rotate = |x: f64, y: f64| {
        let (dx, dy) = (x - cx, y - cy);
        (cos * dx - sin * dy + cx, sin * dx + cos * dy + cy)
    };
    let corners = [
        rotate(rect[0], rect[1]),
        rotate(rect[2], rect[1]),
        rotate(rect[0], rect[3]),
        rotate(rect[2], rect[3]),
    ];
    // The source: the whole image, or the chip's bounding box (grown for
    // the pyramid's filter) downsampled `depth` times.
    let (source, offset) = if depth == 0 {
        (None, (0.0, 0.0))
    } else {
        let (w, h) = (f64::from(image.width()), f64::from(image.height()));
        let fold = |f: fn(f64, f64) -> f64, init: f64, sel: fn(&(f64, f64)) -> f64| {
            corners.iter().map(sel).fold(init, f)
        };
        let l = (fold(f64::min, f64::INFINITY, |p| p.0) - grow)
            .max(0.0)
            .round();
        let t = (fold(f64::min, f64::INFINITY, |p| p.1) - grow)
            .max(0.0)
            .round();
        let rr = (fold(f64::max, f64::NEG_INFINITY, |p| p.0) + grow)
            .min(w - 1.0)
            .round();
        let b = (fold(f64::max, f64::NEG_INFINITY, |p| p.1) + grow)
            .min(h - 1.0)
            .round();
        if rr < l || b < t {
            return RgbImage::new(size, size);
        }
        let crop = image::imageops::crop_imm(
            image,
            l as u32,
            t as u32,
            (rr - l) as u32 + 1,
            (b - t) as u32 + 1,
        )
        .to_image();
        let mut level = pyramid_down(&crop);
        for _ in 1..depth {
            level = pyramid_down(&level);
        }
        (Some(level), (l, t))
    };
    let src = source.as_ref().unwrap_or(image);
    // The chip's rectangle in the source's coordinates.
    let mut r = [
        rect[0] - offset.0,
        rect[1] - offset.1,
        rect[2] - offset.0,
        rect[3] - offset.1,
    ];
    for _ in 0..depth {
        r = rect_down(&r);
    }
    let (tl, dx, dy) = corner_map(&r, details.angle, size);
    let (sw, sh) = (src.width() as i64, src.height() as i64);
    let raw = src.as_raw();
    let mut chip = RgbImage::new(size, size);
    for (row, line) in chip.chunks_exact_mut(3 * size as usize).enumerate() {
        let row = row as f64;
        for (col, px) in line.chunks_exact_mut(3).enumerate() {
            let col = col as f64;
            let x = tl.0 + col * dx.0 + row * dy.0;
            let y = tl.1 + col * dx.1 + row * dy.1;
            let (left, top) = (x.floor() as i64, y.floor() as i64);
            if left < 0 || top < 0 || left + 1 >= sw || top + 1 >= sh {
                continue;
            }
            let (fx, fy) = (x - left as f64, y - top as f64);
            let at = |xx: i64, yy: i64| ((yy * sw + xx) * 3) as usize;
            let (a, b, c, d) = (
                at(left, top),
                at(left + 1, top),
                at(left, top + 1),
                at(left + 1, top + 1),
            );
            for k in 0..3 {
                let v = (1.0 - fy)
                    * ((1.0 - fx) * f64::from(raw[a + k]) + fx * f64::from(raw[b + k]))
                    + fy * ((1.0 - fx) * f64::from(raw[c + k]) + fx * f64::from(raw[d + k]));
                // dlib truncates.
                px[k] = v as u8;
            }
        }
    }
    chip
}

/// The affine map dlib samples with: chip corners (0,0), (size-1,0) and
/// (0,size-1) onto the corners of `rect` turned by `angle` about its
/// centre.
fn corner_map(rect: &[f64; 4], angle: f64, size: u32) -> (XY, XY, XY) {
    let (sin, cos) = angle.sin_cos();
    let (cx, cy) = ((rect[0] + rect[2]) / 2.0, (rect[1] + rect[3]) / 2.0);
    let rot = |x: f64, y: f64| {
        let (dx, dy) = (x - cx, y - cy);
        (cos * dx - sin * dy + cx, sin * dx + cos * dy + cy)
    };
    let (tl, tr, bl) = (
        rot(rect[0], rect[1]),
        rot(rect[2], rect[1]),
        rot(rect[0], rect[3]),
    );
    let last = f64::from(size.max(2) - 1);
    (
        tl,
        ((tr.0 - tl.0) / last, (tr.1 - tl.1) / last),
        ((bl.0 - tl.0) / last, (bl.1 - tl.1) / last),
    )
}

/// dlib's `pyramid_down<2>`: a [1 4 6 4 1] filter in each direction, every
/// other pixel kept, `(n - 3) / 2` pixels per side, sums floored.
fn pyramid_down(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w <= 8 || h <= 8 {
        return RgbImage::new(0, 0);
    }
    let (ow, oh) = ((w - 3) / 2, (h - 3) / 2);
    let raw = img.as_raw();
    let mut rows = vec![0u32; h * ow * 3];
    for y in 0..h {
        for c in 0..ow {
            for k in 0..3 {
                let p = |x: usize| u32::from(raw[(y * w + x) * 3 + k]);
                let x = 2 * c;
                rows[(y * ow + c) * 3 + k] =
                    p(x) + 4 * p(x + 1) + 6 * p(x + 2) + 4 * p(x + 3) + p(x + 4);
            }
        }
    }
    let mut out = RgbImage::new(ow as u32, oh as u32);
    for (d, line) in out.chunks_exact_mut(3 * ow).enumerate() {
        for (i, v) in line.iter_mut().enumerate() {
            let r = |y: usize| rows[y * ow * 3 + i];
            let y = 2 * d;
            *v = ((r(y) + 4 * r(y + 1) + 6 * r(y + 2) + 4 * r(y + 3) + r(y + 4)) / 256) as u8;
        }
    }
    out
}
