//! The paper's three networks against their reference implementations:
//! parameter counts, forward shapes, and state dicts with the references'
//! own keys and shapes (recorded by `scripts/reference_state_dicts.py`),
//! written as PyTorch files, loaded, and compared tensor by tensor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::torch_state_dict::{reference, value, write, Entry};
use maskface_nets::burn::prelude::*;
use maskface_nets::burn::store::ModuleSnapshot;
use maskface_nets::burn::tensor::Distribution;
use maskface_nets::inception_resnet_v1::{InceptionResnetV1Config, MIN_INPUT, VGGFACE2_CLASSES};
use maskface_nets::resnet::ResNetConfig;
use maskface_nets::vgg::VggConfig;
use maskface_nets::{parameter_count, trainable_parameter_count, NetsError};

fn device() -> Device {
    Device::flex()
}

#[test]
fn parameter_counts_equal_the_references() {
    let d = device();
    // torchvision publishes its weights' counts (`num_params`: 25557032 and
    // 138357544); the recording script checks its own against them.
    let irv1 = |classes| InceptionResnetV1Config::new().with_num_classes(classes);
    let cases: [(&str, usize, usize); 5] = [
        (
            "inception_resnet_v1",
            parameter_count(&irv1(None).init(&d)),
            23_482_624,
        ),
        (
            "inception_resnet_v1_vggface2",
            parameter_count(&irv1(Some(VGGFACE2_CLASSES)).init(&d)),
            27_910_327,
        ),
        (
            "resnet50",
            parameter_count(&ResNetConfig::resnet50(1000).init(&d)),
            25_557_032,
        ),
        (
            "vgg16",
            parameter_count(&VggConfig::vgg16(1000).init(&d)),
            138_357_544,
        ),
        (
            "vgg16_paper_50",
            parameter_count(&VggConfig::vgg16(50).with_paper_surgery().init(&d)),
            121_736_050,
        ),
    ];
    for (name, ours, published) in cases {
        assert_eq!(reference(name).params, published, "{name}: recorded count");
        assert_eq!(ours, published, "{name}: burn module");
    }
}

#[test]
fn inception_resnet_v1_shapes() {
    let d = device();
    let net = InceptionResnetV1Config::new()
        .with_num_classes(Some(50))
        .init(&d);
    let out = net.forward(Tensor::random([2, 3, 160, 160], Distribution::Default, &d));
    assert_eq!(out.embedding.dims(), [2, 512]);
    assert_eq!(out.logits.unwrap().dims(), [2, 50]);
    // The smallest input each stride-2 stage still takes.
    let out = net.forward(Tensor::zeros([1, 3, MIN_INPUT, MIN_INPUT], &d));
    assert_eq!(out.embedding.dims(), [1, 512]);
    let plain = InceptionResnetV1Config::new().init(&d);
    assert!(plain
        .forward(Tensor::zeros([1, 3, 160, 160], &d))
        .logits
        .is_none());
}

#[test]
fn resnet50_shapes() {
    let d = device();
    let net = ResNetConfig::resnet50(50).init(&d);
    for side in [224, 160, 32] {
        let out = net.forward(Tensor::zeros([1, 3, side, side], &d));
        assert_eq!(out.embedding.dims(), [1, 2048], "{side}");
        assert_eq!(out.logits.unwrap().dims(), [1, 50], "{side}");
    }
    // Stride 2 on the 3x3 convolution of each later stage's first block.
    let strided = [&net.layer2, &net.layer3, &net.layer4].map(|l| l[0].conv2.stride);
    assert_eq!(strided, [[2, 2]; 3]);
    assert_eq!(net.layer2[0].conv1.stride, [1, 1]);
}

