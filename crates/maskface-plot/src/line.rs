use std::ops::Range;

use image::RgbImage;
use plotters::chart::{ChartBuilder, SeriesLabelPosition};
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::PathElement;
use plotters::series::LineSeries;
use plotters::style::{Color, RGBColor};

use crate::axes::{nice_step, tick_label};
use crate::drawing::{
    font, render, text_size, title, Area, DrawResult, BLACK, GREY, LABEL_PX, LIGHT_GREY,
    TITLE_BAND, WHITE,
};
use crate::PlotError;

/// Colours given to the series in turn.
const PALETTE: [RGBColor; 6] = [
    RGBColor(70, 110, 180),
    RGBColor(210, 90, 60),
    RGBColor(60, 150, 80),
    RGBColor(150, 90, 170),
    RGBColor(200, 160, 40),
    RGBColor(90, 90, 90),
];

/// Room around the plotting area (below the title band), in pixels: tick
/// labels and the y label on the left, tick labels and the x label below.
const LEFT: u32 = 66;
const RIGHT: u32 = 14;
const BOTTOM: u32 = 44;

/// A line plot of one or more series over a shared x axis (loss curves,
/// explained variance, ROC curves), with ticks and a legend. Either axis may
/// be logarithmic (decade ticks, minor grid lines at 2..9 times each
/// decade), as open-set ROC and DET curves are drawn; points at or below
/// zero on a logarithmic axis are left out.
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
        // Every series without the points a log axis cannot show.
        let series: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|(_, pts)| {
                pts.iter()
                    .filter(|(x, y)| !(self.log_x && *x <= 0.0 || self.log_y && *y <= 0.0))
                    .copied()
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
        if width <= LEFT + RIGHT + 20 || height <= TITLE_BAND + BOTTOM + 20 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small for a line chart"),
            });
        }
        let bounds = |sel: fn(&(f64, f64)) -> f64| {
            points
                .iter()
                .map(sel)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
        };
        let x = Axis::new(bounds(|p| p.0), self.log_x, false);
        let y = Axis::new(bounds(|p| p.1), self.log_y, true);
        render(width, height, |root| {
            title(root, &self.title)?;
            match (x.log, y.log) {
                (false, false) => self.draw(root, &series, (&x, x.linear()), (&y, y.linear())),
                (true, false) => self.draw(root, &series, (&x, x.decades()), (&y, y.linear())),
                (false, true) => self.draw(root, &series, (&x, x.linear()), (&y, y.decades())),
                (true, true) => self.draw(root, &series, (&x, x.decades()), (&y, y.decades())),
            }
        })
    }

    /// Draws the axes, the series and the legend on `root`, with the two
    /// axes' coordinate types (linear or logarithmic) given.
    fn draw<X, Y>(
        &self,
        root: &Area<'_>,
        series: &[Vec<(f64, f64)>],
        (x_axis, x): (&Axis, X),
        (y_axis, y): (&Axis, Y),
    ) -> DrawResult
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .margin_top(TITLE_BAND)
            .margin_right(RIGHT)
            .x_label_area_size(BOTTOM)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(x, y)?;
        let x_label = |v: &f64| x_axis.label(*v);
        let y_label = |v: &f64| y_axis.label(*v);
        chart
            .configure_mesh()
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style(font(LABEL_PX))
            .axis_desc_style(font(LABEL_PX))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_style(BLACK)
            .bold_line_style(GREY)
            .light_line_style(LIGHT_GREY)
            // Minor lines only where an axis names them: a log axis's
            // multiples of a decade.
            .max_light_lines(0)
            .draw()?;
        let mut named = Vec::new();
        for (k, ((name, _), points)) in self.series.iter().zip(series).enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            // Two pixels thick, so that the curve reads at a glance.
            let drawn = chart.draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?;
            if self.series.len() > 1 || !name.is_empty() {
                named.push(name.as_str());
                drawn.label(name.as_str()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(3))
                });
            }
        }
        if named.is_empty() {
            return Ok(());
        }
        // The legend goes in the corner the curves leave most free.
        let mut widest = 0;
        for name in &named {
            widest = widest.max(text_size(LABEL_PX, name)?.0 as i32);
        }
        let legend = (widest + 50, 20 * named.len() as i32 + 10);
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let on_curves: Vec<(i32, i32)> = series
            .iter()
            .flat_map(|points| {
                let pixels: Vec<_> = points.iter().map(|p| chart.backend_coord(p)).collect();
                along(&pixels)
            })
            .collect();
        let corner = [
            (SeriesLabelPosition::UpperRight, xs.end - legend.0, ys.start),
            (SeriesLabelPosition::UpperLeft, xs.start, ys.start),
            (
                SeriesLabelPosition::LowerRight,
                xs.end - legend.0,
                ys.end - legend.1,
            ),
            (SeriesLabelPosition::LowerLeft, xs.start, ys.end - legend.1),
        ]
        .into_iter()
        .min_by_key(|&(_, x, y)| {
            on_curves
                .iter()
                .filter(|p| (x..x + legend.0).contains(&p.0) && (y..y + legend.1).contains(&p.1))
                .count()
        })
        .map_or(SeriesLabelPosition::UpperRight, |(corner, _, _)| corner);
        chart
            .configure_series_labels()
            .position(corner)
            .label_font(font(LABEL_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()?;
        Ok(())
    }
}

