//! Box arithmetic of the MTCNN cascade, in `f32` as facenet-pytorch does it.

/// A face candidate: its image in the batch, corners, score, and the
/// regression offsets its network predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cand {
    pub image: usize,
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
    pub reg: [f32; 4],
    /// Five landmarks (x then y), filled in by the last stage.
    pub points: [f32; 10],
}

/// How overlap is measured in non-maximum suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Intersection over union, areas `w * h` (torchvision's `nms`).
    Union,
    /// Intersection over the smaller box, areas `(w + 1) * (h + 1)`
    /// (MTCNN's final stage).
    Min,
}

/// Greedy non-maximum suppression within each image: keeps the best
/// candidate, drops those overlapping it by more than `threshold`, repeats.
/// Returns the kept candidates, best first within each image.
pub(crate) fn nms(cands: Vec<Cand>, threshold: f32, overlap: Overlap) -> Vec<Cand> {
    let mut order: Vec<usize> = (0..cands.len()).collect();
    // Sort by image, then by descending score; ties keep the earlier one.
    order.sort_by(|&a, &b| {
        cands[a]
            .image
            .cmp(&cands[b].image)
            .then(cands[b].score.total_cmp(&cands[a].score))
    });
    let plus = if overlap == Overlap::Min { 1.0 } else { 0.0 };
    let area = |c: &Cand| (c.x2 - c.x1 + plus) * (c.y2 - c.y1 + plus);
    let mut suppressed = vec![false; cands.len()];
    let mut kept = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        let a = cands[i];
        kept.push(a);
        for &j in &order[k + 1..] {
            let b = cands[j];
            if b.image != a.image {
                break;
            }
            if suppressed[j] {
                continue;
            }
            let w = (a.x2.min(b.x2) - a.x1.max(b.x1) + plus).max(0.0);
            let h = (a.y2.min(b.y2) - a.y1.max(b.y1) + plus).max(0.0);
            let inter = w * h;
            let o = match overlap {
                Overlap::Union => inter / (area(&a) + area(&b) - inter),
                Overlap::Min => inter / area(&a).min(area(&b)),
            };
            if o > threshold {
                suppressed[j] = true;
            }
        }
    }
    kept
}

/// Applies the P-Net regression (offsets scaled by `x2 - x1`).
pub(crate) fn regress_pnet(c: &mut Cand) {
    let (w, h) = (c.x2 - c.x1, c.y2 - c.y1);
    c.x1 += c.reg[0] * w;
    c.y1 += c.reg[1] * h;
    c.x2 += c.reg[2] * w;
    c.y2 += c.reg[3] * h;
}

/// Applies the R-/O-Net regression (offsets scaled by `x2 - x1 + 1`).
pub(crate) fn regress(c: &mut Cand) {
    let (w, h) = (c.x2 - c.x1 + 1.0, c.y2 - c.y1 + 1.0);
    c.x1 += c.reg[0] * w;
    c.y1 += c.reg[1] * h;
    c.x2 += c.reg[2] * w;
    c.y2 += c.reg[3] * h;
}

/// Makes the box square around its centre, side `max(w, h)`.
pub(crate) fn square(c: &mut Cand) {
    let (w, h) = (c.x2 - c.x1, c.y2 - c.y1);
    let l = w.max(h);
    c.x1 = c.x1 + w * 0.5 - l * 0.5;
    c.y1 = c.y1 + h * 0.5 - l * 0.5;
    c.x2 = c.x1 + l;
    c.y2 = c.y1 + l;
}

