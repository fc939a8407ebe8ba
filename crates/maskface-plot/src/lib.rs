//! # maskface-plot
//!
//! Small, dependency-light PNG charts for the pictures maskface writes next
//! to its data: bar charts (images per identity), line plots (loss and ROC
//! curves), confusion matrices and labelled image grids (augmented samples,
//! eigenfaces). Text is
//! drawn with the embedded DejaVu Sans font, so no system fonts are needed.
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

mod bar;
mod canvas;
mod confusion;
mod grid;
mod line;

pub use bar::BarChart;
pub use confusion::ConfusionChart;
pub use grid::image_grid;
pub use line::LineChart;

/// Re-exported because every chart is an [`image::RgbImage`]: use this path
/// to get the same version.
pub use image;

/// Errors of `maskface-plot`.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be parsed.
    #[error("embedded font is unreadable: {0}")]
    Font(String),
    /// A chart parameter is unusable (no data, zero size, ...).
    #[error("invalid chart parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}
