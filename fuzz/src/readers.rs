//! The readers of outside files that the fuzz targets drive, one [`Reader`]
//! per target, and the allocation rule they are held to.
//!
//! Shared word for word by the fuzz targets (`fuzz/src/lib.rs`) and the
//! stable replay test (`crates/maskface-cli/tests/fuzz_corpus.rs`, which
//! includes this file), so the corpus is replayed through exactly the code
//! that was fuzzed.

use std::path::Path;

use maskface_core::{decode_rgb, FaceBox, Manifest};
use maskface_mask::ShapePredictor;
use maskface_nets::face_resnet::{DlibNet, FaceResNetConfig, ResidualStageConfig};
use maskface_nets::mtcnn::{Mtcnn, MtcnnConfig};
use maskface_nets::{pytorch_dim, Backend};
use maskface_recognize::Gallery;
use maskface_train::check_checkpoint;

/// Allocation rule: no single allocation while a reader reads an input of
/// `n` bytes may exceed `ALLOCATION_FACTOR * n + ALLOCATION_ALLOWANCE`.
///
/// 64: a value read from a file takes at least one byte there (a JSON
/// digit, a CSV field separator, a dlib control byte) and at most a few
/// dozen bytes in memory (a manifest row becomes a 104-byte `Sample`, a
/// dlib cascade a 72-byte struct for its 4-byte minimum), and a growing
/// `Vec` may hold twice what it needs: 64 covers these with room, while a
/// length field trusted before allocating (2^60 elements from 8 bytes)
/// exceeds it by orders of magnitude.
pub const ALLOCATION_FACTOR: usize = 64;

/// The fixed part of the allocation rule (4 MiB): what a reader allocates
/// whatever its input, e.g. MTCNN's networks built before their weights
/// are loaded (R-Net's dense layer is 0.3 MB), burn's CPU device and
/// thread pool, the image decoders' tables, the scratch files' paths.
pub const ALLOCATION_ALLOWANCE: usize = 4 << 20;

/// One reader of outside files; its [`Reader::name`] names its fuzz target
/// and its corpus folder `fuzz/corpus/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// dlib's shape predictor (`shape_predictor_68_face_landmarks.dat`):
    /// `ShapePredictor::from_bytes`, then one prediction on a small image.
    ShapePredictor,
    /// dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`):
    /// `DlibNet::from_bytes_with_config`, with dlib's architecture and a
    /// small one (so that small seeds reach every layer's reader).
    DlibResnet,
    /// A PyTorch state dict (`.pt`) through burn's store and the project's
    /// checks: `pytorch_dim` and `Mtcnn::from_files` (as P-, R- and O-Net).
    TorchPt,
    /// A gallery: `Gallery::load`, then one identification.
    Gallery,
    /// A manifest: the input up to its first NUL byte is `manifest.json`,
    /// the rest `manifest.csv` (without a NUL, all of it is the CSV beside
    /// a valid JSON); `Manifest::read`.
    Manifest,
    /// A training checkpoint (`last.ckpt`): `check_checkpoint`, what
    /// resuming reads.
    Checkpoint,
    /// An image: `decode_rgb`, the body of `load_rgb`.
    Image,
}

/// The JSON half of a manifest, for inputs that carry only the CSV.
const MANIFEST_JSON: &[u8] = br#"{"format_version":1,"root":"images","stages":[]}"#;

impl Reader {
    /// Every reader, in the order `scripts/fuzz.sh` runs them.
    pub const ALL: [Reader; 7] = [
        Reader::ShapePredictor,
        Reader::DlibResnet,
        Reader::TorchPt,
        Reader::Gallery,
        Reader::Manifest,
        Reader::Checkpoint,
        Reader::Image,
    ];

