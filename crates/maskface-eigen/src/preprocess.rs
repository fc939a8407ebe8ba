//! Images to vectors: grayscale, histogram equalisation, a fixed size.

use image::{imageops, GrayImage, RgbImage};
use maskface_core::{load_rgb, Manifest, Split};
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::EigenError;

/// How a face image becomes a row of the data matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Width and height the image is resized to (bilinear).
    pub size: [u32; 2],
    /// Equalise the grey-level histogram first (the paper does).
    pub equalize: bool,
}

impl Default for Preprocess {
    fn default() -> Self {
        Preprocess {
            size: [64, 64],
            equalize: true,
        }
    }
}

impl Preprocess {
    /// Length of the vectors made.
    pub fn dim(&self) -> usize {
        self.size[0] as usize * self.size[1] as usize
    }

    /// The grey image a face becomes (the picture of a vector).
    pub fn gray(&self, image: &RgbImage) -> GrayImage {
        let gray = imageops::grayscale(image);
        let gray = if self.equalize { equalize(&gray) } else { gray };
        imageops::resize(
            &gray,
            self.size[0],
            self.size[1],
            imageops::FilterType::Triangle,
        )
    }

    /// One face as a vector of grey levels in `[0, 1]`, row by row.
    pub fn vector(&self, image: &RgbImage) -> Vec<f64> {
        self.gray(image)
            .pixels()
            .map(|p| f64::from(p[0]) / 255.0)
            .collect()
    }

    /// Many faces as the rows of a matrix, in parallel.
    pub fn matrix(&self, images: &[RgbImage]) -> Array2<f64> {
        let rows: Vec<Vec<f64>> = images.par_iter().map(|img| self.vector(img)).collect();
        let mut m = Array2::zeros((rows.len(), self.dim()));
        for (mut dst, src) in m.rows_mut().into_iter().zip(rows) {
            dst.iter_mut().zip(src).for_each(|(d, s)| *d = s);
        }
        m
    }

    /// The images of one split of a manifest as a matrix, with their labels.
    pub fn load_split(
        &self,
        manifest: &Manifest,
        split: Split,
    ) -> Result<(Array2<f64>, Vec<u32>), EigenError> {
        let samples: Vec<_> = manifest
            .samples
            .iter()
            .filter(|s| s.split == split)
            .collect();
        if samples.is_empty() {
            return Err(EigenError::Data(format!(
                "the manifest rooted at {} has no {split} images",
                manifest.info.root.display()
            )));
        }
        let rows: Vec<Vec<f64>> = samples
            .par_iter()
            .map(|s| load_rgb(&manifest.resolve(&s.path)).map(|img| self.vector(&img)))
            .collect::<Result<_, _>>()?;
        let mut m = Array2::zeros((rows.len(), self.dim()));
        for (mut dst, src) in m.rows_mut().into_iter().zip(rows) {
            dst.iter_mut().zip(src).for_each(|(d, s)| *d = s);
        }
        Ok((m, samples.iter().map(|s| s.label).collect()))
    }
}

/// Histogram equalisation: each grey level mapped through the cumulative
/// histogram, stretched to 0..=255 (as OpenCV's `equalizeHist`).
pub fn equalize(image: &GrayImage) -> GrayImage {
    let mut hist = [0u64; 256];
    for p in image.pixels() {
        hist[usize::from(p[0])] += 1;
    }
    let total: u64 = hist.iter().sum();
    let mut cdf = [0u64; 256];
    let mut acc = 0;
    for (c, h) in cdf.iter_mut().zip(hist) {
        acc += h;
        *c = acc;
    }
    let min = cdf.iter().copied().find(|&c| c > 0).unwrap_or(0);
    let mut lut = [0u8; 256];
    if total > min {
        for (l, c) in lut.iter_mut().zip(cdf) {
            *l = ((c.saturating_sub(min)) as f64 * 255.0 / (total - min) as f64).round() as u8;
        }
    } else {
        // A constant image stays as it is.
        for (i, l) in lut.iter_mut().enumerate() {
            *l = i as u8;
        }
    }
    let mut out = image.clone();
    for p in out.pixels_mut() {
        p[0] = lut[usize::from(p[0])];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn equalisation_spreads_levels_and_keeps_constants() {
        let img = GrayImage::from_fn(4, 1, |x, _| Luma([100 + x as u8]));
        let eq = equalize(&img);
        let v: Vec<u8> = eq.pixels().map(|p| p[0]).collect();
        assert_eq!(v, vec![0, 85, 170, 255]);
        let flat = GrayImage::from_pixel(3, 3, Luma([42]));
        assert_eq!(equalize(&flat), flat);
    }

    #[test]
    fn vectors_have_the_configured_length_and_range() {
        let p = Preprocess {
            size: [8, 4],
            equalize: true,
        };
        let img = RgbImage::from_fn(20, 10, |x, y| image::Rgb([x as u8 * 10, y as u8 * 20, 0]));
        let v = p.vector(&img);
        assert_eq!(v.len(), 32);
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)));
        assert_eq!(p.matrix(&[img.clone(), img]).dim(), (2, 32));
    }
}
