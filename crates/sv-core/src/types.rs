//! Data types shared by every stage of the pipeline (DESIGN.md "Core contracts").

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions from the environment.
    System,
    /// The task as the user states it.
    User,
    /// The model under test.
    Assistant,
    /// The result of a tool call.
    Tool,
}

/// One chat message; assistant messages may carry tool calls, tool messages answer one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author of the message.
    pub role: Role,
    /// Text content (may be empty when the message only carries tool calls).
    #[serde(default)]
    pub content: String,
    /// Tool calls requested by an assistant message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a tool message: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::text(Role::System, content)
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::text(Role::User, content)
    }
    /// An assistant message without tool calls.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::text(Role::Assistant, content)
    }
    /// A tool result message answering `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
        }
    }
    fn text(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A tool the model may call (OpenAI function-calling shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Function name.
    pub name: String,
    /// What the tool does, shown to the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

/// A tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned call id (synthesised when the provider has none).
    pub id: String,
    /// Name of the tool.
    pub name: String,
    /// Arguments as JSON (a string that failed to parse is kept as a JSON string).
    pub arguments: Value,
}

/// What a tool returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// Text handed back to the model.
    pub content: String,
    /// Whether the call failed (unknown tool, bad arguments, tool error).
    #[serde(default)]
    pub is_error: bool,
    /// Structured data the rubric may use (for example findings a scanner reported).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

impl ToolResult {
    /// A failed call with an explanation for the model.
    pub fn error(msg: impl Into<String>) -> Self {
        ToolResult {
            content: msg.into(),
            is_error: true,
            data: Value::Null,
        }
    }
}

/// One dataset item. `id` is stable across runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Stable identifier (content hash when the source has none).
    pub id: String,
    /// Split name: train, dev, test, ood, ...
    pub split: String,
    /// What the prompt is rendered from.
    pub input: Value,
    /// The gold label or oracle.
    pub answer: Value,
    /// Provenance and extra facts (source, attack family, ...).
    #[serde(default)]
    pub meta: Value,
}

/// The conversation after the rendered prompt: assistant turns and tool results, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Messages produced during the episode.
    pub messages: Vec<Message>,
}

impl Transcript {
    /// A transcript holding one assistant reply.
    pub fn single(completion: impl Into<String>) -> Self {
        Transcript {
            messages: vec![Message::assistant(completion)],
        }
    }
    /// The text of the last assistant message: the final answer ("" when there is none).
    pub fn final_text(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::Assistant)
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }
    /// Number of assistant turns.
    pub fn turns(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .count()
    }
    /// Number of tool calls requested over the episode.
    pub fn tool_calls(&self) -> usize {
        self.messages.iter().map(|m| m.tool_calls.len()).sum()
    }
}

/// One weighted reward component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Component name, stable within a reward version.
    pub name: String,
    /// Unweighted value.
    pub value: f64,
    /// Weight in the total.
    pub weight: f64,
}

/// The score of one episode. `total = Σ value × weight`, always recomputable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The weighted components.
    pub components: Vec<Component>,
    /// Weighted sum of the components.
    pub total: f64,
    /// The parsed final answer, when parsing succeeded.
    pub parsed: Option<Value>,
    /// Why parsing failed, when it did.
    pub parse_error: Option<String>,
    /// The reward version that produced this score.
    pub reward_version: String,
}

impl Score {
    /// Build a score from components; the total is computed here and nowhere else.
    pub fn new(
        components: Vec<Component>,
        parsed: Option<Value>,
        parse_error: Option<String>,
        reward_version: &str,
    ) -> Self {
        let total = components.iter().map(|c| c.value * c.weight).sum();
        Score {
            components,
            total,
            parsed,
            parse_error,
            reward_version: reward_version.to_string(),
        }
    }
    /// Recompute the total from the components (for verification of stored results).
    pub fn recomputed_total(&self) -> f64 {
        self.components.iter().map(|c| c.value * c.weight).sum()
    }
    /// Value of a named component.
    pub fn component(&self, name: &str) -> Option<f64> {
        self.components
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }
}

/// Build a component.
pub fn component(name: &str, value: f64, weight: f64) -> Component {
    Component {
        name: name.to_string(),
        value,
        weight,
    }
}

/// SHA-256 of bytes as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A stable id from content: the first 16 hex digits of the SHA-256 of the canonical JSON.
pub fn content_id(value: &Value) -> String {
    let canon = canonical_json(value);
    sha256_hex(canon.as_bytes())[..16].to_string()
}

/// Canonical JSON text: object keys sorted, no insignificant whitespace.
///
/// serde_json's default map is ordered by key, so plain serialisation is canonical as long as
/// the `preserve_order` feature stays off (a test guards this).
pub fn canonical_json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":{"c":3,"d":2},"b":1}"#);
    }

    #[test]
    fn score_total_is_weighted_sum() {
        let s = Score::new(
            vec![component("a", 1.0, 1.0), component("b", 0.5, 0.2)],
            None,
            None,
            "1",
        );
        assert!((s.total - 1.1).abs() < 1e-12);
        assert_eq!(s.total, s.recomputed_total());
    }

    #[test]
    fn content_id_is_stable_and_order_free() {
        let a = content_id(&json!({"x": 1, "y": [1, 2]}));
        let b = content_id(&serde_json::from_str(r#"{"y":[1,2],"x":1}"#).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn transcript_final_text_is_last_assistant() {
        let t = Transcript {
            messages: vec![
                Message::assistant("first"),
                Message::tool("1", "r"),
                Message::assistant("last"),
            ],
        };
        assert_eq!(t.final_text(), "last");
        assert_eq!(t.turns(), 2);
    }
}
