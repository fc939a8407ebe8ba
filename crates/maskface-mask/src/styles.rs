//! Realistic, landmark-shaped masks: surgical, N95 / KN95 and cloth.
//!
//! Every shape is computed from the 68 landmarks, never from a template, so
//! the rotation, scale and yaw of the face carry over to the mask:
//!
//! - the lower edge is a smooth curve through the jaw points, pushed outward
//!   along the jaw's normal (more at the chin) so the mask stands a little
//!   off the skin;
//! - the upper edge runs over the nose bridge (between points 28 and 29),
//!   under the eyes and down to the cheeks near points 1 and 15.
//!
//! Shading, pleats, seams and cloth patterns are computed in *surface
//! coordinates* of the mask: `v` runs from the top edge
//! (0) to the bottom edge (1) and `s` from the left edge (-1) through the
//! nose line (0) to the right edge (1), both measured in a face-local frame
//! whose `x` axis follows the eye line. Pleats and patterns therefore turn
//! with the head, and on a turned head the far side's shading is compressed
//! just as the face is.

use image::{Rgb, RgbImage};
use maskface_core::{Landmarks68, MaskRenderer, MaskedFace, Point2, RngCore};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::polygon::{blend_with, polygon_coverage};
use crate::MaskError;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// The kinds of mask [`RealisticMask`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskStyle {
    /// A pleated surgical mask: square corners at the cheeks, three
    /// horizontal folds, a nose wire and bound top and bottom hems.
    Surgical,
    /// A respirator with a rounded cup outline and radial shading; drawn
    /// either as a fold-flat KN95 (centre seam, welded border) or as a
    /// moulded N95 cup (raised rim), chosen per image.
    N95,
    /// A contoured cloth mask with a centre seam, stitched hems and a
    /// procedural fabric pattern ([`ClothPattern`]).
    Cloth,
}

impl MaskStyle {
    /// All three styles.
    pub const ALL: [MaskStyle; 3] = [MaskStyle::Surgical, MaskStyle::N95, MaskStyle::Cloth];

    /// The name used in descriptions (`surgical`, `n95`, `cloth`).
    pub fn name(self) -> &'static str {
        match self {
            MaskStyle::Surgical => "surgical",
            MaskStyle::N95 => "n95",
            MaskStyle::Cloth => "cloth",
        }
    }
}

/// The fabric patterns of [`MaskStyle::Cloth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClothPattern {
    /// One colour.
    Plain,
    /// Parallel stripes at a random angle.
    Stripes,
    /// Polka dots on a staggered grid.
    Dots,
    /// Gingham checks (two crossing sets of translucent stripes).
    Checks,
    /// Small five-petal flowers with a centre, randomly turned.
    Floral,
}

impl ClothPattern {
    /// All patterns.
    pub const ALL: [ClothPattern; 5] = [
        ClothPattern::Plain,
        ClothPattern::Stripes,
        ClothPattern::Dots,
        ClothPattern::Checks,
        ClothPattern::Floral,
    ];

    /// The name used in descriptions (`plain`, `stripes`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ClothPattern::Plain => "plain",
            ClothPattern::Stripes => "stripes",
            ClothPattern::Dots => "dots",
            ClothPattern::Checks => "checks",
            ClothPattern::Floral => "floral",
        }
    }
}

/// Realistic masks shaped by the 68 landmarks, with shading matched to the
/// photo's brightness.
///
/// Per image, a style is drawn uniformly from `styles`, a body colour from
/// `colors` (or from the style's own palette), and for cloth a pattern from
/// `patterns` with random pattern colour, scale and angle. Every choice comes
/// from the `rng` passed to [`MaskRenderer::render`], so a seed gives
/// byte-identical output.
///
/// The output's `mask` is the mask body only (the ear loops are painted on
/// the image but not included: they are thin strings, not occluders);
/// `polygon` is [`mask_outline`] for the drawn style; `description` is a
/// compact JSON object such as
/// `{"brightness":0.87,"color":[150,196,226],"ear_loops":true,"style":"surgical"}`
/// (`brightness` is the factor applied to the shading; cloth adds `pattern`,
/// `pattern_color`, `pattern_scale` (the period in pixels) and
/// `pattern_angle` (degrees in the face frame); N95 adds `variant`: `kn95`
/// or `cup`).
///
/// ```
/// use maskface_core::{Landmarks68, MaskRenderer, Point2, rng_for};
/// use maskface_mask::{MaskStyle, RealisticMask};
///
/// // A toy face: 68 points on a circle are enough to draw a mask.
/// let pts = (0..68)
///     .map(|i| {
///         let t = i as f32 / 68.0 * std::f32::consts::TAU;
///         Point2::new(50.0 + 30.0 * t.cos(), 50.0 + 30.0 * t.sin())
///     })
///     .collect();
/// let face = Landmarks68::new(pts).unwrap();
/// let image = image::RgbImage::from_pixel(100, 100, image::Rgb([128, 128, 128]));
/// let masked = RealisticMask::only(MaskStyle::Surgical)
///     .render(&image, &face, &mut rng_for(1, "doc"))
///     .unwrap();
/// assert_eq!(masked.image.dimensions(), (100, 100));
/// assert!(masked.description.contains("\"surgical\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealisticMask {
    /// The styles drawn from, uniformly (default: all three).
    pub styles: Vec<MaskStyle>,
    /// Body colours drawn from, uniformly, for every style; `None` (the
    /// default) uses each style's own palette with a slight random tint.
    pub colors: Option<Vec<[u8; 3]>>,
    /// The cloth patterns drawn from, uniformly (default: all).
    pub patterns: Vec<ClothPattern>,
    /// Whether to paint ear loops (default: true).
    pub ear_loops: bool,
    /// Whether to scale the mask's shading to the brightness of the skin
    /// above it (default: true); when false the factor is 1.
    pub match_brightness: bool,
}

impl Default for RealisticMask {
    fn default() -> Self {
        RealisticMask {
            styles: MaskStyle::ALL.to_vec(),
            colors: None,
            patterns: ClothPattern::ALL.to_vec(),
            ear_loops: true,
            match_brightness: true,
        }
    }
}

impl RealisticMask {
    /// The default renderer restricted to one style.
    pub fn only(style: MaskStyle) -> Self {
        RealisticMask {
            styles: vec![style],
            ..RealisticMask::default()
        }
    }
}

