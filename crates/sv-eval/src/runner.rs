//! The evaluation runner: sample selection, episodes (multi-turn with tools), concurrency,
//! per-sample flushed results, resume, Ctrl-C handling and consecutive-failure stops.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sv_core::{Environment, LoadOptions, Message, Role, Sample, Transcript};
use sv_models::{ChatModel, ChatRequest, RequestContext, Sampling, Usage};

use crate::artifacts::{ResultRecord, ResultsWriter, model_slug, read_results, write_json};
use crate::summary::{report_markdown, summarize};

/// Options of one evaluation; stored in `metadata.json` so `--resume` needs nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalOptions {
    /// Environment name.
    pub env: String,
    /// Model spec.
    pub model: String,
    /// Number of samples (after the seeded shuffle); `None` = all.
    pub n: Option<usize>,
    /// Seed for sample selection and sampling.
    pub seed: u64,
    /// Split to evaluate (`all` for every split).
    pub split: String,
    /// Dataset file; `None` = the environment's embedded default.
    pub dataset: Option<PathBuf>,
    /// Dataset format override.
    pub format: Option<String>,
    /// Skip malformed dataset rows.
    pub skip_bad_rows: bool,
    /// Episodes in flight at once.
    pub concurrency: usize,
    /// Repeats per sample.
    pub repeats: u32,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Root of the artifacts tree.
    pub out: PathBuf,
    /// Stop after this many consecutive failed episodes (0 = never).
    pub max_consecutive_failures: usize,
    /// Base URL override of an OpenAI-compatible provider (kept so `--resume` reaches it).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every episode finished.
    Complete,
    /// Ctrl-C stopped dispatching.
    Interrupted,
    /// Too many consecutive failures.
    Stopped,
}

/// Result of [`run_eval`].
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The summary written to `summary.json`.
    pub summary: Value,
    /// How the run ended.
    pub status: RunStatus,
    /// Why it stopped early, when it did.
    pub stop_reason: Option<String>,
}

/// Live counters shown by the progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Episodes finished (this invocation).
    pub done: AtomicUsize,
    /// Episodes that ended with an error.
    pub errors: AtomicUsize,
    /// Episodes fully served from the cache.
    pub cache_hits: AtomicUsize,
}

/// Select the samples of a run: the split, sorted by id, seeded shuffle, first `n`.
pub fn select_samples(samples: &[Sample], split: &str, n: Option<usize>, seed: u64) -> Vec<Sample> {
    let mut chosen: Vec<Sample> = samples
        .iter()
        .filter(|s| split == "all" || s.split == split)
        .cloned()
        .collect();
    chosen.sort_by(|a, b| a.id.cmp(&b.id));
    chosen.dedup_by(|a, b| a.id == b.id);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    chosen.shuffle(&mut rng);
    if let Some(n) = n {
        chosen.truncate(n);
    }
    chosen
}

/// Load the dataset named by the options.
pub fn load_dataset(
    env: &dyn Environment,
    opts: &EvalOptions,
) -> anyhow::Result<sv_core::environment::Dataset> {
    Ok(match &opts.dataset {
        Some(p) => env.load_dataset(
            p,
            &LoadOptions {
                format: opts.format.clone(),
                skip_bad_rows: opts.skip_bad_rows,
            },
        )?,
        None => env.default_dataset()?,
    })
}

