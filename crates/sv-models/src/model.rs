//! The [`ChatModel`] trait and its request/response types.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sv_core::{Message, ToolCall, ToolSpec};

/// Sampling settings sent with every request (and part of the cache key).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Temperature; 0 means greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Maximum tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Seed for providers and local sampling that honour one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
}

/// One chat request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call (empty: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// Sampling settings.
    pub sampling: Sampling,
}

/// Which episode a request belongs to; used by replay and baseline models and by the cache key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// Sample id.
    pub sample_id: String,
    /// Repeat index (0-based).
    pub repeat: u32,
    /// Turn index within the episode (0-based).
    pub turn: u32,
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// Hit the token limit.
    Length,
    /// The model asked for tool calls.
    ToolCalls,
    /// Refused by a content filter.
    ContentFilter,
    /// Anything else the provider reported.
    Other,
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
}

impl Usage {
    /// Add another usage record.
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

/// One chat response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Text of the reply.
    pub text: String,
    /// Tool calls the model asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Token usage.
    pub usage: Usage,
    /// Wall time of the request (including retries), milliseconds.
    pub latency_ms: u64,
    /// Served from the response cache.
    #[serde(default)]
    pub cached: bool,
    /// Retries that were needed.
    #[serde(default)]
    pub retries: u32,
}

/// Errors from model calls.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelError {
    /// HTTP error status from the provider (body excerpt, never the key).
    #[error("HTTP {status} from {provider}: {message}")]
    Http {
        /// Provider name.
        provider: String,
        /// Status code.
        status: u16,
        /// Excerpt of the error body.
        message: String,
        /// Seconds the provider asked us to wait (`Retry-After`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_s: Option<f64>,
    },
    /// Connection failure or request timeout.
    #[error("transport error talking to {provider}: {message}")]
    Transport {
        /// Provider name.
        provider: String,
        /// What went wrong.
        message: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The provider answered with a body we could not understand.
    #[error("malformed response from {provider}: {message}")]
    Malformed {
        /// Provider name.
        provider: String,
        /// What was wrong.
        message: String,
    },
    /// Missing configuration (API key variable, unknown provider, model not provisioned).
    #[error("{0}")]
    Config(String),
    /// Local inference failure.
    #[error("local model error: {0}")]
    Local(String),
}

impl ModelError {
    /// Whether a retry may succeed: 429, 408, 5xx, transport errors and malformed (truncated) bodies.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Http { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            ModelError::Transport { .. } | ModelError::Malformed { .. } => true,
            ModelError::Config(_) | ModelError::Local(_) => false,
        }
    }
    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ModelError::Http {
                retry_after_s: Some(s),
                ..
            } if *s >= 0.0 => Some(Duration::from_secs_f64(*s)),
            _ => None,
        }
    }
}

/// A chat model: one provider, one model name.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// The model spec as given by the user, e.g. `openai/gpt-4.1-mini` (recorded in artifacts).
    fn spec(&self) -> &str;
    /// Identity for the cache key: provider, base URL and model name (never a key).
    fn cache_identity(&self) -> serde_json::Value;
    /// Whether native tool calling is supported (otherwise environments use single-turn variants).
    fn supports_tools(&self) -> bool {
        true
    }
    /// Send one request.
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError>;
}
