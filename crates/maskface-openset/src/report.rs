//! One model's open-set figures: the table the CLI prints and
//! `docs/results.md` quotes.

use std::fmt::Write as _;

use maskface_core::vector::argmax;
use serde::{Deserialize, Serialize};

use crate::{
    auroc, dir_at, dir_at_fpir, oscr, rank1, OpenSetError, OperatingPoint, PercentileRule, Probe,
    Score,
};

/// The FPIRs reported by default: 1%, 5% and 10%.
pub const REPORTED_FPIRS: [f64; 3] = [0.01, 0.05, 0.10];

/// The paper's percentile: the 15th percentile of the targets' confidence
/// scores against the 85th of the strangers'.
pub const PAPER_PERCENTILE: f64 = 15.0;

/// The paper's figures for that rule (ResNet50, 196 targets, 195 strangers):
/// target 15th percentile, stranger 85th percentile.
pub const PAPER_RULE: (f64, f64) = (49.61, 46.18);

/// What an evaluation reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSetParams {
    /// FPIRs at which DIR is reported, each in `[0, 1]`.
    pub fpirs: Vec<f64>,
    /// Percentile of the paper's rule, in `(0, 50)`.
    pub percentile: f64,
}

impl Default for OpenSetParams {
    fn default() -> Self {
        OpenSetParams {
            fpirs: REPORTED_FPIRS.to_vec(),
            percentile: PAPER_PERCENTILE,
        }
    }
}

/// DIR at one FPIR asked for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DirAtFpir {
    /// The FPIR asked for.
    pub target_fpir: f64,
    /// The threshold chosen on the strangers (accept scores above it), the
    /// FPIR reached there (at most `target_fpir`) and the DIR.
    #[serde(flatten)]
    pub point: OperatingPoint,
}

/// One model's open-set figures under one score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSetReport {
    /// The score.
    pub score: Score,
    /// Target probes (known people).
    pub targets: usize,
    /// Non-target probes (strangers).
    pub nontargets: usize,
    /// Closed-set rank-1 accuracy of the targets.
    pub rank1: f64,
    /// Area under the ROC curve of target against stranger scores.
    pub auroc: f64,
    /// Open-set classification rate (area under DIR against FPIR).
    pub oscr: f64,
    /// DIR at each FPIR asked for.
    pub operating_points: Vec<DirAtFpir>,
    /// The paper's percentile rule on these scores.
    pub percentile_rule: PercentileRule,
    /// Its percentile.
    pub percentile: f64,
    /// DIR and FPIR at the rule's threshold.
    pub rule_dir: f64,
    /// FPIR at the rule's threshold.
    pub rule_fpir: f64,
}

/// Probes from one row of logits (or similarities) per face: the named
/// identity is the arg-max (ties to the lower class), the score `score`'s.
pub fn probes(
    score: Score,
    logits: &[Vec<f32>],
    truths: &[Option<u32>],
) -> Result<Vec<Probe>, OpenSetError> {
    if logits.len() != truths.len() {
        return Err(OpenSetError::Data(format!(
            "{} rows of logits for {} probes",
            logits.len(),
            truths.len()
        )));
    }
    logits
        .iter()
        .zip(truths)
        .enumerate()
        .map(|(i, (row, &truth))| {
            let Some(best) = argmax(row) else {
                return Err(OpenSetError::Data(format!("probe {i} has no logits")));
            };
            Ok(Probe {
                score: score.of(row),
                predicted: best as u32,
                truth,
            })
        })
        .collect()
}

impl OpenSetParams {
    /// Evaluates probes scored with `score`.
    pub fn evaluate(&self, score: Score, probes: &[Probe]) -> Result<OpenSetReport, OpenSetError> {
        if let Some(f) = self.fpirs.iter().find(|f| !(0.0..=1.0).contains(*f)) {
            return Err(OpenSetError::InvalidParameter {
                name: "fpirs",
                reason: format!("{f} is not a rate in [0, 1]"),
            });
        }
        if !(self.percentile > 0.0 && self.percentile < 50.0) {
            return Err(OpenSetError::InvalidParameter {
                name: "percentile",
                reason: format!("{} is not in (0, 50)", self.percentile),
            });
        }
        let targets: Vec<f64> = probes
            .iter()
            .filter(|p| p.truth.is_some())
            .map(|p| p.score)
            .collect();
        let nontargets: Vec<f64> = probes
            .iter()
            .filter(|p| p.truth.is_none())
            .map(|p| p.score)
            .collect();
        if targets.is_empty() || nontargets.is_empty() {
            return Err(OpenSetError::Data(format!(
                "{} targets and {} strangers: both are needed",
                targets.len(),
                nontargets.len()
            )));
        }
        if probes.iter().any(|p| p.score.is_nan()) {
            return Err(OpenSetError::Data(format!(
                "a probe's {} score is NaN",
                score.name()
            )));
        }
        let operating_points = self
            .fpirs
            .iter()
            .map(|&target_fpir| DirAtFpir {
                target_fpir,
                point: dir_at_fpir(probes, target_fpir),
            })
            .collect();
        let rule = PercentileRule::calibrate(&targets, &nontargets, self.percentile);
        let at_rule = dir_at(probes, rule.threshold);
        Ok(OpenSetReport {
            score,
            targets: targets.len(),
            nontargets: nontargets.len(),
            rank1: rank1(probes),
            auroc: auroc(&targets, &nontargets),
            oscr: oscr(probes),
            operating_points,
            percentile_rule: rule,
            percentile: self.percentile,
            rule_dir: at_rule.dir,
            rule_fpir: at_rule.fpir,
        })
    }
}

