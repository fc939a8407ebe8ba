//! The training loop on small problems: it learns, keeps the best epoch,
//! resumes exactly, refuses foreign checkpoints and leaves frozen weights
//! alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burn::prelude::*;
use maskface_nets::face_resnet::{FaceResNetConfig, TunedFaceResNet};
use maskface_train::{
    Backbone, BackboneWithHead, LrSchedule, MarginHeadConfig, MarginLoss, OptimizerKind, Selection,
    TensorBatcher, TensorSet, TrainConfig, TrainError, Trainer,
};

/// A learnable linear map from the flattened input.
#[derive(Module, Debug)]
struct Linear2 {
    inner: burn::nn::Linear,
}

impl Backbone for Linear2 {
    fn embed(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, c, h, w] = x.dims();
        self.inner.forward(x.reshape([n, c * h * w]))
    }
}

/// Three classes around three directions in 4-d, with deterministic noise.
fn blobs(per_class: usize, offset: u32) -> TensorSet {
    let mut set = TensorSet::new([4, 1, 1]);
    for class in 0..3u32 {
        for k in 0..per_class {
            let mut v = [0.1f32; 4];
            v[class as usize] = 1.0;
            let noise = ((k as u32 * 7 + class * 13 + offset) % 11) as f32 / 20.0 - 0.25;
            v[3] = noise;
            set.extend(&v, &[class]).unwrap();
        }
    }
    set
}

fn model(device: &Device, loss: MarginLoss) -> BackboneWithHead<Linear2> {
    BackboneWithHead {
        backbone: Linear2 {
            inner: burn::nn::LinearConfig::new(4, 8).init(device),
        },
        head: MarginHeadConfig::new(8, 3).with_loss(loss).init(device),
    }
}

fn weights(m: &BackboneWithHead<Linear2>) -> Vec<f32> {
    let mut v: Vec<f32> = m
        .backbone
        .inner
        .weight
        .val()
        .try_into_vec_as::<f32>()
        .unwrap();
    v.extend(m.head.weight.val().try_into_vec_as::<f32>().unwrap());
    v
}

/// Fits a fresh softmax model (or `start`) with `config` in `dir`.
fn fit(
    config: TrainConfig,
    dir: &std::path::Path,
    start: Option<BackboneWithHead<Linear2>>,
    train: &TensorSet,
    valid: &TensorSet,
) -> Result<(BackboneWithHead<Linear2>, maskface_train::FitReport), TrainError> {
    let device = Device::flex();
    let model = start.unwrap_or_else(|| model(&device, MarginLoss::Softmax));
    Trainer::new(config, dir).fit(
        model,
        train,
        valid,
        &TensorBatcher { shape: [4, 1, 1] },
        &device,
    )
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig::new()
        .with_epochs(epochs)
        .with_batch_size(4)
        .with_backbone_lr(0.01)
        .with_head_lr(0.01)
        .with_seed(3)
}

