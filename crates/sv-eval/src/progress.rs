//! The progress display: done/total, errors, retries in progress, cache hits, rate and ETA.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sv_models::retry::RetryStats;

use crate::runner::Progress;

/// A running progress display; dropping or finishing stops it.
pub struct ProgressHandle {
    bar: ProgressBar,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Start a progress bar refreshed from the live counters (hidden when `hidden`).
pub fn start(
    total: usize,
    progress: Arc<Progress>,
    retries: Option<Arc<RetryStats>>,
    hidden: bool,
) -> ProgressHandle {
    let bar = ProgressBar::new(total as u64);
    if hidden {
        bar.set_draw_target(ProgressDrawTarget::hidden());
        return ProgressHandle { bar, task: None };
    }
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    let b = bar.clone();
    let task = tokio::spawn(async move {
        loop {
            let done = progress.done.load(Ordering::Relaxed) as u64;
            b.set_position(done);
            let (retrying, retried) = retries
                .as_ref()
                .map(|r| {
                    (
                        r.in_progress.load(Ordering::Relaxed),
                        r.retries_total.load(Ordering::Relaxed),
                    )
                })
                .unwrap_or((0, 0));
            b.set_message(format!(
                "errors {} | retrying {} (total {}) | cache hits {}",
                progress.errors.load(Ordering::Relaxed),
                retrying,
                retried,
                progress.cache_hits.load(Ordering::Relaxed)
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    ProgressHandle {
        bar,
        task: Some(task),
    }
}

impl ProgressHandle {
    /// Stop refreshing and clear the bar.
    pub fn finish(self) {
        if let Some(t) = &self.task {
            t.abort();
        }
        self.bar.finish_and_clear();
    }
}
