use image::{Rgb, RgbImage};

use crate::canvas::{Canvas, BLACK, GREY};
use crate::PlotError;

/// Right answers are drawn in blue, mistakes in red, both fading to white
/// as the share of the row they hold falls, so a few errors among many
/// classes stand out at a glance.
const RIGHT: [u8; 3] = [40, 90, 170];
const WRONG: [u8; 3] = [200, 40, 40];

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
        let mut c = Canvas::new(width, height)?;
        let title_h = 34u32;
        let axis_font = 14.0;
        // Labels shrink with the cells, down to a size that is still legible.
        let room = width.min(height).saturating_sub(title_h + 40);
        let font = (room as f32 / n as f32 * 0.8).clamp(7.0, 13.0);
        let widest = self
            .classes
            .iter()
            .map(|l| c.text_size(font, l).0)
            .max()
            .unwrap_or(0)
            .min(width / 3);
        let (_, axis_h) = c.text_size(axis_font, "predicted");
        let left = axis_h + 8 + widest + 6;
        let bottom = widest + 6 + axis_h + 8;
        let avail_w = width.saturating_sub(left + 10);
        let avail_h = height.saturating_sub(title_h + bottom);
        let cell = avail_w.min(avail_h) / n as u32;
        if cell == 0 {
            return Err(PlotError::InvalidParameter {
                name: "size",
                reason: format!("{width}x{height} is too small for {n} classes"),
            });
        }
        let side = cell * n as u32;
        let x0 = left + (avail_w - side) / 2;
        let y0 = title_h;

        c.text_centered(width as i32 / 2, 8, 18.0, BLACK, &self.title);
        let count_font = (cell as f32 * 0.6).min(14.0);
        for row in 0..n {
            for col in 0..n {
                let (x, y) = (x0 + col as u32 * cell, y0 + row as u32 * cell);
                c.rect(x as i32, y as i32, cell, cell, self.cell_color(row, col));
                let count = self.counts[row][col];
                if count > 0 && cell >= 14 {
                    let text = count.to_string();
                    let (tw, th) = c.text_size(count_font, &text);
                    if tw + 2 <= cell {
                        let dark = self
                            .cell_color(row, col)
                            .0
                            .iter()
                            .map(|&v| v as u32)
                            .sum::<u32>()
                            < 3 * 150;
                        let color = if dark { Rgb([255, 255, 255]) } else { BLACK };
                        c.text(
                            (x + (cell - tw) / 2) as i32,
                            (y + (cell - th) / 2) as i32 - 1,
                            count_font,
                            color,
                            &text,
                        );
                    }
                }
            }
        }
        // Grid lines only where they leave the cells readable.
        if cell >= 6 {
            for i in 0..=n as u32 {
                let p = i * cell;
                c.line(
                    ((x0 + p) as f32, y0 as f32),
                    ((x0 + p) as f32, (y0 + side) as f32),
                    GREY,
                );
                c.line(
                    (x0 as f32, (y0 + p) as f32),
                    ((x0 + side) as f32, (y0 + p) as f32),
                    GREY,
                );
            }
        }
        for (i, label) in self.classes.iter().enumerate() {
            let (tw, th) = c.text_size(font, label);
            let mid = (i as u32 * cell + cell / 2) as i32;
            c.text(
                x0 as i32 - 4 - tw as i32,
                y0 as i32 + mid - th as i32 / 2,
                font,
                BLACK,
                label,
            );
            c.text_vertical(
                x0 as i32 + mid - th as i32 / 2,
                (y0 + side + 4) as i32,
                font,
                BLACK,
                label,
            );
        }
        let (tw, _) = c.text_size(axis_font, "predicted");
        c.text(
            (x0 + side / 2) as i32 - tw as i32 / 2,
            (height - axis_h - 6) as i32,
            axis_font,
            BLACK,
            "predicted",
        );
        let (tw, _) = c.text_size(axis_font, "true");
        c.text_vertical(
            2,
            (y0 + side / 2) as i32 - tw as i32 / 2,
            axis_font,
            BLACK,
            "true",
        );
        Ok(c.img)
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
