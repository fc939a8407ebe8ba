//! The masks a photo's faces are drawn from: MaskTheFace's mask types,
//! colours, textures and `--code` lists, and where the mask sits on the
//! face, as one renderer ([`MaskMix`]).

use image::RgbImage;
use maskface_core::{Landmarks68, MaskRenderer, MaskedFace, RngCore};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{MaskError, MaskFit, MaskStyle, PaperMask, RealisticMask, Texture};

/// A kind of mask, by the name the `maskface mask` command (and
/// MaskTheFace) gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskKind {
    /// A pleated surgical mask in its own palette (blue, white, mint, ...).
    Surgical,
    /// A surgical mask in light blue (MaskTheFace's `surgical_blue`).
    SurgicalBlue,
    /// A surgical mask in green (MaskTheFace's `surgical_green`).
    SurgicalGreen,
    /// A moulded N95 cup respirator.
    N95,
    /// A fold-flat KN95 respirator.
    Kn95,
    /// A contoured cloth mask with a procedural pattern.
    Cloth,
    /// An elastomeric half-face respirator with two filter cartridges
    /// (MaskTheFace's `gas`).
    Gas,
    /// The paper's flat polygon (landmarks 2..=14 and 28), black, white or
    /// sky blue.
    Paper,
}

/// MaskTheFace's light blue surgical mask.
const SURGICAL_BLUE: [u8; 3] = [158, 202, 230];
/// MaskTheFace's green surgical mask.
const SURGICAL_GREEN: [u8; 3] = [150, 206, 180];

impl MaskKind {
    /// Every kind, in the order `--mask-type all` writes them.
    pub const ALL: [MaskKind; 8] = [
        MaskKind::Surgical,
        MaskKind::SurgicalBlue,
        MaskKind::SurgicalGreen,
        MaskKind::N95,
        MaskKind::Kn95,
        MaskKind::Cloth,
        MaskKind::Gas,
        MaskKind::Paper,
    ];

    /// The kinds `--mask-type random` draws from: MaskTheFace's templates
    /// (every kind but the paper's polygon, which [`MaskKind::ALL`] lists last).
    pub const RANDOM: &'static [MaskKind] = MaskKind::ALL.split_at(7).0;

    /// The name in file names and records (`surgical`, `surgical_blue`,
    /// `n95`, `kn95`, `cloth`, `gas`, `paper`).
    pub fn name(self) -> &'static str {
        match self {
            MaskKind::Surgical => "surgical",
            MaskKind::SurgicalBlue => "surgical_blue",
            MaskKind::SurgicalGreen => "surgical_green",
            MaskKind::N95 => "n95",
            MaskKind::Kn95 => "kn95",
            MaskKind::Cloth => "cloth",
            MaskKind::Gas => "gas",
            MaskKind::Paper => "paper",
        }
    }

    /// The kind a name gives, case-insensitively, with `-` or `_` between
    /// words (`N95`, `KN95`, `surgical-blue` and `surgical_blue` all work).
    pub fn from_name(name: &str) -> Option<MaskKind> {
        let key = name.trim().to_ascii_lowercase().replace('-', "_");
        MaskKind::ALL.into_iter().find(|k| k.name() == key)
    }

    /// The realistic style it is painted with (`None` for the paper's mask).
    pub fn style(self) -> Option<MaskStyle> {
        match self {
            MaskKind::Surgical | MaskKind::SurgicalBlue | MaskKind::SurgicalGreen => {
                Some(MaskStyle::Surgical)
            }
            MaskKind::N95 => Some(MaskStyle::N95Cup),
            MaskKind::Kn95 => Some(MaskStyle::Kn95),
            MaskKind::Cloth => Some(MaskStyle::Cloth),
            MaskKind::Gas => Some(MaskStyle::Gas),
            MaskKind::Paper => None,
        }
    }

    /// The colour the kind itself fixes (the blue and green surgical masks).
    fn own_color(self) -> Option<[u8; 3]> {
        match self {
            MaskKind::SurgicalBlue => Some(SURGICAL_BLUE),
            MaskKind::SurgicalGreen => Some(SURGICAL_GREEN),
            _ => None,
        }
    }
}

