//! Run summaries (`summary.json`) and the human report (`report.md`).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};
use sv_core::stats::bootstrap_mean_ci;
use sv_core::{Environment, Sample, Score, Scored};

use crate::artifacts::ResultRecord;

/// Seed of the bootstrap resampling, fixed so equal results give equal summaries.
pub const BOOTSTRAP_SEED: u64 = 42;
/// Number of bootstrap resamples.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// Compute the summary of a run from its records (in any order: they are sorted first, so an
/// interrupted-then-resumed run summarises exactly like an uninterrupted one).
pub fn summarize(env: &dyn Environment, samples: &[Sample], records: &[ResultRecord]) -> Value {
    let mut recs: Vec<&ResultRecord> = records.iter().collect();
    recs.sort_by(|a, b| (a.sample_id.as_str(), a.repeat).cmp(&(b.sample_id.as_str(), b.repeat)));
    let by_id: HashMap<&str, &Sample> = samples.iter().map(|s| (s.id.as_str(), s)).collect();

    let scores: Vec<Option<Score>> = recs
        .iter()
        .map(|r| {
            r.total.map(|total| Score {
                components: r.components.clone(),
                total,
                parsed: r.parsed.clone(),
                parse_error: r.parse_error.clone(),
                reward_version: r.reward_version.clone(),
            })
        })
        .collect();
    let mut scored = Vec::new();
    for (r, s) in recs.iter().zip(&scores) {
        if let Some(sample) = by_id.get(r.sample_id.as_str()) {
            scored.push(Scored {
                sample,
                score: s.as_ref(),
                transcript: Some(&r.transcript),
            });
        }
    }
    let totals: Vec<f64> = recs.iter().filter_map(|r| r.total).collect();
    let n = recs.len();
    let errors = recs.iter().filter(|r| r.error.is_some()).count();
    let parse_failures = recs
        .iter()
        .filter(|r| r.total.is_some() && r.parse_error.is_some())
        .count();
    let ci = bootstrap_mean_ci(&totals, BOOTSTRAP_RESAMPLES, 0.95, BOOTSTRAP_SEED);

    let mut comp: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.total.is_some()) {
        for c in &r.components {
            let e = comp.entry(c.name.clone()).or_insert((0.0, 0));
            e.0 += c.value;
            e.1 += 1;
        }
    }
    let components: Map<String, Value> = comp
        .into_iter()
        .map(|(k, (s, c))| (k, json!(s / c.max(1) as f64)))
        .collect();
    let prompt_tokens: u64 = recs.iter().map(|r| r.usage.prompt_tokens).sum();
    let completion_tokens: u64 = recs.iter().map(|r| r.usage.completion_tokens).sum();
    let turns: usize = recs.iter().map(|r| r.transcript.turns()).sum();
    let tool_calls: usize = recs.iter().map(|r| r.transcript.tool_calls()).sum();

    json!({
        "env": env.name(),
        "reward_version": env.reward_version(),
        "n": n,
        "scored": totals.len(),
        "errors": errors,
        "error_rate": ratio(errors, n),
        "parse_failure_rate": ratio(parse_failures, n),
        "reward": {"mean": ci.estimate, "ci95": [ci.lo, ci.hi], "resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED},
        "components": components,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        "cached": recs.iter().filter(|r| r.cached).count(),
        "mean_turns": if n == 0 { 0.0 } else { turns as f64 / n as f64 },
        "mean_tool_calls": if n == 0 { 0.0 } else { tool_calls as f64 / n as f64 },
        "metrics": Value::Object(env.summarize(&scored)),
    })
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Render `report.md` from metadata and summary.
pub fn report_markdown(metadata: &Value, summary: &Value) -> String {
    let mut s = String::new();
    let g = |v: &Value, k: &str| {
        v.get(k)
            .map(|x| x.to_string())
            .unwrap_or_else(|| "?".into())
    };
    s.push_str(&format!(
        "# {} — {}\n\n",
        g(metadata, "env").trim_matches('"'),
        g(metadata, "model").trim_matches('"')
    ));
    s.push_str(&format!("- run id: {}\n", g(metadata, "run_id")));
    s.push_str(&format!(
        "- reward version: {}\n",
        g(metadata, "reward_version")
    ));
    if let Some(d) = metadata.get("dataset") {
        s.push_str(&format!(
            "- dataset: {} (sha256 {}, {} rows)\n",
            g(d, "path"),
            g(d, "sha256"),
            g(d, "rows")
        ));
    }
    s.push_str(&format!("- status: {}\n\n", g(metadata, "status")));
    s.push_str("| metric | value |\n|---|---|\n");
    let reward = &summary["reward"];
    s.push_str(&format!(
        "| mean reward (95% CI) | {:.4} [{:.4}, {:.4}] |\n",
        reward["mean"].as_f64().unwrap_or(0.0),
        reward["ci95"][0].as_f64().unwrap_or(0.0),
        reward["ci95"][1].as_f64().unwrap_or(0.0)
    ));
    for k in ["n", "scored", "errors", "parse_failure_rate", "cached"] {
        s.push_str(&format!(
            "| {k} | {} |\n",
            summary.get(k).map(fmt_value).unwrap_or_default()
        ));
    }
    if let Some(Value::Object(m)) = summary.get("components") {
        for (k, v) in m {
            s.push_str(&format!("| component {k} | {} |\n", fmt_value(v)));
        }
    }
    if let Some(Value::Object(m)) = summary.get("metrics") {
        for (k, v) in m {
            if v.is_number() {
                s.push_str(&format!("| {k} | {} |\n", fmt_value(v)));
            }
        }
    }
    s
}

fn fmt_value(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if v.is_f64() => format!("{f:.4}"),
        _ => v.to_string(),
    }
}
