//! The mask's geometry on the face, from the 68 landmarks: the outline of
//! each style, the ear-loop paths and the skin probes.

use maskface_core::{Landmarks68, Point2};

use super::vector::V;
use super::{MaskFit, MaskStyle};

/// The outline of `style`'s mask worn properly on the face, in image pixels
/// (some 70 points, running from the left cheek down round the chin and
/// back over the nose); [`mask_outline_fitted`] with [`MaskFit::Proper`].
///
/// This is the `polygon` of [`RealisticMask`](super::RealisticMask)'s
/// output (for [`MaskStyle::Gas`] the rubber body's outline, without the
/// cartridges). Non-finite landmarks give non-finite points (the renderer
/// rejects them first).
pub fn mask_outline(style: MaskStyle, landmarks: &Landmarks68) -> Vec<Point2> {
    mask_outline_fitted(style, MaskFit::Proper, landmarks)
}

/// The outline of `style`'s mask on the face when it sits as `fit` says,
/// in image pixels: the `polygon` of a
/// [`RealisticMask`](super::RealisticMask) with that fit. Every edge follows
/// the landmarks: with [`MaskFit::NoseOut`] the top edge runs under the
/// nostrils, with [`MaskFit::Chin`] under the lower lip.
pub fn mask_outline_fitted(style: MaskStyle, fit: MaskFit, landmarks: &Landmarks68) -> Vec<Point2> {
    let face = Face::new(landmarks);
    face.outline_fitted(style, fit)
        .into_iter()
        .map(V::point)
        .collect()
}

/// How far the mask stands off the jaw line at the cheeks.
pub(super) const SIDE_PUSH: f32 = 0.035;
/// Extra push at the chin: masks hang below it.
pub(super) const CHIN_PUSH: f32 = 0.05;

/// The landmark-derived quantities every style is built from.
pub(super) struct Face {
    /// The 68 points.
    pub(super) p: Vec<V>,
    /// Unit vector along the eye line (subject's right eye to left eye, i.e.
    /// image left to right on an upright face).
    pub(super) ex: V,
    /// Unit vector perpendicular to the eye line, pointing down the face.
    pub(super) ey: V,
    /// Face height |p8 - p27|: the unit of every offset, because it barely
    /// changes with yaw (unlike the eye distance or the face width).
    pub(super) h: f32,
    /// Outward unit normals of the jaw points 0..=16.
    pub(super) jaw_normal: [V; 17],
}

impl Face {
    pub(super) fn new(landmarks: &Landmarks68) -> Face {
        let p: Vec<V> = landmarks.points().iter().map(|&q| V::of(q)).collect();
        let mean = |r: std::ops::RangeInclusive<usize>| {
            let n = (r.end() - r.start() + 1) as f32;
            r.fold(V::default(), |acc, i| acc + p[i]) * (1.0 / n)
        };
        let (le, re) = (mean(36..=41), mean(42..=47));
        let ex = (re - le).unit_or(V(1.0, 0.0));
        let ey = ex.perp();
        let h = (p[8] - p[27]).len().max((re - le).len()).max(1e-3);

        // Normals from the jaw's tangent, with one orientation for the whole
        // jaw (decided by the majority) so that a point where the jaw folds on
        // a turned head is not pushed inward.
        let centre = mean(27..=35);
        let mut jaw_normal = [V::default(); 17];
        let mut votes = 0.0;
        for (i, n) in jaw_normal.iter_mut().enumerate() {
            let (a, b) = (p[i.saturating_sub(1)], p[(i + 1).min(16)]);
            *n = (b - a).perp().unit_or(p[i] - centre).unit_or(ey);
            votes += n.dot(p[i] - centre);
        }
        if votes < 0.0 {
            jaw_normal.iter_mut().for_each(|n| *n = *n * -1.0);
        }
        Face {
            p,
            ex,
            ey,
            h,
            jaw_normal,
        }
    }

    pub(super) fn mean(&self, idx: &[usize]) -> V {
        idx.iter().fold(V::default(), |acc, &i| acc + self.p[i]) * (1.0 / idx.len() as f32)
    }

    /// Jaw point `i` pushed outward: `side` times the face height, plus the
    /// chin bonus that peaks at point 8.
    pub(super) fn jaw(&self, i: usize, side: f32, chin: f32) -> V {
        let d = (i as f32 - 8.0) / 3.0;
        let push = side + chin * (-d * d).exp();
        self.p[i] + self.jaw_normal[i] * (push * self.h)
    }

