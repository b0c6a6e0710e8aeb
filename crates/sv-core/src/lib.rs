//! Core of Security Verifiers: the data types that flow through an evaluation, the
//! [`Environment`] trait, the environment registry, strict answer parsing, shared reward
//! functions, run metrics and statistics.
//!
//! Everything here is synchronous and free of I/O except dataset reading helpers, so it is
//! testable without a runtime.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

pub mod environment;
pub mod metrics;
pub mod parse;
pub mod rewards;
pub mod stats;
pub mod types;

pub use environment::{
    Dataset, DatasetSource, EnvError, Environment, LoadOptions, Policy, PolicyAction, Registry,
    Scored,
};
pub use parse::{ParseError, ParseStage, parse_json_answer};
pub use types::*;