/// The pixels a candidate's crop takes, facenet-pytorch's `pad`: corners
/// truncated to integers and clipped to the image (1-based `x, y`, inclusive
/// `ex, ey`), as a 0-based half-open rectangle; `None` when nothing is left.
pub(crate) fn crop_rect(c: &Cand, w: usize, h: usize) -> Option<super::resample::Rect> {
    let x = (c.x1.trunc() as i64).max(1);
    let y = (c.y1.trunc() as i64).max(1);
    let ex = (c.x2.trunc() as i64).min(w as i64);
    let ey = (c.y2.trunc() as i64).min(h as i64);
    (ex > x - 1 && ey > y - 1).then(|| super::resample::Rect {
        x0: (x - 1) as usize,
        y0: (y - 1) as usize,
        x1: ex as usize,
        y1: ey as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cand(image: usize, x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Cand {
        Cand {
            image,
            x1,
            y1,
            x2,
            y2,
            score,
            reg: [0.0; 4],
            points: [0.0; 10],
        }
    }

    #[test]
    fn nms_keeps_best_and_far_boxes() {
        let c = vec![
            cand(0, 0.0, 0.0, 10.0, 10.0, 0.8),
            cand(0, 1.0, 1.0, 11.0, 11.0, 0.9), // IoU 81/119 = 0.68 with the first
            cand(0, 50.0, 50.0, 60.0, 60.0, 0.5),
            cand(1, 0.0, 0.0, 10.0, 10.0, 0.7), // another image: never suppressed by image 0
        ];
        let kept = nms(c.clone(), 0.5, Overlap::Union);
        let scores: Vec<f32> = kept.iter().map(|k| k.score).collect();
        assert_eq!(scores, vec![0.9, 0.5, 0.7]);
        assert_eq!(nms(c, 0.7, Overlap::Union).len(), 4);
    }

    #[test]
    fn min_overlap_suppresses_contained_boxes() {
        let c = vec![
            cand(0, 0.0, 0.0, 99.0, 99.0, 0.9),
            cand(0, 10.0, 10.0, 29.0, 29.0, 0.8),
        ];
        assert_eq!(nms(c.clone(), 0.7, Overlap::Min).len(), 1);
        assert_eq!(nms(c, 0.7, Overlap::Union).len(), 2);
    }

    #[test]
    fn crop_rect_clips_like_facenet() {
        let c = cand(0, -5.7, 3.2, 300.9, 40.0, 1.0);
        let r = crop_rect(&c, 250, 250).unwrap();
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (0, 2, 250, 40));
        assert!(crop_rect(&cand(0, 260.0, 0.0, 270.0, 10.0, 1.0), 250, 250).is_none());
    }

    proptest! {
        #[test]
        fn square_is_square_and_keeps_centre(x1 in -50f32..200.0, y1 in -50f32..200.0, w in 1f32..100.0, h in 1f32..100.0) {
            let mut c = cand(0, x1, y1, x1 + w, y1 + h, 1.0);
            square(&mut c);
            prop_assert!(((c.x2 - c.x1) - (c.y2 - c.y1)).abs() < 1e-3);
            prop_assert!(((c.x1 + c.x2) / 2.0 - (x1 + w / 2.0)).abs() < 1e-3);
            prop_assert!(((c.y1 + c.y2) / 2.0 - (y1 + h / 2.0)).abs() < 1e-3);
        }

        #[test]
        fn nms_output_has_no_overlaps_above_threshold(
            boxes in proptest::collection::vec((0f32..100.0, 0f32..100.0, 5f32..40.0, 0f32..1.0), 0..30),
            t in 0.1f32..0.9,
        ) {
            let c: Vec<Cand> = boxes.iter().map(|&(x, y, s, p)| cand(0, x, y, x + s, y + s, p)).collect();
            let kept = nms(c, t, Overlap::Union);
            for (i, a) in kept.iter().enumerate() {
                for b in &kept[i + 1..] {
                    let w = (a.x2.min(b.x2) - a.x1.max(b.x1)).max(0.0);
                    let h = (a.y2.min(b.y2) - a.y1.max(b.y1)).max(0.0);
                    let iou = w * h / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - w * h);
                    prop_assert!(iou <= t + 1e-6);
                }
                if i > 0 { prop_assert!(kept[i - 1].score >= a.score); }
            }
        }
    }
}
