//! `maskface train --model inception-resnet-v1|resnet50|vgg16`: the
//! paper's fine-tuning recipe on one of its networks.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use maskface_core::Manifest;
use maskface_dataset::class_names;
use maskface_train::{fit_paper_net, PaperBackbone, PaperData, PaperInit, PaperNet, PaperRun};
use serde::Serialize;

use crate::train::TrainArgs;

/// The file `--init distilled` starts `net` from, in the models folder.
pub fn distilled_file(net: PaperNet) -> String {
    format!("{net}-distilled.bpk")
}

/// `--init`: random, distilled, or a file.
fn init(args: &TrainArgs, net: PaperNet) -> Result<PaperInit> {
    Ok(match args.init.as_str() {
        "random" => PaperInit::Random,
        "distilled" => {
            let path = args.models.join(distilled_file(net));
            if !path.is_file() {
                bail!(
                    "{} not found: make it with `maskface pretrain --model {net}` (or use --init random)",
                    path.display()
                );
            }
            PaperInit::Backbone(path)
        }
        file => {
            let path = PathBuf::from(file);
            if !path.is_file() {
                bail!("--init {file}: no such file (expected random, distilled or a weight file)");
            }
            PaperInit::from_file(&path)
        }
    })
}

/// What `report.json` records of a paper run.
#[derive(Serialize)]
struct PaperRunReport<'a> {
    net: PaperNet,
    init: &'a PaperInit,
    train: String,
    config: &'a maskface_train::TrainConfig,
    input_size: usize,
    classes: usize,
    train_images: usize,
    valid_images: usize,
    fit: &'a maskface_train::FitReport,
    seconds: f64,
    seconds_per_epoch: f64,
}

/// Trains `net` as `args` says.
pub fn run(args: &TrainArgs, net: PaperNet) -> Result<PaperRun> {
    let start = Instant::now();
    let devices = args.backend.devices(args.devices)?;
    let train_path = args.train_manifest();
    let out = args.out_dir();
    let manifest =
        Manifest::read(&train_path).with_context(|| format!("reading {}", train_path.display()))?;
    let classes = class_names(&manifest)?;
    let data = PaperData::new(&manifest, classes)?;
    if data.train.items().is_empty() || data.valid.items().is_empty() {
        bail!(
            "{} needs images in both its train and val splits",
            train_path.display()
        );
    }
    let config = args.config(net.paper_config());
    let init = init(args, net)?;
    // The first device holds the network; the batches are split across all.
    let device = devices[0].clone();
    // The random initialisation and the head's draw from the backend's
    // generator: seeded, so a run repeats.
    device.seed(config.seed);
    let backbone = PaperBackbone::new(net, &init, &device)
        .with_context(|| format!("starting {net} from {init:?}"))?;
    println!(
        "training {net} ({}x{} input, from {}) on {} images of {} people, validating on {}: {} epochs, batch {}{}, the classifier alone for {}",
        net.input_size(),
        net.input_size(),
        match &init {
            PaperInit::Random => "random weights".to_string(),
            PaperInit::PyTorch(p) | PaperInit::Backbone(p) => p.display().to_string(),
        },
        data.train.items().len(),
        data.classes.len(),
        data.valid.items().len(),
        config.epochs,
        config.batch_size,
        crate::train::on_devices(args),
        match config.head_only_epochs {
            1 => "1 epoch".to_string(),
            n => format!("{n} epochs"),
        }
    );
    let pb = crate::progress::bar(data.train.items().len(), "training");
    let run = fit_paper_net(
        backbone,
        &init,
        &data,
        config.clone(),
        &out,
        crate::progress::training(&pb),
        &devices,
    )?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let history = &run.report.history;
    let trained_now = history.len() - run.report.resumed_epochs;
    let epoch_seconds: f64 = history[run.report.resumed_epochs..]
        .iter()
        .map(|m| m.seconds)
        .sum();
    let report = PaperRunReport {
        net,
        init: &init,
        train: train_path.display().to_string(),
        config: &config,
        input_size: net.input_size(),
        classes: data.classes.len(),
        train_images: data.train.items().len(),
        valid_images: data.valid.items().len(),
        fit: &run.report,
        seconds,
        seconds_per_epoch: epoch_seconds / trained_now.max(1) as f64,
    };
    crate::json_report::write(&out.join("report.json"), &report)?;
    let best = &history[run.report.best_epoch.saturating_sub(1)];
    println!(
        "best epoch {} of {} (validation loss {:.4}, accuracy {:.1}%) in {seconds:.0} s -> {} (last epoch: {})",
        run.report.best_epoch,
        history.len(),
        best.valid_loss,
        100.0 * best.valid_accuracy,
        run.models[0].display(),
        run.models[1].display(),
    );
    Ok(run)
}
