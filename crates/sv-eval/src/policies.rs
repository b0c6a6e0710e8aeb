//! Models that are not language models: an environment's built-in baseline and the replay of an
//! earlier run, both behind the `ChatModel` trait.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sv_core::{Environment, Policy, Role, Sample};
use sv_models::{
    ChatModel, ChatRequest, ChatResponse, FinishReason, ModelError, RequestContext, Usage,
};

use crate::artifacts::read_results;

/// An environment's baseline policy, run as a model (deterministic, instant).
pub struct BaselineModel {
    policy: Box<dyn Policy>,
    samples: HashMap<String, Sample>,
    spec: String,
}

impl BaselineModel {
    /// Build from the environment and the samples it will see.
    pub fn new(env: &Arc<dyn Environment>, samples: &[Sample]) -> Self {
        BaselineModel {
            policy: env.baseline(),
            samples: samples.iter().map(|s| (s.id.clone(), s.clone())).collect(),
            spec: "baseline".into(),
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for BaselineModel {
    fn spec(&self) -> &str {
        &self.spec
    }
    fn cache_identity(&self) -> serde_json::Value {
        serde_json::json!({"provider": "baseline", "policy": self.policy.name()})
    }
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError> {
        let sample = self.samples.get(&ctx.sample_id).ok_or_else(|| {
            ModelError::Config(format!("baseline: unknown sample id {}", ctx.sample_id))
        })?;
        let action = self.policy.act(sample, &req.messages);
        let finish_reason = if action.tool_calls.is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::ToolCalls
        };
        Ok(ChatResponse {
            text: action.text,
            tool_calls: action.tool_calls,
            finish_reason,
            usage: Usage::default(),
            latency_ms: 0,
            cached: false,
            retries: 0,
        })
    }
}

/// Answers from an earlier run's results, matched by sample id and repeat.
pub struct ReplayModel {
    spec: String,
    answers: HashMap<(String, u32), Vec<String>>,
}

impl ReplayModel {
    /// Load the results of `run_dir`.
    pub fn open(run_dir: &Path) -> Result<Self, ModelError> {
        let records = read_results(run_dir).map_err(ModelError::Config)?;
        if records.is_empty() {
            return Err(ModelError::Config(format!(
                "replay: {} has no results.jsonl records",
                run_dir.display()
            )));
        }
        let mut answers = HashMap::new();
        for r in records {
            let texts: Vec<String> = r
                .transcript
                .messages
                .iter()
                .filter(|m| m.role == Role::Assistant)
                .map(|m| m.content.clone())
                .collect();
            answers.insert((r.sample_id, r.repeat), texts);
        }
        Ok(ReplayModel {
            spec: format!("replay/{}", run_dir.display()),
            answers,
        })
    }
}

#[async_trait::async_trait]
impl ChatModel for ReplayModel {
    fn spec(&self) -> &str {
        &self.spec
    }
    fn cache_identity(&self) -> serde_json::Value {
        serde_json::json!({"provider": "replay", "run": self.spec})
    }
    fn supports_tools(&self) -> bool {
        false
    }
    async fn chat(
        &self,
        _req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError> {
        let texts = self
            .answers
            .get(&(ctx.sample_id.clone(), ctx.repeat))
            .ok_or_else(|| {
                ModelError::Config(format!(
                    "replay: no answer for sample {} repeat {}",
                    ctx.sample_id, ctx.repeat
                ))
            })?;
        let text = texts
            .get(ctx.turn as usize)
            .or(texts.last())
            .cloned()
            .unwrap_or_default();
        Ok(ChatResponse {
            text,
            tool_calls: Vec::new(),
            finish_reason: FinishReason::Stop,
            usage: Usage::default(),
            latency_ms: 0,
            cached: false,
            retries: 0,
        })
    }
}
