//! Turning a model spec into a ready `ChatModel`: built-in policies (`baseline`, `replay/DIR`),
//! the local GGUF model (`local/...`), or an HTTP provider wrapped with retries, rate limits
//! and the response cache.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sv_core::{Environment, Sample};
use sv_models::cache::{Cached, ResponseCache, default_cache_dir};
use sv_models::config::Config;
use sv_models::providers::{ProviderOverrides, build_model};
use sv_models::retry::{RateLimiter, Resilient, RetryPolicy, RetryStats};
use sv_models::{ChatModel, ModelError};

use crate::policies::{BaselineModel, ReplayModel};

/// Settings that shape how a model is reached.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// Provider configuration file.
    pub config: Option<PathBuf>,
    /// Base URL override (OpenAI-compatible providers).
    pub base_url: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries per request.
    pub max_retries: u32,
    /// Requests-per-minute limit.
    pub rpm: Option<u32>,
    /// Disable the response cache.
    pub no_cache: bool,
    /// Cache directory override.
    pub cache_dir: Option<PathBuf>,
    /// Threads for local inference.
    pub threads: Option<usize>,
}

/// A resolved model plus what the run records about it.
pub struct Resolved {
    /// The model, wrapped as configured.
    pub model: Arc<dyn ChatModel>,
    /// Retry counters (HTTP providers only).
    pub retry_stats: Option<Arc<RetryStats>>,
    /// Facts for `metadata.json` (cache directory, retry policy).
    pub metadata: Value,
}

/// Resolve `spec` for a run of `env` over `samples`.
pub fn resolve_model(
    spec: &str,
    env: &Arc<dyn Environment>,
    samples: &[Sample],
    s: &ModelSettings,
) -> Result<Resolved, ModelError> {
    if spec == "baseline" {
        return Ok(Resolved {
            model: Arc::new(BaselineModel::new(env, samples)),
            retry_stats: None,
            metadata: json!({"kind": "baseline", "policy": env.baseline().name()}),
        });
    }
    if let Some(dir) = spec.strip_prefix("replay/") {
        return Ok(Resolved {
            model: Arc::new(ReplayModel::open(Path::new(dir))?),
            retry_stats: None,
            metadata: json!({"kind": "replay", "run_dir": dir}),
        });
    }
    let (inner, kind): (Arc<dyn ChatModel>, &str) = if let Some(rest) = spec.strip_prefix("local/")
    {
        (
            Arc::new(sv_models::local::LocalChat::from_spec(rest, s.threads)?),
            "local",
        )
    } else {
        let cfg = Config::discover(s.config.as_deref())?;
        let overrides = ProviderOverrides {
            base_url: s.base_url.clone(),
            timeout: Some(s.timeout),
        };
        (Arc::from(build_model(spec, &cfg, &overrides)?), "http")
    };
    let stats = Arc::new(RetryStats::default());
    let policy = RetryPolicy {
        max_retries: s.max_retries,
        ..RetryPolicy::default()
    };
    let limiter = s.rpm.map(RateLimiter::per_minute);
    let mut model: Arc<dyn ChatModel> = if kind == "http" {
        Arc::new(Resilient::new(
            inner,
            policy.clone(),
            limiter,
            stats.clone(),
        ))
    } else {
        inner
    };
    let cache_dir = s.cache_dir.clone().unwrap_or_else(default_cache_dir);
    if !s.no_cache {
        let cache = ResponseCache::open(&cache_dir)?;
        model = Arc::new(Cached::new(model, Arc::new(cache)));
    }
    Ok(Resolved {
        model,
        retry_stats: Some(stats),
        metadata: json!({
            "kind": kind,
            "cache": if s.no_cache { Value::Null } else { json!(cache_dir) },
            "max_retries": s.max_retries,
            "rpm": s.rpm,
            "timeout_s": s.timeout.as_secs_f64(),
        }),
    })
}

/// Built-in providers: (name, wire format, default base URL or note).
pub fn builtin_providers() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "baseline",
            "policy",
            "the environment's built-in baseline (offline, deterministic)",
        ),
        (
            "replay",
            "policy",
            "replay/RUN_DIR: answers from an earlier run",
        ),
        (
            "local",
            "gguf",
            "local/smollm2 or local/PATH.gguf (candle, offline)",
        ),
        (
            "openai",
            "openai",
            "https://api.openai.com/v1 (OPENAI_API_KEY)",
        ),
        (
            "anthropic",
            "anthropic",
            "https://api.anthropic.com (ANTHROPIC_API_KEY)",
        ),
        (
            "gemini",
            "gemini",
            "https://generativelanguage.googleapis.com (GEMINI_API_KEY)",
        ),
        (
            "openrouter",
            "openai",
            "https://openrouter.ai/api/v1 (OPENROUTER_API_KEY)",
        ),
        (
            "ollama",
            "openai",
            "http://localhost:11434/v1 (OLLAMA_BASE_URL)",
        ),
        (
            "vllm",
            "openai",
            "http://localhost:8000/v1 (VLLM_BASE_URL, VLLM_API_KEY)",
        ),
    ]
}

/// Print the local models and whether they are provisioned.
pub fn print_local_models() {
    println!("{:<12} {:<12} PATH", "LOCAL MODEL", "STATE");
    for m in sv_models::local::list_local() {
        let state = if m.provisioned {
            "provisioned"
        } else {
            "missing"
        };
        println!("{:<12} {:<12} {}", m.name, state, m.path.display());
        if !m.provisioned {
            println!(
                "{:<12} {:<12} provision with: sv models pull {}",
                "", "", m.name
            );
        }
    }
}

/// Provision a local model.
pub fn pull_local(name: &str, from: Option<&Path>) -> Result<PathBuf, ModelError> {
    match name {
        "smollm2" => sv_models::local::pull_smollm2(from),
        other => Err(ModelError::Config(format!(
            "unknown local model `{other}`; known: smollm2"
        ))),
    }
}
