use image::{Rgb, RgbImage};

use crate::canvas::{nice_step, Canvas, BLACK};
use crate::PlotError;

/// A vertical bar chart with a title, a y axis with ticks and one label per
/// bar (written vertically when the bars are narrow).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    title: String,
    y_label: String,
    bars: Vec<(String, f64)>,
    color: Rgb<u8>,
}

impl BarChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        BarChart {
            title: title.into(),
            y_label: String::new(),
            bars: Vec::new(),
            color: Rgb([70, 110, 180]),
        }
    }

    /// Sets the bars: `(label, value)`, values `>= 0`.
    pub fn bars(mut self, bars: Vec<(String, f64)>) -> Self {
        self.bars = bars;
        self
    }

    /// Sets the y axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Sets the bar colour.
    pub fn color(mut self, color: [u8; 3]) -> Self {
        self.color = Rgb(color);
        self
    }

    /// Draws the chart on a `width` x `height` white image.
    pub fn render(&self, width: u32, height: u32) -> Result<RgbImage, PlotError> {
        if self.bars.is_empty() {
            return Err(PlotError::InvalidParameter {
                name: "bars",
                reason: "a bar chart needs at least one bar".into(),
            });
        }
        if let Some((l, v)) = self.bars.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            return Err(PlotError::InvalidParameter {
                name: "bars",
                reason: format!("bar `{l}` has value {v}; values must be finite and >= 0"),
            });
        }
        let mut c = Canvas::new(width, height)?;
        let font = 13.0;
        let n = self.bars.len() as u32;
        let vertical = {
            let slot = width.saturating_sub(70) / n;
            let widest = self
                .bars
                .iter()
                .map(|(l, _)| c.text_size(font, l).0)
                .max()
                .unwrap_or(0);
            widest + 4 > slot
        };
        let label_h = if vertical {
            self.bars
                .iter()
                .map(|(l, _)| c.text_size(font, l).0)
                .max()
                .unwrap_or(0)
                .min(height / 3)
                + 8
        } else {
            22
        };
        let (left, right, top) = (60u32, 10u32, 34u32);
        let bottom = label_h + 4;
        if width <= left + right + n || height <= top + bottom + 10 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small for {n} bars"),
            });
        }
        let plot_w = width - left - right;
        let plot_h = height - top - bottom;

        c.text_centered(width as i32 / 2, 8, 18.0, BLACK, &self.title);
        let max = self.bars.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let step = nice_step(max, 5);
        let y_max = ((max / step).ceil() * step).max(step);
        let y_of = |v: f64| top as f32 + plot_h as f32 * (1.0 - (v / y_max) as f32);

        let mut tick = 0.0;
        while tick <= y_max + step * 1e-9 {
            let text = if step.fract() == 0.0 {
                format!("{tick:.0}")
            } else {
                format!("{tick:.2}")
            };
            c.y_tick(left, (left + plot_w) as f32, y_of(tick), font, &text);
            tick += step;
        }
        if !self.y_label.is_empty() {
            let (tw, _) = c.text_size(font, &self.y_label);
            let y = (top + plot_h / 2) as i32 - tw as i32 / 2;
            c.text_vertical(2, y, font, BLACK, &self.y_label);
        }

        let slot = plot_w as f32 / n as f32;
        let bar_w = (slot * 0.8).max(1.0);
        for (i, (label, v)) in self.bars.iter().enumerate() {
            let x0 = left as f32 + slot * i as f32 + (slot - bar_w) / 2.0;
            let y0 = y_of(*v);
            let h = (top + plot_h) as f32 - y0;
            c.rect(
                x0.round() as i32,
                y0.round() as i32,
                bar_w.round() as u32,
                h.round() as u32,
                self.color,
            );
            let cx = x0 + bar_w / 2.0;
            if vertical {
                let (_, th) = c.text_size(font, label);
                c.text_vertical(
                    cx as i32 - th as i32 / 2,
                    (top + plot_h + 4) as i32,
                    font,
                    BLACK,
                    label,
                );
            } else {
                c.text_centered(cx as i32, (top + plot_h + 4) as i32, font, BLACK, label);
            }
        }
        let axis_y = (top + plot_h) as f32;
        c.line((left as f32, top as f32), (left as f32, axis_y), BLACK);
        c.line(
            (left as f32, axis_y),
            ((left + plot_w) as f32, axis_y),
            BLACK,
        );
        Ok(c.img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taller_bar_has_more_bar_pixels() {
        let chart = BarChart::new("t").bars(vec![("a".into(), 1.0), ("b".into(), 4.0)]);
        let img = chart.render(300, 200).unwrap();
        let color = [70, 110, 180];
        let count = |x0: u32, x1: u32| {
            (x0..x1)
                .flat_map(|x| (0..200).map(move |y| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0 == color)
                .count()
        };
        let (a, b) = (count(60, 175), count(175, 290));
        assert!(a > 0);
        assert!((b as f64 / a as f64 - 4.0).abs() < 0.3, "a={a} b={b}");
    }

    #[test]
    fn rejects_empty_and_negative() {
        assert!(BarChart::new("t").render(100, 100).is_err());
        let neg = BarChart::new("t").bars(vec![("a".into(), -1.0)]);
        assert!(neg.render(100, 100).is_err());
    }
}
