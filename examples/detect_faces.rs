//! Detect faces with MTCNN and print boxes, scores and the five landmarks.
//!
//! ```text
//! cargo run --release --example detect_faces -- [IMAGE ...]
//! ```
//! Default: the fixture faces. Needs `models/` (run `scripts/setup.sh`).

use maskface::core::{load_rgb, FaceDetector};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        for person in ["Aaron_Peirsol", "Clare_Short"] {
            for k in 1..=2 {
                paths.push(format!("fixtures/lfw-mini/{person}/{person}_{k:04}.jpg"));
            }
        }
    }
    let device = Backend::Flex.device()?;
    let mtcnn = Mtcnn::from_dir("models".as_ref(), MtcnnConfig::default(), &device)?;
    for path in &paths {
        let image = load_rgb(path.as_ref())?;
        let faces = mtcnn.detect(&image)?;
        println!("{path}: {} face(s)", faces.len());
        for f in &faces {
            let b = f.bbox;
            print!(
                "  box ({:.1}, {:.1}, {:.1}, {:.1}) score {:.4}",
                b.x0, b.y0, b.x1, b.y1, b.score
            );
            if let Some(l) = &f.landmarks {
                let pts: Vec<String> =
                    l.0.iter()
                        .map(|p| format!("({:.1}, {:.1})", p.x, p.y))
                        .collect();
                print!(" landmarks {}", pts.join(" "));
            }
            println!();
        }
    }
    Ok(())
}
