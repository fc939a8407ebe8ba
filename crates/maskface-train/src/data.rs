use std::path::{Path, PathBuf};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::prelude::*;
use image::RgbImage;
use maskface_core::{load_rgb, Manifest, Split};
use rayon::prelude::*;

use crate::TrainError;

/// A batch ready for a network: inputs `[n, c, h, w]`, class labels `[n]`
/// and, for distillation, the teacher's embeddings `[n, dim]`.
#[derive(Debug, Clone)]
pub struct TrainBatch {
    /// The inputs.
    pub inputs: Tensor<4>,
    /// The labels.
    pub labels: Tensor<1, Int>,
    /// The embeddings the student is pulled towards
    /// ([`TrainConfig::distill_weight`](crate::TrainConfig)), when the set
    /// has them.
    pub teachers: Option<Tensor<2>>,
}

fn labels_tensor(labels: &[u32], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    Tensor::from_data(TensorData::new(values, [labels.len()]), device)
}

/// One sample of a [`TensorSet`]: a `[c, h, w]` block of values, its label
/// and its teacher embedding when the set has them.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorItem {
    /// The values, row-major.
    pub values: Vec<f32>,
    /// The label.
    pub label: u32,
    /// The teacher's embedding of the sample (see
    /// [`TensorSet::set_teachers`]).
    pub teacher: Option<Vec<f32>>,
}

/// Samples held in memory as blocks of one shape: the cached output of a
/// network's frozen part (so only its trainable tail runs each epoch), or
/// small images.
#[derive(Debug, Clone, Default)]
pub struct TensorSet {
    values: Vec<f32>,
    shape: [usize; 3],
    labels: Vec<u32>,
    // One row of `teacher_dim` per sample, or empty.
    teachers: Vec<f32>,
    teacher_dim: usize,
}

impl TensorSet {
    /// An empty set of `[c, h, w]` blocks.
    pub fn new(shape: [usize; 3]) -> Self {
        TensorSet {
            values: Vec::new(),
            shape,
            labels: Vec::new(),
            teachers: Vec::new(),
            teacher_dim: 0,
        }
    }

    /// Gives every sample, in order, the embedding a student network is
    /// pulled towards in distillation: one row per sample, all of one
    /// length. Samples appended later must be given theirs again.
    pub fn set_teachers(&mut self, rows: &[Vec<f32>]) -> Result<(), TrainError> {
        let dim = rows.first().map_or(0, Vec::len);
        if rows.len() != self.labels.len() || dim == 0 || rows.iter().any(|r| r.len() != dim) {
            return Err(TrainError::Data {
                what: "teacher embeddings".into(),
                reason: format!(
                    "{} rows for {} samples; each row must have the same, non-zero length",
                    rows.len(),
                    self.labels.len()
                ),
            });
        }
        self.teachers = rows.concat();
        self.teacher_dim = dim;
        Ok(())
    }

    /// The teacher embedding of sample `i`, when the set has them.
    pub fn teacher(&self, i: usize) -> Option<&[f32]> {
        let d = self.teacher_dim;
        if d == 0 {
            return None;
        }
        self.teachers.get(i * d..(i + 1) * d)
    }

    /// The shape of one sample.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The labels, in order.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Appends samples: `values` holds `labels.len()` blocks back to back.
    /// The teacher embeddings, if any, are dropped (see
    /// [`TensorSet::set_teachers`]).
    pub fn extend(&mut self, values: &[f32], labels: &[u32]) -> Result<(), TrainError> {
        if values.len() != labels.len() * self.sample_len() {
            return Err(TrainError::Data {
                what: "tensor set".into(),
                reason: format!(
                    "{} values for {} samples of shape {:?}",
                    values.len(),
                    labels.len(),
                    self.shape
                ),
            });
        }
        self.values.extend_from_slice(values);
        self.labels.extend_from_slice(labels);
        self.teachers.clear();
        self.teacher_dim = 0;
        Ok(())
    }

    /// Appends every sample of `other` (of the same shape).
    pub fn append(&mut self, other: &TensorSet) -> Result<(), TrainError> {
        if other.shape != self.shape {
            return Err(TrainError::Data {
                what: "tensor set".into(),
                reason: format!("shape {:?} appended to {:?}", other.shape, self.shape),
            });
        }
        self.extend(&other.values, &other.labels)
    }

