//! The paper's recipe on one of its networks, from random weights, on four
//! people's face chips (each person's chip aligned from 68 landmarks trains,
//! the one aligned from 5 validates), then the saved classifier (the best
//! epoch by validation loss) names the validation faces. Four faces teach a
//! network with random weights little: the example shows the recipe, not
//! its accuracy.
//!
//! ```text
//! cargo run --release -p maskface-train --example paper_recipe -- [inception-resnet-v1|resnet50|vgg16] [OUT_DIR]
//! ```
//! OUT_DIR defaults to `maskface-paper-recipe` in the system's temporary
//! folder; running again there resumes the run.

use std::path::{Path, PathBuf};

use maskface_core::{load_rgb, Classifier, Manifest, Sample, Split};
use maskface_nets::Backend;
use maskface_train::{
    fit_paper_net, PaperBackbone, PaperClassifier, PaperData, PaperInit, PaperNet, Progress,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let net = match args.next().as_deref() {
        None | Some("inception-resnet-v1") => PaperNet::InceptionResnetV1,
        Some("resnet50") => PaperNet::Resnet50,
        Some("vgg16") => PaperNet::Vgg16,
        Some(other) => return Err(format!("unknown network {other}").into()),
    };
    let out = args.next().map_or_else(
        || std::env::temp_dir().join("maskface-paper-recipe"),
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
    let data = PaperData::new(&manifest, people.map(String::from).to_vec())?;

    // The paper's settings, shortened to 4 epochs of 2 faces a step.
    let config = net.paper_config().with_epochs(4).with_batch_size(2);
    let device = Backend::Flex.device()?;
    device.seed(config.seed);
    let backbone = PaperBackbone::new(net, &PaperInit::Random, &device)?;
    let run = fit_paper_net(
        backbone,
        &PaperInit::Random,
        &data,
        config,
        &out,
        |p| {
            if let Progress::Epoch(m) = p {
                println!(
                    "epoch {}: train loss {:.3}, validation loss {:.3} ({:.0}% right)",
                    m.epoch,
                    m.train_loss,
                    m.valid_loss,
                    100.0 * m.valid_accuracy
                );
            }
        },
        std::slice::from_ref(&device),
    )?;

    let classifier = PaperClassifier::load(&run.models[0], &device)?;
    for item in data.valid.items() {
        let label = classifier.predict(&[load_rgb(&item.path)?])?[0];
        println!(
            "{}: {}",
            item.path.display(),
            classifier.classes()[label as usize]
        );
    }
    println!("{} -> {}", classifier.describe(), out.display());
    Ok(())
}
