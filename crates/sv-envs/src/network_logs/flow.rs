//! The network flow record and its single prompt rendering.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sv_core::{Sample, content_id};

/// One network flow as every loader and the generator describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Transport protocol (tcp, udp, icmp, ...).
    pub protocol: String,
    /// Source port.
    pub src_port: Option<u32>,
    /// Destination port.
    pub dst_port: Option<u32>,
    /// Duration in seconds.
    pub duration_s: Option<f64>,
    /// Bytes from originator to responder.
    pub bytes_out: Option<u64>,
    /// Bytes from responder to originator.
    pub bytes_in: Option<u64>,
    /// Packets from originator.
    pub pkts_out: Option<u64>,
    /// Packets from responder.
    pub pkts_in: Option<u64>,
    /// Connection state or flags (S0, SF, REJ, ...).
    pub state: Option<String>,
    /// Application service (http, dns, ssh, ...).
    pub service: Option<String>,
    /// Device description.
    pub device: Option<String>,
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "?".into())
}

/// The instruction appended to every question.
pub const ANSWER_INSTRUCTION: &str = "Answer in JSON: {\"label\": \"Benign\" | \"Malicious\" | \"Abstain\", \"confidence\": 0..1, \"rationale\": \"...\"}.";

impl Flow {
    /// Render the flow as the question text shown to the model.
    pub fn render(&self) -> String {
        let dur = self
            .duration_s
            .map(|d| format!("{d:.2}s"))
            .unwrap_or_else(|| "?".into());
        let proto = if self.protocol.is_empty() {
            "?"
        } else {
            self.protocol.as_str()
        };
        format!(
            "Flow: proto={proto} service={} src_port={} dst_port={} duration={dur} bytes_out={} bytes_in={} pkts_out={} pkts_in={} state={} device={}\nClassify this flow as Benign or Malicious (Abstain if the evidence is too weak). {ANSWER_INSTRUCTION}",
            opt(&self.service),
            opt(&self.src_port),
            opt(&self.dst_port),
            opt(&self.bytes_out),
            opt(&self.bytes_in),
            opt(&self.pkts_out),
            opt(&self.pkts_in),
            opt(&self.state),
            opt(&self.device),
        )
    }

    /// Key used for de-duplication: protocol, ports, bytes, packets and duration.
    pub fn dedup_key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.protocol,
            opt(&self.src_port),
            opt(&self.dst_port),
            opt(&self.bytes_out),
            opt(&self.bytes_in),
            opt(&self.pkts_out),
            opt(&self.pkts_in),
            self.duration_s
                .map(|d| format!("{d:.6}"))
                .unwrap_or_default(),
            opt(&self.state),
        )
    }
}

/// Provenance of one flow sample.
#[derive(Debug, Clone, Default)]
pub struct FlowMeta {
    /// Source dataset name.
    pub source: String,
    /// Attack family (or benign activity family).
    pub family: String,
    /// Label as the source wrote it.
    pub original_label: String,
    /// Difficulty, where the source gives one.
    pub difficulty: Option<Value>,
    /// Row or index used to make the id unique.
    pub locator: String,
}

/// Gold label string for a class.
pub fn label_of(malicious: bool) -> &'static str {
    if malicious { "Malicious" } else { "Benign" }
}

/// Build a sample from a structured flow.
pub fn flow_sample(flow: &Flow, malicious: bool, meta: &FlowMeta, split: &str) -> Sample {
    let flow_v = serde_json::to_value(flow).unwrap_or(Value::Null);
    let id = content_id(&json!({"source": meta.source, "at": meta.locator, "flow": flow_v}));
    let mut m = json!({
        "source": meta.source,
        "attack_family": meta.family,
        "original_label": meta.original_label,
    });
    if let (Some(d), Some(obj)) = (&meta.difficulty, m.as_object_mut()) {
        obj.insert("difficulty".into(), d.clone());
    }
    Sample {
        id,
        split: split.to_string(),
        input: json!({"text": flow.render(), "flow": flow_v}),
        answer: Value::String(label_of(malicious).into()),
        meta: m,
    }
}
