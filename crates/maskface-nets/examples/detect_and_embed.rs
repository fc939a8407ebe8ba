//! The two networks on the CPU: MTCNN finds the faces in two LFW photos,
//! then dlib's face-recognition ResNet embeds four aligned face chips (two
//! people, each aligned two ways) and prints how far apart they lie: the
//! same person's chips close (dlib's rule: below 0.6), other people's far.
//!
//! ```text
//! cargo run --release -p maskface-nets --example detect_and_embed -- [MODELS_DIR]
//! ```
//! MODELS_DIR (default: `$MASKFACE_MODELS`, else `models`) holds `pnet.pt`,
//! `rnet.pt`, `onet.pt` and `dlib_face_recognition_resnet_model_v1.dat`; the
//! maskface repository's `scripts/setup.sh` fetches them.

use std::path::{Path, PathBuf};

use maskface_core::{load_rgb, FaceDetector, FaceEmbedder};
use maskface_nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::Backend;

type Error = Box<dyn std::error::Error>;

fn models_dir() -> Result<PathBuf, Error> {
    let dir = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("MASKFACE_MODELS").ok());
    let dir = PathBuf::from(dir.unwrap_or_else(|| "models".into()));
    for file in ["pnet.pt", "rnet.pt", "onet.pt", DLIB_RESNET_FILE] {
        if !dir.join(file).is_file() {
            return Err(format!(
                "{} has no {file}: run scripts/setup.sh or name the models folder",
                dir.display()
            )
            .into());
        }
    }
    Ok(dir)
}

fn main() -> Result<(), Error> {
    let models = models_dir()?;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let device = Backend::Flex.device()?;

    let mtcnn = Mtcnn::from_dir(&models, MtcnnConfig::default(), &device)?;
    for photo in [
        "Aaron_Peirsol/Aaron_Peirsol_0001.jpg",
        "Clare_Short/Clare_Short_0002.jpg",
    ] {
        let image = load_rgb(&fixtures.join("lfw-mini").join(photo))?;
        for face in mtcnn.detect(&image)? {
            let b = face.bbox;
            println!(
                "{photo}: face at ({:.0}, {:.0})-({:.0}, {:.0}), probability {:.3}",
                b.x0, b.y0, b.x1, b.y1, b.score
            );
        }
    }

    // Chips aligned as dlib's get_face_chip aligns them, from 68 and from 5 landmarks.
    let names = [
        "aaron_peirsol_0001_chip68",
        "aaron_peirsol_0001_chip5",
        "clare_short_0002_chip68",
        "clare_short_0002_chip5",
    ];
    let chips = names
        .iter()
        .map(|n| load_rgb(&fixtures.join(format!("face_chips/{n}.png"))))
        .collect::<Result<Vec<_>, _>>()?;
    let net = FaceEmbedderResNet::from_file(&models.join(DLIB_RESNET_FILE), &device)?;
    let embeddings = net.embed(&chips)?;
    // dlib calls two faces the same person below a distance of 0.6.
    let distance = |a: &[f32], b: &[f32]| -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    println!("{}-d embeddings; Euclidean distances:", net.dim());
    for (name, a) in names.iter().zip(&embeddings) {
        let row: Vec<String> = embeddings
            .iter()
            .map(|b| format!("{:5.2}", distance(a, b)))
            .collect();
        println!("  {name:<26} {}", row.join(" "));
    }
    Ok(())
}
