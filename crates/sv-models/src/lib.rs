//! Language-model access for Security Verifiers.
//!
//! [`ChatModel`] is the one trait every provider implements: the HTTP clients of the
//! OpenAI-compatible, Anthropic and Gemini wire formats, and the embedded local GGUF model.
//! Wrappers add resilience (retries, rate limits) and a SQLite response cache. This crate knows
//! nothing of environments: `baseline` and `replay` models are built by `sv-eval` on the same
//! trait.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

pub mod cache;
pub mod config;
pub mod local;
pub mod model;
pub mod providers;
pub mod retry;

pub use model::*;