    /// The values of sample `i`.
    pub fn values(&self, i: usize) -> Option<&[f32]> {
        let n = self.sample_len();
        self.values.get(i * n..(i + 1) * n)
    }
}

impl Dataset<TensorItem, TrainError> for TensorSet {
    fn get(&self, index: usize) -> Result<TensorItem, TrainError> {
        match (self.values(index), self.labels.get(index)) {
            (Some(v), Some(&label)) => Ok(TensorItem {
                values: v.to_vec(),
                label,
                teacher: self.teacher(index).map(<[f32]>::to_vec),
            }),
            _ => Err(TrainError::Data {
                what: "tensor set".into(),
                reason: format!("sample {index} of {}", self.labels.len()),
            }),
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Stacks [`TensorItem`]s of one shape into a [`TrainBatch`].
#[derive(Debug, Clone, Copy)]
pub struct TensorBatcher {
    /// The shape of one sample.
    pub shape: [usize; 3],
}

impl Batcher<TensorItem, Result<TrainBatch, TrainError>> for TensorBatcher {
    fn batch(&self, items: Vec<TensorItem>, device: &Device) -> Result<TrainBatch, TrainError> {
        let [c, h, w] = self.shape;
        let mut values = Vec::with_capacity(items.len() * c * h * w);
        let mut labels = Vec::with_capacity(items.len());
        for item in &items {
            if item.values.len() != c * h * w {
                return Err(TrainError::Data {
                    what: "batch".into(),
                    reason: format!(
                        "a sample of {} values, {:?} expected",
                        item.values.len(),
                        self.shape
                    ),
                });
            }
            values.extend_from_slice(&item.values);
            labels.push(item.label);
        }
        // A batch has teachers when every item has one, all of one length.
        let teachers = items
            .iter()
            .map(|i| i.teacher.as_deref())
            .collect::<Option<Vec<&[f32]>>>()
            .filter(|t| t.iter().all(|r| r.len() == t[0].len()))
            .map(|t| {
                let dim = t[0].len();
                Tensor::from_data(TensorData::new(t.concat(), [t.len(), dim]), device)
            });
        Ok(TrainBatch {
            inputs: Tensor::from_data(TensorData::new(values, [items.len(), c, h, w]), device),
            labels: labels_tensor(&labels, device),
            teachers,
        })
    }
}

/// One image of a [`ManifestSet`]: where it is, its label, and whether it
/// is read mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageItem {
    /// The image file.
    pub path: PathBuf,
    /// The label.
    pub label: u32,
    /// Mirror it left-right when loading (augmentation).
    pub flip: bool,
}

/// The images of one split of a manifest, optionally with a mirrored copy
/// of each; images are read when batched.
#[derive(Debug, Clone, Default)]
pub struct ManifestSet {
    items: Vec<ImageItem>,
}

impl ManifestSet {
    /// The samples of `split`; with `flips`, each also mirrored (the
    /// mirrored copies follow the originals).
    pub fn new(manifest: &Manifest, split: Split, flips: bool) -> Self {
        let originals: Vec<ImageItem> = manifest
            .split(split)
            .map(|s| ImageItem {
                path: manifest.resolve(&s.path),
                label: s.label,
                flip: false,
            })
            .collect();
        let mut items = originals.clone();
        if flips {
            items.extend(originals.into_iter().map(|i| ImageItem { flip: true, ..i }));
        }
        ManifestSet { items }
    }

    /// Every sample of the manifest whatever its split (an auxiliary set of
    /// extra identities), with labels moved up by `label_offset` so they
    /// follow the main set's classes.
    pub fn all(manifest: &Manifest, label_offset: u32, flips: bool) -> Self {
        let mut set = ManifestSet::default();
        for flip in [false, true].into_iter().take(if flips { 2 } else { 1 }) {
            set.items.extend(manifest.samples.iter().map(|s| ImageItem {
                path: manifest.resolve(&s.path),
                label: s.label + label_offset,
                flip,
            }));
        }
        set
    }

    /// The set of the same photos seen another way: for each item (a
    /// sample of `manifest`), the sample of `twins` at the same relative
    /// path, with the item's label and flip. `twins` is another variant of
    /// the same `generate` run (the unmasked chips of masked ones), whose
    /// images share their relative paths.
    ///
    /// An item that is not in `manifest`, or whose twin is missing, is an
    /// error naming it.
    pub fn twins(&self, manifest: &Manifest, twins: &Manifest) -> Result<ManifestSet, TrainError> {
        let relative: std::collections::HashMap<PathBuf, &Path> = manifest
            .samples
            .iter()
            .map(|s| (manifest.resolve(&s.path), s.path.as_path()))
            .collect();
        let present: std::collections::HashSet<&Path> =
            twins.samples.iter().map(|s| s.path.as_path()).collect();
        let items = self
            .items
            .iter()
            .map(|item| {
                let missing = |reason: String| TrainError::Data {
                    what: item.path.display().to_string(),
                    reason,
                };
                let rel = relative
                    .get(&item.path)
                    .ok_or_else(|| missing("not a sample of the manifest given".into()))?;
                if !present.contains(rel) {
                    return Err(missing(format!(
                        "no twin at {} in the other manifest",
                        rel.display()
                    )));
                }
                Ok(ImageItem {
                    path: twins.resolve(rel),
                    ..item.clone()
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ManifestSet { items })
    }

    /// Appends one item.
    pub fn push(&mut self, item: ImageItem) {
        self.items.push(item);
    }

    /// Appends another set's items (labels as they are).
    pub fn append(&mut self, other: ManifestSet) {
        self.items.extend(other.items);
    }

    /// The items, in order.
    pub fn items(&self) -> &[ImageItem] {
        &self.items
    }
}

impl Dataset<ImageItem, TrainError> for ManifestSet {
    fn get(&self, index: usize) -> Result<ImageItem, TrainError> {
        self.items
            .get(index)
            .cloned()
            .ok_or_else(|| TrainError::Data {
                what: "manifest set".into(),
                reason: format!("sample {index} of {}", self.items.len()),
            })
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// Reads a batch of [`ImageItem`]s in parallel (mirroring those marked) and
/// turns them into a network's input with `normalize`; with
/// [`ImageBatcher::with_teachers`], each batch also carries its images'
/// teacher embeddings (for distillation).
pub struct ImageBatcher<F> {
    normalize: F,
    teachers: Option<std::collections::HashMap<PathBuf, Vec<f32>>>,
}

impl<F> ImageBatcher<F>
where
    F: Fn(&[RgbImage], &Device) -> Result<Tensor<4>, TrainError> + Send + Sync,
{
    /// A batcher with the network's input normalisation.
    pub fn new(normalize: F) -> Self {
        ImageBatcher {
            normalize,
            teachers: None,
        }
    }

    /// Gives each image file its teacher embedding (all rows of one
    /// length); batching an image without one is an error naming it.
    pub fn with_teachers(self, rows: std::collections::HashMap<PathBuf, Vec<f32>>) -> Self {
        ImageBatcher {
            teachers: Some(rows),
            ..self
        }
    }

    fn teacher_rows(
        &self,
        items: &[ImageItem],
        device: &Device,
    ) -> Result<Option<Tensor<2>>, TrainError> {
        let Some(rows) = &self.teachers else {
            return Ok(None);
        };
        let mut values = Vec::new();
        let mut dim = 0;
        for item in items {
            let row = rows
                .get(&item.path)
                .filter(|r| !r.is_empty() && (dim == 0 || r.len() == dim))
                .ok_or_else(|| TrainError::Data {
                    what: item.path.display().to_string(),
                    reason: "no teacher embedding of the batch's length".into(),
                })?;
            dim = row.len();
            values.extend_from_slice(row);
        }
        Ok(Some(Tensor::from_data(
            TensorData::new(values, [items.len(), dim]),
            device,
        )))
    }
}

/// Reads the images of `items` in parallel, mirroring those marked.
pub fn load_items(items: &[ImageItem]) -> Result<Vec<RgbImage>, TrainError> {
    items
        .par_iter()
        .map(|item| {
            let image = load_rgb(&item.path)?;
            Ok(if item.flip {
                image::imageops::flip_horizontal(&image)
            } else {
                image
            })
        })
        .collect()
}

impl<F> Batcher<ImageItem, Result<TrainBatch, TrainError>> for ImageBatcher<F>
where
    F: Fn(&[RgbImage], &Device) -> Result<Tensor<4>, TrainError> + Send + Sync,
{
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> Result<TrainBatch, TrainError> {
        let images = load_items(&items)?;
        let labels: Vec<u32> = items.iter().map(|i| i.label).collect();
        Ok(TrainBatch {
            inputs: (self.normalize)(&images, device)?,
            labels: labels_tensor(&labels, device),
            teachers: self.teacher_rows(&items, device)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_sets_hand_back_what_they_were_given() {
        let mut set = TensorSet::new([1, 1, 2]);
        set.extend(&[1.0, 2.0, 3.0, 4.0], &[7, 9]).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.get(1).unwrap(),
            TensorItem {
                values: vec![3.0, 4.0],
                label: 9,
                teacher: None,
            }
        );
        assert!(set.get(2).is_err());
        assert!(set.extend(&[1.0], &[0]).is_err());
        let batch = TensorBatcher { shape: [1, 1, 2] }
            .batch(
                vec![set.get(1).unwrap(), set.get(0).unwrap()],
                &Device::flex(),
            )
            .unwrap();
        assert_eq!(batch.inputs.dims(), [2, 1, 1, 2]);
        let labels: Vec<i64> = batch.labels.try_into_vec_as::<i64>().unwrap();
        assert_eq!(labels, vec![9, 7]);
        assert!(batch.teachers.is_none());
    }

    #[test]
    fn teacher_rows_follow_their_samples_into_batches() {
        let mut set = TensorSet::new([1, 1, 1]);
        set.extend(&[1.0, 2.0, 3.0], &[0, 1, 2]).unwrap();
        assert!(set.set_teachers(&[vec![1.0, 0.0]]).is_err());
        assert!(set
            .set_teachers(&[vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0]])
            .is_err());
        set.set_teachers(&[vec![1.0, 0.0], vec![0.0, 1.0], vec![0.5, 0.5]])
            .unwrap();
        assert_eq!(set.get(1).unwrap().teacher, Some(vec![0.0, 1.0]));
        let batch = TensorBatcher { shape: [1, 1, 1] }
            .batch(
                vec![set.get(2).unwrap(), set.get(0).unwrap()],
                &Device::flex(),
            )
            .unwrap();
        let t: Vec<f32> = batch.teachers.unwrap().try_into_vec_as::<f32>().unwrap();
        assert_eq!(t, vec![0.5, 0.5, 1.0, 0.0]);
        // New samples drop the rows: they would no longer line up.
        set.extend(&[4.0], &[3]).unwrap();
        assert_eq!(set.teacher(0), None);
    }

    #[test]
    fn image_batches_mirror_the_flipped_items_and_name_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let mut img = RgbImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgb([200, 0, 0]));
        img.save(&path).unwrap();
        let batcher = ImageBatcher::new(|images: &[RgbImage], device: &Device| {
            let v: Vec<f32> = images
                .iter()
                .flat_map(|i| i.pixels().map(|p| f32::from(p[0])))
                .collect();
            Ok(Tensor::from_data(
                TensorData::new(v, [images.len(), 1, 1, 2]),
                device,
            ))
        });
        let item = |flip| ImageItem {
            path: path.clone(),
            label: 3,
            flip,
        };
        let b = batcher
            .batch(vec![item(false), item(true)], &Device::flex())
            .unwrap();
        let v: Vec<f32> = b.inputs.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v, vec![200.0, 0.0, 0.0, 200.0]);
        let missing = ImageItem {
            path: dir.path().join("gone.png"),
            label: 0,
            flip: false,
        };
        let err = batcher.batch(vec![missing], &Device::flex()).unwrap_err();
        assert!(err.to_string().contains("gone.png"), "{err}");

        // Teacher rows follow their files; a file without one is named.
        let rows = [(path.clone(), vec![0.5f32, -1.0])].into_iter().collect();
        let batcher = batcher.with_teachers(rows);
        let b = batcher
            .batch(vec![item(true), item(false)], &Device::flex())
            .unwrap();
        let t: Vec<f32> = b.teachers.unwrap().try_into_vec_as::<f32>().unwrap();
        assert_eq!(t, vec![0.5, -1.0, 0.5, -1.0]);
        let other = dir.path().join("b.png");
        img.save(&other).unwrap();
        let stranger = ImageItem {
            path: other,
            label: 1,
            flip: false,
        };
        let err = batcher
            .batch(vec![item(false), stranger], &Device::flex())
            .unwrap_err();
        assert!(err.to_string().contains("b.png"), "{err}");
    }
}
