//! The cloth patterns (stripes, dots, checks, flowers) and the fibre grain.

use super::look::Fabric;
use super::ClothPattern;

/// A hash of a pixel to [0, 1): the fibre grain of fabric.
pub(super) fn hash01(x: u32, y: u32, seed: u32) -> f32 {
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
pub(super) fn aa(signed_px: f32) -> f32 {
    (signed_px + 0.5).clamp(0.0, 1.0)
}

/// How much of the pattern colour and of the accent colour covers a pixel at
/// fabric coordinates `(fu, fw)`.
pub(super) fn fabric_coverage(
    f: &Fabric,
    fu: f32,
    fw: f32,
    x: u32,
    y: u32,
    seed: u32,
) -> (f32, f32) {
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
