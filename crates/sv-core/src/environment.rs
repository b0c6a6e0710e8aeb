//! The [`Environment`] trait, built-in [`Policy`]s, datasets and the environment registry.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::types::{Message, Sample, Score, ToolCall, ToolResult, ToolSpec, Transcript};

/// Errors raised by environments: dataset loading and generation.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A row of a dataset is malformed.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Row {
        /// The file at fault.
        path: PathBuf,
        /// 1-based line number (for CSV: the physical line where the record starts).
        line: u64,
        /// The field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file as a whole is unusable (unknown format, missing header, empty).
    #[error("{path}: {message}")]
    File {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Anything else, with a message that says what and where.
    #[error("{0}")]
    Other(String),
}

/// Options for loading a dataset file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Format name when it cannot be inferred from the file (environment specific).
    pub format: Option<String>,
    /// Skip malformed rows (counted in [`Dataset::skipped`]) instead of failing.
    pub skip_bad_rows: bool,
}

/// Where a dataset came from, recorded in every run's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSource {
    /// `embedded` (generated in-process at a fixed seed) or `file`.
    pub kind: String,
    /// File path, or a description such as `generator seed=7 n=600` for embedded data.
    pub path: String,
    /// SHA-256 of the file bytes, or of the canonical JSON lines of the embedded samples.
    pub sha256: String,
    /// Rows read (before split filtering).
    pub rows: usize,
    /// Rows skipped as malformed (with `skip_bad_rows`).
    pub skipped: usize,
    /// Format name (for example `jsonl`, `nsl-kdd`).
    pub format: String,
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The samples, in file order.
    pub samples: Vec<Sample>,
    /// Provenance.
    pub source: DatasetSource,
}

impl Dataset {
    /// Build an embedded dataset; its hash covers the canonical JSON of every sample.
    pub fn embedded(samples: Vec<Sample>, description: &str) -> Self {
        let mut text = String::new();
        for s in &samples {
            text.push_str(&crate::types::canonical_json(
                &serde_json::to_value(s).unwrap_or(Value::Null),
            ));
            text.push('\n');
        }
        let sha256 = crate::types::sha256_hex(text.as_bytes());
        let rows = samples.len();
        Dataset {
            samples,
            source: DatasetSource {
                kind: "embedded".into(),
                path: description.into(),
                sha256,
                rows,
                skipped: 0,
                format: "embedded".into(),
            },
        }
    }
}

/// What a policy does at one turn: a text reply and optionally tool calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyAction {
    /// The reply text.
    pub text: String,
    /// Tool calls to make before the next turn.
    pub tool_calls: Vec<ToolCall>,
}

/// A deterministic built-in policy (for example an environment's baseline).
pub trait Policy: Send + Sync {
    /// Name recorded in artifacts.
    fn name(&self) -> &str;
    /// Act on `sample` given the conversation so far (rendered prompt plus earlier turns).
    fn act(&self, sample: &Sample, conversation: &[Message]) -> PolicyAction;
}

/// One finished episode as the summary sees it.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    /// The sample.
    pub sample: &'a Sample,
    /// Its score, `None` when the episode failed (model error).
    pub score: Option<&'a Score>,
    /// The transcript, `None` when the episode failed before any reply.
    pub transcript: Option<&'a Transcript>,
}

/// A security task: renders prompts, offers tools, scores transcripts.
///
/// Object safe, `Send + Sync`; all methods are synchronous and pure apart from dataset I/O.
pub trait Environment: Send + Sync {
    /// Registry name, e.g. `network-logs`.
    fn name(&self) -> &'static str;
    /// Version of the environment (prompts, data handling).
    fn version(&self) -> &'static str;
    /// Version of the rubric; bumped whenever any score would change.
    fn reward_version(&self) -> &'static str;
    /// One-line description for `sv envs`.
    fn description(&self) -> &'static str;
    /// The system prompt.
    fn system_prompt(&self) -> String;
    /// The prompt for one sample: system message then user message(s).
    fn render(&self, sample: &Sample) -> Vec<Message>;
    /// Tools the model may call (empty for single-turn environments).
    fn tools(&self) -> Vec<ToolSpec> {
        Vec::new()
    }
    /// Execute one tool call for `sample`.
    fn call_tool(&self, _sample: &Sample, call: &ToolCall) -> ToolResult {
        ToolResult::error(format!("unknown tool `{}`", call.name))
    }
    /// Maximum assistant turns in one episode.
    fn max_turns(&self) -> usize {
        1
    }
    /// Score a finished episode.
    fn score(&self, sample: &Sample, transcript: &Transcript) -> Score;
    /// The built-in baseline policy.
    fn baseline(&self) -> Box<dyn Policy>;
    /// JSON Schema of the final answer.
    fn output_schema(&self) -> Value;
    /// The ideal answer for a sample, built from its gold label (golden self-test, audits).
    fn oracle_answer(&self, sample: &Sample) -> String;
    /// The embedded default dataset, used when `--dataset` is not given.
    fn default_dataset(&self) -> Result<Dataset, EnvError>;
    /// Load a dataset file.
    fn load_dataset(&self, path: &Path, opts: &LoadOptions) -> Result<Dataset, EnvError>;
    /// Environment-specific summary metrics over a run (merged into `summary.json`).
    fn summarize(&self, items: &[Scored<'_>]) -> Map<String, Value>;
}

/// The set of registered environments.
#[derive(Clone, Default)]
pub struct Registry {
    envs: Vec<Arc<dyn Environment>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
    /// Register an environment (names must be unique; a later one with the same name replaces it).
    pub fn register(&mut self, env: Arc<dyn Environment>) {
        self.envs.retain(|e| e.name() != env.name());
        self.envs.push(env);
        self.envs.sort_by_key(|e| e.name());
    }
    /// Look an environment up by name.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Environment>> {
        self.envs.iter().find(|e| e.name() == name).cloned()
    }
    /// All environments, sorted by name.
    pub fn all(&self) -> &[Arc<dyn Environment>] {
        &self.envs
    }
    /// Names of all environments.
    pub fn names(&self) -> Vec<&'static str> {
        self.envs.iter().map(|e| e.name()).collect()
    }
}
