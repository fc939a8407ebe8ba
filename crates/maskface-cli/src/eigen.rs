use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::Manifest;
use maskface_eigen::{Components, EigenExperiment, Metric, NearestParams, Rule};

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
            let size: [u32; 2] = [
                w.trim().parse().context("--size width")?,
                h.trim().parse().context("--size height")?,
            ];
            if size.contains(&0) {
                bail!("--size must be at least 1x1");
            }
            Some(size)
        }
        None => None,
    };
    let experiment = EigenExperiment {
        size,
        equalize: !args.no_equalize,
        components: match args.components {
            Some(k) => Components::Count(k),
            None => Components::Variance(args.variance),
        },
        whiten: args.whiten,
        nearest: NearestParams {
            rule: args.classifier,
            metric: args.metric,
            threshold: args.threshold,
        },
    };
    let o = experiment.run(&train, &args.train, &test, &test_path, &args.out)?;
    println!(
        "eigenfaces: {} components ({:.1}% of the variance) of {}x{} faces from {} training images; test accuracy {:.1}% ({}/{}{}) -> {}",
        o.components,
        100.0 * o.explained_variance,
        o.size[0],
        o.size[1],
        o.train_images,
        100.0 * o.accuracy,
        o.correct,
        o.test_images,
        if args.threshold.is_some() {
            format!(", {} rejected", o.rejected)
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(o.accuracy)
}
