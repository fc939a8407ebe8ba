use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use image::RgbImage;
use maskface_core::{
    load_rgb, rng_for, write_atomic, Detection, FaceBox, LandmarkPredictor, MaskRenderer,
};
use maskface_mask::{chip_details, extract_chip, landmark_box, ChipParams, PaperMask};
use maskface_nets::face_resnet::DLIB_RESNET_FILE;
use maskface_recognize::{embed_all, fold_accuracy, parse_pairs};
use rayon::prelude::*;
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// LFW's pairs file (10 folds of 300 same and 300 different pairs).
    #[arg(long, default_value = "data/lfw-meta/pairs.txt")]
    pub pairs: PathBuf,

    /// The LFW folder the pairs name.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Seed of the masks' colours.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Output folder: report.json, verify.md, pairs.csv (every pair's
    /// distances).
    #[arg(long, default_value = "data/verify")]
    pub out: PathBuf,
}

#[derive(Serialize)]
struct Row {
    condition: &'static str,
    accuracy: f64,
    std: f64,
    thresholds: Vec<f64>,
}

/// The mean accuracy of each condition: unmasked, one image masked, both.
pub fn run(args: &VerifyArgs) -> Result<Vec<f64>> {
    let start = Instant::now();
    let text = std::fs::read_to_string(&args.pairs).with_context(|| {
        format!(
            "reading {} (scripts/setup.sh links data/lfw-meta)",
            args.pairs.display()
        )
    })?;
    let pairs = parse_pairs(&text)?;
    let mut images: Vec<PathBuf> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    images.sort();
    images.dedup();
    let pipeline = crate::gallery::Pipeline::load(&args.models, DLIB_RESNET_FILE)?;
    let renderer = PaperMask::default();

    // Detection in batches, then landmarks, the paper's mask on the photo
    // and both chips per image in parallel.
    let pb = crate::progress::bar(images.len(), "faces");
    let mut unmasked = Vec::with_capacity(images.len());
    let mut masked = Vec::with_capacity(images.len());
    let mut fallbacks = 0usize;
    for chunk in images.chunks(64) {
        let photos = chunk
            .par_iter()
            .map(|p| load_rgb(&args.lfw.join(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let dets = pipeline.mtcnn.detect_images(&photos);
        let done = chunk
            .par_iter()
            .zip(&photos)
            .zip(dets)
            .map(|((path, photo), dets)| {
                let found = dets.ok().and_then(|d| {
                    pipeline
                        .mtcnn
                        .select(&d, photo.width(), photo.height())
                        .cloned()
                });
                // LFW centres each face: without a detection, its middle.
                let fallback = found.is_none();
                let det = found.unwrap_or(Detection {
                    bbox: FaceBox::new(70.0, 70.0, 180.0, 180.0, 0.0),
                    landmarks: None,
                });
                let points =
                    LandmarkPredictor::predict(&pipeline.predictor, photo, &landmark_box(&det))?;
                let key = format!("mask/{}", path.to_string_lossy().replace('\\', "/"));
                let painted = renderer.render(photo, &points, &mut rng_for(args.seed, &key))?;
                let details = chip_details(points.points(), &ChipParams::default())?;
                Ok::<_, anyhow::Error>((
                    extract_chip(photo, &details),
                    extract_chip(&painted.image, &details),
                    fallback,
                ))
            })
            .collect::<Result<Vec<(RgbImage, RgbImage, bool)>>>()?;
        for (u, m, f) in done {
            unmasked.push(u);
            masked.push(m);
            fallbacks += usize::from(f);
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    let pb = crate::progress::bar(2 * images.len(), "embed");
    let eu = embed_all(&pipeline.net, &unmasked, 32, &|n| pb.inc(n as u64))?;
    let em = embed_all(&pipeline.net, &masked, 32, &|n| pb.inc(n as u64))?;
    pb.finish_and_clear();

    let index = |p: &PathBuf| images.binary_search(p).unwrap_or(0);
    // dlib's metric: Euclidean distance between raw embeddings.
    let similarity = |a: &[f32], b: &[f32]| {
        -a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x - y).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut rows = Vec::new();
    let mut distances: Vec<Vec<f64>> = Vec::new();
    for (condition, first, second) in [
        ("unmasked", &eu, &eu),
        ("one image masked", &em, &eu),
        ("both masked", &em, &em),
    ] {
        let s: Vec<f64> = pairs
            .iter()
            .map(|p| similarity(&first[index(&p.a)], &second[index(&p.b)]))
            .collect();
        let (accuracy, std, thresholds) = fold_accuracy(&s, &pairs)?;
        distances.push(s.iter().map(|v| -v).collect());
        rows.push(Row {
            condition,
            accuracy,
            std,
            thresholds: thresholds.iter().map(|t| -t).collect(),
        });
    }
    if rows.is_empty() {
        bail!("no pairs");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut table = String::from(
        "| pairs | accuracy (10 folds) | distance threshold (mean) |\n| --- | --- | --- |\n",
    );
    for r in &rows {
        let mean_t = r.thresholds.iter().sum::<f64>() / r.thresholds.len().max(1) as f64;
        table.push_str(&format!(
            "| {} | {:.2}% ± {:.2} | {mean_t:.3} |\n",
            r.condition,
            100.0 * r.accuracy,
            100.0 * r.std
        ));
    }
    write_atomic(&args.out.join("verify.md"), |w| {
        w.write_all(table.as_bytes())
    })?;
    let mut csv = String::from("fold,same,a,b,unmasked,one_masked,both_masked\n");
    for (i, p) in pairs.iter().enumerate() {
        csv.push_str(&format!(
            "{},{},{},{},{:.6},{:.6},{:.6}\n",
            p.fold + 1,
            p.same,
            p.a.display(),
            p.b.display(),
            distances[0][i],
            distances[1][i],
            distances[2][i]
        ));
    }
    write_atomic(&args.out.join("pairs.csv"), |w| w.write_all(csv.as_bytes()))?;
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "pairs": pairs.len(),
        "images": images.len(),
        "no_face_found": fallbacks,
        "seconds": start.elapsed().as_secs_f64(),
        "rows": rows,
    }))?;
    write_atomic(&args.out.join("report.json"), |w| w.write_all(&json))?;
    print!("{table}");
    println!(
        "{} pairs of {} images ({fallbacks} without a detected face, cut from the middle), dlib's ResNet, the paper's mask, in {:.0} s -> {}",
        pairs.len(),
        images.len(),
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(rows.iter().map(|r| r.accuracy).collect())
}
