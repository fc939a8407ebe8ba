use std::collections::BTreeMap;
use std::path::Path;

use burn::prelude::*;
use image::RgbImage;
use maskface_core::{Detection, FaceBox, FaceDetector, Landmarks5, Point2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::boxes::{crop_rect, nms, regress, regress_pnet, square, Cand, Overlap};
use super::nets::{ONet, ONetConfig, PNet, PNetConfig, RNet, RNetConfig};
use super::resample::{area_resize_normalized, Planar, Rect};
use crate::torch_weights::load_state_dict;
use crate::NetsError;
use maskface_core::{crop_face, CropConfig, FaceCrop, FaceSelection};

/// Parameters of the detector. The defaults are facenet-pytorch's, except
/// the face selection: centre-weighted instead of largest, because on the
/// authors' 1,702 LFW images it chooses a box within 25 px of the image
/// centre (the labelled person) in 1,692 cases against 1,664 for the
/// largest box (`tests/mtcnn_lfw.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MtcnnConfig {
    /// Smallest face searched for, in pixels (20).
    pub min_face_size: u32,
    /// Ratio between pyramid levels (0.709).
    pub factor: f64,
    /// Score thresholds of P-, R- and O-Net (0.6, 0.7, 0.7).
    pub thresholds: [f32; 3],
    /// Which face [`Mtcnn::select`] and [`Mtcnn::detect_and_crop`] choose.
    pub selection: FaceSelection,
    /// Images per forward pass (images of equal size are batched). Batches
    /// run in parallel on the CPU, so small batches keep every core busy;
    /// a GPU wants larger ones.
    pub batch_size: usize,
}

impl Default for MtcnnConfig {
    fn default() -> Self {
        MtcnnConfig {
            min_face_size: 20,
            factor: 0.709,
            thresholds: [0.6, 0.7, 0.7],
            selection: FaceSelection::CenterWeighted { weight: 2.0 },
            batch_size: 4,
        }
    }
}

/// PyTorch calls a PReLU's slopes `weight`, burn calls them `alpha`.
const PRELU_KEYS: &[(&str, &str)] = &[(r"^(prelu\d+)\.weight$", "$1.alpha")];

impl MtcnnConfig {
    fn validate(&self) -> Result<(), NetsError> {
        let bad = |name, reason: String| Err(NetsError::InvalidParameter { name, reason });
        if self.min_face_size < 12 {
            return bad(
                "min_face_size",
                format!("{} is below P-Net's 12 px window", self.min_face_size),
            );
        }
        if !(self.factor > 0.1 && self.factor < 1.0) {
            return bad("factor", format!("{} must lie in (0.1, 1)", self.factor));
        }
        if self.thresholds.iter().any(|t| !(0.0..=1.0).contains(t)) {
            return bad(
                "thresholds",
                format!("{:?} must lie in [0, 1]", self.thresholds),
            );
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1".into());
        }
        Ok(())
    }
}

/// The MTCNN detector: three networks on one burn device.
#[derive(Debug)]
pub struct Mtcnn {
    pnet: PNet,
    rnet: RNet,
    onet: ONet,
    config: MtcnnConfig,
    device: Device,
}

/// Most crops per R-/O-Net forward pass: bounds memory on crowded images.
const MAX_CROPS_PER_PASS: usize = 512;

impl Mtcnn {
    /// Loads `pnet.pt`, `rnet.pt` and `onet.pt` from `dir` (the `models/`
    /// folder that `scripts/setup.sh` fills).
    pub fn from_dir(dir: &Path, config: MtcnnConfig, device: &Device) -> Result<Self, NetsError> {
        Self::from_files(
            &dir.join("pnet.pt"),
            &dir.join("rnet.pt"),
            &dir.join("onet.pt"),
            config,
            device,
        )
    }

