use std::collections::BTreeSet;

use maskface_core::{rng_for, Manifest, Sample, Split, Stage};
use rand::Rng;
use serde::Serialize;

use crate::{DatasetError, LfwIndex, TOOL};

/// Which identities a curated dataset keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "params", rename_all = "snake_case")]
pub enum Selection {
    /// Identities whose image count lies in `min..=max`; then, when `count`
    /// is given, that many of them drawn with `seed`.
    CountRange {
        /// Fewest images an identity may have.
        min: usize,
        /// Most images an identity may have.
        max: usize,
        /// How many identities to draw; `None` keeps every one in range.
        count: Option<usize>,
        /// Seed of the draw.
        seed: u64,
    },
    /// Exactly these identities.
    Names(Vec<String>),
}

impl Selection {
    /// The paper's choice: 50 identities with 20 to 80 images each, drawn with `seed`.
    pub fn paper(seed: u64) -> Self {
        Selection::CountRange {
            min: 20,
            max: 80,
            count: Some(50),
            seed,
        }
    }
}

/// Builds a manifest of the selected identities' images, labels `0..n` in
/// name order, split [`Split::Unassigned`].
///
/// The draw is a Fisher-Yates shuffle of the in-range names (sorted) driven
/// by [`maskface_core::rng_for`]`(seed, "select-identities")`, so a seed always gives the same people on
/// every platform.
pub fn curate(index: &LfwIndex, selection: &Selection) -> Result<Manifest, DatasetError> {
    let names = select_names(index, selection)?;
    let mut manifest = Manifest::new(&index.root);
    for (label, name) in names.iter().enumerate() {
        let ident = index
            .get(name)
            .ok_or_else(|| DatasetError::UnknownIdentity {
                name: name.clone(),
                root: index.root.clone(),
            })?;
        manifest.samples.extend(
            ident
                .images
                .iter()
                .map(|p| Sample::new(p.clone(), name.clone(), label as u32, Split::Unassigned)),
        );
    }
    manifest.info.stages.push(Stage {
        step: "curate".into(),
        tool: TOOL.into(),
        params: serde_json::json!({
            "source_root": index.root.display().to_string(),
            "selection": selection,
            "identities_scanned": index.identities.len(),
            "images_scanned": index.num_images(),
            "skipped": index.skipped.len(),
            "identities": names.len(),
            "images": manifest.samples.len(),
        }),
    });
    Ok(manifest)
}

fn select_names(index: &LfwIndex, selection: &Selection) -> Result<Vec<String>, DatasetError> {
    match selection {
        Selection::Names(names) => {
            if names.is_empty() {
                return Err(DatasetError::Selection("the list of names is empty".into()));
            }
            let unique: BTreeSet<&String> = names.iter().collect();
            if unique.len() != names.len() {
                return Err(DatasetError::Selection("a name is listed twice".into()));
            }
            for n in names {
                if index.get(n).is_none() {
                    return Err(DatasetError::UnknownIdentity {
                        name: n.clone(),
                        root: index.root.clone(),
                    });
                }
            }
            Ok(unique.into_iter().cloned().collect())
        }
        Selection::CountRange {
            min,
            max,
            count,
            seed,
        } => {
            if min > max {
                return Err(DatasetError::InvalidParameter {
                    name: "min-images",
                    reason: format!("min ({min}) is greater than max ({max})"),
                });
            }
            let mut in_range: Vec<String> = index
                .identities
                .iter()
                .filter(|i| (*min..=*max).contains(&i.images.len()))
                .map(|i| i.name.clone())
                .collect();
            let Some(count) = *count else {
                return Ok(in_range);
            };
            if count == 0 || count > in_range.len() {
                return Err(DatasetError::Selection(format!(
                    "{count} identities asked for, {} have {min}..={max} images",
                    in_range.len()
                )));
            }
            let mut rng = rng_for(*seed, "select-identities");
            for i in (1..in_range.len()).rev() {
                let j = rng.random_range(0..=i);
                in_range.swap(i, j);
            }
            in_range.truncate(count);
            in_range.sort();
            Ok(in_range)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::test_index as index;

    #[test]
    fn range_filters_and_seeded_draw_is_stable() {
        let idx = index(&[
            ("A", 1),
            ("B", 20),
            ("C", 80),
            ("D", 81),
            ("E", 30),
            ("F", 25),
        ]);
        let all = Selection::CountRange {
            min: 20,
            max: 80,
            count: None,
            seed: 0,
        };
        let m = curate(&idx, &all).unwrap();
        assert_eq!(m.identities(), vec!["B", "C", "E", "F"]);
        assert_eq!(m.samples.len(), 20 + 80 + 30 + 25);

        let two = |seed| Selection::CountRange {
            min: 20,
            max: 80,
            count: Some(2),
            seed,
        };
        let a = curate(&idx, &two(1)).unwrap().identities();
        assert_eq!(a, curate(&idx, &two(1)).unwrap().identities());
        assert_eq!(a.len(), 2);
        let distinct: BTreeSet<Vec<String>> = (0..20)
            .map(|s| curate(&idx, &two(s)).unwrap().identities())
            .collect();
        assert!(distinct.len() > 1, "seed must matter");
    }

    #[test]
    fn labels_follow_name_order() {
        let idx = index(&[("Zed", 2), ("Amy", 2)]);
        let m = curate(&idx, &Selection::Names(vec!["Zed".into(), "Amy".into()])).unwrap();
        assert_eq!(m.samples[0].identity, "Amy");
        assert_eq!(m.samples[0].label, 0);
        assert_eq!(m.samples[3].label, 1);
    }

    #[test]
    fn bad_selections_are_explained() {
        let idx = index(&[("A", 20)]);
        let e = curate(&idx, &Selection::Names(vec!["Nobody".into()])).unwrap_err();
        assert!(e.to_string().contains("Nobody"));
        let e = curate(&idx, &Selection::paper(0)).unwrap_err();
        assert!(
            e.to_string()
                .contains("50 identities asked for, 1 have 20..=80"),
            "{e}"
        );
    }
}
