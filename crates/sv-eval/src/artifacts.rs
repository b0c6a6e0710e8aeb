//! Run directories and the records written into them.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sv_core::{Component, Message, Transcript};
use sv_models::Usage;

/// One line of `results.jsonl`: one (sample, repeat) episode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRecord {
    /// Sample id.
    pub sample_id: String,
    /// Repeat index.
    pub repeat: u32,
    /// Split of the sample.
    pub split: String,
    /// Gold answer.
    pub answer: Value,
    /// Rendered prompt.
    pub prompt: Vec<Message>,
    /// Full transcript after the prompt.
    pub transcript: Transcript,
    /// Final completion text.
    pub completion: String,
    /// Parsed answer, when parsing succeeded.
    pub parsed: Option<Value>,
    /// Why parsing failed.
    pub parse_error: Option<String>,
    /// Reward components with weights.
    pub components: Vec<Component>,
    /// Weighted total (`null` when the episode failed).
    pub total: Option<f64>,
    /// Reward version that scored it.
    pub reward_version: String,
    /// Model or harness error that ended the episode.
    pub error: Option<String>,
    /// Wall time of the episode in milliseconds.
    pub latency_ms: u64,
    /// Token usage over the episode.
    pub usage: Usage,
    /// Whether every model reply was served from the cache.
    pub cached: bool,
    /// Retries needed over the episode.
    pub retries: u32,
    /// Sample metadata (source, family, ...).
    pub meta: Value,
}

/// Appends records to `results.jsonl`, one flushed line per finished episode.
pub struct ResultsWriter {
    file: File,
    path: PathBuf,
}

impl ResultsWriter {
    /// Open (create or append) the results file of a run directory.
    pub fn open(run_dir: &Path) -> std::io::Result<Self> {
        let path = run_dir.join("results.jsonl");
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(ResultsWriter { file, path })
    }
    /// Append one record and flush it to the OS.
    pub fn append(&mut self, rec: &ResultRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_string(rec).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.flush()?;
        self.file.sync_data()
    }
    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Read every complete record of a results file. A torn last line (a run killed mid-write) is
/// dropped and the file truncated to the last complete line, so a resume appends cleanly.
pub fn read_results(run_dir: &Path) -> Result<Vec<ResultRecord>, String> {
    let path = run_dir.join("results.jsonl");
    let Ok(file) = File::open(&path) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut good_len: u64 = 0;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut lineno = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if !line.ends_with('\n') {
            // A torn last line from a killed run: dropped and truncated below.
            break;
        }
        let rec = serde_json::from_str::<ResultRecord>(line.trim_end())
            .map_err(|e| format!("{}:{lineno}: malformed result record: {e}", path.display()))?;
        out.push(rec);
        good_len += n as u64;
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if size != good_len {
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.set_len(good_len)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(out)
}

/// Write a JSON value pretty-printed, atomically (temp file then rename).
pub fn write_json(path: &Path, value: &Value) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}

/// File-system-safe slug of a model spec: `openai/gpt-4.1-mini` → `openai-gpt-4.1-mini`.
pub fn model_slug(spec: &str) -> String {
    let s: String = spec
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "model".into() } else { s }
}

/// SHA-256 of a file's bytes.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(sv_core::sha256_hex(&bytes))
}