    /// The fuzz target's name, which is also its corpus folder's.
    pub fn name(self) -> &'static str {
        match self {
            Reader::ShapePredictor => "shape_predictor",
            Reader::DlibResnet => "dlib_resnet",
            Reader::TorchPt => "torch_pt",
            Reader::Gallery => "gallery",
            Reader::Manifest => "manifest",
            Reader::Checkpoint => "checkpoint",
            Reader::Image => "image",
        }
    }

    /// The largest single allocation the rule allows for an input of `len`
    /// bytes ([`ALLOCATION_FACTOR`], [`ALLOCATION_ALLOWANCE`]). Images are
    /// the exception: WebP, BMP and TIFF encode a uniform picture of any
    /// size in a few bytes, so no multiple of the file's size bounds a
    /// valid image; `decode_rgb` holds them to its own budget instead
    /// (`maskface_core::MAX_IMAGE_PIXELS`, at most 8 bytes a pixel while
    /// decoding).
    pub fn allocation_bound(self, len: usize) -> usize {
        let rule = len
            .saturating_mul(ALLOCATION_FACTOR)
            .saturating_add(ALLOCATION_ALLOWANCE);
        match self {
            Reader::Image => rule.max(maskface_core::MAX_IMAGE_PIXELS as usize * 8),
            _ => rule,
        }
    }

    /// Reads `data` as this reader's file; `Err` with the reader's message
    /// when it refuses it. Readers that only take a path get `data` in a
    /// file under `scratch` (a folder the caller owns, reused between
    /// calls). A panic is a bug in the reader.
    pub fn run(self, data: &[u8], scratch: &Path) -> Result<(), String> {
        match self {
            Reader::ShapePredictor => {
                let model = ShapePredictor::from_bytes(data, "fuzz.dat").map_err(text)?;
                let image = maskface_nets::image::RgbImage::from_fn(16, 16, |x, y| {
                    maskface_nets::image::Rgb([(x * 16) as u8, (y * 16) as u8, 128])
                });
                let face = FaceBox::new(2.0, 3.0, 13.0, 14.0, 1.0);
                let points = model.predict(&image, &face);
                if points.len() != model.num_parts() {
                    return Err(format!(
                        "{} points from a {}-point model",
                        points.len(),
                        model.num_parts()
                    ));
                }
                Ok(())
            }
            Reader::DlibResnet => {
                let small = small_resnet();
                let a = DlibNet::from_bytes_with_config(data, &small);
                let b = DlibNet::from_bytes(data);
                match (a, b) {
                    (Ok(_), _) | (_, Ok(_)) => Ok(()),
                    (Err(e), _) => Err(format!("at byte {}: {}", e.offset, e.reason)),
                }
            }
            Reader::TorchPt => {
                let path = write(scratch, "net.pt", data)?;
                let dim = pytorch_dim(&path, "conv1.weight", 0).map_err(text)?;
                let device = Backend::Flex.device().map_err(text)?;
                // As P-Net, with the project's checks (every tensor present,
                // shaped and used); a P-Net that loads is then refused as
                // R-Net.
                Mtcnn::from_files(&path, &path, &path, MtcnnConfig::default(), &device)
                    .map(|_| ())
                    .map_err(|e| format!("{e} (conv1.weight: {dim:?})"))
            }
            Reader::Gallery => {
                let path = write(scratch, "gallery.json", data)?;
                let gallery = Gallery::load(&path).map_err(text)?;
                if let Some(dim) = gallery.dim() {
                    let mut probe = vec![0.0f32; dim];
                    if let Some(first) = probe.first_mut() {
                        *first = 1.0;
                    }
                    gallery.identify(&probe);
                }
                Ok(())
            }
            Reader::Manifest => {
                let (json, csv) = match data.iter().position(|&b| b == 0) {
                    Some(i) => (&data[..i], &data[i + 1..]),
                    None => (MANIFEST_JSON, data),
                };
                write(scratch, "manifest.json", json)?;
                let path = write(scratch, "manifest.csv", csv)?;
                let manifest = Manifest::read(&path).map_err(text)?;
                manifest.identities();
                Ok(())
            }
            Reader::Checkpoint => check_checkpoint(data, &scratch.join("last.ckpt")).map_err(text),
            Reader::Image => decode_rgb(data, &scratch.join("fuzz.img"))
                .map(|_| ())
                .map_err(text),
        }
    }
}

/// A small face ResNet (2 and 4 channels, one plain and one downsampling
/// block, 3-d embeddings): the architecture of the small seeds in
/// `fuzz/corpus/dlib_resnet`, so that the fuzzer reaches every layer's
/// reader without a 22 MB model.
pub fn small_resnet() -> FaceResNetConfig {
    let mut config = FaceResNetConfig::new();
    config.stem_channels = 2;
    config.stages = vec![
        ResidualStageConfig::new(2, 1),
        ResidualStageConfig::new(4, 1).with_stride(2),
    ];
    config.embedding = 3;
    config
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn write(scratch: &Path, name: &str, data: &[u8]) -> Result<std::path::PathBuf, String> {
    let path = scratch.join(name);
    std::fs::write(&path, data).map_err(|e| format!("scratch file {}: {e}", path.display()))?;
    Ok(path)
}
