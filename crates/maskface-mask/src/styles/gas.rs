//! The elastomeric half-face respirator: its rubber body, the two filter
//! cartridges and the exhalation valve as short cylinders seen in
//! perspective, and the head straps.

use image::{GrayImage, Rgb, RgbImage};
use maskface_core::Point2;

use super::fabric::hash01;
use super::geometry::{catmull_rom, nearest_on, Face, CHIN_PUSH};
use super::painter::line;
use super::palette::to_f;
use super::vector::V;
use super::MaskFit;
use crate::polygon::{blend_with, polygon_coverage};

/// How far the cartridge axes turn out from straight ahead, in radians
/// (they point forward and sideways, away from the mouth).
const CARTRIDGE_SPLAY: f32 = 0.9;
/// The largest head turn the yaw estimate reports (sine).
const MAX_YAW_SIN: f32 = 0.85;

/// An ellipse: the image of a circle.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ellipse {
    pub(super) centre: V,
    /// Unit direction of the foreshortened axis.
    pub(super) axis: V,
    /// Half length along `axis`.
    pub(super) ra: f32,
    /// Half length across `axis` (the circle's radius).
    pub(super) rb: f32,
}

impl Ellipse {
    fn points(&self, n: usize) -> Vec<V> {
        let across = self.axis.perp();
        (0..n)
            .map(|k| {
                let t = k as f32 / n as f32 * std::f32::consts::TAU;
                self.centre + self.axis * (self.ra * t.cos()) + across * (self.rb * t.sin())
            })
            .collect()
    }

    /// Elliptic coordinates of `q`: 1 on the rim, 0 at the centre.
    fn local(&self, q: V) -> (f32, f32) {
        let d = q - self.centre;
        (
            d.dot(self.axis) / self.ra.max(1e-3),
            d.dot(self.axis.perp()) / self.rb.max(1e-3),
        )
    }
}

/// A short cylinder standing out of the face (a cartridge, the valve): its
/// base where it meets the mask, its front face, and how much the front
/// faces the camera (the cosine between its axis and the view, negative
/// when it faces away).
#[derive(Debug, Clone, Copy)]
pub(super) struct Can {
    pub(super) base: Ellipse,
    pub(super) front: Ellipse,
    pub(super) facing: f32,
}

impl Can {
    /// A cylinder of radius `r` and length `len` from `base`, its axis
    /// `dir` in the face's 3-D frame (x across, y down, z towards the
    /// camera on a frontal face), turned by the head's yaw.
    fn new(face: &Face, base: V, dir: (f32, f32, f32), yaw_sin: f32, r: f32, len: f32) -> Can {
        let yaw_cos = (1.0 - yaw_sin * yaw_sin).max(0.0).sqrt();
        let (x, y, z) = dir;
        let n = (x * x + y * y + z * z).sqrt().max(1e-6);
        let (x, y, z) = (x / n, y / n, z / n);
        // Turning about the vertical axis; positive yaw turns the nose
        // towards the image right.
        let (xr, zr) = (x * yaw_cos + z * yaw_sin, -x * yaw_sin + z * yaw_cos);
        let projected = face.ex * xr + face.ey * y;
        let axis = projected.unit_or(face.ex);
        let ra = r * zr.abs().max(0.08);
        let base = Ellipse {
            centre: base,
            axis,
            ra,
            rb: r,
        };
        let front = Ellipse {
            centre: base.centre + projected * len,
            ..base
        };
        Can {
            base,
            front,
            facing: zr,
        }
    }

    /// The cylinder's silhouette: the convex hull of both ends.
    pub(super) fn hull(&self) -> Vec<Point2> {
        let mut pts = self.base.points(48);
        pts.extend(self.front.points(48));
        convex_hull(pts).into_iter().map(V::point).collect()
    }
}

/// Everything of the gas respirator besides its body.
pub(super) struct GasParts {
    /// Left and right (image) filter cartridges.
    pub(super) cartridges: [Can; 2],
    /// The exhalation valve's cover in front of the mouth.
    pub(super) valve: Can,
    /// The head straps as quadratic Bézier control triples: upper left,
    /// upper right, lower left, lower right.
    pub(super) straps: [[V; 3]; 4],
}

