//! The weight files load exactly: every tensor of pnet.pt, rnet.pt and
//! onet.pt against values recorded by an independent reader
//! (`scripts/record_pt_reference.py`: Python's pickle, no torch).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use burn::module::Module;
use burn::store::ModuleSnapshot;
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::{Backend, NetsError};
use serde_json::Value;

/// Name -> (shape in PyTorch's layout, values in PyTorch's row-major order).
fn tensors<M: Module + ModuleSnapshot>(module: &M) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    module
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let shape: Vec<usize> = t.shape.to_vec();
            let bytes = t.to_bytes().unwrap();
            let mut v: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            // burn's PReLU slopes are `alpha`, PyTorch's `weight`.
            let name = t.name.replace(".alpha", ".weight");
            // burn stores Linear weights as [in, out]; PyTorch as [out, in].
            let (shape, v) = if name.starts_with("dense") && name.ends_with(".weight") {
                let (i, o) = (shape[0], shape[1]);
                let mut tr = vec![0f32; v.len()];
                for a in 0..i {
                    for b in 0..o {
                        tr[b * i + a] = v[a * o + b];
                    }
                }
                v = tr;
                (vec![o, i], v)
            } else {
                (shape, v)
            };
            (name, (shape, v))
        })
        .collect()
}

#[test]
fn all_50_tensors_match_the_independent_reader() {
    let Some(mtcnn) = common::mtcnn(MtcnnConfig::default()) else {
        return;
    };
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(common::tests_dir().join("fixtures/mtcnn/weights_reference.json"))
            .unwrap(),
    )
    .unwrap();
    let loaded = [
        ("pnet", tensors(mtcnn.pnet())),
        ("rnet", tensors(mtcnn.rnet())),
        ("onet", tensors(mtcnn.onet())),
    ];
    let mut checked = 0;
    let mut non_contiguous = 0;
    for (net, ours) in loaded {
        let expected = reference[net].as_object().unwrap();
        assert_eq!(ours.len(), expected.len(), "{net}: tensor count");
        for (name, e) in expected {
            let (shape, values) = ours
                .get(name)
                .unwrap_or_else(|| panic!("{net}.{name} not loaded"));
            let e_shape: Vec<usize> = e["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(shape, &e_shape, "{net}.{name} shape");
            for s in e["samples"].as_array().unwrap() {
                let (i, v) = (
                    s[0].as_u64().unwrap() as usize,
                    s[1].as_f64().unwrap() as f32,
                );
                assert_eq!(values[i], v, "{net}.{name}[{i}]");
            }
            let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
            let abs_sum: f64 = values.iter().map(|&v| f64::from(v).abs()).sum();
            assert!(
                (sum - e["sum"].as_f64().unwrap()).abs() < 1e-6 * abs_sum.max(1.0),
                "{net}.{name} sum {sum}"
            );
            assert!(
                (abs_sum - e["abs_sum"].as_f64().unwrap()).abs() < 1e-6 * abs_sum.max(1.0),
                "{net}.{name} abs sum"
            );
            non_contiguous += usize::from(!e["contiguous"].as_bool().unwrap());
            checked += 1;
        }
    }
    assert_eq!(checked, 50);
    assert!(
        non_contiguous >= 19,
        "the reference must exercise strided tensors ({non_contiguous})"
    );
}

#[test]
fn truncated_wrong_and_missing_files_are_errors_naming_the_file() {
    let Some(models) = common::models() else {
        return;
    };
    let device = Backend::Flex.device().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = MtcnnConfig::default;

    let half = dir.path().join("pnet_half.pt");
    let bytes = std::fs::read(models.join("pnet.pt")).unwrap();
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let err = Mtcnn::from_files(
        &half,
        &models.join("rnet.pt"),
        &models.join("onet.pt"),
        cfg(),
        &device,
    )
    .unwrap_err();
    assert!(matches!(err, NetsError::Weights { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("pnet_half.pt") && msg.contains("P-Net"),
        "{msg}"
    );

    // R-Net's file where O-Net's belongs.
    let err = Mtcnn::from_files(
        &models.join("pnet.pt"),
        &models.join("rnet.pt"),
        &models.join("rnet.pt"),
        cfg(),
        &device,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("rnet.pt") && msg.contains("O-Net"), "{msg}");

    let junk = dir.path().join("junk.pt");
    std::fs::write(&junk, b"not a torch file").unwrap();
    let err = Mtcnn::from_files(
        &junk,
        &models.join("rnet.pt"),
        &models.join("onet.pt"),
        cfg(),
        &device,
    )
    .unwrap_err();
    assert!(err.to_string().contains("junk.pt"), "{err}");

    let err = Mtcnn::from_dir(dir.path(), cfg(), &device).unwrap_err();
    assert!(err.to_string().contains("file not found"), "{err}");

    let bad = MtcnnConfig {
        factor: 1.5,
        ..cfg()
    };
    assert!(Mtcnn::from_dir(&models, bad, &device)
        .unwrap_err()
        .to_string()
        .contains("factor"));
}