/// Named colours `--color` accepts besides `#RRGGBB`.
const NAMED_COLORS: [(&str, [u8; 3]); 16] = [
    ("white", [240, 240, 240]),
    ("black", [30, 30, 32]),
    ("grey", [150, 150, 154]),
    ("gray", [150, 150, 154]),
    ("blue", [4, 115, 226]),
    ("sky_blue", [135, 206, 235]),
    ("light_blue", [158, 202, 230]),
    ("navy", [38, 48, 88]),
    ("green", [70, 160, 90]),
    ("mint", [168, 216, 198]),
    ("red", [200, 40, 48]),
    ("pink", [236, 160, 190]),
    ("purple", [110, 70, 140]),
    ("yellow", [236, 200, 60]),
    ("orange", [232, 128, 48]),
    ("beige", [205, 188, 160]),
];

/// A colour from `#RRGGBB`, `RRGGBB`, `#RGB` or a name (`white`, `black`,
/// `grey`, `blue`, `sky-blue`, `light-blue`, `navy`, `green`, `mint`, `red`,
/// `pink`, `purple`, `yellow`, `orange`, `beige`).
///
/// ```
/// use maskface_mask::parse_color;
/// assert_eq!(parse_color("#0473e2").unwrap(), [4, 115, 226]);
/// assert_eq!(parse_color("fff").unwrap(), [255, 255, 255]);
/// assert_eq!(parse_color("Sky-Blue").unwrap(), [135, 206, 235]);
/// assert!(parse_color("#12345").is_err());
/// ```
pub fn parse_color(text: &str) -> Result<[u8; 3], MaskError> {
    let t = text.trim();
    let hex = t.strip_prefix('#').unwrap_or(t);
    let key = hex.to_ascii_lowercase().replace('-', "_");
    if let Some((_, c)) = NAMED_COLORS.iter().find(|(n, _)| *n == key) {
        return Ok(*c);
    }
    let bad = || MaskError::InvalidParameter {
        name: "color",
        reason: format!(
            "`{text}` is neither #RRGGBB, #RGB nor a colour name ({})",
            NAMED_COLORS
                .iter()
                .map(|(n, _)| n.replace('_', "-"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let digit = |i: usize, n: usize| u8::from_str_radix(&hex[i..i + n], 16).map_err(|_| bad());
    match hex.len() {
        6 => Ok([digit(0, 2)?, digit(2, 2)?, digit(4, 2)?]),
        3 => Ok([digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17]),
        _ => Err(bad()),
    }
}

/// One mask a face can get: a kind, with optionally a colour and a texture
/// blended into it (an entry of MaskTheFace's `--code`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskChoice {
    /// The kind of mask.
    pub kind: MaskKind,
    /// A colour blended in with [`MaskMix::color_weight`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<[u8; 3]>,
    /// A texture blended in with [`MaskMix::texture_weight`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texture: Option<Texture>,
}

impl MaskChoice {
    /// A kind with neither colour nor texture.
    pub fn of(kind: MaskKind) -> Self {
        MaskChoice {
            kind,
            color: None,
            texture: None,
        }
    }

    /// Parses one `--code` entry: `TYPE`, `TYPE-#RRGGBB` (or a colour name
    /// after `#`) or `TYPE-TEXTURE_FILE`; only the first `-` separates, so a
    /// texture path may contain more. Texture files are read here.
    ///
    /// ```
    /// use maskface_mask::{MaskChoice, MaskKind};
    /// let c = MaskChoice::parse("cloth-#e54294").unwrap();
    /// assert_eq!((c.kind, c.color), (MaskKind::Cloth, Some([0xe5, 0x42, 0x94])));
    /// assert_eq!(MaskChoice::parse("KN95").unwrap().kind, MaskKind::Kn95);
    /// assert!(MaskChoice::parse("scarf").is_err());
    /// ```
    pub fn parse(entry: &str) -> Result<Self, MaskError> {
        let entry = entry.trim();
        let (kind_text, variation) = match entry.split_once('-') {
            // `surgical-blue` names a kind, not a variation.
            Some(_) if MaskKind::from_name(entry).is_some() => (entry, None),
            Some((k, v)) => (k, Some(v.trim())),
            None => (entry, None),
        };
        let kind = MaskKind::from_name(kind_text).ok_or_else(|| MaskError::InvalidParameter {
            name: "code",
            reason: format!(
                "`{entry}`: unknown mask type `{kind_text}` (one of {})",
                MaskKind::ALL.map(MaskKind::name).join(", ")
            ),
        })?;
        let mut choice = MaskChoice::of(kind);
        match variation {
            None | Some("") => {}
            Some(v) if v.starts_with('#') => choice.color = Some(parse_color(v)?),
            Some(v) => choice.texture = Some(Texture::from_file(v.as_ref())?),
        }
        Ok(choice)
    }

    /// The name in file names: the kind's.
    pub fn label(&self) -> &'static str {
        self.kind.name()
    }
}

/// Parses a whole `--code` list: entries separated by commas, each as
/// [`MaskChoice::parse`].
pub fn parse_code(code: &str) -> Result<Vec<MaskChoice>, MaskError> {
    let choices: Vec<MaskChoice> = code
        .split(',')
        .filter(|e| !e.trim().is_empty())
        .map(MaskChoice::parse)
        .collect::<Result<_, _>>()?;
    if choices.is_empty() {
        return Err(MaskError::InvalidParameter {
            name: "code",
            reason: format!("`{code}` lists no mask"),
        });
    }
    Ok(choices)
}

/// Where masks sit on the faces: each [`MaskFit`] with a weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitMix(pub Vec<(MaskFit, f64)>);

impl Default for FitMix {
    /// Every mask worn properly.
    fn default() -> Self {
        FitMix(vec![(MaskFit::Proper, 1.0)])
    }
}

impl FitMix {
    /// A preset meant to look like faces in a street: most masks worn
    /// properly, some under the nose, a few pulled down on the chin
    /// (0.75 / 0.17 / 0.08). The weights are round figures chosen for
    /// variety, not measured; give your own with [`FitMix::parse`].
    pub fn worn() -> Self {
        FitMix(vec![
            (MaskFit::Proper, 0.75),
            (MaskFit::NoseOut, 0.17),
            (MaskFit::Chin, 0.08),
        ])
    }

    /// Parses `proper`, `nose-out`, `chin`, `worn` (the preset), or a
    /// weighted list `proper=0.8,nose-out=0.15,chin=0.05` (weights need not
    /// sum to 1; a fit without `=` weighs 1).
    ///
    /// ```
    /// use maskface_mask::{FitMix, MaskFit};
    /// let mix = FitMix::parse("proper=3,chin=1").unwrap();
    /// assert_eq!(mix.0, vec![(MaskFit::Proper, 3.0), (MaskFit::Chin, 1.0)]);
    /// assert!(FitMix::parse("chin=-1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, MaskError> {
        if text.trim().eq_ignore_ascii_case("worn") {
            return Ok(FitMix::worn());
        }
        let bad = |reason: String| MaskError::InvalidParameter {
            name: "fit",
            reason,
        };
        let mut out = Vec::new();
        for entry in text.split(',').filter(|e| !e.trim().is_empty()) {
            let (name, weight) = match entry.split_once('=') {
                Some((n, w)) => (
                    n,
                    w.trim()
                        .parse::<f64>()
                        .map_err(|e| bad(format!("`{entry}`: {e}")))?,
                ),
                None => (entry, 1.0),
            };
            let fit = MaskFit::from_name(name.trim()).ok_or_else(|| {
                bad(format!(
                    "`{name}` is not a fit (proper, nose-out, chin, or worn)"
                ))
            })?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(bad(format!("`{entry}`: a weight must be 0 or more")));
            }
            out.push((fit, weight));
        }
        let mix = FitMix(out);
        mix.validate()?;
        Ok(mix)
    }

    fn validate(&self) -> Result<(), MaskError> {
        let total: f64 = self.0.iter().map(|(_, w)| w).sum();
        if self.0.is_empty() || !(total.is_finite() && total > 0.0) {
            return Err(MaskError::InvalidParameter {
                name: "fit",
                reason: "at least one fit needs a weight above 0".into(),
            });
        }
        Ok(())
    }

    /// Draws a fit with probability proportional to its weight.
    fn draw(&self, rng: &mut dyn RngCore) -> MaskFit {
        let total: f64 = self.0.iter().map(|(_, w)| w).sum();
        let mut u = rng.random::<f64>() * total;
        for (fit, w) in &self.0 {
            if u < *w {
                return *fit;
            }
            u -= w;
        }
        self.0
            .iter()
            .rev()
            .find(|(_, w)| *w > 0.0)
            .map_or(MaskFit::Proper, |(f, _)| *f)
    }
}

