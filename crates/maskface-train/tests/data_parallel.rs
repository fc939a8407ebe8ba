//! Data-parallel training: a run whose batches are split across two (and
//! three) devices follows the one-device run, step by step, up to float
//! rounding. On this crate's CPU backend the devices are the one `flex`
//! device named several times, which runs the whole data-parallel path
//! (worker threads, forked models, weighted slices, gradients moved and
//! summed) on the same cores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use burn::module::Param;
use burn::prelude::*;
use maskface_train::{
    Backbone, BackboneWithHead, FitReport, MarginHeadConfig, MarginLoss, OptimizerKind, Progress,
    TensorBatcher, TensorSet, TrainConfig, TrainError, Trainer,
};
use rand::{Rng, SeedableRng};

/// How far a data-parallel run may stray from the one-device run: the
/// relative difference of each step's loss and of each epoch's validation
/// loss, and the largest difference of a weight over the largest weight.
/// The runs differ only in rounding (a slice's mean loss scaled by its
/// share, gradients summed over slices instead of over the batch in one
/// reduction); measured here, they stay below 1e-6 in f32.
const TOLERANCE: f64 = 1e-5;

/// Six inputs to an eight-dimensional embedding through a hidden layer,
/// with or without batch norm on it.
#[derive(Module, Debug)]
struct Tiny {
    hidden: burn::nn::Linear,
    norm: Option<burn::nn::BatchNorm>,
    out: burn::nn::Linear,
}

const HIDDEN: usize = 16;

impl Backbone for Tiny {
    fn embed(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, c, h, w] = x.dims();
        let mut x = self.hidden.forward(x.reshape([n, c * h * w]));
        if let Some(norm) = &self.norm {
            x = norm.forward(x.reshape([n, HIDDEN, 1])).reshape([n, HIDDEN]);
        }
        self.out.forward(burn::tensor::activation::relu(x))
    }
}

const INPUTS: usize = 6;
const DIM: usize = 8;
const CLASSES: usize = 4;

/// `n` samples with seeded random inputs and labels (and teachers).
fn samples(n: usize, seed: u64) -> TensorSet {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut set = TensorSet::new([INPUTS, 1, 1]);
    let values: Vec<f32> = (0..n * INPUTS)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let labels: Vec<u32> = (0..n)
        .map(|_| rng.random_range(0..CLASSES as u32))
        .collect();
    set.extend(&values, &labels).unwrap();
    let teachers: Vec<Vec<f32>> = (0..n)
        .map(|_| (0..DIM).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    set.set_teachers(&teachers).unwrap();
    set
}

/// A dense layer with seeded uniform weights in `(-1, 1) / sqrt(inputs)`.
fn linear(rng: &mut impl Rng, inputs: usize, outputs: usize) -> burn::nn::Linear {
    let device = Device::flex();
    let k = 1.0 / (inputs as f32).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| k * rng.random_range(-1.0..1.0)).collect() };
    burn::nn::Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(draw(inputs * outputs), [inputs, outputs]),
            &device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(draw(outputs), [outputs]),
            &device,
        ))),
    }
}

/// The same starting weights every time, drawn from a seeded generator
/// rather than the backend's, which tests running beside this one reseed.
fn model(loss: MarginLoss) -> BackboneWithHead<Tiny> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let hidden = linear(&mut rng, INPUTS, HIDDEN);
    let out = linear(&mut rng, HIDDEN, DIM);
    let centres: Vec<Vec<f32>> = (0..CLASSES)
        .map(|_| (0..DIM).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    BackboneWithHead {
        backbone: Tiny {
            hidden,
            norm: None,
            out,
        },
        head: MarginHeadConfig::new(DIM, CLASSES)
            .with_loss(loss)
            .init_with_centres(&centres, &Device::flex())
            .unwrap(),
    }
}

fn weights(m: &BackboneWithHead<Tiny>) -> Vec<f32> {
    let mut v = Vec::new();
    for t in [
        m.backbone.hidden.weight.val(),
        m.backbone.out.weight.val(),
        m.head.weight.val(),
    ] {
        v.extend(t.try_into_vec_as::<f32>().unwrap());
    }
    v
}

/// What a run gives: each step's loss, the report, the final weights and
/// batch norm's running mean.
struct Run {
    steps: Vec<f64>,
    report: FitReport,
    weights: Vec<f32>,
    running_mean: Option<Vec<f32>>,
}

