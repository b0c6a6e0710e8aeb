//! End-to-end tests of `sv eval` against an in-process mock OpenAI-compatible server with
//! injected faults, resume after SIGKILL, the response cache and key hygiene.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

const SECRET: &str = "sk-test-SECRET-0123456789abcdef";

/// What the mock does with the k-th request (0-based) overall.
#[derive(Clone, Copy)]
enum Fault {
    None,
    /// Every `n`-th request fails with this fault kind.
    Every(usize, FaultKind),
}

#[derive(Clone, Copy)]
enum FaultKind {
    Status429RetryAfter,
    Status429,
    Status500,
    Status503,
    Malformed,
    Truncated,
    Timeout,
    Status400,
}

struct Mock {
    hits: AtomicUsize,
    fault: Fault,
    latency: Duration,
}

async fn chat(State(m): State<Arc<Mock>>, _h: HeaderMap, body: String) -> Response {
    let k = m.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(m.latency).await;
    if let Fault::Every(n, kind) = m.fault
        && k % n == 0
    {
        match kind {
            FaultKind::Status429RetryAfter => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "0")],
                    "slow down",
                )
                    .into_response();
            }
            FaultKind::Status429 => {
                return (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
            }
            FaultKind::Status500 => {
                return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
            }
            FaultKind::Status503 => {
                return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
            }
            FaultKind::Malformed => return (StatusCode::OK, "this is not json").into_response(),
            FaultKind::Truncated => {
                return (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    "{\"choices\": [{\"mess",
                )
                    .into_response();
            }
            FaultKind::Timeout => tokio::time::sleep(Duration::from_secs(5)).await,
            FaultKind::Status400 => {
                return (StatusCode::BAD_REQUEST, "bad request").into_response();
            }
        }
    }
    // Deterministic answer from the request: Malicious when the prompt mentions port 22 or 23.
    let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let text = req["messages"].to_string();
    let label = if text.contains("dst_port=22 ") || text.contains("dst_port=23 ") {
        "Malicious"
    } else {
        "Benign"
    };
    let content = format!("{{\"label\": \"{label}\", \"confidence\": 0.8}}");
    axum::Json(json!({
        "id": "x", "object": "chat.completion", "model": "mock",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112}
    }))
    .into_response()
}

struct Server {
    addr: SocketAddr,
    mock: Arc<Mock>,
    _rt: tokio::runtime::Runtime,
}

fn start(fault: Fault, latency: Duration) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mock = Arc::new(Mock {
        hits: AtomicUsize::new(0),
        fault,
        latency,
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state(mock.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        addr,
        mock,
        _rt: rt,
    }
}

fn sv() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sv"));
    c.env("OPENAI_API_KEY", SECRET).env_remove("SV_CONFIG");
    c
}

fn eval_args(server: &Server, out: &Path, cache: &Path, n: usize, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "eval",
        "network-logs",
        "--model",
        "openai/mock-model",
        "--base-url",
        &format!("http://{}/v1", server.addr),
        "-n",
        &n.to_string(),
        "--out",
        &out.display().to_string(),
        "--cache-dir",
        &cache.display().to_string(),
        "--quiet",
        "--timeout",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let evals = out.join("evals");
    for model_dir in std::fs::read_dir(evals).into_iter().flatten().flatten() {
        for run in std::fs::read_dir(model_dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            dirs.push(run.path());
        }
    }
    dirs.sort();
    dirs
}