impl Face {
    /// The head's yaw as a sine, from how far the nose tip sits from each
    /// side of the jaw: on a turned head the near side looks wider.
    pub(super) fn yaw_sin(&self) -> f32 {
        let left = (self.p[30] - self.mean(&[2, 3, 4])).dot(self.ex);
        let right = (self.mean(&[12, 13, 14]) - self.p[30]).dot(self.ex);
        let total = left + right;
        if total.abs() < 1e-3 || !total.is_finite() {
            return 0.0;
        }
        ((left - right) / total).clamp(-MAX_YAW_SIN, MAX_YAW_SIN)
    }

    /// The rubber body worn properly: a cup over the nose and mouth,
    /// narrower than a fabric mask and lower on the nose bridge.
    pub(super) fn gas_body(&self) -> Vec<V> {
        let p = &self.p;
        // On a turned head the nose tip reaches past the far cheek: keep the
        // upper corners outside it, so the body still covers the nose.
        let beyond_nose = |q: V, side: f32| {
            let u = (q - p[30]).dot(self.ex) * side;
            let min = 0.12 * self.h;
            if u < min {
                q + self.ex * ((min - u) * side)
            } else {
                q
            }
        };
        let ctrl = [
            self.nose_bridge(0.45),
            beyond_nose(self.cheek(false, 0.5).lerp(p[35], 0.1), 1.0),
            self.jaw(13, 0.0, 0.0).lerp(p[54], 0.25),
            self.jaw(11, 0.02, 0.0).lerp(p[54], 0.12),
            self.jaw(9, 0.045, CHIN_PUSH),
            self.jaw(8, 0.05, CHIN_PUSH),
            self.jaw(7, 0.045, CHIN_PUSH),
            self.jaw(5, 0.02, 0.0).lerp(p[48], 0.12),
            self.jaw(3, 0.0, 0.0).lerp(p[48], 0.25),
            beyond_nose(self.cheek(true, 0.5).lerp(p[31], 0.1), -1.0),
        ];
        catmull_rom(&ctrl, 7, true)
    }

    /// The cartridges, valve and straps for a body with `outline` worn as
    /// `fit`.
    pub(super) fn gas_parts(&self, fit: MaskFit, outline: &[V]) -> GasParts {
        let (h, p) = (self.h, &self.p);
        let yaw = self.yaw_sin();
        // The parts move with the body when it slides down, a little less
        // than its top edge, which also stretches.
        let shift = self.slid_shift(fit) * 0.75;
        let lift = self.nose_down() * 0.03;
        let (r, len) = (0.24 * h, 0.1 * h);
        let (sx, cz) = (CARTRIDGE_SPLAY.sin(), CARTRIDGE_SPLAY.cos());
        let anchor_l = p[4].lerp(p[48], 0.3) - lift + shift;
        let anchor_r = p[12].lerp(p[54], 0.3) - lift + shift;
        let cartridges = [
            Can::new(self, anchor_l, (-sx, 0.2, cz), yaw, r, len),
            Can::new(self, anchor_r, (sx, 0.2, cz), yaw, r, len),
        ];
        let mouth = self.mean(&[62, 66]);
        let valve_at = mouth.lerp(p[8], 0.38) + shift;
        let valve = Can::new(self, valve_at, (0.0, 0.25, 1.0), yaw, 0.12 * h, 0.06 * h);

        let nearest = |target: V| nearest_on(outline, target);
        let strap = |from: V, jaw_i: usize, up: f32, out: f32| {
            let from = nearest(from);
            let n = self.jaw_normal[jaw_i];
            let to = p[jaw_i] + n * (out * h) - self.ey * (up * h);
            // Straps are taut: only a slight curve over the cheek.
            let ctrl = from.lerp(to, 0.5) + n * (0.025 * h);
            [from, ctrl, to]
        };
        let upper_l = self.cheek(true, 0.5).lerp(p[1], 0.5) + shift;
        let upper_r = self.cheek(false, 0.5).lerp(p[15], 0.5) + shift;
        let lower_l = p[5].lerp(p[48], 0.2) + shift;
        let lower_r = p[11].lerp(p[54], 0.2) + shift;
        GasParts {
            cartridges,
            valve,
            straps: [
                // Up over the ears to the crown, and back to the nape.
                strap(upper_l, 0, 0.1, 0.02),
                strap(upper_r, 16, 0.1, 0.02),
                strap(lower_l, 3, -0.06, 0.06),
                strap(lower_r, 13, -0.06, 0.06),
            ],
        }
    }
}

impl GasParts {
    /// The silhouettes of the cartridges and the valve.
    pub(super) fn hulls(&self) -> [Vec<Point2>; 3] {
        [
            self.cartridges[0].hull(),
            self.cartridges[1].hull(),
            self.valve.hull(),
        ]
    }
}

