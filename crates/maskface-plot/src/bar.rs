use image::{Rgb, RgbImage};
use plotters::chart::ChartBuilder;
use plotters::element::Rectangle;
use plotters::style::{Color, RGBColor};

use crate::axes::{nice_step, tick_label, Categories};
use crate::drawing::{
    font, hanging_labels, render, text_size, title, BLACK, GREY, LABEL_PX, TITLE_BAND,
};
use crate::PlotError;

/// Room around the plotting area (below the title band; the bottom depends
/// on the labels), in pixels: tick labels and the y label on the left.
const LEFT: u32 = 60;
const RIGHT: u32 = 10;

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
        let n = self.bars.len() as u32;
        let mut widest = 0;
        for (label, _) in &self.bars {
            widest = widest.max(text_size(LABEL_PX, label)?.0);
        }
        let vertical = widest + 4 > width.saturating_sub(LEFT + RIGHT) / n;
        let label_h = if vertical {
            widest.min(height / 3) + 8
        } else {
            22
        };
        let bottom = label_h + 4;
        if width <= LEFT + RIGHT + n || height <= TITLE_BAND + bottom + 10 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small for {n} bars"),
            });
        }
        let max = self.bars.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let step = nice_step(max, 5);
        let y_max = ((max / step).ceil() * step).max(step);
        // Each bar fills four fifths of its slot.
        let slot = f64::from(width - LEFT - RIGHT) / f64::from(n);
        let gap = (slot * 0.1).round() as u32;
        let [r, g, b] = self.color.0;
        let color = RGBColor(r, g, b);

        render(width, height, |root| {
            title(root, &self.title)?;
            let mut chart = ChartBuilder::on(root)
                .margin_top(TITLE_BAND)
                .margin_right(RIGHT)
                .x_label_area_size(bottom)
                .y_label_area_size(LEFT)
                .build_cartesian_2d(Categories::new(self.bars.len()), 0.0..y_max)?;
            let bar_label = |v: &f64| {
                self.bars
                    .get(Categories::index(*v))
                    .map_or_else(String::new, |(label, _)| label.clone())
            };
            chart
                .configure_mesh()
                .disable_x_mesh()
                // Vertical labels are written below, hanging from the axis.
                .x_labels(if vertical { 0 } else { self.bars.len() })
                .x_label_formatter(&bar_label)
                .y_labels(6)
                .y_label_formatter(&|v| tick_label(*v))
                .label_style(font(LABEL_PX))
                .axis_desc_style(font(LABEL_PX))
                .y_desc(self.y_label.as_str())
                .axis_style(BLACK)
                .bold_line_style(GREY)
                .max_light_lines(0)
                .draw()?;
            chart.draw_series(self.bars.iter().enumerate().map(|(i, (_, v))| {
                let mut bar =
                    Rectangle::new([(i as f64, 0.0), (i as f64 + 1.0, *v)], color.filled());
                bar.set_margin(0, 0, gap, gap);
                bar
            }))?;
            if vertical {
                let labels = self.bars.iter().enumerate().map(|(i, (label, _))| {
                    let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
                    ((x, y + 4), label.as_str())
                });
                hanging_labels(root, labels, LABEL_PX)?;
            }
            Ok(())
        })
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
    fn bars_reach_their_values_on_the_axis() {
        // Values 1 and 4: the axis runs 0..4, bars fill 4/5 of their slots.
        let chart = BarChart::new("t")
            .bars(vec![("a".into(), 1.0), ("b".into(), 4.0)])
            .color([10, 20, 30]);
        let img = chart.render(300, 200).unwrap();
        let column = |x: u32| -> Vec<u32> {
            (0..200)
                .filter(|&y| img.get_pixel(x, y).0 == [10, 20, 30])
                .collect()
        };
        // The plotting area: x 60..=289, y 34 (value 4) down to 173 (0,
        // where the grid line stays visible under the bars).
        let (top, bottom) = (34.0, 172.0);
        let a = column(60 + 57);
        let b = column(60 + 172);
        assert_eq!(a.last(), b.last());
        assert_eq!(*b.last().unwrap(), bottom as u32);
        assert_eq!(b[0], top as u32);
        let a_top = (bottom + 1.0) - (bottom + 1.0 - top) / 4.0;
        assert!(
            (f64::from(a[0]) - a_top).abs() <= 1.0,
            "{} vs {a_top}",
            a[0]
        );
        // The gap between the bars is white.
        assert_eq!(img.get_pixel(60 + 115, 150).0, [255, 255, 255]);
    }

    #[test]
    fn rejects_empty_and_negative() {
        assert!(BarChart::new("t").render(100, 100).is_err());
        let neg = BarChart::new("t").bars(vec![("a".into(), -1.0)]);
        assert!(neg.render(100, 100).is_err());
    }
}