#[test]
fn vgg16_shapes_and_surgery() {
    let d = device();
    let plain = VggConfig::vgg16(1000).init(&d);
    let out = plain.forward(Tensor::zeros([1, 3, 224, 224], &d));
    assert_eq!(out.embedding.dims(), [1, 4096]);
    assert_eq!(out.logits.unwrap().dims(), [1, 1000]);
    assert!(plain.norm1.is_none() && plain.norm2.is_none());
    assert_eq!(plain.features.len(), 13);

    let surgery = VggConfig::vgg16(50).with_paper_surgery().init(&d);
    let out = surgery.forward(Tensor::zeros([2, 3, 64, 64], &d));
    assert_eq!(out.embedding.dims(), [2, 1024]);
    assert_eq!(out.logits.unwrap().dims(), [2, 50]);
    assert_eq!(surgery.norm1.as_ref().unwrap().gamma.dims(), [4096]);
    assert_eq!(surgery.norm2.as_ref().unwrap().gamma.dims(), [1024]);
}

#[test]
fn freezing_keeps_only_the_classifier_trainable() {
    // Freezing acts on an autodiff device only.
    let d = device().autodiff();
    let resnet50_50_classes = 25_557_032 - 1000 * 2049 + 50 * 2049;
    let net = ResNetConfig::resnet50(50).init(&d);
    assert_eq!(trainable_parameter_count(&net), resnet50_50_classes);
    let net = net.freeze_backbone();
    assert_eq!(trainable_parameter_count(&net), 2048 * 50 + 50);
    assert_eq!(parameter_count(&net), resnet50_50_classes);
    let net = VggConfig::vgg16(50)
        .with_paper_surgery()
        .init(&d)
        .freeze_backbone();
    assert_eq!(trainable_parameter_count(&net), 1024 * 50 + 50);
    let net = InceptionResnetV1Config::new()
        .with_num_classes(Some(50))
        .init(&d)
        .freeze_backbone();
    assert_eq!(trainable_parameter_count(&net), 512 * 50 + 50);
}

/// Writes the reference's state dict, loads it with `load`, and checks that
/// every float tensor of the file arrived in exactly one tensor of the
/// module, element by element (transposed for dense layers), and that the
/// module has no tensor the file did not fill.
fn round_trip<M: ModuleSnapshot>(
    name: &str,
    mut module: M,
    load: impl Fn(&mut M, &Path) -> Result<(), NetsError>,
) {
    let entries = reference(name).entries;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.pt"));
    write(&path, &entries);
    load(&mut module, &path).unwrap();

    // Tensor t's first element is value(t, 0) wherever it lands (a
    // transposition keeps element [0, 0] in place).
    let by_first: HashMap<u32, usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.is_counter())
        .map(|(t, _)| (value(t, 0).to_bits(), t))
        .collect();
    let mut filled = vec![0usize; entries.len()];
    for tensor in module.collect(None, None, false) {
        let shape = tensor.shape.to_vec();
        let bytes = tensor.to_bytes().unwrap();
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let t = *by_first
            .get(&values[0].to_bits())
            .unwrap_or_else(|| panic!("{name}: {} holds no tensor of the file", tensor.name));
        let entry: &Entry = &entries[t];
        filled[t] += 1;
        // burn's dense layers, the only 2-D tensors, hold [in, out].
        let transposed = shape.len() == 2;
        if transposed {
            assert_eq!([shape[1], shape[0]], entry.shape[..], "{}", tensor.name);
        } else {
            assert_eq!(shape, entry.shape, "{} <- {}", tensor.name, entry.key);
        }
        let cols = if transposed { shape[1] } else { 1 };
        for (i, v) in values.iter().enumerate() {
            // Element [r, c] of a transposed [in, out] weight is element
            // [c, r] of PyTorch's [out, in] one.
            let source = if transposed {
                (i % cols) * shape[0] + i / cols
            } else {
                i
            };
            assert_eq!(
                v.to_bits(),
                value(t, source).to_bits(),
                "{} <- {} element {i}",
                tensor.name,
                entry.key
            );
        }
    }
    for (entry, n) in entries.iter().zip(&filled) {
        if !entry.is_counter() {
            assert_eq!(*n, 1, "{name}: {} loaded {n} times", entry.key);
        }
    }
}

