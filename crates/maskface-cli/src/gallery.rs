use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use maskface_recognize::{Enrollment, FacePipeline, Gallery};

#[derive(Args, Debug, Clone)]
pub struct EnrollArgs {
    /// The gallery file (made when missing).
    #[arg(long)]
    pub gallery: PathBuf,

    /// The person's name.
    #[arg(long)]
    pub name: String,

    /// Photos of the person (masked or not), one face each.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,

    /// Cosine similarity at or above which a face is a gallery person;
    /// used when the gallery is made [default: 0.97 with dlib's network,
    /// 0.74 with fine-tuned weights].
    #[arg(long)]
    pub threshold: Option<f32>,

    /// Fine-tuned weights (`maskface train`'s embedder.bpk) in place of
    /// dlib's network. A new gallery records them (by absolute path), and
    /// `identify` then uses them too; an existing gallery keeps the network
    /// it was made with.
    #[arg(long)]
    pub weights: Option<PathBuf>,

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct IdentifyArgs {
    /// The gallery file.
    #[arg(long)]
    pub gallery: PathBuf,

    /// Photos to identify.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,

    /// Folder with MTCNN, the landmark model and dlib's ResNet (the
    /// network itself is the one the gallery names).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
}

pub fn enroll(args: &EnrollArgs) -> Result<()> {
    // Read (and so check) the gallery before any work: a corrupt file is an
    // error and stays as it is.
    let mut enrollment = Enrollment::open(
        &args.gallery,
        &args.models,
        args.weights.as_deref(),
        args.threshold,
    )?;
    let done = enrollment.enroll(&args.name, &args.images)?;
    let gallery = &enrollment.gallery;
    println!(
        "{}: {} image(s) added, {} already enrolled; the gallery has {} people -> {}",
        args.name,
        done.added,
        done.already,
        gallery.people.len(),
        args.gallery.display()
    );
    Ok(())
}

pub fn identify(args: &IdentifyArgs) -> Result<()> {
    let gallery = Gallery::load(&args.gallery)?;
    let pipeline = FacePipeline::for_gallery(&gallery, &args.gallery, &args.models)?;
    for path in &args.images {
        let answer = match pipeline.chip(path) {
            Ok(chip) => {
                let id = gallery.identify(&pipeline.embed(&chip)?);
                let (nearest, score) = id.nearest.unwrap_or_default();
                match id.name {
                    Some(name) => format!(
                        "{name} (similarity {score:.3}, threshold {:.3})",
                        id.threshold
                    ),
                    None => format!(
                        "unknown (closest {nearest}, similarity {score:.3}, threshold {:.3})",
                        id.threshold
                    ),
                }
            }
            Err(e) => format!("error: {e}"),
        };
        println!("{}\t{answer}", path.display());
    }
    Ok(())
}
