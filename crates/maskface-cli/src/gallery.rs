use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_nets::face_resnet::DLIB_RESNET_FILE;
use maskface_recognize::{
    file_sha256, FacePipeline, Gallery, DEFAULT_THRESHOLD, DEFAULT_TUNED_THRESHOLD,
};

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
    let asked = match &args.weights {
        Some(w) => Some(
            std::fs::canonicalize(w)
                .with_context(|| format!("{}: the fine-tuned weights", w.display()))?
                .display()
                .to_string(),
        ),
        None => None,
    };
    let gallery_exists = args.gallery.exists();
    let mut gallery = if gallery_exists {
        Gallery::load(&args.gallery)?
    } else {
        let embedder = asked.clone().unwrap_or_else(|| DLIB_RESNET_FILE.into());
        let threshold = args.threshold.unwrap_or(if asked.is_some() {
            DEFAULT_TUNED_THRESHOLD
        } else {
            DEFAULT_THRESHOLD
        });
        let mut g = Gallery::new(embedder, threshold);
        if let Some(w) = &args.weights {
            g.embedder_sha256 = Some(file_sha256(w)?);
        }
        g
    };
    if let Some(asked) = asked.filter(|a| *a != gallery.embedder) {
        bail!(
            "{} holds embeddings of {}, not of {asked}",
            args.gallery.display(),
            gallery.embedder
        );
    }
    if gallery_exists && args.threshold.is_some_and(|t| t != gallery.threshold) {
        bail!(
            "{} was made with threshold {}; --threshold is only used when a gallery is made",
            args.gallery.display(),
            gallery.threshold
        );
    }
    // A new gallery's digest was just taken from the weights: no need to
    // read them again to check it.
    let pipeline = if gallery_exists {
        FacePipeline::for_gallery(&gallery, &args.gallery, &args.models)?
    } else {
        FacePipeline::load(&args.models, &gallery.embedder)?
    };
    let templates = args
        .images
        .iter()
        .map(|path| pipeline.template(path))
        .collect::<Result<Vec<_>, _>>()?;
    let done = gallery.enroll(&args.name, templates)?;
    gallery.save(&args.gallery)?;
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
