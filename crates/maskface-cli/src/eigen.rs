use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::{load_rgb, save_image_atomic, write_atomic, Manifest, Split};
use maskface_dataset::{class_names, write_predictions, Answer};
use maskface_eigen::{
    eigenface_grid, variance_curve, Components, EigenModel, Eigenfaces, Fit, Metric, NearestParams,
    PcaParams, Preprocess, Rule,
};
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct EigenArgs {
    /// Manifest whose training split the eigenfaces are fitted on.
    #[arg(long, default_value = "data/masked/masked_upper/manifest.csv")]
    pub train: PathBuf,

    /// Manifest whose test split is classified (default: --train's).
    #[arg(long)]
    pub test: Option<PathBuf>,

    /// Output folder: eigenfaces.png, variance.png, model.json, report.json,
    /// predictions.csv (each test face's answer) and confusion.png.
    #[arg(long, default_value = "data/eigen")]
    pub out: PathBuf,

    /// Size the faces are resized to, WIDTHxHEIGHT (default: 64 wide, the
    /// height keeping the first training image's aspect).
    #[arg(long)]
    pub size: Option<String>,

    /// Skip histogram equalisation.
    #[arg(long)]
    pub no_equalize: bool,

    /// Number of components (instead of --variance).
    #[arg(long, conflicts_with = "variance")]
    pub components: Option<usize>,

    /// Keep the fewest components that explain this fraction of the variance.
    #[arg(long, default_value_t = 0.95)]
    pub variance: f64,

    /// Divide each projection by its component's standard deviation.
    #[arg(long)]
    pub whiten: bool,

    /// Classifier on the projections.
    #[arg(long, value_enum, default_value_t = Rule::NearestNeighbour)]
    pub classifier: Rule,

    /// Distance between projections.
    #[arg(long, value_enum, default_value_t = Metric::Euclidean)]
    pub metric: Metric,

    /// Distance beyond which a face is "none of the targets".
    #[arg(long)]
    pub threshold: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    train: String,
    test: String,
    size: [u32; 2],
    equalize: bool,
    components: usize,
    explained_variance: f64,
    whiten: bool,
    classifier: Rule,
    metric: Metric,
    threshold: Option<f64>,
    train_images: usize,
    test_images: usize,
    correct: usize,
    rejected: usize,
    accuracy: f64,
}

/// The accuracy on the test split.
pub fn run(args: &EigenArgs) -> Result<f64> {
    let train =
        Manifest::read(&args.train).with_context(|| format!("reading {}", args.train.display()))?;
    let test_path = args.test.clone().unwrap_or_else(|| args.train.clone());
    let test =
        Manifest::read(&test_path).with_context(|| format!("reading {}", test_path.display()))?;
    let size = match &args.size {
        Some(s) => {
            let Some((w, h)) = s.split_once('x') else {
                bail!("--size `{s}`: expected WIDTHxHEIGHT");
            };
            [
                w.trim().parse().context("--size width")?,
                h.trim().parse().context("--size height")?,
            ]
        }
        None => {
            let Some(first) = train.samples.iter().find(|s| s.split == Split::Train) else {
                bail!("{} has no training images", args.train.display());
            };
            let img = load_rgb(&train.resolve(&first.path))?;
            let h = (64.0 * img.height() as f64 / img.width().max(1) as f64).round() as u32;
            [64, h.max(1)]
        }
    };
    if size.contains(&0) {
        bail!("--size must be at least 1x1");
    }
    let pre = Preprocess {
        size,
        equalize: !args.no_equalize,
    };
    let (x, y) = pre.load_split(&train, Split::Train)?;
    let (xt, yt) = pre.load_split(&test, Split::Test)?;
    let components = match args.components {
        Some(k) => Components::Count(k),
        None => Components::Variance(args.variance),
    };
    let pca = PcaParams::new(components).whiten(args.whiten).fit(&x)?;
    let params = NearestParams {
        rule: args.classifier,
        metric: args.metric,
        threshold: args.threshold,
    };
    let clf = params.fit((&pca.transform(&x)?, &y[..]))?;
    let decisions = clf.predict(&pca.transform(&xt)?)?;
    let correct = decisions
        .iter()
        .zip(&yt)
        .filter(|(d, l)| d.label == Some(**l))
        .count();
    let rejected = decisions.iter().filter(|d| d.label.is_none()).count();
    let accuracy = correct as f64 / yt.len() as f64;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    save_image_atomic(
        &eigenface_grid(&pca, size, 16)?,
        &args.out.join("eigenfaces.png"),
    )?;
    save_image_atomic(&variance_curve(&pca)?, &args.out.join("variance.png"))?;
    let classes = class_names(&train)?;
    let answers: Vec<Answer> = decisions
        .iter()
        .map(|d| Answer {
            predicted: d.label,
            score: -d.distance,
        })
        .collect();
    let test_samples: Vec<_> = test.split(Split::Test).collect();
    write_predictions(&args.out, "eigenfaces", &classes, &test_samples, &answers)?;
    let explained = pca.explained_variance_ratio().sum();
    let (n_components, model_path) = (pca.n_components(), args.out.join("model.json"));
    EigenModel::new(
        classes,
        Eigenfaces {
            preprocess: pre,
            pca,
        },
        clf,
    )?
    .save(&model_path)?;
    let report = Report {
        train: args.train.display().to_string(),
        test: test_path.display().to_string(),
        size,
        equalize: pre.equalize,
        components: n_components,
        explained_variance: explained,
        whiten: args.whiten,
        classifier: args.classifier,
        metric: params.metric,
        threshold: args.threshold,
        train_images: y.len(),
        test_images: yt.len(),
        correct,
        rejected,
        accuracy,
    };
    let json = serde_json::to_vec_pretty(&report)?;
    write_atomic(&args.out.join("report.json"), |w| w.write_all(&json))?;
    println!(
        "eigenfaces: {} components ({:.1}% of the variance) of {}x{} faces from {} training images; test accuracy {:.1}% ({correct}/{}{}) -> {}",
        n_components,
        100.0 * explained,
        size[0],
        size[1],
        y.len(),
        100.0 * accuracy,
        yt.len(),
        if args.threshold.is_some() {
            format!(", {rejected} rejected")
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(accuracy)
}
