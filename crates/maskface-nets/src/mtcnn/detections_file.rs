//! Detection over files, as `maskface detect` writes it: per image its
//! size, every face's box, score and five landmarks, the chosen face and
//! its crop, or the error (serialised as the detections file).

use std::path::{Path, PathBuf};

use maskface_core::{load_rgb, save_image_atomic, CoreError, CropConfig, Detection};
use rayon::prelude::*;
use serde::Serialize;

use crate::mtcnn::{crop_face, Mtcnn};

/// One face found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectedFace {
    /// `[x0, y0, x1, y1]`.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// The detector's confidence.
    pub score: f32,
    /// Left eye, right eye, nose, left and right mouth corner.
    pub landmarks: Vec<[f32; 2]>,
}

impl From<&Detection> for DetectedFace {
    fn from(d: &Detection) -> Self {
        let b = d.bbox;
        DetectedFace {
            bbox: [b.x0, b.y0, b.x1, b.y1],
            score: b.score,
            landmarks: d
                .landmarks
                .map(|l| l.0.iter().map(|p| [p.x, p.y]).collect())
                .unwrap_or_default(),
        }
    }
}

/// One image's detections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionEntry {
    /// The image file.
    pub path: String,
    /// Its width (0 when it could not be read).
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Every face found.
    pub faces: Vec<DetectedFace>,
    /// Index in `faces` of the chosen face.
    pub chosen: Option<usize>,
    /// Where the chosen face's crop was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crop: Option<String>,
    /// Why the image gave no detections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where crops go: the folder, and the crop's margin and size.
#[derive(Debug, Clone, Copy)]
pub struct CropOutput<'a> {
    /// Each crop is written as PNG to `dir`/(the input's relative path).
    pub dir: &'a Path,
    /// Margin and size of the crop.
    pub config: CropConfig,
}

impl Mtcnn {
    /// Detects the faces of each input, an image path with the relative
    /// path its crop gets, `chunk` images decoded at a time (images of
    /// equal size are batched); writes the chosen face's crop when `crops`
    /// is given. An unreadable image or a failed detection is recorded in
    /// its entry; failing to write a crop is an error. `progress` gets each
    /// image.
    pub fn detect_files(
        &self,
        inputs: &[(PathBuf, PathBuf)],
        chunk: usize,
        crops: Option<CropOutput<'_>>,
        progress: &dyn Fn(usize),
    ) -> Result<Vec<DetectionEntry>, CoreError> {
        let mut entries = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(chunk.max(1)) {
            let loaded: Vec<_> = chunk.par_iter().map(|(p, _)| load_rgb(p)).collect();
            // Decoded images move into one batch; each input keeps its index
            // there, or its decoding error.
            let mut images = Vec::with_capacity(loaded.len());
            let slots: Vec<Result<usize, String>> = loaded
                .into_iter()
                .map(|r| {
                    r.map(|img| {
                        images.push(img);
                        images.len() - 1
                    })
                    .map_err(|e| e.to_string())
                })
                .collect();
            let detections = self.detect_images(&images);
            for ((path, rel), slot) in chunk.iter().zip(slots) {
                let mut entry = DetectionEntry {
                    path: path.display().to_string(),
                    width: 0,
                    height: 0,
                    faces: vec![],
                    chosen: None,
                    crop: None,
                    error: None,
                };
                match slot {
                    Err(e) => entry.error = Some(e),
                    Ok(k) => {
                        let img = &images[k];
                        (entry.width, entry.height) = img.dimensions();
                        match &detections[k] {
                            Err(e) => entry.error = Some(e.to_string()),
                            Ok(dets) => {
                                entry.faces = dets.iter().map(DetectedFace::from).collect();
                                let chosen = self.select(dets, img.width(), img.height());
                                entry.chosen = chosen
                                    .and_then(|c| dets.iter().position(|d| std::ptr::eq(d, c)));
                                if let (Some(crops), Some(c)) = (&crops, chosen) {
                                    let (crop, _) = crop_face(img, &c.bbox, &crops.config)?;
                                    let out = crops.dir.join(rel).with_extension("png");
                                    save_image_atomic(&crop, &out)?;
                                    entry.crop = Some(out.display().to_string());
                                }
                            }
                        }
                    }
                }
                entries.push(entry);
                progress(1);
            }
        }
        Ok(entries)
    }
}
