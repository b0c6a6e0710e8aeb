//! `sv eval`: run (or resume) an evaluation and print its summary.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, bail};
use sv_eval::runner::{self, EvalOptions, RunContext, RunStatus};
use sv_models::Sampling;

/// Arguments of `sv eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// Environment name (see `sv envs`); optional with --resume.
    env: Option<String>,
    /// Model spec: baseline, local/smollm2, openai/gpt-4.1-mini, replay/RUN_DIR, ...
    #[arg(long, default_value = "baseline")]
    model: String,
    /// Number of samples (seeded shuffle, then the first N).
    #[arg(short = 'n', long)]
    n: Option<usize>,
    /// Seed for sample selection and sampling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Split to evaluate (`all` for every split).
    #[arg(long, default_value = "test")]
    split: String,
    /// Dataset file (default: the environment's embedded dataset).
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Dataset format (when it cannot be inferred).
    #[arg(long)]
    format: Option<String>,
    /// Skip malformed dataset rows (counted in metadata).
    #[arg(long)]
    skip_bad_rows: bool,
    /// Episodes in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Repeats per sample.
    #[arg(long, default_value_t = 1)]
    repeats: u32,
    /// Sampling temperature.
    #[arg(long)]
    temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[arg(long)]
    top_p: Option<f64>,
    /// Maximum tokens per reply.
    #[arg(long)]
    max_tokens: Option<u32>,
    /// Root of the artifacts tree.
    #[arg(long, default_value = "outputs")]
    out: PathBuf,
    /// Resume a killed or interrupted run.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Do not read or write the response cache.
    #[arg(long)]
    no_cache: bool,
    /// Response cache directory.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Base URL override for OpenAI-compatible providers.
    #[arg(long)]
    base_url: Option<String>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Retries per request on 429/408/5xx/timeouts.
    #[arg(long, default_value_t = 5)]
    max_retries: u32,
    /// Requests per minute limit.
    #[arg(long)]
    rpm: Option<u32>,
    /// Stop after this many consecutive failed episodes (0 = never).
    #[arg(long, default_value_t = 10)]
    max_consecutive_failures: usize,
    /// Threads for the local model (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Run (or resume) an evaluation.
pub fn run(
    registry: &sv_core::Registry,
    config: Option<&std::path::Path>,
    a: EvalArgs,
) -> Result<ExitCode> {
    let (opts, run_dir) = match &a.resume {
        Some(dir) => (runner::read_run_options(dir)?, dir.clone()),
        None => {
            let Some(env) = a.env.clone() else {
                bail!("give an environment name (see `sv envs`) or --resume RUN_DIR")
            };
            let opts = EvalOptions {
                env,
                model: a.model.clone(),
                n: a.n,
                seed: a.seed,
                split: a.split.clone(),
                dataset: a.dataset.clone(),
                format: a.format.clone(),
                skip_bad_rows: a.skip_bad_rows,
                concurrency: a.concurrency,
                repeats: a.repeats,
                sampling: Sampling {
                    temperature: a.temperature,
                    top_p: a.top_p,
                    max_tokens: a.max_tokens,
                    seed: Some(a.seed),
                    stop: Vec::new(),
                },
                out: a.out.clone(),
                max_consecutive_failures: a.max_consecutive_failures,
                base_url: a.base_url.clone(),
            };
            let dir = runner::new_run_dir(&opts);
            (opts, dir)
        }
    };
    let env = crate::get_env(registry, &opts.env)?;
    let dataset = runner::load_dataset(env.as_ref(), &opts)?;
    let samples = runner::select_samples(&dataset.samples, &opts.split, opts.n, opts.seed);
    if samples.is_empty() {
        bail!(
            "no samples in split `{}` of {} (use --split all or another split)",
            opts.split,
            dataset.source.path
        );
    }
    let settings = sv_eval::resolve::ModelSettings {
        config: config.map(|p| p.to_path_buf()),
        base_url: a.base_url.clone().or_else(|| opts.base_url.clone()),
        timeout: Duration::from_secs_f64(a.timeout.max(0.001)),
        max_retries: a.max_retries,
        rpm: a.rpm,
        no_cache: a.no_cache,
        cache_dir: a.cache_dir.clone(),
        threads: a.threads,
    };
    crate::runtime()?.block_on(async move {
        let resolved = sv_eval::resolve::resolve_model(&opts.model, &env, &samples, &settings)?;
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let progress = Arc::new(runner::Progress::default());
        {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\ninterrupted: finishing episodes in flight, then writing a partial summary");
                    cancel.store(true, Ordering::SeqCst);
                }
            });
        }
        let total = samples.len() * opts.repeats.max(1) as usize;
        let bar = sv_eval::progress::start(total, progress.clone(), resolved.retry_stats.clone(), a.quiet || a.json);
        let ctx = RunContext {
            env: env.clone(),
            model: resolved.model,
            samples,
            dataset: dataset.source.clone(),
            extra_metadata: resolved.metadata,
            cancel: cancel.clone(),
            progress,
        };
        let outcome = runner::run_eval(&opts, ctx, run_dir).await;
        bar.finish();
        let outcome = outcome?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&outcome.summary)?);
        } else {
            print_summary(&outcome.summary);
            println!("artifacts: {}", outcome.run_dir.display());
        }
        if let Some(r) = &outcome.stop_reason {
            eprintln!("error: {r}");
        }
        Ok(match outcome.status {
            RunStatus::Complete => ExitCode::SUCCESS,
            RunStatus::Interrupted => {
                eprintln!("resume with: sv eval --resume {}", outcome.run_dir.display());
                ExitCode::from(130)
            }
            RunStatus::Stopped => ExitCode::from(3),
        })
    })
}

/// Print the one-screen summary of a run.
pub fn print_summary(s: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let r = &s["reward"];
    let _ = writeln!(
        out,
        "{} n={} errors={} parse_failures={:.3} reward={:.4} [{:.4}, {:.4}]",
        s["env"].as_str().unwrap_or("?"),
        s["n"],
        s["errors"],
        s["parse_failure_rate"].as_f64().unwrap_or(0.0),
        r["mean"].as_f64().unwrap_or(0.0),
        r["ci95"][0].as_f64().unwrap_or(0.0),
        r["ci95"][1].as_f64().unwrap_or(0.0),
    );
    if let Some(m) = s["metrics"].as_object() {
        let nums: Vec<String> = m
            .iter()
            .filter_map(|(k, v)| v.as_f64().map(|f| format!("{k}={f:.4}")))
            .collect();
        let _ = writeln!(out, "  {}", nums.join(" "));
    }
}
