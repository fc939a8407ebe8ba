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
/// explained variance, ROC curves), with ticks and a legend. Either axis may
/// be logarithmic (decade ticks), as open-set ROC and DET curves are drawn;
/// points at or below zero on a logarithmic axis are left out.
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
    log_x: bool,
    log_y: bool,
}

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            log_x: false,
            log_y: false,
        }
    }

    /// Draws the x axis on a base-10 logarithmic scale.
    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    /// Draws the y axis on a base-10 logarithmic scale.
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
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
        let axis = |v: f64, log: bool| if log { v.log10() } else { v };
        // Every series in plotting coordinates (log10 on a log axis).
        let series: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|(_, pts)| {
                pts.iter()
                    .filter(|(x, y)| !(self.log_x && *x <= 0.0 || self.log_y && *y <= 0.0))
                    .map(|&(x, y)| (axis(x, self.log_x), axis(y, self.log_y)))
                    .collect()
            })
            .collect();
        let points: Vec<(f64, f64)> = series.iter().flatten().copied().collect();
        if points.is_empty() {
            return Err(PlotError::InvalidParameter {
                name: "series",
                reason: "a line chart needs at least one point (above zero on a log axis)".into(),
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
        let x_ticks = Ticks::new(
            fold(f64::min, f64::INFINITY, |p| p.0),
            fold(f64::max, f64::NEG_INFINITY, |p| p.0),
            self.log_x,
            6,
            false,
        );
        let y_ticks = Ticks::new(
            fold(f64::min, f64::INFINITY, |p| p.1),
            fold(f64::max, f64::NEG_INFINITY, |p| p.1),
            self.log_y,
            5,
            true,
        );
        let px = |x: f64| left as f32 + (pw * x_ticks.fraction(x)) as f32;
        let py = |y: f64| top as f32 + (ph * (1.0 - y_ticks.fraction(y))) as f32;

        c.text_centered(width as i32 / 2, 8, 18.0, BLACK, &self.title);
        for (y, text) in y_ticks.labelled() {
            c.y_tick(left, (width - right) as f32, py(y), font, &text);
        }
        for (x, text) in x_ticks.labelled() {
            let xx = px(x);
            c.line(
                (xx, (height - bottom) as f32),
                (xx, (height - bottom + 4) as f32),
                BLACK,
            );
            c.text_centered(xx as i32, (height - bottom + 6) as i32, font, BLACK, &text);
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
        for (k, ((name, _), pts)) in self.series.iter().zip(&series).enumerate() {
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

/// The ticks of one axis, in plotting coordinates.
struct Ticks {
    min: f64,
    max: f64,
    step: f64,
    log: bool,
}

impl Ticks {
    /// A linear axis starts at zero when `from_zero` and the data are
    /// positive; a log axis spans whole decades.
    fn new(lo: f64, hi: f64, log: bool, n: usize, from_zero: bool) -> Self {
        if log {
            let (min, max) = (lo.floor(), hi.ceil());
            return Ticks {
                min,
                max: if max > min { max } else { min + 1.0 },
                step: 1.0,
                log,
            };
        }
        let lo = if from_zero { lo.min(0.0) } else { lo };
        if !from_zero {
            let span = if hi > lo { hi - lo } else { 1.0 };
            return Ticks {
                min: lo,
                max: lo + span,
                step: nice_step(span, n),
                log,
            };
        }
        let step = nice_step(hi - lo, n);
        let min = (lo / step).floor() * step;
        Ticks {
            min,
            max: ((hi / step).ceil() * step).max(min + step),
            step,
            log,
        }
    }

    fn fraction(&self, v: f64) -> f64 {
        (v - self.min) / (self.max - self.min)
    }

    /// Tick positions with their labels: multiples of the step inside the
    /// range, or every decade.
    fn labelled(&self) -> Vec<(f64, String)> {
        let mut out = Vec::new();
        let mut v = (self.min / self.step).ceil() * self.step;
        while v <= self.max + self.step * 1e-9 {
            let text = if self.log {
                let p = 10f64.powi(v.round() as i32);
                if v >= 0.0 {
                    format!("{p:.0}")
                } else {
                    format!("{p:.*}", (-v.round()) as usize)
                }
            } else if self.step.fract() == 0.0 && v.fract() == 0.0 {
                format!("{v:.0}")
            } else if self.step >= 0.1 {
                format!("{v:.1}")
            } else {
                format!("{v:.2}")
            };
            out.push((v, text));
            v += self.step;
        }
        out
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

    #[test]
    fn log_axes_tick_decades_and_drop_points_at_zero() {
        let t = Ticks::new(-2.6, -0.1, true, 6, false);
        let labels: Vec<String> = t.labelled().into_iter().map(|(_, s)| s).collect();
        assert_eq!(labels, ["0.001", "0.01", "0.1", "1"]);
        assert_eq!(t.fraction(-3.0), 0.0);
        assert_eq!(t.fraction(0.0), 1.0);
        let lin = Ticks::new(0.2, 0.9, false, 5, true);
        assert_eq!((lin.min, lin.step), (0.0, 0.2));
        let chart = LineChart::new("DET")
            .series("a", vec![(0.0, 0.5), (0.001, 0.5), (0.1, 0.05), (1.0, 0.0)])
            .log_x()
            .log_y();
        assert!(chart.render(300, 200).is_ok());
        let only_zero = LineChart::new("t").series("a", vec![(0.0, 1.0)]).log_x();
        assert!(only_zero.render(300, 200).is_err());
    }
}