/// Run one episode: render, then up to `max_turns` model turns with tool calls in between.
///
/// Tool calls and scoring are synchronous and may be slow (scanners, sandboxed programs), so they
/// run on tokio's blocking pool, never on the async workers that drive the model requests.
pub async fn run_episode(
    env: &Arc<dyn Environment>,
    model: &dyn ChatModel,
    sample: &Sample,
    repeat: u32,
    sampling: &Sampling,
) -> ResultRecord {
    let start = Instant::now();
    let prompt = env.render(sample);
    let tools = if model.supports_tools() {
        env.tools()
    } else {
        Vec::new()
    };
    let mut transcript = Transcript::default();
    let mut usage = Usage::default();
    let mut error = None;
    let mut all_cached = true;
    let mut retries = 0;
    for turn in 0..env.max_turns().max(1) {
        let mut messages = prompt.clone();
        messages.extend(transcript.messages.iter().cloned());
        let req = ChatRequest {
            messages,
            tools: tools.clone(),
            sampling: sampling.clone(),
        };
        let ctx = RequestContext {
            sample_id: sample.id.clone(),
            repeat,
            turn: turn as u32,
        };
        match model.chat(&req, &ctx).await {
            Ok(resp) => {
                usage.add(resp.usage);
                all_cached &= resp.cached;
                retries += resp.retries;
                let calls = resp.tool_calls.clone();
                transcript.messages.push(Message {
                    role: Role::Assistant,
                    content: resp.text,
                    tool_calls: resp.tool_calls,
                    tool_call_id: None,
                });
                if calls.is_empty() {
                    break;
                }
                for call in calls {
                    let id = call.id.clone();
                    let content = blocking(env, sample, move |env, sample| {
                        env.call_tool(sample, &call).content
                    })
                    .await
                    .unwrap_or_else(|e| format!("tool failed: {e}"));
                    transcript.messages.push(Message::tool(id, content));
                }
            }
            Err(e) => {
                error = Some(e.to_string());
                all_cached = false;
                break;
            }
        }
    }
    let score = if error.is_none() {
        let t = transcript.clone();
        match blocking(env, sample, move |env, sample| env.score(sample, &t)).await {
            Ok(s) => Some(s),
            Err(e) => {
                error = Some(format!("scoring failed: {e}"));
                None
            }
        }
    } else {
        None
    };
    ResultRecord {
        sample_id: sample.id.clone(),
        repeat,
        split: sample.split.clone(),
        answer: sample.answer.clone(),
        prompt,
        completion: transcript.final_text().to_string(),
        transcript,
        parsed: score.as_ref().and_then(|s| s.parsed.clone()),
        parse_error: score.as_ref().and_then(|s| s.parse_error.clone()),
        components: score
            .as_ref()
            .map(|s| s.components.clone())
            .unwrap_or_default(),
        total: score.as_ref().map(|s| s.total),
        reward_version: env.reward_version().to_string(),
        error,
        latency_ms: start.elapsed().as_millis() as u64,
        usage,
        cached: all_cached,
        retries,
        meta: sample.meta.clone(),
    }
}

/// Run a synchronous environment call on the blocking pool; a panic becomes an error message.
async fn blocking<T: Send + 'static>(
    env: &Arc<dyn Environment>,
    sample: &Sample,
    f: impl FnOnce(&dyn Environment, &Sample) -> T + Send + 'static,
) -> Result<T, String> {
    let env = env.clone();
    let sample = sample.clone();
    tokio::task::spawn_blocking(move || f(env.as_ref(), &sample))
        .await
        .map_err(|e| e.to_string())
}

fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let suffix: u32 = rand::random::<u32>() & 0xffff;
    format!("{}-{suffix:04x}", now.format("%Y%m%dT%H%M%SZ"))
}

/// The run directory for new runs: `OUT/evals/sv-env-<env>--<model-slug>/<run_id>`.
pub fn new_run_dir(opts: &EvalOptions) -> PathBuf {
    opts.out
        .join("evals")
        .join(format!("sv-env-{}--{}", opts.env, model_slug(&opts.model)))
        .join(new_run_id())
}

/// Read the options of an existing run from its `metadata.json`.
pub fn read_run_options(run_dir: &Path) -> anyhow::Result<EvalOptions> {
    let path = run_dir.join("metadata.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (is this a run directory?)", path.display()))?;
    let meta: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: malformed metadata: {e}", path.display()))?;
    serde_json::from_value(meta["options"].clone())
        .map_err(|e| anyhow::anyhow!("{}: field `options`: {e}", path.display()))
}

/// Everything a run needs besides its options.
pub struct RunContext {
    /// The environment.
    pub env: Arc<dyn Environment>,
    /// The model, already wrapped with retries and cache as requested.
    pub model: Arc<dyn ChatModel>,
    /// Samples of the run.
    pub samples: Vec<Sample>,
    /// Dataset provenance.
    pub dataset: sv_core::environment::DatasetSource,
    /// Extra facts recorded in metadata (cache dir, retry policy, ...).
    pub extra_metadata: Value,
    /// Set to stop dispatching (Ctrl-C).
    pub cancel: Arc<AtomicBool>,
    /// Live counters for the progress display.
    pub progress: Arc<Progress>,
}

