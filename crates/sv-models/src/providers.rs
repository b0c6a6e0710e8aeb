//! HTTP providers. The OpenAI-compatible `/chat/completions` wire format covers OpenAI, vLLM,
//! Ollama, llama.cpp server, TGI, LiteLLM and OpenRouter, tool calls included.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sv_core::{Message, Role, ToolCall};

use crate::config::{Config, ProviderKind};
use crate::{
    ChatModel, ChatRequest, ChatResponse, FinishReason, ModelError, RequestContext, Usage,
};

/// Per-run overrides of provider settings.
#[derive(Debug, Clone, Default)]
pub struct ProviderOverrides {
    /// Base URL override (OpenAI-compatible providers only).
    pub base_url: Option<String>,
    /// Per-request timeout.
    pub timeout: Option<Duration>,
}

/// Built-in OpenAI-compatible providers: (name, default base URL, key variable, base URL variable).
const BUILTIN: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    (
        "openai",
        "https://api.openai.com/v1",
        Some("OPENAI_API_KEY"),
        None,
    ),
    (
        "openrouter",
        "https://openrouter.ai/api/v1",
        Some("OPENROUTER_API_KEY"),
        None,
    ),
    (
        "ollama",
        "http://localhost:11434/v1",
        None,
        Some("OLLAMA_BASE_URL"),
    ),
    (
        "vllm",
        "http://localhost:8000/v1",
        None,
        Some("VLLM_BASE_URL"),
    ),
];

/// Build the model named by `provider/model`.
pub fn build_model(
    spec: &str,
    cfg: &Config,
    ov: &ProviderOverrides,
) -> Result<Box<dyn ChatModel>, ModelError> {
    let Some((provider, model)) = spec.split_once('/') else {
        return Err(ModelError::Config(format!(
            "model spec `{spec}` must be provider/model"
        )));
    };
    if model.is_empty() {
        return Err(ModelError::Config(format!(
            "model spec `{spec}` names no model"
        )));
    }
    let timeout = ov.timeout.unwrap_or(Duration::from_secs(120));
    let key_from = |var: &str, required: bool| -> Result<Option<String>, ModelError> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            _ if required => Err(ModelError::Config(format!(
                "provider `{provider}` needs an API key in the environment variable {var}"
            ))),
            _ => Ok(None),
        }
    };
    if let Some(pc) = cfg.providers.get(provider) {
        if pc.kind != ProviderKind::Openai {
            return Err(ModelError::Config(format!(
                "provider `{provider}`: kind {:?} is not supported in this release (only \"openai\")",
                pc.kind
            )));
        }
        let key = match &pc.api_key_env {
            Some(var) => key_from(var, true)?,
            None => None,
        };
        let base = ov.base_url.clone().unwrap_or_else(|| pc.base_url.clone());
        return Ok(Box::new(OpenAiCompat::new(
            spec, provider, &base, model, key, timeout,
        )?));
    }
    if let Some((name, url, key_var, url_var)) = BUILTIN.iter().find(|b| b.0 == provider) {
        let key = match key_var {
            Some(v) => key_from(v, ov.base_url.is_none())?,
            None if *name == "vllm" => key_from("VLLM_API_KEY", false)?,
            None => None,
        };
        let base = ov
            .base_url
            .clone()
            .or_else(|| {
                url_var
                    .and_then(|v| std::env::var(v).ok())
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| url.to_string());
        return Ok(Box::new(OpenAiCompat::new(
            spec, provider, &base, model, key, timeout,
        )?));
    }
    let mut known: Vec<&str> = BUILTIN.iter().map(|b| b.0).collect();
    known.extend(cfg.providers.keys().map(String::as_str));
    Err(ModelError::Config(format!(
        "unknown provider `{provider}`; known: baseline, replay, local, {}",
        known.join(", ")
    )))
}

/// A client of the OpenAI-compatible chat completions API.
pub struct OpenAiCompat {
    spec: String,
    provider: String,
    base_url: String,
    model: String,
    key: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for OpenAiCompat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompat")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl OpenAiCompat {
    /// A client for `model` at `base_url`.
    pub fn new(
        spec: &str,
        provider: &str,
        base_url: &str,
        model: &str,
        key: Option<String>,
        timeout: Duration,
    ) -> Result<Self, ModelError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ModelError::Config(format!("HTTP client: {e}")))?;
        Ok(OpenAiCompat {
            spec: spec.into(),
            provider: provider.into(),
            base_url: base_url.trim_end_matches('/').into(),
            model: model.into(),
            key,
            client,
        })
    }

    fn body(&self, req: &ChatRequest) -> Value {
        let messages: Vec<Value> = req.messages.iter().map(wire_message).collect();
        let mut body = json!({"model": self.model, "messages": messages});
        let s = &req.sampling;
        if let Some(t) = s.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(p) = s.top_p {
            body["top_p"] = json!(p);
        }
        if let Some(m) = s.max_tokens {
            body["max_tokens"] = json!(m);
        }
        if let Some(seed) = s.seed {
            body["seed"] = json!(seed);
        }
        if !s.stop.is_empty() {
            body["stop"] = json!(s.stop);
        }
        if !req.tools.is_empty() {
            body["tools"] = Value::Array(
                req.tools
                    .iter()
                    .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                    .collect(),
            );
        }
        body
    }

    fn malformed(&self, msg: impl Into<String>) -> ModelError {
        ModelError::Malformed {
            provider: self.provider.clone(),
            message: msg.into(),
        }
    }
}

