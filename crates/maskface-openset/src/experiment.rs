//! The open-set test as `maskface openset` runs it, once the model has
//! scored every probe: each score's probes, report, histogram and curve,
//! and the files people read (`openset.md`, `report.json`, `roc.csv`,
//! `roc.png`, `det.png`, `scores_<score>.png`, `probes.csv`).

use std::path::Path;

use maskface_core::{save_image_atomic, write_atomic, Sample, Split};
use serde::Serialize;

use crate::{
    det_chart, dir_curve, markdown_table, probes, roc_chart, score_histogram, write_curves_csv,
    write_probes_csv, Curve, OpenSetError, OpenSetParams, OpenSetReport, Probe, Score, PAPER_RULE,
};

/// Where the strangers came from, as `report.json` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrangerSource {
    /// How many strangers were asked for.
    pub drawn: usize,
    /// The seed of the draw.
    pub seed: u64,
    /// The strangers' manifest.
    pub manifest: String,
    /// Whether they went through the targets' recorded pipeline.
    pub same_pipeline_as_targets: bool,
}

/// One open-set test: the model's logits for the targets and then the
/// strangers, and what the report names.
#[derive(Debug, Clone)]
pub struct OpenSetExperiment<'a> {
    /// The model's description (a table row's name).
    pub model: String,
    /// The model's file.
    pub model_file: String,
    /// The targets' manifest.
    pub targets_file: String,
    /// The split of the targets that is probed.
    pub split: Split,
    /// The target probes, in the order of the first rows of `logits`.
    pub targets: &'a [&'a Sample],
    /// The stranger probes, in the order of the last rows of `logits`.
    pub strangers: &'a [&'a Sample],
    /// Where the strangers came from.
    pub stranger_source: StrangerSource,
    /// One row of class scores per probe: the targets, then the strangers.
    pub logits: &'a [Vec<f32>],
    /// The scores evaluated, in the order of the table's rows.
    pub scores: &'a [Score],
    /// FPIRs and the percentile rule.
    pub params: OpenSetParams,
}

/// What an [`OpenSetExperiment`] measured.
#[derive(Debug, Clone)]
pub struct OpenSetOutcome {
    /// One report per score.
    pub reports: Vec<OpenSetReport>,
    /// The reports as a Markdown table (what `openset.md` holds).
    pub table: String,
}

#[derive(Serialize)]
struct StrangerSet<'a> {
    drawn: usize,
    probes: usize,
    seed: u64,
    manifest: &'a str,
    same_pipeline_as_targets: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    model: &'a str,
    model_file: &'a str,
    targets: &'a str,
    split: Split,
    strangers: StrangerSet<'a>,
    paper_rule: (f64, f64),
    reports: &'a [OpenSetReport],
}

