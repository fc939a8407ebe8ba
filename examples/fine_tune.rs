//! Fine-tune dlib's ResNet on masked face chips, then recognize the test
//! faces by the nearest person's centre: the training crate without the
//! command-line program (and without extra identities).
//!
//! ```text
//! cargo run --release --example fine_tune -- [MANIFEST] [OUT]
//! ```
//! MANIFEST: a `*_chip` variant of `maskface generate` (default: the one
//! `maskface run` writes); OUT: the training folder (default
//! `data/train-example`, resumed when run again). Needs `models/`.

use maskface::core::vector::argmax;
use maskface::core::{load_rgb, FaceEmbedder, Manifest, Split};
use maskface::nets::face_resnet::{DlibNet, FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface::nets::Backend;
use maskface::recognize::Centroids;
use maskface::train::{FineTuneData, FineTuneParams, ManifestSet, Progress, TrainConfig};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let manifest_path = args
        .next()
        .unwrap_or_else(|| "data/masked/masked_chip/manifest.csv".into());
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "data/train-example".into()));
    let manifest = Manifest::read(manifest_path.as_ref())?;
    let device = Backend::Flex.device()?;
    let dlib_file = std::path::Path::new("models").join(DLIB_RESNET_FILE);

    // The training split and its mirror images train; the validation split
    // picks the best epoch.
    let data = FineTuneData {
        train: ManifestSet::new(&manifest, Split::Train, true),
        valid: ManifestSet::new(&manifest, Split::Val, false),
        classes: manifest.identities().len(),
        teachers: None,
    };
    let params = FineTuneParams {
        train: TrainConfig::new().with_epochs(3),
        ..FineTuneParams::default()
    };
    let fitted = params.fit(
        &DlibNet::from_file(&dlib_file)?,
        &data,
        &out,
        std::slice::from_ref(&device),
        |p| {
            if let Progress::Epoch(m) = p {
                println!(
                    "epoch {}: training loss {:.3}, validation accuracy {:.1}%",
                    m.epoch,
                    m.train_loss,
                    100.0 * m.valid_accuracy
                );
            }
        },
    )?;
    println!("kept epoch {}", fitted.report.best_epoch);

    // The fine-tuned network as an embedder: each person's centre from the
    // training faces, then the test faces.
    let net = FaceEmbedderResNet::from_tuned(&dlib_file, &out.join("embedder.bpk"), &device)?;
    let embed = |split| -> Result<(Vec<Vec<f32>>, Vec<u32>), Error> {
        let samples: Vec<_> = manifest.split(split).collect();
        let chips = samples
            .iter()
            .map(|s| load_rgb(&manifest.resolve(&s.path)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            net.embed(&chips)?,
            samples.iter().map(|s| s.label).collect(),
        ))
    };
    let (train, labels) = embed(Split::Train)?;
    let centres = Centroids::fit(&train, &labels)?;
    let (test, truth) = embed(Split::Test)?;
    let right = test
        .iter()
        .zip(&truth)
        .filter(|(e, &l)| argmax(&centres.scores(e)) == Some(l as usize))
        .count();
    println!("test accuracy: {right}/{}", truth.len());
    Ok(())
}
