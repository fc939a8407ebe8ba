//! dlib's DNN serialization, for the face-recognition ResNet
//! (`dlib_face_recognition_resnet_model_v1.dat`), read without dlib.
//!
//! A dlib network is a nest of layer wrappers. Each wrapper writes its
//! version and then its sub-network before its own details, so the file is:
//! the loss record, one version number per wrapper (outermost first), the
//! input layer, then each layer's details in forward order, each followed by
//! a trailer of training state. Tag and skip wrappers write only a version
//! and no tag id, so the wiring between them is not in the file: it is the
//! architecture a [`FaceResNetConfig`] describes, and the reader checks the
//! file against it.

use std::path::Path;

use maskface_core::dlib_io::{DecodeError, Decoded, DlibReader};

use super::model::FaceResNetConfig;
use crate::NetsError;

/// One layer as stored, in forward order.
#[derive(Debug, Clone, PartialEq)]
pub enum DlibLayer {
    /// A convolution (cross-correlation) with a bias.
    Conv {
        /// Output channels.
        filters: usize,
        /// Input channels.
        channels: usize,
        /// Kernel rows and columns.
        kernel: [usize; 2],
        /// Stride in y and x.
        stride: [usize; 2],
        /// Zero padding in y and x.
        padding: [usize; 2],
        /// `[filters][channels][rows][cols]`, row-major.
        weight: Vec<f32>,
        /// One per filter.
        bias: Vec<f32>,
    },
    /// Per-channel `gamma * x + beta` (a frozen batch norm).
    Affine {
        /// Scales.
        gamma: Vec<f32>,
        /// Offsets.
        beta: Vec<f32>,
    },
    /// `max(0, x)`.
    Relu,
    /// Max pooling.
    MaxPool {
        /// Window rows and columns.
        window: [usize; 2],
        /// Stride in y and x.
        stride: [usize; 2],
        /// Padding in y and x.
        padding: [usize; 2],
    },
    /// Average pooling; a `[0, 0]` window averages the whole plane.
    AvgPool {
        /// Window rows and columns.
        window: [usize; 2],
        /// Stride in y and x.
        stride: [usize; 2],
        /// Padding in y and x.
        padding: [usize; 2],
    },
    /// The sum of the layer below and a tagged earlier output.
    AddPrev,
    /// A dense layer without a bias.
    Fc {
        /// Input length.
        inputs: usize,
        /// Output length.
        outputs: usize,
        /// `[inputs][outputs]`, row-major.
        weight: Vec<f32>,
    },
}

/// A whole dlib metric network as read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct DlibNet {
    /// The mean red, green and blue subtracted from the input pixels.
    pub input_mean: [f32; 3],
    /// The input size, rows and columns.
    pub input_size: [usize; 2],
    /// The layers in forward order (tags and skips are implied).
    pub layers: Vec<DlibLayer>,
    /// The loss's margin and distance threshold (training values; the
    /// threshold is dlib's suggested same-person distance).
    pub loss: [f32; 2],
    /// The architecture the file was checked against, which
    /// [`super::FaceResNet::from_dlib`] builds.
    pub config: FaceResNetConfig,
}

/// What the network's wrappers are, innermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    /// An `add_layer` with details, and the kind expected.
    Layer(Kind),
    /// `tag` or `skip`: a version only.
    Marker,
}

/// The kinds of layer details, for checking a file against a
/// [`FaceResNetConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Conv {
        filters: usize,
        kernel: usize,
        stride: usize,
    },
    Affine,
    Relu,
    MaxPool {
        window: usize,
        stride: usize,
    },
    AvgPool {
        window: usize,
    },
    AvgPoolEverything,
    AddPrev,
    Fc {
        inputs: usize,
        outputs: usize,
    },
}

/// The wrappers of the network `config` describes, innermost (input side)
/// first.
fn layout(config: &FaceResNetConfig) -> Vec<Wrapper> {
    use Kind::*;
    use Wrapper::{Layer as L, Marker as M};
    let mut w = vec![
        L(Conv {
            filters: config.stem_channels,
            kernel: config.stem_kernel,
            stride: config.stem_stride,
        }),
        L(Affine),
        L(Relu),
        L(MaxPool {
            window: config.pool_window,
            stride: config.pool_stride,
        }),
    ];
    for block in config.blocks() {
        let [_, filters] = block.channels;
        // tag1, block, (tag2, skip1, avg_pool)?, add_prev, relu
        w.push(M);
        w.extend([
            L(Conv {
                filters,
                kernel: 3,
                stride: block.stride,
            }),
            L(Affine),
            L(Relu),
            L(Conv {
                filters,
                kernel: 3,
                stride: 1,
            }),
            L(Affine),
        ]);
        if block.downsamples() {
            w.extend([
                M,
                M,
                L(AvgPool {
                    window: block.stride,
                }),
            ]);
        }
        w.extend([L(AddPrev), L(Relu)]);
    }
    w.extend([
        L(AvgPoolEverything),
        L(Fc {
            inputs: config.feature_channels(),
            outputs: config.embedding,
        }),
    ]);
    w
}

