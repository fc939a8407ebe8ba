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
            let area = plot_area(&roc);
            assert!(near(&roc, area.at(0.5, 0.8), blue, 2), "{area:?}");
            assert!(near(&roc, area.at(0.0, 0.5), blue, 2), "{area:?}");
            assert!(!near(&roc, area.at(0.5, 0.5), blue, 3));
            // DET: FNIR 0.5, 0.2, 0.1 on a log axis over 0.1..1 (one
            // decade): (0.1, 0.2) is half way across, log10(2) up.
            let det = det_chart("d", &[("a", &full)]).unwrap();
            let area = plot_area(&det);
            assert!(near(&det, area.at(0.5, 2f64.log10()), blue, 2), "{area:?}");
            assert!(near(&det, area.at(1.0, 0.0), blue, 2), "{area:?}");
            // Perfect separation: an FPIR of 0 is drawn at the floor, 1e-4,
            // the left end of a log axis over 1e-4..1.
            let roc = roc_chart("r", &[("a", &curve[..2])]).unwrap();
            let area = plot_area(&roc);
            assert!(near(&roc, area.at(0.0, 0.5), blue, 2), "{area:?}");
            let perfect = points(&[(0.0, 1.0, 0.5), (1.0, 1.0, 0.1)]);
            let det = det_chart("d", &[("a", &perfect)]).unwrap();
            let area = plot_area(&det);
            // Every FNIR is 0, at the floor: the curve runs along the
            // bottom of the plot from FPIR 1e-4 to 1.
            assert!(near(&det, area.at(0.0, 0.0), blue, 2), "{area:?}");
            assert!(near(&det, area.at(0.5, 0.0), blue, 2), "{area:?}");
            assert!(!near(&det, area.at(0.5, 0.5), blue, 3));
            // Histograms: 10 bins over 0..2 (0.2 wide, centres 0.1..1.9);
            // the one stranger fills the first bin (density 1), the two
            // targets half each of bins 5 and 9.
            let hist = score_histogram("h", &[1.0, 2.0], &[0.0], 10).unwrap();
            let area = plot_area(&hist);
            assert!(near(&hist, area.at(0.0, 1.0), orange, 2), "{area:?}");
            assert!(near(&hist, area.at(0.5, 0.0), orange, 2), "{area:?}");
            assert!(near(&hist, area.at(1.0, 0.5), blue, 2), "{area:?}");
            assert!(near(&hist, area.at((1.1 - 0.1) / 1.8, 0.5), blue, 2));
            assert!(score_histogram("h", &[], &[], 10).is_err());
        }
    }

    /// The plotting area of a rendered chart, found from its axes (the
    /// longest black column and row; a curve drawn along an axis covers it,
    /// so the curves' colours count too), not from the layout code.
    #[cfg(feature = "plot")]
    #[derive(Debug)]
    struct PlotArea {
        left: u32,
        right: u32,
        top: u32,
        bottom: u32,
    }

    #[cfg(feature = "plot")]
    impl PlotArea {
        /// The pixel a fraction `(fx, fy)` of the axes falls on.
        fn at(&self, fx: f64, fy: f64) -> (u32, u32) {
            let x = f64::from(self.left) + fx * f64::from(self.right - self.left);
            let y = f64::from(self.bottom) - fy * f64::from(self.bottom - self.top);
            (x.round() as u32, y.round() as u32)
        }
    }

    #[cfg(feature = "plot")]
    fn plot_area(img: &image::RgbImage) -> PlotArea {
        let black = |x: u32, y: u32| {
            let p = img.get_pixel(x, y).0;
            p == [0, 0, 0] || p == [70, 110, 180] || p == [210, 90, 60]
        };
        let run = |cells: &mut dyn Iterator<Item = bool>| {
            let (mut best, mut now) = (0, 0);
            for c in cells {
                now = if c { now + 1 } else { 0 };
                best = best.max(now);
            }
            best
        };
        let (w, h) = img.dimensions();
        // The axes are the leftmost column and the lowest row whose runs
        // are nearly the longest (a flat curve can be as long).
        let columns: Vec<u32> = (0..w)
            .map(|x| run(&mut (0..h).map(|y| black(x, y))))
            .collect();
        let rows: Vec<u32> = (0..h)
            .map(|y| run(&mut (0..w).map(|x| black(x, y))))
            .collect();
        let long = |runs: &[u32]| runs.iter().max().copied().unwrap_or(0) * 9 / 10;
        let left = (0..w)
            .find(|&x| columns[x as usize] >= long(&columns))
            .unwrap();
        let bottom = (0..h)
            .rev()
            .find(|&y| rows[y as usize] >= long(&rows))
            .unwrap();
        let top = (0..h).find(|&y| black(left, y)).unwrap();
        let right = (0..w).rev().find(|&x| black(x, bottom)).unwrap();
        PlotArea {
            left,
            right,
            top,
            bottom,
        }
    }

    /// Whether `color` is within `r` pixels of `(x, y)`.
    #[cfg(feature = "plot")]
    fn near(img: &image::RgbImage, (x, y): (u32, u32), color: [u8; 3], r: u32) -> bool {
        (x.saturating_sub(r)..=x + r).any(|x| {
            (y.saturating_sub(r)..=y + r)
                .any(|y| x < img.width() && y < img.height() && img.get_pixel(x, y).0 == color)
        })
    }
}
