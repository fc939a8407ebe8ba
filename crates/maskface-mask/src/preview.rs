//! A contact sheet of the pipeline, one face per row, one step per column
//! (as the paper's Figure 5).

use image::{Rgb, RgbImage};
use maskface_core::{FaceBox, Point2};

use crate::{FaceSteps, MaskError};

const BOX: Rgb<u8> = Rgb([40, 220, 60]);
const CUT: Rgb<u8> = Rgb([250, 60, 60]);
const POINT: Rgb<u8> = Rgb([255, 220, 0]);
const LANDMARK_BOX: Rgb<u8> = Rgb([0, 160, 255]);

/// The column captions of [`contact_sheet`].
pub const STEPS: [&str; 5] = [
    "original",
    "crop (margin 15)",
    "68 landmarks",
    "masked",
    "upper part",
];

/// Draws each face's steps in a row: the original with the detection box;
/// the crop; the crop with the landmark box, the 68 points and the cut line;
/// the masked crop; the masked upper part. `cell` is the side of each tile.
pub fn contact_sheet(
    faces: &[(RgbImage, FaceSteps)],
    upper_size: [u32; 2],
    cell: u32,
) -> Result<RgbImage, MaskError> {
    let mut tiles = Vec::with_capacity(faces.len() * STEPS.len());
    let mut captions = Vec::with_capacity(tiles.capacity());
    for (original, steps) in faces {
        let mut source = original.clone();
        draw_box(&mut source, &steps.detection.bbox, BOX);
        let mut marked = steps.crop.clone();
        draw_box(&mut marked, &steps.landmark_box, LANDMARK_BOX);
        for p in steps.landmarks.points() {
            draw_dot(&mut marked, *p, POINT);
        }
        let w = marked.width() as f32;
        let y = steps.cut_row as f32 - 0.5;
        draw_line(&mut marked, Point2::new(0.0, y), Point2::new(w, y), CUT);
        tiles.extend([
            source,
            steps.crop.clone(),
            marked,
            steps.masked.image.clone(),
            steps.upper(&steps.masked.image, upper_size),
        ]);
        captions.extend(STEPS);
    }
    maskface_plot::image_grid(&tiles, &captions, STEPS.len() as u32, cell).map_err(|e| {
        MaskError::InvalidParameter {
            name: "preview",
            reason: e.to_string(),
        }
    })
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && x < i64::from(img.width()) && y < i64::from(img.height()) {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn draw_dot(img: &mut RgbImage, p: Point2, c: Rgb<u8>) {
    let (x, y) = (p.x.round() as i64, p.y.round() as i64);
    for (dx, dy) in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)] {
        put(img, x + dx, y + dy, c);
    }
}

fn draw_line(img: &mut RgbImage, a: Point2, b: Point2, c: Rgb<u8>) {
    let steps = (b.x - a.x).abs().max((b.y - a.y).abs()).ceil().max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        put(
            img,
            (a.x + t * (b.x - a.x)).round() as i64,
            (a.y + t * (b.y - a.y)).round() as i64,
            c,
        );
    }
}

fn draw_box(img: &mut RgbImage, b: &FaceBox, c: Rgb<u8>) {
    let corners = [
        Point2::new(b.x0, b.y0),
        Point2::new(b.x1, b.y0),
        Point2::new(b.x1, b.y1),
        Point2::new(b.x0, b.y1),
    ];
    for i in 0..4 {
        draw_line(img, corners[i], corners[(i + 1) % 4], c);
    }
}
