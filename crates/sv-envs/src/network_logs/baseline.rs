//! A transparent rule-based baseline for network-flow triage.
#![allow(clippy::collapsible_if)]

use serde_json::{Value, json};
use sv_core::{Message, Policy, PolicyAction, Sample};

use super::flow::Flow;

/// Score magnitude below which the baseline abstains.
pub const ABSTAIN_THRESHOLD: f64 = 1.0;

/// Ports strongly associated with attacks or backdoors.
const SUSPICIOUS_PORTS: [u32; 10] = [23, 2323, 4444, 6667, 31337, 1337, 5555, 12345, 27374, 3127];

/// The rule-based baseline policy.
#[derive(Debug, Default, Clone, Copy)]
pub struct Baseline;

/// Classify a flow: (label, confidence, rationale) from an additive score (positive means Malicious).
pub fn classify(flow: &Flow) -> (&'static str, f64, String) {
    let mut score = 0.0f64;
    let mut why: Vec<&str> = Vec::new();
    let mut add = |s: &mut f64, v: f64, r: &'static str| {
        *s += v;
        why.push(r);
    };
    let dst = flow.dst_port;
    let state = flow.state.as_deref().unwrap_or("").to_ascii_uppercase();
    let proto = flow.protocol.to_ascii_lowercase();
    let bo = flow.bytes_out;
    let bi = flow.bytes_in;
    let po = flow.pkts_out;
    let pi = flow.pkts_in;
    let dur = flow.duration_s;
    let failed = matches!(state.as_str(), "S0" | "REJ" | "SH" | "OTH" | "RSTOS0");
    let reset = matches!(state.as_str(), "RSTO" | "RSTR" | "S3" | "S1" | "S2");

    if let Some(p) = dst {
        if SUSPICIOUS_PORTS.contains(&p) {
            add(
                &mut score,
                2.0,
                "destination port commonly abused by malware or brute force",
            );
        }
    }
    if failed && po.is_none_or(|p| p <= 3) && bi.is_none_or(|b| b == 0) {
        add(
            &mut score,
            3.0,
            "unanswered or rejected connection attempt with few packets (scan)",
        );
    }
    if po.is_some_and(|p| p >= 100) && pi.is_some_and(|p| p == 0) && bi.is_none_or(|b| b == 0) {
        add(&mut score, 3.5, "many packets sent with no reply (flood)");
    }
    if reset
        && matches!(
            dst,
            Some(22) | Some(23) | Some(2323) | Some(3389) | Some(21)
        )
        && dur.is_some_and(|d| d < 10.0)
        && bo.is_some_and(|b| b < 5000)
    {
        add(&mut score, 2.5, "short reset login session (brute force)");
    }
    if let (Some(o), Some(i)) = (bo, bi) {
        if o > 5_000_000 && o > 200 * i.max(1) {
            add(
                &mut score,
                3.0,
                "very large upload with little returned (exfiltration)",
            );
            if matches!(dst, Some(873) | Some(445)) && state == "SF" {
                add(&mut score, -2.5, "but on a backup/file-sharing port");
            }
        }
    }
    if dst == Some(53) {
        match bo {
            Some(o) if o > 300 => add(&mut score, 3.0, "DNS flow with large upload (tunnel)"),
            Some(o) if o <= 120 => add(&mut score, -2.0, "small DNS query"),
            _ => {}
        }
    }
    if let (Some(d), Some(o), Some(i)) = (dur, bo, bi) {
        if d > 300.0 && o + i < 20_000 && state == "SF" {
            add(
                &mut score,
                2.5,
                "long-lived connection with tiny regular traffic (beacon)",
            );
        }
    }
    if state == "SF" {
        add(&mut score, -1.0, "completed connection");
        let common = matches!(
            dst,
            Some(80) | Some(443) | Some(123) | Some(1883) | Some(8883)
        );
        if common && bo.is_some_and(|o| o < 2_000_000) && dur.is_none_or(|d| d < 300.0) {
            add(&mut score, -1.5, "common service port with normal sizes");
        }
        if dst == Some(123) && bo.is_some_and(|o| o <= 96) {
            add(&mut score, -1.0, "NTP-sized packet");
        }
        if dst == Some(22)
            && dur.is_some_and(|d| d > 30.0)
            && po.is_some_and(|p| p > 50)
            && pi.is_some_and(|p| p > 50)
        {
            add(&mut score, -2.0, "long interactive SSH session");
        }
        if let (Some(o), Some(i)) = (bo, bi) {
            if i > 0 && (o as f64 / i as f64) < 20.0 && (o as f64 / i as f64) > 0.0005 {
                add(&mut score, -0.5, "balanced byte counts");
            }
        }
    }
    if proto == "udp" && po.is_some_and(|p| p >= 100) && pi.is_some_and(|p| p == 0) {
        add(&mut score, 0.5, "UDP with no replies");
    }
    let rationale = if why.is_empty() {
        "no distinctive features".to_string()
    } else {
        format!("score {score:.1}: {}", why.join("; "))
    };
    let mag = score.abs();
    if mag < ABSTAIN_THRESHOLD {
        let conf = 0.3 + 0.2 * mag / ABSTAIN_THRESHOLD;
        return ("Abstain", conf.min(0.5), rationale);
    }
    let conf = 0.5 + 0.45 * (mag / 3.0).tanh();
    (
        if score > 0.0 { "Malicious" } else { "Benign" },
        conf,
        rationale,
    )
}

