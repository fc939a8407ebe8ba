use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::backend::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

type Drawn = Result<(), DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

/// plotters' bitmap backend with its text set properly.
///
/// plotters 0.3.7 draws ab_glyph text with each glyph's outline at the
/// start of its advance, ignoring the glyph's side bearing, so narrow
/// letters slip left ("i dentification", "FPIR )"). Here every glyph is
/// drawn where ab_glyph places it; everything else, and every measurement
/// plotters lays a chart out by, is plotters' own.
pub(crate) struct GlyphBitmap<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> GlyphBitmap<'a> {
    pub(crate) fn new(inner: BitMapBackend<'a>, font: FontRef<'static>) -> Self {
        GlyphBitmap { inner, font }
    }
}

impl<'a> DrawingBackend for GlyphBitmap<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Drawn {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Drawn {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Drawn {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Drawn {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Drawn {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// Anchors and rotation as plotters' default `draw_text` applies them
    /// to the box plotters measured; inside the box, the baseline sits where
    /// the font's ascent and descent put it.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Drawn {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        } - min_x;
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        } - min_y;
        let font = self.font.as_scaled(PxScale::from(style.size() as f32));
        let baseline = height as f32 * font.ascent() / (font.ascent() - font.descent());
        let transform = style.transform();
        let mut coverage = Vec::new();
        let mut caret = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(font.scale(), point(caret, baseline));
            caret += font.h_advance(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                let corner = outline.px_bounds().min;
                let (x0, y0) = (corner.x as i32, corner.y as i32);
                outline.draw(|x, y, c| coverage.push((x0 + x as i32, y0 + y as i32, c)));
            }
        }
        for (x, y, c) in coverage {
            let (x, y) = transform.transform(x + dx, y + dy);
            let ink = BackendColor {
                alpha: color.alpha * f64::from(c),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + x, pos.1 + y), ink)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use plotters::style::text_anchor::Pos;

    use super::*;
    use crate::drawing::{font, render, BLACK};

    #[test]
    fn a_glyph_keeps_its_side_bearing() {
        let px = 40.0;
        let img = render(100, 60, |root| {
            let style = font(px).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Top));
            root.draw_text("i", &style, (10, 10))?;
            Ok(())
        })
        .unwrap();
        let dejavu = FontRef::try_from_slice(dejavu::sans::regular()).unwrap();
        let scaled = dejavu.as_scaled(PxScale::from(px as f32));
        let bearing = scaled.h_side_bearing(scaled.glyph_id('i'));
        assert!(bearing > 2.0, "{bearing}");
        let first_ink = (0..100)
            .find(|&x| (0..60).any(|y| img.get_pixel(x, y).0[0] < 128))
            .unwrap();
        // plotters' own text drawing would put the stem at x = 10.
        assert!(
            (f64::from(first_ink) - (10.0 + f64::from(bearing))).abs() <= 1.0,
            "ink from {first_ink}, bearing {bearing}"
        );
    }
}