/// Run (or resume, when `run_dir` already holds results) an evaluation.
pub async fn run_eval(
    opts: &EvalOptions,
    ctx: RunContext,
    run_dir: PathBuf,
) -> anyhow::Result<RunOutcome> {
    std::fs::create_dir_all(&run_dir).map_err(|e| anyhow::anyhow!("{}: {e}", run_dir.display()))?;
    let env = ctx.env.clone();
    // Resume: keep finished episodes, drop failed ones (they are retried), never duplicate.
    let mut previous = read_results(&run_dir).map_err(|e| anyhow::anyhow!(e))?;
    let had_errors = previous.iter().any(|r| r.error.is_some());
    if had_errors {
        previous.retain(|r| r.error.is_none());
        rewrite_results(&run_dir, &previous)?;
    }
    let mut seen = HashSet::new();
    previous.retain(|r| seen.insert((r.sample_id.clone(), r.repeat)));
    let done: HashSet<(String, u32)> = seen;

    let started_at = chrono::Utc::now().to_rfc3339();
    let mut metadata = json!({
        "run_id": run_dir.file_name().map(|s| s.to_string_lossy().to_string()),
        "env": env.name(),
        "env_version": env.version(),
        "reward_version": env.reward_version(),
        "model": opts.model,
        "model_identity": ctx.model.cache_identity(),
        "sampling": opts.sampling,
        "seed": opts.seed,
        "split": opts.split,
        "repeats": opts.repeats,
        "n_samples": ctx.samples.len(),
        "dataset": ctx.dataset,
        "sv_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("SV_GIT_COMMIT"),
        "started_at": started_at,
        "status": "running",
        "options": opts,
        "harness": ctx.extra_metadata,
    });
    if let Ok(old) = std::fs::read_to_string(run_dir.join("metadata.json"))
        && let Ok(old) = serde_json::from_str::<Value>(&old)
    {
        if old["dataset"]["sha256"] != metadata["dataset"]["sha256"] {
            anyhow::bail!(
                "{}: the dataset changed since this run started (sha256 {} then, {} now); refusing to resume",
                run_dir.display(),
                old["dataset"]["sha256"],
                metadata["dataset"]["sha256"]
            );
        }
        metadata["started_at"] = old["started_at"].clone();
        metadata["resumed_at"] = json!(started_at);
    }
    write_json(&run_dir.join("metadata.json"), &metadata)?;

    let work: Vec<(Sample, u32)> = ctx
        .samples
        .iter()
        .flat_map(|s| (0..opts.repeats.max(1)).map(move |r| (s.clone(), r)))
        .filter(|(s, r)| !done.contains(&(s.id.clone(), *r)))
        .collect();

    let mut writer = ResultsWriter::open(&run_dir)?;
    let consecutive = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let max_fail = opts.max_consecutive_failures;
    let mut stream = futures::stream::iter(work.into_iter().map(|(sample, repeat)| {
        let env = env.clone();
        let model = ctx.model.clone();
        let sampling = opts.sampling.clone();
        let cancel = ctx.cancel.clone();
        let stop = stop.clone();
        async move {
            if cancel.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
                return None;
            }
            Some(run_episode(&env, model.as_ref(), &sample, repeat, &sampling).await)
        }
    }))
    .buffer_unordered(opts.concurrency.max(1));

    let mut stop_reason = None;
    while let Some(item) = stream.next().await {
        let Some(rec) = item else { continue };
        writer.append(&rec)?;
        ctx.progress.done.fetch_add(1, Ordering::Relaxed);
        if rec.cached {
            ctx.progress.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(err) = &rec.error {
            ctx.progress.errors.fetch_add(1, Ordering::Relaxed);
            let c = consecutive.fetch_add(1, Ordering::SeqCst) + 1;
            if max_fail > 0 && c >= max_fail && !stop.swap(true, Ordering::SeqCst) {
                stop_reason = Some(format!(
                    "stopped after {c} consecutive failed episodes; last error: {err}. Fix the cause, then resume with `sv eval --resume {}`",
                    run_dir.display()
                ));
            }
        } else {
            consecutive.store(0, Ordering::SeqCst);
        }
    }
    drop(stream);

    let records = read_results(&run_dir).map_err(|e| anyhow::anyhow!(e))?;
    let status = if stop_reason.is_some() {
        RunStatus::Stopped
    } else if ctx.cancel.load(Ordering::SeqCst) {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    let summary = summarize(env.as_ref(), &ctx.samples, &records);
    write_json(&run_dir.join("summary.json"), &summary)?;
    metadata["status"] = json!(status);
    metadata["ended_at"] = json!(chrono::Utc::now().to_rfc3339());
    metadata["usage"] = summary["usage"].clone();
    metadata["results"] = json!(records.len());
    if let Some(r) = &stop_reason {
        metadata["stop_reason"] = json!(r);
    }
    write_json(&run_dir.join("metadata.json"), &metadata)?;
    std::fs::write(
        run_dir.join("report.md"),
        report_markdown(&metadata, &summary),
    )?;
    Ok(RunOutcome {
        run_dir,
        summary,
        status,
        stop_reason,
    })
}

fn rewrite_results(run_dir: &Path, records: &[ResultRecord]) -> anyhow::Result<()> {
    let tmp = run_dir.join("results.jsonl.tmp");
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r)?);
        text.push('\n');
    }
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, run_dir.join("results.jsonl"))?;
    Ok(())
}

