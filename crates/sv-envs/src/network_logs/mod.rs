//! The `network-logs` environment: classify network flows as Benign or Malicious (or abstain),
//! with a calibrated confidence.
//!
//! Rubric (reward_version 1), with p the parsed label, a the gold label and c the confidence:
//! accuracy (weight 1.0), format (0.1), calibration (0.2) and asymmetric cost (0.5), exactly as
//! defined in `sv_core::rewards`; Malicious is the positive class. Totals lie in [−0.5, 1.8].

pub mod baseline;
pub mod flow;
pub mod generator;
pub mod loaders;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};
use sv_core::metrics::{ClassSpec, Prediction, classification_metrics};
use sv_core::rewards::{accuracy, asymmetric_cost, calibration, format_reward, parse_label_answer};
use sv_core::{
    Dataset, EnvError, Environment, LoadOptions, Message, Policy, Sample, Score, Scored,
    Transcript, component,
};

pub use generator::generate;
pub use loaders::{ImportReport, import, write_samples};

/// Labels a model may answer with.
pub const LABELS: [&str; 3] = ["Benign", "Malicious", "Abstain"];
/// Seed of the embedded default dataset.
pub const DEFAULT_SEED: u64 = 20261202;
/// Size of the embedded default dataset.
pub const DEFAULT_N: usize = 600;

const SYSTEM_PROMPT: &str = "You triage network flows for a security operations team. Each \
message describes one flow record: protocol, ports, duration, bytes and packets in each \
direction, connection state and service where known (`?` means unknown). Decide whether the \
flow is part of an attack (Malicious) or normal activity (Benign). If the evidence is too weak \
to decide, answer Abstain. Give your confidence that your label is correct as a number between \
0 and 1; calibrated confidences are rewarded, and missing a real attack costs more than a false \
alarm. Reply with a single JSON object and nothing else: {\"label\": \"Benign\" | \"Malicious\" | \
\"Abstain\", \"confidence\": <number 0..1>, \"rationale\": \"<one sentence>\"}.";

/// The network-logs environment.
#[derive(Debug, Default, Clone)]
pub struct NetworkLogs;

impl NetworkLogs {
    /// Create the environment.
    pub fn new() -> Self {
        NetworkLogs
    }
}

/// Score one answer text against the gold label (the rubric of this environment).
pub fn score_answer(text: &str, gold: &str) -> Score {
    let ans = parse_label_answer(text, &LABELS, false);
    let p = ans.label_str();
    let components = vec![
        component("accuracy", accuracy(p, gold), 1.0),
        component("format", format_reward(&ans), 0.1),
        component(
            "calibration",
            calibration(p, gold, ans.calibration_confidence()),
            0.2,
        ),
        component(
            "asymmetric_cost",
            asymmetric_cost(p, gold, "Benign", "Malicious"),
            0.5,
        ),
    ];
    let parse_error = match (&ans.error, &ans.label) {
        (Some(e), _) => Some(e.to_string()),
        (None, None) => {
            Some("field `label`: missing or not one of Benign, Malicious, Abstain".into())
        }
        _ => None,
    };
    Score::new(components, ans.parsed.map(Value::Object), parse_error, "1")
}

fn gold(sample: &Sample) -> &str {
    sample.answer.as_str().unwrap_or("")
}