    /// The nose-line vector from the top of the bridge to the tip: "down the
    /// face" in a way that follows pitch better than `ey`.
    pub(super) fn nose_down(&self) -> V {
        self.p[30] - self.p[27]
    }

    /// Where the top edge crosses the nose bridge.
    pub(super) fn nose_bridge(&self, t: f32) -> V {
        self.p[28].lerp(self.p[29], t)
    }

    /// The top edge's point on the cheek under eye `left` (image left).
    pub(super) fn cheek(&self, left: bool, drop: f32) -> V {
        let lid = if left {
            self.mean(&[40, 41])
        } else {
            self.mean(&[46, 47])
        };
        lid + self.nose_down() * drop
    }

    /// The mask outline (image pixels) of `style`.
    pub(super) fn outline(&self, style: MaskStyle) -> Vec<V> {
        match style {
            MaskStyle::Surgical => {
                // Two open curves joined at sharp cheek corners, as a flat
                // pleated rectangle sits on the face.
                let mut bottom: Vec<V> = (1..=15)
                    .map(|i| self.jaw(i, SIDE_PUSH, CHIN_PUSH + 0.02))
                    .collect();
                // Corners a little below points 1 / 15: the top edge runs
                // down from the nose across the cheeks to them.
                bottom[0] = bottom[0].lerp(bottom[1], 0.35);
                bottom[14] = bottom[14].lerp(bottom[13], 0.35);
                let (cl, cr) = (bottom[0], bottom[14]);
                let top = [
                    cr,
                    self.cheek(false, 0.42),
                    self.nose_bridge(0.3) - self.ey * (0.01 * self.h),
                    self.cheek(true, 0.42),
                    cl,
                ];
                let mut out = catmull_rom(&bottom, 3, false);
                out.pop();
                let mut t = catmull_rom(&top, 7, false);
                t.pop();
                out.extend(t);
                out
            }
            MaskStyle::N95 | MaskStyle::Kn95 | MaskStyle::N95Cup => {
                // A closed smooth cup: narrower than the jaw at the top
                // corners, standing further off the chin.
                let ctrl = [
                    self.nose_bridge(0.1),
                    self.cheek(false, 0.4).lerp(self.jaw(15, 0.0, 0.0), 0.3),
                    self.jaw(14, 0.02, 0.0).lerp(self.p[35], 0.15),
                    self.jaw(12, 0.04, 0.0),
                    self.jaw(10, 0.05, CHIN_PUSH),
                    self.jaw(8, 0.05, CHIN_PUSH),
                    self.jaw(6, 0.05, CHIN_PUSH),
                    self.jaw(4, 0.04, 0.0),
                    self.jaw(2, 0.02, 0.0).lerp(self.p[31], 0.15),
                    self.cheek(true, 0.4).lerp(self.jaw(1, 0.0, 0.0), 0.3),
                ];
                catmull_rom(&ctrl, 7, true)
            }
            MaskStyle::Cloth => {
                // Like the surgical outline but closed smoothly, so the cheek
                // corners are rounded as on a sewn contoured mask.
                let ctrl = [
                    self.jaw(1, SIDE_PUSH, 0.0) - self.ey * (0.02 * self.h),
                    self.jaw(3, SIDE_PUSH, 0.0),
                    self.jaw(5, SIDE_PUSH, CHIN_PUSH),
                    self.jaw(8, SIDE_PUSH, CHIN_PUSH + 0.01),
                    self.jaw(11, SIDE_PUSH, CHIN_PUSH),
                    self.jaw(13, SIDE_PUSH, 0.0),
                    self.jaw(15, SIDE_PUSH, 0.0) - self.ey * (0.02 * self.h),
                    self.cheek(false, 0.4),
                    self.nose_bridge(0.2) - self.ey * (0.01 * self.h),
                    self.cheek(true, 0.4),
                ];
                catmull_rom(&ctrl, 7, true)
            }
            MaskStyle::Gas => self.gas_body(),
        }
    }

