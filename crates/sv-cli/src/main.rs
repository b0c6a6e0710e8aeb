//! `sv`: the Security Verifiers command line. Argument parsing and printing only; the work is
//! done by the library crates.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sv_eval::runner::{self, EvalOptions, RunContext, RunStatus};
use sv_models::Sampling;

/// Benchmark and improve language models on security work with verifiable rewards.
#[derive(Parser)]
#[command(name = "sv", version, about)]
struct Cli {
    /// Provider configuration file (default: $SV_CONFIG, then ./sv.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List environments.
    Envs {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a model on an environment.
    Eval(Box<EvalArgs>),
    /// Score completions produced elsewhere.
    Score {
        /// Environment name.
        env: String,
        /// Dataset file the completions answer.
        #[arg(long)]
        dataset: PathBuf,
        /// JSONL with `sample_id` and `completion` per line.
        #[arg(long)]
        completions: PathBuf,
        /// Dataset format override.
        #[arg(long)]
        format: Option<String>,
        /// Root of the artifacts tree.
        #[arg(long, default_value = "outputs")]
        out: PathBuf,
    },
    /// Dataset generation and import.
    Data {
        /// Environment name.
        env: String,
        #[command(subcommand)]
        action: DataCmd,
    },
    /// Providers and local models.
    Models {
        #[command(subcommand)]
        action: ModelsCmd,
    },
    /// Benchmarks (figures for BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Harness overhead against a mock provider with fixed latency.
    Harness {
        /// Samples.
        #[arg(long, default_value_t = 2000)]
        samples: usize,
        /// Concurrency.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Mock latency in milliseconds.
        #[arg(long, default_value_t = 200)]
        latency_ms: u64,
        /// Environment.
        #[arg(long, default_value = "network-logs")]
        env: String,
        /// Where the benchmark run's artifacts go.
        #[arg(long, default_value = "outputs/bench")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct EvalArgs {
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

#[derive(Subcommand)]
enum DataCmd {
    /// Generate a synthetic dataset.
    Generate {
        /// Number of samples.
        #[arg(long, default_value_t = 1000)]
        n: usize,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Share of malicious flows.
        #[arg(long, default_value_t = 0.5)]
        malicious_share: f64,
        /// Output JSONL file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a public dataset file.
    Import {
        /// Input file.
        input: PathBuf,
        /// Input format: nsl-kdd, cic-ids-2017, unsw-nb15, iot23, jsonl.
        #[arg(long)]
        format: String,
        /// Output JSONL file.
        #[arg(long)]
        out: PathBuf,
        /// Skip malformed rows instead of failing.
        #[arg(long)]
        skip_bad_rows: bool,
    },
}

#[derive(Subcommand)]
enum ModelsCmd {
    /// List providers and local models.
    List,
    /// Provision a local model (smollm2).
    Pull {
        /// Model name.
        name: String,
        /// Copy from this local file instead of downloading.
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SV_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let registry = sv_envs::registry();
    match cli.cmd {
        Cmd::Envs { json } => {
            if json {
                let list: Vec<_> = registry
                    .all()
                    .iter()
                    .map(|e| {
                        serde_json::json!({"name": e.name(), "version": e.version(),
                        "reward_version": e.reward_version(), "description": e.description(),
                        "tools": !e.tools().is_empty(), "output_schema": e.output_schema()})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<22} {:<9} {:<7} DESCRIPTION",
                    "NAME", "VERSION", "REWARD"
                );
                for e in registry.all() {
                    println!(
                        "{:<22} {:<9} {:<7} {}",
                        e.name(),
                        e.version(),
                        e.reward_version(),
                        e.description()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Eval(args) => eval(&registry, cli.config.as_deref(), *args),
        Cmd::Score {
            env,
            dataset,
            completions,
            format,
            out,
        } => {
            let env = get_env(&registry, &env)?;
            let ds = env.load_dataset(
                &dataset,
                &sv_core::LoadOptions {
                    format,
                    skip_bad_rows: false,
                },
            )?;
            let comps = runner::read_completions(&completions)?;
            let opts = EvalOptions {
                env: env.name().into(),
                model: format!("completions/{}", completions.display()),
                n: None,
                seed: 0,
                split: "all".into(),
                dataset: Some(dataset.clone()),
                format: None,
                skip_bad_rows: false,
                concurrency: 1,
                repeats: 1,
                sampling: Sampling::default(),
                out,
                max_consecutive_failures: 0,
                base_url: None,
            };
            let run_dir = runner::new_run_dir(&opts);
            let summary = runner::score_completions(&env, &ds.samples, &comps, &run_dir)?;
            let metadata = serde_json::json!({
                "run_id": run_dir.file_name().map(|s| s.to_string_lossy().to_string()),
                "env": env.name(), "env_version": env.version(), "reward_version": env.reward_version(),
                "model": opts.model, "dataset": ds.source, "status": "complete",
                "completions_sha256": sv_eval::artifacts::file_sha256(&completions)?,
                "sv_version": env!("CARGO_PKG_VERSION"), "options": opts,
            });
            sv_eval::artifacts::write_json(&run_dir.join("metadata.json"), &metadata)?;
            sv_eval::artifacts::write_json(&run_dir.join("summary.json"), &summary)?;
            std::fs::write(
                run_dir.join("report.md"),
                sv_eval::summary::report_markdown(&metadata, &summary),
            )?;
            print_summary(&summary);
            println!("artifacts: {}", run_dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Data { env, action } => data(&env, action),
        Cmd::Models { action } => models(action),
        Cmd::Bench {
            what:
                BenchCmd::Harness {
                    samples,
                    concurrency,
                    latency_ms,
                    env,
                    out,
                },
        } => {
            let env = get_env(&registry, &env)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let figures = rt.block_on(sv_eval::bench::harness(
                env,
                samples,
                concurrency,
                Duration::from_millis(latency_ms),
                &out,
            ))?;
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn get_env(registry: &sv_core::Registry, name: &str) -> Result<Arc<dyn sv_core::Environment>> {
    registry.get(name).with_context(|| {
        format!(
            "unknown environment `{name}`; known: {}",
            registry.names().join(", ")
        )
    })
}

fn eval(
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
    let env = get_env(registry, &opts.env)?;
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
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

fn print_summary(s: &serde_json::Value) {
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

fn data(env: &str, action: DataCmd) -> Result<ExitCode> {
    if env != "network-logs" {
        bail!("`sv data` supports: network-logs");
    }
    match action {
        DataCmd::Generate {
            n,
            seed,
            malicious_share,
            out,
        } => {
            let samples = sv_envs::network_logs::generate(n, seed, malicious_share);
            sv_envs::network_logs::write_samples(&samples, &out)?;
            println!("wrote {} samples to {}", samples.len(), out.display());
        }
        DataCmd::Import {
            input,
            format,
            out,
            skip_bad_rows,
        } => {
            let report = sv_envs::network_logs::import(&input, &format, skip_bad_rows, &out)?;
            println!("{report}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn models(action: ModelsCmd) -> Result<ExitCode> {
    match action {
        ModelsCmd::List => {
            println!("{:<12} {:<10} BASE URL / NOTE", "PROVIDER", "KIND");
            for p in sv_eval::resolve::builtin_providers() {
                println!("{:<12} {:<10} {}", p.0, p.1, p.2);
            }
            println!();
            sv_eval::resolve::print_local_models();
        }
        ModelsCmd::Pull { name, from } => {
            let path = sv_eval::resolve::pull_local(&name, from.as_deref())?;
            println!("provisioned {name} at {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