#[test]
fn inception_resnet_v1_loads_facenet_pytorch_state_dicts() {
    let d = device();
    round_trip(
        "inception_resnet_v1_vggface2",
        InceptionResnetV1Config::new()
            .with_num_classes(Some(VGGFACE2_CLASSES))
            .init(&d),
        |m, p| m.load_pytorch(p),
    );
    round_trip(
        "inception_resnet_v1",
        InceptionResnetV1Config::new().init(&d),
        |m, p| m.load_pytorch(p),
    );
}

#[test]
fn resnet50_loads_torchvision_state_dicts() {
    round_trip(
        "resnet50",
        ResNetConfig::resnet50(1000).init(&device()),
        |m, p| m.load_pytorch(p),
    );
}

#[test]
fn vgg16_loads_torchvision_state_dicts() {
    let d = device();
    round_trip("vgg16", VggConfig::vgg16(1000).init(&d), |m, p| {
        m.load_pytorch(p)
    });
    round_trip(
        "vgg16_paper_50",
        VggConfig::vgg16(50).with_paper_surgery().init(&d),
        |m, p| m.load_pytorch(p),
    );
}

/// Loads `entries` into a fresh InceptionResnetV1 (no logits) and returns
/// the error.
fn irv1_error(dir: &Path, name: &str, entries: &[Entry], cut: Option<u64>) -> String {
    let path = dir.join(name);
    write(&path, entries);
    if let Some(len) = cut {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len)
            .unwrap();
    }
    let mut net = InceptionResnetV1Config::new().init(&device());
    let before = net.conv2d_1a.conv.weight.val().into_data();
    let err = net.load_pytorch(&path).unwrap_err();
    assert!(matches!(err, NetsError::Weights { .. }), "{err:?}");
    // A refused file changes nothing, not even the tensors it did hold.
    assert_eq!(net.conv2d_1a.conv.weight.val().into_data(), before);
    let message = err.to_string();
    assert!(message.contains(name), "{message}");
    message
}

#[test]
fn wrong_or_damaged_files_are_refused_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = reference("inception_resnet_v1").entries;

    // A tensor of the wrong shape.
    let mut shaped = good.clone();
    let i = shaped
        .iter()
        .position(|e| e.key == "repeat_2.3.branch1.1.conv.weight")
        .unwrap();
    shaped[i].shape = vec![128, 128, 7, 1];
    let message = irv1_error(dir.path(), "shape.pt", &shaped, None);
    assert!(
        message.contains("repeat_2.3.branch1.1.conv.weight"),
        "{message}"
    );

    // A tensor missing.
    let missing: Vec<Entry> = good
        .iter()
        .filter(|e| e.key != "last_bn.running_var")
        .cloned()
        .collect();
    let message = irv1_error(dir.path(), "missing.pt", &missing, None);
    assert!(message.contains("last_bn.running_var"), "{message}");

    // A surplus tensor: the VGGFace2 file's logits in a network without them.
    let surplus = reference("inception_resnet_v1_vggface2").entries;
    let message = irv1_error(dir.path(), "surplus.pt", &surplus, None);
    assert!(message.contains("logits.weight"), "{message}");

    // Another network's file.
    let resnet = reference("resnet50").entries;
    let message = irv1_error(dir.path(), "resnet50.pt", &resnet, None);
    assert!(
        message.contains("602 tensors missing: block8.branch0.bn.beta")
            && message.contains("267 tensors not part of the network: bn1.bias"),
        "{message}"
    );

    // Truncated: the zip directory at the end is gone.
    irv1_error(dir.path(), "truncated.pt", &good, Some(40_000_000));

    // Not there.
    let mut net = InceptionResnetV1Config::new().init(&device());
    let err = net.load_pytorch(&dir.path().join("absent.pt")).unwrap_err();
    assert!(err.to_string().contains("absent.pt"), "{err}");
}