/// Read a completions file for `sv score`: one JSON object per line with `sample_id` (or `id`),
/// `completion` and optional `repeat`. Errors name the line and field.
pub fn read_completions(path: &Path) -> anyhow::Result<Vec<(String, u32, String)>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |field: &str, msg: &str| {
            anyhow::anyhow!("{}:{}: field `{field}`: {msg}", path.display(), i + 1)
        };
        let v: Value =
            serde_json::from_str(line).map_err(|e| at("<line>", &format!("invalid JSON: {e}")))?;
        let id = v
            .get("sample_id")
            .or_else(|| v.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| at("sample_id", "missing or not a string"))?;
        let completion = v
            .get("completion")
            .and_then(Value::as_str)
            .ok_or_else(|| at("completion", "missing or not a string"))?;
        let repeat = match v.get("repeat") {
            None | Some(Value::Null) => 0,
            Some(r) => r
                .as_u64()
                .ok_or_else(|| at("repeat", "not a non-negative integer"))?
                as u32,
        };
        out.push((id.to_string(), repeat, completion.to_string()));
    }
    Ok(out)
}

/// Score completions produced elsewhere: one episode per completion, written as a normal run.
pub fn score_completions(
    env: &Arc<dyn Environment>,
    samples: &[Sample],
    completions: &[(String, u32, String)],
    run_dir: &Path,
) -> anyhow::Result<Value> {
    use std::collections::HashMap;
    std::fs::create_dir_all(run_dir)?;
    let by_id: HashMap<&str, &Sample> = samples.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut writer = ResultsWriter::open(run_dir)?;
    let mut used = Vec::new();
    for (id, repeat, completion) in completions {
        let sample = by_id
            .get(id.as_str())
            .ok_or_else(|| anyhow::anyhow!("completion for unknown sample id `{id}`"))?;
        let transcript = Transcript::single(completion.clone());
        let score = env.score(sample, &transcript);
        writer.append(&ResultRecord {
            sample_id: id.clone(),
            repeat: *repeat,
            split: sample.split.clone(),
            answer: sample.answer.clone(),
            prompt: env.render(sample),
            completion: completion.clone(),
            transcript,
            parsed: score.parsed.clone(),
            parse_error: score.parse_error.clone(),
            components: score.components.clone(),
            total: Some(score.total),
            reward_version: env.reward_version().into(),
            error: None,
            latency_ms: 0,
            usage: Usage::default(),
            cached: false,
            retries: 0,
            meta: sample.meta.clone(),
        })?;
        used.push((*sample).clone());
    }
    let records = read_results(run_dir).map_err(|e| anyhow::anyhow!(e))?;
    Ok(summarize(env.as_ref(), &used, &records))
}
