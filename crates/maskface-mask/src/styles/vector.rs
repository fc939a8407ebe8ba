//! The 2-D vector the mask geometry is computed with.

use maskface_core::Point2;

/// A 2-D vector with the arithmetic the geometry needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct V(pub(super) f32, pub(super) f32);

impl V {
    pub(super) fn of(p: Point2) -> V {
        V(p.x, p.y)
    }
    pub(super) fn point(self) -> Point2 {
        Point2::new(self.0, self.1)
    }
    pub(super) fn dot(self, o: V) -> f32 {
        self.0 * o.0 + self.1 * o.1
    }
    pub(super) fn len(self) -> f32 {
        self.0.hypot(self.1)
    }
    pub(super) fn unit_or(self, fallback: V) -> V {
        let l = self.len();
        if l > 1e-6 && l.is_finite() {
            self * (1.0 / l)
        } else {
            fallback
        }
    }
    /// Perpendicular: +90 degrees in image coordinates (x right, y down), so
    /// the perpendicular of "right" is "down".
    pub(super) fn perp(self) -> V {
        V(-self.1, self.0)
    }
    pub(super) fn lerp(self, o: V, t: f32) -> V {
        self + (o - self) * t
    }
}

impl std::ops::Add for V {
    type Output = V;
    fn add(self, o: V) -> V {
        V(self.0 + o.0, self.1 + o.1)
    }
}

impl std::ops::Sub for V {
    type Output = V;
    fn sub(self, o: V) -> V {
        V(self.0 - o.0, self.1 - o.1)
    }
}

impl std::ops::Mul<f32> for V {
    type Output = V;
    fn mul(self, k: f32) -> V {
        V(self.0 * k, self.1 * k)
    }
}
