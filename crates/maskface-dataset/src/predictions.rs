//! What a closed-set evaluation answered for each test face, written for
//! people to read: `predictions.csv` (one row per face) and `confusion.png`.

#[cfg(feature = "plot")]
use std::path::Path;

use maskface_core::Sample;
#[cfg(feature = "plot")]
use maskface_core::{save_image_atomic, write_atomic};
#[cfg(feature = "plot")]
use maskface_plot::ConfusionChart;

#[cfg(feature = "plot")]
use crate::DatasetError;

/// One test face's answer: a class (or `None`, rejected) and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// The predicted label.
    pub predicted: Option<u32>,
    /// The winning score (similarity, logit, or minus the distance).
    pub score: f64,
}

/// `counts[true][predicted]`; rejected faces are left out.
pub fn confusion_counts(classes: usize, samples: &[&Sample], answers: &[Answer]) -> Vec<Vec<u32>> {
    let mut counts = vec![vec![0u32; classes]; classes];
    for (s, a) in samples.iter().zip(answers) {
        if let Some(p) = a.predicted {
            if let Some(cell) = counts
                .get_mut(s.label as usize)
                .and_then(|r| r.get_mut(p as usize))
            {
                *cell += 1;
            }
        }
    }
    counts
}

/// Writes `predictions.csv` (path, identity, label, the answer, whether it
/// is right, its score) and `confusion.png` (titled `title`) into `out`;
/// `answers[i]` is the answer for `samples[i]`, `classes[label]` a label's
/// name. Feature `plot`.
#[cfg(feature = "plot")]
pub fn write_predictions(
    out: &Path,
    title: &str,
    classes: &[String],
    samples: &[&Sample],
    answers: &[Answer],
) -> Result<(), DatasetError> {
    if samples.len() != answers.len() {
        return Err(DatasetError::InvalidParameter {
            name: "answers",
            reason: format!("{} test faces but {} answers", samples.len(), answers.len()),
        });
    }
    let name = |label: Option<u32>| {
        label
            .and_then(|l| classes.get(l as usize))
            .map_or("unknown", String::as_str)
    };
    let mut text = String::from("path,identity,label,predicted,predicted_identity,correct,score\n");
    for (s, a) in samples.iter().zip(answers) {
        text.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            s.path.display(),
            s.identity,
            s.label,
            a.predicted.map_or(String::new(), |p| p.to_string()),
            name(a.predicted),
            u8::from(a.predicted == Some(s.label)),
            a.score
        ));
    }
    write_atomic(&out.join("predictions.csv"), |w| {
        w.write_all(text.as_bytes())
    })?;
    let counts = confusion_counts(classes.len(), samples, answers);
    let correct: u32 = (0..classes.len()).map(|i| counts[i][i]).sum();
    let chart = ConfusionChart::new(format!("{title}: {correct}/{} right", samples.len()))
        .classes(classes.to_vec())
        .counts(counts);
    save_image_atomic(&chart.render(1000, 1000)?, &out.join("confusion.png"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn counts_rows_by_truth_and_columns_by_answer() {
        let s = |label| {
            Sample::new(
                format!("{label}.png"),
                format!("p{label}"),
                label,
                maskface_core::Split::Test,
            )
        };
        let samples = [s(0), s(0), s(1), s(1)];
        let refs: Vec<&Sample> = samples.iter().collect();
        let a = |p| Answer {
            predicted: p,
            score: 0.5,
        };
        let answers = [a(Some(0)), a(Some(1)), a(Some(1)), a(None)];
        assert_eq!(
            confusion_counts(2, &refs, &answers),
            vec![vec![1, 1], vec![0, 1]]
        );
        #[cfg(feature = "plot")]
        {
            let dir = tempfile::tempdir().unwrap();
            let classes = vec!["p0".to_string(), "p1".to_string()];
            write_predictions(dir.path(), "t", &classes, &refs, &answers).unwrap();
            let csv = std::fs::read_to_string(dir.path().join("predictions.csv")).unwrap();
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(lines[2], "0.png,p0,0,1,p1,0,0.5");
            assert_eq!(lines[4], "1.png,p1,1,,unknown,0,0.5");
            assert!(dir.path().join("confusion.png").exists());
            assert!(write_predictions(dir.path(), "t", &classes, &refs, &answers[..3]).is_err());
        }
    }
}
