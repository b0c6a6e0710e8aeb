//! `sv bench harness`: the harness's own overhead against a mock provider with fixed latency.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sv_core::Environment;
use sv_models::{
    ChatModel, ChatRequest, ChatResponse, FinishReason, ModelError, RequestContext, Usage,
};

use crate::runner::{EvalOptions, Progress, RunContext, run_eval};

/// A provider that answers every request after a fixed delay.
pub struct FixedLatencyModel {
    /// Delay per request.
    pub latency: Duration,
}

#[async_trait::async_trait]
impl ChatModel for FixedLatencyModel {
    fn spec(&self) -> &str {
        "mock/fixed-latency"
    }
    fn cache_identity(&self) -> Value {
        json!({"provider": "mock"})
    }
    async fn chat(
        &self,
        _req: &ChatRequest,
        _ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError> {
        tokio::time::sleep(self.latency).await;
        Ok(ChatResponse {
            text: "{\"label\": \"Benign\", \"confidence\": 0.7}".into(),
            tool_calls: Vec::new(),
            finish_reason: FinishReason::Stop,
            usage: Usage {
                prompt_tokens: 150,
                completion_tokens: 12,
            },
            latency_ms: self.latency.as_millis() as u64,
            cached: false,
            retries: 0,
        })
    }
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process from /proc/self/stat (fields 14 and 15, in clock ticks).
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Run the harness benchmark and return its figures.
pub async fn harness(
    env: Arc<dyn Environment>,
    samples: usize,
    concurrency: usize,
    latency: Duration,
    out: &std::path::Path,
) -> anyhow::Result<Value> {
    let base = env.default_dataset()?.samples;
    anyhow::ensure!(!base.is_empty(), "the default dataset is empty");
    let chosen: Vec<sv_core::Sample> = (0..samples)
        .map(|i| {
            let mut s = base[i % base.len()].clone();
            s.id = format!("{}-{}", s.id, i / base.len());
            s
        })
        .collect();
    let opts = EvalOptions {
        env: env.name().into(),
        model: "mock/fixed-latency".into(),
        n: Some(samples),
        seed: 7,
        split: "bench".into(),
        dataset: None,
        format: None,
        skip_bad_rows: false,
        concurrency,
        repeats: 1,
        sampling: Default::default(),
        out: out.to_path_buf(),
        max_consecutive_failures: 0,
        base_url: None,
    };
    let dataset = env.default_dataset()?.source;
    let ctx = RunContext {
        env: env.clone(),
        model: Arc::new(FixedLatencyModel { latency }),
        samples: chosen,
        dataset,
        extra_metadata: json!({"kind": "bench"}),
        cancel: Arc::new(AtomicBool::new(false)),
        progress: Arc::new(Progress::default()),
    };
    let run_dir = crate::runner::new_run_dir(&opts);
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let outcome = run_eval(&opts, ctx, run_dir).await?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let ideal = (samples as f64 / concurrency as f64).ceil() * latency.as_secs_f64();
    Ok(json!({
        "samples": samples,
        "concurrency": concurrency,
        "latency_ms": latency.as_millis() as u64,
        "wall_s": wall,
        "ideal_s": ideal,
        "ideal_over_wall": ideal / wall,
        "cpu_s": cpu,
        "cpu_ms_per_sample": cpu * 1000.0 / samples as f64,
        "results": outcome.summary["n"],
        "run_dir": outcome.run_dir,
    }))
}
