use std::error::Error;
use std::sync::OnceLock;

use ab_glyph::FontRef;
use image::RgbImage;
use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontDesc, FontStyle, FontTransform, IntoFont, RGBColor};

use crate::glyphs::GlyphBitmap;
use crate::PlotError;

/// The picture a chart is drawn on.
pub(crate) type Area<'a> = DrawingArea<GlyphBitmap<'a>, Shift>;

/// The name the embedded font is registered under in plotters' font table,
/// which is global to the process: a name of our own leaves any font
/// another library registers as "sans-serif" alone.
const FONT: &str = "maskface-dejavu-sans";

pub(crate) const WHITE: RGBColor = RGBColor(255, 255, 255);
pub(crate) const BLACK: RGBColor = RGBColor(0, 0, 0);
/// Grid lines: visible, but lighter than any series.
pub(crate) const GREY: RGBColor = RGBColor(200, 200, 200);
/// Minor grid lines (between the decades of a logarithmic axis).
pub(crate) const LIGHT_GREY: RGBColor = RGBColor(235, 235, 235);

/// The band above a chart's plotting area that holds the title.
pub(crate) const TITLE_BAND: u32 = 34;
/// Text sizes in pixels (the height of the font's em square).
pub(crate) const TITLE_PX: f64 = 18.0;
pub(crate) const LABEL_PX: f64 = 13.0;

/// What a chart's drawing code returns: any plotters error, turned into
/// [`PlotError::Draw`] by [`render`].
pub(crate) type DrawResult = Result<(), Box<dyn Error>>;

/// The embedded DejaVu Sans at `px` pixels.
pub(crate) fn font(px: f64) -> FontDesc<'static> {
    (FONT, px).into_font()
}

/// The width and height, in pixels, of `text` in the embedded font at `px`.
pub(crate) fn text_size(px: f64, text: &str) -> Result<(u32, u32), PlotError> {
    register_dejavu()?;
    font(px)
        .box_size(text)
        .map_err(|e| PlotError::Font(e.to_string()))
}

/// Writes a chart's title centred at the top.
pub(crate) fn title(area: &Area<'_>, text: &str) -> DrawResult {
    let style = font(TITLE_PX)
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let (width, _) = area.dim_in_pixel();
    area.draw_text(text, &style, (width as i32 / 2, 8))?;
    Ok(())
}

/// Writes each label reading bottom to top, hanging from `(x, y)`: its
/// last letter at `y`, centred on `x`. (plotters' axes centre a rotated
/// label on its tick, which sends long labels up into the chart.)
pub(crate) fn hanging_labels<'s>(
    area: &Area<'_>,
    labels: impl IntoIterator<Item = ((i32, i32), &'s str)>,
    px: f64,
) -> DrawResult {
    let style = font(px)
        .transform(FontTransform::Rotate270)
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (at, label) in labels {
        area.draw_text(label, &style, at)?;
    }
    Ok(())
}

/// Registers the embedded font with plotters, once per process: plotters
/// measures text (and so lays charts out) with it.
fn register_dejavu() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font("DejaVu Sans could not be parsed".into()))
    }
}

/// Draws a `width` x `height` chart with `draw` on a white bitmap and hands
/// the pixels back as an image.
pub(crate) fn render(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<RgbImage, PlotError> {
    if width < 16 || height < 16 {
        return Err(PlotError::InvalidParameter {
            name: "size",
            reason: format!("{width}x{height} is too small (at least 16x16)"),
        });
    }
    register_dejavu()?;
    let font = FontRef::try_from_slice(dejavu::sans::regular())
        .map_err(|e| PlotError::Font(e.to_string()))?;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let bitmap = BitMapBackend::with_buffer(&mut pixels, (width, height));
        let root = GlyphBitmap::new(bitmap, font).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(Box::<dyn Error>::from)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Box::<dyn Error>::from));
        drawn.map_err(|e| PlotError::Draw(e.to_string()))?;
    }
    RgbImage::from_raw(width, height, pixels)
        .ok_or_else(|| PlotError::Draw(format!("the bitmap is smaller than {width}x{height}")))
}
