//! Fine-tune dlib's face ResNet (its last blocks and an ArcFace head) on
//! four people's aligned face chips: each person's chip aligned from 68
//! landmarks trains, the one aligned from 5 landmarks validates. Prints the
//! loss and accuracy of each epoch; the trainer's files (`best.bpk`,
//! `last.ckpt`, `metrics.csv`, `loss.png`, `embedder.bpk`) go to OUT_DIR, and
//! running again there resumes the run.
//!
//! ```text
//! cargo run --release -p maskface-train --example fine_tune_chips -- [MODELS_DIR] [OUT_DIR]
//! ```
//! MODELS_DIR (default: `$MASKFACE_MODELS`, else `models`) holds
//! `dlib_face_recognition_resnet_model_v1.dat` (the maskface repository's
//! `scripts/setup.sh` fetches it); OUT_DIR defaults to
//! `maskface-train-example` in the system's temporary folder.

use std::path::{Path, PathBuf};

use maskface_core::{Manifest, Sample, Split};
use maskface_nets::face_resnet::{DlibNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_train::{FineTuneData, FineTuneParams, ManifestSet, Progress, TrainConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let models = args
        .next()
        .or_else(|| std::env::var("MASKFACE_MODELS").ok());
    let weights = PathBuf::from(models.unwrap_or_else(|| "models".into())).join(DLIB_RESNET_FILE);
    if !weights.is_file() {
        return Err(format!(
            "{} is missing: run scripts/setup.sh or name the models folder",
            weights.display()
        )
        .into());
    }
    let out = args.next().map_or_else(
        || std::env::temp_dir().join("maskface-train-example"),
        PathBuf::from,
    );

    let people = [
        "aaron_peirsol_0001",
        "abel_pacheco_0001_rot25",
        "barbra_streisand_0001",
        "clare_short_0002",
    ];
    let mut manifest =
        Manifest::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/face_chips"));
    for (label, who) in people.iter().enumerate() {
        for (chip, split) in [("chip68", Split::Train), ("chip5", Split::Val)] {
            let path = format!("{who}_{chip}.png");
            manifest
                .samples
                .push(Sample::new(path, *who, label as u32, split));
        }
    }
    // Training sees every chip and its mirror image.
    let data = FineTuneData {
        train: ManifestSet::new(&manifest, Split::Train, true),
        valid: ManifestSet::new(&manifest, Split::Val, false),
        classes: people.len(),
        teachers: None,
    };
    let params = FineTuneParams {
        train: TrainConfig::new().with_epochs(3).with_batch_size(8),
        ..FineTuneParams::default()
    };
    let fitted = params.fit(
        &DlibNet::from_file(&weights)?,
        &data,
        &out,
        &[Backend::Flex.device()?],
        |p| {
            if let Progress::Epoch(m) = p {
                println!(
                    "epoch {}: training loss {:.2e}, validation accuracy {:.0}% ({:.1} s)",
                    m.epoch,
                    m.train_loss,
                    100.0 * m.valid_accuracy,
                    m.seconds
                );
            }
        },
    )?;
    println!(
        "kept epoch {}; files in {}",
        fitted.report.best_epoch,
        out.display()
    );
    Ok(())
}