/// A Markdown table of reports, one row per `(model, report)`: rank-1,
/// AUROC, DIR at each FPIR of the first report, OSCR and the percentile
/// rule's two percentiles and margin.
pub fn markdown_table(rows: &[(String, OpenSetReport)]) -> String {
    let Some((_, first)) = rows.first() else {
        return String::new();
    };
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    let mut out = String::from("| model | score | targets / strangers | rank-1 | AUROC |");
    for op in &first.operating_points {
        let _ = write!(
            out,
            " DIR@FPIR={} |",
            pct(op.target_fpir).replace(".0%", "%")
        );
    }
    let p = first.percentile;
    let _ = writeln!(
        out,
        " OSCR | target p{p} | stranger p{} | margin |",
        100.0 - p
    );
    out.push_str("| --- | --- | --- | --- | --- |");
    for _ in &first.operating_points {
        out.push_str(" --- |");
    }
    out.push_str(" --- | --- | --- | --- |\n");
    for (model, r) in rows {
        let _ = write!(
            out,
            "| {model} | {} | {} / {} | {} | {:.3} |",
            r.score.name(),
            r.targets,
            r.nontargets,
            pct(r.rank1),
            r.auroc
        );
        for op in &r.operating_points {
            let _ = write!(out, " {} |", pct(op.point.dir));
        }
        let _ = writeln!(
            out,
            " {:.3} | {} | {} | {} |",
            r.oscr,
            short(r.percentile_rule.target),
            short(r.percentile_rule.nontarget),
            short(r.percentile_rule.margin)
        );
    }
    out
}

/// Four significant digits, without an exponent for everyday magnitudes.
fn short(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(score: f64, predicted: u32, truth: Option<u32>) -> Probe {
        Probe {
            score,
            predicted,
            truth,
        }
    }

    #[test]
    fn probes_take_the_arg_max_and_the_score() {
        let p = probes(
            Score::MaxLogit,
            &[vec![0.0, 3.0, 1.0], vec![2.0, 2.0]],
            &[Some(1), None],
        )
        .unwrap();
        assert_eq!(p[0], probe(3.0, 1, Some(1)));
        assert_eq!(p[1], probe(2.0, 0, None));
        assert!(probes(Score::MaxLogit, &[vec![]], &[None]).is_err());
        assert!(probes(Score::MaxLogit, &[vec![1.0]], &[]).is_err());
    }

    #[test]
    fn report_by_hand() {
        // Targets .9 (right) .8 (wrong) .7 (right) .4 (right);
        // strangers .85 .5 .3 .2.
        let p = vec![
            probe(0.9, 1, Some(1)),
            probe(0.8, 2, Some(3)),
            probe(0.7, 4, Some(4)),
            probe(0.4, 5, Some(5)),
            probe(0.85, 1, None),
            probe(0.5, 2, None),
            probe(0.3, 2, None),
            probe(0.2, 2, None),
        ];
        let params = OpenSetParams {
            fpirs: vec![0.0, 0.25],
            percentile: 25.0,
        };
        let r = params.evaluate(Score::MaxLogit, &p).unwrap();
        assert_eq!((r.targets, r.nontargets), (4, 4));
        assert_eq!(r.rank1, 0.75);
        // Targets above strangers in 4 + 3 + 3 + 2 of 16 pairs.
        assert_eq!(r.auroc, 0.75);
        assert_eq!(r.operating_points[0].point.dir, 0.25);
        assert_eq!(r.operating_points[1].point.threshold, 0.5);
        assert_eq!(r.operating_points[1].point.fpir, 0.25);
        // numpy: percentile([.4,.7,.8,.9], 25) = .625; percentile([.2,.3,.5,.85], 75) = .5875.
        assert!((r.percentile_rule.target - 0.625).abs() < 1e-12);
        assert!((r.percentile_rule.nontarget - 0.5875).abs() < 1e-12);
        // Threshold .60625: .9 and .7 right; the .85 stranger accepted.
        assert_eq!((r.rule_dir, r.rule_fpir), (0.5, 0.25));
        // report.json keeps one flat object per FPIR asked for.
        let json = serde_json::to_string(&r.operating_points[1]).unwrap();
        assert_eq!(
            json,
            r#"{"target_fpir":0.25,"threshold":0.5,"fpir":0.25,"dir":0.5}"#
        );
        let back: DirAtFpir = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r.operating_points[1]);
        let table = markdown_table(&[("toy".into(), r)]);
        assert!(table.contains("| toy | max_logit | 4 / 4 | 75.0% | 0.750 | 25.0% | 50.0% |"));
        assert!(table.contains("DIR@FPIR=25%"));
        assert!(table.contains("| 0.6250 | 0.5875 | 0.03750 |"), "{table}");
    }

    #[test]
    fn bad_evaluations_are_explained() {
        let only_targets = [probe(1.0, 0, Some(0))];
        let e = OpenSetParams::default()
            .evaluate(Score::MaxLogit, &only_targets)
            .unwrap_err();
        assert!(e.to_string().contains("0 strangers"), "{e}");
        let p = [probe(1.0, 0, Some(0)), probe(f64::NAN, 0, None)];
        assert!(OpenSetParams::default()
            .evaluate(Score::Energy, &p)
            .unwrap_err()
            .to_string()
            .contains("NaN"));
        let bad = OpenSetParams {
            fpirs: vec![1.5],
            percentile: 15.0,
        };
        assert!(bad.evaluate(Score::MaxLogit, &p).is_err());
    }
}
