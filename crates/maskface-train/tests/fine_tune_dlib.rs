//! Fine-tuning's plumbing on dlib's real network: with learning rates of
//! zero, the saved embedder must be dlib's network minus the training
//! set's mean embedding, and the head started at the class centres must
//! already classify the training faces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface_core::{load_rgb, FaceEmbedder, Manifest, Sample, Split};
use maskface_nets::face_resnet::{DlibNet, FaceEmbedderResNet, DLIB_RESNET_FILE};
use maskface_nets::Backend;
use maskface_train::{FineTuneData, FineTuneParams, ManifestSet, TrainConfig};

#[test]
fn zero_rate_fine_tuning_saves_dlibs_network_centred_on_the_training_mean() {
    let Some(models) = common::models() else {
        return;
    };
    let root = common::tests_dir().join("fixtures/face_chips");
    let faces = [
        "aaron_peirsol_0001",
        "abel_pacheco_0001_rot25",
        "barbra_streisand_0001",
        "clare_short_0002",
    ];
    let mut manifest = Manifest::new(&root);
    for (label, face) in faces.iter().enumerate() {
        for kind in ["chip68", "chip5"] {
            manifest.samples.push(Sample::new(
                format!("{face}_{kind}.png"),
                face.to_string(),
                label as u32,
                Split::Train,
            ));
        }
    }
    let train = ManifestSet::new(&manifest, Split::Train, true);
    assert_eq!(train.items().len(), 16);
    let data = FineTuneData {
        valid: train.clone(),
        train,
        classes: faces.len(),
    };
    let params = FineTuneParams {
        train: TrainConfig::new()
            .with_epochs(1)
            .with_batch_size(8)
            .with_backbone_lr(0.0)
            .with_head_lr(0.0),
        ..FineTuneParams::default()
    };
    let dlib_path = models.join(DLIB_RESNET_FILE);
    let dlib = DlibNet::from_file(&dlib_path).unwrap();
    let device = Backend::Flex.device().unwrap();
    let out = tempfile::tempdir().unwrap();
    let fitted = params
        .fit(&dlib, &data, out.path(), &device, |_| {})
        .unwrap();
    assert_eq!(fitted.report.history[0].valid_accuracy, 1.0);

    // dlib's embeddings of the 8 chips and their mirror images.
    let plain = FaceEmbedderResNet::from_file(&dlib_path, &device).unwrap();
    let chips: Vec<_> = data
        .train
        .items()
        .iter()
        .map(|i| {
            let c = load_rgb(&i.path).unwrap();
            if i.flip {
                image::imageops::flip_horizontal(&c)
            } else {
                c
            }
        })
        .collect();
    let dlib_e = plain.embed(&chips).unwrap();
    let mean: Vec<f32> = (0..128)
        .map(|k| dlib_e.iter().map(|e| e[k]).sum::<f32>() / dlib_e.len() as f32)
        .collect();

    let tuned =
        FaceEmbedderResNet::from_tuned(&dlib_path, &out.path().join("embedder.bpk"), &device)
            .unwrap();
    let centre = tuned.centre.clone().unwrap();
    let worst_centre = centre
        .iter()
        .zip(&mean)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst_centre < 1e-5, "centre off by {worst_centre}");
    let tuned_e = tuned.embed(&chips).unwrap();
    let mut worst = 0f32;
    for (t, d) in tuned_e.iter().zip(&dlib_e) {
        for k in 0..128 {
            worst = worst.max((t[k] - (d[k] - mean[k])).abs());
        }
    }
    assert!(worst < 1e-5, "tuned embedding off by {worst}");

    // A truncated weight file is an error naming it, not a crash.
    let bad = out.path().join("truncated.bpk");
    let bytes = std::fs::read(out.path().join("embedder.bpk")).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let err = FaceEmbedderResNet::from_tuned(&dlib_path, &bad, &device).unwrap_err();
    assert!(err.to_string().contains("truncated.bpk"), "{err}");
}
