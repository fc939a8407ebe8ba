//! Integration tests on the real data in ../shared (see `common::required`
//! for when it is absent).
//!
//! The dataset steps are byte-identical per seed, so their figures are
//! asserted as they come out. Slack is left only where a result passes
//! through code whose float summation order follows the CPU: OpenBLAS (the
//! Eigenface PCA) and gemm (the networks) pick their SIMD kernels at run
//! time, so a machine of another model may flip a face whose two best
//! answers are within rounding of each other: one face of 196.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface::augment::{augment_dataset, AugmentOptions, Policy};
use maskface::core::Split;
use maskface::dataset::{
    curate, read_seed_split, scan_lfw, split_stratified, Selection, SplitRatios, Verify,
};

/// Images of the 50 people `Selection::paper(42)` draws (`maskface curate
/// --lfw ../shared/lfw --out /tmp/c` says the same).
const SEEDED_PAPER_IMAGES: usize = 1637;

#[test]
fn authors_split_is_reproduced_exactly() {
    let Some(shared) = common::shared() else {
        return;
    };
    let m = read_seed_split(&shared.join("seed-split"), &shared.join("lfw")).unwrap();
    assert_eq!(m.identities().len(), 50);
    assert_eq!(m.samples.len(), 1702);
    assert_eq!(
        (
            m.count(Split::Train),
            m.count(Split::Val),
            m.count(Split::Test)
        ),
        (1340, 166, 196)
    );
    assert_eq!(m.identities()[0], "Luiz_Inacio_Lula_da_Silva");
    assert_eq!(
        m.samples[0].path,
        std::path::Path::new("Luiz_Inacio_Lula_da_Silva/Luiz_Inacio_Lula_da_Silva_0011.jpg")
    );
    let test_rows = m.split(Split::Test).filter(|s| s.label == 0).count();
    let expected = std::fs::read_to_string(shared.join("seed-split/test.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(",0"))
        .count();
    assert_eq!(test_rows, expected);
}

#[test]
fn seeded_paper_selection_and_split() {
    let Some(shared) = common::shared() else {
        return;
    };
    let index = scan_lfw(&shared.join("lfw"), Verify::Header).unwrap();
    assert_eq!(index.identities.len(), 5749);
    assert_eq!(index.num_images(), 13233);
    let in_range = index
        .identities
        .iter()
        .filter(|i| (20..=80).contains(&i.images.len()))
        .count();
    assert_eq!(in_range, 57);

    let m = curate(&index, &Selection::paper(42)).unwrap();
    assert_eq!(m.identities().len(), 50);
    // The seeded draw of 50 of the 57 people with 20..=80 images; integer
    // work only, the same everywhere.
    assert_eq!(m.samples.len(), SEEDED_PAPER_IMAGES, "{}", m.samples.len());
    assert_eq!(m, curate(&index, &Selection::paper(42)).unwrap());
    assert_ne!(
        m.identities(),
        curate(&index, &Selection::paper(43)).unwrap().identities()
    );

    let s = split_stratified(&m, &SplitRatios::default(), 42).unwrap();
    for (name, n) in m.counts_per_identity() {
        let count = |sp| {
            s.samples
                .iter()
                .filter(|x| x.identity == name && x.split == sp)
                .count()
        };
        let (tr, va, te) = (count(Split::Train), count(Split::Val), count(Split::Test));
        assert_eq!(tr + va + te, n);
        for (got, ratio) in [(tr, 0.8), (va, 0.1), (te, 0.1)] {
            assert!(
                (got as f64 - ratio * n as f64).abs() <= 1.0,
                "{name}: {tr}/{va}/{te} of {n}"
            );
        }
    }
}

#[test]
fn authors_training_split_augments_to_4x() {
    let Some(shared) = common::shared() else {
        return;
    };
    let m = read_seed_split(&shared.join("seed-split"), &shared.join("lfw")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = augment_dataset(
        &m,
        &Policy::paper(),
        dir.path(),
        &AugmentOptions::default(),
        &|| {},
    )
    .unwrap();
    assert!(report.failures.is_empty());
    assert_eq!(report.manifest.count(Split::Train), 4 * 1340);
    assert_eq!(report.manifest.count(Split::Val), 166);
    assert_eq!(report.manifest.count(Split::Test), 196);
}

/// `generate` over the authors' 1,702 images: none skipped, and the same
/// seed gives the same bytes.
#[test]
fn authors_images_generate_a_masked_dataset_reproducibly() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(models) = common::models() else {
        return;
    };
    use maskface::mask::{generate_dataset, GenerateOptions, PaperMask, ShapePredictor};
    use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
    let m = read_seed_split(&shared.join("seed-split"), &shared.join("lfw")).unwrap();
    let config = MtcnnConfig {
        min_face_size: 40,
        ..MtcnnConfig::default()
    };
    let device = maskface::nets::Backend::Flex.device().unwrap();
    let mtcnn = Mtcnn::from_dir(&models, config, &device).unwrap();
    let sp =
        ShapePredictor::from_file(models.join("shape_predictor_68_face_landmarks.dat")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut snapshots = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        let t = std::time::Instant::now();
        let report = generate_dataset(
            &m,
            &mtcnn,
            &sp,
            &PaperMask::default(),
            &out,
            &GenerateOptions::default(),
            &|_| {},
        )
        .unwrap();
        eprintln!(
            "run {run}: {} masked, {} skipped in {:.1} s: {:?}",
            report.masked,
            report.failures.len(),
            t.elapsed().as_secs_f64(),
            report.failures
        );
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.masked, 1702);
        snapshots.push(common::snapshot(&out));
    }
    assert_eq!(snapshots[0].len(), snapshots[1].len());
    assert!(snapshots[0] == snapshots[1], "two runs with seed 42 differ");

    // The Eigenface baseline on the masked upper faces (docs/results.md):
    // 64x32, equalised, 95% of the variance, nearest neighbour.
    use maskface::eigen::{Components, Fit, NearestParams, PcaParams, Preprocess};
    let masked =
        maskface::core::Manifest::read(&dir.path().join("a/masked_upper/manifest.csv")).unwrap();
    let pre = Preprocess {
        size: [64, 32],
        equalize: true,
    };
    let (x, y) = pre.load_split(&masked, Split::Train).unwrap();
    let (xt, yt) = pre.load_split(&masked, Split::Test).unwrap();
    let pca = PcaParams::new(Components::Variance(0.95)).fit(&x).unwrap();
    let clf = NearestParams::default()
        .fit((&pca.transform(&x).unwrap(), &y[..]))
        .unwrap();
    let right = clf
        .predict(&pca.transform(&xt).unwrap())
        .unwrap()
        .iter()
        .zip(&yt)
        .filter(|(d, l)| d.label == Some(**l))
        .count();
    eprintln!(
        "eigenfaces on masked upper faces: {} components, {right}/196",
        pca.n_components()
    );
    assert_eq!(yt.len(), 196);
    // docs/results.md: 98/196; one face of slack for OpenBLAS's kernels.
    assert!(right.abs_diff(98) <= 1, "{right}/196 right");

    open_set_against_1000_strangers(&shared, &masked, &mtcnn, &sp, &dir.path().join("strangers"));
    resnet_on_masked_chips(&models, &dir.path().join("a"));
}

/// docs/results.md's recognizer rows: dlib's ResNet (in burn) on the
/// aligned masked chips, a softmax head on the 1,340 training embeddings,
/// the 196 test chips: whole masked face and the upper part.
fn resnet_on_masked_chips(models: &std::path::Path, generated: &std::path::Path) {
    use maskface::core::FaceEmbedder;
    use maskface::nets::face_resnet::{FaceEmbedderResNet, DLIB_RESNET_FILE};
    use maskface::recognize::{Head, SoftmaxParams};

    let device = maskface::nets::Backend::Flex.device().unwrap();
    let net = FaceEmbedderResNet::from_file(&models.join(DLIB_RESNET_FILE), &device).unwrap();
    // docs/results.md: 194/196 and 189/196; one face of slack for gemm's
    // kernels (the descriptors move by about 4e-7 between SIMD paths).
    for (variant, want) in [("masked_chip", 194), ("masked_chip_upper", 189)] {
        let m =
            maskface::core::Manifest::read(&generated.join(variant).join("manifest.csv")).unwrap();
        let embed = |split| {
            let samples: Vec<_> = m.split(split).collect();
            let chips: Vec<_> = samples
                .iter()
                .map(|s| maskface::core::load_rgb(&m.resolve(&s.path)).unwrap())
                .collect();
            let e = chips
                .chunks(32)
                .flat_map(|c| net.embed(c).unwrap())
                .collect::<Vec<_>>();
            (e, samples.iter().map(|s| s.label).collect::<Vec<u32>>())
        };
        let (x, y) = embed(Split::Train);
        let (xt, yt) = embed(Split::Test);
        let head = Head::Softmax(SoftmaxParams::default().fit(&x, &y).unwrap());
        let right = xt
            .iter()
            .zip(&yt)
            .filter(|(v, &l)| head.predict(v) == l)
            .count();
        eprintln!("dlib ResNet + softmax on {variant}: {right}/196");
        assert!(right.abs_diff(want) <= 1, "{variant}: {right}/196");
    }
}

/// docs/results.md's open-set rows: the whitened, cosine Eigenface model on
/// the 196 masked test faces against 1,000 strangers from LFW, drawn with
/// seed 42 and masked by the same pipeline.
fn open_set_against_1000_strangers(
    shared: &std::path::Path,
    masked: &maskface::core::Manifest,
    mtcnn: &maskface::nets::mtcnn::Mtcnn,
    sp: &maskface::mask::ShapePredictor,
    out: &std::path::Path,
) {
    use maskface::core::Classifier;
    use maskface::dataset::draw_strangers;
    use maskface::eigen::{
        Components, EigenModel, Eigenfaces, Fit, Metric, NearestParams, PcaParams, Preprocess, Rule,
    };
    use maskface::mask::{generate_dataset, GenerationParams};
    use maskface::openset::{probes, OpenSetParams, Score};

    let index = scan_lfw(&shared.join("lfw"), Verify::Header).unwrap();
    let gallery = masked.identities().into_iter().collect();
    let drawn = draw_strangers(&index, &gallery, 1000, 42).unwrap();
    assert_eq!(drawn.identities().len(), 1000, "one image per person");
    let record = GenerationParams::from_manifest(masked).unwrap().unwrap();
    let mask = record.mask.unwrap();
    let report = generate_dataset(&drawn, mtcnn, sp, &mask, out, &record.options, &|_| {}).unwrap();
    let strangers = &report.manifests[&record.variant];
    eprintln!("strangers: {} masked, {:?}", report.masked, report.failures);
    assert_eq!(report.masked, 1000, "{:?}", report.failures);

    let load = |m: &maskface::core::Manifest, split| -> Vec<image::RgbImage> {
        m.split(split)
            .map(|s| maskface::core::load_rgb(&m.resolve(&s.path)).unwrap())
            .collect()
    };
    let train = load(masked, Split::Train);
    let labels: Vec<u32> = masked.split(Split::Train).map(|s| s.label).collect();
    let pre = Preprocess {
        size: [64, 32],
        equalize: true,
    };
    let params = PcaParams::new(Components::Variance(0.95)).whiten(true);
    let eigenfaces = Eigenfaces::fit(pre, &params, &train).unwrap();
    let nearest = NearestParams {
        rule: Rule::NearestNeighbour,
        metric: Metric::Cosine,
        threshold: None,
    }
    .fit((&eigenfaces.project(&train).unwrap(), &labels[..]))
    .unwrap();
    let mut names = vec![String::new(); 50];
    for s in &masked.samples {
        names[s.label as usize] = s.identity.clone();
    }
    let model = EigenModel::new(names, eigenfaces, nearest).unwrap();
    let mut logits = model.logits(&load(masked, Split::Test)).unwrap();
    logits.extend(model.logits(&load(strangers, Split::Test)).unwrap());
    let truths: Vec<Option<u32>> = masked
        .split(Split::Test)
        .map(|s| Some(s.label))
        .chain(strangers.samples.iter().map(|_| None))
        .collect();
    let evaluate = |score| {
        OpenSetParams::default()
            .evaluate(score, &probes(score, &logits, &truths).unwrap())
            .unwrap()
    };
    let near = evaluate(Score::MaxLogit);
    let cs = evaluate(Score::Confidence);
    eprintln!("open set, max_logit: {near:?}\nopen set, confidence: {cs:?}");
    // docs/results.md's row, as `maskface run` gives it: rank-1 116/196,
    // AUROC 0.72728, DIR 30/196 and 63/196 at FPIR 1% and 5%. Slack: one
    // face of the 196 (OpenBLAS's kernels, above); AUROC 0.002, about 400
    // of the 196,000 target-stranger pairs.
    let face = 1.0 / 196.0 + 1e-9;
    assert!(
        (near.rank1 - 116.0 / 196.0).abs() <= face,
        "rank-1 {}",
        near.rank1
    );
    assert!(
        (near.auroc - 0.72728).abs() <= 0.002,
        "AUROC {}",
        near.auroc
    );
    let dirs: Vec<f64> = near.operating_points.iter().map(|p| p.point.dir).collect();
    assert!((dirs[0] - 30.0 / 196.0).abs() <= face, "{near:?}");
    assert!((dirs[1] - 63.0 / 196.0).abs() <= face, "{near:?}");
    assert!((cs.auroc - 0.72655).abs() <= 0.002, "AUROC {}", cs.auroc);
    assert!(
        (cs.operating_points[0].point.dir - 34.0 / 196.0).abs() <= face,
        "{cs:?}"
    );
    // Distances of a cosine model are small, so the confidence score stays
    // near 1, far below the paper's 49.61 / 46.18 for a softmax network:
    // 1.176 and 1.279 (docs/results.md).
    assert!((cs.percentile_rule.target - 1.1761).abs() < 0.005, "{cs:?}");
    assert!(
        (cs.percentile_rule.nontarget - 1.2792).abs() < 0.005,
        "{cs:?}"
    );
}

/// The 68 points the pipeline places (MTCNN, its five landmarks turned into
/// the box dlib's model expects, the Rust shape predictor) against dlib's own
/// pipeline (HOG detector + the same model) on the authors' 195 test faces.
#[test]
fn pipeline_landmarks_agree_with_dlibs_own_pipeline() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(models) = common::models() else {
        return;
    };
    use maskface::core::{load_rgb, Detection, LandmarkPredictor, Point2};
    use maskface::mask::{landmark_box, ShapePredictor};
    use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
    let device = maskface::nets::Backend::Flex.device().unwrap();
    let mtcnn = Mtcnn::from_dir(&models, MtcnnConfig::default(), &device).unwrap();
    let sp =
        ShapePredictor::from_file(models.join("shape_predictor_68_face_landmarks.dat")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::repo().join("fixtures/reference/dlib_hog68_seed_test.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // Errors with the box from the five landmarks, from the box alone, and
    // with MTCNN's box given as it is.
    let (mut with_landmarks, mut box_only, mut as_is) = (Vec::new(), Vec::new(), Vec::new());
    for (rel, e) in reference["images"].as_object().unwrap() {
        if e.is_null() {
            continue;
        }
        let dlib: Vec<Point2> = e["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Point2::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
            .collect();
        let iod = maskface::core::Landmarks68::new(dlib.clone()).unwrap();
        let iod = iod.left_eye().distance(&iod.right_eye());
        let image = load_rgb(&shared.join("lfw").join(rel)).unwrap();
        let dets = mtcnn
            .detect_images(std::slice::from_ref(&image))
            .pop()
            .unwrap()
            .unwrap();
        let det = mtcnn.select(&dets, image.width(), image.height()).unwrap();
        let bare = Detection {
            landmarks: None,
            ..det.clone()
        };
        for (bbox, errs) in [
            (landmark_box(det), &mut with_landmarks),
            (landmark_box(&bare), &mut box_only),
            (det.bbox, &mut as_is),
        ] {
            let ours = LandmarkPredictor::predict(&sp, &image, &bbox).unwrap();
            let mean = ours
                .points()
                .iter()
                .zip(&dlib)
                .map(|(a, b)| a.distance(b))
                .sum::<f32>()
                / 68.0;
            errs.push(mean / iod);
        }
    }
    for errs in [&mut with_landmarks, &mut box_only, &mut as_is] {
        errs.sort_by(f32::total_cmp);
    }
    let stats = |e: &[f32]| {
        (
            e[e.len() / 2],
            e.iter().sum::<f32>() / e.len() as f32,
            e[e.len() * 95 / 100],
        )
    };
    let (m1, a1, p1) = stats(&with_landmarks);
    let (m2, a2, p2) = stats(&box_only);
    let (m3, a3, p3) = stats(&as_is);
    eprintln!(
        "{} faces; mean point error / inter-ocular distance (median, mean, p95): from 5 landmarks {m1:.4} {a1:.4} {p1:.4}; from the box {m2:.4} {a2:.4} {p2:.4}; MTCNN's box as is {m3:.4} {a3:.4} {p3:.4}",
        with_landmarks.len()
    );
    assert_eq!(with_landmarks.len(), 195);
    // Measured: 0.0173 0.0206 0.0386 from five landmarks, 0.0175 0.0353
    // 0.0794 from the box. MTCNN's boxes and points come through gemm
    // (its kernels follow the CPU), so each bound sits about 2% above.
    assert!(m1 < 0.0177 && a1 < 0.0211 && p1 < 0.0395, "{m1} {a1} {p1}");
    assert!(m2 < 0.0179 && a2 < 0.0361 && p2 < 0.0811, "{m2} {a2} {p2}");
    assert!(a3 > a2 && a2 > a1, "{a3} {a2} {a1}");
}

/// The mask classifier, fitted on 60 LFW people in masks of the training
/// family, finds masks in the two held-out cloth patterns on 60 other
/// people and leaves their unmasked faces unmasked.
#[test]
fn mask_classifier_finds_held_out_masks_on_other_people() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(models) = common::models() else {
        return;
    };
    use maskface::mask::MaskFamily;
    use maskface::nets::face_resnet::DLIB_RESNET_FILE;
    use maskface::recognize::{
        FacePipeline, MaskClassifierParams, MaskedChips, MaskedEnrollment, LFW_CENTRE_BOX,
    };
    let lfw = shared.join("lfw");
    let index = scan_lfw(&lfw, Verify::Header).unwrap();
    // Every 40th person of LFW's 5,749, one photo each: the first 120.
    let photos: Vec<std::path::PathBuf> = index
        .identities
        .iter()
        .step_by(40)
        .map(|p| p.images[0].clone())
        .take(120)
        .collect();
    let (fit, test) = photos.split_at(60);
    let pipeline = FacePipeline::load(&models, DLIB_RESNET_FILE).unwrap();
    let classifier = MaskedEnrollment::default()
        .fit_mask_classifier(
            &MaskClassifierParams::default(),
            &pipeline,
            &lfw,
            fit,
            &|_| {},
        )
        .unwrap();
    let held_out = MaskedChips::make_with(
        &pipeline,
        &lfw,
        test,
        &MaskFamily::held_out(),
        7,
        Some(LFW_CENTRE_BOX),
        &|_| {},
    )
    .unwrap();
    let (unmasked, masked) = classifier.accuracy(&held_out.unmasked, &held_out.masked);
    eprintln!("unmasked left {unmasked:.3}, held-out masks found {masked:.3}");
    // Measured: 60 of 60 unmasked faces left unmasked, 59 of 60 masks
    // found; one face of slack each (the embeddings come through gemm).
    assert!(unmasked >= 59.0 / 60.0, "{unmasked}");
    assert!(masked >= 58.0 / 60.0, "{masked}");
}
