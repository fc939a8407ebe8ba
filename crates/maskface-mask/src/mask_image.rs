//! Every face of one photo masked: the library side of `maskface mask`.
//!
//! [`FaceMasker::mask_image`] detects the faces, places the 68 landmarks on
//! each, and paints a mask on every face in place, in the photo's own
//! pixels (no crop, no resize), recording per face what was painted and
//! where; [`FaceMasker::mask_detected`] does the same for detections made
//! elsewhere (a batched detector).

use image::{GrayImage, RgbImage};
use maskface_core::{
    rng_for, Detection, FaceDetector, LandmarkPredictor, Landmarks68, MaskRenderer, Point2,
};
use serde::{Deserialize, Serialize};

use crate::{landmark_box, MaskError};

/// What was painted on one face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceRecord {
    /// The face's place in the detector's list (0 = highest score).
    pub index: usize,
    /// The detection, in image pixels.
    pub detection: Detection,
    /// The 68 landmarks, in image pixels.
    pub landmarks: Landmarks68,
    /// The mask's outline, in image pixels.
    pub polygon: Vec<Point2>,
    /// How many pixels the mask covers (coverage >= 50%).
    pub area: u64,
    /// The bounding box of those pixels, `[x0, y0, x1, y1)`; `[0, 0, 0, 0]`
    /// when the mask covers none.
    pub mask_box: [u32; 4],
    /// Style, colour, texture, fit and drawn parameters (the renderer's
    /// description).
    pub mask: serde_json::Value,
}

/// A face found but not masked, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFace {
    /// The face's place in the detector's list.
    pub index: usize,
    /// The detection.
    pub detection: Detection,
    /// Why it was not masked.
    pub reason: String,
}

/// A photo with every face masked.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedImage {
    /// The photo with the masks painted on.
    pub image: RgbImage,
    /// How much of each pixel the masks cover: 255 inside, 0 outside,
    /// anti-aliased edges in between (where faces overlap, the larger
    /// cover). [`MaskedImage::binary_mask`] gives a segmentation model's
    /// labels.
    pub mask: GrayImage,
    /// The faces masked, in detection order.
    pub faces: Vec<FaceRecord>,
    /// The faces found but not masked.
    pub skipped: Vec<SkippedFace>,
}

impl MaskedImage {
    /// `image` with nothing painted on it yet: what [`FaceMasker::mask_face`]
    /// paints on.
    pub fn unmasked(image: RgbImage) -> Self {
        let mask = GrayImage::new(image.width(), image.height());
        MaskedImage {
            image,
            mask,
            faces: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// 255 where a mask covers at least half the pixel, 0 elsewhere: the
    /// pixels each [`FaceRecord::area`] counts.
    pub fn binary_mask(&self) -> GrayImage {
        let mut binary = self.mask.clone();
        for v in binary.iter_mut() {
            *v = if *v >= 128 { 255 } else { 0 };
        }
        binary
    }
}

/// Where [`FaceMasker`] lets a face's mask be painted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaintArea {
    /// A window around the face's landmarks, wide enough for every kind of
    /// mask and fit: photos with several faces, photos of any size.
    #[default]
    Window,
    /// The whole image: the image is the face's own crop, as in `maskface
    /// generate`, which paints on the crop.
    Whole,
}

/// Options of [`FaceMasker`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhotoOptions {
    /// Faces whose box is narrower or shorter than this (pixels) are left
    /// unmasked and recorded as skipped.
    pub min_face: f32,
    /// Seed of every draw: a face's mask depends on the seed, the photo's
    /// key and the face's index only.
    pub seed: u64,
    /// Where masks are painted.
    #[serde(default)]
    pub area: PaintArea,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions {
            min_face: 20.0,
            seed: 42,
            area: PaintArea::Window,
        }
    }
}

/// The name of face `index`'s random stream in the photo `key`: the first
/// face has the photo's own stream (the one `generate`, which masks one
/// face per image, has always drawn from), the others one each.
pub(crate) fn face_stream(key: &str, index: usize) -> String {
    match index {
        0 => format!("mask/{key}"),
        i => format!("mask/{key}/{i}"),
    }
}

/// The margins around a face's landmarks painted in, in face heights, at the
/// sides and top and below the chin: the mask stands off the jaw, ear loops
/// run to the ears, a gas mask's filters stick out and a mask pulled down
/// hangs under the chin, all within them (`the_window_holds_every_mask`
/// checks every kind and fit on real faces). The smaller the window, the
/// less each face costs: coverage and blending are computed over all of it.
const WINDOW_MARGIN: f32 = 0.4;
/// See [`WINDOW_MARGIN`].
const WINDOW_MARGIN_BELOW: f32 = 0.7;

