//! Reproduce the authors' 50-identity split of LFW and print its size.
//!
//! ```text
//! cargo run --example curate_seed_split -- [LFW_DIR] [SEED_SPLIT_DIR]
//! ```
//! Defaults: `data/lfw` and `data/seed-split` (linked by `scripts/setup.sh`).

use std::path::PathBuf;

use maskface::core::Split;
use maskface::dataset::read_seed_split;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let lfw = PathBuf::from(args.next().unwrap_or_else(|| "data/lfw".into()));
    let seed_split = PathBuf::from(args.next().unwrap_or_else(|| "data/seed-split".into()));

    let manifest = read_seed_split(&seed_split, &lfw)?;
    println!(
        "{} identities, {} images: train {}, val {}, test {}",
        manifest.identities().len(),
        manifest.samples.len(),
        manifest.count(Split::Train),
        manifest.count(Split::Val),
        manifest.count(Split::Test),
    );
    for (name, n) in manifest.counts_per_identity().iter().take(5) {
        println!("  {name}: {n} images");
    }
    Ok(())
}