/// How a cylinder is painted.
#[derive(Debug, Clone, Copy)]
pub(super) struct CanLook {
    pub(super) color: [u8; 3],
    /// Horizontal light direction, -1 (from the image left) to 1.
    pub(super) light: f32,
    pub(super) brightness: f32,
    /// Whether to cut the valve's slots into the front.
    pub(super) valve: bool,
    pub(super) grain_seed: u32,
}

/// Paints a cylinder onto `out` and returns its silhouette's coverage: the
/// side darker than the front, the front with a rim, a groove, a highlight
/// towards the light and, for the valve, slots.
pub(super) fn paint_can(out: &mut RgbImage, can: &Can, look: &CanLook) -> GrayImage {
    let CanLook {
        color,
        light,
        brightness,
        valve,
        grain_seed,
    } = *look;
    let (w, h) = out.dimensions();
    let hull = polygon_coverage(w, h, &can.hull());
    let c = to_f(color);
    let shaded = |k: f32| {
        let k = k.clamp(0.2, 1.4) * brightness;
        Rgb(c.map(|v| (v * k).clamp(0.0, 255.0) as u8))
    };
    // The side: darker towards its base, lit on the light's side.
    let span = (can.front.centre - can.base.centre).len().max(1e-3);
    let dir = (can.front.centre - can.base.centre).unit_or(can.base.axis);
    blend_with(out, &hull, |x, y| {
        let q = V(x as f32 + 0.5, y as f32 + 0.5);
        let t = ((q - can.base.centre).dot(dir) / span).clamp(0.0, 1.0);
        let across = (q - can.base.centre).dot(dir.perp()) / can.base.rb.max(1e-3);
        shaded(0.5 + 0.2 * t + 0.08 * light * across.clamp(-1.0, 1.0))
    });
    if can.facing > 0.05 {
        let front: Vec<Point2> = can.front.points(64).into_iter().map(V::point).collect();
        let cov = polygon_coverage(w, h, &front);
        let rim_px = (0.09 * can.front.rb).max(1.0);
        blend_with(out, &cov, |x, y| {
            let q = V(x as f32 + 0.5, y as f32 + 0.5);
            let (a, b) = can.front.local(q);
            let rho = (a * a + b * b).sqrt();
            // Distance to the rim in pixels, roughly (the across radius).
            let d_rim = (1.0 - rho) * can.front.rb;
            let mut k = 0.9 + 0.05 * light * b.clamp(-1.0, 1.0);
            // A raised rim and a groove inside it.
            k += 0.12 * line(d_rim - 0.5 * rim_px, rim_px);
            k -= 0.16 * line(d_rim - 1.6 * rim_px, 0.6 * rim_px);
            // A soft highlight up towards the light.
            let (ha, hb) = (a + 0.35, b + 0.3 * light.signum());
            k += 0.18 * (-(ha * ha + hb * hb) * 4.0).exp();
            if valve {
                // Horizontal slots over the lower half of the cover.
                let v = (q - can.front.centre).dot(valve_down(can)) / can.front.rb.max(1e-3);
                if v > -0.1 && rho < 0.7 {
                    let slot = ((v * 5.0).fract() - 0.5).abs();
                    k -= 0.35 * (slot < 0.18) as u8 as f32;
                }
            }
            let noise = (hash01(x, y, grain_seed) - 0.5) * 0.03;
            shaded(k + noise)
        });
    }
    hull
}

/// "Down the face" across the valve's front, for its slots.
fn valve_down(can: &Can) -> V {
    // The front's across-axis is perpendicular to its foreshortened axis;
    // of the two directions take the one pointing down the image.
    let d = can.front.axis.perp();
    if d.1 < 0.0 {
        d * -1.0
    } else {
        d
    }
}

/// The convex hull of `pts` (Andrew's monotone chain).
fn convex_hull(mut pts: Vec<V>) -> Vec<V> {
    pts.retain(|p| p.0.is_finite() && p.1.is_finite());
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: V, a: V, b: V| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let chain = |it: &mut dyn Iterator<Item = V>| {
        let mut c: Vec<V> = Vec::new();
        for p in it {
            while c.len() >= 2 && cross(c[c.len() - 2], c[c.len() - 1], p) <= 0.0 {
                c.pop();
            }
            c.push(p);
        }
        // The last point starts the other chain.
        c.pop();
        c
    };
    let mut hull = chain(&mut pts.iter().copied());
    hull.extend(chain(&mut pts.iter().rev().copied()));
    hull
}
