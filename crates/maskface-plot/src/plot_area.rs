//! Reading a rendered chart back: where its axes are, and whether a colour
//! is drawn near a point. For tests that check what a chart shows (a curve
//! through a known point) from the picture rather than from the layout code.

use image::RgbImage;

/// The plotting area of a rendered chart: the pixel columns of its left axis
/// and right end, the pixel rows of its top and its bottom axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotArea {
    /// Column of the y axis.
    pub left: u32,
    /// Last column of the x axis.
    pub right: u32,
    /// First row of the y axis.
    pub top: u32,
    /// Row of the x axis.
    pub bottom: u32,
}

impl PlotArea {
    /// Finds the axes of a chart drawn by this crate: the leftmost column
    /// and the lowest row whose black runs are nearly the longest. A curve
    /// drawn along an axis covers it, so the first two series colours count
    /// as black too. `None` when the picture has no such lines.
    ///
    /// ```
    /// let img = maskface_plot::LineChart::new("t")
    ///     .series("", vec![(0.0, 0.5), (10.0, 0.5)])
    ///     .render(300, 200)
    ///     .unwrap();
    /// let area = maskface_plot::PlotArea::find(&img).unwrap();
    /// assert!(area.left < area.right && area.top < area.bottom);
    /// ```
    pub fn find(img: &RgbImage) -> Option<PlotArea> {
        let black = |x: u32, y: u32| {
            let p = img.get_pixel(x, y).0;
            p == [0, 0, 0] || p == [70, 110, 180] || p == [210, 90, 60]
        };
        let longest_run = |cells: &mut dyn Iterator<Item = bool>| {
            let (mut best, mut now) = (0, 0);
            for c in cells {
                now = if c { now + 1 } else { 0 };
                best = best.max(now);
            }
            best
        };
        let (w, h) = img.dimensions();
        let columns: Vec<u32> = (0..w)
            .map(|x| longest_run(&mut (0..h).map(|y| black(x, y))))
            .collect();
        let rows: Vec<u32> = (0..h)
            .map(|y| longest_run(&mut (0..w).map(|x| black(x, y))))
            .collect();
        // Nearly the longest: a flat curve can be as long as an axis.
        let long = |runs: &[u32]| runs.iter().max().copied().unwrap_or(0) * 9 / 10;
        let left =
            (0..w).find(|&x| columns[x as usize] > 0 && columns[x as usize] >= long(&columns))?;
        let bottom = (0..h)
            .rev()
            .find(|&y| rows[y as usize] > 0 && rows[y as usize] >= long(&rows))?;
        let top = (0..h).find(|&y| black(left, y))?;
        let right = (0..w).rev().find(|&x| black(x, bottom))?;
        Some(PlotArea {
            left,
            right,
            top,
            bottom,
        })
    }

    /// The pixel a fraction `(fx, fy)` of the axes falls on (`(0, 0)` the
    /// origin, `(1, 1)` the top right corner).
    pub fn at(&self, fx: f64, fy: f64) -> (u32, u32) {
        let x = f64::from(self.left) + fx * f64::from(self.right - self.left);
        let y = f64::from(self.bottom) - fy * f64::from(self.bottom - self.top);
        (x.round() as u32, y.round() as u32)
    }
}

/// Whether `color` is drawn within `r` pixels of `(x, y)`.
pub fn color_near(img: &RgbImage, (x, y): (u32, u32), color: [u8; 3], r: u32) -> bool {
    (x.saturating_sub(r)..=x.saturating_add(r)).any(|x| {
        (y.saturating_sub(r)..=y.saturating_add(r))
            .any(|y| x < img.width() && y < img.height() && img.get_pixel(x, y).0 == color)
    })
}
