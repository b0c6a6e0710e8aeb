//! One module per `sv` subcommand.

pub mod bench;
pub mod data;
pub mod envs;
pub mod eval;
pub mod models;
pub mod score;
