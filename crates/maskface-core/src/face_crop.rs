//! Choosing one face per image and cutting it out with a margin, as
//! facenet-pytorch's `MTCNN(select_largest=..., margin=...)` does: shared by
//! every detector.

use crate::FaceBox;
use image::{imageops, RgbImage};
use serde::{Deserialize, Serialize};

use crate::{CoreError, Detection};

/// How a detected face is cut out: facenet-pytorch's `extract_face`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropConfig {
    /// Margin around the box, in pixels of the output crop (the paper: 15).
    pub margin: u32,
    /// Side of the square output crop (160, as facenet-pytorch's default).
    pub size: u32,
}

impl Default for CropConfig {
    fn default() -> Self {
        CropConfig {
            margin: 15,
            size: 160,
        }
    }
}

/// A chosen face and its crop.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceCrop {
    /// The detection the crop was cut from.
    pub detection: Detection,
    /// The crop, `size` x `size`.
    pub crop: RgbImage,
    /// The source pixels it covers: `[left, top, right, bottom)`.
    pub crop_box: [u32; 4],
}

/// Cuts the face in `bbox` out of `image` with a margin and resizes it to
/// `config.size` square (bilinear, anti-aliased when shrinking).
///
/// The margin is given in output pixels, as facenet-pytorch does it: the box
/// grows by `margin * (box side) / (size - margin)` source pixels in all,
/// half on each side, and is clipped to the image. The crop is therefore not
/// square when the face touches the border; it is stretched to a square.
pub fn crop_face(
    image: &RgbImage,
    bbox: &FaceBox,
    config: &CropConfig,
) -> Result<(RgbImage, [u32; 4]), CoreError> {
    if config.size == 0 || config.margin >= config.size {
        return Err(CoreError::InvalidParameter {
            name: "margin",
            reason: format!(
                "margin {} must be smaller than the crop size {}",
                config.margin, config.size
            ),
        });
    }
    let (w, h) = (image.width() as f32, image.height() as f32);
    let k = config.margin as f32 / (config.size - config.margin) as f32;
    let (mx, my) = (k * bbox.width(), k * bbox.height());
    let left = (bbox.x0 - mx / 2.0).max(0.0) as u32;
    let top = (bbox.y0 - my / 2.0).max(0.0) as u32;
    let right = (bbox.x1 + mx / 2.0).min(w).max(0.0) as u32;
    let bottom = (bbox.y1 + my / 2.0).min(h).max(0.0) as u32;
    if right <= left || bottom <= top {
        return Err(CoreError::InvalidParameter {
            name: "bbox",
            reason: format!("box {bbox:?} lies outside the {w}x{h} image"),
        });
    }
    let view = imageops::crop_imm(image, left, top, right - left, bottom - top).to_image();
    let crop = crate::resize_triangle(&view, config.size, config.size);
    Ok((crop, [left, top, right, bottom]))
}

/// Which face a pipeline keeps when an image has several.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceSelection {
    /// The largest box (facenet-pytorch's `select_largest=True`).
    Largest,
    /// The most confident box.
    Probability,
    /// Box area minus `weight` times the squared distance of its centre from
    /// the image centre (facenet-pytorch's `center_weighted_size`; the
    /// default, with weight 2): on photos centred on one person, such as LFW,
    /// it prefers that person to a larger face at the edge.
    CenterWeighted {
        /// Penalty per squared pixel of offset.
        weight: f32,
    },
}

impl FaceSelection {
    /// The preferred face among `detections` in a `width` x `height` image.
    pub fn pick<'a>(
        &self,
        detections: &'a [Detection],
        width: u32,
        height: u32,
    ) -> Option<&'a Detection> {
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let key = |d: &Detection| -> f32 {
            let b = &d.bbox;
            match *self {
                FaceSelection::Largest => b.area(),
                FaceSelection::Probability => b.score,
                FaceSelection::CenterWeighted { weight } => {
                    let c = b.center();
                    b.area() - weight * ((c.x - cx).powi(2) + (c.y - cy).powi(2))
                }
            }
        };
        detections.iter().max_by(|a, b| key(a).total_cmp(&key(b)))
    }
}

/// A [`FaceSelection`] by name, with its default parameters: the choices a
/// command line or a configuration file offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum FaceSelectionKind {
    /// Largest area minus 2 x squared offset from the image centre.
    Center,
    /// Largest box.
    Largest,
    /// Highest score.
    Probability,
}

impl From<FaceSelectionKind> for FaceSelection {
    fn from(kind: FaceSelectionKind) -> Self {
        match kind {
            FaceSelectionKind::Center => FaceSelection::CenterWeighted { weight: 2.0 },
            FaceSelectionKind::Largest => FaceSelection::Largest,
            FaceSelectionKind::Probability => FaceSelection::Probability,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_follows_facenet() {
        let img = RgbImage::new(250, 250);
        let b = FaceBox::new(70.0, 60.0, 180.0, 200.0, 1.0);
        let (crop, r) = crop_face(&img, &b, &CropConfig::default()).unwrap();
        // 15 / 145 of 110 = 11.38 wide, of 140 = 14.48 high, half each side.
        assert_eq!(r, [64, 52, 185, 207]);
        assert_eq!(crop.dimensions(), (160, 160));
        let edge = FaceBox::new(-10.0, 200.0, 100.0, 300.0, 1.0);
        let (_, r) = crop_face(&img, &edge, &CropConfig::default()).unwrap();
        assert_eq!(r, [0, 194, 105, 250]);
        assert!(crop_face(
            &img,
            &b,
            &CropConfig {
                margin: 160,
                size: 160
            }
        )
        .is_err());
    }
}
