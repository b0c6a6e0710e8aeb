//! Classification metrics over a run (written into `summary.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Column name used in the confusion matrix for parse failures.
pub const PARSE_FAILURE: &str = "<parse_failure>";

/// One prediction of a classification run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Predicted label; `None` when the answer failed to parse.
    pub predicted: Option<String>,
    /// Gold label.
    pub gold: String,
    /// Stated confidence that the prediction is correct.
    pub confidence: Option<f64>,
}

/// The label set of a classification task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSpec {
    /// Non-abstain classes.
    pub labels: Vec<String>,
    /// The positive (e.g. malicious) class.
    pub positive: String,
    /// The negative (e.g. benign) class.
    pub negative: String,
    /// The abstain label, if the task has one.
    pub abstain: Option<String>,
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// TP / (TP + FP), 0 when undefined.
    pub precision: f64,
    /// TP / (TP + FN), 0 when undefined.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Number of gold items of this class among non-abstained answers.
    pub support: usize,
}

/// Metrics of a classification run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Number of predictions.
    pub n: usize,
    /// Share of predictions that failed to parse.
    pub parse_failure_rate: f64,
    /// Correct / n (parse failures and abstains count as wrong).
    pub accuracy: f64,
    /// Per-class precision/recall/F1 over non-abstained answers.
    pub per_class: BTreeMap<String, ClassScores>,
    /// gold → predicted (including abstain and `<parse_failure>`) → count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Abstains / answers with a label.
    pub abstain_rate: f64,
    /// Non-abstained answers / n.
    pub coverage: f64,
    /// Accuracy over non-abstained answers.
    pub accuracy_non_abstained: f64,
    /// Expected calibration error (10 equal-width bins) over non-abstained answers.
    pub ece: f64,
    /// Mean squared error of confidence against correctness over non-abstained answers.
    pub brier: f64,
    /// TP / (TP + FN) for the positive class.
    pub tpr: f64,
    /// FP / (FP + TN).
    pub fpr: f64,
    /// FN / (TP + FN).
    pub fnr: f64,
    /// 10·FN + 1·FP.
    pub cost: f64,
    /// 1 − cost / (10 · |non-abstained|), 1 when there are none.
    pub cost_weighted_accuracy: f64,
    /// Area under the risk–coverage curve over confidence thresholds 0, 0.01, …, 1.
    pub aurc: f64,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Expected calibration error of `(confidence, correct)` pairs with 10 equal-width bins.
pub fn ece(items: &[(f64, bool)]) -> f64 {
    if items.is_empty() {
        return 0.0;
    }
    let mut bins = vec![(0usize, 0usize, 0.0f64); 10];
    for &(c, ok) in items {
        let idx = ((c.clamp(0.0, 1.0) * 10.0).floor() as usize).min(9);
        bins[idx].0 += 1;
        bins[idx].1 += usize::from(ok);
        bins[idx].2 += c;
    }
    let total = items.len() as f64;
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|&(n, ok, sum)| {
            let nf = n as f64;
            nf / total * (ok as f64 / nf - sum / nf).abs()
        })
        .sum()
}

/// Area under the risk–coverage curve of `(confidence, correct)` pairs.
pub fn aurc(items: &[(f64, bool)]) -> f64 {
    if items.is_empty() {
        return 0.0;
    }
    let point = |tau: f64| {
        let covered: Vec<bool> = items
            .iter()
            .filter(|(c, _)| *c >= tau)
            .map(|(_, ok)| *ok)
            .collect();
        let cov = covered.len() as f64 / items.len() as f64;
        let errors = covered.iter().filter(|ok| !**ok).count();
        (cov, ratio(errors, covered.len()))
    };
    let mut area = 0.0;
    let mut prev = point(0.0);
    for i in 1..=100 {
        let cur = point(i as f64 / 100.0);
        area += (prev.0 - cur.0) * (cur.1 + prev.1) / 2.0;
        prev = cur;
    }
    area.max(0.0)
}

