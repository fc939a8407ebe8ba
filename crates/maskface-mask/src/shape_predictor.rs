//! dlib's `shape_predictor` (an ensemble of regression trees, Kazemi and
//! Sullivan 2014), read from dlib's own model files and run as dlib runs it.

use std::path::{Path, PathBuf};

use image::RgbImage;
use maskface_core::{FaceBox, LandmarkPredictor, Landmarks68, Point2};

use crate::MaskError;
use maskface_core::dlib_io::{DecodeError, Decoded, DlibReader};

/// One split node: go left when `f[idx1] - f[idx2] > thresh`.
#[derive(Debug, Clone, Copy)]
struct Split {
    idx1: u32,
    idx2: u32,
    thresh: f32,
}

/// A complete binary regression tree; `leaves` holds `splits.len() + 1`
/// shape updates of `2 * parts` values each, back to back.
#[derive(Debug, Clone)]
struct Tree {
    splits: Vec<Split>,
    leaves: Vec<f32>,
}

/// One level of the cascade: its trees and the pixels they look at, each
/// an offset (`delta`, in the mean shape's normalised frame) from a landmark.
#[derive(Debug, Clone)]
struct Cascade {
    trees: Vec<Tree>,
    anchors: Vec<u32>,
    deltas: Vec<[f32; 2]>,
}

/// A dlib shape predictor: `shape_predictor_68_face_landmarks.dat`,
/// `shape_predictor_5_face_landmarks.dat` or any model trained with dlib.
///
/// Points come out as dlib computes them, before dlib rounds them to whole
/// pixels ([`ShapePredictor::predict_rounded`] gives dlib's integers).
#[derive(Debug, Clone)]
pub struct ShapePredictor {
    initial_shape: Vec<f32>,
    cascades: Vec<Cascade>,
}

impl ShapePredictor {
    /// The file name of dlib's 68-point model, as dlib distributes it.
    pub const DLIB_68_FILE: &'static str = "shape_predictor_68_face_landmarks.dat";

