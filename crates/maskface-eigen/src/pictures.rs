//! The pictures of a PCA: the mean face with the first eigenfaces, and the
//! explained-variance curve.

#[cfg(feature = "plot")]
use image::RgbImage;
use image::{GrayImage, Luma};
#[cfg(feature = "plot")]
use maskface_plot::{image_grid, LineChart};
use ndarray::ArrayView1;

#[cfg(feature = "plot")]
use crate::{EigenError, Pca};

#[cfg(feature = "plot")]
fn plot_err(e: maskface_plot::PlotError) -> EigenError {
    EigenError::InvalidParameter {
        name: "picture",
        reason: e.to_string(),
    }
}

/// A vector as a grey image of `size`, its values stretched to 0..=255.
pub fn vector_image(v: ArrayView1<'_, f64>, size: [u32; 2]) -> GrayImage {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    GrayImage::from_fn(size[0], size[1], |x, y| {
        let i = (y * size[0] + x) as usize;
        let value = v.get(i).copied().unwrap_or(lo);
        Luma([((value - lo) / span * 255.0).round() as u8])
    })
}

/// The mean face and the first `count` eigenfaces in one captioned grid
/// (the paper's Figure 13). `size` is the preprocessing size.
#[cfg(feature = "plot")]
pub fn eigenface_grid(pca: &Pca, size: [u32; 2], count: usize) -> Result<RgbImage, EigenError> {
    if size[0] as usize * size[1] as usize != pca.dim() {
        return Err(EigenError::InvalidParameter {
            name: "size",
            reason: format!("{}x{} does not hold {} values", size[0], size[1], pca.dim()),
        });
    }
    let ratio = pca.explained_variance_ratio();
    let mut tiles = vec![image::DynamicImage::ImageLuma8(vector_image(pca.mean(), size)).to_rgb8()];
    let mut captions = vec!["mean face".to_string()];
    for (k, row) in pca.components().rows().into_iter().take(count).enumerate() {
        tiles.push(image::DynamicImage::ImageLuma8(vector_image(row, size)).to_rgb8());
        captions.push(format!("{} ({:.1}%)", k + 1, 100.0 * ratio[k]));
    }
    let caps: Vec<&str> = captions.iter().map(String::as_str).collect();
    let cols = (tiles.len() as f64).sqrt().ceil() as u32;
    image_grid(&tiles, &caps, cols, 128).map_err(plot_err)
}

/// Cumulative explained variance against the number of components.
#[cfg(feature = "plot")]
pub fn variance_curve(pca: &Pca) -> Result<RgbImage, EigenError> {
    let mut acc = 0.0;
    let points: Vec<(f64, f64)> = pca
        .explained_variance_ratio()
        .iter()
        .enumerate()
        .map(|(k, r)| {
            acc += r;
            ((k + 1) as f64, acc)
        })
        .collect();
    LineChart::new("Explained variance")
        .series("cumulative fraction", points)
        .x_label("components")
        .y_label("fraction of the variance")
        .render(640, 400)
        .map_err(plot_err)
}