/// A face detector and a landmark model, masking every face of a photo.
///
/// ```no_run
/// use maskface_core::FaceDetector;
/// use maskface_mask::{FaceMasker, MaskKind, MaskMix, MaskSpec, PhotoOptions, ShapePredictor};
///
/// // Any detector: MTCNN from maskface-nets, or your own.
/// fn mask_group_photo(detector: &impl FaceDetector) -> Result<(), Box<dyn std::error::Error>> {
///     let predictor = ShapePredictor::from_file("models/shape_predictor_68_face_landmarks.dat")?;
///     let masker = FaceMasker::new(detector, &predictor, PhotoOptions::default());
///     let photo = maskface_core::load_rgb("group.jpg".as_ref())?;
///     let spec = MaskSpec::Mix(MaskMix::of(MaskKind::Kn95));
///     let masked = masker.mask_image(&photo, &spec, "group.jpg")?;
///     println!("{} faces masked", masked.faces.len());
///     masked.image.save("group_kn95.jpg")?;
///     Ok(())
/// }
/// ```
pub struct FaceMasker<'a, D: ?Sized, L: ?Sized> {
    detector: &'a D,
    predictor: &'a L,
    options: PhotoOptions,
}

impl<'a, D: ?Sized, L: ?Sized> FaceMasker<'a, D, L> {
    /// A masker from a detector, a 68-point landmark model and options.
    pub fn new(detector: &'a D, predictor: &'a L, options: PhotoOptions) -> Self {
        FaceMasker {
            detector,
            predictor,
            options,
        }
    }
}

impl<'a, L: ?Sized> FaceMasker<'a, (), L> {
    /// A masker for faces found elsewhere (a batched detector, a dataset's
    /// records): [`FaceMasker::mask_detected`] and [`FaceMasker::mask_face`]
    /// only.
    pub fn for_detections(predictor: &'a L, options: PhotoOptions) -> Self {
        FaceMasker::new(&(), predictor, options)
    }
}

impl<D, L> FaceMasker<'_, D, L>
where
    D: FaceDetector + ?Sized,
    L: LandmarkPredictor + ?Sized,
{
    /// Detects every face of `image` and masks it (see
    /// [`FaceMasker::mask_detected`]). `key` names the photo in the random
    /// stream (its path, say): the same key and seed give the same masks.
    pub fn mask_image<M>(
        &self,
        image: &RgbImage,
        renderer: &M,
        key: &str,
    ) -> Result<MaskedImage, MaskError>
    where
        M: MaskRenderer + ?Sized,
    {
        let detections = self.detector.detect(image).map_err(|e| MaskError::Step {
            step: "detection",
            reason: e.to_string(),
        })?;
        Ok(self.mask_detected(image, &detections, renderer, key))
    }
}