fn num(s: &str) -> Option<f64> {
    let t: String = s
        .trim_matches(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn unum(s: &str) -> Option<u64> {
    num(s).filter(|v| *v >= 0.0).map(|v| v as u64)
}

fn port(s: &str) -> Option<u32> {
    let d: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    d.parse::<u32>().ok()
}

fn clean(s: &str) -> Option<String> {
    let t = s.trim_matches(|c: char| c == ',' || c == '.' || c == '[' || c == ']' || c == ';');
    if t.is_empty() || t == "?" {
        None
    } else {
        Some(t.to_string())
    }
}

/// Best-effort parse of a textual flow description (key=value or prose like "tcp 6662→62336").
pub fn flow_from_text(text: &str) -> Flow {
    let mut f = Flow::default();
    let norm = text.replace('→', " -> ").replace("->", " -> ");
    let toks: Vec<&str> = norm.split_whitespace().collect();
    for (i, tok) in toks.iter().enumerate() {
        let low = tok.to_ascii_lowercase();
        if let Some((k, v)) = low.split_once('=') {
            let raw = tok.split_once('=').map(|(_, v)| v).unwrap_or("");
            match k {
                "proto" | "protocol" => {
                    if let Some(p) = clean(v) {
                        f.protocol = p;
                    }
                }
                "service" => f.service = clean(raw),
                "src_port" => f.src_port = port(v),
                "dst_port" => f.dst_port = port(v),
                "duration" => f.duration_s = num(v),
                "bytes_out" => f.bytes_out = unum(v),
                "bytes_in" => f.bytes_in = unum(v),
                "pkts_out" => f.pkts_out = unum(v),
                "pkts_in" => f.pkts_in = unum(v),
                "state" | "flags" => f.state = clean(raw),
                "device" => f.device = clean(raw),
                _ => {}
            }
            continue;
        }
        let next = toks.get(i + 1).copied().unwrap_or("");
        match low.trim_matches(|c: char| !c.is_ascii_alphanumeric()) {
            "tcp" | "udp" | "icmp" if f.protocol.is_empty() => {
                f.protocol = low.trim_matches(',').to_string()
            }
            "duration" if f.duration_s.is_none() => f.duration_s = num(next),
            "bytes" if f.bytes_out.is_none() => f.bytes_out = unum(next),
            "flags" | "state" if f.state.is_none() => f.state = clean(next),
            "device" if f.device.is_none() => f.device = clean(next),
            _ => {}
        }
        if *tok == "->" && i > 0 {
            if f.src_port.is_none() {
                f.src_port = port(toks[i - 1]);
            }
            if f.dst_port.is_none() {
                f.dst_port = port(next);
            }
        }
    }
    f
}

/// The flow of a sample: `input.flow` when present, else parsed from `input.text`.
pub fn sample_flow(sample: &Sample) -> Flow {
    sample
        .input
        .get("flow")
        .filter(|v| v.is_object())
        .and_then(|v| serde_json::from_value::<Flow>(v.clone()).ok())
        .unwrap_or_else(|| {
            flow_from_text(
                sample
                    .input
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            )
        })
}

impl Policy for Baseline {
    fn name(&self) -> &str {
        "network-logs-baseline"
    }
    fn act(&self, sample: &Sample, _conversation: &[Message]) -> PolicyAction {
        let (label, confidence, rationale) = classify(&sample_flow(sample));
        let confidence = (confidence * 1000.0).round() / 1000.0;
        PolicyAction {
            text: json!({"label": label, "confidence": confidence, "rationale": rationale})
                .to_string(),
            tool_calls: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network_logs::generator::generate;

    #[test]
    fn generator_baseline_accuracy() {
        let s = generate(600, 1, 0.5);
        let (mut decided, mut correct, mut abstain) = (0usize, 0usize, 0usize);
        for x in &s {
            let (label, conf, _) = classify(&sample_flow(x));
            assert!((0.0..=1.0).contains(&conf));
            if label == "Abstain" {
                assert!(conf <= 0.5);
                abstain += 1;
                continue;
            }
            decided += 1;
            if Some(label) == x.answer.as_str() {
                correct += 1;
            }
        }
        let acc = correct as f64 / decided.max(1) as f64;
        let ab = abstain as f64 / s.len() as f64;
        eprintln!(
            "baseline: accuracy over non-abstained {acc:.3} ({correct}/{decided}), abstain rate {ab:.3}"
        );
        assert!(acc > 0.75);
        assert!(ab < 0.4);
    }

    #[test]
    fn generator_text_parse() {
        let f = flow_from_text(
            "Device unknown-device observed tcp 6662→62336, duration ?, bytes ?, flags [C]. Classify.",
        );
        assert_eq!(f.protocol, "tcp");
        assert_eq!(f.src_port, Some(6662));
        assert_eq!(f.dst_port, Some(62336));
        assert_eq!(f.duration_s, None);
        assert_eq!(f.state.as_deref(), Some("C"));
        let g = flow_from_text("udp 5000 -> 53, duration 1.5s, bytes 2000, flags [SF]");
        assert_eq!(
            (g.src_port, g.dst_port, g.bytes_out),
            (Some(5000), Some(53), Some(2000))
        );
        let orig = Flow {
            protocol: "tcp".into(),
            dst_port: Some(23),
            state: Some("S0".into()),
            pkts_out: Some(1),
            ..Flow::default()
        };
        assert_eq!(flow_from_text(&orig.render()).dst_port, Some(23));
        assert_eq!(classify(&flow_from_text(&orig.render())).0, "Malicious");
    }
}
