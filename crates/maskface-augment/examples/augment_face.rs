//! Augment one face: the paper's policy (three copies, each rotated by up to
//! +-20 degrees) and a policy of your own (rotation, colour jitter and, half
//! the time, a mirror image), both seeded: the same seed gives the same
//! copies. Each copy is saved as a PNG named by its number.
//!
//! ```text
//! cargo run -p maskface-augment --example augment_face -- [OUT_DIR] [SEED]
//! ```
//! Default OUT_DIR: `maskface-augment-example` in the system's temporary
//! folder; default seed 42.

use std::path::{Path, PathBuf};

use maskface_augment::{ColorJitter, Fill, HorizontalFlip, Policy, RandomRotation};
use maskface_core::{load_rgb, save_image_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().map_or_else(
        || std::env::temp_dir().join("maskface-augment-example"),
        PathBuf::from,
    );
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(42);
    let face = load_rgb(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/Clare_Short_0001.jpg"),
    )?;

    let own = Policy::new(2)
        .then(RandomRotation::new(10.0).with_fill(Fill::Replicate))
        .then(ColorJitter::new(0.2, 0.2, 0.2))
        .then(HorizontalFlip { p: 0.5 });
    for (name, policy) in [("paper", Policy::paper()), ("own", own)] {
        println!("{name}: {}", policy.describe());
        // The key names the image: another image gets other draws.
        for (k, copy) in policy
            .apply(&face, seed, "Clare_Short_0001.jpg")
            .into_iter()
            .enumerate()
        {
            let path = out.join(format!("{name}_{k}.png"));
            save_image_atomic(&copy.image, &path)?;
            println!("  {} <- {}", path.display(), copy.record);
        }
    }
    Ok(())
}
