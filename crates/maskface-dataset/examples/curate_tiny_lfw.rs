//! Curate an LFW-style folder: scan it, keep the people with 3 to 4 images,
//! split each person's images 50 / 25 / 25 with a seed, and print the table
//! of counts. The folder is a five-person miniature of LFW kept with this
//! example (48 x 48 crops of real LFW photos).
//!
//! ```text
//! cargo run -p maskface-dataset --example curate_tiny_lfw -- [LFW_DIR] [SEED]
//! ```
//! Defaults: the miniature in `examples/data/lfw-tiny`, seed 42.

use std::path::PathBuf;

use maskface_core::Split;
use maskface_dataset::{
    curate, identity_counts, scan_lfw, split_stratified, Selection, SplitRatios, Verify,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/lfw-tiny"),
        PathBuf::from,
    );
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(42);

    // Decoding every image catches broken files before they reach training.
    let index = scan_lfw(&root, Verify::Decode)?;
    println!(
        "{}: {} people, {} images",
        root.display(),
        index.identities.len(),
        index.num_images()
    );

    let selection = Selection::CountRange {
        min: 3,
        max: 4,
        count: None,
        seed,
    };
    let curated = curate(&index, &selection)?;
    let ratios = SplitRatios {
        train: 0.5,
        val: 0.25,
        test: 0.25,
    };
    let split = split_stratified(&curated, &ratios, seed)?;
    println!(
        "kept {} people: train {}, val {}, test {}",
        split.identities().len(),
        split.count(Split::Train),
        split.count(Split::Val),
        split.count(Split::Test)
    );
    for row in identity_counts(&index, &split, true) {
        println!(
            "  {:<20} {} images, selected {:<5} train {} val {} test {}",
            row.identity, row.source_images, row.selected, row.train, row.val, row.test
        );
    }
    Ok(())
}