/// The outline of `style`'s mask on the face, in image pixels (70 points,
/// running from the left cheek down round the chin and back over the nose).
///
/// This is the `polygon` of [`RealisticMask`]'s output. Non-finite
/// landmarks give non-finite points (the renderer rejects them first).
pub fn mask_outline(style: MaskStyle, landmarks: &Landmarks68) -> Vec<Point2> {
    let face = Face::new(landmarks);
    face.outline(style).into_iter().map(V::point).collect()
}

// ---------------------------------------------------------------------------
// Tuning constants (fractions of the face height |p8 - p27|)
// ---------------------------------------------------------------------------

/// How far the mask stands off the jaw line at the cheeks.
const SIDE_PUSH: f32 = 0.035;
/// Extra push at the chin: masks hang below it.
const CHIN_PUSH: f32 = 0.05;
/// Luminance of the skin above the mask in a typical photo (the median over
/// the 195 LFW faces of the reference fixture); the brightness factor is
/// measured against it.
const NOMINAL_SKIN_LUMA: f32 = 140.0;
/// The brightness factor's range: a mask never turns black or blows out.
const BRIGHTNESS_RANGE: (f32, f32) = (0.55, 1.15);

// ---------------------------------------------------------------------------
// Vector helpers
// ---------------------------------------------------------------------------

/// A 2-D vector with the arithmetic the geometry needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct V(f32, f32);