impl Environment for NetworkLogs {
    fn name(&self) -> &'static str {
        "network-logs"
    }
    fn version(&self) -> &'static str {
        "0.1.0"
    }
    fn reward_version(&self) -> &'static str {
        "1"
    }
    fn description(&self) -> &'static str {
        "Network-flow triage: Benign / Malicious / Abstain with calibrated confidence"
    }
    fn system_prompt(&self) -> String {
        SYSTEM_PROMPT.to_string()
    }
    fn render(&self, sample: &Sample) -> Vec<Message> {
        let text = sample
            .input
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("");
        vec![Message::system(SYSTEM_PROMPT), Message::user(text)]
    }
    fn score(&self, sample: &Sample, transcript: &Transcript) -> Score {
        score_answer(transcript.final_text(), gold(sample))
    }
    fn baseline(&self) -> Box<dyn Policy> {
        Box::new(baseline::Baseline)
    }
    fn output_schema(&self) -> Value {
        json!({
            "type": "object",
            "required": ["label", "confidence"],
            "properties": {
                "label": {"enum": LABELS},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "rationale": {"type": "string"}
            }
        })
    }
    fn oracle_answer(&self, sample: &Sample) -> String {
        json!({"label": gold(sample), "confidence": 1.0}).to_string()
    }
    fn default_dataset(&self) -> Result<Dataset, EnvError> {
        Ok(Dataset::embedded(
            generate(DEFAULT_N, DEFAULT_SEED, 0.5),
            &format!(
                "network-logs generator seed={DEFAULT_SEED} n={DEFAULT_N} malicious_share=0.5"
            ),
        ))
    }
    fn load_dataset(&self, path: &Path, opts: &LoadOptions) -> Result<Dataset, EnvError> {
        loaders::load(path, opts)
    }
    fn summarize(&self, items: &[Scored<'_>]) -> Map<String, Value> {
        let spec = ClassSpec {
            labels: vec!["Benign".into(), "Malicious".into()],
            positive: "Malicious".into(),
            negative: "Benign".into(),
            abstain: Some("Abstain".into()),
        };
        let mut preds = Vec::new();
        let mut families: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for it in items {
            let Some(score) = it.score else { continue };
            let parsed = score.parsed.as_ref();
            let label = parsed
                .and_then(|p| p.get("label"))
                .and_then(Value::as_str)
                .filter(|l| LABELS.contains(l))
                .map(str::to_string);
            let confidence = parsed
                .and_then(|p| p.get("confidence"))
                .and_then(Value::as_f64);
            let g = gold(it.sample).to_string();
            let fam = it
                .sample
                .meta
                .get("attack_family")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            let e = families.entry(fam).or_insert((0, 0));
            e.1 += 1;
            if label.as_deref() == Some(g.as_str()) {
                e.0 += 1;
            }
            preds.push(Prediction {
                predicted: label,
                gold: g,
                confidence,
            });
        }
        let m = classification_metrics(&preds, &spec);
        let mut out = match serde_json::to_value(m) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let fam: Map<String, Value> = families
            .into_iter()
            .map(|(k, (c, n))| (k, json!({"n": n, "accuracy": c as f64 / n.max(1) as f64})))
            .collect();
        out.insert("per_family".into(), Value::Object(fam));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &Score) -> Vec<f64> {
        s.components.iter().map(|c| c.value).collect()
    }

    #[test]
    fn published_test_vectors() {
        let cases: &[(&str, &str, [f64; 4], f64)] = &[
            (
                r#"{"label":"Malicious","confidence":0.9}"#,
                "Malicious",
                [1.0, 1.0, 0.9, 1.0],
                1.78,
            ),
            (
                r#"{"label":"Benign","confidence":0.9}"#,
                "Malicious",
                [0.0, 1.0, 0.1, -1.0],
                -0.38,
            ),
            (
                r#"{"label":"Malicious","confidence":0.7}"#,
                "Benign",
                [0.0, 1.0, 0.3, 0.0],
                0.16,
            ),
            (
                r#"{"label":"Abstain","confidence":0.3}"#,
                "Malicious",
                [0.0, 1.0, 0.7, 0.0],
                0.24,
            ),
            (
                r#"{"label":"Malicious"}"#,
                "Malicious",
                [1.0, 0.0, 0.0, 1.0],
                1.50,
            ),
            (
                "Sure: ```json\n{\"label\": \"Benign\", \"confidence\": 0.6}\n```",
                "Benign",
                [1.0, 1.0, 0.6, 1.0],
                1.72,
            ),
            (
                r#"<think>x</think>{"label":"Benign","confidence":"0.8"}"#,
                "Benign",
                [1.0, 0.0, 0.8, 1.0],
                1.66,
            ),
            (
                r#"{"label":"malicious","confidence":0.9}"#,
                "Malicious",
                [0.0, 0.0, 0.0, 0.0],
                0.0,
            ),
            (
                r#"{"label":"Malicious","confidence":1.5}"#,
                "Malicious",
                [1.0, 0.0, 0.0, 1.0],
                1.50,
            ),
        ];
        for (text, g, comps, total) in cases {
            let s = score_answer(text, g);
            for (a, b) in parts(&s).iter().zip(comps) {
                assert!((a - b).abs() < 1e-9, "{text}: {:?} vs {comps:?}", parts(&s));
            }
            assert!(
                (s.total - total).abs() < 1e-9,
                "{text}: total {} vs {total}",
                s.total
            );
        }
    }

    #[test]
    fn golden_self_test() {
        let env = NetworkLogs::new();
        let ds = env.default_dataset().unwrap();
        assert!(ds.samples.len() >= 500);
        for s in ds.samples.iter().take(50) {
            let best = env.score(s, &Transcript::single(env.oracle_answer(s)));
            assert!((best.total - 1.8).abs() < 1e-9);
            let empty = env.score(s, &Transcript::single(""));
            assert_eq!(empty.total, 0.0);
            assert!(empty.parse_error.is_some());
            for junk in [
                "{",
                "{\"label\": [1,2]}",
                "```json\n{oops\n```",
                "\u{0}\u{ffff}{{}}",
            ] {
                let sc = env.score(s, &Transcript::single(junk));
                assert!(sc.total <= 0.0 + 1e-12 && sc.total >= -0.5);
            }
        }
    }

    #[test]
    fn baseline_answers_parse_and_beat_chance() {
        let env = NetworkLogs::new();
        let ds = env.default_dataset().unwrap();
        let test: Vec<&Sample> = ds.samples.iter().filter(|s| s.split == "test").collect();
        assert!(!test.is_empty());
        let b = env.baseline();
        let mut correct = 0;
        for s in &test {
            let act = b.act(s, &env.render(s));
            let sc = env.score(s, &Transcript::single(act.text));
            assert!(sc.parse_error.is_none());
            if sc.component("accuracy") == Some(1.0) {
                correct += 1;
            }
        }
        assert!(correct as f64 / test.len() as f64 > 0.5);
    }

    proptest::proptest! {
        #[test]
        fn score_never_panics_and_stays_in_range(text in ".{0,200}", mal in proptest::bool::ANY) {
            let s = score_answer(&text, if mal { "Malicious" } else { "Benign" });
            proptest::prop_assert!(s.total >= -0.5 - 1e-12 && s.total <= 1.8 + 1e-12);
        }
    }
}
