//! A [`Policy`] described by plain settings (as a command line or a
//! configuration file gives them), checked before it is built.

use std::str::FromStr;

use crate::{AugmentError, ColorJitter, Fill, HorizontalFlip, Policy, RandomRotation};

/// The settings of a rotation, colour-jitter and flip policy; the default
/// is the paper's ([`Policy::paper`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicySettings {
    /// Augmented copies per image.
    pub copies: usize,
    /// Largest rotation either way, in degrees, in `0..=180` (0: no
    /// rotation).
    pub max_degrees: f32,
    /// What fills the corners a rotation uncovers.
    pub fill: Fill,
    /// Colour jitter spreads `[brightness, contrast, saturation]`, each in
    /// `0..=1`, applied after the rotation.
    pub color_jitter: Option<[f32; 3]>,
    /// Probability of a horizontal flip, applied last.
    pub hflip: Option<f32>,
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            copies: 3,
            max_degrees: 20.0,
            fill: Fill::default(),
            color_jitter: None,
            hflip: None,
        }
    }
}

impl PolicySettings {
    /// The policy, after checking every range.
    pub fn policy(&self) -> Result<Policy, AugmentError> {
        let bad = |name, reason: String| Err(AugmentError::InvalidParameter { name, reason });
        let mut policy = Policy::new(self.copies);
        if !(self.max_degrees.is_finite() && (0.0..=180.0).contains(&self.max_degrees)) {
            return bad(
                "max_degrees",
                format!("{} is outside 0..=180", self.max_degrees),
            );
        }
        if self.max_degrees > 0.0 {
            policy = policy.then(RandomRotation::new(self.max_degrees).with_fill(self.fill));
        }
        if let Some(j @ [b, c, s]) = self.color_jitter {
            if j.iter().any(|v| !(0.0..=1.0).contains(v)) {
                return bad(
                    "color_jitter",
                    format!("{j:?}: each spread must be in 0..=1"),
                );
            }
            policy = policy.then(ColorJitter::new(b, c, s));
        }
        if let Some(p) = self.hflip {
            if !(0.0..=1.0).contains(&p) {
                return bad("hflip", format!("{p}: a probability must be in 0..=1"));
            }
            policy = policy.then(HorizontalFlip { p });
        }
        Ok(policy)
    }
}

impl FromStr for Fill {
    type Err = AugmentError;

    /// `black`, `white`, `replicate` (the nearest edge pixel) or `R,G,B`.
    fn from_str(s: &str) -> Result<Self, AugmentError> {
        let bad = |reason: &str| AugmentError::InvalidParameter {
            name: "fill",
            reason: format!("`{s}`: {reason}"),
        };
        Ok(match s {
            "black" => Fill::Constant([0, 0, 0]),
            "white" => Fill::Constant([255, 255, 255]),
            "replicate" => Fill::Replicate,
            rgb => {
                let v: Vec<u8> = rgb
                    .split(',')
                    .map(|c| c.trim().parse::<u8>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("expected black, white, replicate or R,G,B"))?;
                let [r, g, b] = v[..] else {
                    return Err(bad("expected three values R,G,B"));
                };
                Fill::Constant([r, g, b])
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fills_parse_and_ranges_are_checked() {
        assert_eq!("white".parse::<Fill>().unwrap(), Fill::Constant([255; 3]));
        assert_eq!("1, 2,3".parse::<Fill>().unwrap(), Fill::Constant([1, 2, 3]));
        assert!("1,2".parse::<Fill>().is_err());
        assert!("pink".parse::<Fill>().is_err());
        assert_eq!(PolicySettings::default().policy().unwrap().copies(), 3);
        let bad = PolicySettings {
            hflip: Some(1.5),
            ..PolicySettings::default()
        };
        assert!(bad.policy().is_err());
    }
}
