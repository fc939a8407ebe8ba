use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use maskface_core::{write_atomic, Manifest, DEFAULT_SEED};
use maskface_dataset::{draw_strangers, scan_lfw, Verify, DEFAULT_STRANGERS};
use maskface_mask::PaperColor;
use maskface_recognize::{
    embedder_name, install_embedder, Calibration, FacePipeline, MaskClassifierParams,
    MaskedEnrollment, MaskedEnrollmentReport, DEFAULT_THRESHOLD, DEFAULT_TUNED_THRESHOLD,
    MASK_CLASSIFIER_FILE,
};

use crate::generate::{mask_name, mask_spec, MaskArg};

#[derive(Args, Debug, Clone)]
pub struct HeldoutArgs {
    /// The LFW-style folder.
    #[arg(long, default_value = "data/lfw")]
    pub lfw: PathBuf,

    /// A manifest of the known people (any of `maskface run`'s): their
    /// identities are kept out of the stranger draw, as `openset` and
    /// `train` keep them out.
    #[arg(long, default_value = "data/curated/manifest.csv")]
    pub targets: PathBuf,

    /// Size of the stranger draw whose people the protocol uses: `train`
    /// keeps this draw (with --seed) out of training, so these people are
    /// unseen by a network it fine-tuned.
    #[arg(long, default_value_t = DEFAULT_STRANGERS)]
    pub strangers: usize,

    /// Seed of the stranger draw, of who is enrolled, of which photos
    /// enroll and of the masks.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Masks painted on the probes, one run each (comma-separated).
    /// `held-out`: cloth patterns that `--mask family` training never
    /// paints.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "held-out,family"
    )]
    pub masks: Vec<MaskArg>,

    /// Also probe with the photos as they are (no mask), reported as mask
    /// `none`: what the masked templates cost unmasked faces.
    #[arg(long)]
    pub unmasked_probes: bool,

    /// Fine-tuned weights (`maskface train`'s embedder.bpk); default:
    /// dlib's network.
    #[arg(long)]
    pub weights: Option<PathBuf>,

    /// The gallery's threshold [default: 0.97 with dlib's network, 0.74
    /// with fine-tuned weights, as `enroll` sets it].
    #[arg(long)]
    pub threshold: Option<f32>,

    /// Unmasked photos enrolled per person.
    #[arg(long, default_value_t = MaskedEnrollment::default().enroll_images)]
    pub enroll_images: usize,

    /// Synthetic masked templates enrolled per photo beside the photo's
    /// own (masks of the training family, never a held-out style).
    #[arg(long, default_value_t = MaskedEnrollment::default().masked_templates)]
    pub masked_templates: usize,

    /// Embed faces without their mirror images (galleries that `enroll`
    /// makes embed both).
    #[arg(long)]
    pub no_mirror: bool,

    /// Masked probes per person, at most.
    #[arg(long, default_value_t = MaskedEnrollment::default().max_probes)]
    pub max_probes: usize,

    /// Folder with MTCNN, the landmark model and dlib's ResNet.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,

    /// With --weights: install them in --models as the network new
    /// galleries use by default (maskface_embedder.bpk), calibrated at
    /// the threshold that gives --install-fpir on the first of --masks
    /// (and, with --unmasked-probes, on unmasked faces), and the mask
    /// classifier (mask_classifier.json) that picks between the two.
    #[arg(long, requires = "weights")]
    pub install: bool,

    /// The false-positive identification rate the installed network's
    /// threshold is set at.
    #[arg(long, default_value_t = 0.01)]
    pub install_fpir: f64,

    /// Output folder: heldout.md, people.json, report-<mask>.json,
    /// mask_classifier.json.
    #[arg(long, default_value = "data/heldout")]
    pub out: PathBuf,
}

