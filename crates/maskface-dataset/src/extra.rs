//! Extra training identities: people outside both a gallery and the
//! open-set strangers, whose faces teach a network more people than the
//! gallery holds.

use std::collections::BTreeSet;

use maskface_core::{Manifest, Sample, Split, Stage};

use crate::{DatasetError, LfwIndex, TOOL};

/// Everyone in `index` with at least `min_images` images who is not in
/// `exclude` (the gallery and the strangers an evaluation will use), with
/// their first `max_images` images in file-name order.
///
/// Labels number the people `0..` in name order; every sample is in
/// [`Split::Train`]. Nothing is random: the same index and exclusions give
/// the same manifest.
pub fn extra_identities(
    index: &LfwIndex,
    exclude: &BTreeSet<String>,
    min_images: usize,
    max_images: usize,
) -> Result<Manifest, DatasetError> {
    if min_images == 0 || max_images < min_images {
        return Err(DatasetError::InvalidParameter {
            name: "max_images",
            reason: format!("{min_images}..={max_images} images per person"),
        });
    }
    let mut people: Vec<_> = index
        .identities
        .iter()
        .filter(|i| i.images.len() >= min_images && !exclude.contains(&i.name))
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let mut manifest = Manifest::new(&index.root);
    for (label, person) in people.iter().enumerate() {
        let mut images = person.images.clone();
        images.sort();
        manifest.samples.extend(
            images
                .into_iter()
                .take(max_images)
                .map(|p| Sample::new(p, person.name.clone(), label as u32, Split::Train)),
        );
    }
    manifest.info.stages.push(Stage {
        step: "extra_identities".into(),
        tool: TOOL.into(),
        params: serde_json::json!({
            "source_root": index.root.display().to_string(),
            "min_images": min_images,
            "max_images": max_images,
            "excluded_identities": exclude.len(),
            "people": people.len(),
            "images": manifest.samples.len(),
        }),
    });
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::test_index as index;

    #[test]
    fn extra_identities_skip_the_excluded_and_the_single_image_people() {
        let idx = index(&[("A", 30), ("B", 1), ("C", 2), ("D", 5), ("E", 3)]);
        let exclude: BTreeSet<String> = ["A".to_string(), "E".to_string()].into();
        let m = extra_identities(&idx, &exclude, 2, 4).unwrap();
        assert_eq!(m.identities(), vec!["C", "D"]);
        assert_eq!(m.counts_per_identity()["D"], 4);
        assert_eq!(m.count(Split::Train), 6);
        let labels: BTreeSet<(String, u32)> = m
            .samples
            .iter()
            .map(|s| (s.identity.clone(), s.label))
            .collect();
        assert_eq!(labels, [("C".into(), 0), ("D".into(), 1)].into());
        assert_eq!(m, extra_identities(&idx, &exclude, 2, 4).unwrap());
        assert!(extra_identities(&idx, &exclude, 3, 2).is_err());
    }
}
