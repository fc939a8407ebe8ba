//! Area resampling ("adaptive average pooling"), the resize MTCNN's
//! pyramid and crops use (PyTorch's `interpolate(mode="area")`).

/// An RGB image as the summed-area tables of its three channels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planar {
    pub w: usize,
    pub h: usize,
    /// Per channel, `(h + 1) x (w + 1)`: the sum of the pixels above and
    /// left of each corner. The pixels are integers, so a rectangle's sum
    /// is exact and an area average costs four reads whatever its size.
    sums: Vec<u64>,
}

impl Planar {
    pub fn from_rgb(img: &image::RgbImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let stride = w + 1;
        let table = stride * (h + 1);
        let mut sums = vec![0u64; 3 * table];
        let raw = img.as_raw();
        for (c, t) in sums.chunks_exact_mut(table).enumerate() {
            for y in 0..h {
                let mut row = 0u64;
                for x in 0..w {
                    row += u64::from(raw[(y * w + x) * 3 + c]);
                    t[(y + 1) * stride + x + 1] = t[y * stride + x + 1] + row;
                }
            }
        }
        Planar { w, h, sums }
    }
}

/// A rectangle of source pixels: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

/// Output cell `i` of `out` averages input cells
/// `floor(i * n / out) .. ceil((i + 1) * n / out)`, as PyTorch's adaptive
/// average pooling. Returns, per output cell, its input range.
fn ranges(n: usize, out: usize) -> Vec<(usize, usize)> {
    (0..out)
        .map(|i| {
            let start = i * n / out;
            let end = ((i + 1) * n).div_ceil(out);
            (start, end.max(start + 1).min(n))
        })
        .collect()
}

/// Resizes the `rect` of `src` to `out_w` x `out_h` by area averaging,
/// writing channel-major planes into `out` (length `3 * out_w * out_h`), with
/// `(v - 127.5) / 128` applied: MTCNN's input normalisation. Each output
/// pixel is four reads of the summed-area tables.
pub(crate) fn area_resize_normalized(
    src: &Planar,
    rect: Rect,
    out_w: usize,
    out_h: usize,
    out: &mut [f32],
) {
    let (rw, rh) = (rect.x1 - rect.x0, rect.y1 - rect.y0);
    let xr = ranges(rw, out_w);
    let yr = ranges(rh, out_h);
    let stride = src.w + 1;
    let table = stride * (src.h + 1);
    for (t, dst) in src
        .sums
        .chunks_exact(table)
        .zip(out.chunks_exact_mut(out_w * out_h))
    {
        for (&(ys, ye), dst_row) in yr.iter().zip(dst.chunks_exact_mut(out_w)) {
            let (top, bottom) = ((rect.y0 + ys) * stride, (rect.y0 + ye) * stride);
            for (&(xs, xe), d) in xr.iter().zip(dst_row.iter_mut()) {
                let (l, r) = (rect.x0 + xs, rect.x0 + xe);
                let sum = t[bottom + r] + t[top + l] - t[bottom + l] - t[top + r];
                let v = (sum as f64 / ((ye - ys) * (xe - xs)) as f64) as f32;
                *d = (v - 127.5) * 0.0078125;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytorch_ranges() {
        // adaptive_avg_pool1d of length 5 to 3: [0,2), [1,4), [3,5)
        assert_eq!(ranges(5, 3), vec![(0, 2), (1, 4), (3, 5)]);
        // upsampling 2 -> 4 repeats: [0,1), [0,1), [1,2), [1,2)
        assert_eq!(ranges(2, 4), vec![(0, 1), (0, 1), (1, 2), (1, 2)]);
    }

    #[test]
    fn summed_areas_match_window_averages() {
        let img = image::RgbImage::from_fn(37, 29, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x * y) as u8, 255 - (x + y) as u8])
        });
        let planar = Planar::from_rgb(&img);
        for (rect, ow, oh) in [
            (
                Rect {
                    x0: 0,
                    y0: 0,
                    x1: 37,
                    y1: 29,
                },
                12,
                9,
            ),
            (
                Rect {
                    x0: 3,
                    y0: 5,
                    x1: 30,
                    y1: 21,
                },
                24,
                24,
            ),
            (
                Rect {
                    x0: 10,
                    y0: 2,
                    x1: 14,
                    y1: 6,
                },
                24,
                24,
            ),
        ] {
            let mut a = vec![0f32; 3 * ow * oh];
            area_resize_normalized(&planar, rect, ow, oh, &mut a);
            // Each output cell: the plain average of its window.
            let (xr, yr) = (ranges(rect.x1 - rect.x0, ow), ranges(rect.y1 - rect.y0, oh));
            let mut b = Vec::with_capacity(a.len());
            for c in 0..3 {
                for &(ys, ye) in &yr {
                    for &(xs, xe) in &xr {
                        let mut sum = 0f64;
                        for y in rect.y0 + ys..rect.y0 + ye {
                            for x in rect.x0 + xs..rect.x0 + xe {
                                sum += f64::from(img.get_pixel(x as u32, y as u32)[c]);
                            }
                        }
                        let v = (sum / ((ye - ys) * (xe - xs)) as f64) as f32;
                        b.push((v - 127.5) / 128.0);
                    }
                }
            }
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-5, "{rect:?} {ow}x{oh}: {x} against {y}");
            }
        }
    }

    #[test]
    fn averages_blocks() {
        let img = image::RgbImage::from_fn(4, 2, |x, _| {
            image::Rgb([if x < 2 { 0 } else { 255 }, 128, 0])
        });
        let p = Planar::from_rgb(&img);
        let mut out = vec![0f32; 3 * 2];
        area_resize_normalized(
            &p,
            Rect {
                x0: 0,
                y0: 0,
                x1: 4,
                y1: 2,
            },
            2,
            1,
            &mut out,
        );
        let n = |v: f32| (v - 127.5) / 128.0;
        assert_eq!(
            out,
            vec![n(0.0), n(255.0), n(128.0), n(128.0), n(0.0), n(0.0)]
        );
    }
}