impl V {
    fn of(p: Point2) -> V {
        V(p.x, p.y)
    }
    fn point(self) -> Point2 {
        Point2::new(self.0, self.1)
    }
    fn dot(self, o: V) -> f32 {
        self.0 * o.0 + self.1 * o.1
    }
    fn len(self) -> f32 {
        self.0.hypot(self.1)
    }
    fn unit_or(self, fallback: V) -> V {
        let l = self.len();
        if l > 1e-6 && l.is_finite() {
            self * (1.0 / l)
        } else {
            fallback
        }
    }
    /// Perpendicular: +90 degrees in image coordinates (x right, y down), so
    /// the perpendicular of "right" is "down".
    fn perp(self) -> V {
        V(-self.1, self.0)
    }
    fn lerp(self, o: V, t: f32) -> V {
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

// ---------------------------------------------------------------------------
// Face geometry
// ---------------------------------------------------------------------------

/// The landmark-derived quantities every style is built from.
struct Face {
    /// The 68 points.
    p: Vec<V>,
    /// Unit vector along the eye line (subject's right eye to left eye, i.e.
    /// image left to right on an upright face).
    ex: V,
    /// Unit vector perpendicular to the eye line, pointing down the face.
    ey: V,
    /// Face height |p8 - p27|: the unit of every offset, because it barely
    /// changes with yaw (unlike the eye distance or the face width).
    h: f32,
    /// Outward unit normals of the jaw points 0..=16.
    jaw_normal: [V; 17],
}

impl Face {
    fn new(landmarks: &Landmarks68) -> Face {
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

    fn mean(&self, idx: &[usize]) -> V {
        idx.iter().fold(V::default(), |acc, &i| acc + self.p[i]) * (1.0 / idx.len() as f32)
    }

    /// Jaw point `i` pushed outward: `side` times the face height, plus the
    /// chin bonus that peaks at point 8.
    fn jaw(&self, i: usize, side: f32, chin: f32) -> V {
        let d = (i as f32 - 8.0) / 3.0;
        let push = side + chin * (-d * d).exp();
        self.p[i] + self.jaw_normal[i] * (push * self.h)
    }

    /// The nose-line vector from the top of the bridge to the tip: "down the
    /// face" in a way that follows pitch better than `ey`.
    fn nose_down(&self) -> V {
        self.p[30] - self.p[27]
    }

    /// Where the top edge crosses the nose bridge.
    fn nose_bridge(&self, t: f32) -> V {
        self.p[28].lerp(self.p[29], t)
    }

    /// The top edge's point on the cheek under eye `left` (image left).
    fn cheek(&self, left: bool, drop: f32) -> V {
        let lid = if left {
            self.mean(&[40, 41])
        } else {
            self.mean(&[46, 47])
        };
        lid + self.nose_down() * drop
    }

    /// The mask outline (image pixels) of `style`.
    fn outline(&self, style: MaskStyle) -> Vec<V> {
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
            MaskStyle::N95 => {
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
        }
    }

    /// The two ear-loop paths on each side (upper and lower), as quadratic
    /// Bézier control triples from the mask corner to the ear.
    fn loop_paths(&self, style: MaskStyle, outline: &[V]) -> [[V; 3]; 4] {
        let h = self.h;
        // The attachment points are the outline points nearest to where the
        // loops are sewn on: the upper corner and a lower point on each side.
        let nearest = |target: V| {
            outline
                .iter()
                .copied()
                .min_by(|a, b| (*a - target).len().total_cmp(&(*b - target).len()))
                .unwrap_or(target)
        };
        let (upper_l, upper_r, lower_l, lower_r) = match style {
            MaskStyle::N95 => (
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
    fn skin_probes(&self) -> [V; 5] {
        [
            self.p[27],
            self.p[27].lerp(self.p[28], 0.6),
            self.cheek(true, 0.18),
            self.cheek(false, 0.18),
            self.mean(&[21, 22, 27]),
        ]
    }
}

/// A centripetal Catmull-Rom spline through `pts`, `per` samples per
/// segment. Centripetal parametrisation never loops or overshoots at unevenly
/// spaced control points (which jaw points on a turned head are). Open curves
/// end exactly at the last control point; closed ones do not repeat the
/// first.
fn catmull_rom(pts: &[V], per: usize, closed: bool) -> Vec<V> {
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

// ---------------------------------------------------------------------------
// Surface coordinates
// ---------------------------------------------------------------------------

/// Resolution of the outline profiles; with linear interpolation between
/// bins, 96 is smooth for faces up to several hundred pixels.
const BINS: usize = 96;

/// The extent of a polygon across one axis: for each `a` (sampled in
/// [`BINS`] steps), the smallest and largest `b` on the outline.
struct Profile {
    start: f32,
    step: f32,
    lo: [f32; BINS],
    hi: [f32; BINS],
}

impl Profile {
    fn new(pts: &[(f32, f32)]) -> Profile {
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

    fn bin(&self, a: f32) -> usize {
        (((a - self.start) / self.step).round().max(0.0) as usize).min(BINS - 1)
    }

    /// The interpolated (smallest, largest) `b` at `a`, clamped at the ends.
    fn at(&self, a: f32) -> (f32, f32) {
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
struct Surface {
    origin: V,
    ex: V,
    ey: V,
    /// Top and bottom edge over `u`.
    across: Profile,
    /// Left and right edge over `w`.
    down: Profile,
    /// The nose line, as `u` at `v` = 0, at the nose tip's `v`, and at 1.
    mid: [(f32, f32); 3],
}

/// Where a pixel lies on the mask.
#[derive(Debug, Clone, Copy)]
struct At {
    /// Face-local coordinates in pixels.
    u: f32,
    w: f32,
    /// 0 at the top edge, 1 at the bottom edge.
    v: f32,
    /// -1 at the left edge, 0 on the nose line, 1 at the right edge.
    s: f32,
    /// The mask's height at this `u`, in pixels.
    height: f32,
    /// `u` of the nose line at this `v`.
    mid: f32,
    /// Half width of the mask on this pixel's side of the nose line.
    half: f32,
}

impl Surface {
    fn new(face: &Face, outline: &[V]) -> Surface {
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

    fn at(&self, x: f32, y: f32) -> At {
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

// ---------------------------------------------------------------------------
// Appearance: everything drawn from the rng
// ---------------------------------------------------------------------------

const SURGICAL_COLORS: [[u8; 3]; 6] = [
    [122, 172, 214], // classic surgical blue
    [158, 202, 230], // light blue
    [236, 238, 240], // white
    [168, 216, 198], // mint
    [238, 192, 206], // light pink
    [40, 40, 44],    // black
];
const N95_COLORS: [[u8; 3]; 4] = [
    [240, 240, 236], // white
    [228, 224, 212], // off-white
    [196, 198, 201], // light grey
    [150, 153, 158], // grey
];
const CLOTH_COLORS: [[u8; 3]; 12] = [
    [38, 48, 88],    // navy
    [34, 34, 36],    // black
    [72, 74, 80],    // charcoal
    [118, 34, 50],   // burgundy
    [92, 102, 60],   // olive
    [72, 98, 138],   // denim
    [205, 188, 160], // beige
    [212, 150, 166], // dusty pink
    [38, 118, 122],  // teal
    [198, 160, 64],  // mustard
    [176, 42, 48],   // red
    [232, 230, 224], // white
];
const PATTERN_COLORS: [[u8; 3]; 9] = [
    [242, 240, 234], // white
    [236, 222, 188], // cream
    [30, 30, 32],    // black
    [192, 48, 54],   // red
    [232, 200, 72],  // yellow
    [140, 190, 230], // sky
    [232, 160, 182], // pink
    [70, 140, 92],   // green
    [40, 56, 110],   // navy
];

/// The N95 variants (one outline, different detailing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Respirator {
    /// Fold-flat: vertical centre seam, welded border.
    Kn95,
    /// Moulded cup: raised rim.
    Cup,
}

/// Cloth pattern parameters.
#[derive(Debug, Clone, Copy)]
struct Fabric {
    pattern: ClothPattern,
    color: [f32; 3],
    /// A third colour (flower centres).
    accent: [f32; 3],
    /// Pattern period in pixels.
    period: f32,
    /// Direction of the pattern's axes (cos, sin).
    dir: (f32, f32),
    angle_deg: f32,
    /// Fraction of a period covered by a stripe / dot size.
    duty: f32,
}

/// Everything drawn for one image.
struct Look {
    style: MaskStyle,
    color: [u8; 3],
    respirator: Respirator,
    fabric: Option<Fabric>,
    /// Horizontal light direction, -1 (from the image left) to 1.
    light: f32,
    /// Seed of the per-pixel fibre noise.
    grain: u32,
    /// Cloth folds: cycles over the mask's height and phase.
    wrinkle: (f32, f32),
}

fn luma(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

fn to_f(c: [u8; 3]) -> [f32; 3] {
    [f32::from(c[0]), f32::from(c[1]), f32::from(c[2])]
}

impl RealisticMask {
    fn validate(&self, landmarks: &Landmarks68) -> Result<(), MaskError> {
        if self.styles.is_empty() {
            return Err(MaskError::InvalidParameter {
                name: "styles",
                reason: "the realistic mask needs at least one style".into(),
            });
        }
        if matches!(&self.colors, Some(c) if c.is_empty()) {
            return Err(MaskError::InvalidParameter {
                name: "colors",
                reason: "an explicit colour list must not be empty (use None for the palettes)"
                    .into(),
            });
        }
        if self.patterns.is_empty() && self.styles.contains(&MaskStyle::Cloth) {
            return Err(MaskError::InvalidParameter {
                name: "patterns",
                reason: "cloth masks need at least one pattern".into(),
            });
        }
        if let Some(i) = landmarks
            .points()
            .iter()
            .position(|p| !p.x.is_finite() || !p.y.is_finite())
        {
            return Err(MaskError::InvalidParameter {
                name: "landmarks",
                reason: format!("point {i} is not finite"),
            });
        }
        Ok(())
    }

    /// Draws the look; the order of draws is fixed so that a seed always
    /// gives the same mask.
    fn draw_look(&self, rng: &mut dyn RngCore, face_h: f32) -> Look {
        let style = self.styles[rng.random_range(0..self.styles.len())];
        let color = match &self.colors {
            Some(list) => list[rng.random_range(0..list.len())],
            None => {
                let palette: &[[u8; 3]] = match style {
                    MaskStyle::Surgical => &SURGICAL_COLORS,
                    MaskStyle::N95 => &N95_COLORS,
                    MaskStyle::Cloth => &CLOTH_COLORS,
                };
                let base = palette[rng.random_range(0..palette.len())];
                // A slight tint so that two masks of one palette colour differ
                // as two real products do.
                let mut c = base;
                for ch in &mut c {
                    *ch = (i32::from(*ch) + rng.random_range(-6..=6)).clamp(0, 255) as u8;
                }
                c
            }
        };
        let respirator = if rng.random::<bool>() {
            Respirator::Kn95
        } else {
            Respirator::Cup
        };
        let fabric = if style == MaskStyle::Cloth {
            let pattern = self.patterns[rng.random_range(0..self.patterns.len())];
            // The pattern colour must stand out from the body: try the palette
            // from a random start and keep the first with enough contrast.
            let start = rng.random_range(0..PATTERN_COLORS.len());
            let body = to_f(color);
            let pc = (0..PATTERN_COLORS.len())
                .map(|k| to_f(PATTERN_COLORS[(start + k) % PATTERN_COLORS.len()]))
                .find(|c| (luma(*c) - luma(body)).abs() > 55.0)
                .unwrap_or_else(|| {
                    if luma(body) > 128.0 {
                        [30.0, 30.0, 32.0]
                    } else {
                        [242.0, 240.0, 234.0]
                    }
                });
            let accent = to_f(PATTERN_COLORS[rng.random_range(0..PATTERN_COLORS.len())]);
            let rel = match pattern {
                ClothPattern::Stripes => rng.random_range(0.05..0.12),
                ClothPattern::Dots => rng.random_range(0.06..0.12),
                ClothPattern::Checks => rng.random_range(0.07..0.15),
                ClothPattern::Floral | ClothPattern::Plain => rng.random_range(0.12..0.2),
            };
            let angle_deg: f32 = match pattern {
                ClothPattern::Stripes => {
                    // Mostly horizontal, vertical or diagonal, as fabric is cut.
                    let base = [0.0, 90.0, 45.0, -45.0][rng.random_range(0..4)];
                    base + rng.random_range(-8.0..8.0)
                }
                ClothPattern::Checks | ClothPattern::Dots => rng.random_range(-10.0..10.0),
                _ => rng.random_range(-180.0..180.0),
            };
            let duty = rng.random_range(0.3..0.55);
            let a = angle_deg.to_radians();
            Some(Fabric {
                pattern,
                color: pc,
                accent,
                period: (rel * face_h).max(3.0),
                dir: (a.cos(), a.sin()),
                angle_deg,
                duty,
            })
        } else {
            None
        };
        Look {
            style,
            color,
            respirator,
            fabric,
            light: rng.random_range(-0.6..0.6),
            grain: rng.random::<u32>(),
            wrinkle: (rng.random_range(1.5..3.0), rng.random::<f32>()),
        }
    }
}

/// A hash of a pixel to [0, 1): the fibre grain of fabric.
fn hash01(x: u32, y: u32, seed: u32) -> f32 {
    let mut h = x
        .wrapping_mul(0x9E37_79B1)
        .wrapping_add(y.wrapping_mul(0x85EB_CA77))
        ^ seed;
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^= h >> 15;
    (h >> 8) as f32 / (1u32 << 24) as f32
}

/// Coverage of a signed distance (pixels, positive inside) with a one-pixel
/// anti-aliased edge.
fn aa(signed_px: f32) -> f32 {
    (signed_px + 0.5).clamp(0.0, 1.0)
}

/// A soft line profile: 1 on the line, falling to 0 at `width` pixels.
fn line(d_px: f32, width: f32) -> f32 {
    let t = (d_px / width).abs();
    if t >= 1.0 {
        0.0
    } else {
        let q = 1.0 - t * t;
        q * q
    }
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Per-pixel shading of the mask body.
struct Painter<'a> {
    look: &'a Look,
    surface: Surface,
    /// Face height in pixels.
    h: f32,
    /// Width of fine lines (seams, fold shadows) in pixels.
    lw: f32,
    brightness: f32,
}

impl Painter<'_> {
    fn paint(&self, x: u32, y: u32) -> Rgb<u8> {
        let at = self.surface.at(x as f32 + 0.5, y as f32 + 0.5);
        let look = self.look;
        let mut color = to_f(look.color);

        // The mask wraps around the face: it darkens towards the sides, more
        // on the side away from the light, and turns under the chin.
        let s = at.s;
        let mut shade = (1.0 - 0.24 * s * s) * (1.0 + 0.1 * look.light * s);
        let under = ((at.v - 0.78) / 0.22).clamp(0.0, 1.0);
        shade -= 0.14 * under * under;

        // Distances to the top and bottom edge in pixels, for hems and wires.
        let d_top = at.v * at.height;
        let d_bot = (1.0 - at.v) * at.height;
        let (h, lw) = (self.h, self.lw);
        // Either side of the nose the fabric tents from the bridge to the
        // cheeks, leaving a soft valley, deeper on the side away from the light.
        let v_tip = self.surface.mid[1].0;
        if at.v < v_tip {
            let side = (at.u - at.mid).signum();
            let depth = 0.035 + 0.035 * (-look.light * side).max(0.0);
            let valley = line((at.u - at.mid).abs() - 0.17 * self.h, 0.1 * self.h);
            shade -= depth * valley * (1.0 - at.v / v_tip);
        }
        let mut grain = 0.015;

        match look.style {
            MaskStyle::Surgical => {
                // Three folds fanning out from the corners: each casts a
                // thin shadow under its edge, which itself catches the light.
                // Near the corners the mask is gathered too tightly to show them.
                let fade = (at.height / (0.35 * h)).clamp(0.0, 1.0);
                // Both terms are continuous in `d` (no hard step at the fold),
                // which keeps the fold lines free of staircase aliasing.
                let ramp = 0.08 * at.height;
                for vi in [0.36, 0.56, 0.76] {
                    let d = (at.v - vi) * at.height;
                    let lit = ((1.0 + d / ramp) * (-d).min(1.0)).max(0.0);
                    let shadow = line(d - lw, 2.0 * lw);
                    shade += fade * (0.1 * lit - 0.2 * shadow);
                }
                // Nose wire: a ridge under the top hem over the middle third.
                let span = ((0.62 - s.abs()) / 0.12).clamp(0.0, 1.0);
                let ridge = d_top - 0.045 * h;
                shade += span
                    * (0.1 * line(ridge + 0.4 * lw, 1.4 * lw)
                        - 0.08 * line(ridge - 1.2 * lw, 1.4 * lw));
                // Bound hems at the top and bottom with a stitch line.
                let hem = 0.03 * h;
                if d_top < hem || d_bot < hem {
                    shade -= 0.03;
                }
                shade -= 0.08 * (line(d_top - hem, lw) + line(d_bot - hem, lw));
            }
            MaskStyle::N95 => {
                // The cup bulges most in front of the mouth.
                let r2 = s * s + ((at.v - 0.5) / 0.62).powi(2);
                shade += 0.08 - 0.16 * r2;
                let inset = d_top.min(d_bot);
                match look.respirator {
                    Respirator::Kn95 => {
                        let d_mid = at.u - at.mid;
                        // The two halves face slightly different ways.
                        shade +=
                            0.035 * look.light.signum() * s.signum() * (s.abs() * 4.0).min(1.0);
                        shade +=
                            -0.2 * line(d_mid, 1.2 * lw) + 0.06 * line(d_mid - 2.0 * lw, 1.5 * lw);
                        // The ultrasonic weld just inside the border.
                        shade -= 0.1 * line(inset - 0.045 * h, 0.8 * lw);
                        shade -= 0.1 * line(at.half * (1.0 - s.abs()) - 0.045 * h, 0.8 * lw);
                        grain = 0.02;
                    }
                    Respirator::Cup => {
                        // A moulded rim: a lit ridge with a groove inside it.
                        shade += 0.06 * line(inset - 0.02 * h, 2.0 * lw);
                        shade -= 0.08 * line(inset - 0.05 * h, 1.5 * lw);
                        grain = 0.028;
                    }
                }
            }
            MaskStyle::Cloth => {
                if let Some(f) = &look.fabric {
                    // Fabric coordinates: arc length over the curved face, so
                    // the pattern compresses towards the sides.
                    let arc = s.clamp(-0.96, 0.96).asin() * at.half * 0.85;
                    let (fu, fw) = (at.mid + arc, at.w);
                    let t = fabric_coverage(f, fu, fw, x, y, look.grain);
                    if t.0 > 0.0 {
                        color = mix(color, f.color, t.0);
                    }
                    if t.1 > 0.0 {
                        color = mix(color, f.accent, t.1);
                    }
                }
                // A centre seam and stitched (dashed) hems.
                let d_mid = at.u - at.mid;
                shade += -0.16 * line(d_mid, 1.2 * lw) + 0.05 * line(d_mid + 2.0 * lw, 1.5 * lw);
                let hem = 0.035 * h;
                let dash = ((at.u / (0.035 * h)).fract().abs() < 0.6) as u8 as f32;
                shade -= 0.1 * dash * (line(d_top - hem, 0.8 * lw) + line(d_bot - hem, 0.8 * lw));
                // Soft folds where the fabric bunches under the loops' pull.
                let (freq, phase) = look.wrinkle;
                shade +=
                    0.035 * (std::f32::consts::TAU * (at.v * freq + phase) + 1.5 * s * s).sin();
                grain = 0.03;
            }
        }
        let noise = (hash01(x, y, look.grain) - 0.5) * 2.0 * grain;
        let k = (shade + noise).clamp(0.3, 1.3) * self.brightness;
        Rgb([
            (color[0] * k).clamp(0.0, 255.0) as u8,
            (color[1] * k).clamp(0.0, 255.0) as u8,
            (color[2] * k).clamp(0.0, 255.0) as u8,
        ])
    }
}

/// How much of the pattern colour and of the accent colour covers a pixel at
/// fabric coordinates `(fu, fw)`.
fn fabric_coverage(f: &Fabric, fu: f32, fw: f32, x: u32, y: u32, seed: u32) -> (f32, f32) {
    let (c, s) = f.dir;
    let (a, b) = (fu * c + fw * s, -fu * s + fw * c);
    let p = f.period;
    // Signed distance (px) to a band [0, width) repeating every p.
    let band = |t: f32, width: f32| {
        let m = t.rem_euclid(p);
        if m < width {
            m.min(width - m)
        } else {
            -(m - width).min(p - m)
        }
    };
    match f.pattern {
        ClothPattern::Plain => {
            // A faint weave instead of a print.
            let weave = ((x + y) % 2) as f32 * 0.5 + 0.25 * hash01(x, y, seed ^ 0x55);
            (0.06 * weave, 0.0)
        }
        ClothPattern::Stripes => (aa(band(b, f.duty * p)), 0.0),
        ClothPattern::Checks => {
            let (ha, va) = (aa(band(b, 0.5 * p)), aa(band(a, 0.5 * p)));
            (0.45 * (ha + va), 0.0)
        }
        ClothPattern::Dots => {
            // Staggered rows; a dot never reaches past its own cell.
            let row_h = p * 0.866;
            let row = (b / row_h).floor();
            let shift = if (row as i64).rem_euclid(2) == 1 {
                0.5 * p
            } else {
                0.0
            };
            let cu = ((a - shift) / p).floor() * p + shift + 0.5 * p;
            let cw = row * row_h + 0.5 * row_h;
            let r = (0.18 + 0.22 * f.duty) * p;
            (aa(r - (a - cu).hypot(b - cw)), 0.0)
        }
        ClothPattern::Floral => {
            let (iu, iw) = ((a / p).floor(), (b / p).floor());
            // Each cell's flower gets its own offset and turn.
            let hs = hash01(iu as i32 as u32, iw as i32 as u32, seed);
            let hs2 = hash01(iw as i32 as u32, iu as i32 as u32, seed ^ 0xA5A5);
            let cu = (iu + 0.5 + (hs - 0.5) * 0.3) * p;
            let cw = (iw + 0.5 + (hs2 - 0.5) * 0.3) * p;
            let (du, dw) = (a - cu, b - cw);
            let r = du.hypot(dw);
            let rp = 0.34 * p;
            if r > rp + 1.0 {
                return (0.0, 0.0);
            }
            let centre = aa(0.3 * rp - r);
            let theta = dw.atan2(du) + hs * std::f32::consts::TAU;
            let petal = rp * (0.45 + 0.55 * (2.5 * theta).cos().abs());
            (aa(petal - r) * (1.0 - centre), centre)
        }
    }
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// Mean luminance of the skin around `probes`, or `None` when every probe
/// is outside the image.
fn skin_luma(image: &RgbImage, probes: &[V], radius: f32) -> Option<f32> {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let r = radius.round().clamp(1.0, 12.0) as i64;
    let (mut sum, mut n) = (0.0f32, 0u32);
    for q in probes {
        // Clamped so that far-away probes cannot overflow the window bounds.
        let (cx, cy) = (
            q.0.floor().clamp(-1e6, 1e6) as i64,
            q.1.floor().clamp(-1e6, 1e6) as i64,
        );
        for y in (cy - r).max(0)..=(cy + r).min(h - 1) {
            for x in (cx - r).max(0)..=(cx + r).min(w - 1) {
                let p = image.get_pixel(x as u32, y as u32).0;
                sum += luma(to_f(p));
                n += 1;
            }
        }
    }
    (n > 0).then(|| sum / n as f32)
}

/// A stroke of width `width` along a quadratic Bézier, as one polygon.
fn stroke(ctrl: &[V; 3], width: f32) -> Vec<Point2> {
    const STEPS: usize = 14;
    let at = |t: f32| {
        let m = 1.0 - t;
        ctrl[0] * (m * m) + ctrl[1] * (2.0 * m * t) + ctrl[2] * (t * t)
    };
    let mut left = Vec::with_capacity(STEPS + 1);
    let mut right = Vec::with_capacity(STEPS + 1);
    for k in 0..=STEPS {
        let t = k as f32 / STEPS as f32;
        let tangent = (at((t + 0.01).min(1.0)) - at((t - 0.01).max(0.0))).unit_or(V(1.0, 0.0));
        let n = tangent.perp() * (0.5 * width);
        let c = at(t);
        left.push((c + n).point());
        right.push((c - n).point());
    }
    left.extend(right.into_iter().rev());
    left
}

impl MaskRenderer for RealisticMask {
    type Error = MaskError;

    fn describe(&self) -> serde_json::Value {
        crate::MaskSpec::Realistic(self.clone()).to_json()
    }

    fn render(
        &self,
        image: &RgbImage,
        landmarks: &Landmarks68,
        rng: &mut dyn RngCore,
    ) -> Result<MaskedFace, MaskError> {
        self.validate(landmarks)?;
        let face = Face::new(landmarks);
        let look = self.draw_look(rng, face.h);
        let outline = face.outline(look.style);
        let polygon: Vec<Point2> = outline.iter().map(|q| q.point()).collect();
        let (w, h) = image.dimensions();
        let mask = polygon_coverage(w, h, &polygon);

        let brightness = if self.match_brightness {
            skin_luma(image, &face.skin_probes(), 0.05 * face.h)
                // Partial adaptation: the skin's own colour explains part of
                // its luminance, the exposure the rest.
                .map(|l| (l / NOMINAL_SKIN_LUMA).max(1e-3).powf(0.8))
                .unwrap_or(1.0)
                .clamp(BRIGHTNESS_RANGE.0, BRIGHTNESS_RANGE.1)
        } else {
            1.0
        };
        let lw = (0.012 * face.h).clamp(0.7, 2.5);

        let mut out = image.clone();
        // A soft contact shadow below the mask (light from above): two
        // offset copies of the outline approximate a blur.
        for (shift, strength) in [(0.02, 0.22), (0.045, 0.14)] {
            let off = face.ey * (shift * face.h);
            let shadow: Vec<Point2> = outline.iter().map(|&q| (q + off).point()).collect();
            let cov = polygon_coverage(w, h, &shadow);
            blend_with(&mut out, &cov, |x, y| {
                let p = image.get_pixel(x, y).0;
                let k = 1.0 - strength;
                Rgb([
                    (f32::from(p[0]) * k) as u8,
                    (f32::from(p[1]) * k) as u8,
                    (f32::from(p[2]) * k) as u8,
                ])
            });
        }
        // Loops go under the body, so they seem to be sewn on behind the edge.
        if self.ear_loops {
            let width = (0.014 * face.h).clamp(0.9, 2.5);
            let c = to_f(look.color);
            let k = 0.72 * brightness;
            let loop_color = Rgb([
                (c[0] * k).min(255.0) as u8,
                (c[1] * k).min(255.0) as u8,
                (c[2] * k).min(255.0) as u8,
            ]);
            for path in face.loop_paths(look.style, &outline) {
                let cov = polygon_coverage(w, h, &stroke(&path, width));
                blend_with(&mut out, &cov, |_, _| loop_color);
            }
        }
        let painter = Painter {
            look: &look,
            surface: Surface::new(&face, &outline),
            h: face.h,
            lw,
            brightness,
        };
        blend_with(&mut out, &mask, |x, y| painter.paint(x, y));

        Ok(MaskedFace {
            image: out,
            mask,
            polygon,
            description: describe(&look, brightness, self.ear_loops),
        })
    }
}

/// The description record: a compact JSON object.
fn describe(look: &Look, brightness: f32, ear_loops: bool) -> String {
    let round = |x: f32, k: f64| (f64::from(x) * k).round() / k;
    let mut d = serde_json::json!({
        "style": look.style.name(),
        "color": look.color,
        "brightness": round(brightness, 1000.0),
        "ear_loops": ear_loops,
    });
    if look.style == MaskStyle::N95 {
        d["variant"] = match look.respirator {
            Respirator::Kn95 => "kn95",
            Respirator::Cup => "cup",
        }
        .into();
    }
    if let Some(f) = &look.fabric {
        d["pattern"] = f.pattern.name().into();
        d["pattern_color"] = serde_json::json!(f.color.map(|c| c.round() as u8));
        d["pattern_scale"] = round(f.period, 10.0).into();
        d["pattern_angle"] = round(f.angle_deg, 10.0).into();
    }
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polygon::contains;
    use maskface_core::rng_for;
    use proptest::prelude::*;

    const FIXTURE: &str = include_str!("../../../fixtures/reference/dlib_hog68_seed_test.json");

    /// Every face of the reference fixture (real dlib landmarks on LFW).
    fn fixture_faces() -> Vec<(String, Landmarks68)> {
        let json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let mut faces: Vec<(String, Landmarks68)> = json["images"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(name, v)| {
                let pts = v["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32)
                    })
                    .collect();
                (name.clone(), Landmarks68::new(pts).unwrap())
            })
            .collect();
        faces.sort_by(|a, b| a.0.cmp(&b.0));
        faces
    }

    fn first_face() -> Landmarks68 {
        fixture_faces().remove(0).1
    }

    /// A plain test image with a little texture, the size of an LFW photo.
    fn photo(level: u8) -> RgbImage {
        RgbImage::from_fn(250, 250, |x, y| {
            let t = ((x * 7 + y * 3) % 16) as u8;
            Rgb([level.saturating_add(t), level, level.saturating_sub(t / 2)])
        })
    }

    fn covers_nose_and_mouth(outline: &[Point2], lm: &Landmarks68) -> Result<(), String> {
        for i in std::iter::once(30).chain(48..=67) {
            let p = lm.points()[i];
            if !contains(outline, p) {
                return Err(format!("point {i} at ({:.1}, {:.1}) is outside", p.x, p.y));
            }
        }
        Ok(())
    }

    #[test]
    fn outlines_cover_nose_mouth_and_chin_on_real_faces() {
        let faces = fixture_faces();
        assert!(
            faces.len() > 150,
            "only {} faces in the fixture",
            faces.len()
        );
        for (name, lm) in &faces {
            for style in MaskStyle::ALL {
                let outline = mask_outline(style, lm);
                assert!(
                    (40..=80).contains(&outline.len()),
                    "{} points",
                    outline.len()
                );
                if let Err(e) = covers_nose_and_mouth(&outline, lm) {
                    panic!("{name}, {style:?}: {e}");
                }
                let chin = lm.points()[8];
                let below = Point2::new(chin.x, chin.y + 3.0);
                assert!(
                    contains(&outline, chin) || contains(&outline, below),
                    "{name}, {style:?}: the chin is not covered"
                );
            }
        }
    }

    #[test]
    fn render_polygon_is_the_outline_of_the_drawn_style() {
        let lm = first_face();
        for style in MaskStyle::ALL {
            let out = RealisticMask::only(style)
                .render(&photo(120), &lm, &mut rng_for(3, "poly"))
                .unwrap();
            assert_eq!(out.polygon, mask_outline(style, &lm));
            assert!(out.description.contains(&format!("\"{}\"", style.name())));
        }
    }

    #[test]
    fn same_seed_gives_identical_pixels() {
        let lm = first_face();
        let img = photo(130);
        let r = RealisticMask::default();
        for k in 0..6 {
            let a = r.render(&img, &lm, &mut rng_for(k, "same")).unwrap();
            let b = r.render(&img, &lm, &mut rng_for(k, "same")).unwrap();
            assert_eq!(a.image.as_raw(), b.image.as_raw());
            assert_eq!(a.mask.as_raw(), b.mask.as_raw());
            assert_eq!(a.description, b.description);
        }
    }

    #[test]
    fn seeds_vary_style_colour_and_pattern() {
        let lm = first_face();
        let img = photo(130);
        let r = RealisticMask::default();
        let mut styles = std::collections::BTreeSet::new();
        let mut colors = std::collections::BTreeSet::new();
        for k in 0..20 {
            let d: serde_json::Value = serde_json::from_str(
                &r.render(&img, &lm, &mut rng_for(k, "vary"))
                    .unwrap()
                    .description,
            )
            .unwrap();
            styles.insert(d["style"].as_str().unwrap().to_string());
            colors.insert(d["color"].to_string());
        }
        assert!(styles.len() >= 2, "{styles:?}");
        assert!(colors.len() >= 5, "{colors:?}");
    }

    #[test]
    fn description_is_compact_json_with_the_drawn_parameters() {
        let lm = first_face();
        let img = photo(130);
        let cloth = RealisticMask {
            patterns: vec![ClothPattern::Stripes],
            ..RealisticMask::only(MaskStyle::Cloth)
        };
        let out = cloth.render(&img, &lm, &mut rng_for(1, "json")).unwrap();
        assert!(!out.description.contains(' '), "{}", out.description);
        let d: serde_json::Value = serde_json::from_str(&out.description).unwrap();
        assert_eq!(d["style"], "cloth");
        assert_eq!(d["pattern"], "stripes");
        assert_eq!(d["ear_loops"], true);
        assert_eq!(d["color"].as_array().unwrap().len(), 3);
        let b = d["brightness"].as_f64().unwrap();
        assert!((0.55..=1.15).contains(&b), "{b}");

        let n95 = RealisticMask::only(MaskStyle::N95);
        let d: serde_json::Value = serde_json::from_str(
            &n95.render(&img, &lm, &mut rng_for(1, "json"))
                .unwrap()
                .description,
        )
        .unwrap();
        assert!(d["variant"] == "kn95" || d["variant"] == "cup", "{d}");
        assert!(d.get("pattern").is_none());
    }

    #[test]
    fn user_colours_replace_the_palettes() {
        let lm = first_face();
        let r = RealisticMask {
            colors: Some(vec![[10, 200, 30]]),
            ..RealisticMask::default()
        };
        for k in 0..6 {
            let out = r.render(&photo(130), &lm, &mut rng_for(k, "user")).unwrap();
            assert!(
                out.description.contains("[10,200,30]"),
                "{}",
                out.description
            );
        }
    }

    #[test]
    fn mask_is_empty_far_away_and_full_at_the_mouth() {
        let lm = first_face();
        let mouth = lm.mean_of(48..68);
        for style in MaskStyle::ALL {
            let out = RealisticMask::only(style)
                .render(&photo(120), &lm, &mut rng_for(5, "cov"))
                .unwrap();
            let m = &out.mask;
            for (x, y) in [(0, 0), (249, 0), (0, 249), (249, 249)] {
                assert_eq!(m.get_pixel(x, y)[0], 0, "{style:?} at ({x}, {y})");
            }
            assert_eq!(
                m.get_pixel(mouth.x as u32, mouth.y as u32)[0],
                255,
                "{style:?}"
            );
        }
    }

    #[test]
    fn ear_loops_are_painted_outside_the_mask_and_darker() {
        let lm = first_face();
        let img = photo(128);
        let with = RealisticMask {
            colors: Some(vec![[240, 240, 240]]),
            ..RealisticMask::only(MaskStyle::Surgical)
        };
        let without = RealisticMask {
            ear_loops: false,
            ..with.clone()
        };
        let a = with.render(&img, &lm, &mut rng_for(2, "loops")).unwrap();
        let b = without.render(&img, &lm, &mut rng_for(2, "loops")).unwrap();
        assert_eq!(a.mask, b.mask, "loops are not part of the mask");
        let changed = a
            .image
            .pixels()
            .zip(b.image.pixels())
            .zip(a.mask.pixels())
            .filter(|((p, q), m)| p != q && m[0] == 0)
            .count();
        // Two strings per side, each some 10-25 px long and 1-2 px wide.
        assert!(
            (20..2000).contains(&changed),
            "{changed} pixels changed by the loops"
        );
    }

    /// Mean luminance of the pixels fully inside the mask.
    fn body_mean(out: &MaskedFace) -> f32 {
        let (mut sum, mut n) = (0.0, 0.0);
        for (p, m) in out.image.pixels().zip(out.mask.pixels()) {
            if m[0] == 255 {
                sum += luma(to_f(p.0));
                n += 1.0;
            }
        }
        sum / n
    }

    #[test]
    fn a_darker_photo_gives_a_darker_mask() {
        let lm = first_face();
        let img = photo(150);
        let dark = RgbImage::from_fn(250, 250, |x, y| {
            Rgb(img.get_pixel(x, y).0.map(|c| (f32::from(c) * 0.4) as u8))
        });
        for style in MaskStyle::ALL {
            let r = RealisticMask::only(style);
            let bright = r.render(&img, &lm, &mut rng_for(9, "dark")).unwrap();
            let dim = r.render(&dark, &lm, &mut rng_for(9, "dark")).unwrap();
            assert!(
                body_mean(&dim) < 0.8 * body_mean(&bright),
                "{style:?}: {} vs {}",
                body_mean(&dim),
                body_mean(&bright)
            );
            let factor = |d: &str| {
                serde_json::from_str::<serde_json::Value>(d).unwrap()["brightness"]
                    .as_f64()
                    .unwrap()
            };
            assert!(factor(&dim.description) < factor(&bright.description));
        }
        // Without matching, the photo's exposure does not matter.
        let fixed = RealisticMask {
            match_brightness: false,
            ..RealisticMask::only(MaskStyle::N95)
        };
        let a = fixed.render(&img, &lm, &mut rng_for(9, "dark")).unwrap();
        let b = fixed.render(&dark, &lm, &mut rng_for(9, "dark")).unwrap();
        assert!((body_mean(&a) - body_mean(&b)).abs() < 1.0);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let lm = first_face();
        let img = photo(100);
        let mut pts = lm.points().to_vec();
        pts[33].x = f32::NAN;
        let bad = Landmarks68::new(pts).unwrap();
        let err = RealisticMask::default().render(&img, &bad, &mut rng_for(0, "bad"));
        assert!(matches!(
            err,
            Err(MaskError::InvalidParameter {
                name: "landmarks",
                ..
            })
        ));

        let cases = [
            (
                RealisticMask {
                    styles: vec![],
                    ..RealisticMask::default()
                },
                "styles",
            ),
            (
                RealisticMask {
                    colors: Some(vec![]),
                    ..RealisticMask::default()
                },
                "colors",
            ),
            (
                RealisticMask {
                    patterns: vec![],
                    ..RealisticMask::default()
                },
                "patterns",
            ),
        ];
        for (r, field) in cases {
            match r.render(&img, &lm, &mut rng_for(0, "bad")) {
                Err(MaskError::InvalidParameter { name, .. }) => assert_eq!(name, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        // Without cloth, an empty pattern list is fine.
        let no_cloth = RealisticMask {
            styles: vec![MaskStyle::Surgical],
            patterns: vec![],
            ..RealisticMask::default()
        };
        assert!(no_cloth.render(&img, &lm, &mut rng_for(0, "ok")).is_ok());
    }

    #[test]
    fn tiny_degenerate_and_offscreen_faces_do_not_panic() {
        let lm = first_face();
        let r = RealisticMask::default();
        let moved = |dx: f32, dy: f32, k: f32| {
            Landmarks68::new(
                lm.points()
                    .iter()
                    .map(|p| Point2::new(p.x * k + dx, p.y * k + dy))
                    .collect(),
            )
            .unwrap()
        };
        let cases = [
            moved(0.0, 0.0, 0.02),      // a face of 2 px
            moved(-120.0, -100.0, 1.0), // mostly off the top-left
            moved(200.0, 180.0, 1.0),   // mostly off the bottom-right
            moved(5000.0, 5000.0, 1.0), // entirely outside
            moved(40.0, 40.0, 0.0),     // all points on one spot
            moved(0.0, 0.0, 1e30),      // absurdly large, still finite
        ];
        for (i, face) in cases.iter().enumerate() {
            for size in [(0, 0), (1, 1), (160, 160)] {
                let img = RgbImage::from_pixel(size.0, size.1, Rgb([90, 80, 70]));
                let out = r
                    .render(&img, face, &mut rng_for(i as u64, "edge"))
                    .unwrap();
                assert_eq!(out.image.dimensions(), size);
                assert_eq!(out.mask.dimensions(), size);
                assert!(out
                    .polygon
                    .iter()
                    .all(|p| p.x.is_finite() && p.y.is_finite()));
            }
        }
    }

    /// Squeezes the side of the face left of the nose (a turned head), then
    /// rotates, scales and moves the landmarks.
    fn transform(
        lm: &Landmarks68,
        squeeze: f32,
        angle: f32,
        scale: f32,
        t: (f32, f32),
    ) -> Landmarks68 {
        let nose = lm.points()[30];
        let (s, c) = angle.to_radians().sin_cos();
        let pts = lm
            .points()
            .iter()
            .map(|p| {
                let x = if p.x < nose.x {
                    nose.x + (p.x - nose.x) * squeeze
                } else {
                    p.x
                };
                let (dx, dy) = (x - nose.x, p.y - nose.y);
                Point2::new(
                    (c * dx - s * dy) * scale + 80.0 + t.0,
                    (s * dx + c * dy) * scale + 80.0 + t.1,
                )
            })
            .collect();
        Landmarks68::new(pts).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn outline_follows_turned_rotated_and_scaled_faces(
            face in 0usize..190,
            squeeze in 0.4f32..1.0,
            angle in -35.0f32..35.0,
            scale in 0.5f32..2.0,
            tx in -60.0f32..60.0,
            ty in -60.0f32..60.0,
            seed in 0u64..1000,
        ) {
            let faces = fixture_faces();
            let lm = transform(&faces[face % faces.len()].1, squeeze, angle, scale, (tx, ty));
            for style in MaskStyle::ALL {
                let outline = mask_outline(style, &lm);
                prop_assert!(outline.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
                if let Err(e) = covers_nose_and_mouth(&outline, &lm) {
                    prop_assert!(false, "{:?}: {}", style, e);
                }
            }
            let img = RgbImage::from_pixel(160, 160, Rgb([120, 100, 90]));
            let out = RealisticMask::default().render(&img, &lm, &mut rng_for(seed, "prop")).unwrap();
            prop_assert_eq!(out.image.dimensions(), (160, 160));
            prop_assert_eq!(out.mask.dimensions(), (160, 160));
        }

        /// The paper's polygon and every realistic outline, on real faces
        /// turned, rolled and scaled inside a 400x400 image: inside the
        /// image, over the nose tip and the whole mouth, and the painted
        /// mask is full there.
        #[test]
        fn masks_stay_inside_the_image_and_cover_nose_and_mouth(
            face in 0usize..190,
            squeeze in 0.4f32..1.0,
            angle in -35.0f32..35.0,
            scale in 0.6f32..1.6,
            seed in 0u64..1000,
        ) {
            let faces = fixture_faces();
            let lm = transform(&faces[face % faces.len()].1, squeeze, angle, scale, (120.0, 120.0));
            let paper = crate::paper_polygon(&lm);
            let inside = |poly: &[Point2]| {
                poly.iter().all(|p| (0.0..400.0).contains(&p.x) && (0.0..400.0).contains(&p.y))
            };
            prop_assert!(inside(&paper), "{:?}", paper);
            if let Err(e) = covers_nose_and_mouth(&paper, &lm) {
                prop_assert!(false, "paper: {}", e);
            }
            for style in MaskStyle::ALL {
                prop_assert!(inside(&mask_outline(style, &lm)), "{:?}", style);
            }
            let img = RgbImage::from_pixel(400, 400, Rgb([120, 100, 90]));
            let out = crate::PaperMask::default()
                .render(&img, &lm, &mut rng_for(seed, "prop"))
                .unwrap();
            for i in [30usize, 51, 57, 62, 66] {
                let p = lm.points()[i];
                prop_assert_eq!(out.mask.get_pixel(p.x as u32, p.y as u32)[0], 255, "point {}", i);
            }
        }
    }
}
