//! `sv data network-logs generate|import`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

/// Subcommands of `sv data network-logs`.
#[derive(Subcommand)]
pub enum Cmd {
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

/// Run `sv data network-logs`.
pub fn run(action: Cmd) -> Result<ExitCode> {
    match action {
        Cmd::Generate {
            n,
            seed,
            malicious_share,
            out,
        } => {
            let samples = sv_envs::network_logs::generate(n, seed, malicious_share);
            sv_envs::network_logs::write_samples(&samples, &out)?;
            println!("wrote {} samples to {}", samples.len(), out.display());
        }
        Cmd::Import {
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
