//! Per-pixel shading of the mask body: the wrap around the face, folds,
//! seams, hems and the fabric pattern.

use image::{Rgb, RgbImage};

use super::fabric::{fabric_coverage, hash01};
use super::look::{Look, Respirator};
use super::palette::{mix, to_f};
use super::surface::Surface;
use super::MaskStyle;

/// A soft line profile: 1 on the line, falling to 0 at `width` pixels.
pub(super) fn line(d_px: f32, width: f32) -> f32 {
    let t = (d_px / width).abs();
    if t >= 1.0 {
        0.0
    } else {
        let q = 1.0 - t * t;
        q * q
    }
}

/// Per-pixel shading of the mask body.
pub(super) struct Painter<'a> {
    pub(super) look: &'a Look,
    pub(super) surface: Surface,
    /// Face height in pixels.
    pub(super) h: f32,
    /// Width of fine lines (seams, fold shadows) in pixels.
    pub(super) lw: f32,
    pub(super) brightness: f32,
    /// A texture and the weight it is blended in with.
    pub(super) texture: Option<(&'a RgbImage, f32)>,
}

/// The texture's colour at surface coordinates `s` (-1..1 across) and `v`
/// (0..1 down), bilinear.
fn sample(tex: &RgbImage, s: f32, v: f32) -> [f32; 3] {
    let (w, h) = tex.dimensions();
    if w == 0 || h == 0 {
        return [0.0; 3];
    }
    let x = ((s + 1.0) * 0.5).clamp(0.0, 1.0) * (w - 1) as f32;
    let y = v.clamp(0.0, 1.0) * (h - 1) as f32;
    let (x0, y0) = (x as u32, y as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let px = |x, y| to_f(tex.get_pixel(x, y).0);
    let top = mix(px(x0, y0), px(x1, y0), fx);
    let bottom = mix(px(x0, y1), px(x1, y1), fx);
    mix(top, bottom, fy)
}

impl Painter<'_> {
    pub(super) fn paint(&self, x: u32, y: u32) -> Rgb<u8> {
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
            MaskStyle::N95 | MaskStyle::Kn95 | MaskStyle::N95Cup => {
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
            MaskStyle::Gas => {
                // Moulded rubber: a rounded front with a glossy highlight
                // towards the light, and a thick rolled border.
                let r2 = s * s + ((at.v - 0.55) / 0.6).powi(2);
                shade += 0.06 - 0.2 * r2;
                let (hs, hv) = (s + 0.35 * look.light, at.v - 0.3);
                shade += 0.22 * (-(hs * hs + hv * hv) * 9.0).exp();
                let inset = d_top.min(d_bot).min(at.half * (1.0 - s.abs()));
                shade += 0.1 * line(inset - 0.025 * h, 2.0 * lw);
                shade -= 0.14 * line(inset - 0.06 * h, 1.5 * lw);
                grain = 0.008;
            }
        }
        if let Some((tex, weight)) = self.texture {
            color = mix(color, sample(tex, s, at.v), weight);
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