fn read_lines(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("results.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn summary(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn baseline_eval_writes_all_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let out = sv()
        .args([
            "eval",
            "network-logs",
            "--model",
            "baseline",
            "-n",
            "25",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 1);
    for f in [
        "metadata.json",
        "results.jsonl",
        "summary.json",
        "report.md",
    ] {
        assert!(runs[0].join(f).exists(), "missing {f}");
    }
    let lines = read_lines(&runs[0]);
    assert_eq!(lines.len(), 25);
    for l in &lines {
        assert!(l["total"].is_number());
        assert_eq!(l["components"].as_array().unwrap().len(), 4);
        assert!(l["prompt"].as_array().unwrap().len() >= 2);
    }
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["dataset"]["kind"], "embedded");
    assert_eq!(meta["dataset"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(meta["status"], "complete");
    let s = summary(&runs[0]);
    assert_eq!(s["n"], 25);
    let mean = s["reward"]["mean"].as_f64().unwrap();
    let lo = s["reward"]["ci95"][0].as_f64().unwrap();
    let hi = s["reward"]["ci95"][1].as_f64().unwrap();
    assert!(lo <= mean && mean <= hi);
}

#[test]
fn faults_end_in_score_or_recorded_error_and_retries_are_bounded() {
    let cases = [
        FaultKind::Status429RetryAfter,
        FaultKind::Status429,
        FaultKind::Status500,
        FaultKind::Status503,
        FaultKind::Malformed,
        FaultKind::Truncated,
        FaultKind::Timeout,
    ];
    for kind in cases {
        // Every 3rd request fails; with retries, every episode must still be scored.
        let server = start(Fault::Every(3, kind), Duration::ZERO);
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let out = sv()
            .args(eval_args(
                &server,
                dir.path(),
                &cache,
                12,
                &["--max-retries", "3", "--concurrency", "4"],
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let runs = run_dirs(dir.path());
        let lines = read_lines(&runs[0]);
        assert_eq!(lines.len(), 12);
        assert!(
            lines
                .iter()
                .all(|l| l["total"].is_number() && l["error"].is_null())
        );
        let retries: u64 = lines.iter().map(|l| l["retries"].as_u64().unwrap()).sum();
        assert!(retries >= 1, "some request must have been retried");
        assert_eq!(server.mock.hits.load(Ordering::SeqCst) as u64, 12 + retries);
    }
}

#[test]
fn permanent_failures_are_recorded_and_retries_capped() {
    // Every request fails with 500: each episode records an error after exactly 1 + 2 attempts.
    let server = start(Fault::Every(1, FaultKind::Status500), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = sv()
        .args(eval_args(
            &server,
            dir.path(),
            &cache,
            5,
            &[
                "--max-retries",
                "2",
                "--concurrency",
                "1",
                "--max-consecutive-failures",
                "0",
            ],
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = run_dirs(dir.path());
    let lines = read_lines(&runs[0]);
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .all(|l| l["total"].is_null() && l["error"].as_str().unwrap().contains("500"))
    );
    assert_eq!(server.mock.hits.load(Ordering::SeqCst), 5 * 3);
    // 400 is not retried: one attempt per episode.
    let server = start(Fault::Every(1, FaultKind::Status400), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let out = sv()
        .args(eval_args(
            &server,
            dir.path(),
            &dir.path().join("c"),
            4,
            &["--concurrency", "1", "--max-consecutive-failures", "0"],
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(server.mock.hits.load(Ordering::SeqCst), 4);
}

#[test]
fn consecutive_failures_stop_the_run_resumably() {
    let server = start(Fault::Every(1, FaultKind::Status400), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let out = sv()
        .args(eval_args(
            &server,
            dir.path(),
            &dir.path().join("c"),
            30,
            &["--concurrency", "1", "--max-consecutive-failures", "3"],
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("consecutive") && err.contains("--resume"),
        "{err}"
    );
    assert!(server.mock.hits.load(Ordering::SeqCst) < 30);
}

#[test]
fn killed_run_resumes_to_the_same_summary() {
    let server = start(Fault::None, Duration::from_millis(40));
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let killed = dir.path().join("killed");
    let n = 40;
    let ok = sv()
        .args(eval_args(
            &server,
            &full,
            &dir.path().join("c1"),
            n,
            &["--no-cache", "--concurrency", "2"],
        ))
        .status()
        .unwrap();
    assert!(ok.success());

    let mut child = sv()
        .args(eval_args(
            &server,
            &killed,
            &dir.path().join("c2"),
            n,
            &["--no-cache", "--concurrency", "2"],
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs = run_dirs(&killed);
        if let Some(r) = runs.first()
            && read_lines(r).len() >= 8
        {
            break;
        }
        assert!(Instant::now() < deadline, "run never progressed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let run = run_dirs(&killed).remove(0);
    let partial = read_lines(&run).len();
    assert!(partial < n, "killed too late to test resume");

    let ok = sv()
        .args(["eval", "--quiet", "--resume"])
        .arg(&run)
        .status()
        .unwrap();
    assert!(ok.success());
    let lines = read_lines(&run);
    assert_eq!(lines.len(), n);
    let mut keys: Vec<String> = lines
        .iter()
        .map(|l| format!("{}#{}", l["sample_id"], l["repeat"]))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicated samples after resume");
    let a = summary(&run_dirs(&full)[0]);
    let b = summary(&run);
    assert_eq!(a, b);
}

#[test]
fn second_identical_run_is_served_from_cache() {
    let server = start(Fault::None, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for _ in 0..2 {
        let ok = sv()
            .args(eval_args(&server, dir.path(), &cache, 10, &[]))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    assert_eq!(server.mock.hits.load(Ordering::SeqCst), 10);
    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 2);
    let cached: Vec<bool> = runs
        .iter()
        .map(|r| read_lines(r).iter().all(|l| l["cached"] == true))
        .collect();
    assert_eq!(cached.iter().filter(|c| **c).count(), 1);
}

#[test]
fn api_key_never_reaches_artifacts_or_logs() {
    let server = start(Fault::Every(2, FaultKind::Status400), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let out = sv()
        .env("SV_LOG", "debug")
        .args(eval_args(
            &server,
            dir.path(),
            &dir.path().join("c"),
            6,
            &["--max-consecutive-failures", "0"],
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    for run in run_dirs(dir.path()) {
        for f in std::fs::read_dir(&run).unwrap().flatten() {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            assert!(
                !text.contains(SECRET),
                "{} leaks the key",
                f.path().display()
            );
        }
    }
    for f in std::fs::read_dir(dir.path().join("c")).unwrap().flatten() {
        let bytes = std::fs::read(f.path()).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "cache leaks the key"
        );
    }
}

#[test]
fn score_command_scores_external_completions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gen.jsonl");
    let ok = sv()
        .args([
            "data",
            "network-logs",
            "generate",
            "--n",
            "20",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&data)
        .status()
        .unwrap();
    assert!(ok.success());
    let samples: Vec<Value> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let comps: String = samples
        .iter()
        .map(|s| {
            json!({"sample_id": s["id"], "completion": format!("{{\"label\": {}, \"confidence\": 1.0}}", s["answer"])})
                .to_string()
                + "\n"
        })
        .collect();
    let cpath = dir.path().join("c.jsonl");
    std::fs::write(&cpath, comps).unwrap();
    let out = sv()
        .args(["score", "network-logs", "--dataset"])
        .arg(&data)
        .arg("--completions")
        .arg(&cpath)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = run_dirs(dir.path()).remove(0);
    let s = summary(&run);
    assert_eq!(s["n"], 20);
    assert!(
        (s["reward"]["mean"].as_f64().unwrap() - 1.8).abs() < 1e-9,
        "oracle answers score the maximum"
    );
    // Malformed completions file: the error names the line and field.
    std::fs::write(&cpath, "{\"sample_id\": \"x\"}\n").unwrap();
    let out = sv()
        .args(["score", "network-logs", "--dataset"])
        .arg(&data)
        .arg("--completions")
        .arg(&cpath)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":1:") && err.contains("completion"), "{err}");
}

#[test]
fn envs_lists_network_logs() {
    let out = sv().args(["envs", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let nl = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "network-logs")
        .unwrap();
    assert_eq!(nl["reward_version"], "1");
}
