//! Provider configuration loaded from `sv.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::ModelError;

/// Wire format of a configured provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions.
    Openai,
    /// Anthropic messages API.
    Anthropic,
    /// Google Gemini generateContent.
    Gemini,
}

/// One `[providers.NAME]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// Environment variable holding the API key (none: no key).
    #[serde(default)]
    pub api_key_env: Option<String>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Extra providers by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
}

impl Config {
    /// Parse configuration text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ModelError> {
        toml::from_str(text)
            .map_err(|e| ModelError::Config(format!("invalid config file {origin}: {e}")))
    }

    /// Load one file (it must exist).
    pub fn load(path: &Path) -> Result<Config, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ModelError::Config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Find the configuration: `explicit`, then `$SV_CONFIG`, then `./sv.toml`; none found is empty.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ModelError> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Ok(p) = std::env::var("SV_CONFIG") {
            if !p.is_empty() {
                candidates.push(PathBuf::from(p));
            }
        }
        candidates.push(PathBuf::from("sv.toml"));
        for c in candidates {
            if c.is_file() {
                return Config::load(&c);
            }
        }
        Ok(Config::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_providers() {
        let c = Config::parse(
            "[providers.corp]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\napi_key_env = \"CORP_KEY\"\n",
            "t.toml",
        )
        .unwrap();
        let p = &c.providers["corp"];
        assert_eq!(p.kind, ProviderKind::Openai);
        assert_eq!(p.api_key_env.as_deref(), Some("CORP_KEY"));
    }

    #[test]
    fn malformed_names_file_and_line() {
        let e = Config::parse("[providers.x\nkind=1", "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml"), "{e}");
        assert!(e.contains("line"), "{e}");
    }

    #[test]
    fn explicit_missing_is_error() {
        assert!(Config::discover(Some(Path::new("/nonexistent/sv.toml"))).is_err());
    }
}