#[test]
fn it_learns_and_writes_its_files() {
    let device = Device::flex();
    for loss in [
        MarginLoss::Softmax,
        MarginLoss::ArcFace {
            scale: 10.0,
            margin: 0.2,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (train, valid) = (blobs(8, 0), blobs(4, 5));
        let (_, report) = Trainer::new(config(25), dir.path())
            .fit(
                model(&device, loss),
                &train,
                &valid,
                &TensorBatcher { shape: [4, 1, 1] },
                &device,
            )
            .unwrap();
        let first = &report.history[0];
        let best = &report.history[report.best_epoch - 1];
        assert!(best.valid_accuracy == 1.0, "{loss:?}: {:?}", report.history);
        assert!(
            best.train_loss < first.train_loss / 2.0,
            "{loss:?}: {:?}",
            report.history
        );
        // The best epoch has the top accuracy, and the lowest loss among those with it.
        for m in &report.history {
            assert!(
                (m.valid_accuracy, -m.valid_loss) <= (best.valid_accuracy, -best.valid_loss),
                "{loss:?}: epoch {} beats the kept epoch {}",
                m.epoch,
                best.epoch
            );
        }
        let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
        assert_eq!(csv.lines().count(), 26);
        for f in ["best.bpk", "last.ckpt", "loss.png"] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
    }
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let (train, valid) = (blobs(6, 0), blobs(3, 5));
    let start = model(&Device::flex(), MarginLoss::Softmax);
    let straight = tempfile::tempdir().unwrap();
    let (_, full) = fit(
        config(6),
        straight.path(),
        Some(start.clone()),
        &train,
        &valid,
    )
    .unwrap();

    let split = tempfile::tempdir().unwrap();
    fit(config(3), split.path(), Some(start.clone()), &train, &valid).unwrap();
    let (_, resumed) = fit(config(6), split.path(), Some(start.clone()), &train, &valid).unwrap();
    assert_eq!(resumed.resumed_epochs, 3);
    assert_eq!(resumed.history.len(), 6);
    assert_eq!(resumed.best_epoch, full.best_epoch);
    for (a, b) in full.history.iter().zip(&resumed.history) {
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
        assert_eq!(a.valid_loss, b.valid_loss, "epoch {}", a.epoch);
    }
    // Running a finished run again trains nothing more, and gives its best weights.
    let (again, report) = fit(config(6), split.path(), Some(start), &train, &valid).unwrap();
    assert_eq!(report.resumed_epochs, 6);
    let (best_straight, _) = fit(config(6), straight.path(), None, &train, &valid).unwrap();
    assert_eq!(weights(&again), weights(&best_straight));
}

#[test]
fn foreign_and_corrupt_checkpoints_are_refused_with_their_path() {
    let (train, valid) = (blobs(4, 0), blobs(2, 5));
    let dir = tempfile::tempdir().unwrap();
    fit(config(1), dir.path(), None, &train, &valid).unwrap();
    let err = fit(
        config(2).with_head_lr(0.5),
        dir.path(),
        None,
        &train,
        &valid,
    )
    .unwrap_err();
    assert!(matches!(err, TrainError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("last.ckpt"), "{err}");

    let ckpt = dir.path().join("last.ckpt");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() - 10]).unwrap();
    let err = fit(config(2), dir.path(), None, &train, &valid).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");

    let empty = TensorSet::new([4, 1, 1]);
    let err = fit(config(1), &dir.path().join("x"), None, &empty, &valid).unwrap_err();
    assert!(matches!(err, TrainError::Data { .. }), "{err}");
    let err = fit(config(0), &dir.path().join("y"), None, &train, &valid).unwrap_err();
    assert!(
        matches!(err, TrainError::InvalidParameter { name: "epochs", .. }),
        "{err}"
    );
}

#[test]
fn fine_tuning_the_face_resnet_leaves_the_frozen_blocks_and_the_centre_alone() {
    let device = Device::flex();
    let net = FaceResNetConfig::new().init(&device);
    let centre: Vec<f32> = (0..128).map(|i| i as f32 / 64.0).collect();
    let tuned = TunedFaceResNet::new(net, &centre, 13, &device).unwrap();
    // Two classes of cached frozen-part outputs.
    let x = Tensor::<4>::random(
        [8, 3, 150, 150],
        burn::tensor::Distribution::Default,
        &device,
    );
    let features = tuned.frozen_features(x.clone());
    let tail_before: Vec<f32> = tuned
        .forward_tail(features.clone())
        .try_into_vec_as::<f32>()
        .unwrap();
    let [n, c, h, w] = features.dims();
    let mut set = TensorSet::new([c, h, w]);
    let values: Vec<f32> = features.clone().try_into_vec_as::<f32>().unwrap();
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    set.extend(&values, &labels).unwrap();
    let model = BackboneWithHead {
        backbone: tuned,
        head: MarginHeadConfig::new(128, 2).init(&device),
    };
    let dir = tempfile::tempdir().unwrap();
    let (best, _) = Trainer::new(config(2).with_backbone_lr(0.01), dir.path())
        .fit(
            model,
            &set,
            &set,
            &TensorBatcher { shape: [c, h, w] },
            &device,
        )
        .unwrap();
    let frozen_after: Vec<f32> = best
        .backbone
        .frozen_features(x)
        .try_into_vec_as::<f32>()
        .unwrap();
    assert_eq!(frozen_after, values);
    let tail_after: Vec<f32> = best
        .backbone
        .forward_tail(features)
        .try_into_vec_as::<f32>()
        .unwrap();
    assert_ne!(tail_after, tail_before);
    let centre_after: Vec<f32> = best.backbone.centre.val().try_into_vec_as::<f32>().unwrap();
    assert_eq!(centre_after, centre);
}