/// Pixels every 4 pixels or so along a polyline, so that a long straight
/// segment counts where it crosses as much as a curve drawn point by point.
fn along(pixels: &[(i32, i32)]) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = pixels.first().copied().into_iter().collect();
    for w in pixels.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()) / 4).max(1);
        out.extend((1..=steps).map(|i| (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)));
    }
    out
}

/// The range of one axis in data units.
struct Axis {
    range: Range<f64>,
    log: bool,
}

impl Axis {
    /// A log axis spans whole decades; a linear one spans the data, from
    /// zero and out to a multiple of its tick step when `from_zero` (the y
    /// axis: values read against zero).
    fn new((lo, hi): (f64, f64), log: bool, from_zero: bool) -> Self {
        let range = if log {
            let (min, max) = (lo.log10().floor(), hi.log10().ceil());
            let max = if max > min { max } else { min + 1.0 };
            10f64.powf(min)..10f64.powf(max)
        } else if from_zero {
            let lo = lo.min(0.0);
            let step = nice_step(hi - lo, 5);
            let min = (lo / step).floor() * step;
            min..((hi / step).ceil() * step).max(min + step)
        } else {
            lo..if hi > lo { hi } else { lo + 1.0 }
        };
        Axis { range, log }
    }

    /// The range with plotters' own ticks.
    fn linear(&self) -> Range<f64> {
        self.range.clone()
    }

    /// The range on a log scale, ticked at every decade. The decades are
    /// given rather than left to plotters, whose float arithmetic drops
    /// the first decade of a range such as 0.0001..1.
    fn decades(&self) -> impl AsRangedCoord<Value = f64, CoordDescType: ValueFormatter<f64>> {
        let (first, last) = (
            Self::exponent(self.range.start),
            Self::exponent(self.range.end),
        );
        let decade = |e: i32| 10f64.powi(e);
        let minor = (first..last).flat_map(move |e| (2..10).map(move |k| f64::from(k) * decade(e)));
        self.range
            .clone()
            .log_scale()
            .with_key_points((first..=last).map(decade).collect())
            .with_light_points(minor)
    }

    fn exponent(v: f64) -> i32 {
        v.log10().round() as i32
    }

