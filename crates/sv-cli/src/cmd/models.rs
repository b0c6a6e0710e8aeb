//! `sv models list | pull NAME`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

/// Subcommands of `sv models`.
#[derive(Subcommand)]
pub enum ModelsCmd {
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

/// Run `sv models`.
pub fn run(action: ModelsCmd) -> Result<ExitCode> {
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
