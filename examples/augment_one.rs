//! Make the paper's three rotated copies of one image and save them beside it
//! as a PNG strip.
//!
//! ```text
//! cargo run --example augment_one -- IMAGE [OUT.png] [SEED]
//! ```
//! Defaults: a fixture face, `augment_one.png`, seed 42.

use std::path::PathBuf;

use maskface::augment::Policy;
use maskface::core::{load_rgb, save_image_atomic};
use maskface::plot::image_grid;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "fixtures/lfw-mini/Aaron_Peirsol/Aaron_Peirsol_0001.jpg".into()),
    );
    let out = PathBuf::from(args.next().unwrap_or_else(|| "augment_one.png".into()));
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(42);

    let face = load_rgb(&input)?;
    let policy = Policy::paper();
    let copies = policy.apply(&face, seed, &input.to_string_lossy());

    let mut tiles = vec![face];
    let mut captions = vec!["original".to_string()];
    for c in copies {
        println!("{}", c.record);
        tiles.push(c.image);
        captions.push(c.record);
    }
    let captions: Vec<&str> = captions.iter().map(String::as_str).collect();
    save_image_atomic(&image_grid(&tiles, &captions, 4, 200)?, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}