    /// Loads the three networks from facenet-pytorch 2.6.0 state dicts.
    pub fn from_files(
        pnet: &Path,
        rnet: &Path,
        onet: &Path,
        config: MtcnnConfig,
        device: &Device,
    ) -> Result<Self, NetsError> {
        config.validate()?;
        let mut p = PNetConfig::new().init(device);
        load_state_dict(
            &mut p,
            pnet,
            PRELU_KEYS,
            "facenet-pytorch's P-Net (pnet.pt; run scripts/setup.sh)",
        )?;
        let mut r = RNetConfig::new().init(device);
        load_state_dict(
            &mut r,
            rnet,
            PRELU_KEYS,
            "facenet-pytorch's R-Net (rnet.pt; run scripts/setup.sh)",
        )?;
        let mut o = ONetConfig::new().init(device);
        load_state_dict(
            &mut o,
            onet,
            PRELU_KEYS,
            "facenet-pytorch's O-Net (onet.pt; run scripts/setup.sh)",
        )?;
        Ok(Mtcnn {
            pnet: p,
            rnet: r,
            onet: o,
            config,
            device: device.clone(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &MtcnnConfig {
        &self.config
    }

    /// The P-Net, for inspection.
    pub fn pnet(&self) -> &PNet {
        &self.pnet
    }

    /// The R-Net, for inspection.
    pub fn rnet(&self) -> &RNet {
        &self.rnet
    }

    /// The O-Net, for inspection.
    pub fn onet(&self) -> &ONet {
        &self.onet
    }

    /// Detects faces in each image. Images of equal size share forward
    /// passes (`batch_size` at a time), batches run in parallel; the result
    /// is per image, in order,
    /// each list sorted by descending score. An image without a face gives
    /// an empty list; one smaller than `min_face_size` an error.
    pub fn detect_images(&self, images: &[RgbImage]) -> Vec<Result<Vec<Detection>, NetsError>> {
        let mut by_size: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
        for (i, img) in images.iter().enumerate() {
            by_size.entry(img.dimensions()).or_default().push(i);
        }
        let chunks: Vec<&[usize]> = by_size
            .values()
            .flat_map(|idx| idx.chunks(self.config.batch_size))
            .collect();
        // burn's CPU kernels run these small layers on one thread, so chunks
        // (of `batch_size` images) go to separate rayon workers.
        let results: Vec<Result<Vec<Vec<Detection>>, NetsError>> = chunks
            .par_iter()
            .map(|chunk| {
                let group: Vec<&RgbImage> = chunk.iter().map(|&i| &images[i]).collect();
                let (w, h) = group[0].dimensions();
                self.detect_group(&group, w as usize, h as usize)
            })
            .collect();
        let mut out: Vec<Option<Result<Vec<Detection>, NetsError>>> =
            (0..images.len()).map(|_| None).collect();
        for (chunk, result) in chunks.iter().zip(results) {
            match result {
                Ok(per_image) => {
                    for (&i, dets) in chunk.iter().zip(per_image) {
                        out[i] = Some(Ok(dets));
                    }
                }
                Err(e) => {
                    for &i in *chunk {
                        out[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(NetsError::Readback("image not processed".into()))))
            .collect()
    }

    /// The face the configured [`FaceSelection`] prefers, if any.
    pub fn select<'a>(
        &self,
        detections: &'a [Detection],
        width: u32,
        height: u32,
    ) -> Option<&'a Detection> {
        self.config.selection.pick(detections, width, height)
    }

    /// Detects faces, chooses one per image ([`Mtcnn::select`]) and crops it
    /// ([`crop_face`]): the call the dataset pipeline makes. `Ok(None)` for an
    /// image without a face, so a pipeline can record it and go on.
    pub fn detect_and_crop(
        &self,
        images: &[RgbImage],
        crop: &CropConfig,
    ) -> Vec<Result<Option<FaceCrop>, NetsError>> {
        self.detect_images(images)
            .into_iter()
            .zip(images)
            .map(|(dets, img)| {
                let dets = dets?;
                let Some(chosen) = self.select(&dets, img.width(), img.height()) else {
                    return Ok(None);
                };
                let (crop_img, crop_box) = crop_face(img, &chosen.bbox, crop).map_err(|e| {
                    NetsError::InvalidParameter {
                        name: "crop",
                        reason: e.to_string(),
                    }
                })?;
                Ok(Some(FaceCrop {
                    detection: chosen.clone(),
                    crop: crop_img,
                    crop_box,
                }))
            })
            .collect()
    }

    /// Pyramid scales: `12 / min_face_size * factor^k` while the smaller
    /// side stays at least 12 px.
    fn scales(&self, w: usize, h: usize) -> Vec<f64> {
        let m = 12.0 / f64::from(self.config.min_face_size);
        let mut minl = w.min(h) as f64 * m;
        let mut scale = m;
        let mut scales = Vec::new();
        while minl >= 12.0 {
            scales.push(scale);
            scale *= self.config.factor;
            minl *= self.config.factor;
        }
        scales
    }

    fn detect_group(
        &self,
        images: &[&RgbImage],
        w: usize,
        h: usize,
    ) -> Result<Vec<Vec<Detection>>, NetsError> {
        let scales = self.scales(w, h);
        if scales.is_empty() {
            return Err(NetsError::ImageTooSmall {
                width: w as u32,
                height: h as u32,
                min_face: self.config.min_face_size,
            });
        }
        let planes: Vec<Planar> = images.par_iter().map(|img| Planar::from_rgb(img)).collect();
        let n = planes.len();

        // Stage 1: P-Net over the pyramid, all images of a level in one pass.
        let mut cands = Vec::new();
        for &scale in &scales {
            let (hs, ws) = (
                (h as f64 * scale + 1.0) as usize,
                (w as f64 * scale + 1.0) as usize,
            );
            let mut input = vec![0f32; n * 3 * hs * ws];
            input
                .par_chunks_mut(3 * hs * ws)
                .zip(&planes)
                .for_each(|(dst, p)| {
                    area_resize_normalized(
                        p,
                        Rect {
                            x0: 0,
                            y0: 0,
                            x1: w,
                            y1: h,
                        },
                        ws,
                        hs,
                        dst,
                    )
                });
            let x = Tensor::<4>::from_data(TensorData::new(input, [n, 3, hs, ws]), &self.device);
            let (reg, prob) = self.pnet.forward(x);
            let [_, _, oh, ow] = prob.dims();
            let (reg, prob) = (read(reg)?, read(prob)?);
            let level = proposals(
                &reg,
                &prob,
                n,
                oh,
                ow,
                scale as f32,
                self.config.thresholds[0],
            );
            cands.extend(nms(level, 0.5, Overlap::Union));
        }
        let mut cands = nms(cands, 0.7, Overlap::Union);
        for c in &mut cands {
            regress_pnet(c);
            square(c);
        }

        // Stage 2: R-Net on 24x24 crops of every candidate of every image.
        let (cands, out) = self.run_crops(&planes, cands, 24, |x| {
            let (reg, prob) = self.rnet.forward(x);
            Ok(vec![read(reg)?, read(prob)?])
        })?;
        let mut cands: Vec<Cand> = cands
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let score = out[1][i * 2 + 1];
                (score > self.config.thresholds[1]).then(|| Cand {
                    score,
                    reg: std::array::from_fn(|k| out[0][i * 4 + k]),
                    ..*c
                })
            })
            .collect();
        cands = nms(cands, 0.7, Overlap::Union);
        for c in &mut cands {
            regress(c);
            square(c);
        }

        // Stage 3: O-Net on 48x48 crops; landmarks from the box before regression.
        let (cands, out) = self.run_crops(&planes, cands, 48, |x| {
            let (reg, points, prob) = self.onet.forward(x);
            Ok(vec![read(reg)?, read(points)?, read(prob)?])
        })?;
        let mut finals = Vec::new();
        for (i, c) in cands.iter().enumerate() {
            let score = out[2][i * 2 + 1];
            if score <= self.config.thresholds[2] {
                continue;
            }
            let (bw, bh) = (c.x2 - c.x1 + 1.0, c.y2 - c.y1 + 1.0);
            let mut points = [0f32; 10];
            for k in 0..5 {
                points[k] = bw * out[1][i * 10 + k] + c.x1 - 1.0;
                points[5 + k] = bh * out[1][i * 10 + 5 + k] + c.y1 - 1.0;
            }
            let mut f = Cand {
                score,
                reg: std::array::from_fn(|k| out[0][i * 4 + k]),
                points,
                ..*c
            };
            regress(&mut f);
            finals.push(f);
        }
        let finals = nms(finals, 0.7, Overlap::Min);

        let mut per_image = vec![Vec::new(); n];
        for c in finals {
            let p = c.points;
            per_image[c.image].push(Detection {
                bbox: FaceBox::new(c.x1, c.y1, c.x2, c.y2, c.score),
                landmarks: Some(Landmarks5(std::array::from_fn(|k| {
                    Point2::new(p[k], p[5 + k])
                }))),
            });
        }
        for dets in &mut per_image {
            dets.sort_by(|a, b| b.bbox.score.total_cmp(&a.bbox.score));
        }
        Ok(per_image)
    }

    /// Crops every candidate to `size` x `size` (area resampling), runs
    /// `forward` over them in passes of at most [`MAX_CROPS_PER_PASS`], and
    /// returns the candidates that had pixels to crop with the concatenated
    /// outputs (one flat vector per network output).
    fn run_crops<F>(
        &self,
        planes: &[Planar],
        cands: Vec<Cand>,
        size: usize,
        forward: F,
    ) -> Result<(Vec<Cand>, Vec<Vec<f32>>), NetsError>
    where
        F: Fn(Tensor<4>) -> Result<Vec<Vec<f32>>, NetsError>,
    {
        let with_rect: Vec<(Cand, Rect)> = cands
            .into_iter()
            .filter_map(|c| {
                let p = &planes[c.image];
                crop_rect(&c, p.w, p.h).map(|r| (c, r))
            })
            .collect();
        let mut outputs: Vec<Vec<f32>> = Vec::new();
        for chunk in with_rect.chunks(MAX_CROPS_PER_PASS) {
            let per = 3 * size * size;
            let mut input = vec![0f32; chunk.len() * per];
            input
                .par_chunks_mut(per)
                .zip(chunk)
                .for_each(|(dst, (c, r))| {
                    area_resize_normalized(&planes[c.image], *r, size, size, dst)
                });
            let x = Tensor::<4>::from_data(
                TensorData::new(input, [chunk.len(), 3, size, size]),
                &self.device,
            );
            let out = forward(x)?;
            if outputs.is_empty() {
                outputs = out;
            } else {
                for (acc, o) in outputs.iter_mut().zip(out) {
                    acc.extend(o);
                }
            }
        }
        Ok((with_rect.into_iter().map(|(c, _)| c).collect(), outputs))
    }
}

/// P-Net cells scoring at least `threshold`, as boxes in image pixels
/// (facenet-pytorch's `generateBoundingBox`: stride 2, 12 px cells).
fn proposals(
    reg: &[f32],
    prob: &[f32],
    n: usize,
    oh: usize,
    ow: usize,
    scale: f32,
    threshold: f32,
) -> Vec<Cand> {
    let mut out = Vec::new();
    let plane = oh * ow;
    for b in 0..n {
        let face = &prob[(b * 2 + 1) * plane..(b * 2 + 2) * plane];
        for (k, &score) in face.iter().enumerate() {
            if score < threshold {
                continue;
            }
            let (y, x) = ((k / ow) as f32, (k % ow) as f32);
            let r = |c: usize| reg[(b * 4 + c) * plane + k];
            out.push(Cand {
                image: b,
                x1: ((2.0 * x + 1.0) / scale).floor(),
                y1: ((2.0 * y + 1.0) / scale).floor(),
                x2: ((2.0 * x + 12.0) / scale).floor(),
                y2: ((2.0 * y + 12.0) / scale).floor(),
                score,
                reg: [r(0), r(1), r(2), r(3)],
                points: [0.0; 10],
            });
        }
    }
    out
}

fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, NetsError> {
    t.try_into_vec_as::<f32>()
        .map_err(|e| NetsError::Readback(format!("{e:?}")))
}

impl FaceDetector for Mtcnn {
    type Error = NetsError;

    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, NetsError> {
        self.detect_images(std::slice::from_ref(image))
            .pop()
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    fn detect_batch(&self, images: &[RgbImage]) -> Vec<Result<Vec<Detection>, NetsError>> {
        self.detect_images(images)
    }
}