    /// A tick label: a decade written out in full (`0.001`, `1`, `100`) on
    /// a log axis.
    fn label(&self, v: f64) -> String {
        if !self.log {
            return tick_label(v);
        }
        let e = Self::exponent(v);
        if e >= 0 {
            format!("{:.0}", 10f64.powi(e))
        } else {
            format!("{:.*}", e.unsigned_abs() as usize, 10f64.powi(e))
        }
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
            let rgb = [c.0, c.1, c.2];
            assert!(img.pixels().filter(|p| p.0 == rgb).count() > 100, "{c:?}");
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

    /// Where plotters puts a fraction `(fx, fy)` of the axes of a 300x200
    /// chart: its plotting area spans pixels 66..=285 across and 155 up to
    /// 34, and plotters rounds towards the start of an axis.
    fn pixel(fx: f64, fy: f64) -> (u32, u32) {
        let at = |from: f64, to: f64, f: f64| {
            let d = (to - from) * f;
            (from
                + if to > from {
                    (d + 1e-3).floor()
                } else {
                    (d - 1e-3).ceil()
                }) as u32
        };
        (at(66.0, 285.0, fx), at(155.0, 34.0, fy))
    }

    #[test]
    fn a_series_is_drawn_where_its_values_fall() {
        // y from 0 to 1 (nice steps of 0.2), x from 0 to 10 as given.
        let img = LineChart::new("t")
            .series("", vec![(0.0, 0.5), (10.0, 0.5), (10.0, 1.0)])
            .render(300, 200)
            .unwrap();
        let blue = [70, 110, 180];
        let (_, y) = pixel(0.0, 0.5);
        for fx in [0.1, 0.5, 0.9] {
            let (x, _) = pixel(fx, 0.5);
            let hit = (y - 1..=y + 1).any(|y| img.get_pixel(x, y).0 == blue);
            assert!(hit, "no curve at x={x} near y={y}");
            // Two pixels thick, not more.
            assert_ne!(img.get_pixel(x, y - 3).0, blue);
            assert_ne!(img.get_pixel(x, y + 3).0, blue);
        }
        // The grid line at y = 0.2 is grey, the axis black.
        let (x, y) = pixel(0.25, 0.2);
        assert_eq!(img.get_pixel(x, y).0, [200, 200, 200]);
        assert_eq!(img.get_pixel(65, y).0, [0, 0, 0]);
    }

    #[test]
    fn a_log_axis_places_values_by_their_logarithm() {
        // x spans 0.001..1, three decades: 0.01 lies a third of the way.
        let img = LineChart::new("t")
            .series("range", vec![(0.001, 0.0), (1.0, 0.0)])
            .series("at 0.01", vec![(0.01, 0.1), (0.01, 0.9)])
            .log_x()
            .render(300, 200)
            .unwrap();
        let orange = [210, 90, 60];
        let (x, y) = pixel(1.0 / 3.0, 0.5);
        assert!(
            (x - 1..=x + 1).any(|x| img.get_pixel(x, y).0 == orange),
            "no line near x={x}"
        );
        // Decades get grid lines, 2..9 times a decade light ones.
        let (x, y) = pixel(2.0 / 3.0, 0.3);
        assert_eq!(img.get_pixel(x, y).0, [200, 200, 200]);
        let (x, y) = pixel(2f64.log10() / 3.0, 0.3);
        assert_eq!(img.get_pixel(x, y).0, [235, 235, 235]);
        // The legend takes the free upper right corner, the grid line
        // showing faintly through its background.
        let (x, y) = pixel(2.0 / 3.0, 0.9);
        assert_eq!(img.get_pixel(x, y).0, [246, 246, 246]);
    }

    #[test]
    fn the_axes_are_found_where_the_layout_puts_them() {
        let img = LineChart::new("t")
            .series("", vec![(0.0, 0.5), (10.0, 0.5)])
            .render(300, 200)
            .unwrap();
        let a = crate::PlotArea::find(&img).unwrap();
        // The same area as `pixel` above (its 155 is the row just above the
        // x axis), found from the picture.
        assert_eq!(
            (a.left, a.right, a.top, a.bottom),
            (65, 285, 34, 156),
            "{a:?}"
        );
    }

    #[test]
    fn along_a_polyline_every_few_pixels() {
        assert_eq!(along(&[(0, 0), (8, 0)]), [(0, 0), (4, 0), (8, 0)]);
        assert_eq!(along(&[(0, 0), (1, 1)]), [(0, 0), (1, 1)]);
        assert!(along(&[]).is_empty());
    }

    #[test]
    fn log_axes_span_decades_and_drop_points_at_zero() {
        let t = Axis::new((0.0025, 0.8), true, false);
        assert_eq!(t.range, 0.001..1.0);
        let labels: Vec<String> = [0.001, 0.01, 0.1, 1.0, 100.0]
            .iter()
            .map(|&v| t.label(v))
            .collect();
        assert_eq!(labels, ["0.001", "0.01", "0.1", "1", "100"]);
        // One decade at least, even for a single value.
        assert_eq!(Axis::new((0.01, 0.01), true, false).range, 0.01..0.1);
        let lin = Axis::new((0.2, 0.9), false, true);
        assert_eq!(lin.range, 0.0..1.0);
        assert_eq!(Axis::new((0.2, 0.9), false, false).range, 0.2..0.9);
        let chart = LineChart::new("DET")
            .series("a", vec![(0.0, 0.5), (0.001, 0.5), (0.1, 0.05), (1.0, 0.0)])
            .log_x()
            .log_y();
        let img = chart.render(300, 200).unwrap();
        // A point with a 0 is left out whole, so x spans 0.001..0.1 (two
        // decades) and y 0.01..1 (two): the curve runs from (0.001, 0.5),
        // (log10(0.5) + 2) / 2 up the left edge, to (0.1, 0.05) at the
        // right edge, (log10(0.05) + 2) / 2 up; nothing is drawn at the
        // axes' ends for the zeros.
        let blue = [70, 110, 180];
        let area = crate::PlotArea::find(&img).unwrap();
        let up = |v: f64| (v.log10() + 2.0) / 2.0;
        assert!(
            crate::color_near(&img, area.at(0.0, up(0.5)), blue, 2),
            "{area:?}"
        );
        assert!(
            crate::color_near(&img, area.at(1.0, up(0.05)), blue, 2),
            "{area:?}"
        );
        assert!(crate::color_near(
            &img,
            area.at(0.5, (up(0.5) + up(0.05)) / 2.0),
            blue,
            2
        ));
        assert!(!crate::color_near(&img, area.at(0.0, 0.0), blue, 3));
        assert!(!crate::color_near(&img, area.at(1.0, 0.0), blue, 3));
        let only_zero = LineChart::new("t").series("a", vec![(0.0, 1.0)]).log_x();
        assert!(only_zero.render(300, 200).is_err());
    }
}
