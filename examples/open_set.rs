//! Open-set figures of a saved Eigenface model: its targets' test faces
//! against a manifest of strangers, under each score.
//!
//! ```text
//! cargo run --release --example open_set -- MODEL TARGETS STRANGERS
//! ```
//! Default: what `maskface run` leaves behind: `data/eigen/model.json`,
//! `data/masked/masked_upper/manifest.csv` and the strangers it masked,
//! `data/openset/strangers-1000-seed42/masked_upper/manifest.csv`.

use maskface::core::{load_rgb, Classifier, Manifest, Split};
use maskface::eigen::EigenModel;
use maskface::openset::{markdown_table, probes, OpenSetParams, Score};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &'static str| args.get(i).map_or(default, |s| s.as_str());
    let model = EigenModel::load(arg(0, "data/eigen/model.json").as_ref())?;
    let targets = Manifest::read(arg(1, "data/masked/masked_upper/manifest.csv").as_ref())?;
    let strangers = Manifest::read(
        arg(
            2,
            "data/openset/strangers-1000-seed42/masked_upper/manifest.csv",
        )
        .as_ref(),
    )?;

    let mut faces = Vec::new();
    let mut truths = Vec::new();
    for s in targets.split(Split::Test) {
        faces.push(load_rgb(&targets.resolve(&s.path))?);
        truths.push(Some(s.label));
    }
    for s in &strangers.samples {
        faces.push(load_rgb(&strangers.resolve(&s.path))?);
        truths.push(None);
    }
    let logits = model.logits(&faces)?;

    let mut rows = Vec::new();
    for score in [Score::MaxLogit, Score::Confidence] {
        let report = OpenSetParams::default().evaluate(score, &probes(score, &logits, &truths)?)?;
        rows.push((model.describe(), report));
    }
    print!("{}", markdown_table(&rows));
    Ok(())
}
