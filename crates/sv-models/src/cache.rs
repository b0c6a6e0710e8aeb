//! Response cache in SQLite (WAL mode, one writer), keyed by the SHA-256 of the canonical JSON
//! of (model identity, messages, tools, sampling, repeat index).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::{ChatModel, ChatRequest, ChatResponse, ModelError, RequestContext};

/// The per-user default cache directory.
pub fn default_cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("security-verifiers")
}

/// Cache key of a request.
pub fn cache_key(identity: &serde_json::Value, req: &ChatRequest, repeat: u32) -> String {
    let v = json!({"identity": identity, "messages": req.messages, "tools": req.tools,
                   "sampling": req.sampling, "repeat": repeat});
    sv_core::sha256_hex(sv_core::canonical_json(&v).as_bytes())
}

/// A SQLite-backed store of responses.
pub struct ResponseCache {
    conn: Mutex<Connection>,
}

fn db_err(path: &Path, e: rusqlite::Error) -> ModelError {
    ModelError::Config(format!("response cache {}: {e}", path.display()))
}

impl ResponseCache {
    /// Open (or create) `dir/responses.sqlite`.
    pub fn open(dir: &Path) -> Result<Self, ModelError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ModelError::Config(format!("cache dir {}: {e}", dir.display())))?;
        let path = dir.join("responses.sqlite");
        let conn = Connection::open(&path).map_err(|e| db_err(&path, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| db_err(&path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| db_err(&path, e))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, created_at TEXT NOT NULL)",
        )
        .map_err(|e| db_err(&path, e))?;
        Ok(ResponseCache {
            conn: Mutex::new(conn),
        })
    }
    /// Look a key up.
    pub fn get(&self, key: &str) -> Option<ChatResponse> {
        let conn = self.conn.lock().ok()?;
        let text: Option<String> = conn
            .query_row(
                "SELECT response FROM responses WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .ok()?;
        text.and_then(|t| serde_json::from_str(&t).ok())
    }
    /// Store a response.
    pub fn put(&self, key: &str, resp: &ChatResponse) {
        let Ok(text) = serde_json::to_string(resp) else {
            return;
        };
        if let Ok(conn) = self.conn.lock() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            if let Err(e) = conn.execute(
                "INSERT OR REPLACE INTO responses (key, response, created_at) VALUES (?1, ?2, ?3)",
                params![key, text, now.to_string()],
            ) {
                tracing::warn!("response cache write failed: {e}");
            }
        }
    }
}

/// A model whose successful responses are cached. Sits outside the retry wrapper, so hits cost
/// no rate-limit slot.
pub struct Cached {
    inner: Arc<dyn ChatModel>,
    cache: Arc<ResponseCache>,
}

impl Cached {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn ChatModel>, cache: Arc<ResponseCache>) -> Self {
        Cached { inner, cache }
    }
}

#[async_trait::async_trait]
impl ChatModel for Cached {
    fn spec(&self) -> &str {
        self.inner.spec()
    }
    fn cache_identity(&self) -> serde_json::Value {
        self.inner.cache_identity()
    }
    fn supports_tools(&self) -> bool {
        self.inner.supports_tools()
    }
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError> {
        let key = cache_key(&self.inner.cache_identity(), req, ctx.repeat);
        let cache = self.cache.clone();
        let k = key.clone();
        if let Ok(Some(mut hit)) = tokio::task::spawn_blocking(move || cache.get(&k)).await {
            hit.cached = true;
            hit.latency_ms = 0;
            hit.retries = 0;
            return Ok(hit);
        }
        let resp = self.inner.chat(req, ctx).await?;
        let cache = self.cache.clone();
        let stored = resp.clone();
        let _ = tokio::task::spawn_blocking(move || cache.put(&key, &stored)).await;
        Ok(resp)
    }
}
