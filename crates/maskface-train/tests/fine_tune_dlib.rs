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
    let manifest = common::fixture_chips();
    let train = ManifestSet::new(&manifest, Split::Train, true);
    assert_eq!(train.items().len(), 16);
    let data = FineTuneData {
        valid: train.clone(),
        train,
        classes: common::FIXTURE_FACES.len(),
        teachers: None,
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
        .fit(
            &dlib,
            &data,
            out.path(),
            std::slice::from_ref(&device),
            |_| {},
        )
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

/// Distillation on masked / unmasked pairs: the lower half of each fixture
/// chip blacked out (a crude mask), its teacher the unmasked chip. The same
/// fine-tune with the distillation term puts each masked chip closer to the
/// teacher's embedding of its unmasked twin than without it.
#[test]
fn distillation_pulls_masked_chips_onto_their_unmasked_twins() {
    let Some(models) = common::models() else {
        return;
    };
    let src = common::tests_dir().join("fixtures/face_chips");
    let dir = tempfile::tempdir().unwrap();
    let (bare_dir, masked_dir) = (dir.path().join("bare"), dir.path().join("masked"));
    std::fs::create_dir_all(&bare_dir).unwrap();
    std::fs::create_dir_all(&masked_dir).unwrap();
    let faces = [
        "aaron_peirsol_0001",
        "abel_pacheco_0001_rot25",
        "barbra_streisand_0001",
        "clare_short_0002",
    ];
    let (mut bare, mut masked) = (Manifest::new(&bare_dir), Manifest::new(&masked_dir));
    for (label, face) in faces.iter().enumerate() {
        for kind in ["chip68", "chip5"] {
            let name = format!("{face}_{kind}.png");
            let chip = load_rgb(&src.join(&name)).unwrap();
            chip.save(bare_dir.join(&name)).unwrap();
            let mut m = chip.clone();
            for y in 85..150 {
                for x in 0..150 {
                    m.put_pixel(x, y, image::Rgb([20, 20, 20]));
                }
            }
            m.save(masked_dir.join(&name)).unwrap();
            for manifest in [&mut bare, &mut masked] {
                manifest.samples.push(Sample::new(
                    name.clone(),
                    face.to_string(),
                    label as u32,
                    Split::Train,
                ));
            }
        }
    }
    let masked_set = ManifestSet::new(&masked, Split::Train, false);
    let bare_set = ManifestSet::new(&bare, Split::Train, false);
    let mut train = masked_set.clone();
    let mut teachers = masked_set.twins(&masked, &bare).unwrap();
    train.append(bare_set.clone());
    teachers.append(bare_set.clone());
    // A twin that does not exist is an error naming the image.
    let err = masked_set
        .twins(&masked, &Manifest::new(&bare_dir))
        .unwrap_err();
    assert!(
        err.to_string().contains("aaron_peirsol_0001_chip68.png"),
        "{err}"
    );

    let data = FineTuneData {
        valid: train.clone(),
        train,
        teachers: Some(teachers),
        classes: faces.len(),
    };
    let dlib_path = models.join(DLIB_RESNET_FILE);
    let dlib = DlibNet::from_file(&dlib_path).unwrap();
    let device = Backend::Flex.device().unwrap();
    let load = |set: &ManifestSet| -> Vec<_> {
        set.items()
            .iter()
            .map(|i| load_rgb(&i.path).unwrap())
            .collect()
    };
    let cos = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (n(a) * n(b))
    };
    let plain = FaceEmbedderResNet::from_file(&dlib_path, &device).unwrap();
    let teacher_raw = plain.embed(&load(&bare_set)).unwrap();
    // The mean cosine of the masked chips to their teachers after a
    // fine-tune on `data` with distillation weight `w`.
    let run = |data: &FineTuneData, w: f64| {
        let params = FineTuneParams {
            train: TrainConfig::new()
                .with_epochs(6)
                .with_batch_size(8)
                .with_backbone_lr(1e-5)
                .with_distill_weight(w),
            ..FineTuneParams::default()
        };
        let out = tempfile::tempdir().unwrap();
        params
            .fit(
                &dlib,
                data,
                out.path(),
                std::slice::from_ref(&device),
                |_| {},
            )
            .unwrap();
        let tuned =
            FaceEmbedderResNet::from_tuned(&dlib_path, &out.path().join("embedder.bpk"), &device)
                .unwrap();
        let centre = tuned.centre.clone().unwrap();
        let after = tuned.embed(&load(&masked_set)).unwrap();
        after
            .iter()
            .zip(&teacher_raw)
            .map(|(a, t)| {
                let t: Vec<f32> = t.iter().zip(&centre).map(|(v, c)| v - c).collect();
                cos(a, &t)
            })
            .sum::<f32>()
            / after.len() as f32
    };
    let (without, with) = (run(&data, 0.0), run(&data, 10.0));
    eprintln!("mean cosine to the unmasked twin: {without} without distillation, {with} with");
    assert!(
        with > without + 0.05,
        "mean cosine to the unmasked twin: {without} without distillation, {with} with"
    );
    // Teachers that are not training items themselves (only the masked
    // chips train) are embedded apart, with the same effect.
    let masked_only = FineTuneData {
        valid: masked_set.clone(),
        train: masked_set.clone(),
        teachers: Some(masked_set.twins(&masked, &bare).unwrap()),
        classes: faces.len(),
    };
    let apart = run(&masked_only, 10.0);
    eprintln!("with teachers outside the training set: {apart}");
    assert!(
        apart > without + 0.05,
        "{without} without distillation, {apart} with"
    );

    // Without teachers, distillation is refused by name.
    let no_teachers = FineTuneData {
        teachers: None,
        ..data.clone()
    };
    let params = FineTuneParams {
        train: TrainConfig::new().with_distill_weight(1.0),
        ..FineTuneParams::default()
    };
    let out = tempfile::tempdir().unwrap();
    let err = params
        .fit(
            &dlib,
            &no_teachers,
            out.path(),
            std::slice::from_ref(&device),
            |_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("distill_weight"), "{err}");
}