fn write_error(path: &Path) -> impl FnOnce(maskface_core::CoreError) -> OpenSetError + '_ {
    move |source| OpenSetError::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl OpenSetExperiment<'_> {
    /// Evaluates every score and writes the files into `out` (made when
    /// missing).
    pub fn run(&self, out: &Path) -> Result<OpenSetOutcome, OpenSetError> {
        let (n_targets, n_strangers) = (self.targets.len(), self.strangers.len());
        if self.logits.len() != n_targets + n_strangers {
            return Err(OpenSetError::Data(format!(
                "{} rows of logits for {n_targets} targets and {n_strangers} strangers",
                self.logits.len()
            )));
        }
        if self.scores.is_empty() {
            return Err(OpenSetError::InvalidParameter {
                name: "scores",
                reason: "name at least one score".into(),
            });
        }
        let truths: Vec<Option<u32>> = self
            .targets
            .iter()
            .map(|s| Some(s.label))
            .chain(self.strangers.iter().map(|_| None))
            .collect();
        std::fs::create_dir_all(out).map_err(|e| OpenSetError::Write {
            path: out.to_path_buf(),
            source: maskface_core::CoreError::io(out, e),
        })?;

        let mut reports = Vec::new();
        let mut curves = Vec::new();
        let mut columns = Vec::new();
        for &score in self.scores {
            let p = probes(score, self.logits, &truths)?;
            reports.push(self.params.evaluate(score, &p)?);
            curves.push((score.name(), dir_curve(&p)));
            let (t, n): (Vec<&Probe>, Vec<&Probe>) = p.iter().partition(|q| q.truth.is_some());
            let values = |v: &[&Probe]| v.iter().map(|q| q.score).collect::<Vec<_>>();
            let path = out.join(format!("scores_{}.png", score.name()));
            save_image_atomic(
                &score_histogram(
                    &format!("{} of targets and strangers", score.name()),
                    &values(&t),
                    &values(&n),
                    40,
                )?,
                &path,
            )
            .map_err(write_error(&path))?;
            columns.push(p);
        }

        let named: Vec<Curve<'_>> = curves.iter().map(|(n, c)| (*n, c.as_slice())).collect();
        write_curves_csv(&out.join("roc.csv"), &named)?;
        let title = format!("{n_targets} targets, {n_strangers} strangers");
        let path = out.join("roc.png");
        save_image_atomic(
            &roc_chart(&format!("Open-set ROC: {title}"), &named)?,
            &path,
        )
        .map_err(write_error(&path))?;
        let path = out.join("det.png");
        save_image_atomic(&det_chart(&format!("DET: {title}"), &named)?, &path)
            .map_err(write_error(&path))?;
        write_probes_csv(
            &out.join("probes.csv"),
            self.targets,
            self.strangers,
            self.scores,
            &columns,
        )?;

        let table = markdown_table(
            &reports
                .iter()
                .map(|r| (self.model.clone(), r.clone()))
                .collect::<Vec<_>>(),
        );
        let path = out.join("openset.md");
        write_atomic(&path, |w| w.write_all(table.as_bytes())).map_err(write_error(&path))?;
        let report = Report {
            model: &self.model,
            model_file: &self.model_file,
            targets: &self.targets_file,
            split: self.split,
            strangers: StrangerSet {
                drawn: self.stranger_source.drawn,
                probes: n_strangers,
                seed: self.stranger_source.seed,
                manifest: &self.stranger_source.manifest,
                same_pipeline_as_targets: self.stranger_source.same_pipeline_as_targets,
            },
            paper_rule: PAPER_RULE,
            reports: &reports,
        };
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| OpenSetError::Data(format!("report.json: {e}")))?;
        let path = out.join("report.json");
        write_atomic(&path, |w| w.write_all(&json)).map_err(write_error(&path))?;
        Ok(OpenSetOutcome { reports, table })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample(identity: &str, label: u32) -> Sample {
        Sample::new(
            format!("{identity}/{identity}_0001.png"),
            identity,
            label,
            Split::Test,
        )
    }

    #[test]
    fn writes_every_file_and_the_report_the_table_shows() {
        let targets = [sample("A", 0), sample("B", 1)];
        let strangers = [sample("X", 0), sample("Y", 0)];
        let (t, s): (Vec<&Sample>, Vec<&Sample>) =
            (targets.iter().collect(), strangers.iter().collect());
        // Targets score high on their own class, strangers are flat.
        let logits = vec![
            vec![4.0, 0.0],
            vec![0.0, 5.0],
            vec![1.0, 1.2],
            vec![0.9, 1.0],
        ];
        let dir = tempfile::tempdir().unwrap();
        let outcome = OpenSetExperiment {
            model: "toy".into(),
            model_file: "model.json".into(),
            targets_file: "targets.csv".into(),
            split: Split::Test,
            targets: &t,
            strangers: &s,
            stranger_source: StrangerSource {
                drawn: 2,
                seed: 7,
                manifest: "strangers.csv".into(),
                same_pipeline_as_targets: true,
            },
            logits: &logits,
            scores: &[Score::MaxLogit, Score::Confidence],
            params: OpenSetParams {
                fpirs: vec![0.5],
                percentile: 15.0,
            },
        }
        .run(dir.path())
        .unwrap();
        assert_eq!(outcome.reports.len(), 2);
        // Perfect separation under max-logit: every target named at any FPIR.
        assert_eq!(outcome.reports[0].auroc, 1.0);
        assert!(outcome.table.contains("| toy | max_logit |"));
        for f in [
            "report.json",
            "openset.md",
            "roc.csv",
            "roc.png",
            "det.png",
            "probes.csv",
            "scores_max_logit.png",
            "scores_confidence.png",
        ] {
            assert!(dir.path().join(f).is_file(), "{f} missing");
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["strangers"]["probes"], 2);
        assert_eq!(report["strangers"]["seed"], 7);
        assert_eq!(report["reports"].as_array().unwrap().len(), 2);
        let probes = std::fs::read_to_string(dir.path().join("probes.csv")).unwrap();
        assert_eq!(probes.lines().count(), 5);
    }

    #[test]
    fn logits_that_do_not_match_the_probes_are_refused() {
        let targets = [sample("A", 0)];
        let t: Vec<&Sample> = targets.iter().collect();
        let err = OpenSetExperiment {
            model: "toy".into(),
            model_file: String::new(),
            targets_file: String::new(),
            split: Split::Test,
            targets: &t,
            strangers: &[],
            stranger_source: StrangerSource {
                drawn: 0,
                seed: 0,
                manifest: String::new(),
                same_pipeline_as_targets: false,
            },
            logits: &[],
            scores: &[Score::MaxLogit],
            params: OpenSetParams {
                fpirs: vec![0.01],
                percentile: 15.0,
            },
        }
        .run(Path::new("/nonexistent"))
        .unwrap_err();
        assert!(err.to_string().contains("0 rows of logits for 1 targets"));
    }
}