/// One report per mask.
pub fn run(args: &HeldoutArgs) -> Result<Vec<MaskedEnrollmentReport>> {
    if args.masks.is_empty() {
        bail!("--masks: name at least one mask");
    }
    let targets = Manifest::read(&args.targets)
        .with_context(|| format!("reading {}", args.targets.display()))?;
    let spinner = crate::progress::spinner("scanning");
    let index = scan_lfw(&args.lfw, Verify::Header)
        .with_context(|| format!("scanning {}", args.lfw.display()))?;
    spinner.finish_and_clear();
    let known: BTreeSet<String> = targets.identities().into_iter().collect();
    let unseen: BTreeSet<String> = draw_strangers(&index, &known, args.strangers, args.seed)?
        .identities()
        .into_iter()
        .collect();
    let protocol = MaskedEnrollment {
        enroll_images: args.enroll_images,
        max_probes: args.max_probes,
        seed: args.seed,
        masked_templates: args.masked_templates,
    };
    let people = protocol.select(&index, &unseen)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let json = serde_json::to_vec_pretty(&people)?;
    write_atomic(&args.out.join("people.json"), |w| w.write_all(&json))?;

    let embedder = match &args.weights {
        Some(w) => std::fs::canonicalize(w)
            .with_context(|| format!("the fine-tuned weights {}", w.display()))?
            .display()
            .to_string(),
        None => embedder_name(None),
    };
    let threshold = args.threshold.unwrap_or(if args.weights.is_some() {
        DEFAULT_TUNED_THRESHOLD
    } else {
        DEFAULT_THRESHOLD
    });
    let mut pipeline = FacePipeline::load(&args.models, &embedder)?;
    pipeline.mirror = !args.no_mirror;
    // The mask classifier is fitted on the draw's other people (one photo
    // each), so the probes measure it on faces and mask styles it never saw.
    let others = protocol.others(&index, &unseen, &people);
    let classifier = if others.is_empty() {
        eprintln!(
            "note: every person of the draw is in the protocol: no one left to fit the mask classifier on"
        );
        None
    } else {
        let pb = crate::progress::bar(others.len(), "mask classifier");
        let fitted = protocol.fit_mask_classifier(
            &MaskClassifierParams::default(),
            &pipeline,
            &args.lfw,
            &others,
            &|n| pb.inc(n as u64),
        )?;
        pb.finish_and_clear();
        fitted.save(&args.out.join(MASK_CLASSIFIER_FILE))?;
        Some(fitted)
    };
    pipeline.mask_classifier = classifier.clone();
    let network = match &args.weights {
        Some(w) => w.display().to_string(),
        None => "dlib's network".into(),
    };
    let mut table = format!("{}\n", MaskedEnrollmentReport::TABLE_HEADER);
    let mut reports = Vec::new();
    // `None`: the probes as they are, when asked for.
    let conditions: Vec<Option<MaskArg>> = args
        .masks
        .iter()
        .map(|&m| Some(m))
        .chain(args.unmasked_probes.then_some(None))
        .collect();
    let photos: usize = people
        .enrolled
        .iter()
        .chain(&people.strangers)
        .map(|p| p.enroll.len() + p.probes.len())
        .sum();
    for mask in conditions {
        let name = mask.map_or_else(|| "none".to_string(), mask_name);
        let spec = mask.map(|m| mask_spec(m, &PaperColor::ALL));
        let pb = crate::progress::bar(photos, &name);
        let report = protocol.run(
            &pipeline,
            &embedder,
            &args.lfw,
            &people,
            spec.as_ref(),
            threshold,
            &|n| pb.inc(n as u64),
        )?;
        pb.finish_and_clear();
        report.write(&args.out.join(format!("report-{name}.json")))?;
        let row = report.table_row(&network, &name);
        println!("{row}");
        table.push_str(&row);
        table.push('\n');
        reports.push(report);
    }
    write_atomic(&args.out.join("heldout.md"), |w| {
        w.write_all(table.as_bytes())
    })?;
    if let (true, Some(weights), Some(first)) = (args.install, &args.weights, reports.first()) {
        let point = first.at_fpir(args.install_fpir);
        // Measured with --unmasked-probes: the last report.
        let unmasked = args
            .unmasked_probes
            .then(|| reports.last().map(|r| r.at_fpir(args.install_fpir)))
            .flatten();
        let calibration = Calibration {
            // The gallery accepts a similarity equal to its threshold; the
            // operating point accepts only those above it.
            threshold: (point.threshold as f32).next_up(),
            fpir: args.install_fpir,
            dir: point.dir,
            unmasked_threshold: unmasked.map(|p| (p.threshold as f32).next_up()),
            unmasked_dir: unmasked.map(|p| p.dir),
            protocol: format!(
                "maskface heldout: {} people outside training enrolled from {} unmasked photos, {} stranger probes, `{}` masks, seed {}",
                people.enrolled.len(),
                args.enroll_images,
                first.stranger_probes,
                mask_name(args.masks[0]),
                args.seed
            ),
            weights_sha256: String::new(),
        };
        let installed = install_embedder(weights, &args.models, &calibration)?;
        if let Some(c) = &classifier {
            c.save(&args.models.join(MASK_CLASSIFIER_FILE))?;
        }
        println!(
            "installed {} as {} (threshold {:.3}: {:.1}% of the masked probes named right at {:.1}% FPIR)",
            weights.display(),
            installed.display(),
            calibration.threshold,
            100.0 * point.dir,
            100.0 * args.install_fpir
        );
        if let (Some(t), Some(d)) = (calibration.unmasked_threshold, calibration.unmasked_dir) {
            println!(
                "  unmasked faces: threshold {t:.3} ({:.1}% of the unmasked probes named right)",
                100.0 * d
            );
        }
        if classifier.is_some() {
            println!(
                "  the mask classifier -> {}",
                args.models.join(MASK_CLASSIFIER_FILE).display()
            );
        }
    }
    println!(
        "{} people enrolled from {} unmasked photos each, {} strangers; people outside training (the {} strangers drawn with seed {}) -> {}",
        people.enrolled.len(),
        args.enroll_images,
        people.strangers.len(),
        args.strangers,
        args.seed,
        args.out.display()
    );
    Ok(reports)
}
