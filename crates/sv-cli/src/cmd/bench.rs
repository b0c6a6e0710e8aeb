//! `sv bench ...`: benchmarks whose figures go to BENCHMARKS.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;

/// Subcommands of `sv bench`.
#[derive(Subcommand)]
pub enum BenchCmd {
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

/// Run `sv bench`.
pub fn run(registry: &sv_core::Registry, what: BenchCmd) -> Result<ExitCode> {
    match what {
        BenchCmd::Harness {
            samples,
            concurrency,
            latency_ms,
            env,
            out,
        } => {
            let env = crate::get_env(registry, &env)?;
            let figures = crate::runtime()?.block_on(sv_eval::bench::harness(
                env,
                samples,
                concurrency,
                Duration::from_millis(latency_ms),
                &out,
            ))?;
            println!("{}", serde_json::to_string_pretty(&figures)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
