use image::{Rgb, RgbImage};

use crate::canvas::{nice_step, Canvas, BLACK};
use crate::PlotError;

/// Colours given to the series in turn.
const PALETTE: [[u8; 3]; 6] = [
    [70, 110, 180],
    [210, 90, 60],
    [60, 150, 80],
    [150, 90, 170],
    [200, 160, 40],
    [90, 90, 90],
];

/// A line plot of one or more series over a shared x axis (loss curves,
/// explained variance, ROC curves), with ticks and a legend.
///
/// ```
/// use maskface_plot::LineChart;
///
/// let chart = LineChart::new("Explained variance")
///     .series("cumulative", vec![(1.0, 0.4), (2.0, 0.7), (3.0, 0.9)])
///     .x_label("components")
///     .y_label("fraction");
/// assert_eq!(chart.render(400, 300).unwrap().dimensions(), (400, 300));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<(String, Vec<(f64, f64)>)>,
}

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
        }
    }

    /// Adds a series of `(x, y)` points, drawn in the order given.
    pub fn series(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.series.push((name.into(), points));
        self
    }

    /// Sets the x axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Sets the y axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Draws the chart on a `width` x `height` white image.
    pub fn render(&self, width: u32, height: u32) -> Result<RgbImage, PlotError> {
        let points: Vec<(f64, f64)> = self.series.iter().flat_map(|(_, p)| p.clone()).collect();
        if points.is_empty() {
            return Err(PlotError::InvalidParameter {
                name: "series",
                reason: "a line chart needs at least one point".into(),
            });
        }
        if points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
            return Err(PlotError::InvalidParameter {
                name: "series",
                reason: "every point must be finite".into(),
            });
        }
        let (left, right, top, bottom) = (66u32, 14u32, 34u32, 44u32);
        if width <= left + right + 20 || height <= top + bottom + 20 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small for a line chart"),
            });
        }
        let mut c = Canvas::new(width, height)?;
        let font = 13.0;
        let (pw, ph) = (
            (width - left - right) as f64,
            (height - top - bottom) as f64,
        );
        let fold = |f: fn(f64, f64) -> f64, init: f64, sel: fn(&(f64, f64)) -> f64| {
            points.iter().map(sel).fold(init, f)
        };
        let (x_min, x_max) = (
            fold(f64::min, f64::INFINITY, |p| p.0),
            fold(f64::max, f64::NEG_INFINITY, |p| p.0),
        );
        let (y_lo, y_hi) = (
            fold(f64::min, f64::INFINITY, |p| p.1).min(0.0),
            fold(f64::max, f64::NEG_INFINITY, |p| p.1),
        );
        let x_span = if x_max > x_min { x_max - x_min } else { 1.0 };
        let y_step = nice_step(y_hi - y_lo, 5);
        let y_min = (y_lo / y_step).floor() * y_step;
        let y_max = ((y_hi / y_step).ceil() * y_step).max(y_min + y_step);
        let px = |x: f64| left as f32 + (pw * (x - x_min) / x_span) as f32;
        let py = |y: f64| top as f32 + (ph * (1.0 - (y - y_min) / (y_max - y_min))) as f32;

        c.text_centered(width as i32 / 2, 8, 18.0, BLACK, &self.title);
        let label = |v: f64, step: f64| {
            if step.fract() == 0.0 && v.fract() == 0.0 {
                format!("{v:.0}")
            } else if step >= 0.1 {
                format!("{v:.1}")
            } else {
                format!("{v:.2}")
            }
        };
        let mut y = y_min;
        while y <= y_max + y_step * 1e-9 {
            c.y_tick(left, (width - right) as f32, py(y), font, &label(y, y_step));
            y += y_step;
        }
        let x_step = nice_step(x_span, 6);
        let mut x = (x_min / x_step).ceil() * x_step;
        while x <= x_max + x_step * 1e-9 {
            let xx = px(x);
            c.line(
                (xx, (height - bottom) as f32),
                (xx, (height - bottom + 4) as f32),
                BLACK,
            );
            c.text_centered(
                xx as i32,
                (height - bottom + 6) as i32,
                font,
                BLACK,
                &label(x, x_step),
            );
            x += x_step;
        }
        c.line(
            (left as f32, (height - bottom) as f32),
            ((width - right) as f32, (height - bottom) as f32),
            BLACK,
        );
        c.line(
            (left as f32, top as f32),
            (left as f32, (height - bottom) as f32),
            BLACK,
        );
        if !self.x_label.is_empty() {
            c.text_centered(
                (left + (width - left - right) / 2) as i32,
                (height - 20) as i32,
                font,
                BLACK,
                &self.x_label,
            );
        }
        if !self.y_label.is_empty() {
            let (tw, _) = c.text_size(font, &self.y_label);
            c.text_vertical(
                2,
                (top as i32 + ph as i32 / 2) - tw as i32 / 2,
                font,
                BLACK,
                &self.y_label,
            );
        }
        for (k, (name, pts)) in self.series.iter().enumerate() {
            let color = Rgb(PALETTE[k % PALETTE.len()]);
            for w in pts.windows(2) {
                let (a, b) = ((px(w[0].0), py(w[0].1)), (px(w[1].0), py(w[1].1)));
                // Two pixels thick, so that the curve reads at a glance.
                c.line(a, b, color);
                c.line((a.0, a.1 + 1.0), (b.0, b.1 + 1.0), color);
            }
            if self.series.len() > 1 || !name.is_empty() {
                let ly = top as i32 + 6 + 18 * k as i32;
                let lx = (width - right) as i32 - 150;
                c.rect(lx, ly + 5, 16, 3, color);
                c.text(lx + 22, ly, font, BLACK, name);
            }
        }
        Ok(c.img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_series_in_their_colours_and_rejects_bad_data() {
        let img = LineChart::new("t")
            .series("a", vec![(0.0, 0.0), (10.0, 1.0)])
            .series("b", vec![(0.0, 1.0), (10.0, 0.0)])
            .render(300, 200)
            .unwrap();
        for c in &PALETTE[..2] {
            assert!(img.pixels().filter(|p| p.0 == *c).count() > 100, "{c:?}");
        }
        assert!(LineChart::new("t").render(300, 200).is_err());
        assert!(LineChart::new("t")
            .series("a", vec![(0.0, f64::NAN)])
            .render(300, 200)
            .is_err());
        assert!(LineChart::new("t")
            .series("a", vec![(0.0, 1.0)])
            .render(50, 50)
            .is_err());
    }
}