impl<D, L> FaceMasker<'_, D, L>
where
    D: ?Sized,
    L: LandmarkPredictor + ?Sized,
{
    /// Masks every face of `detections` on `image`. A face too small, whose
    /// landmarks cannot be placed or whose mask fails is recorded in
    /// [`MaskedImage::skipped`], never an error; faces are painted in
    /// detection order, so where two overlap the later one is on top.
    pub fn mask_detected<M>(
        &self,
        image: &RgbImage,
        detections: &[Detection],
        renderer: &M,
        key: &str,
    ) -> MaskedImage
    where
        M: MaskRenderer + ?Sized,
    {
        let mut out = MaskedImage::unmasked(image.clone());
        for (index, detection) in detections.iter().enumerate() {
            match self.mask_face(image, &mut out, index, detection, renderer, key) {
                Ok(face) => out.faces.push(face),
                Err(e) => out.skipped.push(SkippedFace {
                    index,
                    detection: detection.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        out
    }

    /// Masks one face of `image` on `out` (`image` with any faces before
    /// it painted: the step [`FaceMasker::mask_detected`] takes for each):
    /// its 68 landmarks placed from the detection on `image`, unpainted,
    /// its mask drawn from the face's own random stream (the photo's `key`
    /// and the face's `index`) and painted on `out.image`, and its cover
    /// added to `out.mask`. Returns what was painted (not added to
    /// `out.faces`), or why nothing was: the face smaller than the minimum,
    /// or the `landmarks` or `mask` step's error.
    pub fn mask_face<M>(
        &self,
        image: &RgbImage,
        out: &mut MaskedImage,
        index: usize,
        detection: &Detection,
        renderer: &M,
        key: &str,
    ) -> Result<FaceRecord, MaskError>
    where
        M: MaskRenderer + ?Sized,
    {
        let side = detection.bbox.width().min(detection.bbox.height());
        // A NaN side (a broken detection) is too small as well.
        if side.is_nan() || side < self.options.min_face {
            return Err(MaskError::FaceTooSmall {
                side,
                min: self.options.min_face,
            });
        }
        let landmarks = self
            .predictor
            .predict(image, &landmark_box(detection))
            .map_err(|e| MaskError::Step {
                step: "landmarks",
                reason: e.to_string(),
            })?;
        let mut rng = rng_for(self.options.seed, &face_stream(key, index));
        let (polygon, description, area, mask_box) =
            paint_face(out, &landmarks, renderer, &mut rng, self.options.area)?;
        Ok(FaceRecord {
            index,
            detection: detection.clone(),
            landmarks,
            polygon,
            area,
            mask_box,
            mask: serde_json::from_str(&description)
                .unwrap_or(serde_json::Value::String(description)),
        })
    }
}

/// The window `[x0, y0, x1, y1)` of the image a face's mask is painted in:
/// its landmarks' bounds with [`WINDOW_MARGIN`] face heights around them
/// ([`WINDOW_MARGIN_BELOW`] below), clipped to the image. `None` when it lies wholly outside.
fn window(landmarks: &Landmarks68, width: u32, height: u32) -> Option<[u32; 4]> {
    let pts = landmarks.points();
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in pts {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    }
    let h = (pts[8].distance(&pts[27])).max(x1 - x0).max(1.0);
    let (m, below) = (WINDOW_MARGIN * h, WINDOW_MARGIN_BELOW * h);
    let clip = |v: f32, max: u32| v.clamp(0.0, max as f32);
    let b = [
        clip((x0 - m).floor(), width) as u32,
        clip((y0 - m).floor(), height) as u32,
        clip((x1 + m).ceil(), width) as u32,
        clip((y1 + below).ceil(), height) as u32,
    ];
    (b[2] > b[0] && b[3] > b[1] && [x0, y0, x1, y1].iter().all(|v| v.is_finite())).then_some(b)
}

type Painted = (Vec<Point2>, String, u64, [u32; 4]);

/// Paints one face's mask on `out` in the face's window (a small copy of the
/// photo, so that a large photo is not copied per face) and adds its
/// coverage to the image's mask.
fn paint_face<M: MaskRenderer + ?Sized>(
    out: &mut MaskedImage,
    landmarks: &Landmarks68,
    renderer: &M,
    rng: &mut dyn maskface_core::RngCore,
    area: PaintArea,
) -> Result<Painted, MaskError> {
    let (w, h) = out.image.dimensions();
    let bounds = match area {
        PaintArea::Window => window(landmarks, w, h),
        PaintArea::Whole => Some([0, 0, w, h]),
    };
    let Some([x0, y0, x1, y1]) = bounds else {
        return Err(MaskError::Step {
            step: "mask",
            reason: "the face lies outside the image".into(),
        });
    };
    let (ox, oy) = (x0 as f32, y0 as f32);
    let local = Landmarks68::new(
        landmarks
            .points()
            .iter()
            .map(|p| Point2::new(p.x - ox, p.y - oy))
            .collect(),
    )?;
    let patch = image::imageops::crop_imm(&out.image, x0, y0, x1 - x0, y1 - y0).to_image();
    let masked = renderer
        .render(&patch, &local, rng)
        .map_err(|e| MaskError::Step {
            step: "mask",
            reason: e.to_string(),
        })?;
    image::imageops::replace(&mut out.image, &masked.image, i64::from(x0), i64::from(y0));
    let (mut area, mut bx) = (0u64, [u32::MAX, u32::MAX, 0, 0]);
    for (x, y, c) in masked.mask.enumerate_pixels() {
        if c[0] == 0 {
            continue;
        }
        let (gx, gy) = (x + x0, y + y0);
        let cover = out.mask.get_pixel_mut(gx, gy);
        cover[0] = cover[0].max(c[0]);
        if c[0] >= 128 {
            area += 1;
            bx = [
                bx[0].min(gx),
                bx[1].min(gy),
                bx[2].max(gx + 1),
                bx[3].max(gy + 1),
            ];
        }
    }
    if area == 0 {
        bx = [0; 4];
    }
    let polygon = masked
        .polygon
        .iter()
        .map(|p| Point2::new(p.x + ox, p.y + oy))
        .collect();
    Ok((polygon, masked.description, area, bx))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{MaskKind, MaskMix, MaskSpec};
    use maskface_core::FaceBox;

    /// A "detector" that returns fixed boxes and a "predictor" that puts the
    /// 68 points on a circle inside the box: the geometry without models.
    struct Fixed(Vec<Detection>);
    impl FaceDetector for Fixed {
        type Error = std::convert::Infallible;
        fn detect(&self, _: &RgbImage) -> Result<Vec<Detection>, Self::Error> {
            Ok(self.0.clone())
        }
    }
    struct Circle;
    impl LandmarkPredictor for Circle {
        type Error = maskface_core::CoreError;
        fn predict(&self, _: &RgbImage, b: &FaceBox) -> Result<Landmarks68, Self::Error> {
            let (c, r) = (b.center(), 0.45 * b.width());
            Landmarks68::new(
                (0..68)
                    .map(|i| {
                        let t = i as f32 / 68.0 * std::f32::consts::TAU;
                        Point2::new(c.x + r * t.cos(), c.y + r * t.sin())
                    })
                    .collect(),
            )
        }
    }

    fn det(x: f32, y: f32, side: f32) -> Detection {
        Detection {
            bbox: FaceBox::new(x, y, x + side, y + side, 0.99),
            landmarks: None,
        }
    }

    #[test]
    fn every_face_big_enough_is_masked_and_the_small_one_recorded() {
        let photo = RgbImage::from_pixel(400, 200, image::Rgb([120, 100, 90]));
        let detector = Fixed(vec![
            det(20.0, 40.0, 90.0),
            det(250.0, 50.0, 100.0),
            det(180.0, 10.0, 12.0),
        ]);
        let masker = FaceMasker::new(&detector, &Circle, PhotoOptions::default());
        let spec = MaskSpec::Mix(MaskMix::of(MaskKind::Cloth));
        let out = masker.mask_image(&photo, &spec, "three.jpg").unwrap();
        assert_eq!(out.faces.len(), 2);
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].index, 2);
        assert!(
            out.skipped[0].reason.contains("smaller than"),
            "{}",
            out.skipped[0].reason
        );
        // Each face's mask lies on its own face: the pixels it changed and
        // the mask box are inside the window around it.
        let left = &out.faces[0];
        assert!(left.mask_box[2] <= 200 && left.area > 500, "{left:?}");
        let right = &out.faces[1];
        assert!(right.mask_box[0] >= 200 && right.area > 500, "{right:?}");
        let covered = out.mask.pixels().filter(|p| p[0] >= 128).count() as u64;
        assert_eq!(
            out.binary_mask().iter().filter(|v| **v == 255).count() as u64,
            covered
        );
        assert_eq!(covered, left.area + right.area);
        // Outside every window, not one pixel changed.
        assert_eq!(out.image.get_pixel(199, 5), photo.get_pixel(199, 5));
        assert_eq!(out.image.dimensions(), photo.dimensions());
    }

    #[test]
    fn a_face_gets_the_same_mask_whatever_else_is_in_the_photo() {
        let photo = RgbImage::from_pixel(400, 200, image::Rgb([120, 100, 90]));
        let spec = MaskSpec::Mix(MaskMix {
            choices: crate::parse_code("surgical, cloth, n95, kn95, gas").unwrap(),
            ..MaskMix::default()
        });
        let one = Fixed(vec![det(20.0, 40.0, 90.0)]);
        let two = Fixed(vec![det(20.0, 40.0, 90.0), det(250.0, 50.0, 100.0)]);
        let a = FaceMasker::new(&one, &Circle, PhotoOptions::default())
            .mask_image(&photo, &spec, "k")
            .unwrap();
        let b = FaceMasker::new(&two, &Circle, PhotoOptions::default())
            .mask_image(&photo, &spec, "k")
            .unwrap();
        assert_eq!(a.faces[0], b.faces[0]);
        let other_seed = FaceMasker::new(
            &one,
            &Circle,
            PhotoOptions {
                seed: 7,
                ..PhotoOptions::default()
            },
        )
        .mask_image(&photo, &spec, "k")
        .unwrap();
        assert_ne!(a.image, other_seed.image);
    }

    /// What `generate` relies on: on a face's crop, with the whole image as
    /// the area, the first face's mask is the renderer's own output on the
    /// crop, drawn from the image's stream, cover and all.
    #[test]
    fn a_crop_painted_whole_is_the_renderers_output() {
        let crop = RgbImage::from_fn(160, 160, |x, y| {
            image::Rgb([(x * 3 % 256) as u8, (y * 5 % 256) as u8, 90])
        });
        let face = det(20.0, 25.0, 120.0);
        let spec = MaskSpec::Mix(MaskMix {
            choices: crate::parse_code("surgical, cloth, n95, kn95, gas").unwrap(),
            ..MaskMix::default()
        });
        let options = PhotoOptions {
            min_face: 0.0,
            seed: 3,
            area: PaintArea::Whole,
        };
        let masker = FaceMasker::for_detections(&Circle, options);
        let mut out = MaskedImage::unmasked(crop.clone());
        let record = masker
            .mask_face(&crop, &mut out, 0, &face, &spec, "Ann/Ann_0001.jpg")
            .unwrap();
        let landmarks = Circle.predict(&crop, &landmark_box(&face)).unwrap();
        let direct = spec
            .render(&crop, &landmarks, &mut rng_for(3, "mask/Ann/Ann_0001.jpg"))
            .unwrap();
        assert_eq!(out.image, direct.image);
        assert_eq!(out.mask, direct.mask);
        assert_eq!(record.polygon, direct.polygon);
        assert_eq!(record.landmarks, landmarks);
        assert_eq!(
            record.mask,
            serde_json::from_str::<serde_json::Value>(&direct.description).unwrap()
        );
        // A second face of the same photo draws from a stream of its own.
        assert_eq!(face_stream("k", 1), "mask/k/1");
    }

    #[test]
    fn a_face_too_small_names_both_sizes() {
        let photo = RgbImage::from_pixel(100, 100, image::Rgb([120, 100, 90]));
        let masker = FaceMasker::for_detections(&Circle, PhotoOptions::default());
        let mut out = MaskedImage::unmasked(photo.clone());
        let err = masker
            .mask_face(
                &photo,
                &mut out,
                0,
                &det(10.0, 10.0, 12.0),
                &MaskSpec::Mix(MaskMix::default()),
                "x",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "face of 12 px, smaller than the minimum 20 px"
        );
        assert_eq!(out.image, photo);
    }

    #[test]
    fn a_face_outside_the_image_is_skipped_not_an_error() {
        let photo = RgbImage::from_pixel(100, 100, image::Rgb([120, 100, 90]));
        let detector = Fixed(vec![det(500.0, 500.0, 80.0)]);
        let out = FaceMasker::new(&detector, &Circle, PhotoOptions::default())
            .mask_image(&photo, &MaskSpec::Mix(MaskMix::default()), "x")
            .unwrap();
        assert!(out.faces.is_empty());
        assert!(
            out.skipped[0].reason.contains("outside"),
            "{:?}",
            out.skipped
        );
        assert_eq!(out.image, photo);
    }
    /// Real dlib landmarks of LFW faces (the reference fixture).
    fn real_faces() -> Vec<Landmarks68> {
        let json: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/fixtures/reference/dlib_hog68_seed_test.json"
        ))
        .unwrap();
        json["images"]
            .as_object()
            .unwrap()
            .values()
            .filter(|v| !v.is_null())
            .map(|v| {
                let pts = v["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32)
                    })
                    .collect();
                Landmarks68::new(pts).unwrap()
            })
            .collect()
    }

    #[test]
    fn the_window_holds_every_mask() {
        // On a canvas larger than the faces, nothing a renderer paints may
        // reach the window's border: the window cuts nothing off.
        let canvas = RgbImage::from_pixel(500, 500, image::Rgb([128, 110, 100]));
        let faces = real_faces();
        assert!(faces.len() > 100);
        for (i, face) in faces.iter().enumerate().step_by(10) {
            // Moved to the canvas's middle.
            let moved = Landmarks68::new(
                face.points()
                    .iter()
                    .map(|p| Point2::new(p.x + 125.0, p.y + 125.0))
                    .collect(),
            )
            .unwrap();
            let [x0, y0, x1, y1] = window(&moved, 500, 500).unwrap();
            for kind in MaskKind::ALL {
                for fit in ["proper", "nose-out", "chin"] {
                    let mix = MaskMix {
                        fits: crate::FitMix::parse(fit).unwrap(),
                        ..MaskMix::of(kind)
                    };
                    let painted = mix
                        .render(&canvas, &moved, &mut rng_for(i as u64, "w"))
                        .unwrap()
                        .image;
                    for (x, y, p) in painted.enumerate_pixels() {
                        if p != canvas.get_pixel(x, y) {
                            assert!(
                                x > x0 && x + 1 < x1 && y > y0 && y + 1 < y1,
                                "face {i}, {kind:?} {fit}: ({x}, {y}) outside the window {:?}",
                                [x0, y0, x1, y1]
                            );
                        }
                    }
                }
            }
        }
    }
}