    /// The two ear-loop paths on each side (upper and lower), as quadratic
    /// Bézier control triples from the mask corner to the ear.
    pub(super) fn loop_paths(&self, style: MaskStyle, fit: MaskFit, outline: &[V]) -> [[V; 3]; 4] {
        let h = self.h;
        // The attachment points are the outline points nearest to where the
        // loops are sewn on: the upper corner and a lower point on each side.
        let nearest = |target: V| nearest_on(outline, target);
        let (upper_l, upper_r, lower_l, lower_r) = match style {
            _ if fit != MaskFit::Proper => self.slid_loop_targets(fit),
            s if s.is_respirator() => (
                self.jaw(2, 0.0, 0.0),
                self.jaw(14, 0.0, 0.0),
                self.p[5],
                self.p[11],
            ),
            _ => (
                self.jaw(1, 0.0, 0.0),
                self.jaw(15, 0.0, 0.0),
                self.p[4],
                self.p[12],
            ),
        };
        let mk = |from: V, jaw_i: usize, up: f32, out: f32| {
            let from = nearest(from);
            let n = self.jaw_normal[jaw_i];
            let to = self.p[jaw_i] + n * (out * h) - self.ey * (up * h);
            // A slight sag: loops are elastic, not rods.
            let ctrl = from.lerp(to, 0.5) + n * (0.02 * h) + self.ey * (0.015 * h);
            [from, ctrl, to]
        };
        [
            mk(upper_l, 0, 0.08, 0.07),
            mk(upper_r, 16, 0.08, 0.07),
            mk(lower_l, 2, -0.02, 0.09),
            mk(lower_r, 14, -0.02, 0.09),
        ]
    }

    /// Points on the skin just above the mask, for the brightness estimate:
    /// the top of the nose bridge and the cheeks between the eyes and the
    /// mask's top edge.
    pub(super) fn skin_probes(&self) -> [V; 5] {
        [
            self.p[27],
            self.p[27].lerp(self.p[28], 0.6),
            self.cheek(true, 0.18),
            self.cheek(false, 0.18),
            self.mean(&[21, 22, 27]),
        ]
    }
}

/// The outline point nearest to `target` (`target` itself when the outline
/// is empty): where a loop or strap is sewn on.
pub(super) fn nearest_on(outline: &[V], target: V) -> V {
    outline
        .iter()
        .copied()
        .min_by(|a, b| (*a - target).len().total_cmp(&(*b - target).len()))
        .unwrap_or(target)
}

/// A centripetal Catmull-Rom spline through `pts`, `per` samples per
/// segment. Centripetal parametrisation never loops or overshoots at unevenly
/// spaced control points (which jaw points on a turned head are). Open curves
/// end exactly at the last control point; closed ones do not repeat the
/// first.
pub(super) fn catmull_rom(pts: &[V], per: usize, closed: bool) -> Vec<V> {
    let n = pts.len();
    let mut out = Vec::with_capacity(n * per + 1);
    if n < 2 {
        out.extend_from_slice(pts);
        return out;
    }
    let get = |i: isize| -> V {
        if closed {
            pts[i.rem_euclid(n as isize) as usize]
        } else if i < 0 {
            pts[0] * 2.0 - pts[1]
        } else if i as usize >= n {
            pts[n - 1] * 2.0 - pts[n - 2]
        } else {
            pts[i as usize]
        }
    };
    let segments = if closed { n } else { n - 1 };
    for i in 0..segments as isize {
        let (p0, p1, p2, p3) = (get(i - 1), get(i), get(i + 1), get(i + 2));
        let knot = |a: V, b: V| (b - a).len().sqrt().max(1e-3);
        let t0 = 0.0;
        let t1 = t0 + knot(p0, p1);
        let t2 = t1 + knot(p1, p2);
        let t3 = t2 + knot(p2, p3);
        for k in 0..per {
            let t = t1 + (t2 - t1) * k as f32 / per as f32;
            let a1 = p0 * ((t1 - t) / (t1 - t0)) + p1 * ((t - t0) / (t1 - t0));
            let a2 = p1 * ((t2 - t) / (t2 - t1)) + p2 * ((t - t1) / (t2 - t1));
            let a3 = p2 * ((t3 - t) / (t3 - t2)) + p3 * ((t - t2) / (t3 - t2));
            let b1 = a1 * ((t2 - t) / (t2 - t0)) + a2 * ((t - t0) / (t2 - t0));
            let b2 = a2 * ((t3 - t) / (t3 - t1)) + a3 * ((t - t1) / (t3 - t1));
            out.push(b1 * ((t2 - t) / (t2 - t1)) + b2 * ((t - t1) / (t2 - t1)));
        }
    }
    if !closed {
        out.push(pts[n - 1]);
    }
    out
}
