//! The pictures and tables of an evaluation: ROC and DET curves (CSV and
//! PNG) and the score distributions of targets and strangers.

use std::fmt::Write as _;
use std::path::Path;

#[cfg(feature = "plot")]
use image::RgbImage;
use maskface_core::write_atomic;
#[cfg(feature = "plot")]
use maskface_plot::LineChart;

use crate::{OpenSetError, OperatingPoint};

/// One labelled curve from [`crate::dir_curve`].
pub type Curve<'a> = (&'a str, &'a [OperatingPoint]);

/// Writes curves as CSV, one row per point:
/// `curve,threshold,fpir,dir,fnir`.
pub fn write_curves_csv(path: &Path, curves: &[Curve<'_>]) -> Result<(), OpenSetError> {
    let mut text = String::from("curve,threshold,fpir,dir,fnir\n");
    for (name, points) in curves {
        for p in *points {
            let _ = writeln!(
                text,
                "{name},{},{},{},{}",
                p.threshold,
                p.fpir,
                p.dir,
                1.0 - p.dir
            );
        }
    }
    write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(|source| OpenSetError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Rates of 0 have no place on a log axis: they are drawn at this floor.
pub const LOG_FLOOR: f64 = 1e-4;

/// The open-set ROC: DIR against FPIR on a logarithmic FPIR axis (as IJB-C
/// reports it); an FPIR of 0 is drawn at [`LOG_FLOOR`].
#[cfg(feature = "plot")]
pub fn roc_chart(title: &str, curves: &[Curve<'_>]) -> Result<RgbImage, OpenSetError> {
    let mut chart = LineChart::new(title)
        .x_label("false-positive identification rate (FPIR)")
        .y_label("detection and identification rate (DIR)")
        .log_x();
    for (name, points) in curves {
        chart = chart.series(
            *name,
            points
                .iter()
                .map(|p| (p.fpir.max(LOG_FLOOR), p.dir))
                .collect(),
        );
    }
    chart.render(640, 440).map_err(|source| OpenSetError::Plot {
        what: "the ROC curve",
        source,
    })
}

/// The DET curve: FNIR (1 - DIR) against FPIR, both logarithmic, rates of
/// 0 drawn at [`LOG_FLOOR`]; lower is better.
#[cfg(feature = "plot")]
pub fn det_chart(title: &str, curves: &[Curve<'_>]) -> Result<RgbImage, OpenSetError> {
    let mut chart = LineChart::new(title)
        .x_label("false-positive identification rate (FPIR)")
        .y_label("false-negative identification rate (FNIR)")
        .log_x()
        .log_y();
    for (name, points) in curves {
        chart = chart.series(
            *name,
            points
                .iter()
                .map(|p| (p.fpir.max(LOG_FLOOR), (1.0 - p.dir).max(LOG_FLOOR)))
                .collect(),
        );
    }
    chart.render(640, 440).map_err(|source| OpenSetError::Plot {
        what: "the DET curve",
        source,
    })
}

/// Histograms (as densities over `bins` equal bins spanning both sets) of
/// the target and the stranger scores: how far apart the two sets lie.
#[cfg(feature = "plot")]
pub fn score_histogram(
    title: &str,
    targets: &[f64],
    nontargets: &[f64],
    bins: usize,
) -> Result<RgbImage, OpenSetError> {
    let finite = || targets.iter().chain(nontargets).filter(|v| v.is_finite());
    let lo = finite().copied().fold(f64::INFINITY, f64::min);
    let hi = finite().copied().fold(f64::NEG_INFINITY, f64::max);
    if bins == 0 || !lo.is_finite() {
        return Err(OpenSetError::InvalidParameter {
            name: "bins",
            reason: format!("{bins} bins over {} finite scores", finite().count()),
        });
    }
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let density = |values: &[f64]| {
        let mut counts = vec![0usize; bins];
        for v in values.iter().filter(|v| v.is_finite()) {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
        let n = values.len().max(1) as f64;
        counts
            .iter()
            .enumerate()
            .map(|(i, &c)| (lo + (i as f64 + 0.5) * width, c as f64 / n))
            .collect::<Vec<_>>()
    };
    LineChart::new(title)
        .series(format!("targets ({})", targets.len()), density(targets))
        .series(
            format!("strangers ({})", nontargets.len()),
            density(nontargets),
        )
        .x_label("score")
        .y_label("fraction of probes")
        .render(640, 440)
        .map_err(|source| OpenSetError::Plot {
            what: "the score histogram",
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_and_charts() {
        let dir = tempfile::tempdir().unwrap();
        let points = |p: &[(f64, f64, f64)]| -> Vec<OperatingPoint> {
            p.iter()
                .map(|&(fpir, dir, threshold)| OperatingPoint {
                    threshold,
                    fpir,
                    dir,
                })
                .collect()
        };
        let curve = points(&[(0.0, 0.0, f64::INFINITY), (0.0, 0.5, 0.9), (0.5, 1.0, 0.1)]);
        let path = dir.path().join("roc.csv");
        write_curves_csv(&path, &[("a", &curve)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "curve,threshold,fpir,dir,fnir\na,inf,0,0,1\na,0.9,0,0.5,0.5\na,0.1,0.5,1,0\n"
        );
        #[cfg(feature = "plot")]
        {
            let blue = [70, 110, 180];
            let orange = [210, 90, 60];
            let full = points(&[(0.01, 0.5, 2.0), (0.1, 0.8, 1.0), (1.0, 0.9, 0.0)]);
            // ROC: FPIR on a log axis over 0.01..1 (two decades), DIR on a
            // linear one from 0 to 1: the point (0.1, 0.8) is half way
            // across, 0.8 up.
            let roc = roc_chart("r", &[("a", &full)]).unwrap();
            assert_eq!(roc.dimensions(), (640, 440));
            let area = maskface_plot::PlotArea::find(&roc).unwrap();
            assert!(
                maskface_plot::color_near(&roc, area.at(0.5, 0.8), blue, 2),
                "{area:?}"
            );
            assert!(
                maskface_plot::color_near(&roc, area.at(0.0, 0.5), blue, 2),
                "{area:?}"
            );
            assert!(!maskface_plot::color_near(&roc, area.at(0.5, 0.5), blue, 3));
            // DET: FNIR 0.5, 0.2, 0.1 on a log axis over 0.1..1 (one
            // decade): (0.1, 0.2) is half way across, log10(2) up.
            let det = det_chart("d", &[("a", &full)]).unwrap();
            let area = maskface_plot::PlotArea::find(&det).unwrap();
            assert!(
                maskface_plot::color_near(&det, area.at(0.5, 2f64.log10()), blue, 2),
                "{area:?}"
            );
            assert!(
                maskface_plot::color_near(&det, area.at(1.0, 0.0), blue, 2),
                "{area:?}"
            );
            // Perfect separation: an FPIR of 0 is drawn at the floor, 1e-4,
            // the left end of a log axis over 1e-4..1.
            let roc = roc_chart("r", &[("a", &curve[..2])]).unwrap();
            let area = maskface_plot::PlotArea::find(&roc).unwrap();
            assert!(
                maskface_plot::color_near(&roc, area.at(0.0, 0.5), blue, 2),
                "{area:?}"
            );
            let perfect = points(&[(0.0, 1.0, 0.5), (1.0, 1.0, 0.1)]);
            let det = det_chart("d", &[("a", &perfect)]).unwrap();
            let area = maskface_plot::PlotArea::find(&det).unwrap();
            // Every FNIR is 0, at the floor: the curve runs along the
            // bottom of the plot from FPIR 1e-4 to 1.
            assert!(
                maskface_plot::color_near(&det, area.at(0.0, 0.0), blue, 2),
                "{area:?}"
            );
            assert!(
                maskface_plot::color_near(&det, area.at(0.5, 0.0), blue, 2),
                "{area:?}"
            );
            assert!(!maskface_plot::color_near(&det, area.at(0.5, 0.5), blue, 3));
            // Histograms: 10 bins over 0..2 (0.2 wide, centres 0.1..1.9);
            // the one stranger fills the first bin (density 1), the two
            // targets half each of bins 5 and 9.
            let hist = score_histogram("h", &[1.0, 2.0], &[0.0], 10).unwrap();
            let area = maskface_plot::PlotArea::find(&hist).unwrap();
            assert!(
                maskface_plot::color_near(&hist, area.at(0.0, 1.0), orange, 2),
                "{area:?}"
            );
            assert!(
                maskface_plot::color_near(&hist, area.at(0.5, 0.0), orange, 2),
                "{area:?}"
            );
            assert!(
                maskface_plot::color_near(&hist, area.at(1.0, 0.5), blue, 2),
                "{area:?}"
            );
            assert!(maskface_plot::color_near(
                &hist,
                area.at((1.1 - 0.1) / 1.8, 0.5),
                blue,
                2
            ));
            assert!(score_histogram("h", &[], &[], 10).is_err());
        }
    }
}