    /// Reads a model file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, MaskError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| MaskError::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Reads a model from its bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: impl Into<PathBuf>) -> Result<Self, MaskError> {
        let mut r = DlibReader::new(bytes);
        parse(&mut r).map_err(|e| MaskError::Model {
            path: path.into(),
            offset: e.offset,
            reason: e.reason,
        })
    }

    /// Number of landmarks the model places (68 or 5 for dlib's models).
    pub fn num_parts(&self) -> usize {
        self.initial_shape.len() / 2
    }

    /// Number of cascade levels.
    pub fn num_cascades(&self) -> usize {
        self.cascades.len()
    }

    /// Total number of regression trees.
    pub fn num_trees(&self) -> usize {
        self.cascades.iter().map(|c| c.trees.len()).sum()
    }

    /// The mean shape the cascade starts from, in the box's normalised frame
    /// (`(0, 0)` the top-left corner, `(1, 1)` the bottom-right one).
    pub fn mean_shape(&self) -> Vec<Point2> {
        self.initial_shape
            .chunks_exact(2)
            .map(|p| Point2::new(p[0], p[1]))
            .collect()
    }

    /// Places the landmarks of the face in `bbox`.
    ///
    /// The box's corners play the part of dlib's rectangle corners: dlib's
    /// `rectangle(l, t, r, b)` is `FaceBox::new(l, t, r, b, _)`. Pixels are
    /// read as dlib reads an RGB image: the nearest pixel, `(r + g + b) / 3`
    /// in integers, 0 outside the image.
    pub fn predict(&self, image: &RgbImage, bbox: &FaceBox) -> Vec<Point2> {
        let to_image = BoxTransform::new(bbox);
        self.run(image, &to_image)
            .chunks_exact(2)
            .map(|p| {
                let (x, y) = to_image.apply(p[0], p[1]);
                Point2::new(x as f32, y as f32)
            })
            .collect()
    }

    /// Like [`ShapePredictor::predict`], rounded as dlib rounds its output
    /// points (`floor(v + 0.5)`).
    pub fn predict_rounded(&self, image: &RgbImage, bbox: &FaceBox) -> Vec<[i64; 2]> {
        let to_image = BoxTransform::new(bbox);
        self.run(image, &to_image)
            .chunks_exact(2)
            .map(|p| {
                let (x, y) = to_image.apply(p[0], p[1]);
                [round_half_up(x), round_half_up(y)]
            })
            .collect()
    }

    /// The cascade in the box's normalised frame, in `f32` as dlib keeps it.
    fn run(&self, image: &RgbImage, to_image: &BoxTransform) -> Vec<f32> {
        let mut current = self.initial_shape.clone();
        let mut features = Vec::new();
        let mut leaves: Vec<&[f32]> = Vec::new();
        for cascade in &self.cascades {
            let m = similarity(&self.initial_shape, &current);
            features.clear();
            features.extend(cascade.anchors.iter().zip(&cascade.deltas).map(|(&a, d)| {
                let a = a as usize;
                // Same operation order as dlib (matrix times delta, plus the
                // anchor, all in f32) so that rounding to a pixel agrees.
                let px = (m[0] * d[0] + m[1] * d[1]) + current[2 * a];
                let py = (m[2] * d[0] + m[3] * d[1]) + current[2 * a + 1];
                let (x, y) = to_image.apply(px, py);
                intensity(image, round_half_up(x), round_half_up(y))
            }));
            // All the cascade's trees read the same features, so every leaf
            // is known before the first is added. Finding them first lets
            // the leaves' loads (4 MB a face, out of cache) overlap instead
            // of waiting behind each tree's mispredicted branches; the sum
            // keeps dlib's order, so the result is the same to the bit.
            let n = current.len();
            leaves.clear();
            leaves.extend(cascade.trees.iter().map(|tree| {
                let mut i = 0usize;
                while i < tree.splits.len() {
                    let s = tree.splits[i];
                    i = if features[s.idx1 as usize] - features[s.idx2 as usize] > s.thresh {
                        2 * i + 1
                    } else {
                        2 * i + 2
                    };
                }
                &tree.leaves[(i - tree.splits.len()) * n..][..n]
            }));
            // The leaves are 0.5 KB each, scattered over 40 MB: out of cache.
            // Touching a value in each of their cache lines first, with no
            // work depending on it, lets dozens of the loads be in flight at
            // once; the sum then finds them in cache (a cascade's leaves fit
            // in L2). Without it, the sum waited on about two leaves at a time.
            let touched = leaves.iter().fold(0u32, |acc, leaf| {
                leaf.iter()
                    .step_by(16)
                    .fold(acc, |acc, v| acc | v.to_bits())
            });
            std::hint::black_box(touched);
            for leaf in &leaves {
                for (c, l) in current.iter_mut().zip(*leaf) {
                    *c += l;
                }
            }
        }
        current
    }
}

impl LandmarkPredictor for ShapePredictor {
    type Error = MaskError;

    fn predict(&self, image: &RgbImage, face: &FaceBox) -> Result<Landmarks68, MaskError> {
        if self.num_parts() != Landmarks68::LEN {
            return Err(MaskError::InvalidParameter {
                name: "model",
                reason: format!(
                    "a 68-landmark predictor is needed; this model places {} points",
                    self.num_parts()
                ),
            });
        }
        if ![face.x0, face.y0, face.x1, face.y1]
            .iter()
            .all(|v| v.is_finite())
        {
            return Err(MaskError::InvalidParameter {
                name: "face",
                reason: format!("face box {face:?} is not finite"),
            });
        }
        Ok(Landmarks68::new(ShapePredictor::predict(
            self, image, face,
        ))?)
    }
}

/// dlib's `floor(v + 0.5)` conversion to an integer pixel.
fn round_half_up(v: f64) -> i64 {
    (v + 0.5).floor() as i64
}

