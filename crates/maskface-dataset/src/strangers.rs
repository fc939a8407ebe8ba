//! Non-target probes for open-set tests: images of people outside a
//! gallery, drawn with a seed.

use std::collections::BTreeSet;

use maskface_core::{rng_for, Manifest, Sample, Split, Stage};
use rand::Rng;

use crate::{DatasetError, LfwIndex, TOOL};

/// How many stranger images an open-set test draws unless told otherwise
/// (the paper drew 195).
pub const DEFAULT_STRANGERS: usize = 1000;

/// Draws `count` images of people not in `exclude` ("strangers").
///
/// Every eligible person (any number of images) is shuffled with
/// [`maskface_core::rng_for`]`(seed, "strangers")`, and so is each person's
/// image list; images are then taken one per person in the shuffled order,
/// a second round taking a second image, and so on. So the strangers are as
/// many different people as the count allows, and a seed gives the same
/// images on every platform. Labels number the drawn people `0..` in name
/// order (they name nobody in the gallery); the split is
/// [`Split::Test`]; samples are sorted by path.
pub fn draw_strangers(
    index: &LfwIndex,
    exclude: &BTreeSet<String>,
    count: usize,
    seed: u64,
) -> Result<Manifest, DatasetError> {
    let mut people: Vec<Vec<&std::path::Path>> = index
        .identities
        .iter()
        .filter(|i| !exclude.contains(&i.name))
        .map(|i| i.images.iter().map(|p| p.as_path()).collect())
        .collect();
    let available: usize = people.iter().map(Vec::len).sum();
    if count == 0 || count > available {
        return Err(DatasetError::InvalidParameter {
            name: "strangers",
            reason: format!(
                "{count} strangers asked for; {available} images of {} people outside the gallery",
                people.len()
            ),
        });
    }
    let mut rng = rng_for(seed, "strangers");
    shuffle(&mut people, &mut rng);
    for images in &mut people {
        shuffle(images, &mut rng);
    }
    let mut drawn: Vec<&std::path::Path> = Vec::with_capacity(count);
    let mut round = 0;
    while drawn.len() < count {
        for images in &people {
            if drawn.len() == count {
                break;
            }
            if let Some(p) = images.get(round) {
                drawn.push(p);
            }
        }
        round += 1;
    }
    drawn.sort();
    let names: BTreeSet<&str> = drawn.iter().filter_map(|p| person_of(p)).collect();
    let label_of = |p: &std::path::Path| {
        person_of(p)
            .and_then(|n| names.iter().position(|m| *m == n))
            .unwrap_or(0) as u32
    };
    let mut manifest = Manifest::new(&index.root);
    manifest.samples = drawn
        .iter()
        .map(|p| {
            Sample::new(
                p.to_path_buf(),
                person_of(p).unwrap_or_default(),
                label_of(p),
                Split::Test,
            )
        })
        .collect();
    manifest.info.stages.push(Stage {
        step: "strangers".into(),
        tool: TOOL.into(),
        params: serde_json::json!({
            "source_root": index.root.display().to_string(),
            "count": count,
            "seed": seed,
            "excluded_identities": exclude.len(),
            "people": names.len(),
        }),
    });
    Ok(manifest)
}

/// The person's folder name of an LFW-relative path.
fn person_of(p: &std::path::Path) -> Option<&str> {
    p.parent()
        .and_then(|d| d.to_str())
        .filter(|s| !s.is_empty())
}

fn shuffle<T>(v: &mut [T], rng: &mut impl Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::test_index as index;
    use std::path::PathBuf;

    #[test]
    fn strangers_avoid_the_gallery_and_spread_over_people() {
        let idx = index(&[("A", 30), ("B", 1), ("C", 2), ("D", 5), ("E", 1)]);
        let gallery: BTreeSet<String> = ["A".to_string()].into();
        let m = draw_strangers(&idx, &gallery, 4, 7).unwrap();
        assert_eq!(m.samples.len(), 4);
        // One image of each of the four other people before any second one.
        assert_eq!(m.identities(), vec!["B", "C", "D", "E"]);
        assert!(m.samples.iter().all(|s| s.split == Split::Test));
        assert_eq!(
            m.samples.iter().map(|s| s.label).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // A second round: 6 images, two people give a second one.
        let m6 = draw_strangers(&idx, &gallery, 6, 7).unwrap();
        let counts = m6.counts_per_identity();
        assert_eq!(counts.values().sum::<usize>(), 6);
        assert!(counts.values().all(|&c| c <= 2));
        assert_eq!(counts["B"], 1);
        // Same seed, same images; another seed, another draw.
        assert_eq!(m6, draw_strangers(&idx, &gallery, 6, 7).unwrap());
        let draws: BTreeSet<Vec<PathBuf>> = (0..10)
            .map(|s| {
                draw_strangers(&idx, &gallery, 6, s)
                    .unwrap()
                    .samples
                    .into_iter()
                    .map(|x| x.path)
                    .collect()
            })
            .collect();
        assert!(draws.len() > 1);
    }

    #[test]
    fn too_many_strangers_is_explained() {
        let idx = index(&[("A", 3), ("B", 2)]);
        let gallery: BTreeSet<String> = ["A".to_string()].into();
        let e = draw_strangers(&idx, &gallery, 3, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 images of 1 people"), "{e}");
        assert!(draw_strangers(&idx, &gallery, 0, 0).is_err());
        assert_eq!(
            draw_strangers(&idx, &gallery, 2, 0).unwrap().samples.len(),
            2
        );
    }
}
