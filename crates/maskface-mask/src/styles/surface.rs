//! Surface coordinates of the mask: where a pixel lies between its top and
//! bottom edge and between its sides, in the face-local frame.

use super::geometry::Face;
use super::vector::V;

/// Resolution of the outline profiles; with linear interpolation between
/// bins, 96 is smooth for faces up to several hundred pixels.
pub(super) const BINS: usize = 96;

/// The extent of a polygon across one axis: for each `a` (sampled in
/// [`BINS`] steps), the smallest and largest `b` on the outline.
pub(super) struct Profile {
    pub(super) start: f32,
    pub(super) step: f32,
    pub(super) lo: [f32; BINS],
    pub(super) hi: [f32; BINS],
}

impl Profile {
    pub(super) fn new(pts: &[(f32, f32)]) -> Profile {
        let (amin, amax) = pts
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), p| {
                (l.min(p.0), h.max(p.0))
            });
        let step = if amax > amin {
            (amax - amin) / (BINS - 1) as f32
        } else {
            1.0
        };
        let mut pr = Profile {
            start: if amin.is_finite() { amin } else { 0.0 },
            step,
            lo: [f32::INFINITY; BINS],
            hi: [f32::NEG_INFINITY; BINS],
        };
        fn put(k: usize, b: f32, pr: &mut Profile) {
            pr.lo[k] = pr.lo[k].min(b);
            pr.hi[k] = pr.hi[k].max(b);
        }
        for (i, &(a0, b0)) in pts.iter().enumerate() {
            let (a1, b1) = pts[(i + 1) % pts.len()];
            put(pr.bin(a0), b0, &mut pr);
            let (lo, hi) = (a0.min(a1), a0.max(a1));
            if hi - lo < 1e-6 {
                continue;
            }
            let k0 = ((lo - pr.start) / step).ceil().max(0.0) as usize;
            let k1 = (((hi - pr.start) / step).floor().max(0.0) as usize).min(BINS - 1);
            for k in k0..=k1 {
                let a = pr.start + k as f32 * step;
                put(k, b0 + (a - a0) / (a1 - a0) * (b1 - b0), &mut pr);
            }
        }
        // Bins no edge crossed (only possible through rounding) copy a neighbour.
        for k in 1..BINS {
            if !pr.lo[k].is_finite() {
                pr.lo[k] = pr.lo[k - 1];
                pr.hi[k] = pr.hi[k - 1];
            }
        }
        for k in (0..BINS - 1).rev() {
            if !pr.lo[k].is_finite() {
                pr.lo[k] = pr.lo[k + 1];
                pr.hi[k] = pr.hi[k + 1];
            }
        }
        pr
    }

    pub(super) fn bin(&self, a: f32) -> usize {
        (((a - self.start) / self.step).round().max(0.0) as usize).min(BINS - 1)
    }

    /// The interpolated (smallest, largest) `b` at `a`, clamped at the ends.
    pub(super) fn at(&self, a: f32) -> (f32, f32) {
        let t = ((a - self.start) / self.step).clamp(0.0, (BINS - 1) as f32);
        let k = (t as usize).min(BINS - 2);
        let f = t - k as f32;
        (
            self.lo[k] + (self.lo[k + 1] - self.lo[k]) * f,
            self.hi[k] + (self.hi[k + 1] - self.hi[k]) * f,
        )
    }
}

/// Surface coordinates of the mask in the face-local frame (pixels, `u`
/// along the eye line, `w` down the face).
pub(super) struct Surface {
    pub(super) origin: V,
    pub(super) ex: V,
    pub(super) ey: V,
    /// Top and bottom edge over `u`.
    pub(super) across: Profile,
    /// Left and right edge over `w`.
    pub(super) down: Profile,
    /// The nose line, as `u` at `v` = 0, at the nose tip's `v`, and at 1.
    pub(super) mid: [(f32, f32); 3],
}

/// Where a pixel lies on the mask.
#[derive(Debug, Clone, Copy)]
pub(super) struct At {
    /// Face-local coordinates in pixels.
    pub(super) u: f32,
    pub(super) w: f32,
    /// 0 at the top edge, 1 at the bottom edge.
    pub(super) v: f32,
    /// -1 at the left edge, 0 on the nose line, 1 at the right edge.
    pub(super) s: f32,
    /// The mask's height at this `u`, in pixels.
    pub(super) height: f32,
    /// `u` of the nose line at this `v`.
    pub(super) mid: f32,
    /// Half width of the mask on this pixel's side of the nose line.
    pub(super) half: f32,
}

impl Surface {
    pub(super) fn new(face: &Face, outline: &[V]) -> Surface {
        let origin = face.p[30];
        let (ex, ey) = (face.ex, face.ey);
        let local = |q: V| ((q - origin).dot(ex), (q - origin).dot(ey));
        let uw: Vec<(f32, f32)> = outline.iter().map(|&q| local(q)).collect();
        let wu: Vec<(f32, f32)> = uw.iter().map(|&(u, w)| (w, u)).collect();
        let across = Profile::new(&uw);
        let down = Profile::new(&wu);
        let v_of = |(u, w): (f32, f32)| {
            let (t, b) = across.at(u);
            ((w - t) / (b - t).max(1e-3)).clamp(0.0, 1.0)
        };
        let (top, tip, chin) = (local(face.p[28]), local(face.p[30]), local(face.p[8]));
        let mid = [
            (0.0, top.0),
            (v_of(tip).clamp(0.05, 0.95), tip.0),
            (1.0, chin.0),
        ];
        Surface {
            origin,
            ex,
            ey,
            across,
            down,
            mid,
        }
    }

    pub(super) fn at(&self, x: f32, y: f32) -> At {
        let d = V(x, y) - self.origin;
        let (u, w) = (d.dot(self.ex), d.dot(self.ey));
        let (top, bottom) = self.across.at(u);
        let height = (bottom - top).max(1e-3);
        let v = (w - top) / height;
        let [(v0, u0), (v1, u1), (v2, u2)] = self.mid;
        let mid = if v < v1 {
            u0 + (u1 - u0) * ((v - v0) / (v1 - v0)).clamp(0.0, 1.0)
        } else {
            u1 + (u2 - u1) * ((v - v1) / (v2 - v1)).clamp(0.0, 1.0)
        };
        let (left, right) = self.down.at(w);
        let half = if u < mid { mid - left } else { right - mid }.max(1.0);
        At {
            u,
            w,
            v,
            s: ((u - mid) / half).clamp(-1.0, 1.0),
            height,
            mid,
            half,
        }
    }
}
