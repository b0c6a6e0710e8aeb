//! `sv`: the Security Verifiers command line. Argument parsing and printing only; the work is
//! done by the library crates. Each subcommand lives in its own module under `cmd/`.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

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
    Envs(cmd::envs::EnvsArgs),
    /// Evaluate a model on an environment.
    Eval(Box<cmd::eval::EvalArgs>),
    /// Score completions produced elsewhere.
    Score(cmd::score::ScoreArgs),
    /// Dataset generation and import, per environment.
    Data {
        #[command(subcommand)]
        env: cmd::data::DataEnv,
    },
    /// Providers and local models.
    Models {
        #[command(subcommand)]
        action: cmd::models::ModelsCmd,
    },
    /// Benchmarks (figures for BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: cmd::bench::BenchCmd,
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
    let config = cli.config.as_deref();
    match cli.cmd {
        Cmd::Envs(a) => cmd::envs::run(&registry, a),
        Cmd::Eval(a) => cmd::eval::run(&registry, config, *a),
        Cmd::Score(a) => cmd::score::run(&registry, a),
        Cmd::Data { env } => cmd::data::run(env),
        Cmd::Models { action } => cmd::models::run(action),
        Cmd::Bench { what } => cmd::bench::run(&registry, what),
    }
}

/// Look an environment up by name, with the list of known names in the error.
pub(crate) fn get_env(
    registry: &sv_core::Registry,
    name: &str,
) -> Result<std::sync::Arc<dyn sv_core::Environment>> {
    registry.get(name).with_context(|| {
        format!(
            "unknown environment `{name}`; known: {}",
            registry.names().join(", ")
        )
    })
}

/// A multi-threaded tokio runtime for the async edges (HTTP, processes).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
