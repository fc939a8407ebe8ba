use image::{Rgb, RgbImage};
use plotters::chart::ChartBuilder;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use crate::axes::Categories;
use crate::drawing::{
    font, hanging_labels, render, text_size, title, BLACK, GREY, TITLE_BAND, WHITE,
};
use crate::PlotError;

/// Right answers are drawn in blue, mistakes in red, both fading to white
/// as the share of the row they hold falls, so a few errors among many
/// classes stand out at a glance.
const RIGHT: [u8; 3] = [40, 90, 170];
const WRONG: [u8; 3] = [200, 40, 40];
/// The size of the axis names ("predicted", "true").
const AXIS_PX: f64 = 14.0;

/// A confusion matrix: one row per true class, one column per predicted
/// class. Each cell is shaded by its share of the row (blue on the
/// diagonal, red off it) and shows its count when the cells are large
/// enough to hold it.
///
/// ```
/// use maskface_plot::ConfusionChart;
///
/// let chart = ConfusionChart::new("Test set")
///     .classes(vec!["Ada".into(), "Grace".into()])
///     .counts(vec![vec![9, 1], vec![0, 10]]);
/// assert_eq!(chart.render(300, 300).unwrap().dimensions(), (300, 300));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConfusionChart {
    title: String,
    classes: Vec<String>,
    counts: Vec<Vec<u32>>,
}

/// Where the matrix goes: square cells of `cell` pixels, the top-left
/// corner at `(x0, TITLE_BAND)`, labels of `font` pixels.
struct Layout {
    cell: u32,
    x0: u32,
    font: f64,
    /// The label areas: class names and the axis names.
    left: u32,
    bottom: u32,
}

impl ConfusionChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        ConfusionChart {
            title: title.into(),
            classes: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// Sets the class names, in label order.
    pub fn classes(mut self, classes: Vec<String>) -> Self {
        self.classes = classes;
        self
    }

    /// Sets the counts: `counts[true][predicted]`, one row and one column
    /// per class.
    pub fn counts(mut self, counts: Vec<Vec<u32>>) -> Self {
        self.counts = counts;
        self
    }

    /// The colour of cell `(row, col)`: its share of the row, from white
    /// (none) to full blue (diagonal) or red (mistakes).
    fn cell_color(&self, row: usize, col: usize) -> Rgb<u8> {
        let total: u32 = self.counts[row].iter().sum();
        let n = self.counts[row][col];
        if n == 0 || total == 0 {
            return Rgb([255, 255, 255]);
        }
        // Mistakes get at least a third of full strength: one error in a
        // row of 40 must still be visible.
        let share = n as f32 / total as f32;
        let (base, strength) = if row == col {
            (RIGHT, share)
        } else {
            (WRONG, share.max(1.0 / 3.0))
        };
        Rgb(base.map(|c| (255.0 - (255.0 - c as f32) * strength).round() as u8))
    }

