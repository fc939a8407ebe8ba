use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use maskface_core::{write_atomic, FaceSelectionKind};
use maskface_nets::mtcnn::{CropConfig, CropOutput, Mtcnn, MtcnnConfig};
use maskface_nets::Backend;

// generate.rs names the library's choices by the options' former names;
// these go when it is rewritten on the library (issue 13).

#[derive(Args, Debug, Clone)]
pub struct DetectArgs {
    /// Images, or folders searched recursively for .jpg/.jpeg/.png/.bmp/.tif/.tiff/.gif/.webp
    /// files (links to folders are not followed).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Folder with pnet.pt, rnet.pt, onet.pt (filled by scripts/setup.sh).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// Where to write the detections (JSON: per image its size, every face's
    /// box, score and five landmarks, the chosen face, or the error).
    #[arg(long, default_value = "detections.json")]
    pub out: PathBuf,

    /// Also write the chosen face of each image, cropped with --margin and
    /// resized to --size, as PNG under this folder (same relative layout).
    #[arg(long)]
    pub crops: Option<PathBuf>,

    /// Margin around the face box, in pixels of the crop (the paper: 15).
    #[arg(long, default_value_t = 15)]
    pub margin: u32,

    /// Side of the square crop.
    #[arg(long, default_value_t = 160)]
    pub size: u32,

    /// Smallest face searched for, in pixels.
    #[arg(long, default_value_t = 20)]
    pub min_face: u32,

    /// Which face is chosen when an image has several.
    #[arg(long, value_enum, default_value_t = FaceSelectionKind::Center)]
    pub select: FaceSelectionKind,

    /// Images per forward pass (images of equal size are batched).
    #[arg(long, default_value_t = 16)]
    pub batch: usize,

    /// burn backend that runs the networks.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
}

pub fn run(args: &DetectArgs) -> Result<()> {
    let inputs = crate::inputs::image_files(&args.inputs)?;
    let backend = args.backend;
    let config = MtcnnConfig {
        min_face_size: args.min_face,
        selection: args.select.into(),
        batch_size: args.batch.max(1),
        ..MtcnnConfig::default()
    };
    let crop_config = CropConfig {
        margin: args.margin,
        size: args.size,
    };
    if args.margin >= args.size {
        bail!(
            "--margin {} must be smaller than --size {}",
            args.margin,
            args.size
        );
    }
    let mtcnn = Mtcnn::from_dir(&args.models, config, &backend.device()?)?;

    let pb = crate::progress::bar(inputs.len(), "detect");
    let crops = args.crops.as_deref().map(|dir| CropOutput {
        dir,
        config: crop_config,
    });
    let entries =
        mtcnn.detect_files(&inputs, args.batch.max(1) * 4, crops, &|n| pb.inc(n as u64))?;
    pb.finish_and_clear();
    let json = serde_json::to_vec_pretty(&entries)?;
    write_atomic(&args.out, |w| w.write_all(&json))?;
    let with_face = entries.iter().filter(|e| e.chosen.is_some()).count();
    let errors = entries.iter().filter(|e| e.error.is_some()).count();
    println!(
        "faces in {with_face} of {} images ({} without a face, {errors} errors) -> {}",
        entries.len(),
        entries.len() - with_face - errors,
        args.out.display()
    );
    Ok(())
}
