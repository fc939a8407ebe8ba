//! Turning face images into a network's input tensor.

use burn::prelude::*;
use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::NetsError;

/// A per-channel standardisation of 8-bit RGB: `(value - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputNorm {
    /// The mean of each channel, on the 0..255 scale.
    pub mean: [f32; 3],
    /// The standard deviation of each channel, on the 0..255 scale.
    pub std: [f32; 3],
}

impl InputNorm {
    /// facenet-pytorch's `fixed_image_standardization`, for
    /// InceptionResnetV1: `(x - 127.5) / 128`.
    pub const FACENET: InputNorm = InputNorm {
        mean: [127.5; 3],
        std: [128.0; 3],
    };

    /// torchvision's ImageNet statistics (`mean=[0.485, 0.456, 0.406]`,
    /// `std=[0.229, 0.224, 0.225]` on the 0..1 scale), for ResNet and VGG.
    pub const IMAGENET: InputNorm = InputNorm {
        mean: [0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0],
        std: [0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0],
    };
}

/// Resizes each image to `size x size` (bilinear, as torchvision's
/// `Resize`; images already that size are taken as they are), standardises
/// it with `norm` and stacks them into `[n, 3, size, size]`, in parallel.
///
/// ```
/// use burn::prelude::*;
/// use maskface_nets::{images_to_input, InputNorm};
///
/// let face = image::RgbImage::from_pixel(80, 40, image::Rgb([255, 127, 0]));
/// let x = images_to_input(&[face], 16, InputNorm::FACENET, &Device::flex()).unwrap();
/// assert_eq!(x.dims(), [1, 3, 16, 16]);
/// let v: Vec<f32> = x.into_data().try_to_vec::<f32>().unwrap();
/// assert!((v[0] - 127.5 / 128.0).abs() < 1e-6 && v[16 * 16 * 2] < -0.99);
/// ```
pub fn images_to_input(
    images: &[RgbImage],
    size: usize,
    norm: InputNorm,
    device: &Device,
) -> Result<Tensor<4>, NetsError> {
    let side =
        u32::try_from(size)
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| NetsError::InvalidParameter {
                name: "size",
                reason: format!("{size}: must be between 1 and {}", u32::MAX),
            })?;
    if let Some(i) = images
        .iter()
        .position(|im| im.width() == 0 || im.height() == 0)
    {
        return Err(NetsError::InvalidParameter {
            name: "images",
            reason: format!("image {i} is empty"),
        });
    }
    let plane = size * size;
    let mut data = vec![0f32; images.len() * 3 * plane];
    data.par_chunks_mut(3 * plane)
        .zip(images.par_iter())
        .for_each(|(out, image)| {
            let resized;
            let image = if image.dimensions() == (side, side) {
                image
            } else {
                resized = maskface_core::resize_triangle(image, side, side);
                &resized
            };
            for (p, px) in image.pixels().enumerate() {
                for c in 0..3 {
                    out[c * plane + p] = (f32::from(px[c]) - norm.mean[c]) / norm.std[c];
                }
            }
        });
    Ok(Tensor::from_data(
        TensorData::new(data, [images.len(), 3, size, size]),
        device,
    ))
}
