use std::collections::HashMap;
use std::path::Path;

use burn::data::dataset::Dataset;
use burn::prelude::*;
use maskface_core::vector::l2_normalized_in;
use maskface_nets::face_resnet::{
    normalize_chips, DlibNet, FaceResNet, TunedFaceResNet, DEFAULT_FROZEN_BLOCKS,
};

use crate::data::{load_items, ManifestSet, TensorBatcher, TensorSet};
use crate::head::{MarginHeadConfig, MarginLoss};
use crate::trainer::{Backbone, BackboneWithHead, FitReport, Progress, TrainConfig, Trainer};
use crate::TrainError;

impl Backbone for TunedFaceResNet {
    /// The trainable tail on the frozen part's cached output.
    fn embed(&self, features: Tensor<4>) -> Tensor<2> {
        self.forward_tail(features)
    }
}

/// Images run through the frozen part per forward pass while caching.
const FEATURE_BATCH: usize = 32;

/// Runs every image of `set` (RGB chips of `input_size` x `input_size`,
/// normalised with `input_mean` as [`normalize_chips`] does) through
/// `net`'s frozen part once and keeps the output in memory. `on_done` is
/// told how many images were done.
pub fn cache_features(
    net: &TunedFaceResNet,
    input_mean: [f32; 3],
    input_size: u32,
    set: &ManifestSet,
    device: &Device,
    on_done: &dyn Fn(usize),
) -> Result<TensorSet, TrainError> {
    let side = input_size as usize;
    let probe = net.frozen_features(Tensor::zeros([1, 3, side, side], device));
    let [_, c, h, w] = probe.dims();
    let mut out = TensorSet::new([c, h, w]);
    for chunk in set.items().chunks(FEATURE_BATCH) {
        let chips = load_items(chunk)?;
        let x = normalize_chips(&chips, input_mean, input_size, device)?;
        let values: Vec<f32> = net
            .frozen_features(x)
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Readback(format!("{e:?}")))?;
        let labels: Vec<u32> = chunk.iter().map(|i| i.label).collect();
        out.extend(&values, &labels)?;
        on_done(chunk.len());
    }
    Ok(out)
}

/// The tail's embeddings of every cached sample, one row each.
pub fn embed_features(
    net: &TunedFaceResNet,
    set: &TensorSet,
    device: &Device,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let [c, h, w] = set.shape();
    let mut out = Vec::with_capacity(set.len());
    let mut i = 0;
    while i < set.len() {
        let n = (set.len() - i).min(64);
        let mut values = Vec::with_capacity(n * c * h * w);
        for k in i..i + n {
            values.extend_from_slice(set.values(k).unwrap_or_default());
        }
        let x = Tensor::<4>::from_data(TensorData::new(values, [n, c, h, w]), device);
        let e = net.forward_tail(x);
        let [_, dim] = e.dims();
        let v: Vec<f32> = e
            .try_into_vec_as::<f32>()
            .map_err(|err| TrainError::Readback(format!("{err:?}")))?;
        out.extend(v.chunks_exact(dim).map(<[f32]>::to_vec));
        i += n;
    }
    Ok(out)
}

/// The mean of the rows.
pub fn mean_row(rows: &[Vec<f32>]) -> Vec<f32> {
    let dim = rows.first().map_or(0, Vec::len);
    let mut mean = vec![0f64; dim];
    for r in rows {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += f64::from(*v);
        }
    }
    mean.iter()
        .map(|m| (m / rows.len().max(1) as f64) as f32)
        .collect()
}

/// Each class's mean of L2-normalised rows (zero for a class without rows).
pub fn class_centres(rows: &[Vec<f32>], labels: &[u32], classes: usize) -> Vec<Vec<f32>> {
    let dim = rows.first().map_or(0, Vec::len);
    let mut centres = vec![vec![0f32; dim]; classes];
    for (r, &l) in rows.iter().zip(labels) {
        if let Some(c) = centres.get_mut(l as usize) {
            // In f32, as the recorded fine-tuning runs were made.
            for (c, v) in c.iter_mut().zip(l2_normalized_in::<f32>(r)) {
                *c += v;
            }
        }
    }
    centres
}

