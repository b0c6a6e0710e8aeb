//! Evaluation harness: runs a model over an environment's samples with bounded concurrency,
//! writes resumable artifacts (`metadata.json`, `results.jsonl`, `summary.json`, `report.md`)
//! and computes run summaries.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

pub mod artifacts;
pub mod bench;
pub mod policies;
pub mod progress;
pub mod resolve;
pub mod runner;
pub mod summary;

pub use runner::{EvalOptions, RunOutcome, run_eval, score_completions};
