//! `sv score ENV --dataset F --completions F`: score completions produced elsewhere.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use sv_eval::runner::{self, EvalOptions};
use sv_models::Sampling;

/// Arguments of `sv score`.
#[derive(clap::Args)]
pub struct ScoreArgs {
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
}

/// Score the completions and write a run's artifacts.
pub fn run(registry: &sv_core::Registry, a: ScoreArgs) -> Result<ExitCode> {
    let env = crate::get_env(registry, &a.env)?;
    let ds = env.load_dataset(
        &a.dataset,
        &sv_core::LoadOptions {
            format: a.format,
            skip_bad_rows: false,
        },
    )?;
    let comps = runner::read_completions(&a.completions)?;
    let opts = EvalOptions {
        env: env.name().into(),
        model: format!("completions/{}", a.completions.display()),
        n: None,
        seed: 0,
        split: "all".into(),
        dataset: Some(a.dataset.clone()),
        format: None,
        skip_bad_rows: false,
        concurrency: 1,
        repeats: 1,
        sampling: Sampling::default(),
        out: a.out,
        max_consecutive_failures: 0,
        base_url: None,
    };
    let run_dir = runner::new_run_dir(&opts);
    let summary = runner::score_completions(&env, &ds.samples, &comps, &run_dir)?;
    let metadata = serde_json::json!({
        "run_id": run_dir.file_name().map(|s| s.to_string_lossy().to_string()),
        "env": env.name(), "env_version": env.version(), "reward_version": env.reward_version(),
        "model": opts.model, "dataset": ds.source, "status": "complete",
        "completions_sha256": sv_eval::artifacts::file_sha256(&a.completions)?,
        "sv_version": env!("CARGO_PKG_VERSION"), "options": opts,
    });
    sv_eval::artifacts::write_json(&run_dir.join("metadata.json"), &metadata)?;
    sv_eval::artifacts::write_json(&run_dir.join("summary.json"), &summary)?;
    std::fs::write(
        run_dir.join("report.md"),
        sv_eval::summary::report_markdown(&metadata, &summary),
    )?;
    super::eval::print_summary(&summary);
    println!("artifacts: {}", run_dir.display());
    Ok(ExitCode::SUCCESS)
}