/// Trains `start` with `config` on `devices` copies of the CPU device
/// (`None`: the trainer's default, one device).
fn run(
    config: TrainConfig,
    start: BackboneWithHead<Tiny>,
    devices: Option<usize>,
    train: &TensorSet,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let steps = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&steps);
    let mut trainer = Trainer::new(config, dir.path()).with_progress(move |p| {
        if let Progress::Batch { loss, .. } = p {
            seen.lock().unwrap().push(*loss);
        }
    });
    if let Some(n) = devices {
        trainer = trainer.with_devices(vec![device.clone(); n]);
    }
    let valid = samples(12, 99);
    let (best, report) = trainer
        .fit(
            start,
            train,
            &valid,
            &TensorBatcher {
                shape: [INPUTS, 1, 1],
            },
            &device,
        )
        .unwrap();
    let steps = steps.lock().unwrap().clone();
    let running_mean = best
        .backbone
        .norm
        .as_ref()
        .map(|norm| norm.running_mean.value().try_into_vec_as::<f32>().unwrap());
    Run {
        steps,
        report,
        weights: weights(&best),
        running_mean,
    }
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

/// The largest relative difference between two runs' step losses,
/// validation losses and final weights.
fn gap(a: &Run, b: &Run) -> f64 {
    assert_eq!(a.steps.len(), b.steps.len());
    let steps = a.steps.iter().zip(&b.steps).map(|(x, y)| relative(*x, *y));
    let valid = a
        .report
        .history
        .iter()
        .zip(&b.report.history)
        .map(|(x, y)| relative(x.valid_loss, y.valid_loss));
    let scale = a.weights.iter().fold(0.0f32, |m, w| m.max(w.abs())) as f64;
    let weights = a
        .weights
        .iter()
        .zip(&b.weights)
        .map(|(x, y)| f64::from((x - y).abs()) / scale);
    steps.chain(valid).chain(weights).fold(0.0, f64::max)
}

fn show(label: &str, r: &Run) {
    let steps: Vec<String> = r.steps.iter().map(|l| format!("{l:.7}")).collect();
    println!("{label}: steps [{}]", steps.join(", "));
}

/// SGD with momentum, whose step grows with the gradient: batches of 8 in
/// two equal slices, 2 epochs of 4 steps.
#[test]
fn two_devices_follow_the_one_device_loss_curve() {
    let train = samples(32, 1);
    let config = TrainConfig::new()
        .with_epochs(2)
        .with_batch_size(8)
        .with_optimizer(OptimizerKind::Sgd)
        .with_backbone_lr(0.05)
        .with_head_lr(0.05)
        .with_seed(3);
    let one = run(config.clone(), model(MarginLoss::Softmax), None, &train);
    let two = run(config.clone(), model(MarginLoss::Softmax), Some(2), &train);
    show("1 device ", &one);
    show("2 devices", &two);
    assert_eq!(one.steps.len(), 8);
    assert_eq!((one.report.devices, two.report.devices), (1, 2));
    let exact = gap(&one, &two);
    println!(
        "largest relative difference, 2 devices vs 1: {exact:.2e} (tolerance {TOLERANCE:.0e})"
    );
    assert!(exact <= TOLERANCE, "{exact:e}");
    // The tolerance catches a wrong combination of the slices: summing the
    // two slices' mean gradients without their shares (1/2 each) doubles
    // every step, which with SGD is the one-device run at twice the rates.
    let doubled = run(
        config.with_backbone_lr(0.1).with_head_lr(0.1),
        model(MarginLoss::Softmax),
        None,
        &train,
    );
    show("1 device, 2x rates (an unweighted sum)", &doubled);
    let wrong = gap(&one, &doubled);
    println!("an unweighted sum would differ by {wrong:.2e}");
    assert!(wrong > 100.0 * TOLERANCE, "{wrong:e}");
}