/// Compute all classification metrics of a run.
pub fn classification_metrics(preds: &[Prediction], spec: &ClassSpec) -> ClassificationMetrics {
    let n = preds.len();
    let is_abstain = |p: &str| spec.abstain.as_deref() == Some(p);
    let failures = preds.iter().filter(|p| p.predicted.is_none()).count();
    let answered = n - failures;
    let abstains = preds
        .iter()
        .filter(|p| p.predicted.as_deref().is_some_and(is_abstain))
        .count();
    let correct = preds
        .iter()
        .filter(|p| {
            p.predicted
                .as_deref()
                .is_some_and(|l| !is_abstain(l) && l == p.gold)
        })
        .count();

    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for p in preds {
        let col = p
            .predicted
            .clone()
            .unwrap_or_else(|| PARSE_FAILURE.to_string());
        *confusion
            .entry(p.gold.clone())
            .or_default()
            .entry(col)
            .or_default() += 1;
    }

    // Non-abstained answers: (predicted, gold, confidence).
    let na: Vec<(&str, &str, f64)> = preds
        .iter()
        .filter_map(|p| {
            let l = p.predicted.as_deref()?;
            if is_abstain(l) {
                None
            } else {
                Some((l, p.gold.as_str(), p.confidence.unwrap_or(0.0)))
            }
        })
        .collect();

    let mut per_class = BTreeMap::new();
    for label in &spec.labels {
        let tp = na
            .iter()
            .filter(|(p, g, _)| p == label && g == label)
            .count();
        let fp = na
            .iter()
            .filter(|(p, g, _)| p == label && g != label)
            .count();
        let fn_ = na
            .iter()
            .filter(|(p, g, _)| p != label && g == label)
            .count();
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        per_class.insert(
            label.clone(),
            ClassScores {
                precision,
                recall,
                f1,
                support: tp + fn_,
            },
        );
    }

    let pairs: Vec<(f64, bool)> = na.iter().map(|(p, g, c)| (*c, p == g)).collect();
    let na_correct = pairs.iter().filter(|(_, ok)| *ok).count();
    let brier = if pairs.is_empty() {
        0.0
    } else {
        pairs
            .iter()
            .map(|(c, ok)| (c - f64::from(u8::from(*ok))).powi(2))
            .sum::<f64>()
            / pairs.len() as f64
    };

    let pos = spec.positive.as_str();
    let neg = spec.negative.as_str();
    let tp = na.iter().filter(|(p, g, _)| *g == pos && *p == pos).count();
    let fn_ = na.iter().filter(|(p, g, _)| *g == pos && *p != pos).count();
    let fp = na.iter().filter(|(p, g, _)| *g == neg && *p == pos).count();
    let tn = na.iter().filter(|(p, g, _)| *g == neg && *p != pos).count();
    let cost = 10.0 * fn_ as f64 + fp as f64;
    let cost_weighted_accuracy = if na.is_empty() {
        1.0
    } else {
        1.0 - cost / (10.0 * na.len() as f64)
    };

    ClassificationMetrics {
        n,
        parse_failure_rate: ratio(failures, n),
        accuracy: ratio(correct, n),
        per_class,
        confusion,
        abstain_rate: ratio(abstains, answered),
        coverage: ratio(na.len(), n),
        accuracy_non_abstained: ratio(na_correct, na.len()),
        ece: ece(&pairs),
        brier,
        tpr: ratio(tp, tp + fn_),
        fpr: ratio(fp, fp + tn),
        fnr: ratio(fn_, tp + fn_),
        cost,
        cost_weighted_accuracy,
        aurc: aurc(&pairs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pred: Option<&str>, gold: &str, c: Option<f64>) -> Prediction {
        Prediction {
            predicted: pred.map(str::to_string),
            gold: gold.to_string(),
            confidence: c,
        }
    }

    fn spec() -> ClassSpec {
        ClassSpec {
            labels: vec!["Benign".into(), "Malicious".into()],
            positive: "Malicious".into(),
            negative: "Benign".into(),
            abstain: Some("Abstain".into()),
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn small_run_by_hand() {
        let preds = vec![
            p(Some("Malicious"), "Malicious", Some(0.9)), // TP, correct
            p(Some("Benign"), "Malicious", Some(0.8)),    // FN, wrong
            p(Some("Benign"), "Benign", Some(0.6)),       // TN, correct
            p(Some("Malicious"), "Benign", None),         // FP, wrong, conf 0
            p(Some("Abstain"), "Malicious", Some(0.5)),   // abstain
            p(None, "Benign", None),                      // parse failure
        ];
        let m = classification_metrics(&preds, &spec());
        // n = 6; 1 parse failure → 1/6; correct = 2 → 2/6.
        assert_eq!(m.n, 6);
        close(m.parse_failure_rate, 1.0 / 6.0);
        close(m.accuracy, 2.0 / 6.0);
        // answered with a label = 5, abstains = 1 → 0.2; NA = 4 → coverage 4/6.
        close(m.abstain_rate, 0.2);
        close(m.coverage, 4.0 / 6.0);
        // NA correct = 2 of 4.
        close(m.accuracy_non_abstained, 0.5);
        // Malicious: TP 1, FP 1, FN 1 → P = R = F1 = 0.5; Benign likewise.
        for l in ["Benign", "Malicious"] {
            let s = m.per_class[l];
            close(s.precision, 0.5);
            close(s.recall, 0.5);
            close(s.f1, 0.5);
            assert_eq!(s.support, 2);
        }
        // Confusion matrix.
        assert_eq!(m.confusion["Malicious"]["Malicious"], 1);
        assert_eq!(m.confusion["Malicious"]["Benign"], 1);
        assert_eq!(m.confusion["Malicious"]["Abstain"], 1);
        assert_eq!(m.confusion["Benign"]["Benign"], 1);
        assert_eq!(m.confusion["Benign"]["Malicious"], 1);
        assert_eq!(m.confusion["Benign"][PARSE_FAILURE], 1);
        // ECE bins: 0.9→bin9 (acc1, conf .9, gap .1), 0.8→bin8 (acc0, gap .8),
        // 0.6→bin6 (acc1, gap .4), 0.0→bin0 (acc0, gap 0); ECE = (.1+.8+.4+0)/4 = 0.325.
        close(m.ece, 0.325);
        // Brier: (.9-1)² + (.8-0)² + (.6-1)² + (0-0)² = .01+.64+.16+0 = .81 / 4 = 0.2025.
        close(m.brier, 0.2025);
        // TP 1, FN 1, FP 1, TN 1 → TPR .5, FPR .5, FNR .5; cost 10+1 = 11; CWA = 1 − 11/40.
        close(m.tpr, 0.5);
        close(m.fpr, 0.5);
        close(m.fnr, 0.5);
        close(m.cost, 11.0);
        close(m.cost_weighted_accuracy, 1.0 - 11.0 / 40.0);
        // AURC: τ=0: cov 1, risk .5. τ∈(0,.6]: confs {.9,.8,.6} cov .75, risk 1/3.
        // τ∈(.6,.8]: {.9,.8} cov .5, risk .5. τ∈(.8,.9]: {.9} cov .25, risk 0. τ>.9: cov 0, risk 0.
        // Σ = .25·(1/3+.5)/2 + .25·(.5+1/3)/2 + .25·(0+.5)/2 + .25·0 = 5/48 + 5/48 + 1/16.
        close(m.aurc, 5.0 / 48.0 + 5.0 / 48.0 + 1.0 / 16.0);
    }

    #[test]
    fn empty_and_all_abstain() {
        let m = classification_metrics(&[], &spec());
        assert_eq!(m.n, 0);
        close(m.accuracy, 0.0);
        close(m.cost_weighted_accuracy, 1.0);
        let m = classification_metrics(&[p(Some("Abstain"), "Benign", Some(0.2))], &spec());
        close(m.abstain_rate, 1.0);
        close(m.coverage, 0.0);
        close(m.cost_weighted_accuracy, 1.0);
        close(m.aurc, 0.0);
        close(m.ece, 0.0);
    }

    #[test]
    fn ece_last_bin_closed_and_perfect_aurc() {
        // conf 1.0 goes in the last bin [0.9, 1.0]; correct → gap 0.
        close(ece(&[(1.0, true)]), 0.0);
        // conf 0.95 wrong, 0.05 right: bins 9 (gap .95) and 0 (gap .95) → .95.
        close(ece(&[(0.95, false), (0.05, true)]), 0.95);
        // All correct → risk 0 everywhere → AURC 0.
        close(aurc(&[(0.3, true), (0.7, true)]), 0.0);
        // One wrong at conf 0.5: τ=0..0.5 cov 1 risk 1; τ>0.5 cov 0 risk 0 → (1−0)·(0+1)/2 = 0.5.
        close(aurc(&[(0.5, false)]), 0.5);
    }
}
