//! Resilience: retries with exponential backoff and full jitter (honouring `Retry-After`),
//! and an optional requests-per-minute limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;

use crate::{ChatModel, ChatRequest, ChatResponse, ModelError, RequestContext};

/// How often and how long to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff base.
    pub base_delay: Duration,
    /// Backoff cap.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Live retry counters (shown by the progress bar).
#[derive(Debug, Default)]
pub struct RetryStats {
    /// Retries made so far.
    pub retries_total: AtomicU64,
    /// Requests currently waiting to retry.
    pub in_progress: AtomicU64,
    /// Attempts sent.
    pub requests: AtomicU64,
}

/// Evenly spaced request slots: at most `n` requests per minute.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter allowing `n` requests per minute.
    pub fn per_minute(n: u32) -> Self {
        RateLimiter {
            interval: Duration::from_secs_f64(60.0 / n.max(1) as f64),
            next: Mutex::new(None),
        }
    }
    /// Wait for the next slot.
    pub async fn acquire(&self) {
        let wait = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |t| t.max(now));
            *next = Some(slot + self.interval);
            slot.saturating_duration_since(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A model wrapped with retries and an optional rate limit.
pub struct Resilient {
    inner: Arc<dyn ChatModel>,
    policy: RetryPolicy,
    limiter: Option<RateLimiter>,
    stats: Arc<RetryStats>,
    rng: std::sync::Mutex<rand_chacha::ChaCha8Rng>,
}

impl Resilient {
    /// Wrap `inner`.
    pub fn new(
        inner: Arc<dyn ChatModel>,
        policy: RetryPolicy,
        limiter: Option<RateLimiter>,
        stats: Arc<RetryStats>,
    ) -> Self {
        Resilient {
            inner,
            policy,
            limiter,
            stats,
            rng: std::sync::Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed)),
        }
    }

    /// The delay before retry number `attempt` (0-based) after `err`.
    pub fn delay(&self, attempt: u32, err: &ModelError) -> Duration {
        if let Some(d) = err.retry_after() {
            return d.min(self.policy.max_delay * 4);
        }
        let cap = self
            .policy
            .base_delay
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.policy.max_delay);
        let frac: f64 = match self.rng.lock() {
            Ok(mut r) => r.random_range(0.0..=1.0),
            Err(_) => 1.0,
        };
        cap.mul_f64(frac)
    }
}

#[async_trait::async_trait]
impl ChatModel for Resilient {
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
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            if let Some(l) = &self.limiter {
                l.acquire().await;
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            match self.inner.chat(req, ctx).await {
                Ok(mut resp) => {
                    resp.retries = attempt;
                    resp.latency_ms = start.elapsed().as_millis() as u64;
                    return Ok(resp);
                }
                Err(e) if e.is_retryable() && attempt < self.policy.max_retries => {
                    let d = self.delay(attempt, &e);
                    tracing::debug!(error = %e, attempt, delay_ms = d.as_millis() as u64, "retrying");
                    self.stats.retries_total.fetch_add(1, Ordering::Relaxed);
                    self.stats.in_progress.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(d).await;
                    self.stats.in_progress.fetch_sub(1, Ordering::Relaxed);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
