//! `sv envs`: list environments.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `sv envs`.
#[derive(clap::Args)]
pub struct EnvsArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Print the registered environments.
pub fn run(registry: &sv_core::Registry, a: EnvsArgs) -> Result<ExitCode> {
    if a.json {
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
