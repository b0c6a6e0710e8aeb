//! The environments of Security Verifiers, one module per environment.
#![allow(clippy::collapsible_if)] // nested `if let` reads more clearly in these parsers

use std::sync::Arc;

use sv_core::Registry;

pub mod network_logs;

/// A registry holding every built-in environment.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(Arc::new(network_logs::NetworkLogs::new()));
    r
}
