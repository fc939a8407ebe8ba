//! What the benchmarks share: the fixture faces.

use std::path::Path;

use image::RgbImage;
use maskface::core::load_rgb;

/// The 250x250 LFW images under `fixtures/lfw-mini`, in path order, cycled
/// to `n` images (all of them once when `n` is 0).
pub fn fixture_faces(n: usize) -> Vec<RgbImage> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lfw-mini");
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    paths.sort();
    let all: Vec<RgbImage> = paths.iter().filter_map(|p| load_rgb(p).ok()).collect();
    let n = if n == 0 { all.len() } else { n };
    all.iter().cycle().take(n).cloned().collect()
}
