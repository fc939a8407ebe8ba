//! Realistic, landmark-shaped masks: surgical, N95 / KN95, cloth and the
//! elastomeric half-face respirator ("gas"), worn properly or slid down
//! ([`MaskFit`]).
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

mod fabric;
mod fit;
mod gas;
mod geometry;
mod look;
mod painter;
mod palette;
mod realistic;
mod renderer;
mod surface;
mod vector;

#[cfg(test)]
mod tests;

pub use geometry::{mask_outline, mask_outline_fitted};
pub(crate) use realistic::check_weights;
pub use realistic::{ClothPattern, MaskFit, MaskStyle, RealisticMask, Texture};
