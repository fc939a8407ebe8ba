//! `generate_dataset` end to end on fixture faces with MTCNN and the 68-point
//! model: outputs, records, bad input (corrupt image, no face, face cut by the
//! border), byte-identical output per seed, and resuming an interrupted run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use maskface::core::{CoreError, Manifest, Sample, Split};
use maskface::mask::{
    generate_dataset, GenerateOptions, GenerationParams, ImageRecord, MaskError, MaskSpec,
    PaperMask, RealisticMask, ShapePredictor, Variant,
};
use maskface::nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface::nets::Backend;

/// The fixture faces plus a corrupt JPEG, an image without a face and a
/// face cut by the left border, as a split manifest.
fn damaged_dataset(root: &Path) -> Manifest {
    common::copy_tree(&common::fixtures_lfw(), root);
    let put = |rel: &str, f: &dyn Fn(&Path)| {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        f(&p);
    };
    put("Broken/Broken_0001.jpg", &|p| {
        fs::copy(
            common::repo().join("fixtures/broken/truncated_header.jpg"),
            p,
        )
        .unwrap();
    });
    put("Nobody/Nobody_0001.png", &|p| {
        image::RgbImage::from_pixel(250, 250, image::Rgb([120, 130, 140]))
            .save(p)
            .unwrap();
    });
    // A face cut by the left border, and one of which
    // only a sliver is left.
    let aaron = image::open(root.join("Aaron_Peirsol/Aaron_Peirsol_0001.jpg"))
        .unwrap()
        .to_rgb8();
    put("Edge/Edge_0001.png", &|p| {
        image::imageops::crop_imm(&aaron, 80, 30, 170, 200)
            .to_image()
            .save(p)
            .unwrap();
    });
    put("Edge/Edge_0002.png", &|p| {
        image::imageops::crop_imm(&aaron, 110, 30, 140, 200)
            .to_image()
            .save(p)
            .unwrap();
    });
    let mut m = Manifest::new(root);
    let mut files: Vec<PathBuf> = Vec::new();
    for id in fs::read_dir(root).unwrap() {
        for f in fs::read_dir(id.unwrap().path()).unwrap() {
            files.push(f.unwrap().path().strip_prefix(root).unwrap().to_path_buf());
        }
    }
    files.sort();
    let mut names: Vec<String> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let identity = f.parent().unwrap().to_string_lossy().into_owned();
        if !names.contains(&identity) {
            names.push(identity.clone());
        }
        let label = names.len() as u32 - 1;
        let split = [Split::Train, Split::Train, Split::Val, Split::Test][i % 4];
        m.samples
            .push(Sample::new(f.clone(), identity, label, split));
    }
    m
}

fn opts(seed: u64) -> GenerateOptions {
    GenerateOptions {
        seed,
        // Small batches, so that the resume test has several.
        batch: 5,
        variants: Variant::ALL.to_vec(),
        ..GenerateOptions::default()
    }
}

fn run(
    input: &Manifest,
    out: &Path,
    seed: u64,
    realistic: bool,
) -> Result<maskface::mask::GenerateReport, MaskError> {
    let dir = common::models().unwrap();
    let mtcnn = Mtcnn::from_dir(
        &dir,
        MtcnnConfig::default(),
        &Backend::Flex.device().unwrap(),
    )
    .unwrap();
    let sp = ShapePredictor::from_file(dir.join("shape_predictor_68_face_landmarks.dat")).unwrap();
    if realistic {
        generate_dataset(
            input,
            &mtcnn,
            &sp,
            &RealisticMask::default(),
            out,
            &opts(seed),
            &|_| (),
        )
    } else {
        generate_dataset(
            input,
            &mtcnn,
            &sp,
            &PaperMask::default(),
            out,
            &opts(seed),
            &|_| (),
        )
    }
}