/// Uneven slices (batches of 7 over 30 samples: 4 + 3 samples on two
/// devices, 3 + 2 + 2 on three, and a last batch of 2 that leaves the third
/// device idle), Adam, ArcFace with label smoothing, distillation and a
/// head-only first epoch: every part of the loss is a mean over its slice,
/// weighted by the slice's share. Weighting the slices equally instead (the
/// mean of the slices' means) puts this curve about 5e-2 away, far outside
/// the tolerance.
#[test]
fn uneven_slices_and_every_loss_term_follow_the_one_device_run() {
    let train = samples(30, 2);
    let config = TrainConfig::new()
        .with_epochs(2)
        .with_batch_size(7)
        .with_backbone_lr(0.01)
        .with_head_lr(0.01)
        .with_label_smoothing(0.1)
        .with_distill_weight(0.5)
        .with_head_only_epochs(1)
        .with_seed(4);
    let loss = MarginLoss::ArcFace {
        scale: 8.0,
        margin: 0.2,
    };
    let one = run(config.clone(), model(loss), None, &train);
    show("1 device ", &one);
    assert_eq!(one.steps.len(), 10);
    for devices in [2, 3] {
        let many = run(config.clone(), model(loss), Some(devices), &train);
        show(&format!("{devices} devices"), &many);
        let g = gap(&one, &many);
        println!("largest relative difference, {devices} devices vs 1: {g:.2e}");
        assert!(g <= TOLERANCE, "{devices} devices: {g:e}");
    }
}

/// Batch norm is the documented exception: each device normalises its
/// slice by the slice's own statistics, so the curves part by far more than
/// rounding, while the running statistics (burn averages the devices'
/// updates, one worker thread per device) still track the one-device run.
#[test]
fn batch_norm_sees_each_slice_alone() {
    let train = samples(32, 1);
    let config = TrainConfig::new()
        .with_epochs(2)
        .with_batch_size(8)
        .with_optimizer(OptimizerKind::Sgd)
        .with_backbone_lr(0.05)
        .with_head_lr(0.05)
        .with_seed(3);
    let with_norm = || {
        let mut m = model(MarginLoss::Softmax);
        m.backbone.norm = Some(burn::nn::BatchNormConfig::new(HIDDEN).init(&Device::flex()));
        m
    };
    let one = run(config.clone(), with_norm(), None, &train);
    let two = run(config, with_norm(), Some(2), &train);
    show("batch norm, 1 device ", &one);
    show("batch norm, 2 devices", &two);
    let g = gap(&one, &two);
    println!("batch norm: largest relative difference, 2 devices vs 1: {g:.2e}");
    assert!(g > 100.0 * TOLERANCE, "{g:e}");
    let (a, b) = (one.running_mean.unwrap(), two.running_mean.unwrap());
    let moved = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let apart = a
        .iter()
        .zip(&b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    println!("running mean: largest value {moved:.4}, largest difference {apart:.4}");
    // Started at 0 and moved; the two runs' means within a tenth of that.
    assert!(moved > 0.01 && apart < 0.1 * moved, "{a:?} {b:?}");
}

/// The checkpoint does not depend on the devices: a run started on two
/// devices resumes on one and ends where a one-device run does.
#[test]
fn a_run_resumes_on_another_device_count() {
    let train = samples(16, 6);
    let valid = samples(12, 99);
    let config = TrainConfig::new()
        .with_batch_size(8)
        .with_backbone_lr(0.01)
        .with_head_lr(0.01)
        .with_seed(8);
    let batcher = TensorBatcher {
        shape: [INPUTS, 1, 1],
    };
    let device = Device::flex();
    let fit = |dir: &std::path::Path, epochs: usize, devices: usize| {
        Trainer::new(config.clone().with_epochs(epochs), dir)
            .with_devices(vec![device.clone(); devices])
            .fit(
                model(MarginLoss::Softmax),
                &train,
                &valid,
                &batcher,
                &device,
            )
            .unwrap()
    };
    let split = tempfile::tempdir().unwrap();
    fit(split.path(), 1, 2);
    let (resumed, report) = fit(split.path(), 2, 1);
    assert_eq!((report.resumed_epochs, report.devices), (1, 1));
    let whole = tempfile::tempdir().unwrap();
    let (one, _) = fit(whole.path(), 2, 1);
    let (a, b) = (weights(&resumed), weights(&one));
    let scale = a.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    let g = a
        .iter()
        .zip(&b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
        / scale;
    assert!(f64::from(g) <= TOLERANCE, "{g:e}");
}

#[test]
fn no_devices_is_an_error_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let train = samples(8, 1);
    let err = Trainer::new(TrainConfig::new().with_epochs(1), dir.path())
        .with_devices(Vec::new())
        .fit(
            model(MarginLoss::Softmax),
            &train,
            &train,
            &TensorBatcher {
                shape: [INPUTS, 1, 1],
            },
            &Device::flex(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::InvalidParameter {
                name: "devices",
                ..
            }
        ),
        "{err}"
    );
}
