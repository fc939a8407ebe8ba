//! Masks worn badly: the outlines of a mask slid under the nose or pulled
//! down on the chin, built from the landmarks as the proper outline is.

use super::geometry::{catmull_rom, Face, CHIN_PUSH, SIDE_PUSH};
use super::vector::V;
use super::{MaskFit, MaskStyle};

/// The control points of a mask that sits lower than it should.
struct Slid {
    /// The middle of the top edge.
    top: V,
    /// The top edge beside the middle: left, right (image).
    side: [V; 2],
    /// The upper corners on the cheeks, where the loops pull: left, right.
    corner: [V; 2],
    /// The lower edge between the corners, image left to right.
    bottom: Vec<V>,
    /// Where the lower loops are sewn on: left, right.
    lower: [V; 2],
}

impl Face {
    /// The outline of `style` worn as `fit` says.
    pub(super) fn outline_fitted(&self, style: MaskStyle, fit: MaskFit) -> Vec<V> {
        if fit == MaskFit::Proper {
            return self.outline(style);
        }
        let m = self.slid(fit);
        let [cl, cr] = m.corner;
        let [sl, sr] = m.side;
        match style {
            MaskStyle::Surgical => {
                // Square corners, as on the proper outline: a lower and an
                // upper open curve meeting at the cheeks.
                let mut bottom = vec![cl];
                bottom.extend(m.bottom.iter().copied());
                bottom.push(cr);
                let mut out = catmull_rom(&bottom, 3, false);
                out.pop();
                let mut t = catmull_rom(&[cr, sr, m.top, sl, cl], 7, false);
                t.pop();
                out.extend(t);
                out
            }
            _ => {
                // Closed, smooth outlines: the respirators' cup and the gas
                // body are narrower at the top corners than a fabric mask.
                let pull = match style {
                    MaskStyle::Cloth => 0.0,
                    MaskStyle::Gas => 0.4,
                    _ => 0.25,
                };
                let raise = if style == MaskStyle::Cloth {
                    self.ey * (0.02 * self.h)
                } else {
                    V::default()
                };
                let mut ctrl = vec![m.top, sr, cr.lerp(sr, pull) - raise];
                ctrl.extend(m.bottom.iter().rev().copied());
                ctrl.push(cl.lerp(sl, pull) - raise);
                ctrl.push(sl);
                if style == MaskStyle::Gas {
                    // The rubber body is a smaller cup than the fabric
                    // masks: draw its lower edge in towards the mouth.
                    let centre = self.mean(&[51, 57]);
                    let end = ctrl.len() - 2;
                    for q in &mut ctrl[3..end] {
                        *q = q.lerp(centre, 0.12);
                    }
                }
                catmull_rom(&ctrl, 7, true)
            }
        }
    }

    /// The control points of `fit` (not [`MaskFit::Proper`]).
    fn slid(&self, fit: MaskFit) -> Slid {
        let h = self.h;
        let p = &self.p;
        match fit {
            MaskFit::Chin => {
                // The top edge under the lower lip; the loops still pull the
                // corners up towards the ears, so the edge dips in the middle.
                let top = p[57].lerp(p[8], 0.3);
                let side = [p[48].lerp(p[5], 0.4), p[54].lerp(p[11], 0.4)];
                let corner = [self.jaw(4, SIDE_PUSH, 0.0), self.jaw(12, SIDE_PUSH, 0.0)];
                // What covered the nose now hangs below the chin.
                let bottom = (5..=11)
                    .map(|i| self.jaw(i, SIDE_PUSH, CHIN_PUSH + 0.14))
                    .collect();
                Slid {
                    top,
                    side,
                    corner,
                    bottom,
                    lower: [p[6], p[10]],
                }
            }
            // `Proper` never reaches here; it shares the nose-out points so
            // that the match needs no panic.
            MaskFit::NoseOut | MaskFit::Proper => {
                // The top edge over the upper lip, just under the nostrils,
                // and beside the nose wings out to corners lower on the
                // cheeks than a mask worn properly.
                let top = p[33].lerp(p[51], 0.35);
                let side = [
                    p[31].lerp(p[48], 0.5) - self.ex * (0.05 * h),
                    p[35].lerp(p[54], 0.5) + self.ex * (0.05 * h),
                ];
                let corner = [
                    self.jaw(2, SIDE_PUSH, 0.0)
                        .lerp(self.jaw(3, SIDE_PUSH, 0.0), 0.5),
                    self.jaw(14, SIDE_PUSH, 0.0)
                        .lerp(self.jaw(13, SIDE_PUSH, 0.0), 0.5),
                ];
                let bottom = (3..=13)
                    .map(|i| self.jaw(i, SIDE_PUSH, CHIN_PUSH + 0.05))
                    .collect();
                Slid {
                    top,
                    side,
                    corner,
                    bottom,
                    lower: [p[5], p[11]],
                }
            }
        }
    }

    /// Where the loops of a slid mask are sewn on: upper left, upper right,
    /// lower left, lower right.
    pub(super) fn slid_loop_targets(&self, fit: MaskFit) -> (V, V, V, V) {
        let m = self.slid(fit);
        (m.corner[0], m.corner[1], m.lower[0], m.lower[1])
    }

    /// How far a slid mask moved down the face, at the nose line.
    pub(super) fn slid_shift(&self, fit: MaskFit) -> V {
        match fit {
            MaskFit::Proper => V::default(),
            _ => self.slid(fit).top - self.nose_bridge(0.45),
        }
    }
}
