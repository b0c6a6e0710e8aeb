//! `sv data ENV ...`: dataset generation, import and building, one module per environment.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

mod network_logs;

/// The environments that have data commands.
#[derive(Subcommand)]
pub enum DataEnv {
    /// Network flows: generate synthetic flows, import NSL-KDD / CIC-IDS-2017 / UNSW-NB15 / IoT-23.
    #[command(name = "network-logs")]
    NetworkLogs {
        #[command(subcommand)]
        action: network_logs::Cmd,
    },
}

/// Run `sv data`.
pub fn run(env: DataEnv) -> Result<ExitCode> {
    match env {
        DataEnv::NetworkLogs { action } => network_logs::run(action),
    }
}
