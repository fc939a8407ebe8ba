//! Open-set figures from logits: 60 faces of 5 known people and 60 strangers
//! (made-up logits: a known face's own class stands out, a stranger's does
//! not), scored four ways, reported as a Markdown table; with the `plot`
//! feature (on by default) the ROC curves are drawn too.
//!
//! ```text
//! cargo run -p maskface-openset --example open_set_report -- [OUT_DIR]
//! ```
//! Default OUT_DIR: `maskface-openset-example` in the system's temporary
//! folder (only written with `plot`).

use maskface_openset::{markdown_table, probes, OpenSetParams, Score};

/// A repeatable value in `[-1, 1]` for probe `i`, class `k`.
fn noise(i: usize, k: usize) -> f32 {
    ((i * 7919 + k * 104_729) as f32 * 0.618).sin()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let classes = 5;
    let mut logits = Vec::new();
    let mut truths = Vec::new();
    for i in 0..120 {
        // The first 60 probes are known people, the rest strangers.
        let truth = (i < 60).then_some((i % classes) as u32);
        let row: Vec<f32> = (0..classes)
            .map(|k| 2.0 * noise(i, k) + if truth == Some(k as u32) { 4.0 } else { 0.0 })
            .collect();
        logits.push(row);
        truths.push(truth);
    }

    let mut rows = Vec::new();
    let mut scored = Vec::new();
    for score in [
        Score::Confidence,
        Score::MaxSoftmax,
        Score::MaxLogit,
        Score::Energy,
    ] {
        let p = probes(score, &logits, &truths)?;
        rows.push((
            "toy logits".to_string(),
            OpenSetParams::default().evaluate(score, &p)?,
        ));
        scored.push((score.name(), p));
    }
    print!("{}", markdown_table(&rows));

    #[cfg(feature = "plot")]
    {
        let out = std::env::args().nth(1).map_or_else(
            || std::env::temp_dir().join("maskface-openset-example"),
            std::path::PathBuf::from,
        );
        std::fs::create_dir_all(&out)?;
        let curves: Vec<_> = scored
            .iter()
            .map(|(name, p)| (*name, maskface_openset::dir_curve(p)))
            .collect();
        let named: Vec<_> = curves.iter().map(|(n, c)| (*n, c.as_slice())).collect();
        let roc = maskface_openset::roc_chart("Toy logits: open-set ROC", &named)?;
        maskface_core::save_image_atomic(&roc, &out.join("roc.png"))?;
        println!("wrote {}", out.join("roc.png").display());
    }
    #[cfg(not(feature = "plot"))]
    let _ = scored;
    Ok(())
}