/// Where each training item (by image and flip) is in the training set.
fn train_index(data: &FineTuneData) -> HashMap<(&Path, bool), usize> {
    data.train
        .items()
        .iter()
        .enumerate()
        .map(|(i, item)| ((item.path.as_path(), item.flip), i))
        .collect()
}

/// The teacher photos that are not training items themselves: the only
/// ones whose embedding must be computed apart.
fn teachers_outside_train(
    teachers: &ManifestSet,
    index: &HashMap<(&Path, bool), usize>,
) -> ManifestSet {
    let mut missing = ManifestSet::default();
    for item in teachers.items() {
        if !index.contains_key(&(item.path.as_path(), item.flip)) {
            missing.push(item.clone());
        }
    }
    missing
}

/// The teacher's embedding (the network before fine-tuning) of each
/// training item's teacher photo: taken from `embeddings` (of the training
/// items) where the photo is itself a training item, computed for the rest.
fn teacher_rows(
    base: &TunedFaceResNet,
    dlib: &DlibNet,
    data: &FineTuneData,
    embeddings: &[Vec<f32>],
    device: &Device,
    tick: &dyn Fn(usize),
) -> Result<Vec<Vec<f32>>, TrainError> {
    let Some(teachers) = &data.teachers else {
        return Err(TrainError::InvalidParameter {
            name: "distill_weight",
            reason: "distillation needs the teachers' photos (FineTuneData::teachers)".into(),
        });
    };
    if teachers.len() != data.train.len() {
        return Err(TrainError::Data {
            what: "teachers".into(),
            reason: format!(
                "{} teacher photos for {} training items",
                teachers.len(),
                data.train.len()
            ),
        });
    }
    let index = train_index(data);
    let missing = teachers_outside_train(teachers, &index);
    let size = dlib.input_size[0] as u32;
    let features = cache_features(base, dlib.input_mean, size, &missing, device, tick)?;
    let computed = embed_features(base, &features, device)?;
    let mut next = 0;
    teachers
        .items()
        .iter()
        .map(|item| match index.get(&(item.path.as_path(), item.flip)) {
            Some(&i) => embeddings.get(i).cloned().ok_or_else(|| TrainError::Data {
                what: item.path.display().to_string(),
                reason: "the training item's embedding is missing".into(),
            }),
            None => {
                next += 1;
                computed
                    .get(next - 1)
                    .cloned()
                    .ok_or_else(|| TrainError::Data {
                        what: item.path.display().to_string(),
                        reason: "the teacher's embedding is missing".into(),
                    })
            }
        })
        .collect()
}

/// Fine-tuning of dlib's ResNet on aligned, masked chips: the last blocks
/// and the dense layer train, with a margin head over the training
/// identities; the first [`FineTuneParams::frozen_blocks`] blocks stay as
/// dlib trained them, and their output is computed once per image.
///
/// The head starts at the identities' centres (the pretrained network is
/// already a good nearest-centre classifier) and the network's embeddings
/// are centred on the training set's mean, so training refines a working
/// classifier instead of starting from chance.
#[derive(Debug, Clone, PartialEq)]
pub struct FineTuneParams {
    /// Residual blocks left frozen (of dlib's 14).
    pub frozen_blocks: usize,
    /// The loss.
    pub loss: MarginLoss,
    /// The training loop's settings.
    pub train: TrainConfig,
}

impl Default for FineTuneParams {
    fn default() -> Self {
        FineTuneParams {
            frozen_blocks: DEFAULT_FROZEN_BLOCKS,
            loss: MarginLoss::default(),
            train: TrainConfig::new(),
        }
    }
}

/// The data of a fine-tuning run.
#[derive(Debug, Clone)]
pub struct FineTuneData {
    /// Training images (labels `0..classes`).
    pub train: ManifestSet,
    /// For distillation ([`TrainConfig::distill_weight`] above 0): item by
    /// item of `train`, the photo the teacher embeds (an unmasked face's
    /// own image, a masked face's unmasked twin, see
    /// [`ManifestSet::twins`]). The teacher is the network as it was before
    /// fine-tuning.
    pub teachers: Option<ManifestSet>,
    /// Validation images.
    pub valid: ManifestSet,
    /// The number of classes.
    pub classes: usize,
}

