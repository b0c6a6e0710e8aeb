//! Security analysers shipped with Security Verifiers, usable on their own and by the
//! environments: one module per analyser family. Every analyser reports [`Finding`]s described
//! by [`RuleInfo`]s, so the text, JSON and SARIF outputs are shared.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

pub mod finding;
pub mod sarif;

pub use finding::{Finding, RuleInfo, Severity};