#[test]
fn head_only_epochs_leave_the_backbone_as_it_was() {
    let (train, valid) = (blobs(6, 0), blobs(3, 5));
    let start = model(&Device::flex(), MarginLoss::Softmax);
    let backbone = |m: &BackboneWithHead<Linear2>| -> Vec<f32> {
        m.backbone
            .inner
            .weight
            .val()
            .try_into_vec_as::<f32>()
            .unwrap()
    };
    let head = |m: &BackboneWithHead<Linear2>| -> Vec<f32> {
        m.head.weight.val().try_into_vec_as::<f32>().unwrap()
    };
    // Every epoch head-only (a linear probe): the backbone is untouched.
    let dir = tempfile::tempdir().unwrap();
    let (probe, _) = fit(
        config(2).with_head_only_epochs(2),
        dir.path(),
        Some(start.clone()),
        &train,
        &valid,
    )
    .unwrap();
    assert_eq!(backbone(&probe), backbone(&start));
    assert_ne!(head(&probe), head(&start));
    // One head-only epoch, then all layers: the backbone moves.
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = fit(
        config(2).with_head_only_epochs(1),
        dir.path(),
        Some(start.clone()),
        &train,
        &valid,
    )
    .unwrap();
    let record = maskface_train::burn::store::ModuleRecord::load(&report.last).unwrap();
    let last = start.clone().try_load_record(record).unwrap();
    assert_ne!(backbone(&last), backbone(&start));
}

#[test]
fn selection_by_loss_keeps_the_lowest_validation_loss() {
    let (train, valid) = (blobs(6, 0), blobs(3, 5));
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = fit(
        config(8).with_select_by(Selection::Loss),
        dir.path(),
        None,
        &train,
        &valid,
    )
    .unwrap();
    let lowest = report
        .history
        .iter()
        .map(|m| m.valid_loss)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(report.history[report.best_epoch - 1].valid_loss, lowest);
    assert!(report.last.is_file() && report.best.is_file());
}

#[test]
fn other_optimisers_schedules_and_smoothing_train_and_bad_values_are_refused() {
    let (train, valid) = (blobs(8, 0), blobs(4, 5));
    for (i, cfg) in [
        config(20)
            .with_optimizer(OptimizerKind::AdamW)
            .with_weight_decay(1e-3),
        config(20)
            .with_optimizer(OptimizerKind::Sgd)
            .with_backbone_lr(0.05)
            .with_head_lr(0.05),
        config(20)
            .with_schedule(LrSchedule::Cosine)
            .with_label_smoothing(0.1),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tempfile::tempdir().unwrap();
        let (_, report) = fit(cfg, dir.path(), None, &train, &valid).unwrap();
        let (first, best) = (&report.history[0], &report.history[report.best_epoch - 1]);
        assert!(
            best.train_loss < first.train_loss,
            "{i}: {:?}",
            report.history
        );
        assert_eq!(best.valid_accuracy, 1.0, "{i}: {:?}", report.history);
    }
    assert_eq!(LrSchedule::Cosine.factor(1, 10), 1.0);
    assert!((LrSchedule::Cosine.factor(6, 10) - 0.5).abs() < 1e-12);
    assert_eq!(LrSchedule::Constant.factor(9, 10), 1.0);
    let dir = tempfile::tempdir().unwrap();
    for (cfg, name) in [
        (config(2).with_label_smoothing(1.0), "label_smoothing"),
        (config(2).with_weight_decay(-1.0), "weight_decay"),
    ] {
        let err = fit(cfg, dir.path(), None, &train, &valid).unwrap_err();
        assert!(
            matches!(err, TrainError::InvalidParameter { name: n, .. } if n == name),
            "{err}"
        );
    }
}
