//! Renders one of each chart maskface draws, with made-up but typical data,
//! into a folder, and prints how long each takes to draw.
//!
//! ```text
//! cargo run -p maskface-plot --example render_charts -- /tmp/charts
//! ```

use std::path::PathBuf;
use std::time::Instant;

use image::RgbImage;
use maskface_plot::{BarChart, ConfusionChart, LineChart, PlotError};

/// A made-up open-set ROC: DIR rising with log FPIR, sampled on a log grid.
fn roc(rise: f64) -> Vec<(f64, f64)> {
    (0..=40)
        .map(|i| {
            let decades = i as f64 / 10.0;
            (
                10f64.powf(decades - 4.0),
                1.0 - 0.9 * (-rise * (decades + 1.0)).exp(),
            )
        })
        .collect()
}

/// Draws one chart.
type Draw = Box<dyn Fn() -> Result<RgbImage, PlotError>>;

/// Every chart, by file name, drawn at the size its caller renders it at.
fn charts() -> Vec<(&'static str, Draw)> {
    let names: Vec<String> = (0..50).map(|i| format!("Person_{i:02}")).collect();
    let mut fifty: Vec<Vec<u32>> = (0..50)
        .map(|r| (0..50).map(|c| u32::from(r == c) * 4).collect())
        .collect();
    // A single mistake among 50 classes must still catch the eye.
    fifty[7][7] = 3;
    fifty[7][31] = 1;
    let bins: Vec<(String, f64)> = [12.0, 40.0, 25.0, 9.0, 4.0, 1.0]
        .iter()
        .enumerate()
        .map(|(i, &v)| (format!("{}-{} images ({v})", i * 10, i * 10 + 9), v))
        .collect();
    let people: Vec<(String, f64)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), (20 + (i * 37) % 60) as f64))
        .collect();
    vec![
        (
            "roc.png",
            Box::new(|| {
                LineChart::new("Open-set ROC (masked probes)")
                    .x_label("false-positive identification rate (FPIR)")
                    .y_label("detection and identification rate (DIR)")
                    .log_x()
                    .series("fine-tuned", roc(0.5))
                    .series("pretrained", roc(0.25))
                    .render(640, 440)
            }),
        ),
        (
            "det.png",
            Box::new(|| {
                let fnir = |s: f64| -> Vec<(f64, f64)> {
                    roc(s)
                        .into_iter()
                        .map(|(x, y)| (x, (1.0 - y).max(1e-4)))
                        .collect()
                };
                LineChart::new("DET (masked probes)")
                    .x_label("false-positive identification rate (FPIR)")
                    .y_label("false-negative identification rate (FNIR)")
                    .log_x()
                    .log_y()
                    .series("fine-tuned", fnir(0.5))
                    .series("pretrained", fnir(0.25))
                    .render(640, 440)
            }),
        ),
        (
            "histogram.png",
            Box::new(|| {
                let bump = |mu: f64| -> Vec<(f64, f64)> {
                    (0..40)
                        .map(|i| {
                            let x = -0.2 + i as f64 * 0.03;
                            (x, (-(x - mu).powi(2) / 0.02).exp() * 0.08)
                        })
                        .collect()
                };
                LineChart::new("Scores")
                    .series("targets (400)", bump(0.75))
                    .series("strangers (1200)", bump(0.2))
                    .x_label("score")
                    .y_label("fraction of probes")
                    .render(640, 440)
            }),
        ),
        (
            "loss.png",
            Box::new(|| {
                let epochs = |a: f64, b: f64| -> Vec<(f64, f64)> {
                    (1..=6).map(|e| (e as f64, a / e as f64 + b)).collect()
                };
                LineChart::new("Training")
                    .series("train loss", epochs(3.0, 0.2))
                    .series("validation loss", epochs(2.5, 0.5))
                    .x_label("epoch")
                    .y_label("cross-entropy")
                    .render(640, 400)
            }),
        ),
        (
            "explained_variance.png",
            Box::new(|| {
                let mut acc = 0.0;
                let points = (1..=120)
                    .map(|k| {
                        acc += 0.3 * 0.93f64.powi(k);
                        (k as f64, acc)
                    })
                    .collect();
                LineChart::new("Explained variance")
                    .series("cumulative fraction", points)
                    .x_label("components")
                    .y_label("fraction of the variance")
                    .render(640, 400)
            }),
        ),
        (
            "identity_histogram.png",
            Box::new(move || {
                BarChart::new("Identities by number of images (5749 people, 13233 images)")
                    .y_label("identities")
                    .bars(bins.clone())
                    .render(900, 420)
            }),
        ),
        (
            "per_identity.png",
            Box::new(move || {
                BarChart::new("Images per selected identity (50 people, 2000 images, mean 40.0)")
                    .y_label("images")
                    .color([220, 120, 60])
                    .bars(people.clone())
                    .render(50 * 22 + 80, 560)
            }),
        ),
        (
            "confusion3.png",
            Box::new(|| {
                ConfusionChart::new("Test set: 17/20 right")
                    .classes(vec!["Ada".into(), "Grace".into(), "Alan".into()])
                    .counts(vec![vec![7, 1, 0], vec![0, 5, 1], vec![1, 0, 5]])
                    .render(1000, 1000)
            }),
        ),
        (
            "confusion50.png",
            Box::new(move || {
                ConfusionChart::new("Test set: 199/200 right")
                    .classes(names.clone())
                    .counts(fifty.clone())
                    .render(1000, 1000)
            }),
        ),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "charts".to_string()),
    );
    std::fs::create_dir_all(&out)?;
    let runs = 20;
    for (name, draw) in charts() {
        draw()?.save(out.join(name))?;
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(draw()?);
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        println!("{name:<24} {ms:8.2} ms");
    }
    Ok(())
}
