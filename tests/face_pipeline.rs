//! `FacePipeline` on the fixture photos: mirror embeddings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use maskface::core::vector::{dot, l2_normalized};
use maskface::nets::face_resnet::DLIB_RESNET_FILE;
use maskface::recognize::image::imageops::flip_horizontal;
use maskface::recognize::FacePipeline;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(&l2_normalized(a), &l2_normalized(b))
}

/// With `mirror` on, a face and its mirror image embed alike (the sum of
/// the two is symmetric); with it off they do not quite, and the mirrored
/// embedding stays close to the plain one.
#[test]
fn mirror_embeddings_do_not_depend_on_which_way_the_face_is_turned() {
    let Some(models) = common::models() else {
        return;
    };
    let mut pipeline = FacePipeline::load(&models, DLIB_RESNET_FILE).unwrap();
    assert!(!pipeline.mirror, "off unless asked for");
    let chip = pipeline
        .chip(&common::fixtures_lfw().join("Aaron_Peirsol/Aaron_Peirsol_0001.jpg"))
        .unwrap();
    let flipped = flip_horizontal(&chip);
    let plain = pipeline
        .embed_chips(&[chip.clone(), flipped.clone()])
        .unwrap();
    let turned = cosine(&plain[0], &plain[1]);
    assert!(turned < 0.999, "{turned}");
    pipeline.mirror = true;
    let both = pipeline.embed_chips(&[chip.clone(), flipped]).unwrap();
    assert!(cosine(&both[0], &both[1]) > 0.99999);
    assert!(cosine(&both[0], &plain[0]) > 0.95);
    // One chip at a time gives the same as a batch.
    let one = pipeline.embed(&chip).unwrap();
    assert!(cosine(&one, &both[0]) > 0.99999);
}