/// The masks of a photo's faces: per face a [`MaskChoice`] drawn uniformly
/// from `choices` and a [`MaskFit`] drawn from `fits`; a choice's colour
/// and texture are blended in with the weights (MaskTheFace's
/// `--color_weight` and `--pattern_weight`, 0.5 by default there and here).
///
/// Every draw comes from the `rng` given to [`MaskRenderer::render`], so a
/// seed gives byte-identical faces. The description adds `"choice"` (the
/// kind's name) and `"fit"` to the renderer's own record.
///
/// ```
/// use maskface_core::{Landmarks68, MaskRenderer, Point2, rng_for};
/// use maskface_mask::{MaskChoice, MaskKind, MaskMix};
///
/// let pts = (0..68)
///     .map(|i| {
///         let t = i as f32 / 68.0 * std::f32::consts::TAU;
///         Point2::new(50.0 + 30.0 * t.cos(), 50.0 + 30.0 * t.sin())
///     })
///     .collect();
/// let face = Landmarks68::new(pts).unwrap();
/// let image = image::RgbImage::from_pixel(100, 100, image::Rgb([128, 128, 128]));
/// let mix = MaskMix::of(MaskKind::Kn95);
/// let masked = mix.render(&image, &face, &mut rng_for(1, "doc")).unwrap();
/// assert!(masked.description.contains("\"choice\":\"kn95\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskMix {
    /// The masks drawn from, uniformly.
    pub choices: Vec<MaskChoice>,
    /// How much of a choice's colour replaces the mask's own, in `0..=1`.
    pub color_weight: f32,
    /// How much of a choice's texture replaces the mask's own colour, in `0..=1`.
    pub texture_weight: f32,
    /// Where the masks sit.
    pub fits: FitMix,
    /// Whether ear loops (straps on the gas mask) are painted.
    pub ear_loops: bool,
}

