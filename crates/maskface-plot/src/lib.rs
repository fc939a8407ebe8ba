//! # maskface-plot
//!
//! The PNG pictures maskface writes next to its data: bar charts (images per
//! identity), line plots (loss, explained variance, score histograms, and
//! open-set ROC and DET curves on logarithmic axes), confusion matrices and
//! labelled image grids (augmented samples, eigenfaces).
//!
//! Charts are drawn by [plotters](https://docs.rs/plotters) 0.3.7: its
//! bitmap backend, its axes, ticks, logarithmic scales, grid lines and
//! legends. The DejaVu Sans font is embedded (the `dejavu` crate) and
//! registered with plotters' `ab_glyph` text, so no system fonts are needed.
//! One thing is not plotters' own: the glyphs. plotters 0.3.7 draws each
//! glyph at the start of its advance, dropping its side bearing, so narrow
//! letters slip left ("i dentification", "(FPIR )"); the backend here wraps
//! plotters' bitmap backend and sets each glyph where ab_glyph places it.
//! Image grids are contact sheets, not charts, and stay plain image code.
//!
//! Why plotters, and what it cost, measured against the hand-drawn charts
//! this crate had before: `docs/benchmarks.md`, "Charts". In short: plotters
//! adds about 5 s to a clean build (plotters, plotters-backend,
//! plotters-bitmap) and 1.3 MB to a binary, draws every chart as fast or
//! faster (a 50-class confusion matrix 3.9 ms before, 1.9 ms now), and
//! gives log axes minor grid lines and legends a background and a free
//! corner.
//!
//! Every function returns an [`image::RgbImage`]; saving it is the caller's
//! business (`maskface_core::save_image_atomic` writes it atomically).
//!
//! ```
//! use maskface_plot::BarChart;
//!
//! let chart = BarChart::new("Images per identity")
//!     .bars(vec![("Ada".into(), 3.0), ("Grace".into(), 5.0)])
//!     .y_label("images");
//! let png = chart.render(400, 300).unwrap();
//! assert_eq!(png.dimensions(), (400, 300));
//! ```

mod axes;
mod bar;
mod confusion;
mod drawing;
mod glyphs;
mod grid;
mod labelled_boxes;
mod line;
mod plot_area;

pub use bar::BarChart;
pub use confusion::ConfusionChart;
pub use grid::image_grid;
pub use labelled_boxes::{draw_labelled_boxes, LabelledBox};
pub use line::LineChart;
pub use plot_area::{color_near, PlotArea};

/// Re-exported because every chart is an [`image::RgbImage`]: use this path
/// to get the same version.
pub use image;

/// Errors of `maskface-plot`.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be parsed.
    #[error("embedded font is unreadable: {0}")]
    Font(String),
    /// plotters failed while drawing a chart.
    #[error("could not draw the chart: {0}")]
    Draw(String),
    /// A chart parameter is unusable (no data, zero size, ...).
    #[error("invalid chart parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}