/// What a fine-tuning run gives.
#[derive(Debug)]
pub struct FineTuned {
    /// The best epoch's network (centre included).
    pub net: TunedFaceResNet,
    /// The network with the head trained with it.
    pub model: BackboneWithHead<TunedFaceResNet>,
    /// The training history.
    pub report: FitReport,
}

impl FineTuneParams {
    /// Fine-tunes `dlib`'s network on `data`, writing the trainer's files
    /// and `embedder.bpk` (the best network, for
    /// `FaceEmbedderResNet::from_tuned`) to `out`; resumes a run there.
    ///
    /// The first of `devices` holds the network, computes the frozen
    /// blocks' features and validates; each training batch is split across
    /// all of them ([`Trainer::with_devices`]). None is an error.
    pub fn fit(
        &self,
        dlib: &DlibNet,
        data: &FineTuneData,
        out: &Path,
        devices: &[Device],
        progress: impl Fn(&Progress) + Send + Sync + 'static,
    ) -> Result<FineTuned, TrainError> {
        let device = crate::trainer::main_device(devices)?;
        self.loss.validate()?;
        if let Some(bad) = data
            .train
            .items()
            .iter()
            .find(|i| i.label as usize >= data.classes)
        {
            return Err(TrainError::Data {
                what: bad.path.display().to_string(),
                reason: format!("label {} for {} classes", bad.label, data.classes),
            });
        }
        let net = FaceResNet::from_dlib(dlib, device)?;
        let dim = net.embedding_dim();
        let base = TunedFaceResNet::new(net, &vec![0.0; dim], self.frozen_blocks, device)?;
        let teacher_only = match (&data.teachers, self.train.distill_weight > 0.0) {
            (Some(t), true) => teachers_outside_train(t, &train_index(data)).len(),
            _ => 0,
        };
        let total = data.train.len() + data.valid.len() + teacher_only;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let tick = |n: usize| {
            let d = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
            progress(&Progress::Features { done: d, total });
        };
        let size = dlib.input_size[0] as u32;
        let train = cache_features(&base, dlib.input_mean, size, &data.train, device, &tick)?;
        let valid = cache_features(&base, dlib.input_mean, size, &data.valid, device, &tick)?;
        let embeddings = embed_features(&base, &train, device)?;
        let centre = mean_row(&embeddings);
        let centred: Vec<Vec<f32>> = embeddings
            .iter()
            .map(|e| e.iter().zip(&centre).map(|(v, c)| v - c).collect())
            .collect();
        let centres = class_centres(&centred, train.labels(), data.classes);
        let mut train = train;
        if self.train.distill_weight > 0.0 {
            let rows = teacher_rows(&base, dlib, data, &embeddings, device, &tick)?;
            let rows: Vec<Vec<f32>> = rows
                .iter()
                .map(|e| e.iter().zip(&centre).map(|(v, c)| v - c).collect())
                .collect();
            train.set_teachers(&rows)?;
        }
        let head = MarginHeadConfig::new(dim, data.classes)
            .with_loss(self.loss)
            .init_with_centres(&centres, device)?;
        let backbone = TunedFaceResNet::new(base.net, &centre, self.frozen_blocks, device)?;
        let model = BackboneWithHead { backbone, head };
        let batcher = TensorBatcher {
            shape: train.shape(),
        };
        let trainer = Trainer::new(self.train.clone(), out)
            .with_progress(progress)
            .with_devices(devices.to_vec());
        let (best, report) = trainer.fit(model, &train, &valid, &batcher, device)?;
        best.backbone.save(&out.join("embedder.bpk"))?;
        Ok(FineTuned {
            net: best.backbone.clone(),
            model: best,
            report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_centres_average_unit_rows() {
        let rows = vec![vec![3.0, 0.0], vec![0.0, 2.0], vec![1.0, 0.0]];
        let c = class_centres(&rows, &[0, 0, 1], 3);
        assert_eq!(c, vec![vec![1.0, 1.0], vec![1.0, 0.0], vec![0.0, 0.0]]);
        assert_eq!(mean_row(&rows), vec![4.0 / 3.0, 2.0 / 3.0]);
    }
}
