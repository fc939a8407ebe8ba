//! # maskface-openset
//!
//! "This is none of the people I know": open-set scores that do not
//! overflow ([`Score`]), threshold
//! calibration (the paper's percentile rule and a target false-positive
//! identification rate) and the metrics face identification is measured by
//! (NIST FRVT 1:N, IJB-C): rank-1 accuracy, DIR at FPIR, AUROC, OSCR and the
//! ROC / DET curves, as CSV and PNG.
//!
//! The paper's confidence score `max(exp(l)) / mean(exp(l))` equals `n`
//! times the maximum softmax probability, so it lies in `[1, n]` and a
//! threshold tuned for 50 classes means something else for 60.
//!
//! Feature `plot` (on by default) adds the charts ([`roc_chart`],
//! [`det_chart`], [`score_histogram`]) and with them `maskface-plot`, `image`
//! and a font, and [`OpenSetExperiment`], the whole test as `maskface
//! openset` runs it once a model has scored the probes (every score's report,
//! the curves, histograms, `probes.csv`, `openset.md` and `report.json`);
//! `default-features = false` leaves the scores and metrics alone.
//!
//! ```
//! use maskface_openset::{probes, OpenSetParams, Score};
//!
//! # fn main() -> Result<(), maskface_openset::OpenSetError> {
//! // Two known faces (classes 0 and 1) and one stranger.
//! let logits = vec![vec![9.0, 1.0], vec![0.5, 7.0], vec![2.0, 2.5]];
//! let truths = [Some(0), Some(1), None];
//! let p = probes(Score::Confidence, &logits, &truths)?;
//! let report = OpenSetParams::default().evaluate(Score::Confidence, &p)?;
//! assert_eq!(report.rank1, 1.0);
//! assert_eq!(report.auroc, 1.0); // both targets score above the stranger
//! # Ok(()) }
//! ```

mod calibrate;
mod curves;
mod error;
#[cfg(feature = "plot")]
mod experiment;
mod metrics;
mod probes_csv;
mod report;
mod scores;

pub use calibrate::{calibrate_fpir, PercentileRule};
#[cfg(feature = "plot")]
pub use curves::{det_chart, roc_chart, score_histogram};
pub use curves::{write_curves_csv, Curve, LOG_FLOOR};
pub use error::OpenSetError;
#[cfg(feature = "plot")]
pub use experiment::{OpenSetExperiment, OpenSetOutcome, StrangerSource};
/// Re-exported because the charts are [`image::RgbImage`]s: the version
/// this crate draws with, without matching it by hand.
#[cfg(feature = "plot")]
pub use image;
pub use metrics::{
    auroc, dir_at, dir_at_fpir, dir_at_fpir_bootstrap, dir_curve, oscr, percentile, rank1,
    threshold_at_fpir, DirSpread, OperatingPoint, Probe,
};
pub use probes_csv::write_probes_csv;
pub use report::{
    markdown_table, probes, DirAtFpir, OpenSetParams, OpenSetReport, PAPER_PERCENTILE, PAPER_RULE,
    REPORTED_FPIRS,
};
pub use scores::{log_sum_exp, Score};
