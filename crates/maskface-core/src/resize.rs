//! Triangle-filter (bilinear) resizing of RGB images, the same bytes as
//! `image::imageops::resize(.., FilterType::Triangle)`, several times faster.
//!
//! Why our own: every masked face is resized twice (the crop, the upper
//! part), and `image` 0.25 goes through four-channel float pixels one at a
//! time, boxed filter calls and a `roundf` call per channel: 7% of a
//! whole masking job. Here each pass runs over contiguous rows with the
//! weights computed once per output row or column, in the same float
//! operations in the same order, so the output is byte-identical (a
//! proptest checks it against `image`).

use image::RgbImage;

/// One output position: the first input index it reads and its weights.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// The taps of `image`'s triangle filter from `len` inputs to `new_len`
/// outputs, computed as `image` computes them.
fn taps(len: usize, new_len: usize) -> Vec<Taps> {
    let ratio = len as f32 / new_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio;
    (0..new_len)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, len as i64 - 1);
            let right = ((centre + support).ceil() as i64).clamp(left + 1, len as i64);
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| {
                    let x = (i as f32 - centre) / sratio;
                    if x.abs() < 1.0 {
                        1.0 - x.abs()
                    } else {
                        0.0
                    }
                })
                .collect();
            let sum = weights.iter().fold(0.0f32, |s, w| s + w);
            for w in &mut weights {
                *w /= sum;
            }
            Taps {
                first: left as usize,
                weights,
            }
        })
        .collect()
}

/// `image`'s conversion of a float channel to a byte: clamped to
/// `[0, 255]`, rounded half away from zero. For non-negative values the
/// fraction is exact, so this is `f32::round` without its library call.
fn to_byte(v: f32) -> u8 {
    let v = v.clamp(0.0, 255.0);
    let whole = v as u32;
    let rounded = if v - whole as f32 >= 0.5 {
        whole + 1
    } else {
        whole
    };
    rounded.min(255) as u8
}

/// `image` resized to `width` x `height` with the triangle (bilinear)
/// filter: byte for byte what `image::imageops::resize(image, width,
/// height, FilterType::Triangle)` returns.
///
/// ```
/// use maskface_core::image::{imageops, Rgb, RgbImage};
///
/// let img = RgbImage::from_fn(37, 23, |x, y| Rgb([(x * 7) as u8, (y * 11) as u8, (x + y) as u8]));
/// let ours = maskface_core::resize_triangle(&img, 16, 16);
/// let images = imageops::resize(&img, 16, 16, imageops::FilterType::Triangle);
/// assert_eq!(ours, images);
/// ```
pub fn resize_triangle(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 || width == 0 || height == 0 {
        return RgbImage::new(width, height);
    }
    if width == image.width() && height == image.height() {
        return image.clone();
    }
    let (nw, nh) = (width as usize, height as usize);
    let src = image.as_raw();

    // Down the columns first, as `image` does: rows of floats.
    let mut columns = vec![0f32; nh * w * 3];
    for (row, tap) in columns.chunks_exact_mut(w * 3).zip(taps(h, nh)) {
        for (i, weight) in tap.weights.iter().enumerate() {
            let line = &src[(tap.first + i) * w * 3..][..w * 3];
            for (acc, &v) in row.iter_mut().zip(line) {
                *acc += f32::from(v) * weight;
            }
        }
    }

    // Then along the rows, to bytes.
    let across = taps(w, nw);
    let mut out = vec![0u8; nw * nh * 3];
    for (row, dst) in columns
        .chunks_exact(w * 3)
        .zip(out.chunks_exact_mut(nw * 3))
    {
        for (px, tap) in dst.chunks_exact_mut(3).zip(&across) {
            let mut t = [0f32; 3];
            for (i, weight) in tap.weights.iter().enumerate() {
                let p = &row[(tap.first + i) * 3..][..3];
                t[0] += p[0] * weight;
                t[1] += p[1] * weight;
                t[2] += p[2] * weight;
            }
            px[0] = to_byte(t[0]);
            px[1] = to_byte(t[1]);
            px[2] = to_byte(t[2]);
        }
    }
    RgbImage::from_raw(width, height, out).unwrap_or_else(|| RgbImage::new(width, height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops;
    use proptest::prelude::*;

    fn image_of(w: u32, h: u32, seed: u64) -> RgbImage {
        let mut state = seed | 1;
        RgbImage::from_fn(w, h, |_, _| {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            };
            image::Rgb([next(), next(), next()])
        })
    }

    fn images(img: &RgbImage, w: u32, h: u32) -> RgbImage {
        imageops::resize(img, w, h, imageops::FilterType::Triangle)
    }

    #[test]
    fn the_pipelines_sizes_match_image() {
        // Face crops (about 100 to 250 px to 160), upper parts (160 x 60..100
        // to 160 x 80), up and down.
        for (w, h, nw, nh) in [
            (113, 113, 160, 160),
            (250, 250, 160, 160),
            (160, 73, 160, 80),
            (160, 96, 160, 80),
            (7, 5, 160, 80),
            (300, 11, 3, 2),
            (1, 1, 4, 4),
        ] {
            let img = image_of(w, h, u64::from(w * 1000 + h));
            assert_eq!(
                resize_triangle(&img, nw, nh),
                images(&img, nw, nh),
                "{w}x{h} to {nw}x{nh}"
            );
        }
    }

    #[test]
    fn edge_values_round_as_image_does() {
        // Flat images keep their value; 0 and 255 stay in range.
        for v in [0u8, 1, 127, 128, 254, 255] {
            let img = RgbImage::from_pixel(9, 7, image::Rgb([v, v, v]));
            assert_eq!(resize_triangle(&img, 5, 13), images(&img, 5, 13));
            assert!(resize_triangle(&img, 5, 13)
                .pixels()
                .all(|p| p.0 == [v, v, v]));
        }
        assert_eq!(to_byte(0.49999997), 0);
        assert_eq!(to_byte(0.5), 1);
        assert_eq!(to_byte(254.5), 255);
        assert_eq!(to_byte(300.0), 255);
        assert_eq!(to_byte(-3.0), 0);
    }

    #[test]
    fn empty_and_same_size() {
        let empty = RgbImage::new(0, 0);
        assert_eq!(resize_triangle(&empty, 3, 2), images(&empty, 3, 2));
        let img = image_of(6, 4, 9);
        assert_eq!(resize_triangle(&img, 6, 4), img);
        assert_eq!(resize_triangle(&img, 0, 3), images(&img, 0, 3));
    }

    proptest! {
        #[test]
        fn matches_image_byte_for_byte(
            w in 1u32..80, h in 1u32..80, nw in 1u32..90, nh in 1u32..90, seed in any::<u64>()
        ) {
            let img = image_of(w, h, seed);
            prop_assert_eq!(resize_triangle(&img, nw, nh), images(&img, nw, nh));
        }
    }
}