#[test]
fn masks_fixtures_records_skips_and_is_reproducible() {
    if common::models().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = damaged_dataset(&tmp.path().join("lfw"));
    assert_eq!(input.samples.len(), 20);
    let a = tmp.path().join("a");
    let report = run(&input, &a, 7, false).unwrap();

    // The corrupt image and the empty one are recorded skips with reasons.
    let failures: Vec<(String, String)> = report
        .failures
        .iter()
        .map(|f| (f.path.to_string_lossy().into_owned(), f.reason.clone()))
        .collect();
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert_eq!(failures[0].0, "Broken/Broken_0001.jpg");
    assert!(failures[0].1.contains("Broken_0001.jpg"), "{failures:?}");
    assert_eq!(failures[1].0, "Edge/Edge_0002.png");
    assert!(
        failures[1].1.contains("face cut by the image border"),
        "{failures:?}"
    );
    assert_eq!(
        failures[2],
        ("Nobody/Nobody_0001.png".into(), "no face found".into())
    );
    assert_eq!(report.masked, 17);
    let csv = fs::read_to_string(a.join("failures.csv")).unwrap();
    assert!(
        csv.contains("Nobody/Nobody_0001.png,no face found"),
        "{csv}"
    );

    // Every variant has a manifest with every masked image, at its size.
    for v in Variant::ALL {
        let m = Manifest::read(&a.join(v.as_str()).join("manifest.csv")).unwrap();
        assert_eq!(m.samples.len(), 17, "{v:?}");
        let img = image::open(m.resolve(&m.samples[0].path)).unwrap();
        let want = match v {
            Variant::MaskedUpper | Variant::UnmaskedUpper => (160, 80),
            Variant::MaskedChip | Variant::MaskedChipUpper | Variant::UnmaskedChip => (150, 150),
            _ => (160, 160),
        };
        assert_eq!((img.width(), img.height()), want, "{v:?}");
        // The manifest records how to make the same images again.
        let rec = GenerationParams::from_manifest(&m).unwrap().unwrap();
        assert_eq!(rec.variant, v);
        assert_eq!(
            rec.options,
            GenerateOptions {
                variants: vec![v],
                ..opts(7)
            }
        );
        assert_eq!(rec.mask, Some(MaskSpec::Paper(PaperMask::default())));
    }

    // The records: landmarks, polygon and mask inside the crop, the mask
    // over the nose tip and the mouth, the binary mask written.
    let records: Vec<ImageRecord> = fs::read_to_string(a.join("records.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 20);
    let edge = records
        .iter()
        .find(|r| r.source == Path::new("Edge/Edge_0001.png"))
        .unwrap();
    assert!(edge.failure.is_none(), "the face at the border is masked");
    for r in records.iter().filter(|r| r.failure.is_none()) {
        let l = r.landmarks.as_ref().unwrap();
        assert_eq!(r.polygon.len(), 14);
        let out = r
            .polygon
            .iter()
            .find(|p| !((-20.0..180.0).contains(&p.x) && (-20.0..180.0).contains(&p.y)));
        assert!(
            out.is_none(),
            "{}: {out:?} {:?}",
            r.source.display(),
            r.polygon
        );
        let color = r.mask["color"].as_str().unwrap();
        assert!(["black", "white", "sky_blue"].contains(&color), "{color}");
        let mask = image::open(a.join(r.mask_file.as_ref().unwrap()))
            .unwrap()
            .to_luma8();
        for i in [30usize, 51, 57, 62, 66] {
            let p = l.points()[i];
            let v = mask.get_pixel(p.x.round() as u32, (p.y.round() as u32).min(159))[0];
            assert_eq!(
                v,
                255,
                "{}: point {i} at {p:?} is not under the mask",
                r.source.display()
            );
        }
        // The cut is at the nose bridge, between the eyes and the mouth.
        assert!(r.cut_row as f32 > l.left_eye().y && (r.cut_row as f32) < l.points()[51].y);
        // In the aligned chip the nose bridge lies near dlib's template
        // ((0.25 + 0.307) / 1.5 of 150 rows: 56); below it the upper
        // chip is black, and the masked chip differs from the unmasked one
        // only there.
        let chip_cut = r.chip_cut_row.unwrap();
        assert!(
            (46..=66).contains(&chip_cut),
            "{}: {chip_cut}",
            r.source.display()
        );
        let stem = r.source.with_extension("png");
        let chip = |v: &str| {
            let path = ["train", "val", "test"]
                .iter()
                .map(|split| a.join(v).join("images").join(split).join(&stem))
                .find(|p| p.is_file())
                .unwrap();
            image::open(path).unwrap().to_rgb8()
        };
        let (masked, upper, plain) = (
            chip("masked_chip"),
            chip("masked_chip_upper"),
            chip("unmasked_chip"),
        );
        for (y, row) in upper.rows().enumerate() {
            let dark = row.clone().all(|p| p.0 == [0, 0, 0]);
            assert_eq!(
                dark,
                y as u32 >= chip_cut,
                "{}: row {y}",
                r.source.display()
            );
        }
        let changed_rows: Vec<u32> = (0..150)
            .filter(|&y| (0..150).any(|x| masked.get_pixel(x, y) != plain.get_pixel(x, y)))
            .collect();
        assert!(
            changed_rows.first().is_some_and(|&y| y + 3 >= chip_cut),
            "{changed_rows:?}"
        );
        assert!(changed_rows.len() > 40, "{}", changed_rows.len());
    }

    // Same seed, byte-identical; another seed, other colours.
    let b = tmp.path().join("b");
    run(&input, &b, 7, false).unwrap();
    assert_eq!(common::snapshot(&a), common::snapshot(&b));
    let c = tmp.path().join("c");
    run(&input, &c, 8, false).unwrap();
    assert_ne!(
        fs::read(a.join("records.jsonl")).unwrap(),
        fs::read(c.join("records.jsonl")).unwrap()
    );

    // Another run in the same folder with other parameters is refused.
    let err = run(&input, &a, 8, false).unwrap_err();
    assert!(
        matches!(err, MaskError::Core(CoreError::ParamsMismatch { .. })),
        "{err}"
    );
}

#[test]
fn interrupted_generate_resumes_to_the_same_bytes() {
    if common::models().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = damaged_dataset(&tmp.path().join("lfw"));
    let full = tmp.path().join("full");
    run(&input, &full, 3, true).unwrap();

    // Make the state of a run killed after 7 images: their files and journal
    // lines, the rest missing, no records or manifests yet.
    let part = tmp.path().join("part");
    common::copy_tree(&full, &part);
    let records = fs::read_to_string(part.join("records.jsonl")).unwrap();
    let lines: Vec<&str> = records.lines().collect();
    // Journal lines are `[place in the input, record]`.
    let mut journal: String = lines[..7]
        .iter()
        .enumerate()
        .map(|(i, l)| format!("[{i},{l}]\n"))
        .collect();
    journal.push_str("[7,{\"source\":\"torn");
    fs::create_dir_all(part.join("shards")).unwrap();
    fs::write(part.join("shards/generate-0-of-1.jsonl"), journal).unwrap();
    fs::remove_file(part.join("records.jsonl")).unwrap();
    fs::remove_file(part.join("failures.csv")).unwrap();
    for line in &lines[7..] {
        let r: ImageRecord = serde_json::from_str(line).unwrap();
        for v in Variant::ALL {
            let p = part
                .join(v.as_str())
                .join("images")
                .join(r.split.as_str())
                .join(r.source.with_extension("png"));
            let _ = fs::remove_file(p);
        }
    }
    for v in Variant::ALL {
        fs::remove_file(part.join(v.as_str()).join("manifest.csv")).unwrap();
        fs::remove_file(part.join(v.as_str()).join("manifest.json")).unwrap();
    }
    let report = run(&input, &part, 3, true).unwrap();
    assert_eq!(report.resumed, 7);
    assert_eq!(common::snapshot(&full), common::snapshot(&part));
}

#[test]
fn a_landmark_model_cut_in_half_is_an_error_naming_it() {
    let Some(dir) = common::models() else {
        return;
    };
    let bytes = fs::read(dir.join("shape_predictor_68_face_landmarks.dat")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let half = tmp.path().join("half.dat");
    fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let err = ShapePredictor::from_file(&half).unwrap_err().to_string();
    assert!(
        err.contains("half.dat") && err.contains("end of file"),
        "{err}"
    );
    let err = ShapePredictor::from_file(tmp.path().join("missing.dat"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.dat"), "{err}");
}