/// The layer kinds in forward order (what [`DlibNet::layers`] holds).
fn kinds(config: &FaceResNetConfig) -> Vec<Kind> {
    layout(config)
        .into_iter()
        .filter_map(|w| match w {
            Wrapper::Layer(k) => Some(k),
            Wrapper::Marker => None,
        })
        .collect()
}

impl DlibNet {
    /// Reads `dlib_face_recognition_resnet_model_v1.dat` (dlib's
    /// architecture, [`FaceResNetConfig::new`]); errors name the file and
    /// the byte offset where it stopped making sense.
    pub fn from_file(path: &Path) -> Result<Self, NetsError> {
        Self::from_file_with_config(path, &FaceResNetConfig::new())
    }

    /// Reads a dlib network file of the architecture `config` describes;
    /// errors name the file and the byte offset where it stopped making
    /// sense (for a file of another architecture: the first layer that
    /// differs from `config`'s).
    pub fn from_file_with_config(
        path: &Path,
        config: &FaceResNetConfig,
    ) -> Result<Self, NetsError> {
        let bytes = std::fs::read(path).map_err(|e| NetsError::Weights {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_bytes_with_config(&bytes, config).map_err(|e| NetsError::Weights {
            path: path.to_path_buf(),
            reason: format!("at byte {}: {}", e.offset, e.reason),
        })
    }

    /// Reads dlib's face ResNet from the bytes of its file.
    pub fn from_bytes(bytes: &[u8]) -> Decoded<Self> {
        Self::from_bytes_with_config(bytes, &FaceResNetConfig::new())
    }

    /// Reads a network of the architecture `config` describes from the
    /// bytes of its file.
    pub fn from_bytes_with_config(bytes: &[u8], config: &FaceResNetConfig) -> Decoded<Self> {
        let mut r = DlibReader::new(bytes);
        r.expect_int(1, "the loss layer's version")?;
        let loss = match r
            .expect_string(&["loss_metric_2", "loss_metric_"])?
            .as_str()
        {
            "loss_metric_2" => [r.f32()?, r.f32()?],
            _ => [0.1, 0.75],
        };
        let wrappers = layout(config);
        // The version numbers, outermost first: 1 for tags and skips, 3 for
        // the layer on the input, 2 for the others.
        for (i, w) in wrappers.iter().enumerate().rev() {
            let start = r.offset();
            let v = r.i64()?;
            let ok = match w {
                Wrapper::Marker => v == 1,
                Wrapper::Layer(_) if i == 0 => v == 3 || v == 2,
                Wrapper::Layer(_) => v == 2 || v == 1,
            };
            if !ok {
                return Err(DecodeError {
                    offset: start,
                    reason: format!(
                        "wrapper version {v} where the configured network has a {} (is this dlib's face recognition model?)",
                        match w {
                            Wrapper::Marker => "tag or skip",
                            Wrapper::Layer(_) => "layer",
                        }
                    ),
                });
            }
        }
        r.expect_string(&["input_rgb_image_sized"])?;
        let input_mean = [r.f32()?, r.f32()?, r.f32()?];
        let input_size = [r.u64()? as usize, r.u64()? as usize];
        let mut layers = Vec::new();
        let mut channels = 3usize;
        for (i, kind) in kinds(config).into_iter().enumerate() {
            let start = r.offset();
            let layer = read_layer(&mut r, channels)?;
            if !matches_kind(&layer, kind) {
                return Err(DecodeError {
                    offset: start,
                    reason: format!(
                        "layer {i} is {layer:?}, the configured architecture has {kind:?}",
                        layer = short(&layer)
                    ),
                });
            }
            if let DlibLayer::Conv { filters, .. } = layer {
                channels = filters;
            }
            layers.push(layer);
            // The trailer: three flags and three (empty) tensors of training
            // state, and after the first layer the sample expansion factor.
            for _ in 0..3 {
                r.bool()?;
            }
            for _ in 0..3 {
                r.tensor()?;
            }
            if i == 0 {
                r.u64()?;
            }
        }
        if r.remaining() != 0 {
            return r.fail(format!("{} bytes after the last layer", r.remaining()));
        }
        Ok(DlibNet {
            input_mean,
            input_size,
            layers,
            loss,
            config: config.clone(),
        })
    }
}

fn short(layer: &DlibLayer) -> String {
    match layer {
        DlibLayer::Conv {
            filters,
            kernel,
            stride,
            ..
        } => format!(
            "a {filters}-filter {}x{} conv, stride {}",
            kernel[0], kernel[1], stride[0]
        ),
        DlibLayer::Affine { .. } => "an affine layer".into(),
        DlibLayer::Relu => "a relu".into(),
        DlibLayer::MaxPool { .. } => "a max pool".into(),
        DlibLayer::AvgPool { window, .. } if *window == [0, 0] => "a global average".into(),
        DlibLayer::AvgPool { .. } => "an average pool".into(),
        DlibLayer::AddPrev => "an add_prev".into(),
        DlibLayer::Fc { .. } => "a dense layer".into(),
    }
}

fn matches_kind(layer: &DlibLayer, kind: Kind) -> bool {
    match (layer, kind) {
        (
            DlibLayer::Conv {
                filters,
                kernel,
                stride,
                padding,
                ..
            },
            Kind::Conv {
                filters: f,
                kernel: k,
                stride: s,
            },
        ) => {
            // dlib's default padding: half the kernel at stride 1, else none.
            let p = if s == 1 { k / 2 } else { 0 };
            *filters == f && *kernel == [k, k] && *stride == [s, s] && *padding == [p, p]
        }
        (DlibLayer::Affine { .. }, Kind::Affine) | (DlibLayer::Relu, Kind::Relu) => true,
        (DlibLayer::AddPrev, Kind::AddPrev) => true,
        (
            DlibLayer::MaxPool {
                window,
                stride,
                padding,
            },
            Kind::MaxPool {
                window: w,
                stride: s,
            },
        ) => *window == [w, w] && *stride == [s, s] && *padding == [0, 0],
        (
            DlibLayer::AvgPool {
                window,
                stride,
                padding,
            },
            Kind::AvgPool { window: w },
        ) => *window == [w, w] && *stride == [w, w] && *padding == [0, 0],
        (DlibLayer::AvgPool { window, .. }, Kind::AvgPoolEverything) => *window == [0, 0],
        (
            DlibLayer::Fc {
                inputs, outputs, ..
            },
            Kind::Fc {
                inputs: i,
                outputs: o,
            },
        ) => *inputs == i && *outputs == o,
        _ => false,
    }
}

/// One layer's details; `channels` is the input channel count (for the
/// affine layer's size and the convolution's weight shape).
fn read_layer(r: &mut DlibReader<'_>, channels: usize) -> Decoded<DlibLayer> {
    let start = r.offset();
    let name = r.expect_string(&[
        "con_4",
        "con_5",
        "con_6",
        "affine_",
        "affine_2",
        "relu_",
        "relu_2",
        "max_pool_2",
        "avg_pool_2",
        "add_prev_",
        "fc_2",
        "fc_3",
    ])?;
    let bad = |reason: String| DecodeError {
        offset: start,
        reason: format!("`{name}`: {reason}"),
    };
    Ok(match name.as_str() {
        "con_4" | "con_5" | "con_6" => {
            let (_, params) = r.tensor()?;
            let filters = size(r)?;
            let kernel = [size(r)?, size(r)?];
            let stride = [size(r)?, size(r)?];
            let padding = [size(r)?, size(r)?];
            let weight_shape = r.alias_tensor()?;
            let bias_shape = r.alias_tensor()?;
            for _ in 0..4 {
                r.f64()?;
            }
            let use_bias = if name != "con_4" { r.bool()? } else { true };
            if name == "con_6" && r.bool()? {
                return Err(bad("a fused relu, which this model does not have".into()));
            }
            // Sizes come from the file: an overflowing product is a
            // mismatch, not a panic.
            let n_weights = [channels, kernel[0], kernel[1]]
                .iter()
                .try_fold(filters, |a, &d| a.checked_mul(d));
            let n_params = n_weights.and_then(|n| n.checked_add(filters));
            if weight_shape != [filters, channels, kernel[0], kernel[1]]
                || !use_bias
                || bias_shape != [1, filters, 1, 1]
                || n_params != Some(params.len())
                || stride.contains(&0)
            {
                return Err(bad(format!(
                    "{filters} filters of {channels}x{}x{} with {} parameters and shapes {weight_shape:?} / {bias_shape:?}",
                    kernel[0],
                    kernel[1],
                    params.len()
                )));
            }
            let mut weight = params;
            // `n_params == params.len()` above: the weights come first.
            let bias = weight.split_off(weight.len() - filters);
            DlibLayer::Conv {
                filters,
                channels,
                kernel,
                stride,
                padding,
                weight,
                bias,
            }
        }
        "affine_" | "affine_2" => {
            let (_, params) = r.tensor()?;
            let gamma_shape = r.alias_tensor()?;
            let beta_shape = r.alias_tensor()?;
            let mode = r.i64()?;
            if name == "affine_2" && r.bool()? {
                return Err(bad("a disabled affine layer".into()));
            }
            if mode != 0
                || params.len() != 2 * channels
                || gamma_shape != [1, channels, 1, 1]
                || beta_shape != gamma_shape
            {
                return Err(bad(format!(
                    "mode {mode}, {} parameters for {channels} channels",
                    params.len()
                )));
            }
            let mut gamma = params;
            let beta = gamma.split_off(channels);
            DlibLayer::Affine { gamma, beta }
        }
        "relu_" | "relu_2" => {
            if name == "relu_2" && r.bool()? {
                return Err(bad("a disabled relu".into()));
            }
            DlibLayer::Relu
        }
        "max_pool_2" | "avg_pool_2" => {
            let window = [size(r)?, size(r)?];
            let stride = [size(r)?, size(r)?];
            let padding = [size(r)?, size(r)?];
            if name == "max_pool_2" {
                DlibLayer::MaxPool {
                    window,
                    stride,
                    padding,
                }
            } else {
                DlibLayer::AvgPool {
                    window,
                    stride,
                    padding,
                }
            }
        }
        "add_prev_" => DlibLayer::AddPrev,
        _ => {
            // fc_2 / fc_3
            let outputs = r.u64()? as usize;
            let inputs = r.u64()? as usize;
            let (dims, weight) = r.tensor()?;
            r.alias_tensor()?;
            r.alias_tensor()?;
            let bias_mode = r.i64()?;
            for _ in 0..4 {
                r.f64()?;
            }
            let use_bias = if name == "fc_3" {
                r.bool()?
            } else {
                bias_mode == 0
            };
            if bias_mode != 1 || use_bias || dims != [inputs, outputs, 1, 1] {
                return Err(bad(format!(
                    "{inputs} -> {outputs} with parameters {dims:?} and bias mode {bias_mode}: expected no bias"
                )));
            }
            DlibLayer::Fc {
                inputs,
                outputs,
                weight,
            }
        }
    })
}

/// A non-negative size or stride.
fn size(r: &mut DlibReader<'_>) -> Decoded<usize> {
    let start = r.offset();
    let v = r.i64()?;
    usize::try_from(v).map_err(|_| DecodeError {
        offset: start,
        reason: format!("negative size {v}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face_resnet::FaceResNetConfig;

    /// dlib's integer encoding: a control byte (sign, byte count), then the
    /// magnitude little-endian.
    fn int(v: i64) -> Vec<u8> {
        let m = v.unsigned_abs();
        let n = (8 - m.leading_zeros() as usize / 8).max(1);
        let mut b = vec![if v < 0 { 0x80 } else { 0 } | n as u8];
        b.extend_from_slice(&m.to_le_bytes()[..n]);
        b
    }

    fn string(s: &str) -> Vec<u8> {
        let mut b = int(s.len() as i64);
        b.extend_from_slice(s.as_bytes());
        b
    }

    /// Found while writing the fuzz target (the crashing file is built
    /// here rather than kept in git, as model-shaped files are not): a
    /// convolution whose filter count times its kernel overflows `usize`
    /// panicked in the size check (with overflow checks on) instead of
    /// refusing the file.
    #[test]
    fn a_convolution_whose_size_overflows_is_an_error() {
        let mut config = FaceResNetConfig::new();
        config.stages = Vec::new();
        let huge = 1i64 << 62;
        let mut b = int(1);
        b.extend(string("loss_metric_"));
        // conv, affine, relu, max pool, global average, dense: outermost first.
        for v in [2, 2, 2, 2, 2, 3] {
            b.extend(int(v));
        }
        b.extend(string("input_rgb_image_sized"));
        for _ in 0..3 {
            b.extend(int(0));
            b.extend(int(0));
        }
        b.extend(int(150));
        b.extend(int(150));
        b.extend(string("con_5"));
        b.extend([int(2), int(0), int(0), int(0), int(0)].concat());
        for v in [huge, 2, 2, 1, 1, 1, 1] {
            b.extend(int(v));
        }
        b.extend([int(1), int(huge), int(3), int(2), int(2)].concat());
        b.extend([int(1), int(1), int(huge), int(1), int(1)].concat());
        for _ in 0..4 {
            b.extend(int(0));
            b.extend(int(0));
        }
        b.push(b'1');
        let err = DlibNet::from_bytes_with_config(&b, &config).unwrap_err();
        assert!(err.reason.starts_with("`con_5`: "), "{err:?}");
        assert!(err.reason.contains(&format!("{huge} filters")), "{err:?}");
    }
}