fn wire_message(m: &Message) -> Value {
    let role = match m.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut v = json!({"role": role, "content": m.content});
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = Value::Array(
            m.tool_calls
                .iter()
                .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
                .collect(),
        );
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = json!(id);
    }
    v
}

/// Seconds from a `Retry-After` header (delta-seconds form).
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<f64> {
    h.get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
}

/// Parse an OpenAI-compatible chat completion body.
pub fn parse_completion(provider: &str, body: &str) -> Result<ChatResponse, ModelError> {
    let bad = |m: String| ModelError::Malformed {
        provider: provider.into(),
        message: m,
    };
    let v: Value =
        serde_json::from_str(body).map_err(|e| bad(format!("invalid JSON body: {e}")))?;
    let choice = v
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| bad("field `choices[0]` missing".into()))?;
    let msg = choice
        .get("message")
        .ok_or_else(|| bad("field `choices[0].message` missing".into()))?;
    let text = msg
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut tool_calls = Vec::new();
    if let Some(calls) = msg.get("tool_calls").and_then(Value::as_array) {
        for (i, c) in calls.iter().enumerate() {
            let f = c
                .get("function")
                .ok_or_else(|| bad(format!("field `tool_calls[{i}].function` missing")))?;
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("field `tool_calls[{i}].function.name` missing")))?;
            let args = match f.get("arguments") {
                Some(Value::String(s)) => {
                    serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                }
                Some(other) => other.clone(),
                None => json!({}),
            };
            let id = c
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("call_{i}"));
            tool_calls.push(ToolCall {
                id,
                name: name.into(),
                arguments: args,
            });
        }
    }
    let finish_reason = match choice.get("finish_reason").and_then(Value::as_str) {
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(_) => FinishReason::Other,
    };
    let u = v.get("usage");
    let n = |k: &str| {
        u.and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(ChatResponse {
        text,
        tool_calls,
        finish_reason,
        usage: Usage {
            prompt_tokens: n("prompt_tokens"),
            completion_tokens: n("completion_tokens"),
        },
        latency_ms: 0,
        cached: false,
        retries: 0,
    })
}

#[async_trait::async_trait]
impl ChatModel for OpenAiCompat {
    fn spec(&self) -> &str {
        &self.spec
    }
    fn cache_identity(&self) -> Value {
        json!({"provider": self.provider, "base_url": self.base_url, "model": self.model})
    }
    async fn chat(
        &self,
        req: &ChatRequest,
        _ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError> {
        let start = Instant::now();
        let mut r = self
            .client
            .post(format!("{}/chat/completions", self.base_url))
            .json(&self.body(req));
        if let Some(k) = &self.key {
            r = r.bearer_auth(k);
        }
        let transport = |e: reqwest::Error| {
            let timeout = e.is_timeout();
            ModelError::Transport {
                provider: self.provider.clone(),
                message: e.without_url().to_string(),
                timeout,
            }
        };
        let resp = r.send().await.map_err(transport)?;
        let status = resp.status();
        let ra = retry_after(resp.headers());
        let body = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                transport(e)
            } else {
                self.malformed(format!("reading body: {}", e.without_url()))
            }
        })?;
        if !status.is_success() {
            let message: String = body.chars().take(500).collect();
            let message = match &self.key {
                Some(k) if !k.is_empty() => message.replace(k.as_str(), "<redacted>"),
                _ => message,
            };
            return Err(ModelError::Http {
                provider: self.provider.clone(),
                status: status.as_u16(),
                message,
                retry_after_s: ra,
            });
        }
        let mut out = parse_completion(&self.provider, &body)?;
        out.latency_ms = start.elapsed().as_millis() as u64;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tool_calls_and_usage() {
        let body = r#"{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"run_policy","arguments":"{\"path\":\"a.yaml\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7}}"#;
        let r = parse_completion("openai", body).unwrap();
        assert_eq!(r.tool_calls[0].name, "run_policy");
        assert_eq!(r.tool_calls[0].arguments["path"], "a.yaml");
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.usage.completion_tokens, 7);
    }

    #[test]
    fn truncated_and_malformed_bodies_are_errors() {
        for b in ["{\"choices\": [{\"mess", "not json", "{}"] {
            let e = parse_completion("openai", b).unwrap_err();
            assert!(matches!(e, ModelError::Malformed { .. }) && e.is_retryable());
        }
    }

    #[test]
    fn missing_key_names_the_variable_and_debug_redacts() {
        let cfg = Config::default();
        // SAFETY: single-threaded access in this test; no other test reads this variable.
        unsafe { std::env::remove_var("OPENROUTER_API_KEY") };
        let err = build_model("openrouter/x", &cfg, &ProviderOverrides::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("OPENROUTER_API_KEY"));
        let m = OpenAiCompat::new(
            "openai/x",
            "openai",
            "http://h/v1",
            "x",
            Some("sk-SECRET".into()),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(!format!("{m:?}").contains("sk-SECRET"));
        assert!(
            build_model("nope/x", &cfg, &ProviderOverrides::default())
                .err()
                .unwrap()
                .to_string()
                .contains("unknown provider")
        );
    }
}