/// `(r + g + b) / 3` of the pixel at `(x, y)`, 0 outside the image.
fn intensity(image: &RgbImage, x: i64, y: i64) -> f32 {
    if x < 0 || y < 0 || x >= i64::from(image.width()) || y >= i64::from(image.height()) {
        return 0.0;
    }
    let p = image.get_pixel(x as u32, y as u32).0;
    ((u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3) as f32
}

/// dlib's `unnormalizing_tform(rect)`: `(0,0)` to the top-left corner and
/// `(1,1)` to the bottom-right one, in `f64` as dlib computes it.
struct BoxTransform {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl BoxTransform {
    fn new(b: &FaceBox) -> Self {
        BoxTransform {
            left: f64::from(b.x0),
            top: f64::from(b.y0),
            width: f64::from(b.x1) - f64::from(b.x0),
            height: f64::from(b.y1) - f64::from(b.y0),
        }
    }

    fn apply(&self, x: f32, y: f32) -> (f64, f64) {
        (
            self.width * f64::from(x) + self.left,
            self.height * f64::from(y) + self.top,
        )
    }
}

/// The 2x2 part (row-major) of the least-squares similarity transform from
/// `from` to `to` (Umeyama), as `f32`.
///
/// For two dimensions the rotation-and-scale has a closed form,
/// `[[a, -b], [b, a]]` with `a = (c00 + c11) / s`, `b = (c10 - c01) / s`
/// (`c` the cross-covariance, `s` the variance of `from`): the same matrix
/// dlib obtains through an SVD, without one.
fn similarity(from: &[f32], to: &[f32]) -> [f32; 4] {
    let n = (from.len() / 2) as f64;
    if n < 2.0 {
        return [1.0, 0.0, 0.0, 1.0];
    }
    let mean = |s: &[f32]| {
        let (sx, sy) = s.chunks_exact(2).fold((0.0, 0.0), |(sx, sy), p| {
            (sx + f64::from(p[0]), sy + f64::from(p[1]))
        });
        (sx / n, sy / n)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut var, mut c00, mut c01, mut c10, mut c11) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (f, t) in from.chunks_exact(2).zip(to.chunks_exact(2)) {
        let (dfx, dfy) = (f64::from(f[0]) - fx, f64::from(f[1]) - fy);
        let (dtx, dty) = (f64::from(t[0]) - tx, f64::from(t[1]) - ty);
        var += dfx * dfx + dfy * dfy;
        c00 += dtx * dfx;
        c01 += dtx * dfy;
        c10 += dty * dfx;
        c11 += dty * dfy;
    }
    if var == 0.0 {
        return [1.0, 0.0, 0.0, 1.0];
    }
    let a = (c00 + c11) / var;
    let b = (c10 - c01) / var;
    [a as f32, -b as f32, b as f32, a as f32]
}

fn parse(r: &mut DlibReader<'_>) -> Decoded<ShapePredictor> {
    let version = r.i64()?;
    if version != 1 {
        return r.fail(format!(
            "version {version} where a shape_predictor has version 1"
        ));
    }
    let initial_shape = r.column_f32()?;
    if initial_shape.is_empty() || initial_shape.len() % 2 != 0 {
        return r.fail(format!(
            "initial shape has {} values; expected a positive even number",
            initial_shape.len()
        ));
    }
    let dims = initial_shape.len();
    // A tree takes at least two lengths (2 bytes each).
    let n_cascades = r.len(4)?;
    let mut forests = Vec::with_capacity(n_cascades);
    for _ in 0..n_cascades {
        let n_trees = r.len(4)?;
        let mut trees = Vec::with_capacity(n_trees);
        for _ in 0..n_trees {
            trees.push(parse_tree(r, dims)?);
        }
        forests.push(trees);
    }
    let anchor_sets = parse_anchors(r, dims / 2)?;
    let delta_sets = parse_deltas(r)?;
    if anchor_sets.len() != n_cascades || delta_sets.len() != n_cascades {
        return r.fail(format!(
            "{n_cascades} cascades but {} anchor sets and {} delta sets",
            anchor_sets.len(),
            delta_sets.len()
        ));
    }
    let mut cascades = Vec::with_capacity(n_cascades);
    for (level, ((trees, anchors), deltas)) in forests
        .into_iter()
        .zip(anchor_sets)
        .zip(delta_sets)
        .enumerate()
    {
        if anchors.len() != deltas.len() {
            return r.fail(format!(
                "cascade {level}: {} anchors but {} deltas",
                anchors.len(),
                deltas.len()
            ));
        }
        let features = anchors.len() as u32;
        let bad = trees
            .iter()
            .flat_map(|t| &t.splits)
            .any(|s| s.idx1 >= features || s.idx2 >= features);
        if bad {
            return r.fail(format!(
                "cascade {level}: a split reads a feature beyond its {features} pixels"
            ));
        }
        cascades.push(Cascade {
            trees,
            anchors,
            deltas,
        });
    }
    if r.remaining() != 0 {
        return r.fail(format!(
            "{} bytes after the end of the model",
            r.remaining()
        ));
    }
    Ok(ShapePredictor {
        initial_shape,
        cascades,
    })
}

fn parse_tree(r: &mut DlibReader<'_>, dims: usize) -> Decoded<Tree> {
    // A split is two integers and a float: at least 8 bytes.
    let n_splits = r.len(8)?;
    let mut splits = Vec::with_capacity(n_splits);
    for _ in 0..n_splits {
        let idx1 = index(r)?;
        let idx2 = index(r)?;
        let thresh = r.f32()?;
        splits.push(Split { idx1, idx2, thresh });
    }
    let n_leaves = r.len(4)?;
    if n_leaves != n_splits + 1 {
        return r.fail(format!(
            "a tree with {n_splits} splits has {n_leaves} leaves; expected {}",
            n_splits + 1
        ));
    }
    let mut leaves = Vec::with_capacity(n_leaves.saturating_mul(dims).min(r.remaining()));
    for _ in 0..n_leaves {
        let leaf = r.column_f32()?;
        if leaf.len() != dims {
            return r.fail(format!(
                "a leaf has {} values; the shape has {dims}",
                leaf.len()
            ));
        }
        leaves.extend_from_slice(&leaf);
    }
    Ok(Tree { splits, leaves })
}

fn index(r: &mut DlibReader<'_>) -> Decoded<u32> {
    let start = r.offset();
    let v = r.u64()?;
    u32::try_from(v).map_err(|_| DecodeError {
        offset: start,
        reason: format!("index {v} out of range"),
    })
}

fn parse_anchors(r: &mut DlibReader<'_>, parts: usize) -> Decoded<Vec<Vec<u32>>> {
    let n = r.len(2)?;
    let mut sets = Vec::with_capacity(n);
    for _ in 0..n {
        let m = r.len(2)?;
        let mut set = Vec::with_capacity(m);
        for _ in 0..m {
            let a = index(r)?;
            if a as usize >= parts {
                return r.fail(format!("anchor landmark {a} of a {parts}-point shape"));
            }
            set.push(a);
        }
        sets.push(set);
    }
    Ok(sets)
}

fn parse_deltas(r: &mut DlibReader<'_>) -> Decoded<Vec<Vec<[f32; 2]>>> {
    let n = r.len(2)?;
    let mut sets = Vec::with_capacity(n);
    for _ in 0..n {
        let m = r.len(8)?;
        let mut set = Vec::with_capacity(m);
        for _ in 0..m {
            let x = r.f32()?;
            let y = r.f32()?;
            if !x.is_finite() || !y.is_finite() {
                return r.fail("a pixel offset is not finite");
            }
            set.push([x, y]);
        }
        sets.push(set);
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes integers and floats in dlib's encoding, for hand-made models.
    struct Writer(Vec<u8>);

    impl Writer {
        fn int(&mut self, v: i64) -> &mut Self {
            let mut mag = v.unsigned_abs();
            let mut bytes = Vec::new();
            loop {
                bytes.push((mag & 0xff) as u8);
                mag >>= 8;
                if mag == 0 {
                    break;
                }
            }
            self.0
                .push(bytes.len() as u8 | if v < 0 { 0x80 } else { 0 });
            self.0.extend(bytes);
            self
        }
        fn float(&mut self, v: f32) -> &mut Self {
            // Exact for the multiples of 1/1024 used below.
            self.int((v * 1024.0) as i64).int(-10)
        }
        fn column(&mut self, v: &[f32]) -> &mut Self {
            self.int(-(v.len() as i64)).int(-1);
            for &x in v {
                self.float(x);
            }
            self
        }
    }

    /// A two-point model with one cascade of one depth-1 tree that moves
    /// both points right by 0.25 when pixel 0 is brighter than pixel 1.
    fn tiny_model() -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.int(1).column(&[0.25, 0.5, 0.75, 0.5]);
        w.int(1).int(1); // one cascade, one tree
        w.int(1).int(0).int(1).float(10.0); // split: f0 - f1 > 10
        w.int(2)
            .column(&[0.25, 0.0, 0.25, 0.0])
            .column(&[0.0, 0.0, 0.0, 0.0]);
        w.int(1).int(2).int(0).int(1); // anchors: point 0, point 1
        w.int(1).int(2).float(0.0).float(0.0).float(0.0).float(0.0);
        w.0
    }

    #[test]
    fn a_hand_made_model_runs_as_specified() {
        let model = ShapePredictor::from_bytes(&tiny_model(), "tiny.dat").unwrap();
        assert_eq!(
            (model.num_parts(), model.num_cascades(), model.num_trees()),
            (2, 1, 1)
        );
        let bbox = FaceBox::new(0.0, 0.0, 100.0, 100.0, 1.0);
        // Point 0 at pixel (25, 50), point 1 at (75, 50).
        let mut img = RgbImage::new(101, 101);
        img.put_pixel(25, 50, image::Rgb([90, 90, 90]));
        let pts = ShapePredictor::predict(&model, &img, &bbox);
        assert_eq!(pts, vec![Point2::new(50.0, 50.0), Point2::new(100.0, 50.0)]);
        // Not bright enough: 30 - 0 > 10 holds, 9 - 0 does not.
        img.put_pixel(25, 50, image::Rgb([9, 9, 9]));
        let pts = model.predict_rounded(&img, &bbox);
        assert_eq!(pts, vec![[25, 50], [75, 50]]);
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        let model = tiny_model();
        for cut in 0..model.len() {
            let err = ShapePredictor::from_bytes(&model[..cut], "cut.dat").unwrap_err();
            assert!(err.to_string().contains("cut.dat"), "{err}");
        }
        let mut extra = model.clone();
        extra.push(0);
        assert!(ShapePredictor::from_bytes(&extra, "x.dat").is_err());
        let err = ShapePredictor::from_bytes(b"\x89PNG\r\n\x1a\n....", "image.png").unwrap_err();
        assert!(err.to_string().contains("image.png"), "{err}");
        // A split reading a feature that does not exist.
        let bad = {
            let mut w = Writer(Vec::new());
            w.int(1).column(&[0.25, 0.5, 0.75, 0.5]);
            w.int(1).int(1).int(1).int(0).int(7).float(10.0);
            w.int(2).column(&[0.0; 4]).column(&[0.0; 4]);
            w.int(1).int(2).int(0).int(1);
            w.int(1).int(2).float(0.0).float(0.0).float(0.0).float(0.0);
            w.0
        };
        let err = ShapePredictor::from_bytes(&bad, "bad.dat").unwrap_err();
        assert!(err.to_string().contains("beyond its 2 pixels"), "{err}");
    }

    #[test]
    fn similarity_recovers_a_rotation_and_scale() {
        let from = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let (c, s) = (2.0 * 0.3f32.cos(), 2.0 * 0.3f32.sin());
        let to: Vec<f32> = from
            .chunks_exact(2)
            .flat_map(|p| [c * p[0] - s * p[1] + 5.0, s * p[0] + c * p[1] - 1.0])
            .collect();
        let m = similarity(&from, &to);
        for (got, want) in m.iter().zip([c, -s, s, c]) {
            assert!((got - want).abs() < 1e-6, "{m:?}");
        }
    }
}