impl Default for MaskMix {
    /// Surgical masks in their own colours, worn properly.
    fn default() -> Self {
        MaskMix::of(MaskKind::Surgical)
    }
}

impl MaskMix {
    /// One kind, with the default weights, worn properly.
    pub fn of(kind: MaskKind) -> Self {
        MaskMix {
            choices: vec![MaskChoice::of(kind)],
            color_weight: 0.5,
            texture_weight: 0.5,
            fits: FitMix::default(),
            ear_loops: true,
        }
    }

    fn validate(&self) -> Result<(), MaskError> {
        if self.choices.is_empty() {
            return Err(MaskError::InvalidParameter {
                name: "choices",
                reason: "at least one mask to draw from is needed".into(),
            });
        }
        crate::styles::check_weights(self.color_weight, self.texture_weight)?;
        self.fits.validate()
    }

    /// The realistic renderer one choice and fit stand for.
    fn realistic(&self, choice: &MaskChoice, style: MaskStyle, fit: MaskFit) -> RealisticMask {
        let own = choice.kind.own_color();
        // A kind's own colour (blue, green surgical) is its body colour; a
        // chosen colour is blended into it (or into the palette's).
        let (colors, color_weight) = match (own, choice.color) {
            (Some(o), Some(c)) => (Some(vec![mix_rgb(o, c, self.color_weight)]), 1.0),
            (Some(o), None) => (Some(vec![o]), 1.0),
            (None, Some(c)) => (Some(vec![c]), self.color_weight),
            (None, None) => (None, 1.0),
        };
        RealisticMask {
            styles: vec![style],
            colors,
            color_weight,
            texture: choice.texture.clone(),
            texture_weight: self.texture_weight,
            fit,
            ear_loops: self.ear_loops,
            ..RealisticMask::default()
        }
    }
}

