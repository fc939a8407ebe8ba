//! Eigenfaces from start to finish on four people: fit the PCA on all but
//! each person's last photo, classify the last photos by the nearest class
//! mean (cosine), save the model as JSON and, with the `plot` feature (on by
//! default), the mean face and the eigenfaces as a PNG. The photos are 48 x 48
//! crops of real LFW photos kept with this example.
//!
//! ```text
//! cargo run -p maskface-eigen --example eigenfaces_tiny -- [OUT_DIR]
//! ```
//! Default OUT_DIR: `maskface-eigen-example` in the system's temporary folder.

use std::path::PathBuf;

use maskface_core::{load_rgb, Classifier};
use maskface_eigen::{
    image::RgbImage, Components, EigenModel, Eigenfaces, Fit, Metric, NearestParams, PcaParams,
    Preprocess, Rule,
};

type Error = Box<dyn std::error::Error>;

/// Every person's photos, in name order: (name, photos).
fn people(root: &std::path::Path) -> Result<Vec<(String, Vec<RgbImage>)>, Error> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        let photos = files
            .iter()
            .map(|f| load_rgb(f))
            .collect::<Result<_, _>>()?;
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        out.push((name.unwrap_or_default(), photos));
    }
    Ok(out)
}

fn main() -> Result<(), Error> {
    let out = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("maskface-eigen-example"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&out)?;
    let people = people(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/lfw-tiny"))?;

    // The last photo of each person is held out for the test.
    let (mut train, mut labels, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (label, (_, photos)) in people.iter().enumerate() {
        let (last, rest) = photos.split_last().ok_or("a person without photos")?;
        train.extend(rest.iter().cloned());
        labels.extend(std::iter::repeat_n(label as u32, rest.len()));
        test.push((label, last.clone()));
    }

    let preprocess = Preprocess {
        size: [32, 32],
        equalize: true,
    };
    let eigenfaces = Eigenfaces::fit(preprocess, &PcaParams::new(Components::Count(6)), &train)?;
    let nearest = NearestParams {
        rule: Rule::NearestMean,
        metric: Metric::Cosine,
        threshold: None,
    }
    .fit((&eigenfaces.project(&train)?, &labels[..]))?;
    let names = people.iter().map(|(n, _)| n.clone()).collect();
    let model = EigenModel::new(names, eigenfaces, nearest)?;
    println!("{} on {} photos", model.describe(), train.len());

    let faces: Vec<RgbImage> = test.iter().map(|(_, f)| f.clone()).collect();
    let mut right = 0;
    for ((truth, _), guess) in test.iter().zip(model.predict(&faces)?) {
        right += usize::from(*truth == guess as usize);
        println!(
            "  {}'s last photo -> {}",
            model.classes[*truth], model.classes[guess as usize]
        );
    }
    // Two or three photos a person are far fewer than Eigenfaces want.
    println!("{right} of {} named correctly", test.len());

    model.save(&out.join("model.json"))?;
    println!("wrote {}", out.join("model.json").display());
    #[cfg(feature = "plot")]
    {
        let grid = maskface_eigen::eigenface_grid(&model.eigenfaces.pca, preprocess.size, 6)?;
        maskface_core::save_image_atomic(&grid, &out.join("eigenfaces.png"))?;
        println!("wrote {}", out.join("eigenfaces.png").display());
    }
    Ok(())
}
