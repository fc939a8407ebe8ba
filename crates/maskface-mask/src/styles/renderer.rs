//! [`RealisticMask`] as a [`MaskRenderer`]: the contact shadow, the ear
//! loops, the painted body and the description record.

use image::{Rgb, RgbImage};
use maskface_core::{Landmarks68, MaskRenderer, MaskedFace, Point2, RngCore};

use super::gas::{paint_can, CanLook};
use super::geometry::Face;
use super::look::{Look, Respirator};
use super::painter::Painter;
use super::palette::{luma, to_f};
use super::surface::Surface;
use super::vector::V;
use super::{MaskFit, MaskStyle, RealisticMask};
use crate::polygon::{blend_with, polygon_coverage};
use crate::MaskError;

/// Luminance of the skin above the mask in a typical photo (the median over
/// the 195 LFW faces of the reference fixture); the brightness factor is
/// measured against it.
pub(super) const NOMINAL_SKIN_LUMA: f32 = 140.0;
/// The brightness factor's range: a mask never turns black or blows out.
pub(super) const BRIGHTNESS_RANGE: (f32, f32) = (0.55, 1.15);

/// Mean luminance of the skin around `probes`, or `None` when every probe
/// is outside the image.
pub(super) fn skin_luma(image: &RgbImage, probes: &[V], radius: f32) -> Option<f32> {
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
pub(super) fn stroke(ctrl: &[V; 3], width: f32) -> Vec<Point2> {
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
        let outline = face.outline_fitted(look.style, self.fit);
        let polygon: Vec<Point2> = outline.iter().map(|q| q.point()).collect();
        let (w, h) = image.dimensions();
        let mut mask = polygon_coverage(w, h, &polygon);
        // The coverage of the gas respirator's cartridges and valve.
        let mut parts_cov = Vec::new();
        let gas = (look.style == MaskStyle::Gas).then(|| face.gas_parts(self.fit, &outline));

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
            let mut cov = polygon_coverage(w, h, &shadow);
            if let Some(parts) = &gas {
                // The cartridges stand off the face: their shadows too.
                for hull in parts.hulls() {
                    let moved: Vec<Point2> = hull
                        .iter()
                        .map(|p| Point2::new(p.x + off.0, p.y + off.1))
                        .collect();
                    let c = polygon_coverage(w, h, &moved);
                    for (a, b) in cov.pixels_mut().zip(c.pixels()) {
                        a[0] = a[0].max(b[0]);
                    }
                }
            }
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
            let c = to_f(look.color);
            let (width, k) = if gas.is_some() {
                // Broad elastic straps, darker than the rubber.
                ((0.04 * face.h).clamp(1.2, 8.0), 0.6 * brightness)
            } else {
                ((0.014 * face.h).clamp(0.9, 2.5), 0.72 * brightness)
            };
            let loop_color = Rgb([
                (c[0] * k).min(255.0) as u8,
                (c[1] * k).min(255.0) as u8,
                (c[2] * k).min(255.0) as u8,
            ]);
            let paths = match &gas {
                Some(parts) => parts.straps,
                None => face.loop_paths(look.style, self.fit, &outline),
            };
            for path in paths {
                let cov = polygon_coverage(w, h, &stroke(&path, width));
                blend_with(&mut out, &cov, |_, _| loop_color);
            }
        }
        if let Some(parts) = &gas {
            // Under the body, which overlaps their bayonet mounts.
            for can in &parts.cartridges {
                let can_look = CanLook {
                    color: look.cartridge.unwrap_or(look.color),
                    light: look.light,
                    brightness,
                    valve: false,
                    grain_seed: look.grain,
                };
                parts_cov.push(paint_can(&mut out, can, &can_look));
            }
        }
        let painter = Painter {
            look: &look,
            surface: Surface::new(&face, &outline),
            h: face.h,
            lw,
            brightness,
            texture: self
                .texture
                .as_ref()
                .map(|t| (t.image.as_ref(), self.texture_weight)),
        };
        blend_with(&mut out, &mask, |x, y| painter.paint(x, y));
        if let Some(parts) = &gas {
            let valve_look = CanLook {
                color: look.color,
                light: look.light,
                brightness: brightness * 0.95,
                valve: true,
                grain_seed: look.grain,
            };
            parts_cov.push(paint_can(&mut out, &parts.valve, &valve_look));
        }
        for cov in &parts_cov {
            for (m, c) in mask.pixels_mut().zip(cov.pixels()) {
                m[0] = m[0].max(c[0]);
            }
        }

        Ok(MaskedFace {
            image: out,
            mask,
            polygon,
            description: describe(&look, brightness, self),
        })
    }
}

/// The description record: a compact JSON object. Keys for the fit,
/// colour weight and texture appear only when they differ from the
/// defaults, so that older configurations describe themselves as before.
pub(super) fn describe(look: &Look, brightness: f32, mask: &RealisticMask) -> String {
    let round = |x: f32, k: f64| (f64::from(x) * k).round() / k;
    let mut d = serde_json::json!({
        "style": look.style.name(),
        "color": look.color,
        "brightness": round(brightness, 1000.0),
        "ear_loops": mask.ear_loops,
    });
    if look.style.is_respirator() {
        d["variant"] = match look.respirator {
            Respirator::Kn95 => "kn95",
            Respirator::Cup => "cup",
        }
        .into();
    }
    if let Some(c) = look.cartridge {
        d["cartridge_color"] = serde_json::json!(c);
    }
    if let Some(f) = &look.fabric {
        d["pattern"] = f.pattern.name().into();
        d["pattern_color"] = serde_json::json!(f.color.map(|c| c.round() as u8));
        d["pattern_scale"] = round(f.period, 10.0).into();
        d["pattern_angle"] = round(f.angle_deg, 10.0).into();
    }
    if mask.fit != MaskFit::Proper {
        d["fit"] = mask.fit.name().into();
    }
    if mask.colors.is_some() && mask.color_weight < 1.0 {
        d["color_weight"] = round(mask.color_weight, 1000.0).into();
    }
    if let Some(t) = &mask.texture {
        d["texture"] = t.name.clone().into();
        d["texture_weight"] = round(mask.texture_weight, 1000.0).into();
    }
    d.to_string()
}