fn mix_rgb(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    std::array::from_fn(|i| {
        (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

impl MaskRenderer for MaskMix {
    type Error = MaskError;

    fn describe(&self) -> serde_json::Value {
        crate::MaskSpec::Mix(self.clone()).to_json()
    }

    fn render(
        &self,
        image: &RgbImage,
        landmarks: &Landmarks68,
        rng: &mut dyn RngCore,
    ) -> Result<MaskedFace, MaskError> {
        self.validate()?;
        let choice = &self.choices[rng.random_range(0..self.choices.len())];
        let fit = self.fits.draw(rng);
        let mut masked = match choice.kind.style() {
            Some(style) => self
                .realistic(choice, style, fit)
                .render(image, landmarks, rng)?,
            // The paper's polygon is fixed by its landmarks: it has one fit.
            None => PaperMask::default().render(image, landmarks, rng)?,
        };
        let mut record: serde_json::Value =
            serde_json::from_str(&masked.description).unwrap_or_else(|_| serde_json::json!({}));
        if let Some(obj) = record.as_object_mut() {
            obj.insert("choice".into(), choice.label().into());
            let fit = if choice.kind == MaskKind::Paper {
                MaskFit::Proper
            } else {
                fit
            };
            obj.insert("fit".into(), fit.name().into());
        }
        masked.description = record.to_string();
        Ok(masked)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use maskface_core::rng_for;

    use crate::test_faces::circle_face as face;

    fn records(mix: &MaskMix, n: u64) -> Vec<serde_json::Value> {
        crate::test_faces::descriptions(mix, n, "mix")
    }

    #[test]
    fn every_kind_parses_by_its_name_and_maskthefaces_spelling() {
        for k in MaskKind::ALL {
            assert_eq!(MaskKind::from_name(k.name()), Some(k));
            assert_eq!(MaskKind::from_name(&k.name().to_uppercase()), Some(k));
        }
        assert_eq!(
            MaskKind::from_name("surgical-green"),
            Some(MaskKind::SurgicalGreen)
        );
        assert_eq!(MaskKind::from_name("N95"), Some(MaskKind::N95));
        assert_eq!(MaskKind::from_name("mask"), None);
    }

    #[test]
    fn code_entries_take_colours_names_and_textures() {
        let dir = tempfile::tempdir().unwrap();
        let tex = dir.path().join("my-check.png");
        RgbImage::from_pixel(4, 4, image::Rgb([9, 9, 9]))
            .save(&tex)
            .unwrap();
        let code = format!(
            "cloth-#e54294, N95, surgical_blue, cloth-{}, kn95-#white",
            tex.display()
        );
        let c = parse_code(&code).unwrap();
        assert_eq!(c.len(), 5);
        assert_eq!(c[0].color, Some([0xe5, 0x42, 0x94]));
        assert_eq!(
            (c[1].kind, c[2].kind),
            (MaskKind::N95, MaskKind::SurgicalBlue)
        );
        assert_eq!(c[3].texture.as_ref().unwrap().name, "my-check.png");
        assert_eq!(c[4].color, Some([240, 240, 240]));
        let err = parse_code("cloth-/no/such/texture.png").unwrap_err();
        assert!(err.to_string().contains("texture.png"), "{err}");
        assert!(parse_code(" , ").is_err());
        assert!(parse_code("cloth-#zzzzzz")
            .unwrap_err()
            .to_string()
            .contains("color"));
    }

    #[test]
    fn choices_are_drawn_uniformly_and_reproducibly() {
        let mix = MaskMix {
            choices: parse_code("surgical, n95, cloth, gas").unwrap(),
            ..MaskMix::default()
        };
        let a = records(&mix, 400);
        assert_eq!(a, records(&mix, 400), "same seeds, same draws");
        for kind in ["surgical", "n95", "cloth", "gas"] {
            let n = a.iter().filter(|r| r["choice"] == kind).count();
            // 100 expected; 3 standard deviations is 26.
            assert!((74..=126).contains(&n), "{kind}: {n}");
        }
    }

    #[test]
    fn fits_follow_their_weights() {
        let mix = MaskMix {
            fits: FitMix::parse("proper=1,nose-out=1,chin=2").unwrap(),
            ..MaskMix::default()
        };
        let r = records(&mix, 400);
        let count = |f: &str| r.iter().filter(|x| x["fit"] == f).count();
        // 100 / 100 / 200 expected.
        assert!((72..=128).contains(&count("proper")), "{}", count("proper"));
        assert!(
            (72..=128).contains(&count("nose_out")),
            "{}",
            count("nose_out")
        );
        assert!((170..=230).contains(&count("chin")), "{}", count("chin"));
        assert_eq!(FitMix::parse("worn").unwrap(), FitMix::worn());
        assert!(FitMix::parse("proper=0").is_err());
        assert!(FitMix::parse("sideways")
            .unwrap_err()
            .to_string()
            .contains("fit"));
    }

    #[test]
    fn a_colour_is_blended_with_its_weight() {
        let (image, face) = face();
        let body = |w: f32| {
            let mix = MaskMix {
                choices: vec![MaskChoice {
                    kind: MaskKind::SurgicalBlue,
                    color: Some([255, 0, 0]),
                    texture: None,
                }],
                color_weight: w,
                ..MaskMix::default()
            };
            let r: serde_json::Value = serde_json::from_str(
                &mix.render(&image, &face, &mut rng_for(5, "w"))
                    .unwrap()
                    .description,
            )
            .unwrap();
            r["color"].clone()
        };
        assert_eq!(body(0.0), serde_json::json!(SURGICAL_BLUE));
        assert_eq!(body(1.0), serde_json::json!([255, 0, 0]));
        assert_eq!(
            body(0.5),
            serde_json::json!(mix_rgb(SURGICAL_BLUE, [255, 0, 0], 0.5))
        );
        let bad = MaskMix {
            color_weight: 1.5,
            ..MaskMix::default()
        };
        let err = bad.render(&image, &face, &mut rng_for(1, "x")).unwrap_err();
        assert!(err.to_string().contains("color_weight"), "{err}");
    }

    #[test]
    fn the_mix_round_trips_through_the_spec() {
        let mix = MaskMix {
            choices: parse_code("cloth-#ff0000, gas, paper").unwrap(),
            fits: FitMix::worn(),
            ..MaskMix::default()
        };
        let spec = crate::MaskSpec::Mix(mix.clone());
        let back: crate::MaskSpec = serde_json::from_value(spec.to_json()).unwrap();
        assert_eq!(back, spec);
        assert_eq!(spec.to_json()["kind"], "mix");
    }
}