    /// Sizes the cells and the labels to the picture: labels shrink with
    /// the cells, down to a size that is still legible.
    fn layout(&self, width: u32, height: u32) -> Result<Layout, PlotError> {
        let n = self.classes.len() as u32;
        let room = width.min(height).saturating_sub(TITLE_BAND + 40);
        let font = f64::from(room as f32 / n as f32 * 0.8).clamp(7.0, 13.0);
        let mut widest = 0;
        for class in &self.classes {
            widest = widest.max(text_size(font, class)?.0);
        }
        let widest = widest.min(width / 3);
        let (_, axis_h) = text_size(AXIS_PX, "predicted")?;
        let left = axis_h + 8 + widest + 6;
        let bottom = widest + 6 + axis_h + 8;
        let avail_w = width.saturating_sub(left + 10);
        // One pixel more than the matrix: plotters' plotting area ends one
        // pixel before its edge.
        let avail_h = height.saturating_sub(TITLE_BAND + bottom + 1);
        let cell = avail_w.min(avail_h) / n;
        if cell == 0 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small for {n} classes"),
            });
        }
        Ok(Layout {
            cell,
            x0: left + (avail_w - cell * n) / 2,
            font,
            left,
            bottom,
        })
    }

    /// Draws the chart on a `width` x `height` white image.
    pub fn render(&self, width: u32, height: u32) -> Result<RgbImage, PlotError> {
        let n = self.classes.len();
        if n == 0 {
            return Err(PlotError::InvalidParameter {
                name: "classes",
                reason: "a confusion matrix needs at least one class".into(),
            });
        }
        if self.counts.len() != n || self.counts.iter().any(|r| r.len() != n) {
            return Err(PlotError::InvalidParameter {
                name: "counts",
                reason: format!("expected {n} rows of {n} counts, one per class"),
            });
        }
        let Layout {
            cell,
            x0,
            font: label_px,
            left,
            bottom,
        } = self.layout(width, height)?;
        let side = cell * n as u32;
        let count_px = (f64::from(cell) * 0.6).min(14.0);
        let class_name = |v: &f64| {
            self.classes
                .get(Categories::index(*v))
                .cloned()
                .unwrap_or_default()
        };
        render(width, height, |root| {
            title(root, &self.title)?;
            let mut chart = ChartBuilder::on(root)
                .margin_top(TITLE_BAND)
                .margin_left(x0 - left)
                .margin_right(width.saturating_sub(x0 + side + 1))
                .margin_bottom(height.saturating_sub(TITLE_BAND + side + 1 + bottom))
                .x_label_area_size(bottom)
                .y_label_area_size(left)
                .build_cartesian_2d(Categories::new(n), Categories::downwards(n))?;
            chart
                .configure_mesh()
                .disable_mesh()
                // Column names are written below, hanging from the matrix.
                .x_labels(0)
                .y_labels(n)
                .y_label_formatter(&class_name)
                .label_style(font(label_px))
                .axis_desc_style(font(AXIS_PX))
                .x_desc("predicted")
                .y_desc("true")
                .axis_style(GREY)
                .set_all_tick_mark_size(2)
                .draw()?;
            let cells = (0..n).flat_map(|row| (0..n).map(move |col| (row, col)));
            chart.draw_series(cells.clone().map(|(row, col)| {
                let Rgb([r, g, b]) = self.cell_color(row, col);
                let (x, y) = (col as f64, row as f64);
                Rectangle::new([(x, y), (x + 1.0, y + 1.0)], RGBColor(r, g, b).filled())
            }))?;
            // Grid lines only where they leave the cells readable.
            if cell >= 6 {
                let edge = n as f64;
                chart.draw_series((0..=n).flat_map(|i| {
                    let p = i as f64;
                    [
                        PathElement::new([(p, 0.0), (p, edge)], GREY),
                        PathElement::new([(0.0, p), (edge, p)], GREY),
                    ]
                }))?;
            }
            if cell >= 14 {
                let mut counts = Vec::new();
                for (row, col) in cells {
                    let count = self.counts[row][col];
                    let text = count.to_string();
                    if count == 0 || text_size(count_px, &text)?.0 + 2 > cell {
                        continue;
                    }
                    let dark = self
                        .cell_color(row, col)
                        .0
                        .iter()
                        .map(|&v| u32::from(v))
                        .sum::<u32>()
                        < 3 * 150;
                    let style = font(count_px)
                        .color(if dark { &WHITE } else { &BLACK })
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    counts.push(Text::new(text, (col as f64 + 0.5, row as f64 + 0.5), style));
                }
                chart.draw_series(counts)?;
            }
            let columns = self.classes.iter().enumerate().map(|(col, class)| {
                let (x, y) = chart.backend_coord(&(col as f64 + 0.5, n as f64));
                ((x, y + 4), class.as_str())
            });
            hanging_labels(root, columns, label_px)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> ConfusionChart {
        ConfusionChart::new("t")
            .classes(vec!["a".into(), "b".into(), "c".into()])
            .counts(vec![vec![4, 0, 0], vec![1, 3, 0], vec![0, 0, 0]])
    }

    #[test]
    fn cells_are_shaded_by_their_share_of_the_row() {
        let chart = three();
        assert_eq!(chart.cell_color(0, 0).0, RIGHT);
        // 3 of 4 right: three quarters of the way from white to blue.
        assert_eq!(chart.cell_color(1, 1).0, [94, 131, 191]);
        // 1 of 4 wrong is drawn at a third of full red, not a quarter.
        assert_eq!(chart.cell_color(1, 0).0, [237, 183, 183]);
        assert_eq!(chart.cell_color(0, 1).0, [255, 255, 255]);
        // A class with no test faces stays white.
        assert_eq!(chart.cell_color(2, 2).0, [255, 255, 255]);
    }

    #[test]
    fn the_picture_holds_each_cell_colour() {
        let img = three().render(300, 300).unwrap();
        let has = |c: [u8; 3]| img.pixels().any(|p| p.0 == c);
        assert!(has(RIGHT));
        assert!(has([94, 131, 191]));
        assert!(has([237, 183, 183]));
        let blue = img.pixels().filter(|p| p.0 == RIGHT).count();
        let mistake = img.pixels().filter(|p| p.0 == [237, 183, 183]).count();
        // One full cell each, less the count's digits.
        assert!(blue > 100 && mistake > 100, "{blue} {mistake}");
        assert!((blue as f64 / mistake as f64 - 1.0).abs() < 0.3);
    }

    /// The colour well inside cell `(row, col)`, clear of the grid lines
    /// and of the count written in its middle.
    fn inside(chart: &ConfusionChart, img: &RgbImage, row: usize, col: usize) -> [u8; 3] {
        let Layout { cell, x0, .. } = chart.layout(img.width(), img.height()).unwrap();
        let x = x0 + col as u32 * cell + cell / 5;
        let y = TITLE_BAND + row as u32 * cell + cell / 5;
        img.get_pixel(x, y).0
    }

    #[test]
    fn each_cell_is_painted_where_it_belongs() {
        let chart = three();
        let img = chart.render(300, 300).unwrap();
        for row in 0..3 {
            for col in 0..3 {
                let want = chart.cell_color(row, col).0;
                assert_eq!(inside(&chart, &img, row, col), want, "cell {row},{col}");
            }
        }
        // Grid lines between the cells.
        let Layout { cell, x0, .. } = chart.layout(300, 300).unwrap();
        assert_eq!(img.get_pixel(x0 + cell, TITLE_BAND + 3).0, [200, 200, 200]);
    }

    #[test]
    fn one_mistake_among_fifty_classes_shows() {
        let names: Vec<String> = (0..50).map(|i| format!("Person_{i:02}")).collect();
        let mut counts: Vec<Vec<u32>> = (0..50)
            .map(|r| (0..50).map(|c| u32::from(r == c) * 4).collect())
            .collect();
        counts[7][7] = 3;
        counts[7][31] = 1;
        let chart = ConfusionChart::new("50").classes(names).counts(counts);
        let img = chart.render(1000, 1000).unwrap();
        assert_eq!(inside(&chart, &img, 7, 31), [237, 183, 183]);
        assert_eq!(inside(&chart, &img, 7, 7), [94, 131, 191]);
        assert_eq!(inside(&chart, &img, 8, 8), RIGHT);
        assert_eq!(inside(&chart, &img, 8, 31), [255, 255, 255]);
        assert_eq!(chart.layout(1000, 1000).unwrap().cell, 17);
    }

    #[test]
    fn fifty_classes_fit() {
        let names: Vec<String> = (0..50).map(|i| format!("Person_{i:02}")).collect();
        let counts = (0..50)
            .map(|r| (0..50).map(|c| u32::from(r == c) * 4).collect())
            .collect();
        let img = ConfusionChart::new("50")
            .classes(names)
            .counts(counts)
            .render(900, 900)
            .unwrap();
        assert!(img.pixels().filter(|p| p.0 == RIGHT).count() >= 50 * 64);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(ConfusionChart::new("t").render(100, 100).is_err());
        let ragged = ConfusionChart::new("t")
            .classes(vec!["a".into(), "b".into()])
            .counts(vec![vec![1, 0], vec![1]]);
        assert!(ragged.render(200, 200).is_err());
        let wide: Vec<String> = (0..400).map(|i| i.to_string()).collect();
        let many = ConfusionChart::new("t")
            .classes(wide)
            .counts(vec![vec![0; 400]; 400]);
        assert!(many.render(100, 100).is_err());
    }
}
