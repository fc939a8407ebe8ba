//! The class names a manifest's labels stand for.

use maskface_core::Manifest;

use crate::DatasetError;

/// The class names of a manifest by label: `names[label]` is the identity
/// of every sample with that label. Every label `0..n` must be used, and by
/// one identity only, as the classifiers fitted on the manifest assume.
pub fn class_names(manifest: &Manifest) -> Result<Vec<String>, DatasetError> {
    let mut names: Vec<Option<String>> = Vec::new();
    for s in &manifest.samples {
        let i = s.label as usize;
        if names.len() <= i {
            names.resize(i + 1, None);
        }
        match &names[i] {
            Some(n) if *n != s.identity => {
                return Err(DatasetError::Labels(format!(
                    "label {} names both `{n}` and `{}` in the manifest",
                    s.label, s.identity
                )))
            }
            _ => names[i] = Some(s.identity.clone()),
        }
    }
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            n.ok_or_else(|| DatasetError::Labels(format!("no image has label {i} in the manifest")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use maskface_core::{Sample, Split};

    fn manifest(rows: &[(&str, u32)]) -> Manifest {
        let mut m = Manifest::new(".");
        for (i, (who, label)) in rows.iter().enumerate() {
            m.samples
                .push(Sample::new(format!("{i}.png"), *who, *label, Split::Train));
        }
        m
    }

    #[test]
    fn names_by_label_and_refuses_gaps_and_clashes() {
        let names = class_names(&manifest(&[("b", 1), ("a", 0), ("b", 1)])).unwrap();
        assert_eq!(names, ["a", "b"]);
        let gap = class_names(&manifest(&[("b", 1)])).unwrap_err();
        assert_eq!(gap.to_string(), "no image has label 0 in the manifest");
        let clash = class_names(&manifest(&[("a", 0), ("b", 0)])).unwrap_err();
        assert!(clash.to_string().contains("names both `a` and `b`"));
    }
}
