//! The finding schema shared by every analyser and external-tool adapter.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Severity (and, for linters that have one, confidence) on one three-level scale.
///
/// Serialised as `low` / `medium` / `high`; [`Severity::from_str`] also accepts the short
/// forms `med`, `moderate`, `warning`, `error`, `info`, `critical` used by other tools (see the
/// mapping in its doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl Severity {
    /// Lower-case name (`low`, `medium`, `high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
    /// Upper-case name as Bandit prints it (`LOW`, `MEDIUM`, `HIGH`).
    pub fn upper(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
        }
    }
    /// SARIF `level` for this severity: high → error, medium → warning, low → note.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    /// Case-insensitive. `low`, `info`, `note`, `undefined` → Low; `medium`, `med`, `moderate`,
    /// `warning` → Medium; `high`, `critical`, `error` → High.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" | "info" | "note" | "undefined" => Ok(Severity::Low),
            "medium" | "med" | "moderate" | "warning" => Ok(Severity::Medium),
            "high" | "critical" | "error" => Ok(Severity::High),
            other => Err(format!(
                "unknown severity `{other}` (expected low, medium or high)"
            )),
        }
    }
}

/// Static description of a rule, for listings, docs and SARIF `rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Stable id, e.g. `B602`, `K8S-001`, `IAC-SECRET`.
    pub id: String,
    /// Short kebab-case name, e.g. `subprocess-popen-with-shell-equals-true`.
    pub name: String,
    /// Default severity.
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// Why it matters and how to fix it (Markdown).
    pub help: String,
    /// CWE number, when one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<u32>,
}

/// One finding of one rule at one place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Tool that reported it (`sv-policy`, `sv-pysec`, `sv-iac`, `kube-linter`, ...).
    pub tool: String,
    /// Rule id (stable within the tool).
    pub rule_id: String,
    /// Severity on the shared scale.
    pub severity: Severity,
    /// Confidence, for tools that report one (Bandit-style linters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Severity>,
    /// Human-readable message.
    pub message: String,
    /// File path as given to the analyser.
    pub path: String,
    /// 1-based line (0 when the finding concerns the whole file).
    pub line: usize,
    /// 1-based column (0 when unknown).
    #[serde(default)]
    pub column: usize,
    /// Last line of the flagged range, when it spans several lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    /// CWE number, when one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<u32>,
    /// Tool-specific extras (resource name, matched text, Bandit fields, ...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

impl Finding {
    /// Sort key giving a stable report order: path, line, column, rule id.
    pub fn sort_key(&self) -> (&str, usize, usize, &str) {
        (&self.path, self.line, self.column, &self.rule_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_parses_other_tools_words() {
        assert_eq!("MED".parse::<Severity>(), Ok(Severity::Medium));
        assert_eq!("Critical".parse::<Severity>(), Ok(Severity::High));
        assert_eq!("info".parse::<Severity>(), Ok(Severity::Low));
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::High > Severity::Medium && Severity::Medium > Severity::Low);
    }

    #[test]
    fn severity_serialises_lowercase() {
        assert_eq!(
            serde_json::to_string(&Severity::Medium).unwrap(),
            "\"medium\""
        );
    }
}
