use serde::{Deserialize, Serialize};

use crate::CoreError;

/// A point in image coordinates: pixels, origin at the top-left corner, `x`
/// to the right, `y` down.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point2 {
    /// Horizontal coordinate in pixels.
    pub x: f32,
    /// Vertical coordinate in pixels.
    pub y: f32,
}

impl Point2 {
    /// A point at `(x, y)`.
    pub const fn new(x: f32, y: f32) -> Self {
        Point2 { x, y }
    }

    /// Euclidean distance to `other`.
    pub fn distance(&self, other: &Point2) -> f32 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// An axis-aligned face box with the detector's confidence.
///
/// Corners are in pixels: `(x0, y0)` top-left, `(x1, y1)` bottom-right, with
/// `x0 <= x1` and `y0 <= y1`. The box may extend past the image border.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
    /// Detector confidence in `[0, 1]` (1 for boxes that were given, not detected).
    pub score: f32,
}

impl FaceBox {
    /// A box from its corners, ordered so that `x0 <= x1` and `y0 <= y1`.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32, score: f32) -> Self {
        FaceBox {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
            score,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }

    /// Area in square pixels.
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// The centre of the box.
    pub fn center(&self) -> Point2 {
        Point2::new((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }

    /// Intersection over union with `other`, in `[0, 1]`; 0 for disjoint or empty boxes.
    pub fn iou(&self, other: &FaceBox) -> f32 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// The five landmarks of MTCNN-style detectors, in this order: left eye,
/// right eye, nose tip, left mouth corner, right mouth corner ("left" as seen
/// in the image).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Landmarks5(pub [Point2; 5]);

impl Landmarks5 {
    /// Centre of the left eye.
    pub fn left_eye(&self) -> Point2 {
        self.0[0]
    }
    /// Centre of the right eye.
    pub fn right_eye(&self) -> Point2 {
        self.0[1]
    }
    /// Nose tip.
    pub fn nose(&self) -> Point2 {
        self.0[2]
    }
    /// Left mouth corner.
    pub fn mouth_left(&self) -> Point2 {
        self.0[3]
    }
    /// Right mouth corner.
    pub fn mouth_right(&self) -> Point2 {
        self.0[4]
    }
}

/// The 68 landmarks of the iBUG 300-W convention (dlib's
/// `shape_predictor_68_face_landmarks`), 0-based: jaw 0..=16, eyebrows
/// 17..=26, nose 27..=35, eyes 36..=47, mouth 48..=67.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Point2>", into = "Vec<Point2>")]
pub struct Landmarks68(Vec<Point2>);

impl Landmarks68 {
    /// Number of points.
    pub const LEN: usize = 68;

    /// Landmarks from exactly 68 points; any other count is
    /// [`CoreError::InvalidParameter`].
    pub fn new(points: Vec<Point2>) -> Result<Self, CoreError> {
        if points.len() != Self::LEN {
            return Err(CoreError::InvalidParameter {
                name: "landmarks",
                reason: format!("expected 68 points, got {}", points.len()),
            });
        }
        Ok(Landmarks68(points))
    }

    /// All 68 points.
    pub fn points(&self) -> &[Point2] {
        &self.0
    }

    /// Mean of the six points around the left eye (36..=41).
    pub fn left_eye(&self) -> Point2 {
        self.mean_of(36..42)
    }

    /// Mean of the six points around the right eye (42..=47).
    pub fn right_eye(&self) -> Point2 {
        self.mean_of(42..48)
    }

    /// The mean of a range of points; the origin for an empty range.
    pub fn mean_of(&self, range: std::ops::Range<usize>) -> Point2 {
        let pts = &self.0[range.start.min(68)..range.end.min(68)];
        if pts.is_empty() {
            return Point2::default();
        }
        let n = pts.len() as f32;
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p.x, sy + p.y));
        Point2::new(sx / n, sy / n)
    }
}

impl TryFrom<Vec<Point2>> for Landmarks68 {
    type Error = CoreError;
    fn try_from(points: Vec<Point2>) -> Result<Self, CoreError> {
        Landmarks68::new(points)
    }
}

impl From<Landmarks68> for Vec<Point2> {
    fn from(l: Landmarks68) -> Self {
        l.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iou_known_values() {
        let a = FaceBox::new(0.0, 0.0, 10.0, 10.0, 1.0);
        let b = FaceBox::new(5.0, 0.0, 15.0, 10.0, 1.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&FaceBox::new(20.0, 20.0, 30.0, 30.0, 1.0)), 0.0);
        assert_eq!(a.iou(&a), 1.0);
    }

    #[test]
    fn landmarks68_rejects_wrong_length_in_json() {
        let json = serde_json::to_string(&vec![Point2::new(1.0, 2.0); 67]).unwrap();
        assert!(serde_json::from_str::<Landmarks68>(&json).is_err());
        let ok = Landmarks68::new(vec![Point2::new(1.0, 2.0); 68]).unwrap();
        let back: Landmarks68 = serde_json::from_str(&serde_json::to_string(&ok).unwrap()).unwrap();
        assert_eq!(back, ok);
        assert_eq!(ok.left_eye(), Point2::new(1.0, 2.0));
    }

    proptest! {
        #[test]
        fn iou_is_symmetric_and_bounded(
            a in (0f32..100.0, 0f32..100.0, 0f32..100.0, 0f32..100.0),
            b in (0f32..100.0, 0f32..100.0, 0f32..100.0, 0f32..100.0),
        ) {
            let a = FaceBox::new(a.0, a.1, a.2, a.3, 1.0);
            let b = FaceBox::new(b.0, b.1, b.2, b.3, 1.0);
            let ab = a.iou(&b);
            prop_assert!((ab - b.iou(&a)).abs() < 1e-5);
            prop_assert!((0.0..=1.0 + 1e-6).contains(&ab));
        }
    }
}
