//! Shared reward functions for label-and-confidence answers.

use serde_json::{Map, Value};

use crate::parse::{ParseError, parse_json_answer};

/// A parsed `{"label": …, "confidence": …}` answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelAnswer {
    /// The label, only when it is an allowed label (canonical spelling).
    pub label: Option<String>,
    /// The confidence, only when it is a JSON number in [0, 1].
    pub confidence: Option<f64>,
    /// The raw `confidence` value as given.
    pub confidence_raw: Option<Value>,
    /// The parsed answer object, when parsing succeeded.
    pub parsed: Option<Map<String, Value>>,
    /// Why parsing failed, when it did.
    pub error: Option<ParseError>,
}

impl LabelAnswer {
    /// The label or "" when there is none.
    pub fn label_str(&self) -> &str {
        self.label.as_deref().unwrap_or("")
    }
    /// Confidence for calibration: a number (or numeric string) in [0, 1], otherwise 0.
    pub fn calibration_confidence(&self) -> f64 {
        let v = match &self.confidence_raw {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match v {
            Some(c) if (0.0..=1.0).contains(&c) => c,
            _ => 0.0,
        }
    }
}

/// Parse an answer and validate its label against `allowed`.
pub fn parse_label_answer(text: &str, allowed: &[&str], case_insensitive: bool) -> LabelAnswer {
    let parsed = match parse_json_answer(text) {
        Ok(m) => m,
        Err(e) => {
            return LabelAnswer {
                error: Some(e),
                ..LabelAnswer::default()
            };
        }
    };
    let label = match parsed.get("label") {
        Some(Value::String(s)) => allowed
            .iter()
            .find(|a| {
                if case_insensitive {
                    a.eq_ignore_ascii_case(s)
                } else {
                    **a == s.as_str()
                }
            })
            .map(|a| a.to_string()),
        _ => None,
    };
    let confidence_raw = parsed.get("confidence").cloned();
    let confidence = match &confidence_raw {
        Some(Value::Number(n)) => n.as_f64().filter(|c| (0.0..=1.0).contains(c)),
        _ => None,
    };
    LabelAnswer {
        label,
        confidence,
        confidence_raw,
        parsed: Some(parsed),
        error: None,
    }
}

/// 1 if `p` is non-empty and equals `a`, else 0.
pub fn accuracy(p: &str, a: &str) -> f64 {
    if !p.is_empty() && p == a { 1.0 } else { 0.0 }
}

/// 1 iff the answer has an allowed label and a numeric confidence in [0, 1].
pub fn format_reward(ans: &LabelAnswer) -> f64 {
    if ans.label.is_some() && ans.confidence.is_some() {
        1.0
    } else {
        0.0
    }
}

/// 0 if `p` is empty; else 1 − |c − correct| (c outside [0, 1] counts as 0).
pub fn calibration(p: &str, a: &str, c: f64) -> f64 {
    if p.is_empty() {
        return 0.0;
    }
    let c = if (0.0..=1.0).contains(&c) { c } else { 0.0 };
    let correct = if p == a { 1.0 } else { 0.0 };
    1.0 - (c - correct).abs()
}

/// 0 if either is empty; +1 if equal; −1 for a benign answer on a malicious item; else 0.
pub fn asymmetric_cost(p: &str, a: &str, benign: &str, malicious: &str) -> f64 {
    if p.is_empty() || a.is_empty() {
        0.0
    } else if p == a {
        1.0
    } else if p == benign && a == malicious {
        -1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LABELS: &[&str] = &["Benign", "Malicious", "Abstain"];

    fn components(text: &str, gold: &str) -> ([f64; 4], f64) {
        let ans = parse_label_answer(text, LABELS, false);
        let p = ans.label_str();
        let c = [
            accuracy(p, gold),
            format_reward(&ans),
            calibration(p, gold, ans.calibration_confidence()),
            asymmetric_cost(p, gold, "Benign", "Malicious"),
        ];
        let total = c[0] * 1.0 + c[1] * 0.1 + c[2] * 0.2 + c[3] * 0.5;
        (c, total)
    }

    fn check(text: &str, gold: &str, want: [f64; 4], total: f64) {
        let (got, t) = components(text, gold);
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() < 1e-9, "{text}: {got:?} != {want:?}");
        }
        assert!((t - total).abs() < 1e-9, "{text}: total {t} != {total}");
    }

    #[test]
    fn network_logs_vectors() {
        check(
            r#"{"label":"Malicious","confidence":0.9}"#,
            "Malicious",
            [1.0, 1.0, 0.9, 1.0],
            1.78,
        );
        check(
            r#"{"label":"Benign","confidence":0.9}"#,
            "Malicious",
            [0.0, 1.0, 0.1, -1.0],
            -0.38,
        );
        check(
            r#"{"label":"Malicious","confidence":0.7}"#,
            "Benign",
            [0.0, 1.0, 0.3, 0.0],
            0.16,
        );
        check(
            r#"{"label":"Abstain","confidence":0.3}"#,
            "Malicious",
            [0.0, 1.0, 0.7, 0.0],
            0.24,
        );
        check(
            r#"{"label":"Malicious"}"#,
            "Malicious",
            [1.0, 0.0, 0.0, 1.0],
            1.50,
        );
        check(
            "Sure: ```json\n{\"label\": \"Benign\", \"confidence\": 0.6}\n```",
            "Benign",
            [1.0, 1.0, 0.6, 1.0],
            1.72,
        );
        check(
            r#"<think>x</think>{"label":"Benign","confidence":"0.8"}"#,
            "Benign",
            [1.0, 0.0, 0.8, 1.0],
            1.66,
        );
        check(
            r#"{"label":"malicious","confidence":0.9}"#,
            "Malicious",
            [0.0; 4],
            0.0,
        );
        check(
            r#"{"label":"Malicious","confidence":1.5}"#,
            "Malicious",
            [1.0, 0.0, 0.0, 1.0],
            1.50,
        );
    }

    #[test]
    fn case_insensitive_normalises() {
        let a = parse_label_answer(r#"{"label":"malicious","confidence":true}"#, LABELS, true);
        assert_eq!(a.label.as_deref(), Some("Malicious"));
        assert_eq!(a.confidence, None);
        assert_eq!(format_reward(&a), 0.0);
        let e = parse_label_answer("nothing", LABELS, true);
        assert!(e.error.is_some() && e.parsed.is_none());
    }

    proptest! {
        #[test]
        fn rewards_in_range(text in "\\PC*", gold in prop::sample::select(vec!["Benign", "Malicious"])) {
            let (c, _) = components(&text, gold);
            prop_assert!(c[0] == 0.0 || c[0] == 1.0);
            prop_assert!(c[1] == 0.0 || c[1] == 1.0);
            prop_assert!((0.0..=1.0).contains(&c[2]));
            prop_assert!((-1.0..=1.0).contains(&c[3]));
        }
    }
}
